"""Running a report notebook under Papermill, with the ``kit`` kernel.

Papermill injects the parameters after the cell tagged ``parameters`` and
executes every cell in a fresh kernel; a failing run leaves its partial
notebook behind. The executed notebook is made reproducible in memory: the
timings and paths Papermill and nbclient record are removed
(:func:`clean_notebook`), so the same inputs and parameters give the same
``notebook.ipynb`` byte for byte. :func:`execute_notebook` returns that
notebook (the bundle maker writes it once and exports the same object);
:func:`run_notebook` also writes it.

``nbformat`` is imported only where a notebook is read or written: importing
it compiles the grammars of ``jsonschema``'s format checks (about a CPU
second), and the report kernel, which imports this package, never needs it.
The ``kit`` command skips the slowest of them (:func:`kit.startup.skip_slow_format_checks`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kit.errors import BundleError
from kit.startup import REPORT_KERNEL

KERNEL_NAME = "kit"
"""The Jupyter kernel the report notebooks run in (installed by ``make venv``)."""

START_TIMEOUT = 120
"""Seconds a kernel may take to start before the run counts as a kernel failure."""

THREAD_LIMITS: dict[str, str] = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "KIT_DUCKDB_THREADS": "1",
    "KIT_BACKGROUND_WRITERS": "0",
}
"""Environment that keeps one kernel to one core (used by batch items).

``KIT_DUCKDB_THREADS`` is for the kit's DuckDB connections (``SET threads``);
``KIT_BACKGROUND_WRITERS=0`` makes :func:`kit.views.export.write_in_child`
write in place instead of in a second process (the batch already keeps every
core busy with items)."""

_VOLATILE_NOTEBOOK_METADATA = ("start_time", "end_time", "duration", "input_path", "output_path")
_VOLATILE_CELL_METADATA = ("start_time", "end_time", "duration", "exception", "status")


class KernelStartError(BundleError):
    """The notebook's kernel did not start (a batch retries these once)."""


class NotebookRunError(BundleError):
    """A cell of the report notebook failed; the partial notebook is kept.

    Attributes
    ----------
    notebook
        Path of the partial executed notebook.
    ename
        The exception class raised in the cell.

    """

    def __init__(self, message: str, *, notebook: Path, ename: str = "") -> None:
        self.notebook = notebook
        self.ename = ename
        super().__init__(message, file=str(notebook))


