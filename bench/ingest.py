"""Benchmark: ingest throughput, look-up latency and peak memory of the store.

Not part of ``make test``. Run from the repository root::

    .venv/bin/python bench/ingest.py                 # 1 M lookups
    .venv/bin/python bench/ingest.py --ten-million   # also 10 M (slow: minutes)
    .venv/bin/python bench/ingest.py --update-results  # write bench/RESULTS.md's section
    .venv/bin/python bench/ingest.py --latency-store STORE  # look-ups only, on a built store

Everything is generated into a temporary folder (or ``--workdir``) with the
synthetic generator and deleted afterwards; nothing is written into the
repository unless ``--update-results`` is given.

Measured, in the same run:

- ingest throughput (lookups/s) of ``kit.store.ingest`` on ``--clean`` (UTF-8)
  output, against DuckDB's plain ``COPY (SELECT * FROM read_csv(...)) TO
  parquet`` of the same query-log files (the ratio; target >= 0.5);
- the same ingest on the messy output (absolute lookups/s);
- ``lookups_by_officer`` / ``lookups_by_subject`` latency against a full scan
  of the same rows (one unsorted Parquet file per table, same filter;
  target >= 20x faster);
- peak memory of each ingest, measured in its own subprocess (ru_maxrss;
  target < 4 GiB at 10 M lookups).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
MONTHS = 12
LOOKUPS_PER_OFFICER_MONTH = 240
SECTION = "## Ingest and store"

CHILD = """
import json, resource, sys, time
from kit.store import ingest
module = sys.modules["kit.store.ingest"]
build_indexes, index_s = module.build_indexes, [0.0]
def timed(*args):
    t = time.perf_counter()
    replaced = build_indexes(*args)
    index_s[0] += time.perf_counter() - t
    return replaced
module.build_indexes = timed
t0 = time.perf_counter()
result = ingest(sys.argv[1], sys.argv[2])
elapsed = time.perf_counter() - t0
print(json.dumps({
    "elapsed": elapsed,
    "index_s": index_s[0],
    "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "workers_maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    "new_rows": dict(result.new_rows),
    "duplicates": dict(result.duplicates),
    "totals": dict(result.totals),
}))
"""


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores (nproc), {cpu}, Python {platform.python_version()}"


def generate(out: Path, officers: int, seed: int, clean: bool) -> float:
    args = [PY, "-m", "kit.synth", str(out), "--seed", str(seed)]
    args += ["--officers", str(officers), "--months", str(MONTHS)]
    if clean:
        args.append("--clean")
    t0 = time.perf_counter()
    subprocess.run(args, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def query_log_files(folder: Path) -> list[str]:
    key = json.loads((folder / "answer_key.json").read_text(encoding="utf-8"))
    return [str(folder / f["path"]) for f in key["files"] if f.get("kind") == "query_log"]


def plain_copy(folder: Path, target: Path) -> tuple[float, int]:
    """DuckDB's plain CSV -> Parquet copy of the query-log files: (seconds, rows)."""
    files = query_log_files(folder)
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    t0 = time.perf_counter()
    con.execute(f"COPY (SELECT * FROM read_csv([{listed}])) TO '{target}' (FORMAT parquet)")
    elapsed = time.perf_counter() - t0
    rows = con.execute(f"SELECT count(*) FROM '{target}'").fetchone()
    return elapsed, int(rows[0]) if rows else 0


