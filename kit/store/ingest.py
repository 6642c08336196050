"""``ingest``: load a data folder and add what is new to a store.

Idempotent by file: files whose SHA-256 is already in the store's ``files``
table are only hashed (the loader skips them). Overlapping exports add only
their new rows: a query-log row equal to a stored one (same ``lookup_id``
and every canonical field) is counted as a duplicate and listed in the
ledger; the stored row is kept. Large folders are loaded in batches of files
(through a view of symlinks in the store, never writing into the data
folder), so memory stays bounded by the batch, not by the folder.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import shutil
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from kit.dataset import Dataset, IngestReport
from kit.errors import DataFolderError, StoreError
from kit.export import write_csv
from kit.load import load_folder
from kit.load.kinds import detect_kind
from kit.load.read import decode
from kit.store.append import Appender
from kit.store.files import known_sha256, write_files_table
from kit.store.index import INDEX_DIR, build_indexes
from kit.store.layout import (
    DATASETS,
    MANIFEST,
    REJECTS_NAME,
    REPORT_NAME,
    Manifest,
    Store,
    atomic_write_bytes,
    new_run_id,
    open_store,
    read_manifest,
    to_frame,
    write_manifest,
)

BATCH_BYTES = 32 * 1024 * 1024
"""Files are loaded in batches of about this many bytes, to bound memory.

