from __future__ import annotations

import json
import math
import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import papermill
import pytest

from kit.audit.bundle import AUDIT_NOTEBOOK, SELF_REVIEW_NOTEBOOK, run_audit, run_self_review
from kit.audit.session import MonthlyAudit, open_audit, write_audit_files
from kit.store import ingest, open_store

os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")

STATIONS = ("台中市政府警察局第一分局甲派出所", "臺中市政府警察局第一分局乙派出所")
PERSONS = ("A123456789", "B120000007", "C100000001", "D100000003")


def _write_folder(folder: Path) -> None:
    rng = np.random.default_rng(11)
    folder.mkdir(parents=True)
    officers = [(f"TC{s}{i:03d}", STATIONS[s]) for s in range(2) for i in range((21, 12)[s])]
    pd.DataFrame(
        {
            "員警編號": [o for o, _ in officers],
            "姓名": ["王小明"] * len(officers),
            "單位": [u for _, u in officers],
        }
    ).to_csv(folder / "officers.csv", index=False)
    days = pd.date_range("2023-02-01", "2023-03-31", freq="D")
    roster = pd.DataFrame(
        [
            (d.strftime("%Y-%m-%d"), o, u, "08:00", "20:00", "值班")
            for d in days
            for o, u in officers
        ],
        columns=["日期", "員警編號", "單位", "起", "迄", "勤務"],
    )
    roster.to_csv(folder / "roster.csv", index=False)
    rows = []
    for month, per_officer in (("2023-02", 20), ("2023-03", 30)):
        start = pd.Timestamp(f"{month}-01 08:30")
        for o, u in officers:
            offsets = rng.integers(0, 27, per_officer)
            minutes = rng.integers(0, 600, per_officer)
            for day, minute in zip(offsets, minutes, strict=True):
                when = start + pd.Timedelta(days=int(day), minutes=int(minute))
                person = PERSONS[int(rng.integers(0, len(PERSONS)))]
                rows.append(
                    (
                        when.strftime("%Y-%m-%d %H:%M:%S"),
                        u,
                        o,
                        "10.0.0.1",
                        "戶役政-個人戶籍資料查詢",
                        f"身分證號={person}",
                        "偵查犯罪",
                    )
                )
    rows.append(
        (
            "2023-03-10 03:12:00",
            STATIONS[0],
            "TC0001",
            "10.0.0.1",
            "車籍資料查詢",
            "車號:ABC-1234",
            '=HYPERLINK("x")',
        )
    )
    pd.DataFrame(
        rows, columns=["作業時間", "單位", "使用者", "IP", "作業種類", "查詢條件", "用途"]
    ).to_csv(folder / "log.csv", index=False)


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("audit_store")
    _write_folder(root / "data")
    ingest(root / "data", root / "store")
    return root / "store"


def _store_count(store_dir: Path, first: str, last: str) -> pd.DataFrame:
    store = open_store(store_dir)
    files = store.files("query_log")
    return duckdb.sql(
        "SELECT unit, count(*) AS n FROM read_parquet($files, union_by_name=true) "
        "WHERE time >= $first::TIMESTAMPTZ AND time < $last::TIMESTAMPTZ GROUP BY unit",
        params={"files": files, "first": first, "last": last},
    ).df()


@pytest.fixture(scope="module")
def audit(store_dir: Path) -> MonthlyAudit:
    return open_audit(store=str(store_dir), month="2023-03", seed=4, lang="en")


def test_statistics_totals_equal_store_counts(store_dir: Path, audit: MonthlyAudit) -> None:
    counts = _store_count(store_dir, "2023-03-01 00:00:00+08", "2023-04-01 00:00:00+08")
    by_unit = audit.statistics["volume_by_unit"].set_index("unit")["lookups"]
    assert int(audit.statistics["totals"]["lookups"].iloc[0]) == int(counts["n"].sum())
    assert by_unit.sort_index().to_dict() == counts.set_index("unit")["n"].sort_index().to_dict()
    previous = _store_count(store_dir, "2023-02-01 00:00:00+08", "2023-03-01 00:00:00+08")
    mom = audit.statistics["month_over_month"]
    assert int(mom["previous_lookups"].sum()) == int(previous["n"].sum())
    sample = audit.sample
    assert int(sample.units["chosen"].sum()) == 1
    chosen = sample.units.loc[sample.units["chosen"]].iloc[0]
    assert sample.size == math.ceil(chosen["lookups"] * 0.02)
    assert len(audit.worksheet) == sample.size
    folded = [u.replace("臺", "台") for u in STATIONS]
    assert sample.officers_sampled.groupby("unit").size().to_dict() == {folded[0]: 2, folded[1]: 1}


def test_write_audit_files(audit: MonthlyAudit, tmp_path: Path) -> None:
    written = write_audit_files(audit, tmp_path)
    names = {p.name for p in written}
    assert {"volume_by_unit.csv", "sample_units.csv", "audit_worksheet.xlsx", "facts.json"} <= names
    facts = json.loads((tmp_path / "facts.json").read_text(encoding="utf-8"))
    assert facts["row_counts"]["audit_worksheet"] == audit.sample.size


def test_notebook_parameters() -> None:
    assert list(papermill.inspect_notebook(str(AUDIT_NOTEBOOK))) == [
        "data",
        "store",
        "month",
        "unit",
        "seed",
        "closer_audit",
        "lang",
        "auditor",
        "reveal",
        "bundle_dir",
    ]
    assert list(papermill.inspect_notebook(str(SELF_REVIEW_NOTEBOOK))) == [
        "data",
        "store",
        "officer",
        "start",
        "end",
        "lang",
        "bundle_dir",
    ]


@pytest.mark.slow
def test_audit_bundle_end_to_end(store_dir: Path, tmp_path: Path) -> None:
    from kit.bundle import verify

    result = run_audit(store_dir, "2023-03", tmp_path / "bundle", seed=4, unit="第一分局")
    bundle = result.out_dir
    html = (bundle / "index.html").read_text(encoding="utf-8")
    assert result.manifest_hash in html
    assert "每月稽核報告" in html
    assert "A123456789" not in html
    assert (bundle / "tables" / "audit_worksheet.xlsx").exists()
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "audit"
    assert manifest["parameters"]["seed"] == 4
    assert verify(bundle).ok
    log = (store_dir / "access_log.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(log[-1])["command"] == "audit"


@pytest.mark.slow
def test_self_review_bundle(store_dir: Path, tmp_path: Path) -> None:
    result = run_self_review(
        store_dir, "TC0001", tmp_path / "self", start="2023-03-01", end="2023-03-31", lang="en"
    )
    table = pd.read_csv(result.out_dir / "tables" / "my_lookups.csv", encoding="utf-8-sig")
    assert len(table) == 31
    assert "flags" not in table.columns
    text = (result.out_dir / "index.html").read_text(encoding="utf-8")
    assert "ABC1234" not in text and "ABC-1234" not in text and "A123456789" not in text


def test_audit_command_bad_month_is_one_line_usage_error(
    store_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kit.cli import EXIT_USAGE, main

    with pytest.raises(SystemExit) as exited:
        main(
            ["audit", "--store", str(store_dir), "--month", "2023-13", "--out", str(tmp_path / "b")]
        )
    assert exited.value.code == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.startswith("kit audit: usage error:") and "YYYY-MM" in err and "\n" not in err
    assert not (tmp_path / "b").exists()
