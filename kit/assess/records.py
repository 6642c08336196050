"""The records the rules compare lookups with, prepared once per context.

Each function returns plain frames with int64 times (UTC microseconds),
``rec`` positions into the source kind, ``ref`` evidence references
(``kind:source_file:source_line``) and resolved subject ``key`` columns, and
caches them in the context.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kit.assess.context import (
    NAT,
    Context,
    _arrow_text,
    date_days,
    local_day,
    normal_case_no,
    refs,
    text,
    to_us,
)

__all__ = ["cases", "comms", "on_duty", "register", "roster", "tickets", "worklog"]


def _cached(ctx: Context, name: str) -> Any:
    return ctx.cache.get("records:" + name)


def cases(ctx: Context) -> dict[str, Any]:
    """Cases with their window, handling officers and parties.

    Returns
    -------
    dict
        ``cases`` (rec, case_no, case_norm, opened, closed, ref), ``officers``
        (rec, officer), ``parties`` (rec, entity, value, key) and ``covered``
        (boolean over lookups, DOMAIN.md coverage).

    """
    if (hit := _cached(ctx, "cases")) is not None:
        return dict(hit)
    frame = ctx.data.cases.reset_index(drop=True)
    prep = ctx.prepared("records:cases", lambda: _prepare_cases(frame))
    table = prep["cases"].copy()
    officers = prep["officers"].copy()
    officers["q"] = ctx.officer_codes(officers["officer"], "cases:officer")
    parties = ctx.identifiers_of("cases", "parties", frame)
    covered = ctx.unit_span_coverage("cases", prep["who"], prep["days"])
    out = {"cases": table, "officers": officers, "parties": parties, "covered": covered}
    ctx.cache["records:cases"] = out
    return dict(out)


def _prepare_cases(frame: pd.DataFrame) -> dict[str, Any]:
    """Cases, their handling officers and the days their coverage spans (no lookup needed)."""
    table = pd.DataFrame(
        {
            "rec": np.arange(len(frame), dtype=np.int64),
            "case_no": text(frame["case_no"]),
            "case_norm": normal_case_no(frame["case_no"]),
            "opened": to_us(frame["opened"]),
            "closed": to_us(frame["closed"]),
            "ref": refs("cases", frame),
        }
    )
    officers = frame[["officers"]].assign(rec=table["rec"]).explode("officers")
    officers = pd.DataFrame(
        {"rec": officers["rec"].to_numpy(dtype=np.int64), "officer": text(officers["officers"])}
    )
    officers = officers[officers["officer"] != ""].drop_duplicates().reset_index(drop=True)
    opened = table["opened"].to_numpy()[officers["rec"].to_numpy()]
    closed = table["closed"].to_numpy()[officers["rec"].to_numpy()]
    last = np.where(closed == NAT, opened, np.maximum(opened, closed))
    days = np.concatenate([local_day(opened), local_day(last)]).astype(float)
    who = pd.concat([officers["officer"], officers["officer"]], ignore_index=True)
    return {"cases": table, "officers": officers, "who": who, "days": days}


def tickets(ctx: Context) -> dict[str, Any]:
    """Tickets with their officer, time and subject keys (plate and person).

    Returns
    -------
    dict
        ``keys`` (rec, officer, t, key, ref) and ``covered`` (over lookups).

    """
    if (hit := _cached(ctx, "tickets")) is not None:
        return dict(hit)
    frame = ctx.data.tickets.reset_index(drop=True)
    prep = ctx.prepared("records:tickets", lambda: _prepare_tickets(ctx, frame))
    keys = pd.concat(
        [
            ctx.field_keys(frame, "plate", "tickets"),
            ctx.field_keys(frame, "person_id", "tickets"),
        ],
        ignore_index=True,
    )
    rec = keys["rec"].to_numpy()
    keys["officer"] = prep["officer"][rec]
    keys["q"] = ctx.officer_codes(keys["officer"], "tickets:officer")
    keys["t"] = prep["t"][rec]
    keys["ref"] = prep["ref"][rec]
    covered = ctx.unit_span_coverage("tickets", prep["officers"], prep["days"])
    out = {"keys": keys, "covered": covered}
    ctx.cache["records:tickets"] = out
    return dict(out)


def _prepare_tickets(ctx: Context, frame: pd.DataFrame) -> dict[str, Any]:
    """Tickets' officer, time, references and days (no lookup needed)."""
    t = to_us(frame["time"])
    officers = text(frame["officer_id"])
    return {
        "officer": officers.to_numpy(),
        "officers": officers,
        "t": t,
        "ref": refs("tickets", frame).to_numpy(),
        "days": local_day(t).astype(float),
    }


