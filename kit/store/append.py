"""Adding one loaded batch to a store: de-duplication against it and the Parquet writes.

An :class:`Appender` receives the batches of one ingest run (each a
:class:`kit.dataset.Dataset` from the loader), writes the query log, its
subjects and proxies as new part files right away, parks the small kinds'
rows on disk, and at :meth:`Appender.finish` rewrites each small table once
with the new rows, de-duplicated in DuckDB (which spills to disk beyond its
memory limit). Nothing it writes is part of the store until the
caller commits the manifest.
"""

from __future__ import annotations

from collections.abc import Iterator
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
from kit.store.layout import (
    ROW_GROUP_ROWS,
    Manifest,
    TableSchema,
    fetch,
    to_arrow,
    write_parquet,
    write_parquet_batches,
)

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


def _read_numbered(path: str) -> str:
    """Return a DuckDB expression reading one Parquet file with its row numbers."""
    return "read_parquet('" + path.replace("'", "''") + "', file_row_number = true)"


@dataclass(frozen=True)
class Source:
    """One part of a small table being merged."""

    expression: str
    """DuckDB table expression with a ``file_row_number`` column."""
    schema: TableSchema
    rows: Path | pa.Table
    """The Parquet file, or the Arrow table (registered under ``expression``)."""


def _kept_batches(
    sources: list[Source], first: int, removed: pa.Table, schema: TableSchema
) -> Iterator[pa.Table]:
    """Yield every source's rows in order, without the ``removed`` (``__k``, ``__r``) rows."""
    keys = removed.column("__k").to_numpy()
    rows = removed.column("__r").to_numpy()
    for k, source in enumerate(sources, start=first):
        gone = rows[keys == k]
        batches = (
            pq.ParquetFile(source.rows).iter_batches(batch_size=ROW_GROUP_ROWS)
            if isinstance(source.rows, Path)
            else source.rows.to_batches(ROW_GROUP_ROWS)
        )
        offset = 0
        for batch in batches:
            table = pa.Table.from_batches([batch])
            if len(gone):
                numbers = np.arange(offset, offset + table.num_rows)
                table = table.filter(pa.array(~np.isin(numbers, gone)))
            offset += batch.num_rows
            yield conform(table, schema)


