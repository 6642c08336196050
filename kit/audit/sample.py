"""The monthly audit sample (§六(一)4, §七(一)3, §八(二), §十四).

The design, in three stages, each drawn with one ``numpy`` ``Generator(PCG64(seed))``
in a fixed order (units, then lookups, then officers) over inputs sorted by
name and ID, so the same data and seed give the same sample:

1. **Units.** The units under the auditing unit that hold lookups or officers
   that month form the population (the auditing unit itself counts when it
   does). At least ``⌈units × 1/5⌉`` are chosen: every unit under closer audit
   (§十四) with certainty, the rest of the quota by simple random sampling
   without replacement (SRS) from the other units. ``P(unit) = 1`` under closer
   audit, else ``extra / other units``.
2. **Lookups in a unit.** ``quota = ⌈n × rate⌉`` (``rate`` 2 %, doubled under
   closer audit). At least a quarter of it, ``⌈quota / 4⌉``, is the *uniform*
   stratum; the rest is the *risk* quota. The risk stratum takes, with
   certainty, the highest-risk lookups up to the risk quota — suspicious first,
   then flagged, then unexplained (ties: higher score, earlier time, lookup ID);
   a lookup with none of the three is never in it. The uniform stratum is an
   SRS of ``quota − taken`` lookups from the ``n − taken`` lookups not taken, so
   every lookup can be drawn. ``P(lookup | unit) = 1`` in the risk stratum, else
   ``(quota − taken) / (n − taken)``.
3. **Officers in a station** (every station of the population: the station
   head's own monthly audit, §八(二)): ``station_quota(headcount)`` officers in
   service that month, by the same two strata (officers ranked by their
   suspicious, then flagged, then unexplained lookup counts).

**What the probabilities sum to.** Conditional on the units chosen, the
within-unit probabilities ``p_within`` of a unit's lookups sum exactly to
that unit's quota, so over the chosen units they sum to the sample size.
Unconditionally, a lookup's inclusion probability is
``p_unit × p_within`` and these sum, over every lookup of the population, to
the *expected* sample size ``Σ P(unit) × quota(unit)`` (the sample size
itself when every unit is chosen). Every lookup's probability is above zero.
The same holds for officers within stations (``p_unit`` is 1 there).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kit.audit.frames import (
    RISK_TIERS,
    kind_frame,
    month_lookups,
    officers_in_service,
)
from kit.audit.hierarchy import (
    ancestors,
    lookup_quota,
    match_unit,
    station_quota,
    unit_parents,
    unit_quota,
)
from kit.errors import ConfigError
from kit.normalise import fold_unit

__all__ = ["AuditSample", "monthly_sample"]

UNIFORM_SHARE = 0.25
"""At least this share of each unit's (and station's) sample is drawn uniformly."""
CLOSER_FACTOR = 2.0
"""Units under closer audit (§十四) are sampled at this multiple of the rate."""


@dataclass(frozen=True)
class AuditSample:
    """The sample of one month's audit, with everything needed to reproduce and weigh it.

    Attributes
    ----------
    month, seed, parent_unit, rate, unit_share
        The parameters used (``parent_unit`` as matched in the data, or None).
    closer_audit
        Units under closer audit found among the population (folded names).
    closer_not_found
        Units named for closer audit that hold no lookup or officer under the
        auditing unit that month.
    units
        One row per unit of the population: ``unit``, ``parent``, ``lookups``,
        ``headcount``, ``closer_audit``, ``chosen``, ``p_unit``, ``rate``,
        ``lookup_quota``, ``risk_taken``, ``uniform_taken``, ``officer_quota``,
        ``risk_stratum`` (lookups the risk stratum takes if the unit is chosen)
        and ``p_uniform`` (``P(lookup | unit)`` of every lookup outside the risk
        stratum): with ``p_unit`` they give every lookup's inclusion probability.
    frame
        Every lookup of the population: ``lookup_id``, ``unit``, ``risk_tier``,
        ``risk``, ``stratum`` (``risk`` or ``uniform``), ``p_unit``,
        ``p_within``, ``inclusion_probability``, ``sampled``.
    lookups
        The sampled lookups: their assessed columns plus ``risk``,
        ``stratum``, ``p_unit``, ``p_within`` and ``inclusion_probability``.
    officers
        One row per officer in service in a station of the population:
        ``unit``, ``officer_id``, ``suspicious``, ``flagged``, ``unexplained``,
        ``lookups``, ``stratum``, ``p_within``, ``sampled``.

    """

    month: str
    seed: int
    parent_unit: str | None
    rate: float
    unit_share: float
    closer_audit: tuple[str, ...]
    closer_not_found: tuple[str, ...]
    units: pd.DataFrame = field(repr=False)
    frame: pd.DataFrame = field(repr=False)
    lookups: pd.DataFrame = field(repr=False)
    officers: pd.DataFrame = field(repr=False)

    @property
    def size(self) -> int:
        """Number of lookups sampled."""
        return len(self.lookups)

    @property
    def expected_size(self) -> float:
        """Expected number of lookups sampled over the unit draw: ``Σ P(unit) × quota``."""
        return float((self.units["p_unit"] * self.units["lookup_quota"]).sum())

    @property
    def officers_sampled(self) -> pd.DataFrame:
        """The officers chosen for the station-level audit."""
        return self.officers.loc[self.officers["sampled"]].reset_index(drop=True)


def _population(
    lookups: pd.DataFrame, officers: pd.DataFrame, dataset: Any, parent_unit: str | None
) -> tuple[list[str], dict[str, str | None], str | None]:
    names = sorted(set(lookups["unit"].dropna().unique()) | set(officers["unit"].dropna().unique()))
    parents = unit_parents(kind_frame(dataset, "units"), names)
    if parent_unit is None:
        return names, parents, None
    auditing = match_unit(parent_unit, parents)
    inside = [u for u in names if u == auditing or auditing in ancestors(u, parents)]
    return inside, parents, auditing


def _strata(
    frame: pd.DataFrame,
    group: str,
    quota: pd.Series,
    uniform_share: float,
    keys: np.ndarray,
    drawn: pd.Series,
) -> pd.DataFrame:
    """Assign the risk and uniform strata within each group; ``frame`` is sorted by risk.

    ``frame`` must be sorted by group, then descending risk; ``quota`` maps a
    group to its sample size; ``keys`` are uniform random numbers (one per
    row); ``drawn`` says whether each row's group takes part in the draw.
    """
    out = frame.copy()
    n = out.groupby(group, sort=False)[group].transform("size").to_numpy(np.int64)
    q = out[group].map(quota).fillna(0).to_numpy(np.int64)
    uniform_min = -(-q * int(uniform_share * 1_000_000) // 1_000_000)
    risk_quota = q - uniform_min
    risky = out["risk_tier"].to_numpy() > 0
    risk_rank = out.assign(_r=risky).groupby(group, sort=False)["_r"].cumsum().to_numpy() - 1
    in_risk = risky & (risk_rank < risk_quota)
    taken = pd.Series(in_risk, index=out.index).groupby(out[group]).transform("sum").to_numpy()
    remaining = n - taken
    uniform_q = q - taken
    with np.errstate(divide="ignore", invalid="ignore"):
        p_uniform = np.where(remaining > 0, uniform_q / np.maximum(remaining, 1), 0.0)
    out["stratum"] = np.where(in_risk, "risk", "uniform")
    out["p_within"] = np.where(in_risk, 1.0, p_uniform)
    out["_key"] = np.where(in_risk, -1.0, keys)
    key_rank = out.groupby(group, sort=False)["_key"].rank(method="first").to_numpy() - 1
    uniform_pick = ~in_risk & (key_rank - taken < uniform_q)
    out["sampled"] = (in_risk | uniform_pick) & drawn.to_numpy()
    return out.drop(columns="_key")


def _officer_risk(lookups: pd.DataFrame, officers: pd.DataFrame) -> pd.DataFrame:
    querier = lookups["user"].astype("string")
    if "actual_user" in lookups.columns:
        actual = lookups["actual_user"].astype("string")
        querier = actual.where(actual.fillna("").str.len() > 0, querier)
    counts = (
        pd.DataFrame(
            {
                "officer_id": querier,
                "lookups": 1,
                "suspicious": lookups["is_suspicious"].astype(int),
                "flagged": lookups["is_flagged"].astype(int),
                "unexplained": lookups["is_unexplained"].astype(int),
            }
        )
        .groupby("officer_id")
        .sum()
    )
    table = officers.merge(counts, left_on="officer_id", right_index=True, how="left")
    for column in ("lookups", "suspicious", "flagged", "unexplained"):
        table[column] = table[column].fillna(0).astype(np.int64)
    table["risk_tier"] = np.select(
        [table["suspicious"] > 0, table["flagged"] > 0, table["unexplained"] > 0],
        [3, 2, 1],
        default=0,
    ).astype(np.int64)
    return table.sort_values(
        ["unit", "suspicious", "flagged", "unexplained", "officer_id"],
        ascending=[True, False, False, False, True],
        kind="stable",
    ).reset_index(drop=True)


def monthly_sample(
    assessment_or_lookups: Any,
    dataset: Any,
    month: str,
    *,
    seed: int,
    parent_unit: str | None = None,
    closer_audit: Collection[str] = (),
    rate: float = 0.02,
    unit_share: float = 1 / 5,
    uniform_share: float = UNIFORM_SHARE,
    closer_factor: float = CLOSER_FACTOR,
) -> AuditSample:
    """Draw the month's audit sample: units, lookups in them, officers per station.

    The design and its inclusion probabilities are described in this
    module's docstring (:mod:`kit.audit.sample`).

    Parameters
    ----------
    assessment_or_lookups
        An ``Assessment`` or its ``lookups`` table (``kit screen`` columns);
        lookups outside ``month`` are ignored.
    dataset
        The ``Dataset`` (its ``officers`` and ``units`` kinds are used).
    month
        ``"YYYY-MM"``.
    seed
        Seed of ``numpy.random.Generator(PCG64(seed))``; recorded in the result.
    parent_unit
        Audit only units under this one (itself included); None: every unit.
    closer_audit
        Units under closer audit (§十四): always chosen, sampled at
        ``closer_factor`` × ``rate``.
    rate, unit_share, uniform_share, closer_factor
        2 %, 1/5, 1/4 and 2 by default (the handbook's and this design's).

    Returns
    -------
    AuditSample

    Raises
    ------
    ConfigError
        For a bad month, rate or share, or an auditing unit not in the data.

    """
    if not 0 < uniform_share <= 1 or closer_factor < 1:
        raise ConfigError("uniform_share must be in (0, 1] and closer_factor at least 1")
    lookups = month_lookups(assessment_or_lookups, month)
    officers = officers_in_service(dataset, month)
    names, parents, auditing = _population(lookups, officers, dataset, parent_unit)
    population = set(names)
    inside = lookups["unit"].isin(population)
    if not inside.all():
        lookups = lookups.loc[inside].reset_index(drop=True)
    officers = officers.loc[officers["unit"].isin(population)].reset_index(drop=True)
    wanted = sorted({fold_unit(str(u)) for u in closer_audit})
    closer = tuple(u for u in wanted if u in population)
    not_found = tuple(u for u in wanted if u not in population)

    units = pd.DataFrame({"unit": pd.Series(names, dtype="string")})
    units["parent"] = units["unit"].map(parents).astype("string")
    units["lookups"] = units["unit"].map(lookups["unit"].value_counts()).fillna(0).astype(np.int64)
    units["headcount"] = (
        units["unit"].map(officers["unit"].value_counts()).fillna(0).astype(np.int64)
    )
    units["closer_audit"] = units["unit"].isin(closer)

    rng = np.random.Generator(np.random.PCG64(seed))
    quota_units = unit_quota(len(units), unit_share)
    others = units.loc[~units["closer_audit"], "unit"].to_numpy()
    extra = min(max(quota_units - len(closer), 0), len(others))
    chosen = set(closer) | set(others[rng.permutation(len(others))[:extra]])
    units["chosen"] = units["unit"].isin(chosen)
    p_other = extra / len(others) if len(others) else 0.0
    units["p_unit"] = np.where(units["closer_audit"], 1.0, p_other)
    units["rate"] = np.where(units["closer_audit"], min(rate * closer_factor, 1.0), rate)
    units["lookup_quota"] = np.zeros(len(units), dtype=np.int64)
    for unit_rate in units["rate"].unique():
        rows = units["rate"] == unit_rate
        units.loc[rows, "lookup_quota"] = lookup_quota(units.loc[rows, "lookups"], unit_rate)
    units["officer_quota"] = np.minimum(station_quota(units["headcount"]), units["headcount"])

    order = ["unit_code", "risk_tier", "score", "time", "lookup_id"]
    codes = pd.Categorical(lookups["unit"], categories=names).codes.astype(np.int64)
    narrow = lookups[order[1:]].assign(unit_code=codes, _row=np.arange(len(lookups)))
    ranked = narrow.sort_values(
        order, ascending=[True, False, False, True, True], kind="stable"
    ).reset_index(drop=True)
    unit_chosen = pd.Series(units["chosen"].to_numpy()[ranked["unit_code"].to_numpy()])
    frame = _strata(
        ranked,
        "unit_code",
        pd.Series(units["lookup_quota"].to_numpy(), index=np.arange(len(units))),
        uniform_share,
        rng.random(len(ranked)),
        unit_chosen,
    )
    frame["unit"] = pd.Series(
        np.asarray(names, dtype=object)[frame["unit_code"].to_numpy()], dtype="string"
    )
    frame["risk"] = frame["risk_tier"].map(RISK_TIERS).astype("string")
    frame["p_unit"] = frame["unit"].map(units.set_index("unit")["p_unit"]).astype(float)
    frame["inclusion_probability"] = frame["p_unit"] * frame["p_within"]
    taken = frame.loc[frame["sampled"]]
    units["risk_taken"] = (
        (units["unit"].map(taken.loc[taken["stratum"] == "risk", "unit"].value_counts()))
        .fillna(0)
        .astype(np.int64)
    )
    units["uniform_taken"] = (
        (units["unit"].map(taken.loc[taken["stratum"] == "uniform", "unit"].value_counts()))
        .fillna(0)
        .astype(np.int64)
    )
    in_risk = (frame["stratum"] == "risk").groupby(frame["unit"]).sum()
    units["risk_stratum"] = units["unit"].map(in_risk).fillna(0).astype(np.int64)
    uniform = frame.loc[frame["stratum"] == "uniform"].groupby("unit", sort=False)["p_within"]
    units["p_uniform"] = units["unit"].map(uniform.first()).fillna(0.0).astype(float)

    staff = _officer_risk(lookups, officers)
    staff = _strata(
        staff,
        "unit",
        units.set_index("unit")["officer_quota"],
        uniform_share,
        rng.random(len(staff)),
        pd.Series(True, index=staff.index),
    )
    staff["unit_chosen"] = staff["unit"].isin(chosen)

    columns = ["lookup_id", "unit", "risk_tier", "risk", "stratum", "p_unit", "p_within"]
    frame_out = frame[[*columns, "inclusion_probability", "sampled"]].reset_index(drop=True)
    picked = frame.loc[frame["sampled"]]
    sampled = lookups.iloc[picked["_row"].to_numpy()].reset_index(drop=True)
    for column in ("risk", "stratum", "p_unit", "p_within", "inclusion_probability"):
        sampled[column] = picked[column].to_numpy()
    sampled = sampled.sort_values(["unit", "time", "lookup_id"], kind="stable")
    return AuditSample(
        month=month,
        seed=int(seed),
        parent_unit=auditing,
        rate=rate,
        unit_share=unit_share,
        closer_audit=closer,
        closer_not_found=not_found,
        units=units.reset_index(drop=True),
        frame=frame_out,
        lookups=sampled.reset_index(drop=True),
        officers=staff.reset_index(drop=True),
    )
