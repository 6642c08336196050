"""Explanations and the subject flags that rest on the same records (cases, tickets, work log)."""

from __future__ import annotations

from typing import Any

import pytest
from test_assess_helpers import CITIZEN, EX_WIFE, SELF_ID, batch, lookup, shift

# Each case: (rows, column, code, expected) — the code must (not) be in the column of every row.
CASES: dict[str, tuple[list[dict[str, Any]], str, str, bool]] = {
    # EXPL_CASE: case K1 (TC100) opened 2023-10-10 10:00, closed 2023-10-20 10:00, party CAS-0001
    "case: 1 day before opening": (
        [lookup("2023-10-09 10:00:00", user="TC100", conditions="車號=CAS-0001")],
        "explanations",
        "EXPL_CASE",
        True,
    ),
    "case: 1 day 1 minute before opening": (
        [lookup("2023-10-09 09:59:00", user="TC100", conditions="車號=CAS-0001")],
        "explanations",
        "EXPL_CASE",
        False,
    ),
    "case: 30 days after closing": (
        [lookup("2023-11-19 10:00:00", user="TC100", conditions="車號=CAS-0001")],
        "explanations",
        "EXPL_CASE",
        True,
    ),
    "case: 30 days 1 minute after closing": (
        [lookup("2023-11-19 10:01:00", user="TC100", conditions="車號=CAS-0001")],
        "explanations",
        "EXPL_CASE",
        False,
    ),
    "case: another officer's case": (
        [lookup("2023-10-12 10:00:00", user="TC101", conditions="車號=CAS-0001")],
        "explanations",
        "EXPL_CASE",
        False,
    ),
    # case K2 opened 2023-01-01 10:00, unclosed: 180 days → 2023-06-30 10:00
    "case: unclosed, 180 days after opening": (
        [lookup("2023-06-30 10:00:00", user="TC102", conditions="車號=CAS-0002")],
        "explanations",
        "EXPL_CASE",
        True,
    ),
    "case: unclosed, 180 days 1 minute after": (
        [lookup("2023-06-30 10:01:00", user="TC102", conditions="車號=CAS-0002")],
        "explanations",
        "EXPL_CASE",
        False,
    ),
    "case: a person party explains her car (identities)": (
        [lookup("2023-10-12 10:00:00", user="TC103", conditions="車號=CIT-0001")],
        "explanations",
        "EXPL_CASE",
        True,
    ),
    "case number of the case with the subject": (
        [
            lookup(
                "2023-10-12 10:00:00",
                user="TC100",
                conditions="車號=CAS-0001",
                purpose="偵查犯罪 案號K1",
            )
        ],
        "explanations",
        "EXPL_CASE_NO",
        True,
    ),
    "case number: no mismatch when right": (
        [
            lookup(
                "2023-10-12 10:01:00",
                user="TC100",
                conditions="車號=CAS-0001",
                purpose="偵查犯罪 案號K1",
            )
        ],
        "flags",
        "CASE_NO_MISMATCH",
        False,
    ),
    "case number that does not exist": (
        [lookup("2023-10-12 10:00:00", user="TC104", conditions="車號=CAS-0009", case_no="K404")],
        "flags",
        "CASE_NO_MISMATCH",
        True,
    ),
    "case number of a case without the subject": (
        [
            lookup(
                "2023-10-12 10:00:00",
                user="TC100",
                conditions="車號=CAS-0008",
                purpose="偵查犯罪 案號K1",
            )
        ],
        "flags",
        "CASE_NO_MISMATCH",
        True,
    ),
    # tickets: TC110 ticketed TIK-0001 at 2023-10-05 12:00
    "ticket 119 minutes away": (
        [lookup("2023-10-05 10:01:00", user="TC110", conditions="車號=TIK-0001")],
        "explanations",
        "EXPL_TICKET",
        True,
    ),
    "ticket 120 minutes away": (
        [lookup("2023-10-05 14:00:00", user="TC110", conditions="車號=TIK-0001")],
        "explanations",
        "EXPL_TICKET",
        True,
    ),
    "ticket 121 minutes away": (
        [lookup("2023-10-05 09:59:00", user="TC110", conditions="車號=TIK-0001")],
        "explanations",
        "EXPL_TICKET",
        False,
    ),
    "ticket by another officer": (
        [lookup("2023-10-05 12:00:00", user="TC111", conditions="車號=TIK-0001")],
        "explanations",
        "EXPL_TICKET",
        False,
    ),
    "purpose ticket, ticket 24 h later": (
        [
            lookup(
                "2023-10-04 12:00:00",
                user="TC110",
                conditions="車號=TIK-0001",
                purpose="舉發交通違規",
            )
        ],
        "flags",
        "FALSE_PURPOSE_TICKET",
        False,
    ),
    "purpose ticket, ticket 24 h 1 min later": (
        [
            lookup(
                "2023-10-04 11:59:00",
                user="TC110",
                conditions="車號=TIK-0001",
                purpose="舉發交通違規",
            )
        ],
        "flags",
        "FALSE_PURPOSE_TICKET",
        True,
    ),
    "purpose ticket, no ticket at all": (
        [
            lookup(
                "2023-10-05 11:00:00",
                user="TC112",
                conditions="車號=TIK-0002",
                purpose="舉發交通違規",
            )
        ],
        "flags",
        "FALSE_PURPOSE_TICKET",
        True,
    ),
    # work log: TC120 at 2023-10-05 12:00 mentions WRK-0001 and case K7
    "work log 4 h before": (
        [lookup("2023-10-05 16:00:00", user="TC120", conditions="車號=WRK-0001")],
        "explanations",
        "EXPL_WORKLOG",
        True,
    ),
    "work log 4 h 1 min before": (
        [lookup("2023-10-05 16:01:00", user="TC120", conditions="車號=WRK-0001")],
        "explanations",
        "EXPL_WORKLOG",
        False,
    ),
    "work log mentions the case number": (
        [lookup("2023-10-05 13:00:00", user="TC120", conditions="車號=WRK-0002", case_no="K7")],
        "explanations",
        "EXPL_WORKLOG",
        True,
    ),
    "work log of another officer": (
        [lookup("2023-10-05 13:00:00", user="TC121", conditions="車號=WRK-0001")],
        "explanations",
        "EXPL_WORKLOG",
        False,
    ),
    # proxy: TC130 runs TC131's account; TC131's log names TC130; TC132/TC133 not recorded
    "proxy recorded by ID": (
        [
            lookup(
                "2023-10-05 10:00:00", user="TC131", actual_user="TC130", conditions="車號=PRX-0001"
            )
        ],
        "explanations",
        "EXPL_PROXY_RECORDED",
        True,
    ),
    "proxy recorded by name": (
        [
            lookup(
                "2023-10-05 10:00:00", user="TC134", actual_user="TC135", conditions="車號=PRX-0003"
            )
        ],
        "explanations",
        "EXPL_PROXY_RECORDED",
        True,
    ),
    "proxy not recorded": (
        [
            lookup(
                "2023-10-05 10:00:00", user="TC133", actual_user="TC132", conditions="車號=PRX-0002"
            )
        ],
        "explanations",
        "EXPL_PROXY_RECORDED",
        False,
    ),
    # duty check: TC140 on 巡邏 08–16, TC141 on 內勤 08–16
    "road check on patrol": (
        [
            lookup(
                "2023-10-06 10:00:00", user="TC140", conditions="車號=DUT-0001", purpose="臨檢盤查"
            )
        ],
        "explanations",
        "EXPL_DUTY_CHECK",
        True,
    ),
    "road check on desk duty": (
        [
            lookup(
                "2023-10-06 10:00:00", user="TC141", conditions="車號=DUT-0002", purpose="臨檢盤查"
            )
        ],
        "explanations",
        "EXPL_DUTY_CHECK",
        False,
    ),
    "accident on patrol": (
        [
            lookup(
                "2023-10-06 10:00:00",
                user="TC140",
                conditions="車號=DUT-0003",
                purpose="交通事故處理",
            )
        ],
        "explanations",
        "EXPL_DUTY_CHECK",
        True,
    ),
    # subject flags
    "self lookup": (
        [lookup("2023-10-05 10:00:00", user="TC001", conditions=f"身分證號={SELF_ID}")],
        "flags",
        "SELF_OR_RELATED",
        True,
    ),
    "ex-wife's car via identities": (
        [lookup("2023-10-05 10:00:00", user="TC001", conditions="車號=EXW-0001")],
        "flags",
        "SELF_OR_RELATED",
        True,
    ),
    "relation of the account holder": (
        [
            lookup(
                "2023-10-05 10:00:00",
                user="TC001",
                actual_user="TC150",
                conditions=f"身分證號={EX_WIFE}",
            )
        ],
        "flags",
        "SELF_OR_RELATED",
        True,
    ),
    "unrelated citizen": (
        [lookup("2023-10-05 10:00:00", user="TC151", conditions=f"身分證號={CITIZEN}")],
        "flags",
        "SELF_OR_RELATED",
        False,
    ),
    "unmarked police car": (
        [lookup("2023-10-05 10:00:00", user="TC152", conditions="車號=POL-0001")],
        "flags",
        "POLICE_VEHICLE",
        True,
    ),
    "marked patrol car": (
        [lookup("2023-10-05 10:00:00", user="TC152", conditions="車號=POL-0002")],
        "flags",
        "POLICE_VEHICLE",
        False,
    ),
    "watch-listed subject by phone": (
        [lookup("2023-10-05 10:00:00", user="TC153", conditions="電話=0922 111 222")],
        "flags",
        "WATCHLIST",
        True,
    ),
    "photo lookup": (
        [
            lookup(
                "2023-10-05 10:00:00",
                user="TC154",
                operation="戶役政-相片影像查詢",
                conditions=f"身分證號={CITIZEN}",
            )
        ],
        "flags",
        "PHOTO_LOOKUP",
        True,
    ),
}

