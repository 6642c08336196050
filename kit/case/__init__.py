"""Case workspace: a working folder per suspect and the investigator's annotations."""

from kit.case.annotations import (
    ANNOTATIONS_FILE,
    REVIEW_COLUMNS,
    STATUSES,
    Annotation,
    CaseError,
    ReviewError,
    Status,
    annotate,
    annotate_lookups,
    copy_history,
    current_annotations,
    history,
    orphan_annotations,
    review_counts,
)
from kit.case.case import (
    Case,
    CaseData,
    case_data,
    list_cases,
    load_case,
    new_case,
    show_case,
)
from kit.case.panel import ReviewPanel, open_review_panel, review_panel
from kit.case.report import review_summary, review_tables
from kit.case.review import ImportResult, export_review, import_review

__all__ = [
    "ANNOTATIONS_FILE",
    "REVIEW_COLUMNS",
    "STATUSES",
    "Annotation",
    "Case",
    "CaseData",
    "CaseError",
    "ImportResult",
    "ReviewError",
    "ReviewPanel",
    "Status",
    "annotate",
    "annotate_lookups",
    "case_data",
    "copy_history",
    "current_annotations",
    "export_review",
    "history",
    "import_review",
    "list_cases",
    "load_case",
    "new_case",
    "open_review_panel",
    "orphan_annotations",
    "review_counts",
    "review_panel",
    "review_summary",
    "review_tables",
    "show_case",
]
