from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow.parquet as pq
import pytest

from kit.errors import StoreError
from kit.load import load_folder
from kit.schema import KINDS
from kit.store import (
    ingest,
    load_dataset,
    lookups_by_officer,
    lookups_by_subject,
    open_store,
)
from kit.store import layout as store_layout

TZ = ZoneInfo("Asia/Taipei")
HEADER = "作業時間,單位,使用者,IP,作業種類,查詢條件,實際查詢者,實際查詢單位,用途\n"
UNIT = "第三分局西屯派出所"

# time | user | ip | operation | conditions | actual_user | purpose
LOOKUPS = [
    tuple(line.split("|"))
    for line in """\
2023-09-01 00:00:00|TC001|10.0.0.1|車籍資料查詢|車牌號碼=abc-1234||舉發交通違規
2023-09-15 08:10:00|TC001|10.0.0.1|戶役政-個人戶籍資料查詢|身分證號=A123456789||偵查犯罪
2023-09-30 23:59:59|TC002|10.0.0.2|車籍資料查詢|ABC-1234||臨檢盤查
2023-10-01 00:00:00|TC002|10.0.0.2|車籍資料查詢|車號:ＡＢＣ１２３４|TC001|為民服務
2023-10-02 10:00:00|TC003|10.0.0.3|165反詐騙-警示帳戶查詢|帳號=822-1234567890123||偵查犯罪
2023-10-03 11:00:00|TC001|10.0.0.1|車籍資料查詢|車牌號碼=XYZ-9876||舉發交通違規
2023-10-31 23:59:59|TC003|10.0.0.3|通緝資料查詢|身分證號=A123456789;電話=0912-345-678||通緝查捕
2023-11-01 09:00:00|TC001|10.0.0.1|車籍資料查詢|車牌=ABC1234||舉發交通違規""".splitlines()
]
BAD_ROW = '"=HYPERLINK(""http://x"")",第三分局,TC009,10.0.0.9,車籍資料查詢,車牌號碼=QQQ-1111,,,\n'

# Rows of a later, overlapping export: two old lookups again, two new ones.
OVERLAP = [LOOKUPS[6], LOOKUPS[7]]
NEW = [
    tuple(line.split("|"))
    for line in """\
2023-11-02 09:30:00|TC002|10.0.0.2|車籍資料查詢|車牌號碼=abc1234||臨檢盤查
2023-11-03 14:00:00|TC003|10.0.0.3|駕籍資料查詢|身分證號=B123456780||為民服務""".splitlines()
]


def _row(lookup: tuple[str, ...]) -> str:
    time, user, ip, op, cond, actual, purpose = lookup
    actual_unit = UNIT if actual else ""
    return f"{time},{UNIT},{user},{ip},{op},{cond},{actual},{actual_unit},{purpose}\n"


def _write_folder(folder: Path) -> Path:
    (folder / "logs").mkdir(parents=True)
    text = HEADER + "".join(_row(r) for r in LOOKUPS[:5]) + BAD_ROW
    (folder / "logs" / "export_0001.csv").write_text(text, encoding="utf-8")
    text = HEADER + "".join(_row(r) for r in LOOKUPS[5:])
    (folder / "logs" / "export_0002.csv").write_text(text, encoding="utf-8-sig")
    (folder / "officers.csv").write_text(
        "員警編號,姓名,單位,手機\nTC001,王小明,第三分局西屯派出所,0912-000-111;0912-000-222\n"
        "TC002,李大華,第三分局西屯派出所,0912-000-333\nTC003,陳美玲,第三分局西屯派出所,\n",
        encoding="utf-8",
    )
    return folder


def _folder_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_folder(tmp_path_factory.mktemp("data") / "agency")


@pytest.fixture(scope="module")
def loaded(data_dir: Path):
    return load_folder(data_dir)


@pytest.fixture(scope="module")
def built(data_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    before = _folder_digest(data_dir)
    store_dir = tmp_path_factory.mktemp("stores") / "store"
    result = ingest(data_dir, store_dir)
    assert _folder_digest(data_dir) == before, "ingest wrote into the data folder"
    return store_dir, result


@pytest.fixture(scope="module")
def store(built):
    return open_store(built[0])


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["lookup_id", "source_file", "source_line"]).reset_index(drop=True)


