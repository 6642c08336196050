"""Review spreadsheets: export a case's suspicious lookups to XLSX, import the edits back.

The sheet ``review`` has one row per suspicious lookup. The read-only
columns (grey, locked: ``lookup_id`` and what was found) are covered by a
hidden ``checksum`` column, the SHA-256 of the ID and those cells, so a
changed ID or a changed read-only cell is detected on import. The
investigator fills ``status``, ``note`` and ``reason``.

Importing validates every row first and writes nothing when any row is
wrong; otherwise it appends one annotation per row whose status, note or
reason differs from the state in force. Each export is recorded in
``CASE_DIR/reviews/exports.jsonl`` (time, file, SHA-256, the lookup IDs it
holds): an import accepts only IDs the case has exported or annotated.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kit.case.annotations import (
    STATUS_LABELS,
    STATUSES,
    CaseError,
    ReviewError,
    Status,
    _as_bool,
    annotate_lookups,
    append_annotations,
    history,
    make_annotation,
    now_iso,
)
from kit.case.case import REVIEWS_DIR, load_case
from kit.mask import Masker
from kit.schema import TIMEZONE

SHEET = "review"
EXPORTS_FILE = "exports.jsonl"
READ_ONLY: tuple[str, ...] = (
    "lookup_id",
    "time",
    "subjects",
    "operation",
    "purpose",
    "flags",
    "severity",
)
"""Columns the investigator must not edit; the checksum covers them."""
EDITABLE: tuple[str, ...] = ("status", "note", "reason")
CHECKSUM = "checksum"
SHEET_COLUMNS: tuple[str, ...] = (*READ_ONLY, *EDITABLE, CHECKSUM)

STATUS_ALIASES: dict[str, str] = {
    "": Status.UNREVIEWED.value,
    **{label: status for status, label in STATUS_LABELS["zh-TW"].items()},
}
"""Other spellings accepted in the status column (an empty cell is ``unreviewed``)."""

INSTRUCTIONS: tuple[str, ...] = (
    "Review sheet of a case (kit case export-review).",
    "Fill in status, note and reason on the sheet 'review'; leave every grey column as it is.",
    f"status: one of {', '.join(STATUSES)} (empty = unreviewed).",
    "explained needs a reason: the official reason found for the lookup.",
    "lookup_id: do not edit. A changed ID or grey cell makes the import refuse the sheet.",
    "Import with: kit case import-review CASE_DIR FILE --investigator NAME",
)


@dataclass(frozen=True)
class ImportResult:
    """What an import changed.

    ``changed`` holds one row per appended annotation (``lookup_id``,
    ``previous_status``, ``status``, ``note``, ``reason``, ``row``: the sheet row).
    """

    file: Path
    rows: int
    changed: pd.DataFrame = field(repr=False)

    @property
    def unchanged(self) -> int:
        """Rows whose status, note and reason were already in force."""
        return self.rows - len(self.changed)

    def summary(self) -> str:
        """Return a one-line summary (no identifiers)."""
        return (
            f"{self.file.name}: {self.rows} rows, {len(self.changed)} changed and recorded, "
            f"{self.unchanged} unchanged"
        )


def row_checksum(frame: pd.DataFrame) -> pd.Series:
    """Return the SHA-256 (hex) of each row's read-only cells, joined by a unit separator."""
    cells = frame[list(READ_ONLY)].astype("string").fillna("")
    joined = cells[READ_ONLY[0]]
    for column in READ_ONLY[1:]:
        joined = joined + "\x1f" + cells[column]
    return pd.Series(
        [hashlib.sha256(text.encode("utf-8")).hexdigest() for text in joined],
        index=frame.index,
        dtype="string",
    )


def _iso_times(values: pd.Series) -> pd.Series:
    """Return times as ISO 8601 text with ``+08:00`` (values may be times or text)."""
    if pd.api.types.is_string_dtype(values) or values.dtype == object:
        return values.astype("string").fillna("")
    times = pd.to_datetime(values).dt.tz_convert(TIMEZONE)
    return (times.dt.strftime("%Y-%m-%dT%H:%M:%S") + "+08:00").astype("string").fillna("")


def mask_subjects(subjects: pd.Series, masker: Masker) -> pd.Series:
    """Mask a ``kind:value;…`` subjects column, keeping one masked subject per kind:value."""
    text = subjects.astype("string").fillna("")
    items = text.str.split(";").explode()
    items = items[items.str.contains(":", regex=False).fillna(False).astype(bool)]
    if items.empty:
        return pd.Series("", index=subjects.index, dtype="string")
    parts = items.str.split(":", n=1, expand=True)
    shown = masker.show_series(parts[0], parts[1])
    joined = shown.groupby(level=0).agg("; ".join)
    return joined.reindex(subjects.index).fillna("").astype("string")


