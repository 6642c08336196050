"""Writing one chunk of records.

Query-log exports (with overlaps and bad rows) and the day-to-day records
(roster, register, work log, cases, tickets).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kit.synth import exports
from kit.synth.frames import frame as object_frame
from kit.synth.layout import Layout

if TYPE_CHECKING:
    from kit.synth.lookups import Records
    from kit.synth.planted import Story

EQUIPMENT_SEPARATORS = (";", "；", "、", ",")


def _roc_month(seconds: int) -> str:
    day = np.datetime64(int(seconds), "s").astype("datetime64[M]").astype(int)
    return f"{day // 12 + 1970 - 1911}{day % 12 + 1:02d}"


def write_chunk(
    layout: Layout,
    story: Story,
    month: int,
    roster: pd.DataFrame,
    register: pd.DataFrame,
    records: Records,
) -> tuple[int, int]:
    """Write a chunk's records; return (lookups written once, duplicate rows written).

    Parameters
    ----------
    layout : Layout
        The data folder's files.
    story : Story
        The planted scenarios (records where tagged rows land; plans overlaps).
    month : int
        Month index.
    roster, register : pandas.DataFrame
        The chunk's roster and register rows.
    records : Records
        The chunk's lookups, cases, tickets and work log.

    """
    officers = story.officers
    label = _roc_month(story.bounds[month])
    lookups = records.lookups.sort_values(["time", "user"], kind="stable")
    group = officers["group"].to_numpy()[lookups["officer"].to_numpy()]
    duplicates = 0
    for g in np.unique(group):
        rows = lookups[group == g]
        plan = layout.query_plan(int(g), month)
        if exports.xlsx_query_file(story, int(g), month):
            plan["path"] = "警政日誌/查詢紀錄匯出.xlsx"
        lines = layout.write_lookups(plan, rows)
        story.record_lines(rows, str(plan["path"]), lines)
        exports.bad_rows_for(story, layout, plan, int(g), month, rows)
        for overlap in exports.overlaps(story, int(g), month):
            t = rows["time"].to_numpy()
            inside = rows[(t >= overlap["from"]) & (t < overlap["to"]) & overlap["select"](rows)]
            oplan = dict(plan)
            oplan.update(overlap["plan"])
            layout.write_lookups(oplan, inside)
            duplicates += len(inside)
    _write_roster(layout, story, month, roster, label)
    _write_register(layout, story, register, label)
    worklog = records.worklog
    layout.write_kind(
        "worklog",
        f"工作紀錄簿/工作紀錄簿_{label}.csv",
        worklog,
        encoding="cp950",
        time_fmt="roc_slash_minute",
    )
    exports.bad_worklog(story, layout, f"工作紀錄簿/工作紀錄簿_{label}.csv", month)
    if layout.small:
        layout.write_kind("cases", "案件/受理案件.xlsx", records.cases)
    else:
        layout.write_kind(
            "cases",
            f"案件/案件_{label}.csv",
            records.cases,
            encoding="utf-8-sig",
            time_fmt="roc_dash",
        )
    layout.write_kind(
        "identities", f"調閱/車籍門號帳戶_{label}.csv", records.identities, encoding="utf-8-sig"
    )
    layout.write_kind(
        "tickets", f"舉發/舉發資料_{label}.csv", records.tickets, style="en", time_fmt="slash"
    )
    return len(lookups), duplicates


def _write_roster(
    layout: Layout, story: Story, month: int, roster: pd.DataFrame, label: str
) -> None:
    officers = story.officers
    wide = exports.wide_units(story)
    unit_no = officers["unit_no"].to_numpy()[roster["officer"].to_numpy()]
    is_wide = np.isin(unit_no, wide) if layout.messy else np.zeros(len(roster), dtype=bool)
    long_rows = roster[~is_wide]
    date_fmt = ("roc_date", "iso_date", "roc_date_compact")[month % 3]
    start_min = ((long_rows["start"] - long_rows["day"]) // 60).to_numpy()
    end_min = start_min + ((long_rows["end"] - long_rows["start"]) // 60).to_numpy()
    end_min = np.where(end_min > 1440, end_min - 1440, end_min)
    from kit.synth.timefmt import clock

    compact = layout.messy and month % 3 == 2
    units = officers["unit"].to_numpy()[long_rows["officer"].to_numpy()]
    if layout.messy and month % 2 == 1:
        units = pd.Series(units, dtype=object).str.replace("臺", "台").to_numpy(dtype=object)
    frame = object_frame(
        {
            "date": long_rows["day"].to_numpy(),
            "officer_id": officers["officer_id"].to_numpy()[long_rows["officer"].to_numpy()],
            "unit": units,
            "start": clock(start_min, compact=compact),
            "end": clock(end_min, compact=compact),
            "duty": long_rows["duty"].to_numpy(),
        }
    )
    layout.write_kind(
        "duty_roster",
        f"勤務/勤務分配表_{label}.csv",
        frame,
        encoding="utf-8-sig",
        style="zh" if month % 2 == 0 else "mixed",
        date_fmt=date_fmt,
    )
    if is_wide.any():
        layout.write_wide_roster(
            f"勤務/勤務表_寬式_{label}.csv",
            roster[is_wide],
            officers,
            short=month % 2 == 1,
            date_fmt=date_fmt,
        )


def _write_register(layout: Layout, story: Story, register: pd.DataFrame, label: str) -> None:
    officers = story.officers
    n = len(register)
    rng = np.random.default_rng(len(register) * 7 + story.seed)
    sep = (
        np.array(EQUIPMENT_SEPARATORS, dtype=object)[rng.integers(0, 4, n)] if layout.messy else ";"
    )
    device = register["device"].to_numpy(dtype=object)
    has_device = device != ""
    equipment = np.where(
        has_device, "手槍" + sep + "無線電" + sep + "行動電腦" + device, "手槍" + sep + "無線電"
    )
    frame = object_frame(
        {
            "officer_id": officers["officer_id"].to_numpy()[register["officer"].to_numpy()],
            "out_time": register["out_time"].to_numpy(),
            "in_time": register["in_time"].to_numpy(),
            "reason": register["reason"].to_numpy(),
            "equipment": equipment,
        }
    ).sort_values(["out_time", "officer_id"], kind="stable")
    path = f"登記簿/出入登記簿_{label}.csv"
    layout.write_kind("register", path, frame, time_fmt="roc_slash_minute")
    exports.bad_register(story, layout, path)
