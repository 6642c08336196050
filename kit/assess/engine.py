"""Run every registered rule over a dataset and assemble the assessment.

The whole dataset (or, from a store, the asked period with margins) is
context; the asked range only selects output rows, so a lookup's result does
not depend on the range asked for (DOMAIN.md "context").

Output decisions:

* ``Assessment.lookups["time"]`` is a tz-aware time (Asia/Taipei);
  :func:`kit.assess.screen` formats it as ISO 8601 with ``+08:00`` on write.
* ``not_checked`` lists flag codes only (explanations that cannot be checked
  simply do not explain); a rule is listed only for lookups it applies to
  (``FALSE_PURPOSE_TICKET`` only for purpose 舉發交通違規, …).
* ``score`` is the sum of the flags' weights (``kit/rules.yaml``), halved
  when the lookup is strongly explained.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

# isort: off
from kit.assess import explain as _explain  # noqa: F401  (registers rules, in this order)
from kit.assess import flags_duty as _flags_duty  # noqa: F401
from kit.assess import flags_subject as _flags_subject  # noqa: F401
from kit.assess import flags_window as _flags_window  # noqa: F401
from kit.assess import comms as _comms  # noqa: F401

# isort: on
from kit.assess.config import Config, load_config
from kit.assess.context import Context, build_context, join_lists, text
from kit.assess.registry import REGISTRY, Rule, RuleKind, RuleResult, Severity, empty_hits
from kit.errors import ConfigError
from kit.frames import single_chunk, take_rows
from kit.schema import KINDS

__all__ = ["LOOKUP_COLUMNS", "Assessment", "assess"]

LOOKUP_COLUMNS: tuple[str, ...] = (
    "lookup_id", "time", "user", "actual_user", "unit", "actual_unit", "ip", "operation",
    "purpose", "conditions", "source_file", "source_line", "subjects", "explanations", "flags",
    "severity", "score", "suspicious", "not_checked",
)  # fmt: skip
"""Columns of :attr:`Assessment.lookups`, the ``kit screen`` columns of OUTPUTS.md."""

EVIDENCE_COLUMNS = ("lookup_id", "code", "kind", "rests_on", "reason")
COMMUNICATION_COLUMNS = (
    "time", "officer_id", "counterpart", "direction", "type", "content", "source_file",
    "source_line", "flags", "severity", "rests_on",
)  # fmt: skip
CHECK_COLUMNS = ("code", "kind", "severity", "checked", "not_checked")
MARGIN = dt.timedelta(days=31)
"""Context read beyond the range from a store: baselines, repeats, messages after."""
WIDE_RULES = ("REPEAT_SUBJECT", "VOLUME_SPIKE")
"""Flags that read lookups up to :data:`MARGIN` away (subjects and day counts only)."""
NEAR_RULES = ("BULK_ACCOUNTS", "PROFILING", "CONCURRENT_IP")
"""Flags that read the lookups within ``minutes`` of a lookup (and their explanations)."""


NARROW_SHARE = 0.75
"""Above this share of the lookups near the range, :func:`_narrow` keeps the whole context."""


class LazyTables(Mapping[str, pd.DataFrame]):
    """Tables by name, built on first use (a report that shows none does not pay for them)."""

    def __init__(self, build: Callable[[], Mapping[str, pd.DataFrame]]) -> None:
        self._build: Callable[[], Mapping[str, pd.DataFrame]] | None = build
        self._tables: Mapping[str, pd.DataFrame] | None = None

    def _built(self) -> Mapping[str, pd.DataFrame]:
        if self._tables is None:
            build, self._build = self._build, None  # the context it holds is let go
            self._tables = build() if build is not None else {}
        return self._tables

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self._built()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._built())

    def __len__(self) -> int:
        return len(self._built())

    def __repr__(self) -> str:
        return f"LazyTables({'built' if self._tables is not None else 'not built yet'})"


@dataclass(frozen=True)
class Assessment:
    """The result of :func:`assess`.

    Attributes
    ----------
    lookups
        One row per lookup in range, :data:`LOOKUP_COLUMNS` in order; ``time``
        is tz-aware (Asia/Taipei), formatted ISO 8601 ``+08:00`` on write.
    evidence
        One row per (lookup, flag or explanation): ``lookup_id``, ``code``,
        ``kind`` (``flag``/``explanation``), ``rests_on``
        (``kind:source_file:source_line`` references, ``;``-separated),
        ``reason`` (one line).
    communications
        Flagged communications (``TIPOFF``, ``WATCHLIST_CONTACT``, and those a
        flagged lookup's ``CONTACT_AFTER``/``IDENTIFIER_SENT``/
        ``CONTACTED_SUBJECT`` rests on).
    indicators
        Indicator tables by name (see :mod:`kit.assess.indicators`), built
        when first read.
    checks
        Per rule: how many lookups in range (communications for message
        rules) were checked and how many could not be for want of records.
    config
        The configuration used.
    record_counts
        Rows of each kind the assessment read as context (kind → count).

    """

    lookups: pd.DataFrame
    evidence: pd.DataFrame
    communications: pd.DataFrame
    indicators: Mapping[str, pd.DataFrame]
    checks: pd.DataFrame
    config: Config
    record_counts: dict[str, int]


def _day_number(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        raw = value.strip().replace("-", "/")
        parts = raw.split("/")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise ConfigError(f"{name} must be YYYY-MM-DD or ROC YYY/MM/DD", column=name)
        year, month, day = (int(p) for p in parts)
        if year < 1000:
            year += 1911
        try:
            value = dt.date(year, month, day)
        except ValueError as exc:
            raise ConfigError(f"{name} is not a valid date", column=name) from exc
    if not isinstance(value, dt.date):
        raise ConfigError(f"{name} must be a date", column=name)
    return (value - dt.date(1970, 1, 1)).days


def _load(source: Any, start: int | None, end: int | None, reuse: Any = None) -> Any:
    if hasattr(source, "query_log") and hasattr(source, "subjects"):
        return source
    from kit.store import load_dataset

    epoch = dt.date(1970, 1, 1)
    lo = epoch + dt.timedelta(days=start) if start is not None else None
    hi = epoch + dt.timedelta(days=end) if end is not None else None
    return load_dataset(source, lo, hi, margin_before=MARGIN, margin_after=MARGIN, reuse=reuse)


def _run(rule: Rule, ctx: Context) -> RuleResult:
    params = ctx.config.thresholds.get(rule.code, {})
    return rule.function(ctx, **params)


def _near_days(cfg: Config) -> int:
    """Days of lookups beyond a range that the rules other than :data:`WIDE_RULES` read.

    A window flag on a lookup reads the lookups within its window on either
    side, and those within the window of those (a burst starting before the
    lookup runs past it), with their explanations: twice the longest window,
    rounded up to whole days, plus one day.
    """
    longest = 0.0
    for code in NEAR_RULES:
        params = {**REGISTRY[code].thresholds, **cfg.thresholds.get(code, {})}
        longest = max(longest, float(params["minutes"]))
    return 1 + int(np.ceil(2 * longest / (24 * 60)))


def _narrow(full: Context, lo: int | None, hi: int | None) -> tuple[Context, np.ndarray | None]:
    """Return the context of the lookups near the days ``lo``..``hi`` and their full positions.

    Every rule but :data:`WIDE_RULES` judges a lookup from itself, the records
    and the lookups within :func:`_near_days`; so the lookups of the margins
    beyond that are assessed by the wide rules only. ``None`` positions: the
    context holds nothing beyond (it is returned as it is).
    """
    day = full.lookups["day"].to_numpy()
    near = _near_days(full.config)
    active = np.ones(full.n, dtype=bool)
    if lo is not None:
        active &= day >= lo - near
    if hi is not None:
        active &= day <= hi + near
    if active.all():
        return full, None
    if active.mean() > NARROW_SHARE:
        # so little lies beyond that copying the rest would cost more than it saves
        return full, None
    rows = np.flatnonzero(active)
    return full.narrowed(rows), rows


def _run_wide(rule: Rule, ctx: Context, full: Context, rows: np.ndarray) -> RuleResult:
    """Run a wide rule over the whole context and return its result on ``ctx``'s rows.

    ``full.strong`` is taken from ``ctx`` (only the explanations of the rows
    of ``ctx`` are computed; a wide rule reads them for the lookups it flags).
    ``full.cache["judged"]`` marks those rows: a wide rule may skip the
    baselines and evidence of the others (their results are not read).
    """
    full.strong = np.zeros(full.n, dtype=bool)
    full.strong[rows] = ctx.strong
    judged = np.zeros(full.n, dtype=bool)
    judged[rows] = True
    full.cache["judged"] = judged
    result = _run(rule, full)
    position = np.full(full.n, -1, dtype=np.int64)
    position[rows] = np.arange(len(rows), dtype=np.int64)
    at = position[result.hits["row"].to_numpy(dtype=np.int64)]
    hits = result.hits[at >= 0].assign(row=at[at >= 0]).reset_index(drop=True)
    unchecked = None
    if result.not_checked is not None:
        unchecked = np.asarray(result.not_checked, dtype=bool)[rows]
    return RuleResult(hits, unchecked)


def _merge_hits(hits: pd.DataFrame) -> pd.DataFrame:
    """One row per (row, code): distinct references joined, first reason kept.

    ``hits["_code"]`` is the rule's position in the registry.

    Rows stay in rule order; the (lookup, code) pairs with several findings
    are joined with Arrow, without a Python loop over groups.
    """
    key = hits["row"].to_numpy(dtype=np.int64) * 64 + hits["_code"].to_numpy(dtype=np.int64)
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    multi = counts[inverse] > 1
    if not multi.any():
        return hits
    at = np.flatnonzero(multi)
    many_key = key[at]
    # the first finding of each (row, code), in the order of the keys
    keys, first = np.unique(many_key, return_index=True)
    firsts = hits.iloc[at[first]].reset_index(drop=True)
    # the distinct references of each, in order of appearance, compared as integer codes
    ref_codes, ref_names = pd.factorize(hits["rests_on"].iloc[at])
    pair = many_key * (len(ref_names) + 1) + np.asarray(ref_codes, dtype=np.int64) + 1
    distinct = np.sort(np.unique(pair, return_index=True)[1])
    distinct = distinct[np.argsort(many_key[distinct], kind="stable")]
    group = np.searchsorted(keys, many_key[distinct])
    joined = join_lists(group, hits["rests_on"].iloc[at[distinct]], len(keys))
    return pd.concat([hits[~multi], firsts.assign(rests_on=joined)], ignore_index=True)


def _codes_text(bits: np.ndarray, codes: list[str]) -> np.ndarray:
    """Turn bit masks into ``;``-joined code lists (computed once per distinct mask)."""
    uniq, inverse = np.unique(bits, return_inverse=True)
    names = np.array(
        [";".join(c for i, c in enumerate(codes) if int(u) >> i & 1) for u in uniq], dtype=object
    )
    return names[inverse]


def _select(
    ctx: Context, start: int | None, end: int | None, officers: Any, units: Any
) -> np.ndarray:
    look = ctx.lookups
    day = look["day"].to_numpy()
    keep = np.ones(ctx.n, dtype=bool)
    if start is not None:
        keep &= day >= start
    if end is not None:
        keep &= day <= end
    log = ctx.cache["log"]
    if officers is not None:
        wanted = [officers] if isinstance(officers, str) else list(officers)
        keep &= (text(log["user"]).isin(wanted) | look["querier"].isin(wanted)).to_numpy()
    if units is not None:
        from kit.assess.units import matching_units

        wanted_units = [units] if isinstance(units, str) else list(units)
        names = pd.concat([text(log["unit"]), text(log["actual_unit"]), look["q_unit"]]).unique()
        match = matching_units(ctx.data.units, [str(u) for u in names], wanted_units)
        keep &= (
            text(log["unit"]).isin(match)
            | text(log["actual_unit"]).isin(match)
            | look["q_unit"].isin(match)
        ).to_numpy()
    return keep


def assess(
    source: Any,
    start: dt.date | dt.datetime | str | None = None,
    end: dt.date | dt.datetime | str | None = None,
    *,
    officers: str | Collection[str] | None = None,
    units: str | Collection[str] | None = None,
    config: str | Path | Mapping[str, Any] | None = None,
) -> Assessment:
    """Explain and flag every lookup in range.

    Parameters
    ----------
    source
        A :class:`kit.dataset.Dataset` (all of it is context) or a store from
        :func:`kit.store.open_store` (loaded for the range with 31-day margins
        on both sides).
    start, end
        Inclusive dates (``date``, ``datetime``, ``YYYY-MM-DD`` or ROC
        ``YYY/MM/DD``); ``None`` for open.
    officers
        Only lookups whose account or querier is one of these officer IDs.
    units
        Only lookups of these units (the account's, the actual querier's or
        the querier's own unit), or of units under them (``units`` table, or
        the name up to 分局/大隊).
    config
        Overrides of ``kit/rules.yaml`` (path or mapping).

    Returns
    -------
    Assessment
        Lookups, evidence, communications, indicators and checks.

    Raises
    ------
    ConfigError
        For a bad configuration or date.

    """
    cfg = load_config(config)
    lo, hi = _day_number(start, "start"), _day_number(end, "end")
    parts = evaluate(_load(source, lo, hi), cfg, lo, hi, officers, units)
    ctx = parts.ctx
    communications = communication_table(ctx.data.communications, parts.communication_rows)
    checks = _checks(ctx, parts.keep, parts.unchecked, parts.comm_hits)
    from kit.assess.indicators import build_indicators

    partial = Assessment(
        parts.lookups, parts.evidence, communications, {}, checks, cfg, parts.record_counts
    )
    indicators = LazyTables(lambda: build_indicators(ctx, partial, parts.rows))
    return Assessment(
        parts.lookups, parts.evidence, communications, indicators, checks, cfg, parts.record_counts
    )


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate` returns: the output rows of one assessed range and its context.

    ``communication_rows`` holds one row per (communication position, code,
    references) before they are grouped per communication
    (:func:`communication_table`), so that ranges screened one after the
    other can be grouped together.
    """

    ctx: Context
    keep: np.ndarray
    rows: np.ndarray
    lookups: pd.DataFrame
    evidence: pd.DataFrame
    communication_rows: pd.DataFrame
    unchecked: dict[str, np.ndarray]
    comm_hits: dict[str, pd.DataFrame]
    record_counts: dict[str, int]