The loader holds a batch in memory several times over (text, cells, typed
columns): a worker loading 32 MiB of CSV (about 250,000 lookups, or a
month's duty roster) peaks near 1.7 GiB; two workers and the main process
stayed under 4 GiB together on a 10 M-lookup folder (``bench/RESULTS.md``).
"""
HEADER_BYTES = 64 * 1024
DUCKDB_MEMORY = "1GB"
"""DuckDB's memory limit while ingesting (it spills to disk beyond)."""

LOCK_NAME = ".ingest.lock"

OWNED = ("query_log", "subjects", "proxies", "ledger", "tables", INDEX_DIR, ".staging")
"""Store sub-folders the kit writes (stray files there are removed)."""


@dataclass(frozen=True)
class IngestResult:
    """What one ingest did: the loader's reports, and what the store gained.

    Attributes
    ----------
    store
        The store folder.
    ingested_at
        When this ingest ran (local time, ISO 8601).
    report
        The loader's report of every file of the data folder (all batches).
    new_files
        Files (paths relative to the data folder) added to the store by this run.
    new_rows
        Rows added per table (kinds, ``subjects``, ``identifiers``, ``ledger``, ``proxies``).
    duplicates
        Rows of this run already in the store (or in an earlier batch), per kind.
    totals
        Rows per table in the store after this run, and ``files``, ``ingests``.

    """

    store: Path
    ingested_at: str
    report: IngestReport
    new_files: tuple[str, ...]
    new_rows: Mapping[str, int] = field(default_factory=dict)
    duplicates: Mapping[str, int] = field(default_factory=dict)
    totals: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able form (the content of ``STORE/ingest_report.json``)."""
        return {
            "store": str(self.store),
            "ingested_at": self.ingested_at,
            "loader": self.report.to_dict(),
            "new_files": list(self.new_files),
            "new_rows": dict(self.new_rows),
            "duplicates_in_store": dict(self.duplicates),
            "store_totals": dict(self.totals),
        }

    def summary(self) -> str:
        """Return a one-screen summary for the terminal."""
        lines = [self.report.summary(), ""]
        added = ", ".join(f"{k} {v:,}" for k, v in sorted(self.new_rows.items()) if v) or "nothing"
        lines.append(f"Store {self.store}: {len(self.new_files)} new file(s); added {added}.")
        dup = sum(self.duplicates.values())
        if dup:
            lines.append(f"{dup:,} row(s) were already in the store and were not added again.")
        total = self.totals.get("query_log", 0)
        lines.append(
            f"The store now holds {total:,} lookups from {self.totals.get('files', 0)} file(s)."
        )
        return "\n".join(lines)


def _prepare(data_dir: Path, store_dir: Path) -> None:
    """Check the two folders; create the store folder when it is new."""
    if not data_dir.is_dir():
        raise DataFolderError("the data folder does not exist: check the path", file=str(data_dir))
    if store_dir == data_dir or store_dir.is_relative_to(data_dir):
        raise StoreError(
            "the store folder is inside the data folder, and the kit never writes there: "
            "choose a store folder outside it",
            file=str(store_dir),
        )
    if store_dir.is_dir() and (store_dir / MANIFEST).is_file():
        return
    if store_dir.exists() and not store_dir.is_dir():
        raise StoreError("the store path is a file: give a folder", file=str(store_dir))
    # A folder holding only what an interrupted first ingest left is resumed.
    ours = {*OWNED, LOCK_NAME, REPORT_NAME, REJECTS_NAME}
    if store_dir.is_dir() and any(p.name not in ours for p in store_dir.iterdir()):
        raise StoreError(
            "this folder is not empty and is not a kit store: give a new or empty folder, "
            "or an existing store",
            file=str(store_dir),
        )
    store_dir.mkdir(parents=True, exist_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def _ingest_lock(store_dir: Path) -> Iterator[None]:
    """Hold ``STORE/.ingest.lock`` so that two ingests never write one store at once.

    A lock left by a process that no longer runs (a killed ingest) is taken over.
    """
    lock = store_dir / LOCK_NAME
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            text = lock.read_text(encoding="ascii", errors="replace").strip()
            if text.isdigit() and _process_alive(int(text)):
                raise StoreError(
                    f"another ingest into this store is running (process {text}): "
                    "wait for it to finish",
                    file=str(store_dir),
                ) from None
            lock.unlink(missing_ok=True)
    else:
        raise StoreError("cannot lock the store for ingest: retry", file=str(store_dir))
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(str(os.getpid()))
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def _remove_strays(store_dir: Path, manifest: Manifest) -> None:
    """Delete files an interrupted ingest left behind (not listed in the manifest)."""
    referenced = manifest.referenced() | manifest.index_files()
    for folder in OWNED:
        root = store_dir / folder
        if not root.is_dir():
            continue
        if folder == ".staging":
            shutil.rmtree(root)
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.relative_to(store_dir).as_posix() not in referenced:
                path.unlink()


def _data_files(data_dir: Path) -> list[Path]:
    return sorted(
        (p for p in data_dir.rglob("*") if p.is_file()),
        key=lambda p: p.relative_to(data_dir).as_posix(),
    )


def _is_query_log_csv(path: Path) -> bool:
    """Whether a file is a CSV whose header row is a query log's (read from its first bytes)."""
    if path.suffix.lower() != ".csv":
        return False
    with path.open("rb") as handle:
        head = handle.read(HEADER_BYTES)
    head = head[: head.find(b"\n") + 1] or head  # whole first line: no cut character
    lines = decode(head).text.splitlines()
    if not lines:
        return False
    header = next(csv.reader([lines[0]]), [])
    return detect_kind(header).kind == "query_log"


def _batches(data_dir: Path, batch_bytes: int) -> list[list[Path]]:
    """Group the folder's files, in path order, into batches of about ``batch_bytes``.

    :func:`kit.load.load_folder` requires a query log in every folder, so a
    batch without a query-log CSV (recognised from its header row) takes one
    from a batch that has several, or else joins the next batch (the last
    one joins the batch before it).
    """
    files = _data_files(data_dir)
    if sum(p.stat().st_size for p in files) <= batch_bytes:
        return [files] if files else []
    batches: list[list[Path]] = [[]]
    size = 0
    for path in files:
        if size >= batch_bytes:
            batches.append([])
            size = 0
        batches[-1].append(path)
        size += path.stat().st_size
    is_log = {p: _is_query_log_csv(p) for p in files}
    index = 0
    while index < len(batches):
        batch = batches[index]
        if any(is_log[p] for p in batch):
            index += 1
            continue
        donor = next((b for b in batches if sum(is_log[p] for p in b) >= 2), None)
        if donor is not None:
            log = next(p for p in reversed(donor) if is_log[p])
            donor.remove(log)
            batch.append(log)
            index += 1
        elif len(batches) == 1:
            break  # no query log at all: the loader says so
        elif index + 1 < len(batches):
            batches[index + 1] = batch + batches[index + 1]
            del batches[index]
        else:
            batches[index - 1].extend(batch)
            del batches[index]
    return batches


def _stage(data_dir: Path, files: list[Path], staging: Path) -> Path:
    """Make a folder of symlinks to ``files`` with their relative paths; return it."""
    staging.mkdir(parents=True)
    for path in files:
        link = staging / path.relative_to(data_dir)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(path)
    return staging


def _spill_into(con: duckdb.DuckDBPyConnection, staging: Path) -> None:
    """Let DuckDB spill to the store's staging folder (never the working directory)."""
    folder = staging / "duckdb"
    folder.mkdir(parents=True, exist_ok=True)
    con.execute("SET temp_directory = '" + str(folder).replace("'", "''") + "'")


def _write_outputs(store: Store, result: IngestResult) -> None:
    """Write ``ingest_report.json`` and the cumulative ``rejects.csv`` for people."""
    document = json.dumps(result.to_dict(), ensure_ascii=False, indent=1, default=str)
    atomic_write_bytes(store.path / REPORT_NAME, document.encode("utf-8"))
    schema, files = store.schema("ledger"), store.files("ledger")
    if schema is None or not files:
        ledger = pd.DataFrame(columns=["source_file", "source_line", "column", "status"])
    else:
        ledger = to_frame(pq.ParquetDataset(files).read(), schema)
    tmp = store.path / f".{REJECTS_NAME}.tmp-{os.getpid()}"
    write_csv(ledger, tmp)
    os.replace(tmp, store.path / REJECTS_NAME)


def _load_batch(folder: str, known: frozenset[str]) -> Dataset:
    """Load one batch folder (run in a worker process)."""
    return load_folder(folder, skip_sha256=known)


def _loaded_batches(
    data: Path, batches: list[list[Path]], known: frozenset[str], staging: Path, workers: int
) -> Iterator[Dataset]:
    """Yield the loaded batches in order; with ``workers`` > 1, load them in parallel processes.

    At most ``workers`` batches are being loaded while the caller stores the
    previous one, so memory stays bounded by a few batches.
    """
    if len(batches) == 1:
        yield load_folder(data, skip_sha256=known)
        return
    folders = [_stage(data, files, staging / f"{n:04d}") for n, files in enumerate(batches)]
    if workers <= 1:
        for folder in folders:
            yield load_folder(folder, skip_sha256=known)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Future[Dataset]] = deque()
        for folder in folders:
            pending.append(pool.submit(_load_batch, str(folder), known))
            if len(pending) >= workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def ingest(
    data_dir: str | Path,
    store_dir: str | Path,
    *,
    batch_bytes: int = BATCH_BYTES,
    workers: int | None = None,
) -> IngestResult:
    """Load a data folder and add what is new to a store (created when missing).

    Parameters
    ----------
    data_dir
        The data folder (DATA.md); it is only read.
    store_dir
        The store folder: new or empty (a store is created), or an existing store.
    batch_bytes
        Load at most about this many bytes of files at once (memory bound).
    workers
        Processes loading batches in parallel when the folder needs more than
        one batch (default: up to 2, the cores permitting; 1 loads in this
        process). The workers are spawned, so a script that calls ``ingest``
        must guard its entry point with ``if __name__ == "__main__":``
        (the ``kit`` command and notebooks need nothing).

    Returns
    -------
    IngestResult
        The loader's report, the new files and rows, duplicates against the
        store and the store's totals; also written to ``STORE/ingest_report.json``.

    Raises
    ------
    DataFolderError
        The data folder is missing or holds no query log.
    StoreError
        The store folder is inside the data folder, or is a non-empty folder
        that is not a store.

    """
    data = Path(data_dir).expanduser().resolve()
    root = Path(store_dir).expanduser().resolve()
    _prepare(data, root)
    with _ingest_lock(root):
        return _ingest_locked(data, root, batch_bytes, workers)


