"""The link graph: who looked up whom, whom they contacted, and how it connects.

:func:`link_graph` is a pure function of the frames: it returns a
``networkx.MultiDiGraph`` with typed nodes and typed edges and draws nothing.
Nodes are keyed ``<type>:<value>`` (``officer:TC04521``, ``vehicle:ABC1234``)
and hold canonical values: the graph itself is never shown or written as is;
:func:`kit.views.graph_figure.graph_figure` and the exports of
:mod:`kit.views.graph_export` pass every label through the masker.

Node types (:data:`NODE_TYPES`): ``officer``, ``person`` (a national ID,
name or business ID), ``vehicle``, ``account``, ``phone``, ``line_id``,
``case``, ``operation``.

Edge types (:data:`EDGE_TYPES`), one edge per (from, to, type) carrying
``count``, ``first``, ``last`` (Taipei times), ``rests_on``
(``kind:source_file:source_line`` references, ``;``-separated),
``suspicious`` (how many of the rows it rests on are suspicious lookups or
flagged communications) and ``detail`` (flags, relation word, link word):

============== ============================ =======================================
type           from → to                    rests on
============== ============================ =======================================
looked_up      officer (querier) → subject  query-log rows
contacted      officer → counterpart        communications (either direction)
sent_identifier subject → counterpart        outgoing messages whose text carries
                                            a value the officer looked up in the
                                            30 days before
relation_of    officer → relation's ident.  relations rows (``detail`` 前配偶 …)
belongs_to     identifier → owner           identities rows (``detail`` 車主 …)
party_of       identifier → case            cases rows
knew_of        officer → operation          operations rows
target_of      identifier → operation       operations rows
============== ============================ =======================================

Subjects are resolved through ``identities`` (a plate to its owner, a LINE ID
to its holder, two hops) and relations, so a path such as officer → plate →
owner ← relation_of ← officer shows why a lookup touched a relation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx
import pandas as pd

from kit.identifiers import alnum_runs, canonical, digit_runs
from kit.schema import Entity
from kit.views._common import (
    AssessmentLike,
    as_time,
    in_period,
    period,
    querier,
)

__all__ = ["EDGE_TYPES", "NODE_TYPES", "link_graph", "node_type"]

NODE_TYPES: tuple[str, ...] = (
    "officer",
    "person",
    "vehicle",
    "account",
    "phone",
    "line_id",
    "case",
    "operation",
)

EDGE_TYPES: tuple[str, ...] = (
    "looked_up",
    "contacted",
    "sent_identifier",
    "relation_of",
    "belongs_to",
    "party_of",
    "knew_of",
    "target_of",
)

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

IDENTITY_HOPS = 2
"""How many ``identities`` steps resolve an identifier (plate → owner → owner's phone)."""


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


def _joined(edges: pd.DataFrame, column: str) -> pd.Series:
    """Return per (source, target) the distinct ``;``-items of a column, in first-seen order."""
    items = edges[["source", "target", column]].dropna()
    items = items.assign(**{column: items[column].astype(str).str.split(";")}).explode(column)
    items = items[items[column].fillna("") != ""].drop_duplicates()
    keys = list(zip(items["source"].tolist(), items["target"].tolist(), strict=True))
    joined: dict[tuple[str, str], list[str]] = {}
    for key, value in zip(keys, items[column].tolist(), strict=True):
        joined.setdefault(key, []).append(value)
    return pd.Series({k: ";".join(v) for k, v in joined.items()}, dtype="object")


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
    pairs = pd.MultiIndex.from_frame(summary[["source", "target"]])
    refs, details = _joined(edges, "ref"), _joined(edges, "detail")
    summary["rests_on"] = refs.reindex(pairs).fillna("").to_numpy() if len(refs) else ""
    summary["detail"] = details.reindex(pairs).fillna("").to_numpy() if len(details) else ""
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


def _add_identifier_nodes(graph: nx.MultiDiGraph, entities: pd.Series, values: pd.Series) -> None:
    pairs = pd.DataFrame({"entity": entities.astype("string"), "value": values.astype("string")})
    pairs = pairs.dropna().drop_duplicates()
    for entity, value in zip(pairs["entity"], pairs["value"], strict=True):
        node = f"{node_type(entity)}:{value}"
        if node not in graph:
            graph.add_node(node, type=node_type(entity), entity=entity, value=value)


def _resolve_subjects(dataset: Any, wanted: Iterable[str]) -> set[str]:
    """Return the canonical values a request's subjects stand for (any written form)."""
    values: set[str] = set()
    for item in wanted:
        text = str(item)
        if ":" in text and text.split(":", 1)[0] in set(Entity):
            entity, raw = text.split(":", 1)
            values.add(canonical(entity, raw))
            continue
        values.add(text)
        for entity in Entity:
            values.add(canonical(entity, text))
    values.discard("")
    return values


def _identity_rows(dataset: Any) -> pd.DataFrame:
    rows = dataset.identities
    return pd.DataFrame(
        {
            "source": _node_ids(rows["identifier_entity"], rows["identifier"]),
            "target": _node_ids(rows["belongs_to_entity"], rows["belongs_to"]),
            "source_entity": rows["identifier_entity"].astype("string"),
            "source_value": rows["identifier"].astype("string"),
            "target_entity": rows["belongs_to_entity"].astype("string"),
            "target_value": rows["belongs_to"].astype("string"),
            "time": pd.Series(pd.NaT, index=rows.index),
            "ref": _refs("identities", rows),
            "suspicious": 0,
            "detail": rows["link"].astype("string"),
        }
    )


def _expand_identities(identities: pd.DataFrame, nodes: set[str]) -> pd.DataFrame:
    """Return the identities rows reached from ``nodes`` in :data:`IDENTITY_HOPS` steps."""
    reached = set(nodes)
    keep = pd.Series(False, index=identities.index)
    for _ in range(IDENTITY_HOPS):
        hit = identities["source"].isin(reached) | identities["target"].isin(reached)
        keep |= hit.fillna(False).astype(bool)
        reached |= set(identities.loc[keep, "source"].dropna()) | set(
            identities.loc[keep, "target"].dropna()
        )
    return identities[keep]


def _flagged_comm_refs(assessment: AssessmentLike | None) -> set[str]:
    flagged = getattr(assessment, "communications", None)
    if flagged is None or flagged.empty:
        return set()
    return set(_refs("communications", flagged).dropna())


def link_graph(
    dataset: Any,
    assessment: AssessmentLike | None,
    *,
    officers: Iterable[str] = (),
    subjects: Iterable[str] = (),
    start: object = None,
    end: object = None,
) -> nx.MultiDiGraph:
    """Build the link graph of some officers, some subjects, or both, over a period.

    Parameters
    ----------
    dataset
        A :class:`kit.dataset.Dataset`.
    assessment
        Its assessment (marks suspicious lookups and flagged communications),
        or ``None``.
    officers
        Officer IDs: their lookups (as querier or account), communications,
        relations and operations. Several officers show the subjects they
        share (collusion).
    subjects
        Identifiers (canonical or as written, optionally ``kind:value``):
        every lookup of them, or of an identifier belonging to them, by
        anyone (who looked this person up).
    start, end
        The period of lookups and communications (a date ``end`` is inclusive).

    Returns
    -------
    networkx.MultiDiGraph
        Typed nodes (attribute ``type``; identifiers also ``entity`` and
        ``value``; ``watchlist`` category when listed; ``looked_up_by``, the
        number of officers who looked the subject up: 2 or more is a shared
        subject) and typed edges (see
        the module docstring). With neither officers nor subjects, every
        lookup of the period.

    """
    lo, hi = period(start, end)
    officer_set = {str(o) for o in officers}
    graph = nx.MultiDiGraph()

    log = dataset.query_log
    times = as_time(log["time"])
    who = querier(log)
    selected = in_period(times, lo, hi)
    subject_rows = dataset.subjects.merge(
        pd.DataFrame({"lookup_id": log["lookup_id"], "selected": selected}).drop_duplicates(
            "lookup_id"
        ),
        on="lookup_id",
    )
    subject_rows = subject_rows[subject_rows["selected"]]
    identities = _identity_rows(dataset)
    wanted = _resolve_subjects(dataset, subjects)
    focus = pd.Series(officer_set == set() and not wanted, index=log.index)
    if officer_set:
        focus |= (who.isin(officer_set) | log["user"].astype("string").isin(officer_set)).fillna(
            False
        )
    if wanted:
        seeds = set(identities.loc[identities["source_value"].isin(wanted), "source"]) | set(
            identities.loc[identities["target_value"].isin(wanted), "target"]
        )
        seeds |= {f"{node_type(e)}:{v}" for e in Entity for v in wanted}
        around = _expand_identities(identities, seeds)
        values = (
            wanted | set(around["source_value"].dropna()) | set(around["target_value"].dropna())
        )
        hit_ids = set(subject_rows.loc[subject_rows["value"].isin(values), "lookup_id"])
        focus |= log["lookup_id"].isin(hit_ids)
    chosen = log[(focus & selected).astype(bool)].drop_duplicates("lookup_id")
    chosen_who = who.loc[chosen.index]

    suspicious_ids: set[str] = set()
    flags = pd.Series(dtype="string")
    if assessment is not None and not assessment.lookups.empty:
        assessed = assessment.lookups.drop_duplicates("lookup_id").set_index("lookup_id")
        suspicious_ids = set(assessed.index[assessed["suspicious"].astype(bool)])
        flags = assessed["flags"].astype("string")

    # officers and their lookups
    queriers = set(chosen_who.dropna()) | officer_set
    names = dataset.officers.drop_duplicates("officer_id").set_index("officer_id")["name"]
    for officer in sorted(queriers):
        graph.add_node(
            f"officer:{officer}",
            type="officer",
            value=officer,
            name=names.get(officer, None) if officer in names.index else None,
        )
    looked = subject_rows[subject_rows["lookup_id"].isin(set(chosen["lookup_id"]))]
    looked = looked.merge(
        pd.DataFrame(
            {
                "lookup_id": chosen["lookup_id"].to_numpy(),
                "querier": chosen_who.to_numpy(),
                "time": as_time(chosen["time"]).array,
                "ref": _refs("query_log", chosen).to_numpy(),
            }
        ),
        on="lookup_id",
    )
    _add_identifier_nodes(graph, looked["entity"], looked["value"])
    _add_edges(
        graph,
        pd.DataFrame(
            {
                "source": "officer:" + looked["querier"].astype("string"),
                "target": _node_ids(looked["entity"], looked["value"]),
                "time": looked["time"],
                "ref": looked["ref"],
                "suspicious": looked["lookup_id"].isin(suspicious_ids).astype(int),
                "detail": looked["lookup_id"].map(flags).astype("string"),
            }
        ),
        "looked_up",
    )
    shared = (
        looked.assign(node=_node_ids(looked["entity"], looked["value"]))
        .groupby("node")["querier"]
        .nunique()
    )
    for node, count in shared.items():
        graph.nodes[node]["looked_up_by"] = int(count)

    _add_relations(graph, dataset, queriers)
    _add_communications(graph, dataset, assessment, queriers, looked, lo, hi)
    _add_operations(graph, dataset, queriers)
    nodes = {n for n in graph if not n.startswith(("officer:", "case:", "operation:"))}
    reached = _expand_identities(identities, nodes)
    _add_identifier_nodes(graph, reached["source_entity"], reached["source_value"])
    _add_identifier_nodes(graph, reached["target_entity"], reached["target_value"])
    _add_edges(graph, reached, "belongs_to")
    _add_cases(graph, dataset)
    _mark_watchlist(graph, dataset)
    return graph


def _add_relations(graph: nx.MultiDiGraph, dataset: Any, officers: set[str]) -> None:
    rows = dataset.relations
    targets = _node_ids(rows["identifier_entity"], rows["identifier"])
    keep = (rows["officer_id"].astype("string").isin(officers) | targets.isin(set(graph))).fillna(
        False
    )
    rows, targets = rows[keep.astype(bool)], targets[keep.astype(bool)]
    for officer in sorted(set(rows["officer_id"].dropna().astype(str))):
        if f"officer:{officer}" not in graph:
            graph.add_node(f"officer:{officer}", type="officer", value=officer, name=None)
    _add_identifier_nodes(graph, rows["identifier_entity"], rows["identifier"])
    for node, name in zip(targets, rows["name"].astype("string"), strict=True):
        if pd.notna(name) and pd.notna(node) and not graph.nodes[node].get("name"):
            graph.nodes[node]["name"] = name
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
    flagged = refs.isin(_flagged_comm_refs(assessment)).astype(int)
    counterparts = _node_ids(rows["counterpart_entity"], rows["counterpart"])
    _add_identifier_nodes(graph, rows["counterpart_entity"], rows["counterpart"])
    for node, name in zip(counterparts, rows["counterpart_name"].astype("string"), strict=True):
        if pd.notna(name) and pd.notna(node) and not graph.nodes[node].get("name"):
            graph.nodes[node]["name"] = name
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
