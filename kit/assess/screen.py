"""Write a screening to files (OUTPUTS.md, ``kit screen``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kit.assess.engine import assess
from kit.errors import ConfigError
from kit.export import write_csv

__all__ = ["screen"]


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


def _write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix.lower() == ".parquet":
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)
        return path
    return write_csv(frame, path)


def screen(
    source: Any,
    out: Path,
    *,
    start: Any = None,
    end: Any = None,
    unit: str | None = None,
    officer: str | None = None,
    config: Any = None,
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
    result = assess(source, start, end, officers=officer, units=unit, config=config)
    lookups = result.lookups.assign(time=_iso(result.lookups["time"]))
    if ext == ".csv":
        lookups = lookups.assign(
            suspicious=lookups["suspicious"].map({True: "true", False: "false"})
        )
    written = [_write(lookups, out)]
    written.append(_write(result.evidence, out.with_name(out.stem + ".evidence" + ext)))
    if result.record_counts.get("communications", 0) > 0:
        comms = result.communications
        if len(comms):
            comms = comms.assign(time=_iso(comms["time"]))
        written.append(_write(comms, out.with_name(out.stem + ".communications" + ext)))
    return written
