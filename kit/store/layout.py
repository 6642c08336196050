"""The store's folder layout, its manifest and the typed round trip of tables.

A store is a folder the kit writes and nobody else::

    STORE/
      store.json                       manifest, written last (the commit point)
      query_log/month=YYYY-MM/part-<run>-<n>.parquet   sorted by (user, time)
      subjects/part-<run>-<n>.parquet  sorted by (entity, value), with month, user
      proxies/part-<run>-<n>.parquet   lookups whose actual_user is not the user
      ledger/part-<run>.parquet        every ledger row of every ingest
      index/month=YYYY-MM/*.arrow      the look-up index of each month (kit.store.index)
      tables/<kind>-<run>.parquet      every other kind, one file each
      tables/files-<run>.parquet       the files ingested (path, sha256, kind, ...)
      ingest_report.json, rejects.csv  for people, rewritten after each ingest

Only files listed in ``store.json`` belong to the store: an ingest writes new
files under new names, then replaces the manifest in one atomic rename, so an
interrupted ingest leaves the previous store intact (its stray files are
removed by the next ingest).

Tables keep their pandas dtypes through Parquet: the manifest records each
column's dtype, and :func:`to_frame` restores it after a DuckDB query.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kit.errors import StoreError
from kit.schema import PROVENANCE

FORMAT_NAME = "kit-store"
FORMAT_VERSION = 1
MANIFEST = "store.json"
REPORT_NAME = "ingest_report.json"
REJECTS_NAME = "rejects.csv"
ROW_GROUP_ROWS = 8_192
"""Rows per Parquet row group: small, so min/max statistics prune to few rows.

An officer makes a few hundred lookups a month; with (user, time) order they
sit in one or two row groups of their month's file, so a look-up decodes
about 8k rows per month instead of the whole month (measured: 64k-row groups
made a look-up on a 1 M-lookup store five times slower, for no gain in size).
"""

DATASETS = ("query_log", "subjects", "proxies", "ledger")
"""Tables stored as many part files, appended to by each ingest."""


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def new_run_id() -> str:
    """Return a unique, time-ordered name for one ingest's files."""
    return datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(4)


# ---------------------------------------------------------------- dtypes


def dtype_spec(dtype: Any) -> str:
    """Describe a pandas dtype as text that :func:`restore_dtype` turns back into it."""
    if isinstance(dtype, pd.ArrowDtype):
        return "arrow"
    if isinstance(dtype, pd.StringDtype):
        na = "nan" if dtype.na_value is np.nan else "NA"
        return f"string:{dtype.storage}:{na}"
    return str(dtype)


@lru_cache(maxsize=1024)
def restore_dtype(spec: str, arrow_type: pa.DataType) -> Any:
    """Return the pandas dtype described by ``spec`` (see :func:`dtype_spec`); cached."""
    if spec == "arrow":
        return pd.ArrowDtype(arrow_type)
    if spec.startswith("string:"):
        _, storage, na = spec.split(":")
        return pd.StringDtype(storage, na_value=np.nan if na == "nan" else pd.NA)
    return pd.api.types.pandas_dtype(spec)


