"""Tables whose text columns stay NumPy object arrays.

pandas 3 stores text as Arrow strings by default; the generator builds,
concatenates, filters and sorts millions of short texts per chunk, which is
faster on plain object arrays.  Text becomes Arrow once, when a chunk is
written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def frame(
    data: Mapping[str, Any] | None = None, *, columns: list[str] | None = None
) -> pd.DataFrame:
    """Return a DataFrame keeping text columns as object dtype.

    Parameters
    ----------
    data : mapping
        Column name to array, Series or scalar (scalars are repeated).
    columns : list of str
        Column names of an empty frame (when ``data`` is None).

    """
    if data is None:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns or []})
    arrays = {k: (v.to_numpy() if isinstance(v, pd.Series) else v) for k, v in data.items()}
    sizes = [len(v) for v in arrays.values() if isinstance(v, (np.ndarray, list))]
    n = sizes[0] if sizes else 0
    out: dict[str, Any] = {}
    for name, value in arrays.items():
        if not isinstance(value, (np.ndarray, list)):
            value = np.full(n, value, dtype=object if isinstance(value, str) else None)
        value = np.asarray(value)
        if value.dtype.kind in "OUS":
            out[name] = pd.Series(value.astype(object), dtype=object, copy=False)
        else:
            out[name] = pd.Series(value, copy=False)
    return pd.DataFrame(out, copy=False)
