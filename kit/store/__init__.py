"""The on-disk store: Parquet files queried with DuckDB (see :mod:`kit.store.layout`).

``ingest`` adds a data folder to a store; ``open_store`` opens one for the
fast queries (``lookups_by_officer``, ``lookups_by_subject``) and for
``load_dataset``, which gives detection a :class:`kit.dataset.Dataset`.
"""

from __future__ import annotations

from kit.store.cache import cache_store_for, resolve_store
from kit.store.ingest import IngestResult, compact, ingest
from kit.store.layout import Store, open_store
from kit.store.period import Period, parse_day
from kit.store.query import load_dataset, lookups_by_officer, lookups_by_subject, subject_keys

__all__ = [
    "IngestResult",
    "Period",
    "Store",
    "cache_store_for",
    "compact",
    "ingest",
    "load_dataset",
    "lookups_by_officer",
    "lookups_by_subject",
    "open_store",
    "parse_day",
    "resolve_store",
    "subject_keys",
]
