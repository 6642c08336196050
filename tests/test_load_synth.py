"""The loaders against the synthetic agency's messy exports and their answer key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kit.dataset import Dataset
from kit.load import load_folder
from kit.synth.generate import generate

REASONS = {
    "missing_required": "empty required field",
    "column_count": "wrong column count",
    "bad_time": "unparseable time",
}
WARNINGS = {
    "invalid_check_digit": "person ID with an invalid check digit",
    "undecodable_bytes": "undecodable bytes escaped",
}


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], Dataset]:
    root = tmp_path_factory.mktemp("synth") / "data"
    generate(root, seed=11, officers=15, months=1)
    key = json.loads((root / "answer_key.json").read_text(encoding="utf-8"))
    return root, key, load_folder(root)


def test_bad_rows_rejected_with_their_reason(synth: tuple[Path, dict, Dataset]) -> None:
    _, key, ds = synth
    led = ds.ledger
    rejected = led[led["status"] == "rejected"]
    got = {
        (f, line): reason
        for f, line, reason in rejected[["source_file", "source_line", "reason"]].values
    }
    expected = {(b["file"], b["line"]): b["reason"] for b in key["bad_rows"]}
    assert set(got) == set(expected)  # every bad row, and nothing else
    for where, reason in expected.items():
        assert got[where].startswith(REASONS[reason]), where


def test_warning_rows_in_ledger(synth: tuple[Path, dict, Dataset]) -> None:
    _, key, ds = synth
    led = ds.ledger
    warned = set(
        map(
            tuple,
            led.loc[led["status"] == "warning", ["source_file", "source_line", "reason"]].values,
        )
    )
    for w in key["warning_rows"]:
        assert (w["file"], w["line"], WARNINGS[w["reason"]]) in warned


def test_lookups_and_duplicates(synth: tuple[Path, dict, Dataset]) -> None:
    _, key, ds = synth
    q = ds.query_log
    assert q["lookup_id"].nunique() == len(q) == key["distinct_valid_lookups"]
    assert ds.report.totals()["duplicates"] == key["duplicates"]
    assert (ds.ledger["status"] == "duplicate").sum() == key["duplicates"]


def test_files_detected_and_reconciled(synth: tuple[Path, dict, Dataset]) -> None:
    _, key, ds = synth
    files = {f.path: f for f in ds.report.files}
    assert ds.report.reconciles
    for f in files.values():
        for s in f.sheets:
            assert s.rows_read == s.rows_loaded + s.rows_rejected, f.path
    for expected in key["files"]:
        got = files[expected["path"]]
        assert got.format == expected["format"]
        if expected["format"] == "csv":
            assert got.encoding == expected["encoding"], expected["path"]
        if expected["kind"] is None:
            assert expected["path"] in ds.report.unrecognised
            continue
        if "sheets" in expected:
            kinds = {s.sheet: s.kind for s in got.sheets}
            assert kinds == expected["sheets"]
        else:
            assert got.kinds == (expected["kind"],)
        assert got.count("rows_read") == expected["data_rows"], expected["path"]
    for path in key["unrecognised_files"]:
        assert path in ds.report.unrecognised
    assert {"cp950", "utf-8", "utf-8-sig"} <= {f.encoding for f in files.values()}
    assert any(f.format == "xlsx" and f.status == "loaded" for f in files.values())


def test_planted_lookups_load_as_written(synth: tuple[Path, dict, Dataset]) -> None:
    _, key, ds = synth
    q = ds.query_log.set_index(["source_file", "source_line"])
    dup = ds.ledger[ds.ledger["status"] == "duplicate"]
    duplicates = set(zip(dup["source_file"], dup["source_line"], strict=True))
    for p in key["planted_lookups"] + key["hard_negatives"]:
        where = (p["file"], p["line"])
        if where in duplicates:
            continue
        row = q.loc[where]
        assert row["time"] == pd.Timestamp(p["time"]), where
        assert row["user"] == p["user"] and row["conditions_raw"] == p["conditions"], where


def test_planted_communications_load(synth: tuple[Path, dict, Dataset]) -> None:
    _, key, ds = synth
    c = ds.communications.set_index(["source_file", "source_line"])
    for p in key["planted_communications"] + key["tipoffs"]:
        row = c.loc[(p["file"], p["line"])]
        assert row["time"] == pd.Timestamp(p["time"])
        assert row["counterpart_raw"] == p["counterpart"]