def test_ingest_stores_every_loaded_lookup(built, loaded) -> None:
    store_dir, result = built
    assert result.new_rows["query_log"] == len(loaded.query_log) == len(LOOKUPS)
    assert result.totals["query_log"] == len(LOOKUPS)
    assert set(result.new_files) == {"logs/export_0001.csv", "logs/export_0002.csv", "officers.csv"}
    manifest = json.loads((store_dir / "store.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "kit-store" and manifest["version"] == 1
    assert manifest["months"] == ["2023-09", "2023-10", "2023-11"]
    assert all("/month=" in p for p in manifest["parts"]["query_log"])
    report = json.loads((store_dir / "ingest_report.json").read_text(encoding="utf-8"))
    assert report["store_totals"]["query_log"] == len(LOOKUPS)
    assert report["loader"]["totals"]["rows_rejected"] == 1


def test_query_log_files_are_sorted_by_user_then_time(store) -> None:
    for path in store.files("query_log"):
        frame = pq.read_table(path, columns=["user", "time"]).to_pandas()
        expected = frame.sort_values(["user", "time"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(frame, expected)


def test_reingest_adds_nothing(data_dir: Path, tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    ingest(data_dir, store_dir)
    first = json.loads((store_dir / "store.json").read_text(encoding="utf-8"))
    again = ingest(data_dir, store_dir)
    assert not any(again.new_rows.values())
    assert again.new_files == ()
    assert again.totals["query_log"] == len(LOOKUPS)
    second = json.loads((store_dir / "store.json").read_text(encoding="utf-8"))
    assert second["parts"] == first["parts"] and second["tables"] == first["tables"]
    assert {f.status for f in again.report.files} == {"skipped"}


def test_overlapping_export_adds_only_new_rows(data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    shutil.copytree(data_dir, folder)
    store_dir = tmp_path / "store"
    ingest(folder, store_dir)
    # The same lookups written in another time format: same instant, same lookup.
    roc = [(_roc(r[0]), *r[1:]) for r in OVERLAP]
    text = HEADER + "".join(_row(r) for r in [*roc, *NEW])
    (folder / "logs" / "export_0003.csv").write_text(text, encoding="utf-8")
    # A roster re-export: one officer again (same phones), one new officer.
    (folder / "officers_2.csv").write_text(
        "員警編號,姓名,單位,手機\nTC001,王小明,第三分局西屯派出所,0912-000-111;0912-000-222\n"
        "TC004,林志明,第三分局西屯派出所,0912-000-444\n",
        encoding="utf-8",
    )
    result = ingest(folder, store_dir)
    assert result.new_files == ("logs/export_0003.csv", "officers_2.csv")
    assert result.new_rows["officers"] == 1 and result.duplicates["officers"] == 1
    assert result.new_rows["identifiers"] == 1, "the re-exported officer's phones are not added"
    assert result.new_rows["query_log"] == len(NEW)
    assert result.duplicates["query_log"] == len(OVERLAP)
    assert result.totals["query_log"] == len(LOOKUPS) + len(NEW)
    stored = load_dataset(open_store(store_dir)).query_log
    assert stored["lookup_id"].is_unique
    kept = stored[stored["time"] == pd.Timestamp(LOOKUPS[7][0], tz=TZ)]
    assert kept["source_file"].tolist() == ["logs/export_0002.csv"], "the stored row is kept"
    rejects = pd.read_csv(store_dir / "rejects.csv", encoding="utf-8-sig", dtype=str)
    dups = rejects[rejects["status"] == "duplicate"]
    assert sorted(dups["source_file"]) == ["logs/export_0003.csv"] * len(OVERLAP)


def test_look_ups_read_months_of_different_schemas(data_dir: Path, tmp_path: Path) -> None:
    """A later export with an extra column: its month's file differs from the others."""
    folder = tmp_path / "data"
    shutil.copytree(data_dir, folder)
    store_dir = tmp_path / "store"
    ingest(folder, store_dir)
    text = HEADER.rstrip("\n") + ",備註\n" + _row(NEW[0]).rstrip("\n") + ",複查\n"
    (folder / "logs" / "export_0003.csv").write_text(text, encoding="utf-8")
    ingest(folder, store_dir)
    store = open_store(store_dir)
    schemas = {str(pq.read_schema(f)) for f in store.files("query_log")}
    assert len(schemas) == 2, "November's file has the extra column, September's has not"
    rows = lookups_by_officer(store, "TC002")
    assert len(rows) == 3
    assert rows["備註"].isna().tolist() == [True, True, False]
    assert len(lookups_by_subject(store, "ABC-1234", "2023-11-01", "2023-11-30")) == 2


def _roc(iso: str) -> str:
    moment = datetime.fromisoformat(iso)
    return f"{moment.year - 1911}/{moment:%m/%d %H:%M:%S}"


@pytest.mark.parametrize("officer", ["TC001", "TC002", "TC003", "TC404"])
def test_lookups_by_officer_matches_pandas(store, loaded, officer: str) -> None:
    ql = loaded.query_log
    expected = ql[(ql["user"] == officer) | (ql["actual_user"] == officer)]
    got = lookups_by_officer(store, officer)
    assert got["time"].is_monotonic_increasing
    pd.testing.assert_frame_equal(_sorted(got), _sorted(expected))


def test_officer_lookups_include_proxy_lookups(store) -> None:
    got = lookups_by_officer(store, "TC001")
    proxied = got[got["user"] != "TC001"]
    assert proxied["actual_user"].tolist() == ["TC001"]


@pytest.mark.parametrize(
    ("written", "entity", "value"),
    [
        ("abc-1234", "plate", "ABC1234"),
        ("ABC1234", "plate", "ABC1234"),
        ("車牌號碼=ＡＢＣ－１２３４", "plate", "ABC1234"),
        ("a123456789", "person_id", "A123456789"),
        ("0912 345 678", "phone", "0912345678"),
        ("帳號=822-1234567890123", "account", "8221234567890123"),
    ],
)
def test_lookups_by_subject_matches_pandas(store, loaded, written, entity, value) -> None:
    subjects = loaded.subjects
    ids = subjects[(subjects["entity"] == entity) & (subjects["value"] == value)]["lookup_id"]
    expected = loaded.query_log[loaded.query_log["lookup_id"].isin(ids)]
    assert len(expected) > 0
    got = lookups_by_subject(store, written)
    pd.testing.assert_frame_equal(_sorted(got), _sorted(expected))


def test_bare_account_with_entity(store) -> None:
    got = lookups_by_subject(store, "8221234567890123", entity="account")
    assert got["user"].tolist() == ["TC003"]
    assert len(lookups_by_subject(store, "ZZZ-0000")) == 0


@pytest.mark.parametrize(
    ("start", "end", "times"),
    [
        ("2023-09-30", "2023-10-01", ["2023-09-30 23:59:59", "2023-10-01 00:00:00"]),
        ("112/09/30", "112/09/30", ["2023-09-30 23:59:59"]),
        (date(2023, 10, 31), date(2023, 11, 1), ["2023-10-31 23:59:59", "2023-11-01 09:00:00"]),
        (datetime(2023, 9, 1), datetime(2023, 9, 1), ["2023-09-01 00:00:00"]),
        (None, "2023-09-01", ["2023-09-01 00:00:00"]),
        ("2023-11-01", None, ["2023-11-01 09:00:00"]),
    ],
)
def test_period_bounds_are_inclusive(store, start, end, times) -> None:
    got = pd.concat(
        [lookups_by_officer(store, o, start, end) for o in ("TC001", "TC002", "TC003")]
    ).drop_duplicates("lookup_id")
    expected = [pd.Timestamp(t, tz=TZ) for t in times]
    assert sorted(got["time"]) == expected


def test_subject_period(store) -> None:
    got = lookups_by_subject(store, "ABC-1234", "2023-09-30", "112/10/01")
    assert got["time"].tolist() == [
        pd.Timestamp("2023-09-30 23:59:59", tz=TZ),
        pd.Timestamp("2023-10-01 00:00:00", tz=TZ),
    ]


def test_load_dataset_round_trips_every_kind(store, loaded) -> None:
    ds = load_dataset(store)
    for kind in KINDS:
        pd.testing.assert_series_equal(ds.frame(kind).dtypes, loaded.frame(kind).dtypes)
    assert str(ds.query_log["time"].dtype) == "datetime64[us, Asia/Taipei]"
    pd.testing.assert_frame_equal(_sorted(ds.query_log), _sorted(loaded.query_log))
    pd.testing.assert_frame_equal(
        ds.officers.reset_index(drop=True), loaded.officers.reset_index(drop=True)
    )
    key = ["lookup_id", "entity", "value", "raw"]
    pd.testing.assert_frame_equal(
        ds.subjects.sort_values(key).reset_index(drop=True),
        loaded.subjects.sort_values(key).reset_index(drop=True),
    )
    assert len(ds.ledger) == len(loaded.ledger)
    assert {f.path for f in ds.report.files} == {f.path for f in loaded.report.files}


def test_load_dataset_period_margins_and_officers(store) -> None:
    ds = load_dataset(store, "2023-10-01", "2023-10-31")
    assert len(ds.query_log) == 4
    assert set(ds.subjects["lookup_id"]) <= set(ds.query_log["lookup_id"])
    wide = load_dataset(
        store,
        "2023-10-01",
        "2023-10-31",
        margin_before=timedelta(days=1),
        margin_after=timedelta(hours=10),
    )
    assert len(wide.query_log) == 6
    only = load_dataset(store, officers=["TC003"])
    assert set(only.query_log["user"]) == {"TC003"}
    assert len(only.officers) == 3, "the small kinds are loaded whole"


def test_rejects_csv_neutralises_formulas(built) -> None:
    store_dir, _ = built
    raw = (store_dir / "rejects.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rejects = pd.read_csv(store_dir / "rejects.csv", encoding="utf-8-sig", dtype=str)
    rejected = rejects[rejects["status"] == "rejected"]
    assert len(rejected) == 1
    assert rejected["source_file"].tolist() == ["logs/export_0001.csv"]
    cells = rejected.fillna("").to_numpy().ravel().tolist()
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert any(c.startswith("'=HYPERLINK") for c in cells)


def test_open_store_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        open_store(tmp_path / "missing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(StoreError, match="not a kit store"):
        open_store(tmp_path / "other")
    (tmp_path / "other" / "store.json").write_text('{"format": "x"}', encoding="utf-8")
    with pytest.raises(StoreError):
        open_store(tmp_path / "other")


def test_ingest_refuses_unsafe_store_folders(data_dir: Path, tmp_path: Path) -> None:
    before = _folder_digest(data_dir)
    with pytest.raises(StoreError, match="inside the data folder"):
        ingest(data_dir, data_dir / "store")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(StoreError, match="not empty"):
        ingest(data_dir, other)
    assert _folder_digest(data_dir) == before


@pytest.mark.parametrize("workers", [1, 2])
def test_batched_ingest_equals_single_batch(
    data_dir: Path, tmp_path: Path, loaded, workers: int
) -> None:
    result = ingest(data_dir, tmp_path / "store", batch_bytes=1, workers=workers)
    assert result.new_rows["query_log"] == len(LOOKUPS)
    assert len(result.report.files) == 3
    store = open_store(tmp_path / "store")
    ds = load_dataset(store)
    pd.testing.assert_frame_equal(_sorted(ds.query_log), _sorted(loaded.query_log))
    assert not (tmp_path / "store" / ".staging").exists()
    for dataset in ("query_log", "subjects"):
        months = [p.split("/")[1] for p in store.manifest.parts[dataset]]
        assert len(months) == len(set(months)) == 3, "one compacted file per month"
    for path in store.files("query_log"):
        frame = pq.read_table(path, columns=["user", "time"]).to_pandas()
        pd.testing.assert_frame_equal(
            frame, frame.sort_values(["user", "time"]).reset_index(drop=True)
        )
    on_disk = {p.relative_to(store.path).as_posix() for p in store.path.rglob("*.parquet")}
    assert on_disk == store.manifest.referenced()


def test_interrupted_ingest_leaves_store_intact(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "data"
    shutil.copytree(data_dir, folder)
    store_dir = tmp_path / "store"
    ingest(folder, store_dir)
    text = HEADER + "".join(_row(r) for r in NEW)
    (folder / "logs" / "export_0003.csv").write_text(text, encoding="utf-8")

    def crash(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sys.modules["kit.store.ingest"], "write_manifest", crash)
    with pytest.raises(KeyboardInterrupt):
        ingest(folder, store_dir)
    monkeypatch.undo()
    assert len(load_dataset(open_store(store_dir)).query_log) == len(LOOKUPS)
    result = ingest(folder, store_dir)
    assert result.new_rows["query_log"] == len(NEW)
    store = open_store(store_dir)
    on_disk = {p.relative_to(store_dir).as_posix() for p in store_dir.rglob("*.parquet")}
    assert on_disk == store.manifest.referenced(), "stray files of the crash are removed"
    assert store_layout.read_manifest(store_dir).rows["query_log"] == len(LOOKUPS) + len(NEW)


@pytest.fixture(scope="module")
def synth_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kit.synth import generate

    folder = tmp_path_factory.mktemp("synth") / "messy"
    generate(folder, seed=5, officers=12, months=1, start="2023-08")
    return folder


def test_messy_generated_folder_round_trips(synth_folder: Path, tmp_path: Path) -> None:
    key = json.loads((synth_folder / "answer_key.json").read_text(encoding="utf-8"))
    loaded = load_folder(synth_folder)
    result = ingest(synth_folder, tmp_path / "store")
    assert result.totals["query_log"] == key["distinct_valid_lookups"] == len(loaded.query_log)
    stored = load_dataset(open_store(tmp_path / "store"))
    for kind in KINDS:
        got, expected = stored.frame(kind), loaded.frame(kind)
        order = [c for c in ("source_file", "source_line") if c in got.columns]
        if kind == "duty_roster":
            order = [*order, "start"]
        pd.testing.assert_frame_equal(
            got.sort_values(order).reset_index(drop=True),
            expected.sort_values(order).reset_index(drop=True),
            obj=kind,
        )
    rejected = stored.ledger[stored.ledger["status"] == "rejected"]
    assert len(rejected) == len(loaded.ledger[loaded.ledger["status"] == "rejected"])
    again = ingest(synth_folder, tmp_path / "store")
    assert not any(again.new_rows.values())


def test_ingest_lock(data_dir: Path, tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    lock = store_dir / ".ingest.lock"
    lock.write_text(str(os.getpid()), encoding="ascii")
    with pytest.raises(StoreError, match="another ingest"):
        ingest(data_dir, store_dir)
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    lock.write_text(finished.stdout.strip(), encoding="ascii")
    result = ingest(data_dir, store_dir)
    assert result.totals["query_log"] == len(LOOKUPS)
    assert not lock.exists()


def test_batches_cover_every_file_once_each_with_a_query_log(synth_folder: Path) -> None:
    from kit.store.ingest import _batches, _is_query_log_csv

    batches = _batches(synth_folder, 30_000)
    assert len(batches) >= 2
    flat = [p for batch in batches for p in batch]
    assert sorted(flat) == sorted(p for p in synth_folder.rglob("*") if p.is_file())
    assert len(flat) == len(set(flat))
    assert all(any(_is_query_log_csv(p) for p in batch) for batch in batches)


def test_batches_borrow_a_query_log_only_once_when_logs_sort_first(
    synth_folder: Path, tmp_path: Path
) -> None:
    """The other kinds come after the logs: a borrowed log must leave its batch."""
    from kit.store.ingest import _batches, _is_query_log_csv

    log = next(p for p in sorted(synth_folder.rglob("*.csv")) if _is_query_log_csv(p))
    other = next(p for p in sorted(synth_folder.rglob("*.csv")) if not _is_query_log_csv(p))
    for folder, source, count in (("a_logs", log, 4), ("z_rest", other, 3)):
        (tmp_path / folder).mkdir()
        for n in range(count):
            shutil.copy(source, tmp_path / folder / f"{n}.csv")
    batches = _batches(tmp_path, log.stat().st_size + 1)  # two logs per batch
    flat = [p for batch in batches for p in batch]
    assert sorted(flat) == sorted(tmp_path.rglob("*.csv"))
    assert len(flat) == len(set(flat)), "a query log is in two batches"
    assert all(any(_is_query_log_csv(p) for p in batch) for batch in batches)
    one_log = _batches(tmp_path / "a_logs", 1)
    assert [len(b) for b in one_log] == [1, 1, 1, 1]


def test_compact_merges_parts_of_each_month(
    data_dir: Path, tmp_path: Path, loaded, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kit.store import compact
    from kit.store.append import Appender

    monkeypatch.setattr(Appender, "compact", lambda self: [])
    ingest(data_dir, tmp_path / "store", batch_bytes=1, workers=1)
    monkeypatch.undo()
    before = open_store(tmp_path / "store")
    assert len(before.manifest.parts["query_log"]) > 3
    store = compact(tmp_path / "store")
    months = [p.split("/")[1] for p in store.manifest.parts["query_log"]]
    assert len(months) == len(set(months)) == 3
    on_disk = {p.relative_to(store.path).as_posix() for p in store.path.rglob("*.parquet")}
    assert on_disk == store.manifest.referenced()
    pd.testing.assert_frame_equal(_sorted(load_dataset(store).query_log), _sorted(loaded.query_log))
    assert len(lookups_by_subject(store, "ABC-1234")) == 4


def test_appender_in_memory_merges_small_tables_like_the_spool(loaded, tmp_path: Path) -> None:
    """Without a spool folder the small kinds stay in memory; the merge is the same."""
    import duckdb

    from kit.store.append import Appender
    from kit.store.layout import Manifest

    root = tmp_path / "store"
    root.mkdir()
    manifest = Manifest()
    first = Appender(root, manifest, "run1", duckdb.connect(), "now")
    first.add(loaded)
    first.finish()
    assert first.new_rows["officers"] == len(loaded.officers)
    assert first.new_rows["identifiers"] == len(loaded.identifiers) > 0
    again = Appender(root, manifest, "run2", duckdb.connect(), "later")
    again.add(loaded)  # the same rows again: every small row is already stored
    again.finish()
    assert again.duplicates["officers"] == len(loaded.officers)
    assert again.new_rows.get("officers", 0) == 0
    assert again.new_rows.get("identifiers", 0) == 0, "the dropped rows' identifiers go too"
    stored = pq.read_table(root / manifest.tables["officers"]).to_pandas()
    assert stored["source_line"].tolist() == loaded.officers["source_line"].tolist()
    assert manifest.rows["identifiers"] == len(loaded.identifiers)


def test_to_frame_remembers_only_what_the_nulls_cannot_change(store) -> None:
    # pyarrow converts a boolean column with a null to object: a schema that converted as
    # stored once must still be checked when such a null appears
    import pyarrow as pa

    schema = store.schema("query_log")
    table = schema.arrow.empty_table()
    store_layout._AS_STORED.clear()
    first = store_layout.to_frame(table, schema)
    assert first.dtypes.tolist() == schema.pandas_dtypes
    assert store_layout._AS_STORED  # remembered for tables without such nulls
    at = schema.arrow.get_field_index("handheld")
    with_null = pa.table(
        [
            pa.nulls(1, f.type) if i != at else pa.array([None], pa.bool_())
            for i, f in enumerate(schema.arrow)
        ],
        schema=schema.arrow,
    )
    again = store_layout.to_frame(with_null, schema)
    store_layout._AS_STORED.clear()
    fresh = store_layout.to_frame(with_null, schema)
    assert again.dtypes.tolist() == fresh.dtypes.tolist() == schema.pandas_dtypes


def test_absent_kinds_load_from_the_schemas_the_ingest_recorded(store, tmp_path) -> None:
    import json
    import shutil

    from kit.load.complete import empty_frame
    from kit.schema import KINDS

    absent = [k for k in KINDS if k != "query_log" and store.table_path(k) is None]
    assert len(absent) >= 8
    assert all(store.schema(k) is not None for k in absent)  # recorded at ingest
    ds = load_dataset(store)
    for kind in absent:
        pd.testing.assert_frame_equal(ds.frame(kind), empty_frame(kind), check_index_type=True)
    # a store written before the kit recorded them still loads the same frames
    old = tmp_path / "old_store"
    shutil.copytree(store.path, old)
    manifest = json.loads((old / "store.json").read_text(encoding="utf-8"))
    for kind in absent:
        del manifest["schemas"][kind]
    (old / "store.json").write_text(json.dumps(manifest), encoding="utf-8")
    before = load_dataset(open_store(old))
    for kind in absent:
        pd.testing.assert_frame_equal(before.frame(kind), ds.frame(kind))
