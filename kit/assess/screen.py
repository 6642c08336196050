"""Write a screening to files (OUTPUTS.md, ``kit screen``).

A store is screened a few months at a time: each part is loaded with its
31-day margins (a lookup's result does not depend on the range asked for,
DOMAIN.md "context"), assessed, and its lookups and evidence appended to the
output files before the next part is loaded, so memory is bounded by one part
and its margins rather than by the whole range. The kinds other than the query
log are read once and shared by every part. The lookups file is the same
whichever the parts; the evidence file lists each part's rows together.

With several cores the months are split into runs of about equal lookups, one
per process: the records are read and prepared here, the workers are forked
and see them without copies, and their rows are appended after this process's
own, in order (as many processes as the memory left holds).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import datetime as dt
import gc
import itertools
import os
import pickle
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kit.assess.config import load_config
from kit.assess.context import local_day, subject_rows, to_us
from kit.assess.engine import (
    MARGIN,
    _day_number,
    _load,
    communication_table,
    evaluate,
    prepare_records,
)
from kit.errors import ConfigError
from kit.export import neutralise_formulas, write_csv
from kit.frames import single_chunk, take_rows

__all__ = ["CHUNK_LOOKUPS", "screen"]

CHUNK_LOOKUPS = 1_500_000
"""Lookups in range screened at once from a store (whole months; at least one), unless the
memory left after the records holds larger parts (see :func:`_grown`)."""

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

    def __init__(self, path: Path, *, header: bool = True) -> None:
        self.path = path
        self.parquet = path.suffix.lower() == ".parquet"
        self.header = header
        self.writer: pq.ParquetWriter | None = None
        self.handle: TextIO | None = None

    def append(self, frame: pd.DataFrame) -> None:
        """Append rows; the first call writes the header (CSV) or fixes the schema (Parquet)."""
        if self.parquet:
            self.append_table(pa.Table.from_pandas(frame, preserve_index=False))
        elif self.handle is None and self.header:
            write_csv(frame, self.path)
            self.handle = self.path.open("a", encoding="utf-8", newline="")
        else:
            if self.handle is None:
                self.handle = self.path.open("w", encoding="utf-8", newline="")
            neutralise_formulas(frame).to_csv(
                self.handle, header=False, index=False, lineterminator="\n"
            )

    def append_table(self, table: pa.Table) -> None:
        """Append an Arrow table of the columns :meth:`append` writes (Parquet only)."""
        if self.writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.writer.write_table(table.cast(self.writer.schema))

    def append_lines(self, path: Path) -> None:
        """Append the CSV lines (no header) another process wrote to ``path``."""
        if self.handle is None:
            raise RuntimeError("the CSV header is written before another process's lines")
        self.handle.flush()
        with path.open("rb") as lines:
            shutil.copyfileobj(lines, self.handle.buffer, 1 << 20)
        self.handle.buffer.flush()

    def close(self) -> Path:
        """Finish the file and return its path."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.handle is not None:
            self.handle.close()
            self.handle = None
        return self.path


class _Spool:
    """The rows of the parts a worker process screens, for the parent to append in order.

    Parquet output: each part's rows as an Arrow IPC file (the parent writes
    them into its Parquet file); CSV: the lines without header, in one file.
    """

    def __init__(self, folder: Path, name: str, parquet: bool) -> None:
        self.folder = folder
        self.name = name
        self.parquet = parquet
        self.count = 0
        self.lines = None if parquet else _Output(folder / f"{name}.csv", header=False)

    def append(self, frame: pd.DataFrame) -> None:
        """Keep one part's rows."""
        if self.lines is not None:
            self.lines.append(frame)
        else:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            path = self.folder / f"{self.name}-{self.count}.arrow"
            with pa.ipc.new_file(path, table.schema) as writer:
                writer.write_table(table)
        self.count += 1

    def close(self) -> None:
        """Finish the files."""
        if self.lines is not None:
            self.lines.close()

    def into(self, output: _Output, parts: int) -> None:
        """Append the rows a worker kept of its ``parts`` parts, in order, to ``output``."""
        if self.lines is not None:
            output.append_lines(self.lines.path)
            return
        for i in range(parts):
            with pa.memory_map(str(self.folder / f"{self.name}-{i}.arrow")) as source:
                output.append_table(pa.ipc.open_file(source).read_all())


