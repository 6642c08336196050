"""Generator benchmark: lookups per second and peak memory.

Usage::

    python -m bench.synth [--officers 1450 --months 3] [--full] [--write]

Each run generates a messy agency in a temporary folder, in a child process,
so the peak resident memory (``ru_maxrss`` of the child) is the generator's
own.  ``--full`` adds one run at 7000 officers x 12 months (about 20 million
lookups).  ``--write`` replaces the "Synthetic generator" section of
``bench/RESULTS.md`` with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Synthetic generator"

CHILD = """
import json, resource, sys, time
from kit.synth import generate
start = time.perf_counter()
out, seed, officers, months = sys.argv[1], *(int(x) for x in sys.argv[2:5])
key = generate(out, seed=seed, officers=officers, months=months)
elapsed = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps({"lookups": key["distinct_valid_lookups"], "seconds": elapsed,
                  "peak_kib": usage.ru_maxrss, "cpu_seconds": cpu, "files": len(key["files"])}))
"""


def run(officers: int, months: int, seed: int = 1) -> dict[str, float]:
    """Generate once in a child process; return lookups, seconds, rows/s, peak MiB, size."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "agency"
        wall = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(out), str(seed), str(officers), str(months)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - wall
        result = json.loads(done.stdout.strip().splitlines()[-1])
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {
        "officers": officers,
        "months": months,
        "lookups": result["lookups"],
        "seconds": round(result["seconds"], 1),
        "cpu_seconds": round(result["cpu_seconds"], 1),
        "load": round(os.getloadavg()[0], 1),
        "wall_seconds": round(wall, 1),
        "rows_per_second": round(result["lookups"] / result["seconds"]),
        "peak_mib": round(result["peak_kib"] / 1024),
        "output_mib": round(size / 2**20),
    }


def machine() -> str:
    """Describe the machine: cores, CPU model, load."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    python = platform.python_version()
    return f"{os.cpu_count()} cores (nproc), {model}, Python {python}, load average {load:.1f}"


def per_cpu(result: dict[str, float]) -> str:
    """Lookups per CPU-second, or empty when the CPU time was not recorded."""
    cpu = result.get("cpu_seconds")
    return format(round(result["lookups"] / cpu), ",") if cpu else ""


def write_section(results: list[dict[str, float]], note: str) -> None:
    """Replace this benchmark's section of bench/RESULTS.md (other sections untouched)."""
    lines = [
        SECTION,
        "",
        f"Run {dt.date.today().isoformat()} on {machine()}. `python -m bench.synth`; messy output "
        "(the default), generated in a child process; peak = `ru_maxrss` of that process.",
        "",
        "| officers | months | lookups | wall s | CPU s | lookups/s (wall) | lookups/CPU s "
        "| peak MiB | output MiB | load avg |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['officers']} | {r['months']} | {r['lookups']:,} | {r['seconds']} | "
            f"{r.get('cpu_seconds', '')} | {r['rows_per_second']:,} | "
            f"{per_cpu(r)} | "
            f"{r['peak_mib']} | {r['output_mib']} | {r.get('load', '')} |"
        )
    lines += ["", note, ""]
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    start = text.find(SECTION)
    if start >= 0:
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + text[nxt + 1 :] if nxt >= 0 else text[:start]
    RESULTS.write_text(text.rstrip("\n") + "\n\n" + "\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=1450)
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="also 7000 officers x 12 months")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    parser.add_argument("--note", default="", help="text added under the table")
    args = parser.parse_args()
    results = [run(args.officers, args.months)]
    print(json.dumps(results[-1]), flush=True)
    if args.full:
        results.append(run(7000, 12))
        print(json.dumps(results[-1]), flush=True)
    if args.write:
        write_section(results, args.note)


if __name__ == "__main__":
    main()
