"""Formatting of times and days in evidence reasons (Taipei local time).

Vectorised through small lookup tables (1,440 clock strings; one date string
per distinct day), so reasons for millions of hits cost little.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["clock", "day_text", "stamp"]

_MINUTE = 60_000_000
_OFFSET = 8 * 60 * _MINUTE
_CLOCKS = np.array([f"{h:02d}:{m:02d}" for h in range(24) for m in range(60)], dtype=object)


def clock(us: np.ndarray) -> pd.Series:
    """Return ``HH:MM`` local clock times of UTC microseconds."""
    minute = ((np.asarray(us, dtype=np.int64) + _OFFSET) // _MINUTE) % 1440
    return pd.Series(_CLOCKS[minute], dtype="str")


def day_text(days: np.ndarray) -> pd.Series:
    """Return ``YYYY-MM-DD`` of day numbers (days since 1970-01-01)."""
    values = np.asarray(days, dtype=np.int64)
    if len(values) == 0:
        return pd.Series([], dtype="str")
    uniq, inverse = np.unique(values, return_inverse=True)
    names = np.asarray(pd.to_datetime(uniq, unit="D").strftime("%Y-%m-%d"), dtype=object)
    return pd.Series(names[inverse], dtype="str")


def stamp(us: np.ndarray) -> pd.Series:
    """Return ``YYYY-MM-DD HH:MM`` local times of UTC microseconds."""
    values = np.asarray(us, dtype=np.int64)
    days = (values + _OFFSET) // (1440 * _MINUTE)
    return day_text(days) + " " + clock(values)
