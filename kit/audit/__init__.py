"""The monthly audit (§五(二)2, §六(一)4, §七(一)3, §八(二), §十四) and the self-review (§九)."""

from kit.audit.bundle import run_audit, run_self_review
from kit.audit.hierarchy import lookup_quota, station_quota, unit_parents, unit_quota
from kit.audit.sample import AuditSample, monthly_sample
from kit.audit.self_review import self_review_table
from kit.audit.session import (
    MonthlyAudit,
    open_audit,
    open_self_review,
    write_audit_files,
    write_self_review_files,
)
from kit.audit.statistics import closer_audit_candidates, monthly_statistics
from kit.audit.worksheet import audit_worksheet, write_worksheet

__all__ = [
    "AuditSample",
    "MonthlyAudit",
    "audit_worksheet",
    "closer_audit_candidates",
    "lookup_quota",
    "monthly_sample",
    "monthly_statistics",
    "open_audit",
    "open_self_review",
    "run_audit",
    "run_self_review",
    "self_review_table",
    "station_quota",
    "unit_parents",
    "unit_quota",
    "write_audit_files",
    "write_self_review_files",
    "write_worksheet",
]
