"""Adding one loaded batch to a store: de-duplication against it and the Parquet writes.

An :class:`Appender` receives the batches of one ingest run (each a
:class:`kit.dataset.Dataset` from the loader), writes the query log, its
subjects and proxies as new part files right away, keeps the small kinds in
memory, and at :meth:`Appender.finish` rewrites each small table once with
the new rows, de-duplicated. Nothing it writes is part of the store until the
caller commits the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kit.dataset import Dataset
from kit.schema import KINDS, LEDGER_COLUMNS, PROVENANCE
from kit.store.layout import Manifest, TableSchema, fetch, to_arrow, to_frame, write_parquet

SMALL_TABLES = (*[k for k in KINDS if k != "query_log"], "identifiers")
QUERY_FIELDS = tuple(c.canonical for c in KINDS["query_log"].columns)
"""Fields compared to decide that a query-log row is already in the store (with ``lookup_id``)."""

COMPACT_ORDER = {
    "query_log": '"user", "time", source_file, source_line',
    "subjects": "entity, value, lookup_id",
}
"""Sort order of a month's file: one officer's (one subject's) rows lie together."""
PROXY_COLUMNS = ("actual_user", "user", "month", "time", "lookup_id")
STORE_DUPLICATE_REASON = "duplicate of a lookup already in the store"


def _scan(files: list[str]) -> str:
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    return f"read_parquet([{listed}], hive_partitioning = true, union_by_name = true)"


def _same(column: str) -> str:
    return f'o."{column}" IS NOT DISTINCT FROM b."{column}"'


def _month_slices(table: pa.Table) -> list[tuple[str, pa.Table]]:
    """Split a table sorted by ``month`` into one slice per month (without the column)."""
    months = table.column("month").to_numpy(zero_copy_only=False)
    if len(months) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])
    ends = np.r_[starts[1:], len(months)]
    body = table.drop_columns(["month"])
    return [(str(months[s]), body.slice(s, e - s)) for s, e in zip(starts, ends, strict=True)]


