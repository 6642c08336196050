"""Identifiers of the synthetic agency, generated vectorised from integer indices.

Every generator is a bijection from an index range to identifiers, so disjoint
index ranges give disjoint identifiers: officers, their relatives, lookup
subjects and watch-listed people never collide by accident.  The national-ID
check digit is computed here (the generator imports nothing else of the kit).
"""

from __future__ import annotations

import numpy as np

LETTER_VALUES: dict[str, int] = {
    "A": 10,
    "B": 11,
    "C": 12,
    "D": 13,
    "E": 14,
    "F": 15,
    "G": 16,
    "H": 17,
    "I": 34,
    "J": 18,
    "K": 19,
    "L": 20,
    "M": 21,
    "N": 22,
    "O": 35,
    "P": 23,
    "Q": 24,
    "R": 25,
    "S": 26,
    "T": 27,
    "U": 28,
    "V": 29,
    "W": 32,
    "X": 30,
    "Y": 31,
    "Z": 33,
}
"""The number of each first letter of a national ID (the official table)."""

_LETTERS = np.array(list(LETTER_VALUES), dtype="U1")
_LETTER_NUM = np.array(list(LETTER_VALUES.values()), dtype=np.int64)
# Residents of Taichung mostly carry B (Taichung City) or L (former county).
_ID_LETTERS = np.array([1, 11, 0, 5, 13, 6, 9, 10, 8, 3], dtype=np.int64)
_ID_SPACE = len(_ID_LETTERS) * 2 * 10_000_000


def _coprime(mult: int, space: int) -> int:
    while np.gcd(mult, space) != 1:
        mult += 1
    return mult


_SHUFFLE = np.random.default_rng(20231005).permutation(1000).astype(np.int64)


def _permute(index: np.ndarray, space: int, salt: int) -> np.ndarray:
    """Map indices to codes one-to-one in ``[0, space)`` (space divisible by 1000)."""
    x = (index.astype(np.int64) + salt) % space
    # Two rounds of (shuffle the last three digits keyed by the rest, then an
    # affine map): one-to-one, and nearby indices share no digit pattern.
    for mult, key in ((2_654_435_761, 7), (40_503 * 97, 13)):
        high, low = x // 1000, x % 1000
        x = high * 1000 + _SHUFFLE[(low + (high % 997) * key + salt) % 1000]
        x = (x * _coprime(mult % space, space) + salt * 31) % space
    return x


