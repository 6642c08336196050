"""Bundles of the monthly audit and of an officer's self-review (OUTPUTS.md "Evidence bundle").

Each runs its notebook (``notebooks/monthly_audit.ipynb``,
``notebooks/self_review.ipynb``) under Papermill in the ``kit`` kernel with
the bundle folder as working directory, exports ``index.html`` offline,
writes ``manifest.json``, seals the report with the manifest hash, optionally
signs the manifest, and appends a line to the store's access log — the same
steps and building blocks as :func:`kit.bundle.make_bundle`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from kit.audit.frames import month_bounds
from kit.audit.session import new_seed
from kit.bundle import BundleResult, resolve_store
from kit.bundle.export import export_html
from kit.bundle.manifest import (
    NOTEBOOK_NAME,
    REPORT_NAME,
    build_manifest,
    read_facts,
    seal_report,
    write_manifest,
)
from kit.bundle.report import check_lang
from kit.bundle.run import run_notebook
from kit.bundle.verify import sign_manifest
from kit.errors import BundleError
from kit.schema import TIMEZONE

__all__ = ["AUDIT_NOTEBOOK", "SELF_REVIEW_NOTEBOOK", "run_audit", "run_self_review"]

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
AUDIT_NOTEBOOK = NOTEBOOKS_DIR / "monthly_audit.ipynb"
SELF_REVIEW_NOTEBOOK = NOTEBOOKS_DIR / "self_review.ipynb"
DEFAULT_CELL_TIMEOUT = 3600
"""Seconds one notebook cell may run (assessing a large agency's month takes minutes)."""


def _bundle(
    notebook: Path,
    kind: str,
    parameters: Mapping[str, object],
    out_dir: Path,
    *,
    sign: Path | None,
    timeout: float | None,
) -> BundleResult:
    began = time.monotonic()
    out_dir = Path(out_dir).resolve()
    if out_dir.exists() and any(out_dir.iterdir()):
        raise BundleError(
            "the output folder is not empty: give a new folder for the bundle", file=str(out_dir)
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    values = {**parameters, "bundle_dir": "."}
    executed = out_dir / NOTEBOOK_NAME
    run_notebook(notebook, executed, values, cwd=out_dir, timeout=timeout)
    export_html(executed, out_dir / REPORT_NAME)
    facts = read_facts(out_dir)
    manifest = build_manifest(
        out_dir,
        kind=kind,
        parameters=dict(parameters),
        facts=facts,
        created_at=datetime.now(ZoneInfo(TIMEZONE)).isoformat(timespec="seconds"),
        run_seconds=time.monotonic() - began,
    )
    manifest_hash = write_manifest(out_dir, manifest)
    seal_report(out_dir, manifest_hash)
    signature = sign_manifest(out_dir, sign) if sign is not None else None
    return BundleResult(out_dir, manifest_hash, time.monotonic() - began, signature)


def _log(
    store: Path,
    command: str,
    parameters: Mapping[str, object],
    result: BundleResult,
    who: str | None,
) -> None:
    from kit.accesslog import append_access

    append_access(
        store,
        command,
        parameters,
        outputs=[str(result.out_dir)],
        manifest_hashes=[result.manifest_hash],
        investigator=who,
    )


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
    result = _bundle(AUDIT_NOTEBOOK, "audit", parameters, Path(out_dir), sign=sign, timeout=timeout)
    _log(store, "audit", parameters, result, auditor)
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
    result = _bundle(
        SELF_REVIEW_NOTEBOOK, "self_review", parameters, Path(out_dir), sign=sign, timeout=timeout
    )
    _log(store, "self_review", parameters, result, officer)
    return result
