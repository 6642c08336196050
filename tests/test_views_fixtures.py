"""Hand-built frames for the view tests (a small case-6 and case-2 story)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kit.dataset import Dataset


@dataclass(frozen=True)
class FakeAssessment:
    lookups: pd.DataFrame
    evidence: pd.DataFrame
    communications: pd.DataFrame


def small_dataset() -> Dataset:
    query_log = pd.DataFrame(
        {
            "time": [
                "2023-10-05 23:10:00",
                "2023-10-06 01:30:00",
                "2023-10-06 10:00:00",
                "2023-10-06 10:05:00",
                "2023-10-06 10:10:00",
                "2023-10-07 09:00:00",
            ],
            "unit": ["第三分局西屯派出所"] * 6,
            "user": ["TC04521", "TC04521", "TC04521", "TC04521", "TC04521", "TC09999"],
            "ip": ["10.0.0.1"] * 6,
            "operation": [
                "車籍資料查詢",
                "戶役政-個人戶籍資料查詢",
                "165反詐騙-警示帳戶查詢",
                "165反詐騙-警示帳戶查詢",
                "M-Police-戶役政-相片影像查詢",
                "車籍資料查詢",
            ],
            "conditions": [
                "車牌號碼=ABC-1234",
                "身分證號=A123456789",
                "帳號=822-1234567890123",
                "帳號：822-9876543210987",
                "姓名=王小明;出生日期=0800101",
                "車號:ABC1234",
            ],
            "actual_user": ["", "", "", "", "", "TC04521"],
            "purpose": [
                "舉發交通違規",
                "偵查犯罪",
                "偵查犯罪",
                "偵查犯罪",
                "其他:=cmd",
                "舉發交通違規",
            ],
            "device": ["PC", "PC", "PC", "PC", "M-0123", "PC"],
        }
    )
    roster = pd.DataFrame(
        {
            "date": ["2023-10-05", "2023-10-06", "2023-10-07"],
            "officer_id": ["TC04521"] * 3,
            "unit": ["第三分局西屯派出所"] * 3,
            "start": ["22:00", "08:00", "00:00"],
            "end": ["02:00", "16:00", "24:00"],
            "duty": ["巡邏", "值班", "休假"],
        }
    )
    register = pd.DataFrame(
        {
            "officer_id": ["TC04521"],
            "out_time": ["2023-10-06 09:00:00"],
            "in_time": ["2023-10-06 11:00:00"],
            "reason": ["巡邏"],
            "equipment": ["手槍;無線電"],
        }
    )
    officers = pd.DataFrame(
        {
            "officer_id": ["TC04521", "TC09999"],
            "name": ["林大華", "張志強"],
            "person_id": ["F131234564", "B234567890"],
            "unit": ["第三分局西屯派出所"] * 2,
            "phone": ["0911000111", "0922000222"],
        }
    )
    relations = pd.DataFrame(
        {
            "officer_id": ["TC04521"],
            "relation": ["前配偶"],
            "identifier": ["身分證號=A123456789"],
            "name": ["王小美"],
        }
    )
    identities = pd.DataFrame(
        {
            "identifier": ["車牌=ABC-1234", "LINE=fraud_boss88"],
            "belongs_to": ["身分證號=A123456789", "身分證號=D123456780"],
            "link": ["車主", "LINE帳號"],
            "source": ["車籍資料", "LINE"],
        }
    )
    communications = pd.DataFrame(
        {
            "time": ["2023-10-06 10:20:00", "2023-10-06 12:00:00"],
            "officer_id": ["TC04521", "TC04521"],
            "own_phone": ["0911000111", "0911000111"],
            "counterpart": ["fraud_boss88", "0933123456"],
            "counterpart_name": ["老闆", "陳大文"],
            "direction": ["發", "收"],
            "type": ["訊息", "通話"],
            "content": ["帳號 822-1234567890123 查好了", None],
        }
    )
    worklog = pd.DataFrame(
        {
            "time": ["2023-10-06 11:00:00"],
            "officer_id": ["TC04521"],
            "content": ["處理 0933-123-456 報案"],
        }
    )
    tickets = pd.DataFrame(
        {
            "ticket_no": ["T1"],
            "time": ["2023-10-06 14:00:00"],
            "officer_id": ["TC04521"],
            "plate": ["XYZ-5678"],
            "violation": ["闖紅燈"],
        }
    )
    cases = pd.DataFrame(
        {
            "case_no": ["1120012345"],
            "category": ["詐欺"],
            "opened": ["2023-10-01 09:00:00"],
            "officers": ["TC04521"],
            "parties": ["帳號=822-9876543210987"],
        }
    )
    watchlist = pd.DataFrame({"identifier": ["LINE=fraud_boss88"], "category": ["詐欺嫌疑"]})
    operations = pd.DataFrame(
        {
            "operation_no": ["OP1"],
            "name": ["掃蕩"],
            "planned": ["2023-10-01 09:00:00"],
            "executed": ["2023-10-10 09:00:00"],
            "targets": ["電話=0933123456"],
            "officers": ["TC04521"],
        }
    )
    return Dataset.from_frames(
        query_log=query_log,
        duty_roster=roster,
        register=register,
        officers=officers,
        relations=relations,
        identities=identities,
        communications=communications,
        worklog=worklog,
        tickets=tickets,
        cases=cases,
        watchlist=watchlist,
        operations=operations,
    )


def fake_assessment(dataset: Dataset) -> FakeAssessment:
    log = dataset.query_log
    n = len(log)
    flags = [
        "FALSE_PURPOSE_TICKET;SELF_OR_RELATED;OFF_DUTY",
        "ODD_HOURS",
        "BULK_ACCOUNTS;IDENTIFIER_SENT",
        "",
        "PHOTO_LOOKUP",
        "ACCOUNT_MISMATCH",
    ][:n]
    severity = ["high", "low", "critical", "none", "low", "medium"][:n]
    lookups = pd.DataFrame(
        {
            "lookup_id": log["lookup_id"],
            "time": log["time"],
            "user": log["user"],
            "actual_user": log["actual_user"],
            "unit": log["unit"],
            "actual_unit": log["actual_unit"],
            "ip": log["ip"],
            "operation": log["operation"],
            "purpose": log["purpose"],
            "conditions": log["conditions_raw"],
            "source_file": log["source_file"],
            "source_line": log["source_line"],
            "subjects": "",
            "explanations": ["", "", "", "EXPL_CASE", "", ""][:n],
            "flags": flags,
            "severity": severity,
            "score": [43.0, 1.0, 40.0, 0.0, 1.0, 3.0][:n],
            "suspicious": [True, False, True, False, False, True][:n],
            "not_checked": "",
        }
    )
    comms = dataset.communications.iloc[:1]
    communications = pd.DataFrame(
        {
            "time": comms["time"],
            "officer_id": comms["officer_id"],
            "counterpart": comms["counterpart"],
            "direction": comms["direction"],
            "type": comms["type"],
            "content": comms["content"],
            "source_file": comms["source_file"],
            "source_line": comms["source_line"],
            "flags": ["WATCHLIST_CONTACT"],
            "severity": ["high"],
            "rests_on": ["watchlist:<frames>:2"],
        }
    )
    evidence = pd.DataFrame(
        {
            "lookup_id": [log["lookup_id"].iloc[2]],
            "code": ["IDENTIFIER_SENT"],
            "kind": ["flag"],
            "rests_on": [
                f"communications:{comms['source_file'].iloc[0]}:{comms['source_line'].iloc[0]}"
            ],
            "reason": ["sent"],
        }
    )
    return FakeAssessment(lookups, evidence, communications)
