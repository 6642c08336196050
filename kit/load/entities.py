"""Classify identifier cells: which entity a value is, and its canonical form.

Rules (DATA.md "Identifiers"):

* a column that names its entity (``officers.person_id``, ``tickets.plate``,
  ``police_vehicles.plate``, ``communications.own_phone``) canonicalises with
  that entity unless a key in the cell says otherwise;
* ``communications.counterpart``: a keyed value as keyed; else a phone when
  phone-shaped (digits with ``+``, spaces, dashes or brackets); else a
  ``name`` when it contains CJK characters; else a ``line_id`` (lower-case);
* any other identifier field or list item (relations, watchlist,
  identities, case parties, operation targets): the first identifier that
  :func:`kit.identifiers.extract` finds (keyed first); failing that, by shape:
  phone-shaped starting with ``0`` → phone, other digits → account, CJK text →
  name, anything else → line_id.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from kit.identifiers import canonical, extract, person_id_valid
from kit.load.fastsubjects import fast_extract
from kit.normalise import TEXT_DTYPE, nfkc
from kit.schema import Entity

__all__ = [
    "DEFAULT_ENTITY",
    "Classified",
    "classify_arrays",
    "classify_column",
    "classify_many",
    "classify_value",
]

DEFAULT_ENTITY: dict[tuple[str, str], Entity] = {
    ("officers", "person_id"): Entity.PERSON_ID,
    ("tickets", "person_id"): Entity.PERSON_ID,
    ("tickets", "plate"): Entity.PLATE,
    ("police_vehicles", "plate"): Entity.PLATE,
    ("communications", "own_phone"): Entity.PHONE,
    ("officers", "phone"): Entity.PHONE,
}
"""Columns whose values are of one entity unless keyed otherwise."""

_PHONE_SHAPE = re.compile(r"^\+?[\d\s\-()]{6,20}$")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_DIGITS = re.compile(r"^[\d\s\-]+$")


def classify_value(
    text: str, *, default: Entity | None = None, counterpart: bool = False
) -> tuple[Entity, str, bool | None, bool]:
    """Return ``(entity, canonical value, id_valid, keyed)`` of one identifier cell.

    Parameters
    ----------
    text
        The cell as written.
    default
        The entity the column holds, when it names one.
    counterpart
        Use the rules of ``communications.counterpart``.

    Returns
    -------
    tuple
        ``id_valid`` is the check-digit result for a ``person_id``, else ``None``.

    """
    found = extract(text)
    keyed = [f for f in found if f.keyed]
    if keyed:
        f = keyed[0]
        return f.entity, f.value, f.id_valid, True
    norm = nfkc(text).strip()
    if default is not None:
        entity = default
    elif counterpart:
        if _PHONE_SHAPE.match(norm) and any(c.isdigit() for c in norm):
            entity = Entity.PHONE
        elif _CJK.search(norm):
            entity = Entity.NAME
        else:
            entity = Entity.LINE_ID
    elif found:
        f = found[0]
        return f.entity, f.value, f.id_valid, False
    elif _PHONE_SHAPE.match(norm) and canonical(Entity.PHONE, norm).startswith("0"):
        entity = Entity.PHONE
    elif _DIGITS.match(norm):
        entity = Entity.ACCOUNT
    elif _CJK.search(norm):
        entity = Entity.NAME
    else:
        entity = Entity.LINE_ID
    value = canonical(entity, norm)
    valid = person_id_valid(value) if entity is Entity.PERSON_ID else None
    return entity, value, valid, False


Classified = tuple[Entity, str, bool | None, bool]
_ENTITIES = {e.value: e for e in Entity}


def classify_arrays(
    texts: Sequence[str], *, default: Entity | None = None, counterpart: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Classify many distinct cells into aligned arrays (no tuple per cell).

    Gives exactly :func:`classify_value` for each text: the common shapes
    vectorised (those :func:`kit.load.fastsubjects.fast_extract` handles,
    accepted only where they cannot differ: keyed, or of the column's
    entity), the rest one by one.

    Returns
    -------
    entity, value, id_valid, keyed : numpy.ndarray
        Entity names (text), canonical values, ``True``/``False``/``None``
        (object) and booleans, one per text.

    """
    n = len(texts)
    entity = np.empty(n, dtype=object)
    value = np.empty(n, dtype=object)
    valid = np.full(n, None, dtype=object)
    keyed = np.zeros(n, dtype=bool)
    done = np.zeros(n, dtype=bool)
    if not counterpart and n:
        found, _ = fast_extract(pa.array(list(texts), type=pa.string()))
        if len(found):
            codes = found["_code"].to_numpy(dtype=np.int64)
            found_entity = found["entity"].to_numpy(dtype=object)
            found_keyed = found["keyed"].to_numpy(dtype=bool)
            accept = found_keyed.copy()
            if default is None:
                accept[:] = True
            else:
                accept |= found_entity == default.value
            rows = codes[accept]
            flags = found["id_valid"].astype("boolean")[accept]
            entity[rows] = found_entity[accept]
            value[rows] = found["value"].to_numpy(dtype=object)[accept]
            flag_values = flags.fillna(False).to_numpy(dtype=bool).astype(object)
            flag_values[flags.isna().to_numpy(dtype=bool)] = None
            valid[rows] = flag_values
            keyed[rows] = found_keyed[accept]
            done[rows] = True
    for i in np.flatnonzero(~done):
        e, v, ok, k = classify_value(texts[int(i)], default=default, counterpart=counterpart)
        entity[i], value[i], valid[i], keyed[i] = e.value, v, ok, k
    return entity, value, valid, keyed


def classify_many(
    texts: Sequence[str], *, default: Entity | None = None, counterpart: bool = False
) -> list[Classified]:
    """Classify many distinct cells: the common shapes vectorised, the rest one by one.

    Gives exactly :func:`classify_value` for each text (see :func:`classify_arrays`).
    """
    entity, value, valid, keyed = classify_arrays(texts, default=default, counterpart=counterpart)
    return [
        (_ENTITIES[e], str(v), None if ok is None else bool(ok), bool(k))
        for e, v, ok, k in zip(entity, value, valid, keyed, strict=True)
    ]


def classify_column(
    kind: str, column: str, raw: pd.Series, types: pd.Series | None = None
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Classify a whole identifier column, once per distinct value.

    Parameters
    ----------
    kind, column
        Where the column comes from (selects the rules of the module docstring).
    raw
        The cells as written (missing stays missing).
    types
        Unused by the rules today; accepted so callers can pass
        ``communications.type``.

    Returns
    -------
    entity, value, id_valid : pandas.Series
        Text, text and nullable boolean, aligned with ``raw``.

    """
    del types
    default = DEFAULT_ENTITY.get((kind, column))
    counterpart = (kind, column) == ("communications", "counterpart")
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    entities, values, valids, _ = classify_arrays(
        [str(u) for u in np.asarray(uniques, dtype=object)],
        default=default,
        counterpart=counterpart,
    )
    valid = np.concatenate([valids, np.array([None], dtype=object)])
    idx = np.where(codes < 0, len(uniques), codes)
    take = pa.array(codes, mask=codes < 0)  # missing cells stay missing
    return (
        pd.Series(pd.array(pa.array(entities, pa.string()).take(take), dtype=TEXT_DTYPE)),
        pd.Series(pd.array(pa.array(values, pa.string()).take(take), dtype=TEXT_DTYPE)),
        pd.Series(valid[idx], dtype="boolean"),
    )
