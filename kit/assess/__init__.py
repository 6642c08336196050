"""Detection: explain every lookup, flag the rest, screen a whole agency (DOMAIN.md)."""

from kit.assess.config import Config, load_config
from kit.assess.engine import Assessment, assess
from kit.assess.registry import REGISTRY, Rule, RuleKind, Severity
from kit.assess.screen import screen

__all__ = [
    "REGISTRY",
    "Assessment",
    "Config",
    "Rule",
    "RuleKind",
    "Severity",
    "assess",
    "load_config",
    "screen",
]
