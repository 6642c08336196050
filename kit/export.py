"""Writing tables for people: CSV that opens in Excel, and formula-safe cells.

Spreadsheet programs execute a cell that starts with ``=``, ``+``, ``-`` or
``@`` as a formula, so any text from the data that starts that way is written
as text, prefixed with ``'`` (OUTPUTS.md). Every CSV the kit writes for people
(rejects, screen results, evidence tables) goes through :func:`write_csv`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@")
CSV_ENCODING = "utf-8-sig"
"""UTF-8 with a byte-order mark, so Excel opens Chinese text correctly."""


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy where every text cell starting like a formula is prefixed with ``'``.

    Only text columns are touched; numbers, booleans and times are left as
    they are (a negative number is a number, not a formula).
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if not pd.api.types.is_string_dtype(series):
            continue
        text = series.astype("string")
        risky = text.str.startswith(FORMULA_PREFIXES).fillna(False).astype(bool)
        if risky.any():
            out[column] = text.where(~risky, "'" + text)
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write a table as UTF-8-with-BOM CSV with formulas neutralised; return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    neutralise_formulas(frame).to_csv(path, index=False, encoding=CSV_ENCODING, lineterminator="\n")
    return path
