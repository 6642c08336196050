"""Flags about what was looked up and why (DOMAIN.md "Flags on lookups")."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kit.assess import records
from kit.assess.context import HOUR, OFFSET, Context, map_text, refs, text
from kit.assess.explain import _hits
from kit.assess.fmt import clock
from kit.assess.registry import RuleResult, Severity, empty_hits, flag
from kit.frames import isin

__all__ = [
    "case_no_mismatch",
    "false_purpose_ticket",
    "odd_hours",
    "photo_lookup",
    "police_vehicle",
    "self_or_related",
    "watchlist",
]


def subject_values(ctx: Context, rows: np.ndarray) -> pd.Series:
    """Return each row's subject values, ``,``-separated (for reasons)."""
    sub = ctx.subjects[ctx.subjects["row"].isin(rows)]
    joined = sub.groupby("row")["value"].agg(",".join)
    return map_text(joined, pd.Series(rows), "(no identifier)")


@flag(
    "FALSE_PURPOSE_TICKET",
    Severity.HIGH,
    rule="purpose 舉發交通違規 with no ticket by the querier for the subject within 24 hours",
    source="case 6",
    needs=("tickets",),
)
def false_purpose_ticket(ctx: Context, *, hours: float = 24) -> RuleResult:
    """Flag traffic-ticket purposes with no ticket by the querier for the subject."""
    rec = records.tickets(ctx)
    purpose = text(ctx.cache["log"]["purpose"]).str.strip()
    applies = purpose.str.startswith(ctx.config.purposes["traffic_ticket"]).to_numpy()
    pairs = ctx.subjects.loc[applies[ctx.subjects["row"].to_numpy()], ["row", "k", "q", "t"]]
    keys = rec["keys"]
    keys = keys.loc[(keys["q"] >= 0) & (keys["k"] >= 0), ["q", "k", "t"]]
    pairs = pairs.merge(keys, on=["q", "k"], suffixes=("", "_tk"))
    near = np.abs(pairs["t"].to_numpy() - pairs["t_tk"].to_numpy()) <= int(hours * HOUR)
    ticketed = np.zeros(ctx.n, dtype=bool)
    ticketed[pairs.loc[near, "row"].to_numpy()] = True
    covered = rec["covered"]
    hit = applies & covered & ~ticketed
    rows = np.flatnonzero(hit)
    reason = (
        "no ticket by "
        + ctx.querier_ids(rows)
        + " for "
        + subject_values(ctx, rows).to_numpy()
        + f" within {hours:g} h"
    )
    return RuleResult(_hits(rows, ctx.lookup_refs(rows), pd.Series(reason)), applies & ~covered)


@flag(
    "CASE_NO_MISMATCH",
    Severity.HIGH,
    rule="the case number given does not exist in the (covering) cases, or the case does not "
    "have the subject as a party",
    source="case 4",
    needs=("cases",),
)
def case_no_mismatch(ctx: Context) -> RuleResult:
    """Flag case numbers that are unknown or whose case lacks the subject."""
    rec = records.cases(ctx)
    cases = rec["cases"]
    case_ref = ctx.lookups["case_ref"]
    applies = (case_ref != "").to_numpy()
    first = cases.drop_duplicates("case_norm").set_index("case_norm")
    exists = isin(case_ref, first.index).to_numpy()
    parties = rec["parties"].merge(cases[["rec", "case_norm"]], on="rec")
    with_ref = applies[ctx.subjects["row"].to_numpy()]
    sub = ctx.subjects.loc[with_ref, ["row", "k"]]
    sub = sub.assign(case_norm=case_ref.to_numpy()[sub["row"].to_numpy()])
    matched = sub.merge(parties.loc[parties["k"] >= 0, ["case_norm", "k"]], on=["case_norm", "k"])
    party = np.zeros(ctx.n, dtype=bool)
    party[matched["row"].to_numpy()] = True
    has_subject = np.zeros(ctx.n, dtype=bool)
    has_subject[ctx.subjects["row"].to_numpy()] = True
    covered = rec["covered"]
    hit = applies & covered & (~exists | (has_subject & ~party))
    rows = np.flatnonzero(hit)
    ref_case = case_ref.iloc[rows]
    gone = ~exists[rows]
    reason = np.where(
        gone,
        "case number " + ref_case.to_numpy() + " is not among the cases",
        "case " + ref_case.to_numpy() + " does not have the subject as a party",
    )
    case_refs = ref_case.map(first["ref"]).fillna("").to_numpy()
    rests = np.where(gone, ctx.lookup_refs(rows).to_numpy(), case_refs)
    return RuleResult(_hits(rows, pd.Series(rests), pd.Series(reason)), applies & ~covered)


