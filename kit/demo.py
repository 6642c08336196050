"""``kit demo``: the whole kit on the synthetic ``sample_logs/``, end to end.

Builds a store, screens every lookup, then writes the three kinds of bundle a
user would make first: an investigation of the officer with the most
suspicious lookups, a subject review of the subject those lookups touched
most, and the monthly audit of the busiest month. It picks them from the
screening results, not from the answer key, as an investigator would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from kit.errors import DataFolderError

SAMPLE_LOGS = Path(__file__).resolve().parent.parent / "sample_logs"


def _focus(lookups: pd.DataFrame) -> tuple[str, str, str]:
    """Return (officer, subject, month) the demo bundles are about."""
    suspicious = lookups[lookups["suspicious"].astype(bool)]
    pool = suspicious if not suspicious.empty else lookups
    querier = pool["actual_user"].where(pool["actual_user"].fillna("") != "", pool["user"])
    officer = str(
        querier.value_counts().sort_index().sort_values(ascending=False, kind="stable").index[0]
    )
    subjects = pool["subjects"].fillna("").str.split(";").explode()
    subjects = subjects[subjects != ""]
    counts = subjects.value_counts().sort_index().sort_values(ascending=False, kind="stable")
    subject = str(counts.index[0]).split(":", 1)[1]
    months = pd.to_datetime(lookups["time"]).dt.strftime("%Y-%m")
    month = str(
        months.value_counts().sort_index().sort_values(ascending=False, kind="stable").index[0]
    )
    return officer, subject, month


def run_demo(out: Path, data: Path = SAMPLE_LOGS) -> Iterator[str]:
    """Run the demo into ``out``; yield one line per step saying where results are.

    Parameters
    ----------
    out
        A folder for the demo's store and bundles; bundles already there are
        replaced.
    data
        The data folder (default: the repository's ``sample_logs/``).

    """
    import shutil

    from kit.assess import assess
    from kit.audit import run_audit
    from kit.bundle import investigate, subject_review
    from kit.store import ingest, open_store

    if not data.is_dir():
        raise DataFolderError(
            "the sample data folder is missing: run 'make sample-logs' or give a data folder",
            file=str(data),
        )
    out.mkdir(parents=True, exist_ok=True)
    store_dir = out / "store"
    result = ingest(data, store_dir)
    yield result.summary()
    yield f"store: {store_dir}"

    from kit.assess import screen

    written = screen(open_store(store_dir), out / "screen" / "lookups.csv")
    yield "screening: " + ", ".join(str(p) for p in written)

    officer, subject, month = _focus(assess(open_store(store_dir)).lookups)
    bundles = out / "bundles"
    for name in ("investigation", "subject", "audit"):
        shutil.rmtree(bundles / name, ignore_errors=True)
    made = [
        investigate(store_dir, officer, bundles / "investigation", case_ref="DEMO-001"),
        subject_review(store_dir, [subject], bundles / "subject", case_ref="DEMO-002"),
        run_audit(store_dir, month, bundles / "audit", seed=2023),
    ]
    for bundle in made:
        yield f"bundle: {bundle.report}  (manifest SHA-256 {bundle.manifest_hash})"
    first = bundles / "investigation"
    yield f"open {first / 'index.html'} in a browser; check it with: kit verify {first}"
