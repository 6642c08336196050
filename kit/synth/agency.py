"""The synthetic agency: units, officers, their relations, vehicles and devices.

Everything here is small by construction (thousands of rows at most), so plain
pandas frames are used.  Identifier index ranges are disjoint per population
(see :mod:`kit.synth.idgen`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kit.synth import idgen
from kit.synth.frames import frame as object_frame
from kit.synth.timefmt import local_seconds

CITY = "臺中市政府警察局"
PRECINCTS = (
    "第一分局",
    "第二分局",
    "第三分局",
    "第四分局",
    "第五分局",
    "第六分局",
    "豐原分局",
    "大甲分局",
    "清水分局",
    "烏日分局",
    "霧峰分局",
    "太平分局",
    "東勢分局",
    "和平分局",
    "大雅分局",
    "后里分局",
    "龍井分局",
    "大里分局",
)
PLACES = (
    "西屯",
    "繼中",
    "民權",
    "復興",
    "大墩",
    "南屯",
    "永福",
    "文心",
    "何厝",
    "福安",
    "四平",
    "東山",
    "松安",
    "翁子",
    "日南",
    "梧棲",
    "沙鹿",
    "大肚",
    "新平",
    "石岡",
    "新社",
    "神岡",
    "潭子",
    "外埔",
    "大安",
    "谷關",
    "梨山",
    "勝利",
    "南興",
    "公益",
    "黎明",
    "協和",
    "水湳",
    "漢口",
    "北屯",
    "四張犁",
    "大坑",
    "軍功",
    "舊社",
    "十甲",
    "頭家",
    "東興",
    "樹義",
    "長億",
    "光隆",
    "塗城",
    "內新",
    "仁化",
    "草湖",
    "國光",
    "吉峰",
    "烏溪",
    "筏子",
    "旱溪",
)

# Index ranges of the identifier generators (disjoint populations).
OFFICER_BASE = 0
RELATION_BASE = 100_000
PLANTED_BASE = 1_000_000
VEHICLE_BASE = 50_000
SUBJECT_BASE = 10_000_000


@dataclass(frozen=True)
class Agency:
    """The agency's small tables and per-officer arrays.

    Attributes
    ----------
    units : pandas.DataFrame
        ``unit`` (canonical 臺 spelling), ``parent``, ``level``, ``precinct``
        (index), ``kind`` (``station`` or ``detective``), ``subnet``.
    officers : pandas.DataFrame
        One row per officer (index = officer number): ``officer_id``, ``name``,
        ``person_id``, ``unit``, ``unit_no``, ``title``, ``phone``,
        ``phone2``, ``start_date`` and ``end_date`` (local seconds or -1),
        ``ip``, ``device``, ``device_ip``, ``active`` (counted in --officers).
    relations : pandas.DataFrame
        ``officer_id``, ``relation``, ``identifier`` (raw text), ``value``
        (canonical), ``entity``, ``name``.
    vehicles : pandas.DataFrame
        ``plate``, ``category``, ``unit``.
    salt : int
        Salt of the identifier permutations for this dataset.

    """

    units: pd.DataFrame
    officers: pd.DataFrame
    relations: pd.DataFrame
    vehicles: pd.DataFrame
    salt: int


def rng_for(seed: int, *keys: int) -> np.random.Generator:
    """Return the random generator of one part of the dataset (order-independent)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=keys))