def evaluate(
    data: Any,
    cfg: Config,
    lo: int | None,
    hi: int | None,
    officers: str | Collection[str] | None = None,
    units: str | Collection[str] | None = None,
    shared: dict[str, Any] | None = None,
    *,
    narrow: bool = False,
    subject_rows: np.ndarray | None = None,
) -> Evaluation:
    """Run every rule over a loaded dataset and build the rows of the days ``lo``..``hi``.

    Parameters
    ----------
    data
        The :class:`kit.dataset.Dataset` (all of it is context).
    cfg
        The configuration.
    lo, hi
        First and last local day number in range (``None`` for open).
    officers, units
        As for :func:`assess`.
    shared
        Record preparations shared with earlier evaluations over the same
        records (see :meth:`kit.assess.context.Context.prepared`).
    narrow
        Assess the lookups beyond the range only as far as the rules read
        them (see :func:`_narrow`): the same output rows, for less work on
        wide margins. ``Evaluation.ctx`` then holds the lookups near the range
        only (what ``kit screen`` writes needs no more).
    subject_rows
        The position of each ``subjects`` row's lookup in the query log, when
        known (see :func:`kit.assess.context.build_context`).

    Returns
    -------
    Evaluation
        The lookups and evidence of the range, the communication rows and
        what :func:`assess` needs for its checks and indicators.

    """
    full = build_context(data, cfg, shared, subject_rows)
    ctx, near_rows = _narrow(full, lo, hi) if narrow else (full, None)
    codes_expl = [r.code for r in REGISTRY.of_kind(RuleKind.EXPLANATION)]
    codes_flag = [r.code for r in REGISTRY.of_kind(RuleKind.FLAG)]
    expl_bits = np.zeros(ctx.n, dtype=np.int64)
    flag_bits = np.zeros(ctx.n, dtype=np.int64)
    unchecked_bits = np.zeros(ctx.n, dtype=np.int64)
    hit_frames: list[pd.DataFrame] = []
    order = {code: i for i, code in enumerate(REGISTRY)}
    unchecked: dict[str, np.ndarray] = {}
    for i, rule in enumerate(REGISTRY.of_kind(RuleKind.EXPLANATION)):
        # An explanation rests on a record of the kinds it needs: where the dataset has none
        # there is nothing to find (its lookups count as not checked, see _checks). Not when
        # screening in parts: a part after the first may have handed a kind's rows over to
        # the shared preparations.
        absent = shared is None and _missing(ctx, rule)
        result = RuleResult(empty_hits()) if absent else _run(rule, ctx)
        expl_bits[result.hits["row"].to_numpy()] |= np.int64(1) << i
        if rule.strong:
            ctx.strong[result.hits["row"].to_numpy()] = True
        hit_frames.append(result.hits.assign(_code=order[rule.code]))
    # The wide rules read the whole context: they run first (they read only the
    # explanations), so that it is let go before the other flags run on the lookups
    # near the range (a third of a 10 M part's window). Their results keep their place.
    wide: dict[str, RuleResult] = {}
    if near_rows is not None:
        wide = {code: _run_wide(REGISTRY[code], ctx, full, near_rows) for code in WIDE_RULES}
    del full
    for i, rule in enumerate(REGISTRY.of_kind(RuleKind.FLAG)):
        result = wide[rule.code] if rule.code in wide else _run(rule, ctx)
        flag_bits[result.hits["row"].to_numpy()] |= np.int64(1) << i
        hit_frames.append(result.hits.assign(_code=order[rule.code]))
        if result.not_checked is not None:
            mask = np.asarray(result.not_checked, dtype=bool)
            unchecked[rule.code] = mask
            unchecked_bits[mask] |= np.int64(1) << i
    comm_hits = {r.code: _run(r, ctx).hits for r in REGISTRY.of_kind(RuleKind.COMMUNICATION)}

    keep = _select(ctx, lo, hi, officers, units)
    rows = np.flatnonzero(keep)
    flag_rules = REGISTRY.of_kind(RuleKind.FLAG)
    weights = np.array([cfg.weight(r.severity or Severity.LOW) for r in flag_rules])
    ranks = np.array([(r.severity or Severity.LOW).rank for r in flag_rules])
    bits = flag_bits[rows]
    uniq, inverse = np.unique(bits, return_inverse=True)
    present = ((uniq[:, None] >> np.arange(len(flag_rules))) & 1).astype(bool)
    score = (present * weights).sum(axis=1)[inverse]
    top = np.where(present, ranks, 0).max(axis=1, initial=0)[inverse]
    medium = (present & (ranks == 2)).any(axis=1)[inverse]
    strong = ctx.strong[rows]
    score = np.where(strong, score / 2, score)
    names = np.array(["none", "low", "medium", "high", "critical"], dtype=object)

    log = take_rows(ctx.cache["log"], rows)
    out = pd.DataFrame(
        {
            "lookup_id": log["lookup_id"],
            "time": log["time"],
            "user": log["user"],
            "actual_user": log["actual_user"],
            "unit": log["unit"],
            "actual_unit": log["actual_unit"],
            "ip": log["ip"],
            "operation": log["operation"],
            "purpose": log["purpose"],
            "conditions": log["conditions_raw"].where(
                log["conditions_raw"].notna(), log["conditions"]
            ),
            "source_file": log["source_file"],
            "source_line": log["source_line"],
            "subjects": _subjects_text(ctx, rows),
            "explanations": pd.Series(_codes_text(expl_bits[rows], codes_expl), dtype="str"),
            "flags": pd.Series(_codes_text(bits, codes_flag), dtype="str"),
            "severity": pd.Series(names[top], dtype="str"),
            "score": score.astype(float),
            "suspicious": (top >= 3) | (medium & ~strong),
            "not_checked": pd.Series(_codes_text(unchecked_bits[rows], codes_flag), dtype="str"),
        }
    )
    evidence = _evidence(ctx, hit_frames, keep)
    comm_rows = _communication_rows(ctx, comm_hits, keep, lo, hi, officers)
    counts = {kind: len(data.frame(kind)) for kind in KINDS}
    return Evaluation(ctx, keep, rows, out, evidence, comm_rows, unchecked, comm_hits, counts)


