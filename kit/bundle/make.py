"""Making evidence bundles: ``kit investigate`` and ``kit subject`` (OUTPUTS.md).

Each runs its report notebook under Papermill in a fresh ``kit`` kernel with
the bundle folder as working directory (the notebook writes ``tables/``,
``graph.graphml`` and ``facts.json`` there), exports ``index.html`` offline,
writes ``manifest.json``, seals the report with the manifest's hash
(:mod:`kit.bundle.manifest`), optionally signs the manifest, and appends a
line to the store's access log.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from kit.bundle.export import export_notebook
from kit.bundle.manifest import (
    MANIFEST_NAME,
    NOTEBOOK_NAME,
    REPORT_NAME,
    build_manifest,
    read_facts,
    seal_report,
    write_manifest,
)
from kit.bundle.report import check_lang
from kit.bundle.run import execute_notebook, write_notebook
from kit.bundle.verify import sign_manifest
from kit.errors import BundleError, ConfigError
from kit.schema import TIMEZONE
from kit.store.cache import resolve_store
from kit.views.export import write_in_child

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
"""The repository's ``notebooks/`` folder."""

NOTEBOOKS: dict[str, str] = {
    "investigation": "officer_investigation.ipynb",
    "subject": "subject_access_review.ipynb",
    "audit": "monthly_audit.ipynb",
    "self_review": "self_review.ipynb",
}
"""Report notebooks by bundle kind."""

WITH_EXPLORER = frozenset({"investigation", "subject"})
"""Kinds whose notebook has an interactive explorer, switched off in a bundle."""

DEFAULT_CELL_TIMEOUT = 1800
"""Seconds one notebook cell may run before the bundle fails."""


@dataclass(frozen=True)
class BundleResult:
    """A finished bundle.

    Attributes
    ----------
    out_dir
        The bundle folder.
    manifest_hash
        SHA-256 of ``manifest.json``: write it into the case file.
    seconds
        Time taken to make the bundle.
    signature
        ``manifest.sig`` when the manifest was signed.

    """

    out_dir: Path
    manifest_hash: str
    seconds: float
    signature: Path | None = None

    @property
    def report(self) -> Path:
        """The report page (``index.html``)."""
        return self.out_dir / REPORT_NAME

    @property
    def manifest(self) -> Path:
        """The manifest (``manifest.json``)."""
        return self.out_dir / MANIFEST_NAME