class _Window:
    """The query log and subjects of a store read part after part, each day once.

    A part reads its days and :data:`kit.assess.engine.MARGIN` on each side;
    consecutive parts' windows overlap by about two margins. The rows of the
    overlap are kept from the part before, and only the days after it are
    read from the store. Parts come in order, so the rows held (in time order)
    followed by the rows read are the rows of the window in time order, as one
    read of the whole window returns them; each lookup's subjects come from
    its own month's file, in the same order either way.

    ``rows`` holds the position of each subject's lookup in ``log``: the
    subjects read are matched to the lookups read with them, once, and the
    positions of those held are carried from one part to the next (matching
    a whole window's subjects on their 64-character lookup IDs again, twice
    a part, took 4-5 s of a 10 M part).
    """

    def __init__(self, store: Any) -> None:
        self.store = store
        self.log: pd.DataFrame | None = None
        self.subjects: pd.DataFrame | None = None
        self.rows = np.zeros(0, dtype=np.int64)
        self.days = np.zeros(0, dtype=np.int64)
        self.last: int | None = None
        self.pending: tuple[int | None, int | None] | None = None

    def preload(self, lo: int | None, hi: int | None) -> None:
        """Read the lookups of the first part, ``lo``..``hi``, before its records are at hand.

        :meth:`load` of the same part then returns them with its records.
        """
        from kit.dataset import Dataset

        self.load(lo, hi, Dataset.from_frames())
        self.pending = (lo, hi)

    def nbytes(self) -> int:
        """Return the memory the lookups and subjects held take."""
        frames = [f for f in (self.log, self.subjects) if f is not None]
        return int(sum(f.memory_usage(deep=True).sum() for f in frames)) + self.rows.nbytes

    def load(self, lo: int | None, hi: int | None, reuse: Any) -> Any:
        """Return the dataset of the days ``lo``..``hi`` with their margins (``reuse``: records)."""
        from kit.store import load_dataset

        margin = MARGIN.days
        first = None if lo is None else lo - margin
        last = None if hi is None else hi + margin
        if self.pending is not None:
            preloaded, self.pending = self.pending == (lo, hi), None
            if preloaded and reuse is not None:
                return dataclasses.replace(reuse, query_log=self.log, subjects=self.subjects)
            self.log = self.subjects = self.last = None
        if self.log is None or self.subjects is None or self.last is None:
            data = load_dataset(self.store, _date(first), _date(last), reuse=reuse)
            log, subjects = data.query_log, data.subjects
            rows = subject_rows(log, subjects)
        else:
            begin = self.last + 1 if first is None else max(self.last + 1, first)
            data = load_dataset(self.store, _date(begin), _date(last), reuse=reuse)
            if first is not None:
                self._hold(self.days >= first)
            new_rows = subject_rows(data.query_log, data.subjects)
            rows = np.concatenate(
                [self.rows, np.where(new_rows >= 0, new_rows + len(self.log), -1)]
            )
            log = single_chunk(pd.concat([self.log, data.query_log], ignore_index=True))
            subjects = pd.concat([self.subjects, data.subjects], ignore_index=True)
            data = dataclasses.replace(data, query_log=log, subjects=subjects)
        self.log, self.subjects, self.rows, self.last = log, subjects, rows, last
        self.days = local_day(to_us(log["time"]))
        return data

    def _hold(self, held: np.ndarray) -> None:
        """Keep the lookups where ``held`` and their subjects (in order), renumbering ``rows``."""
        if self.log is None or self.subjects is None or held.all():
            return
        renumbered = np.cumsum(held) - 1
        kept = self.rows >= 0
        kept[kept] = held[self.rows[kept]]
        self.log = take_rows(self.log, np.flatnonzero(held))
        self.subjects = take_rows(self.subjects, np.flatnonzero(kept))
        self.rows = renumbered[self.rows[kept]]
        self.days = self.days[held]

    def keep_from(self, lo: int | None) -> None:
        """Hold only the rows the part starting on day ``lo`` reads."""
        if lo is not None:
            self._hold(self.days >= lo - MARGIN.days)


