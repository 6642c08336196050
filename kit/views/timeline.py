"""One officer's timeline: lookups against duty, register, work log, tickets and phone.

:func:`officer_timeline` gathers everything about one officer into one tidy,
time-ordered table (one row per event or interval, a ``lane`` per source);
:func:`timeline_figure` and :func:`duty_heatmap` draw it with Plotly. Every
identifier passes through the :class:`kit.mask.Masker` while the table is
built, so the figures only ever see masked text.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from kit.mask import Masker
from kit.views._common import (
    TIME,
    AssessmentLike,
    as_time,
    in_period,
    join_list,
    masked_subjects,
    overlaps,
    period,
    querier,
    register_dataset,
    text,
)
from kit.views.timeline_figure import duty_heatmap, heatmap_spec, timeline_figure, timeline_spec

__all__ = [
    "LANES",
    "TIMELINE_COLUMNS",
    "duty_heatmap",
    "heatmap_spec",
    "officer_timeline",
    "timeline_figure",
    "timeline_spec",
]

LANES: tuple[str, ...] = ("shift", "register", "lookup", "worklog", "ticket", "communication")
"""Lanes of the timeline, top to bottom."""

TIMELINE_COLUMNS: tuple[str, ...] = (
    "time",
    "end",
    "lane",
    "label",
    "severity",
    "flags",
    "explanations",
    "suspicious",
    "system",
    "purpose",
    "subject",
    "detail",
    "on_duty",
    "role",
    "source_file",
    "source_line",
    "lookup_id",
)
"""Columns of :func:`officer_timeline`.