def _units(count: int, rng: np.random.Generator) -> pd.DataFrame:
    n_precincts = max(1, -(-count // 6))
    places = list(PLACES)
    order = rng.permutation(len(places))
    rows = []
    for u in range(count):
        p = u % n_precincts
        precinct = PRECINCTS[p % len(PRECINCTS)]
        if p >= len(PRECINCTS):
            precinct = f"第{p + 1}分局"
        detective = u >= n_precincts and (u // n_precincts) % 5 == 4
        if detective:
            name, level, kind = f"{CITY}{precinct}偵查隊", "隊", "detective"
        else:
            place = places[order[u % len(places)]]
            if u >= len(places):
                place = f"{place}{u // len(places) + 1}"
            suffix = "分駐所" if u % 9 == 7 else "派出所"
            name, level, kind = f"{CITY}{precinct}{place}{suffix}", suffix, "station"
        rows.append((name, f"{CITY}{precinct}", level, p, kind, f"10.{10 + p}.{u % 250}"))
    frame = pd.DataFrame(rows, columns=["unit", "parent", "level", "precinct", "kind", "subnet"])
    if frame["unit"].duplicated().any():
        frame["unit"] = frame["unit"] + np.where(frame["unit"].duplicated(), "二", "")
    return frame


def build_agency(seed: int, officers: int, start: int, end: int) -> Agency:
    """Build the agency of a dataset.

    Parameters
    ----------
    seed : int
        Dataset seed.
    officers : int
        Number of officers in service at the start of the period.
    start, end : int
        The period, as local seconds ``[start, end)``.

    Returns
    -------
    Agency
        Units, officers (plus one retired colleague, not counted), relations,
        police vehicles.

    """
    rng = rng_for(seed, 1)
    salt = int(rng.integers(1, 2**31))
    n_units = max(2, round(officers / 22))
    units = _units(n_units, rng)
    total = officers + 1  # the last one retired before the period (case 4)
    unit_no = np.sort(
        np.concatenate([np.arange(n_units), rng.integers(0, n_units, total - n_units)])
    )
    unit_no = unit_no[:total]
    # The retired colleague belongs to the first unit.
    unit_no[-1] = 0
    rank = pd.Series(unit_no).groupby(unit_no).cumcount().to_numpy()
    kind = units["kind"].to_numpy()[unit_no]
    title = np.where(
        kind == "detective",
        np.where(rank < 2, "小隊長", "偵查佐"),
        np.select([rank == 0, rank == 1, rank < 4], ["所長", "副所長", "巡佐"], "警員"),
    )
    title[-1] = "巡佐"
    idx = np.arange(total)
    number = 10000 + (idx * 7919 + salt) % 89999
    officer_id = np.char.add("TC", np.char.zfill(number.astype(str), 5)).astype(object)
    person_id = idgen.person_ids(OFFICER_BASE + idx, salt=salt)
    phone = idgen.phones(OFFICER_BASE + idx, salt=salt)
    phone2 = np.where(
        rng.random(total) < 0.1, idgen.phones(OFFICER_BASE + 50_000 + idx, salt=salt), ""
    )
    years = rng.integers(1996, 2022, total)
    start_date = np.array(
        [
            local_seconds(int(y), int(m), int(d))
            for y, m, d in zip(
                years, rng.integers(1, 13, total), rng.integers(1, 28, total), strict=True
            )
        ],
        dtype=np.int64,
    )
    end_date = np.full(total, -1, dtype=np.int64)
    days = (end - start) // 86400
    leavers = rng.choice(np.arange(officers), size=max(1, officers // 40), replace=False)
    end_date[leavers] = start + 86400 * rng.integers(
        days // 3, max(days // 3 + 1, days - 5), len(leavers)
    )
    end_date[-1] = start - 86400 * int(rng.integers(200, 700))
    subnet = units["subnet"].to_numpy()[unit_no]
    ip = np.char.add(np.char.add(subnet.astype(str), "."), (20 + rank).astype(str)).astype(object)
    device = np.char.add(
        "M-", np.char.zfill((1000 + (idx * 37 + salt) % 8999).astype(str), 4)
    ).astype(object)
    device_ip = np.array(
        [f"172.{20 + i // 250}.{10 + unit_no[i] % 200}.{i % 250 + 2}" for i in idx], dtype=object
    )
    officer_frame = object_frame(
        {
            "officer_id": officer_id,
            "name": idgen.names(rng, total, rare_share=0.08),
            "person_id": person_id.astype(object),
            "unit": units["unit"].to_numpy()[unit_no],
            "unit_no": unit_no,
            "title": title.astype(object),
            "phone": phone.astype(object),
            "phone2": phone2.astype(object),
            "start_date": start_date,
            "end_date": end_date,
            "ip": ip,
            "device": device,
            "device_ip": device_ip,
            "active": idx < officers,
        }
    )
    relations = _relations(officer_frame, rng, salt)
    vehicles = _vehicles(units, rng, salt)
    return Agency(units, officer_frame, relations, vehicles, salt)


RELATION_KINDS = ("配偶", "前配偶", "父母", "子女", "兄弟姊妹", "同居人", "親屬", "友人", "同事")


def _relations(officers: pd.DataFrame, rng: np.random.Generator, salt: int) -> pd.DataFrame:
    """Spouses, ex-spouses, parents, children and siblings of each officer."""
    n = len(officers)
    per = [
        ("配偶", 0.6),
        ("前配偶", 0.12),
        ("父母", 0.9),
        ("父母", 0.6),
        ("子女", 0.5),
        ("兄弟姊妹", 0.4),
        ("同居人", 0.05),
        ("親屬", 0.2),
    ]
    officer_col, relation_col, slot_col = [], [], []
    for slot, (relation, share) in enumerate(per):
        chosen = np.flatnonzero(rng.random(n) < share)
        officer_col.append(chosen)
        relation_col.append(np.full(len(chosen), relation, dtype=object))
        slot_col.append(np.full(len(chosen), slot))
    off = np.concatenate(officer_col)
    rel = np.concatenate(relation_col)
    slots = np.concatenate(slot_col)
    index = RELATION_BASE + off * 16 + slots
    person = idgen.person_ids(index, salt=salt)
    phone = idgen.phones(index, salt=salt)
    plate = idgen.plates(RELATION_BASE + index, salt=salt)
    choice = rng.random(len(off))
    entity = np.select([choice < 0.55, choice < 0.8], ["person_id", "phone"], "plate")
    value = np.select([entity == "person_id", entity == "phone"], [person, phone], plate)
    keyed = rng.random(len(off)) < 0.6
    key = np.select([entity == "person_id", entity == "phone"], ["身分證號=", "電話="], "車牌=")
    raw = np.where(keyed, np.char.add(key.astype(str), value.astype(str)), value)
    frame = pd.DataFrame(
        {
            "officer_id": officers["officer_id"].to_numpy()[off],
            "relation": rel,
            "identifier": raw.astype(object),
            "value": value.astype(object),
            "entity": entity.astype(object),
            "name": idgen.names(rng, len(off), rare_share=0.05),
            "person_id": person.astype(object),
            "phone": phone.astype(object),
            "officer_no": off,
        }
    )
    return frame.sort_values(["officer_no", "relation"], kind="stable").reset_index(drop=True)


def _vehicles(units: pd.DataFrame, rng: np.random.Generator, salt: int) -> pd.DataFrame:
    rows_unit, rows_cat = [], []
    for u, unit in enumerate(units["unit"]):
        for _ in range(1 + int(rng.integers(0, 3))):
            rows_unit.append(unit)
            rows_cat.append("巡邏車")
        unmarked = (
            2 + int(rng.integers(0, 3)) if units["kind"].iloc[u] == "detective" or u % 3 == 0 else 0
        )
        for _ in range(unmarked):
            rows_unit.append(unit)
            rows_cat.append("偵防車")
        if u % 2 == 0:
            rows_unit.append(unit)
            rows_cat.append("公務車")
    plate = idgen.plates(VEHICLE_BASE + np.arange(len(rows_unit)), salt=salt)
    return pd.DataFrame({"plate": plate.astype(object), "category": rows_cat, "unit": rows_unit})
