"""The views on generated agencies: counts against the raw files, planted paths, no leaks."""

import csv
import datetime as dt
import json
from pathlib import Path

import networkx as nx
import openpyxl
import pandas as pd
import pytest

from kit.assess import assess
from kit.load import load_folder
from kit.mask import Masker
from kit.synth import generate
from kit.views import (
    communications_table,
    duty_heatmap,
    evidence_table,
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


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    key = generate(folder, seed=5, officers=15, months=1, messy=False)
    dataset = load_folder(folder)
    return folder, key, dataset, assess(dataset)


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("messy")
    key = generate(folder, seed=3, officers=15, months=1)
    dataset = load_folder(folder)
    return folder, key, dataset, assess(dataset)


def _raw_lookups(folder: Path, key: dict) -> list[dict[str, str]]:
    """Read the query-log CSVs with the csv module alone (no kit code), dropping repeats."""
    rows: dict[tuple[str, ...], dict[str, str]] = {}
    for entry in key["files"]:
        if entry["kind"] != "query_log":
            continue
        with open(folder / entry["path"], encoding=entry["encoding"] or "utf-8", newline="") as f:
            for row in csv.DictReader(f):
                rows.setdefault(tuple(row.values()), row)
    return list(rows.values())


def test_timeline_lookups_equal_the_files_for_every_officer(clean):
    folder, key, dataset, assessment = clean
    start, end = dt.datetime(2023, 1, 10), dt.datetime(2023, 1, 20, 23, 59, 59)
    raw = _raw_lookups(folder, key)
    assert len(raw) == key["distinct_valid_lookups"]
    officers = sorted(set(dataset.officers["officer_id"]))
    masker = Masker()
    for officer in officers:
        expected = 0
        for row in raw:
            when = dt.datetime.fromisoformat(row["作業時間"].replace("/", "-"))
            querier = row["實際查詢者"] or row["使用者"]
            if start <= when <= end and officer in (querier, row["使用者"]):
                expected += 1
        timeline = officer_timeline(
            dataset, assessment, officer, "2023-01-10", "2023-01-20", masker=masker
        )
        lookups = timeline[timeline["lane"] == "lookup"]
        assert len(lookups) == expected, officer
        assert lookups["lookup_id"].is_unique


def test_planted_lookups_appear_with_their_flags(clean):
    _, key, dataset, assessment = clean
    planted = [p for p in key["planted_lookups"] if p["scenario"] == "case6_false_ticket"]
    officer = planted[0]["actual_user"] or planted[0]["user"]
    timeline = officer_timeline(dataset, assessment, officer, masker=Masker())
    lookups = timeline[timeline["lane"] == "lookup"]
    times = lookups["time"].map(lambda t: t.isoformat())
    for item in planted:
        row = lookups[times == item["time"]]
        assert len(row) == 1
        for flag in item["expected_flags"]:
            assert flag in row["flags"].iloc[0]


def _officer(key: dict, scenario: str) -> str:
    return key["scenarios"][scenario]["officers"][0]


@pytest.mark.parametrize("which", ["clean", "messy"])
def test_case6_path_officer_plate_owner_ex_spouse(which, request):
    _, key, dataset, assessment = request.getfixturevalue(which)
    officer = f"officer:{_officer(key, 'case6_false_ticket')}"
    graph = link_graph(dataset, assessment, officers=[officer.split(":", 1)[1]])
    found = []
    for _, plate, kind in graph.out_edges(officer, keys=True):
        if kind != "looked_up" or not plate.startswith("vehicle:"):
            continue
        for _, owner, link in graph.out_edges(plate, keys=True):
            relation = graph.get_edge_data(officer, owner, default={}).get("relation_of")
            if link == "belongs_to" and relation and relation["detail"] == "前配偶":
                found.append((plate, owner))
    assert found
    plate = found[0][0]
    assert graph.get_edge_data(officer, plate)["looked_up"]["suspicious"] >= 1


@pytest.mark.parametrize("which", ["clean", "messy"])
def test_case2_path_officer_account_message_line_id(which, request):
    _, key, dataset, assessment = request.getfixturevalue(which)
    officer = f"officer:{_officer(key, 'case2_165_bulk')}"
    graph = link_graph(dataset, assessment, officers=[officer.split(":", 1)[1]])
    sent = [
        (account, target, data)
        for _, account, kind in graph.out_edges(officer, keys=True)
        if kind == "looked_up" and account.startswith("account:")
        for _, target, sk, data in graph.out_edges(account, keys=True, data=True)
        if sk == "sent_identifier"
    ]
    assert sent
    assert all(target.startswith("line_id:") for _, target, _ in sent)
    assert all(d["rests_on"].startswith("communications:") for _, _, d in sent)
    planted = {p["conditions"] for p in key["planted_lookups"] if p["scenario"] == "case2_165_bulk"}
    assert len({a for a, _, _ in sent}) >= len(planted) // 2


def test_graph_of_several_officers_and_of_a_subject(clean):
    _, key, dataset, assessment = clean
    sharing = key["scenarios"]["account_sharing"]["officers"]
    graph = link_graph(dataset, assessment, officers=sharing)
    assert {f"officer:{o}" for o in sharing} <= set(graph)
    plate = next(n for n in graph if n.startswith("vehicle:"))
    subject = link_graph(dataset, assessment, subjects=[plate.split(":", 1)[1]])
    assert any(k == "looked_up" for _, _, k in subject.in_edges(plate, keys=True))


def _secrets(dataset) -> set[str]:
    values: set[str] = set()
    for frame in (dataset.subjects, dataset.identifiers):
        for column in ("value", "raw"):
            values |= {str(v).strip() for v in frame[column].dropna()}
    # names of people that are not identifier fields are masked too
    values |= {str(v).strip() for v in dataset.relations["name"].dropna()}
    values |= {str(v).strip() for v in dataset.communications["counterpart_name"].dropna()}
    return {v for v in values if len(v) >= 2}


def test_no_identifier_of_the_input_in_any_masked_output(messy, tmp_path):
    _, key, dataset, _ = messy
    masker = Masker()
    officer = _officer(key, "case2_165_bulk")
    officers = [officer, _officer(key, "case6_false_ticket")]
    # a bundle covers the officers asked for (scanning every lookup of the agency is slow)
    assessment = assess(dataset, officers=officers)
    timeline = officer_timeline(dataset, assessment, officer, masker=masker)
    graph = link_graph(dataset, assessment, officers=officers)
    tables = {
        "lookups": lookup_table(dataset, assessment, masker=masker),
        "subjects": subject_summary(dataset, assessment, masker=masker),
        "communications": communications_table(dataset, assessment, masker=masker),
        "evidence": evidence_table(assessment, masker=masker),
        "method": method_table(dataset, assessment, {"officer": officer}, masker=masker),
    }
    paths = export_tables(tables, tmp_path / "tables")
    paths += export_graph(graph, tmp_path, masker=masker)
    texts = {p.name: p.read_bytes().decode("utf-8-sig") for p in paths if p.suffix != ".xlsx"}
    workbook = openpyxl.load_workbook(tmp_path / "tables" / "evidence.xlsx")
    texts["xlsx"] = "\n".join(
        str(cell) for ws in workbook for row in ws.iter_rows(values_only=True) for cell in row
    )
    for name, fig in (
        ("timeline", timeline_figure(timeline)),
        ("heatmap", duty_heatmap(timeline)),
        ("graph", graph_figure(graph, masker=masker)),
    ):
        texts[name] = json.dumps(json.loads(fig.to_json()), ensure_ascii=False)
    assert len(tables["lookups"]) == len(assessment.lookups)
    assert nx.read_graphml(tmp_path / "graph.graphml").number_of_nodes() == len(graph)
    secrets = _secrets(dataset)
    assert len(secrets) > 100
    folded = {name: text.casefold() for name, text in texts.items()}
    leaks = sorted(
        (name, secret)
        for secret in secrets
        for name, text in folded.items()
        if secret.casefold() in text
    )
    assert leaks == []


def test_revealed_bundle_shows_what_the_masked_one_hides(messy):
    _, key, dataset, assessment = messy
    officer = _officer(key, "case2_165_bulk")
    shown = officer_timeline(dataset, assessment, officer, masker=Masker(reveal=True))
    hidden = officer_timeline(dataset, assessment, officer, masker=Masker())
    accounts = dataset.subjects[dataset.subjects["entity"] == "account"]["value"]
    text_shown = " ".join(shown["subject"].dropna())
    text_hidden = " ".join(hidden["subject"].dropna())
    assert any(a in text_shown for a in accounts)
    assert not any(a in text_hidden for a in accounts)
    assert pd.Series(hidden["subject"].dropna()).str.contains("〔A").any()


def test_evidence_reasons_keep_their_dates(clean):
    # the reasons are the kit's own sentences: "... covers 06:33 on 2023-01-01" must keep its
    # date, not show it as a masked eight-digit account
    _, _, _, assessment = clean
    table = evidence_table(assessment, masker=Masker(), lang="en")
    dated = assessment.evidence["reason"].astype("string").str.contains(r"\d{4}-\d\d-\d\d")
    assert dated.any()
    dates = assessment.evidence.loc[dated, "reason"].str.extract(r"(\d{4}-\d\d-\d\d)")[0]
    shown = table.loc[dated.to_numpy(), "reason"].astype("string")
    assert all(d in s for d, s in zip(dates, shown, strict=True))


def test_report_figures_are_written_as_plotly_writes_them(messy):
    import plotly.io as pio

    from kit.bundle.report import figure_json
    from kit.views import graph_spec, heatmap_spec, timeline_spec

    _, key, dataset, _ = messy
    officer = _officer(key, "case2_165_bulk")
    assessment = assess(dataset, officers=[officer])
    masker = Masker()
    timeline = officer_timeline(dataset, assessment, officer, masker=masker)
    specs = {
        "timeline": timeline_spec(timeline),
        "heatmap": heatmap_spec(timeline, lang="en"),
        "graph": graph_spec(link_graph(dataset, assessment, officers=[officer]), masker=masker),
    }
    for name, spec in specs.items():
        assert figure_json(spec) == pio.to_json(spec, validate=False), name
