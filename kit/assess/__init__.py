"""Detection: explain every lookup, flag the rest, screen a whole agency (DOMAIN.md).

``kit.assess`` is both this sub-package and the function notebooks call
(``kit.assess(store, start, end)``). Python binds a sub-package to its
parent's attribute when it is first imported, which would hide the function,
so this module is made callable: calling it calls :func:`assess`.
"""

import sys
import types
from typing import Any

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


class _CallableModule(types.ModuleType):
    """The kit.assess package, callable as :func:`kit.assess.engine.assess`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Assessment:
        return assess(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
