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
    whole = screen(store, tmp_path / f"whole{ext}", jobs=1)
    split = screen(store, tmp_path / f"split{ext}", chunk_lookups=1, jobs=1)
    _assert_same_screening(whole, split)


def _assert_same_screening(one: list[Path], other: list[Path]) -> None:
    """The same files; the lookups file the same to the byte (CSV) or the row (Parquet)."""
    assert [p.name.split(".", 1)[1] for p in one] == [p.name.split(".", 1)[1] for p in other]
    if one[0].suffix == ".csv":
        assert one[0].read_bytes() == other[0].read_bytes()
    pd.testing.assert_frame_equal(_read(one[0]), _read(other[0]))
    # evidence: the same rows, listed part by part
    pd.testing.assert_frame_equal(_sorted(_read(one[1])), _sorted(_read(other[1])))
    for a, b in zip(one[2:], other[2:], strict=True):
        pd.testing.assert_frame_equal(_read(a), _read(b))


def test_screen_in_parts_of_a_range(store, tmp_path: Path) -> None:
    months = sorted(store.manifest.months)
    start, end = months[0] + "-20", months[1] + "-10"
    whole = screen(store, tmp_path / "whole.parquet", start=start, end=end, jobs=1)
    split = screen(store, tmp_path / "split.parquet", start=start, end=end, chunk_lookups=1, jobs=1)
    lookups = _read(whole[0])
    assert len(lookups) > 0
    assert lookups["time"].str[:10].min() >= start
    assert lookups["time"].str[:10].max() <= end
    pd.testing.assert_frame_equal(lookups, _read(split[0]))
    pd.testing.assert_frame_equal(_sorted(_read(whole[1])), _sorted(_read(split[1])))


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch):
    """Record the worker processes a screening forks (their process IDs).

    A worker that hung (a lock held by a thread at the fork) would hang the
    suite: an alarm fails the test after five minutes instead, and the
    screening then stops its workers.
    """
    import signal

    import kit.children

    made: list[int] = []
    real = kit.children.fork

    def counted() -> int:
        pid = real()
        if pid:
            made.append(pid)
        return pid

    def hung(signum, frame):
        raise TimeoutError("the screening's processes did not finish within five minutes")

    monkeypatch.setattr(kit.children, "fork", counted)
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(300)
    yield made
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(("ext", "jobs"), [(".parquet", 2), (".csv", 2), (".parquet", 3)])
def test_screen_in_processes_equals_one_process(
    store, tmp_path: Path, forks: list[int], ext: str, jobs: int
) -> None:
    one = screen(store, tmp_path / f"one{ext}", jobs=1)
    assert forks == []
    several = screen(store, tmp_path / f"several{ext}", jobs=jobs)
    assert len(forks) == jobs - 1  # this process screens the first run of months itself
    _assert_same_screening(one, several)
    # the workers' spool folder is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in one + several)


def _preloads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int | None, int | None]]:
    """Record the parts whose windows are read beforehand (``_Window.preload``), in order."""
    import sys

    screen_mod = sys.modules["kit.assess.screen"]
    read: list[tuple[int | None, int | None]] = []
    real_preload = screen_mod._Window.preload

    def preload(self, lo, hi):
        read.append((lo, hi))
        real_preload(self, lo, hi)

    monkeypatch.setattr(screen_mod._Window, "preload", preload)
    return read


