"""Vectorised joins the rules share: interval cover and windowed pairs.

* :func:`cover` — for each point (officer, time), is there an interval
  [start, end) of the same officer containing it, and which one. It sorts the
  intervals by start, keeps a running maximum of their ends per officer and
  uses one ``merge_asof``: a point is covered exactly when the largest end
  among the intervals started at or before it lies after it.
* :func:`window_pairs` — all pairs (left, right) with the same key and
  ``lo <= t_right - t_left <= hi``, by bucketing time into windows of width
  ``hi - lo`` and joining each left row with two buckets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["cover", "window_pairs"]


def cover(
    by: pd.Series | np.ndarray,
    t: np.ndarray,
    iv_by: pd.Series | np.ndarray,
    iv_start: np.ndarray,
    iv_end: np.ndarray,
    *,
    latest: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Find, for each point, an interval ``[start, end)`` of the same key containing it.

    Parameters
    ----------
    by, t
        Key and time (int64) of each point.
    iv_by, iv_start, iv_end
        Key, start and end (int64) of each interval.
    latest
        Whether the latest interval started before an uncovered point is
        wanted. Without it, only the intervals that overlap the points' span
        are searched (the others can neither cover a point nor be the one
        found for it: same result for every covered point), so a long table
        of intervals is not sorted whole for a few days of points.

    Returns
    -------
    covered : numpy.ndarray
        Boolean per point.
    interval : numpy.ndarray
        Position of a covering interval (``-1`` when none), or, when not
        covered, of the latest interval started before the point (``-1`` when
        none, or when not ``latest``), for evidence.

    """
    n = len(t)
    covered = np.zeros(n, dtype=bool)
    which = np.full(n, -1, dtype=np.int64)
    if n == 0 or len(iv_start) == 0:
        return covered, which
    if not latest:
        instants = np.asarray(t, dtype=np.int64)
        starts = np.asarray(iv_start, dtype=np.int64)
        ends = np.asarray(iv_end, dtype=np.int64)
        near = np.flatnonzero((starts <= instants.max()) & (ends > instants.min()))
        if len(near) < len(starts):
            found, at = cover(by, t, np.asarray(iv_by)[near], starts[near], ends[near])
            which[found] = near[at[found]]
            return found, which
    ivs = pd.DataFrame(
        {
            "by": np.asarray(iv_by),
            "start": np.asarray(iv_start, dtype=np.int64),
            "end": np.asarray(iv_end, dtype=np.int64),
            "iv": np.arange(len(iv_start), dtype=np.int64),
        }
    )
    ivs = ivs.sort_values(["by", "start"], kind="stable")
    ivs["runmax"] = ivs.groupby("by", sort=False)["end"].cummax()
    best = ivs["iv"].where(ivs["end"] == ivs["runmax"])
    ivs["best"] = best.groupby(ivs["by"], sort=False).ffill().astype("int64")
    ivs = ivs.sort_values("start", kind="stable")
    points = pd.DataFrame(
        {"by": np.asarray(by), "t": np.asarray(t, dtype=np.int64), "p": np.arange(n)}
    ).sort_values("t", kind="stable")
    joined = pd.merge_asof(
        points,
        ivs[["by", "start", "runmax", "best", "iv"]],
        left_on="t",
        right_on="start",
        by="by",
        direction="backward",
    )
    found = joined["runmax"].notna().to_numpy()
    p = joined["p"].to_numpy()
    runmax = joined["runmax"].fillna(np.iinfo(np.int64).min).to_numpy(dtype=np.int64)
    inside = found & (runmax > joined["t"].to_numpy())
    covered[p] = inside
    best_iv = joined["best"].fillna(-1).to_numpy(dtype=np.int64)
    last_iv = joined["iv"].fillna(-1).to_numpy(dtype=np.int64)
    which[p] = np.where(inside, best_iv, last_iv)
    return covered, which


def window_pairs(
    left: pd.DataFrame, right: pd.DataFrame, on: list[str], lo: int, hi: int, t: str = "t"
) -> pd.DataFrame:
    """Join rows with equal ``on`` keys whose times satisfy ``lo <= t_r - t_l <= hi``.

    Parameters
    ----------
    left, right
        Frames holding the ``on`` columns and an int64 time column ``t``.
    on
        Key columns.
    lo, hi
        Bounds of ``t_right - t_left`` (inclusive), ``hi > lo``.
    t
        Name of the time column.

    Returns
    -------
    pandas.DataFrame
        The joined rows; left columns keep their names with suffix ``_l``,
        right ones ``_r`` (key columns once).

    """
    width = max(hi - lo, 1)
    lb = (left[t].to_numpy() + lo) // width
    lefts = pd.concat([left.assign(_bucket=lb), left.assign(_bucket=lb + 1)], ignore_index=True)
    rights = right.assign(_bucket=right[t].to_numpy() // width)
    pairs = lefts.merge(rights, on=[*on, "_bucket"], suffixes=("_l", "_r"))
    delta = pairs[t + "_r"].to_numpy() - pairs[t + "_l"].to_numpy()
    keep = (delta >= lo) & (delta <= hi)
    return pairs[keep].drop(columns="_bucket").reset_index(drop=True)
