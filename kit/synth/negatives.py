"""Hard negatives, and the rows that load with a warning.

Hard negatives are legitimate lookups placed just inside the thresholds of
DOMAIN.md.

Each hard negative either carries a medium flag that only its (boundary)
strong explanation neutralises, or would gain a medium/high flag if a rule's
boundary were off by one; none of them is suspicious.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kit.synth import idgen
from kit.synth.planted import STATION_DUTIES
from kit.synth.records import Counters
from kit.synth.thresholds import PLACE
from kit.synth.writer import UNDECODABLE

if TYPE_CHECKING:
    from kit.synth.planted import Story

MINUTE, HOUR, DAY = 60, 3600, 86400
NEGATIVES = (
    "ticket_119_before",
    "ticket_119_after",
    "shift_last_seconds",
    "shift_first_second",
    "subject_two_days",
    "two_systems_29min",
    "three_systems_31min",
    "nine_accounts_hour",
    "twelve_accounts_case",
    "ip_change_11min",
    "case_opened_23h_later",
    "case_closed_29_days_before",
    "worklog_3h59",
    "device_signed_out_1min",
    "night_shift_0130",
    "shift_until_2400",
    "proxy_recorded",
    "watchlist_on_own_case",
    "last_day_of_service",
    "colleague_message",
)


def plan_negatives(s: Story) -> None:
    """Choose an officer and a month for each hard negative.

    Officers with a seized phone are avoided, except for the colleague message.
    """
    seized = set(s.seized.tolist())
    free = [o for o in s.pool if o not in s.used and o not in seized]
    fallback = [o for o in s.pool if o not in seized] or list(s.pool)
    for i, name in enumerate(NEGATIVES):
        if name == "colleague_message":
            officer = int(s.seized[0]) if len(s.seized) else int(fallback[0])
        else:
            choices = free or fallback
            officer = int(choices[i % len(choices)])
        s.plan[f"hn_{name}"] = {"officer": officer, "month": int(s.rng.integers(0, s.months))}
    leavers = [
        o for o in s.leavers if o != s.plan.get("after_separation", {}).get("officer")
    ] or s.leavers
    if leavers:
        officer = int(leavers[0])
        s.plan["hn_last_day_of_service"] = {
            "officer": officer,
            "month": s.month_of(s.end_of(officer)),
        }
    else:
        s.plan.pop("hn_last_day_of_service", None)
    s.plan["warnings"] = {"month": 0}


def place_negatives(
    s: Story, month: int, roster: pd.DataFrame, register: pd.DataFrame, counters: Counters
) -> None:
    """Place this month's hard negatives (and, in month 0, the warning rows)."""
    for name in NEGATIVES:
        plan = s.plan.get(f"hn_{name}")
        if plan is None or plan["month"] != month:
            continue
        PLACE[name](s, name, plan["officer"], roster, register, counters)
    if month == 0 and s.messy:
        _warnings(s, roster)


def _warnings(s: Story, roster: pd.DataFrame) -> None:
    """Rows that load with a warning, in the first month of group 0 (a cp950 file)."""
    group0 = [o for o in s.pool if s.officers.at[o, "group"] == 0]
    seized = set(s.seized.tolist())
    group0 = [o for o in group0 if o not in seized] or group0
    lo = s.bounds[0] + 13 * DAY
    hi = min(s.bounds[0] + 18 * DAY, s.bounds[1] - DAY)
    placed = 0
    for o in group0:
        seg = s.pick_segment(roster, o, STATION_DUTIES, not_before=lo, not_after=hi)
        if seg is None:
            continue
        t = int(seg["start"]) + 25 * MINUTE
        if placed == 0:
            s.lookup(
                "warning",
                "undecodable",
                o,
                t,
                "戶役政-個人戶籍資料查詢",
                f"姓名=林{UNDECODABLE}如;出生日期=0750312",
                "為民服務",
                reason="undecodable_bytes",
            )
            s.lookup(
                "extra",
                "eten",
                o,
                t + 5 * MINUTE,
                "戶役政-個人戶籍資料查詢",
                "姓名=陳恒碁;出生日期=0780523",
                "為民服務",
            )
        else:
            bad = str(
                idgen.person_ids(np.array([2_000_000 + placed]), salt=s.agency.salt, valid=False)[0]
            )
            s.lookup(
                "warning",
                "typo",
                o,
                t,
                "戶役政-個人戶籍資料查詢",
                f"身分證號={bad}",
                "為民服務",
                reason="invalid_check_digit",
                subject=bad,
            )
        placed += 1
        if placed == 3:
            break
