"""Duty rosters (勤務分配表) and the entry/exit register, generated per chunk.

Shifts follow day templates made of two-hour blocks, so the same roster can be
written in long form (one row per shift) and in wide form (``00-02`` ...
``22-24`` slot columns).  One template runs 22:00-02:00 across midnight and
one ends at ``24:00``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kit.synth.frames import frame as object_frame

H = 60  # minutes per hour

TEMPLATES: dict[str, tuple[tuple[int, int, str], ...]] = {
    "day": (
        (8 * H, 10 * H, "值班"),
        (10 * H, 12 * H, "巡邏"),
        (12 * H, 14 * H, "備勤"),
        (14 * H, 16 * H, "臨檢"),
        (16 * H, 18 * H, "勤區查察"),
    ),
    "late": (
        (12 * H, 14 * H, "巡邏"),
        (14 * H, 16 * H, "值班"),
        (16 * H, 18 * H, "交通整理"),
        (18 * H, 20 * H, "備勤"),
        (20 * H, 22 * H, "巡邏"),
    ),
    "evening": (
        (16 * H, 18 * H, "值班"),
        (18 * H, 20 * H, "巡邏"),
        (20 * H, 22 * H, "臨檢"),
        (22 * H, 24 * H, "值班"),
    ),
    "night": ((18 * H, 20 * H, "值班"), (20 * H, 22 * H, "巡邏"), (22 * H, 26 * H, "臨檢")),
    "morning": (
        (6 * H, 8 * H, "交通整理"),
        (8 * H, 10 * H, "巡邏"),
        (10 * H, 12 * H, "值班"),
        (12 * H, 14 * H, "守望"),
    ),
    "project": ((10 * H, 12 * H, "備勤"), (12 * H, 16 * H, "專案勤務"), (16 * H, 18 * H, "值班")),
    "office": ((8 * H, 12 * H, "內勤"), (14 * H, 18 * H, "值班")),
    "detective": ((8 * H, 12 * H, "刑案偵查"), (14 * H, 18 * H, "刑案偵查")),
    "detective_late": (
        (10 * H, 14 * H, "刑案偵查"),
        (14 * H, 16 * H, "值班"),
        (16 * H, 20 * H, "刑案偵查"),
    ),
    "detective_night": ((18 * H, 22 * H, "刑案偵查"), (22 * H, 24 * H, "值班")),
}
"""On-duty day templates: (start minute, end minute, duty) blocks."""

TEMPLATE_NAMES = tuple(TEMPLATES)
STATION_WEIGHTS = np.array([0.28, 0.2, 0.14, 0.1, 0.14, 0.08, 0.06, 0, 0, 0])
CHIEF_WEIGHTS = np.array([0.25, 0, 0, 0, 0, 0.05, 0.7, 0, 0, 0])
DETECTIVE_WEIGHTS = np.array([0, 0, 0, 0, 0, 0, 0, 0.5, 0.3, 0.2])
OFF_WORDS = np.array(["輪休", "休假", "補休", "公假", "病假"], dtype=object)
OFF_P = np.array([0.6, 0.25, 0.1, 0.03, 0.02])
FIELD_DUTIES = frozenset({"巡邏", "臨檢", "交通整理", "守望", "勤區查察"})
"""Duties done outside the station, with a handheld device signed out."""

_SEG = [(t, s, e, d) for t, name in enumerate(TEMPLATE_NAMES) for s, e, d in TEMPLATES[name]]
SEG_TEMPLATE = np.array([x[0] for x in _SEG])
SEG_START = np.array([x[1] for x in _SEG], dtype=np.int64)
SEG_END = np.array([x[2] for x in _SEG], dtype=np.int64)
SEG_DUTY = np.array([x[3] for x in _SEG], dtype=object)
TEMPLATE_FIRST = np.searchsorted(SEG_TEMPLATE, np.arange(len(TEMPLATE_NAMES)))
TEMPLATE_COUNT = np.bincount(SEG_TEMPLATE, minlength=len(TEMPLATE_NAMES))


def make_roster(
    rng: np.random.Generator,
    officers: pd.DataFrame,
    day_starts: np.ndarray,
) -> pd.DataFrame:
    """Return the long-form roster of some officers over some days.

    Parameters
    ----------
    rng : numpy.random.Generator
        Randomness of this chunk.
    officers : pandas.DataFrame
        Rows of :attr:`Agency.officers` (index = officer number), with a
        ``kind`` column (``station``/``detective``).
    day_starts : numpy.ndarray
        Local seconds of each day's midnight.

    Returns
    -------
    pandas.DataFrame
        ``officer`` (number), ``day`` (midnight), ``start``/``end`` (local
        seconds, ``end`` exclusive), ``duty``, ``on_duty``.

    """
    n_off, n_days = len(officers), len(day_starts)
    officer = np.repeat(officers.index.to_numpy(), n_days)
    day = np.tile(day_starts, n_off)
    title = np.repeat(officers["title"].to_numpy(), n_days)
    kind = np.repeat(officers["kind"].to_numpy(), n_days)
    end_date = np.repeat(officers["end_date"].to_numpy(), n_days)
    start_date = np.repeat(officers["start_date"].to_numpy(), n_days)
    serving = ((end_date < 0) | (day <= end_date)) & (day >= start_date)
    on = rng.random(len(day)) < 0.75
    weights = np.where(
        (kind == "detective")[:, None],
        DETECTIVE_WEIGHTS,
        np.where(np.isin(title, ["所長", "副所長"])[:, None], CHIEF_WEIGHTS, STATION_WEIGHTS),
    )
    cum = np.cumsum(weights, axis=1)
    template = (rng.random(len(day))[:, None] * cum[:, -1:] > cum).sum(axis=1)
    # A night shift is followed by a day off, so shifts never overlap, and is
    # never worked on the last day of a chunk (the next day is another chunk's)
    # nor on an officer's last day of service.
    night = TEMPLATE_NAMES.index("night")
    last_day = (day == day_starts[-1]) | ((end_date >= 0) & (day >= end_date))
    template = np.where((template == night) & last_day, TEMPLATE_NAMES.index("evening"), template)
    prev_night = np.zeros(len(day), dtype=bool)
    prev_night[1:] = (template[:-1] == night) & on[:-1] & (officer[1:] == officer[:-1])
    on &= ~prev_night
    keep_on = serving & on
    # On-duty rows: one per template block.
    t_on = template[keep_on]
    count = TEMPLATE_COUNT[t_on]
    seg = np.repeat(TEMPLATE_FIRST[t_on], count) + _ranks(count)
    rows_on = object_frame(
        {
            "officer": np.repeat(officer[keep_on], count),
            "day": np.repeat(day[keep_on], count),
            "start": np.repeat(day[keep_on], count) + SEG_START[seg] * 60,
            "end": np.repeat(day[keep_on], count) + SEG_END[seg] * 60,
            "duty": SEG_DUTY[seg],
            "on_duty": True,
        }
    )
    keep_off = serving & ~on
    off_word = OFF_WORDS[(rng.random(int(keep_off.sum()))[:, None] > np.cumsum(OFF_P)).sum(axis=1)]
    rows_off = object_frame(
        {
            "officer": officer[keep_off],
            "day": day[keep_off],
            "start": day[keep_off] + 8 * 3600,
            "end": day[keep_off] + 18 * 3600,
            "duty": off_word,
            "on_duty": False,
        }
    )
    roster = pd.concat([rows_on, rows_off], ignore_index=True)
    return roster.sort_values(["officer", "start"], kind="stable").reset_index(drop=True)


def _ranks(count: np.ndarray) -> np.ndarray:
    """Return 0..k-1 for each group of size k, concatenated."""
    total = int(count.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(count) - count, count)
    return np.arange(total) - starts


def make_register(
    rng: np.random.Generator, roster: pd.DataFrame, officers: pd.DataFrame
) -> pd.DataFrame:
    """Return entry/exit register rows for every field shift.

    The officer signs out a few minutes after the shift starts and back in a
    few minutes before it ends, with a handgun, a radio and the handheld.

    Returns
    -------
    pandas.DataFrame
        ``officer``, ``out_time``, ``in_time`` (whole minutes), ``reason``,
        ``device``, ``sep`` (the list separator used in the equipment cell).

    """
    field = roster[roster["on_duty"] & roster["duty"].isin(FIELD_DUTIES)]
    n = len(field)
    out_time = field["start"].to_numpy() + 60 * rng.integers(0, 9, n)
    in_time = field["end"].to_numpy() - 60 * rng.integers(0, 9, n)
    return object_frame(
        {
            "officer": field["officer"].to_numpy(),
            "out_time": out_time,
            "in_time": in_time,
            "reason": field["duty"].to_numpy(),
            "device": officers.loc[field["officer"].to_numpy(), "device"].to_numpy(),
        }
    )
