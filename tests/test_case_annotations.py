from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from kit.case.annotations import (
    ANNOTATIONS_FILE,
    REVIEW_COLUMNS,
    CaseError,
    annotate,
    annotate_lookups,
    current_annotations,
    history,
    orphan_annotations,
    review_counts,
)

ID_A = "a" * 32
ID_B = "b" * 32
ID_C = "c" * 32


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "case"
    folder.mkdir()
    return folder


def test_history_is_append_only_and_latest_wins(case_dir: Path) -> None:
    annotate(case_dir, ID_A, "confirmed", note="第一次", investigator="陳督察")
    annotate(case_dir, ID_B, "not_relevant", investigator="陳督察")
    annotate(case_dir, ID_A, "explained", reason="案號1120012345", investigator="林組長")
    lines = (case_dir / ANNOTATIONS_FILE).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    first = json.loads(lines[0])
    assert list(first) == sorted(first)
    assert "第一次" in lines[0] and "陳督察" in lines[0]  # ensure_ascii=False
    assert first["time"].endswith("+08:00")
    full = history(case_dir)
    assert list(full["seq"]) == [1, 2, 3]
    assert list(full["status"]) == ["confirmed", "not_relevant", "explained"]
    current = current_annotations(case_dir).set_index("lookup_id")
    assert current.loc[ID_A, "status"] == "explained"
    assert current.loc[ID_A, "investigator"] == "林組長"
    assert current.loc[ID_A, "reason"] == "案號1120012345"
    assert len(current) == 2


def test_history_readable_without_the_kit(case_dir: Path) -> None:
    annotate(case_dir, ID_A, "confirmed", note="n", investigator="x")
    plain = pd.read_json(case_dir / ANNOTATIONS_FILE, lines=True, dtype=False)
    assert set(plain.columns) == {"lookup_id", "status", "note", "reason", "investigator", "time"}


@pytest.mark.parametrize(
    ("lookup_id", "status", "reason", "investigator", "message"),
    [
        pytest.param("XYZ", "confirmed", None, "x", "32 lower-case hex", id="bad-id"),
        pytest.param(ID_A, "guilty", None, "x", "not one of", id="unknown-status"),
        pytest.param(ID_A, "explained", None, "x", "needs a reason", id="explained-no-reason"),
        pytest.param(ID_A, "explained", "  ", "x", "needs a reason", id="explained-blank"),
        pytest.param(ID_A, "confirmed", None, " ", "investigator", id="no-investigator"),
    ],
)
def test_invalid_annotations_are_refused(
    case_dir: Path, lookup_id: str, status: str, reason: str | None, investigator: str, message: str
) -> None:
    with pytest.raises(CaseError, match=message) as caught:
        annotate(case_dir, lookup_id, status, reason=reason, investigator=investigator)
    assert isinstance(caught.value, ValueError)
    assert not (case_dir / ANNOTATIONS_FILE).exists()


def test_annotate_needs_the_case_folder(tmp_path: Path) -> None:
    with pytest.raises(CaseError, match="does not exist"):
        annotate(tmp_path / "nowhere", ID_A, "confirmed", investigator="x")


def test_torn_last_line_is_reported_with_its_line(case_dir: Path) -> None:
    annotate(case_dir, ID_A, "confirmed", investigator="x")
    with (case_dir / ANNOTATIONS_FILE).open("a", encoding="utf-8") as stream:
        stream.write('{"lookup_id": "bbbb')
    with pytest.raises(CaseError, match="line 2"):
        history(case_dir)


def test_empty_case_has_empty_history(case_dir: Path) -> None:
    assert history(case_dir).empty
    assert list(history(case_dir).columns) == [
        "seq",
        "lookup_id",
        "status",
        "note",
        "reason",
        "investigator",
        "time",
    ]


def test_annotate_lookups_keeps_every_row_and_defaults_unreviewed(case_dir: Path) -> None:
    annotate(case_dir, ID_A, "explained", reason="案件", investigator="x")
    annotate(case_dir, ID_B, "confirmed", note="違失", investigator="y")
    evidence = pd.DataFrame(
        {"lookup_id": [ID_C, ID_A, ID_A, ID_B], "reason": ["r1", "r2", "r3", "r4"]},
        index=[10, 11, 12, 13],
    )
    out = annotate_lookups(evidence, case_dir)
    assert list(out.index) == [10, 11, 12, 13]
    assert list(out["reason"]) == ["r1", "r2", "r3", "r4"]
    assert list(out["review_status"]) == ["unreviewed", "explained", "explained", "confirmed"]
    assert list(out["review_reason"]) == ["", "案件", "案件", ""]
    assert list(out["review_investigator"]) == ["", "x", "x", "y"]
    assert (out["review_time"] == "").tolist() == [True, False, False, False]
    assert set(REVIEW_COLUMNS) <= set(out.columns)


