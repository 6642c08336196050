"""Drawing and exporting the link graph, every label through the masker.

:func:`node_label` is the only way a node becomes text: the figure, the
GraphML file and the i2 CSVs all call it, so none of them can show an
identifier the masker hides.
"""

from __future__ import annotations

import functools
import html
import operator
from collections.abc import Collection
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from kit.export import write_csv
from kit.mask import Masker
from kit.schema import Entity
from kit.views._template import figure_spec, trace
from kit.views.export import FilesInProgress, write_in_child

__all__ = [
    "EDGE_COLOURS",
    "NODE_STYLE",
    "export_graph",
    "graph_figure",
    "graph_layout",
    "graph_spec",
    "node_label",
    "start_graphml",
    "suspicious_path_edges",
    "write_graphml",
    "write_i2_csv",
]

NODE_STYLE: dict[str, tuple[str, str]] = {
    "officer": ("square", "#2c3e50"),
    "person": ("circle", "#e67e22"),
    "vehicle": ("triangle-up", "#27ae60"),
    "account": ("diamond", "#8e44ad"),
    "phone": ("star", "#2980b9"),
    "line_id": ("hexagon", "#16a085"),
    "case": ("square-open", "#7f8c8d"),
    "operation": ("cross", "#c0392b"),
    "group": ("circle-open", "#7f8c8d"),
}
"""Marker symbol and colour of each node type (``group``: identifiers drawn as one node,
see :func:`figure_graph`)."""

EDGE_COLOURS: dict[str, str] = {
    "looked_up": "#95a5a6",
    "contacted": "#3498db",
    "sent_identifier": "#e74c3c",
    "relation_of": "#e67e22",
    "belongs_to": "#27ae60",
    "party_of": "#7f8c8d",
    "knew_of": "#c0392b",
    "target_of": "#c0392b",
}

SUSPICIOUS_COLOUR = "#d62728"
LAYOUT_SEED = 20231005
"""Seed of the spring layout: the same graph is always drawn the same way."""


def node_label(node: str, attrs: dict[str, Any], masker: Masker) -> str:
    """Return the text shown for a node: masked identifiers, officer and case numbers as is.

    Officer names (and names attached to identifiers) are masked as names.
    """
    kind = attrs.get("type", "")
    value = str(attrs.get("value", node.split(":", 1)[-1]))
    name = attrs.get("name")
    has_name = name is not None and not (isinstance(name, float) and pd.isna(name)) and name != ""
    if kind == "officer":
        label = value
    elif kind in ("case", "operation"):
        label = value
    else:
        label = masker.show(str(attrs.get("entity", Entity.NAME)), value)
    if has_name and attrs.get("entity") != Entity.NAME:
        label = f"{label} {masker.show(Entity.NAME, str(name))}"
    return label


SPRING_LIMIT = 400
"""Graphs with more nodes than this get the ring layout (a spring layout of thousands
of nodes is slow and unreadable, and networkx would need SciPy for it)."""

_RING_ORDER = ("officer", "operation", "case", "person", "vehicle", "phone", "line_id", "account")


