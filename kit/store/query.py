"""Reading a store: one officer's lookups, one subject's lookups, or a whole Dataset.

The query log is partitioned by month and sorted by (user, time) inside each
file, in row groups of 64k rows, so DuckDB reads only the months asked for
and, within them, only the row groups whose min/max ``user`` can hold the
officer. ``subjects`` (one row per lookup and identifier, with the lookup's
month and user) is sorted by (entity, value): a subject lookup reads a few of
its row groups, then only the query-log months and users that hold the
matching ``lookup_id``. Lookups made through someone else's account (the
officer is ``actual_user``, not ``user``) are found through ``proxies``, a
small table sorted by ``actual_user``.

Officer and subject look-ups first try the look-up index (:mod:`kit.store.index`:
per month, the query log in officer order, memory-mapped, and its keys); when
a month they need has no current index (a store written by an older kit), they
query the Parquet files as above. Both give the same rows in the same order.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable
from datetime import timedelta

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kit.dataset import Dataset
from kit.identifiers import canonical, extract
from kit.schema import KINDS, LEDGER_COLUMNS, SUBJECT_COLUMNS, Entity
from kit.store.files import store_report
from kit.store.index import PROXY_ENTITY, answer_positions, gather, month_indexes
from kit.store.layout import Store, TableSchema, fetch, file_schema, to_frame
from kit.store.period import Bound, Period


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_sql_text(v) for v in values) + "]"


def _in_list(column: str, values: Iterable[str]) -> str:
    items = sorted(set(values))
    if not items:
        return "FALSE"
    return f'"{column}" IN (' + ", ".join(_sql_text(v) for v in items) + ")"


def _scan(files: list[str]) -> str:
    """Return a DuckDB scan of the files (``month`` from the path).

    Files of different schemas (a column added by a later ingest) are read
    by column name; when every file has the same schema, as after compaction,
    the plain scan prunes row groups and is about twice as fast.
    """
    schemas = [file_schema(f) for f in files]
    same = not schemas or all(s.equals(schemas[0]) for s in schemas[1:])
    union = "" if same else ", union_by_name = true"
    return f"read_parquet({_sql_list(files)}, hive_partitioning = true{union})"


def _select(schema: TableSchema) -> str:
    return ", ".join(f'"{c}"' for c in schema.columns)


def _empty(schema: TableSchema | None, kind: str) -> pd.DataFrame:
    if schema is None:
        return Dataset.from_frames().frame(kind)
    return to_frame(schema.arrow.empty_table(), schema)


def _officer_id(officer: str) -> str:
    return unicodedata.normalize("NFKC", officer).strip()


def _query_log(
    store: Store,
    con: duckdb.DuckDBPyConnection,
    period: Period,
    condition: str,
    params: list[object],
    months: list[str] | None = None,
) -> pd.DataFrame:
    """Return query-log rows of the period's months (or ``months``) meeting ``condition``."""
    schema = store.schema("query_log")
    wanted = period.months(store.manifest.months) if months is None else months
    files = store.files("query_log", wanted)
    if schema is None or not files:
        return _empty(schema, "query_log")
    when, when_params = period.sql('"time"')
    sql = (
        f"SELECT {_select(schema)} FROM {_scan(files)} "
        f"WHERE {_in_list('month', wanted)} AND ({condition}) AND {when}"
    )
    table = fetch(con, sql, [*params, *when_params])
    table = table.take(answer_positions(con, table))
    # one chunk per column: the rules take rows from these columns many times
    # (see kit.frames.single_chunk)
    return to_frame(table.combine_chunks(), schema)


def _proxy_keys(
    store: Store, con: duckdb.DuckDBPyConnection, period: Period, officers: Collection[str]
) -> pa.Table:
    """Return (user, month) of the lookups these officers made through another account."""
    files = store.files("proxies")
    if not files or not officers:
        return pa.table({"user": pa.array([], pa.string()), "month": pa.array([], pa.string())})
    when, params = period.sql('"time"')
    sql = (
        f'SELECT DISTINCT "user", month FROM {_scan(files)} '
        f"WHERE {_in_list('actual_user', officers)} AND {when}"
    )
    return fetch(con, sql, params)


def _officers_condition(
    store: Store, con: duckdb.DuckDBPyConnection, period: Period, officers: Collection[str]
) -> str:
    """Return a SQL condition selecting the officers' lookups (as user or actual user)."""
    keys = _proxy_keys(store, con, period, officers)
    direct = _in_list("user", officers)
    if keys.num_rows == 0:
        return direct
    proxied = _in_list("user", keys.column("user").to_pylist())
    return f"{direct} OR ({proxied} AND {_in_list('actual_user', officers)})"