def test_review_counts_over_suspicious(case_dir: Path) -> None:
    annotate(case_dir, ID_A, "explained", reason="r", investigator="x")
    annotate(case_dir, ID_B, "confirmed", investigator="x")
    lookups = pd.DataFrame(
        {
            "lookup_id": [ID_A, ID_B, ID_C, "d" * 32],
            "suspicious": ["true", "true", "true", "false"],
        }
    )
    counts = review_counts(lookups, case_dir)
    assert counts == {
        "lookups": 3,
        "unreviewed": 1,
        "confirmed": 1,
        "explained": 1,
        "not_relevant": 0,
        "reviewed": 2,
    }
    everything = review_counts(lookups.assign(suspicious=[True, False, False, False]), case_dir)
    assert everything["lookups"] == 1 and everything["explained"] == 1


def test_orphans_are_reported_not_lost(case_dir: Path) -> None:
    annotate(case_dir, ID_A, "confirmed", investigator="x")
    annotate(case_dir, ID_B, "confirmed", investigator="x")
    orphans = orphan_annotations(case_dir, [ID_A, ID_C])
    assert list(orphans["lookup_id"]) == [ID_B]
    assert len(history(case_dir)) == 2


def test_annotate_lookups_on_a_localised_report_table(case_dir: Path) -> None:
    annotate(case_dir, ID_A, "explained", reason="案件", investigator="x")
    table = pd.DataFrame({"查詢識別碼": [ID_A, ID_B]})
    out = annotate_lookups(table, case_dir, key="查詢識別碼", lang="zh-TW")
    assert list(out["審閱狀態"]) == ["已說明", "未審閱"]
    assert list(out["說明理由"]) == ["案件", ""]
    with pytest.raises(CaseError, match="lookup_id"):
        annotate_lookups(table, case_dir)


def test_concurrent_saves_append_whole_lines(case_dir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    long_note = "長備註" * 3000  # larger than one write buffer

    def save(worker: int) -> None:
        for n in range(10):
            annotate(
                case_dir, f"{worker:016x}{n:016x}", "confirmed", note=long_note, investigator="x"
            )

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(save, range(4)))
    full = history(case_dir)
    assert len(full) == 40 and set(full["note"]) == {long_note}


def test_review_tables_and_summary_for_the_bundle(case_dir: Path) -> None:
    from kit.case import review_summary, review_tables

    annotate(case_dir, ID_A, "explained", reason="案件", investigator="x")
    annotate(case_dir, ID_B, "confirmed", investigator="x")
    tables = {
        "lookups": pd.DataFrame({"查詢識別碼": [ID_A, ID_B, ID_C], "可疑": [True, True, True]}),
        "evidence": pd.DataFrame({"查詢識別碼": [ID_A, ID_A], "理由": ["r1", "r2"]}),
        "sources": pd.DataFrame({"x": [1]}),
    }
    assert review_tables(tables, None) == tables
    out = review_tables(tables, case_dir, lang="zh-TW")
    assert list(out["lookups"]["審閱狀態"]) == ["已說明", "確認違失", "未審閱"]
    assert list(out["evidence"]["說明理由"]) == ["案件", "案件"]
    assert out["sources"] is tables["sources"]
    english = review_tables({"lookups": pd.DataFrame({"lookup_id": [ID_B]})}, case_dir, lang="en")
    assert list(english["lookups"]["review_status"]) == ["confirmed"]
    lookups = pd.DataFrame({"lookup_id": [ID_A, ID_B, ID_C], "suspicious": [True, True, True]})
    summary = review_summary(lookups, case_dir, lang="en").set_index("measure")["value"]
    assert summary["reviewed"] == 2 and summary["unreviewed"] == 1
    assert summary["explained (kept, marked)"] == 1 and summary["confirmed misconduct"] == 1
    assert list(review_summary(lookups, case_dir).columns) == ["項目", "數值"]
    assert review_summary(lookups, None).empty
