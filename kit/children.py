"""Forked child processes: whether work may go to one, and forking without noise.

The kit forks a child to use the machine's other core for work whose inputs
the parent already holds (a report's files and graph, the parts of a long
screening): the child sees the parent's objects without copying or pickling
them. ``KIT_BACKGROUND_WRITERS=0`` keeps everything in the one process (batch
items, which keep to one core each).
"""

from __future__ import annotations

import os
import warnings

__all__ = ["BACKGROUND_WRITERS", "fork", "in_background"]

BACKGROUND_WRITERS = "KIT_BACKGROUND_WRITERS"
"""Environment variable: ``0`` works in place instead of in a forked child."""


def in_background() -> bool:
    """Return whether work may go to a forked child (see :data:`BACKGROUND_WRITERS`)."""
    return hasattr(os, "fork") and os.environ.get(BACKGROUND_WRITERS) != "0"


def fork() -> int:
    """Fork (``os.fork``): 0 in the child, the child's process ID in the parent."""
    with warnings.catch_warnings():
        # Python 3.12+ warns about forking a process with threads (a kernel has
        # some); a child of the kit does its one piece of work and exits.
        warnings.simplefilter("ignore", DeprecationWarning)
        return os.fork()
