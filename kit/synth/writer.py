"""Small file writers: CSV in UTF-8, UTF-8 with BOM or cp950, and XLSX.

Each sink knows the physical line of every row it writes (records spanning
several lines are counted), so the answer key can point at file and line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kit.synth.frames import frame as object_frame
from kit.synth.headers import KIND_COLUMNS, header_names
from kit.synth.timefmt import format_times, naive_datetimes

UNDECODABLE = "\ue000"
"""Stand-in character, written as the user-defined cp950 code 0xFA40 (a 造字 character)."""
XLSX_EPOCH = dt.datetime(2023, 1, 2, 9, 0, 0)
"""Fixed created/modified time of every workbook (byte-identical output)."""


@dataclass
class FileInfo:
    """What the answer key says about one written file."""

    path: str
    kind: str | None
    format: str
    encoding: str | None
    data_rows: int = 0
    sheets: dict[str, str] = field(default_factory=dict)

    def to_key(self) -> dict[str, object]:
        """Return the answer-key entry."""
        entry: dict[str, object] = {
            "path": self.path,
            "kind": self.kind,
            "format": self.format,
            "encoding": self.encoding,
            "data_rows": self.data_rows,
        }
        if self.format == "xlsx":
            entry["sheets"] = dict(self.sheets)
        return entry


def render_cells(
    frame: pd.DataFrame, kind: str, columns: list[str], time_fmt: str, date_fmt: str
) -> pd.DataFrame:
    """Turn internal values (times as local seconds) into the text of the cells."""
    types = {c: t for c, _, t in KIND_COLUMNS[kind]}
    out = {}
    for col in columns:
        kind_of = types.get(col, "text")
        values = frame[col].to_numpy() if kind_of in ("time", "date") else np.zeros(0)
        if kind_of in ("time", "date") and values.dtype.kind in "iu":
            fmt = time_fmt if kind_of == "time" else date_fmt
            text = np.full(len(values), "", dtype=object)
            ok = values >= 0
            if ok.any():
                text[ok] = format_times(values[ok], fmt)
            out[col] = text
        else:
            out[col] = frame[col].to_numpy()
    return object_frame(out)


def _csv_text(cells: pd.DataFrame, newline: str) -> str:
    """Render rows as CSV text, quoting only cells that need it.

    Arrow's writer is used when no cell needs quoting (the usual case); other
    chunks go through pandas, which quotes minimally.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    arrays = [
        pa.array(cells[c].to_numpy(dtype=object), type=pa.string(), from_pandas=True)
        for c in cells.columns
    ]
    special = any(
        pc.any(pc.match_substring_regex(a, r'[,"\r\n]')).as_py() for a in arrays if len(a)
    )
    if special:
        buffer = io.StringIO()
        cells.to_csv(buffer, header=False, index=False, lineterminator=newline)
        return buffer.getvalue()
    table = pa.Table.from_arrays(arrays, names=[str(c) for c in cells.columns])
    sink = pa.BufferOutputStream()
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    pacsv.write_csv(table, sink, write_options=options)
    text = sink.getvalue().to_pybytes().decode("utf-8")
    return text if newline == "\n" else text.replace("\n", newline)


class CsvSink:
    """A CSV file written in chunks.

    Parameters
    ----------
    root : pathlib.Path
        The data folder.
    info : FileInfo
        Path, kind and encoding (``utf-8``, ``utf-8-sig`` or ``cp950``).
    header : list of str
        Header cells.
    newline : str
        Line terminator.

    """

    def __init__(self, root: Path, info: FileInfo, header: list[str], newline: str = "\n") -> None:
        self.info = info
        self.newline = newline
        self.next_line = 2
        self.path = root / info.path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The file is reopened for each write: hundreds of exports can be in
        # progress at once without holding a descriptor each.
        self.path.write_bytes(b"\xef\xbb\xbf" if info.encoding == "utf-8-sig" else b"")
        self._write_text(self._csv_line(header))

    def _csv_line(self, cells: list[str]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=self.newline).writerow(cells)
        return buffer.getvalue()

    def _write_text(self, text: str) -> None:
        encoding = "cp950" if self.info.encoding == "cp950" else "utf-8"
        if UNDECODABLE in text:
            data = b"\xfa\x40".join(p.encode(encoding) for p in text.split(UNDECODABLE))
        else:
            data = text.encode(encoding)
        with self.path.open("ab") as handle:
            handle.write(data)

    def write(self, cells: pd.DataFrame, *, multiline: bool = False) -> list[str]:
        """Write rows of cell text; return the physical line of each row.

        ``multiline`` says cells may hold line breaks (then counted per row).
        """
        n = len(cells)
        if n == 0:
            return []
        text = _csv_text(cells, self.newline)
        extra = np.zeros(n, dtype=np.int64)
        for col in cells.columns if multiline else ():
            extra += cells[col].astype(str).str.count("\n").to_numpy()
        lines = self.next_line + np.arange(n) + np.cumsum(extra) - extra
        self.next_line = int(lines[-1] + extra[-1] + 1)
        self._write_text(text)
        self.info.data_rows += n
        return [str(x) for x in lines]

    def write_raw(self, line: str) -> str:
        """Write one raw line (a deliberately bad row); return its line number."""
        self._write_text(line + self.newline)
        number = self.next_line
        self.next_line += 1
        self.info.data_rows += 1
        return str(number)

    def close(self) -> None:
        """Finish the file (nothing is held open between writes)."""


