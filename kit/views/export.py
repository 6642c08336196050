"""Writing evidence tables: one CSV each and one ``evidence.xlsx`` with a sheet per table.

The CSVs go through :func:`kit.export.write_csv` (UTF-8 with BOM, formulas
neutralised). The workbook holds the same cells, neutralised the same way
(:func:`kit.export.neutralise_formulas`), text written as inline strings so
no cell is ever read as a formula, with a frozen header row, column widths
fitted to the content, and a fixed creation time so the same tables always
give the same bytes (:mod:`kit.views.xlsx`).

:func:`start_export_tables` writes the same files in a child process (forked,
so the tables are not copied or pickled) while the caller goes on with other
work, such as drawing the report's figures on the machine's other core;
:meth:`FilesInProgress.wait` joins it. :func:`write_in_child` does the same
for any writer (the bundle maker writes the notebook that way while it
exports the report).
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import pickle
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np
import pandas as pd

from kit.children import fork, in_background
from kit.errors import BundleError, ConfigError, KitError
from kit.export import neutralise_formulas, write_csv
from kit.views.xlsx import MAX_SHEET_ROWS, SheetColumn, write_workbook

__all__ = [
    "WORKBOOK_NAME",
    "FilesInProgress",
    "ResultInProgress",
    "compute_in_child",
    "export_tables",
    "start_export_tables",
    "write_in_child",
]

T = TypeVar("T")

WORKBOOK_NAME = "evidence.xlsx"
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


def _sheet(frame: pd.DataFrame) -> tuple[list[SheetColumn], int]:
    """Return a table's columns as the workbook writer takes them, formulas neutralised."""
    safe = neutralise_formulas(frame)
    cells = _cell_text(safe)
    columns = []
    for header in safe.columns:
        series = safe[header]
        numeric = pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
            series.dtype
        )
        values = cells[header].to_numpy(dtype=object)
        numbers = (
            pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            if numeric
            else None
        )
        lengths = [len(str(header))] + [len(v) for v in values[:2000]]
        width = min(MAX_WIDTH, max(8, int(np.max(lengths)) + 2))
        columns.append(SheetColumn(str(header), values.tolist(), numbers, width))
    return columns, len(safe)