def lookups_by_officer(
    store: Store, officer: str, start: Bound = None, end: Bound = None
) -> pd.DataFrame:
    """Return every lookup the officer made, as ``user`` or as ``actual_user``.

    Parameters
    ----------
    store
        An opened store (:func:`kit.store.open_store`).
    officer
        The officer ID (the value of ``user`` / ``actual_user``, e.g. ``TC04521``).
    start, end
        Inclusive period bounds: ``date``, ``datetime``, ``"YYYY-MM-DD"`` or ROC
        ``"YYY/MM/DD"``; a date includes its whole day. None leaves that end open.

    Returns
    -------
    pandas.DataFrame
        Query-log rows with the loader's columns and dtypes (times tz-aware,
        Asia/Taipei), ordered by time, then source file and line.

    """
    period = Period.of(start, end)
    who = _officer_id(officer)
    schema = store.schema("query_log")
    indexes = None if schema is None else month_indexes(store, period.months(store.manifest.months))
    if schema is not None and indexes is not None:
        rows = [
            index.take(_union(index.user_rows(who), index.key_rows(PROXY_ENTITY, who)), period)
            for index in indexes
        ]
        return to_frame(gather(rows, schema), schema)
    with store.connect() as con:
        condition = _officers_condition(store, con, period, [who])
        return _query_log(store, con, period, condition, [])


def _union(rows: np.ndarray, more: np.ndarray) -> np.ndarray:
    """Return the rows of an officer's own lookups and of those through other accounts, sorted.

    (Most officers have none through other accounts: no sort then.)
    """
    return rows if len(more) == 0 else np.union1d(rows, more)


def subject_keys(identifier: str, entity: Entity | str | None = None) -> list[tuple[str, str]]:
    """Return the (entity, canonical value) pairs an identifier, in any written form, stands for.

    With ``entity`` given, the text is canonicalised as that entity. Otherwise
    the identifiers :func:`kit.identifiers.extract` finds in it (keyed or not:
    ``車牌=abc-1234``, ``ABC-1234``) are used; when it finds none (a bare
    account number, a name), every entity's canonical form of the text is tried.
    """
    if entity is not None:
        return [(str(Entity(entity)), canonical(entity, identifier))]
    found = [(str(f.entity), f.value) for f in extract(identifier)]
    if found:
        return sorted(set(found))
    keys = set()
    for candidate in Entity:
        try:
            value = canonical(candidate, identifier)
        except ValueError:
            continue
        if value:
            keys.add((str(candidate), value))
    return sorted(keys)


def lookups_by_subject(
    store: Store,
    identifier: str,
    start: Bound = None,
    end: Bound = None,
    *,
    entity: Entity | str | None = None,
) -> pd.DataFrame:
    """Return every lookup of a subject, by whoever made it.

    Parameters
    ----------
    store
        An opened store.
    identifier
        The subject in any written form (``ABC-1234``, ``abc1234``,
        ``車牌號碼=ABC-1234``, ``0912-345-678``); see :func:`subject_keys`.
    start, end
        Inclusive period bounds, as for :func:`lookups_by_officer`.
    entity
        Force the entity kind (e.g. ``"account"`` for a bare account number).

    Returns
    -------
    pandas.DataFrame
        Query-log rows, as :func:`lookups_by_officer` returns them.

    """
    period = Period.of(start, end)
    keys = subject_keys(identifier, entity)
    schema = store.schema("query_log")
    months = period.months(store.manifest.months)
    if schema is None or not keys:
        return _empty(schema, "query_log")
    indexes = month_indexes(store, months)
    if indexes is not None:  # (a month without subjects has an index without keys)
        rows = [
            index.take(np.unique(np.concatenate([index.key_rows(e, v) for e, v in keys])), period)
            for index in indexes
        ]
        return to_frame(gather(rows, schema), schema)
    files = store.files("subjects", months)
    if not files:
        return _empty(schema, "query_log")
    match = " OR ".join(f"(entity = {_sql_text(e)} AND value = {_sql_text(v)})" for e, v in keys)
    values = _in_list("value", [v for _, v in keys])
    with store.connect() as con:
        hits = fetch(
            con,
            f'SELECT DISTINCT lookup_id, month, "user" FROM {_scan(files)} '
            f"WHERE {_in_list('month', months)} AND {values} AND ({match})",
        )
        if hits.num_rows == 0:
            return _empty(schema, "query_log")
        con.register("subject_hits", hits)
        users = _in_list("user", hits.column("user").to_pylist())
        condition = f"{users} AND lookup_id IN (SELECT lookup_id FROM subject_hits)"
        hit_months = sorted(set(hits.column("month").to_pylist()))
        return _query_log(store, con, period, condition, [], hit_months)


def _small_table(store: Store, name: str) -> pd.DataFrame | None:
    path, schema = store.table_path(name), store.schema(name)
    if path is None or schema is None:
        return None
    return to_frame(pq.read_table(path), schema)


