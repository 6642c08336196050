"""Messy export decisions that depend on the story: wide rosters, XLSX, re-exports, bad rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from kit.synth.planted import Story


def wide_units(story: Story) -> np.ndarray:
    """Units whose roster is written in wide form."""
    n = len(story.agency.units)
    return np.array([u for u in range(n) if u % 4 == 1])


def xlsx_query_file(story: Story, group: int, month: int) -> bool:
    """Whether a query-log file is written as XLSX (one, in small messy agencies)."""
    groups = int(story.officers["group"].max()) + 1
    small = len(story.officers) <= 201
    return (
        story.messy and small and groups > 1 and group == groups - 1 and month == story.months - 1
    )


def overlaps(story: Story, group: int, month: int) -> list[dict[str, Any]]:
    """Re-exports overlapping the main query-log files (messy only, group 0)."""
    if not story.messy or group != 0:
        return []
    b = story.bounds
    day = 86400
    first = (
        (b[1] - 3 * day, b[1] + 3 * day)
        if story.months >= 2
        else (b[0] + 20 * day, b[0] + 23 * day)
    )
    unit0 = story.officers["unit_no"].to_numpy()

    def everyone(rows: pd.DataFrame) -> np.ndarray:
        return np.ones(len(rows), dtype=bool)

    def unit_zero(rows: pd.DataFrame) -> np.ndarray:
        return unit0[rows["officer"].to_numpy()] == 0

    out = []
    if month in (story.month_of(first[0]), story.month_of(first[1] - 1)):
        out.append(
            {
                "from": first[0],
                "to": first[1],
                "select": everyone,
                "plan": {"path": "重新匯出/export_0099.csv", "encoding": "utf-8-sig"},
            }
        )
    if month == 0:
        out.append(
            {
                "from": b[0] + 9 * day,
                "to": b[0] + 11 * day,
                "select": unit_zero,
                "plan": {"path": "重新匯出/日誌補匯出.xlsx"},
            }
        )
    return out


def bad_rows_for(
    story: Story, layout: Any, plan: dict[str, Any], group: int, month: int, rows: pd.DataFrame
) -> None:
    """Append deliberately bad rows to some query-log files (messy only)."""
    from kit.synth.badrows import query_bad_rows

    query_bad_rows(story, layout, plan, group, month, rows)


def bad_worklog(story: Story, layout: Any, path: str, month: int) -> None:
    """Write a work-log row with an empty required field (messy, first month)."""
    from kit.synth.badrows import worklog_bad_row

    worklog_bad_row(story, layout, path, month)


def bad_register(story: Story, layout: Any, path: str) -> None:
    """Write a register row with an unreadable time (messy, first file)."""
    from kit.synth.badrows import register_bad_row

    register_bad_row(story, layout, path)
