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

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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

    def _sources(self, name: str) -> list[tuple[str, TableSchema]]:
        """Return a small table's new parts as (DuckDB table expression, schema), in batch order."""
        sources: list[tuple[str, TableSchema]] = []
        for n, entry in enumerate(self.small.pop(name, [])):
            if isinstance(entry, pd.DataFrame):
                schema = TableSchema.of_frame(entry)
                view = f"small_{name}_{n}"
                self.con.register(view, to_arrow(entry, schema))
                sources.append(
                    (f"(SELECT *, row_number() OVER () - 1 AS file_row_number FROM {view})", schema)
                )
            else:
                path, schema = entry
                sources.append((_read_numbered(str(path)), schema))
        return sources

    def _merge_small(
        self, name: str, sources: list[tuple[str, TableSchema]], dropped: pa.Table | None
    ) -> Merged:
        """Merge the stored table with its new parts, de-duplicated, into a new file.

        Rows are equal when every column but the provenance is equal (for
        ``identifiers``, every column: provenance ties them to their row);
        the row already in the store, or the first new one, is kept, in the
        order stored rows, then new rows as they came. New ``identifiers``
        rows of rows in ``dropped`` (``kind``, ``source_file``,
        ``source_line`` of rows dropped as duplicates) go with them.
        """
        path, stored = self.manifest.tables.get(name), self.manifest.schema(name)
        parts = [(f"{expr}", k + 1, schema) for k, (expr, schema) in enumerate(sources)]
        if path is not None and stored is not None:
            parts.insert(0, (_read_numbered(str(self.root / path)), 0, stored))
        schema = parts[0][2]
        for _, _, other in parts[1:]:
            schema = schema.merge(other)
        columns = schema.columns
        content = columns if name == "identifiers" else [c for c in columns if c not in PROVENANCE]
        union = " UNION ALL BY NAME ".join(
            f"SELECT *, {k} AS __k, file_row_number AS __r FROM {expr}" for expr, k, _ in parts
        )
        gone = ""
        if dropped is not None and dropped.num_rows:
            self.con.register("dropped_rows", dropped)
            gone = (
                " u ANTI JOIN dropped_rows d ON u.__k > 0 AND u.kind = d.kind "
                "AND u.source_file = d.source_file AND u.source_line = d.source_line"
            )
        quoted = ", ".join(f'"{c}"' for c in content)
        # Rows are hashed on their content; only rows whose hash repeats are
        # compared exactly (a full sort on every column of millions of roster
        # rows took minutes). __n = 1 marks the first of each group of equals.
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE hashed AS SELECT *, hash({quoted}) AS __h "
            f"FROM (SELECT * FROM ({union}){gone})"
        )
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE repeated AS SELECT __k, __r FROM ("
            f"SELECT __k, __r, row_number() OVER (PARTITION BY {quoted} ORDER BY __k, __r) AS __n "
            "FROM hashed WHERE __h IN (SELECT __h FROM hashed GROUP BY __h HAVING count(*) > 1)"
            ") WHERE __n > 1"
        )
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE merging AS SELECT m.* EXCLUDE (__h), "
            "CASE WHEN d.__k IS NULL THEN 1 ELSE 2 END AS __n "
            "FROM hashed m LEFT JOIN repeated d ON m.__k = d.__k AND m.__r = d.__r"
        )
        self.con.execute("DROP TABLE repeated")
        self.con.execute("DROP TABLE hashed")
        counts = fetch(
            self.con,
            "SELECT count(*) FILTER (WHERE __k = 0) AS before, "
            "count(*) FILTER (WHERE __k > 0) AS incoming, "
            "count(*) FILTER (WHERE __k > 0 AND __n = 1) AS added FROM merging",
        ).to_pylist()[0]
        drop = pa.table(
            {
                "kind": pa.array([], pa.string()),
                "source_file": pa.array([], pa.string()),
                "source_line": pa.array([], pa.string()),
            }
        )
        if name != "identifiers" and counts["incoming"] > counts["added"]:
            drop = fetch(
                self.con,
                f"SELECT '{name}' AS kind, CAST(source_file AS VARCHAR) AS source_file, "
                "CAST(source_line AS VARCHAR) AS source_line "
                "FROM merging WHERE __k > 0 AND __n > 1",
            )
        merged = Merged(int(counts["incoming"]), int(counts["added"]), 0, drop, schema, None)
        if counts["added"]:
            relative = f"tables/{name}-{self.run}.parquet"
            select = ", ".join(f'"{c}"' for c in columns)
            reader = self.con.sql(
                f"SELECT {select} FROM merging WHERE __n = 1 ORDER BY __k, __r"
            ).to_arrow_reader(ROW_GROUP_ROWS)
            merged.rows = write_parquet_batches(
                (conform(pa.Table.from_batches([b]), schema) for b in reader),
                schema.arrow,
                self.root / relative,
            )
            merged.path = relative
        self.con.execute("DROP TABLE merging")
        if dropped is not None and dropped.num_rows:
            self.con.unregister("dropped_rows")
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
