"""Screening a store in parts (whole months at a time) writes what screening it whole writes."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pytest

from kit.assess.screen import parts, screen
from kit.store import ingest, open_store
from kit.synth import generate


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    base = Path(tmp_path_factory.mktemp("assess_screen"))
    generate(base / "agency", seed=5, officers=12, months=3, messy=False)
    ingest(base / "agency", base / "store")
    return open_store(base / "store")


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_parts_are_whole_months_within_the_limit(store) -> None:
    assert parts(store, None, None, limit=10**9) == [(None, None)]
    monthly = parts(store, None, None, limit=1)
    assert len(monthly) == len(store.manifest.months) == 3
    assert monthly[0][0] is None and monthly[-1][1] is None
    for (_, last), (first, _) in itertools.pairwise(monthly):
        assert first == last + 1


@pytest.mark.parametrize("ext", [".parquet", ".csv"])
def test_screen_in_parts_equals_screen_whole(store, tmp_path: Path, ext: str) -> None:
    whole = screen(store, tmp_path / f"whole{ext}")
    split = screen(store, tmp_path / f"split{ext}", chunk_lookups=1)
    assert [p.name.replace("whole", "") for p in whole] == [
        p.name.replace("split", "") for p in split
    ]
    # the lookups file is the same to the byte (CSV) or the row (Parquet)
    if ext == ".csv":
        assert whole[0].read_bytes() == split[0].read_bytes()
    pd.testing.assert_frame_equal(_read(whole[0]), _read(split[0]))
    # evidence: the same rows, listed part by part
    pd.testing.assert_frame_equal(_sorted(_read(whole[1])), _sorted(_read(split[1])))
    for a, b in zip(whole[2:], split[2:], strict=True):
        pd.testing.assert_frame_equal(_read(a), _read(b))


def test_screen_in_parts_of_a_range(store, tmp_path: Path) -> None:
    months = sorted(store.manifest.months)
    start, end = months[0] + "-20", months[1] + "-10"
    whole = screen(store, tmp_path / "whole.parquet", start=start, end=end)
    split = screen(store, tmp_path / "split.parquet", start=start, end=end, chunk_lookups=1)
    lookups = _read(whole[0])
    assert len(lookups) > 0
    assert lookups["time"].str[:10].min() >= start
    assert lookups["time"].str[:10].max() <= end
    pd.testing.assert_frame_equal(lookups, _read(split[0]))
    pd.testing.assert_frame_equal(_sorted(_read(whole[1])), _sorted(_read(split[1])))


@pytest.fixture(scope="module")
def whole_store(store):
    from kit.assess.config import load_config
    from kit.assess.engine import evaluate
    from kit.store import load_dataset

    data = load_dataset(store)
    cfg = load_config(None)
    return data, cfg, evaluate(data, cfg, None, None)


@pytest.mark.parametrize(
    "code", ["REPEAT_SUBJECT", "VOLUME_SPIKE", "BULK_ACCOUNTS", "PROFILING", "CONCURRENT_IP"]
)
def test_narrowed_evaluation_of_a_flagged_day_equals_the_whole(whole_store, code: str) -> None:
    """Only the lookups near a range run every rule; the wide rules still see 30 days."""
    from kit.assess.engine import evaluate

    data, cfg, whole = whole_store
    day = whole.ctx.lookups["day"].to_numpy()
    flagged = whole.lookups["flags"].str.contains(code).to_numpy()
    assert flagged.any()
    for first in sorted(set(day[flagged]))[:2]:
        narrow = evaluate(data, cfg, first, first, narrow=True)
        # the margins are not assessed by every rule: the narrowed context is smaller
        assert narrow.ctx.n < whole.ctx.n
        inside = day == first
        expected = whole.lookups[inside].reset_index(drop=True)
        pd.testing.assert_frame_equal(narrow.lookups, expected)
        assert narrow.lookups["flags"].str.contains(code).any()
        ids = set(expected["lookup_id"])
        evidence = whole.evidence[whole.evidence["lookup_id"].isin(ids)]
        pd.testing.assert_frame_equal(_sorted(narrow.evidence), _sorted(evidence))


def test_near_margin_follows_the_longest_window_of_the_config() -> None:
    from kit.assess.config import load_config
    from kit.assess.engine import _near_days

    assert _near_days(load_config(None)) == 2
    assert _near_days(load_config({"rules": {"PROFILING": {"minutes": 1440}}})) == 3


def test_cover_of_a_few_days_searches_only_the_overlapping_intervals() -> None:
    """``latest=False``: the same covered points and covering intervals as a full search."""
    import numpy as np

    from kit.assess.context import DAY, HOUR, NAT
    from kit.assess.joins import cover

    rng = np.random.default_rng(3)
    n_iv, n_pt = 4000, 3000
    start = rng.integers(0, 200 * DAY, n_iv)
    end = start + rng.integers(-HOUR, 12 * HOUR, n_iv)  # some empty
    long = rng.random(n_iv) < 0.02
    end[long] = start[long] + 40 * DAY  # a few started long before the points
    start[rng.random(n_iv) < 0.01] = NAT  # a missing start covers everything before its end
    end[rng.random(n_iv) < 0.01] = NAT
    by = rng.integers(0, 30, n_iv)
    t = rng.integers(90 * DAY, 100 * DAY, n_pt)  # ten days of points
    who = rng.integers(0, 30, n_pt)
    full, full_which = cover(who, t, by, start, end)
    fast, fast_which = cover(who, t, by, start, end, latest=False)
    assert full.any() and (~full).any()
    np.testing.assert_array_equal(fast, full)
    np.testing.assert_array_equal(fast_which[full], full_which[full])
    assert (fast_which[~fast] == -1).all()