def prepare_records(records: Any, cfg: Config) -> dict[str, Any]:
    """Return the preparations of the records that every assessment over them shares.

    ``records``: a dataset without lookups. Every rule runs once on it, so
    each makes the preparations it makes before reading any lookup (see
    :meth:`kit.assess.context.Context.prepared`); contexts built later with
    the returned dict reuse them. Made once before a screening's processes
    fork, they are made once in all.
    """
    shared: dict[str, Any] = {}
    evaluate(records, cfg, None, None, shared=shared, narrow=True)
    return shared


def _subjects_text(ctx: Context, rows: np.ndarray) -> pd.Series:
    sub = ctx.subjects
    pos = np.full(ctx.n, -1, dtype=np.int64)
    pos[rows] = np.arange(len(rows))
    at = pos[sub["row"].to_numpy()]
    keep = at >= 0
    sub = sub[keep]
    order = np.argsort(at[keep], kind="stable")
    pair = (sub["entity"] + ":" + sub["value"]).iloc[order]
    return join_lists(at[keep][order], pair, len(rows))


def _evidence(ctx: Context, frames: list[pd.DataFrame], keep: np.ndarray) -> pd.DataFrame:
    empty = pd.DataFrame({c: pd.Series([], dtype="str") for c in EVIDENCE_COLUMNS})
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty
    # one frame in one chunk per column before rows are taken from it (kit.frames.single_chunk)
    hits = single_chunk(pd.concat(frames, ignore_index=True))
    hits = hits[keep[hits["row"].to_numpy()]].reset_index(drop=True)
    if hits.empty:
        return empty
    hits = _merge_hits(hits)
    ids = ctx.cache["log"]["lookup_id"].astype("str").reset_index(drop=True)
    position = hits["_code"].to_numpy(dtype=np.int64)
    codes = pa.array(list(REGISTRY), type=pa.string())
    kinds = pa.array([rule.kind.value for rule in REGISTRY.values()], type=pa.string())
    return pd.DataFrame(
        {
            "lookup_id": ids.iloc[hits["row"].to_numpy()].reset_index(drop=True),
            "code": pd.Series(pd.array(codes.take(position), dtype="str")),
            "kind": pd.Series(pd.array(kinds.take(position), dtype="str")),
            "rests_on": hits["rests_on"],
            "reason": hits["reason"],
        }
    )


