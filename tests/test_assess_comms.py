"""Communication flags: outside vs internal counterparts, identifiers in text, tip-offs."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from test_assess_helpers import CITIZEN, EXTRA, batch, lookup

SEIZED = EXTRA[:40]  # officers TC100–TC139 have a seized phone covering all of October


def msg(
    time: str, officer: str, counterpart: str, content: str = "", direction: str = "發"
) -> dict[str, str]:
    return {
        "time": time,
        "officer_id": officer,
        "counterpart": counterpart,
        "direction": direction,
        "type": "訊息" if not counterpart[:1].isdigit() else "通話",
        "content": content,
    }


def coverage() -> list[dict[str, str]]:
    rows = []
    for officer in SEIZED:
        rows.append(msg("2023-10-01 00:00", officer, "0900000000", "早", "收"))
        rows.append(msg("2023-12-31 23:00", officer, "0900000000", "晚", "收"))
    return rows


L = "2023-10-05 10:00:00"
CASES: dict[str, tuple[list[dict[str, Any]], list[dict[str, str]], str, bool]] = {
    "outside 30 minutes after": (
        [lookup(L, user="TC100")],
        [msg("2023-10-05 10:30", "TC100", "0933000001")],
        "CONTACT_AFTER",
        True,
    ),
    "outside 31 minutes after": (
        [lookup(L, user="TC101")],
        [msg("2023-10-05 10:31", "TC101", "0933000001")],
        "CONTACT_AFTER",
        False,
    ),
    "outside before the lookup": (
        [lookup(L, user="TC111")],
        [msg("2023-10-05 09:59", "TC111", "0933000001")],
        "CONTACT_AFTER",
        False,
    ),
    "internal counterpart": (
        [lookup(L, user="TC102")],
        [msg("2023-10-05 10:05", "TC102", "0911-000-002")],
        "CONTACT_AFTER",
        False,
    ),
    "separated officer's phone": (
        [lookup(L, user="TC103")],
        [msg("2023-10-05 10:05", "TC103", "0911000009")],
        "CONTACT_AFTER",
        True,
    ),
    "LINE ID tied to an officer's phone": (
        [lookup(L, user="TC104")],
        [msg("2023-10-05 10:05", "TC104", "colleague.li")],
        "CONTACT_AFTER",
        False,
    ),
    "LINE ID of a stranger": (
        [lookup(L, user="TC105")],
        [msg("2023-10-05 10:05", "TC105", "stranger99")],
        "CONTACT_AFTER",
        True,
    ),
    "incoming only": (
        [lookup(L, user="TC106")],
        [msg("2023-10-05 10:05", "TC106", "0933000001", "", "收")],
        "CONTACT_AFTER",
        False,
    ),
    "account sent with bank code and dash": (
        [
            lookup(
                L,
                user="TC110",
                operation="165反詐騙-警示帳戶查詢",
                conditions="帳號=8221234567890123",
            )
        ],
        [msg("2023-10-20 10:00", "TC110", "0933000001", "幫我看 822-1234567890123 這個")],
        "IDENTIFIER_SENT",
        True,
    ),
    "phone sent spaced": (
        [lookup(L, user="TC112", conditions="電話=0912-345-678")],
        [msg("2023-10-05 11:00", "TC112", "0933000001", "他的電話 0912 345 678")],
        "IDENTIFIER_SENT",
        True,
    ),
    "plate sent without key": (
        [lookup(L, user="TC113", conditions="車號:ABC-1234")],
        [msg("2023-10-05 11:00", "TC113", "fixer88", "車 abc1234 的車主")],
        "IDENTIFIER_SENT",
        True,
    ),
    "ID sent 30 days later": (
        [lookup(L, user="TC114", conditions=f"身分證號={CITIZEN}")],
        [msg("2023-11-04 10:00", "TC114", "0933000001", f"資料 {CITIZEN}")],
        "IDENTIFIER_SENT",
        True,
    ),
    "ID sent 30 days 1 minute later": (
        [lookup(L, user="TC115", conditions=f"身分證號={CITIZEN}")],
        [msg("2023-11-04 10:01", "TC115", "0933000001", f"資料 {CITIZEN}")],
        "IDENTIFIER_SENT",
        False,
    ),
    "ID sent to a colleague": (
        [lookup(L, user="TC116", conditions=f"身分證號={CITIZEN}")],
        [msg("2023-10-06 10:00", "TC116", "0911000002", f"資料 {CITIZEN}")],
        "IDENTIFIER_SENT",
        False,
    ),
    "contacted the owner of the car looked up": (
        [lookup(L, user="TC120", conditions="車號=CAR-7777")],
        [msg("2023-10-10 10:00", "TC120", "0955-000-111")],
        "CONTACTED_SUBJECT",
        True,
    ),
    "contacted her 31 days later": (
        [lookup(L, user="TC121", conditions="車號=CAR-7777")],
        [msg("2023-11-05 10:01", "TC121", "0955000111")],
        "CONTACTED_SUBJECT",
        False,
    ),
    "no seized phone": ([lookup(L, user="TC150")], [], "CONTACT_AFTER", False),
}
IDENTITIES = [
    {"identifier": "LINE=colleague.li", "belongs_to": "0911000002", "link": "LINE帳號"},
    {"identifier": "車牌=CAR-7777", "belongs_to": "身分證號=C135792461", "link": "車主"},
    {"identifier": "電話=0955000111", "belongs_to": "身分證號=C135792461", "link": "門號申請人"},
]
OPERATIONS = [
    {
        "operation_no": "OP1",
        "planned": "2023-10-01 09:00",
        "executed": "2023-10-10 05:00",
        "targets": "電話=0966-000-111",
        "officers": "TC130;TC131",
    },
]
COMM_CASES = {
    # (officer, time, counterpart, direction) → expected flags
    "tip-off before execution": (msg("2023-10-09 22:00", "TC130", "0966000111"), {"TIPOFF"}),
    "at the execution instant": (msg("2023-10-10 05:00", "TC131", "0966000111"), {"TIPOFF"}),
    "after execution": (msg("2023-10-10 05:01", "TC130", "0966000111"), set()),
    "officer who did not know": (msg("2023-10-09 22:00", "TC132", "0966000111"), set()),
    "watch-listed counterpart": (
        msg("2023-10-15 12:00", "TC133", "0977000111"),
        {"WATCHLIST_CONTACT"},
    ),
    "incoming from watch-listed": (msg("2023-10-15 12:00", "TC134", "0977000111", "", "收"), set()),
}


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    messages = coverage() + [m for _, ms, _, _ in CASES.values() for m in ms]
    messages += [m for m, _ in COMM_CASES.values()]
    return batch(
        {name: rows for name, (rows, _, _, _) in CASES.items()},
        communications=messages,
        identities=IDENTITIES,
        operations=OPERATIONS,
        watchlist=[{"identifier": "0977-000-111", "category": "色情業者"}],
    )


@pytest.mark.parametrize("name", list(CASES))
def test_lookup_flag(results: dict[str, Any], name: str) -> None:
    _, _, code, expected = CASES[name]
    assert (code in results[name][0]["flags"]) is expected, results[name][0]


def test_no_seized_phone_is_not_checked(results: dict[str, Any]) -> None:
    got = results["no seized phone"][0]["not_checked"]
    assert {"CONTACT_AFTER", "IDENTIFIER_SENT", "CONTACTED_SUBJECT"} <= got
    assert "CONTACT_AFTER" not in results["outside 31 minutes after"][0]["not_checked"]


def test_identifier_sent_is_critical(results: dict[str, Any]) -> None:
    got = results["account sent with bank code and dash"][0]
    assert got["suspicious"]


@pytest.mark.parametrize("name", list(COMM_CASES))
def test_communication_flags(results: dict[str, Any], name: str) -> None:
    message, expected = COMM_CASES[name]
    comms = results["__result__"][0]["assessment"].communications
    when = pd.Timestamp(message["time"], tz="Asia/Taipei")
    row = comms[(comms["officer_id"] == message["officer_id"]) & (comms["time"] == when)]
    got = set(row["flags"].iloc[0].split(";")) if len(row) else set()
    assert got == expected


def test_tipoff_rests_on_the_operation(results: dict[str, Any]) -> None:
    comms = results["__result__"][0]["assessment"].communications
    row = comms[comms["flags"] == "TIPOFF"].iloc[0]
    assert row["rests_on"] == "operations:<frames>:2" and row["severity"] == "critical"


def test_communications_tied_to_flagged_lookups(results: dict[str, Any]) -> None:
    comms = results["__result__"][0]["assessment"].communications
    sent = comms[comms["officer_id"] == "TC110"]
    assert "IDENTIFIER_SENT" in sent["flags"].iloc[0]
    assert sent["rests_on"].iloc[0].startswith("query_log:<frames>:")
