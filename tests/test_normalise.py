from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit.normalise import (
    fold_unit,
    fold_unit_series,
    nfkc,
    nfkc_series,
    parse_clock,
    parse_date,
    parse_dates,
    parse_time,
    parse_times,
    split_list,
    split_list_series,
)
from kit.schema import TIME_DTYPE

TPE = "Asia/Taipei"
INSTANT = pd.Timestamp("2023-10-05 14:33:21", tz=TPE)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("112/10/05 14:33:21", INSTANT, id="roc-slash-seconds"),
        pytest.param("112/10/05 14:33", INSTANT.floor("min"), id="roc-slash-minutes"),
        pytest.param("112-10-05 14:33:21", INSTANT, id="roc-dash"),
        pytest.param("1121005 143321", INSTANT, id="roc-compact-space"),
        pytest.param("1121005143321", INSTANT, id="roc-compact"),
        pytest.param(
            "991005 143321", pd.Timestamp("2010-10-05 14:33:21", tz=TPE), id="roc-2digit-compact"
        ),
        pytest.param("99/01/01 00:00:00", pd.Timestamp("2010-01-01", tz=TPE), id="roc-2digit"),
        pytest.param("2023-10-05 14:33:21", INSTANT, id="ad-dash"),
        pytest.param("2023/10/05 14:33:21", INSTANT, id="ad-slash"),
        pytest.param("2023-10-05T14:33:21+08:00", INSTANT, id="iso-taipei"),
        pytest.param("2023-10-05T07:33:21+01:00", INSTANT, id="iso-other-offset"),
        pytest.param("2023-10-05T06:33:21Z", INSTANT, id="iso-utc"),
        pytest.param(
            "2023-10-05T14:33:21.250+08:00", INSTANT + pd.Timedelta("250ms"), id="fraction"
        ),
        pytest.param("２０２３－１０－０５　１４：３３：２１", INSTANT, id="full-width"),
        pytest.param(" 112/10/05 14:33:21 ", INSTANT, id="spaces"),
        pytest.param(dt.datetime(2023, 10, 5, 14, 33, 21), INSTANT, id="excel-naive-datetime"),
        pytest.param(INSTANT.tz_convert("UTC"), INSTANT, id="aware-timestamp"),
    ],
)
def test_parse_times_formats(value: object, expected: pd.Timestamp) -> None:
    times, bad = parse_times(pd.Series([value], dtype=object))
    assert str(times.dtype) == TIME_DTYPE
    assert times.iloc[0] == expected
    assert not bad.iloc[0]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("2023-13-05 14:33:21", id="month-13"),
        pytest.param("112/02/30 10:00:00", id="feb-30"),
        pytest.param("2023-10-05 25:00:00", id="hour-25"),
        pytest.param("yesterday", id="text"),
        pytest.param("112/10/05", id="date-without-time"),
    ],
)
def test_parse_times_unparseable(value: str) -> None:
    times, bad = parse_times(pd.Series([value, "", None], dtype=object))
    assert times.isna().all()
    assert bad.tolist() == [True, False, False]


def test_parse_times_datetime_columns() -> None:
    naive = pd.Series(pd.to_datetime(["2023-10-05 14:33:21"]))
    assert parse_times(naive)[0].iloc[0] == INSTANT
    aware = naive.dt.tz_localize("UTC")
    assert parse_times(aware)[0].iloc[0] == INSTANT + pd.Timedelta("8h")
    text = pd.Series(["112/10/05 14:33:21"] * 3)
    assert (parse_times(text)[0] == INSTANT).all()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("112/10/05", dt.date(2023, 10, 5), id="roc-slash"),
        pytest.param("1121005", dt.date(2023, 10, 5), id="roc-compact"),
        pytest.param("99/01/01", dt.date(2010, 1, 1), id="roc-2digit"),
        pytest.param("990101", dt.date(2010, 1, 1), id="roc-2digit-compact"),
        pytest.param("2023-10-05", dt.date(2023, 10, 5), id="ad"),
        pytest.param("20231005", dt.date(2023, 10, 5), id="ad-compact"),
        pytest.param(dt.date(2023, 10, 5), dt.date(2023, 10, 5), id="native-date"),
        pytest.param(dt.datetime(2023, 10, 5, 0, 0), dt.date(2023, 10, 5), id="excel-datetime"),
        pytest.param("2023-10-05 23:59:00", dt.date(2023, 10, 5), id="with-time"),
    ],
)
def test_parse_dates(value: object, expected: dt.date) -> None:
    dates, bad = parse_dates(pd.Series([value], dtype=object))
    assert str(dates.dtype) == "date32[day][pyarrow]"
    assert dates.iloc[0] == expected
    assert not bad.iloc[0]


def test_parse_dates_bad() -> None:
    dates, bad = parse_dates(pd.Series(["112/13/01", "", None, "x"], dtype=object))
    assert dates.isna().all()
    assert bad.tolist() == [True, False, False, True]


