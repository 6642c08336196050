"""The look-up index: per month, the query log in officer order, memory-mapped, and its keys.

An officer's or a subject's lookups are a few hundred rows among millions.
Reading them from the month's Parquet file means decoding whole row groups
(DuckDB decodes about 200 k rows for 3 k wanted), so each month of the query
log also has two Arrow IPC files, uncompressed (the few-valued columns
dictionary-encoded), read through a memory map (nothing is decompressed or
decoded: a read touches only the pages of the rows it takes)::

    index/month=YYYY-MM/lookups-<run>.arrow   the month's query-log rows, one record
                                              batch in the stored Arrow schema, sorted by
                                              (user, then the answer's order), plus __rank
    index/month=YYYY-MM/keys-<run>.arrow      (entity, value, row), sorted: one row per
                                              subject of a lookup (row = its position in
                                              lookups), and ("", actual_user, row) for
                                              each lookup made through another account

``__rank`` is the row's position in the month in the order the look-ups
answer in (time, source file, line number, line, ``lookup_id``), so rows
gathered from several places are put in that order by sorting their ranks.
A look-up is then a binary search (a sample of every 64th key is kept in
memory, then one 64-key window is read; officer: a contiguous slice of
``lookups``; subject or proxy: a slice of ``keys`` giving row positions), a
zero-copy slice or a ``take`` of those rows, and one conversion to pandas.

The manifest lists each month's index with the query-log and subjects parts
it was built from; an index whose parts differ from the month's current
parts is stale and is not used (the look-ups then query the Parquet files
with DuckDB, as for a store written before the index existed). Ingest
rebuilds the index of every month whose parts changed, or that has none.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kit.store.layout import Manifest, Store, TableSchema, fetch, file_schema
from kit.store.period import Period

INDEX_DIR = "index"
RANK = "__rank"
PROXY_ENTITY = ""
"""The ``entity`` of the keys that find lookups by their ``actual_user`` (sorts first)."""
DICTIONARY_COLUMNS = (
    "unit",
    "actual_unit",
    "operation",
    "result",
    "system",
    "device",
    "purpose",
    "ip",
    "source_file",
    "source_sha256",
)
"""Query-log columns of few distinct values, dictionary-encoded in the index (back at reading).

Some 30 files per month and a few hundred units, operations, devices: at 11 M
lookups, encoding them halves the index (a month of 0.95 M lookups: 490 MB
uncompressed, as plain text).
"""
ANSWER_ORDER = '"time", source_file, TRY_CAST(source_line AS BIGINT), source_line, lookup_id'
"""The order of a look-up's answer (that of the DuckDB queries of :mod:`kit.store.query`)."""


def month_sources(manifest: Manifest, month: str) -> list[str]:
    """Return the query-log and subjects parts of a month, which its index is built from."""
    wanted = f"month={month}"
    parts = [*manifest.parts.get("query_log", []), *manifest.parts.get("subjects", [])]
    return sorted(p for p in parts if p.split("/")[1] == wanted)


def is_current(manifest: Manifest, month: str) -> bool:
    """Whether the month has an index built from its current parts."""
    entry = manifest.index.get(month)
    return entry is not None and entry.get("sources") == month_sources(manifest, month)


def _write_ipc(table: pa.Table, path: Path) -> None:
    """Write a table as one uncompressed record batch in an Arrow IPC file, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    batch = table.combine_chunks().to_batches()
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        if batch:
            writer.write_batch(batch[0])
        else:
            writer.write_batch(pa.RecordBatch.from_pylist([], schema=table.schema))
    os.replace(tmp, path)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Return the table with exactly ``schema``'s columns (missing ones null), cast to its types."""
    columns = []
    present = set(table.column_names)
    for fld in schema:
        if fld.name in present:
            column = table.column(fld.name)
            columns.append(column if column.type == fld.type else column.cast(fld.type))
        else:
            columns.append(pa.nulls(table.num_rows, fld.type))
    return pa.Table.from_arrays(columns, schema=schema)


KEYS_SCHEMA = pa.schema(
    [
        pa.field("entity", pa.large_string()),
        pa.field("value", pa.large_string()),
        pa.field("row", pa.int64()),
    ]
)


