"""The reviewed configuration of the rules: ``kit/rules.yaml`` plus overrides.

The file holds the severity weights, the purposes and duty words of
``EXPL_DUTY_CHECK``, the vocabulary the rules look for and the thresholds of
each rule. :func:`load_config` reads it once and merges an override (a path
to a YAML file of the same shape, or a mapping) over it; an unknown key or a
bad value raises :class:`kit.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kit.assess.registry import REGISTRY, Severity
from kit.errors import ConfigError

__all__ = ["RULES_FILE", "Config", "load_config"]

RULES_FILE = Path(__file__).resolve().parent.parent / "rules.yaml"
"""The kit's reviewed rules file."""

_SECTIONS = ("severity_weights", "purposes", "duty_check", "vocabulary", "rules")
_PURPOSES = ("road_check", "traffic_ticket", "traffic_accident")
_VOCABULARY = ("photo_operation", "account_system", "unmarked_vehicle", "outgoing", "case_no_key")


@dataclass(frozen=True)
class Config:
    """The validated configuration.

    Attributes
    ----------
    weights
        Score weight per severity.
    purposes
        Purposes by role (``road_check``, ``traffic_ticket``, ``traffic_accident``).
    duty_check
        For ``EXPL_DUTY_CHECK``: purpose → the duties on which it is plausible.
    vocabulary
        Words the rules look for (photo operations, the 165 system, …).
    thresholds
        Rule code → keyword arguments for the rule function.

    """

    weights: dict[Severity, float]
    purposes: dict[str, str]
    duty_check: dict[str, tuple[str, ...]]
    vocabulary: dict[str, str]
    thresholds: dict[str, dict[str, float]]

    def weight(self, severity: Severity) -> float:
        """Return the score weight of ``severity``."""
        return self.weights[severity]


@functools.cache
def _base() -> dict[str, Any]:
    with RULES_FILE.open(encoding="utf-8") as handle:
        loaded = yaml.safe_load(handle)
    if not isinstance(loaded, dict):
        raise ConfigError("the rules file is not a mapping", file=str(RULES_FILE))
    return loaded


def _number(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{key} must be a non-negative number, got {value!r}", column=key)
    return value


def _mapping(value: object, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key} must be a mapping", column=key)
    return value


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = {k: dict(v) if isinstance(v, Mapping) else v for k, v in base.items()}
    for section, value in override.items():
        if section not in _SECTIONS:
            raise ConfigError(f"unknown configuration key {section}", column=str(section))
        block = _mapping(value, str(section))
        if section == "rules":
            rules = {k: dict(v) for k, v in merged.get("rules", {}).items()}
            for code, params in block.items():
                rules.setdefault(code, {}).update(_mapping(params, f"rules.{code}"))
            merged["rules"] = rules
        else:
            merged.setdefault(section, {}).update(block)
    return merged


def _validate(raw: Mapping[str, Any]) -> Config:
    weights: dict[Severity, float] = {}
    for name, value in _mapping(raw.get("severity_weights", {}), "severity_weights").items():
        if name not in Severity.__members__.values():
            raise ConfigError(f"unknown severity_weights.{name}", column=f"severity_weights.{name}")
        weights[Severity(name)] = _number(value, f"severity_weights.{name}")
    for severity in Severity:
        weights.setdefault(severity, float(severity.weight))
    purposes = {str(k): str(v) for k, v in _mapping(raw.get("purposes", {}), "purposes").items()}
    for key in purposes:
        if key not in _PURPOSES:
            raise ConfigError(f"unknown purposes.{key}", column=f"purposes.{key}")
    duty_check: dict[str, tuple[str, ...]] = {}
    for purpose, duties in _mapping(raw.get("duty_check", {}), "duty_check").items():
        if not isinstance(duties, list) or not all(isinstance(d, str) for d in duties):
            raise ConfigError(f"duty_check.{purpose} must be a list of duty words")
        duty_check[str(purpose)] = tuple(duties)
    vocabulary = {
        str(k): str(v) for k, v in _mapping(raw.get("vocabulary", {}), "vocabulary").items()
    }
    for key in vocabulary:
        if key not in _VOCABULARY:
            raise ConfigError(f"unknown vocabulary.{key}", column=f"vocabulary.{key}")
    missing = [k for k in _PURPOSES if k not in purposes] + [
        k for k in _VOCABULARY if k not in vocabulary
    ]
    if missing:
        raise ConfigError("missing configuration keys: " + ", ".join(missing))
    thresholds: dict[str, dict[str, float]] = {}
    for code, params in _mapping(raw.get("rules", {}), "rules").items():
        if code not in REGISTRY:
            raise ConfigError(f"unknown rule rules.{code}", column=f"rules.{code}")
        allowed = REGISTRY[code].thresholds
        checked: dict[str, float] = {}
        for name, value in _mapping(params, f"rules.{code}").items():
            key = f"rules.{code}.{name}"
            if name not in allowed:
                raise ConfigError(f"unknown threshold {key}", column=key)
            number = _number(value, key)
            checked[name] = (
                int(number) if isinstance(allowed[name], int) and number == int(number) else number
            )
        thresholds[code] = checked
    return Config(weights, purposes, duty_check, vocabulary, thresholds)


def load_config(override: str | Path | Mapping[str, Any] | None = None) -> Config:
    """Return the configuration: ``kit/rules.yaml`` with ``override`` merged over it.

    Parameters
    ----------
    override
        ``None``, a path to a YAML file of the same shape as ``kit/rules.yaml``
        (any subset of its keys), or a mapping of that shape.

    Returns
    -------
    Config
        The validated configuration.

    Raises
    ------
    ConfigError
        For an unknown key, an unknown rule or threshold, or a bad value; the
        error's ``column`` names the key.

    """
    if override is None:
        return _validate(_base())
    if isinstance(override, str | Path):
        path = Path(override)
        try:
            with path.open(encoding="utf-8") as handle:
                loaded = yaml.safe_load(handle) or {}
        except OSError as exc:
            raise ConfigError(f"cannot read the configuration file: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError("the configuration file is not valid YAML", file=str(path)) from exc
        return _validate(_merge(_base(), _mapping(loaded, "configuration")))
    return _validate(_merge(_base(), _mapping(override, "configuration")))