@pytest.mark.parametrize(
    ("value", "minutes"),
    [
        pytest.param("08:00", 480, id="hh-mm"),
        pytest.param("0800", 480, id="hhmm"),
        pytest.param("7:30", 450, id="h-mm"),
        pytest.param("24:00", 1440, id="midnight-end"),
        pytest.param("22:00:00", 1320, id="with-seconds"),
        pytest.param(dt.time(22, 0), 1320, id="excel-time"),
    ],
)
def test_parse_clock(value: object, minutes: int) -> None:
    parsed, bad = parse_clock(pd.Series([value], dtype=object))
    assert parsed.iloc[0] == minutes
    assert not bad.iloc[0]


@pytest.mark.parametrize("value", ["24:01", "25:00", "12:60", "noon"])
def test_parse_clock_bad(value: str) -> None:
    parsed, bad = parse_clock(pd.Series([value]))
    assert parsed.isna().all() and bad.all()


def test_text_helpers() -> None:
    assert nfkc(" Ａ１２３：x ") == "A123:x"
    assert fold_unit(" 臺中市政府警察局 ") == "台中市政府警察局"
    assert split_list("a;b；c,d，e、f\ng ; ") == list("abcdefg")
    assert split_list(None) == []
    assert nfkc_series(pd.Series(["Ａ ", "", None])).isna().tolist() == [False, True, True]
    assert fold_unit_series(pd.Series(["臺中 "])).iloc[0] == "台中"
    lists = split_list_series(pd.Series(["手槍;行動電腦Ｍ－０１２３", None, " ; "]))
    assert list(lists.iloc[0]) == ["手槍", "行動電腦M-0123"]
    assert pd.isna(lists.iloc[1])
    assert list(lists.iloc[2]) == []


def _regex_only(values: list[str], dates: bool = False) -> pd.Series:
    import pyarrow as pa

    from kit.normalise import (
        _COMPACT,
        _COMPACT_DATE,
        _SEPARATED,
        _compose,
        _extract,
        _regex_parts,
    )

    arr = pa.array(values, type=pa.string())
    patterns = (_SEPARATED, _COMPACT_DATE, _COMPACT) if dates else (_SEPARATED, _COMPACT)
    fields = _extract(arr, patterns)
    ok = fields["matched"]
    if not dates:
        ok = pa.compute.and_(ok, pa.compute.not_equal(fields["h"], ""))
    return _compose(
        _regex_parts(fields), ok.to_numpy(zero_copy_only=False), pd.RangeIndex(len(values))
    )


_FORMATS = [
    "{Y:04d}-{M:02d}-{D:02d} {h:02d}:{m:02d}:{s:02d}",
    "{Y:04d}/{M:02d}/{D:02d} {h:02d}:{m:02d}:{s:02d}",
    "{Y:04d}-{M:02d}-{D:02d}T{h:02d}:{m:02d}:{s:02d}+08:00",
    "{Y:04d}-{M:02d}-{D:02d}T{h:02d}:{m:02d}:{s:02d}-03:30",
    "{R:03d}/{M:02d}/{D:02d} {h:02d}:{m:02d}:{s:02d}",
    "{R:03d}-{M:02d}-{D:02d} {h:02d}:{m:02d}:{s:02d}",
    "{R:03d}/{M:02d}/{D:02d} {h:02d}:{m:02d}",
    "{R:03d}{M:02d}{D:02d} {h:02d}{m:02d}{s:02d}",
    "{R:03d}{M:02d}{D:02d}{h:02d}{m:02d}{s:02d}",
    "{r:02d}/{M:02d}/{D:02d} {h:02d}:{m:02d}:{s:02d}",
    "{r:02d}{M:02d}{D:02d}{h:02d}{m:02d}{s:02d}",
]


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2010, 2030),
    st.integers(0, 14),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
)
def test_fast_path_agrees_with_regex(y: int, mo: int, d: int, h: int, mi: int, s: int) -> None:
    values = [
        f.format(Y=y, R=y - 1911, r=(y - 1911) % 100, M=mo, D=d, h=h, m=mi, s=s)
        for f in _FORMATS
        if not ("{r" in f and y - 1911 >= 100)
    ]
    fast, _ = parse_times(pd.Series(values))
    slow = _regex_only(values)
    assert fast.isna().tolist() == slow.isna().tolist()
    assert (fast.dropna() == slow.dropna()).all()
    dates = [v.split(" ")[0].split("T")[0] for v in values if " " in v or "T" in v]
    fast_d, _ = parse_dates(pd.Series(dates))
    slow_d = _regex_only(dates, dates=True)
    assert fast_d.isna().tolist() == slow_d.isna().tolist()


def test_scalar_parsers() -> None:
    assert parse_date("112/10/05") == dt.date(2023, 10, 5)
    assert parse_date("2023-10-05") == dt.date(2023, 10, 5)
    assert parse_date("2023-13-05") is None
    assert parse_date("nope") is None
    assert parse_time("112/10/05 14:33:21") == INSTANT
    assert parse_time("") is None
