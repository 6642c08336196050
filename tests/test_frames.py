"""kit.frames.isin answers as pandas' Series.isin does, on every kind of column and value list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from kit.frames import isin

TEXT = ["A123456789", "ABC1234", None, "王小明", "", "abc1234"]


@pytest.mark.parametrize(
    "dtype", ["string", pd.ArrowDtype(pa.string()), pd.ArrowDtype(pa.large_string()), object]
)
@pytest.mark.parametrize(
    "values",
    [
        ["ABC1234", "王小明"],
        {"ABC1234", "nope"},
        ("A123456789",),
        ["ABC1234", None],
        ["abc1234", float("nan")],
        [1, 2, "ABC1234"],
        [],
        pd.Series(["王小明", None], dtype="string"),
        pd.Index(["", "A123456789"]),
        np.array(["ABC1234"], dtype=object),
    ],
    ids=["list", "set", "tuple", "none", "nan", "non-text", "empty", "series", "index", "ndarray"],
)
def test_isin_matches_pandas(dtype, values):
    series = pd.Series(TEXT, dtype=dtype, index=[10, 11, 12, 13, 14, 15], name="value")
    listed = values if isinstance(values, pd.Series | pd.Index) else list(values)
    if isinstance(listed, list):  # pandas' text arrays ignore values that are not text
        listed = [v for v in listed if isinstance(v, str) or pd.isna(v)]
    expected = series.isin(listed)
    got = isin(series, values)
    pd.testing.assert_series_equal(got, expected, check_dtype=False)
    assert got.dtype == bool


def test_isin_on_numbers_and_a_long_value_list():
    numbers = pd.Series([1, 2, 3, 4], dtype="int64")
    assert isin(numbers, {2, 4}).tolist() == [False, True, False, True]
    ids = pd.Series([f"id{i}" for i in range(30_000)], dtype="string")
    wanted = pd.Series([f"id{i}" for i in range(0, 30_000, 3)], dtype="string")
    assert isin(ids, wanted).sum() == 10_000
