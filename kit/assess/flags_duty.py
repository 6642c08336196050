"""Flags about duty, presence, devices and accounts (DOMAIN.md "Flags on lookups")."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kit.assess import records
from kit.assess.context import MINUTE, Context, date_days, refs, text
from kit.assess.explain import _hits
from kit.assess.fmt import clock, day_text
from kit.assess.joins import cover
from kit.assess.registry import RuleResult, Severity, empty_hits, flag
from kit.frames import isin

__all__ = [
    "account_mismatch",
    "after_separation",
    "concurrent_ip",
    "cross_unit",
    "device_not_signed_out",
    "off_duty",
    "out_of_station",
]


@flag(
    "OFF_DUTY",
    Severity.MEDIUM,
    rule="the querier has no on-duty roster entry covering the lookup time",
    source="cases 5, 11",
    needs=("duty_roster",),
)
def off_duty(ctx: Context) -> RuleResult:
    """Flag lookups outside every on-duty shift of the querier ([start, end))."""
    rec = records.roster(ctx)
    shifts = rec["shifts"]
    look = ctx.lookups
    on = rec["on"]
    on_shift, _ = cover(
        look["q"].to_numpy(),
        look["t"].to_numpy(),
        on["q"].to_numpy(),
        on["start"].to_numpy(),
        on["end"].to_numpy(),
        latest=False,
    )
    covered = rec["covered"]
    hit = ~on_shift & covered
    rows = look.loc[hit, ["row", "querier", "q", "t", "day", "q_unit"]]
    # evidence: the latest roster entry of the querier started before the lookup
    _, last = cover(
        rows["q"].to_numpy(),
        rows["t"].to_numpy(),
        shifts["q"].to_numpy(),
        shifts["start"].to_numpy(),
        shifts["end"].to_numpy(),
    )
    has_last = last >= 0
    near = shifts.iloc[np.where(has_last, last, 0)] if len(shifts) else shifts
    recent = has_last & (
        rows["day"].to_numpy() - near["day"].fillna(-10).to_numpy(dtype=float) <= 1
        if len(shifts)
        else has_last
    )
    at = clock(rows["t"].to_numpy()).to_numpy()
    if len(shifts):
        span = (
            clock(near["start"].to_numpy()).to_numpy()
            + "–"
            + clock(near["end"].to_numpy()).to_numpy()
        )
        duty = near["duty"].to_numpy()
        on_flag = near["on_duty"].to_numpy()
        near_ref = near["ref"].to_numpy()
    else:
        span = duty = near_ref = np.full(len(rows), "", dtype=object)
        on_flag = np.zeros(len(rows), dtype=bool)
    first = shifts.drop_duplicates(["unit", "day"])[["unit", "day", "ref"]]
    first = first.rename(columns={"unit": "q_unit", "ref": "unit_ref"})
    where = rows[["q_unit"]].assign(day=rows["day"].to_numpy(dtype=float))
    unit_ref = where.merge(first, on=["q_unit", "day"], how="left")["unit_ref"].fillna("")
    reason = np.where(
        recent & on_flag,
        "shift " + span + " (" + duty + ") ends before " + at,
        np.where(
            recent,
            "rostered " + duty + " " + span + " at " + at,
            "no on-duty roster entry of "
            + rows["querier"].to_numpy()
            + " covers "
            + at
            + " on "
            + day_text(rows["day"].to_numpy()).to_numpy(),
        ),
    )
    rests = np.where(recent, near_ref, unit_ref.to_numpy(dtype=object))
    return RuleResult(
        _hits(rows["row"].to_numpy(), pd.Series(rests), pd.Series(reason)), ~covered & ~on_shift
    )


@flag(
    "OUT_OF_STATION",
    Severity.LOW,
    rule="a PC lookup while the register shows the querier out",
    source="cases 5, 11",
    needs=("register",),
)
def out_of_station(ctx: Context) -> RuleResult:
    """Flag PC (non-handheld) lookups made while the register shows the querier out."""
    rec = records.register(ctx)
    iv = rec["intervals"]
    pc = ~ctx.cache["log"]["handheld"].fillna(False).astype(bool).to_numpy()
    look = ctx.lookups.loc[pc]
    out, which = cover(
        look["q"].to_numpy(),
        look["t"].to_numpy(),
        iv["q"].to_numpy(),
        iv["start"].to_numpy(),
        iv["end"].to_numpy(),
        latest=False,
    )
    covered = rec["covered"]
    hit = out & covered[pc]
    rows = look.loc[hit]
    interval = iv.iloc[which[hit]]
    reason = (
        "out of the station "
        + clock(interval["start"].to_numpy()).to_numpy()
        + "–"
        + clock(interval["end"].to_numpy()).to_numpy()
        + " ("
        + interval["reason"].to_numpy()
        + ") at "
        + clock(rows["t"].to_numpy()).to_numpy()
    )
    return RuleResult(
        _hits(rows["row"].to_numpy(), interval["ref"], pd.Series(reason)), pc & ~covered
    )


@flag(
    "DEVICE_NOT_SIGNED_OUT",
    Severity.MEDIUM,
    rule="a handheld lookup (M-Police- operation or an M- device) while the querier had no "
    "handheld device signed out (or not the device named)",
    source="警用行動電腦使用管理要點 §四",
    needs=("register",),
)
def device_not_signed_out(ctx: Context) -> RuleResult:
    """Flag handheld lookups without the (named) device signed out in the register."""
    rec = records.register(ctx)
    dev = rec["devices"]
    log = ctx.cache["log"]
    handheld = log["handheld"].fillna(False).astype(bool).to_numpy()
    device = text(log["device"]).str.strip().str.upper()
    named = device.str.startswith("M-").to_numpy()
    look = ctx.lookups
    ok = np.zeros(len(look), dtype=bool)
    m = handheld & named
    got, _ = cover(
        look["querier"][m] + "|" + device[m],
        look["t"].to_numpy()[m],
        dev["officer"] + "|" + dev["device"],
        dev["start"].to_numpy(),
        dev["end"].to_numpy(),
        latest=False,
    )
    ok[m] = got
    m = handheld & ~named
    got, _ = cover(
        look["q"].to_numpy()[m],
        look["t"].to_numpy()[m],
        dev["q"].to_numpy(),
        dev["start"].to_numpy(),
        dev["end"].to_numpy(),
        latest=False,
    )
    ok[m] = got
    covered = rec["covered"]
    hit = handheld & ~ok & covered
    rows = look.loc[hit]
    what = np.where(
        named[hit],
        "device " + device[hit].to_numpy() + " not signed out",
        "no handheld device signed out",
    )
    reason = (
        what + " by " + rows["querier"].to_numpy() + " at " + clock(rows["t"].to_numpy()).to_numpy()
    )
    return RuleResult(
        _hits(rows["row"].to_numpy(), ctx.lookup_refs(rows["row"].to_numpy()), pd.Series(reason)),
        handheld & ~covered,
    )


@flag(
    "AFTER_SEPARATION",
    Severity.HIGH,
    rule="a lookup on a day after the account's officer's end date",
    source="資通安全實施規定 §七(二)",
    needs=("officers",),
)
def after_separation(ctx: Context) -> RuleResult:
    """Flag lookups on a day after the account's officer's last day of service."""
    officers = ctx.officers.drop_duplicates("officer_id").reset_index(drop=True)
    end = pd.Series(date_days(officers["end_date"]), index=text(officers["officer_id"]))
    ref = pd.Series(refs("officers", officers).to_numpy(), index=end.index)
    user = text(ctx.cache["log"]["user"])
    known = isin(user, end.index).to_numpy()
    last = user.map(end).to_numpy(dtype=float, na_value=np.nan)
    day = ctx.lookups["day"].to_numpy()
    hit = known & ~np.isnan(last) & (day > last)
    reason = (
        "officer "
        + user[hit].to_numpy()
        + " left on "
        + day_text(last[hit]).to_numpy()
        + "; lookup on "
        + day_text(day[hit]).to_numpy()
    )
    rows = np.flatnonzero(hit)
    return RuleResult(_hits(rows, user[hit].map(ref), pd.Series(reason)), ~known)


@flag(
    "ACCOUNT_MISMATCH",
    Severity.MEDIUM,
    rule="user ≠ actual_user",
    source="資通安全實施規定 §七(一), §十六(五)",
    needs=("query_log",),
)
def account_mismatch(ctx: Context) -> RuleResult:
    """Flag lookups made under another officer's account."""
    log = ctx.cache["log"]
    user, actual = text(log["user"]), text(log["actual_user"])
    hit = ((actual != "") & (actual != user)).to_numpy()
    rows = np.flatnonzero(hit)
    reason = "account " + user[hit].to_numpy() + " used by " + actual[hit].to_numpy()
    return RuleResult(_hits(rows, ctx.lookup_refs(rows), pd.Series(reason)))