def _parts(name: str, frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Return the sheets of a table: one, or more when it has more rows than a sheet holds."""
    base = _SHEET_FORBIDDEN.sub("_", name)
    starts = range(0, max(len(frame), 1), MAX_SHEET_ROWS)
    if len(starts) == 1:
        return [(base[:31], frame)]
    return [
        (f"{base[:25]} ({i})" if i > 1 else base[:31], frame.iloc[start : start + MAX_SHEET_ROWS])
        for i, start in enumerate(starts, start=1)
    ]


def _checked_folder(tables: dict[str, pd.DataFrame], out_dir: Path | str) -> Path:
    folder = Path(out_dir)
    bad = [name for name in tables if not _NAME.match(name)]
    if bad:
        raise ConfigError(f"table names must be plain file names: {', '.join(map(repr, bad))}")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


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
    folder = _checked_folder(tables, out_dir)
    paths = [write_csv(frame, folder / f"{name}.csv") for name, frame in tables.items()]
    target = folder / WORKBOOK_NAME
    sheets = [
        (sheet, *_sheet(part))
        for name, frame in tables.items()
        for sheet, part in _parts(name, frame)
    ]
    write_workbook(target, sheets)
    paths.append(target)
    return paths


@dataclass
class FilesInProgress:
    """Files being written by a child process (:func:`write_in_child`).

    Attributes
    ----------
    paths
        The files being written.
    what
        What they are, for an error message (``the evidence tables``).
    pid
        The child process, or ``None`` once joined (or when written in place).

    """

    paths: list[Path]
    what: str = "the files"
    pid: int | None = None
    _reasons: int | None = field(default=None, repr=False)

    def wait(self) -> list[Path]:
        """Wait until every file is written; return the paths.

        Raises
        ------
        kit.errors.BundleError
            The child failed; its reason names the exception (and the kit's
            own message, which never carries identifiers).

        """
        if self.pid is None:
            return list(self.paths)
        chunks = []
        if self._reasons is not None:
            while chunk := os.read(self._reasons, 65536):
                chunks.append(chunk)
            os.close(self._reasons)
            self._reasons = None
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            reason = b"".join(chunks).decode("utf-8", "replace") or f"exit status {code}"
            raise BundleError(f"writing {self.what} failed: {reason}")
        return list(self.paths)


def _run_in_child(write: Callable[[], object], reasons: int) -> None:
    """Body of a forked writer: write, report a failure on ``reasons``, exit."""
    status = 1
    try:
        # Nothing is printed from here: the parent's streams may be a kernel's sockets.
        sys.stdout = sys.stderr = io.StringIO()
        gc.disable()
        write()
        status = 0
    except BaseException as error:  # every failure is reported to the parent
        message = str(error).splitlines()[0] if isinstance(error, KitError) and str(error) else ""
        reason = f"{type(error).__name__}: {message}" if message else type(error).__name__
        os.write(reasons, reason.encode("utf-8", "replace")[:4000])
    finally:
        os._exit(status)


def write_in_child(
    write: Callable[[], object], paths: list[Path], what: str = "the files"
) -> FilesInProgress:
    """Run ``write`` in a forked child process and return at once.

    The child sees the parent's objects as they are now without copying or
    pickling them, runs ``write`` and exits; join it with
    :meth:`FilesInProgress.wait` before using ``paths``. Where processes
    cannot be forked, or when the environment says ``KIT_BACKGROUND_WRITERS=0``
    (batch items, which keep to one core each), ``write`` runs before returning.

    Parameters
    ----------
    write
        Writes the files (its return value is ignored).
    paths
        The files it writes, returned by :meth:`FilesInProgress.wait`.
    what
        What they are, for an error message.

    """
    if not in_background():
        write()
        return FilesInProgress(list(paths), what)
    reasons, report = os.pipe()
    pid = fork()
    if pid == 0:
        os.close(reasons)
        _run_in_child(write, report)
    os.close(report)
    return FilesInProgress(list(paths), what, pid, reasons)


@dataclass
class ResultInProgress(Generic[T]):
    """A value being computed by a child process (:func:`compute_in_child`).

    Attributes
    ----------
    compute
        What computes it (run here if the child could not deliver it).
    pid
        The child process, or ``None`` once joined (or when computed in place).

    """

    compute: Callable[[], T]
    pid: int | None = None
    _pipe: int | None = field(default=None, repr=False)
    _value: list[T] = field(default_factory=list, repr=False)

    def result(self) -> T:
        """Return the value, waiting for the child if it is still at work.

        Should the child have failed, the value is computed here from the
        same inputs (so an error in ``compute`` is raised here, as it would
        have been without a child).
        """
        if self.pid is not None:
            chunks = []
            if self._pipe is not None:
                while chunk := os.read(self._pipe, 1 << 20):
                    chunks.append(chunk)
                os.close(self._pipe)
                self._pipe = None
            _, status = os.waitpid(self.pid, 0)
            self.pid = None
            if os.waitstatus_to_exitcode(status) == 0 and chunks:
                self._value.append(pickle.loads(b"".join(chunks)))
        if not self._value:
            self._value.append(self.compute())
        return self._value[0]

    def __del__(self) -> None:
        # Never asked for: closing the pipe ends a child still waiting to hand the value over.
        if self._pipe is not None:
            os.close(self._pipe)
        if self.pid is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, os.WNOHANG)


def compute_in_child(compute: Callable[[], T]) -> ResultInProgress[T]:
    """Run ``compute`` in a forked child process and return at once.

    The child sees the parent's objects as they are now, computes the value
    on the machine's other core and hands it back pickled when
    :meth:`ResultInProgress.result` asks for it. ``compute`` must not depend
    on anything the parent changes meanwhile, nor change anything the parent
    uses (the child's changes are lost). Computed in place, before returning,
    where :func:`write_in_child` would write in place.
    """
    if not in_background():
        return ResultInProgress(compute, _value=[compute()])
    pipe, end = os.pipe()
    pid = fork()
    if pid == 0:
        os.close(pipe)
        status = 1
        try:
            sys.stdout = sys.stderr = io.StringIO()
            gc.disable()
            data = pickle.dumps(compute(), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(end, "wb") as out:
                out.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(end)
    return ResultInProgress(compute, pid, pipe)


def start_export_tables(tables: dict[str, pd.DataFrame], out_dir: Path | str) -> FilesInProgress:
    """Start writing the files of :func:`export_tables` in a child process; return at once.

    The child is forked (:func:`write_in_child`), so it sees the tables as
    they are now without copying them; it writes exactly what
    :func:`export_tables` writes. Join it with :meth:`FilesInProgress.wait`
    before using the files.

    Parameters
    ----------
    tables, out_dir
        As for :func:`export_tables`; do not change the tables until joined.

    Returns
    -------
    FilesInProgress
        The files being written, in the order :func:`export_tables` returns them.

    Raises
    ------
    kit.errors.ConfigError
        For a table name that is not a plain file name (checked before forking).

    """
    folder = _checked_folder(tables, out_dir)
    paths = [folder / f"{name}.csv" for name in tables] + [folder / WORKBOOK_NAME]
    return write_in_child(lambda: export_tables(tables, folder), paths, "the evidence tables")