class _Preload:
    """The first window of each run, read in a thread meanwhile.

    While this process reads and prepares the records (one core), a thread
    reads the lookups of the runs' first parts (DuckDB, mostly without the
    GIL) on the other: at 1 M lookups the two took 5 s and 3 s one after the
    other.
    """

    def __init__(self, source: Any, parts: list[tuple[int | None, int | None]]) -> None:
        self.windows = [_Window(source) for _ in parts]
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._read, args=(parts,), daemon=True)
        self.thread.start()

    def _read(self, parts: list[tuple[int | None, int | None]]) -> None:
        try:
            for window, (lo, hi) in zip(self.windows, parts, strict=True):
                window.preload(lo, hi)
        except BaseException as error:  # raised in the calling thread by join()
            self.error = error

    def join(self) -> list[_Window]:
        """Wait for the reading and return the windows (or raise the thread's error)."""
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.windows


def _date(day: int | None) -> dt.date | None:
    """Return the date of a day number (``None`` stays open)."""
    return None if day is None else dt.date(1970, 1, 1) + dt.timedelta(days=day)


def _records_only(data: Any) -> Any:
    """Return a dataset's kinds other than the query log (with empty lookups and subjects)."""
    empty = type(data).from_frames()
    return dataclasses.replace(data, query_log=empty.query_log, subjects=empty.subjects)


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


def _month_rows(store: Any, lo: int | None, hi: int | None) -> list[tuple[str, int]]:
    """Return the stored months that overlap the days ``lo``..``hi``, with their lookups."""
    months = []
    for month in sorted(store.manifest.months):
        first, last = _month_days(month)
        if (lo is not None and last < lo) or (hi is not None and first > hi):
            continue
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in store.files("query_log", [month]))
        months.append((month, rows))
    return months


def _grouped(
    months: list[tuple[str, int]], lo: int | None, hi: int | None, limit: int
) -> tuple[list[tuple[int | None, int | None]], list[int]]:
    """Return the parts of :func:`parts` and the lookups of each."""
    groups: list[list[str]] = []
    sizes: list[int] = []
    for month, rows in months:
        if groups and sizes[-1] + rows <= limit:
            groups[-1].append(month)
            sizes[-1] += rows
        else:
            groups.append([month])
            sizes.append(rows)
    if len(groups) <= 1:
        return [(lo, hi)], [sum(sizes)]
    bounds: list[tuple[int | None, int | None]] = [
        (_month_days(g[0])[0], _month_days(g[-1])[1]) for g in groups
    ]
    bounds[0] = (lo, bounds[0][1])
    bounds[-1] = (bounds[-1][0], hi)
    return bounds, sizes


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
    return _grouped(_month_rows(store, lo, hi), lo, hi, limit)[0]


def _shares(sizes: list[int], jobs: int) -> list[range]:
    """Split consecutive parts into at most ``jobs`` runs of about equal lookups.

    Each run is a ``range`` of part positions; runs are consecutive, in
    order, and none is empty.
    """
    if jobs <= 1 or len(sizes) <= 1:
        return [range(len(sizes))]
    total = sum(sizes)
    ends = np.cumsum(sizes)
    cuts = [0]
    for k in range(1, min(jobs, len(sizes))):
        # the cut nearest to k / jobs of the lookups, after the previous cut
        at = int(np.argmin(np.abs(ends - total * k / jobs))) + 1
        at = min(max(at, cuts[-1] + 1), len(sizes) - 1)
        if at > cuts[-1]:
            cuts.append(at)
    cuts.append(len(sizes))
    return [range(a, b) for a, b in itertools.pairwise(cuts) if b > a]