def _communication_rows(
    ctx: Context,
    comm_hits: dict[str, pd.DataFrame],
    keep: np.ndarray,
    lo: int | None,
    hi: int | None,
    officers: Any,
) -> pd.DataFrame:
    """Return (rec, code, rests_on) of the communications flagged in range, before grouping."""
    frame = ctx.data.communications.reset_index(drop=True)
    parts = [h.assign(code=code) for code, h in comm_hits.items() if len(h)]
    if parts and len(frame):
        own = pd.concat(parts, ignore_index=True).rename(columns={"row": "rec"})
        from kit.assess.context import local_day, to_us

        day = local_day(to_us(frame["time"]))[own["rec"].to_numpy()]
        ok = np.ones(len(own), dtype=bool)
        if lo is not None:
            ok &= day >= lo
        if hi is not None:
            ok &= day <= hi
        if officers is not None:
            wanted = [officers] if isinstance(officers, str) else list(officers)
            ok &= text(frame["officer_id"]).isin(wanted).to_numpy()[own["rec"].to_numpy()]
        own = own[ok][["rec", "code", "rests_on"]]
    else:
        own = pd.DataFrame({"rec": [], "code": [], "rests_on": []})
    links = ctx.cache.get("comm_links", [])
    linked = (
        pd.concat(links, ignore_index=True)
        if links
        else pd.DataFrame({"rec": [], "code": [], "row": []})
    )
    linked = linked[keep[linked["row"].to_numpy(dtype=np.int64)]] if len(linked) else linked
    if len(linked):
        linked = linked.assign(
            rests_on=ctx.lookup_refs(linked["row"].to_numpy(dtype=np.int64)).to_numpy()
        )
    return pd.concat(
        [own, linked[["rec", "code", "rests_on"]] if len(linked) else own.iloc[:0]],
        ignore_index=True,
    )


