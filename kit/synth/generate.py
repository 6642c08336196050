"""Generate a whole synthetic agency as a data folder plus ``answer_key.json``.

The work is done in chunks (one month of up to :data:`BLOCK` officers at a
time) so memory stays bounded at any size; every random draw comes from a
generator keyed by (seed, part, month, block), so output is byte-identical for
a seed whatever the platform's hash seed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from kit.synth.agency import build_agency, rng_for
from kit.synth.duty import make_register, make_roster
from kit.synth.key import answer_key
from kit.synth.layout import Layout
from kit.synth.lookups import legit_records
from kit.synth.output import write_chunk
from kit.synth.planted import Story
from kit.synth.records import Counters
from kit.synth.statics import write_statics
from kit.synth.timefmt import local_seconds

BLOCK = 1000
"""Officers per chunk."""
MAX_OFFICERS = 8000
MAX_MONTHS = 24


def _months(start: str, months: int) -> list[int]:
    try:
        year, month = (int(x) for x in start.split("-"))
    except ValueError as exc:
        raise ValueError("start must be YYYY-MM") from exc
    if not 1 <= month <= 12 or not 2012 <= year <= 2100:
        raise ValueError("start must be YYYY-MM between 2012 and 2100")
    out = []
    for i in range(months + 1):
        y, m = year + (month - 1 + i) // 12, (month - 1 + i) % 12 + 1
        out.append(local_seconds(y, m))
    return out


def generate(
    out_dir: str | Path,
    *,
    seed: int,
    officers: int,
    months: int,
    start: str = "2023-01",
    messy: bool = True,
) -> dict[str, object]:
    """Write a synthetic data folder and its answer key.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder to write: created, or replaced when it holds an earlier
        output (an ``answer_key.json``); any other non-empty folder is refused.
    seed : int
        Seed: the same seed gives byte-identical files.
    officers : int
        Officers in service at the start (at least 12, at most 8000).
    months : int
        Length of the period in months (1 to 24).
    start : str
        First month, ``YYYY-MM``.
    messy : bool
        Messy exports (encodings, formats, bad rows, duplicates) or clean ones.

    Returns
    -------
    dict
        The answer key (also written to ``out_dir/answer_key.json``).

    """
    if not 12 <= officers <= MAX_OFFICERS:
        raise ValueError(f"officers must be between 12 and {MAX_OFFICERS}")
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"months must be between 1 and {MAX_MONTHS}")
    bounds = _months(start, months)
    root = Path(out_dir)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        if not (root / "answer_key.json").is_file():
            raise ValueError("the output folder exists and is not an earlier generator output")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    agency = build_agency(seed, officers, bounds[0], bounds[-1])
    roster_officers = agency.officers.assign(
        kind=agency.units["kind"].to_numpy()[agency.officers["unit_no"]]
    )
    large = officers > 200
    group_of_unit = agency.units["precinct"].to_numpy() if large else np.arange(len(agency.units))
    roster_officers["group"] = group_of_unit[roster_officers["unit_no"].to_numpy()]
    layout = Layout(root, messy=messy, seed=seed, small=officers * months <= 300)
    for bound in bounds[:-1]:
        month_no = int(np.datetime64(bound, "s").astype("datetime64[M]").astype(int))
        layout.labels.append((month_no // 12 + 1970 - 1911, month_no % 12 + 1))
    story = Story(seed, agency, roster_officers, bounds, messy=messy, block=BLOCK)
    serving = roster_officers[
        ~((roster_officers["end_date"] >= 0) & (roster_officers["end_date"] < bounds[0]))
    ]
    blocks = [serving.iloc[i : i + BLOCK] for i in range(0, len(serving), BLOCK)]
    distinct = 0
    duplicates = 0
    for month in range(months):
        day_starts = np.arange(bounds[month], bounds[month + 1], 86400, dtype=np.int64)
        for b, block in enumerate(blocks):
            rng = rng_for(seed, 2, month, b)
            roster = make_roster(rng, block, day_starts)
            register = make_register(rng, roster, block)
            counters = Counters(month * len(blocks) + b, agency.salt)
            records = legit_records(
                rng, roster, roster_officers, counters, messy=messy, seized=story.seized
            )
            if b == 0:
                records, register, roster = story.inject(month, roster, register, records, counters)
            written, dup = write_chunk(layout, story, month, roster, register, records)
            distinct += written
            duplicates += dup
    write_statics(layout, story, roster_officers)
    files = layout.close()
    key = answer_key(story, files, layout, distinct=distinct, duplicates=duplicates)
    key.update(
        {"seed": seed, "officers": officers, "months": months, "start": start, "messy": messy}
    )
    text = json.dumps(key, ensure_ascii=False, sort_keys=True, indent=1)
    (root / "answer_key.json").write_text(text + "\n", encoding="utf-8")
    return key


def lookups_frame(key: dict[str, object]) -> pd.DataFrame:
    """Return the answer key's planted lookups as a DataFrame (for notebooks and tests)."""
    rows = key["planted_lookups"]
    if not isinstance(rows, list):
        raise ValueError("not an answer key: planted_lookups is not a list")
    return pd.DataFrame(rows)
