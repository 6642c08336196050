"""Benchmark: how near can any ingest come to DuckDB's plain copy? A floor, not the kit.

Not part of ``make test``. Run from the repository root on a generated folder::

    .venv/bin/python bench/ingest_floor.py FOLDER [--rounds 3]

``FOLDER`` is ``kit.synth --clean`` output (UTF-8 query logs named in its
``answer_key.json``). Each round times, in this process and alternated:

- ``plain``: DuckDB's ``COPY (SELECT * FROM read_csv(...)) TO parquet`` of the
  query-log files (the baseline of ``bench/ingest.py``);
- ``sorted+hash``: the same copy sorted by user and time, with a SHA-256 of
  the lookup's fields, all inside DuckDB (no NFKC, no subjects);
- ``floor``: the steps DATA.md makes obligatory, done as cheaply as DuckDB and
  Arrow allow: every cell read as text, NFKC and trim of the text columns
  (once per distinct value where values repeat), times parsed, the lookup ID
  hashed, duplicates dropped, rows sorted by user and time and written with
  their original text, and the subjects (national IDs, plates, mobiles) of the
  conditions extracted and written.

- ``in DuckDB``: the same steps with the table kept in DuckDB: NFKC is applied
  to each text column's distinct values in Arrow (only those it changes are
  joined back), the rest is SQL. Its steps are timed one by one.

The floor leaves out what the kit also does (kind detection, physical line
numbers, the ledger, ROC dates, the look-up index), so the kit cannot be
faster than it; the ratio ``plain / floor`` bounds the ingest ratio that
``bench/ingest.py`` measures (target 0.5).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

FIELDS = ("使用者", "IP", "作業種類", "查詢條件", "實際查詢者", "實際查詢單位", "用途")
SUBJECTS = r"[A-Z][12][0-9]{8}|[A-Z]{2,3}-?[0-9]{3,4}|09[0-9]{8}"


def query_logs(folder: Path) -> list[str]:
    key = json.loads((folder / "answer_key.json").read_text(encoding="utf-8"))
    return [str(folder / f["path"]) for f in key["files"] if f.get("kind") == "query_log"]


def listed(files: list[str]) -> str:
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


def plain(con: duckdb.DuckDBPyConnection, files: list[str], out: Path) -> float:
    t0 = time.perf_counter()
    con.execute(f"COPY (SELECT * FROM read_csv({listed(files)})) TO '{out}' (FORMAT parquet)")
    return time.perf_counter() - t0


def sorted_hashed(con: duckdb.DuckDBPyConnection, files: list[str], out: Path) -> float:
    fields = ", ".join(f"{f}::VARCHAR" for f in FIELDS)
    t0 = time.perf_counter()
    con.execute(
        f"COPY (SELECT *, sha256(concat_ws(chr(31), 作業時間::VARCHAR, {fields})) AS lookup_id "
        f"FROM read_csv({listed(files)}) ORDER BY 使用者, 作業時間) TO '{out}' (FORMAT parquet)"
    )
    return time.perf_counter() - t0


def nfkc(column: pa.ChunkedArray) -> pa.Array:
    """NFKC and trim, once per distinct value when values repeat."""
    coded = pc.dictionary_encode(column).combine_chunks()
    if len(coded.dictionary) < len(coded) // 4:
        norm = pc.utf8_trim_whitespace(pc.utf8_normalize(coded.dictionary, "NFKC"))
        return pa.DictionaryArray.from_arrays(coded.indices, norm).cast(pa.string())
    return pc.utf8_trim_whitespace(pc.utf8_normalize(column.combine_chunks(), "NFKC"))


def keep_distinct(con: duckdb.DuckDBPyConnection) -> None:
    """Table ``kept``: ``normalised`` with times parsed and lookup IDs, duplicates dropped."""
    fields = ", ".join(FIELDS)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE kept AS "
        "WITH timed AS (SELECT *, try_strptime(作業時間, "
        "['%Y-%m-%d %H:%M:%S', '%Y/%m/%d %H:%M:%S']) AS ts FROM normalised), "
        f"hashed AS (SELECT *, sha256(concat_ws(chr(31), ts::VARCHAR, {fields})) AS lookup_id "
        "FROM timed) "
        "SELECT * FROM hashed QUALIFY row_number() OVER (PARTITION BY lookup_id "
        "ORDER BY filename) = 1"
    )


def write_lookups(con: duckdb.DuckDBPyConnection, work: Path) -> None:
    """Write ``kept`` sorted by user and time."""
    con.execute(f"COPY (SELECT * FROM kept ORDER BY 使用者, ts) TO '{work / 'lookups.parquet'}'")


def write_subjects(con: duckdb.DuckDBPyConnection, work: Path) -> None:
    """Write the subjects found in ``kept``'s conditions, sorted by value."""
    con.execute(
        "COPY (SELECT lookup_id, unnest(regexp_extract_all(查詢條件, "
        f"'{SUBJECTS}')) AS value FROM kept ORDER BY value) TO '{work / 'subjects.parquet'}'"
    )


