"""An officer's review of their own lookups (§九): the log of what they looked up.

Officers may look up their own log. The table shows only the lookups made
with the officer's account or by the officer as the actual querier, with
the time, system, purpose and the subjects masked — no flags, explanations
or anything investigative.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from kit.audit.frames import kind_frame
from kit.audit.worksheet import system_of
from kit.errors import ConfigError
from kit.mask import Masker
from kit.normalise import parse_dates
from kit.schema import TIMEZONE

__all__ = ["SELF_REVIEW_HEADERS", "self_review_table"]

SELF_REVIEW_HEADERS: dict[str, str] = {
    "time": "作業時間",
    "user": "使用者帳號",
    "actual_user": "實際查詢者",
    "unit": "單位",
    "system": "系統",
    "operation": "作業種類",
    "subjects": "查詢對象(遮蔽)",
    "conditions": "查詢條件(遮蔽)",
    "purpose": "用途",
    "result": "查詢結果",
}
"""The self-review columns and their Traditional Chinese headers."""

Day = dt.date | dt.datetime | str | pd.Timestamp | None


def _day(value: Day, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    if isinstance(value, str):
        parsed, _ = parse_dates(pd.Series([value], dtype="string"))
        if parsed.isna().iloc[0]:
            raise ConfigError(
                f"{name} is not a date: write YYYY-MM-DD or ROC YYY/MM/DD", column=name
            )
        value = parsed.iloc[0]
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(TIMEZONE).tz_localize(None)
    return stamp.normalize().tz_localize(TIMEZONE)


def self_review_table(
    dataset: Any,
    officer: str,
    start: Day = None,
    end: Day = None,
    *,
    masker: Masker,
    lang: str = "zh-TW",
) -> pd.DataFrame:
    """Return the lookups an officer made (own account or as actual querier), masked.

    Parameters
    ----------
    dataset
        The ``Dataset`` (its ``query_log`` and ``subjects``).
    officer
        The officer ID (same value space as ``user``).
    start, end
        First and last day, inclusive (``date``, ``"YYYY-MM-DD"`` or ROC
        ``"YYY/MM/DD"``); None: unbounded.
    masker
        Masks subjects and conditions (pseudonyms in time order).
    lang
        ``"zh-TW"`` (Chinese headers) or ``"en"``.

    Returns
    -------
    pandas.DataFrame
        One row per lookup, time-ordered, with the columns of
        :data:`SELF_REVIEW_HEADERS` and no flag or explanation.

    """
    log = kind_frame(dataset, "query_log")
    if log.empty:
        frame = pd.DataFrame({c: pd.Series(dtype="string") for c in SELF_REVIEW_HEADERS})
        return frame.rename(columns=SELF_REVIEW_HEADERS) if lang != "en" else frame
    mine = log["user"].astype("string") == officer
    if "actual_user" in log.columns:
        mine |= log["actual_user"].astype("string") == officer
    keep = mine.fillna(False).astype(bool)
    first, last = _day(start, "start"), _day(end, "end")
    if first is not None:
        keep &= log["time"] >= first
    if last is not None:
        keep &= log["time"] < last + pd.Timedelta(days=1)
    rows = log.loc[keep]
    sort_by = ["time", "lookup_id"] if "lookup_id" in rows.columns else ["time"]
    rows = rows.sort_values(sort_by, kind="stable").reset_index(drop=True)

    def column(name: str) -> pd.Series:
        if name in rows.columns:
            return rows[name].astype("string")
        return pd.Series(pd.NA, index=rows.index, dtype="string")

    subjects = pd.Series("", index=rows.index, dtype="string")
    table = kind_frame(dataset, "subjects")
    if len(rows) and not table.empty and "lookup_id" in rows.columns:
        order = pd.Series(np.arange(len(rows)), index=rows["lookup_id"].astype("string"))
        found = table.loc[table["lookup_id"].astype("string").isin(order.index)].copy()
        found["_order"] = found["lookup_id"].astype("string").map(order)
        found = found.sort_values("_order", kind="stable")
        shown = masker.show_series(found["entity"], found["value"])
        joined = shown.groupby(found["_order"].to_numpy()).agg("、".join)
        subjects.loc[joined.index] = joined.astype("string")
    frame = pd.DataFrame(
        {
            "time": rows["time"].dt.strftime("%Y-%m-%d %H:%M:%S").astype("string"),
            "user": column("user"),
            "actual_user": column("actual_user"),
            "unit": column("unit"),
            "system": system_of(column("operation")),
            "operation": column("operation"),
            "subjects": subjects,
            "conditions": masker.text_series(column("conditions")),
            "purpose": column("purpose"),
            "result": column("result"),
        }
    )
    return frame.rename(columns=SELF_REVIEW_HEADERS) if lang != "en" else frame
