"""``load_folder``: a data folder of exports → a :class:`kit.dataset.Dataset`.

Walks the folder (sub-folders too, sorted by ``/``-separated relative path),
hashes every file, reads CSV and XLSX files (every sheet), detects each
table's kind from its header row, completes every table through the same
code as :meth:`Dataset.from_frames`, de-duplicates, and reports per file.
Nothing is written into the folder.

Errors: a missing folder and a folder without any query log raise
:class:`kit.errors.DataFolderError`. A file that cannot be read at all
(corrupt XLSX, permission) is reported as ``unreadable`` with its reason; a
table whose header holds some but not all required columns of a kind is
reported with the :class:`kit.errors.SchemaError` message naming every missing
column (``strict=True`` raises it instead). Both also go to the ledger.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection
from pathlib import Path

import pandas as pd
import pyarrow as pa

from kit.dataset import Dataset
from kit.errors import DataFolderError, SchemaError
from kit.load.assemble import Assembled, assemble
from kit.load.complete import complete_kind, empty_frame, empty_ledger
from kit.load.kinds import detect_kind, header_name
from kit.load.read import Table, read_csv, read_xlsx
from kit.load.report import FileReport, IngestReport, SheetReport
from kit.normalise import TEXT_DTYPE
from kit.schema import KINDS, LEDGER_COLUMNS, PROVENANCE

__all__ = ["load_folder"]

_CSV = {".csv", ".txt"}
_XLSX = {".xlsx", ".xlsm"}


def _ledger_row(
    file: str, line: str, column: str | None, status: str, reason: str, raw: str
) -> dict:
    return dict(zip(LEDGER_COLUMNS, (file, line, column, status, reason, raw), strict=True))


def _table_frame(table: Table, columns: dict[int, str], rel: str, sha: str) -> pd.DataFrame:
    data: dict[str, pd.Series] = {}
    for i, h in enumerate(table.header):
        name = columns.get(i) or header_name(h, i)
        if name in data:
            name = f"{name}_{i + 1}"
        data[name] = table.cells[i] if i in table.cells.columns else pd.Series(None, dtype=object)
    frame = pd.DataFrame(data)
    n = len(frame)
    frame["source_file"] = pd.array(pa.repeat(pa.scalar(rel), n), dtype=TEXT_DTYPE)
    frame["source_line"] = pd.Series(pd.array(table.lines, dtype=TEXT_DTYPE))
    frame["source_sha256"] = pd.array(pa.repeat(pa.scalar(sha), n), dtype=TEXT_DTYPE)
    return frame


def _concat(kind: str, parts: list[pd.DataFrame]) -> pd.DataFrame:
    base = empty_frame(kind)
    if not parts:
        return base
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    fixed = [c for c in base.columns if c not in PROVENANCE]
    extras = [c for c in frame.columns if c not in base.columns]
    for c in extras:
        frame[c] = frame[c].astype(TEXT_DTYPE)
    for c in base.columns:
        if frame[c].dtype != base[c].dtype:
            frame[c] = frame[c].astype(base[c].dtype)
    return frame[[*fixed, *extras, *PROVENANCE]]


def load_folder(
    path: str | Path, *, skip_sha256: Collection[str] = (), strict: bool = False
) -> Dataset:
    """Load every export of a data folder.

    Parameters
    ----------
    path
        The data folder.
    skip_sha256
        SHA-256 hex digests of files already ingested: such files are hashed
        and listed in the report as skipped, not parsed.
    strict
        Raise :class:`kit.errors.SchemaError` for a table lacking required
        columns instead of reporting it.

    Returns
    -------
    Dataset
        Every kind completed, with ``subjects``, ``identifiers``, ``ledger``
        and the :class:`kit.load.report.IngestReport` (``dataset.report``).

    Raises
    ------
    DataFolderError
        The folder does not exist, or holds no query log (unless every file
        was skipped as already ingested).
    SchemaError
        With ``strict=True`` only.

    """
    root = Path(path)
    if not root.is_dir():
        raise DataFolderError("data folder does not exist: check the path", file=str(path))
    skip = set(skip_sha256)
    files = sorted(
        (p for p in root.rglob("*") if p.is_file()), key=lambda p: p.relative_to(root).as_posix()
    )
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in KINDS}
    ledgers: list[pd.DataFrame] = []
    notes: list[dict] = []
    reports: list[tuple[FileReport, list[tuple[str, str | None]]]] = []
    schema_errors: list[SchemaError] = []
    for file in files:
        rel = file.relative_to(root).as_posix()
        try:
            data = file.read_bytes()
        except OSError as exc:
            reason = f"cannot be read: {exc.strerror or type(exc).__name__}"
            notes.append(_ledger_row(rel, "", None, "rejected", reason, ""))
            reports.append((FileReport(rel, "", "other", None, "unreadable", reason), []))
            continue
        sha = hashlib.sha256(data).hexdigest()
        suffix = file.suffix.lower()
        fmt = "csv" if suffix in _CSV else "xlsx" if suffix in _XLSX else "other"
        if sha in skip:
            reports.append((FileReport(rel, sha, fmt, None, "skipped", "already ingested"), []))
            continue
        if fmt == "other":
            reason = "not a CSV or XLSX file"
            reports.append((FileReport(rel, sha, fmt, None, "unrecognised", reason), []))
            continue
        encoding: str | None = None
        try:
            if fmt == "csv":
                table, encoding = read_csv(data)
                tables = [table]
            else:
                tables = read_xlsx(file)
        except Exception as exc:  # a corrupt file must not stop the folder
            reason = f"cannot be read as {fmt.upper()}: {type(exc).__name__}"
            notes.append(_ledger_row(rel, "", None, "rejected", reason, ""))
            reports.append((FileReport(rel, sha, fmt, encoding, "unreadable", reason), []))
            continue
        sheets: list[SheetReport] = []
        sheet_kinds: list[tuple[str, str | None]] = []
        reasons: list[str] = []
        for table in tables:
            detection = detect_kind(table.header)
            if detection.error is not None:
                error = SchemaError(
                    detection.error.message, missing=detection.error.missing, file=rel
                )
                if strict:
                    raise error
                schema_errors.append(error)
                reasons.append(str(error))
                notes.append(_ledger_row(rel, "1", None, "rejected", error.message, ""))
                sheets.append(SheetReport(table.sheet, "schema_error", missing=error.missing))
                continue
            if detection.kind is None:
                sheets.append(SheetReport(table.sheet, "unrecognised"))
                continue
            kind = detection.kind
            frame = _table_frame(table, detection.columns, rel, sha)
            completed = complete_kind(kind, frame)
            parts[kind].append(completed.frame)
            bad = [
                _ledger_row(rel, b.line, None, "rejected", b.reason, b.raw) for b in table.bad_rows
            ]
            escaped = [
                _ledger_row(rel, line, None, "warning", "undecodable bytes escaped", raw)
                for line, raw in table.escaped_lines
            ]
            ledger = pd.concat(
                [pd.DataFrame(bad + escaped, columns=list(LEDGER_COLUMNS)), completed.ledger],
                ignore_index=True,
            ).astype(TEXT_DTYPE)
            ledgers.append(ledger)
            rejected_lines = ledger.loc[ledger["status"] == "rejected", "source_line"].nunique()
            n_warn = int((ledger["status"] == "warning").sum())
            sheets.append(
                SheetReport(
                    table.sheet,
                    kind,
                    rows_read=table.rows_read,
                    rows_loaded=table.rows_read - rejected_lines,
                    rows_rejected=rejected_lines,
                    warnings=n_warn,
                    form=detection.form,
                )
            )
            sheet_kinds.append((kind, table.sheet))
        status = "loaded" if sheet_kinds else "unrecognised"
        file_reason = "; ".join(reasons) or (None if sheet_kinds else "no table matches a kind")
        reports.append(
            (FileReport(rel, sha, fmt, encoding, status, file_reason, tuple(sheets)), sheet_kinds)
        )

    frames = {kind: _concat(kind, parts[kind]) for kind in KINDS}
    if notes:
        ledgers.insert(0, pd.DataFrame(notes, columns=list(LEDGER_COLUMNS)).astype(TEXT_DTYPE))
    ledger = pd.concat(ledgers, ignore_index=True) if ledgers else empty_ledger()
    assembled = assemble(frames, ledger)
    report = IngestReport(str(path), tuple(_with_late_counts(f, assembled) for f, _ in reports))
    has_log = any(s.kind == "query_log" for f in report.files for s in f.sheets)
    skipped = any(f.status == "skipped" for f in report.files)
    if not has_log and not skipped:
        hint = f" ({'; '.join(str(e) for e in schema_errors)})" if schema_errors else ""
        raise DataFolderError(
            "data folder holds no query log (警政日誌) export: add one" + hint, file=str(path)
        )
    return Dataset(
        **assembled.frames,
        subjects=assembled.subjects,
        identifiers=assembled.identifiers,
        ledger=assembled.ledger,
        report=report,
    )


def _with_late_counts(report: FileReport, assembled: Assembled) -> FileReport:
    """Add duplicates and subject warnings (known only after assembling) to a file's sheets."""
    if not report.sheets:
        return report
    dup_lines = assembled.ledger[
        (assembled.ledger["status"] == "duplicate")
        & (assembled.ledger["source_file"] == report.path)
    ]["source_line"]
    sheet_of = dup_lines.str.split("!").str[0] if report.format == "xlsx" else None
    dup_by_sheet: Counter[str | None] = (
        Counter(sheet_of) if sheet_of is not None else Counter({None: len(dup_lines)})
    )
    late_warnings = assembled.warnings.get(report.path, 0)
    sheets = []
    for sheet in report.sheets:
        if sheet.kind in KINDS:
            extra_warn = late_warnings if sheet.kind == "query_log" else 0
            late_warnings -= extra_warn
            sheet = SheetReport(
                sheet.sheet,
                sheet.kind,
                sheet.rows_read,
                sheet.rows_loaded,
                sheet.rows_rejected,
                sheet.warnings + extra_warn,
                int(dup_by_sheet.pop(sheet.sheet, 0)),
                sheet.form,
                sheet.missing,
            )
        sheets.append(sheet)
    return FileReport(
        report.path,
        report.sha256,
        report.format,
        report.encoding,
        report.status,
        report.reason,
        tuple(sheets),
    )
