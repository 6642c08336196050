"""The kit's own access log (OUTPUTS.md, "The kit's own access log").

The kit handles the personal data it audits, so every run that reads data
appends one JSON line to ``STORE/access_log.jsonl``: when, which OS user, which
investigator, which command, the parameters with every identifier replaced by
its SHA-256, the outputs written and the manifest hashes. Lines are only ever
appended.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from kit.identifiers import extract
from kit.schema import TIMEZONE

ACCESS_LOG_NAME = "access_log.jsonl"

IDENTIFIER_PARAMETERS = frozenset({"id", "ids", "identifier", "identifiers", "subject"})
"""Parameters whose values are always identifiers of persons, hashed whatever they look like."""


def hash_identifier(value: str) -> str:
    """Return ``sha256:<hex>`` of an identifier, so the log can be matched but not read."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()


def _scrub(name: str, value: object) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_scrub(name, v) for v in value]
    text = str(value)
    if name in IDENTIFIER_PARAMETERS:
        return hash_identifier(text)
    found = extract(text)
    if not found:
        return text
    # Replace each identifier inside the text by its hash, from the end so
    # that earlier offsets stay valid.
    for item in sorted(found, key=lambda f: f.start, reverse=True):
        text = text[: item.start] + hash_identifier(item.value) + text[item.end :]
    return text


def scrub_parameters(parameters: Mapping[str, object]) -> dict[str, object]:
    """Return the parameters with every identifier replaced by its SHA-256.

    Parameters
    ----------
    parameters
        Parameter names and values as the command received them.

    Returns
    -------
    dict
        The same names; values under identifier parameters (``--id``) are
        hashed whole, and identifiers found inside any other text value are
        replaced by their hash.

    """
    return {name: _scrub(name, value) for name, value in parameters.items()}


def append_access(
    store: Path,
    command: str,
    parameters: Mapping[str, object],
    *,
    outputs: Sequence[str] = (),
    manifest_hashes: Sequence[str] = (),
    investigator: str | None = None,
) -> dict[str, object]:
    """Append one line to the store's access log and return what was written.

    Parameters
    ----------
    store
        The store folder (or the cache store of a ``--data`` run).
    command
        The kit command (``ingest``, ``screen``, ...).
    parameters
        The command's parameters; identifiers are hashed before writing.
    outputs
        Paths of the files or folders the run wrote.
    manifest_hashes
        SHA-256 of the manifests of bundles the run wrote.
    investigator
        The investigator's name, when the command was given one.

    """
    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):
        os_user = "unknown"
    entry: dict[str, object] = {
        "time": datetime.now(ZoneInfo(TIMEZONE)).isoformat(timespec="seconds"),
        "os_user": os_user,
        "investigator": investigator,
        "command": command,
        "parameters": scrub_parameters(parameters),
        "outputs": list(outputs),
        "manifest_hashes": list(manifest_hashes),
    }
    store.mkdir(parents=True, exist_ok=True)
    with (store / ACCESS_LOG_NAME).open("a", encoding="utf-8") as log:
        log.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
    return entry
