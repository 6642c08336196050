"""Bundles of the monthly audit and of an officer's self-review (OUTPUTS.md "Evidence bundle").

Each runs its notebook (``notebooks/monthly_audit.ipynb``,
``notebooks/self_review.ipynb``) under Papermill in the ``kit`` kernel with
the bundle folder as working directory, exports ``index.html`` offline,
writes ``manifest.json``, seals the report with the manifest hash, optionally
signs the manifest, and appends a line to the store's access log, through
:func:`kit.bundle.make.make_bundle` like every other bundle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from kit.audit.frames import month_bounds
from kit.audit.session import new_seed
from kit.bundle import BundleResult, resolve_store
from kit.bundle.make import NOTEBOOKS, NOTEBOOKS_DIR, log_access, make_bundle
from kit.bundle.report import check_lang

__all__ = ["AUDIT_NOTEBOOK", "SELF_REVIEW_NOTEBOOK", "run_audit", "run_self_review"]

AUDIT_NOTEBOOK = NOTEBOOKS_DIR / NOTEBOOKS["audit"]
SELF_REVIEW_NOTEBOOK = NOTEBOOKS_DIR / NOTEBOOKS["self_review"]
DEFAULT_CELL_TIMEOUT = 3600
"""Seconds one notebook cell may run (assessing a large agency's month takes minutes)."""


def run_audit(
    source: str | Path,
    month: str,
    out_dir: str | Path,
    *,
    unit: str | None = None,
    seed: int | None = None,
    lang: str = "zh-TW",
    closer_audit: Sequence[str] = (),
    auditor: str | None = None,
    reveal: bool = False,
    sign: Path | None = None,
    timeout: float | None = DEFAULT_CELL_TIMEOUT,
) -> BundleResult:
    """Write the bundle of one month's audit (``kit audit``).

    Parameters
    ----------
    source
        A store (``kit ingest``) or a data folder (ingested into its cache store).
    month
        ``"YYYY-MM"``.
    out_dir
        The bundle folder (new or empty).
    unit
        The auditing unit (only units under it); None: every unit.
    seed
        Sampling seed; None draws one, recorded in the parameters and report.
    lang
        ``zh-TW`` (default) or ``en``.
    closer_audit
        Units under closer audit (§十四).
    auditor
        Shown on the cover and written to the access log.
    reveal
        Show identifiers in full (default masked).
    sign
        A PEM Ed25519 private key: also write ``manifest.sig``.
    timeout
        Seconds one notebook cell may run.

    Returns
    -------
    BundleResult
        Where the bundle is and its manifest hash.

    """
    check_lang(lang)
    month_bounds(month)
    store = resolve_store(source)
    parameters: dict[str, object] = {
        "data": None,
        "store": str(store),
        "month": month,
        "unit": unit,
        "seed": new_seed() if seed is None else int(seed),
        "closer_audit": [str(u) for u in closer_audit],
        "lang": lang,
        "auditor": auditor,
        "reveal": bool(reveal),
    }
    result = make_bundle("audit", parameters, Path(out_dir), sign=sign, timeout=timeout)
    log_access(store, "audit", parameters, result, auditor)
    return result


def _iso(value: date | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def run_self_review(
    source: str | Path,
    officer: str,
    out_dir: str | Path,
    *,
    start: date | str | None = None,
    end: date | str | None = None,
    lang: str = "zh-TW",
    sign: Path | None = None,
    timeout: float | None = DEFAULT_CELL_TIMEOUT,
) -> BundleResult:
    """Write the bundle of an officer's own lookups (§九), masked, with no flags.

    Parameters
    ----------
    source
        A store or a data folder.
    officer
        The officer ID.
    out_dir
        The bundle folder (new or empty).
    start, end
        Inclusive period (dates, ``YYYY-MM-DD`` or ROC ``YYY/MM/DD``).
    lang, sign, timeout
        As for :func:`run_audit`.

    Returns
    -------
    BundleResult

    """
    check_lang(lang)
    store = resolve_store(source)
    parameters: dict[str, object] = {
        "data": None,
        "store": str(store),
        "officer": officer,
        "start": _iso(start),
        "end": _iso(end),
        "lang": lang,
    }
    result = make_bundle("self_review", parameters, Path(out_dir), sign=sign, timeout=timeout)
    log_access(store, "self_review", parameters, result, officer)
    return result