def clean_notebook(notebook: Any) -> Any:
    """Remove the run metadata that differs between two identical runs.

    Drops nbclient's per-cell ``execution`` timings, Papermill's per-cell and
    per-notebook times, durations and input/output paths, and gives the cell
    Papermill injects a stable id. The parameters Papermill records stay.

    Parameters
    ----------
    notebook
        An ``nbformat`` notebook node; modified in place and returned.

    """
    papermill = notebook.metadata.get("papermill", {})
    for key in _VOLATILE_NOTEBOOK_METADATA:
        papermill.pop(key, None)
    papermill.pop("environment_variables", None)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        cell_pm = cell.metadata.get("papermill", {})
        for key in _VOLATILE_CELL_METADATA:
            cell_pm.pop(key, None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"
    return notebook


def _is_kernel_start_failure(error: BaseException) -> bool:
    text = f"{type(error).__name__}: {error}".lower()
    return any(
        marker in text
        for marker in ("kernel died", "kernel didn't respond", "kernel_info", "no such kernel")
    ) or type(error).__name__ in {"DeadKernelError", "NoSuchKernel"}


@contextmanager
def _report_kernel_environment() -> Iterator[None]:
    """Start the kernel with :data:`kit.startup.REPORT_KERNEL` set (it inherits the environment)."""
    before = os.environ.get(REPORT_KERNEL)
    os.environ[REPORT_KERNEL] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(REPORT_KERNEL, None)
        else:
            os.environ[REPORT_KERNEL] = before


def _execute(
    notebook: Path,
    parameters: Mapping[str, object],
    *,
    cwd: Path,
    timeout: float | None,
    kernel_name: str,
    partial: Path,
) -> Any:
    """Papermill's ``execute_notebook`` without writing the result: return the executed node.

    The steps are Papermill's own (load, parameterise, record its metadata,
    drop old error markers, execute with its engine, check for errors); only
    the final write is left to the caller, so the notebook is serialised once,
    already cleaned. A failing cell writes the partial notebook (with
    Papermill's error markers) to ``partial`` before raising, as Papermill does.
    """
    from papermill.engines import papermill_engines
    from papermill.execute import (
        prepare_notebook_metadata,
        raise_for_execution_errors,
        remove_error_markers,
    )
    from papermill.iorw import load_notebook_node, local_file_io_cwd
    from papermill.parameterize import parameterize_notebook
    from papermill.utils import chdir
    from traitlets.config import Config

    # The kernel sees personal data: talk to it over local IPC sockets in the
    # user's runtime folder, not over TCP.
    config = Config()
    config.KernelManager.transport = "ipc"
    with local_file_io_cwd(), _report_kernel_environment():
        node = load_notebook_node(str(notebook))
        if parameters:
            node = parameterize_notebook(node, dict(parameters), kernel_name=kernel_name)
        node = prepare_notebook_metadata(node, str(notebook), str(partial))
        node = remove_error_markers(node)
        with chdir(str(cwd)):
            node = papermill_engines.execute_notebook_with_engine(
                None,
                node,
                input_path=str(notebook),
                # Papermill would rewrite the notebook after every cell (several
                # MB once the figures are in): it is written once, at the end.
                output_path=None,
                kernel_name=kernel_name,
                progress_bar=False,
                log_output=False,
                start_timeout=START_TIMEOUT,
                stdout_file=None,
                stderr_file=None,
                execution_timeout=timeout,
                # Every output has arrived and every file the notebook writes is
                # closed when the last cell ends: the kernel is stopped at once
                # instead of being given time to tear down its heap.
                shutdown_kernel="immediate",
                config=config,
            )
        raise_for_execution_errors(node, str(partial))
    return node


def execute_notebook(
    notebook: Path,
    output: Path,
    parameters: Mapping[str, object],
    *,
    cwd: Path,
    timeout: float | None = None,
    kernel_name: str = KERNEL_NAME,
) -> Any:
    """Execute a report notebook with Papermill; return the cleaned notebook, not yet written.

    Parameters
    ----------
    notebook
        The notebook to run (its ``parameters`` cell is tagged).
    output
        Where the executed notebook belongs: written here (cleaned) only
        when a cell fails; otherwise the caller writes it
        (:func:`write_notebook`).
    parameters
        Values injected after the ``parameters`` cell.
    cwd
        Working directory of the kernel (the bundle folder: the notebook
        writes its tables there with relative paths).
    timeout
        Seconds one cell may run; ``None`` for no limit.
    kernel_name
        The Jupyter kernel; always ``kit`` in production.

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook, cleaned (:func:`clean_notebook`).

    Raises
    ------
    KernelStartError
        The kernel did not start.
    NotebookRunError
        A cell raised; the partial notebook is at ``output``.

    """
    import papermill as pm

    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    try:
        node = _execute(
            notebook,
            parameters,
            cwd=cwd,
            timeout=timeout,
            kernel_name=kernel_name,
            partial=output,
        )
    except pm.PapermillExecutionError as error:
        _clean_file(output)
        raise NotebookRunError(
            f"the report notebook failed in cell {error.exec_count}: "
            f"{_safe_reason(str(error.ename), str(error.evalue))}; the partial notebook is kept",
            notebook=output,
            ename=str(error.ename),
        ) from error
    except Exception as error:
        if _is_kernel_start_failure(error):
            raise KernelStartError(
                f"the '{kernel_name}' Jupyter kernel did not start ({type(error).__name__}); "
                "check it is installed: python -m ipykernel install --sys-prefix --name kit"
            ) from error
        raise
    return clean_notebook(node)


def write_notebook(notebook: Any, path: Path) -> Path:
    """Write an executed notebook as ``nbformat`` does (the same bytes); return ``path``."""
    import nbformat

    nbformat.write(notebook, str(path))
    return path


def run_notebook(
    notebook: Path,
    output: Path,
    parameters: Mapping[str, object],
    *,
    cwd: Path,
    timeout: float | None = None,
    kernel_name: str = KERNEL_NAME,
) -> Path:
    """Execute a report notebook with Papermill and save the cleaned result.

    Parameters
    ----------
    notebook
        The notebook to run (its ``parameters`` cell is tagged).
    output
        Where the executed notebook is written (also when a cell fails).
    parameters
        Values injected after the ``parameters`` cell.
    cwd
        Working directory of the kernel (the bundle folder: the notebook
        writes its tables there with relative paths).
    timeout
        Seconds one cell may run; ``None`` for no limit.
    kernel_name
        The Jupyter kernel; always ``kit`` in production.

    Returns
    -------
    Path
        ``output``.

    Raises
    ------
    KernelStartError
        The kernel did not start.
    NotebookRunError
        A cell raised; the partial notebook is at ``output``.

    """
    node = execute_notebook(
        notebook, output, parameters, cwd=cwd, timeout=timeout, kernel_name=kernel_name
    )
    return write_notebook(node, output)


def _kit_error_names() -> frozenset[str]:
    import kit.errors

    names = {
        name
        for name, value in vars(kit.errors).items()
        if isinstance(value, type) and issubclass(value, kit.errors.KitError)
    }
    return frozenset(names | {"KernelStartError", "NotebookRunError"})


def _safe_reason(ename: str, evalue: str) -> str:
    """Return the reason of a failed cell without risking an identifier in it.

    The kit's own errors never carry identifiers, so their message is kept;
    any other exception is reported by its class name only, since its text
    may quote data.
    """
    if ename in _kit_error_names():
        lines = evalue.strip().splitlines()
        return f"{ename}: {lines[0] if lines else ''}"
    return f"{ename} (see the partial notebook)"


def _clean_file(path: Path) -> None:
    if not path.exists():
        return
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    nbformat.write(clean_notebook(notebook), path)