def _person_keys(ctx: Context) -> pd.DataFrame:
    """Officer → subject keys of the officer and of the officer's relations."""
    officers = ctx.officers.reset_index(drop=True)
    own = ctx.field_keys(officers, "person_id")
    own["officer"] = text(officers["officer_id"]).to_numpy()[own["rec"].to_numpy()]
    own["ref"] = refs("officers", officers).to_numpy()[own["rec"].to_numpy()]
    own["who"] = "the officer"
    phones = ctx.cache["officer_phones"]
    by_phone = pd.DataFrame(
        {
            "officer": phones["officer_id"],
            "key": ctx.keymap.keys(pd.Series("phone", index=phones.index), phones["phone"]),
            "who": "the officer",
        }
    )
    by_phone["ref"] = map_text(
        pd.Series(refs("officers", officers).to_numpy(), index=text(officers["officer_id"])),
        by_phone["officer"],
    )
    relations = ctx.data.relations.reset_index(drop=True)
    rel = ctx.field_keys(relations, "identifier")
    rel["officer"] = text(relations["officer_id"]).to_numpy()[rel["rec"].to_numpy()]
    rel["ref"] = refs("relations", relations).to_numpy()[rel["rec"].to_numpy()]
    rel["who"] = (
        "a relation (" + text(relations["relation"]).to_numpy()[rel["rec"].to_numpy()] + ")"
    )
    cols = ["officer", "key", "who", "ref"]
    people = pd.concat([own[cols], by_phone[cols], rel[cols]], ignore_index=True).dropna()
    people["k"] = ctx.key_codes(people["key"])
    people["q"] = ctx.officer_codes(people["officer"])
    return people[(people["k"] >= 0) & (people["q"] >= 0)].reset_index(drop=True)


@flag(
    "SELF_OR_RELATED",
    Severity.HIGH,
    rule="the subject is the querier or the account's officer, or resolves to a relation of "
    "either (any relation type)",
    source="case 6, 資通安全實施規定 §十五",
    needs=("officers", "relations"),
)
def self_or_related(ctx: Context) -> RuleResult:
    """Flag lookups of the querier, the account's officer, or their relations."""
    people = _person_keys(ctx)
    if people.empty:
        return RuleResult(empty_hits())
    u = ctx.lookups["u"].to_numpy()
    sub = ctx.subjects[["row", "k", "q"]].assign(u=u[ctx.subjects["row"].to_numpy()])
    parts = []
    for side in ("q", "u"):
        got = sub.merge(
            people.rename(columns={"q": "pq"}), left_on=[side, "k"], right_on=["pq", "k"]
        )
        got["reason"] = "subject is " + got["who"] + " of " + got["officer"]
        parts.append(got[["row", "ref", "reason"]])
    both = pd.concat(parts, ignore_index=True).drop_duplicates()
    return RuleResult(_hits(both["row"].to_numpy(), both["ref"], both["reason"]))


def _subject_list_flag(ctx: Context, listed: pd.DataFrame, what: str) -> RuleResult:
    got = ctx.subjects[["row", "k", "value"]].merge(listed[listed["k"] >= 0], on="k")
    reason = got["value"] + " is " + what
    return RuleResult(_hits(got["row"].to_numpy(), got["ref"], reason))


