"""Unit hierarchy: which units lie under the units asked for."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from kit.normalise import fold_unit

__all__ = ["matching_units", "parents"]

_NAME_PARENT = re.compile(r"^(.*?(?:分局|大隊))(?=.)")


def parents(units: pd.DataFrame) -> dict[str, str]:
    """Return unit → parent from the ``units`` table."""
    if units.empty:
        return {}
    table = units[["unit", "parent"]].dropna()
    return dict(zip(table["unit"].astype(str), table["parent"].astype(str), strict=True))


def _ancestors(unit: str, table: dict[str, str]) -> set[str]:
    seen = {unit}
    current = unit
    while True:
        parent = table.get(current)
        if parent is None:
            match = _NAME_PARENT.match(current)
            parent = match.group(1) if match else None
        if parent is None or parent in seen:
            return seen
        seen.add(parent)
        current = parent


def matching_units(units: pd.DataFrame, names: Iterable[str], wanted: Iterable[str]) -> list[str]:
    """Return those of ``names`` that are, or lie under, a unit of ``wanted``.

    Parameters
    ----------
    units
        The ``units`` table (may be empty: then the name rule of DATA.md
        applies — the parent is the name up to and including 分局 or 大隊).
    names
        Unit names to test (folded).
    wanted
        Units asked for (folded here).

    """
    table = parents(units)
    targets = tuple(fold_unit(w) for w in wanted if w)
    # names are few (one per unit): looping over them is cheap
    return [n for n in names if n and any(a.endswith(targets) for a in _ancestors(n, table))]