@dataclass(frozen=True)
class TableSchema:
    """Column order, Arrow types and pandas dtypes of one stored table."""

    arrow: pa.Schema
    dtypes: dict[str, str]

    @property
    def columns(self) -> list[str]:
        """Column names in order."""
        return list(self.arrow.names)

    @cached_property
    def pandas_dtypes(self) -> list[Any]:
        """The pandas dtype of each column, in order."""
        return [restore_dtype(self.dtypes.get(f.name, "object"), f.type) for f in self.arrow]

    @classmethod
    def of_frame(cls, frame: pd.DataFrame) -> TableSchema:
        """Return the schema a frame is stored with."""
        table = pa.Table.from_pandas(frame.iloc[:0], preserve_index=False)
        dtypes = {str(c): dtype_spec(frame[c].dtype) for c in frame}
        return cls(table.schema.remove_metadata(), dtypes)

    def merge(self, other: TableSchema) -> TableSchema:
        """Return the schema holding both (columns of ``self`` first, provenance last)."""
        unified = pa.unify_schemas([self.arrow, other.arrow], promote_options="permissive")
        dtypes = dict(self.dtypes)
        for name, spec in other.dtypes.items():
            if dtypes.get(name, "object") == "object":
                dtypes[name] = spec
        names = [n for n in unified.names if n not in PROVENANCE]
        names += [n for n in unified.names if n in PROVENANCE]
        return TableSchema(pa.schema([unified.field(n) for n in names]), dtypes)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-able form for the manifest."""
        raw = self.arrow.serialize().to_pybytes()
        return {"arrow": base64.b64encode(raw).decode("ascii"), "dtypes": self.dtypes}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableSchema:
        """Read back :meth:`to_json`."""
        arrow = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(data["arrow"])))
        return cls(arrow, dict(data["dtypes"]))


def to_arrow(frame: pd.DataFrame, schema: TableSchema) -> pa.Table:
    """Convert a frame to Arrow with exactly the stored schema's columns and types."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    columns = []
    for fld in schema.arrow:
        if fld.name in table.column_names:
            columns.append(table.column(fld.name).cast(fld.type))
        else:
            columns.append(pa.nulls(table.num_rows, fld.type))
    return pa.Table.from_arrays(columns, schema=schema.arrow)


_AS_STORED: dict[tuple[pa.Schema, tuple[Any, ...]], bool] = {}


def _converts_as_stored(table: pa.Table, dtypes: tuple[Any, ...], converted: pd.DataFrame) -> bool:
    """Whether ``converted`` (``table.to_pandas()``) has exactly these pandas dtypes.

    What pyarrow makes of a column depends on its type alone, except that an
    integer or boolean column with a null becomes ``float64`` or ``object``:
    for a table without such nulls the answer is remembered per schema.
    """
    data_dependent = any(
        (pa.types.is_integer(column.type) or pa.types.is_boolean(column.type)) and column.null_count
        for column in table.columns
    )
    key = (table.schema, dtypes)
    found = None if data_dependent else _AS_STORED.get(key)
    if found is None:
        have = [series.dtype for _, series in converted.items()]
        found = len(have) == len(dtypes) and all(h == d for h, d in zip(have, dtypes, strict=True))
        if not data_dependent:
            _AS_STORED[key] = found
    return found


def to_frame(table: pa.Table, schema: TableSchema) -> pd.DataFrame:
    """Convert a query result to pandas with the stored dtypes, in the stored column order.

    The columns are converted together (one ``Table.to_pandas``, much cheaper
    than a conversion per column for the small tables of a look-up); only a
    column whose pandas dtype then differs from the stored one is cast.
    """
    table = table.replace_schema_metadata(None)
    if table.schema.equals(schema.arrow) and "arrow" not in schema.dtypes.values():
        # a look-up's answer: already in the stored types (one block per column: a
        # third cheaper for the few rows of a look-up, and nothing to consolidate)
        converted = table.to_pandas(split_blocks=True)
        if _converts_as_stored(table, tuple(schema.pandas_dtypes), converted):
            return converted
    arrays: dict[str, pa.ChunkedArray] = {}
    present = set(table.column_names)
    for fld in schema.arrow:
        name = fld.name
        if name in present:
            column = table.column(name)
            if str(column.type) != str(fld.type):  # list<element> vs list<item> too
                column = column.cast(fld.type)
        else:
            column = pa.chunked_array([pa.nulls(table.num_rows, fld.type)], fld.type)
        arrays[name] = column
    arrow_kept = {n for n in arrays if schema.dtypes.get(n, "object") == "arrow"}
    plain = [n for n in arrays if n not in arrow_kept]
    converted = pa.Table.from_arrays([arrays[n] for n in plain], names=plain).to_pandas(
        split_blocks=True
    )
    dtypes = {
        n: restore_dtype(schema.dtypes.get(n, "object"), schema.arrow.field(n).type) for n in plain
    }
    if not arrow_kept and all(
        have == dtypes[n] for n, have in zip(plain, converted.dtypes.tolist(), strict=True)
    ):
        return converted  # every column already as stored (a RangeIndex, the stored order)
    out: dict[str, Any] = {}
    for fld in schema.arrow:
        name = fld.name
        if name in arrow_kept:
            out[name] = pd.Series(pd.arrays.ArrowExtensionArray(arrays[name]), name=name)
            continue
        series = converted[name]
        out[name] = series if series.dtype == dtypes[name] else series.astype(dtypes[name])
    return pd.DataFrame(out, index=pd.RangeIndex(table.num_rows))