@dataclass
class Appender:
    """Accumulates the batches of one ingest run into new store files."""

    root: Path
    manifest: Manifest
    run: str
    con: duckdb.DuckDBPyConnection
    ingested_at: str
    new_rows: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    spool: Path | None = None
    """Folder for the small kinds' rows of each batch until :meth:`finish` (None: in memory)."""
    small: dict[str, list[pd.DataFrame | tuple[Path, TableSchema]]] = field(default_factory=dict)
    ledger: list[pd.DataFrame] = field(default_factory=list)
    batches: int = 0
    touched: set[str] = field(default_factory=set)

    def _count(self, counter: dict[str, int], name: str, n: int) -> None:
        counter[name] = counter.get(name, 0) + int(n)

    def _part(self, dataset: str, month: str | None = None) -> str:
        folder = dataset if month is None else f"{dataset}/month={month}"
        return f"{folder}/part-{self.run}-{self.batches:04d}.parquet"

    def _write_part(self, dataset: str, table: pa.Table, month: str | None = None) -> None:
        relative = self._part(dataset, month)
        write_parquet(table, self.root / relative)
        self.manifest.parts[dataset].append(relative)

    def _stored_files(self, dataset: str, months: list[str]) -> list[str]:
        wanted = {f"month={m}" for m in months}
        return [
            str(self.root / p) for p in self.manifest.parts[dataset] if p.split("/")[1] in wanted
        ]

    def add(self, batch: Dataset) -> None:
        """Add one loaded batch: its new lookups are written, the rest kept for :meth:`finish`."""
        self.batches += 1
        self._add_query_log(batch)
        for name in SMALL_TABLES:
            frame = batch.frame(name) if name in KINDS else batch.identifiers
            if len(frame):
                self.small.setdefault(name, []).append(self._spool(name, frame))
        if len(batch.ledger):
            self.ledger.append(batch.ledger)

    def _spool(self, name: str, frame: pd.DataFrame) -> pd.DataFrame | tuple[Path, TableSchema]:
        """Park a batch's rows of a small kind on disk, so batches do not pile up in memory."""
        if self.spool is None:
            return frame
        schema = TableSchema.of_frame(frame)
        path = self.spool / f"{name}-{self.batches:04d}.parquet"
        write_parquet(to_arrow(frame, schema), path)
        return path, schema

    def _unspool(self, name: str) -> pd.DataFrame | None:
        parts = [
            entry
            if isinstance(entry, pd.DataFrame)
            else to_frame(pq.read_table(entry[0]), entry[1])
            for entry in self.small.pop(name, [])
        ]
        if not parts:
            return None
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

    def _add_query_log(self, batch: Dataset) -> None:
        lookups = batch.query_log
        if len(lookups) == 0:
            return
        incoming = TableSchema.of_frame(lookups)
        old = self.manifest.schema("query_log")
        schema = incoming if old is None else old.merge(incoming)
        self.manifest.schemas["query_log"] = schema.to_json()
        table = to_arrow(lookups, schema)
        table = table.append_column("month", pc.strftime(table.column("time"), format="%Y-%m"))
        table = table.append_column("__row", pa.array(np.arange(table.num_rows)))
        months = sorted(pc.unique(table.column("month")).to_pylist())
        stored = self._stored_files("query_log", months)
        present = pa.array([], pa.string())
        dup_rows = pa.array([], pa.int64())
        if stored:
            # Only lookup_id is read from the store to find candidates (the
            # lookup_id hashes the time, so a match is in the same month);
            # the full comparison then reads only the candidates' rows.
            self.con.register("batch", table)
            present = fetch(
                self.con,
                "SELECT DISTINCT lookup_id FROM batch "
                f"WHERE lookup_id IN (SELECT lookup_id FROM {_scan(stored)})",
            ).column(0)
            if len(present):
                self.con.register("present_ids", pa.table({"lookup_id": present}))
                same = " AND ".join(_same(c) for c in QUERY_FIELDS)
                dup_rows = fetch(
                    self.con,
                    f"SELECT DISTINCT b.__row FROM batch b JOIN (SELECT * FROM {_scan(stored)} "
                    "WHERE lookup_id IN (SELECT lookup_id FROM present_ids)) o "
                    f"ON o.lookup_id = b.lookup_id AND {same}",
                ).column(0)
                self.con.unregister("present_ids")
            self.con.unregister("batch")
            is_dup = pc.is_in(table.column("__row"), value_set=dup_rows)
            self._ledger_duplicates(table.filter(is_dup))
            self._count(self.duplicates, "query_log", pc.sum(is_dup).as_py() or 0)
            table = table.filter(pc.invert(is_dup))
        table = table.drop_columns(["__row"])
        if table.num_rows == 0:
            return
        order = pc.sort_indices(
            table, [("month", "ascending"), ("user", "ascending"), ("time", "ascending")]
        )
        table = table.take(order)
        for month, part in _month_slices(table):
            self._write_part("query_log", part, month)
            self.touched.add(month)
        self.manifest.months = sorted(set(self.manifest.months) | set(months))
        self._count(self.new_rows, "query_log", table.num_rows)
        self._add_proxies(table)
        self._add_subjects(batch.subjects, table, present)

    def _ledger_duplicates(self, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        frame = pd.DataFrame(
            {
                "source_file": rows.column("source_file").to_pandas(),
                "source_line": rows.column("source_line").to_pandas(),
                "column": "",
                "status": "duplicate",
                "reason": STORE_DUPLICATE_REASON,
                "raw": "",
            }
        )
        self.ledger.append(frame.astype("string"))

    def _add_proxies(self, table: pa.Table) -> None:
        actual, user = table.column("actual_user"), table.column("user")
        mask = pc.and_(pc.is_valid(actual), pc.not_equal(actual, user))
        mask = pc.fill_null(mask, False)
        proxies = table.filter(mask).select(list(PROXY_COLUMNS))
        if proxies.num_rows == 0:
            return
        proxies = proxies.take(
            pc.sort_indices(proxies, [("actual_user", "ascending"), ("time", "ascending")])
        )
        self._write_part("proxies", proxies)
        self._count(self.new_rows, "proxies", proxies.num_rows)

    def _add_subjects(self, subjects: pd.DataFrame, lookups: pa.Table, present: pa.Array) -> None:
        if len(subjects) == 0:
            return
        incoming = TableSchema.of_frame(subjects)
        keys = lookups.select(["lookup_id", "month", "user"])
        self.con.register("lookup_keys", keys)
        self.con.register("incoming_subjects", to_arrow(subjects, incoming))
        self.con.register("present_ids", pa.table({"lookup_id": present}))
        columns = ", ".join(f's."{c}"' for c in incoming.columns)
        table = fetch(
            self.con,
            f'SELECT {columns}, k.month, k."user" FROM incoming_subjects s '
            'JOIN (SELECT DISTINCT lookup_id, month, "user" FROM lookup_keys) k USING (lookup_id) '
            "WHERE s.lookup_id NOT IN (SELECT lookup_id FROM present_ids) "
            "ORDER BY k.month, s.entity, s.value, s.lookup_id",
        )
        for name in ("lookup_keys", "incoming_subjects", "present_ids"):
            self.con.unregister(name)
        query_log = self.manifest.schema("query_log")
        user_spec = "object" if query_log is None else query_log.dtypes.get("user", "object")
        stored = TableSchema(
            pa.schema([*incoming.arrow, pa.field("user", keys.schema.field("user").type)]),
            {**incoming.dtypes, "user": user_spec},
        )
        old = self.manifest.schema("subjects")
        schema = stored if old is None else old.merge(stored)
        self.manifest.schemas["subjects"] = schema.to_json()
        table = conform(table, schema, extra=("month",))
        for month, part in _month_slices(table):
            self._write_part("subjects", part, month)
        self._count(self.new_rows, "subjects", table.num_rows)

    def finish(self) -> list[str]:
        """Rewrite the small tables and write the ledger part; return the superseded files."""
        superseded: list[str] = []
        dropped: list[pd.Series] = []
        for name in SMALL_TABLES:
            new = self._unspool(name)
            if new is None:
                continue
            if name == "identifiers" and dropped:
                # identifiers of rows dropped as duplicates go with them
                gone = _row_key(new, new["kind"]).isin(pd.concat(dropped))
                new = new[~gone.to_numpy()].reset_index(drop=True)
            merged, before, keep = self._merge_small(name, new)
            added = len(merged) - before
            self._count(self.new_rows, name, added)
            self._count(self.duplicates, name, len(new) - added)
            if name != "identifiers" and not keep[before:].all():
                dropped.append(_row_key(new[~keep[before:]], name))
            if added == 0:
                continue
            relative = f"tables/{name}-{self.run}.parquet"
            schema = TableSchema.of_frame(merged)
            write_parquet(to_arrow(merged, schema), self.root / relative)
            old_path = self.manifest.tables.get(name)
            if old_path is not None:
                superseded.append(old_path)
            self.manifest.tables[name] = relative
            self.manifest.schemas[name] = schema.to_json()
            self.manifest.rows[name] = len(merged)
        self._finish_ledger()
        return superseded + self.compact()

    def compact(self) -> list[str]:
        """Compact the touched months of the query log and subjects; return replaced parts."""
        return self._compact("query_log") + self._compact("subjects")

    def _compact(self, dataset: str) -> list[str]:
        """Merge each month's parts into one sorted file; return the parts it replaces.

        Every batch writes a part per month it touches, so a large ingest
        leaves dozens of small files per month; a look-up would open each.
        Only months this run wrote to are rewritten.
        """
        schema = self.manifest.schema(dataset)
        if schema is None:
            return []
        order = COMPACT_ORDER[dataset]
        replaced: list[str] = []
        for month in sorted(self.touched):
            wanted = f"month={month}"
            parts = [p for p in self.manifest.parts[dataset] if p.split("/")[1] == wanted]
            if len(parts) < 2:
                continue
            table = fetch(
                self.con,
                f"SELECT * EXCLUDE (month) FROM {_scan([str(self.root / p) for p in parts])} "
                f"ORDER BY {order}",
            )
            relative = f"{dataset}/{wanted}/part-{self.run}-all.parquet"
            write_parquet(conform(table, schema), self.root / relative)
            kept = [p for p in self.manifest.parts[dataset] if p not in set(parts)]
            self.manifest.parts[dataset] = [*kept, relative]
            replaced += parts
        return replaced

    def _merge_small(self, name: str, new: pd.DataFrame) -> tuple[pd.DataFrame, int, np.ndarray]:
        """Return the stored table plus the new rows, de-duplicated; its old length; the mask.

        Rows are equal when every column but the provenance is equal (for
        ``identifiers``, every column: provenance ties them to their row);
        the row already in the store, or the first new one, is kept.
        """
        path, schema = self.manifest.tables.get(name), self.manifest.schema(name)
        if path is None or schema is None:
            both, before = new, 0
        else:
            existing = to_frame(pq.read_table(self.root / path), schema)
            both, before = pd.concat([existing, new], ignore_index=True), len(existing)
        content = list(both.columns)
        if name != "identifiers":
            content = [c for c in content if c not in PROVENANCE]
        keep = _first_of_equal(both, content)
        return both[keep].reset_index(drop=True), before, keep

    def _finish_ledger(self) -> None:
        if not self.ledger:
            return
        frame = pd.concat(self.ledger, ignore_index=True)
        frame = frame[[c for c in LEDGER_COLUMNS if c in frame.columns]].astype("string")
        frame["ingested_at"] = self.ingested_at
        frame["ingested_at"] = frame["ingested_at"].astype("string")
        schema = TableSchema.of_frame(frame)
        old = self.manifest.schema("ledger")
        self.manifest.schemas["ledger"] = (schema if old is None else old.merge(schema)).to_json()
        self._write_part("ledger", to_arrow(frame, schema))
        self._count(self.new_rows, "ledger", len(frame))


def _text(column: pd.Series) -> pd.Series:
    return column.astype("string").fillna("\x00")


def _column_hash(column: pd.Series) -> np.ndarray:
    """Hash each cell of a column (equal cells, equal hashes), vectorised for every dtype."""
    dtype = column.dtype
    if isinstance(dtype, pd.ArrowDtype) and pa.types.is_list(dtype.pyarrow_dtype):
        joined = pc.binary_join(pa.array(column.array), "\x1f")
        column = pd.Series(pc.fill_null(joined, "\x00"), dtype="string")
    elif isinstance(dtype, pd.ArrowDtype):
        column = pd.Series(pc.fill_null(pa.array(column.array).cast(pa.string()), "\x00"))
    elif not (
        pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_numeric_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
    ):
        column = _text(column)
    return pd.util.hash_pandas_object(column, index=False).to_numpy(dtype=np.uint64)


def _first_of_equal(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Return a mask keeping the first of each group of rows equal in ``columns``.

    Rows are hashed one column at a time (a roster of millions of rows is
    never copied whole as text); only rows whose hash repeats are compared
    exactly.
    """
    hashes = np.zeros(len(frame), dtype=np.uint64)
    for column in columns:
        column_hash = _column_hash(frame[column])
        with np.errstate(over="ignore"):
            hashes *= np.uint64(1_000_003)
            hashes += column_hash
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    repeats = np.r_[False, ordered[1:] == ordered[:-1]]
    candidates = np.zeros(len(frame), dtype=bool)
    candidates[order] = repeats | np.r_[repeats[1:], False]
    keep = np.ones(len(frame), dtype=bool)
    if candidates.any():
        subset = frame.loc[candidates, columns]
        exact = pd.DataFrame({c: _text(subset[c]) for c in columns}).duplicated(keep="first")
        keep[np.flatnonzero(candidates)[exact.to_numpy()]] = False
    return keep


def _row_key(frame: pd.DataFrame, kind: str | pd.Series) -> pd.Series:
    """Return ``kind``, ``source_file`` and ``source_line`` joined: the row an identifier is of."""
    return (
        pd.Series(kind, index=frame.index).astype("string")
        + "\x1f"
        + frame["source_file"].astype("string")
        + "\x1f"
        + frame["source_line"].astype("string")
    )


def conform(table: pa.Table, schema: TableSchema, extra: tuple[str, ...] = ()) -> pa.Table:
    """Return the table with the schema's columns (then ``extra``), cast to its types."""
    columns, fields = [], []
    for fld in schema.arrow:
        if fld.name in table.column_names:
            columns.append(table.column(fld.name).cast(fld.type))
        else:
            columns.append(pa.nulls(table.num_rows, fld.type))
        fields.append(fld)
    for name in extra:
        columns.append(table.column(name))
        fields.append(table.schema.field(name))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))