def _tokens(content: pd.Series) -> pd.DataFrame:
    """Letter/digit runs of each text, upper case, dashes inside removed, 5+ characters.

    One row per distinct (record, token), the first of each in order; the text
    stays in Arrow, and the pairs are told apart by integer codes.
    """
    upper = pc.utf8_upper(_arrow_text(text(content)))
    joined = upper
    for _ in range(2):  # twice: each pass joins every other dash of a run like A-B-C
        joined = pc.replace_substring_regex(
            joined, pattern=r"([A-Z0-9])-+([A-Z0-9])", replacement=r"\1\2"
        )
    parts = pc.split_pattern_regex(joined, pattern=r"[^A-Z0-9]+")
    flat = pc.list_flatten(parts)
    keep = pc.greater_equal(pc.utf8_length(flat), 5)
    rec = np.asarray(pc.filter(pc.list_parent_indices(parts), keep).to_numpy(), dtype=np.int64)
    token = pc.filter(flat, keep)
    number = np.asarray(pc.dictionary_encode(token).indices.to_numpy(), dtype=np.int64)
    first = ~pd.Series(rec * (int(number.max(initial=0)) + 1) + number).duplicated().to_numpy()
    return pd.DataFrame(
        {
            "rec": rec[first],
            "token": pd.Series(pd.array(token.filter(first).cast(pa.string()), dtype="str")),
        }
    )


def worklog(ctx: Context) -> dict[str, Any]:
    """Work-log entries: identifiers, tokens and case numbers they mention.

    Returns
    -------
    dict
        ``entries`` (rec, officer, t, content, case_norm, ref), ``keys``
        (rec, key), ``tokens`` (rec, token: separator-free letter/digit runs,
        upper case), ``cases`` (rec, case_norm) and ``covered``.

    """
    if (hit := _cached(ctx, "worklog")) is not None:
        return dict(hit)
    frame = ctx.data.worklog.reset_index(drop=True)
    prep = ctx.prepared("records:worklog", lambda: _prepare_worklog(ctx, frame))
    entries = prep["entries"].copy()
    entries["q"] = ctx.officer_codes(entries["officer"], "worklog:officer")
    keys = ctx.identifiers_of("worklog", "content", frame)[["rec", "k"]]
    keys = keys[keys["k"] >= 0]
    tokens = prep["tokens"].copy()
    tokens["v"] = ctx.value_codes(tokens["token"], "worklog:token")
    tokens = tokens[tokens["v"] >= 0]
    case_refs = prep["cases"].copy()
    covered = ctx.unit_span_coverage("worklog", entries["officer"], prep["days"])
    out = {
        "entries": entries,
        "keys": keys,
        "tokens": tokens,
        "cases": case_refs,
        "covered": covered,
    }
    ctx.cache["records:worklog"] = out
    return dict(out)


