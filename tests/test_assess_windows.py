"""Window flags: BULK_ACCOUNTS, PROFILING, REPEAT_SUBJECT, VOLUME_SPIKE."""

from __future__ import annotations

from typing import Any

import pytest
from test_assess_helpers import CITIZEN, OTHER_UNIT, batch, lookup, shift

OP_165 = "165反詐騙-警示帳戶查詢"


def accounts(officer: str, minutes: list[int], base: int) -> list[dict[str, Any]]:
    """165 lookups of distinct accounts at 10:00 + each minute offset."""
    return [
        lookup(
            f"2023-10-05 {10 + m // 60:02d}:{m % 60:02d}:00",
            user=officer,
            operation=OP_165,
            conditions=f"帳號=822-{base + i:013d}",
            purpose="偵查犯罪",
        )
        for i, m in enumerate(minutes)
    ]


def systems(officer: str, ops: list[tuple[int, str]], subject: str) -> list[dict[str, Any]]:
    return [
        lookup(f"2023-10-05 10:{m:02d}:00", user=officer, operation=op, conditions=subject)
        for m, op in ops
    ]


def days(officer: str, dates: list[str], subject: str) -> list[dict[str, Any]]:
    return [lookup(f"{d} 10:00:00", user=officer, conditions=subject) for d in dates]


HOUSE, DRIVER, BORDER, PHOTO = (
    "戶役政-個人戶籍資料查詢",
    "駕籍資料查詢",
    "入出境資料查詢",
    "戶役政-相片影像查詢",
)
CASES: dict[str, tuple[list[dict[str, Any]], str, bool]] = {
    "10 accounts within an hour": (
        accounts("TC100", [0, 6, 12, 18, 24, 30, 36, 42, 48, 60], 0),
        "BULK_ACCOUNTS",
        True,
    ),
    "9 accounts within an hour": (
        accounts("TC101", [0, 6, 12, 18, 24, 30, 36, 42, 48], 100),
        "BULK_ACCOUNTS",
        False,
    ),
    "10 accounts over 61 minutes": (
        accounts("TC102", [0, 6, 12, 18, 24, 30, 36, 42, 48, 61], 200),
        "BULK_ACCOUNTS",
        False,
    ),
    "10 accounts, one strongly explained": (
        accounts("TC103", [0, 6, 12, 18, 24, 30, 36, 42, 48, 54], 300),
        "BULK_ACCOUNTS",
        False,
    ),
    "3 systems within 30 minutes": (
        systems("TC110", [(0, HOUSE), (10, DRIVER), (30, BORDER)], f"身分證號={CITIZEN}"),
        "PROFILING",
        True,
    ),
    "2 systems": (
        systems("TC111", [(0, HOUSE), (10, DRIVER)], f"身分證號={CITIZEN}"),
        "PROFILING",
        False,
    ),
    "3 systems over 31 minutes": (
        systems("TC112", [(0, HOUSE), (10, DRIVER), (31, BORDER)], f"身分證號={CITIZEN}"),
        "PROFILING",
        False,
    ),
    "two 戶役政 operations are one system": (
        systems("TC113", [(0, HOUSE), (5, PHOTO), (10, DRIVER)], f"身分證號={CITIZEN}"),
        "PROFILING",
        False,
    ),
    "3 systems through identities (her car)": (
        [
            *systems("TC114", [(0, HOUSE), (10, DRIVER)], f"身分證號={CITIZEN}"),
            lookup("2023-10-05 10:20:00", user="TC114", conditions="車號=CIT-0001"),
        ],
        "PROFILING",
        True,
    ),
    "same subject on 3 days": (
        days("TC120", ["2023-10-01", "2023-10-10", "2023-10-20"], "車號=REP-0001"),
        "REPEAT_SUBJECT",
        True,
    ),
    "same subject on 2 days": (
        days("TC121", ["2023-10-01", "2023-10-10"], "車號=REP-0002"),
        "REPEAT_SUBJECT",
        False,
    ),
    "3 days, strongly explained": (
        days("TC122", ["2023-10-01", "2023-10-10", "2023-10-20"], "車號=REP-0003"),
        "REPEAT_SUBJECT",
        False,
    ),
    "3 days spanning 31 days": (
        days("TC123", ["2023-10-01", "2023-10-15", "2023-11-01"], "車號=REP-0004"),
        "REPEAT_SUBJECT",
        False,
    ),
    "3 days spanning 30 days": (
        days("TC124", ["2023-10-01", "2023-10-15", "2023-10-31"], "車號=REP-0005"),
        "REPEAT_SUBJECT",
        True,
    ),
}
RECORDS = {
    "cases": [
        {
            "case_no": "K1",
            "opened": "2023-10-05 08:00",
            "officers": "TC103",
            "parties": "帳號=822-0000000000304",
        },
        {
            "case_no": "K2",
            "opened": "2023-09-25 08:00",
            "officers": "TC122",
            "parties": "車牌=REP-0003",
        },
    ],
    "identities": [{"identifier": "車牌=CIT-0001", "belongs_to": f"身分證號={CITIZEN}"}],
}


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    return batch({name: rows for name, (rows, _, _) in CASES.items()}, **RECORDS)