def _ingest_locked(data: Path, root: Path, batch_bytes: int, workers: int | None) -> IngestResult:
    manifest = read_manifest(root) if (root / MANIFEST).is_file() else Manifest()
    _remove_strays(root, manifest)
    known = known_sha256(root, manifest)
    run = new_run_id()
    when = datetime.now().astimezone().isoformat(timespec="seconds")
    reports: list[IngestReport] = []
    batches = _batches(data, batch_bytes) or [[]]
    staging_root = root / ".staging"
    with Store(root, manifest).connect() as con:
        # Parquet pages read to check duplicates need not stay cached.
        con.execute("SET enable_external_file_cache = false")
        con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
        _spill_into(con, staging_root)
        appender = Appender(root, manifest, run, con, when, spool=staging_root / "small")
        count = min(2, os.cpu_count() or 1) if workers is None else workers
        for batch in _loaded_batches(data, batches, frozenset(known), staging_root, count):
            reports.append(batch.report)
            appender.add(batch)
            del batch
        superseded = appender.finish()
        superseded += build_indexes(con, root, manifest, run)
    report = IngestReport(folder=str(data), files=tuple(f for r in reports for f in r.files))
    new_files, old_files = write_files_table(root, manifest, report, run, when)
    if old_files is not None:
        superseded.append(old_files)
    manifest.ingests += 1
    for name in DATASETS:
        manifest.rows[name] = manifest.rows.get(name, 0) + appender.new_rows.get(name, 0)
    write_manifest(root, manifest)
    for relative in superseded:
        (root / relative).unlink(missing_ok=True)
    shutil.rmtree(staging_root, ignore_errors=True)
    totals = {**manifest.rows, "ingests": manifest.ingests}
    result = IngestResult(
        root,
        when,
        report,
        tuple(new_files),
        dict(appender.new_rows),
        dict(appender.duplicates),
        totals,
    )
    _write_outputs(Store(root, manifest), result)
    return result


def compact(store_dir: str | Path) -> Store:
    """Rewrite every month of the query log and subjects into one sorted file each.

    :func:`ingest` already compacts the months it writes to; this is for a
    store written by an older kit, or after many small ingests. Months
    without a current look-up index (:mod:`kit.store.index`) get one.

    Parameters
    ----------
    store_dir
        An existing store.

    Returns
    -------
    Store
        The store, reopened.

    Raises
    ------
    StoreError
        When the folder is not a store, or an ingest is running on it.

    """
    root = Path(store_dir).expanduser().resolve()
    read_manifest(root)
    with _ingest_lock(root):
        manifest = read_manifest(root)
        _remove_strays(root, manifest)
        with Store(root, manifest).connect() as con:
            _spill_into(con, root / ".staging")
            appender = Appender(root, manifest, new_run_id(), con, "")
            appender.touched.update(manifest.months)
            replaced = appender.compact()
            replaced += build_indexes(con, root, manifest, appender.run)
        write_manifest(root, manifest)
        for relative in replaced:
            (root / relative).unlink(missing_ok=True)
        shutil.rmtree(root / ".staging", ignore_errors=True)
    return open_store(root)
