"""Indicator tables (handbook §五(二)2, audit method): volume, time, subject.

* ``high_volume_accounts`` — per querier: lookups in range and a robust z of
  that total against the officers of the same unit (median and MAD of the
  unit's totals, MAD floored at 1), with the highest day z of VOLUME_SPIKE;
* ``unit_volume_ranking`` — per unit: lookups, officers, lookups per officer,
  suspicious lookups, ranked by volume;
* ``abnormal_time`` — per querier: lookups between 00:00 and 06:00, off duty
  and out of station, and their shares;
* ``hourly_volume`` — lookups per local hour of the day;
* ``repeat_subjects`` — per (querier, subject) looked up on 2 or more days:
  lookups, distinct days, first and last time, strongly explained lookups;
* ``unexplained_officers`` — per querier: lookups with no explanation and
  suspicious lookups, most unexplained first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kit.assess.context import HOUR, OFFSET, Context

__all__ = ["build_indicators"]


def _robust_z(values: pd.Series, groups: pd.Series) -> pd.Series:
    median = values.groupby(groups).transform("median")
    mad = (values - median).abs().groupby(groups).transform("median")
    return (values - median) / (1.4826 * np.maximum(mad, 1.0))


def build_indicators(ctx: Context, assessment: Any, rows: np.ndarray) -> dict[str, pd.DataFrame]:
    """Return the indicator tables of the lookups in range.

    Parameters
    ----------
    ctx
        The assessment context.
    assessment
        The assessment's lookups (``lookups`` attribute, rows aligned with ``rows``).
    rows
        Context rows of the lookups in range.

    """
    out = assessment.lookups
    look = ctx.lookups.iloc[rows].reset_index(drop=True)
    flags = out["flags"].astype("str")
    frame = pd.DataFrame(
        {
            "querier": look["querier"],
            "unit": look["q_unit"],
            "day": look["day"],
            "hour": ((look["t"].to_numpy() + OFFSET) % (24 * HOUR)) // HOUR,
            "suspicious": out["suspicious"].to_numpy(),
            "explained": (out["explanations"].astype("str") != "").to_numpy(),
            "strong": ctx.strong[rows],
            "odd": flags.str.contains("ODD_HOURS", regex=False).to_numpy(),
            "off": flags.str.contains("OFF_DUTY", regex=False).to_numpy(),
            "out": flags.str.contains("OUT_OF_STATION", regex=False).to_numpy(),
            "score": out["score"].to_numpy(),
        }
    )
    per = frame.groupby("querier").agg(
        unit=("unit", "first"),
        lookups=("day", "size"),
        days=("day", "nunique"),
        unexplained=("explained", lambda s: int((~s).sum())),
        suspicious=("suspicious", "sum"),
        odd_hours=("odd", "sum"),
        off_duty=("off", "sum"),
        out_of_station=("out", "sum"),
        score=("score", "sum"),
    )
    per = per.reset_index().rename(columns={"querier": "officer_id"})
    volume = per[["officer_id", "unit", "lookups", "days"]].copy()
    volume["unit_median"] = volume.groupby("unit")["lookups"].transform("median")
    volume["z"] = _robust_z(volume["lookups"].astype(float), volume["unit"]).round(2)
    day_z = ctx.cache.get("volume_z")
    if isinstance(day_z, pd.DataFrame) and len(day_z):
        in_range = day_z[day_z["day"].isin(frame["day"].unique())]
        volume["max_day_z"] = (
            volume["officer_id"].map(in_range.groupby("querier")["z"].max()).round(2)
        )
    else:
        volume["max_day_z"] = np.nan
    volume = volume.sort_values(["z", "lookups"], ascending=False).reset_index(drop=True)

    units = frame.groupby("unit").agg(
        lookups=("day", "size"), officers=("querier", "nunique"), suspicious=("suspicious", "sum")
    )
    units["per_officer"] = (units["lookups"] / units["officers"]).round(1)
    units = units.sort_values("lookups", ascending=False).reset_index()
    units.insert(0, "rank", np.arange(1, len(units) + 1))

    timing = per[
        ["officer_id", "unit", "lookups", "odd_hours", "off_duty", "out_of_station"]
    ].copy()
    for col in ("odd_hours", "off_duty", "out_of_station"):
        timing[col + "_share"] = (timing[col] / timing["lookups"]).round(4)
    timing = timing.sort_values(["odd_hours", "off_duty"], ascending=False).reset_index(drop=True)
    hourly = (
        frame.groupby("hour")
        .size()
        .reindex(range(24), fill_value=0)
        .rename("lookups")
        .reset_index()
    )

    keep = np.zeros(ctx.n, dtype=bool)
    keep[rows] = True
    sub = ctx.subjects[keep[ctx.subjects["row"].to_numpy()]]
    sub = sub.assign(strong=ctx.strong[sub["row"].to_numpy()])
    repeats = sub.groupby(["q", "v"]).agg(
        entity=("entity", "first"),
        value=("value", "first"),
        lookups=("row", "nunique"),
        days=("day", "nunique"),
        first=("t", "min"),
        last=("t", "max"),
        strongly_explained=("strong", "sum"),
    )
    repeats = repeats[repeats["days"] >= 2].reset_index()
    officer_index: pd.Index = ctx.cache["officer_index"]
    repeats.insert(0, "querier", np.asarray(officer_index, dtype=object)[repeats["q"].to_numpy()])
    repeats = repeats.drop(columns=["q", "v"])
    for col in ("first", "last"):
        repeats[col] = pd.to_datetime(repeats[col], unit="us", utc=True).dt.tz_convert(
            "Asia/Taipei"
        )
    repeats = repeats.rename(columns={"querier": "officer_id"}).sort_values(
        ["days", "lookups"], ascending=False
    )

    unexplained = per[
        ["officer_id", "unit", "lookups", "unexplained", "suspicious", "score"]
    ].copy()
    unexplained["unexplained_share"] = (unexplained["unexplained"] / unexplained["lookups"]).round(
        4
    )
    unexplained = unexplained.sort_values(["unexplained", "suspicious"], ascending=False)
    return {
        "high_volume_accounts": volume,
        "unit_volume_ranking": units,
        "abnormal_time": timing,
        "hourly_volume": hourly,
        "repeat_subjects": repeats.reset_index(drop=True),
        "unexplained_officers": unexplained.reset_index(drop=True),
    }
