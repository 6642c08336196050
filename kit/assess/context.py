"""The assessment context: the lookups and the records the rules share.

Built once per assessment from a :class:`kit.dataset.Dataset` (the whole
dataset is context; the asked range only selects output rows). It holds:

* ``lookups``: the query log with the derived columns the rules use —
  ``row`` (position), ``querier`` (``actual_user`` or ``user``), ``q_unit``
  (the querier's unit from ``officers``, else the logged unit), ``t`` (UTC
  microseconds), ``day`` (local Taipei day number), ``case_ref`` (the case
  number entered with the lookup, from ``case_no`` or ``案號`` in the purpose
  or conditions);
* ``subjects``: one row per (lookup row, identifier) with the resolved
  ``key`` (DOMAIN.md "subject": identifiers that ``identities`` ties together,
  and an officer's phones with the officer's ID, share one key);
* coverage of the lookups by each kind of record (DOMAIN.md "coverage").

Times are handled as int64 UTC microseconds; Taipei has no DST, so the local
day is ``(t + 8 h) // 1 day``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kit.assess.config import Config
from kit.frames import single_chunk, take_rows
from kit.identifiers import canonical
from kit.schema import Entity

__all__ = [
    "DAY",
    "HOUR",
    "MINUTE",
    "Context",
    "KeyMap",
    "build_context",
    "join_lists",
    "local_day",
    "subject_rows",
    "to_us",
]

US = 1_000_000
MINUTE = 60 * US
HOUR = 60 * MINUTE
DAY = 24 * HOUR
OFFSET = 8 * HOUR
NAT = np.iinfo(np.int64).min


def to_us(series: pd.Series) -> np.ndarray:
    """Return tz-aware times as int64 UTC microseconds (``NAT`` where missing)."""
    if len(series) == 0:
        return np.zeros(0, dtype=np.int64)
    values = pd.to_datetime(series, utc=True).dt.tz_convert(None).dt.as_unit("us")
    return np.asarray(values.to_numpy().view("int64"), dtype=np.int64)


def local_day(us: np.ndarray) -> np.ndarray:
    """Return the Taipei-local day number (days since 1970-01-01) of UTC microseconds."""
    return np.asarray((us + OFFSET) // DAY, dtype=np.int64)


def date_days(series: pd.Series) -> np.ndarray:
    """Return dates as day numbers (float, ``nan`` where missing)."""
    if len(series) == 0:
        return np.zeros(0, dtype=float)
    if isinstance(series.dtype, pd.ArrowDtype) and pa.types.is_date32(series.dtype.pyarrow_dtype):
        # already Arrow dates: their day numbers directly, no round trip through Python dates
        days = pa.chunked_array(pa.array(series.array)).cast(pa.int32()).cast(pa.float64())
        return np.asarray(days.fill_null(np.nan).to_numpy(), dtype=float)
    arr = pa.array(series.astype(object).where(series.notna(), None), type=pa.date32())
    return np.asarray(arr.cast(pa.int32()).to_numpy(zero_copy_only=False), dtype=float)


def _str_series(values: pa.Array | pa.ChunkedArray) -> pd.Series:
    """Wrap an Arrow text array as a ``str`` Series without a round trip through Python."""
    return pd.Series(pd.array(values.cast(pa.string()), dtype="str"))


def _arrow_text(values: Any) -> pa.Array:
    """Return text values (a Series, Index or array; missing as null) as one Arrow array.

    The array is ``large_string``; Arrow-backed values are not copied through Python.
    """
    arrow = getattr(getattr(values, "array", values), "_pa_array", None)
    if arrow is None:
        arrow = pa.array(np.asarray(values, dtype=object), type=pa.large_string(), from_pandas=True)
    elif not pa.types.is_large_string(arrow.type):
        arrow = arrow.cast(pa.large_string())
    return arrow.combine_chunks() if isinstance(arrow, pa.ChunkedArray) else arrow


def text(series: pd.Series) -> pd.Series:
    """Return a text column with missing values as empty strings."""
    if series.dtype == "str":
        # already text (Arrow-backed, immutable): a shallow copy, no conversion
        return series.fillna("") if series.hasnans else series.copy(deep=False)
    return series.astype("str").fillna("") if len(series) else series.astype("str")


def map_text(mapping: pd.Series, keys: pd.Series, default: str = "") -> pd.Series:
    """Return ``mapping[key]`` for each key as text, ``default`` where missing.

    Each distinct key is looked up once and the values are spread back in
    Arrow: the keys are often the officer IDs of millions of record rows
    (hashing each as a Python string, then building the result from Python
    strings, took 3 s of the records' preparation at 10 M lookups).
    """
    table = mapping[~mapping.index.duplicated()]
    is_text = pd.api.types.is_string_dtype(keys)
    codes, uniques = pd.factorize(text(keys) if is_text else keys, use_na_sentinel=False)
    if is_text:
        uniques = pd.Index(np.asarray(uniques, dtype=object), dtype=object)
    at = pd.Index(table.index).get_indexer(uniques)
    values = np.append(text(table).to_numpy(dtype=object), default)
    out = take_text(pd.Series(values[at], dtype="str"), np.asarray(codes, dtype=np.int64))
    out.index = keys.index
    return out


def refs(kind: str, frame: pd.DataFrame) -> pd.Series:
    """Return ``kind:source_file:source_line`` references for the rows of ``frame``."""
    if len(frame) == 0:
        return pd.Series([], dtype="str")
    files = pa.array(text(frame["source_file"]), type=pa.large_string())
    lines = pa.array(text(frame["source_line"]), type=pa.large_string())
    prefix = pa.scalar(kind, type=pa.large_string())
    sep = pa.scalar(":", type=pa.large_string())
    joined = pc.binary_join_element_wise(prefix, files, lines, sep)
    return _str_series(joined)


def join_lists(groups: np.ndarray, values: pd.Series, n: int, sep: str = ";") -> pd.Series:
    """Join ``values`` per group position (``groups`` sorted ascending, in ``0..n-1``) with Arrow.

    Returns one string per position (empty where a position has no value);
    no Python loop over the groups.
    """
    counts = np.bincount(np.asarray(groups, dtype=np.int64), minlength=n)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64), pa.int64())
    items = _arrow_text(values)
    lists = pa.LargeListArray.from_arrays(offsets, items)
    joined = pc.binary_join(lists, pa.scalar(sep, type=pa.large_string()))
    return _str_series(joined)


class KeyMap:
    """Resolves identifiers to subject keys (DOMAIN.md "subject").

    Identifiers linked by ``identities`` rows (and an officer's phones with
    the officer's ID) form one component; its key is its smallest member
    ``entity:value``. Any other identifier is its own key.
    """

    def __init__(self, links: pd.DataFrame) -> None:
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            root = x
            while parent.get(root, root) != root:
                root = parent[root]
            while parent.get(x, x) != root:
                parent[x], x = root, parent[x]
            return root

        # links is small by construction (identities rows and officers' phones)
        for a, b in zip(links["a"].tolist(), links["b"].tolist(), strict=True):
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        self.representative: dict[str, str] = {m: find(m) for m in list(parent)}

    def _resolved(self, members: pa.Array) -> tuple[pa.Array, pa.Array]:
        """Return each member's root number (:meth:`_root_at`) and its key."""
        root = self._root_at(members)
        return root, pc.if_else(pc.is_null(root), members, self._root_names.take(root))

    def _root_at(self, members: pa.Array) -> pa.Array:
        """Return the number of each member's root in ``_root_names`` (null: its own key)."""
        if "_members" not in self.__dict__:
            roots = pd.Series(list(self.representative.values()), dtype=object)
            codes, names = pd.factorize(roots)
            self._members = pa.array(list(self.representative), type=pa.large_string())
            self._member_root = pa.array(np.asarray(codes, dtype=np.int64))
            self._root_names = pa.array(np.asarray(names, dtype=object), type=pa.large_string())
        at = pc.index_in(members, value_set=self._members)
        return self._member_root.take(at)

    def keys(self, entity: pd.Series, value: pd.Series) -> pd.Series:
        """Return the key of each (entity, value) pair."""
        member = text(entity) + ":" + text(value)
        if not self.representative or len(member) == 0:
            return member
        out = _str_series(self._resolved(_arrow_text(member))[1])
        out.index = member.index
        return out

    def distinct_keys(self, entity: pa.Array, value: pa.Array) -> tuple[pa.Array, np.ndarray]:
        """Return the keys of distinct (entity, value) pairs and a number per key.

        Equal keys get equal numbers: pair ``i`` keeps ``i`` unless its key is a
        component's root, shared with other pairs. The pairs' ``entity:value``
        strings are distinct when no entity holds ``:`` (the :class:`Entity`
        names), so no key is hashed but the few that are roots.
        """
        sep = pa.scalar(":", type=pa.large_string())
        members = pc.binary_join_element_wise(entity, value, sep)
        n = len(members)
        if any(":" in name for name in pc.unique(entity).to_pylist() if name is not None):
            codes, _ = pd.factorize(_str_series(members))
            return members, np.asarray(codes, dtype=np.int64)
        number = np.arange(n, dtype=np.int64)
        if not self.representative or n == 0:
            return members, number
        root, keys = self._resolved(members)
        # a pair that is a root itself shares its number with the pairs it is the root of
        own = pc.index_in(members, value_set=self._root_names).cast(pa.int64())
        root = pc.coalesce(root, own)
        valid = np.asarray(root.is_valid(), dtype=bool)
        number[valid] = n + np.asarray(root.drop_null().to_numpy(), dtype=np.int64)
        return keys, number


@dataclass
class Context:
    """Everything the rules read, built once per assessment."""

    data: Any
    config: Config
    lookups: pd.DataFrame
    subjects: pd.DataFrame
    keymap: KeyMap
    officers: pd.DataFrame
    strong: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    cache: dict[str, Any] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)
    """Preparations of the records that do not depend on the lookups (see :meth:`prepared`)."""

    @property
    def n(self) -> int:
        """Number of lookups in the context."""
        return len(self.lookups)

    def narrowed(self, rows: np.ndarray) -> Context:
        """Return the context of the lookups at ``rows`` (ascending positions) only.

        The lookups and their subjects keep their order and their officer,
        key and value codes (the codes of this context, so records are matched
        as here); rows are renumbered ``0..len(rows)-1``. The records, the key
        map and :attr:`shared` are the same objects. Nothing is resolved again:
        a rule that reads only a lookup and its neighbours within the kept rows
        gives the same result for it on either context.
        """
        rows = np.asarray(rows, dtype=np.int64)
        position = np.full(self.n, -1, dtype=np.int64)
        position[rows] = np.arange(len(rows), dtype=np.int64)
        lookups = take_rows(self.lookups, rows)
        lookups["row"] = np.arange(len(rows), dtype=np.int64)
        at = position[self.subjects["row"].to_numpy()]
        inside = at >= 0
        subjects = take_rows(self.subjects, np.flatnonzero(inside))
        subjects["row"] = at[inside]
        context = Context(self.data, self.config, lookups, subjects, self.keymap, self.officers)
        context.shared = self.shared
        context.strong = np.zeros(len(rows), dtype=bool)
        for name in ("officer_phones", "officer_index", "key_index", "value_index"):
            context.cache[name] = self.cache[name]
        for name in ("arrow_indexes", "record_codes"):  # the same indexes: the same codes
            context.cache[name] = self.cache.setdefault(name, {})
        context.cache["log"] = take_rows(self.cache["log"], rows)
        return context

    def querier_ids(self, rows: np.ndarray, column: str = "q") -> np.ndarray:
        """Return the querier (officer ID) of lookup rows, as Python strings for reasons.

        ``column="u"``: the account's officer ID instead. Taken from the few
        officer IDs by the rows' codes: converting a whole window's ``querier``
        column to Python strings for a reason's hits cost 0.3 s a rule.
        """
        names = self.cache.get("officer_names")
        if names is None:
            names = np.asarray(self.cache["officer_index"], dtype=object)
            self.cache["officer_names"] = names
        codes = self.lookups[column].to_numpy()[np.asarray(rows, dtype=np.int64)]
        return np.asarray(names[codes])

    def lookup_refs(self, rows: np.ndarray) -> pd.Series:
        """Return ``query_log:file:line`` references of lookup rows."""
        if "lookup_refs" not in self.cache:
            # built once for every lookup, then taken per rule
            self.cache["lookup_refs"] = refs("query_log", self.cache["log"]).reset_index(drop=True)
        every: pd.Series = self.cache["lookup_refs"]
        return every.iloc[np.asarray(rows, dtype=np.int64)].reset_index(drop=True)

    def prepared(self, name: str, build: Any) -> Any:
        """Return ``build()``, computed once for every context sharing :attr:`shared`.

        For what depends only on the kinds other than the query log (record
        references, identifiers found in records, tokens): contexts built one
        after the other over the same records (a long range screened in parts)
        share it instead of preparing it again.
        """
        if name not in self.shared:
            self.shared[name] = build()
        return self.shared[name]

    def vocab(self, key: str) -> str:
        """Return a word of the configuration's vocabulary."""
        return self.config.vocabulary[key]

    def officer_unit(self, officer: pd.Series) -> pd.Series:
        """Return the unit (from ``officers``) of each officer ID, empty when unknown."""
        units = self.cache.setdefault(
            "officer_units",
            self.officers.drop_duplicates("officer_id").set_index("officer_id")["unit"],
        )
        return map_text(units, officer)

    def unit_span_coverage(self, name: str, officer: pd.Series, days: np.ndarray) -> np.ndarray:
        """Whether each lookup's querier unit has records of a kind spanning its day.

        Parameters
        ----------
        name
            Cache name of the coverage (the kind).
        officer
            The officer of each record.
        days
            The day number of each record (``nan`` ignored).

        Returns
        -------
        numpy.ndarray
            Boolean over the lookups: the records of the querier's unit run
            from on or before the lookup's day to on or after it.

        """
        key = "cover:" + name
        if key not in self.cache:
            agg = self.prepared("span:" + name, lambda: self._unit_spans(officer, days))
            codes, names = self.unit_codes()
            at = pd.Index(agg.index).get_indexer(names)
            found = at >= 0
            mins = np.append(agg["min"].to_numpy(dtype=float), np.nan)
            maxs = np.append(agg["max"].to_numpy(dtype=float), np.nan)
            lo_u = np.where(found, mins[at], np.nan)
            hi_u = np.where(found, maxs[at], np.nan)
            lo, hi = lo_u[codes], hi_u[codes]
            day = self.lookups["day"].to_numpy()
            self.cache[key] = (lo <= day) & (day <= hi)
        return np.asarray(self.cache[key])

    def _unit_spans(self, officer: pd.Series, days: np.ndarray) -> pd.DataFrame:
        """Return the first and last record day (``min``, ``max``) per unit of the officers."""
        units = self.officer_unit(officer)
        spans = pd.DataFrame({"unit": units, "day": days})
        spans = spans[(spans["unit"] != "") & spans["day"].notna()]
        return spans.groupby("unit")["day"].agg(["min", "max"])

    def _codes(self, index_name: str, values: Any, name: str | None) -> np.ndarray:
        """Return the position of each value in the index ``cache[index_name]`` (-1 when absent).

        With ``name``, ``values`` are a column of prepared records, the same in
        every context sharing :attr:`shared`: they are factorised once, and
        each context looks up only their distinct values. The values are
        matched as Arrow text: hashing Python strings in pandas' ``object``
        indexes took 4.3 s of a 10 M part's 24.5 s, and those indexes held
        1.1 GB of the records' preparations. The columns matched to one index
        are matched together, the first time one of them is asked for: Arrow
        hashes a 10 M part's 1.9 M subject keys in 0.3 s, once instead of once
        per column.
        """
        index = self._arrow_index(self.cache[index_name])
        if name is None:
            codes, uniques = _factorised(values)
            return np.append(_arrow_positions(index, uniques), -1)[codes]
        codes, uniques = self.prepared("codes:" + name, lambda: _factorised(values))
        names: list[str] = self.shared.setdefault("code_columns", {}).setdefault(index_name, [])
        if name not in names:
            names.append(name)
        found: dict[tuple[str, str], np.ndarray] = self.cache.setdefault("record_codes", {})
        if (index_name, name) not in found:
            batch = [n for n in names if (index_name, n) not in found]
            distinct = [self.shared["codes:" + n][1] for n in batch]
            at = _arrow_positions(index, pa.concat_arrays(distinct) if len(batch) > 1 else uniques)
            ends = np.cumsum([len(d) for d in distinct])
            for n, part in zip(batch, np.split(at, ends[:-1]), strict=True):
                found[(index_name, n)] = part
        at_name = found[(index_name, name)]
        return np.append(at_name, -1)[codes]  # a code of -1 (a missing value) picks -1

    def _arrow_index(self, index: pd.Index) -> pa.Array:
        """Return the values of ``index`` as one Arrow text array, made once per context."""
        held = self.cache.setdefault("arrow_indexes", {})
        key = id(index)
        if key not in held or held[key][0] is not index:
            held[key] = (index, _arrow_text(index))
        return held[key][1]

    def officer_codes(self, officer: pd.Series | np.ndarray, name: str | None = None) -> np.ndarray:
        """Return int codes of officer IDs as in ``lookups["q"]``/``["u"]`` (-1: no lookup's).

        ``name``: the IDs are a column of prepared records (see :meth:`_codes`).
        """
        return self._codes("officer_index", officer, name)

    def key_codes(self, keys: pd.Series | np.ndarray, name: str | None = None) -> np.ndarray:
        """Return int codes of subject keys as in ``subjects["k"]`` (-1: no lookup's subject).

        ``name``: the keys are a column of prepared records (see :meth:`_codes`).
        """
        return self._codes("key_index", keys, name)

    def value_codes(self, values: pd.Series | np.ndarray, name: str | None = None) -> np.ndarray:
        """Return int codes of identifier values as in ``subjects["v"]`` (-1: never looked up).

        ``name``: the values are a column of prepared records (see :meth:`_codes`).
        """
        return self._codes("value_index", values, name)

    def unit_codes(self) -> tuple[np.ndarray, pd.Index]:
        """Return the querier units of the lookups as codes into a small index of names."""
        if "unit_codes" not in self.cache:
            codes, names = pd.factorize(self.lookups["q_unit"])
            self.cache["unit_codes"] = (np.asarray(codes), pd.Index(names))
        codes_, names_ = self.cache["unit_codes"]
        return np.asarray(codes_), pd.Index(names_)

    def identifiers_of(self, kind: str, field_name: str, frame: pd.DataFrame) -> pd.DataFrame:
        """Return the identifiers found in one field of a kind, with the frame row.

        Returns
        -------
        pandas.DataFrame
            Columns ``rec`` (position in ``frame``), ``entity``, ``value``, ``key``.

        """
        name = f"identifiers:{kind}:{field_name}"
        found = self.prepared(name, lambda: self._identifier_rows(kind, field_name, frame))
        out = found.copy()
        out["k"] = self.key_codes(out["key"], name)
        return out

    def _identifier_rows(self, kind: str, field_name: str, frame: pd.DataFrame) -> pd.DataFrame:
        """Return ``rec``/``entity``/``value``/``key`` of the identifiers of one field of a kind."""
        codes = self._identifier_codes()
        ids = self.data.identifiers.reset_index(drop=True)
        kind_code = _codes_in(codes["kind_names"], pd.Series([kind], dtype="str"))[0]
        field_code = _codes_in(codes["field_names"], pd.Series([field_name], dtype="str"))[0]
        if kind_code < 0 or field_code < 0:  # no identifier of that field
            pick = np.zeros(0, dtype=np.int64)
        else:
            pick = np.flatnonzero((codes["kind"] == kind_code) & (codes["field"] == field_code))
        # the records' (source_file, source_line) as codes of the identifiers' own values
        files = _codes_in(codes["file_names"], frame["source_file"])
        lines = _codes_in(codes["line_names"], frame["source_line"])
        width = len(codes["line_names"]) + 1
        pos = pd.DataFrame(
            {
                "_at": np.where((files >= 0) & (lines >= 0), files * width + lines, -1),
                "rec": np.arange(len(frame), dtype=np.int64),
            }
        )
        found = pd.DataFrame(
            {
                "_at": codes["file"][pick] * width + codes["line"][pick],
                "entity": take_text(ids["entity"], pick),
                "value": take_text(ids["value"], pick),
            }
        )
        out = found.merge(pos[pos["_at"] >= 0], on="_at")[["rec", "entity", "value"]]
        out = out[out["value"] != ""].drop_duplicates().reset_index(drop=True)
        out["key"] = self.keymap.keys(out["entity"], out["value"])
        return out

    def _identifier_codes(self) -> dict[str, Any]:
        """Return (cached) the identifiers' kind, field, file and line as codes."""
        if "identifier_codes" not in self.shared:
            ids = self.data.identifiers
            # every column as integer codes: as Python strings, the kinds and fields of
            # 7.5 M identifiers (10 M lookups' records) took 0.9 GB
            kind_codes, kind_names = pd.factorize(text(ids["kind"]))
            field_codes, field_names = pd.factorize(text(ids["field"]))
            file_codes, file_names = pd.factorize(text(ids["source_file"]))
            line_codes, line_names = pd.factorize(text(ids["source_line"]))
            self.shared["identifier_codes"] = {
                "kind": np.asarray(kind_codes, dtype=np.int32),
                "field": np.asarray(field_codes, dtype=np.int32),
                "file": np.asarray(file_codes, dtype=np.int64),
                "line": np.asarray(line_codes, dtype=np.int64),
                "kind_names": pd.Index(kind_names),
                "field_names": pd.Index(field_names),
                "file_names": pd.Index(file_names),
                "line_names": pd.Index(line_names),
            }
        return dict(self.shared["identifier_codes"])

    def field_keys(self, frame: pd.DataFrame, column: str, name: str | None = None) -> pd.DataFrame:
        """Return ``rec``/``entity``/``value``/``key`` of a single canonical identifier field.

        With ``name`` (the kind), the rows before their ``k`` codes are prepared
        once for every context sharing :attr:`shared`.
        """
        if name is None:
            found = self._field_rows(frame, column)
            out = found.copy()
            out["k"] = self.key_codes(out["key"])
            return out
        shared_name = f"field:{name}:{column}"
        found = self.prepared(shared_name, lambda: self._field_rows(frame, column))
        out = found.copy()
        out["k"] = self.key_codes(out["key"], shared_name)
        return out

    def _field_rows(self, frame: pd.DataFrame, column: str) -> pd.DataFrame:
        out = pd.DataFrame(
            {
                "rec": np.arange(len(frame), dtype=np.int64),
                "entity": text(frame[column + "_entity"]),
                "value": text(frame[column]),
            }
        )
        out = out[out["value"] != ""].reset_index(drop=True)
        out["key"] = self.keymap.keys(out["entity"], out["value"])
        return out


_CASE_RE = r"案號\s*[:：=]?\s*([0-9A-Za-z\-]+)"


def _case_refs(log: pd.DataFrame, key: str) -> pd.Series:
    pattern = key + r"\s*[:=]?\s*([0-9A-Za-z\-]+)"
    out = text(log["case_no"]).str.strip() if "case_no" in log else pd.Series("", index=log.index)
    for column in ("purpose", "conditions"):
        source = text(log[column])
        need = ((out == "") & source.str.contains(key, regex=False)).to_numpy()
        if need.any():
            found = source[need].str.extract(pattern, expand=False).fillna("")
            out = out.copy()
            out[need] = found.to_numpy()
    has = (out != "").to_numpy()
    result = pd.Series("", index=log.index, dtype="str")
    if has.any():
        result[has] = normal_case_no(out[has]).to_numpy()
    return result


def normal_case_no(series: pd.Series) -> pd.Series:
    """Return case numbers compared as upper-case letters and digits only."""
    return text(series).str.upper().str.replace(r"[^0-9A-Z]", "", regex=True)


def _officer_links(officers: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return officers' phones (officer_id, phone canonical) and person-phone links."""
    phones = officers[["officer_id", "person_id", "phone"]].explode("phone")
    phones = phones[phones["phone"].notna()]
    phone_values = [canonical(Entity.PHONE, p) for p in phones["phone"].astype(str).tolist()]
    table = pd.DataFrame(
        {
            "officer_id": text(phones["officer_id"]).to_numpy(),
            "person_id": text(phones["person_id"]).to_numpy(),
            "phone": pd.Series(phone_values, dtype="str").to_numpy(),
        }
    )
    table = table[table["phone"] != ""].reset_index(drop=True)
    own = table[table["person_id"] != ""]
    links = pd.DataFrame(
        {"a": "phone:" + own["phone"], "b": Entity.PERSON_ID.value + ":" + own["person_id"]}
    )
    return table, links


def take_text(values: pd.Series, positions: np.ndarray) -> pd.Series:
    """Return ``values`` (text) at ``positions`` as a ``str`` Series, taken in Arrow."""
    taken = _arrow_text(text(values).reset_index(drop=True)).take(
        pa.array(np.asarray(positions, dtype=np.int64))
    )
    return _str_series(taken)


def _factorised(values: Any) -> tuple[np.ndarray, pa.Array]:
    """Return the codes of each value (-1 when missing) and the distinct values (Arrow text)."""
    codes, uniques = pd.factorize(pd.Series(values) if isinstance(values, np.ndarray) else values)
    return np.asarray(codes, dtype=np.int64), _arrow_text(uniques)


def _arrow_positions(index: pa.Array, values: pa.Array) -> np.ndarray:
    """Return the position in ``index`` of each of ``values`` (both distinct, Arrow text).

    -1 for a value absent from ``index``, and for a missing one. Arrow hashes
    the set it looks values up in, on every call: the smaller of the two is
    hashed (a context's subject keys are hashed in 0.3 s at 10 M lookups, a
    few record values in no time, and looking up is cheaper than hashing).
    """
    if len(values) * 4 >= len(index):
        found = pc.index_in(values, value_set=index, skip_nulls=True).fill_null(-1)
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)
    # each value is at most once in the index: invert the index's positions among the values
    among = pc.index_in(index, value_set=values, skip_nulls=True)
    valid = np.asarray(among.is_valid(), dtype=bool)
    at = np.full(len(values), -1, dtype=np.int64)
    at[np.asarray(among.drop_null().to_numpy(), dtype=np.int64)] = np.flatnonzero(valid)
    return at


def _codes_in(names: pd.Index, values: pd.Series) -> np.ndarray:
    """Return the position of each text value in ``names`` (-1 when absent), once per distinct."""
    codes, uniques = pd.factorize(text(values))
    at = names.get_indexer(pd.Index(np.asarray(uniques, dtype=object)))
    return np.asarray(np.append(at, -1)[codes], dtype=np.int64)


def _per_distinct(values: pd.Series, function: Any) -> pd.Series:
    """Apply a text → text function once per distinct value and spread the result back."""
    codes, uniques = pd.factorize(values)
    mapped = function(pd.Series(np.asarray(uniques, dtype=object), dtype="str"))
    if len(values) == 0:
        return pd.Series([], index=values.index, dtype="str")
    out = take_text(mapped, np.asarray(codes, dtype=np.int64))
    out.index = values.index
    return out


def subject_rows(log: pd.DataFrame, subjects: pd.DataFrame) -> np.ndarray:
    """Return the position in ``log`` of each subject's lookup (-1: not in ``log``).

    The lookups are matched on ``lookup_id`` with an Arrow hash join.
    """
    ids, wanted = _arrow_text(text(log["lookup_id"])), _arrow_text(text(subjects["lookup_id"]))
    position = pc.index_in(wanted, value_set=ids).fill_null(-1).to_numpy(zero_copy_only=False)
    return np.asarray(position, dtype=np.int64)


def _lookup_subjects(
    log: pd.DataFrame, subjects: pd.DataFrame, keymap: KeyMap, rows: np.ndarray | None = None
) -> tuple[pd.DataFrame, dict[str, pd.Index]]:
    """Return the distinct (lookup row, entity, value) subjects with their keys and codes.

    Rows are ordered by lookup row, then by their order in ``subjects``; the
    ``k`` and ``v`` codes number keys and values in order of first appearance.
    ``rows``: the position of each subject's lookup in ``log`` when known
    (:func:`subject_rows`). The distinct pairs are found on integer codes, so
    no text is compared row by row; keys are resolved once per distinct
    (entity, value).
    """
    position = subject_rows(log, subjects) if rows is None else np.asarray(rows, dtype=np.int64)
    e_codes, e_names = _factorised(text(subjects["entity"]))
    v_codes, v_names = _factorised(text(subjects["value"]))
    empty_value = np.append(np.asarray(pc.equal(v_names, ""), dtype=bool), False)
    keep = np.flatnonzero(~empty_value[v_codes] & (position >= 0))
    # distinct (row, entity, value), the first of each in the order of `subjects`, as one
    # integer each; then in order of lookup row
    width_e, width_v = len(e_names) + 1, len(v_names) + 1
    triple = (position[keep] * width_e + e_codes[keep]) * width_v + v_codes[keep]
    chosen = keep[~pd.Series(triple).duplicated().to_numpy()]
    chosen = chosen[np.argsort(position[chosen], kind="stable")]
    e, v = e_codes[chosen], v_codes[chosen]
    # the keys of the distinct (entity, value) pairs, in order of first appearance
    pair_codes, pair_uniques = pd.factorize(e * width_v + v)
    pair_codes = np.asarray(pair_codes, dtype=np.int64)
    pair_uniques = np.asarray(pair_uniques, dtype=np.int64)
    key_u, key_number = keymap.distinct_keys(
        e_names.take(pa.array(pair_uniques // width_v)),
        v_names.take(pa.array(pair_uniques % width_v)),
    )
    k_of_pair = np.asarray(pd.factorize(key_number)[0], dtype=np.int64)
    subj = pd.DataFrame(
        {
            "row": position[chosen],
            "entity": _str_series(e_names.take(pa.array(e))),
            "value": _str_series(v_names.take(pa.array(v))),
            "key": _str_series(key_u.take(pa.array(pair_codes))),
        }
    )
    subj["k"] = k_of_pair[pair_codes]
    # value codes in order of first appearance over the rows, as factorising the column gives
    v_rows, v_first = pd.factorize(v)
    subj["v"] = np.asarray(v_rows, dtype=np.int64)
    # each key's first pair, in the order of the key codes
    key_at = np.flatnonzero(~pd.Series(k_of_pair).duplicated().to_numpy())
    key_names = _str_series(key_u.take(pa.array(key_at)))
    values = _str_series(v_names.take(pa.array(np.asarray(v_first, dtype=np.int64))))
    index = {"key": pd.Index(key_names), "value": pd.Index(values)}
    return subj, index


def _key_map(
    identities: pd.DataFrame, officers: pd.DataFrame, shared: dict[str, Any]
) -> tuple[KeyMap, pd.DataFrame]:
    """Return the key map and the officers' phones, made once for every context sharing ``shared``.

    Both come from the records alone (``identities`` and ``officers``): a long range
    screened in parts resolved the links of every identity again for each part (0.7 s of
    a 10 M part's evaluation, walking the links in Python).
    """
    if "keymap" not in shared:
        phones, officer_links = _officer_links(officers)
        id_links = pd.DataFrame(
            {
                "a": text(identities["identifier_entity"]) + ":" + text(identities["identifier"]),
                "b": text(identities["belongs_to_entity"]) + ":" + text(identities["belongs_to"]),
            }
        )
        named = (text(identities["identifier"]) != "") & (text(identities["belongs_to"]) != "")
        links = pd.concat([id_links[named], officer_links], ignore_index=True)
        shared["keymap"] = (KeyMap(links), phones)
    keymap, phones = shared["keymap"]
    return keymap, phones


def build_context(
    data: Any,
    config: Config,
    shared: dict[str, Any] | None = None,
    subject_rows: np.ndarray | None = None,
) -> Context:
    """Build the context of an assessment over a whole dataset.

    Parameters
    ----------
    data
        A :class:`kit.dataset.Dataset`.
    config
        The validated configuration.
    shared
        Preparations of an earlier context over the same records (everything
        but the query log and ``subjects``), reused (see :meth:`Context.prepared`).
    subject_rows
        The position of each ``subjects`` row's lookup in the query log, when
        known (:func:`subject_rows`); found from ``lookup_id`` otherwise.

    Returns
    -------
    Context
        The lookups with derived columns, resolved subjects and the key map.

    """
    officers = data.officers.reset_index(drop=True)
    shared = {} if shared is None else shared
    keymap, phones = _key_map(data.identities, officers, shared)

    log = single_chunk(data.query_log.reset_index(drop=True))
    user = text(log["user"])
    actual = text(log["actual_user"])
    querier = actual.where(actual != "", user)
    t = to_us(log["time"])
    lookups = pd.DataFrame(
        {
            "row": np.arange(len(log), dtype=np.int64),
            "querier": querier,
            "t": t,
            "day": local_day(t),
            "case_ref": _case_refs(log, config.vocabulary["case_no_key"]),
        }
    )
    context = Context(data, config, lookups, pd.DataFrame(), keymap, officers)
    context.shared = shared
    context.cache["log"] = log
    context.cache["officer_phones"] = phones
    fallback = text(log["actual_unit"]).where(actual != "", text(log["unit"]))
    fallback = fallback.where(fallback != "", text(log["unit"]))
    q_unit = _per_distinct(querier, context.officer_unit)
    lookups["q_unit"] = q_unit.where(q_unit != "", fallback)
    subj, subject_index = _lookup_subjects(log, data.subjects, keymap, subject_rows)
    who, officer_names = pd.factorize(pd.concat([querier, user], ignore_index=True))
    context.cache["officer_index"] = pd.Index(officer_names)
    context.cache["key_index"] = subject_index["key"]
    context.cache["value_index"] = subject_index["value"]
    lookups["q"] = np.asarray(who[: len(querier)], dtype=np.int64)
    lookups["u"] = np.asarray(who[len(querier) :], dtype=np.int64)
    subj["q"] = lookups["q"].to_numpy()[subj["row"].to_numpy()]
    subj["t"] = t[subj["row"].to_numpy()]
    subj["day"] = lookups["day"].to_numpy()[subj["row"].to_numpy()]
    context.subjects = subj
    context.strong = np.zeros(len(lookups), dtype=bool)
    return context
