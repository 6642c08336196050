"""The volume baseline of DOMAIN.md: robust z of each querier-day against unit peers.

The baseline of a querier-day is the set of day counts of every officer of
the querier's unit over the previous ``days`` days (the day itself excluded),
taking only the days on which that officer was rostered on duty (a shift
belongs to the day it starts) and counting days with no lookup as 0;
``z = (count − median) / (1.4826 × MAD)`` with MAD floored at ``mad_floor``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from kit.assess import records
from kit.assess.context import Context

__all__ = ["querier_day_z"]


def _unit_baseline(matrix: np.ndarray, days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, MAD and size of the previous-``days`` window for each day column."""
    n_off, n_days = matrix.shape
    padded = np.concatenate([np.full((n_off, days), np.nan), matrix], axis=1)
    windows = sliding_window_view(padded[:, :-1], days, axis=1)  # (n_off, n_days, days)
    flat = np.transpose(windows, (1, 0, 2)).reshape(n_days, n_off * days)
    size = np.sum(~np.isnan(flat), axis=1)
    median = np.full(n_days, np.nan)
    mad = np.full(n_days, np.nan)
    some = size > 0
    if some.any():
        part = flat[some]
        med = np.nanmedian(part, axis=1)
        median[some] = med
        mad[some] = np.nanmedian(np.abs(part - med[:, None]), axis=1)
    return median, mad, size


def querier_day_z(ctx: Context, *, days: int = 30, mad_floor: float = 1.0) -> pd.DataFrame:
    """Return the baseline and z of every querier-day with lookups.

    Returns
    -------
    pandas.DataFrame
        ``querier``, ``day``, ``unit``, ``count``, ``n_base`` (officer-days in
        the baseline), ``median``, ``mad``, ``z`` and ``ref`` (a roster row
        of the querier on that day, or empty).

    """
    look = ctx.lookups
    counts = look.groupby(["q", "day"]).size().rename("count").reset_index()
    judged = ctx.cache.get("judged")
    if judged is not None:
        # only the querier-days of the lookups whose result is read get a baseline;
        # every lookup still counts in its peers' baselines
        seen = look.loc[judged, ["q", "day"]].drop_duplicates()
        wanted = counts.merge(seen, on=["q", "day"], how="left", indicator=True)
        wanted_mask = (wanted["_merge"] == "both").to_numpy()
    else:
        wanted_mask = np.ones(len(counts), dtype=bool)
    index: pd.Index = ctx.cache["officer_index"]
    counts["querier"] = pd.Series(index[counts["q"].to_numpy()], dtype="str")
    codes, names = ctx.unit_codes()
    first_unit = pd.Series(codes).groupby(look["q"].to_numpy()).first()
    counts["unit"] = pd.Series(
        np.asarray(names, dtype=object)[first_unit.reindex(counts["q"]).to_numpy()], dtype="str"
    )
    prep = ctx.prepared("baseline:roster", lambda: _duty_days(records.roster(ctx)["shifts"]))
    rostered: pd.Index = prep["names"]
    # officers as int codes: (officer, day) pairs become one int64 key; queriers never
    # rostered get codes after the roster's officers
    querier_codes = np.asarray(
        rostered.get_indexer(pd.Index(counts["querier"].to_numpy(dtype=object), dtype=object))
    )
    unknown = querier_codes < 0
    if unknown.any():
        extra, _ = pd.factorize(counts["querier"][unknown])
        querier_codes[unknown] = len(rostered) + np.asarray(extra, dtype=np.int64)
    counts["_pair"] = querier_codes.astype(np.int64) * _SPAN + counts["day"].to_numpy(np.int64)
    per_officer = pd.Series(counts["count"].to_numpy(), index=counts["_pair"].to_numpy())
    parts = []
    peers_of: dict[str, pd.DataFrame] = prep["peers"]
    for unit, need in counts[wanted_mask].groupby("unit", sort=True):
        # one unit at a time: units are few (small by construction)
        peers: pd.DataFrame = peers_of.get(str(unit), prep["no_peers"])
        lo = int(need["day"].min()) - days
        hi = int(need["day"].max())
        n_days = hi - lo + 1
        out = need.copy()
        if peers.empty:
            out["n_base"], out["median"], out["mad"] = 0, np.nan, np.nan
            parts.append(out)
            continue
        officers = np.sort(peers["officer"].unique())
        matrix = np.full((len(officers), n_days), np.nan)
        inside = peers[(peers["day"] >= lo) & (peers["day"] <= hi)]
        oi = np.searchsorted(officers, inside["officer"].to_numpy())
        di = inside["day"].to_numpy() - lo
        matrix[oi, di] = per_officer.reindex(inside["pair"].to_numpy()).fillna(0).to_numpy()
        median, mad, size = _unit_baseline(matrix, days)
        at = need["day"].to_numpy() - lo
        out["n_base"] = size[at]
        out["median"] = median[at]
        out["mad"] = mad[at]
        parts.append(out)
    if not parts:
        empty = counts[wanted_mask].drop(columns="_pair")
        return empty.assign(n_base=0, median=np.nan, mad=np.nan, z=np.nan, ref="")
    table = pd.concat(parts, ignore_index=True)
    scale = 1.4826 * np.maximum(table["mad"].to_numpy(dtype=float), mad_floor)
    table["z"] = (table["count"].to_numpy() - table["median"].to_numpy(dtype=float)) / scale
    ref_by_pair: pd.Series = prep["ref_by_pair"]
    table["ref"] = ref_by_pair.reindex(table["_pair"].to_numpy()).fillna("").to_numpy()
    return table.drop(columns="_pair")


