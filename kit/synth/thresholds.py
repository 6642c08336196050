"""Hard negatives, one placement per threshold of DOMAIN.md.

Each function places legitimate lookups just inside one rule's boundary, with
the records that make them legitimate (a ticket 119 minutes away, a case
opened 23 hours later...).  :data:`PLACE` maps each hard negative to its
placement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from kit.synth.planted import STATION_DUTIES
from kit.synth.records import Counters

if TYPE_CHECKING:
    from kit.synth.planted import Story

MINUTE, HOUR, DAY = 60, 3600, 86400


CHECK_DUTIES = frozenset({"臨檢", "巡邏", "守望", "勤區查察"})


TICKET_DUTIES = frozenset({"巡邏", "交通整理"})


def _hn(
    s: Story,
    name: str,
    officer: int,
    t: int,
    op: str,
    cond: str,
    purpose: str,
    boundary: str,
    **kw: Any,
) -> dict[str, Any]:
    return s.lookup("hard_negative", name, officer, t, op, cond, purpose, boundary=boundary, **kw)


def _seg(
    s: Story, roster: pd.DataFrame, officer: int, duties: frozenset[str] | None
) -> pd.Series | None:
    return s.pick_segment(roster, officer, duties)


def _tickets(
    s: Story, name: str, o: int, roster: pd.DataFrame, register: pd.DataFrame, c: Counters
) -> None:
    seg = _seg(s, roster, o, TICKET_DUTIES)
    if seg is None:
        return
    person, plate = s.fresh("person_id")[0], s.fresh("plate")[0]
    t = int(seg["start"]) + 15 * MINUTE + int(s.rng.integers(0, 30 * MINUTE))
    times = [t, t + 4 * MINUTE, t + 8 * MINUTE]
    ops = ("戶役政-個人戶籍資料查詢", "駕籍資料查詢", "通緝資料查詢")
    when = "before the last" if name.endswith("before") else "after the first"
    for tt, op in zip(times, ops, strict=True):
        _hn(
            s,
            name,
            o,
            tt,
            op,
            f"身分證號={person}",
            "舉發交通違規",
            handheld=True,
            subject=person,
            boundary=f"ticket 119 minutes {when} of three lookups in three systems "
            "(PROFILING, EXPL_TICKET)",
        )
    ticket = times[-1] - 119 * MINUTE if name.endswith("before") else times[0] + 119 * MINUTE
    s.add_ticket(o, ticket, plate, person)


def _shift_edge(
    s: Story, name: str, o: int, roster: pd.DataFrame, register: pd.DataFrame, c: Counters
) -> None:
    seg = _seg(s, roster, o, STATION_DUTIES)
    if seg is None:
        return
    last = name == "shift_last_seconds"
    t = int(seg["end"]) - 30 if last else int(seg["start"])
    person = s.fresh("person_id")[0]
    what = "30 seconds before the shift ends" if last else "at the first second of the shift"
    _hn(
        s,
        name,
        o,
        t,
        "戶役政-個人戶籍資料查詢",
        f"身分證號={person}",
        "為民服務",
        subject=person,
        boundary=f"unexplained lookup {what} (OFF_DUTY)",
    )


def _two_days(
    s: Story, name: str, o: int, roster: pd.DataFrame, register: pd.DataFrame, c: Counters
) -> None:
    person = s.fresh("person_id")[0]
    first = _seg(s, roster, o, CHECK_DUTIES)
    if first is None:
        return
    s.mark_busy(o, int(first["start"]))
    second = s.pick_segment(
        roster,
        o,
        CHECK_DUTIES,
        not_before=int(first["day"]) + DAY,
        not_after=int(first["day"]) + 12 * DAY,
    )
    if second is None:
        return
    for seg in (first, second):
        t = int(seg["start"]) + 20 * MINUTE + int(s.rng.integers(0, 60 * MINUTE))
        _hn(
            s,
            name,
            o,
            t,
            "戶役政-個人戶籍資料查詢",
            f"身分證號={person}",
            "臨檢盤查",
            handheld=True,
            subject=person,
            boundary="same subject on two days, weakly explained (REPEAT_SUBJECT needs 3)",
        )


def _systems(
    s: Story, name: str, o: int, roster: pd.DataFrame, register: pd.DataFrame, c: Counters
) -> None:
    seg = _seg(s, roster, o, CHECK_DUTIES)
    if seg is None:
        return
    person = s.fresh("person_id")[0]
    t = int(seg["start"]) + 13 * MINUTE + int(s.rng.integers(0, 20 * MINUTE))
    if name == "two_systems_29min":
        plan = [(t, "戶役政-個人戶籍資料查詢"), (t + 29 * MINUTE, "通緝資料查詢")]
        boundary = "two systems 29 minutes apart on one subject (PROFILING needs 3)"
    else:
        plan = [
            (t, "戶役政-個人戶籍資料查詢"),
            (t + 15 * MINUTE, "通緝資料查詢"),
            (t + 31 * MINUTE + 5, "駕籍資料查詢"),
        ]
        boundary = "three systems spread over 31 minutes (PROFILING needs 3 within 30)"
    for tt, op in plan:
        _hn(
            s,
            name,
            o,
            tt,
            op,
            f"身分證號={person}",
            "臨檢盤查",
            handheld=True,
            subject=person,
            boundary=boundary,
        )


def _accounts(
    s: Story, name: str, o: int, roster: pd.DataFrame, register: pd.DataFrame, c: Counters
) -> None:
    seg = _seg(s, roster, o, STATION_DUTIES)
    if seg is None:
        return
    n = 9 if name == "nine_accounts_hour" else 12
    span = 50 * MINUTE if n == 9 else 40 * MINUTE
    accounts = s.fresh("account", n)
    t0 = int(seg["start"]) + 15 * MINUTE
    times = [t0 + span * i // (n - 1) for i in range(n)]
    if n == 9:
        boundary = "9 distinct accounts in 50 minutes with no case (BULK_ACCOUNTS needs 10)"
    else:
        boundary = "12 accounts in 40 minutes, all parties of the officer's own fraud case"
        s.add_case(c, o, "詐欺", t0 - 2 * HOUR, -1, [f"帳號={a}" for a in accounts])
    for t, account in zip(times, accounts, strict=True):
        _hn(
            s,
            name,
            o,
            t,
            "165反詐騙-警示帳戶查詢",
            f"帳號={account}",
            "偵查犯罪",
            subject=account,
            boundary=boundary,
        )


def _ip_change(
    s: Story, name: str, o: int, roster: pd.DataFrame, register: pd.DataFrame, c: Counters
) -> None:
    seg = _seg(s, roster, o, STATION_DUTIES)
    if seg is None:
        return
    t = int(seg["start"]) + 20 * MINUTE
    own = s.text(o, "ip")
    for i, person in enumerate(s.fresh("person_id", 2)):
        _hn(
            s,
            name,
            o,
            t + i * (11 * MINUTE + 5),
            "戶役政-個人戶籍資料查詢",
            f"身分證號={person}",
            "為民服務",
            ip=own if i == 0 else own.rsplit(".", 1)[0] + ".251",
            subject=person,
            boundary="one account on two IPs 11 minutes apart (CONCURRENT_IP needs 10)",
        )


def _profile(s: Story, name: str, o: int, t: int, person: str, boundary: str) -> list[int]:
    ops = ("戶役政-個人戶籍資料查詢", "刑案資料查詢", "通緝資料查詢")
    times = [t, t + 3 * MINUTE, t + 6 * MINUTE]
    for tt, op in zip(times, ops, strict=True):
        _hn(s, name, o, tt, op, f"身分證號={person}", "偵查犯罪", subject=person, boundary=boundary)
    return times


def _case_window(
    s: Story, name: str, o: int, roster: pd.DataFrame, register: pd.DataFrame, c: Counters
) -> None:
    seg = _seg(s, roster, o, STATION_DUTIES)
    if seg is None:
        return
    person = s.fresh("person_id")[0]
    t = int(seg["start"]) + 15 * MINUTE
    if name == "case_opened_23h_later":
        times = _profile(
            s,
            name,
            o,
            t,
            person,
            "three systems in 6 minutes (PROFILING), 23 hours before the "
            "officer's case with the subject is opened (EXPL_CASE)",
        )
        s.add_case(c, o, "竊盜", times[0] + 23 * HOUR, times[0] + 10 * DAY, [f"身分證號={person}"])
    else:
        _profile(
            s,
            name,
            o,
            t,
            person,
            "three systems in 6 minutes (PROFILING), 29 days after the officer's "
            "case with the subject was closed (EXPL_CASE)",
        )
        s.add_case(c, o, "傷害", t - 40 * DAY, t - 29 * DAY, [f"身分證號={person}"])


def _worklog(
    s: Story, name: str, o: int, roster: pd.DataFrame, register: pd.DataFrame, c: Counters
) -> None:
    seg = _seg(s, roster, o, STATION_DUTIES)
    if seg is None:
        return
    person = s.fresh("person_id")[0]
    t = int(seg["start"]) + 15 * MINUTE
    times = _profile(
        s,
        name,
        o,
        t,
        person,
        "three systems in 6 minutes (PROFILING), work log naming the "
        "subject 3 h 59 min before the last (EXPL_WORKLOG)",
    )
    s.add_worklog(
        o, times[-1] - 3 * HOUR - 59 * MINUTE + 59, f"受理民眾報案，關係人身分證號{person}"
    )


def _device(
    s: Story, name: str, o: int, roster: pd.DataFrame, register: pd.DataFrame, c: Counters
) -> None:
    seg = _seg(s, roster, o, CHECK_DUTIES)
    if seg is None:
        return
    rows = register[
        (register["officer"] == o)
        & (register["out_time"] >= seg["start"])
        & (register["in_time"] <= seg["end"])
    ]
    if rows.empty:
        return
    row = rows.iloc[0]
    for t in (int(row["out_time"]) + 60, int(row["in_time"]) - 60):
        person = s.fresh("person_id")[0]
        _hn(
            s,
            name,
            o,
            t,
            "戶役政-個人戶籍資料查詢",
            f"身分證號={person}",
            "臨檢盤查",
            handheld=True,
            subject=person,
            boundary="handheld lookups 1 minute after sign-out and 1 minute before sign-in "
            "(DEVICE_NOT_SIGNED_OUT)",
        )


def _night(
    s: Story, name: str, o: int, roster: pd.DataFrame, register: pd.DataFrame, c: Counters
) -> None:
    if name == "night_shift_0130":
        span = (roster["end"] - roster["day"]).to_numpy() > DAY
        offset, op, purpose, hand = DAY + 90 * MINUTE, "戶役政-個人戶籍資料查詢", "臨檢盤查", True
        boundary = "01:30 inside a 22:00-02:00 shift that started the day before (OFF_DUTY)"
    else:
        span = (roster["end"] - roster["day"]).to_numpy() == DAY
        offset, op, purpose, hand = DAY - 30, "戶役政-個人戶籍資料查詢", "為民服務", False
        boundary = "23:59:30 inside a shift ending 24:00 (OFF_DUTY)"
    # The planned officer if they work such a shift this month, else another
    # officer without a seized phone who does.
    seized = set(s.seized.tolist())
    fitting = roster[span & roster["on_duty"].to_numpy()]
    candidates = [o] + [int(x) for x in dict.fromkeys(fitting["officer"]) if int(x) not in seized]
    seg = None
    for officer in candidates:
        mine = fitting[fitting["officer"] == officer]
        free = [
            (officer, int(d)) not in s.busy and (officer, int(d) + DAY) not in s.busy
            for d in mine["day"]
        ]
        if any(free):
            seg, o = mine[free].iloc[0], officer
            break
    if seg is None:
        return
    person = s.fresh("person_id")[0]
    t = int(seg["day"]) + offset
    _hn(
        s,
        name,
        o,
        t,
        op,
        f"身分證號={person}",
        purpose,
        handheld=hand,
        subject=person,
        boundary=boundary,
    )
    s.mark_busy(o, int(seg["day"]))


def _proxy(
    s: Story, name: str, o: int, roster: pd.DataFrame, register: pd.DataFrame, c: Counters
) -> None:
    mates = [m for m in s.pool if s.unit(m) == s.unit(o) and m != o]
    if not mates:
        return
    querier = int(mates[0])
    seg = _seg(s, roster, querier, STATION_DUTIES)
    if seg is None:
        return
    person = s.fresh("person_id")[0]
    t = int(seg["start"]) + 20 * MINUTE
    _hn(
        s,
        name,
        querier,
        t,
        "戶役政-個人戶籍資料查詢",
        f"身分證號={person}",
        "偵查犯罪",
        user=o,
        subject=person,
        boundary="proxy lookup recorded in the account holder's work log "
        "(ACCOUNT_MISMATCH, EXPL_PROXY_RECORDED)",
    )
    who = f"{s.text(querier, 'name')}（{s.oid(querier)}）"
    s.add_worklog(o, t + 10 * MINUTE, f"經所長同意，代{who}查詢{person}，因其帳號鎖定")


def _watch(
    s: Story, name: str, o: int, roster: pd.DataFrame, register: pd.DataFrame, c: Counters
) -> None:
    seg = _seg(s, roster, o, STATION_DUTIES)
    if seg is None:
        return
    person = s.fresh("person_id")[0]
    s.watch.append((person, "賭博業者", "地下簽賭組頭"))
    t = int(seg["start"]) + 20 * MINUTE
    s.add_case(c, o, "賭博", t - 3 * HOUR, -1, [f"身分證號={person}"])
    for i, op in enumerate(("刑案資料查詢", "戶役政-相片影像查詢")):
        _hn(
            s,
            name,
            o,
            t + i * 5 * MINUTE,
            op,
            f"身分證號={person}",
            "偵查犯罪",
            subject=person,
            boundary="watch-listed subject who is a party of the officer's own case "
            "(WATCHLIST, EXPL_CASE)",
        )


def _last_day(
    s: Story, name: str, o: int, roster: pd.DataFrame, register: pd.DataFrame, c: Counters
) -> None:
    end = s.end_of(o)
    segs = s.segments(roster, o, STATION_DUTIES)
    segs = segs[(segs["day"] <= end) & ((segs["end"] - segs["day"]) <= DAY)]
    if segs.empty:
        return
    last_day = int(segs["day"].max())
    seg = segs[segs["day"] == last_day].iloc[0]
    s.end_override[o] = last_day
    person = s.fresh("person_id")[0]
    _hn(
        s,
        name,
        o,
        int(seg["start"]) + 20 * MINUTE,
        "戶役政-個人戶籍資料查詢",
        f"身分證號={person}",
        "為民服務",
        subject=person,
        boundary="lookup on the officer's last day of service (AFTER_SEPARATION)",
    )


def _colleague(
    s: Story, name: str, o: int, roster: pd.DataFrame, register: pd.DataFrame, c: Counters
) -> None:
    mates = [m for m in s.pool if s.unit(m) == s.unit(o) and m != o]
    seg = _seg(s, roster, o, STATION_DUTIES)
    if seg is None or not mates:
        return
    mate = int(mates[-1])
    person = s.fresh("person_id")[0]
    t = int(seg["start"]) + 20 * MINUTE
    _hn(
        s,
        name,
        o,
        t,
        "戶役政-個人戶籍資料查詢",
        f"身分證號={person}",
        "為民服務",
        subject=person,
        boundary="message containing the looked-up ID, 3 minutes later, to a colleague in "
        "service (inside the police)",
    )
    s.add_comm(
        name,
        o,
        t + 3 * MINUTE,
        s.text(mate, "phone"),
        "發",
        "訊息",
        f"學弟幫我看一下 {person} 這個人，民眾來問",
        name=s.text(mate, "name"),
    )
    s.quiet.append((o, t - 60, t + 31 * MINUTE))


PLACE = {
    "ticket_119_before": _tickets,
    "ticket_119_after": _tickets,
    "shift_last_seconds": _shift_edge,
    "shift_first_second": _shift_edge,
    "subject_two_days": _two_days,
    "two_systems_29min": _systems,
    "three_systems_31min": _systems,
    "nine_accounts_hour": _accounts,
    "twelve_accounts_case": _accounts,
    "ip_change_11min": _ip_change,
    "case_opened_23h_later": _case_window,
    "case_closed_29_days_before": _case_window,
    "worklog_3h59": _worklog,
    "device_signed_out_1min": _device,
    "night_shift_0130": _night,
    "shift_until_2400": _night,
    "proxy_recorded": _proxy,
    "watchlist_on_own_case": _watch,
    "last_day_of_service": _last_day,
    "colleague_message": _colleague,
}
