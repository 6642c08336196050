from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import nbformat
import openpyxl
import pandas as pd
import pytest

from kit.case import ReviewError, annotate, current_annotations, history, new_case
from kit.case.review import SHEET, SHEET_COLUMNS, export_review, import_review
from kit.mask import Masker

IDS = [f"{n:032x}" for n in range(1, 5)]


def _assessment() -> SimpleNamespace:
    lookups = pd.DataFrame(
        {
            "lookup_id": IDS,
            "time": pd.to_datetime(
                ["2023-03-01 10:00", "2023-03-01 09:00", "2023-03-02 23:30", "2023-03-03 08:00"]
            ).tz_localize("Asia/Taipei"),
            "user": ["TC04521"] * 4,
            "operation": ["戶役政-個人戶籍資料查詢", "車籍資料查詢", "165反詐騙-警示帳戶查詢", "x"],
            "purpose": ["偵查犯罪", "舉發交通違規", '=HYPERLINK("x")', "為民服務"],
            "subjects": [
                "person_id:A123456789",
                "plate:ABC1234",
                "account:8221234567890123;person_id:A123456789",
                "",
            ],
            "flags": ["NO_CASE", "NO_TICKET;OFF_DUTY", "BULK_ACCOUNTS", ""],
            "severity": ["high", "high", "high", "none"],
            "suspicious": [True, True, True, False],
        }
    )
    return SimpleNamespace(lookups=lookups)


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("officer = None")
    cell.metadata["tags"] = ["parameters"]
    notebook.cells = [cell]
    nbformat.write(notebook, tmp_path / "t.ipynb")
    new_case(tmp_path / "case", officer="TC04521", notebook=tmp_path / "t.ipynb")
    return tmp_path / "case"


def _export(case_dir: Path, name: str = "review.xlsx") -> Path:
    return export_review(case_dir, _assessment(), case_dir / name, masker=Masker())


def _edit(path: Path, edits: dict[tuple[int, str], str]) -> None:
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET]
    for (row, column), value in edits.items():
        sheet.cell(row=row, column=SHEET_COLUMNS.index(column) + 1, value=value)
    book.save(path)


def test_export_lists_suspicious_lookups_masked_and_prefilled(case_dir: Path) -> None:
    annotate(case_dir, IDS[1], "explained", reason="舉發單 112", note="ok", investigator="x")
    path = _export(case_dir)
    sheet = pd.read_excel(path, sheet_name=SHEET, dtype=str, keep_default_na=False)
    assert list(sheet.columns) == list(SHEET_COLUMNS)
    assert list(sheet["lookup_id"]) == [IDS[1], IDS[0], IDS[2]]  # by time, suspicious only
    assert sheet.loc[0, "time"] == "2023-03-01T09:00:00+08:00"
    assert (sheet.loc[0, "status"], sheet.loc[0, "reason"]) == ("explained", "舉發單 112")
    assert sheet.loc[1, "status"] == "unreviewed"
    text = " ".join(sheet["subjects"])
    assert "A123456789" not in text and "ABC1234" not in text and "〔P01〕" in text
    assert sheet.loc[2, "purpose"] == '=HYPERLINK("x")'
    raw = openpyxl.load_workbook(path)[SHEET]
    assert raw.cell(row=4, column=SHEET_COLUMNS.index("purpose") + 1).data_type == "s"
    checksum = SHEET_COLUMNS.index("checksum") + 1
    assert raw.column_dimensions[openpyxl.utils.get_column_letter(checksum)].hidden
    assert raw.protection.sheet


def test_round_trip_unchanged_records_nothing(case_dir: Path) -> None:
    annotate(case_dir, IDS[0], "confirmed", note="多行\n備註", investigator="x")
    annotate(case_dir, IDS[2], "explained", note="=SUM(A1)", reason="@案 1", investigator="x")
    before = current_annotations(case_dir)
    path = _export(case_dir)
    result = import_review(case_dir, path, investigator="林")
    assert result.rows == 3 and result.changed.empty
    assert len(history(case_dir)) == 2
    pd.testing.assert_frame_equal(current_annotations(case_dir), before)
    sheet = openpyxl.load_workbook(path)[SHEET]
    note = sheet.cell(row=4, column=SHEET_COLUMNS.index("note") + 1)
    assert (note.value, note.data_type) == ("=SUM(A1)", "s")  # text, never a formula


