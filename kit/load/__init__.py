"""Loading a data folder of exports into a :class:`kit.dataset.Dataset`.

Modules: :mod:`~kit.load.read` (encodings, CSV and XLSX), :mod:`~kit.load.kinds`
(kind detection, the per-kind registry), :mod:`~kit.load.complete` (one
kind's normalisation, shared with ``Dataset.from_frames``),
:mod:`~kit.load.entities` (identifier cells), :mod:`~kit.load.subjects`
(subjects and identifiers tables), :mod:`~kit.load.assemble`
(de-duplication), :mod:`~kit.load.report` (the ingest report) and
:mod:`~kit.load.folder` (``load_folder``).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from kit.load.report import FileReport, IngestReport, SheetReport

if TYPE_CHECKING:
    from kit.dataset import Dataset

__all__ = ["FileReport", "IngestReport", "SheetReport", "load_folder"]


def load_folder(
    path: str | Path, *, skip_sha256: Collection[str] = (), strict: bool = False
) -> Dataset:
    """Load every export of a data folder (see :func:`kit.load.folder.load_folder`)."""
    from kit.load.folder import load_folder as load

    return load(path, skip_sha256=skip_sha256, strict=strict)