def _read(paths: list[str], columns: list[str] | None = None) -> pa.Table:
    """Read Parquet parts (of possibly different schemas) into one table."""
    tables = []
    for path in paths:
        names = file_schema(path).names
        tables.append(
            pq.read_table(path, columns=[c for c in columns if c in names] if columns else None)
        )
    return pa.concat_tables(tables, promote_options="permissive")


def answer_positions(con: duckdb.DuckDBPyConnection, lookups: pa.Table) -> pa.Array:
    """Return the positions of the lookups in the answer's order (:data:`ANSWER_ORDER`).

    Only the sort keys are sorted (Arrow's stable sort), so that the caller
    moves the wide rows once: reading two months of 11 M lookups took a
    quarter less CPU than with DuckDB's ``ORDER BY``. DuckDB computes
    ``TRY_CAST(source_line AS BIGINT)`` so that the line numbers order exactly
    as in :data:`ANSWER_ORDER` (nulls last in both).
    """
    con.register("index_lines", lookups.select(["source_line"]))
    line_number = fetch(con, "SELECT TRY_CAST(source_line AS BIGINT) AS n FROM index_lines").column(
        0
    )
    con.unregister("index_lines")
    keys = pa.table(
        {
            "time": lookups.column("time"),
            "source_file": lookups.column("source_file"),
            "line_number": line_number,
            "source_line": lookups.column("source_line"),
            "lookup_id": lookups.column("lookup_id"),
        }
    )
    return pc.sort_indices(keys, [(name, "ascending") for name in keys.column_names])


def _in_answer_order(con: duckdb.DuckDBPyConnection, lookups: pa.Table) -> pa.Table:
    """Return the lookups sorted by (user, answer order), with their ``__rank`` column."""
    answer = answer_positions(con, lookups)
    rank = np.empty(lookups.num_rows, dtype=np.int64)
    rank[answer.to_numpy()] = np.arange(lookups.num_rows, dtype=np.int64)
    by_user = pc.sort_indices(
        pa.table({"user": lookups.column("user"), RANK: rank}),
        [("user", "ascending"), (RANK, "ascending")],
    )
    ranked = lookups.append_column(RANK, pa.array(rank))
    return ranked.take(by_user)


def _dictionary_encoded(lookups: pa.Table) -> pa.Table:
    """Return the lookups with the :data:`DICTIONARY_COLUMNS` dictionary-encoded (smaller file)."""
    lookups = lookups.combine_chunks()
    for name in DICTIONARY_COLUMNS:
        if name in lookups.column_names and pa.types.is_large_string(
            lookups.schema.field(name).type
        ):
            at = lookups.column_names.index(name)
            lookups = lookups.set_column(at, name, pc.dictionary_encode(lookups.column(name)))
    return lookups


def _keys(con: duckdb.DuckDBPyConnection, subjects: pa.Table, lookups: pa.Table) -> pa.Table:
    """Return the sorted (entity, value, row) keys of a month's lookups (in index order).

    A subject row finds its lookup by ``lookup_id`` and ``user`` (as the DuckDB
    look-up does; a null matches nothing); a lookup made through another
    account gives the key (:data:`PROXY_ENTITY`, ``actual_user``).
    """
    rows = pa.array(np.arange(lookups.num_rows, dtype=np.int64))
    positions = pa.table(
        {"lookup_id": lookups.column("lookup_id"), "user": lookups.column("user"), "row": rows}
    )
    text = pa.schema([pa.field(n, pa.large_string()) for n in ("lookup_id", "entity", "value")])
    con.register("index_positions", positions)
    con.register(
        "index_subjects",
        _conform(subjects, pa.schema([*text, pa.field("user", pa.large_string())])),
    )
    joined = fetch(
        con,
        "SELECT s.entity, s.value, p.row FROM index_subjects s JOIN index_positions p "
        'ON s.lookup_id = p.lookup_id AND s."user" = p."user" '
        "WHERE s.entity IS NOT NULL AND s.value IS NOT NULL",
    )
    con.unregister("index_subjects")
    con.unregister("index_positions")
    proxied = pc.fill_null(
        pc.not_equal(lookups.column("actual_user"), lookups.column("user")), False
    )
    values = lookups.column("actual_user").filter(proxied)
    proxies = pa.table(
        {
            "entity": pa.array([PROXY_ENTITY], pa.large_string()).take(
                np.zeros(len(values), np.int64)
            ),
            "value": values,
            "row": rows.filter(proxied),
        }
    )
    keys = pa.concat_tables([_conform(joined, KEYS_SCHEMA), _conform(proxies, KEYS_SCHEMA)])
    order = pc.sort_indices(keys, [(name, "ascending") for name in KEYS_SCHEMA.names])
    return keys.take(order)


