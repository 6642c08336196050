"""Helpers the views share: times, queriers, code lists, masked subjects.

The views read a :class:`kit.dataset.Dataset` (one frame per kind in the
layout of :mod:`kit.schema`) and an assessment (anything with ``lookups``,
``evidence`` and ``communications`` frames in the layout of
:mod:`kit.assess`), so this module names only columns of those contracts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kit.errors import ConfigError
from kit.mask import Masker
from kit.normalise import parse_date, parse_time
from kit.schema import TIMEZONE

TIME = pd.DatetimeTZDtype(unit="us", tz=TIMEZONE)
"""The dtype of every time column (:data:`kit.schema.TIME_DTYPE`)."""

SEVERITIES: tuple[str, ...] = ("none", "low", "medium", "high", "critical")
"""Severities from least to most serious (OUTPUTS.md ``severity``)."""


NAME_COLUMNS: tuple[tuple[str, str], ...] = (
    ("relations", "name"),
    ("communications", "counterpart_name"),
    ("officers", "name"),
)
"""Columns holding names of people that are not identifier fields; they are masked as names."""


class AssessmentLike(Protocol):
    """What the views need of an assessment (:class:`kit.assess.Assessment`)."""

    @property
    def lookups(self) -> pd.DataFrame:
        """One row per lookup with the ``kit screen`` columns."""
        ...

    @property
    def evidence(self) -> pd.DataFrame:
        """One row per (lookup, flag or explanation)."""
        ...

    @property
    def communications(self) -> pd.DataFrame:
        """The flagged communications."""
        ...


def as_time(values: pd.Series | Any) -> pd.Series:
    """Return a series as timezone-aware Asia/Taipei times (ISO text or datetimes accepted)."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert(TIMEZONE).astype(TIME)
    if pd.api.types.is_datetime64_dtype(series.dtype):
        return series.dt.tz_localize(TIMEZONE).astype(TIME)
    if series.empty:
        return series.astype(TIME)
    parsed = pd.to_datetime(series, format="ISO8601", utc=True)
    return parsed.dt.tz_convert(TIMEZONE).astype(TIME)


def as_bound(value: object) -> tuple[pd.Timestamp | None, bool]:
    """Return a period bound as a Taipei timestamp, and whether it was a date alone.

    Accepts ``date``, ``datetime``, ``pandas.Timestamp`` and text in any form
    of DATA.md (``2023-10-05``, ROC ``112/10/05``, ``2023-10-05 14:00:00`` …).

    Raises
    ------
    kit.errors.ConfigError
        For text that is neither a date nor a time.

    """
    if value is None:
        return None, False
    if isinstance(value, str):
        instant = parse_time(value)
        day = parse_date(value)
        if instant is not None and day is not None and instant != pd.Timestamp(day, tz=TIMEZONE):
            return instant, False
        if day is None:
            raise ConfigError(
                f"{value!r} is not a date: write YYYY-MM-DD or the ROC form YYY/MM/DD",
                column="period",
            )
        return pd.Timestamp(day).tz_localize(TIMEZONE), True
    date_only = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    stamp = stamp.tz_localize(TIMEZONE) if stamp.tzinfo is None else stamp.tz_convert(TIMEZONE)
    return stamp, date_only


def period(start: object, end: object) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """Return ``[start, end)`` for the views' ``start``/``end`` arguments.

    A date alone as ``end`` is inclusive (the period runs to the next
    midnight); a time as ``end`` is inclusive of that instant.
    """
    lo, _ = as_bound(start)
    hi, date_only = as_bound(end)
    if hi is not None:
        hi = hi + (pd.Timedelta(days=1) if date_only else pd.Timedelta(microseconds=1))
    return lo, hi


