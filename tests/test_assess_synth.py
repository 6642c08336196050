"""Assessing the generator's messy output finds every planted lookup and tip-off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kit.assess import Assessment, assess
from kit.load import load_folder
from kit.synth import generate


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Assessment, Path]:
    folder = Path(tmp_path_factory.mktemp("assess_synth")) / "agency"
    key = generate(folder, seed=11, officers=15, months=2)
    return key, assess(load_folder(folder)), folder


def _by_key(assessment: Assessment) -> dict[str, dict[str, Any]]:
    frame = assessment.lookups
    when = frame["time"].dt.strftime("%Y-%m-%dT%H:%M:%S+08:00")
    keys = when + "|" + frame["user"].astype(str) + "|" + frame["conditions"].astype(str)
    return dict(zip(keys, frame.to_dict("records"), strict=True))


def _key(entry: dict[str, Any]) -> str:
    return f"{entry['time']}|{entry['user']}|{entry['conditions']}"


def test_every_planted_lookup_is_suspicious_with_its_flags(generated: tuple) -> None:
    key, assessment, _ = generated
    rows = _by_key(assessment)
    assert key["planted_lookups"]
    for entry in key["planted_lookups"]:
        row = rows.get(_key(entry))
        assert row is not None, entry["scenario"]
        assert row["suspicious"], (entry["scenario"], row["flags"])
        flags = set(row["flags"].split(";"))
        assert set(entry["expected_flags"]) <= flags, (entry["scenario"], row["flags"])


def test_hard_negatives_are_not_suspicious(generated: tuple) -> None:
    key, assessment, _ = generated
    rows = _by_key(assessment)
    assert key["hard_negatives"]
    for entry in key["hard_negatives"]:
        row = rows[_key(entry)]
        assert not row["suspicious"], (entry["boundary"], row["flags"])


def test_every_tipoff_is_found(generated: tuple) -> None:
    key, assessment, _ = generated
    comms = assessment.communications
    assert key["tipoffs"]
    for entry in key["tipoffs"]:
        when = pd.Timestamp(entry["time"])
        hit = comms[(comms["officer_id"] == entry["officer_id"]) & (comms["time"] == when)]
        assert hit["flags"].str.contains("TIPOFF").any(), entry["scenario"]


def test_legitimate_lookups_are_clean_and_explained(generated: tuple) -> None:
    key, assessment, _ = generated
    planted = {_key(e) for e in key["planted_lookups"]}
    rows = _by_key(assessment)
    legit = [r for k, r in rows.items() if k not in planted]
    suspicious = sum(r["suspicious"] for r in legit)
    explained = sum(bool(r["explanations"]) for r in legit)
    assert suspicious <= 0.005 * len(legit)
    assert explained >= 0.97 * len(legit)


def test_store_gives_the_same_result_for_a_one_week_range(
    generated: tuple, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from kit.store import ingest, open_store

    _, whole, folder = generated
    store_dir = Path(tmp_path_factory.mktemp("assess_store")) / "store"
    ingest(folder, store_dir)
    days = whole.lookups["time"].dt.date
    first = sorted(days.unique())[len(days.unique()) // 2]
    last = first + pd.Timedelta(days=6)
    week = assess(open_store(store_dir), first, last)
    assert len(week.lookups) == int(((days >= first) & (days <= last)).sum()) > 0
    cols = ["lookup_id", "explanations", "flags", "score", "suspicious", "not_checked"]
    merged = week.lookups[cols].merge(whole.lookups[cols], on="lookup_id", suffixes=("", "_all"))
    assert len(merged) == len(week.lookups)
    for col in cols[1:]:
        assert (merged[col] == merged[col + "_all"]).all(), col


def test_planted_communications_carry_exactly_their_expected_flags(generated: tuple) -> None:
    key, assessment, _ = generated
    comms = assessment.communications
    own = {"TIPOFF", "WATCHLIST_CONTACT"}
    assert key["planted_communications"]
    for entry in key["planted_communications"]:
        when = pd.Timestamp(entry["time"])
        hit = comms[(comms["officer_id"] == entry["officer_id"]) & (comms["time"] == when)]
        got = set(";".join(hit["flags"]).split(";")) & own
        assert got == set(entry["expected_flags"]) & own, entry["scenario"]


def test_an_explanation_whose_records_are_absent_finds_nothing(generated: tuple) -> None:
    # The engine does not run an explanation whose records are absent (their lookups count as
    # not checked): that must change nothing, rule by rule and kind by kind.
    import dataclasses

    from kit.assess.config import load_config
    from kit.assess.context import build_context
    from kit.assess.registry import REGISTRY, RuleKind
    from kit.load.complete import empty_frame

    _, _, folder = generated
    dataset = load_folder(folder)
    config = load_config(None)
    found_with_records = set()
    for rule in REGISTRY.of_kind(RuleKind.EXPLANATION):
        if len(rule.function(build_context(dataset, config)).hits):
            found_with_records.add(rule.code)
        for kind in rule.needs:
            without = dataclasses.replace(
                dataset,
                **{kind: empty_frame(kind)},
                identifiers=dataset.identifiers[dataset.identifiers["kind"] != kind],
            )
            hits = rule.function(build_context(without, config)).hits
            assert hits.empty, (rule.code, kind)
    assert found_with_records >= {"EXPL_CASE", "EXPL_TICKET", "EXPL_WORKLOG", "EXPL_DUTY_CHECK"}