_SPAN = 1 << 20
"""Day numbers are below this: (officer code, day) pairs are ``code * _SPAN + day``."""


def _duty_days(shifts: pd.DataFrame) -> dict[str, Any]:
    """Return the roster's side of the baseline, which does not depend on the lookups.

    Returns the officers' names (``object`` index, their codes in the pair
    keys), each unit's on-duty officer-days (``officer``, ``day``, ``pair``)
    and the first roster reference of each officer-day by pair key.

    The officers are factorised once and each (officer, day) is one integer,
    so the shifts' text is neither compared nor hashed again row by row (the
    roster of 10 M lookups' agency: 6 s as text).
    """
    dated = shifts["day"].notna().to_numpy()
    on = shifts["on_duty"].to_numpy(dtype=bool) & dated
    code, officer_names = pd.factorize(shifts["officer"], use_na_sentinel=False)
    code = np.asarray(code, dtype=np.int64)
    day = np.where(dated, shifts["day"].to_numpy(dtype=float, na_value=np.nan), 0).astype(np.int64)
    key = code * _SPAN + day
    # the first shift of each (officer, day): on duty, and of any kind
    duty_rows = np.flatnonzero(on)
    duty_rows = duty_rows[~pd.Series(key[duty_rows]).duplicated().to_numpy()]
    ref_rows = np.flatnonzero(dated)
    ref_rows = ref_rows[~pd.Series(key[ref_rows]).duplicated().to_numpy()]
    # the officers in order of first appearance among the duty days, then the others
    order = pd.unique(np.concatenate([code[duty_rows], code[ref_rows]]))
    names = pd.Index(np.asarray(officer_names, dtype=object)[order], dtype=object)
    number = np.full(len(officer_names), -1, dtype=np.int64)
    number[order] = np.arange(len(order), dtype=np.int64)

    def pair(rows: np.ndarray) -> np.ndarray:
        return number[code[rows]] * _SPAN + day[rows]

    ref_by_pair = pd.Series(shifts["ref"].iloc[ref_rows].to_numpy(), index=pair(ref_rows))
    duty_days = pd.DataFrame(
        {
            "officer": shifts["officer"].iloc[duty_rows].reset_index(drop=True),
            "unit": shifts["unit"].iloc[duty_rows].reset_index(drop=True),
            "day": day[duty_rows],
            "pair": pair(duty_rows),
        }
    )
    columns = ["officer", "day", "pair"]
    peers = {
        str(unit): group[columns].reset_index(drop=True)
        for unit, group in duty_days.groupby("unit", sort=False)
    }
    return {
        "names": names,
        "ref_by_pair": ref_by_pair,
        "peers": peers,
        "no_peers": duty_days[columns].iloc[:0],
    }
