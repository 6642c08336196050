"""Investigator annotations: an append-only history per case, keyed by ``lookup_id``.

A case folder holds ``annotations.jsonl``: one JSON object per line (UTF-8,
keys sorted, non-ASCII written as is), one line per change, never rewritten::

    {"investigator": "陳督察", "lookup_id": "9f0c…", "note": "", "reason": "案號1120012345",
     "status": "explained", "time": "2023-11-02T10:15:00+08:00"}

The current state of a lookup is its latest line (by append order); earlier
lines stay as the record of who said what when. The file is readable without
the kit (``pandas.read_json(path, lines=True)``, ``jq``, a text editor).

Statuses: ``unreviewed`` (the default of a lookup nobody annotated),
``confirmed`` (misconduct confirmed), ``explained`` (an official reason was
found; the reason is required) and ``not_relevant``.

Errors::

    KitError
     └── CaseError (KitError, ValueError)       a bad case folder or annotation
          └── ReviewError                        a review spreadsheet that does not validate
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from kit.errors import KitError
from kit.schema import TIMEZONE

ANNOTATIONS_FILE = "annotations.jsonl"
"""Name of the annotation history in a case folder (copied into bundles as is)."""

ANNOTATION_FIELDS: tuple[str, ...] = (
    "lookup_id",
    "status",
    "note",
    "reason",
    "investigator",
    "time",
)
"""Keys of one history line (written sorted)."""

HISTORY_COLUMNS: tuple[str, ...] = ("seq", *ANNOTATION_FIELDS)
"""Columns of :func:`history`: ``seq`` is the 1-based line number in the file."""

REVIEW_COLUMNS: tuple[str, ...] = (
    "review_status",
    "review_note",
    "review_reason",
    "review_investigator",
    "review_time",
)
"""Columns :func:`annotate_lookups` adds to a lookup or evidence table.

Prefixed so they never clash with a table's own columns (the evidence table
has a ``reason`` of its own)."""

LOOKUP_ID = re.compile(r"^[0-9a-f]{32}$")
"""A stable lookup ID: 32 lower-case hex characters (DATA.md)."""


class CaseError(KitError, ValueError):
    """A case folder or an annotation is invalid."""


class ReviewError(CaseError):
    """A review spreadsheet does not validate; nothing was written.

    ``problems`` lists every problem found, each naming the sheet and row.
    """

    def __init__(self, message: str, *, problems: tuple[str, ...] = (), **where: object) -> None:
        self.problems = problems
        super().__init__(message, **where)  # type: ignore[arg-type]


class Status(StrEnum):
    """Review status of one lookup."""

    UNREVIEWED = "unreviewed"
    CONFIRMED = "confirmed"
    EXPLAINED = "explained"
    NOT_RELEVANT = "not_relevant"


STATUSES: tuple[str, ...] = tuple(s.value for s in Status)


@dataclass(frozen=True)
class Annotation:
    """One line of the history: an investigator's word on one lookup at one time."""

    lookup_id: str
    status: str
    note: str
    reason: str | None
    investigator: str
    time: str

    def to_json(self) -> str:
        """Return the history line (no newline): sorted keys, UTF-8 text kept as is."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)


def now_iso() -> str:
    """Return the current time as ISO 8601 with the ``+08:00`` offset, to the second."""
    return datetime.now(ZoneInfo(TIMEZONE)).isoformat(timespec="seconds")


def annotations_path(case_dir: Path | str) -> Path:
    """Return the path of a case's annotation history."""
    return Path(case_dir) / ANNOTATIONS_FILE


def _problem(lookup_id: object, status: object, reason: object, investigator: object) -> str | None:
    """Return what is wrong with one annotation, or ``None`` when it is valid."""
    if not isinstance(lookup_id, str) or not LOOKUP_ID.match(lookup_id):
        return "lookup_id must be 32 lower-case hex characters (copy it from the lookup table)"
    if status not in STATUSES:
        return f"status {status!r} is not one of {', '.join(STATUSES)}"
    if status == Status.EXPLAINED and not (isinstance(reason, str) and reason.strip()):
        return "status 'explained' needs a reason (the official reason found for the lookup)"
    if not (isinstance(investigator, str) and investigator.strip()):
        return "the investigator's name is required"
    return None


def make_annotation(
    lookup_id: str,
    status: str | Status,
    *,
    note: str = "",
    reason: str | None = None,
    investigator: str,
    time: str | None = None,
) -> Annotation:
    """Validate and build one annotation (not yet written).

    Raises
    ------
    CaseError
        When the ID is not a lookup ID, the status unknown, an ``explained``
        status has no reason, or the investigator is missing.

    """
    status_text = str(status.value if isinstance(status, Status) else status).strip()
    problem = _problem(lookup_id, status_text, reason, investigator)
    if problem is not None:
        raise CaseError(problem)
    clean_reason = reason.strip() if isinstance(reason, str) and reason.strip() else None
    return Annotation(
        lookup_id=lookup_id,
        status=status_text,
        note=note or "",
        reason=clean_reason,
        investigator=investigator.strip(),
        time=time or now_iso(),
    )


