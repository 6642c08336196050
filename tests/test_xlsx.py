"""The evidence workbook writer: what a spreadsheet program reads back, byte for byte stable."""

from __future__ import annotations

import zipfile

import openpyxl
import pandas as pd
import pytest

from kit.views import export_tables
from kit.views.xlsx import column_letter


@pytest.mark.parametrize(
    ("index", "letters"), [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (701, "ZZ"), (702, "AAA")]
)
def test_column_letters(index, letters):
    assert column_letter(index) == letters


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "文字": ["王小明", "<b>&amp;</b>", "  padded ", '=HYPERLINK("x")', None, "-3"],
            "count": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
            "ratio": [1.5, float("nan"), 1e20, -3.25, 0.1, 2.0],
            "flag": [True, False, True, False, True, False],
        }
    )


def test_workbook_reads_back_as_written(tmp_path, table):
    path = export_tables({"lookups": table, "empty": table.iloc[0:0]}, tmp_path)[-1]
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["lookups", "empty"]
    sheet = book["lookups"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("文字", "count", "ratio", "flag")
    assert [r[0] for r in rows[1:]] == [
        "王小明",
        "<b>&amp;</b>",
        "  padded ",
        '\'=HYPERLINK("x")',  # neutralised, and stored as text
        None,
        "'-3",
    ]
    assert [r[1] for r in rows[1:]] == [1, None, 3, 4, 5, 6]
    assert [r[2] for r in rows[1:]] == [1.5, None, 1e20, -3.25, 0.1, 2]
    assert [r[3] for r in rows[1:]] == ["True", "False", "True", "False", "True", "False"]
    assert all(c.data_type == "s" for c in sheet["A"] if c.value is not None)
    assert all(c.data_type == "n" for c in sheet["B"][1:] if c.value is not None)
    assert all(c.font.b for c in sheet[1]) and not sheet["A2"].font.b
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:D7"
    assert sheet.column_dimensions["A"].width > sheet.column_dimensions["D"].width > 8
    assert list(book["empty"].iter_rows(values_only=True)) == [("文字", "count", "ratio", "flag")]


def test_characters_xml_cannot_carry_are_escaped_as_excel_does(tmp_path):
    frame = pd.DataFrame({"t": ["a\x01b\x1fc", "_x0041_", "tab\tand\nnewline"]})
    path = export_tables({"t": frame}, tmp_path)[-1]
    cells = [c.value for c in openpyxl.load_workbook(path)["t"]["A"]][1:]
    # openpyxl shows the escapes as stored; Excel turns them back into the characters
    assert cells == ["a_x0001_b_x001F_c", "_x005F_x0041_", "tab\tand\nnewline"]


def test_same_tables_same_bytes_and_a_valid_package(tmp_path, table):
    first = export_tables({"lookups": table}, tmp_path / "a")[-1]
    second = export_tables({"lookups": table}, tmp_path / "b")[-1]
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as package:
        assert package.testzip() is None
        names = package.namelist()
        assert names[0] == "[Content_Types].xml" and "xl/worksheets/sheet1.xml" in names
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in package.infolist())
        workbook = package.read("xl/workbook.xml").decode()
        assert "_xlnm._FilterDatabase" in workbook and "'lookups'!$A$1:$D$7" in workbook
    assert pd.read_excel(first, sheet_name="lookups", dtype=str).shape == (6, 4)


def test_a_table_longer_than_a_sheet_continues_on_further_sheets(tmp_path, monkeypatch):
    monkeypatch.setattr("kit.views.export.MAX_SHEET_ROWS", 3)
    frame = pd.DataFrame({"n": range(7), "t": [f"row {i}" for i in range(7)]})
    book = openpyxl.load_workbook(export_tables({"lookups": frame}, tmp_path)[-1])
    assert book.sheetnames == ["lookups", "lookups (2)", "lookups (3)"]
    rows = [list(sheet.iter_rows(values_only=True)) for sheet in book]
    assert all(r[0] == ("n", "t") for r in rows)
    assert [v for r in rows for (v, _) in r[1:]] == list(range(7))


def test_a_text_longer_than_a_cell_is_cut_with_a_note(tmp_path, monkeypatch):
    from kit.views.xlsx import CUT_NOTE

    monkeypatch.setattr("kit.views.xlsx.MAX_CELL_CHARS", 40)
    frame = pd.DataFrame({"t": ["短", "查" * 100, "😀" * 30]})
    cells = [
        c.value for c in openpyxl.load_workbook(export_tables({"t": frame}, tmp_path)[-1])["t"]["A"]
    ]
    assert cells[1] == "短"
    for cut, whole in ((cells[2], "查" * 100), (cells[3], "😀" * 30)):
        assert cut.endswith(CUT_NOTE) and whole.startswith(cut.removesuffix(CUT_NOTE))
        assert len(cut.encode("utf-16-le")) // 2 <= 40
    csv = pd.read_csv(tmp_path / "t.csv", dtype=str)
    assert csv["t"].tolist() == frame["t"].tolist()  # the CSV keeps every text whole