@flag(
    "CROSS_UNIT",
    Severity.MEDIUM,
    rule="actual_unit ≠ unit",
    source="資通安全實施規定 §十六(五)",
    needs=("query_log",),
)
def cross_unit(ctx: Context) -> RuleResult:
    """Flag lookups whose actual querier's unit differs from the account's unit."""
    log = ctx.cache["log"]
    unit, actual = text(log["unit"]), text(log["actual_unit"])
    hit = ((actual != "") & (unit != "") & (actual != unit)).to_numpy()
    rows = np.flatnonzero(hit)
    reason = "run for " + unit[hit].to_numpy() + " by " + actual[hit].to_numpy()
    return RuleResult(_hits(rows, ctx.lookup_refs(rows), pd.Series(reason)))


@flag(
    "CONCURRENT_IP",
    Severity.MEDIUM,
    rule="one account from two different IPs within 10 minutes (both lookups)",
    source="資通安全實施規定 §七(一)",
    needs=("query_log",),
)
def concurrent_ip(ctx: Context, *, minutes: float = 10) -> RuleResult:
    """Flag lookups of an account with another IP within ``minutes`` before or after."""
    log = ctx.cache["log"]
    ip_all = text(log["ip"]).str.strip()
    ip_code, ip_names = pd.factorize(ip_all)
    has_ip = (ip_all != "").to_numpy()
    all_rows = np.flatnonzero(has_ip)
    if len(all_rows) == 0:
        return RuleResult(empty_hits())
    u_all = ctx.lookups["u"].to_numpy()[all_rows]
    t_all = ctx.lookups["t"].to_numpy()[all_rows]
    ip_all_codes = np.asarray(ip_code)[all_rows]
    order = np.lexsort((ip_all_codes, t_all, u_all))
    rows = all_rows[order]
    user = u_all[order]
    ip = ip_all_codes[order]
    t = t_all[order]
    n = len(rows)
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = (user[1:] != user[:-1]) | (ip[1:] != ip[:-1])
    run = np.cumsum(new_run) - 1
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:] - 1, n - 1)
    run_user = user[starts]
    # previous run's last row and next run's first row, same user
    prev_last = np.where(run > 0, ends[np.maximum(run - 1, 0)], -1)
    prev_ok = (prev_last >= 0) & (run_user[np.maximum(run - 1, 0)] == user)
    nxt = run + 1
    next_first = np.where(nxt < len(starts), starts[np.minimum(nxt, len(starts) - 1)], -1)
    next_ok = (next_first >= 0) & (run_user[np.minimum(nxt, len(starts) - 1)] == user)
    window = int(minutes * MINUTE)
    by_prev = prev_ok & (t - t[np.maximum(prev_last, 0)] <= window)
    by_next = next_ok & (t[np.maximum(next_first, 0)] - t <= window)
    hit = by_prev | by_next
    other = np.where(by_prev, np.maximum(prev_last, 0), np.maximum(next_first, 0))[hit]
    ip_text = np.asarray(ip_names, dtype=object)
    reason = (
        "account "
        + ctx.querier_ids(rows[hit], "u")
        + " from "
        + ip_text[ip[hit]]
        + " and "
        + ip_text[ip[other]]
        + " at "
        + clock(t[hit]).to_numpy()
        + " and "
        + clock(t[other]).to_numpy()
    )
    rests = ctx.lookup_refs(rows[other])
    return RuleResult(_hits(rows[hit], rests, pd.Series(reason)))
