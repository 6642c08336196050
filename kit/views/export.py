"""Writing evidence tables: one CSV each and one ``evidence.xlsx`` with a sheet per table.

The CSVs go through :func:`kit.export.write_csv` (UTF-8 with BOM, formulas
neutralised). The workbook holds the same cells, neutralised the same way
(:func:`kit.export.neutralise_formulas`), written as strings with
``write_string`` so no cell is ever read as a formula, with a frozen header
row, column widths fitted to the content, and a fixed creation time so the
same tables always give the same bytes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from kit.errors import ConfigError
from kit.export import neutralise_formulas, write_csv

__all__ = ["WORKBOOK_NAME", "export_tables"]

WORKBOOK_NAME = "evidence.xlsx"
FIXED_CREATED = dt.datetime(2000, 1, 1, 0, 0, 0)
"""Creation time written into the workbook (deterministic bytes)."""
MAX_WIDTH = 60
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")


@contextlib.contextmanager
def paused_garbage_collector() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a block that makes many small objects.

    Nothing is collected early that matters: reference counting still frees
    every object as usual, and the collector is switched back on (if it was
    on) when the block ends, even on error.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _cell_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Return every cell as text (missing → ``""``), numbers as pandas writes them to CSV."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_bool_dtype(series.dtype):
            out[column] = series.map({True: "True", False: "False"}).astype("string")
        elif pd.api.types.is_numeric_dtype(series.dtype):
            out[column] = series.astype("object").map(lambda v: "" if pd.isna(v) else str(v))
        else:
            out[column] = series.astype("string")
    return out.fillna("")


def _write_sheet(workbook: xlsxwriter.Workbook, name: str, frame: pd.DataFrame) -> None:
    sheet = workbook.add_worksheet(_SHEET_FORBIDDEN.sub("_", name)[:31])
    bold = workbook.add_format({"bold": True, "text_wrap": False})
    safe = neutralise_formulas(frame)
    numeric = {
        c
        for c in safe.columns
        if pd.api.types.is_numeric_dtype(safe[c].dtype)
        and not pd.api.types.is_bool_dtype(safe[c].dtype)
    }
    cells = _cell_text(safe)
    for col, header in enumerate(safe.columns):
        sheet.write_string(0, col, str(header), bold)
        values = cells[header].to_numpy(dtype=object)
        raw = safe[header].to_numpy(dtype=object)
        for row, value in enumerate(values, start=1):
            if header in numeric and value != "":
                sheet.write_number(row, col, float(raw[row - 1]))
            elif value != "":
                sheet.write_string(row, col, value)
        lengths = [len(str(header))] + [len(v) for v in values[:2000]]
        sheet.set_column(col, col, min(MAX_WIDTH, max(8, int(np.max(lengths)) + 2)))
    sheet.freeze_panes(1, 0)
    if len(safe.columns):
        sheet.autofilter(0, 0, max(len(safe), 1), len(safe.columns) - 1)


def export_tables(tables: dict[str, pd.DataFrame], out_dir: Path | str) -> list[Path]:
    """Write each table as ``<name>.csv`` and all of them into ``evidence.xlsx``.

    Parameters
    ----------
    tables
        Table name (``lookups``, ``subjects`` …; letters, digits, ``_`` and
        ``-``) → table, in the order the sheets should appear.
    out_dir
        The folder (created if missing), e.g. a bundle's ``tables/``.

    Returns
    -------
    list[pathlib.Path]
        The CSVs in the order given, then the workbook.

    Raises
    ------
    kit.errors.ConfigError
        For a table name that is not a plain file name.

    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    bad = [name for name in tables if not _NAME.match(name)]
    if bad:
        raise ConfigError(f"table names must be plain file names: {', '.join(map(repr, bad))}")
    paths = [write_csv(frame, folder / f"{name}.csv") for name, frame in tables.items()]
    target = folder / WORKBOOK_NAME
    # xlsxwriter keeps a small object per cell: with the cyclic garbage collector
    # paused it does not rescan the whole heap every few hundred cells.
    with paused_garbage_collector():
        workbook = xlsxwriter.Workbook(
            str(target), {"strings_to_formulas": False, "strings_to_urls": False}
        )
        workbook.set_properties({"created": FIXED_CREATED})
        for name, frame in tables.items():
            _write_sheet(workbook, name, frame)
        workbook.close()
    paths.append(target)
    return paths
