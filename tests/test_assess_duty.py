"""Duty, presence, device and account flags: both sides of every boundary.

Each group of named cases is assessed in one dataset (module fixtures) to keep
the suite fast; cases use distinct officers so they cannot interfere.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_assess_helpers import OTHER_UNIT, batch, lookup, shift

# --- OFF_DUTY ---------------------------------------------------------------

OFF_DUTY_CASES: dict[str, tuple[str, str, bool]] = {
    # name: (officer, time, flagged); TC100 08:00–16:00, TC101 22:00–02:00 巡邏, TC102 休假
    "one minute inside the start": ("TC100", "2023-10-05 08:01:00", False),
    "at the start instant": ("TC100", "2023-10-05 08:00:00", False),
    "one minute before the start": ("TC100", "2023-10-05 07:59:00", True),
    "one minute before the end": ("TC100", "2023-10-05 15:59:00", False),
    "at the end instant is off duty": ("TC100", "2023-10-05 16:00:00", True),
    "one minute after the end": ("TC100", "2023-10-05 16:01:00", True),
    "across midnight before midnight": ("TC101", "2023-10-05 23:30:00", False),
    "across midnight after midnight": ("TC101", "2023-10-06 01:59:00", False),
    "across midnight at the end": ("TC101", "2023-10-06 02:00:00", True),
    "rostered leave": ("TC102", "2023-10-05 10:00:00", True),
    "no roster entry that day for the officer": ("TC103", "2023-10-05 10:00:00", True),
}
ROSTER = [
    shift("2023-10-05", "08:00", "16:00", officer="TC100"),
    shift("2023-10-05", "22:00", "02:00", "巡邏", officer="TC101"),
    shift("2023-10-05", "00:00", "24:00", "休假", officer="TC102"),
    shift("2023-10-06", "08:00", "16:00", officer="TC104"),
]


@pytest.fixture(scope="module")
def off_duty() -> dict[str, Any]:
    cases = {
        name: [lookup(time, user=officer, conditions=f"車號=OFF-{i:04d}")]
        for i, (name, (officer, time, _)) in enumerate(OFF_DUTY_CASES.items())
    }
    cases["other unit not covered"] = [
        lookup("2023-10-05 10:00:00", user="TC003", unit=OTHER_UNIT, conditions="車號=OFF-9999")
    ]
    return batch(cases, duty_roster=ROSTER)


@pytest.mark.parametrize("name", list(OFF_DUTY_CASES))
def test_off_duty(off_duty: dict[str, Any], name: str) -> None:
    got = off_duty[name][0]
    assert ("OFF_DUTY" in got["flags"]) is OFF_DUTY_CASES[name][2]
    assert "OFF_DUTY" not in got["not_checked"]


def test_roster_not_covering_the_unit_is_not_checked(off_duty: dict[str, Any]) -> None:
    got = off_duty["other unit not covered"][0]
    assert "OFF_DUTY" not in got["flags"]
    assert "OFF_DUTY" in got["not_checked"]
    assert not got["suspicious"]


def test_off_duty_evidence_names_the_shift(off_duty: dict[str, Any]) -> None:
    evidence = off_duty["__result__"][0]["assessment"].evidence
    lookup_id = off_duty["one minute after the end"][0]["lookup_id"]
    row = evidence[(evidence["lookup_id"] == lookup_id) & (evidence["code"] == "OFF_DUTY")].iloc[0]
    assert row["reason"] == "shift 08:00–16:00 (值班) ends before 16:01"
    assert row["rests_on"] == "duty_roster:<frames>:2"
    leave = off_duty["rostered leave"][0]["lookup_id"]
    reason = evidence[(evidence["lookup_id"] == leave) & (evidence["code"] == "OFF_DUTY")]["reason"]
    assert "休假" in reason.iloc[0]


# --- register: OUT_OF_STATION, DEVICE_NOT_SIGNED_OUT -------------------------

REGISTER = [
    {
        "officer_id": "TC001",
        "out_time": "2023-10-05 09:00",
        "in_time": "2023-10-05 12:00",
        "reason": "巡邏",
        "equipment": "無線電;行動電腦M-0123",
    },
    {
        "officer_id": "TC002",
        "out_time": "2023-10-05 09:00",
        "in_time": "2023-10-05 18:00",
        "reason": "巡邏",
        "equipment": "無線電",
    },
]
HANDHELD = {"operation": "M-Police-車籍資料查詢"}
REGISTER_CASES: dict[str, tuple[dict[str, str], str, str, bool]] = {
    "PC lookup while out": ({}, "2023-10-05 10:00:00", "OUT_OF_STATION", True),
    "PC lookup at the return instant": ({}, "2023-10-05 12:00:00", "OUT_OF_STATION", False),
    "PC lookup in the station": ({}, "2023-10-05 13:00:00", "OUT_OF_STATION", False),
    "handheld while device out": (HANDHELD, "2023-10-05 10:00:00", "DEVICE_NOT_SIGNED_OUT", False),
    "handheld is no OUT_OF_STATION": (HANDHELD, "2023-10-05 10:00:00", "OUT_OF_STATION", False),
    "handheld after return": (HANDHELD, "2023-10-05 12:00:00", "DEVICE_NOT_SIGNED_OUT", True),
    "named device signed out": (
        {"device": "M-0123"},
        "2023-10-05 10:01:00",
        "DEVICE_NOT_SIGNED_OUT",
        False,
    ),
    "another device named": (
        {"device": "M-0999"},
        "2023-10-05 10:02:00",
        "DEVICE_NOT_SIGNED_OUT",
        True,
    ),
    "out without a device": (
        {**HANDHELD, "user": "TC002"},
        "2023-10-05 10:00:00",
        "DEVICE_NOT_SIGNED_OUT",
        True,
    ),
}


@pytest.fixture(scope="module")
def register() -> dict[str, Any]:
    cases = {
        name: [lookup(time, conditions=f"車號=REG-{i:04d}", **fields)]
        for i, (name, (fields, time, _, _)) in enumerate(REGISTER_CASES.items())
    }
    cases["other unit not covered"] = [
        lookup(
            "2023-10-05 10:00:00",
            user="TC003",
            unit=OTHER_UNIT,
            conditions="車號=REG-9999",
            **HANDHELD,
        )
    ]
    return batch(cases, register=REGISTER)


@pytest.mark.parametrize("name", list(REGISTER_CASES))
def test_register_flags(register: dict[str, Any], name: str) -> None:
    _, _, flag, expected = REGISTER_CASES[name]
    assert (flag in register[name][0]["flags"]) is expected


def test_register_not_covering_the_unit_is_not_checked(register: dict[str, Any]) -> None:
    got = register["other unit not covered"][0]
    assert "DEVICE_NOT_SIGNED_OUT" in got["not_checked"]
    assert "DEVICE_NOT_SIGNED_OUT" not in got["flags"]


# --- accounts: AFTER_SEPARATION, ACCOUNT_MISMATCH, CROSS_UNIT, CONCURRENT_IP, ODD_HOURS --

ACCOUNT_CASES: dict[str, tuple[list[dict[str, Any]], str, bool]] = {
    "separation: on the end date": (
        [lookup("2023-09-30 23:59:00", user="TC009")],
        "AFTER_SEPARATION",
        False,
    ),
    "separation: the day after": (
        [lookup("2023-10-01 00:01:00", user="TC009")],
        "AFTER_SEPARATION",
        True,
    ),
    "separation: the account, not the querier": (
        [lookup("2023-10-05 10:00:00", user="TC100", actual_user="TC009")],
        "AFTER_SEPARATION",
        False,
    ),
    "own account": ([lookup("2023-10-05 10:00:00", user="TC101")], "ACCOUNT_MISMATCH", False),
    "proxy": (
        [lookup("2023-10-05 10:00:00", user="TC102", actual_user="TC103")],
        "ACCOUNT_MISMATCH",
        True,
    ),
    "same unit": (
        [lookup("2023-10-05 10:00:00", user="TC104", actual_user="TC105", actual_unit=None)],
        "CROSS_UNIT",
        False,
    ),
    "cross unit": (
        [lookup("2023-10-05 10:00:00", user="TC106", actual_user="TC003", actual_unit=OTHER_UNIT)],
        "CROSS_UNIT",
        True,
    ),
    "IPs 10 minutes apart": (
        [
            lookup("2023-10-05 10:00:00", user="TC107"),
            lookup("2023-10-05 10:10:00", user="TC107", ip="10.0.0.2"),
        ],
        "CONCURRENT_IP",
        True,
    ),
    "IPs 10 min 1 s apart": (
        [
            lookup("2023-10-05 10:00:00", user="TC108"),
            lookup("2023-10-05 10:10:01", user="TC108", ip="10.0.0.2"),
        ],
        "CONCURRENT_IP",
        False,
    ),
    "same IP": (
        [
            lookup("2023-10-05 10:00:00", user="TC109"),
            lookup("2023-10-05 10:01:00", user="TC109", conditions="車號=ZZZ-0001"),
        ],
        "CONCURRENT_IP",
        False,
    ),
    "IPs 15 minutes apart": (
        [
            lookup("2023-10-05 10:00:00", user="TC110"),
            lookup("2023-10-05 10:15:00", user="TC110", ip="10.0.0.2"),
        ],
        "CONCURRENT_IP",
        False,
    ),
    "odd hours: midnight": ([lookup("2023-10-05 00:00:00", user="TC111")], "ODD_HOURS", True),
    "odd hours: 05:59:59": ([lookup("2023-10-05 05:59:59", user="TC112")], "ODD_HOURS", True),
    "odd hours: 06:00": ([lookup("2023-10-05 06:00:00", user="TC113")], "ODD_HOURS", False),
}


def _account_cases() -> dict[str, list[dict[str, Any]]]:
    return {name: rows for name, (rows, _, _) in ACCOUNT_CASES.items()}


@pytest.fixture(scope="module")
def accounts() -> dict[str, Any]:
    return batch(_account_cases())


@pytest.mark.parametrize("name", list(ACCOUNT_CASES))
def test_account_flags(accounts: dict[str, Any], name: str) -> None:
    _, flag, expected = ACCOUNT_CASES[name]
    for got in accounts[name]:
        assert (flag in got["flags"]) is expected


def test_after_separation_is_suspicious(accounts: dict[str, Any]) -> None:
    assert accounts["separation: the day after"][0]["suspicious"]
    assert not accounts["odd hours: midnight"][0]["suspicious"]  # low on its own


def test_concurrent_ip_threshold_from_config() -> None:
    got = batch(_account_cases(), config={"rules": {"CONCURRENT_IP": {"minutes": 20}}})
    assert all("CONCURRENT_IP" in g["flags"] for g in got["IPs 15 minutes apart"])
