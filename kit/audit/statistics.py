"""The month's statistical tables (§五(二)2) and the closer-audit proposals (§十四).

Every table counts the assessed lookups of the month (``kit screen`` rows), so
the totals equal the store's count of query-log rows in that month. A
lookup's unit is the unit of its account (``unit``; ``actual_unit`` when the
row names none). Robust z-scores use the volume baseline's convention
(DOMAIN.md): ``z = (x − median) / (1.4826 × MAD)`` with MAD floored at 1.

Closer-audit proposals (thresholds are the keyword defaults of
:func:`closer_audit_candidates`): a unit whose lookups per active account
stand more than ``z_threshold`` = 3.5 robust z above its peers' (the units of
the same month, at least ``min_peers`` = 5 of them), or whose volume grew by a
factor of at least ``jump_ratio`` = 1.5 and by at least ``jump_min`` = 100
lookups over the previous month. They are proposals for the auditor: §十四
also names leaks and incidents, which the logs do not show.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kit.audit.frames import has_code, month_bounds, month_lookups, officers_in_service

__all__ = ["closer_audit_candidates", "monthly_statistics", "robust_z"]

TIME_CODES = ("ODD_HOURS", "OFF_DUTY")
SUBJECT_CODES = ("WATCHLIST", "SELF_OR_RELATED", "REPEAT_SUBJECT", "POLICE_VEHICLE", "PROFILING")


def robust_z(values: pd.Series, groups: pd.Series | None = None) -> pd.Series:
    """Return ``(x − median) / (1.4826 × max(MAD, 1))``, within ``groups`` when given."""
    if groups is None:
        groups = pd.Series(0, index=values.index)
    median = values.groupby(groups).transform("median")
    mad = (values - median).abs().groupby(groups).transform("median")
    return ((values - median) / (1.4826 * np.maximum(mad, 1.0))).astype(float)


def _previous_month(month: str) -> str:
    start, _ = month_bounds(month)
    return (start - pd.Timedelta(days=1)).strftime("%Y-%m")


def _querier(lookups: pd.DataFrame) -> pd.Series:
    querier = lookups["user"].astype("string")
    if "actual_user" in lookups.columns:
        actual = lookups["actual_user"].astype("string")
        querier = actual.where(actual.fillna("").str.len() > 0, querier)
    return querier


def _with_codes(lookups: pd.DataFrame, codes: tuple[str, ...]) -> pd.DataFrame:
    out = lookups[["unit", "user"]].copy()
    for code in codes:
        out[code] = has_code(lookups["flags"], code).astype(np.int64)
    return out


def _rank(values: pd.Series) -> pd.Series:
    return values.rank(method="min", ascending=False).astype(np.int64)


def _by_unit(lookups: pd.DataFrame, officers: pd.DataFrame) -> pd.DataFrame:
    grouped = lookups.assign(querier=_querier(lookups)).groupby("unit", sort=True)
    table = pd.DataFrame(
        {
            "lookups": grouped.size(),
            "accounts": grouped["user"].nunique(),
            "queriers": grouped["querier"].nunique(),
            "suspicious": grouped["is_suspicious"].sum(),
            "flagged": grouped["is_flagged"].sum(),
            "unexplained": grouped["is_unexplained"].sum(),
        }
    ).astype(np.int64)
    headcount = officers["unit"].value_counts()
    table["headcount"] = headcount.reindex(table.index).fillna(0).astype(np.int64)
    table["lookups_per_account"] = table["lookups"] / table["accounts"].clip(lower=1)
    table["share"] = table["lookups"] / max(int(table["lookups"].sum()), 1)
    table["unexplained_share"] = table["unexplained"] / table["lookups"].clip(lower=1)
    table["rank"] = _rank(table["lookups"])
    table["z_per_account"] = robust_z(table["lookups_per_account"])
    table.index.name = "unit"
    return table.reset_index().sort_values(["rank", "unit"], kind="stable").reset_index(drop=True)


def _by_account(lookups: pd.DataFrame) -> pd.DataFrame:
    grouped = lookups.groupby(["unit", "user"], sort=True)
    table = pd.DataFrame(
        {
            "lookups": grouped.size(),
            "suspicious": grouped["is_suspicious"].sum(),
            "flagged": grouped["is_flagged"].sum(),
            "unexplained": grouped["is_unexplained"].sum(),
        }
    ).astype(np.int64)
    table = table.reset_index()
    table["rank"] = _rank(table["lookups"])
    table["rank_in_unit"] = (
        table.groupby("unit")["lookups"].rank(method="min", ascending=False).astype(np.int64)
    )
    table["unit_median"] = table.groupby("unit")["lookups"].transform("median").astype(float)
    table["z_in_unit"] = robust_z(table["lookups"].astype(float), table["unit"])
    return table.sort_values(["rank", "unit", "user"], kind="stable").reset_index(drop=True)


def _code_counts(
    lookups: pd.DataFrame, codes: tuple[str, ...], *, shares: bool = True
) -> pd.DataFrame:
    marked = _with_codes(lookups, codes)
    table = marked.groupby("unit", sort=True)[list(codes)].sum().astype(np.int64)
    table.insert(0, "lookups", lookups.groupby("unit", sort=True).size().astype(np.int64))
    if shares:
        for code in codes:
            table[f"{code}_share"] = table[code] / table["lookups"].clip(lower=1)
    return table.reset_index()


def _by_hour(lookups: pd.DataFrame) -> pd.DataFrame:
    hours = lookups["time"].dt.hour
    counts = hours.value_counts().reindex(range(24), fill_value=0).astype(np.int64)
    odd = has_code(lookups["flags"], "ODD_HOURS")
    off = has_code(lookups["flags"], "OFF_DUTY")
    odd_counts = hours[odd].value_counts().reindex(range(24), fill_value=0).astype(np.int64)
    off_counts = hours[off].value_counts().reindex(range(24), fill_value=0).astype(np.int64)
    return pd.DataFrame(
        {
            "hour": np.arange(24, dtype=np.int64),
            "lookups": counts.to_numpy(),
            "ODD_HOURS": odd_counts.to_numpy(),
            "OFF_DUTY": off_counts.to_numpy(),
        }
    )


def _unexplained(lookups: pd.DataFrame) -> pd.DataFrame:
    grouped = lookups.groupby("unit", sort=True)
    table = pd.DataFrame(
        {"lookups": grouped.size(), "unexplained": grouped["is_unexplained"].sum()}
    ).astype(np.int64)
    table["explained"] = table["lookups"] - table["unexplained"]
    table["unexplained_share"] = table["unexplained"] / table["lookups"].clip(lower=1)
    table["rank"] = _rank(table["unexplained_share"])
    table = table.reset_index()
    return table.sort_values(["rank", "unit"], kind="stable").reset_index(drop=True)


def _month_over_month(current: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    now = current.groupby("unit", sort=True).size().rename("lookups")
    before = (
        previous.groupby("unit", sort=True).size().rename("previous_lookups")
        if previous is not None
        else pd.Series(dtype=np.int64, name="previous_lookups")
    )
    table = pd.concat([now, before], axis=1).fillna(0).astype(np.int64)
    table["change"] = table["lookups"] - table["previous_lookups"]
    prior = table["previous_lookups"].where(table["previous_lookups"] > 0)
    table["change_ratio"] = (table["lookups"] / prior).astype(float)
    table.index.name = "unit"
    return table.reset_index().sort_values("unit", kind="stable").reset_index(drop=True)


def closer_audit_candidates(
    by_unit: pd.DataFrame,
    month_over_month: pd.DataFrame | None = None,
    *,
    z_threshold: float = 3.5,
    min_peers: int = 5,
    jump_ratio: float = 1.5,
    jump_min: int = 100,
) -> pd.DataFrame:
    """Propose units for closer audit (§十四) from abnormal log volume.

    Parameters
    ----------
    by_unit
        The ``volume_by_unit`` table of :func:`monthly_statistics`.
    month_over_month
        Its ``month_over_month`` table (None: no jump test).
    z_threshold, min_peers
        Volume per active account more than ``z_threshold`` robust z above
        the units of the month, tested only with at least ``min_peers`` units.
    jump_ratio, jump_min
        Volume at least ``jump_ratio`` × and ``jump_min`` lookups above the
        previous month.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``lookups``, ``z_per_account``, ``previous_lookups``,
        ``change_ratio``, ``reason`` (``volume`` / ``jump`` / both).

    """
    table = by_unit[["unit", "lookups", "z_per_account"]].copy()
    high = (table["z_per_account"] > z_threshold) & (len(table) >= min_peers)
    if month_over_month is not None and len(month_over_month):
        table = table.merge(
            month_over_month[["unit", "previous_lookups", "change_ratio"]], on="unit", how="left"
        )
        previous = table["previous_lookups"].fillna(0)
        jump = (
            (table["lookups"] >= jump_ratio * previous)
            & (table["lookups"] - previous >= jump_min)
            & (previous > 0)
        )
    else:
        table["previous_lookups"] = np.nan
        table["change_ratio"] = np.nan
        jump = pd.Series(False, index=table.index)
    reason = np.select(
        [high.to_numpy() & jump.to_numpy(), high.to_numpy(), jump.to_numpy()],
        ["volume;jump", "volume", "jump"],
        default="",
    )
    table["reason"] = pd.Series(reason, index=table.index, dtype="string")
    return table.loc[table["reason"] != ""].reset_index(drop=True)


def monthly_statistics(
    assessment: Any,
    dataset: Any,
    month: str,
    previous_assessment: Any = None,
    *,
    units: Any = None,
) -> dict[str, pd.DataFrame]:
    """Return the month's statistical tables of abnormal volume, time and subject (§五(二)2).

    Parameters
    ----------
    assessment
        An ``Assessment`` (or its ``lookups``) covering the month.
    dataset
        The ``Dataset`` (its ``officers`` give each unit's headcount).
    month
        ``"YYYY-MM"``.
    previous_assessment
        An assessment covering the previous month, or just its query log
        (``lookup_id``, ``time``, ``user``, ``unit``: only volumes are compared),
        for the month-over-month change (None: the change columns are empty).
    units
        Restrict every table to these units (e.g. the units under the
        auditing unit, ``AuditSample.units["unit"]``); None: all.

    Returns
    -------
    dict[str, pandas.DataFrame]
        ``totals`` (one row), ``volume_by_unit`` (ranked), ``volume_by_account``
        (ranked, robust z within the unit), ``abnormal_times`` (ODD_HOURS and
        OFF_DUTY by unit), ``lookups_by_hour``, ``abnormal_subjects``
        (WATCHLIST, SELF_OR_RELATED, REPEAT_SUBJECT, POLICE_VEHICLE, PROFILING
        by unit), ``unexplained_by_unit``, ``month_over_month`` and
        ``closer_audit_candidates``.

    """
    lookups = month_lookups(assessment, month)
    officers = officers_in_service(dataset, month)
    previous = None
    if previous_assessment is not None:
        previous = month_lookups(previous_assessment, _previous_month(month), assessed=False)
    if units is not None:
        keep = set(pd.Series(list(units), dtype="string"))
        lookups = lookups.loc[lookups["unit"].isin(keep)].reset_index(drop=True)
        officers = officers.loc[officers["unit"].isin(keep)].reset_index(drop=True)
        if previous is not None:
            previous = previous.loc[previous["unit"].isin(keep)].reset_index(drop=True)
    by_unit = _by_unit(lookups, officers)
    mom = _month_over_month(lookups, previous)
    flags = _with_codes(lookups, TIME_CODES + SUBJECT_CODES)
    totals = pd.DataFrame(
        {
            "month": [month],
            "lookups": [len(lookups)],
            "units": [int(lookups["unit"].nunique())],
            "accounts": [int(lookups["user"].nunique())],
            "officers_in_service": [len(officers)],
            "suspicious": [int(lookups["is_suspicious"].sum())],
            "flagged": [int(lookups["is_flagged"].sum())],
            "unexplained": [int(lookups["is_unexplained"].sum())],
            **{code: [int(flags[code].sum())] for code in TIME_CODES + SUBJECT_CODES},
        }
    )
    return {
        "totals": totals,
        "volume_by_unit": by_unit,
        "volume_by_account": _by_account(lookups),
        "abnormal_times": _code_counts(lookups, TIME_CODES),
        "lookups_by_hour": _by_hour(lookups),
        "abnormal_subjects": _code_counts(lookups, SUBJECT_CODES, shares=False),
        "unexplained_by_unit": _unexplained(lookups),
        "month_over_month": mom,
        "closer_audit_candidates": closer_audit_candidates(
            by_unit, mom if previous is not None else None
        ),
    }
