"""Benchmark of the investigator views for one officer with 10,000 lookups.

Builds a year of one officer's records in memory (10,000 lookups over 365
days, a roster shift a day — some across midnight, register absences,
communications, work-log entries and tickets), assesses it with
:func:`kit.assess.assess`, then times each view and measures the size of each
figure's JSON. Run from the repository root::

    .venv/bin/python bench/views.py [--lookups 10000] [--write]

``--write`` replaces the "Views" section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kit.assess import assess
from kit.dataset import Dataset
from kit.mask import Masker
from kit.views import (
    communications_table,
    duty_heatmap,
    export_graph,
    export_tables,
    graph_figure,
    link_graph,
    lookup_table,
    method_table,
    officer_timeline,
    subject_summary,
    timeline_figure,
)
from kit.views.timeline_figure import GL_THRESHOLD

OFFICER = "TC04521"
LETTERS = "ABCDEFGHJKLMNPQRSTUVXYWZIO"
VALUES = [
    10,
    11,
    12,
    13,
    14,
    15,
    16,
    17,
    34,
    18,
    19,
    20,
    21,
    22,
    35,
    23,
    24,
    25,
    26,
    27,
    28,
    29,
    32,
    30,
    31,
    33,
]


def _person_ids(rng: np.random.Generator, n: int) -> list[str]:
    out = []
    for _ in range(n):
        i = int(rng.integers(0, 26))
        digits = [int(rng.integers(1, 3))] + [int(d) for d in rng.integers(0, 10, 7)]
        v = VALUES[i]
        total = (
            v // 10
            + (v % 10) * 9
            + sum(w * d for w, d in zip((8, 7, 6, 5, 4, 3, 2, 1), digits, strict=True))
        )
        check = (10 - total % 10) % 10
        out.append("ABCDEFGHJKLMNPQRSTUVXYWZIO"[i] + "".join(map(str, digits)) + str(check))
    return out


def build(n_lookups: int, seed: int = 7) -> Dataset:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-01 00:00", tz="Asia/Taipei")
    days = 365
    people = _person_ids(rng, 3000)
    plates = [
        f"{''.join(rng.choice(list('ABCDEFGHJKLMNPRSTUVWXYZ'), 3))}{int(rng.integers(1000, 9999))}"
        for _ in range(2000)
    ]
    accounts = [f"822{int(rng.integers(10**12, 10**13 - 1))}" for _ in range(500)]
    day = rng.integers(0, days, n_lookups)
    shift_start = np.where(day % 7 == 3, 22, 8)
    minute = rng.integers(0, 8 * 60, n_lookups)
    times = (
        start
        + pd.to_timedelta(day, unit="D")
        + pd.to_timedelta(shift_start * 60 + minute, unit="m")
    )
    times = times + pd.to_timedelta(rng.integers(0, 60, n_lookups), unit="s")
    kind = rng.integers(0, 3, n_lookups)
    conditions = np.where(
        kind == 0,
        np.array(["身分證號=" + p for p in people], dtype=object)[
            rng.integers(0, len(people), n_lookups)
        ],
        np.where(
            kind == 1,
            np.array(["車牌號碼=" + p[:3] + "-" + p[3:] for p in plates], dtype=object)[
                rng.integers(0, len(plates), n_lookups)
            ],
            np.array(["帳號=" + a for a in accounts], dtype=object)[
                rng.integers(0, len(accounts), n_lookups)
            ],
        ),
    )
    operations = np.array(
        ["戶役政-個人戶籍資料查詢", "車籍資料查詢", "165反詐騙-警示帳戶查詢"], dtype=object
    )[kind]
    query_log = pd.DataFrame(
        {
            "time": times,
            "unit": "第三分局西屯派出所",
            "user": OFFICER,
            "ip": "10.1.2.3",
            "operation": operations,
            "conditions": conditions,
            "purpose": np.array(["偵查犯罪", "舉發交通違規", "為民服務"], dtype=object)[
                rng.integers(0, 3, n_lookups)
            ],
            "device": "PC",
        }
    )
    dates = [(start + pd.Timedelta(days=d)).date().isoformat() for d in range(days)]
    roster = pd.DataFrame(
        {
            "date": dates,
            "officer_id": OFFICER,
            "unit": "第三分局西屯派出所",
            "start": ["22:00" if d % 7 == 3 else "08:00" for d in range(days)],
            "end": ["06:00" if d % 7 == 3 else "16:00" for d in range(days)],
            "duty": ["巡邏" if d % 5 else "休假" for d in range(days)],
        }
    )
    outs = start + pd.to_timedelta(np.arange(days), unit="D") + pd.Timedelta(hours=9)
    register = pd.DataFrame(
        {
            "officer_id": OFFICER,
            "out_time": outs,
            "in_time": outs + pd.Timedelta(hours=2),
            "reason": "巡邏",
            "equipment": "手槍;無線電",
        }
    )
    n_comms = 2000
    comm_times = start + pd.to_timedelta(rng.integers(0, days * 24 * 60, n_comms), unit="m")
    communications = pd.DataFrame(
        {
            "time": comm_times,
            "officer_id": OFFICER,
            "own_phone": "0911000111",
            "counterpart": [f"09{int(x):08d}" for x in rng.integers(0, 10**8, n_comms)],
            "direction": np.array(["發", "收"], dtype=object)[rng.integers(0, 2, n_comms)],
            "type": "簡訊",
            "content": np.array(["收到", "好", "帳號 " + accounts[0] + " 請查"], dtype=object)[
                rng.integers(0, 3, n_comms)
            ],
        }
    )
    worklog = pd.DataFrame(
        {
            "time": start + pd.to_timedelta(np.arange(days), unit="D") + pd.Timedelta(hours=15),
            "officer_id": OFFICER,
            "content": "巡邏 身分證號=" + pd.Series(people[:days]),
        }
    )
    officers = pd.DataFrame(
        {
            "officer_id": [OFFICER],
            "name": ["林大華"],
            "unit": ["第三分局西屯派出所"],
            "phone": ["0911000111"],
        }
    )
    identities = pd.DataFrame(
        {
            "identifier": ["車牌=" + p for p in plates[:500]],
            "belongs_to": ["身分證號=" + p for p in people[:500]],
            "link": "車主",
        }
    )
    relations = pd.DataFrame(
        {
            "officer_id": [OFFICER],
            "relation": ["前配偶"],
            "identifier": ["身分證號=" + people[0]],
            "name": ["王小美"],
        }
    )
    return Dataset.from_frames(
        query_log=query_log,
        duty_roster=roster,
        register=register,
        communications=communications,
        worklog=worklog,
        officers=officers,
        identities=identities,
        relations=relations,
    )


def timed(label: str, results: list[tuple[str, float, float]], fn, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    results.append((label, time.perf_counter() - wall, time.process_time() - cpu))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows: list[tuple[str, float, float]] = []
    dataset = timed("build dataset (Dataset.from_frames)", rows, build, args.lookups)
    assessment = timed("assess (kit.assess.assess)", rows, assess, dataset)
    masker = Masker()
    timeline = timed(
        "officer_timeline", rows, officer_timeline, dataset, assessment, OFFICER, masker=masker
    )
    fig = timed("timeline_figure", rows, timeline_figure, timeline)
    heat = timed("duty_heatmap", rows, duty_heatmap, timeline)
    graph = timed("link_graph", rows, link_graph, dataset, assessment, officers=[OFFICER])
    gfig = timed("graph_figure", rows, graph_figure, graph, masker=masker)
    table = timed("lookup_table", rows, lookup_table, dataset, assessment, masker=masker)
    subjects = timed("subject_summary", rows, subject_summary, dataset, assessment, masker=masker)
    comms = timed(
        "communications_table", rows, communications_table, dataset, assessment, masker=masker
    )
    method = timed("method_table", rows, method_table, dataset, assessment, {"officer": OFFICER})
    with tempfile.TemporaryDirectory() as tmp:
        tables = {"lookups": table, "subjects": subjects, "communications": comms, "method": method}
        paths = timed(
            "export_tables (4 CSV + evidence.xlsx)", rows, export_tables, tables, Path(tmp)
        )
        gpaths = timed(
            "export_graph (GraphML + i2 CSV)", rows, export_graph, graph, Path(tmp), masker=masker
        )
        sizes = {p.name: p.stat().st_size for p in [*paths, *gpaths]}
    figures = {}
    for name, figure in (("timeline_figure", fig), ("duty_heatmap", heat), ("graph_figure", gfig)):
        t0 = time.perf_counter()
        text = figure.to_json()
        figures[name] = (
            len(text.encode()),
            time.perf_counter() - t0,
            sorted({t.type for t in figure.data}),
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lookups = int((timeline["lane"] == "lookup").sum())
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    lines = [
        "## Views",
        "",
        f"Run {dt.date.today().isoformat()} on {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}; `bench/views.py --lookups {args.lookups}`: "
        f"one officer, {lookups} lookups on his timeline over a year, "
        f"{len(dataset.duty_roster)} shifts (every 7th across midnight), "
        f"{len(dataset.register)} register absences, "
        f"{len(dataset.communications)} communications; graph "
        f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges.",
        "",
        "| step | wall seconds | CPU seconds |",
        "|---|---:|---:|",
        *[f"| {label} | {seconds:.2f} | {cpu:.2f} |" for label, seconds, cpu in rows],
        "",
        "| figure | `to_json()` bytes | `to_json()` seconds | trace types |",
        "|---|---:|---:|---|",
        *[
            f"| {name} | {size:,} | {secs:.2f} | {', '.join(types)} |"
            for name, (size, secs, types) in figures.items()
        ],
        "",
        "| export file | bytes |",
        "|---|---:|",
        *[f"| {name} | {size:,} |" for name, size in sizes.items()],
        "",
        f"Peak resident memory of the whole run: {peak:.0f} MB.",
        "",
        f"Lookup markers switch to `Scattergl` above {GL_THRESHOLD:,} "
        "(`kit.views.timeline_figure.GL_THRESHOLD`); duty is drawn as two filled traces of "
        "merged intervals (no layout shapes); hover labels are written once per trace "
        "(`customdata` + `hovertemplate`), so the timeline costs about 230 bytes per marker. "
        "Graphs above 400 nodes get the ring layout and WebGL. Wall-clock times are on a "
        "2-core machine shared with other jobs; CPU seconds are this process's own.",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write:
        path = Path(__file__).resolve().parent / "RESULTS.md"
        text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
        if "## Views" in text:
            head, _, rest = text.partition("## Views")
            tail = rest[rest.find("\n## ") + 1 :] if "\n## " in rest else ""
            text = head + report + ("\n" + tail if tail else "")
        else:
            text = text.rstrip("\n") + "\n\n" + report
        path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
