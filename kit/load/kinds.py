"""Kind detection from header rows: the registry of per-kind header signatures.

Each kind of :data:`kit.schema.KINDS` registers one :class:`KindLoader`: the
header spellings it accepts (the Chinese header, the canonical English name,
aliases) and its required columns. A header cell matches after NFKC, trimming,
removing inner whitespace and case-folding, so ``" 作業時間 "``, ``"ＩＰ"`` and
``"Actual_User"`` all match.

A table is of the kind whose required headers it holds; when several qualify,
the one matching most headers wins (ties: the order of :data:`KINDS`). A wide
duty roster qualifies with 日期, 員警編號 and at least one slot column
(``00-02`` …). A table holding at least two required headers of a kind, and at
least half of them, but not all, is that kind with a schema error naming every
missing column; any other table is unrecognised.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from kit.errors import SchemaError
from kit.load.complete import slot_columns
from kit.schema import KINDS, Kind

__all__ = ["REGISTRY", "Detection", "KindLoader", "detect_kind", "header_key", "register"]

_SPACE = re.compile(r"\s+")


def header_key(text: object) -> str:
    """Return the comparison form of a header cell (NFKC, no spaces, case-folded)."""
    return _SPACE.sub(
        "", unicodedata.normalize("NFKC", "" if text is None else str(text))
    ).casefold()


def header_name(text: object, position: int) -> str:
    """Return the column name kept for an unknown header (NFKC, trimmed)."""
    name = unicodedata.normalize("NFKC", "" if text is None else str(text)).strip()
    return name or f"column_{position + 1}"


@dataclass(frozen=True)
class KindLoader:
    """The header signature of one kind."""

    kind: Kind
    spellings: dict[str, str]
    """Header key → canonical column name."""

    def match(self, headers: Sequence[object]) -> dict[int, str]:
        """Map header positions to canonical names (first occurrence wins)."""
        mapping: dict[int, str] = {}
        seen: set[str] = set()
        for i, h in enumerate(headers):
            canonical = self.spellings.get(header_key(h))
            if canonical is not None and canonical not in seen:
                mapping[i] = canonical
                seen.add(canonical)
        return mapping


REGISTRY: dict[str, KindLoader] = {}
"""One loader per kind, by kind name."""


def register(kind: Kind) -> KindLoader:
    """Register the header signature of a kind; a kind registers once.

    Raises
    ------
    ValueError
        When the kind is already registered.

    """
    if kind.name in REGISTRY:
        raise ValueError(f"kind {kind.name} is already registered")
    spellings: dict[str, str] = {}
    for col in kind.columns:
        for spelling in (col.header, col.canonical, *col.aliases):
            spellings[header_key(spelling)] = col.canonical
    loader = KindLoader(kind, spellings)
    REGISTRY[kind.name] = loader
    return loader


for _kind in KINDS.values():
    register(_kind)


@dataclass(frozen=True)
class Detection:
    """What a header row is."""

    kind: str | None
    """The kind name, or ``None`` when unrecognised."""
    columns: dict[int, str]
    """Header position → canonical name (slot columns keep their header)."""
    form: str | None = None
    """``long`` or ``wide`` for a duty roster."""
    error: SchemaError | None = None
    """Set when the best-matching kind lacks required columns."""


def detect_kind(headers: Sequence[object]) -> Detection:
    """Detect the kind of a table from its header row.

    Parameters
    ----------
    headers
        The header cells as read.

    Returns
    -------
    Detection
        The kind and column mapping; ``kind=None`` for an unrecognised table;
        ``error`` (a :class:`kit.errors.SchemaError` listing every missing
        required column) when a kind matched only in part.

    """
    best: tuple[int, int, str, dict[int, str], str | None] | None = None
    partial: tuple[float, int, str, tuple[str, ...]] | None = None
    order = list(KINDS)
    for name, loader in REGISTRY.items():
        mapping = loader.match(headers)
        required = loader.kind.required
        have = set(mapping.values())
        missing = tuple(r for r in required if r not in have)
        form: str | None = "long" if name == "duty_roster" else None
        if missing and name == "duty_roster":
            names = [str(h).strip() for h in headers]
            slots = slot_columns([unicodedata.normalize("NFKC", n) for n in names])
            if slots and {"date", "officer_id"} <= have:
                for i, n in enumerate(names):
                    if unicodedata.normalize("NFKC", n) in slots:
                        mapping[i] = unicodedata.normalize("NFKC", n)
                missing, form = (), "wide"
        if not missing:
            key = (len(mapping), -order.index(name))
            if best is None or key > (best[0], best[1]):
                best = (len(mapping), -order.index(name), name, mapping, form)
        else:
            matched = len(required) - len(missing)
            share = matched / len(required)
            if (
                matched >= 2
                and share >= 0.5
                and (partial is None or (share, matched) > partial[:2])
            ):
                partial = (share, matched, name, missing)
    if best is not None:
        return Detection(best[2], best[3], best[4])
    if partial is not None:
        _, _, name, missing = partial
        error = SchemaError(
            f"looks like a {name} export but lacks required column(s): {', '.join(missing)}; "
            "add them to the header (Chinese or canonical names)",
            missing=missing,
        )
        return Detection(name, {}, None, error)
    return Detection(None, {})
