"""The "method and limitations" table of a bundle: sources, rows, checks, parameters, versions."""

from __future__ import annotations

import importlib.metadata
import platform
from collections.abc import Mapping
from typing import Any

import pandas as pd

from kit.mask import Masker
from kit.schema import TIMEZONE
from kit.views._common import AssessmentLike
from kit.views.headers import localise

__all__ = ["method_table"]


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _kit_version() -> str:
    import kit

    found = getattr(kit, "__version__", None)
    return str(found) if found else _version("kit")


def method_table(
    dataset: Any,
    assessment: AssessmentLike | None,
    parameters: Mapping[str, Any],
    *,
    masker: Masker | None = None,
    lang: str = "zh-TW",
) -> pd.DataFrame:
    """Return the "method and limitations" table: sources, rows, checks, parameters, versions.

    Parameters
    ----------
    dataset
        The dataset (its ingest report lists the files with SHA-256 and row
        counts; without one, the query log's provenance is summarised).
    assessment
        Its assessment: which rules ran, and which could not for want of data.
    parameters
        The run's parameters (officer, period, thresholds …), shown as given;
        values pass through ``masker.text`` when a masker is given.
    masker
        Masks identifiers inside parameter values.
    lang
        ``zh-TW`` headers (default) or ``en``.

    Returns
    -------
    pandas.DataFrame
        Columns ``section``, ``item``, ``value``, one fact per row.

    """
    rows: list[tuple[str, str, str]] = []
    files = getattr(getattr(dataset, "report", None), "files", ())
    for f in files:
        counts = ", ".join(
            f"{name}={f.count(name)}"
            for name in ("rows_read", "rows_loaded", "rows_rejected", "warnings", "duplicates")
        )
        rows.append(
            ("source", f.path, f"sha256={f.sha256}; {f.format}; {f.encoding}; {f.status}; {counts}")
        )
    if not files:
        log = dataset.query_log
        sources = (
            log.groupby(["source_file", "source_sha256"], dropna=False).size().reset_index(name="n")
        )
        for source_file, sha, n in sources.itertuples(index=False):
            rows.append(("source", str(source_file), f"sha256={sha}; rows_loaded={n}"))
    ledger = dataset.ledger
    for status in ("rejected", "warning", "duplicate"):
        count = int((ledger["status"] == status).sum()) if not ledger.empty else 0
        rows.append(("rows", status, str(count)))
    for kind in ("query_log", "duty_roster", "register", "worklog", "tickets", "cases"):
        rows.append(("rows", f"loaded:{kind}", str(len(dataset.frame(kind)))))
    rows.append(("rows", "loaded:communications", str(len(dataset.communications))))
    checks = getattr(assessment, "checks", None)
    if checks is not None and not checks.empty:
        for code, checked, unchecked in checks[["code", "checked", "not_checked"]].itertuples(
            index=False
        ):
            state = "run" if int(checked) > 0 else "not run (no covering records)"
            rows.append(
                ("check", str(code), f"{state}; checked={checked}; not_checked={unchecked}")
            )
    for key in sorted(parameters):
        value = str(parameters[key])
        shown = masker.text(value) if masker is not None else value
        rows.append(("parameter", str(key), shown or ""))
    rows.append(("environment", "time_zone", TIMEZONE))
    rows.append(("environment", "kit", _kit_version()))
    for package in ("pandas", "pyarrow", "duckdb", "networkx", "plotly"):
        rows.append(("environment", package, _version(package)))
    rows.append(("environment", "python", platform.python_version()))
    table = pd.DataFrame(rows, columns=["section", "item", "value"]).astype("string")
    return localise(table, lang)
