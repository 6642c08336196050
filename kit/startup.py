"""Process set-up of the ``kit`` command, kept out of the package's heavier modules."""

from __future__ import annotations

import gc
import os
import sys

SLOW_FORMAT_MODULE = "rfc3987_syntax"
"""The optional module ``jsonschema`` imports for its ``iri`` format checks: it builds a
Lark parser at import, 1.1 of the 1.4 seconds ``import nbformat`` takes here."""


def skip_slow_format_checks() -> bool:
    """Keep ``jsonschema`` from loading :data:`SLOW_FORMAT_MODULE` in this process.

    Called first thing by the ``kit`` command, before anything imports
    ``nbformat`` (Papermill, nbconvert and the bundle maker all do). The only
    effect is that ``jsonschema`` does not check the ``iri`` and
    ``iri-reference`` formats, which no schema the kit validates uses
    (nbformat's notebook schema has none). Returns whether it took effect: not
    once ``jsonschema`` or the module is already imported. Never called in a
    report kernel or in a process that imports the kit as a library.
    """
    if "jsonschema" in sys.modules or SLOW_FORMAT_MODULE in sys.modules:
        return False
    sys.modules[SLOW_FORMAT_MODULE] = None  # type: ignore[assignment]
    return True


REPORT_KERNEL = "KIT_REPORT_KERNEL"
"""Environment variable set to ``1`` for the kernels the bundle maker starts: one-shot
kernels that run one report notebook and stop (:func:`settle_report_kernel`)."""

REPORT_GC_THRESHOLD = 10_000
"""Allocations between two young-generation collections in a report kernel (Python's
default is 700)."""


def settle_report_kernel() -> bool:
    """In a one-shot report kernel, keep the garbage collector off what is already loaded.

    A report's first object is made once the notebook's imports are done:
    the libraries' hundreds of thousands of objects live as long as the
    kernel, yet every full collection walks them again (a tenth to a fifth of
    a second per bundle). They are moved out of the collector's reach
    (:func:`gc.freeze`) and young collections run less often; cycles are still
    collected. Only where :data:`REPORT_KERNEL` is ``1`` (the bundle maker's
    kernels, :func:`kit.bundle.run.execute_notebook`): an interactive
    session keeps Python's defaults. Returns whether it took effect.
    """
    if os.environ.get(REPORT_KERNEL) != "1":
        return False
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(REPORT_GC_THRESHOLD, middle, old)
    return True
