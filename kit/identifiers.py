"""Identifiers of persons, vehicles, accounts and phones (DATA.md, "Identifiers").

Three jobs:

* :func:`person_id_valid` checks the check digit of a Taiwan national ID or a
  resident certificate number (統一證號), both forms;
* :func:`canonical` turns a written identifier into its canonical form;
* :func:`extract` finds every identifier in a query-conditions string or any
  free text, keyed (``車牌=ABC-1234``) or, when its shape is unambiguous, not.

For matching looked-up values inside message text written in any form,
:func:`digit_runs` and :func:`alnum_runs` give the separator-free runs of a
text (accounts and phones; plates and IDs).

The check digit
---------------
Each letter has a two-digit value (``A=10`` … ``Z=33``, see
:data:`LETTER_VALUES`). For a national ID (letter + ``1``/``2`` + 8 digits) and
a new-form resident certificate (letter + ``8``/``9`` + 8 digits) the ten
characters become eleven digits: the letter's tens and units digits, then the
nine digits. Weights are ``1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1``; the number is
valid when the weighted sum is a multiple of 10.

The older resident certificate (used until 2020) has two letters then 8
digits: the first letter counts as above, the second letter (``A``–``D``, the
holder's category and sex) counts as the **units digit of its letter value**
(``A=10`` → 0, ``B=11`` → 1, ``C=12`` → 2, ``D=13`` → 3) with weight 8, and the
digits follow with weights ``7 … 1, 1``. For example ``AA00000009``:
1·1 + 0·9 + 0·8 + 0·7 … + 9·1 = 10 → valid.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from kit.schema import Entity

__all__ = [
    "LETTER_VALUES",
    "Found",
    "alnum_runs",
    "canonical",
    "digit_runs",
    "extract",
    "person_id_valid",
]

LETTER_VALUES: dict[str, int] = {
    "A": 10, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15, "G": 16, "H": 17,
    "I": 34, "J": 18, "K": 19, "L": 20, "M": 21, "N": 22, "O": 35, "P": 23,
    "Q": 24, "R": 25, "S": 26, "T": 27, "U": 28, "V": 29, "W": 32, "X": 30,
    "Y": 31, "Z": 33,
}  # fmt: skip
"""Letter values of the national-ID check-digit algorithm."""

_ID_SHAPE = re.compile(r"[A-Z](?:[1289]\d|[A-D]\d)\d{7}")
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 1, 1)


def person_id_valid(value: str) -> bool:
    """Return whether ``value`` is a national ID or resident number with a valid check digit.

    Parameters
    ----------
    value
        The identifier, any case, surrounding spaces and full-width forms
        tolerated (NFKC is applied).

    Returns
    -------
    bool
        ``True`` for a well-formed number whose check digit is right; ``False``
        for a wrong check digit or a malformed value.

    """
    text = unicodedata.normalize("NFKC", value).strip().upper()
    if not _ID_SHAPE.fullmatch(text):
        return False
    first = LETTER_VALUES[text[0]]
    second = text[1]
    digits = [LETTER_VALUES[second] % 10 if second.isalpha() else int(second)]
    digits += [int(c) for c in text[2:]]
    total = first // 10 + (first % 10) * 9
    total += sum(w * d for w, d in zip(_WEIGHTS, digits, strict=True))
    return total % 10 == 0


def nfkc(text: str) -> str:
    """Return ``text`` in Unicode NFKC form (full-width → half-width)."""
    return unicodedata.normalize("NFKC", text)


_NON_DIGIT = re.compile(r"\D+")
_NON_ALNUM = re.compile(r"[^A-Z0-9]+")


def canonical(entity: Entity | str, text: str) -> str:
    """Return the canonical form of an identifier (DATA.md's table).

    Parameters
    ----------
    entity
        The kind of identifier (:class:`kit.schema.Entity` or its value).
    text
        The identifier as written.

    Returns
    -------
    str
        ``person_id`` upper-case without separators; ``plate`` upper-case
        letters and digits; ``account`` and ``business_id`` digits only;
        ``phone`` digits with ``+886``/``886`` turned into the leading ``0``;
        ``line_id`` lower-case; ``name`` NFKC and trimmed. The function is
        idempotent: ``canonical(e, canonical(e, x)) == canonical(e, x)``.

    """
    kind = Entity(entity)
    norm = nfkc(text).strip()
    if kind is Entity.PERSON_ID:
        return _NON_ALNUM.sub("", norm.upper())
    if kind is Entity.PLATE:
        return _NON_ALNUM.sub("", norm.upper())
    if kind in (Entity.ACCOUNT, Entity.BUSINESS_ID):
        return _NON_DIGIT.sub("", norm)
    if kind is Entity.PHONE:
        return _canonical_phone(norm)
    if kind is Entity.LINE_ID:
        return norm.lower()
    return norm


def _canonical_phone(norm: str) -> str:
    digits = _NON_DIGIT.sub("", norm)
    if norm.startswith("+886") or (digits.startswith("886") and len(digits) in (11, 12)):
        rest = digits[3:]
        return rest if rest.startswith("0") else "0" + rest
    if digits.startswith("00886"):
        rest = digits[5:]
        return rest if rest.startswith("0") else "0" + rest
    return digits


@dataclass(frozen=True)
class Found:
    """One identifier found in a text.

    ``value`` is canonical; ``raw`` the text as written (from the original
    text when NFKC kept its length, else from the NFKC text); ``keyed`` whether
    a key named it; ``id_valid`` the check-digit result for ``person_id`` and
    ``None`` for other entities; ``start``/``end`` the span of ``raw`` in the
    NFKC-normalised text.
    """

    entity: Entity
    value: str
    raw: str
    keyed: bool
    id_valid: bool | None
    start: int
    end: int


# Keys, longest spellings first so an alternation prefers them.
_KEYS: dict[str, Entity | None] = {
    "身分證統一編號": Entity.PERSON_ID,
    "身分證字號": Entity.PERSON_ID,
    "身份證字號": Entity.PERSON_ID,
    "身分證號碼": Entity.PERSON_ID,
    "身份證號碼": Entity.PERSON_ID,
    "身分證號": Entity.PERSON_ID,
    "身份證號": Entity.PERSON_ID,
    "身分證": Entity.PERSON_ID,
    "身份證": Entity.PERSON_ID,
    "統一證號": Entity.PERSON_ID,
    "居留證號": Entity.PERSON_ID,
    "person_id": Entity.PERSON_ID,
    "統一編號": Entity.BUSINESS_ID,
    "統編": Entity.BUSINESS_ID,
    "business_id": Entity.BUSINESS_ID,
    "車牌號碼": Entity.PLATE,
    "車牌號": Entity.PLATE,
    "車牌": Entity.PLATE,
    "車號": Entity.PLATE,
    "plate": Entity.PLATE,
    "銀行帳號": Entity.ACCOUNT,
    "帳號": Entity.ACCOUNT,
    "帳戶": Entity.ACCOUNT,
    "account": Entity.ACCOUNT,
    "行動電話": Entity.PHONE,
    "手機號碼": Entity.PHONE,
    "電話號碼": Entity.PHONE,
    "電話": Entity.PHONE,
    "手機": Entity.PHONE,
    "門號": Entity.PHONE,
    "市話": Entity.PHONE,
    "phone": Entity.PHONE,
    "LINE帳號": Entity.LINE_ID,
    "LINE ID": Entity.LINE_ID,
    "LINE_ID": Entity.LINE_ID,
    "LINEID": Entity.LINE_ID,
    "LINE": Entity.LINE_ID,
    "line_id": Entity.LINE_ID,
    "姓名": Entity.NAME,
    "name": Entity.NAME,
    # Keys that name no identifier: recognised so their values are not read
    # as identifiers of the previous key.
    "案號": None,
    "case_no": None,
    "出生日期": None,
    "生日": None,
}
_KEY_LOOKUP = {k.upper(): v for k, v in _KEYS.items()}

_VALUE_PATTERNS: dict[Entity, str] = {
    Entity.PERSON_ID: r"[A-Za-z][1289A-Da-d]\d{8}(?!\d)",
    Entity.PLATE: r"[A-Za-z0-9]{1,4}(?:[- ]?[A-Za-z0-9]{1,4})?(?![A-Za-z0-9])",
    Entity.ACCOUNT: r"\d+(?:[- ]\d+)*",
    Entity.PHONE: r"(?:\+886[- ]?)?\(?\d+\)?(?:[- ]?\d+)*",
    Entity.LINE_ID: r"[A-Za-z0-9._@\-]+",
    Entity.BUSINESS_ID: r"[A-Za-z][1289A-Da-d]\d{8}(?!\d)|\d{8}(?!\d)",
    Entity.NAME: r"[^\s;,、=:|/]+",
}
_SEP = r"[\s=:;,、]*"
_KEY_RE = re.compile(
    "|".join(re.escape(k) for k in sorted(_KEYS, key=len, reverse=True)), re.IGNORECASE
)
_ASCII_WORD = re.compile(r"[A-Za-z_]")
_VALUE_RE = {e: re.compile(_SEP + r"(?P<value>" + p + r")") for e, p in _VALUE_PATTERNS.items()}

_UNKEYED_RE = re.compile(
    r"(?P<person_id>(?<![A-Za-z0-9])[A-Za-z][1289A-Da-d]\d{8}(?![0-9]))"
    r"|(?P<phone>(?<![\d+])(?:09\d{2}|\+886[- ]?9\d{2})[- ]?\d{3}[- ]?\d{3}(?!\d))"
    r"|(?P<plate>(?<![A-Za-z0-9-])(?:[A-Z0-9]{2,4}-[A-Z0-9]{2,4}|[A-Z]{3}\d{4})(?![A-Za-z0-9-]))"
)
_ENGLISH_KEY_TAIL = re.compile(r"\s*[=:]")
_HAS_LETTER = re.compile(r"[A-Z]")
_HAS_DIGIT = re.compile(r"\d")


def _found(
    entity: Entity, text: str, original: str | None, start: int, end: int, keyed: bool
) -> Found:
    raw_text = text[start:end]
    raw = original[start:end] if original is not None else raw_text
    value = canonical(entity, raw_text)
    id_valid = person_id_valid(value) if entity is Entity.PERSON_ID else None
    return Found(entity, value, raw, keyed, id_valid, start, end)


def extract(text: str, *, unkeyed: bool = True) -> list[Found]:
    """Find every identifier in a text.

    Parameters
    ----------
    text
        Query conditions (``身分證號=A123456789;車號:ABC-1234``) or any free
        text. NFKC is applied first; keys may be Chinese or canonical English
        (``plate=``), separated from their value by ``=``, ``:``, ``;``, ``,``,
        ``、``, spaces or newlines.
    unkeyed
        Also report identifiers without a key when their shape is unambiguous:
        national or resident IDs, plates with letters and digits joined by a
        dash (``ABC-1234``, ``1234-AB``, ``AB-1234``) or the 7-character form
        ``ABC1234``, and mobile numbers (``09`` + 8 digits or ``+886 9…``, also
        spaced or dashed).

    Returns
    -------
    list[Found]
        In order of position. A ``統一編號`` key with an ID-shaped value gives a
        ``person_id``; keys such as ``出生日期`` or ``案號`` give nothing.

    """
    if not text:
        return []
    norm = nfkc(text)
    original = text if len(norm) == len(text) else None
    found: list[Found] = []
    taken: list[tuple[int, int]] = []
    for key_match in _KEY_RE.finditer(norm):
        if taken and key_match.start() < taken[-1][1]:
            continue
        key = key_match.group()
        entity = _KEY_LOOKUP[key.upper()]
        if key[-1].isascii() and _ASCII_WORD.match(norm, key_match.end()):
            continue  # ``LINEAR``, ``nameless``: not a key
        if key.isascii() and key_match.start() and _ASCII_WORD.match(norm, key_match.start() - 1):
            continue
        if key.isascii() and not key.upper().startswith("LINE"):
            # English keys count only as ``key=value`` / ``key: value``.
            if not _ENGLISH_KEY_TAIL.match(norm, key_match.end()):
                continue
        if entity is None:
            taken.append(key_match.span())
            continue
        value_match = _VALUE_RE[entity].match(norm, key_match.end())
        if (
            value_match is None
            or not value_match.group("value").strip()
            or _KEY_RE.match(norm, value_match.start("value"))
        ):
            taken.append(key_match.span())
            continue
        start, end = value_match.span("value")
        value_entity = entity
        if entity is Entity.BUSINESS_ID and not value_match.group("value").isdigit():
            value_entity = Entity.PERSON_ID
        found.append(_found(value_entity, norm, original, start, end, True))
        taken.append((key_match.start(), end))
    if unkeyed:
        masked = norm
        for a, b in taken:
            masked = masked[:a] + " " * (b - a) + masked[b:]
        for m in _UNKEYED_RE.finditer(masked):
            entity = Entity(m.lastgroup or "")
            raw = m.group()
            if entity is Entity.PLATE and not (_HAS_LETTER.search(raw) and _HAS_DIGIT.search(raw)):
                continue
            found.append(_found(entity, norm, original, m.start(), m.end(), False))
    found.sort(key=lambda f: f.start)
    return found


_DIGIT_GROUPS = re.compile(r"\d+(?:-+\d+)*(?: +\d+(?:-+\d+)*)*")
_ALNUM_GROUPS = re.compile(r"[A-Z0-9]+(?:-+[A-Z0-9]+)*(?: +[A-Z0-9]+(?:-+[A-Z0-9]+)*)*")
_MAX_GROUPS = 8


def _runs(pattern: re.Pattern[str], text: str, strip: re.Pattern[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for m in pattern.finditer(text):
        parts = [strip.sub("", p) for p in m.group().split(" ") if p]
        if len(parts) > _MAX_GROUPS:
            spans = [(i, i + 1) for i in range(len(parts))] + [(0, len(parts))]
        else:
            spans = [(i, j) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)]
        for i, j in spans:
            run = "".join(parts[i:j])
            if run not in seen:
                seen.add(run)
                out.append(run)
    return out


def digit_runs(text: str) -> list[str]:
    """Return the digit runs of a text with spaces and dashes inside removed.

    Use it to match known accounts and phones in free text written in any
    form. The text is NFKC-normalised; a run is a stretch of digits joined by
    dashes or spaces. Because a space may also separate two numbers, every
    contiguous sequence of a run's space-separated groups is returned too (for
    runs of up to 8 groups; longer ones give each group and the whole), and a
    run that begins with ``+886``/``886`` also gives its ``0…`` phone form.

    Parameters
    ----------
    text
        Any text.

    Returns
    -------
    list[str]
        Distinct runs of digits in order of first appearance:
        ``"帳號822-1234567890123 或 0912 345 678"`` gives ``8221234567890123``,
        ``0912345678``, ``0912``, ``345``, … .

    """
    norm = nfkc(text)
    runs = _runs(_DIGIT_GROUPS, norm, re.compile(r"-+"))
    extra = ["0" + r[3:] for r in runs if r.startswith("886") and len(r) == 12 and r[3] == "9"]
    return runs + [r for r in extra if r not in runs]


def alnum_runs(text: str) -> list[str]:
    """Return the upper-cased letter-and-digit runs of a text with separators removed.

    Use it to match known plates (and IDs) in free text: ``"車號abc-1234"``
    gives ``ABC1234``. The text is NFKC-normalised and upper-cased; runs of
    ASCII letters and digits joined by dashes or spaces are returned without
    the separators, with every contiguous sequence of space-separated groups
    as in :func:`digit_runs`.

    Parameters
    ----------
    text
        Any text.

    Returns
    -------
    list[str]
        Distinct runs in order of first appearance.

    """
    norm = nfkc(text).upper()
    return _runs(_ALNUM_GROUPS, norm, re.compile(r"-+"))