def check_digit(letter_num: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """Return the check digit for national IDs.

    Parameters
    ----------
    letter_num : numpy.ndarray
        The number of each first letter (``A`` = 10 ...).
    digits : numpy.ndarray
        Shape ``(n, 8)``: the gender digit and the seven following digits.

    Returns
    -------
    numpy.ndarray
        The digit that makes the weighted sum divisible by 10.

    """
    total = (letter_num // 10) + (letter_num % 10) * 9
    weights = np.array([8, 7, 6, 5, 4, 3, 2, 1], dtype=np.int64)
    total = total + (digits * weights).sum(axis=1)
    return (10 - total % 10) % 10


def _join(columns: list[np.ndarray]) -> np.ndarray:
    """Join columns of single ASCII characters (uint8 codes) into strings."""
    mat = np.ascontiguousarray(np.stack(columns, axis=1).astype(np.uint8))
    width = mat.shape[1]
    return mat.view(f"S{width}").ravel().astype(f"U{width}")


def _digit_cols(values: np.ndarray, count: int) -> list[np.ndarray]:
    cols = []
    for power in range(count - 1, -1, -1):
        cols.append(48 + (values // 10**power) % 10)
    return cols


def person_ids(index: np.ndarray, *, salt: int = 0, valid: bool = True) -> np.ndarray:
    """Return distinct national IDs for distinct indices (below 200 million).

    Parameters
    ----------
    index : numpy.ndarray
        Integer indices; equal indices give equal IDs.
    salt : int
        Shifts the permutation (use one fixed value per dataset).
    valid : bool
        When false the check digit is off by one (a typo).

    Returns
    -------
    numpy.ndarray
        Unicode strings such as ``B123456789``.

    """
    code = _permute(np.asarray(index), _ID_SPACE, salt)
    letter_pos = _ID_LETTERS[code // 20_000_000]
    gender = 1 + (code // 10_000_000) % 2
    body = code % 10_000_000
    digits = np.stack([gender] + [(body // 10**p) % 10 for p in range(6, -1, -1)], axis=1)
    check = check_digit(_LETTER_NUM[letter_pos], digits)
    if not valid:
        check = (check + 1) % 10
    letters = np.frombuffer("".join(_LETTERS).encode(), dtype=np.uint8)[letter_pos]
    cols = [letters] + [48 + digits[:, i] for i in range(8)] + [48 + check]
    return _join(cols)


def plates(index: np.ndarray, *, salt: int = 0) -> np.ndarray:
    """Return distinct car plates (``ABC-1234``) for distinct indices.

    Letters I and O are not used on plates.
    """
    alphabet = np.frombuffer(b"ABCDEFGHJKLMNPQRSTUVWXYZ", dtype=np.uint8)
    space = 24**3 * 9000
    code = _permute(np.asarray(index), space, salt * 3 + 1)
    number = 1000 + code % 9000
    rest = code // 9000
    cols = [alphabet[(rest // 576) % 24], alphabet[(rest // 24) % 24], alphabet[rest % 24]]
    cols.append(np.full(len(code), 45))
    cols += _digit_cols(number, 4)
    return _join(cols)


def phones(index: np.ndarray, *, salt: int = 0) -> np.ndarray:
    """Return distinct mobile numbers (``0912345678``) for distinct indices."""
    space = 90_000_000
    code = 10_000_000 + _permute(np.asarray(index), space, salt * 5 + 2)
    cols = [np.full(len(code), 48), np.full(len(code), 57), *_digit_cols(code, 8)]
    return _join(cols)


BANK_CODES = np.array([822, 700, 812, 808, 13, 5, 6, 7, 8, 9, 12, 17], dtype=np.int64)


def accounts(index: np.ndarray, *, salt: int = 0) -> np.ndarray:
    """Return distinct bank accounts with bank code (``822-123456789012``)."""
    space = 10**12
    code = _permute(np.asarray(index), space, salt * 7 + 3)
    bank = BANK_CODES[(np.asarray(index, dtype=np.int64) * 7 + salt) % len(BANK_CODES)]
    cols = [*_digit_cols(bank, 3), np.full(len(code), 45), *_digit_cols(code, 12)]
    return _join(cols)


SURNAMES = list("陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周徐蘇葉莊呂江何蕭羅高簡朱鍾彭")
GIVEN = list("志明家豪俊傑建宏文雅淑芬美玲怡君宗翰冠宇承恩品妍雨萱柏睿子涵詠晴國華秀英")
RARE_GIVEN = list("碁恒嫺粧")
"""ETen-extension characters (outside Big5's basic set) used in some names."""


def names(rng: np.random.Generator, count: int, *, rare_share: float = 0.0) -> np.ndarray:
    """Return random three-character Chinese names.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    count : int
        How many names.
    rare_share : float
        Share of names whose last character is an ETen extension character.

    """
    sur = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), count)]
    g1 = np.array(GIVEN)[rng.integers(0, len(GIVEN), count)]
    g2 = np.array(GIVEN)[rng.integers(0, len(GIVEN), count)]
    rare = np.array(RARE_GIVEN)[rng.integers(0, len(RARE_GIVEN), count)]
    g2 = np.where(rng.random(count) < rare_share, rare, g2)
    return np.char.add(np.char.add(sur, g1), g2).astype(object)


def person_id_valid(value: str) -> bool:
    """Tell whether a national ID carries the right check digit."""
    if len(value) != 10 or value[0] not in LETTER_VALUES or not value[1:].isdigit():
        return False
    num = LETTER_VALUES[value[0]]
    total = num // 10 + (num % 10) * 9
    total += sum(int(d) * w for d, w in zip(value[1:9], (8, 7, 6, 5, 4, 3, 2, 1), strict=True))
    total += int(value[9])
    return total % 10 == 0
