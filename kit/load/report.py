"""The ingest report: what was read from each file, and how it reconciles.

For every sheet of every file: ``rows_read = rows_loaded + rows_rejected``.
Warnings are among the loaded rows; duplicates too (a duplicate was loaded,
then dropped as a copy of an earlier row: ``rows_kept = rows_loaded -
duplicates``). A file skipped because its SHA-256 was already ingested is
hashed and listed, not parsed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["FileReport", "IngestReport", "SheetReport"]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal columns (CJK counts double), cutting the left."""
    while _width(text) > width:
        text = text[1:]
    return text + " " * (width - _width(text))


SUMMARY_ROWS = 30
"""File rows a summary lists before it totals them per kind instead."""
_HEADER = (
    f"{_cell('file', 40)} {'kind':<16} {'enc':<9} {'read':>8} {'loaded':>8} {'rej':>6} "
    f"{'warn':>6} {'dup':>6}"
)
_COUNTS = ("rows_read", "rows_loaded", "rows_rejected", "warnings", "duplicates")


@dataclass(frozen=True)
class SheetReport:
    """One table of a file (the CSV itself, or one XLSX sheet)."""

    sheet: str | None
    kind: str
    """A kind name, ``unrecognised``, or ``schema_error``."""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    warnings: int = 0
    duplicates: int = 0
    form: str | None = None
    """``long`` or ``wide`` for a duty roster."""
    missing: tuple[str, ...] = ()
    """Required columns missing (``schema_error``)."""

    @property
    def rows_kept(self) -> int:
        """Rows loaded and not dropped as duplicates."""
        return self.rows_loaded - self.duplicates

    @property
    def reconciles(self) -> bool:
        """Whether ``rows_read == rows_loaded + rows_rejected``."""
        return self.rows_read == self.rows_loaded + self.rows_rejected