def review_table(case_dir: Path | str, assessment: Any, *, masker: Masker) -> pd.DataFrame:
    """Return the rows of a review sheet: the suspicious lookups with their review in force.

    Rows are ordered by time then ``lookup_id``; identifiers are masked.
    """
    lookups = assessment.lookups
    suspicious = lookups[_as_bool(lookups["suspicious"]).to_numpy()]
    suspicious = suspicious.sort_values(["time", "lookup_id"], kind="stable")
    reviewed = annotate_lookups(suspicious, case_dir)
    empty = pd.Series("", index=reviewed.index, dtype="string")

    def text(column: str) -> pd.Series:
        if column not in reviewed.columns:
            return empty
        return reviewed[column].astype("string").fillna("")

    subjects = text("subjects")
    purpose = text("purpose")
    table = pd.DataFrame(
        {
            "lookup_id": text("lookup_id"),
            "time": _iso_times(reviewed["time"]),
            "subjects": mask_subjects(subjects, masker),
            "operation": text("operation"),
            "purpose": masker.text_series(purpose).fillna(""),
            "flags": text("flags"),
            "severity": text("severity"),
            "status": text("review_status"),
            "note": text("review_note"),
            "reason": text("review_reason"),
        }
    ).reset_index(drop=True)
    table[CHECKSUM] = row_checksum(table)
    return table


def _write_sheet(table: pd.DataFrame, out_xlsx: Path) -> None:
    import xlsxwriter

    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    book = xlsxwriter.Workbook(str(out_xlsx), options)
    try:
        sheet = book.add_worksheet(SHEET)
        header = book.add_format({"bold": True, "locked": True, "bg_color": "#D9D9D9"})
        locked = book.add_format({"locked": True, "bg_color": "#EFEFEF"})
        editable = book.add_format({"locked": False, "text_wrap": True})
        sheet.write_row(0, 0, list(SHEET_COLUMNS), header)
        widths = {"lookup_id": 34, "time": 26, "subjects": 30, "note": 40, "reason": 30}
        for number, column in enumerate(SHEET_COLUMNS):
            values = table[column].astype("string").fillna("").tolist()
            cell = editable if column in EDITABLE else locked
            sheet.write_column(1, number, values, cell)
            options_: dict[str, Any] = {"hidden": True} if column == CHECKSUM else {}
            sheet.set_column(number, number, widths.get(column, 16), None, options_)
        sheet.write_comment(0, 0, "do not edit: the import refuses a changed ID")
        status_col = SHEET_COLUMNS.index("status")
        last = max(len(table), 1)
        sheet.data_validation(
            1, status_col, last, status_col, {"validate": "list", "source": list(STATUSES)}
        )
        sheet.freeze_panes(1, 1)
        sheet.protect("", {"format_columns": True, "autofilter": True, "sort": False})
        notes = book.add_worksheet("instructions")
        notes.set_column(0, 0, 100)
        notes.write_column(0, 0, list(INSTRUCTIONS))
    finally:
        book.close()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_review(
    case_dir: Path | str, assessment: Any, out_xlsx: Path | str, *, masker: Masker
) -> Path:
    """Write the case's suspicious lookups to a review spreadsheet.

    Parameters
    ----------
    case_dir
        The case folder; the annotations in force prefill status, note and reason.
    assessment
        The assessment of the case's officer and period (``kit.assess``).
    out_xlsx
        The spreadsheet to write.
    masker
        Masks the subjects (and purposes) shown.

    Returns
    -------
    pathlib.Path
        ``out_xlsx``; the export is recorded in ``CASE_DIR/reviews/exports.jsonl``.

    """
    case = load_case(case_dir)
    table = review_table(case.path, assessment, masker=masker)
    out = Path(out_xlsx)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_sheet(table, out)
    record = {
        "time": now_iso(),
        "file": str(out.resolve()),
        "sha256": _sha256(out),
        "rows": len(table),
        "lookup_ids": table["lookup_id"].tolist(),
    }
    exports = case.path / REVIEWS_DIR / EXPORTS_FILE
    exports.parent.mkdir(exist_ok=True)
    with exports.open("a", encoding="utf-8") as stream:
        stream.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        stream.flush()
        os.fsync(stream.fileno())
    return out


def exported_ids(case_dir: Path | str) -> set[str]:
    """Return every lookup ID the case has exported for review or annotated."""
    folder = Path(case_dir)
    known = set(history(folder)["lookup_id"].dropna().tolist())
    exports = folder / REVIEWS_DIR / EXPORTS_FILE
    if exports.exists():
        for line in exports.read_text(encoding="utf-8").splitlines():
            if line.strip():
                known.update(json.loads(line).get("lookup_ids", []))
    return known


