"""Explanations: the official reasons other records give a lookup (DOMAIN.md).

Every explanation but ``EXPL_DUTY_CHECK`` explains strongly. A lookup is
explained when an explanation covers at least one of its subjects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kit.assess import records
from kit.assess.context import DAY, HOUR, MINUTE, NAT, Context, text
from kit.assess.fmt import clock, stamp
from kit.assess.joins import cover
from kit.assess.registry import RuleResult, empty_hits, explanation

__all__ = [
    "expl_case",
    "expl_case_no",
    "expl_duty_check",
    "expl_proxy_recorded",
    "expl_ticket",
    "expl_worklog",
]


def _text_series(values: pd.Series | np.ndarray, n: int) -> pd.Series:
    if isinstance(values, pd.Series):
        out = values.reset_index(drop=True)
        return out if out.dtype == "str" else out.astype("str")
    return (
        pd.Series(np.asarray(values, dtype=object), dtype="str")
        if n
        else pd.Series([], dtype="str")
    )


def _hits(
    rows: np.ndarray, rests_on: pd.Series | np.ndarray, reason: pd.Series | np.ndarray
) -> pd.DataFrame:
    """Return a hits table (row, rests_on, reason) from aligned columns."""
    if len(rows) == 0:
        return empty_hits()
    return pd.DataFrame(
        {
            "row": np.asarray(rows, dtype=np.int64),
            "rests_on": _text_series(rests_on, len(rows)),
            "reason": _text_series(reason, len(rows)),
        }
    )


def _case_matches(ctx: Context) -> pd.DataFrame:
    """Subjects of lookups that are parties of a case the querier handles."""
    if "case_matches" in ctx.cache:
        return pd.DataFrame(ctx.cache["case_matches"])
    rec = records.cases(ctx)
    subjects = ctx.subjects[["row", "k", "q", "t"]]
    parties = rec["parties"]
    pairs = subjects.merge(parties.loc[parties["k"] >= 0, ["rec", "k"]], on="k")
    pairs = pairs.merge(rec["officers"][["rec", "q"]], on=["rec", "q"])
    pairs = pairs.merge(rec["cases"], on="rec")
    ctx.cache["case_matches"] = pairs
    return pairs


@explanation(
    "EXPL_CASE",
    rule="the subject is a party of a case that the querier handles, and the lookup falls "
    "from 1 day before the case was opened until 30 days after it was closed (180 days "
    "after opening when it has no closing time)",
    source="audit method (case 5, case 11)",
    needs=("cases",),
)
def expl_case(
    ctx: Context,
    *,
    days_before: float = 1,
    days_after_closed: float = 30,
    days_unclosed: float = 180,
) -> RuleResult:
    """Explain lookups of a party of a case the querier handles, within the case window."""
    pairs = _case_matches(ctx)
    opened = pairs["opened"].to_numpy()
    closed = pairs["closed"].to_numpy()
    lo = opened - int(days_before * DAY)
    hi = np.where(
        closed == NAT, opened + int(days_unclosed * DAY), closed + int(days_after_closed * DAY)
    )
    t = pairs["t"].to_numpy()
    ok = pairs[(t >= lo) & (t <= hi)]
    reason = (
        "case "
        + ok["case_no"]
        + " (opened "
        + stamp(ok["opened"].to_numpy()).to_numpy()
        + ") handled by "
        + ctx.querier_ids(ok["row"].to_numpy())
        + " has the subject as a party"
    )
    return RuleResult(_hits(ok["row"].to_numpy(), ok["ref"], reason))


@explanation(
    "EXPL_CASE_NO",
    rule="the lookup carries a case number of a case the querier handles that has the "
    "subject as a party",
    source="audit method (case 4)",
    needs=("cases",),
)
def expl_case_no(ctx: Context) -> RuleResult:
    """Explain lookups that name a case of the querier's with the subject as a party."""
    pairs = _case_matches(ctx)
    case_ref = ctx.lookups["case_ref"].to_numpy()[pairs["row"].to_numpy()]
    ok = pairs[(case_ref != "") & (case_ref == pairs["case_norm"].to_numpy())]
    reason = "case number " + ok["case_no"] + " entered; the case has the subject as a party"
    return RuleResult(_hits(ok["row"].to_numpy(), ok["ref"], reason))


@explanation(
    "EXPL_TICKET",
    rule="the querier issued a ticket for that plate or person within 2 hours of the lookup",
    source="audit method; case 6",
    needs=("tickets",),
)
def expl_ticket(ctx: Context, *, minutes: float = 120) -> RuleResult:
    """Explain lookups of a plate or person the querier ticketed within ``minutes``."""
    keys = records.tickets(ctx)["keys"]
    keys = keys.loc[(keys["q"] >= 0) & (keys["k"] >= 0), ["q", "k", "t", "ref"]]
    pairs = ctx.subjects[["row", "k", "q", "t"]].merge(
        keys, on=["q", "k"], suffixes=("", "_ticket")
    )
    gap = np.abs(pairs["t"].to_numpy() - pairs["t_ticket"].to_numpy())
    ok = pairs[gap <= int(minutes * MINUTE)]
    reason = (
        "ticket by "
        + ctx.querier_ids(ok["row"].to_numpy())
        + " at "
        + stamp(ok["t_ticket"].to_numpy()).to_numpy()
        + " for the subject"
    )
    return RuleResult(_hits(ok["row"].to_numpy(), ok["ref"], reason))


