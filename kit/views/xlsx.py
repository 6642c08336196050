"""A small, fast writer of evidence workbooks (Office Open XML, one sheet per table).

The evidence tables of a bundle hold tens of thousands of cells; a general
workbook library keeps a Python object per cell and writes them one by one,
which took longer than drawing every figure of the report. The workbook the
kit writes is simple (text and numbers, a bold header row that stays in
view, an auto-filter, column widths), so its XML is built column by column
here and zipped once:

- every text cell is an inline string, written as text whatever it looks
  like (the caller has already neutralised formulas); characters XML cannot
  carry are written as Excel's ``_xHHHH_`` escapes, as Excel itself does;
- numbers are written as numbers with up to 16 significant digits;
- the same tables always give the same bytes (fixed creation time, fixed
  zip entry times and order);
- a text longer than a cell can hold (:data:`MAX_CELL_CHARS`) is cut, with a
  note that the CSV holds it whole; a table longer than a sheet can hold is
  continued on further sheets by the caller (:data:`MAX_SHEET_ROWS`).
"""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kit.frames import escape_markup

__all__ = ["MAX_CELL_CHARS", "MAX_SHEET_ROWS", "SheetColumn", "write_workbook"]

MAX_SHEET_ROWS = 1_048_575
"""Data rows a sheet can hold (Excel's 1,048,576 rows, less the header)."""
MAX_CELL_CHARS = 32_767
"""Characters a cell can hold (Excel counts UTF-16 code units)."""
CUT_NOTE = "…〔全文見 CSV / full text in the CSV〕"
"""Ends a text cut to fit a cell."""

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
CREATED = "2000-01-01T00:00:00Z"
"""Creation time written into every workbook (deterministic bytes)."""

# Characters XML 1.0 cannot carry, and text that already looks like an escape.
_CONTROL = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
_LOOKS_ESCAPED = "_x[0-9A-Fa-f]{4}_"


@dataclass(frozen=True)
class SheetColumn:
    """One column of a sheet, ready to write.

    Attributes
    ----------
    header
        The header cell (bold).
    text
        Every cell as text, ``""`` for an empty cell.
    numbers
        For a numeric column, the cells' values (``NaN`` where empty); else ``None``.
    width
        Column width in characters.

    """

    header: str
    text: Sequence[str]
    numbers: np.ndarray | None
    width: float


