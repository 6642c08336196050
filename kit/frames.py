"""Column operations that pandas does slowly on the kit's Arrow-backed text columns.

pandas' ``Series.isin`` on an Arrow string column turns every value it is
given into an Arrow scalar, one by one in Python: asking which of 30,000
subject rows belong to 10,000 lookups took a quarter of a second each time.
:func:`isin` hands the same question to Arrow's ``is_in`` in one call.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["escape_markup", "isin", "single_chunk", "take_rows"]


def escape_markup(texts: pa.Array) -> pa.Array:
    """Escape ``&``, ``<`` and ``>`` in every text of an Arrow string array (HTML and XML text)."""
    for plain, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        texts = pc.replace_substring(texts, plain, escaped)
    return texts


def _arrow_text(series: pd.Series) -> pa.ChunkedArray | None:
    """Return the Arrow string array behind a text column, or ``None`` for other columns."""
    dtype = series.dtype
    arrow_text = isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"
    if isinstance(dtype, pd.ArrowDtype):
        arrow_text = pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(
            dtype.pyarrow_dtype
        )
    if not arrow_text:
        return None
    return pa.chunked_array([pa.array(series.array, from_pandas=True)]).cast(pa.large_string())


def single_chunk(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every Arrow-backed column held in one chunk.

    A frame read month by month, or concatenated from parts, holds its Arrow
    columns in several chunks, and Arrow takes rows from a chunked text column
    about five times slower than from one array: selecting 470,000 of 550,000
    lookups (19 columns) took 0.8 s chunked. Columns already in one chunk, and
    numpy columns, are kept as they are (no copy); the index is kept.
    """
    if not frame.columns.is_unique:
        return frame
    columns: dict[str, pd.Series] = {}
    changed = False
    for name in frame.columns:
        series = frame[name]
        array = series.array
        chunked = getattr(array, "_pa_array", None)
        if isinstance(chunked, pa.ChunkedArray) and chunked.num_chunks > 1:
            one = pa.chunked_array([chunked.combine_chunks()], type=chunked.type)
            if isinstance(array, pd.arrays.ArrowStringArray):
                array = type(array)(one, dtype=series.dtype)  # type: ignore[call-arg]  # stubs lag pandas 3
            else:
                array = type(array)(one)
            series = pd.Series(array, index=frame.index, name=name, copy=False)
            changed = True
        columns[name] = series
    if not changed:
        return frame
    out = pd.DataFrame(columns, index=frame.index, copy=False)
    out.columns = frame.columns
    return out


def take_rows(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """Return the rows at ``rows`` (ascending positions) of ``frame``, renumbered from 0.

    Consecutive positions (the lookups of a range, in time order) are taken as
    a slice, which shares the columns' memory: taking 1.1 M of a 10 M part's
    2.8 M lookups copied every text column, 0.9 s a part.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return frame.iloc[int(rows[0]) : int(rows[-1]) + 1].reset_index(drop=True)
    return frame.iloc[rows].reset_index(drop=True)


def _missing(value: object) -> bool:
    """Return whether a single value is a missing value (``None``, ``NaN``, ``pd.NA``)."""
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _value_set(values: Iterable[object]) -> pa.Array:
    """Return the distinct text values of ``values`` (missing values included as null)."""
    if isinstance(values, pd.Series | pd.Index):
        array = pa.array(values.astype("string").array, from_pandas=True)
    else:
        texts = [
            v if isinstance(v, str) else None
            for v in (values if isinstance(values, list | tuple | np.ndarray) else list(values))
            if isinstance(v, str) or _missing(v)
        ]
        array = pa.array(texts, type=pa.large_string())
    return pc.unique(array.cast(pa.large_string()))


def isin(series: pd.Series, values: Iterable[object]) -> pd.Series:
    """Return ``series.isin(values)`` (a boolean Series on the same index), fast on text.

    For an Arrow-backed text column the membership test runs in Arrow; other
    columns use pandas. As with pandas, a missing cell is in ``values`` only
    when ``values`` holds a missing value, and values that are not text
    never match a text cell.
    """
    array = _arrow_text(series)
    if array is None:
        return series.isin(values if isinstance(values, pd.Series | pd.Index) else list(values))
    found = pc.is_in(array, value_set=_value_set(values))
    mask = found.to_numpy(zero_copy_only=False) if found.null_count == 0 else None
    if mask is None:
        mask = pc.fill_null(found, False).to_numpy(zero_copy_only=False)
    return pd.Series(np.asarray(mask, dtype=bool), index=series.index, name=series.name)