def _prepare_worklog(ctx: Context, frame: pd.DataFrame) -> dict[str, Any]:
    """Work-log entries, their tokens and case numbers (no lookup needed)."""
    t = to_us(frame["time"])
    content = text(frame["content"])
    entries = pd.DataFrame(
        {
            "rec": np.arange(len(frame), dtype=np.int64),
            "officer": text(frame["officer_id"]),
            "t": t,
            "content": content,
            "ref": refs("worklog", frame),
        }
    )
    tokens = _tokens(content)
    key = ctx.vocab("case_no_key")
    in_text = pd.Series("", index=frame.index, dtype="str")
    mentions = content.str.contains(key, regex=False).to_numpy()
    if mentions.any():
        found = content[mentions].str.extract(key + r"\s*[:=]?\s*([0-9A-Za-z\-]+)", expand=False)
        in_text[mentions] = found.fillna("").to_numpy()
    case_col = text(frame["case_no"]) if "case_no" in frame else pd.Series("", index=frame.index)
    case_refs = pd.DataFrame(
        {
            "rec": np.concatenate([entries["rec"].to_numpy(), entries["rec"].to_numpy()]),
            "case_norm": pd.concat(
                [normal_case_no(case_col), normal_case_no(in_text.fillna(""))], ignore_index=True
            ).to_numpy(),
        }
    )
    case_refs = case_refs[case_refs["case_norm"] != ""].drop_duplicates().reset_index(drop=True)
    days = local_day(t).astype(float)
    return {"entries": entries, "tokens": tokens, "cases": case_refs, "days": days}


def roster(ctx: Context) -> dict[str, Any]:
    """Roster shifts and the unit-days the roster covers.

    Returns
    -------
    dict
        ``shifts`` (officer, start, end, duty, on_duty, day, unit, ref) and
        ``covered`` (over lookups: the roster has a row for the querier's unit
        on the lookup's date).

    """
    if (hit := _cached(ctx, "roster")) is not None:
        return dict(hit)
    frame = ctx.data.duty_roster.reset_index(drop=True)
    prep = ctx.prepared("records:roster", lambda: _prepare_roster(ctx, frame))
    shifts = prep["shifts"].copy()
    shifts["q"] = ctx.officer_codes(shifts["officer"], "roster:officer")
    on = prep["on"].copy()
    on["q"] = shifts["q"].to_numpy()[prep["on_rows"]]
    unit_days = prep["unit_days"]
    lookup_days = pd.MultiIndex.from_arrays([ctx.lookups["q_unit"], ctx.lookups["day"]])
    covered = np.asarray(lookup_days.isin(unit_days))
    out = {"shifts": shifts, "on": on, "covered": covered}
    ctx.cache["records:roster"] = out
    return dict(out)


def on_duty(ctx: Context, duties: list[str]) -> pd.DataFrame:
    """Return the on-duty shifts of the roster whose duty is one of ``duties`` (with ``q``).

    The selection does not depend on the lookups: it is made once for every
    context sharing the records, and only the officer codes are the context's.
    """
    shifts = roster(ctx)["shifts"]
    name = "roster:on:" + "|".join(sorted(duties))

    def select() -> dict[str, Any]:
        prepared = ctx.shared["records:roster"]  # made by roster(ctx) above
        on, rows = prepared["on"], prepared["on_rows"]
        keep = on["duty"].isin(duties).to_numpy()
        return {"on": on[keep].reset_index(drop=True), "rows": rows[keep]}

    chosen = ctx.prepared(name, select)
    out = chosen["on"].copy()
    out["q"] = shifts["q"].to_numpy()[chosen["rows"]]
    return out


def _prepare_roster(ctx: Context, frame: pd.DataFrame) -> dict[str, Any]:
    """Roster shifts and the (unit, day) pairs the roster has rows for (no lookup needed)."""
    officer = text(frame["officer_id"])
    unit = ctx.officer_unit(officer)
    unit = unit.where(unit != "", text(frame["unit"]))
    shifts = pd.DataFrame(
        {
            "officer": officer,
            "start": to_us(frame["start"]),
            "end": to_us(frame["end"]),
            "duty": text(frame["duty"]),
            "on_duty": frame["on_duty"].fillna(False).astype(bool).to_numpy(),
            "day": date_days(frame["date"]),
            "unit": unit,
            "ref": refs("duty_roster", frame),
        }
    )
    unit_days = pd.MultiIndex.from_arrays(
        [shifts["unit"], shifts["day"].fillna(-1).astype("int64")]
    ).unique()
    on_rows = np.flatnonzero(shifts["on_duty"].to_numpy())
    on = shifts.iloc[on_rows].reset_index(drop=True)
    return {"shifts": shifts, "on": on, "on_rows": on_rows, "unit_days": unit_days}