def _iso(value: date | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _prepare_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        raise BundleError(
            "the output folder is not empty: give a new folder for the bundle", file=str(out_dir)
        )
    out_dir.mkdir(parents=True, exist_ok=True)


def make_bundle(
    kind: str,
    parameters: Mapping[str, object],
    out_dir: Path,
    *,
    sign: Path | None = None,
    timeout: float | None = DEFAULT_CELL_TIMEOUT,
) -> BundleResult:
    """Run a report notebook and turn its output folder into a sealed bundle.

    Parameters
    ----------
    kind
        Which notebook: a key of :data:`NOTEBOOKS`.
    parameters
        The notebook parameters (``bundle_dir`` and ``explorer`` are set here).
    out_dir
        The bundle folder; must be new or empty.
    sign
        A PEM Ed25519 private key to sign the manifest with.
    timeout
        Seconds one notebook cell may run.

    Returns
    -------
    BundleResult
        The bundle and its manifest hash.

    Raises
    ------
    NotebookRunError
        A cell failed; ``out_dir/notebook.ipynb`` holds the partial notebook.
    KernelStartError
        The ``kit`` kernel did not start.

    """
    if kind not in NOTEBOOKS:
        raise ConfigError(f"bundle kind {kind!r} is unknown: use one of {', '.join(NOTEBOOKS)}")
    began = time.monotonic()
    out_dir = Path(out_dir).resolve()
    _prepare_out_dir(out_dir)
    values = {**parameters, "bundle_dir": "."}
    if kind in WITH_EXPLORER:
        values["explorer"] = False
    notebook = out_dir / NOTEBOOK_NAME
    executed = execute_notebook(
        NOTEBOOKS_DIR / NOTEBOOKS[kind], notebook, values, cwd=out_dir, timeout=timeout
    )
    # Written once, by a forked child, while the same notebook is exported from
    # memory here (the export renders its figures in place: the child's copy is
    # the notebook as executed).
    writing = write_in_child(
        lambda: write_notebook(executed, notebook), [notebook], "the executed notebook"
    )
    try:
        export_notebook(executed, out_dir / REPORT_NAME)
    finally:
        writing.wait()
    facts = read_facts(out_dir)
    manifest = build_manifest(
        out_dir,
        kind=kind,
        parameters={k: v for k, v in values.items() if k not in ("bundle_dir", "explorer")},
        facts=facts,
        created_at=datetime.now(ZoneInfo(TIMEZONE)).isoformat(timespec="seconds"),
        run_seconds=time.monotonic() - began,
    )
    manifest_hash = write_manifest(out_dir, manifest)
    seal_report(out_dir, manifest_hash)
    signature = sign_manifest(out_dir, sign) if sign is not None else None
    return BundleResult(out_dir, manifest_hash, time.monotonic() - began, signature)


def log_access(
    store: Path,
    command: str,
    parameters: Mapping[str, object],
    result: BundleResult,
    investigator: str | None,
) -> None:
    """Append the bundle's line to the store's access log (identifiers hashed)."""
    from kit.accesslog import append_access

    append_access(
        store,
        command,
        parameters,
        outputs=[str(result.out_dir)],
        manifest_hashes=[result.manifest_hash],
        investigator=investigator,
    )


def investigate(
    source: str | Path,
    officer: str,
    out_dir: str | Path,
    *,
    start: date | str | None = None,
    end: date | str | None = None,
    reveal: bool = False,
    lang: str = "zh-TW",
    case_ref: str | None = None,
    investigator: str | None = None,
    sign: Path | None = None,
    timeout: float | None = DEFAULT_CELL_TIMEOUT,
    case_dir: str | Path | None = None,
) -> BundleResult:
    """Write the evidence bundle of one officer's lookups (``kit investigate``).

    Parameters
    ----------
    source
        A store (``kit ingest``) or a data folder (ingested into its cache store).
    officer
        The officer ID.
    out_dir
        The bundle folder (new or empty).
    start, end
        Inclusive period (dates or ``YYYY-MM-DD`` / ROC ``YYY/MM/DD`` text).
    reveal
        Show identifiers in full (default: masked with pseudonyms).
    lang
        ``zh-TW`` (default) or ``en``: headings, table headers, text.
    case_ref, investigator
        Shown on the cover; the case reference heads every printed page.
    sign
        A PEM Ed25519 private key: also write ``manifest.sig``.
    timeout
        Seconds one notebook cell may run.
    case_dir
        A case folder (``kit case new``): the review status of each lookup
        joins the tables and the annotation history is copied into the bundle.

    Returns
    -------
    BundleResult
        Where the bundle is and its manifest hash (print it for the case file).

    """
    check_lang(lang)
    store = resolve_store(source)
    parameters: dict[str, object] = {
        "data": None,
        "store": str(store),
        "officer": officer,
        "start": _iso(start),
        "end": _iso(end),
        "reveal": bool(reveal),
        "lang": lang,
        "case_ref": case_ref,
        "investigator": investigator,
        "case_dir": str(Path(case_dir).resolve()) if case_dir is not None else None,
    }
    result = make_bundle("investigation", parameters, Path(out_dir), sign=sign, timeout=timeout)
    log_access(store, "investigate", parameters, result, investigator)
    return result


def subject_review(
    source: str | Path,
    ids: Sequence[str],
    out_dir: str | Path,
    *,
    start: date | str | None = None,
    end: date | str | None = None,
    reveal: bool = False,
    lang: str = "zh-TW",
    case_ref: str | None = None,
    investigator: str | None = None,
    sign: Path | None = None,
    timeout: float | None = DEFAULT_CELL_TIMEOUT,
) -> BundleResult:
    """Write the bundle of everyone who looked up these subjects (``kit subject``).

    Parameters
    ----------
    source
        A store or a data folder.
    ids
        The identifiers the request names (any written form); they appear in
        full in the bundle, every other identifier is masked unless ``reveal``.
    out_dir
        The bundle folder (new or empty).
    start, end, reveal, lang, case_ref, investigator, sign, timeout
        As for :func:`investigate`.

    Returns
    -------
    BundleResult
        Where the bundle is and its manifest hash.

    """
    check_lang(lang)
    if not ids:
        raise ConfigError("give at least one identifier to review (--id)")
    store = resolve_store(source)
    parameters: dict[str, object] = {
        "data": None,
        "store": str(store),
        "ids": [str(i) for i in ids],
        "start": _iso(start),
        "end": _iso(end),
        "reveal": bool(reveal),
        "lang": lang,
        "case_ref": case_ref,
        "investigator": investigator,
    }
    result = make_bundle("subject", parameters, Path(out_dir), sign=sign, timeout=timeout)
    log_access(store, "subject", parameters, result, investigator)
    return result