``time``/``end`` are Taipei times (``end`` only for intervals: shifts and
register absences, whose open end is the period's end); ``label`` a short
title (operation, duty word, register reason, message direction and type);
``subject`` the masked subjects or counterpart; ``detail`` masked context
(conditions, message or work-log text, equipment); ``on_duty`` is set on
shifts; ``role`` says for a lookup whether the officer was its ``querier`` or
whether his ``account`` was used by someone else.
"""


def _frame(rows: dict[str, Any], index: pd.Index) -> pd.DataFrame:
    out = pd.DataFrame(index=index)
    for column in TIMELINE_COLUMNS:
        value = rows.get(column)
        if column in ("time", "end"):
            out[column] = (
                as_time(value) if value is not None else pd.Series(pd.NaT, index=index, dtype=TIME)
            )
        elif column in ("suspicious", "on_duty"):
            out[column] = (
                value.astype("boolean")
                if isinstance(value, pd.Series)
                else pd.Series(pd.NA, index=index, dtype="boolean")
            )
        elif isinstance(value, pd.Series):
            out[column] = value.astype("string")
        else:
            out[column] = pd.Series(value, index=index, dtype="string")
    return out.reset_index(drop=True)


def _lookups(
    dataset: Any,
    assessment: AssessmentLike | None,
    officer: str,
    lo: pd.Timestamp | None,
    hi: pd.Timestamp | None,
    masker: Masker,
) -> pd.DataFrame:
    log = dataset.query_log
    who = querier(log)
    mine = ((who == officer) | (log["user"].astype("string") == officer)).fillna(False)
    times = as_time(log["time"])
    rows = log[mine.astype(bool) & in_period(times, lo, hi)]
    rows = rows.drop_duplicates("lookup_id")
    who = who.loc[rows.index]
    if assessment is not None and not assessment.lookups.empty:
        found = assessment.lookups.drop_duplicates("lookup_id").set_index("lookup_id")
        assessed = found.reindex(rows["lookup_id"].to_numpy())
        assessed.index = rows.index
    else:
        assessed = pd.DataFrame(index=rows.index)

    def column(name: str) -> pd.Series | None:
        return assessed[name] if name in assessed.columns else None

    subjects = masked_subjects(dataset, masker).reindex(rows["lookup_id"].to_numpy())
    subjects.index = rows.index
    role = pd.Series("querier", index=rows.index, dtype="string").where(
        (who == officer).fillna(False), "account"
    )
    shown_other = who.where(who != rows["user"].astype("string"), pd.NA)
    detail = (
        "帳號 "
        + text(rows["user"]).fillna("")
        + (" ／ 實際 " + shown_other).fillna("")
        + (" ／ IP " + text(rows["ip"])).fillna("")
        + (" ／ " + text(rows["device"])).fillna("")
        + " ／ "
        + masker.text_series(rows["conditions"]).fillna("")
    )
    severity = column("severity")
    return _frame(
        {
            "time": times.loc[rows.index],
            "lane": "lookup",
            "label": text(rows["operation"]),
            "severity": severity.fillna("none") if severity is not None else "none",
            "flags": column("flags"),
            "explanations": column("explanations"),
            "suspicious": column("suspicious"),
            "system": text(rows["system"]),
            "purpose": text(rows["purpose"]),
            "subject": subjects,
            "detail": detail,
            "role": role,
            **_provenance(rows),
            "lookup_id": text(rows["lookup_id"]),
        },
        rows.index,
    )


def _of_officer(frame: pd.DataFrame, officer: str) -> pd.DataFrame:
    """Return the rows of a kind that belong to the officer."""
    return frame[(frame["officer_id"].astype("string") == officer).fillna(False)]


def _events(frame: pd.DataFrame, officer: str, lo: Any, hi: Any) -> tuple[pd.DataFrame, Any]:
    """Return the officer's rows of a point-in-time kind within the period, and their times."""
    rows = _of_officer(frame, officer)
    times = as_time(rows["time"])
    keep = in_period(times, lo, hi)
    return rows[keep], times[keep]


def _provenance(rows: pd.DataFrame) -> dict[str, Any]:
    """Return the provenance columns of timeline rows (where each entry stands in its source)."""
    return {"source_file": text(rows["source_file"]), "source_line": text(rows["source_line"])}


def _shifts(dataset: Any, officer: str, lo: Any, hi: Any) -> pd.DataFrame:
    roster = dataset.duty_roster
    rows = _of_officer(roster, officer)
    start, end = as_time(rows["start"]), as_time(rows["end"])
    rows = rows[overlaps(start, end, lo, hi)]
    return _frame(
        {
            "time": start.loc[rows.index],
            "end": end.loc[rows.index],
            "lane": "shift",
            "label": text(rows["duty"]),
            "on_duty": rows["on_duty"],
            "detail": text(rows["unit"]),
            **_provenance(rows),
        },
        rows.index,
    )


def _register(dataset: Any, officer: str, lo: Any, hi: Any, masker: Masker) -> pd.DataFrame:
    register = dataset.register
    rows = _of_officer(register, officer)
    out_time, in_time = as_time(rows["out_time"]), as_time(rows["in_time"])
    rows = rows[overlaps(out_time, in_time, lo, hi)]
    return _frame(
        {
            "time": out_time.loc[rows.index],
            "end": in_time.loc[rows.index],
            "lane": "register",
            "label": text(rows["reason"]),
            "detail": masker.text_series(join_list(rows["equipment"])),
            **_provenance(rows),
        },
        rows.index,
    )


def _worklog(dataset: Any, officer: str, lo: Any, hi: Any, masker: Masker) -> pd.DataFrame:
    log = dataset.worklog
    rows, times = _events(log, officer, lo, hi)
    return _frame(
        {
            "time": times.loc[rows.index],
            "lane": "worklog",
            "label": text(rows["case_no"]),
            "detail": masker.text_series(rows["content"]),
            **_provenance(rows),
        },
        rows.index,
    )


def _tickets(dataset: Any, officer: str, lo: Any, hi: Any, masker: Masker) -> pd.DataFrame:
    tickets = dataset.tickets
    rows, times = _events(tickets, officer, lo, hi)
    plate = masker.show_series(rows["plate_entity"], rows["plate"])
    person = masker.show_series(rows["person_id_entity"], rows["person_id"])
    return _frame(
        {
            "time": times.loc[rows.index],
            "lane": "ticket",
            "label": text(rows["ticket_no"]),
            "subject": (plate + ("; " + person).fillna("")).astype("string"),
            "detail": masker.text_series(rows["violation"]),
            **_provenance(rows),
        },
        rows.index,
    )


def _communications(
    dataset: Any,
    assessment: AssessmentLike | None,
    officer: str,
    lo: Any,
    hi: Any,
    masker: Masker,
) -> pd.DataFrame:
    comms = dataset.communications
    rows, times = _events(comms, officer, lo, hi)
    flags = pd.Series(pd.NA, index=rows.index, dtype="string")
    severity = pd.Series("none", index=rows.index, dtype="string")
    flagged = getattr(assessment, "communications", None)
    if flagged is not None and not flagged.empty:
        keyed = flagged.drop_duplicates(["source_file", "source_line"]).set_index(
            ["source_file", "source_line"]
        )
        keys = pd.MultiIndex.from_arrays(
            [rows["source_file"].astype(str), rows["source_line"].astype(str)]
        )
        keyed.index = pd.MultiIndex.from_arrays(
            [
                keyed.index.get_level_values(0).astype(str),
                keyed.index.get_level_values(1).astype(str),
            ]
        )
        matched = keyed.reindex(keys)
        flags = pd.Series(matched["flags"].to_numpy(), index=rows.index, dtype="string")
        severity = pd.Series(matched["severity"].to_numpy(), index=rows.index, dtype="string")
        severity = severity.fillna("none")
    counterpart = masker.show_series(rows["counterpart_entity"], rows["counterpart"])
    name = masker.show_series(
        pd.Series("name", index=rows.index), rows["counterpart_name"].astype("string")
    )
    return _frame(
        {
            "time": times.loc[rows.index],
            "lane": "communication",
            "label": (text(rows["direction"]) + " " + text(rows["type"]).fillna("")).str.strip(),
            "severity": severity,
            "flags": flags,
            "subject": (counterpart + (" " + name).fillna("")).astype("string"),
            "detail": masker.text_series(rows["content"]),
            **_provenance(rows),
        },
        rows.index,
    )


def officer_timeline(
    dataset: Any,
    assessment: AssessmentLike | None,
    officer: str,
    start: object = None,
    end: object = None,
    *,
    masker: Masker,
) -> pd.DataFrame:
    """Return one officer's lookups, duty, register, work log, tickets and phone in one table.

    Parameters
    ----------
    dataset
        A :class:`kit.dataset.Dataset`.
    assessment
        The assessment of the dataset (flags, explanations, severity), or
        ``None`` to show the records without findings.
    officer
        The officer ID. His lookups are those he made (as querier:
        ``actual_user``, or ``user`` when empty) and those made from his
        account by others (``role`` = ``account``).
    start, end
        The period (dates, ISO text or timestamps; a date ``end`` is
        inclusive). ``None`` leaves that side open. Shifts and register
        intervals that overlap the period are kept whole.
    masker
        Masks every identifier (subjects, counterparts, conditions, texts).

    Returns
    -------
    pandas.DataFrame
        :data:`TIMELINE_COLUMNS`, ordered by time, then lane, then lookup ID.

    """
    lo, hi = period(start, end)
    register_dataset(masker, dataset)
    parts = [
        _lookups(dataset, assessment, officer, lo, hi, masker),
        _shifts(dataset, officer, lo, hi),
        _register(dataset, officer, lo, hi, masker),
        _worklog(dataset, officer, lo, hi, masker),
        _tickets(dataset, officer, lo, hi, masker),
        _communications(dataset, assessment, officer, lo, hi, masker),
    ]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _frame({}, pd.RangeIndex(0))
    timeline = pd.concat(parts, ignore_index=True)
    lane_rank = timeline["lane"].map({lane: i for i, lane in enumerate(LANES)})
    timeline = (
        timeline.assign(_rank=lane_rank)
        .sort_values(["time", "_rank", "lookup_id", "source_file", "source_line"], kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )
    return timeline
