from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from kit.case import (
    annotate,
    annotate_lookups,
    current_annotations,
    history,
    new_case,
    orphan_annotations,
)
from kit.load import load_folder

HEADER_ZH = "作業時間,單位,使用者,IP,作業種類,查詢條件,實際查詢者,實際查詢單位,用途"
HEADER_EN = "time,unit,user,ip,operation,conditions,actual_user,actual_unit,purpose"
PLATE, HOUSEHOLD, CRIME = "車籍資料查詢", "戶役政-個人戶籍資料查詢", "刑案資料查詢"
LOOKUPS = [
    ("2023-03-01 10:00:00", "112/03/01 10:00:00", PLATE, "車牌號碼=ABC-1234", "舉發交通違規"),
    ("2023-03-01 11:00:00", "112/03/01 11:00:00", HOUSEHOLD, "身分證號=A123456789", "偵查犯罪"),
    ("2023-03-02 09:30:00", "112/03/02 09:30:00", PLATE, "車號:XYZ5678", "臨檢盤查"),
    ("2023-03-02 14:00:00", "112/03/02 14:00:00", CRIME, "身分證號=B120000008", "偵查犯罪"),
    ("2023-03-03 08:15:00", "112/03/03 08:15:00", "通緝資料查詢", "A123456789", "通緝查捕"),
    ("2023-03-03 16:45:00", "112/03/03 16:45:00", PLATE, "車牌號碼=KLM-0001", "為民服務"),
]


def _row(lookup: tuple[str, ...], *, roc: bool, wide: bool) -> str:
    gregorian, roc_time, operation, conditions, purpose = lookup
    user = "ＴＣ０４５２１" if wide else "TC04521"
    return ",".join(
        [
            roc_time if roc else gregorian,
            "第一分局",
            user,
            "10.0.0.7",
            operation,
            conditions,
            "",
            "",
            purpose,
        ]
    )


def _export(folder: Path, name: str, rows: range, *, first_format: bool) -> Path:
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    header = HEADER_ZH if first_format else HEADER_EN
    lines = [header] + [_row(LOOKUPS[i], roc=first_format, wide=not first_format) for i in rows]
    encoding = "utf-8" if first_format else "cp950"
    (folder / name).write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return folder


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    root = tmp_path_factory.mktemp("exports")
    early = _export(root / "early", "log_1.csv", range(0, 4), first_format=True)
    late = _export(root / "late", "nested/匯出.csv", range(2, 6), first_format=False)
    both = _export(root / "both", "a.csv", range(0, 4), first_format=True)
    _export(both, "b.csv", range(2, 6), first_format=False)

    def ids(folder: Path) -> list[str]:
        log = load_folder(folder).query_log.sort_values("time")
        return log["lookup_id"].astype(str).tolist()

    return {
        "early": ids(early),
        "early_again": ids(early),
        "late": ids(late),
        "both": ids(both),
    }


def test_lookup_ids_identical_across_overlapping_exports(exports: dict[str, list[str]]) -> None:
    early, late = exports["early"], exports["late"]
    assert len(early) == 4 and len(late) == 4
    assert early[2:] == late[:2]  # the same two lookups, exported twice in other formats
    assert len(set(early) | set(late)) == 6
    assert exports["early_again"] == early  # re-ingest of the same folder
    assert exports["both"] == early + late[2:]  # duplicates loaded once, same IDs


def test_annotations_stay_attached_after_reingest(
    exports: dict[str, list[str]], tmp_path: Path
) -> None:
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("officer = None")
    cell.metadata["tags"] = ["parameters"]
    notebook.cells = [cell]
    nbformat.write(notebook, tmp_path / "t.ipynb")
    case_dir = new_case(tmp_path / "case", officer="TC04521", notebook=tmp_path / "t.ipynb").path
    early, late = exports["early"], exports["late"]
    annotate(case_dir, early[0], "confirmed", investigator="x")
    annotate(case_dir, early[2], "explained", reason="臨檢", investigator="x")
    annotate(case_dir, early[3], "not_relevant", investigator="x")
    import pandas as pd

    reviewed = annotate_lookups(pd.DataFrame({"lookup_id": late}), case_dir)
    assert list(reviewed["review_status"]) == [
        "explained",
        "not_relevant",
        "unreviewed",
        "unreviewed",
    ]
    orphans = orphan_annotations(case_dir, late)
    assert list(orphans["lookup_id"]) == [early[0]]
    assert len(history(case_dir)) == 3 and len(current_annotations(case_dir)) == 3
