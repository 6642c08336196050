"""Loading a data folder of exports into a :class:`kit.dataset.Dataset`.

Modules: :mod:`~kit.load.complete` (one kind's normalisation, shared with
``Dataset.from_frames``), :mod:`~kit.load.entities` (identifier cells),
:mod:`~kit.load.subjects` (subjects and identifiers tables),
:mod:`~kit.load.assemble` (de-duplication), :mod:`~kit.load.report` (the
ingest report).
"""

from __future__ import annotations

from kit.load.report import FileReport, IngestReport, SheetReport

__all__ = ["FileReport", "IngestReport", "SheetReport"]