def register(ctx: Context) -> dict[str, Any]:
    """Register intervals (out, back) with the devices signed out.

    Returns
    -------
    dict
        ``intervals`` (officer, start, end, reason, devices, ref),
        ``devices`` (officer, device, start, end, ref: one row per device
        signed out) and ``covered``. An interval without a return time runs to
        the end of the register's data.

    """
    if (hit := _cached(ctx, "register")) is not None:
        return dict(hit)
    frame = ctx.data.register.reset_index(drop=True)
    prep = ctx.prepared("records:register", lambda: _prepare_register(frame))
    intervals = prep["intervals"].copy()
    intervals["q"] = ctx.officer_codes(intervals["officer"], "register:officer")
    device_rows = prep["devices"].copy()
    device_rows.insert(5, "q", intervals["q"].to_numpy()[prep["device_interval"]])
    covered = ctx.unit_span_coverage("register", intervals["officer"], prep["days"])
    out = {"intervals": intervals, "devices": device_rows, "covered": covered}
    ctx.cache["records:register"] = out
    return dict(out)


def _prepare_register(frame: pd.DataFrame) -> dict[str, Any]:
    """Register intervals and devices signed out (no lookup needed)."""
    start = to_us(frame["out_time"])
    end = to_us(frame["in_time"])
    latest = max(int(start.max()) if len(start) else 0, int(end.max()) if len(end) else 0)
    end = np.where(end == NAT, latest + 1, end)
    intervals = pd.DataFrame(
        {
            "officer": text(frame["officer_id"]),
            "start": start,
            "end": end,
            "reason": text(frame["reason"]),
            "ref": refs("register", frame),
        }
    )
    devices = frame[["devices"]].assign(i=np.arange(len(frame))).explode("devices")
    devices = devices[devices["devices"].notna()]
    i = devices["i"].to_numpy(dtype=np.int64)
    device_rows = pd.DataFrame(
        {
            "officer": intervals["officer"].to_numpy()[i],
            "device": text(devices["devices"]).str.upper().to_numpy(),
            "start": start[i],
            "end": end[i],
            "ref": intervals["ref"].to_numpy()[i],
            "_i": i,
        }
    )
    device_rows = device_rows[device_rows["device"] != ""].reset_index(drop=True)
    interval = device_rows.pop("_i").to_numpy(dtype=np.int64)
    days = local_day(start).astype(float)
    return {
        "intervals": intervals,
        "devices": device_rows,
        "device_interval": interval,
        "days": days,
    }


def _message_tokens(content: list[str]) -> list[list[str]]:
    from kit.identifiers import alnum_runs, digit_runs, extract

    out: list[list[str]] = []
    for message in content:
        found = {f.value for f in extract(message)}
        found.update(digit_runs(message))
        found.update(alnum_runs(message))
        out.append(sorted(v for v in found if len(v) >= 5))
    return out