# ---------------------------------------------------------------- files


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file under a temporary name, then rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write one Parquet file (small row groups, statistics on) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    pq.write_table(table, tmp, row_group_size=ROW_GROUP_ROWS, compression="snappy")
    os.replace(tmp, path)


def file_schema(path: str) -> pa.Schema:
    """Return a Parquet file's schema (cached: store files never change once written)."""
    stat = os.stat(path)
    return _file_schema(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8192)
def _file_schema(path: str, mtime_ns: int, size: int) -> pa.Schema:
    return pq.read_schema(path)


def write_parquet_batches(tables: Iterable[pa.Table], schema: pa.Schema, path: Path) -> int:
    """Write tables of one schema into one Parquet file atomically; return its row count.

    The tables are written as they come (a streamed query result), so the
    whole file is never in memory.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    rows = 0
    with pq.ParquetWriter(tmp, schema, compression="snappy") as writer:
        for table in tables:
            writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            rows += table.num_rows
    os.replace(tmp, path)
    return rows


# ---------------------------------------------------------------- manifest


@dataclass
class Manifest:
    """What ``store.json`` says: the files and schemas that make up the store."""

    created_at: str = field(default_factory=_now)
    updated_at: str = ""
    ingests: int = 0
    parts: dict[str, list[str]] = field(default_factory=lambda: {d: [] for d in DATASETS})
    tables: dict[str, str] = field(default_factory=dict)
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    months: list[str] = field(default_factory=list)
    index: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per month: its look-up index files and the parts they were built from (kit.store.index)."""

    def to_json(self) -> dict[str, Any]:
        """Return the JSON document written to ``store.json``."""
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "ingests": self.ingests,
            "months": sorted(self.months),
            "rows": self.rows,
            "parts": self.parts,
            "tables": self.tables,
            "schemas": self.schemas,
            "index": self.index,
        }

    def schema(self, table: str) -> TableSchema | None:
        """Return a table's stored schema, if the store has one."""
        data = self.schemas.get(table)
        if not data:
            return None
        return _schema_of(str(data["arrow"]), tuple(sorted(data["dtypes"].items())))

    def referenced(self) -> set[str]:
        """Return every data file (relative path) the manifest lists, index files aside."""
        out = {p for paths in self.parts.values() for p in paths}
        return out | set(self.tables.values())

    def index_files(self) -> set[str]:
        """Return the look-up index files (relative paths) the manifest lists."""
        return {str(e[k]) for e in self.index.values() for k in ("lookups", "keys") if k in e}


@lru_cache(maxsize=256)
def _schema_of(arrow: str, dtypes: tuple[tuple[str, str], ...]) -> TableSchema:
    """Return a schema from its manifest form (cached: a look-up needs it each time)."""
    return TableSchema.from_json({"arrow": arrow, "dtypes": dict(dtypes)})


