"""Window flags: each marks every lookup of a window that meets the rule (DOMAIN.md).

``BULK_ACCOUNTS``, ``PROFILING`` and ``REPEAT_SUBJECT`` count per querier;
``VOLUME_SPIKE`` compares an officer-day's count with its unit's baseline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kit.assess.context import MINUTE, Context, join_lists
from kit.assess.explain import _hits
from kit.assess.fmt import day_text
from kit.assess.joins import window_pairs
from kit.assess.registry import RuleResult, Severity, empty_hits, flag

__all__ = ["bulk_accounts", "profiling", "repeat_subject", "volume_spike"]

_MAX_REFS = 20


def _join_refs(ctx: Context, pairs: pd.DataFrame, row: str, other: str) -> pd.Series:
    """Return, per ``row``, the references of up to 20 ``other`` rows, ``;``-joined."""
    uniq = pairs[[row, other]].drop_duplicates().sort_values([row, other], kind="stable")
    uniq = uniq[(uniq.groupby(row).cumcount() < _MAX_REFS).to_numpy()]
    rows_u, group = np.unique(uniq[row].to_numpy(), return_inverse=True)
    joined = join_lists(group, ctx.lookup_refs(uniq[other].to_numpy()), len(rows_u))
    return pd.Series(joined.to_numpy(), index=rows_u, dtype="str")


@flag(
    "BULK_ACCOUNTS",
    Severity.HIGH,
    rule="some 60-minute window containing the lookup holds 10 or more distinct bank accounts "
    "looked up by the querier in the 165 system, none of the window's lookups strongly "
    "explained",
    source="case 2",
    needs=("query_log",),
)
def bulk_accounts(ctx: Context, *, minutes: float = 60, accounts: int = 10) -> RuleResult:
    """Flag 165-system account lookups in an unexplained burst of distinct accounts."""
    system = ctx.cache["log"]["system"].astype("str").fillna("")
    in_165 = (system == ctx.vocab("account_system")).to_numpy()
    sub = ctx.subjects[(ctx.subjects["entity"] == "account") & in_165[ctx.subjects["row"]]]
    if sub.empty:
        return RuleResult(empty_hits())
    lk = sub[["row", "q", "t"]].drop_duplicates("row").sort_values(["q", "t", "row"])
    lk["seq"] = np.arange(len(lk))
    strong = ctx.strong[lk["row"].to_numpy()]
    # first strongly explained position at or after each lookup, per querier
    marker = pd.Series(np.where(strong, lk["seq"].to_numpy(), np.nan))
    nxt = marker.groupby(lk["q"].to_numpy()).bfill().fillna(np.inf).to_numpy()
    lk["stop"] = nxt
    left = lk[["row", "q", "t", "seq", "stop"]]
    right = sub[["row", "q", "t", "v"]].merge(lk[["row", "seq"]], on="row")
    pairs = window_pairs(left, right, ["q"], 0, int(minutes * MINUTE))
    pairs = pairs[pairs["seq_r"] < pairs["stop"]]
    distinct = pairs.groupby("row_l")["v"].nunique()
    starts = distinct.index[distinct >= accounts]
    members = pairs[pairs["row_l"].isin(starts)]
    rows = np.unique(members["row_r"].to_numpy())
    if len(rows) == 0:
        return RuleResult(empty_hits())
    by_row = members.groupby("row_r")["row_l"].first()
    count = by_row.map(distinct)
    reason = (
        count.astype("int64").astype("str") + f" distinct accounts in the 165 system within "
        f"{minutes:g} min, none strongly explained"
    )
    rests = _join_refs(
        ctx,
        members.rename(columns={"row_r": "r", "row_l": "s"}).merge(
            members[["row_l", "row_r"]].rename(columns={"row_l": "s", "row_r": "o"}), on="s"
        ),
        "r",
        "o",
    )
    return RuleResult(_hits(rows, rests.reindex(rows).fillna(""), reason.reindex(rows)))


@flag(
    "PROFILING",
    Severity.MEDIUM,
    rule="the querier looked up the same subject in 3 or more different systems within 30 minutes",
    source="inferred from cases 3, 4",
    needs=("query_log",),
)
def profiling(ctx: Context, *, minutes: float = 30, systems: int = 3) -> RuleResult:
    """Flag lookups of one subject by one querier across many systems in a short window."""
    system = ctx.cache["log"]["system"].astype("str").fillna("").to_numpy()
    system_code = pd.factorize(pd.Series(system))[0].astype(np.int64)
    sub = ctx.subjects[["row", "k", "q", "t"]].assign(
        system=system_code[ctx.subjects["row"].to_numpy()]
    )
    span = sub.groupby(["q", "k"])["system"].transform("nunique")
    sub = sub[span >= systems]
    if sub.empty:
        return RuleResult(empty_hits())
    pairs = window_pairs(sub, sub, ["q", "k"], 0, int(minutes * MINUTE))
    distinct = pairs.groupby(["row_l", "k"])["system_r"].nunique()
    good = distinct[distinct >= systems].reset_index()[["row_l", "k"]]
    members = pairs.merge(good, on=["row_l", "k"])
    rows = np.unique(members["row_r"].to_numpy())
    rests = _join_refs(ctx, members, "row_r", "row_l")
    names = np.asarray(system, dtype=object)
    seen = members.assign(name=names[members["row_r"].to_numpy()])
    systems_seen = seen.groupby("row_r")["name"].unique().map(lambda s: "/".join(sorted(s)))
    reason = "same subject in " + systems_seen.reindex(rows) + f" within {minutes:g} min"
    return RuleResult(_hits(rows, rests.reindex(rows).fillna(""), reason))


@flag(
    "REPEAT_SUBJECT",
    Severity.MEDIUM,
    rule="the lookup is not strongly explained, and some 30-day window containing it holds "
    "lookups of the same subject by the querier on 3 or more different days",
    source="§五(二)2",
    needs=("query_log",),
)
def repeat_subject(ctx: Context, *, days: float = 30, distinct_days: int = 3) -> RuleResult:
    """Flag unexplained lookups of a subject the querier looked up on many days."""
    sub = ctx.subjects[["row", "k", "q", "day"]]
    need = int(distinct_days)
    # (querier, subject) and (querier, subject, day) as one integer each, in that order
    q, k, d = (sub[c].to_numpy(dtype=np.int64) for c in ("q", "k", "day"))
    low = int(d.min()) if len(d) else 0
    pair = q * (int(k.max(initial=0)) + 1) + k
    triple = pair * (int(d.max(initial=low)) - low + 1) + (d - low)
    first = np.flatnonzero(~pd.Series(triple).duplicated().to_numpy())
    _, where, size = np.unique(pair[first], return_inverse=True, return_counts=True)
    first = first[size[where] >= need]
    ordered = first[np.argsort(triple[first], kind="stable")]
    qd = sub.iloc[ordered][["q", "k", "day"]]
    sub = sub[np.isin(pair, pair[first])].reset_index(drop=True)
    group, day = pair[ordered], d[ordered]
    n = len(qd)
    if n < need or need < 1 or sub.empty:
        return RuleResult(empty_hits())
    ahead = np.arange(n) + need - 1
    valid = ahead < n
    ahead_c = np.minimum(ahead, n - 1)
    starts = valid & (group[ahead_c] == group) & (day[ahead_c] - day <= days)
    start_day = pd.Series(np.where(starts, day, np.nan)).groupby(group).ffill().to_numpy()
    in_window = ~np.isnan(start_day) & (day - start_day <= days)
    marked = qd[in_window]
    got = sub.merge(marked, on=["q", "k", "day"])
    got = got[~ctx.strong[got["row"].to_numpy()]]
    judged = ctx.cache.get("judged")
    if judged is not None:
        # evidence only for the lookups whose result is read (see engine._run_wide)
        got = got[judged[got["row"].to_numpy()]]
    if got.empty:
        return RuleResult(empty_hits())
    rows = np.unique(got["row"].to_numpy())
    # evidence: the lookups of the same subject by the querier within the window
    around = got[["row", "q", "k", "day"]].merge(
        sub.rename(columns={"row": "other", "day": "other_day"}), on=["q", "k"]
    )
    around = around[(around["other_day"] - around["day"]).abs() <= days]
    n_days = around.groupby("row")["other_day"].nunique()
    first = around.groupby("row")["other_day"].min()
    rests = _join_refs(ctx, around[around["other"] != around["row"]], "row", "other")
    reason = (
        "same subject looked up by the querier on "
        + n_days.reindex(rows).fillna(0).astype("int64").astype("str")
        + f" days within {days:g} days (from "
        + pd.Series(day_text(first.reindex(rows).fillna(0).to_numpy()).to_numpy(), index=rows)
        + "), not strongly explained"
    )
    return RuleResult(_hits(rows, rests.reindex(rows).fillna(""), reason))


@flag(
    "VOLUME_SPIKE",
    Severity.MEDIUM,
    rule="the officer-day's count exceeds its volume baseline by a z of more than 3.5",
    source="§五(二)2, cases 5, 11",
    needs=("duty_roster",),
)
def volume_spike(
    ctx: Context,
    *,
    z: float = 3.5,
    days: int = 30,
    min_officer_days: int = 20,
    mad_floor: float = 1.0,
) -> RuleResult:
    """Flag every lookup of a querier-day whose count is far above the unit's baseline."""
    from kit.assess.baseline import querier_day_z

    table = querier_day_z(ctx, days=int(days), mad_floor=mad_floor)
    ctx.cache["volume_z"] = table
    # each lookup's querier-day in the table (one row each), as one integer key; only the
    # lookups whose result is read when a wide context is judged (see engine._run_wide)
    judged = ctx.cache.get("judged")
    rows = np.arange(ctx.n) if judged is None else np.flatnonzero(judged)
    q = ctx.lookups["q"].to_numpy()[rows]
    day = ctx.lookups["day"].to_numpy()[rows]
    at = pd.Index(table["q"].to_numpy() * _DAYS + table["day"].to_numpy()).get_indexer(
        q * _DAYS + day
    )
    n_base = _or_zero(table["n_base"], at)
    checked = n_base >= min_officer_days
    zval = _or_zero(table["z"], at)
    hit = checked & (zval > z)
    got = at[hit]
    reason = (
        table["count"].to_numpy()[got].astype("int64").astype(str).astype(object)
        + " lookups on "
        + day_text(day[hit]).to_numpy()
        + ", unit median "
        + table["median"].to_numpy(dtype=float)[got].round(1).astype(str).astype(object)
        + ", z = "
        + zval[hit].round(1).astype(str).astype(object)
    )
    roster_refs = table["ref"].fillna("").to_numpy()[got]
    unchecked = np.zeros(ctx.n, dtype=bool)
    unchecked[rows] = ~checked
    return RuleResult(_hits(rows[hit], pd.Series(roster_refs), pd.Series(reason)), unchecked)


_DAYS = 1 << 20
"""Day numbers are below this: (querier, day) pairs are ``q * _DAYS + day``."""


def _or_zero(column: pd.Series, at: np.ndarray) -> np.ndarray:
    """Return the values of ``column`` at ``at``, 0 where missing or ``at`` is -1."""
    values = np.append(column.to_numpy(dtype=float, na_value=np.nan), np.nan)[at]
    return np.where(np.isnan(values), 0.0, values)
