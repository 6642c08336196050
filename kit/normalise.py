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
    "contiguous",
    "fold_unit",
    "fold_unit_series",
    "nfkc",
    "nfkc_series",
    "parse_clock",
    "parse_date",
    "parse_dates",
    "parse_time",
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


def contiguous(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Return one Arrow array (no copy when there is a single chunk)."""
    if isinstance(arr, pa.ChunkedArray):
        return arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
    return arr


def _as_arrow_text(series: pd.Series) -> pa.Array:
    """Return the column as an Arrow string array (``None`` for missing)."""
    if isinstance(series.dtype, pd.StringDtype) or isinstance(series.dtype, pd.ArrowDtype):
        arr = pa.array(series.array, from_pandas=True)
        arr = contiguous(arr)
        return arr.cast(pa.string()) if not pa.types.is_string(arr.type) else arr
    values = series.astype(object).where(series.notna(), None)
    return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def _arrow_list(series: pd.Series) -> pa.Array:
    arr = pa.array(series.array, from_pandas=True)
    return contiguous(arr)


def _to_text_series(arr: pa.Array, index: pd.Index) -> pd.Series:
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    return pd.Series(pd.array(arr, dtype=TEXT_DTYPE), index=index)


def _normalised(arr: pa.Array, *, fold: bool = False) -> pa.Array:
    """NFKC + trim (+ 臺→台), computed once per distinct value when values repeat."""

    def apply(values: pa.Array) -> pa.Array:
        out = pc.utf8_trim_whitespace(pc.utf8_normalize(values, form="NFKC"))
        return pc.replace_substring(out, pattern="臺", replacement="台") if fold else out

    if len(arr) == 0 or pc.all(pc.fill_null(pc.string_is_ascii(arr), True)).as_py():
        return pc.utf8_trim_whitespace(arr)
    if len(arr) < 1024:
        return apply(arr)
    encoded = pc.dictionary_encode(arr)
    if len(encoded.dictionary) > len(arr) // 2:
        return apply(arr)
    return pc.take(apply(encoded.dictionary), encoded.indices)


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
    return _to_text_series(_normalised(_as_arrow_text(series)), series.index)


def fold_unit_series(series: pd.Series) -> pd.Series:
    """Return unit names NFKC-normalised, trimmed, 臺 folded to 台 (vectorised)."""
    return _to_text_series(_normalised(_as_arrow_text(series), fold=True), series.index)


def split_list_series(series: pd.Series) -> pd.Series:
    """Split every list cell of a column (vectorised :func:`split_list`).

    Returns
    -------
    pandas.Series
        Arrow ``list<string>`` values, NFKC-normalised, trimmed, empty items
        dropped; a missing cell stays missing.

    """
    if isinstance(series.dtype, pd.ArrowDtype) and pa.types.is_list(series.dtype.pyarrow_dtype):
        series = pd.Series(pd.array(pc.binary_join(_arrow_list(series), ";"), dtype=TEXT_DTYPE))
    elif series.dtype == object and series.map(lambda v: isinstance(v, (list, tuple))).any():
        series = series.map(lambda v: ";".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
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
    arr = _as_arrow_text(series)
    if not pc.all(pc.fill_null(pc.string_is_ascii(arr), True)).as_py():
        arr = pc.utf8_normalize(arr, form="NFKC")
    arr = pc.utf8_trim_whitespace(arr)
    present = pc.fill_null(pc.not_equal(arr, ""), False).to_numpy(zero_copy_only=False)
    return arr, present


def _extract(arr: pa.Array, patterns: tuple[str, ...]) -> dict[str, pa.Array]:
    """Match the patterns in order (first match wins per row); return the fields as text.

    ``matched`` is a boolean array; every field is ``""`` where it did not take
    part in the match (or the row matched nothing).
    """
    fields: dict[str, pa.Array] | None = None
    matched: pa.Array | None = None
    for pattern in patterns:
        found = pc.extract_regex(arr, pattern=pattern)
        ok = found.is_valid()
        if fields is None or matched is None:
            fields = {k: found.field(k) for k in _FIELDS}
            matched = ok
            continue
        take_new = pc.and_(ok, pc.invert(matched))
        fields = {k: pc.if_else(take_new, found.field(k), fields[k]) for k in _FIELDS}
        matched = pc.or_(matched, ok)
    assert fields is not None and matched is not None
    out = {k: pc.fill_null(v, "") for k, v in fields.items()}
    out["matched"] = matched
    return out


def _int(values: pa.Array, default: int = 0) -> np.ndarray:
    """Digits (or ``""``) as int64; ``default`` where empty."""
    nulled = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    ints = pc.cast(nulled, pa.int64())
    return np.asarray(pc.fill_null(ints, default).to_numpy(zero_copy_only=False), dtype=np.int64)


_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_PARTS = ("year", "month", "day", "hour", "minute", "second", "micro", "offset")


def _regex_parts(fields: dict[str, pa.Array]) -> dict[str, np.ndarray]:
    """Integer parts from regex-extracted text fields (years already AD)."""
    year = _int(fields["y"], 2000)
    roc = pc.less(pc.utf8_length(fields["y"]), 4).to_numpy(zero_copy_only=False)
    micro = _int(pc.utf8_rpad(fields["f"], width=6, padding="0"))
    micro = np.where(pc.equal(fields["f"], "").to_numpy(zero_copy_only=False), 0, micro)
    return {
        "year": np.where(roc, year + 1911, year),
        "month": _int(fields["mo"], 1),
        "day": _int(fields["d"], 1),
        "hour": _int(fields["h"]),
        "minute": _int(fields["mi"]),
        "second": _int(fields["s"]),
        "micro": micro,
        "offset": _offset_minutes(fields["tz"]),
    }


def _compose(parts: dict[str, np.ndarray], matched: np.ndarray, index: pd.Index) -> pd.Series:
    """Build Taipei times from integer parts; NaT where unmatched or impossible."""
    year, month, day = parts["year"], parts["month"], parts["day"]
    hour, minute, second = parts["hour"], parts["minute"], parts["second"]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    safe_month = np.clip(month, 1, 12)
    dim = _DAYS_IN_MONTH[safe_month - 1] + ((safe_month == 2) & leap)
    valid = (
        matched
        & (month >= 1)
        & (month <= 12)
        & (day >= 1)
        & (day <= dim)
        & (hour <= 23)
        & (minute <= 59)
        & (second <= 59)
        & (year >= 1900)
        & (year <= 2200)
    )
    months = np.where(valid, (year - 1970) * 12 + (month - 1), 0).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + np.where(valid, day - 1, 0).astype("timedelta64[D]")
    local_us = days.astype("datetime64[us]").astype(np.int64) + (
        ((hour * 60 + minute) * 60 + second) * 1_000_000 + parts["micro"]
    )
    utc_us = local_us - parts["offset"] * 60_000_000
    utc = pd.Series(utc_us.astype("datetime64[us]"), index=index).where(valid)
    return utc.dt.tz_localize("UTC").dt.tz_convert(TIMEZONE).astype(TIME_TZ)


# Fixed-width layouts parsed with numpy on the bytes (the common case, fast).
# Y: AD year digit, R: ROC year digit, M D h m s: digits, S: offset sign,
# Z: offset digit; anything else must be that very character.
_TIME_LAYOUTS = (
    "YYYY-MM-DD hh:mm:ss",
    "YYYY/MM/DD hh:mm:ss",
    "YYYY-MM-DDThh:mm:ss",
    "YYYY-MM-DDThh:mm:ssSZZ:ZZ",
    "YYYY-MM-DD hh:mm",
    "YYYY/MM/DD hh:mm",
    "RRR/MM/DD hh:mm:ss",
    "RRR-MM-DD hh:mm:ss",
    "RRR/MM/DD hh:mm",
    "RRRMMDD hhmmss",
    "RRRMMDDhhmmss",
    "RR/MM/DD hh:mm:ss",
    "RR-MM-DD hh:mm:ss",
    "RR/MM/DD hh:mm",
    "RRMMDD hhmmss",
    "RRMMDDhhmmss",
)
_DATE_LAYOUTS = (
    "YYYY-MM-DD",
    "YYYY/MM/DD",
    "YYYYMMDD",
    "RRR/MM/DD",
    "RRR-MM-DD",
    "RRRMMDD",
    "RR/MM/DD",
    "RR-MM-DD",
    "RRMMDD",
)
_LAYOUT_FIELDS = {"Y": "year", "R": "year", "M": "month", "D": "day", "h": "hour", "m": "minute"}
_LAYOUT_FIELDS |= {"s": "second", "Z": "offset"}


def _fixed_width(
    arr: pa.Array, layouts: tuple[str, ...]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Parse the rows whose text fits one of ``layouts`` exactly (ASCII only)."""
    n = len(arr)
    parts = {k: np.zeros(n, dtype=np.int64) for k in _PARTS}
    parts["month"][:] = 1
    parts["day"][:] = 1
    parts["offset"][:] = 8 * 60
    matched = np.zeros(n, dtype=bool)
    if n == 0:
        return parts, matched
    text = pc.fill_null(arr, "")
    ascii_rows = pc.string_is_ascii(text).to_numpy(zero_copy_only=False)
    lengths = np.where(ascii_rows, pc.binary_length(text).to_numpy(zero_copy_only=False), -1)
    width = int(max(len(layout) for layout in layouts))
    candidates = ascii_rows & (lengths <= width)
    if not candidates.any():
        return parts, matched
    fitted = pc.utf8_rpad(pc.if_else(pa.array(candidates), text, ""), width=width, padding=" ")
    offsets = np.frombuffer(fitted.buffers()[1], dtype=np.int32)[
        fitted.offset : fitted.offset + n + 1
    ]
    data = np.frombuffer(fitted.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    mat = data.reshape(n, width)
    for layout in layouts:
        rows = np.flatnonzero(candidates & ~matched & (lengths == len(layout)))
        if len(rows) == 0:
            continue
        every = len(rows) == n
        ok = np.ones(len(rows), dtype=bool)
        values: dict[str, np.ndarray] = {}
        sign = np.ones(len(rows), dtype=np.int64)
        for pos, code in enumerate(layout):
            col = (mat[:, pos] if every else mat[rows, pos]).astype(np.int64)
            if code in _LAYOUT_FIELDS:
                digit = col - 48
                ok &= (digit >= 0) & (digit <= 9)
                name = _LAYOUT_FIELDS[code]
                values[name] = values.get(name, 0) * 10 + digit
            elif code == "S":
                ok &= (col == 43) | (col == 45)
                sign = np.where(col == 45, -1, 1)
            else:
                ok &= col == ord(code)
        if "offset" in values:
            off = values["offset"]
            values["offset"] = sign * ((off // 100) * 60 + off % 100)
        if "R" in layout:
            values["year"] = values["year"] + 1911
        hit = rows[ok]
        for name, v in values.items():
            parts[name][hit] = v[ok]
        matched[hit] = True
    return parts, matched


def _parse_text(arr: pa.Array, *, dates: bool, index: pd.Index) -> pd.Series:
    """Parse cleaned text: fixed-width layouts first, the regular expressions for the rest."""
    parts, matched = _fixed_width(arr, _DATE_LAYOUTS if dates else _TIME_LAYOUTS)
    rest = np.flatnonzero(~matched & pc.fill_null(pc.not_equal(arr, ""), False).to_numpy(False))
    if len(rest):
        sub = arr.take(pa.array(rest))
        patterns = (_SEPARATED, _COMPACT_DATE, _COMPACT) if dates else (_SEPARATED, _COMPACT)
        fields = _extract(sub, patterns)
        ok = fields["matched"]
        if not dates:
            ok = pc.and_(ok, pc.not_equal(fields["h"], ""))
        extra = _regex_parts(fields)
        for name in _PARTS:
            parts[name][rest] = extra[name]
        matched[rest] = ok.to_numpy(zero_copy_only=False)
    return _compose(parts, matched, index)


def _offset_minutes(tz: pa.Array) -> np.ndarray:
    """Minutes east of UTC: the explicit offset, 0 for ``Z``, +480 when none is given."""
    parts = pc.extract_regex(tz, pattern=r"^(?P<sign>[+\-])(?P<hh>\d{2}):?(?P<mm>\d{2})$")
    has = parts.is_valid().to_numpy(zero_copy_only=False)
    sign = np.where(pc.fill_null(pc.equal(parts.field("sign"), "-"), False).to_numpy(False), -1, 1)
    hh = _int(pc.fill_null(parts.field("hh"), ""))
    mm = _int(pc.fill_null(parts.field("mm"), ""))
    utc_z = pc.equal(tz, "Z").to_numpy(zero_copy_only=False)
    return np.where(has, sign * (hh * 60 + mm), np.where(utc_z, 0, 8 * 60))


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
    times = _parse_text(arr, dates=False, index=series.index)
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
    times = _parse_text(arr, dates=True, index=series.index)
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


def parse_date(text: str) -> dt.date | None:
    """Parse one date in any accepted format (``2023-10-05``, ``112/10/05`` …).

    Returns
    -------
    datetime.date or None
        ``None`` when the text is not a date.

    """
    dates, _ = parse_dates(pd.Series([text], dtype=object))
    value = dates.iloc[0]
    return None if pd.isna(value) else value


def parse_time(text: str) -> pd.Timestamp | None:
    """Parse one time in any accepted format; ``None`` when it is not a time."""
    times, _ = parse_times(pd.Series([text], dtype=object))
    value = times.iloc[0]
    return None if pd.isna(value) else value


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
