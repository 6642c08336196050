"""The ``subjects`` view and the ``identifiers`` table of a dataset.

``subjects``: one row per (lookup, identifier) pair found in the query log's
conditions (:data:`kit.schema.SUBJECT_COLUMNS`). Extraction runs once per
distinct conditions text and is joined back to the lookups, so repeated
conditions cost nothing.

``identifiers``: every identifier in any other kind
(:data:`kit.schema.IDENTIFIER_COLUMNS`): single identifier fields, list cells
of identifiers (case parties, operation targets, officers' phones) and free
text that may carry identifiers (work-log and message contents), keyed to
their rows by provenance.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kit.identifiers import extract
from kit.load.complete import empty_ledger
from kit.load.entities import DEFAULT_ENTITY, classify_arrays
from kit.load.fastsubjects import FOUND_COLUMNS, fast_extract, fast_free_text
from kit.normalise import TEXT_DTYPE, contiguous
from kit.schema import IDENTIFIER_COLUMNS, KINDS, SUBJECT_COLUMNS, Entity

__all__ = ["LIST_IDENTIFIER_FIELDS", "build_identifiers", "build_subjects", "empty_subjects"]

LIST_IDENTIFIER_FIELDS: tuple[tuple[str, str], ...] = (
    ("cases", "parties"),
    ("operations", "targets"),
    ("officers", "phone"),
)
"""List columns whose items are identifiers."""

_INVALID_REASON = "person ID with an invalid check digit"


def _typed(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    frame = frame.reindex(columns=list(columns))
    for col in columns:
        if col == "keyed":
            frame[col] = frame[col].astype(bool)
        elif col == "id_valid":
            frame[col] = frame[col].astype("boolean")
        else:
            frame[col] = frame[col].astype(TEXT_DTYPE)
    return frame.reset_index(drop=True)


def empty_subjects() -> pd.DataFrame:
    """Return an empty ``subjects`` frame."""
    return _typed(pd.DataFrame(), SUBJECT_COLUMNS)


def build_subjects(
    query_log: pd.DataFrame, *, ids_unique: bool | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Extract the subjects of every lookup.

    Parameters
    ----------
    query_log
        A completed query-log frame (``lookup_id``, ``conditions_raw``,
        provenance).
    ids_unique
        Whether the lookup IDs are known to be distinct (computed when ``None``).

    Returns
    -------
    subjects : pandas.DataFrame
        :data:`kit.schema.SUBJECT_COLUMNS`, one row per distinct
        (lookup, entity, value), in lookup order.
    warnings : pandas.DataFrame
        Ledger rows for lookups naming a person ID with an invalid check digit.

    """
    if len(query_log) == 0:
        return empty_subjects(), empty_ledger()
    encoded = pc.dictionary_encode(
        contiguous(pa.array(query_log["conditions_raw"].array, from_pandas=True))
    )
    codes = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
    unique_text = encoded.dictionary.cast(pa.string())
    uniques = unique_text
    fast, matched = fast_extract(unique_text)
    slow_rows: list[tuple[int, str, str, str, bool, bool | None]] = []
    for code in np.flatnonzero(~matched):
        for f in extract(str(unique_text[int(code)].as_py())):
            slow_rows.append((int(code), f.entity.value, f.value, f.raw, f.keyed, f.id_valid))
    slow = pd.DataFrame(slow_rows, columns=FOUND_COLUMNS)
    found = pd.concat([df for df in (fast, slow) if len(df)] or [slow], ignore_index=True)
    found = found.sort_values("_code", kind="stable").reset_index(drop=True)
    # Join back to the lookups without a merge: each row repeats its code's finds.
    found_codes = found["_code"].to_numpy(dtype=np.int64)
    per_code = np.bincount(found_codes, minlength=len(uniques))
    first_of_code = np.concatenate([[0], np.cumsum(per_code)[:-1]])
    safe_codes = np.where(codes < 0, 0, codes)
    per_row = np.where(codes < 0, 0, per_code[safe_codes])
    rows = np.repeat(np.arange(len(codes)), per_row)
    within = np.arange(len(rows)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    picks = first_of_code[safe_codes[rows]] + within
    lookup_id = pa.array(query_log["lookup_id"].array, from_pandas=True)
    lookup_id = contiguous(lookup_id)
    take = pa.array(picks)
    subjects = pd.DataFrame(
        {
            "lookup_id": pd.array(lookup_id.take(pa.array(rows)), dtype=TEXT_DTYPE),
            **{
                col: pd.array(pa.array(found[col].to_numpy(), pa.string()).take(take), TEXT_DTYPE)
                for col in ("entity", "value", "raw")
            },
            "keyed": found["keyed"].to_numpy(dtype=bool)[picks],
            "id_valid": found["id_valid"].astype("boolean").array[picks],
        }
    )
    bad_codes = np.zeros(len(uniques) + 1, dtype=bool)
    bad_codes[found_codes[found["id_valid"].eq(False).fillna(False).to_numpy(dtype=bool)]] = True
    invalid_rows = np.flatnonzero(bad_codes[np.where(codes < 0, len(uniques), codes)])
    warnings = empty_ledger()
    if len(invalid_rows):
        sub = query_log[["source_file", "source_line", "conditions_raw"]].iloc[invalid_rows]
        warnings = pd.DataFrame(
            {
                "source_file": sub["source_file"].to_numpy(),
                "source_line": sub["source_line"].to_numpy(),
                "column": "conditions",
                "status": "warning",
                "reason": _INVALID_REASON,
                "raw": sub["conditions_raw"].to_numpy(),
            }
        ).astype(TEXT_DTYPE)
    repeated_finds = found.duplicated(["_code", "entity", "value"]).any()
    if ids_unique is None:
        ids_unique = len(pc.unique(lookup_id)) == len(lookup_id)
    if repeated_finds or not ids_unique:
        subjects = subjects.drop_duplicates(["lookup_id", "entity", "value"])
    return subjects.reset_index(drop=True), warnings


def build_identifiers(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Collect the identifiers of every kind but the query log.

    Parameters
    ----------
    frames
        Completed kind frames by kind name.

    Returns
    -------
    pandas.DataFrame
        :data:`kit.schema.IDENTIFIER_COLUMNS`, one row per identifier found.

    """
    parts: list[pd.DataFrame] = []
    for kind_name, frame in frames.items():
        if kind_name == "query_log" or len(frame) == 0:
            continue
        kind = KINDS[kind_name]
        for col in kind.columns:
            name = col.canonical
            if col.identifier:
                parts.append(_single(kind_name, name, frame))
            elif (kind_name, name) in LIST_IDENTIFIER_FIELDS:
                parts.append(_listed(kind_name, name, frame))
            elif col.keep_raw:
                parts.append(_free_text(kind_name, name, frame))
    parts = [p for p in parts if len(p)]
    if not parts:
        return _typed(pd.DataFrame(), IDENTIFIER_COLUMNS)
    return _typed(pd.concat(parts, ignore_index=True), IDENTIFIER_COLUMNS)


def _classified(
    texts: pd.Series, default: Entity | None, counterpart: bool
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Classify the distinct texts once; return (code per text, arrays per code).

    The arrays are :func:`kit.load.entities.classify_arrays`'s entity, value,
    id_valid and keyed.
    """
    codes, uniques = pd.factorize(texts.astype(str), use_na_sentinel=True)
    texts_of_codes = [str(u) for u in np.asarray(uniques, dtype=object)]
    arrays = classify_arrays(texts_of_codes, default=default, counterpart=counterpart)
    return codes, arrays


def _single(kind: str, name: str, frame: pd.DataFrame) -> pd.DataFrame:
    present = frame[frame[f"{name}_raw"].notna()]
    default = DEFAULT_ENTITY.get((kind, name))
    counterpart = (kind, name) == ("communications", "counterpart")
    codes, (_, _, valid, keyed) = _classified(present[f"{name}_raw"], default, counterpart)
    return pd.DataFrame(
        {
            "kind": kind,
            "field": name,
            "source_file": present["source_file"].to_numpy(),
            "source_line": present["source_line"].to_numpy(),
            "entity": present[f"{name}_entity"].to_numpy(),
            "value": present[name].to_numpy(),
            "raw": present[f"{name}_raw"].to_numpy(),
            "keyed": keyed[codes] if len(keyed) else np.zeros(0, dtype=bool),
            "id_valid": valid[codes] if len(valid) else np.zeros(0, dtype=object),
        }
    )


def _listed(kind: str, name: str, frame: pd.DataFrame) -> pd.DataFrame:
    exploded = frame[[name, "source_file", "source_line"]].explode(name)
    exploded = exploded[exploded[name].notna()]
    default = DEFAULT_ENTITY.get((kind, name))
    codes, (entity, value, valid, keyed) = _classified(exploded[name], default, False)
    some = len(entity) > 0
    return pd.DataFrame(
        {
            "kind": kind,
            "field": name,
            "source_file": exploded["source_file"].to_numpy(),
            "source_line": exploded["source_line"].to_numpy(),
            "entity": entity[codes] if some else [],
            "value": value[codes] if some else [],
            "raw": exploded[name].astype(str).to_numpy(),
            "keyed": keyed[codes] if some else [],
            "id_valid": valid[codes] if some else [],
        }
    )


def _free_text(kind: str, name: str, frame: pd.DataFrame) -> pd.DataFrame:
    present = frame[frame[f"{name}_raw"].notna()]
    codes, uniques = pd.factorize(present[f"{name}_raw"].astype(str), use_na_sentinel=True)
    unique_text = pa.array([str(u) for u in np.asarray(uniques, dtype=object)], type=pa.string())
    fast, matched = fast_free_text(unique_text)
    slow_rows = [
        (int(code), f.entity.value, f.value, f.raw, f.keyed, f.id_valid)
        for code in np.flatnonzero(~matched)
        for f in extract(str(uniques[int(code)]))
    ]
    slow = pd.DataFrame(slow_rows, columns=FOUND_COLUMNS)
    found = pd.concat([df for df in (fast, slow) if len(df)] or [slow], ignore_index=True)
    found = found.sort_values("_code", kind="stable").reset_index(drop=True)
    rows, picks = _expand(codes, found["_code"].to_numpy(dtype=np.int64), len(uniques))
    out = pd.DataFrame(
        {
            "source_file": present["source_file"].to_numpy()[rows],
            "source_line": present["source_line"].to_numpy()[rows],
            **{c: found[c].to_numpy()[picks] for c in ("entity", "value", "raw", "keyed")},
            "id_valid": found["id_valid"].astype(object).to_numpy()[picks],
        }
    )
    out.insert(0, "field", name)
    out.insert(0, "kind", kind)
    return out


def _expand(
    codes: np.ndarray, found_codes: np.ndarray, n_codes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows repeated once per find of their code, and the find each repetition takes.

    ``found_codes`` must be sorted. Returns (row index, find index) arrays.
    """
    per_code = np.bincount(found_codes, minlength=n_codes)
    first_of_code = np.concatenate([[0], np.cumsum(per_code)[:-1]]).astype(np.int64)
    safe = np.where(codes < 0, 0, codes)
    per_row = np.where(codes < 0, 0, per_code[safe])
    rows = np.repeat(np.arange(len(codes)), per_row)
    within = np.arange(len(rows)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    return rows, first_of_code[safe[rows]] + within