@explanation(
    "EXPL_WORKLOG",
    rule="the querier's work log within 4 hours mentions the subject or the lookup's case number",
    source="audit method (工作登記簿)",
    needs=("worklog",),
)
def expl_worklog(ctx: Context, *, hours: float = 4) -> RuleResult:
    """Explain lookups whose subject or case number the querier's work log mentions."""
    rec = records.worklog(ctx)
    entries = rec["entries"][["rec", "q", "t", "ref"]]
    subjects = ctx.subjects[["row", "k", "v", "q", "t"]]
    by_key = subjects.merge(rec["keys"], on="k")[["row", "q", "t", "rec"]]
    by_token = subjects.merge(rec["tokens"][["rec", "v"]], on="v")[["row", "q", "t", "rec"]]
    with_case = ctx.lookups.loc[ctx.lookups["case_ref"] != "", ["row", "q", "t", "case_ref"]]
    by_case = with_case.merge(rec["cases"], left_on="case_ref", right_on="case_norm")[
        ["row", "q", "t", "rec"]
    ]
    pairs = pd.concat([by_key, by_token, by_case], ignore_index=True).merge(
        entries, on="rec", suffixes=("", "_log")
    )
    gap = np.abs(pairs["t"].to_numpy() - pairs["t_log"].to_numpy())
    ok = pairs[(pairs["q"] == pairs["q_log"]) & (gap <= int(hours * HOUR))]
    ok = ok.drop_duplicates(["row", "rec"])
    querier = ctx.querier_ids(ok["row"].to_numpy())
    reason = "work log of " + querier + " at " + stamp(ok["t_log"].to_numpy()).to_numpy()
    return RuleResult(_hits(ok["row"].to_numpy(), ok["ref"], reason + " mentions it"))


@explanation(
    "EXPL_PROXY_RECORDED",
    rule="a lookup for another officer (user ≠ actual_user) that the account holder's or "
    "querier's work log records within 4 hours, naming the other officer by ID or by name",
    source="資通安全實施規定 §十六(五)",
    needs=("worklog",),
)
def expl_proxy_recorded(ctx: Context, *, hours: float = 4) -> RuleResult:
    """Explain proxy lookups recorded in either officer's work log."""
    log = ctx.cache["log"]
    user = text(log["user"])
    actual = text(log["actual_user"])
    proxy = (actual != "") & (user != actual)
    if not proxy.any():
        return RuleResult(empty_hits())
    names = ctx.officers.drop_duplicates("officer_id").set_index("officer_id")["name"]
    rows = ctx.lookups.loc[proxy.to_numpy(), ["row", "t"]]
    sides = []
    for writer, other in ((user, actual), (actual, user)):
        side = rows.assign(writer=writer[proxy].to_numpy(), other=other[proxy].to_numpy())
        sides.append(side)
    cand = pd.concat(sides, ignore_index=True)
    cand["other_name"] = cand["other"].map(names).fillna("").astype("str")
    entries = records.worklog(ctx)["entries"]
    pairs = cand.merge(entries, left_on="writer", right_on="officer", suffixes=("", "_log"))
    gap = np.abs(pairs["t"].to_numpy() - pairs["t_log"].to_numpy())
    pairs = pairs[gap <= int(hours * HOUR)]
    # candidate pairs: proxy lookups × nearby entries of two officers, small by construction
    named = np.array(
        [
            (o in c) or (n != "" and n in c)
            for o, n, c in zip(pairs["other"], pairs["other_name"], pairs["content"], strict=True)
        ],
        dtype=bool,
    )
    ok = pairs[named]
    reason = "work log of " + ok["writer"] + " at " + clock(ok["t_log"].to_numpy()).to_numpy()
    reason = reason + " records the lookup for " + ok["other"]
    return RuleResult(_hits(ok["row"].to_numpy(), ok["ref"], reason))


@explanation(
    "EXPL_DUTY_CHECK",
    rule="weak: purpose 臨檢盤查 while on 臨檢, 巡邏, 守望 or 勤區查察, or purpose 舉發交通違規 / "
    "交通事故處理 while on 交通整理 or 巡邏, at that time",
    source="勤務分配表 (audit method)",
    needs=("duty_roster",),
)
def expl_duty_check(ctx: Context) -> RuleResult:
    """Weakly explain road-check and traffic lookups made on a matching duty."""
    purpose = text(ctx.cache["log"]["purpose"]).str.strip()
    parts = []
    for word, duties in ctx.config.duty_check.items():
        mask = purpose.str.startswith(word).to_numpy()
        if not mask.any():
            continue
        sub = ctx.lookups.loc[mask, ["row", "q", "t"]]
        on = records.on_duty(ctx, list(duties))
        covered, which = cover(
            sub["q"].to_numpy(),
            sub["t"].to_numpy(),
            on["q"].to_numpy(),
            on["start"].to_numpy(),
            on["end"].to_numpy(),
            latest=False,
        )
        got = sub[covered]
        at = which[covered]
        # one reason per shift that covers a lookup, then taken for each lookup it covers
        used, inverse = np.unique(at, return_inverse=True)
        shifts = on.iloc[used].reset_index(drop=True)
        per_shift = (
            ("purpose " + word + " on ")
            + shifts["duty"]
            + " "
            + clock(shifts["start"].to_numpy())
            + "–"
            + clock(shifts["end"].to_numpy())
        )
        parts.append(
            _hits(got["row"].to_numpy(), shifts["ref"].iloc[inverse], per_shift.iloc[inverse])
        )
    if not parts:
        return RuleResult(empty_hits())
    return RuleResult(pd.concat(parts, ignore_index=True))