def test_first_windows_read_while_the_records_are_prepared(
    store, tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every run's first window is read beforehand when memory is ample, none else.

    Windows read for runs that the memory left after the records cannot
    hold are dropped: the screening goes on in fewer processes, the same files.
    """
    import sys

    screen_mod = sys.modules["kit.assess.screen"]
    months = sorted(store.manifest.months)
    start, end = months[0] + "-20", months[2] + "-10"
    one = screen(store, tmp_path / "one.parquet", start=start, end=end, chunk_lookups=1, jobs=1)
    read = _preloads(monkeypatch)
    plan = parts(
        store, screen_mod._day_number(start, "start"), screen_mod._day_number(end, "end"), limit=1
    )
    ample = screen(store, tmp_path / "ample.parquet", start=start, end=end, chunk_lookups=1, jobs=3)
    assert read == plan and len(forks) == 2  # one run per month, each window read beforehand
    _assert_same_screening(one, ample)

    # ample memory before the records are read, room for one process after
    left = iter([10**12])
    monkeypatch.setattr(screen_mod, "_available_memory", lambda: next(left, 1))
    read.clear()
    scarce = screen(
        store, tmp_path / "scarce.parquet", start=start, end=end, chunk_lookups=1, jobs=3
    )
    assert read == plan and len(forks) == 2  # read beforehand, then screened in this process
    _assert_same_screening(one, scarce)

    # little memory from the start: no window read beforehand
    monkeypatch.setattr(screen_mod, "_available_memory", lambda: 1)
    read.clear()
    little = screen(
        store, tmp_path / "little.parquet", start=start, end=end, chunk_lookups=1, jobs=3
    )
    assert read == [] and len(forks) == 2
    _assert_same_screening(one, little)


def test_screen_stays_in_one_process_when_told(
    store, tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIT_BACKGROUND_WRITERS", "0")
    screen(store, tmp_path / "one.parquet", jobs=2)
    assert forks == []


def _in_workers(monkeypatch: pytest.MonkeyPatch, happen) -> None:
    """Make ``happen()`` take place when a worker process (not this one) evaluates a part."""
    import os
    import sys

    screen_mod = sys.modules["kit.assess.screen"]
    real = screen_mod.evaluate
    parent = os.getpid()

    def evaluate(*args, **kwargs):
        if os.getpid() != parent:
            happen()
        return real(*args, **kwargs)

    monkeypatch.setattr(screen_mod, "evaluate", evaluate)


def test_a_failing_worker_fails_the_screening_with_its_error(
    store, tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from kit.errors import ConfigError

    def fail() -> None:
        raise ConfigError("a threshold is wrong", column="minutes")

    _in_workers(monkeypatch, fail)
    with pytest.raises(ConfigError, match="a threshold is wrong"):
        screen(store, tmp_path / "out.parquet", jobs=2)
    assert len(forks) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forks[0], os.WNOHANG)  # reaped
    assert list(tmp_path.iterdir()) == []  # no spool folder, no half-written file


def test_a_killed_worker_says_to_screen_in_one_process(
    store, tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal

    from kit.errors import KitError

    # as the kernel's out-of-memory killer does
    _in_workers(monkeypatch, lambda: os.kill(os.getpid(), signal.SIGKILL))
    with pytest.raises(KitError, match=r"lack of memory.*--jobs 1"):
        screen(store, tmp_path / "out.csv", jobs=2)
    assert list(tmp_path.iterdir()) == []


def test_shares_split_parts_into_runs_of_about_equal_lookups() -> None:
    from kit.assess.screen import _shares

    assert _shares([10, 10, 10, 10], 2) == [range(0, 2), range(2, 4)]
    assert _shares([30, 10, 10, 10], 2) == [range(0, 1), range(1, 4)]
    assert _shares([10, 10, 10], 3) == [range(0, 1), range(1, 2), range(2, 3)]
    assert _shares([10, 10], 4) == [range(0, 1), range(1, 2)]  # no empty run
    assert _shares([5], 2) == [range(0, 1)]
    assert _shares([10, 10, 10, 10], 1) == [range(0, 4)]
    runs = _shares([7, 1, 1, 1, 1, 1, 1, 1], 2)
    assert [list(r) for r in runs] == [[0], [1, 2, 3, 4, 5, 6, 7]]


def test_affordable_jobs_keep_within_the_memory_left() -> None:
    from kit.assess.screen import BYTES_PER_LOOKUP, affordable_jobs

    window = 1_000_000
    each = window * BYTES_PER_LOOKUP
    assert affordable_jobs(2, [window, window], None) == 2  # unknown: as asked
    assert affordable_jobs(2, [window, window], int(2 * each / 0.8)) == 2
    assert affordable_jobs(2, [window, window], int(2 * each / 0.8) - 1) == 1
    assert affordable_jobs(3, [window, window, window], int(2.5 * each / 0.8)) == 2
    assert affordable_jobs(2, [window, window], 0) == 1  # never fewer than one
    assert affordable_jobs(1, [window], 10**15) == 1


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


def test_kit_screen_jobs_option(store, tmp_path: Path, forks: list[int]) -> None:
    import os

    from kit.cli import main

    assert main(["screen", "--store", str(store.path), "--out", str(tmp_path / "a.csv")]) == 0
    # by default one process per core, each with at least one of the three months
    made = min(os.cpu_count() or 1, 3) - 1
    assert len(forks) == made
    code = main(
        ["screen", "--store", str(store.path), "--out", str(tmp_path / "b.csv"), "--jobs", "1"]
    )
    assert code == 0
    assert len(forks) == made
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_planned_runs_split_months_evenly_then_into_parts() -> None:
    from kit.assess.screen import _month_days, _planned

    months = [(f"2023-{m:02d}", 80) for m in range(1, 13)]
    bounds, sizes, runs = _planned(months, None, None, 10**9, 2)
    assert runs == [range(0, 1), range(1, 2)]
    assert sizes == [480, 480]
    assert bounds == [(None, _month_days("2023-06")[1]), (_month_days("2023-07")[0], None)]
    # each run is cut into parts of at most the limit, whole months
    bounds, sizes, runs = _planned(months, 100, 200, 250, 2)
    assert runs == [range(0, 2), range(2, 4)]
    assert sizes == [240, 240, 240, 240]
    assert bounds[0][0] == 100 and bounds[-1][1] == 200
    for (_, last), (first, _) in itertools.pairwise(bounds[1:-1]):
        assert first == last + 1
    assert _planned([], None, None, 10, 2) == ([(None, None)], [0], [range(0, 1)])


def _month_list(sizes: list[int]) -> list[tuple[str, int]]:
    return [(f"2023-{m:02d}", n) for m, n in enumerate(sizes, start=1)]


def test_parts_grow_while_their_windows_fit_in_memory() -> None:
    from kit.assess.screen import BYTES_PER_LOOKUP, _grown, _month_days, _planned, _windows

    months = _month_list([1_000_000] * 12)

    def span(bounds):
        """Months of each part."""
        firsts = [_month_days(m)[0] for m, _ in months]
        out = []
        for lo, hi in bounds:
            lo = firsts[0] if lo is None else lo
            hi = _month_days(months[-1][0])[1] if hi is None else hi
            out.append(sum(1 for f in firsts if lo <= f <= hi))
        return out

    def memory_for(limit: int, workers: int) -> int:
        """The memory that holds the windows of a plan's runs at once, to the byte."""
        bounds, _, runs = _planned(months, None, None, limit, workers)
        need = sum(_windows(months, bounds, runs)) * BYTES_PER_LOOKUP / 0.8
        return int(need) + 1

    monthly = _planned(months, None, None, 1_500_000, 1)
    assert span(monthly[0]) == [1] * 12
    # unknown memory, or too little for even the first plan: the first plan
    assert _grown(months, None, None, 1_500_000, 1, None) == monthly
    assert _grown(months, None, None, 1_500_000, 1, 0) == monthly
    # a window is its part and the months within 31 days on each side: memory for the
    # windows of two-month parts, not for those of three-month parts
    two = memory_for(2_000_000, 1)
    assert two < memory_for(3_000_000, 1)
    bounds, sizes, runs = _grown(months, None, None, 1_500_000, 1, two)
    assert span(bounds) == [2] * 6 and sizes == [2_000_000] * 6 and runs == [range(6)]
    assert bounds[0][0] is None and bounds[-1][1] is None  # the range stays open
    # a little less: the parts stay as they were, monthly
    assert span(_grown(months, None, None, 1_500_000, 1, two - 2)[0]) == [1] * 12
    # ample memory: one part per run; two runs never share a part
    bounds, sizes, runs = _grown(months, None, None, 1_500_000, 2, 10**15)
    assert span(bounds) == [6, 6] and runs == [range(0, 1), range(1, 2)]
    # two processes hold their windows at once
    bounds, _, runs = _grown(months, None, None, 1_500_000, 2, memory_for(2_000_000, 2))
    assert span(bounds) == [2] * 6 and [len(r) for r in runs] == [3, 3]


def test_a_window_counts_the_days_of_its_months_it_reads() -> None:
    from kit.assess.screen import _month_days, _windows

    months = _month_list([31_000, 28_000, 31_000, 30_000, 31_000])
    march = _month_days("2023-03")
    # 31 days on each side: 29-31 January, February, March, April, 1 May
    assert _windows(months, [march], [range(1)]) == [3_000 + 28_000 + 31_000 + 30_000 + 1_000]
    # open ends read everything before or after
    assert _windows(months, [(None, march[1])], [range(1)]) == [121_000]  # to 1 May
    assert _windows(months, [(None, None)], [range(1)]) == [151_000]


def test_parts_grow_with_the_memory_left_after_the_records(
    store, tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """By default the parts are as large as the memory holds; the files are the same."""
    import sys

    screen_mod = sys.modules["kit.assess.screen"]
    whole = screen(store, tmp_path / "whole.parquet", jobs=1)
    monkeypatch.setattr(screen_mod, "CHUNK_LOOKUPS", 1)  # a month per part at first
    loaded: list[tuple[int | None, int | None]] = []  # the parts, as assessed
    real_evaluate = screen_mod.evaluate

    def evaluate(data, config, lo, hi, *args, **kwargs):
        loaded.append((lo, hi))
        return real_evaluate(data, config, lo, hi, *args, **kwargs)

    monkeypatch.setattr(screen_mod, "evaluate", evaluate)
    monkeypatch.setattr(screen_mod, "_available_memory", lambda: 10**15)
    grown = screen(store, tmp_path / "grown.parquet", jobs=1)
    assert loaded == [(None, None)] and forks == []  # one part
    _assert_same_screening(whole, grown)

    # memory for no window: the first plan, a month per part
    monkeypatch.setattr(screen_mod, "_available_memory", lambda: 1)
    loaded.clear()
    monthly = screen(store, tmp_path / "monthly.parquet", jobs=1)
    assert loaded == parts(store, None, None, limit=1) and len(loaded) == 3
    _assert_same_screening(whole, monthly)

    # ample memory before the records, none after: the window read beforehand for one
    # whole part is dropped, and the parts stay monthly
    read = _preloads(monkeypatch)
    left = iter([10**15])
    monkeypatch.setattr(screen_mod, "_available_memory", lambda: next(left, 1))
    loaded.clear()
    shrunk = screen(store, tmp_path / "shrunk.parquet", jobs=1)
    assert read == [(None, None)] and loaded == parts(store, None, None, limit=1)
    _assert_same_screening(whole, shrunk)

    # told the size of the parts: that size, whatever the memory
    monkeypatch.setattr(screen_mod, "_available_memory", lambda: 10**15)
    loaded.clear()
    told = screen(store, tmp_path / "told.parquet", jobs=1, chunk_lookups=1)
    assert len(loaded) == 3
    _assert_same_screening(whole, told)


def test_screening_keeps_huge_pages_off_meanwhile(
    store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Linux backs no memory of a screening with huge pages; the setting comes back after."""
    import ctypes
    import sys

    try:
        prctl = ctypes.CDLL(None).prctl
    except AttributeError:
        pytest.skip("no prctl: not Linux")
    get = 42  # PR_GET_THP_DISABLE
    before = prctl(get, 0, 0, 0, 0)
    assert before == 0  # the test process's own setting
    screen_mod = sys.modules["kit.assess.screen"]
    seen: list[int] = []
    real = screen_mod.evaluate

    def evaluate(*args, **kwargs):
        seen.append(prctl(get, 0, 0, 0, 0))
        if len(seen) == 2:
            raise RuntimeError("a part failed")
        return real(*args, **kwargs)

    monkeypatch.setattr(screen_mod, "evaluate", evaluate)
    screen(store, tmp_path / "one.parquet", jobs=1)
    assert seen == [1] and prctl(get, 0, 0, 0, 0) == before
    with pytest.raises(RuntimeError, match="a part failed"):
        screen(store, tmp_path / "two.parquet", jobs=1)
    assert seen == [1, 1] and prctl(get, 0, 0, 0, 0) == before
