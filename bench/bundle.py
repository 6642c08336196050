"""Benchmark of evidence bundles (issue 6): one big investigation, and a batch.

1. One investigation bundle of an officer with ``--lookups`` lookups (default
   10,000), against the bare floor measured in the same run: Papermill
   running a notebook that only imports the same libraries in the ``kit``
   kernel, then nbconvert exporting it with the same template. Target: the
   bundle takes at most 2x the floor. Each is timed as a user meets it, in a
   fresh process (``kit investigate``; a script that runs the floor notebook
   and exports it), so neither inherits the other's imports; ``--pairs``
   alternations (default 3), medians reported.
2. A batch of 8 officers with ``--jobs 2`` against the same 8 run one after
   the other (``jobs=1``). Target: the batch is at least 1.5x faster.

The data is written as a data folder (DATA.md) of CSV files and ingested
into a store first (not timed). ``--no-batch`` runs part 1 only. ``--write``
replaces the "Bundles" section of ``bench/RESULTS.md``.

    .venv/bin/python bench/bundle.py [--lookups 10000] [--batch-lookups 500] [--pairs 3]
                                     [--no-batch] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")

from kit.batch import run_batch  # noqa: E402
from kit.bundle import verify  # noqa: E402
from kit.store import ingest  # noqa: E402
from kit.synth.idgen import person_ids, plates  # noqa: E402

TARGET = "TC10001"
BATCH_OFFICERS = [f"TC2000{i}" for i in range(1, 9)]
DAYS = 180
START = pd.Timestamp("2023-01-01")

FLOOR_IMPORTS = """
import duckdb, networkx, numpy, pandas, plotly.graph_objects, plotly.io, pyarrow
import kit.assess, kit.bundle, kit.case, kit.store, kit.views
"""

FLOOR_SCRIPTS = {
    "plain": """
import sys
from pathlib import Path
import papermill
from nbconvert import HTMLExporter
source, out, templates = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
papermill.execute_notebook(
    str(source), str(out / "notebook.ipynb"), {"x": 2}, kernel_name="kit", cwd=str(out),
    progress_bar=False,
)
exporter = HTMLExporter(
    template_name="kit_report", extra_template_basedirs=[templates], exclude_input=True
)
body, _ = exporter.from_filename(str(out / "notebook.ipynb"))
(out / "index.html").write_text(body, encoding="utf-8")
""",
    "kit": """
import sys
from pathlib import Path
from kit.startup import skip_slow_format_checks
skip_slow_format_checks()
from kit.bundle.export import export_html
from kit.bundle.run import run_notebook
source, out = Path(sys.argv[1]), Path(sys.argv[2])
run_notebook(source, out / "notebook.ipynb", {"x": 2}, cwd=out)
export_html(out / "notebook.ipynb", out / "index.html")
""",
}
"""The floor, run as a user would, in a fresh process: Papermill then nbconvert with the
report template, either as they come (``plain``) or through the kit's own runner and
exporter with the ``kit`` command's start-up (``kit``: one notebook write, IPC, the
offline passes, jsonschema's slow format module skipped)."""


