"""Where a command's data comes from: a store, or a data folder's cache store.

Every command that reads data takes ``--store DIR`` or ``--data DIR``
(OUTPUTS.md). A data folder is ingested into a cache store outside it (the kit
never writes into a data folder); ingesting is idempotent, so a second run on
the same folder only hashes its files.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from kit.store.ingest import ingest
from kit.store.layout import MANIFEST


def cache_store_for(data_dir: Path) -> Path:
    """Return the cache store used for ``--data DIR`` (never inside the data folder).

    The cache lives under ``$KIT_CACHE`` (default ``~/.cache/kit``), one store
    per data folder, named by the SHA-256 of the folder's absolute path.
    """
    root = Path(os.environ.get("KIT_CACHE") or Path.home() / ".cache" / "kit")
    key = hashlib.sha256(str(data_dir.resolve()).encode("utf-8")).hexdigest()[:16]
    return (root / "stores" / key).resolve()


def resolve_store(source: str | Path) -> Path:
    """Return the absolute path of the store to read for ``source``.

    ``source`` is a store (returned as it is, made absolute, so that a
    notebook running in another folder finds it) or a data folder, which is
    ingested into its cache store first.
    """
    path = Path(source).resolve()
    if (path / MANIFEST).is_file():
        return path
    store = cache_store_for(path)
    ingest(path, store)
    return store
