"""The registry of explanations and flags (DOMAIN.md, "Indicators").

Each explanation and each flag is one small function registered with its
code, severity, rule text, handbook source and the records it needs. Its
thresholds are keyword parameters whose defaults are the documented ones
(``kit/rules.yaml`` repeats them and may override them). The registry refuses
a second rule with a code already registered.

A rule function takes the assessment context (:class:`kit.assess.context.Context`)
and its thresholds, and returns a :class:`RuleResult`: the lookups it hits,
each with the records it rests on and a one-line reason, and which lookups it
could not check for want of covering records.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "HIT_COLUMNS",
    "REGISTRY",
    "Registry",
    "Rule",
    "RuleKind",
    "RuleResult",
    "Severity",
    "explanation",
    "flag",
]


class Severity(StrEnum):
    """Severity of a flag; :attr:`weight` is its default score weight."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def weight(self) -> int:
        """Default score weight (DOMAIN.md: low 1, medium 3, high 10, critical 30)."""
        return {"low": 1, "medium": 3, "high": 10, "critical": 30}[self.value]

    @property
    def rank(self) -> int:
        """Order of severities, ``low`` = 1 … ``critical`` = 4."""
        return {"low": 1, "medium": 2, "high": 3, "critical": 4}[self.value]


class RuleKind(StrEnum):
    """Whether a rule explains a lookup, flags it, or flags a communication."""

    EXPLANATION = "explanation"
    FLAG = "flag"
    COMMUNICATION = "communication"


HIT_COLUMNS: tuple[str, ...] = ("row", "rests_on", "reason")
"""Columns of :attr:`RuleResult.hits`: lookup row, ``;``-joined references, one-line reason."""


@dataclass(frozen=True)
class RuleResult:
    """What one rule found.

    Attributes
    ----------
    hits
        One row per (lookup row, finding) with :data:`HIT_COLUMNS`; several rows
        for the same lookup are merged by the engine. For communication rules
        ``row`` is the row of the communication.
    not_checked
        Boolean array over the context's lookups: the rule applies to the
        lookup but its records do not cover it. ``None`` when everything the
        rule applies to is covered.

    """

    hits: pd.DataFrame
    not_checked: np.ndarray | None = None


RuleFunction = Callable[..., RuleResult]


@dataclass(frozen=True)
class Rule:
    """A registered explanation or flag."""

    code: str
    kind: RuleKind
    severity: Severity | None
    rule: str
    source: str
    needs: tuple[str, ...]
    function: RuleFunction = field(repr=False, compare=False)

    @property
    def thresholds(self) -> dict[str, Any]:
        """The rule's thresholds (keyword parameters) and their defaults."""
        params = inspect.signature(self.function).parameters
        return {
            name: p.default
            for name, p in params.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        }

    @property
    def strong(self) -> bool:
        """Whether this explanation explains strongly (all but ``EXPL_DUTY_CHECK``)."""
        return self.kind is RuleKind.EXPLANATION and self.code != "EXPL_DUTY_CHECK"


class Registry(Mapping[str, Rule]):
    """Rules by code, in registration order; refuses duplicate codes."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}

    def add(self, rule: Rule) -> Rule:
        """Register ``rule``; raise ``ValueError`` when its code is taken."""
        if rule.code in self._rules:
            raise ValueError(f"rule code {rule.code} is already registered")
        self._rules[rule.code] = rule
        return rule

    def __getitem__(self, code: str) -> Rule:
        return self._rules[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def of_kind(self, kind: RuleKind) -> list[Rule]:
        """Return the rules of one kind, in registration order."""
        return [r for r in self._rules.values() if r.kind is kind]


REGISTRY = Registry()
"""The kit's rules; modules ``explain``, ``flags_*`` and ``comms`` fill it on import."""


def _register(
    kind: RuleKind,
    code: str,
    severity: Severity | None,
    rule: str,
    source: str,
    needs: tuple[str, ...],
    registry: Registry | None,
) -> Callable[[RuleFunction], RuleFunction]:
    def decorate(function: RuleFunction) -> RuleFunction:
        (registry if registry is not None else REGISTRY).add(
            Rule(code, kind, severity, rule, source, needs, function)
        )
        return function

    return decorate


def explanation(
    code: str, *, rule: str, source: str, needs: tuple[str, ...], registry: Registry | None = None
) -> Callable[[RuleFunction], RuleFunction]:
    """Register an explanation function under ``code``."""
    return _register(RuleKind.EXPLANATION, code, None, rule, source, needs, registry)


def flag(
    code: str,
    severity: Severity,
    *,
    rule: str,
    source: str,
    needs: tuple[str, ...],
    on: RuleKind = RuleKind.FLAG,
    registry: Registry | None = None,
) -> Callable[[RuleFunction], RuleFunction]:
    """Register a flag function (on lookups, or with ``on=COMMUNICATION`` on messages)."""
    return _register(on, code, severity, rule, source, needs, registry)


def empty_hits() -> pd.DataFrame:
    """Return an empty hits table."""
    return pd.DataFrame(
        {
            "row": pd.Series([], dtype="int64"),
            "rests_on": pd.Series([], dtype="str"),
            "reason": pd.Series([], dtype="str"),
        }
    )
