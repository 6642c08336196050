"""Formatting of times and days in evidence reasons (Taipei local time)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kit.schema import TIMEZONE

__all__ = ["clock", "day_text", "stamp"]


def _local(us: np.ndarray) -> pd.DatetimeIndex:
    return pd.to_datetime(np.asarray(us, dtype=np.int64), unit="us", utc=True).tz_convert(TIMEZONE)


def clock(us: np.ndarray) -> pd.Series:
    """Return ``HH:MM`` local clock times of UTC microseconds."""
    return pd.Series(_local(us).strftime("%H:%M"), dtype="str")


def stamp(us: np.ndarray) -> pd.Series:
    """Return ``YYYY-MM-DD HH:MM`` local times of UTC microseconds."""
    return pd.Series(_local(us).strftime("%Y-%m-%d %H:%M"), dtype="str")


def day_text(days: np.ndarray) -> pd.Series:
    """Return ``YYYY-MM-DD`` of day numbers (days since 1970-01-01)."""
    values = pd.to_datetime(np.asarray(days, dtype="int64"), unit="D")
    return pd.Series(values.strftime("%Y-%m-%d"), dtype="str")
