"""Deliberately bad rows (messy output only), recorded for the answer key.

They are extra rows, never real records: a rejected row removes nothing the
other records rely on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kit.synth import idgen
from kit.synth.writer import render_cells

if TYPE_CHECKING:
    from kit.synth.layout import Layout
    from kit.synth.planted import Story


def _row_text(cells: pd.DataFrame) -> list[str]:
    return [str(x) for x in cells.iloc[0].tolist()]


def query_bad_rows(
    s: Story, layout: Layout, plan: dict[str, Any], group: int, month: int, rows: pd.DataFrame
) -> None:
    """After the first chunk of some files, write a row of each bad kind."""
    path = str(plan["path"])
    if not s.messy or group != 0 or path.endswith(".xlsx") or rows.empty:
        return
    if (path, month) in s.done:
        return
    s.done.add((path, month))
    reasons = {0: ["column_count", "missing_required"], min(1, s.months - 1): ["bad_time"]}.get(
        month, []
    )
    if month == 0 and s.months == 1:
        reasons = ["column_count", "missing_required", "bad_time"]
    sink = layout.csv[path]
    columns = list(plan["columns"])
    for i, reason in enumerate(reasons):
        template = rows.iloc[[len(rows) // (i + 2)]].copy()
        person = str(
            idgen.person_ids(np.array([3_000_000 + month * 10 + i]), salt=s.agency.salt)[0]
        )
        plate = str(idgen.plates(np.array([3_000_000 + month * 10 + i]), salt=s.agency.salt)[0])
        template["conditions"] = f"身分證號={person}"
        if plan["fold"]:
            template["unit"] = template["unit"].str.replace("臺", "台")
        cells = _row_text(
            render_cells(template, "query_log", columns, str(plan["time_fmt"]), "iso_date")
        )
        if reason == "column_count":
            cells[columns.index("conditions")] = f"身分證號={person},車號:{plate}"
        elif reason == "bad_time":
            cells[columns.index("time")] = "112/02/30 25:61:07"
        else:
            cells[columns.index("user")] = ""
        line = sink.write_raw(",".join(cells))
        layout.bad_row(path, line, "query_log", reason)


def worklog_bad_row(s: Story, layout: Layout, path: str, month: int) -> None:
    """Write a work-log row whose content is empty."""
    if not s.messy or month != 0 or ("worklog", 0) in s.done or path not in layout.csv:
        return
    s.done.add(("worklog", 0))
    officer = s.oid(s.pool[0])
    line = layout.csv[path].write_raw(
        f"112/{(s.bounds[0] // 86400) % 28 + 1:02d}/01 09:00,{officer},,"
    )
    layout.bad_row(path, line, "worklog", "missing_required")


def register_bad_row(s: Story, layout: Layout, path: str) -> None:
    """Write a register row whose sign-out time cannot be read."""
    if not s.messy or ("register", 0) in s.done or path not in layout.csv:
        return
    s.done.add(("register", 0))
    line = layout.csv[path].write_raw(f"{s.oid(s.pool[0])},下午三點,112/08/01 17:00,巡邏,手槍")
    layout.bad_row(path, line, "register", "bad_time")
