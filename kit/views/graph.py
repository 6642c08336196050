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

from kit.frames import isin
from kit.identifiers import canonical
from kit.schema import Entity
from kit.views._common import (
    AssessmentLike,
    as_time,
    in_period,
    period,
    querier,
)
from kit.views.graph_records import (
    _add_cases,
    _add_communications,
    _add_edges,
    _add_identifier_nodes,
    _add_operations,
    _add_relations,
    _mark_watchlist,
    _node_ids,
    _refs,
    node_type,
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

IDENTITY_HOPS = 2
"""How many ``identities`` steps resolve an identifier (plate → owner → owner's phone)."""


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
        hit = isin(identities["source"], reached) | isin(identities["target"], reached)
        keep |= hit.fillna(False).astype(bool)
        reached |= set(identities.loc[keep, "source"].dropna()) | set(
            identities.loc[keep, "target"].dropna()
        )
    return identities[keep]


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
    looked = subject_rows[isin(subject_rows["lookup_id"], chosen["lookup_id"])]
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
                "suspicious": isin(looked["lookup_id"], suspicious_ids).astype(int),
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
