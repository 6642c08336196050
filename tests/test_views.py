import itertools
import json
import os

import networkx as nx
import openpyxl
import pandas as pd
import pytest
from test_views_fixtures import fake_assessment, small_dataset

from kit.mask import Masker
from kit.views import (
    communications_table,
    duty_heatmap,
    evidence_table,
    export_graph,
    export_tables,
    graph_figure,
    graph_spec,
    link_graph,
    lookup_table,
    method_table,
    officer_timeline,
    start_export_tables,
    subject_summary,
    timeline_figure,
    write_graphml,
    write_i2_csv,
)
from kit.views.timeline_figure import GL_THRESHOLD, merge_intervals

OFFICER = "TC04521"


@pytest.fixture(scope="module")
def dataset():
    return small_dataset()


@pytest.fixture(scope="module")
def assessment(dataset):
    return fake_assessment(dataset)


@pytest.fixture(scope="module")
def timeline(dataset, assessment):
    return officer_timeline(dataset, assessment, OFFICER, masker=Masker())


def test_timeline_holds_every_lookup_of_the_officer_once(dataset, timeline):
    lookups = timeline[timeline["lane"] == "lookup"]
    # five from his account, one from a colleague's account with him as actual querier
    assert sorted(lookups["lookup_id"]) == sorted(dataset.query_log["lookup_id"])
    assert lookups["lookup_id"].is_unique
    proxy = lookups[lookups["source_line"] == "7"]
    assert proxy["role"].tolist() == ["querier"]
    assert timeline["time"].is_monotonic_increasing


def test_timeline_of_the_account_owner_shows_lookups_made_by_others(dataset, assessment):
    other = officer_timeline(dataset, assessment, "TC09999", masker=Masker())
    rows = other[other["lane"] == "lookup"]
    assert rows["role"].tolist() == ["account"]


def test_timeline_period_end_date_is_inclusive(dataset, assessment):
    part = officer_timeline(
        dataset, assessment, OFFICER, "2023-10-06", "2023-10-06", masker=Masker()
    )
    lookups = part[part["lane"] == "lookup"]
    assert len(lookups) == 4
    assert (lookups["time"].dt.date.astype(str) == "2023-10-06").all()
    # the night shift that started the day before overlaps the period and is kept whole
    shifts = part[part["lane"] == "shift"]
    assert "2023-10-05 22:00:00+08:00" in shifts["time"].astype(str).tolist()


def test_shift_across_midnight_is_one_band(timeline):
    night = timeline[(timeline["lane"] == "shift") & (timeline["label"] == "巡邏")].iloc[0]
    assert str(night["time"]) == "2023-10-05 22:00:00+08:00"
    assert str(night["end"]) == "2023-10-06 02:00:00+08:00"
    fig = timeline_figure(timeline)
    band = next(t for t in fig.data if t.fill == "toself" and t.name == "值勤時段")
    xs = [x for x in band.x if x is not None]
    assert "2023-10-05 22:00:00" in xs and "2023-10-06 02:00:00" in xs


def test_merge_intervals_joins_touching_and_overlapping():
    t = pd.to_datetime(
        ["2023-01-01 08:00", "2023-01-01 12:00", "2023-01-01 11:00", "2023-01-02 08:00"]
    )
    e = pd.to_datetime(
        ["2023-01-01 12:00", "2023-01-01 16:00", "2023-01-01 13:00", "2023-01-02 09:00"]
    )
    merged = merge_intervals(pd.Series(t), pd.Series(e))
    assert len(merged) == 2
    assert str(merged["end"].iloc[0]) == "2023-01-01 16:00:00"


def test_timeline_figure_lanes_colours_and_slider(timeline):
    fig = timeline_figure(timeline, lang="en")
    names = {t.name for t in fig.data}
    assert {"lookups: critical", "lookups: high", "communications", "out of station"} <= names
    assert fig.layout.xaxis.rangeslider.visible
    assert all(t.type == "scatter" for t in fig.data)
    custom = " ".join(
        str(cell)
        for t in fig.data
        if t.customdata is not None
        for row in t.customdata
        for cell in row
    )
    assert "BULK_ACCOUNTS" in custom and "〔A01〕" in custom
    critical = next(t for t in fig.data if t.name == "lookups: critical")
    assert "flags: %{customdata[4]}" in critical.hovertemplate


