"""Building blocks of the link graph: node keys, aggregated edges, one adder per record kind.

:func:`kit.views.graph.link_graph` selects the lookups and calls these; each
``_add_*`` function adds the nodes and typed edges one kind of record gives
(relations, communications, operations, cases, the watchlist).
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import pandas as pd

from kit.frames import isin
from kit.identifiers import alnum_runs, digit_runs
from kit.schema import Entity
from kit.views._common import AssessmentLike, as_time, group_join, in_period

_ENTITY_TYPE: dict[str, str] = {
    Entity.PERSON_ID: "person",
    Entity.NAME: "person",
    Entity.BUSINESS_ID: "person",
    Entity.PLATE: "vehicle",
    Entity.ACCOUNT: "account",
    Entity.PHONE: "phone",
    Entity.LINE_ID: "line_id",
}

SENT_WINDOW = pd.Timedelta(days=30)
"""A message carries a looked-up value when the lookup was at most this long before it."""


def node_type(entity: str) -> str:
    """Return the node type of an identifier entity (``plate`` → ``vehicle``)."""
    return _ENTITY_TYPE.get(str(entity), "person")


def _node_ids(entities: pd.Series, values: pd.Series) -> pd.Series:
    kinds = entities.astype("string").map(lambda e: node_type(e) if pd.notna(e) else pd.NA)
    return (kinds.astype("string") + ":" + values.astype("string")).astype("string")


def _refs(kind: str, frame: pd.DataFrame) -> pd.Series:
    return (
        kind
        + ":"
        + frame["source_file"].astype("string")
        + ":"
        + frame["source_line"].astype("string")
    ).astype("string")


def _joined(edges: pd.DataFrame, column: str) -> dict[Any, str]:
    """Return per (source, target) the distinct ``;``-items of a column, in first-seen order."""
    items = edges[["source", "target", column]].dropna()
    items = items.assign(**{column: items[column].astype(str).str.split(";")}).explode(column)
    items = items[items[column].fillna("") != ""].drop_duplicates()
    pairs = pd.Series(list(zip(items["source"].tolist(), items["target"].tolist(), strict=True)))
    return group_join(pairs, items[column], ";").to_dict()


def _add_edges(graph: nx.MultiDiGraph, edges: pd.DataFrame, kind: str) -> None:
    """Group edge rows by (source, target) and add one aggregated edge each.

    ``edges`` has ``source``, ``target``, ``time`` (may be missing), ``ref``,
    ``suspicious`` (0/1) and ``detail``.
    """
    if edges.empty:
        return
    edges = edges.dropna(subset=["source", "target"])
    grouped = edges.groupby(["source", "target"], sort=True)
    summary = grouped.agg(
        count=("ref", "size"),
        first=("time", "min"),
        last=("time", "max"),
        suspicious=("suspicious", "sum"),
    )
    summary = summary.reset_index()
    pairs = list(zip(summary["source"].tolist(), summary["target"].tolist(), strict=True))
    refs, details = _joined(edges, "ref"), _joined(edges, "detail")
    summary["rests_on"] = [refs.get(pair, "") for pair in pairs]
    summary["detail"] = [details.get(pair, "") for pair in pairs]
    columns = [
        summary[c].tolist()
        for c in ("source", "target", "count", "first", "last", "rests_on", "suspicious", "detail")
    ]
    for source, target, count, first, last, rests_on, suspicious, detail in zip(
        *columns, strict=True
    ):
        graph.add_edge(
            source,
            target,
            key=kind,
            type=kind,
            count=int(count),
            first=first,
            last=last,
            rests_on=rests_on,
            suspicious=int(suspicious),
            detail=detail,
        )


def _add_identifier_nodes(
    graph: nx.MultiDiGraph,
    entities: pd.Series,
    values: pd.Series,
    nodes: pd.Series | None = None,
    names: pd.Series | None = None,
) -> None:
    """Add a node per distinct identifier; give ``nodes`` the first of their ``names``."""
    pairs = pd.DataFrame({"entity": entities.astype("string"), "value": values.astype("string")})
    pairs = pairs.dropna().drop_duplicates()
    for entity, value in zip(pairs["entity"], pairs["value"], strict=True):
        node = f"{node_type(entity)}:{value}"
        if node not in graph:
            graph.add_node(node, type=node_type(entity), entity=entity, value=value)
    if nodes is None or names is None:
        return
    for node, name in zip(nodes, names.astype("string"), strict=True):
        if pd.notna(name) and pd.notna(node) and not graph.nodes[node].get("name"):
            graph.nodes[node]["name"] = name


def _flagged_comm_refs(assessment: AssessmentLike | None) -> set[str]:
    flagged = getattr(assessment, "communications", None)
    if flagged is None or flagged.empty:
        return set()
    return set(_refs("communications", flagged).dropna())


def _add_relations(graph: nx.MultiDiGraph, dataset: Any, officers: set[str]) -> None:
    rows = dataset.relations
    targets = _node_ids(rows["identifier_entity"], rows["identifier"])
    keep = (isin(rows["officer_id"].astype("string"), officers) | isin(targets, set(graph))).fillna(
        False
    )
    rows, targets = rows[keep.astype(bool)], targets[keep.astype(bool)]
    for officer in sorted(set(rows["officer_id"].dropna().astype(str))):
        if f"officer:{officer}" not in graph:
            graph.add_node(f"officer:{officer}", type="officer", value=officer, name=None)
    _add_identifier_nodes(
        graph, rows["identifier_entity"], rows["identifier"], targets, rows["name"]
    )
    _add_edges(
        graph,
        pd.DataFrame(
            {
                "source": "officer:" + rows["officer_id"].astype("string"),
                "target": targets,
                "time": pd.Series(pd.NaT, index=rows.index),
                "ref": _refs("relations", rows),
                "suspicious": 0,
                "detail": rows["relation"].astype("string"),
            }
        ),
        "relation_of",
    )


def _add_communications(
    graph: nx.MultiDiGraph,
    dataset: Any,
    assessment: AssessmentLike | None,
    officers: set[str],
    looked: pd.DataFrame,
    lo: pd.Timestamp | None,
    hi: pd.Timestamp | None,
) -> None:
    comms = dataset.communications
    times = as_time(comms["time"])
    keep = comms["officer_id"].astype("string").isin(officers).fillna(False) & in_period(
        times, lo, None if hi is None else hi + SENT_WINDOW
    )
    rows = comms[keep.astype(bool)]
    times = times.loc[rows.index]
    refs = _refs("communications", rows)
    flagged = isin(refs, _flagged_comm_refs(assessment)).astype(int)
    counterparts = _node_ids(rows["counterpart_entity"], rows["counterpart"])
    _add_identifier_nodes(
        graph,
        rows["counterpart_entity"],
        rows["counterpart"],
        counterparts,
        rows["counterpart_name"],
    )
    _add_edges(
        graph,
        pd.DataFrame(
            {
                "source": "officer:" + rows["officer_id"].astype("string"),
                "target": counterparts,
                "time": times,
                "ref": refs,
                "suspicious": flagged,
                "detail": rows["direction"].astype("string"),
            }
        ),
        "contacted",
    )
    outgoing = rows[(rows["direction"].astype("string") == "發").fillna(False)]
    outgoing = outgoing[outgoing["content"].notna()]
    if outgoing.empty or looked.empty:
        return
    contents = outgoing["content"].astype(str).tolist()
    runs = pd.DataFrame(
        {
            "row": outgoing.index.repeat(
                [len(digit_runs(c)) + len(alnum_runs(c)) for c in contents]
            ),
            "value": [r for c in contents for r in (*digit_runs(c), *alnum_runs(c))],
        }
    )
    sent = runs.merge(
        pd.DataFrame(
            {
                "row": outgoing.index,
                "officer": outgoing["officer_id"].astype("string").to_numpy(),
                "sent_time": times.loc[outgoing.index].array,
                "target": counterparts.loc[outgoing.index].to_numpy(),
                "ref": refs.loc[outgoing.index].to_numpy(),
                "suspicious": flagged.loc[outgoing.index].to_numpy(),
            }
        ),
        on="row",
    )
    sent = sent.merge(
        looked[["querier", "entity", "value", "time"]].rename(columns={"querier": "officer"}),
        on=["officer", "value"],
    )
    window = (sent["time"] <= sent["sent_time"]) & (sent["sent_time"] - sent["time"] <= SENT_WINDOW)
    sent = sent[window].drop_duplicates(["row", "entity", "value"])
    _add_edges(
        graph,
        pd.DataFrame(
            {
                "source": _node_ids(sent["entity"], sent["value"]),
                "target": sent["target"],
                "time": sent["sent_time"],
                "ref": sent["ref"],
                "suspicious": sent["suspicious"],
                "detail": pd.Series(pd.NA, index=sent.index, dtype="string"),
            }
        ),
        "sent_identifier",
    )


def _identifier_rows(dataset: Any, kind: str, field: str) -> pd.DataFrame:
    found = dataset.identifiers
    rows = found[(found["kind"] == kind) & (found["field"] == field)]
    return rows.assign(node=_node_ids(rows["entity"], rows["value"]))


def _add_operations(graph: nx.MultiDiGraph, dataset: Any, officers: set[str]) -> None:
    ops = dataset.operations
    if ops.empty:
        return
    knew = ops[["operation_no", "officers", "executed", "source_file", "source_line"]].explode(
        "officers"
    )
    knew = knew[knew["officers"].astype("string").isin(officers).fillna(False)]
    for op in sorted(set(knew["operation_no"].astype(str))):
        graph.add_node(f"operation:{op}", type="operation", value=op)
    _add_edges(
        graph,
        pd.DataFrame(
            {
                "source": "officer:" + knew["officers"].astype("string"),
                "target": "operation:" + knew["operation_no"].astype("string"),
                "time": as_time(knew["executed"]),
                "ref": _refs("operations", knew),
                "suspicious": 0,
                "detail": pd.Series(pd.NA, index=knew.index, dtype="string"),
            }
        ),
        "knew_of",
    )
    targets = _identifier_rows(dataset, "operations", "targets").merge(
        ops[["operation_no", "executed", "source_file", "source_line"]],
        on=["source_file", "source_line"],
    )
    in_graph = targets["node"].isin(set(graph)) | (
        "operation:" + targets["operation_no"].astype("string")
    ).isin(set(graph))
    targets = targets[in_graph.fillna(False).astype(bool)]
    for op in sorted(set(targets["operation_no"].astype(str))):
        if f"operation:{op}" not in graph:
            graph.add_node(f"operation:{op}", type="operation", value=op)
    _add_identifier_nodes(graph, targets["entity"], targets["value"])
    _add_edges(
        graph,
        pd.DataFrame(
            {
                "source": targets["node"],
                "target": "operation:" + targets["operation_no"].astype("string"),
                "time": as_time(targets["executed"]),
                "ref": _refs("operations", targets),
                "suspicious": 0,
                "detail": pd.Series(pd.NA, index=targets.index, dtype="string"),
            }
        ),
        "target_of",
    )


def _add_cases(graph: nx.MultiDiGraph, dataset: Any) -> None:
    cases = dataset.cases
    if cases.empty:
        return
    parties = _identifier_rows(dataset, "cases", "parties")
    parties = parties[parties["node"].isin(set(graph)).fillna(False)]
    parties = parties.merge(
        cases[["case_no", "category", "opened", "source_file", "source_line"]],
        on=["source_file", "source_line"],
    )
    for case_no, category in (
        parties[["case_no", "category"]].drop_duplicates("case_no").itertuples(index=False)
    ):
        graph.add_node(f"case:{case_no}", type="case", value=str(case_no), category=category)
    _add_edges(
        graph,
        pd.DataFrame(
            {
                "source": parties["node"],
                "target": "case:" + parties["case_no"].astype("string"),
                "time": as_time(parties["opened"]),
                "ref": _refs("cases", parties),
                "suspicious": 0,
                "detail": parties["category"].astype("string"),
            }
        ),
        "party_of",
    )


def _mark_watchlist(graph: nx.MultiDiGraph, dataset: Any) -> None:
    watch = dataset.watchlist
    if watch.empty:
        return
    nodes = _node_ids(watch["identifier_entity"], watch["identifier"])
    for node, category in zip(nodes, watch["category"].astype("string"), strict=True):
        if pd.notna(node) and node in graph:
            graph.nodes[node]["watchlist"] = str(category)
