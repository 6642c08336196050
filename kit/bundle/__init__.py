"""Evidence bundles: run a report notebook, export it offline, seal and verify it.

The report notebooks (``notebooks/``) call :func:`open_investigation` or
:func:`open_subject_review`, the table builders and :class:`Report`;
:func:`investigate` and :func:`subject_review` run them under Papermill and
write the bundle; :func:`verify` checks one.
"""

from __future__ import annotations

from kit.bundle.explorer import LookupExplorer, explorer
from kit.bundle.make import BundleResult, investigate, make_bundle, resolve_store, subject_review
from kit.bundle.manifest import HASH_SLOT
from kit.bundle.report import REPORT_MAX_ROWS, SECTIONS, Report, table_html
from kit.bundle.review import (
    EVIDENCE_TABLES,
    Review,
    checks_not_run,
    evidence_tables,
    explorer_for,
    findings_summary,
    flag_summary,
    open_investigation,
    open_subject_review,
    parameters_of,
    review_graph,
    sources_table,
    start_bundle_tables,
    start_graph_file,
    start_review_graph,
    subject_timeline_figure,
    subject_timeline_spec,
    who_looked_up,
    write_bundle_files,
)
from kit.bundle.verify import (
    VerifyResult,
    check_signature,
    generate_signing_key,
    sign_manifest,
    verify,
)

__all__ = [
    "EVIDENCE_TABLES",
    "HASH_SLOT",
    "REPORT_MAX_ROWS",
    "SECTIONS",
    "BundleResult",
    "LookupExplorer",
    "Report",
    "Review",
    "VerifyResult",
    "check_signature",
    "checks_not_run",
    "evidence_tables",
    "explorer",
    "explorer_for",
    "findings_summary",
    "flag_summary",
    "generate_signing_key",
    "investigate",
    "make_bundle",
    "open_investigation",
    "open_subject_review",
    "parameters_of",
    "resolve_store",
    "review_graph",
    "sign_manifest",
    "sources_table",
    "start_bundle_tables",
    "start_graph_file",
    "start_review_graph",
    "subject_review",
    "subject_timeline_figure",
    "subject_timeline_spec",
    "table_html",
    "verify",
    "who_looked_up",
    "write_bundle_files",
]
