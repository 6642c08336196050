"""Public names imported on first use (PEP 562), for the packages that list their API."""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from importlib import import_module
from typing import Any


def lazy_names(
    package: str, api: Mapping[str, str], names: Sequence[str], namespace: MutableMapping[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return a package's ``__getattr__`` and ``__dir__`` for the names of ``api``.

    ``api`` maps each public name to the module defining it; a name is
    imported from there on first use and kept in the package's ``namespace``
    (its ``globals()``), so later lookups are plain attribute reads.
    """

    def getattr_(name: str) -> Any:
        module = api.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted(set(namespace) | set(names))

    return getattr_, dir_
