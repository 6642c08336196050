"""Text, unit, list, time, date and clock normalisation (DATA.md "General rules").

Scalar helpers (:func:`nfkc`, :func:`fold_unit`, :func:`split_list`) serve
small inputs; the ``*_series`` functions and the parsers work on whole pandas
columns with Arrow compute kernels (RE2 regular expressions, no Python loop
over rows), so a ten-million-row query log stays feasible.

Time formats accepted by :func:`parse_times` (Asia/Taipei local unless an
offset is given; ROC years have 2 or 3 digits and add 1911, AD years 4)::

    112/10/05 14:33:21   112/10/05 14:33   112-10-05 14:33:21
    1121005 143321       1121005143321     991005 143321 (ROC 99 = 2010)
    2023-10-05 14:33:21  2023/10/05 14:33:21
    2023-10-05T14:33:21+08:00 (any offset, or Z; fractions of seconds too)

and native datetimes (naive ones are Taipei local). Impossible dates
(month 13, 31 February) are unparseable, never an exception.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kit.schema import TIMEZONE

__all__ = [
    "LIST_SEPARATORS",
    "TEXT_DTYPE",
    "TIME_TZ",
    "fold_unit",
    "fold_unit_series",
    "nfkc",
    "nfkc_series",
    "parse_clock",
    "parse_dates",
    "parse_times",
    "split_list",
    "split_list_series",
]

TEXT_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)
"""The dtype of every text column (pandas' default ``str``)."""

TIME_TZ = pd.DatetimeTZDtype(unit="us", tz=TIMEZONE)
"""The dtype of every time column (:data:`kit.schema.TIME_DTYPE`)."""

LIST_DTYPE = pd.ArrowDtype(pa.list_(pa.string()))
DATE_DTYPE = pd.ArrowDtype(pa.date32())

LIST_SEPARATORS = r"[;；,，、\n\r]"
"""Separators of the items of a list cell (a regular expression)."""

_LIST_SPLIT = re.compile(LIST_SEPARATORS)


def nfkc(text: str) -> str:
    """Return ``text`` NFKC-normalised and trimmed (``Ａ１２３`` → ``A123``)."""
    return unicodedata.normalize("NFKC", text).strip()


def fold_unit(text: str) -> str:
    """Return a unit name NFKC-normalised, trimmed, with 臺 folded to 台."""
    return nfkc(text).replace("臺", "台")


def split_list(cell: str | None) -> list[str]:
    """Split a list cell on ``;`` ``；`` ``,`` ``，`` ``、`` or newlines.

    Parameters
    ----------
    cell
        The cell text; ``None`` gives an empty list.

    Returns
    -------
    list[str]
        The NFKC-normalised, trimmed, non-empty items in order.

    """
    if cell is None:
        return []
    return [item for item in (nfkc(p) for p in _LIST_SPLIT.split(cell)) if item]


def _as_arrow_text(series: pd.Series) -> pa.Array:
    """Return the column as an Arrow string array (``None`` for missing)."""
    if isinstance(series.dtype, pd.StringDtype) or isinstance(series.dtype, pd.ArrowDtype):
        arr = pa.array(series.array, from_pandas=True)
        return arr.cast(pa.string()) if not pa.types.is_string(arr.type) else arr
    values = series.astype(object).where(series.notna(), None)
    return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def _to_text_series(arr: pa.Array, index: pd.Index) -> pd.Series:
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    return pd.Series(pd.array(arr, dtype=TEXT_DTYPE), index=index)


def nfkc_series(series: pd.Series) -> pd.Series:
    """Return a text column NFKC-normalised and trimmed; empty cells become missing.

    Parameters
    ----------
    series
        Any column (non-text values are turned into text).

    Returns
    -------
    pandas.Series
        Of dtype :data:`TEXT_DTYPE`, same index.

    """
    arr = _as_arrow_text(series)
    arr = pc.utf8_trim_whitespace(pc.utf8_normalize(arr, form="NFKC"))
    return _to_text_series(arr, series.index)


def fold_unit_series(series: pd.Series) -> pd.Series:
    """Return unit names NFKC-normalised, trimmed, 臺 folded to 台 (vectorised)."""
    arr = _as_arrow_text(series)
    arr = pc.utf8_trim_whitespace(pc.utf8_normalize(arr, form="NFKC"))
    arr = pc.replace_substring(arr, pattern="臺", replacement="台")
    return _to_text_series(arr, series.index)


def split_list_series(series: pd.Series) -> pd.Series:
    """Split every list cell of a column (vectorised :func:`split_list`).

    Returns
    -------
    pandas.Series
        Arrow ``list<string>`` values, NFKC-normalised, trimmed, empty items
        dropped; a missing cell stays missing.

    """
    arr = pc.utf8_normalize(_as_arrow_text(series), form="NFKC")
    parts = pc.split_pattern_regex(arr, pattern=r"[;,、\n\r]")
    flat = pc.utf8_trim_whitespace(pc.list_flatten(parts))
    keep = pc.not_equal(flat, "")
    lengths = pc.list_value_length(parts).fill_null(0)
    row_of = np.repeat(np.arange(len(parts)), lengths.to_numpy(zero_copy_only=False))
    kept_rows = row_of[keep.to_numpy(zero_copy_only=False)]
    kept = flat.filter(keep)
    counts = np.bincount(kept_rows, minlength=len(parts))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    mask = pc.is_null(parts).to_numpy(zero_copy_only=False)
    lists = pa.ListArray.from_arrays(pa.array(offsets), kept, mask=pa.array(mask, type=pa.bool_()))
    return pd.Series(pd.array(lists, dtype=LIST_DTYPE), index=series.index)


_SEPARATED = (
    r"^(?P<y>\d{2,4})[/\-.](?P<mo>\d{1,2})[/\-.](?P<d>\d{1,2})"
    r"(?:(?:\s+|T)(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?)?"
    r"\s*(?P<tz>Z|[+\-]\d{2}:?\d{2})?$"
)
_COMPACT = (
    r"^(?P<y>\d{3}|\d{2})(?P<mo>\d{2})(?P<d>\d{2})(?:\s*|T)"
    r"(?P<h>\d{2})(?P<mi>\d{2})(?P<s>\d{2})?(?P<f>)(?P<tz>)$"
)
_COMPACT_DATE = (
    r"^(?P<y>\d{4}|\d{3}|\d{2})(?P<mo>\d{2})(?P<d>\d{2})(?P<h>)(?P<mi>)(?P<s>)(?P<f>)(?P<tz>)$"
)
_FIELDS = ("y", "mo", "d", "h", "mi", "s", "f", "tz")


def _clean_text(series: pd.Series) -> tuple[pa.Array, np.ndarray]:
    arr = pc.utf8_trim_whitespace(pc.utf8_normalize(_as_arrow_text(series), form="NFKC"))
    present = pc.fill_null(pc.not_equal(arr, ""), False).to_numpy(zero_copy_only=False)
    return arr, present


def _extract(arr: pa.Array, patterns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Match each pattern in turn on the rows not matched yet; return the fields as text."""
    n = len(arr)
    fields = {k: np.full(n, "", dtype=object) for k in _FIELDS}
    matched = np.zeros(n, dtype=bool)
    for pattern in patterns:
        todo = np.flatnonzero(~matched)
        if len(todo) == 0:
            break
        sub = arr.take(pa.array(todo)) if len(todo) < n else arr
        found = pc.extract_regex(sub, pattern=pattern)
        ok = found.is_valid().to_numpy(zero_copy_only=False)
        rows = todo[ok]
        matched[rows] = True
        good = found.filter(pa.array(ok))
        for k in _FIELDS:
            fields[k][rows] = good.field(k).to_numpy(zero_copy_only=False)
    fields["matched"] = matched
    return fields


def _int(values: np.ndarray, default: int = 0) -> np.ndarray:
    out = pd.to_numeric(pd.Series(values).replace("", np.nan), errors="coerce")
    return out.fillna(default).to_numpy(dtype=np.int64)


def _assemble(fields: dict[str, np.ndarray], index: pd.Index) -> pd.Series:
    """Build UTC-correct Taipei times from extracted text fields (NaT where invalid)."""
    matched = fields["matched"]
    year_text = pd.Series(fields["y"], dtype=object)
    year = _int(fields["y"])
    roc = year_text.str.len().to_numpy() < 4
    year = np.where(roc, year + 1911, year)
    frac = pd.Series(fields["f"], dtype=object).str.ljust(6, "0").to_numpy()
    parts = pd.DataFrame(
        {
            "year": np.where(matched, year, 2000),
            "month": np.where(matched, _int(fields["mo"]), 1),
            "day": np.where(matched, _int(fields["d"]), 1),
            "hour": _int(fields["h"]),
            "minute": _int(fields["mi"]),
            "second": _int(fields["s"]),
            "us": _int(frac),
        }
    )
    bad_clock = (parts["hour"] > 23) | (parts["minute"] > 59) | (parts["second"] > 59)
    naive = pd.to_datetime(parts, errors="coerce").astype("datetime64[us]")
    offset = _offset_minutes(fields["tz"])
    utc = naive - pd.to_timedelta(offset, unit="m")
    utc = utc.where(matched & ~bad_clock.to_numpy())
    times = utc.dt.tz_localize("UTC").dt.tz_convert(TIMEZONE).astype(TIME_TZ)
    times.index = index
    return times


def _offset_minutes(tz: np.ndarray) -> np.ndarray:
    text = pd.Series(tz, dtype=object).fillna("")
    parts = text.str.extract(r"^(?P<sign>[+\-])(?P<hh>\d{2}):?(?P<mm>\d{2})$")
    sign = np.where(parts["sign"] == "-", -1, 1)
    minutes = sign * (_int(parts["hh"].fillna("").to_numpy()) * 60)
    minutes = minutes + sign * _int(parts["mm"].fillna("").to_numpy())
    has_offset = parts["sign"].notna().to_numpy()
    utc_z = (text == "Z").to_numpy()
    return np.where(has_offset, minutes, np.where(utc_z, 0, 8 * 60))


def _native_times(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Pick out native datetime values of an object column (XLSX, from_frames)."""
    is_native = series.map(lambda v: isinstance(v, (dt.datetime, np.datetime64))).to_numpy(
        dtype=bool
    )
    out = pd.Series(pd.NaT, index=series.index, dtype=TIME_TZ)
    if is_native.any():
        out[is_native] = [_to_taipei(v) for v in series[is_native]]
    return out, is_native


def _to_taipei(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize(TIMEZONE) if ts.tzinfo is None else ts.tz_convert(TIMEZONE)


def parse_times(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse a column of times in any accepted format (see the module docstring).

    Parameters
    ----------
    series
        Text, native datetimes (naive = Taipei local), tz-aware timestamps,
        or a datetime64 column.

    Returns
    -------
    times : pandas.Series
        ``datetime64[us, Asia/Taipei]``; missing where empty or unparseable.
    unparseable : pandas.Series
        Boolean, ``True`` for non-empty cells that could not be parsed.

    """
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert(TIMEZONE).astype(TIME_TZ), pd.Series(False, index=series.index)
    if pd.api.types.is_datetime64_dtype(series.dtype):
        times = series.dt.tz_localize(TIMEZONE).astype(TIME_TZ)
        return times, pd.Series(False, index=series.index)
    native, is_native = (
        _native_times(series)
        if series.dtype == object
        else (None, np.zeros(len(series), dtype=bool))
    )
    arr, present = _clean_text(series.where(~is_native, None) if is_native.any() else series)
    fields = _extract(arr, (_SEPARATED, _COMPACT))
    has_clock = pd.Series(fields["h"], dtype=object).ne("").to_numpy()
    fields["matched"] = fields["matched"] & has_clock
    times = _assemble(fields, series.index)
    if native is not None and is_native.any():
        times = times.where(~is_native, native)
    bad = present & ~is_native & times.isna().to_numpy()
    return times, pd.Series(bad, index=series.index)


def parse_dates(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse a column of dates (``112/10/05``, ``1121005``, ``2023-10-05``, datetimes).

    A value with a time of day is accepted too and gives its (Taipei) date.

    Returns
    -------
    dates : pandas.Series
        Arrow ``date32`` values (``datetime.date``); missing where empty or
        unparseable.
    unparseable : pandas.Series
        Boolean, ``True`` for non-empty cells that could not be parsed.

    """
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
        series.dtype
    ):
        times, bad = parse_times(series)
        return _dates_of(times), bad
    is_date = (
        series.map(lambda v: isinstance(v, dt.date) and not isinstance(v, dt.datetime)).to_numpy(
            dtype=bool
        )
        if series.dtype == object
        else np.zeros(len(series), dtype=bool)
    )
    text = series.where(~is_date, None) if is_date.any() else series
    native, is_native = (
        _native_times(text) if text.dtype == object else (None, np.zeros(len(text), dtype=bool))
    )
    arr, present = _clean_text(text.where(~is_native, None) if is_native.any() else text)
    fields = _extract(arr, (_SEPARATED, _COMPACT_DATE, _COMPACT))
    times = _assemble(fields, series.index)
    if native is not None and is_native.any():
        times = times.where(~is_native, native)
    dates = _dates_of(times)
    if is_date.any():
        values = [
            orig if native_date else (None if pd.isna(parsed) else parsed)
            for orig, parsed, native_date in zip(series, dates, is_date, strict=True)
        ]
        dates = pd.Series(
            pd.array(pa.array(values, type=pa.date32()), dtype=DATE_DTYPE), index=series.index
        )
    bad = present & ~is_native & ~is_date & times.isna().to_numpy()
    return dates, pd.Series(bad, index=series.index)


def _dates_of(times: pd.Series) -> pd.Series:
    day = times.dt.tz_localize(None).dt.floor("D")
    arr = pa.array(day.astype("datetime64[ms]"), from_pandas=True).cast(pa.date32())
    return pd.Series(pd.array(arr, dtype=DATE_DTYPE), index=times.index)


_CLOCK = r"^(?P<h>\d{1,2}):(?P<mi>\d{2})(?::\d{2})?$|^(?P<h2>\d{2})(?P<mi2>\d{2})$"


def parse_clock(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse shift bounds ``HH:MM``, ``H:MM``, ``HHMM`` or ``24:00`` into minutes.

    Parameters
    ----------
    series
        Text or ``datetime.time`` values (from XLSX).

    Returns
    -------
    minutes : pandas.Series
        ``Int64`` minutes since midnight, 0–1440 (``24:00`` is 1440).
    unparseable : pandas.Series
        Boolean, ``True`` for non-empty cells that are not a clock time.

    """
    if series.dtype == object:
        series = series.map(
            lambda v: v.strftime("%H:%M") if isinstance(v, (dt.time, dt.datetime)) else v
        )
    arr, present = _clean_text(series)
    found = pc.extract_regex(arr, pattern=_CLOCK)
    h = pc.if_else(pc.equal(found.field("h"), ""), found.field("h2"), found.field("h"))
    mi = pc.if_else(pc.equal(found.field("mi"), ""), found.field("mi2"), found.field("mi"))
    hours = _int(h.to_numpy(zero_copy_only=False), -1)
    mins = _int(mi.to_numpy(zero_copy_only=False), -1)
    valid = (
        found.is_valid().to_numpy(zero_copy_only=False)
        & (mins >= 0)
        & (mins < 60)
        & (hours >= 0)
        & ((hours < 24) | ((hours == 24) & (mins == 0)))
    )
    minutes = pd.Series(hours * 60 + mins, index=series.index, dtype="Int64").where(valid)
    return minutes, pd.Series(present & ~valid, index=series.index)
