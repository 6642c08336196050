"""Assemble completed kind frames into dataset tables: de-duplicate, subjects, identifiers.

Shared by :func:`kit.load.load_folder` and :meth:`kit.dataset.Dataset.from_frames`.

De-duplication: rows of one kind equal in every canonical field (after
decoding, NFKC and time parsing) are loaded once; the first in (file path,
line) order is kept, the others are listed in the ledger with status
``duplicate`` (where they stood, and which row they repeat). For the query
log the comparison uses ``lookup_id`` (which hashes time, user, ip,
operation, conditions, actual user, actual unit and purpose) together with
the remaining canonical fields (unit, result, device, case number).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kit.load.complete import empty_ledger
from kit.load.subjects import build_identifiers, build_subjects
from kit.normalise import TEXT_DTYPE, contiguous
from kit.schema import KINDS, LEDGER_COLUMNS

__all__ = ["Assembled", "assemble", "deduplicate"]


@dataclass(frozen=True)
class Assembled:
    """Dataset tables built from completed kind frames."""

    frames: dict[str, pd.DataFrame]
    subjects: pd.DataFrame
    identifiers: pd.DataFrame
    ledger: pd.DataFrame
    duplicates: dict[tuple[str, str], int]
    """Duplicates dropped, by (kind, source_file)."""
    warnings: dict[str, int]
    """Warning rows added here (invalid IDs in conditions), by source_file."""


def _key_codes(kind_name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """One integer code column per compared field (equal values, equal codes; missing: -1)."""
    kind = KINDS[kind_name]
    if kind_name == "query_log":
        names = ["lookup_id", "unit", "result", "device", "case_no"]
    else:
        names = [c.canonical for c in kind.columns]
        if kind_name == "duty_roster":
            names.append("form")
    codes: dict[str, np.ndarray] = {}
    for name in names:
        arr = contiguous(pa.array(frame[name].array, from_pandas=True))
        if pa.types.is_list(arr.type):
            arr = pc.binary_join(arr, "\x1e")
        if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):
            ints = (
                pc.cast(arr, pa.int64())
                if pa.types.is_timestamp(arr.type)
                else arr.cast(pa.int32()).cast(pa.int64())
            )
            codes[name] = np.asarray(
                pc.fill_null(ints, np.iinfo(np.int64).min).to_numpy(zero_copy_only=False)
            )
        else:
            indices = pc.dictionary_encode(arr).indices
            codes[name] = np.asarray(
                pc.fill_null(indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64
            )
    return pd.DataFrame(codes)


def _ids_unique(query_log: pd.DataFrame) -> bool:
    ids = pa.array(query_log["lookup_id"].array, from_pandas=True)
    return len(pc.unique(ids)) == len(ids)


def deduplicate(
    kind_name: str, frame: pd.DataFrame, *, ids_unique: bool | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop rows that repeat an earlier row of the same kind.

    Parameters
    ----------
    kind_name
        A key of :data:`kit.schema.KINDS`.
    frame
        The completed frame of that kind.
    ids_unique
        For the query log: whether its lookup IDs are known to be distinct
        (computed when ``None``).

    Returns
    -------
    frame : pandas.DataFrame
        The rows kept, in order.
    ledger : pandas.DataFrame
        One ``duplicate`` row per dropped row, its reason naming the row kept.

    """
    if len(frame) < 2:
        return frame, empty_ledger()
    if kind_name == "query_log" and (_ids_unique(frame) if ids_unique is None else ids_unique):
        # lookup_id hashes most compared fields: all distinct means no duplicates.
        return frame, empty_ledger()
    key = _key_codes(kind_name, frame)
    if not key.duplicated().any():
        return frame, empty_ledger()
    codes = key.groupby(list(key.columns), sort=False).ngroup().to_numpy()
    _, first_index = np.unique(codes, return_index=True)
    first_of_row = first_index[codes]
    dup = first_of_row != np.arange(len(codes))
    rows = np.flatnonzero(dup)
    kept_at = first_of_row[rows]
    where = (
        frame["source_file"].to_numpy()[kept_at].astype(object)
        + ":"
        + frame["source_line"].to_numpy()[kept_at].astype(object)
    )
    ledger = pd.DataFrame(
        {
            "source_file": frame["source_file"].to_numpy()[rows],
            "source_line": frame["source_line"].to_numpy()[rows],
            "column": np.nan,
            "status": "duplicate",
            "reason": "duplicate of " + pd.Series(where, dtype=object),
            "raw": np.nan,
        }
    ).astype(TEXT_DTYPE)
    return frame[~dup].reset_index(drop=True), ledger


def assemble(frames: Mapping[str, pd.DataFrame], ledger: pd.DataFrame) -> Assembled:
    """De-duplicate every kind, then build ``subjects`` and ``identifiers``.

    Parameters
    ----------
    frames
        A completed frame for every kind (rows in (file path, line) order).
    ledger
        The ledger rows so far (rejections and warnings of completion).

    Returns
    -------
    Assembled
        Tables and the full ledger (duplicates and subject warnings added).

    """
    out: dict[str, pd.DataFrame] = {}
    ledgers = [ledger]
    duplicates: dict[tuple[str, str], int] = {}
    log_ids_unique = _ids_unique(frames["query_log"])
    for name in KINDS:
        kept, dup_ledger = deduplicate(
            name, frames[name], ids_unique=log_ids_unique if name == "query_log" else None
        )
        out[name] = kept
        if len(dup_ledger):
            ledgers.append(dup_ledger)
            for file, count in dup_ledger["source_file"].value_counts().items():
                duplicates[(name, str(file))] = int(count)
    log = out["query_log"]
    # Rows are only ever dropped, so distinct IDs stay distinct.
    subjects, subject_warnings = build_subjects(
        log, ids_unique=True if log_ids_unique else _ids_unique(log)
    )
    ledgers.append(subject_warnings)
    warnings = {str(k): int(v) for k, v in subject_warnings["source_file"].value_counts().items()}
    identifiers = build_identifiers(out)
    parts = [lg for lg in ledgers if len(lg)]
    full = (
        pd.concat(parts, ignore_index=True).astype(TEXT_DTYPE)[list(LEDGER_COLUMNS)]
        if parts
        else empty_ledger()
    )
    return Assembled(out, subjects, identifiers, full, duplicates, warnings)
