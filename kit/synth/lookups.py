"""Legitimate lookups and the records that explain them, generated per chunk.

Each on-duty officer-day gets a handful of *events*; an event is one or two
lookups with its official reason, created together so the reason is right by
construction: a case the officer handles (``CASE``, ``ACCIDENT``), a ticket
issued minutes later (``TICKET``), a work-log line within the hour
(``WORKLOG``, ``CHECK_WL``), or a road check on a matching duty (``CHECK``,
weak).  A small share (``SERVICE``, 為民服務) has no explaining record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kit.synth import idgen
from kit.synth.conditions import LIST_SEPARATORS, typed
from kit.synth.duty import FIELD_DUTIES, _ranks
from kit.synth.frames import frame as object_frame

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
LOOKUP_COLUMNS = (
    "time",
    "unit",
    "user",
    "ip",
    "operation",
    "conditions",
    "actual_user",
    "actual_unit",
    "purpose",
    "result",
    "device",
    "case_no",
)
"""Canonical query-log columns, in export order."""
CORE_COLUMNS = LOOKUP_COLUMNS[:9]
MAX_PER_DAY = 13
CATEGORIES = ("詐欺", "竊盜", "毒品", "賭博", "妨害風化", "傷害", "失蹤", "通緝")
CATEGORY_P = (0.25, 0.22, 0.12, 0.06, 0.05, 0.14, 0.08, 0.08)
CATEGORY_ENTITIES = {
    "詐欺": ("person_id", "account", "phone", "account"),
    "竊盜": ("person_id", "plate", "person_id", "plate"),
    "毒品": ("person_id", "person_id", "plate", "phone"),
    "賭博": ("person_id", "person_id", "phone", "plate"),
    "妨害風化": ("person_id", "phone", "person_id", "plate"),
    "傷害": ("person_id", "person_id", "person_id", "plate"),
    "失蹤": ("person_id",),
    "通緝": ("person_id",),
}
PERSON_OPS = (
    "戶役政-個人戶籍資料查詢",
    "刑案資料查詢",
    "通緝資料查詢",
    "入出境資料查詢",
    "戶役政-相片影像查詢",
    "駕籍資料查詢",
)
PERSON_OPS_P = (0.5, 0.2, 0.14, 0.05, 0.05, 0.06)
ENTITY_OP = {
    "plate": "車籍資料查詢",
    "account": "165反詐騙-警示帳戶查詢",
    "phone": "165反詐騙-涉詐電話查詢",
}
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


@dataclass
class Counters:
    """Fresh identifier and record numbers for one chunk (disjoint across chunks)."""

    chunk: int
    salt: int
    person: int = 0
    plate: int = 0
    phone: int = 0
    account: int = 0
    case: int = 0
    ticket: int = 0

    def fresh(self, entity: str, n: int) -> np.ndarray:
        """Return ``n`` identifiers never used elsewhere in the dataset."""
        if entity == "person_id":
            base, self.person = 10_000_000 + self.chunk * 900_000 + self.person, self.person + n
            return idgen.person_ids(base + np.arange(n), salt=self.salt).astype(object)
        if entity == "plate":
            base, self.plate = 10_000_000 + self.chunk * 550_000 + self.plate, self.plate + n
            return idgen.plates(base + np.arange(n), salt=self.salt).astype(object)
        if entity == "phone":
            base, self.phone = 5_000_000 + self.chunk * 400_000 + self.phone, self.phone + n
            return idgen.phones(base + np.arange(n), salt=self.salt).astype(object)
        base, self.account = 10_000_000 + self.chunk * 1_000_000 + self.account, self.account + n
        return idgen.accounts(base + np.arange(n), salt=self.salt).astype(object)

    def case_numbers(self, opened: np.ndarray) -> np.ndarray:
        """Return case numbers ``1120012345`` (ROC year + 7 digits)."""
        n = len(opened)
        seq = self.chunk * 40_000 + self.case + np.arange(n)
        self.case += n
        year = (
            np.asarray(opened, dtype="datetime64[s]").astype("datetime64[Y]").astype(int)
            + 1970
            - 1911
        )
        return (pd.Series(year).astype(str) + pd.Series(seq).astype(str).str.zfill(7)).to_numpy(
            dtype=object
        )

    def ticket_numbers(self, n: int) -> np.ndarray:
        """Return ticket numbers ``GFA1234567``."""
        seq = self.chunk * 60_000 + self.ticket + np.arange(n)
        self.ticket += n
        letter = np.array(list("ABCDEFGH"), dtype=object)[seq % 8]
        return (
            "GF" + letter + pd.Series(seq).astype(str).str.zfill(7).to_numpy(dtype=object)
        ).astype(object)


@dataclass
class Records:
    """The records of one chunk."""

    lookups: pd.DataFrame
    cases: pd.DataFrame
    tickets: pd.DataFrame
    worklog: pd.DataFrame
    identities: pd.DataFrame


def _choice(
    rng: np.random.Generator, options: tuple[str, ...], p: tuple[float, ...], n: int
) -> np.ndarray:
    return np.array(options, dtype=object)[rng.choice(len(options), size=n, p=np.array(p) / sum(p))]


def _minute(t: np.ndarray) -> np.ndarray:
    return t - t % 60


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
    per_day = rng.integers(7, 11, len(first))
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


def _base(ev: pd.DataFrame, officers: pd.DataFrame, offset: np.ndarray) -> dict[str, np.ndarray]:
    o = officers.loc[ev["officer"].to_numpy()]
    hand = ev["handheld"].to_numpy()
    return {
        "officer": ev["officer"].to_numpy(),
        "time": ev["time"].to_numpy() + offset,
        "unit": o["unit"].to_numpy(),
        "user": o["officer_id"].to_numpy(),
        "ip": np.where(hand, o["device_ip"].to_numpy(), o["ip"].to_numpy()),
        "device": np.where(hand, o["device"].to_numpy(), "PC"),
        "hand": hand,
        "type": ev["type"].to_numpy(),
    }


def _frame(
    base: dict[str, np.ndarray],
    op: np.ndarray,
    cond: np.ndarray,
    purpose: np.ndarray,
    subject: np.ndarray,
    case_no: np.ndarray | None = None,
) -> pd.DataFrame:
    n = len(op)
    op = np.where(base["hand"], "M-Police-" + op.astype(object), op)
    frame = object_frame(
        {
            "officer": base["officer"],
            "time": base["time"],
            "unit": base["unit"],
            "user": base["user"],
            "ip": base["ip"],
            "operation": op,
            "conditions": cond,
            "actual_user": base["user"],
            "actual_unit": base["unit"],
            "purpose": purpose,
            "result": np.full(n, "", dtype=object),
            "device": base["device"],
            "case_no": case_no if case_no is not None else np.full(n, "", dtype=object),
            "expl": base["type"],
            "subject": subject,
        }
    )
    return frame


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
        frames.append(_frame(_base(ev, officers, zero[:n]), op, cond, purpose, subject))
        pair = person & (rng.random(n) < 0.6)
        second = ev[pair]
        gap = rng.integers(40, 240, len(second))
        frames.append(
            _frame(
                _base(second, officers, gap),
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
        _frame(
            _base(ev, officers, zero[:n]),
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
                "violation": _choice(rng, VIOLATIONS, (1,) * len(VIOLATIONS), n + extra),
            }
        )
    )

    # Traffic accidents: a one-event case with the car and its driver.
    ev = events[etype == "ACCIDENT"]
    n = len(ev)
    plate, driver = counters.fresh("plate", n), counters.fresh("person_id", n)
    opened = _minute(ev["time"].to_numpy() - rng.integers(300, 2400, n))
    case_no = counters.case_numbers(opened)
    purpose = np.full(n, "交通事故處理", dtype=object)
    c_plate = typed(rng, np.full(n, "plate", dtype=object), plate, messy=messy)
    c_driver = typed(rng, np.full(n, "person_id", dtype=object), driver, messy=messy)
    frames.append(
        _frame(
            _base(ev, officers, zero[:n]),
            np.full(n, "車籍資料查詢", dtype=object),
            c_plate,
            purpose,
            plate,
        )
    )
    frames.append(
        _frame(
            _base(ev, officers, rng.integers(60, 300, n)),
            _choice(rng, ("戶役政-個人戶籍資料查詢", "駕籍資料查詢"), (0.5, 0.5), n),
            c_driver,
            purpose,
            driver,
        )
    )
    cases.append(
        _cases_frame(
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
        _choice(rng, ("戶役政-個人戶籍資料查詢", "刑案資料查詢"), (0.8, 0.2), n),
        "車籍資料查詢",
    )
    op = np.where(missing, "失蹤人口查詢", op).astype(object)
    purpose = np.where(
        missing,
        "協尋失蹤人口",
        _choice(rng, ("為民服務", "行政調查", "偵查犯罪"), (0.5, 0.2, 0.3), n),
    )
    frames.append(_frame(_base(ev, officers, zero[:n]), op, cond, purpose.astype(object), subject))
    note = np.array(WORK_NOTE, dtype=object)[rng.integers(0, len(WORK_NOTE), n)]
    worklog.append(_worklog(rng, ev, officers, note, _mention(entity, subject), -5400, 5400))

    # Citizen service with no explaining record (為民服務).
    ev = events[etype == "SERVICE"]
    n = len(ev)
    subject = counters.fresh("person_id", n)
    cond = typed(rng, np.full(n, "person_id", dtype=object), subject, messy=messy)
    frames.append(
        _frame(
            _base(ev, officers, zero[:n]),
            np.full(n, "戶役政-個人戶籍資料查詢", dtype=object),
            cond,
            np.full(n, "為民服務", dtype=object),
            subject,
        )
    )

    case_frames, case_rows, identities = _case_lookups(
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
    lookups["result"] = _choice(rng, ("成功", "查無資料", "錯誤"), (0.9, 0.09, 0.01), n)
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
            "time": _minute(ev["time"].to_numpy() + rng.integers(lo, hi, n)),
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
            "time": _minute(t),
            "officer_id": officers.loc[pick["officer"].to_numpy(), "officer_id"].to_numpy(),
            "content": _choice(rng, GENERIC_WORK, (1,) * len(GENERIC_WORK), n),
            "case_no": np.full(n, "", dtype=object),
        }
    )


def _cases_frame(
    rng: np.random.Generator,
    case_no: np.ndarray,
    category: np.ndarray,
    opened: np.ndarray,
    closed: np.ndarray,
    handlers: np.ndarray,
    parties: Sequence[tuple[str | np.ndarray, np.ndarray]],
    messy: bool,
) -> pd.DataFrame:
    """Build case rows; ``parties`` holds per-slot (entity, values) with '' for absent slots."""
    n = len(case_no)
    sep = np.array((*LIST_SEPARATORS, "\n"), dtype=object)[
        rng.choice(5, n, p=[0.4, 0.2, 0.15, 0.2, 0.05])
    ]
    if not messy:
        sep = np.full(n, ";", dtype=object)
    text = np.full(n, "", dtype=object)
    for entity, values in parties:
        ent = entity if isinstance(entity, np.ndarray) else np.full(n, entity, dtype=object)
        keys = (
            pd.Series(ent, dtype=object)
            .map({"person_id": "身分證號=", "plate": "車牌=", "account": "帳號=", "phone": "電話="})
            .fillna("")
            .to_numpy(dtype=object)
        )
        item = np.where(values == "", "", keys + values)
        join = np.where((text != "") & (item != ""), sep, "")
        text = text + join + item
    return object_frame(
        {
            "case_no": case_no,
            "category": category,
            "opened": opened,
            "closed": closed,
            "officers": handlers,
            "parties": text,
        }
    )


def _case_lookups(
    rng: np.random.Generator,
    ev: pd.DataFrame,
    officers: pd.DataFrame,
    counters: Counters,
    *,
    messy: bool,
) -> tuple[list[pd.DataFrame], pd.DataFrame, pd.DataFrame]:
    """Group an officer's case events into cases and look up their parties."""
    n = len(ev)
    officer = ev["officer"].to_numpy()
    new = rng.random(n) < 0.2
    if n:
        new[np.r_[True, officer[1:] != officer[:-1]]] = True
    case_id = np.cumsum(new) - 1
    n_cases = int(case_id[-1]) + 1 if n else 0
    category = _choice(rng, CATEGORIES, CATEGORY_P, n_cases)
    max_parties = (
        pd.Series(category).map({c: len(e) for c, e in CATEGORY_ENTITIES.items()}).to_numpy()
    )
    n_parties = (
        np.minimum(rng.integers(1, 5, n_cases), max_parties) if n_cases else np.zeros(0, dtype=int)
    )
    slots: list[tuple[np.ndarray, np.ndarray]] = []
    for slot_no in range(4):
        mapped = pd.Series(category).map(
            lambda c, s=slot_no: CATEGORY_ENTITIES[c][s] if s < len(CATEGORY_ENTITIES[c]) else ""
        )
        ent = np.where(slot_no < n_parties, mapped.to_numpy(dtype=object), "").astype(object)
        values = np.full(n_cases, "", dtype=object)
        for kind in ("person_id", "plate", "account", "phone"):
            sel = np.flatnonzero(ent == kind)
            values[sel] = counters.fresh(kind, len(sel))
        slots.append((ent, values))
    rank = _ranks(np.bincount(case_id, minlength=n_cases)) if n else np.zeros(0, dtype=int)
    slot = rank % np.maximum(n_parties[case_id], 1) if n else rank
    ent_mat = np.stack([s[0] for s in slots], axis=1) if n_cases else np.zeros((0, 4), dtype=object)
    val_mat = np.stack([s[1] for s in slots], axis=1) if n_cases else np.zeros((0, 4), dtype=object)
    entity = ent_mat[case_id, slot] if n else np.zeros(0, dtype=object)
    subject = val_mat[case_id, slot] if n else np.zeros(0, dtype=object)
    op = _choice(rng, PERSON_OPS, PERSON_OPS_P, n)
    op = np.where(
        entity == "person_id",
        op,
        pd.Series(entity, dtype=object).map(ENTITY_OP).to_numpy(dtype=object),
    )
    cat = category[case_id] if n else np.zeros(0, dtype=object)
    op = np.where((cat == "失蹤") & (rng.random(n) < 0.6), "失蹤人口查詢", op)
    op = np.where(cat == "通緝", "通緝資料查詢", op)
    purpose = np.select(
        [cat == "失蹤", cat == "通緝"], ["協尋失蹤人口", "通緝查捕"], "偵查犯罪"
    ).astype(object)
    time = ev["time"].to_numpy()
    first = pd.Series(time).groupby(case_id).min().to_numpy() if n else np.zeros(0, dtype=np.int64)
    last = pd.Series(time).groupby(case_id).max().to_numpy() if n else np.zeros(0, dtype=np.int64)
    opened = _minute(first - rng.integers(600, 30 * 3600, n_cases))
    closed = np.where(
        rng.random(n_cases) < 0.7, _minute(last + rng.integers(3600, 20 * 86400, n_cases)), -1
    )
    case_no = counters.case_numbers(opened)
    use = rng.random(n)
    case_col = np.where(use < 0.3, case_no[case_id] if n else "", "").astype(object)
    in_purpose = (use >= 0.3) & (use < 0.4) & (purpose == "偵查犯罪")
    purpose = np.where(
        in_purpose,
        "偵查犯罪 案號" + (case_no[case_id] if n else np.zeros(0, dtype=object)),
        purpose,
    )
    cond = typed(rng, entity, subject, messy=messy)
    # Some lookups name two parties of the case at once (``身分證號=...；車號:...``).
    both = (n_parties[case_id] >= 2) & (rng.random(n) < 0.08) if n else np.zeros(0, dtype=bool)
    if both.any():
        other = (slot[both] + 1) % n_parties[case_id][both]
        second = typed(
            rng, ent_mat[case_id[both], other], val_mat[case_id[both], other], messy=messy
        )
        seps = np.array(LIST_SEPARATORS, dtype=object)[
            rng.integers(0, len(LIST_SEPARATORS), len(second))
        ]
        cond[both] = cond[both] + (seps if messy else ";") + second
    frame = _frame(
        _base(ev, officers, np.zeros(n, dtype=np.int64)),
        op.astype(object),
        cond,
        purpose.astype(object),
        subject,
        case_col,
    )
    handler_officer = (
        officer[np.searchsorted(case_id, np.arange(n_cases))] if n else np.zeros(0, dtype=int)
    )
    handlers = (
        officers.loc[handler_officer, "officer_id"].to_numpy() if n else np.zeros(0, dtype=object)
    )
    unit = officers["unit_no"].to_numpy()
    partner = (handler_officer + 1) % len(officers)
    co = (rng.random(n_cases) < 0.25) & (unit[partner] == unit[handler_officer])
    handlers = np.where(
        co, handlers + ";" + officers["officer_id"].to_numpy()[partner], handlers
    ).astype(object)
    rows = _cases_frame(rng, case_no, category, opened, closed, handlers, slots, messy)
    return [frame], rows, _case_identities(rng, slots)


LINKS = {
    "plate": ("車牌=", "車主", "車籍資料"),
    "phone": ("電話=", "門號申請人", "通聯調閱"),
    "account": ("帳號=", "帳戶持有人", "金融帳戶調閱"),
}


def _case_identities(
    rng: np.random.Generator, slots: Sequence[tuple[np.ndarray, np.ndarray]]
) -> pd.DataFrame:
    """Return registry extracts for half of the cases.

    The first party owns the case's car, phone and account.
    """
    frames = []
    if not slots:
        return object_frame(columns=["identifier", "belongs_to", "link", "source"])
    owner_entity, owner = slots[0]
    asked = (owner_entity == "person_id") & (rng.random(len(owner)) < 0.5)
    for entity, values in slots[1:]:
        for kind, (key, link, source) in LINKS.items():
            sel = asked & (entity == kind)
            frames.append(
                object_frame(
                    {
                        "identifier": key + values[sel],
                        "belongs_to": "身分證號=" + owner[sel],
                        "link": link,
                        "source": source,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)
