"""Case workspace: a working folder per suspect and the investigator's annotations.

The names below are imported on first use (PEP 562): the ``kit`` command registers the
``kit case`` commands without loading pandas or ipywidgets, and a report kernel loads
the review panel only if it shows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING as _TYPE_CHECKING

_API: dict[str, str] = {
    "ANNOTATIONS_FILE": "kit.case.annotations",
    "REVIEW_COLUMNS": "kit.case.annotations",
    "STATUSES": "kit.case.annotations",
    "Annotation": "kit.case.annotations",
    "CaseError": "kit.case.annotations",
    "ReviewError": "kit.case.annotations",
    "Status": "kit.case.annotations",
    "annotate": "kit.case.annotations",
    "annotate_lookups": "kit.case.annotations",
    "copy_history": "kit.case.annotations",
    "current_annotations": "kit.case.annotations",
    "history": "kit.case.annotations",
    "orphan_annotations": "kit.case.annotations",
    "review_counts": "kit.case.annotations",
    "Case": "kit.case.case",
    "CaseData": "kit.case.case",
    "case_data": "kit.case.case",
    "list_cases": "kit.case.case",
    "load_case": "kit.case.case",
    "new_case": "kit.case.case",
    "show_case": "kit.case.case",
    "ReviewPanel": "kit.case.panel",
    "open_review_panel": "kit.case.panel",
    "review_panel": "kit.case.panel",
    "review_summary": "kit.case.report",
    "review_tables": "kit.case.report",
    "ImportResult": "kit.case.review",
    "export_review": "kit.case.review",
    "import_review": "kit.case.review",
}

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

if _TYPE_CHECKING:
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
    from kit.case.panel import (
        ReviewPanel,
        open_review_panel,
        review_panel,
    )
    from kit.case.report import (
        review_summary,
        review_tables,
    )
    from kit.case.review import (
        ImportResult,
        export_review,
        import_review,
    )


from kit._lazy import lazy_names as _lazy_names  # noqa: E402

__getattr__, __dir__ = _lazy_names("kit.case", _API, __all__, globals())