RECORDS: dict[str, Any] = {
    "cases": [
        {
            "case_no": "K1",
            "opened": "2023-10-10 10:00",
            "closed": "2023-10-20 10:00",
            "officers": "TC100",
            "parties": "車牌=CAS-0001",
        },
        {
            "case_no": "K2",
            "opened": "2023-01-01 10:00",
            "officers": "TC102",
            "parties": "車牌=CAS-0002",
        },
        {
            "case_no": "K3",
            "opened": "2023-10-01 10:00",
            "officers": "TC103",
            "parties": f"身分證號={CITIZEN}",
        },
        {
            "case_no": "K8",
            "opened": "2023-10-01 10:00",
            "officers": "TC104",
            "parties": "車牌=CAS-0009",
        },
    ],
    "identities": [
        {"identifier": "車牌=CIT-0001", "belongs_to": f"身分證號={CITIZEN}", "link": "車主"},
        {"identifier": "車牌=EXW-0001", "belongs_to": f"身分證號={EX_WIFE}", "link": "車主"},
    ],
    "tickets": [
        {"ticket_no": "T1", "time": "2023-10-05 12:00", "officer_id": "TC110", "plate": "TIK-0001"},
        {"ticket_no": "T2", "time": "2023-10-01 12:00", "officer_id": "TC112", "plate": "TIK-9999"},
    ],
    "worklog": [
        {
            "time": "2023-10-05 12:00",
            "officer_id": "TC120",
            "content": "查訪 車號 WRK-0001 車主;偵辦案號K7",
        },
        {
            "time": "2023-10-05 09:00",
            "officer_id": "TC131",
            "content": "TC130 因緊急案件代查,經所長同意",
        },
        {
            "time": "2023-10-05 11:00",
            "officer_id": "TC135",
            "content": "借用員警34帳號代查(經同意)",
        },
        {"time": "2023-10-05 09:00", "officer_id": "TC133", "content": "例行勤務"},
    ],
    "duty_roster": [
        shift("2023-10-06", "08:00", "16:00", "巡邏", officer="TC140"),
        shift("2023-10-06", "08:00", "16:00", "內勤", officer="TC141"),
    ],
    "relations": [
        {"officer_id": "TC001", "relation": "前配偶", "identifier": f"身分證號={EX_WIFE}"},
        {"officer_id": "TC150", "relation": "配偶", "identifier": f"身分證號={EX_WIFE}"},
    ],
    "police_vehicles": [
        {"plate": "POL-0001", "category": "偵防車"},
        {"plate": "POL-0002", "category": "巡邏車"},
    ],
    "watchlist": [{"identifier": "0922-111-222", "category": "賭博業者"}],
}


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    return batch({name: rows for name, (rows, _, _, _) in CASES.items()}, **RECORDS)


