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
    current_annotations,
    history,
    orphan_annotations,
    review_counts,
)
from kit.case.case import Case, list_cases, load_case, new_case, show_case
from kit.case.review import ImportResult, export_review, import_review

__all__ = [
    "ANNOTATIONS_FILE",
    "REVIEW_COLUMNS",
    "STATUSES",
    "Annotation",
    "Case",
    "CaseError",
    "ImportResult",
    "ReviewError",
    "Status",
    "annotate",
    "annotate_lookups",
    "current_annotations",
    "export_review",
    "history",
    "import_review",
    "list_cases",
    "load_case",
    "new_case",
    "orphan_annotations",
    "review_counts",
    "show_case",
]
