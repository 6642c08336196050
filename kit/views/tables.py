"""Evidence tables for prosecutors: per lookup, per subject, communications, evidence.

Courts count each unjustified lookup as a separate offence (DOMAIN.md), so
:func:`lookup_table` has one numbered row per lookup with everything that
bears on it: who, from where, what system, which subject (masked), the duty
and register at that instant, the explanations and flags, the messages that
followed, and the source row. Headers are Traditional Chinese by default and
the canonical English names with ``lang="en"`` (:mod:`kit.views.headers`). The
"method and limitations" table is in :mod:`kit.views.method`.
Times are Asia/Taipei local time written ``YYYY-MM-DD HH:MM:SS``.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import pandas as pd

from kit.frames import isin
from kit.mask import Masker
from kit.views._common import (
    AssessmentLike,
    as_time,
    group_join,
    local_text,
    querier,
    register_dataset,
    split_codes,
    text,
)
from kit.views.headers import localise

__all__ = [
    "CONTACT_WINDOW",
    "LOOKUP_TABLE_COLUMNS",
    "communications_table",
    "evidence_table",
    "lookup_table",
    "subject_summary",
]

CONTACT_WINDOW = pd.Timedelta(minutes=30)
"""Communications this long after a lookup are shown beside it (DOMAIN.md ``CONTACT_AFTER``)."""

LOOKUP_TABLE_COLUMNS: tuple[str, ...] = (
    "number",
    "time",
    "user",
    "actual_user",
    "unit",
    "actual_unit",
    "ip",
    "device",
    "system",
    "operation",
    "subjects",
    "conditions",
    "purpose",
    "duty",
    "register",
    "explanations",
    "flags",
    "severity",
    "score",
    "suspicious",
    "not_checked",
    "contact_after",
    "identifiers_sent",
    "source_file",
    "source_line",
    "lookup_id",
)
"""Columns of :func:`lookup_table` (canonical English names)."""

SENT_CODES: tuple[str, ...] = ("IDENTIFIER_SENT", "CONTACTED_SUBJECT")

COMMUNICATION_COLUMNS: tuple[str, ...] = (
    "time",
    "officer_id",
    "own_phone",
    "counterpart",
    "counterpart_name",
    "direction",
    "type",
    "content",
    "flags",
    "severity",
    "rests_on",
    "preceding_lookup",
    "minutes_after",
    "source_file",
    "source_line",
)
"""Columns of :func:`communications_table`."""

SUMMARY_COLUMNS: tuple[str, ...] = (
    "subject",
    "entity",
    "lookups",
    "first",
    "last",
    "officers",
    "suspicious_lookups",
    "flags",
)
"""Columns of :func:`subject_summary`."""


_LAST_ASSESSED: list[tuple[weakref.ref[Any], weakref.ref[Any], pd.DataFrame]] = []
"""The last :func:`_assessed` answer, for the next table of the same report."""


def _assessed(dataset: Any, assessment: AssessmentLike) -> pd.DataFrame:
    """Return the assessed lookups in time order, with the query log's own columns beside.

    The tables of one report ask for the same dataset and assessment one
    after the other: the last answer is kept (a copy is returned; pandas'
    copy-on-write keeps the kept one as it is), tied to its inputs by weak
    references so that it never outlives them as a stale answer.
    """
    if _LAST_ASSESSED:
        data_ref, assessment_ref, frame = _LAST_ASSESSED[0]
        if data_ref() is dataset and assessment_ref() is assessment:
            return frame.copy(deep=False)
    frame = _assessed_now(dataset, assessment)
    try:
        _LAST_ASSESSED[:] = [(weakref.ref(dataset), weakref.ref(assessment), frame)]
    except TypeError:  # an object without weak references: nothing kept
        _LAST_ASSESSED.clear()
    return frame.copy(deep=False)


def _assessed_now(dataset: Any, assessment: AssessmentLike) -> pd.DataFrame:
    lookups = assessment.lookups.copy()
    lookups["time"] = as_time(lookups["time"])
    log = dataset.query_log.drop_duplicates("lookup_id").set_index("lookup_id")
    for column in ("device", "system", "case_no"):
        lookups[column] = (
            log[column].reindex(lookups["lookup_id"]).to_numpy() if column in log.columns else pd.NA
        )
    lookups["querier"] = querier(lookups)
    return lookups.sort_values(["time", "lookup_id"], kind="stable").reset_index(drop=True)


def _interval_status(
    lookups: pd.DataFrame, intervals: pd.DataFrame, start: str, end: str, label: str
) -> pd.Series:
    """Return, per lookup, the label of the querier's last interval starting before it, if open.

    ``intervals`` has ``officer_id``, ``start``/``end`` columns (an empty end is
    still open) and ``label``; missing where no interval covers the lookup.
    """
    out = pd.Series(pd.NA, index=lookups.index, dtype="string")
    if intervals.empty or lookups.empty:
        return out
    right = pd.DataFrame(
        {
            "querier": intervals["officer_id"].astype(str).array,
            "_start": as_time(intervals[start]).array,
            "_end": as_time(intervals[end]).array,
            "_label": intervals[label].astype("string").to_numpy(),
        }
    ).dropna(subset=["_start"])
    right = right.sort_values("_start", kind="stable")
    left = pd.DataFrame(
        {
            "querier": lookups["querier"].astype(str).array,
            "_time": lookups["time"].array,
            "_row": np.arange(len(lookups)),
        }
    ).sort_values("_time", kind="stable")
    joined = pd.merge_asof(
        left, right, left_on="_time", right_on="_start", by="querier", direction="backward"
    )
    covered = joined["_start"].notna() & (
        joined["_end"].isna() | (joined["_end"] > joined["_time"])
    )
    labels = joined["_label"].where(covered.to_numpy(), pd.NA)
    out.iloc[joined["_row"].to_numpy()] = labels.to_numpy()
    return out


def _duty(dataset: Any, lookups: pd.DataFrame) -> pd.Series:
    roster = dataset.duty_roster
    on = roster[roster["on_duty"].fillna(False).astype(bool)]
    off = roster[~roster["on_duty"].fillna(False).astype(bool)]
    on_word = _interval_status(lookups, on, "start", "end", "duty")
    off_word = _interval_status(lookups, off, "start", "end", "duty")
    rostered = set(roster["officer_id"].astype(str))
    none = pd.Series("無勤務紀錄", index=lookups.index, dtype="string").where(
        lookups["querier"].astype(str).isin(rostered), "無排班資料"
    )
    return (("值勤:" + on_word).fillna("非值勤:" + off_word)).fillna(none).astype("string")


def _register(dataset: Any, lookups: pd.DataFrame) -> pd.Series:
    register = dataset.register
    reason = register["reason"].astype("string").fillna("")
    rows = register.assign(_label=("外出 " + reason).str.strip())
    status = _interval_status(lookups, rows, "out_time", "in_time", "_label")
    known = lookups["querier"].astype(str).isin(set(register["officer_id"].astype(str)))
    fallback = pd.Series("在所", index=lookups.index, dtype="string").where(known, "無登記資料")
    return status.fillna(fallback).astype("string")


def _contacts_after(
    dataset: Any, lookups: pd.DataFrame, masker: Masker
) -> tuple[pd.Series, pd.DataFrame]:
    """Return per lookup the text of the communications within 30 minutes after it.

    Also returns the communications of the queriers (time-sorted) for reuse.
    """
    comms = dataset.communications
    out = pd.Series(pd.NA, index=lookups.index, dtype="string")
    mine = comms[comms["officer_id"].astype(str).isin(set(lookups["querier"].astype(str)))]
    if mine.empty or lookups.empty:
        return out, mine
    mine = mine.assign(_time=as_time(mine["time"])).sort_values("_time", kind="stable")
    codes = {o: i for i, o in enumerate(sorted(set(mine["officer_id"].astype(str))))}
    span = np.int64(10**11)

    def key(officers: pd.Series, times: pd.Series) -> np.ndarray:
        code = officers.astype(str).map(codes).fillna(-1).astype(np.int64).to_numpy()
        seconds = (times.astype("int64") // 10**6).to_numpy()
        return code * span + seconds

    comm_keys = key(mine["officer_id"], mine["_time"])
    order = np.argsort(comm_keys, kind="stable")
    comm_keys = comm_keys[order]
    base = key(lookups["querier"], lookups["time"])
    lo = np.searchsorted(comm_keys, base, side="left")
    hi = np.searchsorted(comm_keys, base + int(CONTACT_WINDOW.total_seconds()), side="right")
    count = hi - lo
    has = (count > 0) & (lookups["querier"].astype(str).isin(codes).to_numpy())
    first = mine.iloc[order].reset_index(drop=True)
    picked = first.iloc[np.where(has, lo, 0)]
    shown = masker.show_series(picked["counterpart_entity"], picked["counterpart"])
    described = (
        count.astype(str)
        + " 則; 首則 "
        + local_text(picked["_time"]).to_numpy(dtype=object)
        + " "
        + picked["direction"].astype("string").fillna("").to_numpy(dtype=object)
        + " "
        + shown.fillna("").to_numpy(dtype=object)
    )
    out[:] = np.where(has, described, None)
    return out.astype("string"), mine


def _sent(assessment: AssessmentLike, lookups: pd.DataFrame, masker: Masker) -> pd.Series:
    evidence = assessment.evidence
    if evidence.empty:
        return pd.Series(pd.NA, index=lookups.index, dtype="string")
    rows = evidence[evidence["code"].isin(SENT_CODES)]
    line = (
        rows["code"].astype("string")
        + ": "
        + rows["rests_on"].astype("string").fillna("")
        + (" (" + masker.text_series(rows["reason"], keep_dates=True) + ")").fillna("")
    )
    joined = group_join(rows["lookup_id"], line, " | ")
    return lookups["lookup_id"].map(joined).astype("string")


def _masked_subject_column(dataset: Any, lookups: pd.DataFrame, masker: Masker) -> pd.Series:
    subjects = dataset.subjects
    subjects = subjects[isin(subjects["lookup_id"], lookups["lookup_id"])]
    if subjects.empty:
        return pd.Series(pd.NA, index=lookups.index, dtype="string")
    distinct = subjects[["lookup_id", "entity", "value"]].drop_duplicates()
    shown = (
        distinct["entity"].astype("string")
        + ":"
        + masker.show_series(distinct["entity"], distinct["value"])
    )
    joined = group_join(distinct["lookup_id"], shown)
    return lookups["lookup_id"].map(joined).astype("string")


def lookup_table(
    dataset: Any, assessment: AssessmentLike, *, masker: Masker, lang: str = "zh-TW"
) -> pd.DataFrame:
    """Return the per-count table: one numbered row per assessed lookup.

    Parameters
    ----------
    dataset
        The :class:`kit.dataset.Dataset` the assessment was made on.
    assessment
        The assessment whose lookups are listed (already restricted to the
        officer, subject or period asked for).
    masker
        Masks subjects, conditions, counterparts and reasons.
    lang
        ``zh-TW`` headers (default) or canonical English names (``en``).

    Returns
    -------
    pandas.DataFrame
        :data:`LOOKUP_TABLE_COLUMNS`, numbered 1..n in time order: duty at
        that time (``值勤:巡邏``, ``非值勤:休假``, or no roster), register status
        (``外出 巡邏``, ``在所``), the communications within 30 minutes after,
        the messages that carried a looked-up identifier, and the source row.

    """
    register_dataset(masker, dataset)
    lookups = _assessed(dataset, assessment)
    contact, _ = _contacts_after(dataset, lookups, masker)
    table = pd.DataFrame(
        {
            "number": np.arange(1, len(lookups) + 1, dtype=np.int64),
            "time": local_text(lookups["time"]),
            "user": text(lookups["user"]),
            "actual_user": text(lookups["actual_user"]),
            "unit": text(lookups["unit"]),
            "actual_unit": text(lookups["actual_unit"]),
            "ip": text(lookups["ip"]),
            "device": text(lookups["device"]),
            "system": text(lookups["system"]),
            "operation": text(lookups["operation"]),
            "subjects": _masked_subject_column(dataset, lookups, masker),
            "conditions": masker.text_series(lookups["conditions"]),
            "purpose": masker.text_series(lookups["purpose"]),
            "duty": _duty(dataset, lookups),
            "register": _register(dataset, lookups),
            "explanations": text(lookups["explanations"]),
            "flags": text(lookups["flags"]),
            "severity": text(lookups["severity"]),
            "score": lookups["score"].astype("float64"),
            "suspicious": lookups["suspicious"].astype(bool),
            "not_checked": text(lookups["not_checked"]),
            "contact_after": contact,
            "identifiers_sent": _sent(assessment, lookups, masker),
            "source_file": text(lookups["source_file"]),
            "source_line": text(lookups["source_line"]),
            "lookup_id": text(lookups["lookup_id"]),
        }
    )
    return localise(table, lang)


def subject_summary(
    dataset: Any, assessment: AssessmentLike, *, masker: Masker, lang: str = "zh-TW"
) -> pd.DataFrame:
    """Return one row per subject of the assessed lookups: who looked it up, when, flags.

    Columns: ``subject`` (masked), ``entity``, ``lookups``, ``first``,
    ``last``, ``officers`` (queriers), ``suspicious_lookups``, ``flags``
    (every code raised on its lookups); ordered by first lookup.
    """
    register_dataset(masker, dataset)
    lookups = _assessed(dataset, assessment)
    subjects = dataset.subjects[["lookup_id", "entity", "value"]].drop_duplicates()
    rows = subjects.merge(
        lookups[["lookup_id", "time", "querier", "flags", "suspicious"]], on="lookup_id"
    )
    if rows.empty:
        empty = pd.DataFrame(columns=list(SUMMARY_COLUMNS))
        return localise(empty, lang)
    rows = rows.sort_values(["time", "lookup_id"], kind="stable")
    grouped = rows.groupby(["entity", "value"], sort=False)
    summary = grouped.agg(
        lookups=("lookup_id", "nunique"),
        first=("time", "min"),
        last=("time", "max"),
        suspicious_lookups=("suspicious", "sum"),
    )
    pairs = rows[["entity", "value", "querier"]].drop_duplicates().sort_values("querier")
    officers = group_join(
        pd.Series(list(zip(pairs["entity"], pairs["value"], strict=True))), pairs["querier"]
    )
    codes = split_codes(rows["flags"].reset_index(drop=True))
    flagged = rows.reset_index(drop=True).iloc[codes["position"].to_numpy()]
    flag_rows = pd.DataFrame(
        {
            "entity": flagged["entity"].to_numpy(),
            "value": flagged["value"].to_numpy(),
            "code": codes["code"].to_numpy(),
        }
    )
    flag_rows = flag_rows.drop_duplicates().sort_values("code", kind="stable")
    flag_sets = group_join(
        pd.Series(list(zip(flag_rows["entity"], flag_rows["value"], strict=True))),
        flag_rows["code"],
    )
    summary = summary.reset_index()
    keys = pd.MultiIndex.from_frame(summary[["entity", "value"]])

    def by_subject(joined: pd.Series) -> pd.Series:
        if joined.empty:
            return pd.Series(pd.NA, index=summary.index, dtype="string")
        return pd.Series(joined.reindex(keys).to_numpy(), index=summary.index, dtype="string")

    table = pd.DataFrame(
        {
            "subject": masker.show_series(summary["entity"], summary["value"]),
            "entity": text(summary["entity"]),
            "lookups": summary["lookups"].astype(np.int64),
            "first": local_text(summary["first"]),
            "last": local_text(summary["last"]),
            "officers": by_subject(officers),
            "suspicious_lookups": summary["suspicious_lookups"].astype(np.int64),
            "flags": by_subject(flag_sets),
        }
    ).sort_values(["first", "subject"], kind="stable")
    return localise(table.reset_index(drop=True), lang)


def communications_table(
    dataset: Any, assessment: AssessmentLike, *, masker: Masker, lang: str = "zh-TW"
) -> pd.DataFrame:
    """Return the communications that followed lookups, and the flagged ones.

    A communication of a querier of the assessed lookups is listed when it
    came at most 30 minutes after one of his lookups; every communication the
    assessment flagged is listed too. Columns: ``time``, ``officer_id``, ``own_phone``,
    ``counterpart``, ``counterpart_name`` (all masked), ``direction``,
    ``type``, ``content`` (masked), ``flags``, ``severity``, ``rests_on``,
    ``preceding_lookup`` and ``minutes_after`` (the last lookup before it),
    ``source_file``, ``source_line``.
    """
    register_dataset(masker, dataset)
    lookups = _assessed(dataset, assessment)
    flagged = assessment.communications
    officers = set(lookups["querier"].dropna().astype(str))
    if not flagged.empty:
        officers |= set(flagged["officer_id"].dropna().astype(str))
    comms = dataset.communications
    mine = comms[comms["officer_id"].astype(str).isin(officers)]
    if mine.empty:
        empty = pd.DataFrame({c: pd.Series([], dtype="string") for c in COMMUNICATION_COLUMNS})
        return localise(empty, lang)
    mine = mine.assign(_time=as_time(mine["time"])).sort_values("_time", kind="stable")
    keys = mine["source_file"].astype(str) + "\x1f" + mine["source_line"].astype(str)
    if not flagged.empty:
        fkeys = flagged["source_file"].astype(str) + "\x1f" + flagged["source_line"].astype(str)
        found = flagged.assign(_key=fkeys.to_numpy()).drop_duplicates("_key").set_index("_key")
    else:
        found = pd.DataFrame(columns=["flags", "severity", "rests_on"])
    left = pd.DataFrame(
        {
            "querier": mine["officer_id"].astype(str).array,
            "_time": mine["_time"].array,
            "_row": np.arange(len(mine)),
        }
    )
    right = pd.DataFrame(
        {
            "querier": lookups["querier"].astype(str).array,
            "_lookup_time": lookups["time"].array,
            "preceding_lookup": lookups["lookup_id"].astype(str).to_numpy(),
        }
    ).sort_values("_lookup_time", kind="stable")
    joined = pd.merge_asof(
        left.sort_values("_time", kind="stable"),
        right,
        left_on="_time",
        right_on="_lookup_time",
        by="querier",
        direction="backward",
    ).sort_values("_row")
    gap = (joined["_time"] - joined["_lookup_time"]).to_numpy()
    near = pd.Series(gap <= CONTACT_WINDOW.to_timedelta64(), index=mine.index).fillna(False)
    is_flagged = keys.isin(set(found.index))
    keep = (near.astype(bool) | is_flagged).to_numpy()
    rows = mine[keep]
    joined = joined[keep]
    matched = found.reindex(keys[keep].to_numpy())
    minutes = (gap[keep] / np.timedelta64(1, "m")).astype("float64")
    own = masker.show_series(rows["own_phone_entity"], rows["own_phone"])
    table = pd.DataFrame(
        {
            "time": local_text(rows["_time"]),
            "officer_id": text(rows["officer_id"]),
            "own_phone": own,
            "counterpart": masker.show_series(rows["counterpart_entity"], rows["counterpart"]),
            "counterpart_name": masker.show_series(
                pd.Series("name", index=rows.index), rows["counterpart_name"]
            ),
            "direction": text(rows["direction"]),
            "type": text(rows["type"]),
            "content": masker.text_series(rows["content"]),
            "flags": pd.Series(matched["flags"].to_numpy(), index=rows.index, dtype="string"),
            "severity": pd.Series(
                matched["severity"].to_numpy(), index=rows.index, dtype="string"
            ).fillna("none"),
            "rests_on": pd.Series(matched["rests_on"].to_numpy(), index=rows.index, dtype="string"),
            "preceding_lookup": pd.Series(
                joined["preceding_lookup"].to_numpy(), index=rows.index, dtype="string"
            ),
            "minutes_after": np.round(minutes, 1),
            "source_file": text(rows["source_file"]),
            "source_line": text(rows["source_line"]),
        }
    )
    return localise(table.reset_index(drop=True), lang)


def evidence_table(
    assessment: AssessmentLike, *, masker: Masker, lang: str = "zh-TW"
) -> pd.DataFrame:
    """Return the assessment's evidence rows (lookup, code, kind, rests_on) with reasons masked."""
    evidence = assessment.evidence
    table = pd.DataFrame(
        {
            "lookup_id": text(evidence["lookup_id"]),
            "code": text(evidence["code"]),
            "kind": text(evidence["kind"]),
            "rests_on": text(evidence["rests_on"]),
            "reason": masker.text_series(evidence["reason"], keep_dates=True),
        }
    )
    return localise(table.reset_index(drop=True), lang)
