"""Vectorised formatting of local times into every time format DATA.md allows.

Times inside the generator are ``int64`` seconds of Asia/Taipei wall-clock time
since 1970-01-01 00:00 (no DST, so this is exact).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

TIME_FORMATS: tuple[str, ...] = (
    "roc_slash",  # 112/10/05 14:33:21
    "roc_dash",  # 112-10-05 14:33:21
    "roc_compact_space",  # 1121005 143321
    "roc_compact",  # 1121005143321
    "iso_space",  # 2023-10-05 14:33:21
    "slash",  # 2023/10/05 14:33:21
    "iso_t",  # 2023-10-05T14:33:21+08:00
)
"""Second-precision formats (the query log uses only these)."""

MINUTE_FORMATS: tuple[str, ...] = ("roc_slash_minute",)  # 112/10/05 14:33
DATE_FORMATS: tuple[str, ...] = ("roc_date", "roc_date_compact", "iso_date")

TZ = dt.timezone(dt.timedelta(hours=8))


def _matrix(seconds: np.ndarray) -> np.ndarray:
    text = np.datetime_as_string(np.asarray(seconds, dtype="datetime64[s]"), unit="s")
    return np.ascontiguousarray(text.astype("S19")).view(np.uint8).reshape(-1, 19)


def _roc_cols(mat: np.ndarray) -> list[np.ndarray]:
    digits = mat[:, 0:4].astype(np.int64) - 48
    year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    roc = year - 1911
    if (roc >= 100).all():
        return [48 + roc // 100, 48 + (roc // 10) % 10, 48 + roc % 10]
    if (roc < 100).all():
        return [48 + (roc // 10) % 10, 48 + roc % 10]
    raise ValueError("a ROC column mixes 2- and 3-digit years; format them separately")


def _build(cols: list[np.ndarray | int], n: int) -> np.ndarray:
    full = [np.full(n, c, dtype=np.uint8) if isinstance(c, int) else c for c in cols]
    if n == 0:
        return np.array([], dtype=object)
    mat = np.ascontiguousarray(np.stack(full, axis=1).astype(np.uint8))
    width = mat.shape[1]
    return mat.view(f"S{width}").ravel().astype(f"U{width}").astype(object)


def format_times(seconds: np.ndarray, fmt: str) -> np.ndarray:
    """Format local times.

    Parameters
    ----------
    seconds : numpy.ndarray
        ``int64`` local wall-clock seconds since 1970.
    fmt : str
        One of :data:`TIME_FORMATS`, :data:`MINUTE_FORMATS` or :data:`DATE_FORMATS`.

    Returns
    -------
    numpy.ndarray
        Object array of strings.

    """
    seconds = np.asarray(seconds, dtype=np.int64)
    n = len(seconds)
    if n == 0:
        return np.array([], dtype=object)
    m = _matrix(seconds)
    year, mon, day = [m[:, i] for i in range(4)], [m[:, 5], m[:, 6]], [m[:, 8], m[:, 9]]
    hh, mi, ss = [m[:, 11], m[:, 12]], [m[:, 14], m[:, 15]], [m[:, 17], m[:, 18]]
    slash, dash, colon, space = 47, 45, 58, 32
    if fmt in ("roc_slash", "roc_dash", "roc_slash_minute", "roc_date"):
        sep = dash if fmt == "roc_dash" else slash
        date_cols: list[np.ndarray | int] = [*_roc_cols(m), sep, *mon, sep, *day]
        if fmt == "roc_date":
            return _build(date_cols, n)
        tail: list[np.ndarray | int] = [space, *hh, colon, *mi]
        if fmt != "roc_slash_minute":
            tail += [colon, *ss]
        return _build(date_cols + tail, n)
    if fmt in ("roc_compact_space", "roc_compact", "roc_date_compact"):
        cols: list[np.ndarray | int] = [*_roc_cols(m), *mon, *day]
        if fmt == "roc_date_compact":
            return _build(cols, n)
        if fmt == "roc_compact_space":
            cols.append(space)
        return _build([*cols, *hh, *mi, *ss], n)
    if fmt in ("iso_space", "slash", "iso_t", "iso_date"):
        sep = slash if fmt == "slash" else dash
        cols = [*year, sep, *mon, sep, *day]
        if fmt == "iso_date":
            return _build(cols, n)
        cols += [84 if fmt == "iso_t" else space, *hh, colon, *mi, colon, *ss]
        if fmt == "iso_t":
            cols += [43, 48, 56, colon, 48, 48]
        return _build(cols, n)
    raise ValueError(f"unknown time format {fmt!r}")


def iso(seconds: int) -> str:
    """Return one local time as ISO 8601 with ``+08:00`` (the answer key's form)."""
    return to_datetime(seconds).isoformat()


def to_datetime(seconds: int) -> dt.datetime:
    """Return one local time as an aware ``datetime`` (+08:00)."""
    return dt.datetime(1970, 1, 1, tzinfo=TZ) + dt.timedelta(seconds=int(seconds))


def naive_datetimes(seconds: np.ndarray) -> list[dt.datetime]:
    """Return naive local ``datetime`` objects (for native Excel cells)."""
    return [d.astype("datetime64[s]").item() for d in np.asarray(seconds, dtype="datetime64[s]")]


def local_seconds(year: int, month: int, day: int = 1, hour: int = 0, minute: int = 0) -> int:
    """Return the local seconds of a wall-clock time."""
    return int(
        (dt.datetime(year, month, day, hour, minute) - dt.datetime(1970, 1, 1)).total_seconds()
    )


def clock(minutes: np.ndarray, *, compact: bool = False) -> np.ndarray:
    """Format minutes of the day as ``HH:MM`` (``24:00`` allowed) or ``HHMM``."""
    minutes = np.asarray(minutes, dtype=np.int64)
    h, mi = minutes // 60, minutes % 60
    cols: list[np.ndarray | int] = [48 + h // 10, 48 + h % 10]
    if not compact:
        cols.append(58)
    cols += [48 + mi // 10, 48 + mi % 10]
    return _build(cols, len(minutes))