def _lookups(officer: str, count: int, rng: np.random.Generator, salt: int) -> pd.DataFrame:
    days = rng.integers(0, DAYS, count)
    seconds = rng.integers(6 * 3600, 23 * 3600, count)
    times = START + pd.to_timedelta(days, unit="D") + pd.to_timedelta(seconds, unit="s")
    people = person_ids(rng.integers(0, max(50, count // 4), count), salt=salt)
    cars = plates(rng.integers(0, max(50, count // 4), count), salt=salt)
    is_car = rng.random(count) < 0.4
    conditions = np.where(
        is_car, "車牌號碼=" + cars.astype(object), "身分證號=" + people.astype(object)
    )
    operation = np.where(is_car, "車籍", "戶役政")
    purposes = np.array(["偵查犯罪", "舉發交通違規", "查贓", "協尋", ""], dtype=object)
    return pd.DataFrame(
        {
            "作業時間": times.strftime("%Y-%m-%d %H:%M:%S"),
            "單位": "第一分局",
            "使用者": officer,
            "IP": f"10.0.{salt % 250}.{1 + salt % 200}",
            "作業種類": operation,
            "查詢條件": conditions,
            "實際查詢者": "",
            "實際查詢單位": "",
            "用途": purposes[rng.integers(0, len(purposes), count)],
        }
    )


def write_folder(folder: Path, lookups: int, batch_lookups: int) -> None:
    """Write the benchmark's data folder (officers, roster, query log, communications)."""
    rng = np.random.default_rng(6)
    folder.mkdir(parents=True, exist_ok=True)
    officers = [TARGET, *BATCH_OFFICERS]
    ids = person_ids(np.arange(len(officers)) + 10_000_000, salt=99)
    pd.DataFrame(
        {
            "員警編號": officers,
            "姓名": [f"警員{i}" for i in range(len(officers))],
            "身分證號": ids,
            "單位": "第一分局",
            "職稱": "警員",
        }
    ).to_csv(folder / "員警名冊.csv", index=False, encoding="utf-8")
    days = pd.date_range(START, periods=DAYS, freq="D").strftime("%Y-%m-%d")
    roster = pd.DataFrame(
        {
            "日期": np.tile(days, len(officers)),
            "員警編號": np.repeat(officers, len(days)),
            "單位": "第一分局",
            "起": "08:00",
            "迄": "18:00",
            "勤務": "巡邏",
        }
    )
    roster.to_csv(folder / "勤務分配表.csv", index=False, encoding="utf-8")
    frames = [_lookups(TARGET, lookups, rng, 1)]
    frames += [_lookups(o, batch_lookups, rng, 2 + i) for i, o in enumerate(BATCH_OFFICERS)]
    pd.concat(frames, ignore_index=True).to_csv(folder / "查詢日誌.csv", index=False)
    count = max(20, lookups // 20)
    times = START + pd.to_timedelta(rng.integers(0, DAYS * 86400, count), unit="s")
    pd.DataFrame(
        {
            "時間": times.strftime("%Y-%m-%d %H:%M:%S"),
            "員警編號": TARGET,
            "本機號碼": "0912345678",
            "對方": np.where(rng.random(count) < 0.5, "0987654321", "0911222333"),
            "對方名稱": "",
            "方向": np.where(rng.random(count) < 0.5, "發", "收"),
            "類型": "通話",
            "內容": "",
        }
    ).to_csv(folder / "通聯紀錄.csv", index=False, encoding="utf-8")


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def floor_notebook(work: Path) -> Path:
    """Write the floor's notebook: a parameters cell and one cell of imports."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "kit", "display_name": "kit", "language": "python"}
    parameters = nbformat.v4.new_code_cell("x = 1")
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, nbformat.v4.new_code_cell(FLOOR_IMPORTS.strip())]
    source = work / "floor_in.ipynb"
    nbformat.write(notebook, source)
    return source


def _timed(command: list[str]) -> float:
    """Run a command from the repository in a fresh process; return its wall seconds."""
    env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1"}
    began = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed:\n{done.stderr}")
    return time.perf_counter() - began


def floor_run(kind: str, source: Path, out: Path) -> tuple[float, int]:
    """Papermill the floor notebook, then export it, in a fresh process; return time, bytes."""
    from kit.bundle.export import TEMPLATES_DIR

    out.mkdir()
    command = [sys.executable, "-c", FLOOR_SCRIPTS[kind], str(source), str(out), str(TEMPLATES_DIR)]
    return _timed(command), _size(out)


def bundle_run(store: Path, out: Path) -> float:
    """Run ``kit investigate`` for the benchmark officer in a fresh process; return its time."""
    command = [sys.executable, "-m", "kit", "investigate", "--store", str(store)]
    command += ["--officer", TARGET, "--out", str(out), "--case-ref", "BENCH-1"]
    return _timed(command)


def batch_request(path: Path) -> Path:
    """Write a request naming the 8 batch officers."""
    lines = ["request_no: BENCH-1", "items:"]
    lines += [f"  - officer: {officer}" for officer in BATCH_OFFICERS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(
    lookups: int, batch_lookups: int, *, batch: bool = True, pairs: int = 3
) -> dict[str, object]:
    """Run the benchmark (the batch part only with ``batch``); return its figures."""
    results: dict[str, object] = {"lookups": lookups, "batch_lookups": batch_lookups}
    with tempfile.TemporaryDirectory(prefix="kit-bench-bundle-") as tmp:
        work = Path(tmp)
        write_folder(work / "data", lookups, batch_lookups)
        store = work / "store"
        began = time.perf_counter()
        ingest(work / "data", store)
        results["ingest_seconds"] = time.perf_counter() - began

        source = floor_notebook(work)
        runs: dict[str, list[float]] = {"plain": [], "kit": [], "bundle": []}
        for pair in range(pairs):
            for kind in FLOOR_SCRIPTS:
                seconds, results["floor_bytes"] = floor_run(
                    kind, source, work / f"floor-{kind}-{pair}"
                )
                runs[kind].append(seconds)
            runs["bundle"].append(bundle_run(store, work / f"bundle-{pair}"))
        results["runs"] = runs
        plain, kit_floor = statistics.median(runs["plain"]), statistics.median(runs["kit"])
        results["plain_floor_seconds"], results["kit_floor_seconds"] = plain, kit_floor
        results["floor_seconds"] = min(plain, kit_floor)
        results["bundle_seconds"] = statistics.median(runs["bundle"])
        out_dir = work / "bundle-0"
        results["bundle_bytes"] = _size(out_dir)
        results["bundle_files"] = {
            str(p.relative_to(out_dir)): p.stat().st_size
            for p in sorted(out_dir.rglob("*"))
            if p.is_file()
        }
        results["bundle_verifies"] = all(
            verify(work / f"bundle-{pair}").ok for pair in range(pairs)
        )
        if not batch:
            return results

        request = batch_request(work / "request.yaml")
        quiet = lambda done, total, item: None  # noqa: E731
        began = time.perf_counter()
        sequential = run_batch(request, store, work / "seq", jobs=1, progress=quiet)
        results["sequential_seconds"] = time.perf_counter() - began
        began = time.perf_counter()
        parallel = run_batch(request, store, work / "par", jobs=2, progress=quiet)
        results["parallel_seconds"] = time.perf_counter() - began
        results["batch_ok"] = sequential.ok and parallel.ok
    results["children_cpu_seconds"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    return results


def _machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text(encoding="utf-8"))
        if found:
            cpu = found.group(1).strip()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"load average {load:.1f} at the end of the run (the machine is shared)"
    )


def section(results: dict[str, object]) -> str:
    """Return the "Bundles" section of RESULTS.md."""
    floor = float(results["floor_seconds"])  # type: ignore[arg-type]
    bundle = float(results["bundle_seconds"])  # type: ignore[arg-type]
    files = results["bundle_files"]
    assert isinstance(files, dict)
    rows = "\n".join(f"| `{name}` | {size:,} |" for name, size in files.items())
    n = results["lookups"]
    plain = float(results["plain_floor_seconds"])  # type: ignore[arg-type]
    kit_floor = float(results["kit_floor_seconds"])  # type: ignore[arg-type]
    measures = [
        (
            "floor, plain: Papermill (kit kernel) of a notebook that only imports the same "
            "libraries, then nbconvert with the same template",
            f"{plain:.1f}",
            f"{results['floor_bytes']:,}",
            f"{plain / floor:.2f}",
        ),
        (
            "floor, kit runner: the same through the kit's runner and exporter, "
            "with the `kit` command's start-up",
            f"{kit_floor:.1f}",
            "",
            f"{kit_floor / floor:.2f}",
        ),
        (
            f"one investigation bundle, `kit investigate` ({n:,} lookups; "
            f"verifies: {results['bundle_verifies']})",
            f"{bundle:.1f}",
            f"{results['bundle_bytes']:,}",
            f"{bundle / floor:.2f} x the lower floor (target <= 2)",
        ),
    ]
    batches = ""
    if "parallel_seconds" in results:
        seq = float(results["sequential_seconds"])  # type: ignore[arg-type]
        par = float(results["parallel_seconds"])  # type: ignore[arg-type]
        measures += [
            ("batch of 8 officers, one after the other (`jobs=1`)", f"{seq:.1f}", "", "1.00"),
            (
                "batch of 8 officers, `--jobs 2`",
                f"{par:.1f}",
                "",
                f"{seq / par:.2f} x faster (target >= 1.5)",
            ),
        ]
        batches = (
            f" The item processes of the batches used "
            f"{float(results['children_cpu_seconds']):.0f} CPU seconds in all."  # type: ignore[arg-type]
        )
    table = "\n".join("| " + " | ".join(m) + " |" for m in measures)
    runs = results["runs"]
    assert isinstance(runs, dict)
    ingest = float(results["ingest_seconds"])  # type: ignore[arg-type]
    rounds = "\n".join(
        f"| {i + 1} | {p:.2f} | {k:.2f} | {b:.2f} | {b / min(p, k):.2f} |"
        for i, (p, k, b) in enumerate(zip(runs["plain"], runs["kit"], runs["bundle"], strict=True))
    )
    return f"""## Bundles

Run {date.today().isoformat()} on {_machine()}; `bench/bundle.py --lookups {n}`:
one officer with {n:,} lookups over {DAYS} days (roster, communications),
eight more with {results["batch_lookups"]:,} each; store ingested first (not timed,
{ingest:.1f} s). Times are wall seconds, each run in a fresh
process as a user meets it (start-up and imports included), the three alternated
{len(runs["bundle"])} times; medians below, the ratio against the lower floor.{batches}

| measure | seconds | bytes | ratio |
|---|---:|---:|---:|
{table}

| round | plain floor (s) | kit-runner floor (s) | bundle (s) | bundle / lower floor |
|---:|---:|---:|---:|---:|
{rounds}

Files of the investigation bundle:

| file | bytes |
|---|---:|
{rows}

`index.html` carries plotly.js once (about 4.6 MB); `notebook.ipynb` carries each figure
once as Plotly JSON and no plotly.js (the export renders the figures). The report prints
at most 2,000 rows per table; the CSV files in `tables/` are complete.
"""


def write_section(text: str) -> None:
    """Replace (or add) the "Bundles" section of bench/RESULTS.md."""
    path = REPO / "bench" / "RESULTS.md"
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    pattern = re.compile(r"## Bundles\n.*?(?=\n## |\Z)", re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _m: text.rstrip("\n"), current)
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    path.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--batch-lookups", type=int, default=500)
    parser.add_argument("--no-batch", action="store_true", help="one bundle and the floor only")
    parser.add_argument("--pairs", type=int, default=3, help="floor/bundle alternations")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args()
    results = run(args.lookups, args.batch_lookups, batch=not args.no_batch, pairs=args.pairs)
    text = section(results)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