@pytest.mark.parametrize("name", list(CASES))
def test_rule(results: dict[str, Any], name: str) -> None:
    _, column, code, expected = CASES[name]
    for got in results[name]:
        assert (code in got[column]) is expected, got


def test_strong_explanation_halves_the_score_and_clears_medium(results: dict[str, Any]) -> None:
    frame = results["__result__"][0]["assessment"].lookups
    proxy = frame[frame["lookup_id"] == results["proxy recorded by ID"][0]["lookup_id"]].iloc[0]
    assert "ACCOUNT_MISMATCH" in proxy["flags"]
    assert proxy["score"] == 1.5
    assert not proxy["suspicious"]
    bare = frame[frame["lookup_id"] == results["proxy not recorded"][0]["lookup_id"]].iloc[0]
    assert bare["score"] == 3 and bare["suspicious"]


def test_duty_check_is_weak(results: dict[str, Any]) -> None:
    got = results["road check on patrol"][0]
    assert got["explanations"] == {"EXPL_DUTY_CHECK"}


def test_tickets_not_covering_are_not_checked() -> None:
    rows = [
        lookup(
            "2023-10-05 10:00:00",
            user="TC003",
            unit="台中市政府警察局第二分局乙派出所",
            conditions="車號=TIK-0005",
            purpose="舉發交通違規",
        )
    ]
    got = batch({"x": rows}, tickets=RECORDS["tickets"])["x"][0]
    assert "FALSE_PURPOSE_TICKET" in got["not_checked"]
    assert "FALSE_PURPOSE_TICKET" not in got["flags"]


def test_evidence_reason_and_reference(results: dict[str, Any]) -> None:
    evidence = results["__result__"][0]["assessment"].evidence
    lookup_id = results["purpose ticket, no ticket at all"][0]["lookup_id"]
    row = evidence[
        (evidence["lookup_id"] == lookup_id) & (evidence["code"] == "FALSE_PURPOSE_TICKET")
    ]
    assert row["reason"].iloc[0] == "no ticket by TC112 for TIK0002 within 24 h"
    assert row["rests_on"].iloc[0].startswith("query_log:<frames>:")
    case = results["case: 1 day before opening"][0]["lookup_id"]
    row = evidence[(evidence["lookup_id"] == case) & (evidence["code"] == "EXPL_CASE")]
    assert row["rests_on"].iloc[0] == "cases:<frames>:2"