@flag(
    "POLICE_VEHICLE",
    Severity.HIGH,
    rule="lookup of an unmarked police vehicle (偵防車)",
    source="case 5",
    needs=("police_vehicles",),
)
def police_vehicle(ctx: Context) -> RuleResult:
    """Flag lookups of unmarked police vehicles."""
    vehicles = ctx.data.police_vehicles.reset_index(drop=True)
    plates = ctx.field_keys(vehicles, "plate")
    unmarked = (text(vehicles["category"]).str.strip() == ctx.vocab("unmarked_vehicle")).to_numpy()
    plates = plates[unmarked[plates["rec"].to_numpy()]]
    plates["ref"] = refs("police_vehicles", vehicles).to_numpy()[plates["rec"].to_numpy()]
    result = _subject_list_flag(ctx, plates[["k", "ref"]], "an unmarked police vehicle")
    is_plate = ctx.subjects.loc[ctx.subjects["entity"] == "plate", "row"].to_numpy()
    unchecked = np.zeros(ctx.n, dtype=bool)
    if vehicles.empty:
        unchecked[is_plate] = True
    return RuleResult(result.hits, unchecked)


@flag(
    "WATCHLIST",
    Severity.MEDIUM,
    rule="the subject is on the high-risk list",
    source="cases 1, 4, 5",
    needs=("watchlist",),
)
def watchlist(ctx: Context) -> RuleResult:
    """Flag lookups of watch-listed subjects (or identifiers resolving to them)."""
    listed = ctx.data.watchlist.reset_index(drop=True)
    keys = ctx.field_keys(listed, "identifier")
    keys["ref"] = refs("watchlist", listed).to_numpy()[keys["rec"].to_numpy()]
    category = text(listed["category"]).to_numpy()[keys["rec"].to_numpy()]
    keys["what"] = "on the high-risk list (" + category + ")"
    keys = keys[keys["k"] >= 0]
    got = ctx.subjects[["row", "k", "value"]].merge(keys[["k", "ref", "what"]], on="k")
    result = _hits(got["row"].to_numpy(), got["ref"], got["value"] + " is " + got["what"])
    unchecked = np.zeros(ctx.n, dtype=bool)
    if listed.empty:
        unchecked[ctx.subjects["row"].to_numpy()] = True
    return RuleResult(result, unchecked)


@flag(
    "ODD_HOURS",
    Severity.LOW,
    rule="a lookup between 00:00 and 06:00",
    source="§五(二)2",
    needs=("query_log",),
)
def odd_hours(ctx: Context, *, start_hour: float = 0, end_hour: float = 6) -> RuleResult:
    """Flag lookups in the small hours (local time, [start_hour, end_hour))."""
    t = ctx.lookups["t"].to_numpy()
    since_midnight = (t + OFFSET) % (24 * HOUR)
    hit = (since_midnight >= int(start_hour * HOUR)) & (since_midnight < int(end_hour * HOUR))
    rows = np.flatnonzero(hit)
    reason = "lookup at " + clock(t[rows]).to_numpy()
    return RuleResult(_hits(rows, ctx.lookup_refs(rows), pd.Series(reason)))


@flag(
    "PHOTO_LOOKUP",
    Severity.LOW,
    rule="a 相片影像 (ID photo) lookup",
    source="case 3",
    needs=("query_log",),
)
def photo_lookup(ctx: Context) -> RuleResult:
    """Flag ID-photo lookups."""
    operation = text(ctx.cache["log"]["operation"])
    hit = operation.str.contains(ctx.vocab("photo_operation"), regex=False).to_numpy()
    rows = np.flatnonzero(hit)
    reason = "operation " + operation[hit].to_numpy()
    return RuleResult(_hits(rows, ctx.lookup_refs(rows), pd.Series(reason)))