@dataclass
class Merged:
    """One small table merged by :meth:`Appender._merge_small`."""

    incoming: int
    """New rows offered (after removing identifiers of dropped rows)."""
    added: int
    """New rows kept (the others equal a stored or an earlier new row)."""
    rows: int
    """Rows of the new file (0 when nothing was added and no file written)."""
    dropped: pa.Table
    """``kind``, ``source_file``, ``source_line`` of the new rows dropped as duplicates."""
    schema: TableSchema
    path: str | None
    """The new file, relative to the store (None: nothing added, the stored file stays)."""


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
        """Rewrite the small tables and write the ledger part; return the superseded files.

        Each small table is merged in DuckDB from the stored file and the
        batches' spooled parts, and streamed to its new file: a table of
        millions of roster rows is never held whole in memory.
        """
        superseded: list[str] = []
        dropped: pa.Table | None = None
        for name in SMALL_TABLES:
            sources = self._sources(name)
            if not sources:
                continue
            merged = self._merge_small(name, sources, dropped if name == "identifiers" else None)
            self._count(self.new_rows, name, merged.added)
            self._count(self.duplicates, name, merged.incoming - merged.added)
            if name != "identifiers" and merged.dropped.num_rows:
                dropped = (
                    merged.dropped
                    if dropped is None
                    else pa.concat_tables([dropped, merged.dropped])
                )
            if merged.path is None:
                continue
            old_path = self.manifest.tables.get(name)
            if old_path is not None:
                superseded.append(old_path)
            self.manifest.tables[name] = merged.path
            self.manifest.schemas[name] = merged.schema.to_json()
            self.manifest.rows[name] = merged.rows
        self._record_absent_kinds()
        self._finish_ledger()
        return superseded + self.compact()

    def _record_absent_kinds(self) -> None:
        """Record the schema of every kind the store has no table of (an empty one's).

        A report loads every kind; one absent from the store is an empty frame
        typed as the loaders type it, and building that frame costs about ten
        milliseconds per kind in every new process (ten kinds are absent from
        a store of query log, roster and messages alone). Made once here, it
        is read back like any stored table's schema (:func:`kit.store.load_dataset`).
        """
        from kit.load.complete import empty_frame

        for name in KINDS:
            if name != "query_log" and name not in self.manifest.tables:
                schema = TableSchema.of_frame(empty_frame(name)).to_json()
                if self.manifest.schemas.get(name) != schema:
                    self.manifest.schemas[name] = schema

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

    def _sources(self, name: str) -> list[Source]:
        """Return a small table's new parts, in batch order."""
        sources: list[Source] = []
        for n, entry in enumerate(self.small.pop(name, [])):
            if isinstance(entry, pd.DataFrame):
                schema = TableSchema.of_frame(entry)
                table = to_arrow(entry, schema)
                view = f"small_{name}_{n}"
                numbered = table.append_column("file_row_number", pa.array(np.arange(len(entry))))
                self.con.register(view, numbered)
                sources.append(Source(view, schema, table))
            else:
                path, schema = entry
                sources.append(Source(_read_numbered(str(path)), schema, path))
        return sources

    def _merge_small(self, name: str, sources: list[Source], dropped: pa.Table | None) -> Merged:
        """Merge the stored table with its new parts, de-duplicated, into a new file.

        Rows are equal when every column but the provenance is equal (for
        ``identifiers``, every column: provenance ties them to their row);
        the row already in the store, or the first new one, is kept, in the
        order stored rows, then new rows as they came. New ``identifiers``
        rows of rows in ``dropped`` (``kind``, ``source_file``,
        ``source_line`` of rows dropped as duplicates) go with them.

        DuckDB finds the rows to remove from narrow tables (a content hash per
        row; exact comparison only where a hash repeats); the kept rows are
        then streamed part by part, in order, into the new file.
        """
        path, stored = self.manifest.tables.get(name), self.manifest.schema(name)
        if path is not None and stored is not None:
            target = self.root / path
            sources = [Source(_read_numbered(str(target)), stored, target), *sources]
            first = 0
        else:
            first = 1
        schema = sources[0].schema
        for source in sources[1:]:
            schema = schema.merge(source.schema)
        columns = schema.columns
        content = columns if name == "identifiers" else [c for c in columns if c not in PROVENANCE]
        quoted = ", ".join(f'"{c}"' for c in content)
        union = " UNION ALL BY NAME ".join(
            f"SELECT *, {k} AS __k, file_row_number AS __r FROM {source.expression}"
            for k, source in enumerate(sources, start=first)
        )
        con = self.con
        con.execute(f"CREATE OR REPLACE TEMP VIEW merge_rows AS {union}")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE merge_gone (__k BIGINT, __r BIGINT, "
            "source_file VARCHAR, source_line VARCHAR)"
        )
        if dropped is not None and dropped.num_rows:
            con.register("dropped_rows", dropped)
            con.execute(
                "INSERT INTO merge_gone SELECT u.__k, u.__r, NULL, NULL FROM merge_rows u "
                "SEMI JOIN dropped_rows d ON u.__k > 0 AND u.kind = d.kind "
                "AND u.source_file = d.source_file AND u.source_line = d.source_line"
            )
            con.unregister("dropped_rows")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE merge_hash AS SELECT __k, __r, hash({quoted}) AS __h "
            "FROM merge_rows u ANTI JOIN merge_gone g ON u.__k = g.__k AND u.__r = g.__r"
        )
        provenance = (
            "CAST(source_file AS VARCHAR) AS source_file, "
            "CAST(source_line AS VARCHAR) AS source_line"
            if name != "identifiers"
            else "NULL::VARCHAR AS source_file, NULL::VARCHAR AS source_line"
        )
        # Exact comparison of the rows whose hash repeats: all but the first
        # of each group of equal rows are removed (listed in merge_dups).
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE merge_dups AS SELECT __k, __r, {provenance} FROM ("
            "SELECT *, row_number() OVER "
            f"(PARTITION BY {quoted} ORDER BY __k, __r) AS __n FROM merge_rows u SEMI JOIN "
            "(SELECT __k, __r FROM merge_hash WHERE __h IN "
            "(SELECT __h FROM merge_hash GROUP BY __h HAVING count(*) > 1)) c "
            "ON u.__k = c.__k AND u.__r = c.__r) WHERE __n > 1"
        )
        counts = fetch(
            con,
            "SELECT (SELECT count(*) FROM merge_hash WHERE __k = 0) AS before, "
            "(SELECT count(*) FROM merge_hash WHERE __k > 0) AS incoming, "
            "(SELECT count(*) FROM merge_dups WHERE __k = 0) AS old_dups, "
            "(SELECT count(*) FROM merge_dups WHERE __k > 0) AS new_dups",
        ).to_pylist()[0]
        drop = fetch(
            con,
            f"SELECT '{name}' AS kind, source_file, source_line FROM merge_dups "
            "WHERE __k > 0 AND source_file IS NOT NULL ORDER BY __k, __r",
        )
        removed = fetch(
            con,
            "SELECT __k, __r FROM merge_dups UNION ALL SELECT __k, __r FROM merge_gone "
            "ORDER BY __k, __r",
        )
        for table in ("merge_dups", "merge_hash", "merge_gone"):
            con.execute(f"DROP TABLE {table}")
        con.execute("DROP VIEW merge_rows")
        added = int(counts["incoming"]) - int(counts["new_dups"])
        merged = Merged(int(counts["incoming"]), added, 0, drop, schema, None)
        if added:
            relative = f"tables/{name}-{self.run}.parquet"
            kept = _kept_batches(sources, first, removed, schema)
            merged.rows = write_parquet_batches(kept, schema.arrow, self.root / relative)
            merged.path = relative
        return merged

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