def floor(con: duckdb.DuckDBPyConnection, files: list[str], work: Path) -> float:
    t0 = time.perf_counter()
    raw = con.sql(
        f"SELECT * FROM read_csv({listed(files)}, all_varchar=true, filename=true)"
    ).to_arrow_table()
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for name in raw.column_names:
        if name in ("作業時間", "filename"):
            columns[name] = raw[name]
            continue
        columns[name] = nfkc(raw[name])
        columns[name + "_raw"] = raw[name]
    con.register("normalised", pa.table(columns))
    keep_distinct(con)
    write_lookups(con, work)
    write_subjects(con, work)
    con.unregister("normalised")
    con.execute("DROP TABLE kept")
    return time.perf_counter() - t0


TEXT = (
    "單位", "使用者", "IP", "作業種類", "查詢條件", "實際查詢者", "實際查詢單位", "用途",
    "查詢結果", "設備", "案號",
)  # fmt: skip


def in_duckdb(
    con: duckdb.DuckDBPyConnection, files: list[str], work: Path, steps: dict[str, list[float]]
) -> float:
    t0 = mark = time.perf_counter()

    def step(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        steps.setdefault(name, []).append(now - mark)
        mark = now

    con.execute(
        "CREATE OR REPLACE TEMP TABLE raw AS SELECT * FROM "
        f"read_csv({listed(files)}, all_varchar=true, filename=true)"
    )
    step("read")
    joins, columns = [], []
    for i, name in enumerate(TEXT):
        distinct = con.sql(f'SELECT DISTINCT "{name}" AS v FROM raw WHERE "{name}" IS NOT NULL')
        values = distinct.to_arrow_table()["v"].combine_chunks()
        norm = pc.utf8_trim_whitespace(pc.utf8_normalize(values, "NFKC"))
        changed = pc.not_equal(values, norm)
        con.register(f"nfkc{i}", pa.table({"v": values.filter(changed), "n": norm.filter(changed)}))
        joins.append(f'LEFT JOIN nfkc{i} ON r."{name}" = nfkc{i}.v')
        columns.append(f'coalesce(nfkc{i}.n, r."{name}") AS "{name}", r."{name}" AS "{name}_raw"')
    step("NFKC of distinct values")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE normalised AS SELECT r.作業時間, r.filename, "
        f"{', '.join(columns)} FROM raw r {' '.join(joins)}"
    )
    step("join back")
    keep_distinct(con)
    step("times, lookup ID, duplicates")
    write_lookups(con, work)
    step("sort and write lookups")
    write_subjects(con, work)
    step("subjects, sorted and written")
    for i in range(len(TEXT)):
        con.unregister(f"nfkc{i}")
    con.execute("DROP TABLE kept; DROP TABLE normalised; DROP TABLE raw")
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    files = query_logs(args.folder)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    times: dict[str, list[float]] = {"plain": [], "sorted+hash": [], "floor": [], "in DuckDB": []}
    steps: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for _ in range(args.rounds):
            times["plain"].append(plain(con, files, work / "plain.parquet"))
            times["sorted+hash"].append(sorted_hashed(con, files, work / "sorted.parquet"))
            times["floor"].append(floor(con, files, work))
            times["in DuckDB"].append(in_duckdb(con, files, work, steps))
    rows = con.execute(f"SELECT count(*) FROM read_csv({listed(files)})").fetchone()
    base = statistics.median(times["plain"])
    print(f"{rows[0] if rows else 0:,} query-log rows in {len(files)} files")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        runs = " / ".join(f"{s:.2f}" for s in seconds)
        print(f"{name:12s} {median:6.2f} s (runs {runs})  plain / this = {base / median:.2f}")
    print("in DuckDB, step by step (medians):")
    for name, seconds in steps.items():
        print(f"  {name:30s} {statistics.median(seconds):6.2f} s")


if __name__ == "__main__":
    main()
