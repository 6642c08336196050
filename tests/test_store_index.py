"""The look-up index (kit.store.index): same answers as the DuckDB queries, never stale."""

from __future__ import annotations

import copy
import importlib
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from kit.store import compact, ingest, lookups_by_officer, lookups_by_subject, open_store
from kit.store import index as store_index
from kit.store.layout import Store

LATER = "重新匯出"
"""The generator's folder of re-exports: rows that overlap the other exports."""


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kit.synth import generate

    folder = tmp_path_factory.mktemp("synth") / "agency"
    generate(folder, seed=5, officers=12, months=3, start="2023-08")
    return folder


@pytest.fixture(scope="module")
def store_dir(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the generated folder ingested in two runs: the re-exports overlap the first."""
    data = tmp_path_factory.mktemp("data") / "agency"
    shutil.copytree(generated, data)
    later = tmp_path_factory.mktemp("later")
    shutil.move(data / LATER, later / LATER)
    logs = sorted((data / "資料").glob("*.csv"))
    shutil.move(logs[-1], later / logs[-1].name)
    root = tmp_path_factory.mktemp("stores") / "store"
    ingest(data, root, workers=1)
    shutil.move(later / LATER, data / LATER)
    shutil.move(later / logs[-1].name, logs[-1])
    result = ingest(data, root, workers=1)
    assert result.new_rows["query_log"] > 0 and result.duplicates.get("query_log", 0) > 0
    return root


def _without_index(store: Store) -> Store:
    """The same store as a kit without the index reads it (the DuckDB queries)."""
    manifest = copy.deepcopy(store.manifest)
    manifest.index = {}
    return Store(store.path, manifest)


def _forbid_duckdb(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Store) -> None:
        raise AssertionError("the look-up queried DuckDB instead of reading the index")

    monkeypatch.setattr(Store, "connect", refuse)


def _officers(store: Store) -> list[str]:
    con = duckdb.connect()
    files = store.files("query_log")
    users = con.execute(
        'SELECT DISTINCT "user" FROM read_parquet(?, union_by_name = true) '
        "UNION SELECT DISTINCT actual_user FROM read_parquet(?, union_by_name = true) "
        "WHERE actual_user IS NOT NULL",
        [files, files],
    ).fetchall()
    return sorted(str(u[0]) for u in users)


def _subjects(store: Store) -> list[tuple[str, str]]:
    table = pq.ParquetDataset(store.files("subjects")).read(columns=["entity", "value"])
    pairs = sorted(
        set(zip(*(table.column(c).to_pylist() for c in ("entity", "value")), strict=True))
    )
    return pairs[:: max(1, len(pairs) // 60)]


PERIODS = [
    (None, None),
    ("2023-08-20", "2023-09-10"),
    ("112/09/01", None),
    (None, "2023-08-31"),
    ("2023-10-31", "2023-10-31"),
]


def test_every_month_has_a_current_index(store_dir: Path) -> None:
    store = open_store(store_dir)
    assert (
        sorted(store.manifest.index) == store.manifest.months == ["2023-08", "2023-09", "2023-10"]
    )
    for month in store.manifest.months:
        assert store_index.is_current(store.manifest, month)
    on_disk = {p.relative_to(store_dir).as_posix() for p in (store_dir / "index").rglob("*")}
    assert {p for p in on_disk if p.endswith(".arrow")} == store.manifest.index_files()


def test_officer_look_ups_equal_the_duckdb_queries(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(store_dir)
    officers = _officers(store)
    proxies = store.manifest.rows.get("proxies", 0)
    assert proxies > 0, "the generated data has lookups made through another account"
    expected = {
        (o, p): lookups_by_officer(_without_index(store), o, *p)
        for o in [*officers, "TC404", f" {officers[0]} "]
        for p in PERIODS
    }
    assert sum(len(e) for e in expected.values()) > 0
    _forbid_duckdb(monkeypatch)
    for (officer, period), frame in expected.items():
        pd.testing.assert_frame_equal(lookups_by_officer(store, officer, *period), frame)


def test_subject_look_ups_equal_the_duckdb_queries(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(store_dir)
    subjects = _subjects(store)
    old = _without_index(store)
    cases = [(v, e, p) for e, v in subjects for p in PERIODS[:2]]
    cases += [(v, None, (None, None)) for _, v in subjects]  # every entity the text may be
    expected = [lookups_by_subject(old, v, *p, entity=e) for v, e, p in cases]
    assert sum(len(e) > 1 for e in expected) > 5, "subjects looked up several times"
    _forbid_duckdb(monkeypatch)
    for (value, entity, period), frame in zip(cases, expected, strict=True):
        got = lookups_by_subject(store, value, *period, entity=entity)
        pd.testing.assert_frame_equal(got, frame)


def test_subject_with_several_keys(store_dir: Path) -> None:
    """Two identifiers in one text: the answer holds each key's lookups once, in time order."""
    store = open_store(store_dir)
    table = pq.ParquetDataset(store.files("subjects")).read(columns=["entity", "value"])
    counts = table.to_pandas().value_counts()
    plate = counts.xs("plate", level="entity").index[0]
    person = counts.xs("person_id", level="entity").index[0]
    text = f"車牌={plate} 身分證號={person}"
    both = lookups_by_subject(store, text)
    alone = [lookups_by_subject(store, plate, entity="plate")]
    alone.append(lookups_by_subject(store, person, entity="person_id"))
    assert all(len(a) > 1 for a in alone)
    assert set(both["lookup_id"]) == set(alone[0]["lookup_id"]) | set(alone[1]["lookup_id"])
    assert both["lookup_id"].is_unique and both["time"].is_monotonic_increasing
    pd.testing.assert_frame_equal(both, lookups_by_subject(_without_index(store), text))


def test_stale_index_is_not_used(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ingest that did not rebuild the index: the look-ups still see its new rows."""
    data = tmp_path / "data"
    shutil.copytree(generated, data)
    later = sorted((data / "資料").glob("*.csv"))[-1]
    kept = later.read_bytes()
    later.unlink()
    ingest(data, tmp_path / "store", workers=1)
    before = open_store(tmp_path / "store")
    counts = {o: len(lookups_by_officer(before, o)) for o in _officers(before)}
    later.write_bytes(kept)
    module = importlib.import_module("kit.store.ingest")  # the module, not the function
    monkeypatch.setattr(module, "build_indexes", lambda *_: [])
    ingest(data, tmp_path / "store", workers=1)
    monkeypatch.undo()
    store = open_store(tmp_path / "store")
    stale = [m for m in store.manifest.months if not store_index.is_current(store.manifest, m)]
    assert stale, "the second ingest changed months without rebuilding their index"
    officer = next(o for o in counts if len(lookups_by_officer(store, o)) > counts[o])
    rows = lookups_by_officer(store, officer)
    pd.testing.assert_frame_equal(rows, lookups_by_officer(_without_index(store), officer))
    ingest(data, tmp_path / "store", workers=1)  # nothing new: the stale months are rebuilt
    rebuilt = open_store(tmp_path / "store")
    assert all(store_index.is_current(rebuilt.manifest, m) for m in rebuilt.manifest.months)
    pd.testing.assert_frame_equal(lookups_by_officer(rebuilt, officer), rows)


def test_store_of_an_older_kit_answers_then_gets_an_index(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "store"
    shutil.copytree(store_dir, root)
    current = open_store(root)
    officer, (entity, value) = _officers(current)[1], _subjects(current)[3]
    expected = (
        lookups_by_officer(current, officer),
        lookups_by_subject(current, value, entity=entity),
    )
    shutil.rmtree(root / "index")
    document = json.loads((root / "store.json").read_text(encoding="utf-8"))
    del document["index"]
    (root / "store.json").write_text(json.dumps(document), encoding="utf-8")
    older = open_store(root)
    assert older.manifest.index == {}
    pd.testing.assert_frame_equal(lookups_by_officer(older, officer), expected[0])
    pd.testing.assert_frame_equal(lookups_by_subject(older, value, entity=entity), expected[1])
    rebuilt = compact(root)
    assert sorted(rebuilt.manifest.index) == rebuilt.manifest.months
    _forbid_duckdb(monkeypatch)
    pd.testing.assert_frame_equal(lookups_by_officer(rebuilt, officer), expected[0])
    pd.testing.assert_frame_equal(lookups_by_subject(rebuilt, value, entity=entity), expected[1])


def test_missing_index_file_falls_back(store_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "store"
    shutil.copytree(store_dir, root)
    store = open_store(root)
    officer = _officers(store)[2]
    expected = lookups_by_officer(_without_index(store), officer)
    month = store.manifest.months[0]
    (root / store.manifest.index[month]["lookups"]).unlink()  # never read in this process
    assert store_index.month_indexes(store, store.manifest.months) is None
    pd.testing.assert_frame_equal(lookups_by_officer(store, officer), expected)


def test_answer_order_is_duckdbs_order_by() -> None:
    """Lookups are ordered as DuckDB's ``ORDER BY`` of :data:`ANSWER_ORDER` orders them.

    Equal times, then the source file, the line as a number (``9`` before
    ``10``; a line that is no number, or none, after the numbers), the line
    as text, the lookup ID; nulls last. The kit sorts in Arrow (the keys
    only); DuckDB here is the reference.
    """
    import datetime as dt

    import numpy as np
    import pyarrow as pa

    moment = dt.datetime(2023, 5, 1, 9, 30, tzinfo=dt.UTC)
    later = moment + dt.timedelta(microseconds=1)
    rows = [
        (later, "a.csv", "1", "x1"),
        (moment, "b.csv", "1", "x2"),
        (moment, "a.csv", "10", "x3"),
        (moment, "a.csv", "9", "x4"),
        (moment, "a.csv", "x", "x5"),
        (moment, "a.csv", None, "x6"),
        (moment, "a.csv", " 9", "x7"),
        (moment, "a.csv", "9", "x0"),
        (moment, None, "1", "x8"),
        (None, "a.csv", "1", "x9"),
        (moment, "a.csv", "09", "xa"),
        (moment, "a.csv", "w", "xb"),
    ]
    shuffled = [rows[i] for i in np.random.default_rng(7).permutation(len(rows))]
    table = pa.table(
        {
            "time": pa.array([r[0] for r in shuffled], pa.timestamp("us", tz="UTC")),
            "source_file": pa.array([r[1] for r in shuffled], pa.large_string()),
            "source_line": pa.array([r[2] for r in shuffled], pa.large_string()),
            "lookup_id": pa.array([r[3] for r in shuffled], pa.large_string()),
        }
    )
    con = duckdb.connect()
    con.register("shuffled", table)
    expected = con.sql(f"SELECT lookup_id FROM shuffled ORDER BY {store_index.ANSWER_ORDER}")
    got = table.take(store_index.answer_positions(con, table)).column("lookup_id").to_pylist()
    assert got == [row[0] for row in expected.fetchall()]
    # " 9", "09" and "9" are all line 9, then ordered as text; "9" twice, by ID
    assert got == ["x7", "xa", "x0", "x4", "x3", "xb", "x5", "x6", "x2", "x8", "x1", "x9"]
