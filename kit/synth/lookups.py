"""Legitimate lookups and the records that explain them, generated per chunk.

Each on-duty officer-day gets a handful of *events*; an event is one or two
lookups with its official reason, created together so the reason is right by
construction: a case the officer handles (``CASE``, ``ACCIDENT``), a ticket
issued minutes later (``TICKET``), a work-log line within the hour
(``WORKLOG``, ``CHECK_WL``), or a road check on a matching duty (``CHECK``,
weak).  A small share (``SERVICE``, 為民服務) has no explaining record.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kit.synth.cases import case_lookups, cases_frame
from kit.synth.conditions import typed
from kit.synth.duty import FIELD_DUTIES, _ranks
from kit.synth.frames import frame as object_frame
from kit.synth.records import (
    Counters,
    Records,
    choice,
    lookup_base,
    lookup_frame,
    minute,
)

EVENT_TYPES = ("CHECK", "CHECK_WL", "TICKET", "ACCIDENT", "WORKLOG", "SERVICE", "CASE")
STRONG_TYPES = frozenset({"CHECK_WL", "TICKET", "ACCIDENT", "WORKLOG", "CASE"})
DUTY_TYPE_P: dict[str, tuple[float, ...]] = {
    "巡邏": (0.4, 0.1, 0.35, 0.15, 0, 0, 0),
    "臨檢": (0.6, 0.4, 0, 0, 0, 0, 0),
    "交通整理": (0, 0, 0.8, 0.2, 0, 0, 0),
    "守望": (0.7, 0.3, 0, 0, 0, 0, 0),
    "勤區查察": (0.5, 0.5, 0, 0, 0, 0, 0),
    "值班": (0, 0, 0, 0, 0.45, 0.05, 0.5),
    "備勤": (0, 0, 0, 0, 0.4, 0, 0.6),
    "內勤": (0, 0, 0, 0, 0.5, 0, 0.5),
    "專案勤務": (0, 0, 0, 0, 0, 0, 1),
    "刑案偵查": (0, 0, 0, 0, 0.1, 0, 0.9),
}
DUTY_WEIGHT = {
    "巡邏": 3.0,
    "臨檢": 4.0,
    "交通整理": 2.0,
    "守望": 1.0,
    "勤區查察": 2.0,
    "值班": 3.0,
    "備勤": 1.5,
    "內勤": 1.0,
    "專案勤務": 2.0,
    "刑案偵查": 4.0,
}
MAX_PER_DAY = 13
VIOLATIONS = ("闖紅燈", "違規停車", "超速", "未依規定轉彎", "行駛人行道", "未戴安全帽", "逆向行駛")
GENERIC_WORK = (
    "巡邏轄區，無異常",
    "受理民眾電話諮詢",
    "處理噪音陳情",
    "協助交通疏導",
    "整理勤務資料",
    "督導勤務",
    "受理拾得物",
    "社區治安座談",
    "協助民眾尋回遺失化粧包",
    "處理圍墻塗鴉陳情",
    "巡查巷裏治安死角",
)
CHECK_NOTE = ("臨檢盤查 {}，無異常", "盤查可疑人車 {} 無異狀", "路檢 {}，已放行")
WORK_NOTE = ("受理民眾報案，查詢 {}", "協助民眾查詢 {}", "受理陳情，核對 {}", "行政調查：{}")


def make_events(rng: np.random.Generator, roster: pd.DataFrame, seized: np.ndarray) -> pd.DataFrame:
    """Place each on-duty officer-day's events in its shifts, with their types."""
    on = roster[roster["on_duty"]].reset_index(drop=True)
    duty = on["duty"].to_numpy()
    start, end = on["start"].to_numpy(), on["end"].to_numpy()
    key = on["officer"].to_numpy() * 100_000 + (on["day"].to_numpy() // 86400) % 100_000
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    size = np.diff(np.r_[first, len(on)])
    weight = pd.Series(duty).map(DUTY_WEIGHT).to_numpy(dtype=float) * (end - start) / 7200
    cum = np.cumsum(weight)
    before = np.r_[0.0, cum][first]
    total = cum[first + size - 1] - before
    per_day = rng.integers(8, 12, len(first))
    group = np.repeat(np.arange(len(first)), per_day)
    seg = np.searchsorted(cum, before[group] + rng.random(len(group)) * total[group], side="right")
    seg = np.minimum(seg, first[group] + size[group] - 1)
    span = end[seg] - start[seg] - 720 - 1020
    time = start[seg] + 720 + (rng.random(len(seg)) * span).astype(np.int64)
    probs = np.array([DUTY_TYPE_P[d] for d in DUTY_TYPE_P])
    duty_row = pd.Series(duty[seg]).map({d: i for i, d in enumerate(DUTY_TYPE_P)}).to_numpy()
    cum_p = np.cumsum(probs, axis=1)[duty_row]
    kind = (rng.random(len(seg))[:, None] * cum_p[:, -1:] > cum_p).sum(axis=1)
    kind = np.minimum(kind, len(EVENT_TYPES) - 1)
    officer = on["officer"].to_numpy()[seg]
    is_seized = np.isin(officer, seized)
    kind = np.where(is_seized & (kind == 0), 1, kind)
    kind = np.where(is_seized & (kind == 5), 4, kind)
    events = object_frame(
        {
            "officer": officer,
            "time": time,
            "type": np.array(EVENT_TYPES, dtype=object)[kind],
            "handheld": pd.Series(duty[seg]).isin(FIELD_DUTIES).to_numpy(),
            "duty": duty[seg],
        }
    )
    return events.sort_values(["officer", "time"], kind="stable").reset_index(drop=True)


def legit_records(
    rng: np.random.Generator,
    roster: pd.DataFrame,
    officers: pd.DataFrame,
    counters: Counters,
    *,
    messy: bool,
    seized: np.ndarray,
) -> Records:
    """Return the legitimate lookups of a chunk with their cases, tickets and work log.

    Parameters
    ----------
    rng : numpy.random.Generator
        Randomness of the chunk.
    roster : pandas.DataFrame
        The chunk's roster (:func:`kit.synth.duty.make_roster`).
    officers : pandas.DataFrame
        All officers (index = officer number), with ``kind``.
    counters : Counters
        Fresh identifiers and numbers of the chunk.
    messy : bool
        Vary how identifiers are typed.
    seized : numpy.ndarray
        Officer numbers whose phones are seized: all their lookups are strongly explained.

    Returns
    -------
    Records
        Lookups (canonical columns plus ``officer``, ``expl``, ``subject``),
        cases, tickets and work-log rows.

    """
    events = make_events(rng, roster, seized)
    etype = events["type"].to_numpy()
    frames, cases, tickets, worklog = [], [], [], []
    n_ev = len(events)
    zero = np.zeros(n_ev, dtype=np.int64)

    # Road checks: a person (household + wanted check, minutes apart) or a plate.
    for kind in ("CHECK", "CHECK_WL"):
        ev = events[etype == kind]
        n = len(ev)
        person = rng.random(n) < 0.7
        subject = np.where(person, counters.fresh("person_id", n), counters.fresh("plate", n))
        entity = np.where(person, "person_id", "plate").astype(object)
        cond = typed(rng, entity, subject, messy=messy)
        op = np.where(person, "戶役政-個人戶籍資料查詢", "車籍資料查詢").astype(object)
        purpose = np.full(n, "臨檢盤查", dtype=object)
        frames.append(lookup_frame(lookup_base(ev, officers, zero[:n]), op, cond, purpose, subject))
        pair = person & (rng.random(n) < 0.6)
        second = ev[pair]
        gap = rng.integers(40, 240, len(second))
        frames.append(
            lookup_frame(
                lookup_base(second, officers, gap),
                np.full(len(second), "通緝資料查詢", dtype=object),
                cond[pair],
                purpose[pair],
                subject[pair],
            )
        )
        if kind == "CHECK_WL":
            note = np.array(CHECK_NOTE, dtype=object)[rng.integers(0, len(CHECK_NOTE), n)]
            worklog.append(_worklog(rng, ev, officers, note, cond, -3600, 5400))

    # Tickets: the plate is looked up, the ticket issued minutes later.
    ev = events[etype == "TICKET"]
    n = len(ev)
    plate = counters.fresh("plate", n)
    cond = typed(rng, np.full(n, "plate", dtype=object), plate, messy=messy)
    frames.append(
        lookup_frame(
            lookup_base(ev, officers, zero[:n]),
            np.full(n, "車籍資料查詢", dtype=object),
            cond,
            np.full(n, "舉發交通違規", dtype=object),
            plate,
        )
    )
    extra = int(n * 0.25)
    ticket_time = np.r_[
        ev["time"].to_numpy() + rng.integers(60, 2400, n),
        ev["time"].to_numpy()[:extra] + rng.integers(3 * 3600, 5 * 3600, extra),
    ]
    ticket_plate = np.r_[plate, counters.fresh("plate", extra)]
    ticket_officer = np.r_[ev["officer"].to_numpy(), ev["officer"].to_numpy()[:extra]]
    violator = np.where(rng.random(n + extra) < 0.5, counters.fresh("person_id", n + extra), "")
    tickets.append(
        object_frame(
            {
                "ticket_no": counters.ticket_numbers(n + extra),
                "time": ticket_time,
                "officer_id": officers.loc[ticket_officer, "officer_id"].to_numpy(),
                "plate": ticket_plate,
                "person_id": violator.astype(object),
                "violation": choice(rng, VIOLATIONS, (1,) * len(VIOLATIONS), n + extra),
            }
        )
    )

    # Traffic accidents: a one-event case with the car and its driver.
    ev = events[etype == "ACCIDENT"]
    n = len(ev)
    plate, driver = counters.fresh("plate", n), counters.fresh("person_id", n)
    opened = minute(ev["time"].to_numpy() - rng.integers(300, 2400, n))
    case_no = counters.case_numbers(opened)
    purpose = np.full(n, "交通事故處理", dtype=object)
    c_plate = typed(rng, np.full(n, "plate", dtype=object), plate, messy=messy)
    c_driver = typed(rng, np.full(n, "person_id", dtype=object), driver, messy=messy)
    frames.append(
        lookup_frame(
            lookup_base(ev, officers, zero[:n]),
            np.full(n, "車籍資料查詢", dtype=object),
            c_plate,
            purpose,
            plate,
        )
    )
    frames.append(
        lookup_frame(
            lookup_base(ev, officers, rng.integers(60, 300, n)),
            choice(rng, ("戶役政-個人戶籍資料查詢", "駕籍資料查詢"), (0.5, 0.5), n),
            c_driver,
            purpose,
            driver,
        )
    )
    cases.append(
        cases_frame(
            rng,
            case_no,
            np.full(n, "交通事故", dtype=object),
            opened,
            opened + rng.integers(1, 10, n) * 86400 + rng.integers(0, 36000, n),
            officers.loc[ev["officer"].to_numpy(), "officer_id"].to_numpy(),
            [("plate", plate), ("person_id", driver)],
            messy,
        )
    )

    # Work-log explained lookups (reports at the desk, citizen requests).
    ev = events[etype == "WORKLOG"]
    n = len(ev)
    person = rng.random(n) < 0.7
    subject = np.where(person, counters.fresh("person_id", n), counters.fresh("plate", n))
    entity = np.where(person, "person_id", "plate").astype(object)
    cond = typed(rng, entity, subject, messy=messy)
    missing = person & (rng.random(n) < 0.12)
    op = np.where(
        person,
        choice(rng, ("戶役政-個人戶籍資料查詢", "刑案資料查詢"), (0.8, 0.2), n),
        "車籍資料查詢",
    )
    op = np.where(missing, "失蹤人口查詢", op).astype(object)
    purpose = np.where(
        missing,
        "協尋失蹤人口",
        choice(rng, ("為民服務", "行政調查", "偵查犯罪"), (0.5, 0.2, 0.3), n),
    )
    frames.append(
        lookup_frame(lookup_base(ev, officers, zero[:n]), op, cond, purpose.astype(object), subject)
    )
    note = np.array(WORK_NOTE, dtype=object)[rng.integers(0, len(WORK_NOTE), n)]
    worklog.append(_worklog(rng, ev, officers, note, _mention(entity, subject), -5400, 5400))

    # Citizen service with no explaining record (為民服務).
    ev = events[etype == "SERVICE"]
    n = len(ev)
    subject = counters.fresh("person_id", n)
    cond = typed(rng, np.full(n, "person_id", dtype=object), subject, messy=messy)
    frames.append(
        lookup_frame(
            lookup_base(ev, officers, zero[:n]),
            np.full(n, "戶役政-個人戶籍資料查詢", dtype=object),
            cond,
            np.full(n, "為民服務", dtype=object),
            subject,
        )
    )

    case_frames, case_rows, identities = case_lookups(
        rng, events[etype == "CASE"], officers, counters, messy=messy
    )
    frames += case_frames
    cases.append(case_rows)

    lookups = pd.concat(frames, ignore_index=True)
    lookups = lookups.sort_values(["officer", "time"], kind="stable").reset_index(drop=True)
    # Two lookups of one officer in the same second would be indistinguishable
    # exports of one another: keep the first (an integer key, cheap at scale).
    officer_no = lookups["officer"].to_numpy().astype(np.int64)
    time = lookups["time"].to_numpy().astype(np.int64)
    second = officer_no * 10_000_000_000 + time
    keep = np.r_[True, second[1:] != second[:-1]]
    day_key = officer_no * 1_000_000 + time // 86400
    day_first = np.flatnonzero(np.r_[True, day_key[1:] != day_key[:-1]])
    day_rank = _ranks(np.diff(np.r_[day_first, len(day_key)]))
    end = officers["end_date"].to_numpy()[officer_no]
    serving = (end < 0) | (time < end + 86400)
    lookups = lookups[keep & serving & (day_rank < MAX_PER_DAY)].reset_index(drop=True)
    n = len(lookups)
    lookups["result"] = choice(rng, ("成功", "查無資料", "錯誤"), (0.9, 0.09, 0.01), n)
    if messy:
        variant = rng.random(n) < 0.03
        lookups.loc[variant, "actual_unit"] = lookups.loc[variant, "actual_unit"].str.replace(
            "臺", "台"
        )
    lookups["strong"] = lookups["expl"].isin(STRONG_TYPES)
    worklog.append(_generic_work(rng, roster, officers))
    return Records(
        lookups,
        pd.concat(cases, ignore_index=True),
        pd.concat(tickets, ignore_index=True),
        pd.concat(worklog, ignore_index=True).sort_values(["officer_id", "time"], kind="stable"),
        identities,
    )


def _mention(entity: np.ndarray, value: np.ndarray) -> np.ndarray:
    """How a work log names an identifier (recognisable without a key for IDs and plates)."""
    prefix = np.where(entity == "plate", "車號:", "身分證號")
    return (prefix.astype(object) + np.asarray(value, dtype=object)).astype(object)


def _worklog(
    rng: np.random.Generator,
    ev: pd.DataFrame,
    officers: pd.DataFrame,
    note: np.ndarray,
    mention: np.ndarray,
    lo: int,
    hi: int,
) -> pd.DataFrame:
    n = len(ev)
    content = pd.Series(note, dtype=object).str.replace("{}", "\0", regex=False)
    text = content.str.split("\0", n=1)
    body = text.str[0] + pd.Series(mention, dtype=object) + text.str[1]
    return object_frame(
        {
            "time": minute(ev["time"].to_numpy() + rng.integers(lo, hi, n)),
            "officer_id": officers.loc[ev["officer"].to_numpy(), "officer_id"].to_numpy(),
            "content": body.to_numpy(dtype=object),
            "case_no": np.full(n, "", dtype=object),
        }
    )


def _generic_work(
    rng: np.random.Generator, roster: pd.DataFrame, officers: pd.DataFrame
) -> pd.DataFrame:
    on = roster[roster["on_duty"]]
    pick = on[rng.random(len(on)) < 0.3]
    n = len(pick)
    t = pick["start"].to_numpy() + (
        rng.random(n) * (pick["end"] - pick["start"]).to_numpy()
    ).astype(np.int64)
    return object_frame(
        {
            "time": minute(t),
            "officer_id": officers.loc[pick["officer"].to_numpy(), "officer_id"].to_numpy(),
            "content": choice(rng, GENERIC_WORK, (1,) * len(GENERIC_WORK), n),
            "case_no": np.full(n, "", dtype=object),
        }
    )