def run_ingest(folder: Path, store: Path) -> dict[str, object]:
    out = subprocess.run(
        [PY, "-c", CHILD, str(folder), str(store)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def alternated_medians(
    store_fn: Callable[..., object],
    scan_fn: Callable[..., object],
    args_list: list[tuple[Any, ...]],
) -> tuple[float, float]:
    """Median ms of the store's look-up and of the full scan, run one after the other per sample."""
    store_times, scan_times = [], []
    for args in args_list:
        t0 = time.perf_counter()
        store_fn(*args)
        t1 = time.perf_counter()
        scan_fn(*args)
        t2 = time.perf_counter()
        store_times.append((t1 - t0) * 1000)
        scan_times.append((t2 - t1) * 1000)
    return statistics.median(store_times), statistics.median(scan_times)


def latency(store_dir: Path, work: Path, samples: int = 15) -> dict[str, float]:
    """Officer and subject look-up latency, store vs full scan of unsorted Parquet."""
    from kit.store import lookups_by_officer, lookups_by_subject, open_store

    store = open_store(store_dir)
    ql_files = store.files("query_log")
    sj_files = store.files("subjects")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    unsorted_ql, unsorted_sj = work / "unsorted_ql.parquet", work / "unsorted_sj.parquet"

    def scan(files: list[str]) -> str:
        return "read_parquet([" + ", ".join(f"'{f}'" for f in files) + "], union_by_name=true)"

    con.execute(
        f"COPY (SELECT * EXCLUDE (month) FROM {scan(ql_files)} ORDER BY lookup_id) "
        f"TO '{unsorted_ql}' (FORMAT parquet)"
    )
    con.execute(
        f"COPY (SELECT * EXCLUDE (month) FROM {scan(sj_files)} ORDER BY lookup_id) "
        f"TO '{unsorted_sj}' (FORMAT parquet)"
    )
    rng = random.Random(1)
    users = [r[0] for r in con.execute(f"SELECT DISTINCT user FROM '{unsorted_ql}'").fetchall()]
    officers = rng.sample(sorted(users), min(samples, len(users)))
    subjects = con.execute(
        f"SELECT entity, value FROM '{unsorted_sj}' USING SAMPLE {samples * 4} ROWS"
    ).fetchall()
    subjects = rng.sample(sorted(subjects), min(samples, len(subjects)))

    def full_officer(officer: str) -> None:
        con.sql(
            f"SELECT * FROM '{unsorted_ql}' WHERE user = $o OR actual_user = $o ORDER BY time",
            params={"o": officer},
        ).to_arrow_table().to_pandas()

    def full_subject(entity: str, value: str) -> None:
        con.sql(
            f"SELECT q.* FROM '{unsorted_ql}' q WHERE q.lookup_id IN (SELECT lookup_id "
            f"FROM '{unsorted_sj}' WHERE entity = $e AND value = $v) ORDER BY time",
            params={"e": entity, "v": value},
        ).to_arrow_table().to_pandas()

    # one warm-up each, so file-system caching favours neither side
    lookups_by_officer(store, officers[0])
    full_officer(officers[0])
    lookups_by_subject(store, subjects[0][1], entity=subjects[0][0])
    full_subject(*subjects[0])
    officer_ms, officer_scan_ms = alternated_medians(
        lambda o: lookups_by_officer(store, o), full_officer, [(o,) for o in officers]
    )
    subject_ms, subject_scan_ms = alternated_medians(
        lambda e, v: lookups_by_subject(store, v, entity=e), full_subject, list(subjects)
    )
    return {
        "indexed_months": len(store.manifest.index),
        "officer_ms": officer_ms,
        "officer_scan_ms": officer_scan_ms,
        "subject_ms": subject_ms,
        "subject_scan_ms": subject_scan_ms,
    }


def scale(
    work: Path, lookups: int, *, messy: bool, folder: Path | None = None
) -> dict[str, object]:
    officers = max(12, round(lookups / (MONTHS * LOOKUPS_PER_OFFICER_MONTH)))
    result: dict[str, object] = {"target_lookups": lookups, "officers": officers}
    clean = work / f"clean_{lookups}" if folder is None else folder
    if folder is None:
        result["generate_s"] = generate(clean, officers, seed=11, clean=True)
    copy_s, copy_rows = plain_copy(clean, work / "plain_copy.parquet")
    result.update(copy_s=copy_s, copy_rows=copy_rows, copy_rps=copy_rows / copy_s)
    store = work / f"store_{lookups}"
    ing = run_ingest(clean, store)
    rows = int(ing["totals"]["query_log"])  # type: ignore[index]
    result.update(
        ingest_s=ing["elapsed"],
        index_s=ing["index_s"],
        ingest_rows=rows,
        ingest_rps=rows / float(ing["elapsed"]),  # type: ignore[arg-type]
        ingest_peak_mib=int(ing["maxrss_kib"]) / 1024,  # type: ignore[call-overload]
        workers_peak_mib=int(ing["workers_maxrss_kib"]) / 1024,  # type: ignore[call-overload]
    )
    result["ratio_vs_copy"] = float(result["ingest_rps"]) / float(result["copy_rps"])  # type: ignore[arg-type]
    t0 = time.perf_counter()
    again = run_ingest(clean, store)
    result["reingest_s"] = time.perf_counter() - t0
    result["reingest_added"] = int(again["new_rows"].get("query_log", 0))  # type: ignore[attr-defined]
    print(json.dumps(result), file=sys.stderr, flush=True)
    result.update(latency(store, work))
    print(json.dumps(result), file=sys.stderr, flush=True)
    if folder is None:
        shutil.rmtree(clean)
    if messy:
        folder = work / f"messy_{lookups}"
        generate(folder, officers, seed=12, clean=False)
        m = run_ingest(folder, work / f"store_messy_{lookups}")
        mrows = int(m["totals"]["query_log"])  # type: ignore[index]
        result.update(
            messy_s=m["elapsed"],
            messy_rows=mrows,
            messy_rps=mrows / float(m["elapsed"]),  # type: ignore[arg-type]
            messy_peak_mib=int(m["maxrss_kib"]) / 1024,  # type: ignore[call-overload]
            messy_workers_peak_mib=int(m["workers_maxrss_kib"]) / 1024,  # type: ignore[call-overload]
        )
        shutil.rmtree(folder)
    for path in work.glob("*.parquet"):
        path.unlink()
    return result


def section(results: list[dict[str, object]]) -> str:
    lines = [
        SECTION,
        "",
        f"Measured {date.today().isoformat()} on {machine()}, by `bench/ingest.py`; "
        "generator output with 12 months, ~240 lookups per officer-month.",
        "",
        "| lookups | ingest clean (rows/s) | plain DuckDB CSV→Parquet (rows/s) | ratio "
        "(target ≥ 0.5) | ingest messy (rows/s) | peak memory clean / messy "
        "(main process; largest loader worker) | "
        "officer look-up vs full scan | subject look-up vs full scan |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        messy = f"{r['messy_rps']:,.0f}" if "messy_rps" in r else "not run"
        mpeak = "not run"
        if "messy_peak_mib" in r:
            mpeak = f"{r['messy_peak_mib']:,.0f} MiB; {r['messy_workers_peak_mib']:,.0f} MiB"
        lines.append(
            f"| {r['ingest_rows']:,} | {r['ingest_rps']:,.0f} | {r['copy_rps']:,.0f} | "
            f"{r['ratio_vs_copy']:.2f} | {messy} | {r['ingest_peak_mib']:,.0f} MiB; "
            f"{r['workers_peak_mib']:,.0f} MiB / {mpeak} | "
            f"{r['officer_ms']:.1f} ms vs {r['officer_scan_ms']:.1f} ms "
            f"(×{r['officer_scan_ms'] / r['officer_ms']:.1f}) | "  # type: ignore[operator]
            f"{r['subject_ms']:.1f} ms vs {r['subject_scan_ms']:.1f} ms "
            f"(×{r['subject_scan_ms'] / r['subject_ms']:.1f}) |"  # type: ignore[operator]
        )
    lines += [
        "",
        "Full scan: the same query in DuckDB over one Parquet file per table ordered by "
        "`lookup_id` (so min/max statistics cannot prune), converted to pandas like the "
        "store's answer. Look-up times are medians over 15 officers / 15 subjects drawn at "
        "random. Re-ingesting the same folder added "
        + ", ".join(f"{r['reingest_added']} rows in {r['reingest_s']:.1f} s" for r in results)
        + ". Building the look-up index took "
        + ", ".join(
            f"{r.get('index_s', 0):.1f} s of the {r['ingest_s']:.1f} s ingest" for r in results
        )
        + ".",
        "",
    ]
    return "\n".join(lines)


def update_results(text: str) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        current = pattern.sub(lambda _: text + "\n", current)
    else:
        current = current.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(current, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ten-million", action="store_true", help="also run 10 M lookups")
    parser.add_argument("--only-ten-million", action="store_true", help="run only 10 M")
    parser.add_argument("--no-messy", action="store_true", help="skip the messy ingest")
    parser.add_argument("--lookups", type=int, default=1_000_000, help="size of the small run")
    parser.add_argument("--update-results", action="store_true", help="write bench/RESULTS.md")
    parser.add_argument(
        "--results-json",
        type=Path,
        help="keep raw results here across runs (the section shows every size kept)",
    )
    parser.add_argument("--workdir", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument(
        "--latency-store",
        type=Path,
        help="only measure look-up latency on this existing store (it is only read), then exit",
    )
    parser.add_argument(
        "--ten-million-folder",
        type=Path,
        help="a --clean generator output of ~10 M lookups made beforehand (kept)",
    )
    args = parser.parse_args()
    if args.latency_store:
        work = Path(tempfile.mkdtemp(prefix="kit-bench-", dir=args.workdir))
        try:
            print(json.dumps(latency(args.latency_store, work), indent=1), flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    sizes = [] if args.only_ten_million else [args.lookups]
    if args.ten_million or args.only_ten_million:
        sizes.append(10_000_000)
    work = Path(tempfile.mkdtemp(prefix="kit-bench-", dir=args.workdir))
    results = []
    try:
        for n in sizes:
            ten = n == 10_000_000
            folder = args.ten_million_folder if ten else None
            r = scale(work, n, messy=not args.no_messy and not ten, folder=folder)
            print(json.dumps(r, indent=1), flush=True)
            results.append(r)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.results_json:
        kept = []
        if args.results_json.exists():
            kept = json.loads(args.results_json.read_text(encoding="utf-8"))
        sizes_run = {r["target_lookups"] for r in results}
        kept = [r for r in kept if r["target_lookups"] not in sizes_run] + results
        kept.sort(key=lambda r: int(r["target_lookups"]))
        args.results_json.write_text(json.dumps(kept, indent=1), encoding="utf-8")
        results = kept
    text = section(results)
    print(text)
    if args.update_results:
        update_results(text)


if __name__ == "__main__":
    main()