@dataclass(frozen=True)
class FileReport:
    """One file of the data folder."""

    path: str
    sha256: str
    format: str
    """``csv``, ``xlsx`` or ``other``."""
    encoding: str | None = None
    status: str = "loaded"
    """``loaded``, ``skipped`` (already ingested), ``unrecognised`` or ``unreadable``."""
    reason: str | None = None
    sheets: tuple[SheetReport, ...] = ()

    def count(self, name: str) -> int:
        """Sum one count (``rows_read``, ``duplicates`` …) over the sheets."""
        return sum(int(getattr(s, name)) for s in self.sheets)

    @property
    def skipped(self) -> bool:
        """Whether the file was skipped as already ingested (its SHA-256 was known)."""
        return self.status == "skipped"

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kind of each sheet, in order."""
        return tuple(s.kind for s in self.sheets)

    @property
    def reconciles(self) -> bool:
        """Whether every sheet reconciles."""
        return all(s.reconciles for s in self.sheets)


@dataclass(frozen=True)
class IngestReport:
    """What :func:`kit.load.load_folder` read, per file, with totals."""

    folder: str
    files: tuple[FileReport, ...] = field(default_factory=tuple)

    def totals(self) -> dict[str, int]:
        """Return the counts summed over all files, plus file counts by status."""
        out = {name: sum(f.count(name) for f in self.files) for name in _COUNTS}
        out["rows_kept"] = out["rows_loaded"] - out["duplicates"]
        out["files"] = len(self.files)
        for status in ("loaded", "skipped", "unrecognised", "unreadable"):
            out[f"files_{status}"] = sum(1 for f in self.files if f.status == status)
        return out

    @property
    def unrecognised(self) -> tuple[str, ...]:
        """Paths of files (or ``file!sheet``) whose header matched no kind."""
        out: list[str] = []
        for f in self.files:
            for s in f.sheets:
                if s.kind == "unrecognised":
                    out.append(f.path if s.sheet is None else f"{f.path}!{s.sheet}")
            if f.status == "unrecognised" and not f.sheets:
                out.append(f.path)
        return tuple(out)

    @property
    def reconciles(self) -> bool:
        """Whether ``rows_read == rows_loaded + rows_rejected`` for every file."""
        return all(f.reconciles for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dictionary of the report."""
        return {
            "folder": self.folder,
            "totals": self.totals(),
            "reconciles": self.reconciles,
            "reconciliation": "rows_read = rows_loaded + rows_rejected per file; "
            "rows_kept = rows_loaded - duplicates; warnings are among the loaded",
            "unrecognised": list(self.unrecognised),
            "files": [
                {
                    **{k: v for k, v in asdict(f).items() if k != "sheets"},
                    "kinds": list(f.kinds),
                    "skipped": f.skipped,
                    **{name: f.count(name) for name in _COUNTS},
                    "sheets": [{**asdict(s), "missing": list(s.missing)} for s in f.sheets],
                }
                for f in self.files
            ],
        }

    def summary(self, max_rows: int = SUMMARY_ROWS) -> str:
        """Return a one-screen text summary (no identifiers).

        Up to ``max_rows`` file rows, every file is listed. Beyond, rows are
        totalled per kind and only the files that need a look (rejected rows,
        warnings, duplicates, unrecognised, unreadable) are listed, at most
        ``max_rows`` of them; the rest are counted and left to
        ``ingest_report.json``.
        """
        t = self.totals()
        verdict = "reconciles" if self.reconciles else "DOES NOT RECONCILE"
        lines = [
            f"Ingested {t['files']} file(s) from {self.folder}: "
            f"{t['files_loaded']} loaded, {t['files_skipped']} already ingested, "
            f"{t['files_unrecognised']} unrecognised, {t['files_unreadable']} unreadable.",
            f"Rows: {t['rows_read']} read = {t['rows_loaded']} loaded + "
            f"{t['rows_rejected']} rejected ({verdict}); "
            f"{t['warnings']} warning(s); {t['duplicates']} duplicate(s) dropped; "
            f"{t['rows_kept']} kept.",
            "",
        ]
        rows = self._file_rows()
        if len(rows) > max_rows:
            lines += self._kind_rows()
            notable = [r for r in rows if r[1]]
            lines += ["", f"Files to look at ({len(notable)} of {len(rows)} file rows):"]
            if notable:
                lines.append(_HEADER)
                lines += [text for text, _ in notable[:max_rows]]
            if len(notable) > max_rows:
                lines.append(
                    f"... and {len(notable) - max_rows} more: see ingest_report.json and "
                    "rejects.csv in the store."
                )
        else:
            lines.append(_HEADER)
            lines += [text for text, _ in rows]
        for f in self.files:
            if f.reason:
                lines.append(f"  {f.path}: {f.reason}")
        return "\n".join(lines)

    def _file_rows(self) -> list[tuple[str, bool]]:
        """Return one line per file (per sheet) and whether it needs a look."""
        rows: list[tuple[str, bool]] = []
        for f in self.files:
            if not f.sheets:
                text = f"{_cell(f.path, 40)} {f.status:<16} {f.encoding or '-':<9}"
                rows.append((text, f.status in ("unrecognised", "unreadable")))
                continue
            for s in f.sheets:
                name = f.path if s.sheet is None else f"{f.path}!{s.sheet}"
                text = (
                    f"{_cell(name, 40)} {s.kind:<16} {f.encoding or '-':<9} {s.rows_read:>8} "
                    f"{s.rows_loaded:>8} {s.rows_rejected:>6} {s.warnings:>6} {s.duplicates:>6}"
                )
                if f.status == "skipped":
                    text += "  (already ingested)"
                notable = bool(s.rows_rejected or s.warnings or s.duplicates)
                rows.append((text, notable or s.kind == "unrecognised"))
        return rows

    def _kind_rows(self) -> list[str]:
        """Return the per-kind totals table."""
        sums: dict[str, list[int]] = {}
        for f in self.files:
            for s in f.sheets:
                counts = sums.setdefault(s.kind, [0] * 6)
                values = (1, s.rows_read, s.rows_loaded, s.rows_rejected, s.warnings, s.duplicates)
                for i, v in enumerate(values):
                    counts[i] += v
        lines = [
            f"{'kind':<16} {'files':>6} {'read':>10} {'loaded':>10} {'rej':>8} {'warn':>8} "
            f"{'dup':>8}"
        ]
        for kind in sorted(sums):
            n, read, loaded, rej, warn, dup = sums[kind]
            lines.append(f"{kind:<16} {n:>6} {read:>10} {loaded:>10} {rej:>8} {warn:>8} {dup:>8}")
        return lines
