"""Process set-up of the ``kit`` command, kept out of the package's heavier modules."""

from __future__ import annotations

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
