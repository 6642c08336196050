"""Complete one kind's frame: normalise, parse, canonicalise, derive, reject.

The one code path shared by the file loaders and :meth:`kit.dataset.Dataset.from_frames`.
Its input is a frame whose columns carry canonical names (source-like values:
text, or native datetimes), any unknown extra columns, and optionally the
provenance columns; its output follows the layout of :mod:`kit.schema`'s
docstring, plus the ledger rows of the rows it rejected or warned about.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kit.load.entities import classify_column
from kit.normalise import (
    TEXT_DTYPE,
    TIME_TZ,
    contiguous,
    fold_unit_series,
    nfkc_series,
    parse_clock,
    parse_dates,
    parse_times,
    split_list_series,
)
from kit.schema import (
    DERIVED,
    HANDHELD_PREFIX,
    KINDS,
    LEDGER_COLUMNS,
    ON_DUTY_WORDS,
    PROVENANCE,
    SYSTEMS,
    TIMEZONE,
    ColumnType,
    Kind,
)

__all__ = [
    "UNIT_COLUMNS",
    "Completed",
    "complete_kind",
    "empty_frame",
    "empty_ledger",
    "lookup_ids",
    "slot_columns",
]

UNIT_COLUMNS = frozenset({"unit", "actual_unit", "parent"})
"""Columns holding unit names (臺 folded to 台)."""

_SLOT = re.compile(r"^(\d{1,2})\s*[-~–]\s*(\d{1,2})$")


@dataclass(frozen=True)
class Completed:
    """A completed kind frame and the ledger rows produced on the way."""

    frame: pd.DataFrame
    ledger: pd.DataFrame


@cache
def _empty_ledger_template() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=TEXT_DTYPE) for c in LEDGER_COLUMNS})


def empty_ledger() -> pd.DataFrame:
    """Return an empty ledger frame with :data:`kit.schema.LEDGER_COLUMNS`.

    A copy of one template built once per process (building frames of
    Arrow-backed columns costs milliseconds; the loader asks for hundreds).
    """
    return _empty_ledger_template().copy(deep=True)


def _ledger(
    frame: pd.DataFrame, rows: np.ndarray, column: str, status: str, reason: str
) -> pd.DataFrame:
    if len(rows) == 0:
        return empty_ledger()
    sub = frame.iloc[rows]
    return pd.DataFrame(
        {
            "source_file": sub["source_file"].astype(TEXT_DTYPE).to_numpy(),
            "source_line": sub["source_line"].astype(TEXT_DTYPE).to_numpy(),
            "column": column,
            "status": status,
            "reason": reason,
            "raw": _row_text(sub),
        }
    ).astype(TEXT_DTYPE)


def _row_text(sub: pd.DataFrame) -> list[str]:
    """Return the source text of a few rows: the cells joined by commas."""
    if "_raw" in sub.columns:
        return [str(v) for v in sub["_raw"]]
    cells = [c for c in sub.columns if c not in PROVENANCE and not c.startswith("_")]
    return [
        ",".join("" if pd.isna(v) else str(v) for v in row)
        for row in sub[cells].astype(object).itertuples(index=False)
    ]


def slot_columns(columns: list[str]) -> dict[str, tuple[int, int]]:
    """Return the wide-roster slot columns (``00-02``, ``0-2`` …) and their hours."""
    slots: dict[str, tuple[int, int]] = {}
    for col in columns:
        m = _SLOT.match(str(col))
        if m:
            start, end = int(m.group(1)), int(m.group(2))
            if 0 <= start < end <= 24:
                slots[col] = (start, end)
    return slots


def _wide_to_long(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn a wide roster into long form: one row per run of adjacent equal slots."""
    slots = slot_columns(list(frame.columns))
    ordered = sorted(slots, key=lambda c: slots[c])
    keep = [c for c in frame.columns if c not in slots]
    frame = frame.reset_index(drop=True)
    long = frame[keep].join(pd.DataFrame({c: nfkc_series(frame[c]) for c in ordered}), how="left")
    melted = long.reset_index(names="_row").melt(
        id_vars=["_row", *keep], value_vars=ordered, var_name="_slot", value_name="duty"
    )
    melted = melted[melted["duty"].notna()].copy()
    melted["_h0"] = melted["_slot"].map(lambda c: slots[c][0]).astype(int)
    melted["_h1"] = melted["_slot"].map(lambda c: slots[c][1]).astype(int)
    melted = melted.sort_values(["_row", "_h0"], kind="stable")
    same_run = (
        (melted["_row"] == melted["_row"].shift())
        & (melted["duty"] == melted["duty"].shift())
        & (melted["_h0"] == melted["_h1"].shift())
    )
    melted["_run"] = (~same_run).cumsum()
    runs = melted.groupby("_run", sort=False).agg(
        _first=("_h0", "min"), _last=("_h1", "max"), _row=("_row", "first")
    )
    firsts = melted.drop_duplicates("_run").set_index("_run")
    out = firsts[[*keep, "duty"]].copy()
    out["start"] = runs["_first"].map(lambda h: f"{h:02d}:00")
    out["end"] = runs["_last"].map(lambda h: f"{h:02d}:00")
    out["form"] = "wide"
    return out.reset_index(drop=True)


