"""kit: a forensic investigation kit for police lookup logs.

Load exports (:func:`load_folder`, :func:`ingest`), assess every lookup
(:func:`assess`, :func:`screen`), show it (timeline, link graph, evidence
tables) and write verifiable evidence bundles (:func:`investigate`,
:func:`subject_review`, :func:`run_audit`, :func:`verify`).

The names below are the public API; notebooks use nothing else. They are
imported on first use, so ``kit --help`` does not pay for plotly and DuckDB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING as _TYPE_CHECKING

__version__ = "0.1.0"

_API: dict[str, str] = {
    # load and store
    "Dataset": "kit.dataset",
    "load_folder": "kit.load",
    "ingest": "kit.store",
    "open_store": "kit.store",
    "load_dataset": "kit.store",
    "compact": "kit.store",
    "subject_keys": "kit.store",
    "lookups_by_officer": "kit.store",
    "lookups_by_subject": "kit.store",
    # identifiers
    "canonical": "kit.identifiers",
    "extract": "kit.identifiers",
    "person_id_valid": "kit.identifiers",
    # assess (kit.assess is also the sub-package, made callable there)
    "assess": "kit.assess",
    "screen": "kit.assess",
    "Assessment": "kit.assess",
    # views
    "Masker": "kit.mask",
    "officer_timeline": "kit.views",
    "timeline_figure": "kit.views",
    "timeline_spec": "kit.views",
    "duty_heatmap": "kit.views",
    "heatmap_spec": "kit.views",
    "link_graph": "kit.views",
    "graph_figure": "kit.views",
    "graph_spec": "kit.views",
    "write_graphml": "kit.views",
    "write_i2_csv": "kit.views",
    "lookup_table": "kit.views",
    "subject_summary": "kit.views",
    "communications_table": "kit.views",
    "method_table": "kit.views",
    "export_tables": "kit.views",
    # bundles
    "investigate": "kit.bundle",
    "subject_review": "kit.bundle",
    "verify": "kit.bundle",
    "open_investigation": "kit.bundle",
    "open_subject_review": "kit.bundle",
    "run_batch": "kit.batch",
    # monthly audit and self-review
    "monthly_sample": "kit.audit",
    "monthly_statistics": "kit.audit",
    "audit_worksheet": "kit.audit",
    "run_audit": "kit.audit",
    "run_self_review": "kit.audit",
    "self_review_table": "kit.audit",
    # case workspace
    "new_case": "kit.case",
    "list_cases": "kit.case",
    "show_case": "kit.case",
    "annotate": "kit.case",
    "current_annotations": "kit.case",
    "export_review": "kit.case",
    "import_review": "kit.case",
    "review_panel": "kit.case",
}

__all__ = [
    "Assessment",
    "Dataset",
    "Masker",
    "annotate",
    "assess",
    "audit_worksheet",
    "canonical",
    "communications_table",
    "compact",
    "current_annotations",
    "duty_heatmap",
    "export_review",
    "export_tables",
    "extract",
    "graph_figure",
    "graph_spec",
    "heatmap_spec",
    "import_review",
    "ingest",
    "investigate",
    "link_graph",
    "list_cases",
    "load_dataset",
    "load_folder",
    "lookup_table",
    "lookups_by_officer",
    "lookups_by_subject",
    "method_table",
    "monthly_sample",
    "monthly_statistics",
    "new_case",
    "officer_timeline",
    "open_investigation",
    "open_store",
    "open_subject_review",
    "person_id_valid",
    "review_panel",
    "run_audit",
    "run_batch",
    "run_self_review",
    "screen",
    "self_review_table",
    "show_case",
    "subject_keys",
    "subject_review",
    "subject_summary",
    "timeline_figure",
    "timeline_spec",
    "verify",
    "write_graphml",
    "write_i2_csv",
]
"""The public API (a test checks it against the lazy table above)."""

if _TYPE_CHECKING:
    from kit.assess import Assessment, assess, screen
    from kit.audit import (
        audit_worksheet,
        monthly_sample,
        monthly_statistics,
        run_audit,
        run_self_review,
        self_review_table,
    )
    from kit.batch import run_batch
    from kit.bundle import (
        investigate,
        open_investigation,
        open_subject_review,
        subject_review,
        verify,
    )
    from kit.case import (
        annotate,
        current_annotations,
        export_review,
        import_review,
        list_cases,
        new_case,
        review_panel,
        show_case,
    )
    from kit.dataset import Dataset
    from kit.identifiers import canonical, extract, person_id_valid
    from kit.load import load_folder
    from kit.mask import Masker
    from kit.store import (
        compact,
        ingest,
        load_dataset,
        lookups_by_officer,
        lookups_by_subject,
        open_store,
        subject_keys,
    )
    from kit.views import (
        communications_table,
        duty_heatmap,
        export_tables,
        graph_figure,
        graph_spec,
        heatmap_spec,
        link_graph,
        lookup_table,
        method_table,
        officer_timeline,
        subject_summary,
        timeline_figure,
        timeline_spec,
        write_graphml,
        write_i2_csv,
    )


from kit._lazy import lazy_names as _lazy_names  # noqa: E402

__getattr__, __dir__ = _lazy_names("kit", _API, __all__, globals())
