"""Investigator views: timeline, link graph, evidence tables, all masked (issue 5).

Pure functions on a :class:`kit.dataset.Dataset` and an assessment; figures
are built, never shown. Every identifier passes through a
:class:`kit.mask.Masker`.
"""

from __future__ import annotations

from kit.views.export import (
    FilesInProgress,
    ResultInProgress,
    compute_in_child,
    export_tables,
    start_export_tables,
    write_in_child,
)
from kit.views.graph import link_graph
from kit.views.graph_figure import (
    export_graph,
    graph_figure,
    graph_spec,
    start_graphml,
    write_graphml,
    write_i2_csv,
)
from kit.views.headers import HEADERS, localise
from kit.views.method import method_table
from kit.views.tables import (
    communications_table,
    evidence_table,
    lookup_table,
    subject_summary,
)
from kit.views.timeline import (
    duty_heatmap,
    heatmap_spec,
    officer_timeline,
    timeline_figure,
    timeline_spec,
)

__all__ = [
    "HEADERS",
    "FilesInProgress",
    "ResultInProgress",
    "communications_table",
    "compute_in_child",
    "duty_heatmap",
    "evidence_table",
    "export_graph",
    "export_tables",
    "graph_figure",
    "graph_spec",
    "heatmap_spec",
    "link_graph",
    "localise",
    "lookup_table",
    "method_table",
    "officer_timeline",
    "start_export_tables",
    "start_graphml",
    "subject_summary",
    "timeline_figure",
    "timeline_spec",
    "write_graphml",
    "write_i2_csv",
    "write_in_child",
]