def read_manifest(store_dir: Path) -> Manifest:
    """Read ``store.json``; raise :class:`StoreError` saying what to do when it is not a store."""
    marker = store_dir / MANIFEST
    if not store_dir.is_dir():
        raise StoreError(
            "the store folder does not exist: check the path, or build a store with "
            "`kit ingest DATA_DIR --store STORE`",
            file=str(store_dir),
        )
    if not marker.is_file():
        raise StoreError(
            "this folder is not a kit store (no store.json): pass the folder given to "
            "`kit ingest --store`, or build one with `kit ingest DATA_DIR --store STORE`",
            file=str(store_dir),
        )
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(
            f"store.json cannot be read ({type(exc).__name__}): "
            "rebuild the store with `kit ingest`",
            file=str(store_dir),
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise StoreError(
            "store.json is not a kit store manifest: pass the folder given to `kit ingest --store`",
            file=str(store_dir),
        )
    if data.get("version") != FORMAT_VERSION:
        raise StoreError(
            f"store format version {data.get('version')} is not supported by this kit "
            f"(it reads version {FORMAT_VERSION}): rebuild the store with `kit ingest`",
            file=str(store_dir),
        )
    parts = {d: list(data.get("parts", {}).get(d, [])) for d in DATASETS}
    return Manifest(
        created_at=str(data.get("created_at", "")),
        updated_at=str(data.get("updated_at", "")),
        ingests=int(data.get("ingests", 0)),
        parts=parts,
        tables=dict(data.get("tables", {})),
        schemas=dict(data.get("schemas", {})),
        rows={k: int(v) for k, v in data.get("rows", {}).items()},
        months=list(data.get("months", [])),
        index={str(k): dict(v) for k, v in data.get("index", {}).items()},
    )


def write_manifest(store_dir: Path, manifest: Manifest) -> None:
    """Replace ``store.json`` atomically: the commit point of an ingest."""
    manifest.updated_at = _now()
    text = json.dumps(manifest.to_json(), ensure_ascii=False, indent=1)
    atomic_write_bytes(store_dir / MANIFEST, text.encode("utf-8"))


# ---------------------------------------------------------------- store


_INHERITED: list[duckdb.DuckDBPyConnection] = []
"""DuckDB databases a forked child inherited and must not close (:meth:`Store.in_forked_child`)."""


@dataclass(frozen=True)
class Store:
    """An opened store: its folder and manifest. Build one with :func:`open_store`."""

    path: Path
    manifest: Manifest = field(repr=False)

    @cached_property
    def _database(self) -> duckdb.DuckDBPyConnection:
        database = duckdb.connect()
        # Parts never change once written (new data goes to new files), so their
        # footers can be cached across queries.
        database.execute("SET parquet_metadata_cache = true")
        return database

    def in_forked_child(self) -> None:
        """Drop the DuckDB database inherited from the parent process (call first in a fork).

        DuckDB's worker threads do not survive a fork: a query on the parent's
        database would wait for them for ever. The child opens its own, and
        keeps the inherited one unclosed (closing it would wait for the same
        threads).
        """
        inherited = self.__dict__.pop("_database", None)
        if inherited is not None:
            _INHERITED.append(inherited)

    def files(self, dataset: str, months: list[str] | None = None) -> list[str]:
        """Return absolute paths of a dataset's parts, only the given months' for the query log."""
        parts = self.manifest.parts.get(dataset, [])
        if months is not None:
            wanted = {f"month={m}" for m in months}
            parts = [p for p in parts if p.split("/")[1] in wanted]
        return [str(self.path / p) for p in parts]

    def table_path(self, kind: str) -> Path | None:
        """Return the file of a small table, if stored."""
        name = self.manifest.tables.get(kind)
        return self.path / name if name else None

    def schema(self, table: str) -> TableSchema | None:
        """Return a stored table's schema."""
        return self.manifest.schema(table)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """Return a DuckDB connection for one query (a cheap cursor on the store's database).

        Each call gives its own cursor, so threads may query one store at once.
        """
        return self._database.cursor()


def open_store(store_dir: str | Path) -> Store:
    """Open a store written by :func:`kit.store.ingest`.

    Parameters
    ----------
    store_dir
        The folder given to ``kit ingest --store``.

    Returns
    -------
    Store
        The opened store, for :func:`lookups_by_officer`, :func:`lookups_by_subject`
        and :func:`load_dataset`.

    Raises
    ------
    StoreError
        When the folder is missing or is not a store (no readable ``store.json``
        of a supported format version); the message says what to do.

    """
    path = Path(store_dir).expanduser().resolve()
    return Store(path, read_manifest(path))


def fetch(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] | None = None
) -> pa.Table:
    """Run a query and return its result as an Arrow table."""
    relation = con.sql(sql, params=list(params) if params else None)
    if relation is None:
        raise StoreError("a store query returned no result: rebuild the store with `kit ingest`")
    return relation.to_arrow_table()
