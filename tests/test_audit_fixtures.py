"""Hand-built agencies for the audit tests (helpers, imported by tests/test_audit*.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kit.dataset import Dataset

SCREEN_COLUMNS = (
    "lookup_id",
    "time",
    "user",
    "actual_user",
    "unit",
    "actual_unit",
    "ip",
    "operation",
    "purpose",
    "conditions",
    "source_file",
    "source_line",
    "subjects",
    "explanations",
    "flags",
    "severity",
    "score",
    "suspicious",
    "not_checked",
)


def officers_frame(stations: dict[str, int], *, prefix: str = "U") -> pd.DataFrame:
    ids, units = [], []
    for s, (unit, headcount) in enumerate(sorted(stations.items())):
        for i in range(headcount):
            ids.append(f"{prefix}{s:02d}{i:03d}")
            units.append(unit)
    return pd.DataFrame({"officer_id": ids, "name": ["警員"] * len(ids), "unit": units})


def screen_lookups(
    officers: pd.DataFrame,
    per_officer: int,
    *,
    month: str = "2023-03",
    seed: int = 0,
    flagged_share: float = 0.05,
    suspicious_share: float = 0.01,
    unexplained_share: float = 0.05,
) -> pd.DataFrame:
    """Return a ``kit screen``-shaped table: ``per_officer`` lookups per officer in ``month``."""
    rng = np.random.default_rng(seed)
    user = np.repeat(officers["officer_id"].to_numpy(), per_officer)
    unit = np.repeat(officers["unit"].to_numpy(), per_officer)
    n = len(user)
    start = pd.Timestamp(f"{month}-01", tz="Asia/Taipei")
    seconds = rng.integers(0, 28 * 86400, n)
    suspicious = rng.random(n) < suspicious_share
    flagged = suspicious | (rng.random(n) < flagged_share)
    unexplained = rng.random(n) < unexplained_share
    flags = np.where(suspicious, "WATCHLIST;OFF_DUTY", np.where(flagged, "ODD_HOURS", ""))
    ids = [f"L{seed:02d}{i:07d}" for i in range(n)]
    persons = [f"A1{i % 100000000:08d}" for i in range(n)]
    return pd.DataFrame(
        {
            "lookup_id": ids,
            "time": start + pd.to_timedelta(seconds, unit="s"),
            "user": user,
            "actual_user": "",
            "unit": unit,
            "actual_unit": unit,
            "ip": "10.0.0.1",
            "operation": "戶役政-個人戶籍資料查詢",
            "purpose": "偵查犯罪",
            "conditions": [f"身分證號={p}" for p in persons],
            "source_file": "log.csv",
            "source_line": [str(i + 2) for i in range(n)],
            "subjects": [f"person_id:{p}" for p in persons],
            "explanations": np.where(unexplained, "", "EXPL_CASE"),
            "flags": flags,
            "severity": np.where(suspicious, "medium", np.where(flagged, "low", "none")),
            "score": np.where(suspicious, 6.0, np.where(flagged, 1.0, 0.0)),
            "suspicious": suspicious,
            "not_checked": "",
        }
    )


def agency(
    stations: dict[str, int], per_officer: int = 10, **kwargs: object
) -> tuple[pd.DataFrame, Dataset]:
    officers = officers_frame(stations)
    lookups = screen_lookups(officers, per_officer, **kwargs)  # type: ignore[arg-type]
    return lookups, Dataset.from_frames(officers=officers)
