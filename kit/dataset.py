"""The typed dataset every later stage reads: one frame per kind, plus views.

A :class:`Dataset` comes from :func:`kit.load.load_folder` (a data folder of
exports) or from :meth:`Dataset.from_frames` (tests and other code: partial
frames with canonical column names). Both run the same completion code
(:mod:`kit.load.complete`, :mod:`kit.load.assemble`), so a frame built in a
test looks exactly like one loaded from files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from kit.load.report import FileReport, IngestReport, SheetReport
from kit.schema import KINDS

__all__ = ["Dataset", "FileReport", "IngestReport", "SheetReport"]


@dataclass(frozen=True)
class Dataset:
    """All kinds of a data folder, completed to the layout of :mod:`kit.schema`.

    Kinds absent from the data are empty frames with the right columns and
    dtypes. ``subjects`` holds the identifiers of each lookup, ``identifiers``
    those of every other kind, ``ledger`` the rejected, warned and duplicate
    rows, ``report`` the per-file counts.
    """

    query_log: pd.DataFrame
    officers: pd.DataFrame
    duty_roster: pd.DataFrame
    register: pd.DataFrame
    worklog: pd.DataFrame
    cases: pd.DataFrame
    tickets: pd.DataFrame
    police_vehicles: pd.DataFrame
    relations: pd.DataFrame
    communications: pd.DataFrame
    watchlist: pd.DataFrame
    operations: pd.DataFrame
    identities: pd.DataFrame
    units: pd.DataFrame
    subjects: pd.DataFrame
    identifiers: pd.DataFrame
    ledger: pd.DataFrame
    report: IngestReport = field(default_factory=lambda: IngestReport(folder="<frames>"))

    def frame(self, kind: str) -> pd.DataFrame:
        """Return the frame of a kind by its canonical name (``query_log`` …).

        Raises
        ------
        KeyError
            For a name that is not a kind of :data:`kit.schema.KINDS`.

        """
        if kind not in KINDS:
            raise KeyError(kind)
        frame: pd.DataFrame = getattr(self, kind)
        return frame

    @classmethod
    def from_frames(cls, **frames: pd.DataFrame) -> Dataset:
        """Build a dataset from partial frames, completing them as the loaders do.

        Parameters
        ----------
        **frames
            Keyword per kind (``query_log=``, ``duty_roster=`` …): canonical
            column names holding source-like values — text for identifiers
            and conditions; times as text in any accepted format, datetimes or
            tz-aware timestamps; roster ``start``/``end`` as ``"HH:MM"`` with a
            ``date`` (or a wide roster's slot columns). Missing optional
            columns are added empty; provenance defaults to
            ``source_file="<frames>"``, ``source_line`` = row number + 2,
            ``source_sha256=""``. Rows the loaders would reject are dropped
            and listed in ``ledger``; exact duplicates are dropped as well.

        Returns
        -------
        Dataset
            With ``subjects`` and ``identifiers`` built, and empty frames for
            the kinds not given.

        Raises
        ------
        KeyError
            For a keyword that is not a kind name.

        """
        from kit.load.assemble import assemble
        from kit.load.complete import Completed, complete_kind, empty_frame, empty_ledger

        unknown = sorted(set(frames) - set(KINDS))
        if unknown:
            raise KeyError(f"not kinds of the data contract: {', '.join(unknown)}")
        completed = {
            name: complete_kind(name, frames[name])
            if name in frames
            else Completed(empty_frame(name), empty_ledger())  # cached empty layout
            for name in KINDS
        }
        ledgers = [c.ledger for c in completed.values() if len(c.ledger)]
        ledger = pd.concat(ledgers, ignore_index=True) if ledgers else empty_ledger()
        assembled = assemble({k: c.frame for k, c in completed.items()}, ledger)
        return cls(
            **assembled.frames,
            subjects=assembled.subjects,
            identifiers=assembled.identifiers,
            ledger=assembled.ledger,
            report=IngestReport(folder="<frames>"),
        )
