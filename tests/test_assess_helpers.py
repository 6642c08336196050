"""Small agencies built in code for the detection tests (Dataset.from_frames)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from kit.assess import Assessment, assess
from kit.dataset import Dataset

UNIT = "台中市政府警察局第一分局甲派出所"
OTHER_UNIT = "台中市政府警察局第二分局乙派出所"
SELF_ID = "A123456789"  # TC001's own national ID
EX_WIFE = "B223456782"
CITIZEN = "C135792461"
TARGET = "D287654328"
WANTED = "E111111117"

EXTRA = [f"TC{i}" for i in range(100, 160)]
"""Interchangeable officers of UNIT, one per independent test case."""

OFFICERS = pd.DataFrame(
    {
        "officer_id": ["TC001", "TC002", "TC003", "TC009", *EXTRA],
        "name": ["王大明", "李小華", "陳志強", "林退休", *[f"員警{i}" for i in range(len(EXTRA))]],
        "person_id": [SELF_ID, "F222222222", "", "", *[""] * len(EXTRA)],
        "unit": [UNIT, UNIT, OTHER_UNIT, UNIT, *[UNIT] * len(EXTRA)],
        "phone": [
            "0911000001",
            "0911000002",
            "0911000003",
            "0911000009",
            *[f"0911100{i}" for i in range(100, 160)],
        ],
        "end_date": ["", "", "", "2023-09-30", *[""] * len(EXTRA)],
    }
)


def lookup(time: str, **fields: Any) -> dict[str, Any]:
    """One query-log row with sensible defaults (TC001, own account, a plate)."""
    row = {
        "time": time,
        "unit": UNIT,
        "user": "TC001",
        "ip": "10.0.0.1",
        "operation": "車籍資料查詢",
        "conditions": "車號=ABC-1234",
        "purpose": "偵查犯罪",
    }
    row.update(fields)
    return row


def shift(
    date: str, start: str, end: str, duty: str = "值班", officer: str = "TC001"
) -> dict[str, str]:
    """One long-form roster row."""
    return {
        "date": date,
        "officer_id": officer,
        "unit": UNIT,
        "start": start,
        "end": end,
        "duty": duty,
    }


def dataset(lookups: list[dict[str, Any]], **kinds: Any) -> Dataset:
    """Build a dataset: the officers above, the lookups given, other kinds as lists of dicts."""
    frames = {k: pd.DataFrame(v) for k, v in kinds.items()}
    frames.setdefault("officers", OFFICERS)
    return Dataset.from_frames(query_log=pd.DataFrame(lookups), **frames)


def run(lookups: list[dict[str, Any]], config: Any = None, **kinds: Any) -> Assessment:
    """Assess a small dataset."""
    return assess(dataset(lookups, **kinds), config=config)


def codes(result: Assessment, column: str = "flags") -> list[set[str]]:
    """The codes of a column per lookup, in time order of the input."""
    frame = result.lookups.sort_values(["time", "source_line"], kind="stable")
    return [
        set(filter(None, str(v).split(";"))) if isinstance(v, str) else set() for v in frame[column]
    ]


def by_line(result: Assessment, column: str = "flags") -> dict[int, set[str]]:
    """Codes per input row (0-based position of the lookup in the list given)."""
    out: dict[int, set[str]] = {}
    for line, value in zip(result.lookups["source_line"], result.lookups[column], strict=True):
        out[int(line) - 2] = (
            set(filter(None, value.split(";"))) if isinstance(value, str) else set()
        )
    return out


def batch(
    groups: dict[str, list[dict[str, Any]]], /, config: Any = None, **kinds: Any
) -> dict[str, list[dict[str, Any]]]:
    """Assess many independent cases in one dataset (fast): name → one result per row given.

    Each result is ``{"flags", "explanations", "not_checked": set, "suspicious": bool}``.
    Cases must not interfere (use distinct officers, accounts or subjects).
    """
    rows: list[dict[str, Any]] = []
    owner: list[tuple[str, int]] = []
    for name, case_rows in groups.items():
        for i, row in enumerate(case_rows):
            rows.append(row)
            owner.append((name, i))
    result = run(rows, config=config, **kinds)
    per_line = {
        int(line) - 2: rec
        for line, rec in zip(
            result.lookups["source_line"], result.lookups.to_dict("records"), strict=True
        )
    }
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in groups}
    for pos, (name, _) in enumerate(owner):
        rec = per_line[pos]
        out[name].append(
            {
                "flags": set(filter(None, str(rec["flags"]).split(";"))),
                "explanations": set(filter(None, str(rec["explanations"]).split(";"))),
                "not_checked": set(filter(None, str(rec["not_checked"]).split(";"))),
                "suspicious": bool(rec["suspicious"]),
                "lookup_id": rec["lookup_id"],
            }
        )
    out["__result__"] = [{"assessment": result}]
    return out
