"""Where and how each kind is written: paths, encodings, headers, time formats.

Messy output spreads the query log over files per group (precinct, or unit in
small agencies) and month with varied encodings, headers and time formats,
adds overlapping re-exports, XLSX workbooks, a wide-form roster, bad rows and
an unrecognised table.  Clean output writes one UTF-8 CSV per kind and month.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kit.synth.frames import frame as object_frame
from kit.synth.headers import KIND_COLUMNS, SHORT_SLOTS, SLOTS
from kit.synth.records import LOOKUP_COLUMNS
from kit.synth.timefmt import TIME_FORMATS, format_times
from kit.synth.writer import CsvSink, FileInfo, XlsxSink, frame_for_xlsx, headers_for, render_cells

ENCODINGS = ("utf-8", "utf-8-sig", "cp950")
STYLES = ("zh", "en", "mixed")


class Layout:
    """All the files of one data folder, opened lazily and closed at the end.

    Parameters
    ----------
    root : pathlib.Path
        The data folder.
    messy : bool
        Messy or clean output.
    seed : int
        Dataset seed (varies formats between seeds).
    small : bool
        Small agency: some kinds go to XLSX.

    """

    def __init__(self, root: Path, *, messy: bool, seed: int, small: bool) -> None:
        self.root = root
        self.messy = messy
        self.seed = seed
        self.small = small
        self.csv: dict[str, CsvSink] = {}
        self.xlsx: dict[str, XlsxSink] = {}
        self.files: dict[str, FileInfo] = {}
        self.bad_rows: list[dict[str, str]] = []
        self.labels: list[tuple[int, int]] = []
        """ROC year and month of each month index."""

    # -- sinks ---------------------------------------------------------------
    def csv_sink(
        self,
        path: str,
        kind: str | None,
        columns: list[str],
        *,
        encoding: str = "utf-8",
        style: str = "zh",
        header: list[str] | None = None,
    ) -> CsvSink:
        """Return the CSV sink of a path, creating it with its header on first use."""
        if path not in self.csv:
            if not self.messy:
                encoding, style = "utf-8", "zh"
            info = FileInfo(path, kind, "csv", encoding)
            cells = header if header is not None else headers_for(kind or "", columns, style)
            newline = "\r\n" if encoding == "cp950" else "\n"
            self.csv[path] = CsvSink(self.root, info, cells, newline)
            self.files[path] = info
        return self.csv[path]

    def xlsx_sink(self, path: str) -> XlsxSink:
        """Return the XLSX sink of a path."""
        if path not in self.xlsx:
            info = FileInfo(path, None, "xlsx", None)
            self.xlsx[path] = XlsxSink(self.root, info)
            self.files[path] = info
        return self.xlsx[path]

    def close(self) -> list[dict[str, object]]:
        """Close every file; return the answer-key entries sorted by path."""
        for sink in self.csv.values():
            sink.close()
        for book in self.xlsx.values():
            # A workbook's kind is its first sheet's; ``sheets`` lists every sheet.
            book.info.kind = next(iter(book.info.sheets.values()))
            book.close()
        return [self.files[p].to_key() for p in sorted(self.files)]

    def _pick(self, options: tuple[str, ...], *keys: int) -> str:
        h = (
            self.seed * 2_654_435_761 + sum(k * 40_503 ** (i + 1) for i, k in enumerate(keys))
        ) % 1_000_003
        return options[h % len(options)]

    # -- query log ------------------------------------------------------------
    def query_plan(self, group: int, month: int) -> dict[str, object]:
        """Return path, encoding, header style, time format and columns of a query-log file."""
        columns = list(LOOKUP_COLUMNS)
        if not self.messy:
            return {
                "path": f"query_log/query_log_{group:02d}_{month:02d}.csv",
                "encoding": "utf-8",
                "style": "zh",
                "time_fmt": "iso_space",
                "columns": columns,
                "fold": False,
            }
        if group % 2 == 1:
            columns = list(LOOKUP_COLUMNS[:9])
        encoding = self._pick(ENCODINGS, group, month, 1)
        if group == 0 and month == 0:
            encoding = "cp950"
        variant = (group + month + self.seed) % 4
        roc, mon = self.labels[month] if month < len(self.labels) else (112, month % 12 + 1)
        names = (
            f"export_{31 + group * 7 + month:04d}.csv",
            f"警政日誌/{roc}年{mon:02d}月/查詢紀錄_{group:02d}.csv",
            f"資料/log_{group}_{month}.csv",
            f"新增資料夾/下載 ({group * 10 + month + 3}).csv",
        )
        return {
            "path": names[variant],
            "encoding": encoding,
            "style": STYLES[group % 3],
            "time_fmt": TIME_FORMATS[(group + month * 3 + self.seed) % len(TIME_FORMATS)],
            "columns": columns,
            "fold": group % 2 == 1,
        }

    def write_lookups(self, plan: dict[str, object], lookups: pd.DataFrame) -> list[str]:
        """Write lookups to a query-log file of a plan; return the line of each."""
        columns = list(plan["columns"])  # type: ignore[call-overload]
        frame = lookups
        if plan["fold"]:
            frame = frame.assign(unit=frame["unit"].str.replace("臺", "台"))
        path = str(plan["path"])
        if path.endswith(".xlsx"):
            book = self.xlsx_sink(path)
            if "工作表1" not in book.sheets:
                book.add_sheet(
                    "工作表1", "query_log", headers_for("query_log", columns, str(plan["style"]))
                )
            return book.write("工作表1", frame_for_xlsx(frame, "query_log", columns))
        sink = self.csv_sink(
            path, "query_log", columns, encoding=str(plan["encoding"]), style=str(plan["style"])
        )
        cells = render_cells(frame, "query_log", columns, str(plan["time_fmt"]), "iso_date")
        return sink.write(cells)

    # -- other kinds ----------------------------------------------------------
    def write_kind(
        self,
        kind: str,
        path: str,
        frame: pd.DataFrame,
        *,
        encoding: str = "utf-8",
        style: str = "zh",
        time_fmt: str = "iso_space",
        date_fmt: str = "iso_date",
        columns: list[str] | None = None,
    ) -> list[str]:
        """Write rows of a kind to a CSV path (or XLSX when the path ends so)."""
        cols = columns or [c for c, _, _ in KIND_COLUMNS[kind]]
        path = self.resolve(kind, path)
        if not self.messy:
            time_fmt, date_fmt = "iso_space", "iso_date"
        if path.endswith(".xlsx"):
            book = self.xlsx_sink(path)
            sheet = "工作表1"
            if sheet not in book.sheets:
                book.add_sheet(sheet, kind, headers_for(kind, cols, style))
            return book.write(sheet, frame_for_xlsx(frame, kind, cols))
        sink = self.csv_sink(path, kind, cols, encoding=encoding, style=style)
        cells = render_cells(frame, kind, cols, time_fmt, date_fmt)
        return sink.write(cells, multiline=kind in ("cases", "communications", "worklog"))

    def resolve(self, kind: str, path: str) -> str:
        """Return the path a kind's file really gets (clean output: ``kind/name.csv``)."""
        if self.messy:
            return path
        return f"{kind}/{Path(path).stem}.csv"

    def write_wide_roster(
        self, path: str, roster: pd.DataFrame, officers: pd.DataFrame, *, short: bool, date_fmt: str
    ) -> None:
        """Write roster rows in wide form (one row per officer-day, 2-hour slots)."""
        n_slots = ((roster["end"] - roster["start"]) // 7200).to_numpy()
        rep = np.repeat(np.arange(len(roster)), n_slots)
        first = np.repeat(np.cumsum(n_slots) - n_slots, n_slots)
        slot_time = roster["start"].to_numpy()[rep] + 7200 * (np.arange(len(rep)) - first)
        day = slot_time - slot_time % 86400
        col = (slot_time % 86400) // 7200
        cells = object_frame(
            {
                "officer": roster["officer"].to_numpy()[rep],
                "day": day,
                "col": col,
                "duty": roster["duty"].to_numpy()[rep],
            }
        )
        wide = cells.pivot_table(
            index=["officer", "day"], columns="col", values="duty", aggfunc="first"
        )
        wide = wide.reindex(columns=range(12)).astype(object)
        wide = wide.where(wide.notna(), "").reset_index()
        slot_names = list(SHORT_SLOTS if short else SLOTS)
        out = object_frame(
            {
                "date": format_times(wide["day"].to_numpy(dtype=np.int64), date_fmt),
                "officer_id": officers.loc[wide["officer"].to_numpy(), "officer_id"].to_numpy(),
                "unit": officers.loc[wide["officer"].to_numpy(), "unit"].to_numpy(),
            }
        )
        for i, name in enumerate(slot_names):
            out[name] = wide[i].to_numpy(dtype=object)
        header = ["日期", "員警編號", "單位", *slot_names]
        sink = self.csv_sink(path, "duty_roster", [], encoding="utf-8", header=header)
        sink.write(out)

    def bad_row(self, path: str, line: str, kind: str, reason: str) -> None:
        """Record a deliberately bad row."""
        self.bad_rows.append({"file": path, "line": line, "kind": kind, "reason": reason})
