"""Placing the planted scenarios' lookups into the roster of their month.

Expected flags are computed from DOMAIN.md's rule definitions as the rows are
planted (see :mod:`kit.synth.scenarios` for who and when).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kit.synth.planted import STATION_DUTIES
from kit.synth.records import Counters

if TYPE_CHECKING:
    from kit.synth.planted import Story

HOUR, MINUTE, DAY = 3600, 60, 86400


def place_scenarios(s: Story, month: int, roster: pd.DataFrame, counters: Counters) -> None:
    """Place the lookups of the scenarios that fall in this month."""
    for name, plan in s.plan.items():
        placer = PLACERS.get(name)
        if placer is None:
            continue
        if (
            name == "case4_pi_sergeant"
            or plan.get("month") == month
            or (name == "after_separation" and s.month_of(plan["time"]) == month)
        ):
            placer(s, month, roster, plan)


def _start_in(s: Story, seg: pd.Series, needed: int) -> int:
    """Return a start time inside a shift leaving room for ``needed`` seconds (15 min margins)."""
    lo, hi = int(seg["start"]) + 15 * MINUTE, int(seg["end"]) - 15 * MINUTE - needed
    return lo + int(s.rng.integers(0, max(1, hi - lo)))


def _case6(s: Story, month: int, roster: pd.DataFrame, plan: dict[str, Any]) -> None:
    o = plan["officer"]
    days = s.off_days(roster, o, np.arange(s.bounds[month], s.bounds[month + 1], DAY))
    if not days:
        return
    first = days[int(s.rng.integers(0, max(1, len(days) // 2)))]
    window = [d for d in days if first <= d <= first + 25 * DAY]
    k = min(len(window), int(s.rng.integers(1, 5)))
    chosen = sorted(s.rng.choice(window, size=k, replace=False).tolist()) if k else []
    expected = ["FALSE_PURPOSE_TICKET", "OFF_DUTY", "SELF_OR_RELATED"] + (
        ["REPEAT_SUBJECT"] if k >= 3 else []
    )
    plate = plan["plate"]
    forms = (f"車牌號碼={plate}", f"車號:{plate.replace('-', '')}", plate)
    for i, day in enumerate(chosen):
        t = int(day) + 9 * HOUR + int(s.rng.integers(0, 12 * HOUR))
        s.lookup(
            "planted",
            "case6_false_ticket",
            o,
            t,
            "車籍資料查詢",
            forms[i % 3],
            "舉發交通違規",
            expected=expected,
            case=6,
            subject=plate,
        )
        if i == 0:
            s.lookup(
                "planted",
                "case6_false_ticket",
                o,
                t + int(s.rng.integers(300, 1200)),
                "戶役政-個人戶籍資料查詢",
                f"身分證號={plan['partner']}",
                "其他:查證車主",
                expected=["OFF_DUTY"],
                case=6,
                subject=plan["partner"],
            )


def _case4(s: Story, month: int, roster: pd.DataFrame, plan: dict[str, Any]) -> None:
    o, rng = plan["officer"], s.rng
    n_days = int(rng.integers(2, 6))
    repeat = s.fresh("person_id")[0]
    repeat_name = s.name()
    repeat_rows: list[dict[str, Any]] = []
    for batch in range(n_days):
        seg = s.pick_segment(roster, o, STATION_DUTIES)
        if seg is None:
            break
        size = int(rng.integers(1, 6))
        people = s.fresh("person_id", size)
        names = [s.name() for _ in people]
        if batch < 3:
            people[0], names[0] = repeat, repeat_name
        t = _start_in(s, seg, size * 300 + 1500)
        roc = s.roc_year(t)
        fake = f"{roc}9{int(rng.integers(100_000, 999_999))}"
        rows = []
        for _i, person in enumerate(people):
            op = "入出境資料查詢" if rng.random() < 0.2 else "戶役政-個人戶籍資料查詢"
            cond = f"身分證號={person}" if rng.random() < 0.6 else person
            rows.append(
                s.lookup(
                    "planted",
                    "case4_pi_sergeant",
                    o,
                    t,
                    op,
                    cond,
                    f"偵查犯罪 案號{fake}",
                    expected=["CASE_NO_MISMATCH", "IDENTIFIER_SENT"],
                    case=4,
                    subject=person,
                )
            )
            t += int(rng.integers(60, 300))
        sent = t + int(rng.integers(300, 1500))
        text = "、".join(f"{n} {p}" for n, p in zip(names, people, strict=True))
        s.add_comm(
            "case4_pi_sergeant",
            o,
            sent,
            plan["r_phone"],
            "發",
            "簡訊",
            f"學長，你要的資料：{text}",
            expected=["WATCHLIST_CONTACT"],
        )
        s.add_comm(
            "case4_pi_sergeant",
            o,
            sent + int(rng.integers(120, 1800)),
            plan["r_phone"],
            "收",
            "簡訊",
            "收到，謝啦，改天請你吃飯",
        )
        for row in rows:
            if sent - row["time"] <= 1800:
                row["_expected"] = sorted({*row["_expected"], "CONTACT_AFTER"})
        if batch < 3:
            repeat_rows.append(rows[0])
    days = sorted({r["time"] // DAY for r in repeat_rows})
    if len(days) >= 3 and days[-1] - days[0] <= 28:
        for row in repeat_rows:
            row["_expected"] = sorted({*row["_expected"], "REPEAT_SUBJECT"})


def _case2(s: Story, month: int, roster: pd.DataFrame, plan: dict[str, Any]) -> None:
    o, rng = plan["officer"], s.rng
    seg = s.pick_segment(roster, o, STATION_DUTIES)
    if seg is None:
        return
    n = int(rng.integers(10, 31))
    accounts = s.fresh("account", n)
    gap_max = min(150, 3000 // n)
    t = _start_in(s, seg, n * gap_max + 2400)
    rows = []
    for account in accounts:
        cond = f"帳號={account}" if rng.random() < 0.7 else f"帳號：{account.replace('-', '')}"
        rows.append(
            s.lookup(
                "planted",
                "case2_165_bulk",
                o,
                t,
                "165反詐騙-警示帳戶查詢",
                cond,
                "偵查犯罪",
                expected=["BULK_ACCOUNTS", "IDENTIFIER_SENT"],
                case=2,
                subject=account,
            )
        )
        t += int(rng.integers(30, gap_max + 1))
    first = rows[-1]["time"] + int(rng.integers(120, 600))
    parts = np.array_split(np.array(accounts, dtype=object), int(rng.integers(2, 5)))
    sent = first
    for i, part in enumerate(parts):
        forms = [a if (i + j) % 2 else a.replace("-", "") for j, a in enumerate(part)]
        kind = "圖片" if i % 2 else "訊息"
        s.add_comm(
            "case2_165_bulk",
            o,
            sent,
            plan["line"],
            "發",
            kind,
            "帳號：" + "，".join(forms),
            expected=["WATCHLIST_CONTACT"],
        )
        sent += int(rng.integers(30, 120))
    s.add_comm("case2_165_bulk", o, sent + 300, plan["line"], "收", "訊息", "收到，辛苦了")
    for row in rows:
        if first - row["time"] <= 1800:
            row["_expected"] = sorted({*row["_expected"], "CONTACT_AFTER"})


def _case3(s: Story, month: int, roster: pd.DataFrame, plan: dict[str, Any]) -> None:
    o, rng = plan["officer"], s.rng
    seg = s.pick_segment(roster, o, STATION_DUTIES)
    if seg is None:
        return
    t = _start_in(s, seg, 3600)
    first = s.lookup(
        "planted",
        "case3_photo",
        o,
        t,
        "戶役政-個人戶籍資料查詢",
        f"姓名={plan['name']};出生日期={plan['birth']}",
        "偵查犯罪",
        handheld=True,
        expected=["DEVICE_NOT_SIGNED_OUT"],
        case=3,
        subject=plan["name"],
    )
    t2 = t + int(rng.integers(60, 240))
    photo = s.lookup(
        "planted",
        "case3_photo",
        o,
        t2,
        "戶役政-相片影像查詢",
        f"身分證號={plan['woman']}",
        "偵查犯罪",
        handheld=True,
        case=3,
        subject=plan["woman"],
        expected=["DEVICE_NOT_SIGNED_OUT", "CONTACTED_SUBJECT", "IDENTIFIER_SENT"],
    )
    sent = t2 + int(rng.integers(300, 1200))
    s.add_comm(
        "case3_photo", o, sent, plan["line"], "發", "圖片", f"妳的證件照 身分證號{plan['woman']}"
    )
    s.add_comm(
        "case3_photo", o, sent + 60, plan["line"], "發", "訊息", "在嗎？我是上次臉書聊天的那個警察"
    )
    s.add_comm("case3_photo", o, sent + 600, plan["line"], "收", "訊息", "你怎麼會有我的照片？")
    s.add_comm("case3_photo", o, sent + 2 * DAY, plan["line"], "發", "訊息", "改天一起吃飯吧")
    for row in (first, photo):
        if sent - row["time"] <= 1800:
            row["_expected"] = sorted({*row["_expected"], "CONTACT_AFTER"})


def _case5(s: Story, month: int, roster: pd.DataFrame, plan: dict[str, Any]) -> None:
    o, rng = plan["officer"], s.rng
    seg = s.pick_segment(roster, o, STATION_DUTIES)
    if seg is None:
        return
    unmarked = s.agency.vehicles[s.agency.vehicles["category"] == "偵防車"]["plate"].tolist()
    plates = sorted(
        rng.choice(
            unmarked, size=min(len(unmarked), int(rng.integers(2, 5))), replace=False
        ).tolist()
    )
    t = _start_in(s, seg, 3000)
    rows = [
        s.lookup(
            "planted",
            "case5_unmarked",
            o,
            t,
            "通緝資料查詢",
            f"身分證號={plan['wanted']}",
            "通緝查捕",
            expected=["WATCHLIST", "CONTACTED_SUBJECT"],
            case=5,
            subject=plan["wanted"],
        )
    ]
    for i, plate in enumerate(plates):
        t += int(rng.integers(60, 300))
        cond = f"車牌號碼={plate}" if i % 2 == 0 else f"車號:{plate.replace('-', '')}"
        rows.append(
            s.lookup(
                "planted",
                "case5_unmarked",
                o,
                t,
                "車籍資料查詢",
                cond,
                "偵查犯罪",
                expected=["POLICE_VEHICLE", "IDENTIFIER_SENT"],
                case=5,
                subject=plate,
            )
        )
    call = t + int(rng.integers(300, 1200))
    s.add_comm(
        "case5_unmarked", o, call, plan["phone"], "發", "通話", expected=["WATCHLIST_CONTACT"]
    )
    text = f"你有通緝在身，最近別回家。巷口那幾台{'、'.join(plates)}都是警察的車"
    s.add_comm(
        "case5_unmarked",
        o,
        call + 240,
        plan["phone"],
        "發",
        "簡訊",
        text,
        expected=["WATCHLIST_CONTACT"],
    )
    for row in rows:
        if call - row["time"] <= 1800:
            row["_expected"] = sorted({*row["_expected"], "CONTACT_AFTER"})


def _account_lookups(
    s: Story,
    name: str,
    roster: pd.DataFrame,
    plan: dict[str, Any],
    expected: list[str],
    *,
    other_unit: bool,
) -> None:
    q, a, rng = plan["querier"], plan["account"], s.rng
    seg = s.pick_segment(roster, q, STATION_DUTIES)
    if seg is None:
        return
    t = _start_in(s, seg, 1800)
    for person in s.fresh("person_id", int(rng.integers(1, 4))):
        s.lookup(
            "planted",
            name,
            q,
            t,
            "戶役政-個人戶籍資料查詢",
            f"身分證號={person}",
            "偵查犯罪" if other_unit else "為民服務",
            user=a,
            expected=expected,
            subject=person,
        )
        t += int(rng.integers(60, 400))


def _sharing(s: Story, month: int, roster: pd.DataFrame, plan: dict[str, Any]) -> None:
    _account_lookups(s, "account_sharing", roster, plan, ["ACCOUNT_MISMATCH"], other_unit=False)


def _cross(s: Story, month: int, roster: pd.DataFrame, plan: dict[str, Any]) -> None:
    _account_lookups(
        s, "cross_unit_proxy", roster, plan, ["ACCOUNT_MISMATCH", "CROSS_UNIT"], other_unit=True
    )


def _concurrent(s: Story, month: int, roster: pd.DataFrame, plan: dict[str, Any]) -> None:
    o, rng = plan["officer"], s.rng
    seg = s.pick_segment(roster, o, STATION_DUTIES)
    if seg is None:
        return
    t = _start_in(s, seg, 1800)
    own = s.text(o, "ip")
    other = own.rsplit(".", 1)[0] + ".250"
    for i, person in enumerate(s.fresh("person_id", 3)):
        s.lookup(
            "planted",
            "concurrent_ip",
            o,
            t,
            "戶役政-個人戶籍資料查詢",
            f"身分證號={person}",
            "偵查犯罪",
            ip=own if i != 1 else other,
            expected=["CONCURRENT_IP"],
            subject=person,
        )
        t += int(rng.integers(90, 240))


def _after(s: Story, month: int, roster: pd.DataFrame, plan: dict[str, Any]) -> None:
    o = plan["officer"]
    t = plan["time"]
    for person in s.fresh("person_id", 2):
        s.lookup(
            "planted",
            "after_separation",
            o,
            t,
            "戶役政-個人戶籍資料查詢",
            f"身分證號={person}",
            "為民服務",
            expected=["AFTER_SEPARATION", "OFF_DUTY"],
            subject=person,
        )
        t += int(s.rng.integers(60, 600))


def _self(s: Story, month: int, roster: pd.DataFrame, plan: dict[str, Any]) -> None:
    o = plan["officer"]
    seg = s.pick_segment(roster, o, STATION_DUTIES)
    if seg is None:
        return
    t = _start_in(s, seg, 1200)
    own = s.text(o, "person_id")
    s.lookup(
        "planted",
        "self_family",
        o,
        t,
        "戶役政-個人戶籍資料查詢",
        f"身分證號={own}",
        "為民服務",
        expected=["SELF_OR_RELATED"],
        subject=own,
    )
    rel = s.agency.relations
    mine = rel[(rel["officer_no"] == o) & rel["entity"].isin(["person_id", "plate"])]
    if mine.empty:
        person = s.fresh("person_id")[0]
        s.relations.append(
            {"officer_id": s.oid(o), "relation": "配偶", "identifier": person, "name": s.name()}
        )
        entity, value = "person_id", person
    else:
        row = mine.iloc[0]
        entity, value = str(row["entity"]), str(row["value"])
    op = "車籍資料查詢" if entity == "plate" else "戶役政-個人戶籍資料查詢"
    cond = f"車牌號碼={value}" if entity == "plate" else f"身分證號={value}"
    s.lookup(
        "planted",
        "self_family",
        o,
        t + int(s.rng.integers(60, 600)),
        op,
        cond,
        "為民服務",
        expected=["SELF_OR_RELATED"],
        subject=value,
    )


PLACERS = {
    "case6_false_ticket": _case6,
    "case4_pi_sergeant": _case4,
    "case2_165_bulk": _case2,
    "case3_photo": _case3,
    "case5_unmarked": _case5,
    "account_sharing": _sharing,
    "cross_unit_proxy": _cross,
    "concurrent_ip": _concurrent,
    "after_separation": _after,
    "self_family": _self,
}
