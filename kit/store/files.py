"""The store's ``files`` table: which files were ingested, when, with what counts.

It makes ingest idempotent (a file whose SHA-256 is listed is not loaded
again) and lets :func:`store_report` rebuild the loader's report for a
:class:`kit.dataset.Dataset` read from the store.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from kit.dataset import FileReport, IngestReport, SheetReport
from kit.store.layout import Manifest, Store, TableSchema, to_arrow, to_frame, write_parquet

COUNTS = ("rows_read", "rows_loaded", "rows_rejected", "warnings", "duplicates")


def known_sha256(store_dir: Path, manifest: Manifest) -> set[str]:
    """Return the SHA-256 of every file already in the store."""
    name = manifest.tables.get("files")
    if name is None:
        return set()
    return set(pq.read_table(store_dir / name, columns=["sha256"]).column(0).to_pylist())


def write_files_table(
    store_dir: Path, manifest: Manifest, report: IngestReport, run: str, when: str
) -> tuple[list[str], str | None]:
    """Append this run's files to the ``files`` table; return new paths and the superseded file.

    Files already ingested (skipped) and unreadable files are not recorded,
    so an unreadable file is tried again by the next ingest.
    """
    rows = [file_row(f) for f in report.files if f.status not in ("skipped", "unreadable")]
    if not rows:
        return [], None
    new = pd.DataFrame(rows).astype({"path": "str", "sha256": "str"})
    new["ingested_at"] = when
    new["run"] = run
    old_name, schema = manifest.tables.get("files"), manifest.schema("files")
    if old_name is not None and schema is not None:
        stored = to_frame(pq.read_table(store_dir / old_name), schema)
        # A column empty in every new row (no new file has a ``reason``) takes the
        # stored dtype: as an all-None object column it would make the whole
        # column untyped (Arrow null), and its stored texts could not be written.
        empty = {c: stored[c].dtype for c in new.columns if c in stored and new[c].isna().all()}
        table = pd.concat([stored, new.astype(empty)])
    else:
        table = new
    table = table.drop_duplicates("sha256", keep="first").reset_index(drop=True)
    table_schema = TableSchema.of_frame(table)
    relative = f"tables/files-{run}.parquet"
    write_parquet(to_arrow(table, table_schema), store_dir / relative)
    manifest.tables["files"] = relative
    manifest.schemas["files"] = table_schema.to_json()
    manifest.rows["files"] = len(table)
    return [str(r["path"]) for r in rows], old_name


def file_row(entry: FileReport) -> dict[str, Any]:
    """Return the ``files`` table row of one file of a loader report."""
    return {
        "path": entry.path,
        "sha256": entry.sha256,
        "kind": ";".join(entry.kinds),
        "format": entry.format,
        "encoding": entry.encoding,
        "status": entry.status,
        "reason": entry.reason,
        **{name: entry.count(name) for name in COUNTS},
        "sheets": json.dumps([asdict(s) for s in entry.sheets], ensure_ascii=False),
    }


def store_report(store: Store) -> IngestReport:
    """Rebuild a loader report of every file in the store, from its ``files`` table."""
    path, schema = store.table_path("files"), store.schema("files")
    if path is None or schema is None:
        return IngestReport(folder=str(store.path))
    table = pq.read_table(
        path, columns=["path", "sha256", "format", "encoding", "status", "reason", "sheets"]
    ).to_pylist()
    files = tuple(
        FileReport(
            path=row["path"],
            sha256=row["sha256"],
            format=row["format"],
            encoding=row["encoding"],
            status=row["status"],
            reason=row["reason"],
            sheets=tuple(
                SheetReport(**{**s, "missing": tuple(s.get("missing") or ())})
                for s in json.loads(row["sheets"] or "[]")
            ),
        )
        for row in table
    )
    return IngestReport(folder=str(store.path), files=files)
