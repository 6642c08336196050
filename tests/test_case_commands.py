from __future__ import annotations

import argparse
from pathlib import Path

import nbformat
import openpyxl
import pytest

from kit.case import ReviewError, current_annotations, load_case
from kit.case.commands import add_case_commands
from kit.case.review import SHEET, SHEET_COLUMNS
from kit.errors import KitError

LOG = (
    "作業時間,單位,使用者,作業種類,查詢條件,用途\n"
    "2023-03-01 10:00:00,第一分局,TC04521,車籍資料查詢,車牌號碼=ABC-1234,舉發交通違規\n"
    "2023-03-01 23:00:00,第一分局,TC04521,刑案資料查詢,身分證號=A123456789,偵查犯罪\n"
    "2023-03-02 02:00:00,第一分局,TC04521,車籍資料查詢,車牌號碼=XYZ-5678,其他:查看\n"
)
ROSTER = (
    "日期,員警編號,單位,起,迄,勤務\n"
    "2023-03-01,TC04521,第一分局,08:00,16:00,巡邏\n"
    "2023-03-02,TC04521,第一分局,08:00,16:00,值班\n"
)


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kit")
    commands = parser.add_subparsers(dest="command", required=True)
    add_case_commands(commands)
    args = parser.parse_args(argv)
    return int(args.run(args))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "log.csv").write_text(LOG, encoding="utf-8")
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (folder / "officers.csv").write_text("員警編號,姓名,單位\nTC04521,王小明,第一分局\n")
    return folder


def test_case_commands_end_to_end(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    template = tmp_path / "t.ipynb"
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("officer = None")
    cell.metadata["tags"] = ["parameters"]
    notebook.cells = [cell]
    nbformat.write(notebook, template)
    monkeypatch.setattr("kit.case.case.officer_notebook", lambda: template)
    case_dir = tmp_path / "cases" / "c1"
    assert (
        _run(
            [
                "case",
                "new",
                str(case_dir),
                "--officer",
                "TC04521",
                "--data",
                str(data),
                "--from",
                "2023-03-01",
                "--to",
                "2023-03-31",
                "--case-ref",
                "R-1",
                "--investigator",
                "陳",
            ]
        )
        == 0
    )
    assert load_case(case_dir).start == "2023-03-01"
    assert _run(["case", "list", str(tmp_path / "cases")]) == 0
    assert "R-1" in capsys.readouterr().out
    sheet = tmp_path / "review.xlsx"
    assert _run(["case", "export-review", str(case_dir), "--out", str(sheet)]) == 0
    book = openpyxl.load_workbook(sheet)
    book[SHEET].cell(row=2, column=SHEET_COLUMNS.index("status") + 1, value="confirmed")
    book.save(sheet)
    capsys.readouterr()
    assert _run(["case", "import-review", str(case_dir), str(sheet), "--investigator", "林"]) == 0
    assert "1 changed" in capsys.readouterr().out
    assert list(current_annotations(case_dir)["status"]) == ["confirmed"]
    assert _run(["case", "show", str(case_dir)]) == 0
    shown = capsys.readouterr().out
    assert "suspicious: 2" in shown and "reviewed: 1" in shown and "confirmed: 1" in shown
    book[SHEET].cell(row=3, column=SHEET_COLUMNS.index("status") + 1, value="bogus")
    book.save(sheet)
    with pytest.raises(ReviewError, match="row 3") as caught:
        _run(["case", "import-review", str(case_dir), str(sheet), "--investigator", "林"])
    assert isinstance(caught.value, KitError)