def build_month(
    con: duckdb.DuckDBPyConnection, root: Path, manifest: Manifest, month: str, run: str
) -> list[str]:
    """Write the index of one month and list it in the manifest; return the files it replaces."""
    schema = manifest.schema("query_log")
    wanted = f"month={month}"
    ql = [str(root / p) for p in manifest.parts.get("query_log", []) if p.split("/")[1] == wanted]
    sj = [str(root / p) for p in manifest.parts.get("subjects", []) if p.split("/")[1] == wanted]
    if schema is None or not ql:
        return []
    lookups = _dictionary_encoded(_in_answer_order(con, _conform(_read(ql), schema.arrow)))
    subjects = _read(sj, ["lookup_id", "entity", "value", "user"]) if sj else pa.table({})
    keys = _keys(con, subjects, lookups)
    del subjects
    folder = f"{INDEX_DIR}/{wanted}"
    files = {"lookups": f"{folder}/lookups-{run}.arrow", "keys": f"{folder}/keys-{run}.arrow"}
    _write_ipc(lookups, root / files["lookups"])
    del lookups
    _write_ipc(keys, root / files["keys"])
    old = manifest.index.get(month, {})
    manifest.index[month] = {**files, "sources": month_sources(manifest, month)}
    return [str(old[k]) for k in ("lookups", "keys") if k in old and old[k] != files[k]]


def build_indexes(
    con: duckdb.DuckDBPyConnection, root: Path, manifest: Manifest, run: str
) -> list[str]:
    """Build the index of every month that has none or a stale one; return the replaced files.

    The index of a month that no longer exists is dropped (its files are returned too).
    """
    replaced: list[str] = []
    for month in sorted(manifest.index):
        if month not in manifest.months:
            entry = manifest.index.pop(month)
            replaced += [str(entry[k]) for k in ("lookups", "keys") if k in entry]
    for month in sorted(manifest.months):
        if not is_current(manifest, month):
            replaced += build_month(con, root, manifest, month, run)
    return replaced


# ---------------------------------------------------------------- reading


SAMPLE_STEP = 64
"""A binary search first bisects every 64th key (kept in memory), then one 64-key window."""


@dataclass(frozen=True)
class SortedFile:
    """A memory-mapped index file and a sample of its sort key, for binary searches."""

    batch: pa.RecordBatch
    key: tuple[str, ...]
    """The columns the file is sorted by, as far as searched (nulls last)."""
    sample: list[tuple[str, ...]]
    """The key of every :data:`SAMPLE_STEP`-th row (of the rows without a null key)."""
    size: int
    """Rows without a null key."""

    @classmethod
    def of(cls, batch: pa.RecordBatch, key: tuple[str, ...]) -> SortedFile:
        """Sample the key of a sorted batch."""
        size = batch.num_rows - max(batch.column(c).null_count for c in key)
        every = pa.array(np.arange(0, size, SAMPLE_STEP, dtype=np.int64))
        columns = [batch.column(c).take(every).to_pylist() for c in key]
        return cls(batch, key, list(zip(*columns, strict=True)), size)

    def _window(self, first: int) -> tuple[int, list[tuple[str, ...]]]:
        start = max(0, (first - 1) * SAMPLE_STEP)
        stop = min(self.size, first * SAMPLE_STEP + 1)
        columns = [self.batch.column(c).slice(start, stop - start).to_pylist() for c in self.key]
        return start, list(zip(*columns, strict=True))

    def equal_range(self, target: tuple[str, ...]) -> tuple[int, int]:
        """Return the rows [lo, hi) whose key equals ``target``."""
        start, window = self._window(bisect.bisect_left(self.sample, target))
        lo = start + bisect.bisect_left(window, target)
        after = bisect.bisect_right(window, target)
        if after == len(window):  # every row of the window is <= target: read the next one
            start, window = self._window(bisect.bisect_right(self.sample, target))
            after = bisect.bisect_right(window, target)
        return lo, max(lo, start + after)