def test_timeline_figure_switches_to_webgl_for_many_lookups(timeline):
    lookups = timeline[timeline["lane"] == "lookup"]
    many = pd.concat([lookups] * (GL_THRESHOLD // len(lookups) + 1), ignore_index=True)
    fig = timeline_figure(pd.concat([timeline, many], ignore_index=True))
    types = {t.type for t in fig.data if t.name and t.name.startswith("查詢")}
    assert types == {"scattergl"}


def test_duty_heatmap_marks_off_duty_cells(timeline):
    fig = duty_heatmap(timeline, lang="en")
    heat = fig.data[0]
    assert heat.type == "heatmap"
    assert sum(sum(row) for row in heat.z) == 6
    marks = next(t for t in fig.data if t.name == "lookups off duty")
    # only the lookup on the day off (2023-10-07 09h) is outside an on-duty shift
    assert list(zip(marks.x, marks.y, strict=True)) == [("2023-10-07", 9)]


def _path_types(graph, path):
    return [
        {d["type"] for d in graph.get_edge_data(u, v).values()} for u, v in itertools.pairwise(path)
    ]


def test_graph_case6_plate_owner_is_a_relation(dataset, assessment):
    graph = link_graph(dataset, assessment, officers=[OFFICER])
    officer, plate, owner = "officer:TC04521", "vehicle:ABC1234", "person:A123456789"
    assert "looked_up" in _path_types(graph, [officer, plate])[0]
    assert "belongs_to" in _path_types(graph, [plate, owner])[0]
    relation = graph.get_edge_data(officer, owner)["relation_of"]
    assert relation["detail"] == "前配偶"
    assert relation["rests_on"] == "relations:<frames>:2"
    looked = graph.get_edge_data(officer, plate)["looked_up"]
    assert looked["count"] == 2 and looked["suspicious"] == 2


def test_graph_case2_account_sent_to_line_id(dataset, assessment):
    graph = link_graph(dataset, assessment, officers=[OFFICER])
    officer = "officer:TC04521"
    account, line = "account:8221234567890123", "line_id:fraud_boss88"
    assert "looked_up" in _path_types(graph, [officer, account])[0]
    sent = graph.get_edge_data(account, line)["sent_identifier"]
    assert sent["rests_on"] == "communications:<frames>:2"
    assert sent["suspicious"] == 1
    assert graph.nodes[line]["watchlist"] == "詐欺嫌疑"
    # the other account was not in the message
    assert not graph.has_edge("account:8229876543210987", line)
    assert graph.has_edge("account:8229876543210987", "case:1120012345")
    assert graph.has_edge("phone:0933123456", "operation:OP1")
    assert graph.has_edge(officer, "operation:OP1")


def test_graph_edge_lists_every_record_and_flag_it_rests_on_once_in_order(dataset, assessment):
    graph = link_graph(dataset, assessment, officers=[OFFICER])
    edge = graph.get_edge_data("officer:TC04521", "vehicle:ABC1234")["looked_up"]
    assert edge["count"] == 2 and edge["suspicious"] == 2
    # both lookups, in time order; each flag once, in the order first met
    assert edge["rests_on"] == "query_log:<frames>:2;query_log:<frames>:7"
    flags = edge["detail"].split(";")
    assert len(flags) == len(set(flags)) and {"OFF_DUTY", "SELF_OR_RELATED"} <= set(flags)


def test_graph_by_subject_finds_who_looked_up_the_person_and_her_car(dataset, assessment):
    graph = link_graph(dataset, assessment, subjects=["A123456789"])
    assert graph.has_edge("officer:TC04521", "vehicle:ABC1234")
    assert graph.has_edge("officer:TC04521", "person:A123456789")
    assert "person:王小明" not in graph


def test_figure_data_carries_the_report_template_whatever_the_default(dataset, assessment):
    import plotly.io as pio

    from kit.views import graph_spec, heatmap_spec, timeline_spec
    from kit.views._template import REPORT_TEMPLATE

    timeline = officer_timeline(dataset, assessment, OFFICER, masker=Masker())
    graph = link_graph(dataset, assessment, officers=[OFFICER])
    before = pio.templates.default
    try:
        pio.templates.default = "plotly_dark"
        specs = [
            timeline_spec(timeline),
            heatmap_spec(timeline),
            graph_spec(graph, masker=Masker()),
        ]
        figure = timeline_figure(timeline)
    finally:
        pio.templates.default = before
    for spec in specs:
        assert spec["layout"]["template"] == REPORT_TEMPLATE
        # plain data, drawn as is: what a notebook stores for the figure
        assert isinstance(spec["data"], list) and all(isinstance(t, dict) for t in spec["data"])
    # the validated figure is the same data with the same look
    assert figure.layout.template.layout.font.color == REPORT_TEMPLATE["layout"]["font"]["color"]
    assert [t.type for t in figure.data] == [t["type"] for t in specs[0]["data"]]


def test_graph_figure_is_stable_and_masked(dataset, assessment):
    graph = link_graph(dataset, assessment, officers=[OFFICER])
    first = graph_figure(graph, masker=Masker()).to_json()
    again = graph_figure(graph, masker=Masker()).to_json()
    assert first == again
    assert "ABC1234" not in first and "fraud_boss88" not in first
    assert "suspicious" in {t.name for t in graph_figure(graph, masker=Masker()).data}


def test_graphml_round_trips(tmp_path, dataset, assessment):
    graph = link_graph(dataset, assessment, officers=[OFFICER])
    path = write_graphml(graph, tmp_path / "g.graphml", masker=Masker())
    back = nx.read_graphml(path)
    assert back.number_of_nodes() == graph.number_of_nodes()
    assert back.number_of_edges() == graph.number_of_edges()
    types = sorted(d["type"] for _, _, d in back.edges(data=True))
    assert types == sorted(d["type"] for _, _, d in graph.edges(data=True))
    counts = sorted(d["count"] for _, _, d in back.edges(data=True))
    assert counts == sorted(d["count"] for _, _, d in graph.edges(data=True))
    assert all(isinstance(d["count"], int) for _, _, d in back.edges(data=True))


def _networkx_graphml(graph: nx.MultiDiGraph, path, masker: Masker) -> bytes:
    """The GraphML networkx itself writes for the exported graph (the reference bytes)."""
    from kit.views.graph_figure import _export_frames

    entities, links = _export_frames(graph, masker)
    out = nx.MultiDiGraph()
    for row in entities.to_dict("records"):
        out.add_node(
            row["id"],
            type=row["type"],
            label=row["label"],
            watchlist=row["watchlist"],
            looked_up_by=int(row["looked_up_by"]),
        )
    for row in links.to_dict("records"):
        attrs = {k: row[k] for k in ("type", "first", "last", "detail", "rests_on")}
        attrs.update(count=int(row["count"]), suspicious=int(row["suspicious"]))
        ordered = {k: attrs[k] for k in ("type", "count", "first", "last", "suspicious")}
        ordered.update(detail=attrs["detail"], rests_on=attrs["rests_on"])
        out.add_edge(row["from"], row["to"], key=row["type"], **ordered)
    nx.write_graphml(out, path, encoding="utf-8", prettyprint=True, named_key_ids=True)
    return path.read_bytes()


def test_graphml_bytes_match_networkx(tmp_path, dataset, assessment):
    graph = link_graph(dataset, assessment, officers=[OFFICER])
    ours = write_graphml(graph, tmp_path / "ours.graphml", masker=Masker()).read_bytes()
    assert ours == _networkx_graphml(graph, tmp_path / "nx.graphml", Masker())


def test_graphml_started_in_a_child_is_the_same_file_with_this_processes_pseudonyms(
    tmp_path, dataset, assessment, monkeypatch
):
    from kit.views import start_graphml

    graph = link_graph(dataset, assessment, officers=[OFFICER])
    expected = write_graphml(graph, tmp_path / "direct.graphml", masker=Masker()).read_bytes()
    masker = Masker()
    writing = start_graphml(graph, tmp_path / "child.graphml", masker=masker)
    assert writing.pid is not None  # written by a forked child
    # the labels were masked before the fork: this process already holds their pseudonyms
    assert masker._pseudonyms
    assert writing.wait() == [tmp_path / "child.graphml"]
    assert (tmp_path / "child.graphml").read_bytes() == expected
    monkeypatch.setenv("KIT_BACKGROUND_WRITERS", "0")
    in_place = start_graphml(graph, tmp_path / "inplace.graphml", masker=Masker())
    assert in_place.pid is None
    assert (tmp_path / "inplace.graphml").read_bytes() == expected


def test_a_value_computed_in_a_child_is_the_one_computed_here(dataset, assessment, monkeypatch):
    from kit.views import compute_in_child

    def build():
        return link_graph(dataset, assessment, officers=[OFFICER])

    building = compute_in_child(build)
    assert building.pid is not None
    graph, expected = building.result(), build()
    assert list(graph.nodes(data=True)) == list(expected.nodes(data=True))
    assert list(graph.edges(keys=True, data=True)) == list(expected.edges(keys=True, data=True))
    assert building.result() is graph  # joined once

    calls = []

    def fails_in_the_child():
        calls.append(os.getpid())
        if len(calls) == 1 and os.getpid() != parent:
            raise RuntimeError("lost")
        return "made here"

    parent = os.getpid()
    failing = compute_in_child(fails_in_the_child)
    assert failing.result() == "made here"  # the child failed: computed again here
    assert calls == [parent]  # (the child's own call was in its copy of the list)

    monkeypatch.setenv("KIT_BACKGROUND_WRITERS", "0")
    in_place = compute_in_child(lambda: 42)
    assert in_place.pid is None and in_place.result() == 42


def test_a_value_never_asked_for_does_not_keep_its_child_waiting():
    import gc
    import time

    from kit.views import compute_in_child

    building = compute_in_child(lambda: "x" * 1_000_000)  # more than a pipe holds
    pid = building.pid
    assert pid is not None
    del building
    gc.collect()
    for _ in range(100):  # the child ends once its pipe is closed
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                break
        except ChildProcessError:
            break  # reaped already
        time.sleep(0.05)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_graphml_escapes_like_networkx(tmp_path):
    graph = nx.MultiDiGraph()
    graph.add_node("officer:TC1", type="officer", name='A&B <"x">', watchlist="a\tb\nc")
    graph.add_node("note:1", type="case", looked_up_by=2)
    graph.add_node("lonely", type="")
    for key, kind in (("k2", "looked_up"), ("k1", "looked_up"), ("k3", "called")):
        graph.add_edge(
            "officer:TC1", "note:1", key=key, type=kind, count=1, detail=f'<{key}> & "q"'
        )
    graph.add_edge("note:1", "note:1", key="self", count=3, rests_on="x\ry")
    ours = write_graphml(graph, tmp_path / "ours.graphml", masker=Masker()).read_bytes()
    assert ours == _networkx_graphml(graph, tmp_path / "nx.graphml", Masker())
    assert nx.read_graphml(tmp_path / "ours.graphml").number_of_edges() == 3


@pytest.mark.parametrize("with_node", [True, False], ids=["nodes only", "empty"])
def test_graphml_without_edges_matches_networkx(tmp_path, with_node):
    graph = nx.MultiDiGraph()
    if with_node:
        graph.add_node("officer:TC1", type="officer")
    ours = write_graphml(graph, tmp_path / "ours.graphml", masker=Masker()).read_bytes()
    assert ours == _networkx_graphml(graph, tmp_path / "nx.graphml", Masker())


def test_i2_csv_columns(tmp_path, dataset, assessment):
    graph = link_graph(dataset, assessment, officers=[OFFICER])
    entities, links = write_i2_csv(graph, tmp_path / "e.csv", tmp_path / "l.csv", masker=Masker())
    e = pd.read_csv(entities, dtype=str, encoding="utf-8-sig")
    links_frame = pd.read_csv(links, dtype=str, encoding="utf-8-sig")
    assert list(e.columns[:3]) == ["id", "type", "label"]
    assert list(links_frame.columns[:6]) == ["from", "to", "type", "count", "first", "last"]
    assert set(links_frame["from"]) | set(links_frame["to"]) <= set(e["id"])
    assert len(links_frame) == graph.number_of_edges()


def test_lookup_table_counts_duty_and_register(dataset, assessment):
    table = lookup_table(dataset, assessment, masker=Masker(), lang="en")
    assert table["number"].tolist() == [1, 2, 3, 4, 5, 6]
    assert table["duty"].tolist() == ["值勤:巡邏", "值勤:巡邏"] + ["值勤:值班"] * 3 + [
        "非值勤:休假"
    ]
    assert table["register"].tolist()[2:5] == ["外出 巡邏"] * 3
    assert table["contact_after"].iloc[2].startswith("1 則")
    assert table["identifiers_sent"].iloc[2].startswith("IDENTIFIER_SENT: communications")
    zh = lookup_table(dataset, assessment, masker=Masker())
    assert list(zh.columns[:3]) == ["編號", "時間", "使用帳號"]
    assert len(zh.columns) == len(table.columns)


def test_subject_and_communications_tables(dataset, assessment):
    masker = Masker()
    subjects = subject_summary(dataset, assessment, masker=masker, lang="en")
    plate = subjects[subjects["entity"] == "plate"].iloc[0]
    assert plate["lookups"] == 2 and plate["suspicious_lookups"] == 2
    assert "FALSE_PURPOSE_TICKET" in plate["flags"]
    comms = communications_table(dataset, assessment, masker=masker, lang="en")
    assert comms["flags"].tolist() == ["WATCHLIST_CONTACT"]
    assert comms["minutes_after"].tolist() == [10.0]
    evidence = evidence_table(assessment, masker=masker, lang="en")
    assert evidence["code"].tolist() == ["IDENTIFIER_SENT"]


def test_method_table_lists_sources_parameters_and_versions(dataset, assessment):
    table = method_table(
        dataset, assessment, {"officer": OFFICER, "subject": "A123456789"}, masker=Masker()
    )
    values = dict(zip(table["細目"], table["內容"], strict=True))
    assert values["time_zone"] == "Asia/Taipei"
    assert values["officer"] == OFFICER
    assert "A123456789" not in values["subject"]
    assert "sha256=" in values["<frames>"]


def _cell(value):
    """Compare cells as text, numbers by value (43 in XLSX is 43.0 in CSV)."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return float(value) if value[:1].isdigit() and value.count(".") <= 1 else value
    except ValueError:
        return value


def test_export_tables_csv_and_xlsx_agree(tmp_path, dataset, assessment):
    masker = Masker()
    tables = {
        "lookups": lookup_table(dataset, assessment, masker=masker),
        "formulas": pd.DataFrame({"text": ['=HYPERLINK("x")', "+1", "ok"], "n": [1, 2, 3]}),
    }
    paths = export_tables(tables, tmp_path)
    assert [p.name for p in paths] == ["lookups.csv", "formulas.csv", "evidence.xlsx"]
    workbook = openpyxl.load_workbook(paths[-1])
    for name in tables:
        sheet = workbook[name]
        assert sheet.freeze_panes == "A2"
        rows = [[_cell(v) for v in row] for row in sheet.iter_rows(min_row=2, values_only=True)]
        csv = pd.read_csv(tmp_path / f"{name}.csv", dtype=str, keep_default_na=False)
        assert rows == [[_cell(v) for v in row] for row in csv.to_numpy().tolist()]
    cells = [c.value for c in workbook["formulas"]["A"]]
    assert cells[1:3] == ['\'=HYPERLINK("x")', "'+1"]
    assert all(c.data_type == "s" for c in workbook["formulas"]["A"])
    again = export_tables(tables, tmp_path / "again")
    assert again[-1].read_bytes() == paths[-1].read_bytes()


def test_export_rejects_table_names_that_are_paths(tmp_path):
    from kit.errors import ConfigError

    with pytest.raises(ConfigError):
        export_tables({"../x": pd.DataFrame()}, tmp_path)


def test_tables_written_in_a_child_process_are_the_same_bytes(tmp_path, dataset, assessment):
    masker = Masker()
    tables = {
        "lookups": lookup_table(dataset, assessment, masker=masker),
        "formulas": pd.DataFrame({"text": ['=HYPERLINK("x")', "+1", "ok"], "n": [1, 2, 3]}),
    }
    here = export_tables(tables, tmp_path / "here")
    writing = start_export_tables(tables, tmp_path / "child")
    there = writing.wait()
    assert [p.name for p in there] == [p.name for p in here]
    assert [p.read_bytes() for p in there] == [p.read_bytes() for p in here]
    assert writing.pid is None and writing.wait() == there  # joined once, idempotent


def test_tables_are_written_in_place_when_background_writers_are_off(
    tmp_path, dataset, assessment, monkeypatch
):
    monkeypatch.setenv("KIT_BACKGROUND_WRITERS", "0")
    tables = {"formulas": pd.DataFrame({"text": ["=1", "ok"], "n": [1, 2]})}
    writing = start_export_tables(tables, tmp_path)
    assert writing.pid is None  # already written, no child
    assert [p.name for p in writing.wait()] == ["formulas.csv", "evidence.xlsx"]
    assert all(p.is_file() for p in writing.paths)


def test_a_failing_table_writer_is_a_bundle_error(tmp_path):
    from kit.errors import BundleError, ConfigError

    with pytest.raises(ConfigError):
        start_export_tables({"../x": pd.DataFrame()}, tmp_path)
    (tmp_path / "evidence.xlsx").mkdir()  # the workbook cannot be written
    writing = start_export_tables({"t": pd.DataFrame({"a": ["x"]})}, tmp_path)
    with pytest.raises(BundleError, match="writing the evidence tables failed"):
        writing.wait()


def _secrets(dataset):
    values = set()
    for frame in (dataset.subjects, dataset.identifiers):
        for column in ("value", "raw"):
            values |= {str(v) for v in frame[column].dropna() if len(str(v)) >= 3}
    for column in ("name",):
        values |= {str(v) for v in dataset.relations[column].dropna()}
    return values


def test_no_identifier_leaks_into_any_masked_output(tmp_path, dataset, assessment):
    masker = Masker()
    timeline = officer_timeline(dataset, assessment, OFFICER, masker=masker)
    graph = link_graph(dataset, assessment, officers=[OFFICER])
    tables = {
        "lookups": lookup_table(dataset, assessment, masker=masker),
        "subjects": subject_summary(dataset, assessment, masker=masker),
        "communications": communications_table(dataset, assessment, masker=masker),
        "evidence": evidence_table(assessment, masker=masker),
        "method": method_table(dataset, assessment, {"subject": "A123456789"}, masker=masker),
        "timeline": timeline.astype({"time": "string", "end": "string"}),
    }
    paths = export_tables(tables, tmp_path / "tables")
    paths += export_graph(graph, tmp_path, masker=masker)
    texts = [p.read_bytes().decode("utf-8-sig") for p in paths if p.suffix != ".xlsx"]
    workbook = openpyxl.load_workbook(tmp_path / "tables" / "evidence.xlsx")
    texts.append(
        json.dumps(
            [[c for row in ws.iter_rows(values_only=True) for c in row] for ws in workbook],
            ensure_ascii=False,
            default=str,
        )
    )
    for fig in (
        timeline_figure(timeline),
        duty_heatmap(timeline),
        graph_figure(graph, masker=masker),
    ):
        # to_json escapes non-ASCII; decode it so Chinese names are scanned too
        texts.append(json.dumps(json.loads(fig.to_json()), ensure_ascii=False))
    secrets = _secrets(dataset)
    assert "A123456789" in secrets and "fraud_boss88" in secrets and "王小美" in secrets
    leaks = {s for s in secrets for t in texts if s.casefold() in t.casefold()}
    assert leaks == set()


def test_revealed_outputs_do_show_identifiers(dataset, assessment):
    table = lookup_table(dataset, assessment, masker=Masker(reveal=True), lang="en")
    assert "ABC1234" in table["subjects"].iloc[0]


def test_views_of_nothing_are_empty_tables_and_figures(dataset, assessment, tmp_path):
    masker = Masker()
    timeline = officer_timeline(dataset, assessment, "TC00000", masker=masker)
    assert timeline.empty and "lane" in timeline.columns
    assert len(timeline_figure(timeline).data) == 0
    assert len(duty_heatmap(timeline).data) == 0
    nothing = type(assessment)(
        assessment.lookups.iloc[0:0], assessment.evidence.iloc[0:0], assessment.communications
    )
    assert lookup_table(dataset, nothing, masker=masker).empty
    assert subject_summary(dataset, nothing, masker=masker).empty
    # a flagged communication is listed even when no lookup of its officer is in scope
    assert len(communications_table(dataset, nothing, masker=masker)) == 1
    graph = link_graph(dataset, nothing, officers=["TC00000"])
    assert list(graph) == ["officer:TC00000"]
    export_tables({"lookups": lookup_table(dataset, nothing, masker=masker)}, tmp_path)
    assert (tmp_path / "evidence.xlsx").exists()


def test_timeline_without_assessment_shows_records_unflagged(dataset):
    timeline = officer_timeline(dataset, None, OFFICER, masker=Masker())
    lookups = timeline[timeline["lane"] == "lookup"]
    assert len(lookups) == 6
    assert set(lookups["severity"]) == {"none"}
    assert lookups["flags"].isna().all()


def _star(leaves: int) -> nx.MultiDiGraph:
    """One officer who looked up ``leaves`` plates (every third lookup suspicious)."""
    graph = nx.MultiDiGraph()
    graph.add_node("officer:TC1", type="officer", value="TC1")
    for i in range(leaves):
        node = f"vehicle:ABC{i:04d}"
        graph.add_node(node, type="vehicle", entity="plate", value=f"ABC{i:04d}")
        graph.add_edge(
            "officer:TC1",
            node,
            key="looked_up",
            type="looked_up",
            count=2,
            suspicious=int(i % 3 == 0),
        )
    return graph


def test_large_graph_layout_uses_rings():
    from kit.views.graph_figure import SPRING_LIMIT, graph_layout

    graph = _star(SPRING_LIMIT + 50)
    positions = graph_layout(graph)
    assert positions["officer:TC1"] == (0.0, 0.0)
    assert positions == graph_layout(graph)


def test_large_graph_figure_groups_identifiers_linked_to_the_officer_only():
    from kit.views.graph_figure import FIGURE_LIMIT

    graph = _star(FIGURE_LIMIT + 150)
    # what links further stays a node of its own: a car with its owner and her ex-husband,
    # a plate another officer looked up too, a watch-listed phone
    graph.add_node("person:A123456789", type="person", entity="person_id", value="A123456789")
    graph.add_node("person:B123456780", type="person", entity="person_id", value="B123456780")
    graph.add_edge("vehicle:ABC0001", "person:A123456789", key="belongs_to", type="belongs_to")
    graph.add_edge("person:B123456780", "person:A123456789", key="relation_of", type="relation_of")
    graph.add_node("officer:TC2", type="officer", value="TC2")
    graph.add_edge("officer:TC2", "vehicle:ABC0002", key="looked_up", type="looked_up", count=1)
    graph.nodes["vehicle:ABC0002"]["looked_up_by"] = 2
    graph.add_node("phone:0912345678", type="phone", entity="phone", value="0912345678")
    graph.nodes["phone:0912345678"]["watchlist"] = "詐欺嫌疑"
    graph.add_edge("officer:TC1", "phone:0912345678", key="contacted", type="contacted", count=3)

    spec = graph_spec(graph, masker=Masker(), lang="en")
    text = json.dumps(spec, default=str)
    nodes = {t["name"]: t for t in spec["data"] if t["mode"].startswith("markers") and "text" in t}
    assert len(nodes["vehicle"]["x"]) == 2  # the owned car and the shared plate
    assert len(nodes["person"]["x"]) == 2 and len(nodes["phone"]["x"]) == 1
    (group,) = nodes["group"]["text"]
    # 448 of the 450 plates (two link further), 2 lookups each, i % 3 == 0 suspicious
    assert group == "448 vehicles (linked to TC1 only)"
    assert "looked_up 896 (150 suspicious)" in nodes["group"]["hovertext"][0]
    assert {t["type"] for t in spec["data"]} == {"scatter"}  # few enough for text labels
    assert "ABC0001" not in text and "A123456789" not in text  # still masked
    assert f"{graph.number_of_nodes():,} nodes" in spec["layout"]["title"]["text"]
    assert graph_figure(graph, masker=Masker()).layout.title.text  # and valid Plotly


def test_a_busy_graph_prints_only_the_telling_labels_and_hovers_every_one():
    from kit.views.graph_figure import FIGURE_LIMIT, LABEL_LIMIT

    graph = _star(60)  # every third lookup suspicious
    for i in range(60):  # with owners, 121 nodes: drawn one by one, too many to label them all
        owner = f"person:P{i:02d}"
        graph.add_node(owner, type="person", entity="name", value=f"P{i:02d}")
        graph.add_edge(f"vehicle:ABC{i:04d}", owner, key="belongs_to", type="belongs_to")
    assert LABEL_LIMIT < graph.number_of_nodes() <= FIGURE_LIMIT
    masker = Masker()
    spec = graph_spec(graph, masker=masker, lang="en")
    traces = {t["name"]: t for t in spec["data"] if "text" in t and t["mode"] != "lines"}
    officers, vehicles = traces["officer"], traces["vehicle"]
    assert officers["text"] == ["TC1"]
    shown = [t for t in vehicles["text"] if t]
    # the 20 suspicious lookups keep their labels, the 40 others show theirs on hover only
    assert len(shown) == 20 and masker.show("plate", "ABC0000") in shown
    assert all(h for h in vehicles["hovertext"]) and len(vehicles["hovertext"]) == 60


def test_figure_graph_keeps_small_graphs_and_crops_by_priority():
    from kit.views.graph_figure import figure_graph

    small = _star(10)
    assert figure_graph(small) == (small, 0)
    # what a subject review names is always drawn, never grouped
    kept, _ = figure_graph(_star(400), keep={"ABC0005"})
    assert "vehicle:ABC0005" in kept and "vehicle:ABC0006" not in kept
    assert kept.nodes["group:officer:TC1:vehicle"]["members"] == 399
    graph = _star(20)
    for i in range(20):  # every plate has an owner: nothing to group
        owner = f"person:P{i:02d}"
        graph.add_node(owner, type="person", entity="name", value=f"P{i:02d}")
        graph.add_edge(f"vehicle:ABC{i:04d}", owner, key="belongs_to", type="belongs_to")
    shown, dropped = figure_graph(graph, limit=10)
    assert shown.number_of_nodes() == 10 and dropped == graph.number_of_nodes() - 10
    assert "officer:TC1" in shown
    # suspicious lookups (every third plate) and their owners come before the rest
    assert "vehicle:ABC0000" in shown and "person:P00" in shown
    assert "vehicle:ABC0001" not in shown
    assert figure_graph(graph, limit=10)[0].nodes == shown.nodes  # deterministic


def test_several_officers_share_a_subject():
    from kit.dataset import Dataset

    shared = Dataset.from_frames(
        query_log=pd.DataFrame(
            {
                "time": ["2023-10-05 10:00:00", "2023-10-05 11:00:00", "2023-10-05 12:00:00"],
                "user": ["TC00001", "TC00002", "TC00002"],
                "operation": ["車籍資料查詢"] * 3,
                "conditions": ["車號:ABC-1234", "車牌=ABC1234", "車牌=XYZ-9876"],
            }
        )
    )
    graph = link_graph(shared, None, officers=["TC00001", "TC00002"])
    assert graph.nodes["vehicle:ABC1234"]["looked_up_by"] == 2
    assert graph.nodes["vehicle:XYZ9876"]["looked_up_by"] == 1
    assert graph.has_edge("officer:TC00001", "vehicle:ABC1234")
    assert graph.has_edge("officer:TC00002", "vehicle:ABC1234")
    fig = graph_figure(graph, masker=Masker())
    vehicles = next(t for t in fig.data if t.name == "vehicle")
    assert sorted(vehicles.marker.size) == [11, 14]
    assert any("looked up by 2 officers" in h for h in vehicles.hovertext)


def test_suspicious_path_reaches_the_owner_and_the_relation(dataset, assessment):
    from kit.views.graph_figure import suspicious_path_edges

    graph = link_graph(dataset, assessment, officers=[OFFICER])
    edges = list(graph.edges(keys=True, data=True))
    hot = {(u, v, k) for u, v, k, _ in suspicious_path_edges(edges)}
    assert ("officer:TC04521", "vehicle:ABC1234", "looked_up") in hot
    assert ("vehicle:ABC1234", "person:A123456789", "belongs_to") in hot
    assert ("officer:TC04521", "person:A123456789", "relation_of") in hot
    assert ("officer:TC04521", "phone:0933123456", "contacted") not in hot


def test_period_accepts_roc_dates_and_refuses_nonsense(dataset, assessment):
    from kit.errors import ConfigError

    roc = officer_timeline(dataset, assessment, OFFICER, "112/10/06", "112/10/06", masker=Masker())
    iso = officer_timeline(
        dataset, assessment, OFFICER, "2023-10-06", "2023-10-06", masker=Masker()
    )
    assert roc["lookup_id"].dropna().tolist() == iso["lookup_id"].dropna().tolist()
    timed = officer_timeline(
        dataset, assessment, OFFICER, "2023-10-06 10:00:00", "2023-10-06 10:05:00", masker=Masker()
    )
    assert (timed["lane"] == "lookup").sum() == 2
    with pytest.raises(ConfigError):
        officer_timeline(dataset, assessment, OFFICER, "yesterday", masker=Masker())


def test_the_tables_of_one_report_share_their_sorted_lookups(dataset, assessment):
    from kit.views import tables as view_tables

    first = view_tables._assessed(dataset, assessment)
    first["time"] = None  # a caller's change stays its own (copy-on-write)
    again = view_tables._assessed(dataset, assessment)
    assert again["time"].notna().all()
    pd.testing.assert_frame_equal(again, view_tables._assessed_now(dataset, assessment))
    kept = view_tables._LAST_ASSESSED[0][2]
    assert view_tables._assessed(dataset, assessment) is not kept  # a copy each time
    other = fake_assessment(dataset)
    assert view_tables._LAST_ASSESSED[0][1]() is assessment
    view_tables._assessed(dataset, other)
    assert view_tables._LAST_ASSESSED[0][1]() is other
