"""kit.frames: ``isin`` answers as pandas' Series.isin does, on every kind of column and value
list; ``single_chunk`` keeps a frame's values, dtypes and index while putting each Arrow column
in one chunk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from kit.frames import isin, single_chunk, take_rows

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


def _chunks(series: pd.Series) -> int | None:
    chunked = getattr(series.array, "_pa_array", None)
    return chunked.num_chunks if chunked is not None else None


def test_single_chunk_joins_the_chunks_of_arrow_columns_and_keeps_everything_else():
    parts = [
        pd.DataFrame(
            {
                "text": pd.Series(["王小明", None, "ABC1234"][i : i + 2], dtype="str"),
                "large": pd.Series(["x", "y"], dtype=pd.ArrowDtype(pa.large_string())),
                "number": pd.Series([1, None], dtype=pd.ArrowDtype(pa.int64())),
                "plain": np.array([i, i + 1], dtype=np.int64),
                "when": pd.to_datetime(["2023-01-01", "2023-01-02"]).tz_localize("Asia/Taipei"),
            }
        )
        for i in range(2)
    ]
    frame = pd.concat(parts, ignore_index=True)
    frame.index = pd.Index([10, 11, 12, 13], name="at")
    assert _chunks(frame["text"]) == 2 and _chunks(frame["number"]) == 2
    joined = single_chunk(frame)
    pd.testing.assert_frame_equal(joined, frame)
    for name in ("text", "large", "number"):
        assert _chunks(joined[name]) == 1, name
    # a numpy column is the same memory, not a copy
    assert np.shares_memory(joined["plain"].to_numpy(), frame["plain"].to_numpy())
    # taking rows gives what it gave before
    rows = [3, 0, 2]
    pd.testing.assert_frame_equal(joined.iloc[rows], frame.iloc[rows])


def test_single_chunk_returns_a_frame_already_in_one_chunk_as_it_is():
    frame = pd.DataFrame({"text": pd.Series(["a", "b"], dtype="str"), "n": [1, 2]})
    assert single_chunk(frame) is frame
    empty = pd.DataFrame({"text": pd.Series([], dtype="str")})
    assert single_chunk(empty) is empty


@pytest.mark.parametrize(
    "rows",
    [[2, 3, 4, 5], [0], [1, 3, 4], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], []],
    ids=["consecutive", "one", "with a gap", "all", "none"],
)
def test_take_rows_equals_iloc_and_shares_memory_when_consecutive(rows: list[int]) -> None:
    frame = pd.DataFrame(
        {
            "text": pd.Series([f"lookup {i}" for i in range(10)], dtype="str"),
            "number": np.arange(10, dtype=np.int64) * 7,
        },
        index=np.arange(100, 110),
    )
    taken = take_rows(frame, np.array(rows, dtype=np.int64))
    pd.testing.assert_frame_equal(taken, frame.iloc[rows].reset_index(drop=True))
    consecutive = len(rows) > 0 and rows[-1] - rows[0] + 1 == len(rows)
    shares = np.shares_memory(taken["number"].to_numpy(), frame["number"].to_numpy())
    assert shares == consecutive