class XlsxSink:
    """An XLSX workbook written at close; one or more sheets, each of one kind.

    Times given as local seconds become native Excel datetimes.
    """

    def __init__(self, root: Path, info: FileInfo) -> None:
        self.root = root
        self.info = info
        self.sheets: dict[str, tuple[str, list[str], list[pd.DataFrame]]] = {}

    def add_sheet(self, sheet: str, kind: str, header: list[str]) -> None:
        """Declare a sheet of a kind with its header cells."""
        self.sheets[sheet] = (kind, header, [])
        self.info.sheets[sheet] = kind

    def write(self, sheet: str, cells: pd.DataFrame) -> list[str]:
        """Append rows (text cells, or int64 local seconds for native datetimes)."""
        _kind, _header, frames = self.sheets[sheet]
        first = 2 + sum(len(f) for f in frames)
        frames.append(cells)
        self.info.data_rows += len(cells)
        return [f"{sheet}!{first + i}" for i in range(len(cells))]

    def close(self) -> None:
        """Write the workbook with fixed document times."""
        import xlsxwriter

        path = self.root / self.info.path
        path.parent.mkdir(parents=True, exist_ok=True)
        book = xlsxwriter.Workbook(
            str(path), {"constant_memory": True, "strings_to_numbers": False}
        )
        book.set_properties({"created": XLSX_EPOCH, "author": "export"})
        stamp = book.add_format({"num_format": "yyyy/mm/dd hh:mm:ss"})
        for sheet, (_kind, header, frames) in self.sheets.items():
            ws = book.add_worksheet(sheet)
            for c, name in enumerate(header):
                ws.write_string(0, c, name)
            row = 1
            for frame in frames:
                columns = [frame[c].to_numpy() for c in frame.columns]
                converted = [
                    naive_datetimes(col) if col.dtype.kind in "iu" else col.tolist()
                    for col in columns
                ]
                for r in range(len(frame)):
                    for c, col in enumerate(converted):
                        value = col[r]
                        if isinstance(value, dt.datetime):
                            ws.write_datetime(row, c, value, stamp)
                        elif (
                            value is None
                            or value == ""
                            or (isinstance(value, float) and np.isnan(value))
                        ):
                            continue
                        else:
                            ws.write_string(row, c, str(value))
                    row += 1
        book.close()


def frame_for_xlsx(frame: pd.DataFrame, kind: str, columns: list[str]) -> pd.DataFrame:
    """Keep times as local seconds (native datetimes), missing times as empty text."""
    types = {c: t for c, _, t in KIND_COLUMNS[kind]}
    out = {}
    for col in columns:
        values = frame[col].to_numpy()
        if types.get(col) == "time" and values.dtype.kind in "iu" and (values >= 0).all():
            out[col] = values.astype(np.int64)
        elif types.get(col) == "time" and values.dtype.kind in "iu":
            text = np.full(len(values), "", dtype=object)
            ok = values >= 0
            text[ok] = format_times(values[ok], "iso_space")
            out[col] = text
        else:
            out[col] = frame[col].to_numpy()
    return object_frame(out)


def headers_for(kind: str, columns: list[str], style: str) -> list[str]:
    """Return header cells (see :func:`kit.synth.headers.header_names`)."""
    return header_names(kind, columns, style)
