r"""Reading files into raw tables: encoding detection, CSV and XLSX parsing, line numbers.

Encodings: a UTF-8 BOM gives ``utf-8-sig``; text that decodes as strict
UTF-8 is ``utf-8``; anything else is ``cp950`` (Big5 with the ETen
extensions), where bytes undecodable even in cp950 (user-defined 造字 codes)
are escaped as ``\\xNN`` and their lines reported, never dropping the row.

CSV files are parsed by Arrow's C++ reader on the decoded text; only rows with
the wrong number of fields reach Python (its invalid-row handler). Physical
line numbers come from the positions of the newlines (numpy), or, for files
whose quoted fields hold newlines, from Python's csv module.

XLSX files are read with openpyxl (read-only), every sheet; native cell values
are kept (datetimes, dates, times), numbers become text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

__all__ = ["BadRow", "Decoded", "Table", "decode", "read_csv", "read_xlsx"]

_CHUNK_LINES = 4096


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be read (wrong number of fields)."""

    line: str
    reason: str
    raw: str


@dataclass(frozen=True)
class Table:
    """One table of a file, cells as read (text, or native XLSX values)."""

    sheet: str | None
    header: list[str]
    cells: pd.DataFrame
    """Columns by header position (0, 1, …); one row per well-formed record."""
    lines: np.ndarray
    """``source_line`` of each row of ``cells``, as text."""
    bad_rows: list[BadRow] = field(default_factory=list)
    escaped_lines: list[tuple[str, str]] = field(default_factory=list)
    """(line, text) of the records where undecodable bytes were escaped."""

    @property
    def rows_read(self) -> int:
        """Records read (well-formed and bad)."""
        return len(self.cells) + len(self.bad_rows)


@dataclass(frozen=True)
class Decoded:
    """A decoded CSV file."""

    text: str
    encoding: str
    escaped_offsets: list[int]
    """Byte offsets (in the original bytes) of lines holding escaped bytes."""


def _is_utf8(data: bytes) -> bool:
    """Whether ``data`` is valid UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode(data: bytes) -> Decoded:
    """Decode a CSV file's bytes (see the module docstring for the rules)."""
    if data.startswith(b"\xef\xbb\xbf"):
        if _is_utf8(data[3:]):
            return Decoded(data[3:].decode("utf-8"), "utf-8-sig", [])
        return _decode_escaping(data[3:], "utf-8", "utf-8-sig")
    if _is_utf8(data):
        return Decoded(data.decode("utf-8"), "utf-8", [])
    try:
        return Decoded(data.decode("cp950"), "cp950", [])
    except UnicodeDecodeError:
        return _decode_escaping(data, "cp950", "cp950")


def _decode_escaping(data: bytes, codec: str, name: str) -> Decoded:
    """Decode with escapes, finding the lines that needed them chunk by chunk."""
    offsets: list[int] = []
    lines = data.split(b"\n")
    starts = np.concatenate([[0], np.cumsum([len(x) + 1 for x in lines])[:-1]])
    for a in range(0, len(lines), _CHUNK_LINES):
        chunk = lines[a : a + _CHUNK_LINES]
        try:
            b"\n".join(chunk).decode(codec)
        except UnicodeDecodeError:
            for i, line in enumerate(chunk):
                try:
                    line.decode(codec)
                except UnicodeDecodeError:
                    offsets.append(int(starts[a + i]))
    return Decoded(data.decode(codec, errors="backslashreplace"), name, offsets)


def _record_lines(buf: bytes, records: int) -> np.ndarray | None:
    """1-based start line of each record when no record spans lines, else ``None``."""
    if not buf.startswith((b"\n", b"\r\n")) and b"\n\n" not in buf and b"\n\r\n" not in buf:
        lines = buf.count(b"\n") + (0 if buf.endswith(b"\n") else 1)
        if lines == records:
            return np.arange(1, records + 1)
    _, nonempty = _line_starts(buf)
    numbers = np.flatnonzero(nonempty) + 1
    return numbers if len(numbers) == records else None