def column_letter(index: int) -> str:
    """Return the spreadsheet letters of a 0-based column index (0 → ``A``, 26 → ``AA``)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _xml_text(values: Sequence[str]) -> list[str]:
    """Escape cell texts for XML, vectorised (``&<>`` and characters XML cannot carry)."""
    array = pa.array(values, type=pa.large_string())
    array = escape_markup(array)
    if pc.any(pc.match_substring_regex(array, _LOOKS_ESCAPED)).as_py():
        array = pc.replace_substring_regex(array, f"({_LOOKS_ESCAPED})", r"_x005F\1")
    out: list[str] = array.to_pylist()
    if pc.any(pc.match_substring_regex(array, _CONTROL)).as_py():
        control = re.compile(_CONTROL)
        out = [control.sub(lambda m: f"_x{ord(m.group(0)):04X}_", v) for v in out]
    return out


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit_cell(text: str) -> str:
    """Return ``text``, or its start and :data:`CUT_NOTE` when it is too long for a cell."""
    if len(text) * 2 <= MAX_CELL_CHARS or _utf16_length(text) <= MAX_CELL_CHARS:
        return text
    room = MAX_CELL_CHARS - _utf16_length(CUT_NOTE)
    cut = text[:room]
    while _utf16_length(cut) > room:
        cut = cut[: room - (_utf16_length(cut) - room)]
    return cut + CUT_NOTE


def _number_text(value: float) -> str:
    return format(value, ".16G")


def _column_cells(letter: str, rows: list[str], column: SheetColumn) -> list[str]:
    """Return the ``<c>`` element of every data cell of a column (``""`` for empty cells)."""
    texts = list(column.text)
    if column.numbers is not None:
        numbers = column.numbers
        finite = np.isfinite(numbers)
        cells = []
        values = zip(rows, texts, numbers.tolist(), finite.tolist(), strict=True)
        for row, text, value, ok in values:
            if not text:
                cells.append("")
            elif ok:
                cells.append(f'<c r="{letter}{row}"><v>{_number_text(value)}</v></c>')
            else:
                cells.append(
                    f'<c r="{letter}{row}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'
                )
        return cells
    if any(len(t) * 2 > MAX_CELL_CHARS for t in texts):
        texts = [fit_cell(t) for t in texts]
    escaped = _xml_text(texts)
    return [
        f'<c r="{letter}{row}" t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'
        if value
        else ""
        for row, value in zip(rows, escaped, strict=True)
    ]


def _excel_width(width: float) -> float:
    """Return the stored width of a column ``width`` characters wide (as Excel computes it)."""
    max_digit_width, padding = 7, 5
    return int((int(width * max_digit_width + 0.5) + padding) / max_digit_width * 256.0) / 256.0


def sheet_xml(columns: list[SheetColumn], length: int, *, selected: bool) -> str:
    """Return the worksheet XML of columns holding ``length`` data rows each."""
    letters = [column_letter(i) for i in range(len(columns))]
    rows = [str(i) for i in range(2, length + 2)]
    header = "".join(
        f'<c r="{letter}1" s="1" t="inlineStr"><is><t xml:space="preserve">'
        f"{_xml_text([c.header])[0]}</t></is></c>"
        for letter, c in zip(letters, columns, strict=True)
    )
    by_column = [_column_cells(letter, rows, c) for letter, c in zip(letters, columns, strict=True)]
    body = [f'<row r="1">{header}</row>'] if columns else []
    body += [
        f'<row r="{row}">{"".join(cells)}</row>'
        for row, cells in zip(rows, zip(*by_column, strict=True), strict=True)
    ]
    last = f"{letters[-1]}{max(length, 1) + 1}" if columns else "A1"
    cols = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{_excel_width(c.width)}" customWidth="1"/>'
        for i, c in enumerate(columns)
    )
    tab = ' tabSelected="1"' if selected else ""
    parts = [
        _HEAD,
        f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">',
        f'<dimension ref="A1:{last}"/>',
        f'<sheetViews><sheetView{tab} workbookViewId="0">',
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>',
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>',
        "</sheetView></sheetViews>",
        '<sheetFormatPr defaultRowHeight="15"/>',
        f"<cols>{cols}</cols>" if cols else "",
        "<sheetData>",
        *body,
        "</sheetData>",
        f'<autoFilter ref="A1:{last}"/>' if columns else "",
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>',
        "</worksheet>",
    ]
    return "".join(parts)


_STYLES = (
    _HEAD + f'<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _package_parts(names: list[str], filters: list[str]) -> list[tuple[str, str]]:
    """Return (path, XML) of every part of the package but the worksheets."""
    count = len(names)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, count + 1)
    )
    content_types = (
        _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{overrides}"
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/'
        'vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        "</Types>"
    )
    root_rels = (
        _HEAD + f'<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_DOC_TYPE}/officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
        'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_DOC_TYPE}/extended-properties" '
        'Target="docProps/app.xml"/></Relationships>'
    )
    core = (
        _HEAD + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{CREATED}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{CREATED}</dcterms:modified>'
        "</cp:coreProperties>"
    )
    app = (
        _HEAD + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'extended-properties"><Application>kit</Application></Properties>'
    )
    sheets = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(names, start=1)
    )
    defined = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
        f"{escape(ref)}</definedName>"
        for i, ref in enumerate(filters)
        if ref
    )
    workbook = (
        _HEAD + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f"<sheets>{sheets}</sheets>"
        + (f"<definedNames>{defined}</definedNames>" if defined else "")
        + "</workbook>"
    )
    workbook_rels = (
        _HEAD
        + f'<Relationships xmlns="{_PKG_REL}">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{_DOC_TYPE}/worksheet" '
            f'Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, count + 1)
        )
        + f'<Relationship Id="rId{count + 1}" Type="{_DOC_TYPE}/styles" Target="styles.xml"/>'
        + "</Relationships>"
    )
    return [
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", root_rels),
        ("docProps/app.xml", app),
        ("docProps/core.xml", core),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", workbook_rels),
        ("xl/styles.xml", _STYLES),
    ]


def _filter_ref(name: str, columns: list[SheetColumn], length: int) -> str:
    if not columns:
        return ""
    quoted = "'" + name.replace("'", "''") + "'"
    return f"{quoted}!$A$1:${column_letter(len(columns) - 1)}${max(length, 1) + 1}"


def write_workbook(path: Path, sheets: list[tuple[str, list[SheetColumn], int]]) -> Path:
    r"""Write a workbook of sheets ``(name, columns, number of data rows)``; return ``path``.

    Sheet names must be unique, at most 31 characters, without ``[]:*?/\\``.
    """
    names = [name for name, _, _ in sheets]
    filters = [_filter_ref(name, columns, length) for name, columns, length in sheets]
    parts = _package_parts(names, filters)
    sheet_parts = (
        (f"xl/worksheets/sheet{i}.xml", sheet_xml(columns, length, selected=i == 1))
        for i, (_name, columns, length) in enumerate(sheets, start=1)
    )
    with zipfile.ZipFile(path, "w") as book:
        for name, xml in itertools.chain(parts, sheet_parts):
            # Level 1: the sheets are repetitive XML, fast to deflate and still small.
            book.writestr(
                zipfile.ZipInfo(name, _FIXED_ZIP_TIME), xml, zipfile.ZIP_DEFLATED, compresslevel=1
            )
    return path