def _ledger(store: Store, con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """Return every ledger row of every ingest, with :data:`kit.schema.LEDGER_COLUMNS`."""
    schema, files = store.schema("ledger"), store.files("ledger")
    if schema is None or not files:
        return None
    columns = [c for c in LEDGER_COLUMNS if c in schema.columns]
    ledger = TableSchema(
        pa.schema([schema.arrow.field(c) for c in columns]), {c: schema.dtypes[c] for c in columns}
    )
    return to_frame(fetch(con, f"SELECT {_select(ledger)} FROM {_scan(files)}"), ledger)


def _subjects_of(
    store: Store, con: duckdb.DuckDBPyConnection, lookups: pd.DataFrame, months: list[str]
) -> pd.DataFrame:
    """Return the ``subjects`` rows of these lookups (which lie in ``months``)."""
    schema = store.schema("subjects")
    if schema is None:
        return Dataset.from_frames().subjects
    files = store.files("subjects", months) if len(lookups) else []
    columns = list(SUBJECT_COLUMNS)
    subject_schema = TableSchema(
        pa.schema([schema.arrow.field(c) for c in columns]), {c: schema.dtypes[c] for c in columns}
    )
    if not files:
        return to_frame(subject_schema.arrow.empty_table(), subject_schema)
    con.register(
        "wanted_lookups", pa.table({"lookup_id": pa.array(lookups["lookup_id"].astype(str))})
    )
    table = fetch(
        con,
        f"SELECT {_select(subject_schema)} FROM {_scan(files)} "
        f"WHERE {_in_list('month', months)} "
        "AND lookup_id IN (SELECT lookup_id FROM wanted_lookups) ORDER BY lookup_id, entity, value",
    )
    return to_frame(table, subject_schema)


def load_dataset(
    store: Store,
    start: Bound = None,
    end: Bound = None,
    *,
    officers: Collection[str] | None = None,
    margin_before: timedelta = timedelta(0),
    margin_after: timedelta = timedelta(0),
    reuse: Dataset | None = None,
) -> Dataset:
    """Return the store's content as a :class:`kit.dataset.Dataset`, for assessment.

    Parameters
    ----------
    store
        An opened store.
    start, end
        Inclusive period of the query log to load (see :func:`lookups_by_officer`);
        None loads from the first or to the last lookup.
    officers
        Only lookups whose ``user`` or ``actual_user`` is one of these officers.
    margin_before, margin_after
        Widen the query-log period by this much on each side. The detection
        rules judge a lookup with context beyond the range asked for (DOMAIN.md
        "context": volume baselines and repeats look 30 days back), so an
        assessment of [start, end] should load ``margin_before=timedelta(days=30)``
        and keep only the lookups in range for its output. The other kinds
        (roster, register, communications up to 30 days after, cases opened
        earlier, ...) are small and are always loaded whole.
    reuse
        A dataset loaded earlier from the same store: its kinds other than the
        query log and ``subjects`` (and its ledger and report) are taken as
        they are instead of being read again, so that a long range can be
        loaded one part after the other at the cost of its lookups only.

    Returns
    -------
    Dataset
        The query log of the widened period with its ``subjects``; every other
        kind, ``identifiers`` and the ``ledger`` whole; ``report`` rebuilt from
        the store's files table.

    """
    period = Period.of(start, end, margin_before=margin_before, margin_after=margin_after)
    with store.connect() as con:
        if officers is None:
            condition = "TRUE"
        else:
            who = [_officer_id(o) for o in officers]
            condition = _officers_condition(store, con, period, who)
        lookups = _query_log(store, con, period, condition, [])
        months = period.months(store.manifest.months)
        subjects = _subjects_of(store, con, lookups, months)
        ledger = _ledger(store, con) if reuse is None else None
    if reuse is not None:
        kept = {name: getattr(reuse, name) for name in [*KINDS, "identifiers", "ledger"]}
        kept.update({"query_log": lookups, "subjects": subjects})
        return Dataset(**kept, report=reuse.report)
    frames: dict[str, pd.DataFrame] = {"query_log": lookups, "subjects": subjects}
    if ledger is not None:
        frames["ledger"] = ledger
    for name in [*[k for k in KINDS if k != "query_log"], "identifiers"]:
        frame = _small_table(store, name)
        if frame is not None:
            frames[name] = frame
    from kit.load.complete import empty_frame, empty_ledger

    # the empty frames of absent kinds, each typed as the loaders would have made it: from
    # the schema the ingest recorded for it, else built (one template per kind and process)
    for name in KINDS:
        if name not in frames:
            recorded = store.schema(name)
            frames[name] = (
                empty_frame(name)
                if recorded is None
                else to_frame(recorded.arrow.empty_table(), recorded)
            )
    if "ledger" not in frames:
        frames["ledger"] = empty_ledger()
    if "identifiers" not in frames:
        frames["identifiers"] = Dataset.from_frames().identifiers
    names = [*KINDS, "subjects", "identifiers", "ledger"]
    return Dataset(**{name: frames[name] for name in names}, report=store_report(store))