def append_annotations(case_dir: Path | str, annotations: Iterable[Annotation]) -> int:
    """Append annotations to the history in one write, flushed and fsynced.

    Returns the number of lines written. The case folder must exist.
    """
    lines = "".join(a.to_json() + "\n" for a in annotations)
    if not lines:
        return 0
    path = annotations_path(case_dir)
    if not path.parent.is_dir():
        raise CaseError(
            "case folder does not exist: create it with new_case (kit case new)",
            file=str(path.parent),
        )
    with path.open("ab") as stream:
        _lock(stream.fileno())
        stream.write(lines.encode("utf-8"))
        stream.flush()
        os.fsync(stream.fileno())
    return lines.count("\n")


def _lock(descriptor: int) -> None:
    """Hold an exclusive lock on the history until it is closed (POSIX; elsewhere a no-op).

    Two investigators saving at once then append whole lines one after the other.
    """
    try:
        import fcntl
    except ImportError:
        return
    fcntl.flock(descriptor, fcntl.LOCK_EX)


def annotate(
    case_dir: Path | str,
    lookup_id: str,
    status: str | Status,
    *,
    note: str = "",
    reason: str | None = None,
    investigator: str,
) -> Annotation:
    """Record an investigator's status and note for one lookup.

    Parameters
    ----------
    case_dir
        The case folder (made by :func:`kit.case.new_case`).
    lookup_id
        The stable ID of the lookup (DATA.md).
    status
        ``unreviewed``, ``confirmed``, ``explained`` or ``not_relevant``.
    note
        Free text.
    reason
        The official reason; required for ``explained``.
    investigator
        Who records it.

    Returns
    -------
    Annotation
        The line appended to ``annotations.jsonl``.

    """
    annotation = make_annotation(
        lookup_id, status, note=note, reason=reason, investigator=investigator
    )
    append_annotations(case_dir, [annotation])
    return annotation


def _empty_history() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in ANNOTATION_FIELDS})
    frame.insert(0, "seq", pd.Series(dtype="int64"))
    return frame


def history(case_dir: Path | str) -> pd.DataFrame:
    """Return every annotation ever recorded in the case, in append order.

    Columns are :data:`HISTORY_COLUMNS`; ``seq`` is the line number in
    ``annotations.jsonl``. A missing or empty file gives an empty table.

    Raises
    ------
    CaseError
        When a line is not a valid annotation (the message names the line).

    """
    path = annotations_path(case_dir)
    if not path.exists():
        return _empty_history()
    records: list[Mapping[str, object]] = []
    seqs: list[int] = []
    with path.open(encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise CaseError(
                    f"not a JSON line ({error.msg}); an interrupted write leaves an incomplete "
                    "last line: move it out of the file and record that change again",
                    file=str(path),
                    line=number,
                ) from None
            if not isinstance(record, dict) or "lookup_id" not in record:
                raise CaseError("not an annotation (no lookup_id)", file=str(path), line=number)
            records.append(record)
            seqs.append(number)
    if not records:
        return _empty_history()
    frame = pd.DataFrame.from_records(records)
    for column in ANNOTATION_FIELDS:
        if column not in frame.columns:
            frame[column] = None
    frame = frame[list(ANNOTATION_FIELDS)].astype("string")
    frame.insert(0, "seq", pd.Series(seqs, dtype="int64"))
    return frame


def current_annotations(case_dir: Path | str) -> pd.DataFrame:
    """Return the state in force: the latest annotation of each lookup.

    Same columns as :func:`history`, one row per annotated lookup, ordered by
    when the lookup was last annotated.
    """
    frame = history(case_dir)
    return frame.drop_duplicates("lookup_id", keep="last").reset_index(drop=True)


STATUS_LABELS: dict[str, dict[str, str]] = {
    "zh-TW": {
        Status.UNREVIEWED.value: "未審閱",
        Status.CONFIRMED.value: "確認違失",
        Status.EXPLAINED.value: "已說明",
        Status.NOT_RELEVANT.value: "無關",
    },
}
"""Status as shown in a report, per language (English shows the codes)."""

REVIEW_HEADERS: dict[str, dict[str, str]] = {
    "zh-TW": {
        "review_status": "審閱狀態",
        "review_note": "審閱備註",
        "review_reason": "說明理由",
        "review_investigator": "審閱人",
        "review_time": "審閱時間",
    },
}
"""Headers of :data:`REVIEW_COLUMNS` in a report, per language (English keeps the names)."""


def annotate_lookups(
    lookups: pd.DataFrame,
    case_dir: Path | str,
    *,
    key: str = "lookup_id",
    lang: str | None = None,
) -> pd.DataFrame:
    """Left-join the annotations in force onto a table keyed by ``lookup_id``.

    Every row is kept (an explained lookup is marked, never dropped); a
    lookup nobody annotated gets ``review_status`` ``unreviewed`` and empty
    (``""``) note, reason, investigator and time. Works for the lookup table and the
    evidence table alike (several rows per lookup get the same review).

    Parameters
    ----------
    lookups
        A table with a lookup ID column.
    case_dir
        The case folder.
    key
        The name of the lookup ID column (a report table may have localised
        headers, e.g. ``查詢識別碼``).
    lang
        ``zh-TW`` to add the columns with Chinese headers and statuses
        (:data:`REVIEW_HEADERS`, :data:`STATUS_LABELS`); ``None`` or ``en``
        for the canonical names and codes.

    Returns
    -------
    pandas.DataFrame
        ``lookups`` with :data:`REVIEW_COLUMNS` appended, rows in the same order.

    """
    if key not in lookups.columns:
        raise CaseError(f"the table has no {key} column: pass a lookup or evidence table")
    current = current_annotations(case_dir)
    review = current.rename(
        columns={
            "status": "review_status",
            "note": "review_note",
            "reason": "review_reason",
            "investigator": "review_investigator",
            "time": "review_time",
        }
    )[["lookup_id", *REVIEW_COLUMNS]]
    review = review.assign(lookup_id=review["lookup_id"].astype("string"))
    keys = lookups[key].astype("string")
    joined = pd.DataFrame({"lookup_id": keys}).merge(review, on="lookup_id", how="left")
    out = lookups.copy()
    for column in REVIEW_COLUMNS:
        out[column] = pd.Series(joined[column].to_numpy(), index=lookups.index, dtype="string")
    out["review_status"] = out["review_status"].fillna(Status.UNREVIEWED.value)
    for column in REVIEW_COLUMNS[1:]:
        out[column] = out[column].fillna("")
    if lang in STATUS_LABELS:
        out["review_status"] = out["review_status"].replace(STATUS_LABELS[lang])
        out = out.rename(columns=REVIEW_HEADERS[lang])
    return out


def _as_bool(values: pd.Series) -> pd.Series:
    """Read a ``suspicious`` column whether it holds booleans or ``true``/``false`` text."""
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).astype(bool)
    text = values.astype("string").str.strip().str.lower()
    return text.isin(["true", "1", "yes"]).fillna(False).astype(bool)


