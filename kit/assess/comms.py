"""Communication-based flags (DOMAIN.md): on lookups and on communications.

Only outgoing communications (方向 發) raise flags. "Outside the police" is a
counterpart that is not a phone of an officer in service at that time (a
separated officer's phone is outside; a LINE ID is outside unless
``identities`` ties it to an officer's phone). Message text is searched for
looked-up values in any written form (:func:`kit.identifiers.extract`,
``digit_runs`` and ``alnum_runs``).

The lookup flags also record which communication each rests on, in
``ctx.cache["comm_links"]`` (``rec``, ``code``, ``row``), so the engine can
report the communications tied to flagged lookups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kit.assess import records
from kit.assess.context import DAY, MINUTE, Context, refs, text, to_us
from kit.assess.explain import _hits
from kit.assess.fmt import stamp
from kit.assess.registry import RuleKind, RuleResult, Severity, empty_hits, flag

__all__ = ["contact_after", "contacted_subject", "identifier_sent", "tipoff", "watchlist_contact"]


def _link(ctx: Context, code: str, rec: np.ndarray, row: np.ndarray) -> None:
    links = ctx.cache.setdefault("comm_links", [])
    links.append(pd.DataFrame({"rec": rec, "code": code, "row": row}))


def _applies(ctx: Context, rec: dict) -> np.ndarray:
    """Lookups that no seized phone of the querier covers (DOMAIN.md coverage)."""
    return np.asarray(~rec["covered"])


@flag(
    "CONTACT_AFTER",
    Severity.MEDIUM,
    rule="the querier's phone contacts someone outside the police within 30 minutes after "
    "the lookup",
    source="cases 2, 3, 4, 5",
    needs=("communications",),
)
def contact_after(ctx: Context, *, minutes: float = 30) -> RuleResult:
    """Flag lookups followed within ``minutes`` by an outgoing contact outside the police."""
    rec = records.comms(ctx)
    msgs = rec["messages"]
    out = msgs[msgs["outgoing"] & msgs["outside"] & (msgs["q"] >= 0)][["rec", "q", "t", "ref"]]
    # only the lookups of officers with such a contact can be followed by one (a few
    # officers' phones are seized): the others are left out before the join
    look = ctx.lookups[["row", "q", "t"]]
    look = look[np.isin(look["q"].to_numpy(), out["q"].unique())].sort_values("t", kind="stable")
    if out.empty or look.empty:
        return RuleResult(empty_hits(), _applies(ctx, rec))
    joined = pd.merge_asof(
        look,
        out.sort_values("t", kind="stable").rename(columns={"t": "t_msg"}),
        left_on="t",
        right_on="t_msg",
        by="q",
        direction="forward",
        tolerance=int(minutes * MINUTE),
    )
    got = joined[joined["rec"].notna()]
    rows = got["row"].to_numpy()
    msg_rec = got["rec"].to_numpy(dtype=np.int64)
    _link(ctx, "CONTACT_AFTER", msg_rec, rows)
    gap = ((got["t_msg"].to_numpy() - got["t"].to_numpy()) // MINUTE).astype(int).astype(str)
    reason = "outgoing contact outside the police " + gap.astype(object) + " min after the lookup"
    return RuleResult(_hits(rows, got["ref"], pd.Series(reason)), _applies(ctx, rec))


@flag(
    "IDENTIFIER_SENT",
    Severity.CRITICAL,
    rule="an outgoing communication of the querier, to someone outside the police, contains a "
    "value that the querier looked up in the 30 days before it",
    source="cases 2, 3, 4",
    needs=("communications",),
)
def identifier_sent(ctx: Context, *, days: float = 30) -> RuleResult:
    """Flag lookups whose looked-up value the querier then sent outside the police."""
    rec = records.comms(ctx)
    msgs = rec["messages"]
    out = msgs[msgs["outgoing"] & msgs["outside"]][["rec", "q", "t", "ref"]]
    tokens = rec["tokens"]
    tokens = tokens[tokens["v"] >= 0].merge(out[out["q"] >= 0], on="rec")
    sub = ctx.subjects[["row", "q", "v", "value", "t"]]
    pairs = sub.merge(tokens, on=["q", "v"], suffixes=("", "_msg"))
    delta = pairs["t_msg"].to_numpy() - pairs["t"].to_numpy()
    got = pairs[(delta >= 0) & (delta <= int(days * DAY))].drop_duplicates(["row", "rec"])
    _link(ctx, "IDENTIFIER_SENT", got["rec"].to_numpy(), got["row"].to_numpy())
    reason = (
        got["value"] + " sent outside the police at " + stamp(got["t_msg"].to_numpy()).to_numpy()
    )
    return RuleResult(_hits(got["row"].to_numpy(), got["ref"], reason), _applies(ctx, rec))


@flag(
    "CONTACTED_SUBJECT",
    Severity.HIGH,
    rule="within 30 days after the lookup, the querier contacts a phone or LINE ID that is the "
    "subject or resolves to the subject",
    source="case 3",
    needs=("communications",),
)
def contacted_subject(ctx: Context, *, days: float = 30) -> RuleResult:
    """Flag lookups of a subject the querier then contacted."""
    rec = records.comms(ctx)
    msgs = rec["messages"]
    out = msgs[msgs["outgoing"] & (msgs["q"] >= 0) & (msgs["k"] >= 0)][
        ["rec", "q", "t", "k", "ref"]
    ]
    sub = ctx.subjects[["row", "q", "k", "t"]]
    pairs = sub.merge(out, on=["q", "k"], suffixes=("", "_msg"))
    delta = pairs["t_msg"].to_numpy() - pairs["t"].to_numpy()
    got = pairs[(delta >= 0) & (delta <= int(days * DAY))].drop_duplicates(["row", "rec"])
    _link(ctx, "CONTACTED_SUBJECT", got["rec"].to_numpy(), got["row"].to_numpy())
    reason = "querier contacted the subject at " + stamp(got["t_msg"].to_numpy()).to_numpy()
    return RuleResult(
        _hits(got["row"].to_numpy(), got["ref"], pd.Series(reason)), _applies(ctx, rec)
    )


@flag(
    "TIPOFF",
    Severity.CRITICAL,
    rule="an officer who knows an operation contacts one of its targets (or an identifier "
    "resolving to one) between its planning and its execution",
    source="cases 1, 8",
    needs=("operations", "communications"),
    on=RuleKind.COMMUNICATION,
)
def tipoff(ctx: Context) -> RuleResult:
    """Flag outgoing contacts with an operation's target by an officer who knew of it."""
    rec = records.comms(ctx)
    msgs = rec["messages"]
    ops = ctx.data.operations.reset_index(drop=True)
    if ops.empty or msgs.empty:
        return RuleResult(empty_hits())
    targets = ctx.identifiers_of("operations", "targets", ops)[["rec", "key"]]
    knew = ops[["officers"]].assign(op=np.arange(len(ops))).explode("officers")
    knew = pd.DataFrame({"op": knew["op"].to_numpy(), "officer": text(knew["officers"]).to_numpy()})
    planned = to_us(ops["planned"])
    executed = to_us(ops["executed"])
    out = msgs[msgs["outgoing"]][["rec", "officer", "t", "key"]]
    pairs = out.merge(knew, on="officer").merge(
        targets.rename(columns={"rec": "op"}), on=["op", "key"]
    )
    op = pairs["op"].to_numpy()
    t = pairs["t"].to_numpy()
    got = pairs[(t >= planned[op]) & (t <= executed[op])].drop_duplicates(["rec", "op"])
    op_ref = refs("operations", ops).to_numpy()[got["op"].to_numpy()]
    name = text(ops["operation_no"]).to_numpy()[got["op"].to_numpy()]
    reason = (
        "contact with a target of operation "
        + name
        + " (executed "
        + stamp(executed[got["op"].to_numpy()]).to_numpy()
        + ") by an officer who knew of it"
    )
    return RuleResult(_hits(got["rec"].to_numpy(), pd.Series(op_ref), pd.Series(reason)))


@flag(
    "WATCHLIST_CONTACT",
    Severity.HIGH,
    rule="an officer contacts, at any time, a watch-listed counterpart (or one resolving to a "
    "watch-listed person)",
    source="cases 1, 4, 5",
    needs=("watchlist", "communications"),
    on=RuleKind.COMMUNICATION,
)
def watchlist_contact(ctx: Context) -> RuleResult:
    """Flag outgoing contacts with watch-listed counterparts."""
    rec = records.comms(ctx)
    msgs = rec["messages"]
    listed = ctx.data.watchlist.reset_index(drop=True)
    keys = ctx.field_keys(listed, "identifier")
    keys["ref"] = refs("watchlist", listed).to_numpy()[keys["rec"].to_numpy()]
    keys["category"] = text(listed["category"]).to_numpy()[keys["rec"].to_numpy()]
    out = msgs[msgs["outgoing"]][["rec", "key"]]
    got = out.merge(keys[["key", "ref", "category"]], on="key").drop_duplicates(["rec", "ref"])
    reason = "contact with a watch-listed counterpart (" + got["category"] + ")"
    return RuleResult(_hits(got["rec"].to_numpy(), got["ref"], reason))
