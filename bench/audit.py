"""Benchmark: one month's audit of a generated 7,000-officer agency, end to end.

Generates one month with ``kit.synth`` (a subprocess), ingests it into a store
(a subprocess, so its memory is measured apart), then in this process:
assesses the month, draws the sample, builds the statistics and the
worksheet and writes it (CSV + XLSX). Prints the timings and peak memory;
with ``--update`` writes them into the "Monthly audit" section of
``bench/RESULTS.md``.

    .venv/bin/python bench/audit.py [--officers 7000] [--workdir DIR] [--update]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Monthly audit"


def _peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _run(args: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(args, check=True, cwd=ROOT)
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=7000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--update", action="store_true", help="write bench/RESULTS.md")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="kit_bench_audit_"))
    data, store_dir, out = work / "data", work / "store", work / "out"
    python = sys.executable
    saved = work / "prep_timings.json"
    timings: dict[str, float] = json.loads(saved.read_text()) if saved.exists() else {}
    previous_child_peak = timings.pop("child_peak_mib", 0.0)
    if not data.exists():
        timings["generate (subprocess)"] = _run(
            [
                python,
                "-m",
                "kit.synth",
                str(data),
                "--seed",
                str(args.seed),
                "--officers",
                str(args.officers),
                "--months",
                "1",
                "--start",
                "2023-01",
                "--clean",
            ]
        )
    if not store_dir.exists():
        timings["ingest (subprocess)"] = _run(
            [
                python,
                "-c",
                "import sys; from kit.store import ingest; ingest(sys.argv[1], sys.argv[2])",
                str(data),
                str(store_dir),
            ]
        )
    child_peak = max(_peak_mib(resource.RUSAGE_CHILDREN), previous_child_peak)
    saved.write_text(json.dumps({**timings, "child_peak_mib": child_peak}))

    from kit.assess import assess
    from kit.audit import audit_worksheet, monthly_sample, monthly_statistics, write_worksheet
    from kit.mask import Masker
    from kit.store import load_dataset, open_store

    began = time.perf_counter()
    store = open_store(store_dir)
    assessment = assess(store, "2023-01-01", "2023-01-31")
    timings["assess the month"] = time.perf_counter() - began
    lookups = len(assessment.lookups)

    step = time.perf_counter()
    context = load_dataset(store, "2022-12-01", "2022-12-31")
    timings["load context (previous month, small kinds)"] = time.perf_counter() - step

    step = time.perf_counter()
    sample = monthly_sample(assessment, context, "2023-01", seed=args.seed)
    timings["sample"] = time.perf_counter() - step

    step = time.perf_counter()
    statistics = monthly_statistics(assessment, context, "2023-01", context.query_log)
    timings["statistics"] = time.perf_counter() - step

    step = time.perf_counter()
    sheet = audit_worksheet(sample, assessment, context, masker=Masker())
    write_worksheet(sheet, out)
    timings["worksheet (build + CSV + XLSX)"] = time.perf_counter() - step
    total_audit = time.perf_counter() - began
    peak = _peak_mib(resource.RUSAGE_SELF)

    units_chosen = int(sample.units["chosen"].sum())
    lines = [
        SECTION,
        "",
        f"Measured {date.today().isoformat()} on {os.cpu_count()} cores ({_cpu()}), "
        f"Python {platform.python_version()}; `bench/audit.py --officers {args.officers}`.",
        "",
        f"One month of a generated {args.officers:,}-officer agency (`kit.synth --clean`, "
        f"seed {args.seed}): {lookups:,} lookups in "
        f"{int(statistics['totals']['units'].iloc[0])} units; sample: {units_chosen} of "
        f"{len(sample.units)} units, {sample.size:,} lookups "
        f"(expected {sample.expected_size:,.1f}), "
        f"{len(sample.officers_sampled):,} officers for the station audits.",
        "",
        "| step | seconds |",
        "|---|---:|",
        *[f"| {name} | {seconds:,.1f} |" for name, seconds in timings.items()],
        f"| **audit in-process total (assess → worksheet)** | **{total_audit:,.1f}** |",
        "",
        f"Peak memory (max RSS): audit process {peak:,.0f} MiB; largest subprocess "
        f"(generation or ingest) {child_peak:,.0f} MiB.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.update:
        results = ROOT / "bench" / "RESULTS.md"
        current = (
            results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
        )
        if SECTION in current:
            head, rest = current.split(SECTION, 1)
            tail = rest.split("\n## ", 1)
            current = head + text + ("\n## " + tail[1] if len(tail) > 1 else "")
        else:
            current = current.rstrip("\n") + "\n\n" + text
        results.write_text(current, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
