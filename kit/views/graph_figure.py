"""Drawing and exporting the link graph, every label through the masker.

:func:`node_label` is the only way a node becomes text: the figure, the
GraphML file and the i2 CSVs all call it, so none of them can show an
identifier the masker hides.
"""

from __future__ import annotations

import functools
import operator
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from kit.export import write_csv
from kit.mask import Masker
from kit.schema import Entity
from kit.views.timeline_figure import figure_spec, trace

__all__ = [
    "EDGE_COLOURS",
    "NODE_STYLE",
    "export_graph",
    "graph_figure",
    "graph_layout",
    "graph_spec",
    "node_label",
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
}
"""Marker symbol and colour of each node type."""

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


def _node_size(attrs: dict[str, Any]) -> int:
    """Officers large; a subject looked up by several officers grows with their number."""
    if attrs.get("type") == "officer":
        return 14
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
    graph: nx.MultiDiGraph, *, masker: Masker, highlight_suspicious: bool = True
) -> go.Figure:
    """Build the link-graph figure (:func:`graph_spec` as a Plotly figure)."""
    return go.Figure(graph_spec(graph, masker=masker, highlight_suspicious=highlight_suspicious))


def graph_spec(
    graph: nx.MultiDiGraph, *, masker: Masker, highlight_suspicious: bool = True
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

    Returns
    -------
    dict
        Plotly JSON data: one trace per edge type and per node type
        (legend), positions from :func:`graph_layout` (stable for the same
        graph). Above :data:`SPRING_LIMIT` nodes the traces are
        ``scattergl`` and labels show on hover only.

    """
    positions = graph_layout(graph)
    labels = {n: node_label(n, graph.nodes[n], masker) for n in sorted(graph.nodes)}
    large = graph.number_of_nodes() > SPRING_LIMIT
    scatter = "scattergl" if large else "scatter"
    traces: list[dict[str, Any]] = []
    edges = sorted(graph.edges(keys=True, data=True), key=lambda e: (e[0], e[1], e[2]))
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
        hot = suspicious_path_edges(edges)
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
                text=[labels[n] for n in nodes],
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
    layout = {
        "showlegend": True,
        "hovermode": "closest",
        "plot_bgcolor": "white",
        "height": 640,
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
    }
    return figure_spec(traces, layout)


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
    target = Path(path)
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