def _ring_layout(nodes: list[str], types: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Officers in the middle, each further node type on its own ring, nodes by ID."""
    positions: dict[str, tuple[float, float]] = {}
    radius = 0.0
    for kind in (*_RING_ORDER, ""):
        ring = [
            n
            for n in nodes
            if types.get(n, "") == kind or (kind == "" and types.get(n, "") not in _RING_ORDER)
        ]
        if not ring:
            continue
        if radius == 0.0 and len(ring) == 1:
            positions[ring[0]] = (0.0, 0.0)
            radius = 1.0
            continue
        radius += 1.0
        angles = np.linspace(0.0, 2.0 * np.pi, num=len(ring), endpoint=False)
        for node, angle in zip(ring, angles, strict=True):
            positions[node] = (
                round(float(radius * np.cos(angle)), 6),
                round(float(radius * np.sin(angle)), 6),
            )
    return positions


def graph_layout(graph: nx.MultiDiGraph) -> dict[str, tuple[float, float]]:
    """Return stable node positions for the same graph.

    Up to :data:`SPRING_LIMIT` nodes: a seeded spring layout of the nodes
    sorted by ID; above it, a deterministic ring layout (officers in the
    middle, one ring per node type).
    """
    nodes = sorted(graph.nodes)
    if not nodes:
        return {}
    if len(nodes) > SPRING_LIMIT:
        types = {n: str(graph.nodes[n].get("type", "")) for n in nodes}
        return _ring_layout(nodes, types)
    simple = nx.Graph()
    simple.add_nodes_from(nodes)
    simple.add_edges_from(sorted({(u, v) if u <= v else (v, u) for u, v in graph.edges()}))
    positions = nx.spring_layout(simple, seed=LAYOUT_SEED, iterations=60)
    return {n: (round(float(p[0]), 6), round(float(p[1]), 6)) for n, p in positions.items()}


def suspicious_path_edges(
    edges: list[tuple[str, str, str, dict[str, Any]]],
) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Return the edges to highlight: suspicious ones, and what explains why they matter.

    An edge resting on a suspicious lookup or a flagged communication is
    highlighted; so are the ``belongs_to`` edges leaving its subject (the
    plate's owner) and the ``relation_of`` edges reaching that subject or
    owner (the owner is the officer's ex-spouse): the path a reader follows.
    """
    hot = [e for e in edges if int(e[3].get("suspicious", 0) or 0) > 0]
    subjects = {v for _, v, _, _ in hot}
    owners = {v for u, v, k, _ in edges if k == "belongs_to" and u in subjects}
    reached = subjects | owners
    extra = [
        e
        for e in edges
        if (e[2] == "belongs_to" and e[0] in subjects)
        or (e[2] == "relation_of" and e[1] in reached)
    ]
    chosen = {(u, v, k) for u, v, k, _ in hot + extra}
    return [e for e in edges if (e[0], e[1], e[2]) in chosen]


FIGURE_LIMIT = 300
"""The most nodes the figure draws one by one; a larger graph is focused (:func:`figure_graph`)."""

_GROUPED_TYPES = ("person", "vehicle", "account", "phone", "line_id")
_KEPT_TYPES = ("officer", "case", "operation")
_GROUP_WORDS: dict[str, dict[str, str]] = {
    "zh-TW": {
        "person": "人",
        "vehicle": "車輛",
        "account": "帳戶",
        "phone": "電話",
        "line_id": "LINE 帳號",
        "group": "{count:,} 個{kind}（僅與 {officer} 相連）",
        "group_hover": (
            "{count:,} 個{kind}僅與 {officer} 相連：{links}"
            "<br>逐筆見 tables/subjects.csv 與 graph.graphml"
        ),
        "note": (
            "共 {total:,} 個節點：僅與一名員警相連之識別碼合併為一點；"
            "完整關聯圖見 graph.graphml（{total:,} 個節點、{links:,} 條連結）"
        ),
        "dropped": "；另有 {dropped:,} 個節點未繪出",
        "suspicious": "可疑",
    },
    "en": {
        "person": "persons",
        "vehicle": "vehicles",
        "account": "accounts",
        "phone": "phones",
        "line_id": "LINE IDs",
        "group": "{count:,} {kind} (linked to {officer} only)",
        "group_hover": (
            "{count:,} {kind} linked to {officer} only: {links}"
            "<br>each in tables/subjects.csv and graph.graphml"
        ),
        "note": (
            "{total:,} nodes: identifiers linked to one officer only are drawn as one node; "
            "the whole graph is in graph.graphml ({total:,} nodes, {links:,} links)"
        ),
        "dropped": "; {dropped:,} further nodes not drawn",
        "suspicious": "suspicious",
    },
}


def _neighbours(graph: nx.MultiDiGraph, node: str) -> set[str]:
    return set(graph.successors(node)) | set(graph.predecessors(node))


def figure_graph(
    graph: nx.MultiDiGraph, limit: int = FIGURE_LIMIT, *, keep: Collection[str] = ()
) -> tuple[nx.MultiDiGraph, int]:
    """Return the graph the figure draws, and how many of the graph's nodes it leaves out.

    Up to ``limit`` nodes: the graph itself. Above it (an officer with
    thousands of lookups would be drawn as a solid disk), the identifiers
    linked to nothing but one officer (not on a watchlist, looked up by no
    other officer) become one ``group`` node per officer and node type, with
    one edge per link type carrying the members' counts and suspicious counts
    (the edge is red when any is suspicious); everything that links
    further (an owner, a relation, a case, a contact, another officer) stays.
    If that is still above ``limit``, the nodes kept first are officers, cases
    and operations, then the nodes on suspicious paths
    (:func:`suspicious_path_edges`), watch-listed and shared ones, then by
    number of neighbours, then by ID; the rest are not drawn and counted. The
    nodes whose value is in ``keep`` (the identifiers a subject review names)
    are never grouped and always drawn. The GraphML and i2 exports always
    hold the whole graph.
    """
    if graph.number_of_nodes() <= limit:
        return graph, 0
    groups: dict[tuple[str, str], list[str]] = {}
    for node in sorted(graph.nodes):
        attrs = graph.nodes[node]
        kind = str(attrs.get("type", ""))
        if kind not in _GROUPED_TYPES or attrs.get("watchlist") or attrs.get("value") in keep:
            continue
        if int(attrs.get("looked_up_by", 0) or 0) > 1:
            continue
        around = _neighbours(graph, node)
        if len(around) != 1:
            continue
        (officer,) = around
        if graph.nodes[officer].get("type") != "officer":
            continue
        groups.setdefault((officer, kind), []).append(node)
    grouped = {n for members in groups.values() for n in members}
    shown = nx.MultiDiGraph(graph.subgraph(n for n in graph.nodes if n not in grouped))
    for (officer, kind), members in sorted(groups.items()):
        by_type: dict[str, list[int]] = {}
        for member in members:
            for data in _edge_data(graph, officer, member):
                counts = by_type.setdefault(str(data.get("type", "")), [0, 0])
                counts[0] += int(data.get("count", 0) or 0)
                counts[1] += int(data.get("suspicious", 0) or 0)
        node = f"group:{officer}:{kind}"
        shown.add_node(
            node,
            type="group",
            value=kind,
            officer=str(graph.nodes[officer].get("value", officer.split(":", 1)[-1])),
            members=len(members),
            links=tuple((edge_type, n, bad) for edge_type, (n, bad) in sorted(by_type.items())),
        )
        for edge_type, (n, bad) in sorted(by_type.items()):
            shown.add_edge(officer, node, key=edge_type, type=edge_type, count=n, suspicious=bad)
    if shown.number_of_nodes() <= limit:
        return shown, 0
    hot = suspicious_path_edges(list(shown.edges(keys=True, data=True)))
    on_paths = {u for u, _, _, _ in hot} | {v for _, v, _, _ in hot}

    def rank(node: str) -> tuple[int, int, str]:
        attrs = shown.nodes[node]
        if attrs.get("type") in _KEPT_TYPES or attrs.get("value") in keep:
            first = 0
        elif node in on_paths or attrs.get("watchlist") or attrs.get("type") == "group":
            first = 1
        elif int(attrs.get("looked_up_by", 0) or 0) > 1:
            first = 2
        else:
            first = 3
        return first, -len(_neighbours(shown, node)), node

    kept = sorted(shown.nodes, key=rank)[:limit]
    return nx.MultiDiGraph(shown.subgraph(kept)), shown.number_of_nodes() - len(kept)


def _edge_data(graph: nx.MultiDiGraph, u: str, v: str) -> list[dict[str, Any]]:
    found = [*(graph.get_edge_data(u, v) or {}).values()]
    found += [*(graph.get_edge_data(v, u) or {}).values()]
    return [d for d in found if isinstance(d, dict)]


def _node_size(attrs: dict[str, Any]) -> int:
    """Officers large; a subject looked up by several officers grows with their number."""
    if attrs.get("type") == "officer":
        return 14
    if attrs.get("type") == "group":
        return 14 + 2 * min(int(np.log2(max(int(attrs.get("members", 1)), 1))), 10)
    shared = int(attrs.get("looked_up_by", 0) or 0)
    return 11 + 3 * min(max(shared - 1, 0), 3)


def _time_text(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    stamp = pd.Timestamp(value)
    return stamp.strftime("%Y-%m-%d %H:%M:%S")


def _edge_hover(u_label: str, v_label: str, attrs: dict[str, Any], masker: Masker) -> str:
    parts = [f"{attrs.get('type', '')}: {u_label} → {v_label}", f"n={attrs.get('count', 0)}"]
    first, last = _time_text(attrs.get("first")), _time_text(attrs.get("last"))
    if first:
        parts.append(f"{first} – {last}")
    detail = attrs.get("detail")
    if isinstance(detail, str) and detail:
        parts.append(masker.text(detail) or "")
    return "<br>".join(parts)


def graph_figure(
    graph: nx.MultiDiGraph,
    *,
    masker: Masker,
    highlight_suspicious: bool = True,
    lang: str = "zh-TW",
) -> go.Figure:
    """Build the link-graph figure (:func:`graph_spec` as a Plotly figure)."""
    return go.Figure(
        graph_spec(graph, masker=masker, highlight_suspicious=highlight_suspicious, lang=lang)
    )


def graph_spec(
    graph: nx.MultiDiGraph,
    *,
    masker: Masker,
    highlight_suspicious: bool = True,
    lang: str = "zh-TW",
) -> dict[str, Any]:
    """Build the link-graph figure's Plotly JSON data: typed nodes, typed edges, suspicious paths.

    Parameters
    ----------
    graph
        A graph of :func:`kit.views.graph.link_graph`.
    masker
        Masks every node label and hover text.
    highlight_suspicious
        Draw the edges that rest on suspicious lookups or flagged
        communications thick and red on top of the others.
    lang
        ``zh-TW`` (default) or ``en``, for the grouped nodes and the note
        saying what a focused figure leaves out.

    Returns
    -------
    dict
        Plotly JSON data: one trace per edge type and per node type
        (legend), positions from :func:`graph_layout` (stable for the same
        graph). A graph of more than :data:`FIGURE_LIMIT` nodes is drawn
        focused (:func:`figure_graph`), with a note giving the whole graph's
        size; above :data:`SPRING_LIMIT` drawn nodes the traces are
        ``scattergl`` and labels show on hover only.

    """
    total, links = graph.number_of_nodes(), graph.number_of_edges()
    graph, dropped = figure_graph(graph, keep=masker.revealed)
    words = _GROUP_WORDS.get(lang, _GROUP_WORDS["zh-TW"])
    positions = graph_layout(graph)
    labels = {n: _shown_label(n, graph.nodes[n], masker, words) for n in sorted(graph.nodes)}
    large = graph.number_of_nodes() > SPRING_LIMIT
    scatter = "scattergl" if large else "scatter"
    traces: list[dict[str, Any]] = []
    edges = sorted(graph.edges(keys=True, data=True), key=lambda e: (e[0], e[1], e[2]))
    hot = suspicious_path_edges(edges)
    labelled = _labelled(graph, hot)
    for kind, colour in EDGE_COLOURS.items():
        chosen = [e for e in edges if e[3].get("type") == kind]
        if not chosen:
            continue
        xs: list[float | None] = []
        ys: list[float | None] = []
        for u, v, _, _ in chosen:
            xs += [positions[u][0], positions[v][0], None]
            ys += [positions[u][1], positions[v][1], None]
        traces.append(
            trace(
                scatter,
                x=xs,
                y=ys,
                mode="lines",
                line={"width": 1.2, "color": colour},
                hoverinfo="skip",
                name=kind,
                legendgroup=f"edge-{kind}",
            )
        )
        mid_x = [(positions[u][0] + positions[v][0]) / 2 for u, v, _, _ in chosen]
        mid_y = [(positions[u][1] + positions[v][1]) / 2 for u, v, _, _ in chosen]
        traces.append(
            trace(
                scatter,
                x=mid_x,
                y=mid_y,
                mode="markers",
                marker={"size": 4, "color": colour, "opacity": 0.4},
                hovertext=[_edge_hover(labels[u], labels[v], a, masker) for u, v, _, a in chosen],
                hoverinfo="text",
                name=kind,
                legendgroup=f"edge-{kind}",
                showlegend=False,
            )
        )
    if highlight_suspicious:
        if hot:
            xs, ys = [], []
            for u, v, _, _ in hot:
                xs += [positions[u][0], positions[v][0], None]
                ys += [positions[u][1], positions[v][1], None]
            traces.append(
                trace(
                    scatter,
                    x=xs,
                    y=ys,
                    mode="lines",
                    line={"width": 3.5, "color": SUSPICIOUS_COLOUR},
                    hoverinfo="skip",
                    name="suspicious",
                )
            )
    for kind, (symbol, colour) in NODE_STYLE.items():
        nodes = [n for n in sorted(graph.nodes) if graph.nodes[n].get("type") == kind]
        if not nodes:
            continue
        hover = []
        for n in nodes:
            if kind == "group":
                hover.append(_group_hover(graph.nodes[n], words))
                continue
            extra = graph.nodes[n].get("watchlist")
            shared = int(graph.nodes[n].get("looked_up_by", 0) or 0)
            hover.append(
                f"{kind}: {labels[n]}"
                + (f"<br>watchlist: {extra}" if extra else "")
                + (f"<br>looked up by {shared} officers" if shared > 1 else "")
            )
        traces.append(
            trace(
                scatter,
                x=[positions[n][0] for n in nodes],
                y=[positions[n][1] for n in nodes],
                mode="markers" if large else "markers+text",
                text=[labels[n] if labelled is None or n in labelled else "" for n in nodes],
                textposition="top center",
                textfont={"size": 9},
                marker={
                    "symbol": symbol,
                    "size": [_node_size(graph.nodes[n]) for n in nodes],
                    "color": colour,
                    "line": {
                        "width": [2 if graph.nodes[n].get("watchlist") else 0 for n in nodes],
                        "color": SUSPICIOUS_COLOUR,
                    },
                },
                hovertext=hover,
                hoverinfo="text",
                name=kind,
            )
        )
    layout: dict[str, Any] = {
        "showlegend": True,
        "hovermode": "closest",
        "plot_bgcolor": "white",
        "height": 640,
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
    }
    if graph.number_of_nodes() < total:
        note = words["note"].format(total=total, links=links)
        if dropped:
            note += words["dropped"].format(dropped=dropped)
        layout["title"] = {"text": html.escape(note), "font": {"size": 12}}
        layout["margin"]["t"] = 50
    return figure_spec(traces, layout)


LABEL_LIMIT = 80
"""Above this many drawn nodes only the telling ones carry a label (:func:`_labelled`)."""


def _labelled(
    graph: nx.MultiDiGraph, hot: list[tuple[str, str, str, dict[str, Any]]]
) -> set[str] | None:
    """Return the nodes whose label is printed beside them, or ``None`` for every node.

    Up to :data:`LABEL_LIMIT` nodes every label is printed. Above it the
    labels would cover each other: officers, grouped nodes, watch-listed and
    shared subjects and the nodes on the suspicious paths ``hot``
    (:func:`suspicious_path_edges`) keep theirs; every node still shows its
    label on hover.
    """
    if graph.number_of_nodes() <= LABEL_LIMIT:
        return None
    telling = {u for u, _, _, _ in hot} | {v for _, v, _, _ in hot}
    for node, attrs in graph.nodes(data=True):
        if (
            attrs.get("type") in ("officer", "group")
            or attrs.get("watchlist")
            or int(attrs.get("looked_up_by", 0) or 0) > 1
        ):
            telling.add(node)
    return telling


def _shown_label(node: str, attrs: dict[str, Any], masker: Masker, words: dict[str, str]) -> str:
    if attrs.get("type") != "group":
        return node_label(node, attrs, masker)
    kind = str(attrs.get("value", ""))
    return words["group"].format(
        count=int(attrs.get("members", 0)), kind=words.get(kind, kind), officer=attrs["officer"]
    )


def _group_hover(attrs: dict[str, Any], words: dict[str, str]) -> str:
    kind = str(attrs.get("value", ""))
    return words["group_hover"].format(
        count=int(attrs.get("members", 0)),
        kind=words.get(kind, kind),
        officer=attrs["officer"],
        links="; ".join(
            f"{edge_type} {n:,} ({bad:,} {words['suspicious']})" if bad else f"{edge_type} {n:,}"
            for edge_type, n, bad in attrs.get("links", ())
        ),
    )


def _export_frames(graph: nx.MultiDiGraph, masker: Masker) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (entities, links) with masked labels and export IDs ``n0``, ``n1`` …."""
    nodes = sorted(graph.nodes)
    ids = {n: f"n{i}" for i, n in enumerate(nodes)}
    entities = pd.DataFrame(
        {
            "id": [ids[n] for n in nodes],
            "type": [str(graph.nodes[n].get("type", "")) for n in nodes],
            "label": [node_label(n, graph.nodes[n], masker) for n in nodes],
            "watchlist": [str(graph.nodes[n].get("watchlist") or "") for n in nodes],
            "looked_up_by": [int(graph.nodes[n].get("looked_up_by", 0) or 0) for n in nodes],
        }
    )
    edges = sorted(graph.edges(keys=True, data=True), key=lambda e: (e[0], e[1], e[2]))
    links = pd.DataFrame(
        {
            "from": [ids[u] for u, _, _, _ in edges],
            "to": [ids[v] for _, v, _, _ in edges],
            "type": [str(a.get("type", k)) for _, _, k, a in edges],
            "count": [int(a.get("count", 0)) for *_, a in edges],
            "first": [_time_text(a.get("first")) for *_, a in edges],
            "last": [_time_text(a.get("last")) for *_, a in edges],
            "suspicious": [int(a.get("suspicious", 0) or 0) for *_, a in edges],
            "detail": [masker.text(str(a.get("detail") or "")) or "" for *_, a in edges],
            "rests_on": [str(a.get("rests_on") or "") for *_, a in edges],
        }
    )
    return entities, links


_GRAPHML_HEAD = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
    'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
)
_NODE_KEYS: tuple[tuple[str, str], ...] = (
    ("type", "string"),
    ("label", "string"),
    ("watchlist", "string"),
    ("looked_up_by", "long"),
)
"""GraphML node attributes and their ``attr.type``, in the order written on each node."""
_EDGE_KEYS: tuple[tuple[str, str], ...] = (
    ("type", "string"),
    ("count", "long"),
    ("first", "string"),
    ("last", "string"),
    ("suspicious", "long"),
    ("detail", "string"),
    ("rests_on", "string"),
)
"""GraphML edge attributes and their ``attr.type``, in the order written on each edge."""
_XML_TEXT = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_XML_ATTRIBUTE = (*_XML_TEXT, ('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;"))


def _xml_escaped(values: pd.Series, replacements: tuple[tuple[str, str], ...]) -> pd.Series:
    """Return text escaped for XML (as :mod:`xml.etree.ElementTree` escapes it)."""
    text = values.astype(str).astype(object)
    for char, entity in replacements:
        text = text.str.replace(char, entity, regex=False)
    return text


def _graphml_elements(
    frame: pd.DataFrame, opening: pd.Series, tag: str, keys: tuple[tuple[str, str], ...]
) -> str:
    """Return the indented ``<node>`` or ``<edge>`` elements of a frame, one per row."""
    if frame.empty:
        return ""
    parts = [opening]
    for name, _ in keys:
        text = _xml_escaped(frame[name], _XML_TEXT)
        full = f'      <data key="{name}">' + text + "</data>\n"
        parts.append(full.where(text != "", f'      <data key="{name}" />\n'))
    parts.append(pd.Series(f"    </{tag}>\n", index=frame.index))
    return "".join(functools.reduce(operator.add, parts).tolist())


def write_graphml(graph: nx.MultiDiGraph, path: Path | str, *, masker: Masker) -> Path:
    """Write the graph as GraphML for Gephi, identifiers masked; return the path.

    Nodes get export IDs ``n0``, ``n1`` … (in node-ID order) and the
    attributes ``type``, ``label`` (masked), ``watchlist``, ``looked_up_by``; edges ``type``,
    ``count``, ``first``, ``last``, ``suspicious``, ``detail``,
    ``rests_on`` (strings and integers only). See ``docs/graph_export.md``.

    The file is written directly, byte for byte what
    ``networkx.write_graphml(..., prettyprint=True, named_key_ids=True)``
    writes for the same directed multigraph (one edge per source, target and
    type, the last one's attributes kept), without building an element tree.
    """
    entities, links = _export_frames(graph, masker)
    return _write_graphml_frames(entities, links, Path(path))


def start_graphml(graph: nx.MultiDiGraph, path: Path | str, *, masker: Masker) -> FilesInProgress:
    """Start writing :func:`write_graphml`'s file in a child process; return at once.

    The labels are masked here first, so every pseudonym in the file is this
    process's (the one the report's other views use); the child only writes
    the text. Join it with :meth:`kit.views.FilesInProgress.wait` before
    using the file.
    """
    entities, links = _export_frames(graph, masker)
    target = Path(path)
    return write_in_child(
        lambda: _write_graphml_frames(entities, links, target), [target], "the link graph"
    )


def _write_graphml_frames(entities: pd.DataFrame, links: pd.DataFrame, target: Path) -> Path:
    """Write the GraphML document of :func:`_export_frames`' tables (see :func:`write_graphml`)."""
    edge_key = ["from", "to", "type"]
    links = links.assign(type=links["type"].astype(str))
    links = (
        links.assign(first_seen=links.groupby(edge_key, sort=False).ngroup())
        .drop_duplicates(edge_key, keep="last")
        .sort_values("first_seen", kind="stable")
    )
    # networkx inserts each key before the others when it first meets it.
    declared = [
        f'  <key id="{name}" for="{scope}" attr.name="{name}" attr.type="{kind}" />\n'
        for scope, group, present in (
            ("edge", _EDGE_KEYS, len(links)),
            ("node", _NODE_KEYS, len(entities)),
        )
        if present
        for name, kind in reversed(group)
    ]
    node_open = '    <node id="' + _xml_escaped(entities["id"], _XML_ATTRIBUTE) + '">\n'
    edge_open = (
        '    <edge source="'
        + _xml_escaped(links["from"], _XML_ATTRIBUTE)
        + '" target="'
        + _xml_escaped(links["to"], _XML_ATTRIBUTE)
        + '" id="'
        + _xml_escaped(links["type"], _XML_ATTRIBUTE)
        + '">\n'
    )
    body = _graphml_elements(entities, node_open, "node", _NODE_KEYS) + _graphml_elements(
        links, edge_open, "edge", _EDGE_KEYS
    )
    if body:
        graph_element = '  <graph edgedefault="directed">\n' + body + "  </graph>\n"
    else:
        graph_element = '  <graph edgedefault="directed" />\n'
    document = _GRAPHML_HEAD + "".join(declared) + graph_element + "</graphml>\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(document.encode("utf-8", "xmlcharrefreplace"))
    return target


def write_i2_csv(
    graph: nx.MultiDiGraph,
    entities_path: Path | str,
    links_path: Path | str,
    *,
    masker: Masker,
) -> list[Path]:
    """Write the graph as two CSVs for i2 Analyst's Notebook import; return the paths.

    ``entities``: ``id``, ``type``, ``label`` (masked), ``watchlist``, ``looked_up_by``;
    ``links``: ``from``, ``to``, ``type``, ``count``, ``first``, ``last``,
    ``suspicious``, ``detail``, ``rests_on``. UTF-8 with BOM, formulas
    neutralised (:func:`kit.export.write_csv`). Column mapping in
    ``docs/graph_export.md``.
    """
    entities, links = _export_frames(graph, masker)
    return [
        write_csv(entities.astype({"label": "string"}), Path(entities_path)),
        write_csv(links, Path(links_path)),
    ]


def export_graph(graph: nx.MultiDiGraph, out_dir: Path | str, *, masker: Masker) -> list[Path]:
    """Write ``graph.graphml``, ``graph_entities.csv`` and ``graph_links.csv`` into a folder."""
    folder = Path(out_dir)
    return [
        write_graphml(graph, folder / "graph.graphml", masker=masker),
        *write_i2_csv(
            graph, folder / "graph_entities.csv", folder / "graph_links.csv", masker=masker
        ),
    ]