def in_period(times: pd.Series, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.Series:
    """Return the mask of times within ``[start, end)``; missing times are outside."""
    keep = times.notna()
    if start is not None:
        keep &= (times >= start).fillna(False)
    if end is not None:
        keep &= (times < end).fillna(False)
    return keep.astype(bool)


def overlaps(
    starts: pd.Series, ends: pd.Series, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> pd.Series:
    """Return the mask of intervals ``[starts, ends)`` meeting ``[start, end)`` (open ends ok)."""
    keep = starts.notna()
    if end is not None:
        keep &= (starts < end).fillna(False)
    if start is not None:
        keep &= (ends.isna() | (ends > start)).fillna(False)
    return keep.astype(bool)


def querier(frame: pd.DataFrame) -> pd.Series:
    """Return the querier of each lookup: ``actual_user``, or ``user`` where that is empty."""
    actual = frame["actual_user"].astype("string").str.strip()
    actual = actual.mask(actual.fillna("") == "")
    return actual.fillna(frame["user"].astype("string"))


def text(series: pd.Series) -> pd.Series:
    """Return a column as pandas string dtype with missing values as ``<NA>``."""
    return series.astype("string")


def join_list(series: pd.Series, sep: str = "; ") -> pd.Series:
    """Join the items of a list column (Arrow ``list<string>`` or Python lists) into text."""
    if series.empty:
        return pd.Series([], index=series.index, dtype="string")
    if isinstance(series.dtype, pd.ArrowDtype) and pa.types.is_list(series.dtype.pyarrow_dtype):
        array = pa.array(series.array)
        joined = pc.binary_join(array, sep)
        return pd.Series(joined.to_pandas(), index=series.index, dtype="string")
    return series.map(
        lambda cell: sep.join(str(x) for x in cell) if isinstance(cell, list | tuple) else cell
    ).astype("string")


def split_codes(series: pd.Series) -> pd.DataFrame:
    """Return one row per (position, code) of a ``;``-joined code column."""
    codes = series.astype("string").fillna("").str.split(";").explode().str.strip()
    codes = codes[codes.fillna("") != ""]
    return pd.DataFrame({"position": codes.index, "code": codes.to_numpy()})


def local_text(times: pd.Series, fmt: str = "%Y-%m-%d %H:%M:%S") -> pd.Series:
    """Return Taipei local times as text (``2023-10-05 14:33:21``); missing stays missing."""
    return as_time(times).dt.strftime(fmt).astype("string")


def register_dataset(masker: Masker, dataset: Any) -> None:
    """Register every identifier of a dataset with the masker, in a deterministic order.

    Lookup subjects come first, in order of lookup time then lookup ID, then
    the identifiers found in other kinds, in (kind, file, line) order, then
    the names of :data:`NAME_COLUMNS`. The raw forms are registered too, so
    they are masked inside free text. A dataset already registered with this
    masker is not registered again (:meth:`kit.mask.Masker.register_source`).
    """
    masker.register_source(dataset, lambda m: _register_dataset(m, dataset))


def _register_dataset(masker: Masker, dataset: Any) -> None:
    subjects = dataset.subjects
    if not subjects.empty:
        order = dataset.query_log[["lookup_id", "time"]].drop_duplicates("lookup_id")
        ranked = subjects.merge(order, on="lookup_id", how="left").sort_values(
            ["time", "lookup_id", "entity", "value"], kind="stable"
        )
        masker.register_frame(ranked)
    identifiers = dataset.identifiers
    if not identifiers.empty:
        ranked = identifiers.sort_values(
            ["kind", "source_file", "source_line", "field"], kind="stable"
        )
        masker.register_frame(ranked)
    for kind, column in NAME_COLUMNS:
        names = dataset.frame(kind)[column].dropna().astype(str).str.strip()
        names = names[names != ""].drop_duplicates()
        masker.register(["name"] * len(names), names.tolist())


def masked_subjects(dataset: Any, masker: Masker, sep: str = "; ") -> pd.Series:
    """Return the masked subjects of each lookup, joined, indexed by ``lookup_id``."""
    subjects = dataset.subjects
    if subjects.empty:
        return pd.Series([], dtype="string", name="subject")
    distinct = subjects[["lookup_id", "entity", "value"]].drop_duplicates()
    shown = masker.show_series(distinct["entity"], distinct["value"])
    grouped = group_join(distinct["lookup_id"], shown, sep)
    return grouped.astype("string").rename("subject")


def group_join(keys: pd.Series, values: pd.Series, sep: str = ";") -> pd.Series:
    """Join the values of each key in order of appearance (one pass, no per-group pandas call).

    ``keys`` may hold tuples; missing values are skipped. Returns a series
    indexed by the distinct keys in order of first appearance.
    """
    joined: dict[Any, list[str]] = {}
    for key, value in zip(keys.tolist(), values.tolist(), strict=True):
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            continue
        joined.setdefault(key, []).append(str(value))
    return pd.Series({k: sep.join(v) for k, v in joined.items()}, dtype="object")