def review_counts(
    lookups: pd.DataFrame,
    case_dir: Path | str | None = None,
    *,
    suspicious_only: bool = True,
) -> dict[str, int]:
    """Count review progress over a lookup table.

    Parameters
    ----------
    lookups
        Lookups (the ``kit screen`` columns), already annotated with
        :func:`annotate_lookups` unless ``case_dir`` is given.
    case_dir
        When given, the case's annotations are joined first.
    suspicious_only
        Count only the rows whose ``suspicious`` is true (when the column exists).

    Returns
    -------
    dict
        ``lookups`` (rows counted), ``reviewed`` (any status but unreviewed),
        ``unreviewed``, ``confirmed``, ``explained``, ``not_relevant``.

    """
    table = annotate_lookups(lookups, case_dir) if case_dir is not None else lookups
    if "review_status" not in table.columns:
        raise CaseError("the table has no review_status: pass case_dir or annotate it first")
    if suspicious_only and "suspicious" in table.columns:
        table = table[_as_bool(table["suspicious"]).to_numpy()]
    statuses = table["review_status"].astype("string").fillna(Status.UNREVIEWED.value)
    counts = statuses.value_counts()
    result = {"lookups": len(table)}
    for status in STATUSES:
        result[status] = int(counts.get(status, 0))
    result["reviewed"] = result["lookups"] - result[Status.UNREVIEWED.value]
    return result


def orphan_annotations(case_dir: Path | str, lookup_ids: Iterable[str]) -> pd.DataFrame:
    """Return the annotations in force whose lookup is not among ``lookup_ids``.

    After a re-ingest an annotation whose lookup is no longer in the data is
    reported here; it stays in the history, never lost.
    """
    current = current_annotations(case_dir)
    known = pd.Index(pd.Series(list(lookup_ids), dtype="string").unique())
    orphan = ~current["lookup_id"].isin(known)
    return current[orphan.to_numpy()].reset_index(drop=True)


def copy_history(case_dir: Path | str, out_dir: Path | str) -> Path:
    """Copy the case's annotation history, byte for byte, into a bundle folder.

    Returns the copy (``out_dir/annotations.jsonl``); an empty file when the
    case has no annotation yet, so the bundle always says what was reviewed.
    """
    source = annotations_path(case_dir)
    target = Path(out_dir) / ANNOTATIONS_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.exists():
        shutil.copyfile(source, target)
    else:
        target.write_bytes(b"")
    return target