def _read_sheet(xlsx: Path) -> pd.DataFrame:
    try:
        sheets = pd.read_excel(
            xlsx, sheet_name=None, dtype=str, keep_default_na=False, engine="openpyxl"
        )
    except (OSError, ValueError, KeyError) as error:
        raise ReviewError(
            f"cannot read the review spreadsheet ({type(error).__name__})", file=str(xlsx)
        ) from None
    if SHEET not in sheets:
        raise ReviewError(f"no sheet named {SHEET!r}: import the file export-review wrote")
    frame = sheets[SHEET]
    missing = [c for c in SHEET_COLUMNS if c not in frame.columns]
    if missing:
        raise ReviewError(
            f"sheet {SHEET!r} lacks the columns {', '.join(missing)}: do not rename or delete "
            "columns",
            file=str(xlsx),
        )
    frame = frame[list(SHEET_COLUMNS)].astype("string").fillna("")
    frame = frame.apply(lambda column: column.str.replace("\r\n", "\n", regex=False))
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")
    return frame[(frame != "").any(axis=1).to_numpy()]


def _problems(frame: pd.DataFrame, known: set[str]) -> list[str]:
    """Return every problem of the sheet, each naming its row (no identifier of a person)."""
    found: list[tuple[int, str]] = []

    def add(mask: pd.Series, message: str) -> None:
        found.extend((int(row), message) for row in frame.index[mask.to_numpy()])

    ids = frame["lookup_id"]
    edited = row_checksum(frame) != frame[CHECKSUM]
    add(edited, "the lookup_id or a grey (read-only) cell was edited: restore it from the export")
    add(~ids.isin(known), "unknown lookup_id: not one exported for review in this case")
    add(ids.duplicated(keep="first"), "this lookup_id appears twice in the sheet")
    status = frame["status"]
    add(~status.isin(STATUSES), f"unknown status: use one of {', '.join(STATUSES)}")
    no_reason = (status == Status.EXPLAINED.value) & (frame["reason"].str.strip() == "")
    add(no_reason, "status 'explained' needs a reason")
    return [f"sheet {SHEET!r} row {row}: {message}" for row, message in sorted(found)]


def import_review(
    case_dir: Path | str,
    xlsx: Path | str,
    *,
    investigator: str,
    known_ids: Iterable[str] | None = None,
) -> ImportResult:
    """Read a review spreadsheet back and record what the investigator changed.

    Parameters
    ----------
    case_dir
        The case folder.
    xlsx
        A spreadsheet written by :func:`export_review`, edited.
    investigator
        Who records the changes.
    known_ids
        The lookup IDs the sheet may hold (default: those the case exported
        for review or annotated).

    Returns
    -------
    ImportResult
        The rows read and the annotations appended (only changed rows).

    Raises
    ------
    ReviewError
        When any row is invalid (unknown status or lookup ID, edited ID or
        read-only cell, ``explained`` without a reason): every problem is
        listed with its sheet row, and nothing is written.

    """
    case = load_case(case_dir)
    path = Path(xlsx)
    frame = _read_sheet(path)
    status = frame["status"].str.strip()
    frame["status"] = status.str.lower().where(~status.isin(STATUS_ALIASES), status)
    frame["status"] = frame["status"].replace(STATUS_ALIASES)
    known = set(known_ids) if known_ids is not None else exported_ids(case.path)
    problems = _problems(frame, known)
    if problems:
        raise ReviewError(
            f"{len(problems)} problem(s); nothing was recorded:\n" + "\n".join(problems),
            problems=tuple(problems),
            file=path.name,
        )
    current = annotate_lookups(frame[["lookup_id"]], case.path)
    before = pd.DataFrame(
        {
            "status": current["review_status"],
            "note": current["review_note"].fillna(""),
            "reason": current["review_reason"].fillna(""),
        }
    )
    after = frame[["status", "note", "reason"]].assign(reason=frame["reason"].str.strip())
    changed = (after != before).any(axis=1)
    rows = frame[changed.to_numpy()]
    try:
        annotations = [
            make_annotation(
                lookup_id,
                status_value,
                note=note,
                reason=reason or None,
                investigator=investigator,
            )
            for lookup_id, status_value, note, reason in zip(
                rows["lookup_id"], rows["status"], rows["note"], rows["reason"], strict=True
            )
        ]
    except CaseError as error:
        raise ReviewError(f"{error.message}; nothing was recorded", file=path.name) from None
    append_annotations(case.path, annotations)
    report = pd.DataFrame(
        {
            "row": rows.index.to_numpy(),
            "lookup_id": rows["lookup_id"].to_numpy(),
            "previous_status": before.loc[changed.to_numpy(), "status"].to_numpy(),
            "status": rows["status"].to_numpy(),
            "note": rows["note"].to_numpy(),
            "reason": rows["reason"].to_numpy(),
        }
    )
    return ImportResult(file=path, rows=len(frame), changed=report)