def communication_table(communications: pd.DataFrame, allrows: pd.DataFrame) -> pd.DataFrame:
    """Group communication rows (rec, code, rests_on) into the flagged communications table.

    Parameters
    ----------
    communications
        The dataset's communications (``rec`` are positions in it).
    allrows
        Rows from one or more evaluations, in order.

    Returns
    -------
    pandas.DataFrame
        One row per flagged communication, :data:`COMMUNICATION_COLUMNS`.

    """
    frame = communications.reset_index(drop=True)
    if allrows.empty:
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in COMMUNICATION_COLUMNS})
    allrows["rec"] = allrows["rec"].astype("int64")
    order = {code: i for i, code in enumerate(REGISTRY)}
    allrows = allrows.assign(_o=allrows["code"].map(order)).sort_values(["rec", "_o"])
    # flagged communications: a few per seized phone, small by construction
    grouped = allrows.groupby("rec", sort=True).agg(
        flags=("code", lambda s: ";".join(dict.fromkeys(s))),
        rests_on=("rests_on", lambda s: ";".join(dict.fromkeys(";".join(s).split(";")))),
    )
    rank = {r.code: (r.severity or Severity.LOW).rank for r in REGISTRY.values()}
    top = allrows.assign(_r=allrows["code"].map(rank)).groupby("rec")["_r"].max()
    names = {1: "low", 2: "medium", 3: "high", 4: "critical"}
    sel = frame.iloc[grouped.index.to_numpy()].reset_index(drop=True)
    return pd.DataFrame(
        {
            "time": sel["time"],
            "officer_id": sel["officer_id"],
            "counterpart": sel["counterpart_raw"].where(
                sel["counterpart_raw"].notna(), sel["counterpart"]
            ),
            "direction": sel["direction"],
            "type": sel["type"],
            "content": sel["content_raw"].where(sel["content_raw"].notna(), sel["content"]),
            "source_file": sel["source_file"],
            "source_line": sel["source_line"],
            "flags": pd.Series(grouped["flags"].to_numpy(), dtype="str"),
            "severity": pd.Series(top.map(names).to_numpy(), dtype="str"),
            "rests_on": pd.Series(grouped["rests_on"].to_numpy(), dtype="str"),
        }
    )


