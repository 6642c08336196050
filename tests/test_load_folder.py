from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kit.errors import DataFolderError, SchemaError
from kit.load import load_folder
from kit.load.kinds import detect_kind
from kit.schema import KINDS, LEDGER_COLUMNS, PROVENANCE

TPE = "Asia/Taipei"
HEADER = "作業時間,單位,使用者,IP,作業種類,查詢條件,實際查詢者,實際查詢單位,用途"
ROW = (
    "{t},臺中一分局,TC04521,10.1.1.1,戶役政-個人戶籍資料查詢,"
    "身分證號=A123456789,TC04521,臺中一分局,偵查犯罪"
)


def _write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> None:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)


def test_lookup_id_same_across_utf8_cp950_xlsx(tmp_path: Path) -> None:
    # One lookup, three exports, three time formats of the same instant (second precision).
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "utf8.csv").write_text(
        HEADER + "\n" + ROW.format(t="112/10/05 14:33:21") + "\n", encoding="utf-8"
    )
    (tmp_path / "b.csv").write_bytes(
        (HEADER + "\r\n" + ROW.format(t="1121005143321") + "\r\n").encode("cp950")
    )
    values = ROW.format(t="X").split(",")
    values[0] = dt.datetime(2023, 10, 5, 14, 33, 21)
    _write_xlsx(tmp_path / "c.xlsx", {"工作表1": [HEADER.split(","), values]})
    ds = load_folder(tmp_path)
    files = {f.path: f for f in ds.report.files}
    assert files["a/utf8.csv"].encoding == "utf-8"
    assert files["b.csv"].encoding == "cp950"
    assert files["c.xlsx"].format == "xlsx"
    # Loaded three times, kept once.
    assert [files[p].count("rows_loaded") for p in ("a/utf8.csv", "b.csv", "c.xlsx")] == [1, 1, 1]
    assert [files[p].count("duplicates") for p in ("a/utf8.csv", "b.csv", "c.xlsx")] == [0, 1, 1]
    assert len(ds.query_log) == 1
    kept = ds.query_log.iloc[0]
    assert kept["source_file"] == "a/utf8.csv" and kept["source_line"] == "2"
    assert kept["time"] == pd.Timestamp("2023-10-05 14:33:21", tz=TPE)
    dup = ds.ledger[ds.ledger["status"] == "duplicate"]
    assert dup[["source_file", "source_line"]].values.tolist() == [
        ["b.csv", "2"],
        ["c.xlsx", "工作表1!2"],
    ]
    assert set(dup["reason"]) == {"duplicate of a/utf8.csv:2"}
    # Same lookup_id from each file alone.
    ids = set()
    for name in ("a/utf8.csv", "b.csv", "c.xlsx"):
        single = tmp_path.parent / f"single_{Path(name).name}"
        single.mkdir()
        (single / Path(name).name).write_bytes((tmp_path / name).read_bytes())
        ids.add(load_folder(single).query_log["lookup_id"].iloc[0])
    assert len(ids) == 1
    assert ds.report.reconciles


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("messy")
    lines = [
        " 作業時間 ,使用者,作業種類,查詢條件,用途,備註",  # spaces; an unknown extra column
        "112/10/05 14:33:21,TC1,車籍資料查詢,車號:ABC-1234,臨檢盤查,x1",
        "112/13/05 14:33:21,TC1,車籍資料查詢,車號:ABC-1234,臨檢盤查,x2",  # bad month
        "",
        "112/10/05 15:00:00,TC1,車籍資料查詢,車號:ABC-1234,臨檢盤查",  # too few fields
        '112/10/05 16:00:00,,車籍資料查詢,"車號:ABC-1234",臨檢盤查,x3',  # empty user
        '2023-10-05T08:00:00Z,TC2,戶役政-相片影像查詢,"身分證號=A123456788\n第二行",為民服務,x4',
        "2023-10-05 17:00:00,TC2,戶役政-相片影像查詢,身分證號=A123456789,為民服務,x5,extra",
    ]
    (root / "log.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    # cp950 with a user-defined (造字) character: escaped, row kept, warning.
    body = (
        "員警編號,姓名,身分證號,手機\nTC1,王".encode("cp950")
        + b"\xfa\x40"
        + ("明,A123456789,0912-345-678、0922333444\nTC2,李四,A123456788,\n").encode("cp950")
    )
    (root / "officers.csv").write_bytes(body)
    # Wide roster in XLSX, plus an unrecognised sheet.
    _write_xlsx(
        root / "roster.xlsx",
        {
            "勤務": [
                ["日期", "員警編號", "單位", "00-02", "02-04", "22-24"],
                ["112/10/05", "TC1", "臺中一分局", "巡邏", "巡邏", None],
                [None, None, None, None, None, None],
                ["112/10/05", "TC2", "臺中一分局", None, "休假", "值班"],
            ],
            "其他": [["品名", "數量"], ["筆", 3]],
        },
    )
    (root / "notes.csv").write_text("品名,數量\n筆,3\n", encoding="utf-8")
    (root / "readme.txt.md").write_text("not data", encoding="utf-8")
    (root / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    return root


@pytest.fixture(scope="module")
def messy_ds(messy: Path):  # type: ignore[no-untyped-def]
    return load_folder(messy)


def test_messy_rejections(messy_ds) -> None:  # type: ignore[no-untyped-def]
    led = messy_ds.ledger
    assert list(led.columns) == list(LEDGER_COLUMNS)
    rej = led[(led["status"] == "rejected") & (led["source_file"] == "log.csv")]
    got = sorted(zip(rej["source_line"], rej["reason"], strict=True), key=lambda t: int(t[0]))
    assert [g[0] for g in got] == ["3", "5", "6", "9"]
    assert "unparseable time" in got[0][1]
    assert got[1][1].startswith("wrong column count: 5 field(s)")
    assert "empty required field user" in got[2][1]
    assert got[3][1].startswith("wrong column count: 7 field(s)")
    log = messy_ds.query_log
    assert log["source_line"].tolist() == ["2", "7"]
    assert log["備註"].tolist() == ["x1", "x4"]
    assert log["time"].iloc[1] == pd.Timestamp("2023-10-05 16:00", tz=TPE)
    assert list(log.columns[-3:]) == list(PROVENANCE)


def test_messy_report(messy_ds) -> None:  # type: ignore[no-untyped-def]
    files = {f.path: f for f in messy_ds.report.files}
    log = files["log.csv"]
    assert log.encoding == "utf-8-sig"
    counts = (log.count("rows_read"), log.count("rows_loaded"), log.count("rows_rejected"))
    assert counts == (6, 2, 4)
    assert log.count("warnings") == 1  # A123456788 in line 7
    assert files["officers.csv"].encoding == "cp950"
    assert files["notes.csv"].status == "unrecognised"
    assert files["readme.txt.md"].status == "unrecognised"
    assert files["broken.xlsx"].status == "unreadable"
    assert "cannot be read" in (files["broken.xlsx"].reason or "")
    assert files["roster.xlsx"].kinds == ("duty_roster", "unrecognised")
    assert set(messy_ds.report.unrecognised) == {"notes.csv", "readme.txt.md", "roster.xlsx!其他"}
    assert messy_ds.report.reconciles
    t = messy_ds.report.totals()
    assert t["rows_read"] == t["rows_loaded"] + t["rows_rejected"]
    summary = messy_ds.report.summary()
    assert "reconciles" in summary and "A123456789" not in summary
    json.dumps(messy_ds.report.to_dict())


def test_messy_escaped_bytes_and_officers(messy_ds) -> None:  # type: ignore[no-untyped-def]
    off = messy_ds.officers
    assert off["name"].tolist() == ["王\\xfa@明", "李四"]
    led = messy_ds.ledger
    warn = led[(led["source_file"] == "officers.csv") & (led["status"] == "warning")]
    assert sorted(warn["reason"].tolist()) == [
        "person ID with an invalid check digit",
        "undecodable bytes escaped",
    ]
    escaped = warn[warn["reason"] == "undecodable bytes escaped"]
    assert escaped["source_line"].tolist() == ["2"]
    assert escaped["raw"].tolist() == ["TC1,王\\xfa@明,A123456789,0912-345-678、0922333444"]
    assert list(off["phone"].iloc[0]) == ["0912-345-678", "0922333444"]
    ids = messy_ds.identifiers
    phones = ids[(ids["kind"] == "officers") & (ids["field"] == "phone")]
    assert phones["value"].tolist() == ["0912345678", "0922333444"]


def test_messy_wide_roster(messy_ds) -> None:  # type: ignore[no-untyped-def]
    r = messy_ds.duty_roster
    assert r["form"].unique().tolist() == ["wide"]
    assert r[["officer_id", "duty"]].values.tolist() == [
        ["TC1", "巡邏"],
        ["TC2", "休假"],
        ["TC2", "值班"],
    ]
    assert r["source_line"].tolist() == ["勤務!2", "勤務!4", "勤務!4"]
    assert r["end"].iloc[0] == pd.Timestamp("2023-10-05 04:00", tz=TPE)
    assert r["end"].iloc[2] == pd.Timestamp("2023-10-06 00:00", tz=TPE)
    assert r["unit"].iloc[0] == "台中一分局"


def test_skip_sha256(messy: Path, messy_ds) -> None:  # type: ignore[no-untyped-def]
    sha = {f.path: f.sha256 for f in messy_ds.report.files}
    again = load_folder(messy, skip_sha256={sha["officers.csv"]})
    files = {f.path: f for f in again.report.files}
    assert files["officers.csv"].status == "skipped" and files["officers.csv"].skipped
    assert again.report.to_dict()["totals"]["files_skipped"] == 1
    assert len(again.officers) == 0
    assert len(again.query_log) == 2
    everything = load_folder(messy, skip_sha256=set(sha.values()) - {""})
    assert len(everything.query_log) == 0
    # The store re-ingesting a folder whose log is already in: no "no query log" error.
    new_files_only = load_folder(messy, skip_sha256={sha["log.csv"]})
    assert len(new_files_only.query_log) == 0 and len(new_files_only.officers) == 2


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataFolderError, match="does not exist"):
        load_folder(tmp_path / "nope")


def test_folder_without_query_log(tmp_path: Path) -> None:
    (tmp_path / "officers.csv").write_text("員警編號,姓名\nTC1,王\n", encoding="utf-8")
    with pytest.raises(DataFolderError, match="no query log"):
        load_folder(tmp_path)


def test_missing_required_columns_named_at_once(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text("作業時間,使用者,IP\n112/10/05 14:33:21,TC1,1.1.1.1\n")
    (tmp_path / "ok.csv").write_text(HEADER + "\n" + ROW.format(t="112/10/05 14:33:21") + "\n")
    ds = load_folder(tmp_path)
    bad = next(f for f in ds.report.files if f.path == "log.csv")
    assert bad.sheets[0].kind == "schema_error"
    assert bad.sheets[0].missing == ("operation", "conditions")
    assert "operation, conditions" in (bad.reason or "")
    with pytest.raises(SchemaError) as info:
        load_folder(tmp_path, strict=True)
    assert info.value.missing == ("operation", "conditions")
    assert info.value.file == "log.csv"
    (tmp_path / "ok.csv").unlink()
    with pytest.raises(DataFolderError, match="operation, conditions"):
        load_folder(tmp_path)


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        pytest.param(["作業時間", "使用者", "作業種類", "查詢條件"], "query_log", id="query-log"),
        pytest.param(["time", "USER", "Operation", "conditions"], "query_log", id="english"),
        pytest.param(
            ["ＩＰ", "作業 時間", "user", "作業種類", "查詢條件"], "query_log", id="fullwidth"
        ),
        pytest.param(["識別", "類別", "說明"], "watchlist", id="watchlist"),
        pytest.param(["識別", "所屬", "關係", "來源"], "identities", id="identities"),
        pytest.param(["車牌號碼", "類別"], "police_vehicles", id="vehicles"),
        pytest.param(["日期", "員警編號", "0-2", "2-4"], "duty_roster", id="wide-roster"),
        pytest.param(["品名", "數量"], None, id="unrecognised"),
    ],
)
def test_detect_kind(headers: list[str], kind: str | None) -> None:
    assert detect_kind(headers).kind == kind
    assert kind is None or kind in KINDS


