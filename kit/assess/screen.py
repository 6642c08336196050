"""Write a screening to files (OUTPUTS.md, ``kit screen``).

A store is screened a few months at a time: each part is loaded with its
31-day margins (a lookup's result does not depend on the range asked for,
DOMAIN.md "context"), assessed, and its lookups and evidence appended to the
output files before the next part is loaded, so memory is bounded by one part
and its margins rather than by the whole range. The kinds other than the query
log are read once and shared by every part. The lookups file is the same
whichever the parts; the evidence file lists each part's rows together.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kit.assess.config import load_config
from kit.assess.context import local_day, to_us
from kit.assess.engine import MARGIN, _day_number, _load, communication_table, evaluate
from kit.errors import ConfigError
from kit.export import neutralise_formulas, write_csv
from kit.frames import isin

__all__ = ["CHUNK_LOOKUPS", "screen"]

CHUNK_LOOKUPS = 1_500_000
"""Most lookups in range screened at once from a store (whole months; at least one)."""

_IDENTIFIER_FIELDS = ("worklog:content", "cases:parties", "operations:targets")
"""The (kind, field) pairs whose identifiers the rules join to records."""

_PREPARED_KINDS = {
    "duty_roster": ("records:roster",),
    "worklog": ("records:worklog", "identifiers:worklog:content", "span:worklog"),
    "register": ("records:register", "span:register"),
    "tickets": (
        "records:tickets",
        "field:tickets:plate",
        "field:tickets:person_id",
        "span:tickets",
    ),
    "cases": ("records:cases", "identifiers:cases:parties", "span:cases"),
}
"""The large kinds the rules read only through these shared preparations
(:meth:`kit.assess.context.Context.prepared`): once they are all made, the
kind's rows are no longer held for the parts that follow."""


_SECOND = 1_000_000
_OFFSET = 8 * 3600 * _SECOND
_CLOCKS = np.array(
    [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)],
    dtype=object,
)
"""The 86,400 ``HH:MM:SS`` clock strings of a day."""


def _iso(series: pd.Series) -> pd.Series:
    """Format tz-aware times as ISO 8601 with ``+08:00`` (missing times stay missing).

    Taipei has no DST, so the local time is UTC + 8 h; the date is formatted
    once per distinct day and the clock taken from a table, instead of
    ``strftime`` per row.
    """
    if len(series) == 0:
        local = series.dt.tz_convert("Asia/Taipei")
        return local.dt.strftime("%Y-%m-%dT%H:%M:%S+08:00").astype("str")
    utc = series.dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit("us")
    missing = series.isna().to_numpy()
    micros = utc.to_numpy().view("int64")
    seconds = (np.where(missing, 0, micros) + _OFFSET) // _SECOND
    days, clock = np.divmod(seconds, 86400)
    uniq, inverse = np.unique(days, return_inverse=True)
    dates = np.asarray(pd.to_datetime(uniq, unit="D").strftime("%Y-%m-%dT"), dtype=object)
    out = dates[inverse] + _CLOCKS[clock] + "+08:00"
    out[missing] = None
    return pd.Series(out, index=series.index, dtype="str")