def _checks(
    ctx: Context, keep: np.ndarray, unchecked: dict[str, np.ndarray], comm_hits: dict[str, Any]
) -> pd.DataFrame:
    total = int(keep.sum())
    n_comms = len(ctx.data.communications)
    rows = []
    for rule in REGISTRY.values():
        if rule.kind is RuleKind.COMMUNICATION:
            missing = 0 if rule.code in comm_hits and not _missing(ctx, rule) else n_comms
            rows.append((rule.code, rule.kind.value, rule.severity, n_comms - missing, missing))
            continue
        mask = unchecked.get(rule.code)
        missing = int((mask & keep).sum()) if mask is not None else 0
        if rule.kind is RuleKind.EXPLANATION and _missing(ctx, rule):
            missing = total
        rows.append((rule.code, rule.kind.value, rule.severity, total - missing, missing))
    return pd.DataFrame(
        {
            "code": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "severity": [r[2].value if r[2] else "" for r in rows],
            "checked": np.array([r[3] for r in rows], dtype=np.int64),
            "not_checked": np.array([r[4] for r in rows], dtype=np.int64),
        }
    )


def _missing(ctx: Context, rule: Rule) -> bool:
    """Whether a kind the rule needs (other than the query log) holds no rows."""
    return any(len(ctx.data.frame(kind)) == 0 for kind in rule.needs if kind != "query_log")