def _add_provenance(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    if "source_file" not in frame.columns:
        frame["source_file"] = "<frames>"
    if "source_line" not in frame.columns:
        frame["source_line"] = (np.arange(len(frame)) + 2).astype(str)
    if "source_sha256" not in frame.columns:
        frame["source_sha256"] = ""
    for col in PROVENANCE:
        frame[col] = frame[col].astype(TEXT_DTYPE).fillna("")
    return frame


@cache
def _empty_frame_template(kind: str) -> pd.DataFrame:
    return complete_kind(kind, pd.DataFrame()).frame


def empty_frame(kind: str) -> pd.DataFrame:
    """Return an empty, fully-typed frame of a kind (for kinds absent from the data).

    A copy of one template per kind, completed once per process.
    """
    return _empty_frame_template(kind).copy(deep=True)


def complete_kind(kind_name: str, frame: pd.DataFrame) -> Completed:
    """Normalise one kind's rows into the canonical layout.

    Parameters
    ----------
    kind_name
        A key of :data:`kit.schema.KINDS`.
    frame
        Columns with canonical names holding source-like values, unknown
        extras, optional provenance columns (defaults: ``<frames>``, the row
        number + 2, empty hash), and optionally ``_raw`` (the row's source
        text, for the ledger). A wide-form roster (slot columns) is accepted
        for ``duty_roster``.

    Returns
    -------
    Completed
        The frame (rejected rows removed) and the ledger rows: rejections
        (empty required field, unparseable time, date or clock) and warnings
        (person IDs with an invalid check digit).

    """
    kind = KINDS[kind_name]
    frame = _add_provenance(frame)
    if kind_name == "duty_roster":
        if "start" not in frame.columns and slot_columns(list(frame.columns)):
            frame = _add_provenance(_wide_to_long(frame))
        elif "form" not in frame.columns:
            frame["form"] = "long"
    out: dict[str, pd.Series] = {}
    reject = np.zeros(len(frame), dtype=bool)
    ledgers: list[pd.DataFrame] = []

    def reject_rows(mask: np.ndarray, column: str, reason: str) -> None:
        new = mask & ~reject
        if new.any():
            ledgers.append(_ledger(frame, np.flatnonzero(new), column, "rejected", reason))
            reject[:] |= new

    for col in kind.columns:
        source = (
            frame[col.canonical]
            if col.canonical in frame.columns
            else pd.Series(np.nan, index=frame.index, dtype=TEXT_DTYPE)
        )
        if col.type is ColumnType.TIME:
            out[col.canonical], bad = parse_times(source)
            reject_rows(bad.to_numpy(), col.canonical, f"unparseable time in {col.canonical}")
        elif col.type is ColumnType.DATE:
            out[col.canonical], bad = parse_dates(source)
            reject_rows(bad.to_numpy(), col.canonical, f"unparseable date in {col.canonical}")
        elif col.type is ColumnType.CLOCK:
            out[col.canonical], bad = parse_clock(source)
            reject_rows(bad.to_numpy(), col.canonical, f"unparseable clock time in {col.canonical}")
        elif col.type is ColumnType.LIST:
            out[col.canonical] = split_list_series(source)
        elif col.canonical in UNIT_COLUMNS:
            out[col.canonical] = fold_unit_series(source)
        else:
            out[col.canonical] = nfkc_series(source)
        if col.required:
            value = out[col.canonical]
            empty = value.isna().to_numpy(dtype=bool, copy=True)
            if col.type is ColumnType.LIST:
                empty |= (value.list.len() == 0).fillna(True).to_numpy(dtype=bool)
            reject_rows(empty, col.canonical, f"empty required field {col.canonical}")

    keep = ~reject
    if not keep.all():
        frame = frame[keep].reset_index(drop=True)
        out = {k: v[keep].reset_index(drop=True) for k, v in out.items()}
    ledgers.append(_identifier_columns(kind, frame, out))
    columns: dict[str, pd.Series] = {c.canonical: out[c.canonical] for c in kind.columns}
    for col in kind.columns:
        if col.identifier:
            columns[f"{col.canonical}_entity"] = out[f"{col.canonical}_entity"]
            columns[f"{col.canonical}_raw"] = out[f"{col.canonical}_raw"]
    for col in kind.columns:
        if col.keep_raw:
            raw = frame[col.canonical] if col.canonical in frame.columns else None
            columns[f"{col.canonical}_raw"] = _raw_text(raw, len(frame))
    columns.update(_derived(kind_name, frame, columns))
    known = set(columns) | set(PROVENANCE) | {c.canonical for c in kind.columns}
    for extra in frame.columns:
        if extra not in known and not str(extra).startswith("_") and extra != "form":
            columns[str(extra)] = _raw_text(frame[extra], len(frame))
    for prov in PROVENANCE:
        columns[prov] = frame[prov]
    result = pd.DataFrame(columns)
    if kind_name == "duty_roster" and len(result) == 0:
        result["on_duty"] = result["on_duty"].astype(bool)
    ledger = (
        pd.concat([lg for lg in ledgers if len(lg)], ignore_index=True)
        if any(len(lg) for lg in ledgers)
        else empty_ledger()
    )
    return Completed(result, ledger)


def _raw_text(series: pd.Series | None, n: int) -> pd.Series:
    if series is None:
        return pd.Series(np.nan, index=pd.RangeIndex(n), dtype=TEXT_DTYPE)
    values = series.reset_index(drop=True)
    if values.dtype == object:
        values = values.map(lambda v: v if v is None or isinstance(v, str) else str(v))
    text = values.astype(TEXT_DTYPE)
    return text.where(text != "", np.nan)


def _identifier_columns(kind: Kind, frame: pd.DataFrame, out: dict[str, pd.Series]) -> pd.DataFrame:
    """Canonicalise identifier fields in place in ``out``; return warning ledger rows."""
    ledgers: list[pd.DataFrame] = []
    for col in kind.columns:
        if not col.identifier:
            continue
        raw = _raw_text(
            frame[col.canonical] if col.canonical in frame.columns else None, len(frame)
        )
        types = frame["type"] if kind.name == "communications" and "type" in frame else None
        entity, value, valid = classify_column(kind.name, col.canonical, raw, types)
        out[col.canonical] = value
        out[f"{col.canonical}_entity"] = entity
        out[f"{col.canonical}_raw"] = raw
        bad = valid.eq(False).fillna(False).to_numpy(dtype=bool)
        if not bad.any():
            continue
        ledgers.append(
            _ledger(
                frame,
                np.flatnonzero(bad),
                col.canonical,
                "warning",
                "person ID with an invalid check digit",
            )
        )
    return pd.concat(ledgers, ignore_index=True) if ledgers else empty_ledger()


def _derived(
    kind_name: str, frame: pd.DataFrame, columns: dict[str, pd.Series]
) -> dict[str, pd.Series]:
    derived: dict[str, pd.Series] = {}
    if kind_name == "query_log":
        derived["lookup_id"] = lookup_ids(columns)
        derived["system"] = _per_value(columns["operation"], _system)
        handheld_op = _per_value(columns["operation"], _handheld_operation)
        device = columns["device"].fillna("").str.upper().str.startswith("M-")
        handheld = handheld_op.eq("1").to_numpy() | device.to_numpy(dtype=bool)
        derived["handheld"] = pd.Series(handheld, dtype=bool)
    elif kind_name == "duty_roster":
        date = pa.array(columns["date"].array, from_pandas=True)
        midnight = pd.Series(date.cast(pa.timestamp("us")).to_pandas(), dtype="datetime64[us]")
        base = midnight.dt.tz_localize(TIMEZONE)
        start_min = columns["start"].astype("float64")
        end_min = columns["end"].astype("float64")
        end_min = end_min.where(end_min > start_min, end_min + 1440)
        columns["start"] = (base + pd.to_timedelta(start_min, unit="m")).astype(TIME_TZ)
        columns["end"] = (base + pd.to_timedelta(end_min, unit="m")).astype(TIME_TZ)
        derived["on_duty"] = columns["duty"].isin(list(ON_DUTY_WORDS)).astype(bool)
        form = frame["form"] if "form" in frame.columns else pd.Series("long", index=frame.index)
        derived["form"] = form.astype(TEXT_DTYPE).fillna("long")
    elif kind_name == "register":
        equipment = _arrow(columns["equipment"])
        flat = pc.list_flatten(equipment)
        ids = pc.extract_regex(flat, pattern=r"(?P<d>M-?\d+)")
        lengths = pc.list_value_length(equipment).fill_null(0).to_numpy(zero_copy_only=False)
        valid = ids.is_valid().to_numpy(zero_copy_only=False)
        # ``M123`` -> ``M-123`` (the pattern only matches ``M-\d+`` or ``M\d+``).
        values = pc.replace_substring_regex(
            ids.field("d").filter(pa.array(valid)), pattern=r"^M(\d)", replacement=r"M-\1"
        ).cast(pa.string())
        row_of = np.repeat(np.arange(len(lengths)), lengths)
        counts = np.bincount(row_of[valid], minlength=len(lengths))
        offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
        devices = pa.ListArray.from_arrays(offsets, values, type=pa.list_(pa.string()))
        derived["devices"] = pd.Series(
            pd.array(devices, dtype=pd.ArrowDtype(pa.list_(pa.string())))
        )
    assert set(derived) == set(DERIVED.get(kind_name, ())), kind_name
    return derived


def _system(operation: str) -> str:
    """Return the system family of an operation (DOMAIN.md "system")."""
    bare = operation.removeprefix(HANDHELD_PREFIX)
    for family in SYSTEMS:
        if bare.startswith(family):
            return family
    return bare.split("-", 1)[0]


def _handheld_operation(operation: str) -> str:
    return "1" if operation.startswith(HANDHELD_PREFIX) else "0"


def _per_value(series: pd.Series, fn: Callable[[str], str]) -> pd.Series:
    """Apply ``fn`` once per distinct non-missing value (columns with few distinct values)."""
    encoded = pc.dictionary_encode(_arrow(series).cast(pa.string()))
    mapped = pa.array([fn(v) for v in encoded.dictionary.to_pylist()], type=pa.string())
    return pd.Series(pd.array(pc.take(mapped, encoded.indices), dtype=TEXT_DTYPE))


def _arrow(series: pd.Series) -> pa.Array:
    arr = pa.array(series.array, from_pandas=True)
    return contiguous(arr)


_DATABASES: dict[int, duckdb.DuckDBPyConnection] = {}
"""One in-memory DuckDB per process (opening one costs ~0.1 s; a folder has many tables)."""


def _duckdb_cursor() -> duckdb.DuckDBPyConnection:
    """Return a new connection (cursor) to this process's in-memory DuckDB.

    Keyed by process id, so a forked child never uses its parent's database.
    Each cursor has its own registered views, so concurrent callers do not
    collide.
    """
    pid = os.getpid()
    database = _DATABASES.get(pid)
    if database is None:
        _DATABASES.clear()
        database = _DATABASES[pid] = duckdb.connect()
    return database.cursor()


def lookup_ids(columns: dict[str, pd.Series]) -> pd.Series:
    r"""Return the stable ``lookup_id`` of each query-log row (DATA.md).

    The hex of the first 16 bytes of the SHA-256 of the normalised time (ISO,
    ``+08:00``), user, ip, operation, conditions, actual_user, actual_unit and
    purpose, joined by ``\x1f`` (missing fields as empty text).
    """
    n = len(columns["time"])
    if n == 0:
        return pd.Series([], dtype=TEXT_DTYPE)
    fields = ("user", "ip", "operation", "conditions", "actual_user", "actual_unit", "purpose")
    local = pa.array(
        columns["time"].dt.tz_localize(None).astype("datetime64[us]"), from_pandas=True
    )
    table = pa.table(
        {"time": local, **{name: _arrow(columns[name]).cast(pa.string()) for name in fields}}
    )
    text = " || chr(31) || ".join(f"coalesce({name}, '')" for name in fields)
    query = f"""
        SELECT left(sha256(
            strftime(time, '%Y-%m-%dT%H:%M:%S')
            || CASE WHEN epoch_us(time) % 1000000 = 0 THEN ''
                    ELSE '.' || lpad(CAST(epoch_us(time) % 1000000 AS VARCHAR), 6, '0') END
            || '+08:00' || chr(31) || {text}), 32) AS lookup_id
        FROM lookups
    """
    with _duckdb_cursor() as con:
        con.register("lookups", table)
        ids = con.sql(query).to_arrow_table().column("lookup_id")
    return pd.Series(pd.array(contiguous(ids), dtype=TEXT_DTYPE))
