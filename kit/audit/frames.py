"""Reading the inputs of an audit: the assessed lookups of a month, the officers in service.

An audit works on the ``kit screen`` columns of an assessment's ``lookups``
(OUTPUTS.md) and on the ``officers`` and ``units`` kinds of a dataset. The
helpers here accept what the other stages give (an ``Assessment`` or its
lookups table; times as tz-aware values or ISO text; ``suspicious`` as
booleans or ``true``/``false`` text) and return one shape.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from kit.errors import ConfigError, SchemaError
from kit.normalise import fold_unit_series
from kit.schema import TIMEZONE

__all__ = [
    "RISK_TIERS",
    "UNKNOWN_UNIT",
    "assessed_lookups",
    "has_code",
    "kind_frame",
    "month_bounds",
    "month_lookups",
    "officers_in_service",
]

UNKNOWN_UNIT = "(未載單位)"
"""The unit shown for a lookup whose log row names no unit."""

RISK_TIERS = {3: "suspicious", 2: "flagged", 1: "unexplained", 0: "none"}
"""Risk tiers of a lookup for sampling: suspicious, else flagged, else unexplained."""

_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_NEEDED = ("lookup_id", "time", "user", "unit", "flags", "explanations", "suspicious")


def month_bounds(month: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the first instant of ``month`` ("YYYY-MM") and of the next month, Taipei time.

    Raises
    ------
    ConfigError
        When ``month`` is not ``YYYY-MM``.

    """
    match = _MONTH.match(str(month))
    if match is None or not 1 <= int(match[2]) <= 12:
        raise ConfigError(f"{month!r} is not a month: write YYYY-MM (2023-10)", column="month")
    start = pd.Timestamp(year=int(match[1]), month=int(match[2]), day=1, tz=TIMEZONE)
    return start, start + pd.offsets.MonthBegin(1)


def kind_frame(dataset: Any, kind: str) -> pd.DataFrame:
    """Return one kind's frame of a dataset (an empty frame when the dataset lacks it)."""
    frame = getattr(dataset, kind, None)
    if isinstance(frame, pd.DataFrame):
        return frame
    return pd.DataFrame()


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("")


def has_code(series: pd.Series, code: str) -> pd.Series:
    """Return whether each ``;``-separated code list contains ``code`` (vectorised)."""
    padded = ";" + _text(series).str.replace(" ", "", regex=False) + ";"
    return padded.str.contains(f";{code};", regex=False).astype(bool)


def _as_bool(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.fillna(False).astype(bool)
    return _text(series).str.strip().str.lower().isin(["true", "1", "yes"]).astype(bool)


def assessed_lookups(assessment_or_lookups: Any, *, assessed: bool = True) -> pd.DataFrame:
    """Return the assessed lookups with a tz-aware ``time``, folded ``unit`` and risk columns.

    Added columns: ``is_suspicious``, ``is_flagged``, ``is_unexplained`` (booleans)
    and ``risk_tier`` (3 suspicious, 2 flagged, 1 unexplained, 0 none), ``score``
    as a float.

    Parameters
    ----------
    assessment_or_lookups
        An ``Assessment`` (its ``lookups`` are used) or a table with the
        ``kit screen`` columns.
    assessed
        False accepts a plain query log (``lookup_id``, ``time``, ``user``,
        ``unit``): it then counts as unflagged and unexplained, which only
        volume counts may rely on.

    Raises
    ------
    SchemaError
        When columns the audit needs are missing (all of them are named).

    """
    lookups = getattr(assessment_or_lookups, "lookups", assessment_or_lookups)
    if not isinstance(lookups, pd.DataFrame):
        raise SchemaError("expected an assessment or a table of assessed lookups")
    needed = _NEEDED if assessed else _NEEDED[:4]
    missing = tuple(c for c in needed if c not in lookups.columns)
    if missing:
        raise SchemaError(
            "the assessed lookups lack columns: " + ", ".join(missing), missing=missing
        )
    out = lookups.copy()
    for column in _NEEDED[4:]:
        if column not in out.columns:
            out[column] = pd.Series("", index=out.index, dtype="string")
    time = out["time"]
    if not isinstance(time.dtype, pd.DatetimeTZDtype):
        time = pd.to_datetime(time.astype("string"), utc=True, format="ISO8601")
    out["time"] = time.dt.tz_convert(TIMEZONE)
    unit = out["unit"].astype("string")
    if "actual_unit" in out.columns:
        unit = unit.fillna(out["actual_unit"].astype("string"))
    unit = fold_unit_series(unit.fillna(UNKNOWN_UNIT).astype("string"))
    out["unit"] = unit.where(unit.str.len() > 0, UNKNOWN_UNIT).astype("string")
    out["is_suspicious"] = _as_bool(out["suspicious"])
    out["is_flagged"] = (_text(out["flags"]).str.strip() != "").astype(bool)
    out["is_unexplained"] = (_text(out["explanations"]).str.strip() == "").astype(bool)
    out["risk_tier"] = np.select(
        [out["is_suspicious"], out["is_flagged"], out["is_unexplained"]], [3, 2, 1], default=0
    ).astype(np.int64)
    score = out["score"] if "score" in out.columns else pd.Series(0.0, index=out.index)
    out["score"] = pd.to_numeric(score, errors="coerce").fillna(0.0).astype(float)
    return out


def month_lookups(assessment_or_lookups: Any, month: str, *, assessed: bool = True) -> pd.DataFrame:
    """Return the assessed lookups (see :func:`assessed_lookups`) whose time falls in ``month``."""
    lookups = assessed_lookups(assessment_or_lookups, assessed=assessed)
    start, end = month_bounds(month)
    inside = (lookups["time"] >= start) & (lookups["time"] < end)
    return lookups.loc[inside].reset_index(drop=True)


def _dates(series: pd.Series) -> pd.Series:
    """Return a date column as naive day timestamps (missing stays missing)."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_localize(None).dt.normalize()
    return pd.to_datetime(series.astype("string"), errors="coerce", format="ISO8601")


def officers_in_service(dataset: Any, month: str) -> pd.DataFrame:
    """Return the officers in service during ``month`` with their folded unit.

    An officer is in service when the start date (if any) is on or before the
    month's last day and the end date (if any) is on or after its first day.

    Returns
    -------
    pandas.DataFrame
        ``officer_id``, ``unit`` (one row per officer).

    """
    officers = kind_frame(dataset, "officers")
    if officers.empty or "officer_id" not in officers.columns:
        return pd.DataFrame(
            {"officer_id": pd.Series(dtype="string"), "unit": pd.Series(dtype="string")}
        )
    start, end = month_bounds(month)
    first, last = start.tz_localize(None), (end - pd.Timedelta(days=1)).tz_localize(None)
    keep = pd.Series(True, index=officers.index)
    if "start_date" in officers.columns:
        begun = _dates(officers["start_date"])
        keep &= (begun.isna() | (begun <= last)).astype(bool)
    if "end_date" in officers.columns:
        ended = _dates(officers["end_date"])
        keep &= (ended.isna() | (ended >= first)).astype(bool)
    unit = (
        officers["unit"] if "unit" in officers.columns else pd.Series(pd.NA, index=officers.index)
    )
    unit = fold_unit_series(unit.astype("string").fillna(UNKNOWN_UNIT).astype("string"))
    table = pd.DataFrame(
        {"officer_id": officers["officer_id"].astype("string"), "unit": unit.astype("string")}
    )
    return table.loc[keep].drop_duplicates("officer_id").reset_index(drop=True)