def test_round_trip_records_only_changes_and_latest_wins(case_dir: Path) -> None:
    path = _export(case_dir)
    _edit(path, {(2, "status"): "explained", (2, "reason"): "舉發單 112", (3, "note"): "查看"})
    result = import_review(case_dir, path, investigator="林組長")
    assert sorted(result.changed["lookup_id"]) == sorted([IDS[1], IDS[0]])
    assert set(result.changed["row"]) == {2, 3}
    current = current_annotations(case_dir).set_index("lookup_id")
    assert current.loc[IDS[1], "status"] == "explained"
    assert current.loc[IDS[1], "reason"] == "舉發單 112"
    assert current.loc[IDS[0], "status"] == "unreviewed"
    assert current.loc[IDS[0], "note"] == "查看"
    assert set(current["investigator"]) == {"林組長"}
    # a second edit of the same lookup: both entries kept, the latest in force
    again = _export(case_dir, "second.xlsx")
    _edit(again, {(2, "status"): "confirmed", (2, "note"): "確認"})
    import_review(case_dir, again, investigator="陳")
    full = history(case_dir)
    assert list(full.loc[full["lookup_id"] == IDS[1], "status"]) == ["explained", "confirmed"]
    assert current_annotations(case_dir).set_index("lookup_id").loc[IDS[1], "status"] == (
        "confirmed"
    )
    # exporting again shows the annotations unchanged
    third = pd.read_excel(_export(case_dir, "third.xlsx"), sheet_name=SHEET, dtype=str)
    assert third.loc[0, "status"] == "confirmed" and third.loc[0, "note"] == "確認"
    assert third.loc[1, "note"] == "查看"


def test_status_aliases_and_case_are_accepted(case_dir: Path) -> None:
    path = _export(case_dir)
    _edit(path, {(2, "status"): " Confirmed ", (3, "status"): "無關"})
    import_review(case_dir, path, investigator="x")
    current = current_annotations(case_dir).set_index("lookup_id")
    assert current.loc[IDS[1], "status"] == "confirmed"
    assert current.loc[IDS[0], "status"] == "not_relevant"


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        pytest.param({(3, "status"): "guilty"}, "row 3: unknown status", id="unknown-status"),
        pytest.param(
            {(4, "status"): "explained"}, "row 4: status 'explained' needs", id="no-reason"
        ),
        pytest.param({(2, "lookup_id"): IDS[3]}, "row 2: the lookup_id or a grey", id="edited-id"),
        pytest.param({(3, "flags"): ""}, "row 3: the lookup_id or a grey", id="edited-flags"),
        pytest.param(
            {(5, "lookup_id"): "f" * 32, (5, "checksum"): "0"}, "row 5: unknown", id="new-row"
        ),
    ],
)
def test_invalid_sheets_are_refused_naming_the_row(
    case_dir: Path, edits: dict[tuple[int, str], str], message: str
) -> None:
    path = _export(case_dir)
    valid = {(2, "status"): "confirmed"}  # a valid change in the same sheet is not recorded either
    _edit(path, {**valid, **edits})
    with pytest.raises(ReviewError, match=message) as caught:
        import_review(case_dir, path, investigator="x")
    assert "nothing was recorded" in str(caught.value)
    assert caught.value.problems
    assert history(case_dir).empty


def test_sheet_of_another_case_is_refused(case_dir: Path, tmp_path: Path) -> None:
    path = _export(case_dir)
    other = tmp_path / "other"
    new_case(other, officer="TC1", notebook=tmp_path / "t.ipynb")
    with pytest.raises(ReviewError, match="row 2: unknown lookup_id"):
        import_review(other, path, investigator="x")
    assert history(other).empty


def test_missing_columns_are_named(case_dir: Path) -> None:
    path = _export(case_dir)
    book = openpyxl.load_workbook(path)
    book[SHEET].delete_cols(SHEET_COLUMNS.index("checksum") + 1)
    book.save(path)
    with pytest.raises(ReviewError, match="checksum"):
        import_review(case_dir, path, investigator="x")