BYTES_PER_LOOKUP = 2_400
"""Memory a screening process needs per lookup of its window, beyond the records it
shares with the others. Measured with two processes and no huge pages
(:func:`_without_huge_pages`): at 11 M lookups, monthly windows of 2.86 M lookups, 15.9 GB
in all at the peak of which 5.4 GB of records, so 1.8 KB per window lookup; at 1 M, 2.7 GB
in all for windows of 0.55 M, records and interpreters included (2.4 KB). With huge pages
it was 2.2–2.4 KB at 11 M. The records' memory is not counted: it is the memory already
used when :func:`affordable_jobs` is asked, once the freed pages were given back
(:func:`_give_back_memory`)."""


def _give_back_memory() -> None:
    """Free what is no longer referenced and hand the freed pages back to the system.

    Arrow's allocator and C's ``malloc`` keep freed pages for reuse: after the
    records of 10 M lookups were prepared and their raw rows dropped, the
    process still held 12 GB, of which 5 GB were free pages, and the system
    counted them as used when deciding how many processes fit
    (:func:`affordable_jobs`).
    """
    gc.collect()
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL(None).malloc_trim(0)


_PR_SET_THP_DISABLE, _PR_GET_THP_DISABLE = 41, 42
"""Linux ``prctl`` options: (do not) back the process's memory with transparent huge pages."""


