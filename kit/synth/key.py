"""Assembling ``answer_key.json`` (the contract other engineers test against)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kit.synth.layout import Layout
from kit.synth.timefmt import iso

if TYPE_CHECKING:
    from kit.synth.planted import Story


def answer_key(
    story: Story,
    files: list[dict[str, object]],
    layout: Layout,
    *,
    distinct: int,
    duplicates: int,
) -> dict[str, object]:
    """Return the answer key (without the run parameters, which the caller adds).

    Parameters
    ----------
    story : Story
        Planted scenarios, hard negatives and warning rows, with where they landed.
    files : list of dict
        The written files (:meth:`Layout.close`).
    layout : Layout
        For the bad rows.
    distinct : int
        Lookups written once (before overlapping re-exports).
    duplicates : int
        Rows of re-exports that repeat a lookup.

    """
    planted = tagged(story, "planted")
    negatives = tagged(story, "hard_negative")
    comms = comm_entries(story)
    return {
        "distinct_valid_lookups": distinct,
        "files": files,
        "unrecognised_files": sorted(str(f["path"]) for f in files if f["kind"] is None),
        "bad_rows": sorted(layout.bad_rows, key=lambda r: (r["file"], r["line"])),
        "warning_rows": warning_rows(story),
        "invalid_person_ids": invalid_ids(story),
        "duplicates": duplicates,
        "planted_lookups": planted,
        "hard_negatives": negatives,
        "planted_communications": comms,
        "tipoffs": [c for c in comms if "TIPOFF" in c["expected_flags"]],
        "scenarios": story.scenarios,
    }


def tagged(story: Story, section: str) -> list[dict[str, Any]]:
    """Answer-key entries of planted lookups or hard negatives, by time."""
    out = []
    for row in story.rows:
        if row["_section"] != section:
            continue
        entry = {
            "scenario": row["_scenario"],
            "case": row["_case"],
            "time": iso(row["time"]),
            "user": row["user"],
            "actual_user": row["actual_user"],
            "operation": row["operation"],
            "conditions": row["conditions"],
            "purpose": row["purpose"],
            "file": row["_file"],
            "line": row["_line"],
            "expected_flags": row["_expected"],
            "ip": row["ip"],
            "case_no": row["case_no"],
        }
        if section == "hard_negative":
            entry["boundary"] = row["_boundary"]
            entry["expected_flags"] = []
        out.append(entry)
    return sorted(out, key=lambda e: (e["time"], e["user"], e["operation"], e["conditions"]))


def warning_rows(story: Story) -> list[dict[str, str]]:
    """Rows that load with a warning."""
    out = [
        {"file": r["_file"], "line": r["_line"], "kind": "query_log", "reason": r["_reason"]}
        for r in story.rows
        if r["_reason"]
    ]
    return sorted(out, key=lambda e: (e["file"], e["line"]))


def invalid_ids(story: Story) -> list[str]:
    """National IDs written with a wrong check digit."""
    return sorted(r["subject"] for r in story.rows if r["_reason"] == "invalid_check_digit")


def comm_entries(story: Story) -> list[dict[str, Any]]:
    """Answer-key entries of planted communications."""
    out = [
        {
            "scenario": c["_scenario"],
            "time": iso(c["time"]),
            "officer_id": c["officer_id"],
            "counterpart": c["counterpart"],
            "direction": c["direction"],
            "type": c["type"],
            "content": c["content"],
            "file": c["_file"],
            "line": c["_line"],
            "expected_flags": c["_expected"],
        }
        for c in story.comms
        if c["_planted"]
    ]
    return sorted(out, key=lambda e: (e["time"], e["officer_id"]))