class _Output:
    """One output file written part after part (Parquet row groups, or CSV lines)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parquet = path.suffix.lower() == ".parquet"
        self.writer: pq.ParquetWriter | None = None
        self.handle: TextIO | None = None

    def append(self, frame: pd.DataFrame) -> None:
        """Append rows; the first call writes the header (CSV) or fixes the schema (Parquet)."""
        if self.parquet:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self.writer is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.writer = pq.ParquetWriter(self.path, table.schema)
            self.writer.write_table(table.cast(self.writer.schema))
        elif self.handle is None:
            write_csv(frame, self.path)
            self.handle = self.path.open("a", encoding="utf-8", newline="")
        else:
            neutralise_formulas(frame).to_csv(
                self.handle, header=False, index=False, lineterminator="\n"
            )

    def close(self) -> Path:
        """Finish the file and return its path."""
        if self.writer is not None:
            self.writer.close()
        if self.handle is not None:
            self.handle.close()
        return self.path


class _Window:
    """The query log and subjects of a store read part after part, each day once.

    A part reads its days and :data:`kit.assess.engine.MARGIN` on each side;
    consecutive parts' windows overlap by about two margins. The rows of the
    overlap are kept from the part before, and only the days after it are
    read from the store. Parts come in order, so the rows held (in time order)
    followed by the rows read are the rows of the window in time order, as one
    read of the whole window returns them; each lookup's subjects come from
    its own month's file, in the same order either way.
    """

    def __init__(self, store: Any) -> None:
        self.store = store
        self.log: pd.DataFrame | None = None
        self.subjects: pd.DataFrame | None = None
        self.days = np.zeros(0, dtype=np.int64)
        self.last: int | None = None

    def load(self, lo: int | None, hi: int | None, reuse: Any) -> Any:
        """Return the dataset of the days ``lo``..``hi`` with their margins (``reuse``: records)."""
        from kit.store import load_dataset

        margin = MARGIN.days
        first = None if lo is None else lo - margin
        last = None if hi is None else hi + margin
        if self.log is None or self.subjects is None or self.last is None:
            data = load_dataset(self.store, _date(first), _date(last), reuse=reuse)
            log, subjects = data.query_log, data.subjects
        else:
            begin = self.last + 1 if first is None else max(self.last + 1, first)
            data = load_dataset(self.store, _date(begin), _date(last), reuse=reuse)
            held = self.days >= first if first is not None else np.ones(len(self.log), bool)
            old_log = self.log[held]
            old_ids = old_log["lookup_id"]
            old_subjects = self.subjects[isin(self.subjects["lookup_id"], old_ids).to_numpy()]
            log = pd.concat([old_log, data.query_log], ignore_index=True)
            subjects = pd.concat([old_subjects, data.subjects], ignore_index=True)
            data = dataclasses.replace(data, query_log=log, subjects=subjects)
        self.log, self.subjects, self.last = log, subjects, last
        self.days = local_day(to_us(log["time"]))
        return data

    def keep_from(self, lo: int | None) -> None:
        """Hold only the rows the part starting on day ``lo`` reads."""
        if self.log is None or self.subjects is None or lo is None:
            return
        held = self.days >= lo - MARGIN.days
        self.log = self.log[held].reset_index(drop=True)
        held_ids = self.log["lookup_id"]
        self.subjects = self.subjects[isin(self.subjects["lookup_id"], held_ids).to_numpy()]
        self.days = self.days[held]


def _date(day: int | None) -> dt.date | None:
    """Return the date of a day number (``None`` stays open)."""
    return None if day is None else dt.date(1970, 1, 1) + dt.timedelta(days=day)


def _drop_prepared(base: Any, shared: dict[str, Any]) -> Any:
    """Return ``base`` without the rows of the kinds every part now reads from ``shared``.

    The identifiers of records once the rules have found theirs in every
    field, and each of :data:`_PREPARED_KINDS` once its preparations are made.
    """
    empty = type(base).from_frames()
    dropped: dict[str, pd.DataFrame] = {}
    if all(f"identifiers:{k}" in shared for k in _IDENTIFIER_FIELDS):
        dropped["identifiers"] = empty.identifiers
    for kind, names in _PREPARED_KINDS.items():
        if all(name in shared for name in names):
            dropped[kind] = empty.frame(kind)
    return dataclasses.replace(base, **dropped) if dropped else base


def _write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix.lower() == ".parquet":
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)
        return path
    return write_csv(frame, path)


def _lookup_rows(lookups: pd.DataFrame, ext: str) -> pd.DataFrame:
    lookups = lookups.assign(time=_iso(lookups["time"]))
    if ext == ".csv":
        lookups = lookups.assign(
            suspicious=lookups["suspicious"].map({True: "true", False: "false"})
        )
    return lookups


def _month_days(month: str) -> tuple[int, int]:
    """Return the first and last day numbers of a ``YYYY-MM`` month."""
    year, number = (int(p) for p in month.split("-"))
    first = dt.date(year, number, 1)
    following = dt.date(year + number // 12, number % 12 + 1, 1)
    epoch = dt.date(1970, 1, 1)
    return (first - epoch).days, (following - epoch).days - 1


def parts(
    store: Any, lo: int | None, hi: int | None, limit: int = CHUNK_LOOKUPS
) -> list[tuple[int | None, int | None]]:
    """Split the days ``lo``..``hi`` of a store into parts of whole months.

    Consecutive stored months are grouped while their lookups (counted from
    the Parquet footers) stay within ``limit``; a part always holds at least
    one month. The first part starts at ``lo`` and the last ends at ``hi``
    (``None``: open), so the parts cover the range exactly.

    Returns
    -------
    list[tuple[int | None, int | None]]
        First and last day number of each part, in order.

    """
    groups: list[list[str]] = []
    held = 0
    for month in sorted(store.manifest.months):
        first, last = _month_days(month)
        if (lo is not None and last < lo) or (hi is not None and first > hi):
            continue
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in store.files("query_log", [month]))
        if groups and held + rows <= limit:
            groups[-1].append(month)
            held += rows
        else:
            groups.append([month])
            held = rows
    if len(groups) <= 1:
        return [(lo, hi)]
    bounds: list[tuple[int | None, int | None]] = [
        (_month_days(g[0])[0], _month_days(g[-1])[1]) for g in groups
    ]
    bounds[0] = (lo, bounds[0][1])
    bounds[-1] = (bounds[-1][0], hi)
    return bounds


def screen(
    source: Any,
    out: Path,
    *,
    start: Any = None,
    end: Any = None,
    unit: str | None = None,
    officer: str | None = None,
    config: Any = None,
    chunk_lookups: int = CHUNK_LOOKUPS,
) -> list[Path]:
    """Assess every lookup in range and write the ``kit screen`` files.

    Parameters
    ----------
    source
        A :class:`kit.dataset.Dataset` or a store.
    out
        ``FILE.csv`` (UTF-8 with BOM, formulas neutralised) or ``FILE.parquet``.
    start, end
        Inclusive dates, as for :func:`kit.assess.assess`.
    unit, officer
        Restrict to a unit (and units under it) or an officer.
    config
        Overrides of ``kit/rules.yaml``.
    chunk_lookups
        From a store, screen whole months at a time, at most this many lookups
        in range per part (see :func:`parts`); a dataset is screened whole.

    Returns
    -------
    list[pathlib.Path]
        FILE, ``<stem>.evidence.<ext>`` and, when the data holds
        communications, ``<stem>.communications.<ext>``.

    Raises
    ------
    ConfigError
        When FILE is neither ``.csv`` nor ``.parquet``.

    """
    out = Path(out)
    ext = out.suffix.lower()
    if ext not in (".csv", ".parquet"):
        raise ConfigError("the output file must end in .csv or .parquet", column="out")
    cfg = load_config(config)
    lo, hi = _day_number(start, "start"), _day_number(end, "end")
    from_store = not (hasattr(source, "query_log") and hasattr(source, "subjects"))
    bounds = parts(source, lo, hi, chunk_lookups) if from_store else [(lo, hi)]
    lookups_file = _Output(out)
    evidence_file = _Output(out.with_name(out.stem + ".evidence" + ext))
    comm_rows: list[pd.DataFrame] = []
    base: Any = None
    shared: dict[str, Any] = {}
    window = _Window(source) if len(bounds) > 1 else None
    for i, (part_lo, part_hi) in enumerate(bounds):
        if window is not None:
            data = window.load(part_lo, part_hi, base)
        else:
            data = _load(source, part_lo, part_hi, reuse=base)
        if from_store and base is None and len(bounds) > 1:
            empty = type(data).from_frames()
            base = dataclasses.replace(data, query_log=empty.query_log, subjects=empty.subjects)
        evaluation = evaluate(data, cfg, part_lo, part_hi, officer, unit, shared, narrow=True)
        del data
        lookups_file.append(_lookup_rows(evaluation.lookups, ext))
        evidence_file.append(evaluation.evidence)
        comm_rows.append(evaluation.communication_rows)
        counts = evaluation.record_counts
        communications = evaluation.ctx.data.communications
        del evaluation
        if window is not None and i + 1 < len(bounds):
            window.keep_from(bounds[i + 1][0])
        if base is not None:
            base = _drop_prepared(base, shared)
        gc.collect()
        pa.default_memory_pool().release_unused()
    written = [lookups_file.close(), evidence_file.close()]
    if counts.get("communications", 0) > 0:
        comms = communication_table(communications, pd.concat(comm_rows, ignore_index=True))
        if len(comms):
            comms = comms.assign(time=_iso(comms["time"]))
        written.append(_write(comms, out.with_name(out.stem + ".communications" + ext)))
    return written