def test_summary_of_a_large_folder_fits_one_screen() -> None:
    from kit.load.report import FileReport, IngestReport, SheetReport

    clean = [
        FileReport(
            f"query_log/q_{n:03d}.csv",
            "0" * 64,
            "csv",
            "utf-8",
            sheets=(SheetReport(None, "query_log", 1000, 1000),),
        )
        for n in range(400)
    ]
    roster = FileReport(
        "duty_roster/r.csv",
        "1" * 64,
        "csv",
        "cp950",
        sheets=(SheetReport(None, "duty_roster", 50, 48, 2, 1),),
    )
    notes = FileReport("notes.txt", "2" * 64, "other", status="unrecognised")
    report = IngestReport("/data", (*clean[:200], roster, *clean[200:], notes))
    lines = report.summary().splitlines()
    assert len(lines) <= 20
    text = "\n".join(lines)
    assert "400050 read = 400048 loaded + 2 rejected (reconciles)" in text
    assert any(line.split()[:3] == ["query_log", "400", "400000"] for line in lines)
    assert "duty_roster/r.csv" in text and "notes.txt" in text
    assert "q_000.csv" not in text, "clean files are totalled, not listed"
    small = IngestReport("/data", (*clean[:3], roster))
    assert "q_002.csv" in small.summary(), "a small folder lists every file"