def _line_starts(buf: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Return (start offset, non-empty?) of every physical line of ``buf``."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    newlines = np.flatnonzero(arr == 10)
    starts = np.concatenate([[0], newlines + 1])
    ends = np.concatenate([newlines, [len(arr)]])
    length = ends - starts
    cr_only = (length == 1) & (arr[np.minimum(starts, max(len(arr) - 1, 0))] == 13)
    nonempty = (length > 0) & ~cr_only
    return starts, nonempty


def _record_lines_csv_module(text: str) -> list[int]:
    """1-based physical start line of every non-blank record (header included)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    lines: list[int] = []
    previous_end = 0
    for record in reader:
        start = previous_end + 1
        previous_end = reader.line_num
        if record:
            lines.append(start)
    return lines


def read_csv(data: bytes) -> tuple[Table, str]:
    """Parse a CSV file.

    Parameters
    ----------
    data
        The file's bytes.

    Returns
    -------
    table : Table
        Header, cells as text, source lines, bad rows, escaped lines.
    encoding : str
        ``utf-8``, ``utf-8-sig`` or ``cp950``.

    """
    bom = data.startswith(b"\xef\xbb\xbf")
    if _is_utf8(data[3:] if bom else data):
        # Valid UTF-8: Arrow parses the bytes as they are; no Python str of the file.
        buf = data[3:] if bom else data
        decoded = Decoded("", "utf-8-sig" if bom else "utf-8", [])
        head = buf[: 1 << 16].decode("utf-8", errors="ignore")
    else:
        decoded = decode(data)
        buf = decoded.text.encode("utf-8")
        head = decoded.text[: 1 << 16]
    first = next(csv.reader(io.StringIO(head, newline="")), [])
    header = [str(h) for h in first]
    names = [f"c{i}" for i in range(len(header))]
    bad: list[tuple[int, str, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append((int(row.number or -1), row.text, row.actual_columns))
        return "skip"

    if not header:
        return Table(None, [], pd.DataFrame(), np.array([], dtype=object)), decoded.encoding
    quoted_newlines = b'"' in buf

    def parse(threads: bool) -> pa.Table:
        bad.clear()
        return pacsv.read_csv(
            io.BytesIO(buf),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=threads),
            parse_options=pacsv.ParseOptions(
                invalid_row_handler=on_invalid, newlines_in_values=quoted_newlines
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    table = parse(threads=True)
    if any(b[0] < 0 for b in bad):
        # Arrow numbers invalid rows only when parsing on one thread.
        table = parse(threads=False)
    n_valid, n_bad = table.num_rows, len(bad)
    record_lines = _record_lines(buf, 1 + n_valid + n_bad)
    if record_lines is None:
        record_lines = np.array(_record_lines_csv_module(buf.decode("utf-8")))
    bad_numbers = np.array(sorted(b[0] for b in bad), dtype=np.int64)
    all_numbers = np.arange(2, 2 + n_valid + n_bad)
    valid_numbers = np.setdiff1d(all_numbers, bad_numbers, assume_unique=True)
    lines = pc.cast(pa.array(record_lines[valid_numbers - 1]), pa.string())
    bad_rows = [
        BadRow(
            str(record_lines[number - 1]) if 0 < number <= len(record_lines) else "",
            f"wrong column count: {actual} field(s), the header has {len(header)}",
            raw,
        )
        for number, raw, actual in sorted(bad)
    ]
    escaped: list[tuple[str, str]] = []
    if decoded.escaped_offsets:
        raw_starts, _ = _line_starts(data)
        physical = np.searchsorted(raw_starts, decoded.escaped_offsets) + 1
        starts = record_lines[np.searchsorted(record_lines, physical, side="right") - 1]
        text_lines = decoded.text.split("\n")
        escaped = [(str(int(line)), text_lines[int(line) - 1].rstrip("\r")) for line in starts]
    cells = table.combine_chunks().to_pandas(types_mapper=pd.ArrowDtype)
    cells.columns = range(len(header))
    cells = cells.astype(pd.StringDtype("pyarrow", na_value=np.nan))
    return Table(None, header, cells, lines, bad_rows, escaped), decoded.encoding


def _cell(value: object) -> object:
    if value is None or isinstance(value, (str, dt.datetime, dt.date, dt.time)):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(path: Path) -> list[Table]:
    """Read every sheet of an XLSX workbook (row 1 is the header).

    Entirely empty rows are not records. A row with non-empty cells beyond the
    header's width is a bad row (wrong column count). ``source_line`` is
    ``Sheet!row``.
    """
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    tables: list[Table] = []
    try:
        for sheet in workbook.worksheets:
            rows = sheet.iter_rows(values_only=True)
            first = next(rows, None)
            if first is None:
                continue
            width = len(first)
            while width and (first[width - 1] is None or str(first[width - 1]).strip() == ""):
                width -= 1
            header = [str(_cell(h) or "") for h in first[:width]]
            records: list[list[object]] = []
            lines: list[str] = []
            bad: list[BadRow] = []
            for number, row in enumerate(rows, start=2):
                values = [_cell(v) for v in row]
                if all(v is None or (isinstance(v, str) and v.strip() == "") for v in values):
                    continue
                extra = [v for v in values[width:] if v is not None and str(v).strip() != ""]
                where = f"{sheet.title}!{number}"
                if extra:
                    n_fields = width + len(extra)
                    bad.append(
                        BadRow(
                            where,
                            f"wrong column count: {n_fields} field(s), the header has {width}",
                            ",".join("" if v is None else str(v) for v in values),
                        )
                    )
                    continue
                values = values[:width] + [None] * (width - len(values))
                records.append(values)
                lines.append(where)
            cells = pd.DataFrame(records, columns=range(width), dtype=object)
            tables.append(Table(sheet.title, header, cells, np.array(lines, dtype=object), bad))
    finally:
        workbook.close()
    return tables
