"""The unit hierarchy and the handbook's sample-size rules.

The hierarchy comes from the ``units`` kind (unit → parent); without it, a
unit's parent is the leading part of its name up to and including ``分局``
or ``大隊`` (DATA.md, kind 14): ``第三分局西屯派出所`` → ``第三分局``. Unit names
are compared after NFKC and folding 臺 to 台.

The sample sizes (DOMAIN.md, "The rules the kit must know")::

    units to audit     ⌈units × 1/5⌉                        §六(一)4, §七(一)3
    lookups per unit   ⌈lookups × 2 %⌉  (4 % under closer audit, §十四)
    officers per station   1 when headcount ≤ 20, else ⌊headcount / 20⌋ + 1    §八(二)

The station formula gives 20 → 1, 21 → 2, 39 → 2, 40 → 3, 59 → 3, 60 → 4:
one officer up to 20, and one more for each further full 20 from 40 on.
Ceilings are computed on exact fractions, so ``15 × 1/5`` is 3, not 4.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fractions import Fraction

import numpy as np
import pandas as pd

from kit.errors import ConfigError
from kit.normalise import fold_unit

__all__ = [
    "ancestors",
    "lookup_quota",
    "match_unit",
    "name_parent",
    "station_quota",
    "unit_parents",
    "unit_quota",
]

_PARENT_BY_NAME = re.compile(r"^(.+?(?:分局|大隊))")


def _fraction(value: float) -> Fraction:
    """Return ``value`` as an exact fraction (0.02 → 1/50), refusing non-proportions."""
    fraction = Fraction(value).limit_denominator(1_000_000)
    if not 0 < fraction <= 1:
        raise ConfigError(f"a share or rate must be in (0, 1], got {value!r}", column="rate")
    return fraction


def unit_quota(units: int, share: float = 1 / 5) -> int:
    """Return how many units must be audited: ``⌈units × share⌉`` (§六(一)4).

    Parameters
    ----------
    units
        Number of units under the auditing unit.
    share
        The share to audit (1/5 by the handbook).

    """
    fraction = _fraction(share)
    return -(-units * fraction.numerator // fraction.denominator)


def lookup_quota(lookups: np.ndarray | pd.Series | int, rate: float = 0.02) -> np.ndarray:
    """Return ``⌈lookups × rate⌉`` per unit, element-wise (§七(一)3), never above ``lookups``.

    Parameters
    ----------
    lookups
        The month's lookup counts of the units.
    rate
        The share of lookups to check (2 % by the handbook; 4 % under closer audit).

    """
    counts = np.asarray(lookups, dtype=np.int64)
    fraction = _fraction(rate)
    quota = -(-counts * fraction.numerator // fraction.denominator)
    return np.minimum(quota, counts)


def station_quota(headcount: np.ndarray | pd.Series | int) -> np.ndarray:
    """Return the officers a station head audits each month (§八(二)), element-wise.

    ``0`` for an empty station, ``1`` for up to 20 officers, else
    ``headcount // 20 + 1`` (21–39 → 2, 40–59 → 3, 60–79 → 4, …).

    Parameters
    ----------
    headcount
        Officers in service at the station that month.

    """
    counts = np.asarray(headcount, dtype=np.int64)
    return np.where(counts <= 0, 0, np.where(counts <= 20, 1, counts // 20 + 1))


def name_parent(unit: str) -> str | None:
    """Return the parent of a unit from its name (up to and including 分局 or 大隊), or None."""
    match = _PARENT_BY_NAME.match(unit)
    if match is None or match.group(1) == unit:
        return None
    return match.group(1)


def unit_parents(units_frame: pd.DataFrame | None, names: Iterable[str]) -> dict[str, str | None]:
    """Return the parent of every unit: from the ``units`` kind, else from its name.

    Parameters
    ----------
    units_frame
        The ``units`` kind (``unit``, ``parent``), or None / empty when not given.
    names
        Unit names that must appear in the result (those of lookups and officers).

    """
    parents: dict[str, str | None] = {}
    if units_frame is not None and len(units_frame) and {"unit", "parent"} <= set(units_frame):
        table = units_frame[["unit", "parent"]].dropna(subset=["unit"])
        for unit, parent in zip(table["unit"], table["parent"], strict=True):
            child = fold_unit(str(unit))
            parents[child] = None if pd.isna(parent) else fold_unit(str(parent))
    pending = [fold_unit(str(n)) for n in names if not pd.isna(n)]
    pending += [p for p in list(parents.values()) if p is not None]
    while pending:
        unit = pending.pop()
        if unit in parents:
            continue
        parent = name_parent(unit)
        parents[unit] = parent
        if parent is not None:
            pending.append(parent)
    return parents


def ancestors(unit: str, parents: dict[str, str | None]) -> list[str]:
    """Return the chain of parents of ``unit``, nearest first (cycles are cut)."""
    chain: list[str] = []
    current = parents.get(unit)
    while current is not None and current not in chain and current != unit:
        chain.append(current)
        current = parents.get(current)
    return chain


def match_unit(name: str, parents: dict[str, str | None]) -> str:
    """Return the known unit that ``name`` designates (exact after folding, or a unique suffix).

    Raises
    ------
    ConfigError
        When no unit, or more than one, matches.

    """
    folded = fold_unit(name)
    known = set(parents) | {p for p in parents.values() if p is not None}
    if folded in known:
        return folded
    candidates = sorted(u for u in known if u.endswith(folded))
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ConfigError(
            "the auditing unit is not in the data: give a unit name as in the units table "
            "or the query log",
            column="unit",
        )
    raise ConfigError(
        f"the auditing unit matches {len(candidates)} units: give the full unit name",
        column="unit",
    )
