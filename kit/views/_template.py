"""Report figures as Plotly JSON data, with Plotly's ``plotly`` template kept as data.

:func:`trace` and :func:`figure_spec` build the figures of every view (timeline,
heatmap, link graph, subject timeline) as the plain dicts a notebook stores.

The figures of a report are built as plain Plotly JSON (see
:mod:`kit.views.timeline_figure`), which carries no template unless given
one; this is the part of Plotly 7.1.0's default ``plotly`` template
that applies to the report's trace types (``scatter``, ``scattergl``,
``heatmap``) and 2-D axes, so a report figure looks the same as the
``plotly.graph_objects`` figure built from the same data, whatever template a
user has made the default. Generated with::

    pio.templates["plotly"].to_plotly_json()  # data: the three types; layout: 2-D keys
"""

from __future__ import annotations

import copy
from typing import Any

_PLASMA = [
    [i / 9, colour]
    for i, colour in enumerate(
        [
            "#0d0887",
            "#46039f",
            "#7201a8",
            "#9c179e",
            "#bd3786",
            "#d8576b",
            "#ed7953",
            "#fb9f3a",
            "#fdca26",
            "#f0f921",
        ]
    )
]
"""Plotly's default sequential colour scale (plasma), used in several places below."""

_AXIS = {
    "gridcolor": "white",
    "linecolor": "white",
    "ticks": "",
    "title": {"standoff": 15},
    "zerolinecolor": "white",
    "automargin": True,
    "zerolinewidth": 2,
}
"""Both axes look the same."""

REPORT_TEMPLATE: dict[str, Any] = {
    "data": {
        "scatter": [
            {"fillpattern": {"fillmode": "overlay", "size": 10, "solidity": 0.2}, "type": "scatter"}
        ],
        "scattergl": [
            {"type": "scattergl", "marker": {"colorbar": {"outlinewidth": 0, "ticks": ""}}}
        ],
        "heatmap": [
            {
                "type": "heatmap",
                "colorbar": {"outlinewidth": 0, "ticks": ""},
                "colorscale": _PLASMA,
            }
        ],
    },
    "layout": {
        "autotypenumbers": "strict",
        "colorway": [
            "#636efa",
            "#EF553B",
            "#00cc96",
            "#ab63fa",
            "#FFA15A",
            "#19d3f3",
            "#FF6692",
            "#B6E880",
            "#FF97FF",
            "#FECB52",
        ],
        "font": {"color": "#2a3f5f"},
        "hovermode": "closest",
        "hoverlabel": {"align": "left"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "#E5ECF6",
        "coloraxis": {"colorbar": {"outlinewidth": 0, "ticks": ""}},
        "colorscale": {
            "sequential": _PLASMA,
            "sequentialminus": _PLASMA,
            "diverging": [
                [0, "#8e0152"],
                [0.1, "#c51b7d"],
                [0.2, "#de77ae"],
                [0.3, "#f1b6da"],
                [0.4, "#fde0ef"],
                [0.5, "#f7f7f7"],
                [0.6, "#e6f5d0"],
                [0.7, "#b8e186"],
                [0.8, "#7fbc41"],
                [0.9, "#4d9221"],
                [1, "#276419"],
            ],
        },
        "xaxis": _AXIS,
        "yaxis": _AXIS,
        "shapedefaults": {"line": {"color": "#2a3f5f"}},
        "annotationdefaults": {"arrowcolor": "#2a3f5f", "arrowhead": 0, "arrowwidth": 1},
        "title": {"x": 0.05},
    },
}


def trace(kind: str, **properties: Any) -> dict[str, Any]:
    """Return one Plotly trace as JSON data (``kind``: ``scatter``, ``scattergl``, ``heatmap``)."""
    return {"type": kind, **properties}


def figure_spec(traces: list[dict[str, Any]], layout: dict[str, Any]) -> dict[str, Any]:
    """Return a figure as Plotly JSON data, with its own copy of :data:`REPORT_TEMPLATE`."""
    return {"data": traces, "layout": {"template": copy.deepcopy(REPORT_TEMPLATE), **layout}}
