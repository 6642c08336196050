"""Cases: an officer's case events grouped into cases whose parties are looked up."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kit.synth.conditions import LIST_SEPARATORS, typed
from kit.synth.duty import _ranks
from kit.synth.frames import frame as object_frame
from kit.synth.records import Counters, choice, lookup_base, lookup_frame, minute

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


def cases_frame(
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


def case_lookups(
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
    category = choice(rng, CATEGORIES, CATEGORY_P, n_cases)
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
    op = choice(rng, PERSON_OPS, PERSON_OPS_P, n)
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
    opened = minute(first - rng.integers(600, 30 * 3600, n_cases))
    closed = np.where(
        rng.random(n_cases) < 0.7, minute(last + rng.integers(3600, 20 * 86400, n_cases)), -1
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
    frame = lookup_frame(
        lookup_base(ev, officers, np.zeros(n, dtype=np.int64)),
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
    rows = cases_frame(rng, case_no, category, opened, closed, handlers, slots, messy)
    return [frame], rows, case_identities(rng, slots)


LINKS = {
    "plate": ("車牌=", "車主", "車籍資料"),
    "phone": ("電話=", "門號申請人", "通聯調閱"),
    "account": ("帳號=", "帳戶持有人", "金融帳戶調閱"),
}


def case_identities(
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