@contextlib.contextmanager
def _without_huge_pages() -> Iterator[None]:
    """Keep Linux from backing this process's memory with huge pages meanwhile (forks too).

    The process's allocators ask for transparent huge pages where Linux lets
    them (numpy's hint is not the one that matters here), and a 2 MB page stays
    whole in memory while any of it is used: the records of 11 M lookups took
    6.4 GB read and 6.2 GB prepared with huge pages, 4.6 and 5.4 GB without.
    Elsewhere than Linux nothing is done; the setting before is restored after.
    """
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
        before = prctl(_PR_GET_THP_DISABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux
        before = -1
    if before < 0 or prctl(_PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0:
        yield
        return
    try:
        yield
    finally:
        prctl(_PR_SET_THP_DISABLE, before, 0, 0, 0)


def _available_memory() -> int | None:
    """Return the memory the system can still give (``MemAvailable``), or ``None`` if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def affordable_jobs(wanted: int, windows: list[int], available: int | None) -> int:
    """Return how many processes may screen at once without running out of memory.

    Parameters
    ----------
    wanted
        Processes asked for.
    windows
        Lookups each process holds at most (its largest part with margins).
    available
        Bytes the system can still give, ``None`` when unknown (then ``wanted``).

    Returns
    -------
    int
        The most processes, up to ``wanted``, whose windows at
        :data:`BYTES_PER_LOOKUP` fit in 80 % of ``available``; at least 1.

    """
    if available is None or wanted <= 1:
        return max(1, wanted)
    need = sorted(windows, reverse=True)[:wanted]
    count = 0
    while count < len(need) and _fits(need[: count + 1], available):
        count += 1
    return max(1, count)


def _windows(
    months: list[tuple[str, int]], bounds: list[tuple[int | None, int | None]], runs: list[range]
) -> list[int]:
    """Return the largest window (lookups of a part and its margins) of each run.

    A month's lookups count in proportion to its days inside the window (a
    part starting on 1 March reads 31 days before it: three days of January
    and all of February, not all of January).
    """
    spans = [_month_days(month) for month, _ in months]
    largest = []
    for positions in runs:
        most = 0
        for i in positions:
            lo, hi = bounds[i]
            first = -(10**9) if lo is None else lo - MARGIN.days
            last = 10**9 if hi is None else hi + MARGIN.days
            rows = sum(
                n * max(0, min(b, last) - max(a, first) + 1) // (b - a + 1)
                for (a, b), (_, n) in zip(spans, months, strict=True)
            )
            most = max(most, rows)
        largest.append(most)
    return largest


def _planned(
    months: list[tuple[str, int]], lo: int | None, hi: int | None, limit: int, workers: int
) -> tuple[list[tuple[int | None, int | None]], list[int], list[range]]:
    """Split the months into runs of about equal lookups, one per worker, and each into parts.

    Returns the parts (as :func:`parts`, at most ``limit`` lookups each), the
    lookups of each part, and the runs as ranges of part positions.
    """
    bounds: list[tuple[int | None, int | None]] = []
    sizes: list[int] = []
    runs: list[range] = []
    month_runs = _shares([rows for _, rows in months], workers)
    for n, positions in enumerate(month_runs):
        chosen = [months[i] for i in positions]
        first = lo if n == 0 or not chosen else _month_days(chosen[0][0])[0]
        last = hi if n == len(month_runs) - 1 or not chosen else _month_days(chosen[-1][0])[1]
        run_bounds, run_sizes = _grouped(chosen, first, last, max(limit, 1))
        runs.append(range(len(bounds), len(bounds) + len(run_bounds)))
        bounds += run_bounds
        sizes += run_sizes
    return bounds, sizes, runs


def _fits(windows: list[int], available: int | None) -> bool:
    """Whether processes holding ``windows`` lookups each fit in the memory ``available`` at once.

    The budget of :func:`affordable_jobs` and :func:`_grown`: :data:`BYTES_PER_LOOKUP`
    per window lookup within 80 % of ``available`` (unknown: never).
    """
    return available is not None and sum(windows) * BYTES_PER_LOOKUP <= 0.8 * available


def _grown(
    months: list[tuple[str, int]],
    lo: int | None,
    hi: int | None,
    limit: int,
    workers: int,
    available: int | None,
) -> tuple[list[tuple[int | None, int | None]], list[int], list[range]]:
    """Return the plan of :func:`_planned` with parts as large as the memory ``available`` holds.

    Starting from parts of at most ``limit`` lookups, two neighbouring parts
    of a run are merged (the smallest such pair, by raising the limit to
    their lookups) while every run's largest window still fits (:func:`_fits`).
    Each part rebuilds the context of its window, and a window reaches
    :data:`kit.assess.engine.MARGIN` beyond its part on each side: 11 M
    lookups in monthly parts read three months for each month screened, and
    took 326 s against 286 s in parts grown so (the same files). Parts
    never grow beyond what the memory holds; when the first plan's windows
    do not fit already, it is returned as it is.
    """
    plan = _planned(months, lo, hi, limit, workers)
    while True:
        _, sizes, runs = plan
        pairs = [sizes[i] + sizes[i + 1] for r in runs for i in list(r)[:-1]]
        if not pairs:
            return plan
        trial = _planned(months, lo, hi, min(pairs), workers)
        if not _fits(_windows(months, trial[0], trial[2]), available):
            return plan
        plan = trial


def screen_jobs(jobs: int | None) -> int:
    """Return how many processes screen at once: ``jobs``, else the cores (1 without fork)."""
    from kit.children import in_background

    if not in_background():
        return 1
    return max(1, jobs if jobs is not None else (os.cpu_count() or 1))


@dataclasses.dataclass(frozen=True)
class _Task:
    """What every process of a screening is asked (the same for each part)."""

    config: Any
    officer: str | None
    unit: str | None
    ext: str
    from_store: bool
    several: bool
    """Screened in more than one part (a window carries lookups from one to the next)."""


@dataclasses.dataclass
class _Run:
    """What one process hands back from screening its run of parts."""

    comm_rows: list[pd.DataFrame]
    counts: dict[str, int]
    communications: pd.DataFrame | None


def _screen_run(
    source: Any,
    bounds: list[tuple[int | None, int | None]],
    base: Any,
    task: _Task,
    lookups_out: _Output | _Spool,
    evidence_out: _Output | _Spool,
    shared: dict[str, Any] | None = None,
    window: _Window | None = None,
) -> _Run:
    """Screen consecutive parts in this process and append their rows.

    ``base``: the records of a store screened in several parts (``None``
    otherwise, or to take them from the first part). The parts share their
    preparations of the records (``shared``: those made before, if any).
    ``window``: the window of the parts, its first part read already.
    """
    from_store, several = task.from_store, task.several
    shared = {} if shared is None else shared
    if several and window is None:
        window = _Window(source)
    run = _Run([], {}, None)
    for i, (part_lo, part_hi) in enumerate(bounds):
        rows = None
        if window is not None:
            data = window.load(part_lo, part_hi, base)
            rows = window.rows
        else:
            data = _load(source, part_lo, part_hi, reuse=base)
        if from_store and base is None and several:
            base = _records_only(data)
        evaluation = evaluate(
            data,
            task.config,
            part_lo,
            part_hi,
            task.officer,
            task.unit,
            shared,
            narrow=True,
            subject_rows=rows,
        )
        del data, rows
        lookups_out.append(_lookup_rows(evaluation.lookups, task.ext))
        evidence_out.append(evaluation.evidence)
        run.comm_rows.append(evaluation.communication_rows)
        run.counts = evaluation.record_counts
        run.communications = evaluation.ctx.data.communications
        del evaluation
        if window is not None and i + 1 < len(bounds):
            window.keep_from(bounds[i + 1][0])
        if base is not None:
            base = _drop_prepared(base, shared)
        _give_back_memory()
    return run


def _worker(
    source: Any,
    bounds: list[tuple[int | None, int | None]],
    base: Any,
    shared: dict[str, Any],
    task: _Task,
    folder: Path,
    name: str,
    window: _Window | None,
) -> None:
    """Body of a forked worker: screen its parts into ``folder``, report, exit."""
    status = 1
    try:
        source.in_forked_child()
        parquet = task.ext == ".parquet"
        lookups = _Spool(folder, name + ".lookups", parquet)
        evidence = _Spool(folder, name + ".evidence", parquet)
        run = _screen_run(source, bounds, base, task, lookups, evidence, shared, window)
        lookups.close()
        evidence.close()
        run.communications = None  # the parent holds the same records
        with (folder / f"{name}.run.pickle").open("wb") as out:
            pickle.dump(run, out, protocol=pickle.HIGHEST_PROTOCOL)
        status = 0
    except BaseException as error:  # every failure is handed to the parent
        try:
            with (folder / f"{name}.error.pickle").open("wb") as out:
                pickle.dump(error, out, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # an error that cannot be pickled: its type is reported
            (folder / f"{name}.error.txt").write_text(type(error).__name__, encoding="utf-8")
    finally:
        os._exit(status)


def _stop(pids: list[int]) -> None:
    """End the workers still running (the screening failed) and reap them."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _joined(pid: int, folder: Path, name: str) -> _Run:
    """Wait for a worker and return what it handed back, or raise its error."""
    from kit.errors import KitError

    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code == 0:
        with (folder / f"{name}.run.pickle").open("rb") as handle:
            run: _Run = pickle.load(handle)
        return run
    error_file = folder / f"{name}.error.pickle"
    if error_file.exists():
        with error_file.open("rb") as handle:
            error = pickle.load(handle)
        raise error
    what = (folder / f"{name}.error.txt").read_text(encoding="utf-8") if code > 0 else ""
    how = f"stopped with {what}" if what else f"ended (exit status {code})"
    if code < 0:
        how += ", most likely for lack of memory"
    raise KitError(
        f"a screening worker process {how}; run the screening again with --jobs 1 "
        "(one process, less memory)"
    )


@dataclasses.dataclass(frozen=True)
class _Plan:
    """What a screening from a store splits into parts: its months, range and part limit."""

    months: list[tuple[str, int]]
    lo: int | None
    hi: int | None
    limit: int
    grow: bool
    """Whether parts may hold more than ``limit`` lookups when memory allows (:func:`_grown`)."""


def _screen_in_processes(
    source: Any,
    plan: _Plan,
    bounds: list[tuple[int | None, int | None]],
    sizes: list[int],
    runs: list[range],
    task: _Task,
    out: Path,
    lookups_file: _Output,
    evidence_file: _Output,
) -> _Run:
    """Screen each run of parts in its own process; this one takes the first.

    The records (every kind but the query log) are read and prepared here
    once (:func:`kit.assess.engine.prepare_records`); the forked workers see
    them as they are, without copies. With the records prepared, as many
    runs as the memory left holds are screened at once and, with
    ``plan.grow``, their parts are made as large as it holds (:func:`_grown`).
    Each worker keeps its rows in a folder beside FILE; they are appended to
    the files after this process's own, in the order of the parts, so the
    files are those one process would write.
    """
    from kit.children import fork
    from kit.store import load_dataset

    day = next((b for b in (bounds[0][0], bounds[0][1]) if b is not None), None)
    if day is None:
        day = _month_days(min(source.manifest.months))[0]
    # the runs' first windows are read meanwhile when all the lookups in range fit in memory
    # twice over (a small store); not in a large one, where the window read beside the
    # records' preparation raised the peak (11 M lookups: 14.6 GB against 13.0-13.2 GB)
    months = plan.months
    available = _available_memory()
    small = available is not None and sum(n for _, n in months) * BYTES_PER_LOOKUP < available / 2
    if small and plan.grow:  # the parts that the memory left after the records will hold
        bounds, sizes, runs = _grown(months, plan.lo, plan.hi, plan.limit, len(runs), available)
    preload = _Preload(source, [bounds[r[0]] for r in runs] if small else [])
    windows: list[_Window | None] = []
    try:
        base = _records_only(load_dataset(source, _date(day), _date(day)))
        shared = prepare_records(base, task.config)
        base = _drop_prepared(base, shared)
    finally:
        windows += preload.join()
    _give_back_memory()
    # with the records read, as many processes as the memory left allows (the windows
    # read are part of what each process needs)
    available = _available_memory()
    if available is not None:
        available += sum(w.nbytes() for w in windows if w is not None)
    fits = affordable_jobs(len(runs), _windows(months, bounds, runs), available)
    if plan.grow:
        new_bounds, _, new_runs = _grown(months, plan.lo, plan.hi, plan.limit, fits, available)
    else:
        new_bounds, new_runs = bounds, _shares(sizes, fits) if fits < len(runs) else runs
    # a window read beforehand stays with its run while the run's first part is the same
    same = [
        i < len(new_runs) and new_bounds[new_runs[i][0]] == bounds[runs[i][0]]
        for i in range(len(windows))
    ]
    windows = [w if keep else None for w, keep in zip(windows, same, strict=True)]
    del windows[len(new_runs) :]
    bounds, runs = new_bounds, new_runs
    if not all(same):
        _give_back_memory()
    windows += [None] * (len(runs) - len(windows))
    if len(runs) == 1:
        return _screen_run(
            source, bounds, base, task, lookups_file, evidence_file, shared, windows[0]
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".kit-screen-", dir=out.parent) as tmp:
        folder = Path(tmp)
        workers: list[tuple[int, str, range]] = []
        for n, positions in enumerate(runs[1:], start=1):
            name = f"run{n}"
            pid = fork()
            if pid == 0:
                own_bounds = [bounds[i] for i in positions]
                _worker(source, own_bounds, base, shared, task, folder, name, windows[n])
            workers.append((pid, name, positions))
        windows[1:] = [None] * (len(windows) - 1)  # the workers' windows are theirs
        try:
            own = [bounds[i] for i in runs[0]]
            run = _screen_run(
                source, own, base, task, lookups_file, evidence_file, shared, windows[0]
            )
            handed = []
            while workers:
                pid, name, positions = workers[0]
                handed.append((_joined(pid, folder, name), name, positions))
                workers.pop(0)
        except BaseException:
            _stop([pid for pid, _, _ in workers])
            raise
        parquet = task.ext == ".parquet"
        for other, name, positions in handed:
            for spool, output in (("lookups", lookups_file), ("evidence", evidence_file)):
                _Spool(folder, f"{name}.{spool}", parquet).into(output, len(positions))
            run.comm_rows.extend(other.comm_rows)
    return run


def screen(
    source: Any,
    out: Path,
    *,
    start: Any = None,
    end: Any = None,
    unit: str | None = None,
    officer: str | None = None,
    config: Any = None,
    chunk_lookups: int | None = None,
    jobs: int | None = None,
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
        Default: parts of up to :data:`CHUNK_LOOKUPS`, made larger once the
        records are prepared if the memory left holds larger ones (fewer
        parts read fewer margins; see :func:`_grown`).
    jobs
        From a store, processes screening at once (default: the cores; see
        :func:`screen_jobs`). The months are split into that many runs of
        parts of about equal lookups, each run screened by its own process;
        the files are the same whatever the number.

    Returns
    -------
    list[pathlib.Path]
        FILE, ``<stem>.evidence.<ext>`` and, when the data holds
        communications, ``<stem>.communications.<ext>``.

    Raises
    ------
    ConfigError
        When FILE is neither ``.csv`` nor ``.parquet``.
    kit.errors.KitError
        When a worker process fails without an error of its own (killed).

    """
    out = Path(out)
    ext = out.suffix.lower()
    if ext not in (".csv", ".parquet"):
        raise ConfigError("the output file must end in .csv or .parquet", column="out")
    cfg = load_config(config)
    lo, hi = _day_number(start, "start"), _day_number(end, "end")
    from_store = not (hasattr(source, "query_log") and hasattr(source, "subjects"))
    workers = screen_jobs(jobs) if from_store else 1
    limit = CHUNK_LOOKUPS if chunk_lookups is None else chunk_lookups
    if from_store:
        months = _month_rows(source, lo, hi)
        bounds, sizes, runs = _planned(months, lo, hi, limit, workers)
    else:
        months, bounds, sizes, runs = [], [(lo, hi)], [0], [range(1)]
    # parts may grow with the memory left once the records are prepared (not when told)
    plan = _Plan(months, lo, hi, limit, grow=chunk_lookups is None)
    task = _Task(cfg, officer, unit, ext, from_store, several=len(bounds) > 1)
    lookups_file = _Output(out)
    evidence_file = _Output(out.with_name(out.stem + ".evidence" + ext))
    try:
        with _without_huge_pages():
            if len(runs) == 1 and not (task.several and plan.grow):
                run = _screen_run(source, bounds, None, task, lookups_file, evidence_file)
            else:
                run = _screen_in_processes(
                    source, plan, bounds, sizes, runs, task, out, lookups_file, evidence_file
                )
    except BaseException:
        # no half-written file that could pass for a screening
        for output in (lookups_file, evidence_file):
            output.close().unlink(missing_ok=True)
        raise
    written = [lookups_file.close(), evidence_file.close()]
    if run.counts.get("communications", 0) > 0 and run.communications is not None:
        rows = pd.concat(run.comm_rows, ignore_index=True)
        comms = communication_table(run.communications, rows)
        if len(comms):
            comms = comms.assign(time=_iso(comms["time"]))
        written.append(_write(comms, out.with_name(out.stem + ".communications" + ext)))
    return written
