"""The tables written once.

Officers, units, relations, vehicles, watch list, operations, identities,
seized communications, and the unrecognised table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kit.synth.layout import Layout

if TYPE_CHECKING:
    from kit.synth.planted import Story


def _roc_dates(seconds: np.ndarray) -> np.ndarray:
    """ROC dates with 2- or 3-digit years (``99/01/01``, ``112/10/05``); small tables only."""
    days = np.asarray(seconds, dtype="datetime64[s]").astype("datetime64[D]")
    out = []
    for value, day in zip(np.asarray(seconds), days, strict=True):
        if value < 0:
            out.append("")
            continue
        y, m, d = (int(x) for x in str(day).split("-"))
        out.append(f"{y - 1911}/{m:02d}/{d:02d}")
    return np.array(out, dtype=object)


def write_statics(layout: Layout, story: Story, officers: pd.DataFrame) -> None:
    """Write every table that is not per month."""
    messy = layout.messy
    ends = officers["end_date"].to_numpy().copy()
    for officer, end in story.end_override.items():
        ends[officer] = end
    phones = officers["phone"].to_numpy(dtype=object)
    second = officers["phone2"].to_numpy(dtype=object)
    phone = np.where(second != "", phones + ";" + second, phones)
    frame = pd.DataFrame(
        {
            "officer_id": officers["officer_id"].to_numpy(),
            "name": officers["name"].to_numpy(),
            "person_id": officers["person_id"].to_numpy(),
            "unit": officers["unit"].to_numpy(),
            "title": officers["title"].to_numpy(),
            "phone": phone,
            "start_date": officers["start_date"].to_numpy(),
            "end_date": ends,
        }
    )
    if messy:
        frame["start_date"] = _roc_dates(frame["start_date"].to_numpy())
        frame["end_date"] = _roc_dates(frame["end_date"].to_numpy())
    layout.write_kind("officers", "人事/員警名冊.csv", frame, encoding="cp950")
    units = story.agency.units
    precincts = units.drop_duplicates("parent")
    unit_rows = pd.concat(
        [
            units[["unit", "parent", "level"]],
            pd.DataFrame(
                {
                    "unit": precincts["parent"].to_numpy(),
                    "parent": "臺中市政府警察局",
                    "level": "分局",
                }
            ),
        ],
        ignore_index=True,
    )
    layout.write_kind("units", "單位.csv", unit_rows, encoding="utf-8-sig")
    relations = pd.concat([story.agency.relations, story.extra_relations()], ignore_index=True)
    layout.write_kind(
        "relations", "人事/員警關係人.csv", relations, encoding="cp950", style="mixed"
    )
    vehicles, watchlist = story.agency.vehicles, story.watchlist()
    if messy:
        layout.write_kind("police_vehicles", "新增資料夾/下載 (2).xlsx", vehicles)
        book = layout.xlsx_sink("新增資料夾/下載 (2).xlsx")
        from kit.synth.writer import frame_for_xlsx, headers_for

        cols = ["identifier", "category", "note"]
        book.add_sheet("工作表2", "watchlist", headers_for("watchlist", cols, "zh"))
        book.write("工作表2", frame_for_xlsx(watchlist, "watchlist", cols))
    else:
        layout.write_kind("police_vehicles", "police_vehicles.csv", vehicles)
        layout.write_kind("watchlist", "watchlist.csv", watchlist)
    layout.write_kind("operations", "專案/專案行動.csv", story.operations(), time_fmt="roc_dash")
    layout.write_kind("identities", "調閱/身分對照.csv", story.identities(), style="en")
    comms = story.communications()
    for officer_id, rows in comms.groupby("officer_id", sort=True):
        encoding = "cp950" if rows["cp950"].iloc[0] else "utf-8-sig"
        path = f"扣押手機/{officer_id}_通訊紀錄.csv"
        lines = layout.write_kind("communications", path, rows, encoding=encoding, time_fmt="iso_t")
        story.record_comm_lines(rows, layout.resolve("communications", path), lines)
    if messy:
        junk = pd.DataFrame(
            {
                "序號": ["1", "2", "3"],
                "檔名": ["log_a.csv", "log_b.csv", "log_c.csv"],
                "匯出人員": ["資訊室", "資訊室", "資訊室"],
                "備註": ["", "重新匯出", ""],
            }
        )
        sink = layout.csv_sink("export_0007.csv", None, [], header=list(junk.columns))
        sink.write(junk)