@pytest.mark.parametrize("name", list(CASES))
def test_window_rule(results: dict[str, Any], name: str) -> None:
    _, code, expected = CASES[name]
    got = [code in g["flags"] for g in results[name]]
    assert all(got) if expected else not any(got), got


def test_bulk_is_high_and_marks_every_lookup(results: dict[str, Any]) -> None:
    rows = results["10 accounts within an hour"]
    assert len(rows) == 10 and all(r["suspicious"] for r in rows)


# --- VOLUME_SPIKE --------------------------------------------------------------

PEERS = ["TC130", "TC131", "TC132", "TC133", "TC134"]


@pytest.fixture(scope="module")
def volume() -> dict[str, Any]:
    roster, base = [], []
    for day in range(1, 31):
        date = f"2023-09-{day:02d}"
        for k, officer in enumerate(PEERS):
            roster.append(shift(date, "08:00", "16:00", officer=officer))
            for j in range(2):
                base.append(
                    lookup(
                        f"{date} {9 + j}:{k:02d}:00",
                        user=officer,
                        conditions=f"車號=V{k}{day:02d}-{j}",
                    )
                )
    roster.append(shift("2023-10-01", "08:00", "16:00", officer="TC130"))
    roster.append(shift("2023-10-01", "08:00", "16:00", officer="TC131"))
    spike = [
        lookup(f"2023-10-01 10:{m:02d}:00", user="TC130", conditions=f"車號=SPK-{m:04d}")
        for m in range(10)
    ]
    normal = [lookup("2023-10-01 10:00:00", user="TC131", conditions="車號=NRM-0001")]
    lonely = [
        lookup("2023-10-01 10:00:00", user="TC003", unit=OTHER_UNIT, conditions="車號=LON-0001")
    ]
    roster.append({**shift("2023-10-01", "08:00", "16:00", officer="TC003"), "unit": OTHER_UNIT})
    return batch(
        {"base": base, "spike": spike, "normal": normal, "lonely": lonely}, duty_roster=roster
    )


def test_volume_spike_flags_every_lookup_of_the_day(volume: dict[str, Any]) -> None:
    assert all("VOLUME_SPIKE" in g["flags"] for g in volume["spike"])
    assert not any("VOLUME_SPIKE" in g["flags"] for g in volume["normal"])
    assert not any("VOLUME_SPIKE" in g["flags"] for g in volume["base"])


def test_volume_spike_with_few_officer_days_is_not_checked(volume: dict[str, Any]) -> None:
    got = volume["lonely"][0]
    assert "VOLUME_SPIKE" in got["not_checked"] and "VOLUME_SPIKE" not in got["flags"]
    first_day = volume["base"][0]  # 2023-09-01: no previous days at all
    assert "VOLUME_SPIKE" in first_day["not_checked"]


def test_volume_indicator_tables(volume: dict[str, Any]) -> None:
    indicators = volume["__result__"][0]["assessment"].indicators
    top = indicators["high_volume_accounts"].iloc[0]
    assert top["officer_id"] in PEERS
    assert (
        indicators["high_volume_accounts"].set_index("officer_id").loc["TC130", "max_day_z"] > 3.5
    )
    ranking = indicators["unit_volume_ranking"]
    assert list(ranking["rank"]) == list(range(1, len(ranking) + 1))
    assert ranking["lookups"].is_monotonic_decreasing


def test_volume_spike_judges_only_the_lookups_asked_and_survives_an_empty_baseline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a wide context only the judged lookups are looked up in the querier-day table.

    A table with none of their querier-days (no baseline at all) flags nothing
    and leaves every judged lookup not checked, the others untouched.
    """
    import numpy as np
    from test_assess_helpers import dataset

    import kit.assess.baseline
    from kit.assess.config import load_config
    from kit.assess.context import build_context
    from kit.assess.flags_window import volume_spike

    lookups = [lookup(f"2023-10-0{d} 10:00:00") for d in range(1, 5)]
    ctx = build_context(dataset(lookups), load_config(None))
    judged = np.array([False, True, True, False])
    ctx.cache["judged"] = judged
    real = kit.assess.baseline.querier_day_z
    monkeypatch.setattr(
        kit.assess.baseline, "querier_day_z", lambda c, **kw: real(c, **kw).iloc[:0]
    )
    result = volume_spike(ctx)
    assert result.hits.empty
    assert list(result.not_checked) == list(judged)
