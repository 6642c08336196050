"""How identifiers are typed into query conditions, work logs and case files.

Messy output varies the key, the separator, hyphens and full-width forms the
way officers type them; clean output always writes ``key=value``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)} | {" ": "\u3000"})

PERSON_KEYS = ("身分證號=", "身分證號:", "身分證號：", "統一編號：", "身分證字號=", "")
PERSON_P = (0.45, 0.1, 0.05, 0.05, 0.1, 0.25)
PLATE_KEYS = ("車牌號碼=", "車號:", "車牌：", "")
PLATE_P = (0.4, 0.25, 0.1, 0.25)
ACCOUNT_KEYS = ("帳號=", "帳號：", "帳號:")
ACCOUNT_P = (0.6, 0.2, 0.2)
PHONE_KEYS = ("電話=", "電話:", "")
PHONE_P = (0.5, 0.3, 0.2)
CLEAN_KEYS = {"person_id": "身分證號=", "plate": "車牌號碼=", "account": "帳號=", "phone": "電話="}
LIST_SEPARATORS = (";", "；", "，", "、")


def _pick(
    rng: np.random.Generator, options: tuple[str, ...], p: tuple[float, ...], n: int
) -> np.ndarray:
    return np.array(options, dtype=object)[rng.choice(len(options), size=n, p=np.array(p))]


def hyphen_phone(values: np.ndarray) -> np.ndarray:
    """Write ``0912345678`` as ``0912-345-678``."""
    s = pd.Series(values, dtype=object)
    return (s.str[:4] + "-" + s.str[4:7] + "-" + s.str[7:]).to_numpy(dtype=object)


def typed(
    rng: np.random.Generator, entity: np.ndarray, value: np.ndarray, *, messy: bool
) -> np.ndarray:
    """Return the raw condition text of identifiers, as an officer would type them.

    Parameters
    ----------
    rng : numpy.random.Generator
        Randomness.
    entity : numpy.ndarray
        Entity of each value (``person_id``, ``plate``, ``account``, ``phone``).
    value : numpy.ndarray
        Canonical-display values (plates ``ABC-1234``, accounts ``822-...``).
    messy : bool
        Vary keys and forms (else ``key=value``).

    Returns
    -------
    numpy.ndarray
        Object array of condition texts.

    """
    n = len(value)
    value = np.asarray(value, dtype=object)
    entity = np.asarray(entity, dtype=object)
    if not messy:
        clean = pd.Series(entity, dtype=object).map(CLEAN_KEYS).to_numpy(dtype=object)
        return clean + value
    out = value.copy()
    key = np.full(n, "", dtype=object)
    choices: tuple[tuple[str, tuple[str, ...], tuple[float, ...]], ...] = (
        ("person_id", PERSON_KEYS, PERSON_P),
        ("plate", PLATE_KEYS, PLATE_P),
        ("account", ACCOUNT_KEYS, ACCOUNT_P),
        ("phone", PHONE_KEYS, PHONE_P),
    )
    for ent, options, p in choices:
        sel = np.flatnonzero(entity == ent)
        key[sel] = _pick(rng, options, p, len(sel))
    plate = entity == "plate"
    nohyphen = plate & (key != "") & (rng.random(n) < 0.5)
    out[nohyphen] = (
        pd.Series(out[nohyphen], dtype=object).str.replace("-", "").to_numpy(dtype=object)
    )
    phone = entity == "phone"
    hyphen = phone & (rng.random(n) < 0.5)
    out[hyphen] = hyphen_phone(out[hyphen])
    account = entity == "account"
    plain = account & (rng.random(n) < 0.3)
    out[plain] = pd.Series(out[plain], dtype=object).str.replace("-", "").to_numpy(dtype=object)
    text = key + out
    wide = rng.random(n) < 0.04
    text[wide] = (
        pd.Series(text[wide], dtype=object).str.translate(FULL_WIDTH).to_numpy(dtype=object)
    )
    return text


def keyed(
    entity: np.ndarray, value: np.ndarray, rng: np.random.Generator, *, messy: bool
) -> np.ndarray:
    """Return identifiers with their key, as in case files (``車牌=ABC-1234``)."""
    keys = {"person_id": "身分證號=", "plate": "車牌=", "account": "帳號=", "phone": "電話="}
    prefix = pd.Series(entity, dtype=object).map(keys).to_numpy(dtype=object)
    if messy:
        bare = (np.asarray(entity) == "person_id") & (rng.random(len(value)) < 0.3)
        prefix[bare] = ""
    return prefix + np.asarray(value, dtype=object)


def name_birth(rng: np.random.Generator, names: np.ndarray) -> np.ndarray:
    """Return ``姓名=王小明;出生日期=0800101`` conditions (ROC birth dates)."""
    n = len(names)
    year = rng.integers(45, 95, n)
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    birth = pd.Series(year * 10000 + month * 100 + day).astype(str).str.zfill(7)
    sep = np.array([";", "；", " "], dtype=object)[rng.integers(0, 3, n)]
    return (
        "姓名=" + np.asarray(names, dtype=object) + sep + "出生日期=" + birth.to_numpy(dtype=object)
    )
