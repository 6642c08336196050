from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from test_audit_fixtures import SCREEN_COLUMNS

from kit.audit import audit_worksheet, monthly_sample, self_review_table, write_worksheet
from kit.audit.worksheet import (
    CONCLUSIONS,
    REPORT_COLUMNS,
    WORKSHEET_HEADERS,
    worksheet_for_report,
)
from kit.dataset import Dataset
from kit.mask import Masker

UNIT = "第一分局甲派出所"
PERSON = "A123456789"


def _lookups() -> pd.DataFrame:
    times = [
        "2023-03-01 10:00:00",
        "2023-03-01 17:00:00",
        "2023-03-01 12:00:00",
        "2023-03-02 03:00:00",
    ]
    frame = pd.DataFrame(
        {
            "lookup_id": ["L1", "L2", "L3", "L4"],
            "time": pd.to_datetime(times).tz_localize("Asia/Taipei"),
            "user": ["U1", "U1", "U1", "U2"],
            "actual_user": ["", "", "", ""],
            "unit": UNIT,
            "actual_unit": UNIT,
            "ip": "10.0.0.1",
            "operation": [
                "戶役政-個人戶籍資料查詢",
                "M-Police-車籍資料查詢",
                "刑案資料查詢",
                "165反詐騙-警示帳戶查詢",
            ],
            "purpose": ["偵查犯罪", '=HYPERLINK("http://x")', "為民服務", "偵查犯罪"],
            "conditions": [
                f"身分證號={PERSON}",
                "車號:ABC-1234",
                f"身分證號={PERSON}",
                "帳號=822-1234567890123",
            ],
            "source_file": "log.csv",
            "source_line": ["2", "3", "4", "5"],
            "subjects": [
                f"person_id:{PERSON}",
                "plate:ABC1234",
                f"person_id:{PERSON}",
                "account:8221234567890123",
            ],
            "explanations": ["EXPL_CASE", "", "", "EXPL_CASE"],
            "flags": ["", "OFF_DUTY", "", "ODD_HOURS"],
            "severity": ["none", "medium", "none", "low"],
            "score": [0.0, 3.0, 0.0, 1.0],
            "suspicious": [False, True, False, False],
            "not_checked": "",
        }
    )
    assert tuple(frame.columns) == SCREEN_COLUMNS
    return frame


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset.from_frames(
        officers=pd.DataFrame(
            {"officer_id": ["U1", "U2"], "name": ["王小明", "李大華"], "unit": [UNIT, UNIT]}
        ),
        duty_roster=pd.DataFrame(
            {
                "date": ["2023-03-01"],
                "officer_id": ["U1"],
                "start": ["08:00"],
                "end": ["16:00"],
                "duty": ["巡邏"],
            }
        ),
        register=pd.DataFrame(
            {
                "officer_id": ["U1"],
                "out_time": ["2023-03-01 09:00:00"],
                "in_time": ["2023-03-01 11:00:00"],
                "reason": ["巡邏"],
                "equipment": ["手槍;行動電腦M-0123"],
            }
        ),
        worklog=pd.DataFrame(
            {
                "time": ["2023-03-01 10:30:00", "2023-03-01 20:30:00"],
                "officer_id": ["U1", "U1"],
                "content": [f"訪查 {PERSON}", "整理卷宗"],
            }
        ),
    )


@pytest.fixture(scope="module")
def sheet(dataset: Dataset) -> pd.DataFrame:
    sample = monthly_sample(_lookups(), dataset, "2023-03", seed=0, rate=1.0)
    return audit_worksheet(sample, _lookups(), dataset, masker=Masker(), lang="en")


def test_worksheet_rows_and_columns(sheet: pd.DataFrame) -> None:
    assert list(sheet.columns) == list(WORKSHEET_HEADERS)
    assert list(sheet["lookup_id"]) == ["L1", "L3", "L2", "L4"]
    assert (sheet[["conclusion", "note", "auditor", "audit_date"]] == "").all().all()
    assert sheet["inclusion_probability"].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert set(sheet["stratum"]) <= {"risk first", "random"}
    assert sheet.set_index("lookup_id").loc["L2", "system"] == "車籍"
    assert not sheet.isna().any().any()
    narrow = worksheet_for_report(sheet, "en")
    assert list(narrow.columns) == list(REPORT_COLUMNS)


def test_worksheet_masks_subjects(sheet: pd.DataFrame) -> None:
    text = sheet.to_csv()
    assert PERSON not in text
    assert "ABC1234" not in text and "ABC-1234" not in text
    assert "1234567890123" not in text
    rows = sheet.set_index("lookup_id")
    assert rows.loc["L1", "subjects"] == rows.loc["L3", "subjects"]
    assert "〔P01〕" in rows.loc["L1", "subjects"]


