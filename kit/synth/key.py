"""Assembling ``answer_key.json`` (the contract other engineers test against)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kit.synth.layout import Layout

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
    planted = story.tagged("planted")
    negatives = story.tagged("hard_negative")
    comms = story.comm_entries()
    return {
        "distinct_valid_lookups": distinct,
        "files": files,
        "unrecognised_files": sorted(str(f["path"]) for f in files if f["kind"] is None),
        "bad_rows": sorted(layout.bad_rows, key=lambda r: (r["file"], r["line"])),
        "warning_rows": story.warning_rows(),
        "invalid_person_ids": story.invalid_ids(),
        "duplicates": duplicates,
        "planted_lookups": planted,
        "hard_negatives": negatives,
        "planted_communications": comms,
        "tipoffs": [c for c in comms if "TIPOFF" in c["expected_flags"]],
        "scenarios": story.scenarios,
    }