def _prepare_comms(ctx: Context, frame: pd.DataFrame) -> dict[str, Any]:
    """Messages with counterpart key and outside flag, their tokens, per-officer spans."""
    frame = ctx.data.communications.reset_index(drop=True)
    t = to_us(frame["time"])
    day = local_day(t)
    counterpart = pd.DataFrame(
        {"entity": text(frame["counterpart_entity"]), "value": text(frame["counterpart"])}
    )
    messages = pd.DataFrame(
        {
            "rec": np.arange(len(frame), dtype=np.int64),
            "officer": text(frame["officer_id"]),
            "t": t,
            "day": day,
            "outgoing": (text(frame["direction"]).str.strip() == ctx.vocab("outgoing")).to_numpy(),
            "key": ctx.keymap.keys(counterpart["entity"], counterpart["value"]),
            "ref": refs("communications", frame),
        }
    )
    phones = ctx.cache["officer_phones"]
    officers = ctx.officers.drop_duplicates("officer_id")
    service = pd.DataFrame(
        {
            "officer_id": text(officers["officer_id"]),
            "from_day": date_days(officers["start_date"]),
            "to_day": date_days(officers["end_date"]),
        }
    )
    phones = phones.merge(service, on="officer_id", how="left")
    phones["key"] = ctx.keymap.keys(pd.Series("phone", index=phones.index), phones["phone"])
    pairs = messages[["rec", "key", "day"]].merge(phones[["key", "from_day", "to_day"]], on="key")
    in_service = (pairs["from_day"].isna() | (pairs["from_day"] <= pairs["day"])) & (
        pairs["to_day"].isna() | (pairs["day"] <= pairs["to_day"])
    )
    internal = np.zeros(len(messages), dtype=bool)
    internal[pairs.loc[in_service, "rec"].to_numpy(dtype=np.int64)] = True
    messages["outside"] = ~internal
    content = text(frame["content"]).tolist()
    token_lists = _message_tokens(content)  # communications: a few seized phones, small
    lengths = np.fromiter((len(x) for x in token_lists), dtype=np.int64, count=len(token_lists))
    tokens = pd.DataFrame(
        {
            "rec": np.repeat(messages["rec"].to_numpy(), lengths),
            "token": pd.Series([v for x in token_lists for v in x], dtype="str"),
        }
    )
    spans = messages.groupby("officer")["day"].agg(["min", "max"])
    return {"messages": messages, "tokens": tokens, "spans": spans}


def comms(ctx: Context) -> dict[str, Any]:
    """Seized communications: counterpart key, outgoing, outside, tokens of content.

    Returns
    -------
    dict
        ``messages`` (rec, officer, t, day, outgoing, outside, key, ref),
        ``tokens`` (rec, token) and ``covered`` (over lookups: the querier's
        seized phone has communications from on or before the lookup's day to
        on or after it).

    """
    if (hit := _cached(ctx, "comms")) is not None:
        return dict(hit)
    frame = ctx.data.communications.reset_index(drop=True)
    prep = ctx.prepared("records:comms", lambda: _prepare_comms(ctx, frame))
    messages = prep["messages"].copy()
    messages["q"] = ctx.officer_codes(messages["officer"], "comms:officer")
    messages["k"] = ctx.key_codes(messages["key"], "comms:key")
    tokens = prep["tokens"].copy()
    tokens["v"] = ctx.value_codes(tokens["token"], "comms:token")
    # each querier's span of seized communications, by querier code (mapping the lookups'
    # officer IDs as text took 7 s of an 11 M screening)
    spans = prep["spans"]
    at = ctx.officer_codes(pd.Series(spans.index, dtype="str"))
    width = len(ctx.cache["officer_index"])
    lo_q, hi_q = np.full(width + 1, np.nan), np.full(width + 1, np.nan)  # the last: no span
    lo_q[at[at >= 0]] = spans["min"].to_numpy(dtype=float)[at >= 0]
    hi_q[at[at >= 0]] = spans["max"].to_numpy(dtype=float)[at >= 0]
    q = ctx.lookups["q"].to_numpy()
    q = np.where(q >= 0, q, width)
    lo, hi = lo_q[q], hi_q[q]
    lday = ctx.lookups["day"].to_numpy()
    covered = (lo <= lday) & (lday <= hi)
    out = {"messages": messages, "tokens": tokens, "covered": covered}
    ctx.cache["records:comms"] = out
    return dict(out)