def test_worksheet_duty_register_worklog(sheet: pd.DataFrame) -> None:
    rows = sheet.set_index("lookup_id")
    assert rows.loc["L1", "duty"] == "巡邏 08:00–16:00"
    assert rows.loc["L2", "duty"] == "no shift at that time"
    assert rows.loc["L4", "duty"] == "no roster data"
    assert rows.loc["L1", "register"].startswith("out 09:00–11:00 巡邏")
    assert "M-0123" in rows.loc["L1", "register"]
    assert rows.loc["L3", "register"] == "in station"
    assert rows.loc["L4", "register"] == "no register data"
    assert rows.loc["L1", "worklog"].startswith("10:30 訪查")
    assert "〔P01〕" in rows.loc["L1", "worklog"]
    assert rows.loc["L2", "worklog"] == "20:30 整理卷宗"
    assert rows.loc["L4", "worklog"] == ""


def test_worksheet_chinese_headers(dataset: Dataset) -> None:
    sample = monthly_sample(_lookups(), dataset, "2023-03", seed=0, rate=1.0)
    zh = audit_worksheet(sample, _lookups(), dataset, masker=Masker())
    assert list(zh.columns) == list(WORKSHEET_HEADERS.values())
    assert zh["當時勤務"].iloc[0] == "巡邏 08:00–16:00"
    assert "在所" in set(zh["出入登記"])
    assert set(zh["風險層級"]) == {"可疑", "有異常標記", "無合理事由", "無"}
    assert worksheet_for_report(zh).columns[0] == "序號"


def test_write_worksheet_csv_and_xlsx(dataset: Dataset, tmp_path: Path) -> None:
    sample = monthly_sample(_lookups(), dataset, "2023-03", seed=0, rate=1.0)
    zh = audit_worksheet(sample, _lookups(), dataset, masker=Masker())
    csv_path, xlsx_path = write_worksheet(zh, tmp_path)
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "'=HYPERLINK" in csv_path.read_text(encoding="utf-8-sig")
    book = openpyxl.load_workbook(xlsx_path)
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    headers = [c.value for c in sheet[1]]
    assert headers == list(WORKSHEET_HEADERS.values())
    purpose = headers.index("用途") + 1
    cells = [sheet.cell(row=r, column=purpose) for r in range(2, sheet.max_row + 1)]
    risky = [c for c in cells if str(c.value).startswith("'=")]
    assert len(risky) == 1 and risky[0].data_type == "s"
    validations = sheet.data_validations.dataValidation
    assert len(validations) == 1
    assert all(choice in validations[0].formula1 for choice in CONCLUSIONS["zh-TW"])
    column = openpyxl.utils.get_column_letter(headers.index("稽核結論") + 1)
    assert str(validations[0].sqref).startswith(f"{column}2")


def _query_log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "time": [
                "2023-03-01 10:00:00",
                "2023-03-05 11:00:00",
                "2023-03-06 09:00:00",
                "2023-04-02 09:00:00",
            ],
            "unit": UNIT,
            "user": ["U1", "U2", "U2", "U1"],
            "actual_user": ["", "U1", "", ""],
            "operation": [
                "戶役政-個人戶籍資料查詢",
                "車籍資料查詢",
                "刑案資料查詢",
                "通緝資料查詢",
            ],
            "conditions": [
                f"身分證號={PERSON}",
                "車號:ABC-1234",
                "身分證號=B123456780",
                f"{PERSON}",
            ],
            "purpose": ["偵查犯罪", "舉發交通違規", "偵查犯罪", "通緝查捕"],
        }
    )


def test_self_review_only_own_lookups_masked() -> None:
    dataset = Dataset.from_frames(query_log=_query_log())
    table = self_review_table(dataset, "U1", "2023-03-01", "2023-03-31", masker=Masker(), lang="en")
    assert len(table) == 2
    assert list(table["time"]) == ["2023-03-01 10:00:00", "2023-03-05 11:00:00"]
    assert not {"flags", "explanations", "severity", "score", "suspicious"} & set(table.columns)
    text = table.to_csv()
    assert PERSON not in text and "ABC1234" not in text and "ABC-1234" not in text
    assert table["subjects"].iloc[0].endswith("〔P01〕")
    assert list(table["system"]) == ["戶役政", "車籍"]


def test_self_review_period_inclusive_and_chinese() -> None:
    dataset = Dataset.from_frames(query_log=_query_log())
    table = self_review_table(dataset, "U1", "112/03/05", "2023-04-02", masker=Masker())
    assert table.columns[0] == "作業時間"
    assert list(table["作業時間"]) == ["2023-03-05 11:00:00", "2023-04-02 09:00:00"]