@dataclass(frozen=True)
class MonthIndex:
    """One month's index, memory-mapped: the sorted lookups and the keys."""

    lookups: SortedFile
    keys: SortedFile

    def user_rows(self, user: str) -> np.ndarray:
        """Return the positions of the lookups whose ``user`` is ``user``."""
        lo, hi = self.lookups.equal_range((user,))
        return np.arange(lo, hi, dtype=np.int64)

    def key_rows(self, entity: str, value: str) -> np.ndarray:
        """Return the positions of the lookups holding the key (entity, value)."""
        lo, hi = self.keys.equal_range((entity, value))
        return np.asarray(self.keys.batch.column("row").slice(lo, hi - lo).to_numpy())

    def take(self, positions: np.ndarray, period: Period) -> pa.RecordBatch | None:
        """Return the rows at ``positions`` within the period, in the answer's order."""
        lookups = self.lookups.batch
        if len(positions) and (period.start is not None or period.stop is not None):
            at = pa.array(positions)
            times = lookups.column("time").take(at).to_numpy(zero_copy_only=False)
            keep = np.ones(len(positions), dtype=bool)
            if period.start is not None:
                keep &= times >= _instant(period.start)
            if period.stop is not None:
                keep &= times < _instant(period.stop)
            positions = positions[keep]
        if len(positions) == 0:
            return None
        ranks = lookups.column(RANK).to_numpy()[positions]
        first, count = int(positions[0]), len(positions)
        if int(positions[-1]) - first + 1 == count and bool(np.all(np.diff(ranks) > 0)):
            return lookups.slice(first, count)  # one officer's rows: already in order
        return lookups.take(pa.array(positions[np.argsort(ranks, kind="stable")]))


def _instant(moment: datetime) -> np.datetime64:
    """Return a tz-aware datetime as a numpy UTC instant in microseconds."""
    return pd.Timestamp(moment).tz_convert("UTC").tz_localize(None).as_unit("us").to_datetime64()


@lru_cache(maxsize=256)
def _mapped(path: str, key: tuple[str, ...]) -> SortedFile:
    """Return an index file, memory-mapped, with its key sample.

    Cached by path: an index file never changes once written (a rebuilt index
    has new names), and a mapped file stays readable after a later ingest
    deletes it, for a store opened before that ingest.
    """
    return SortedFile.of(pa.ipc.open_file(pa.memory_map(path, "r")).get_batch(0), key)


def month_indexes(store: Store, months: list[str]) -> list[MonthIndex] | None:
    """Return the indexes of these months, or None when one is missing or stale."""
    manifest = store.manifest
    parts: dict[str, list[str]] = {}
    for part in [*manifest.parts.get("query_log", []), *manifest.parts.get("subjects", [])]:
        parts.setdefault(part.split("/")[1], []).append(part)
    for month in months:  # as is_current, for every month at once
        entry = manifest.index.get(month)
        if entry is None or entry.get("sources") != sorted(parts.get(f"month={month}", [])):
            return None
    root = str(store.path)
    out = []
    for month in months:
        entry = manifest.index[month]
        try:
            lookups = _mapped(os.path.join(root, entry["lookups"]), ("user",))
            keys = _mapped(os.path.join(root, entry["keys"]), ("entity", "value"))
        except (OSError, pa.ArrowInvalid, IndexError):
            return None
        out.append(MonthIndex(lookups, keys))
    return out


def gather(batches: Sequence[pa.RecordBatch | None], schema: TableSchema) -> pa.Table:
    """Return the rows taken from several months as one table in the stored schema."""
    taken = [b for b in batches if b is not None and b.num_rows]
    if not taken:
        return schema.arrow.empty_table()
    if all(b.schema.equals(taken[0].schema) for b in taken[1:]):  # months of one schema
        # One chunk per month, each decoded against its own month's dictionaries
        # (concatenating the batches first would unify whole dictionaries).
        table = pa.Table.from_batches(taken)
        if set(schema.arrow.names) <= set(table.column_names):
            return table.select(schema.arrow.names).cast(schema.arrow)  # one cast, in C++
        return _conform(table, schema.arrow)
    return pa.concat_tables([_conform(pa.Table.from_batches([b]), schema.arrow) for b in taken])
