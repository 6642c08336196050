"""Masking identifiers for everything a bundle shows (OUTPUTS.md, issue 5).

Every view and export masks through one :class:`Masker`, so hover texts,
graph labels, tables and spreadsheets cannot disagree or leak. A masked value
keeps enough to tell it from others at a glance and carries a stable
pseudonym, so two different subjects never look the same::

    person_id  A123456789      ->  A12****789 〔P01〕
    name       王小明          ->  王○明 〔N01〕
    plate      ABC1234         ->  ABC-**34 〔V01〕
    phone      0912345678      ->  0912-***-678 〔T01〕
    account    8221234567890123 -> ************0123 〔A01〕
    line_id    fraud_boss88    ->  fr*********8 〔L01〕
    business_id 12345678       ->  12****78 〔B01〕

Pseudonyms are numbered per entity kind in the order values are first
registered; callers register in a deterministic order (time, then lookup ID)
so the same inputs give the same pseudonyms. Pseudonyms are sequence numbers,
not hashes: a hash of a national ID could be reversed by trying every ID.

Free text (query conditions, message contents, work-log entries) is masked in
four passes: every identifier :func:`kit.identifiers.extract` finds; every
value registered with :meth:`Masker.register` (canonical and raw forms,
case-insensitive), which catches what has no recognisable shape in free text,
such as a person's name or a LINE ID written without a key; every registered
plate, ID, phone or account written in another form (``abc 1234``,
``0912-345 678``: compared without separators); and every remaining run of
six or more digits (an unkeyed account or landline; in the kit's own
sentences, such as the reasons of the evidence, a date written
``YYYY-MM-DD`` is left as it is).

With ``reveal=True`` values are shown in full (the court may see them); the
identifiers a request itself names (``kit subject --id``) are always shown in
full, since the reader already knows them.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable

import pandas as pd

from kit.identifiers import extract
from kit.schema import Entity

__all__ = ["LEFTOVER_DIGITS", "PSEUDONYM_LETTER", "Masker", "mask_identifier"]

PSEUDONYM_LETTER: dict[str, str] = {
    Entity.PERSON_ID: "P",
    Entity.NAME: "N",
    Entity.PLATE: "V",
    Entity.PHONE: "T",
    Entity.ACCOUNT: "A",
    Entity.LINE_ID: "L",
    Entity.BUSINESS_ID: "B",
}
"""First letter of the pseudonym of each entity kind (``X`` for any other)."""

_PLATE_GROUPS = re.compile(r"[A-Z]+|[0-9]+")
_DIGIT_RUN = re.compile(r"\d(?:[\d\- ]*\d)?")
"""A run of digits, possibly with spaces or dashes inside (an account, a landline)."""
_DATE_OR_DIGIT_RUN = re.compile(
    r"(?P<date>(?<![\d-])\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?![\d-]))|"
    + _DIGIT_RUN.pattern
)
"""The same, or a date written ``YYYY-MM-DD`` (left as it is): in the kit's own sentences."""
_NON_DIGIT = re.compile(r"\D")
LEFTOVER_DIGITS = 6
"""Digit runs of at least this many digits that no identifier rule claimed are masked
too: an unkeyed bank account or landline in a message is still personal data."""
_COMPACT_ENTITIES = frozenset(
    {Entity.PERSON_ID, Entity.PLATE, Entity.PHONE, Entity.ACCOUNT, Entity.BUSINESS_ID}
)
_ALNUM = re.compile(r"[A-Za-z0-9]+")
_RUN = re.compile(r"[A-Za-z0-9]+(?:[\- ]+[A-Za-z0-9]+)*")
_GROUP = re.compile(r"[A-Za-z0-9]+")
MAX_GROUPS = 6
"""Registered values are looked for in up to this many space- or dash-separated groups."""
MIN_LITERAL = 2
"""Registered values shorter than this are not searched for in free text (one
character would mask every occurrence of a common character)."""


def _mask_middle(value: str, keep_start: int, keep_end: int, fill: str = "*") -> str:
    if len(value) <= keep_start + keep_end:
        return fill * len(value)
    return value[:keep_start] + fill * (len(value) - keep_start - keep_end) + value[-keep_end:]


def _mask_plate(value: str) -> str:
    groups = _PLATE_GROUPS.findall(value)
    if len(groups) < 2 or "".join(groups) != value:
        return _mask_middle(value, 2, 2)
    masked = []
    for group in groups:
        if group.isdigit():
            masked.append("*" * max(len(group) - 2, 1) + group[-2:])
        else:
            masked.append(group)
    return "-".join(masked)


def _mask_phone(value: str) -> str:
    if value.startswith("09") and len(value) == 10:
        return f"{value[:4]}-***-{value[-3:]}"
    return _mask_middle(value, 2, 3)


def _mask_name(value: str) -> str:
    if len(value) <= 1:
        return "○"
    if len(value) == 2:
        return value[0] + "○"
    return value[0] + "○" * (len(value) - 2) + value[-1]


def mask_identifier(entity: str, value: str) -> str:
    """Return the masked display form of one canonical identifier (no pseudonym).

    Parameters
    ----------
    entity
        The entity kind (:class:`kit.schema.Entity` value); an unknown kind
        keeps only the first and last character.
    value
        The canonical value.

    Returns
    -------
    str
        ``A12****789`` (person ID), ``王○明`` (name), ``ABC-**34`` (plate),
        ``0912-***-678`` (mobile), ``************0123`` (account: last four
        digits), ``fr*********8`` (LINE ID), ``12****78`` (business ID).

    """
    if entity == Entity.PERSON_ID:
        return _mask_middle(value, 3, 3)
    if entity == Entity.PLATE:
        return _mask_plate(value)
    if entity == Entity.PHONE:
        return _mask_phone(value)
    if entity == Entity.ACCOUNT:
        return _mask_middle(value, 0, 4)
    if entity == Entity.LINE_ID:
        return _mask_middle(value, 2, 1)
    if entity == Entity.BUSINESS_ID:
        return _mask_middle(value, 2, 2)
    if entity == Entity.NAME:
        return _mask_name(value)
    return _mask_middle(value, 1, 1)


_CASE_FIXES = {"\u0130": "i", "\u1fd3": "\u0390", "\u1fe3": "\u03b0", "\ufb05": "\ufb06"}
"""The characters whose case class ``re.IGNORECASE`` joins but upper- then lower-casing
does not (İ and i; two Greek letters with dialytika and tonos written two ways; the two
``st`` ligatures). ``tests/test_mask.py`` checks every cased character of the running Python."""


def _single(changed: str, char: str) -> str:
    return changed if len(changed) == 1 else char


def case_key(char: str) -> str:
    """Return one character standing for every character ``re.IGNORECASE`` matches with ``char``.

    Two characters that a case-insensitive regex matches with each other get
    the same key (the converse need not hold): a text in which no two
    consecutive keys are those of a value's first two characters cannot
    contain the value (:meth:`Masker.text`'s prefilter).
    """
    char = _CASE_FIXES.get(char, char)
    upper = _single(char.upper(), char)
    return _single(upper.lower(), upper)


class _CaseKeys(dict[int, str]):
    """``str.translate`` table of :func:`case_key`, filled as characters are met."""

    def __missing__(self, code: int) -> str:
        key = self[code] = case_key(chr(code))
        return key


_CASE_KEYS = _CaseKeys()


@functools.lru_cache(maxsize=65536)
def _literal_regex(literal: str) -> re.Pattern[str]:
    """Return the case-insensitive regex of one registered literal."""
    return re.compile(re.escape(literal), re.IGNORECASE)


class Masker:
    """Masks identifiers consistently across every view of one bundle.

    Parameters
    ----------
    reveal
        Show identifiers in full (the manifest records the mode).
    revealed
        Canonical values that may always appear in full (the identifiers a
        request names).

    Examples
    --------
    >>> m = Masker()
    >>> m.show("person_id", "A123456789")
    'A12****789 〔P01〕'
    >>> m.text("身分證號=A123456789")
    '身分證號=A12****789 〔P01〕'

    """

    def __init__(self, *, reveal: bool = False, revealed: Iterable[str] = ()) -> None:
        self.reveal = reveal
        self.revealed = frozenset(str(v) for v in revealed)
        self._revealed_folded = frozenset(v.casefold() for v in self.revealed)
        self._pseudonyms: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}
        self._literals: dict[str, tuple[str, str]] = {}
        self._compact: dict[str, tuple[str, str]] = {}
        self._compact_lengths: set[int] = set()
        """Lengths of the keys of :attr:`_compact` (a stretch of another length cannot match)."""
        self._literal_keys: dict[str, list[str]] = {}
        """Registered literals by the case keys (:func:`case_key`) of all their characters,
        for the few whose keys are not the literal itself (most are: :attr:`_literals`
        finds those, without a second entry for each of millions of values)."""
        self._literal_starts: set[str] = set()
        """The case keys of the registered literals' first two characters."""
        self._literal_lengths: list[int] = []
        """The registered literals' lengths, longest first."""
        self._masked_texts: dict[tuple[bool, str], str] = {}
        """:meth:`text` results by (dates kept, input text); cleared whenever :meth:`register`
        adds a value."""
        self._masked_rests: dict[tuple[bool, str], str] = {}
        """The same for the text between identifiers (``身分證號=`` recurs in every condition)."""
        self._shown: dict[tuple[str, str], str] = {}
        """:meth:`show` results by (entity, value)."""
        self._sources: list[object] = []
        """Objects whose values :meth:`register_source` has registered (kept alive here)."""

    def pseudonym(self, entity: str, value: str) -> str:
        """Return the stable pseudonym (``P07``) of a value, assigning the next one if new."""
        key = (str(entity), str(value))
        found = self._pseudonyms.get(key)
        if found is None:
            letter = PSEUDONYM_LETTER.get(str(entity), "X")
            self._counts[letter] = self._counts.get(letter, 0) + 1
            found = f"{letter}{self._counts[letter]:02d}"
            self._pseudonyms[key] = found
        return found

    def register(
        self,
        entities: Iterable[str],
        values: Iterable[str],
        raws: Iterable[str | None] | None = None,
    ) -> None:
        """Assign pseudonyms in the order given and watch for the values in free text.

        Parameters
        ----------
        entities, values
            Entity kinds and canonical values, in a deterministic order (call
            with time-ordered subjects); missing values are skipped.
        raws
            Optional raw forms (as written in the source), searched for in
            free text by :meth:`text` beside the canonical values.

        """
        entity_list = [str(e) for e in entities]
        value_list = list(values)
        raw_list = list(raws) if raws is not None else [None] * len(value_list)
        rows = zip(entity_list, value_list, raw_list, strict=True)
        for entity, value, raw in rows:
            if value is None or pd.isna(value):
                continue
            value = str(value)
            self.pseudonym(entity, value)
            if (
                entity in _COMPACT_ENTITIES
                and _ALNUM.fullmatch(value)
                and value.upper() not in self._compact
            ):
                self._compact[value.upper()] = (entity, value)
                self._compact_lengths.add(len(value))
                self._forget_masked_texts()
            for form in (value, raw):
                if form is None or pd.isna(form):
                    continue
                folded = unicodedata.normalize("NFKC", str(form)).strip().casefold()
                if len(folded) >= MIN_LITERAL and folded not in self._literals:
                    self._literals[folded] = (entity, value)
                    keys = folded.translate(_CASE_KEYS)
                    if keys != folded:
                        self._literal_keys.setdefault(keys, []).append(folded)
                    self._literal_starts.add(keys[:2])
                    if len(folded) not in self._literal_lengths:
                        self._literal_lengths.append(len(folded))
                        self._literal_lengths.sort(reverse=True)
                    self._forget_masked_texts()

    def register_source(self, source: object, register: Callable[[Masker], None]) -> None:
        """Call ``register(self)`` for ``source`` once; later calls for the same object do nothing.

        Every view of a report registers the whole dataset before it shows
        anything; registering the same values again would change nothing
        (pseudonyms and the values watched for are kept), it would only cost
        time. ``source`` must not change once registered (a dataset does not).
        """
        if any(known is source for known in self._sources):
            return
        register(self)
        self._sources.append(source)

    def _forget_masked_texts(self) -> None:
        self._masked_texts.clear()
        self._masked_rests.clear()

    def register_frame(
        self, frame: pd.DataFrame, entity: str = "entity", value: str = "value", raw: str = "raw"
    ) -> None:
        """Register the distinct (entity, value, raw) rows of a frame, in row order."""
        if frame.empty:
            return
        columns = [c for c in (entity, value, raw) if c in frame.columns]
        distinct = frame[columns].dropna(subset=[value]).drop_duplicates()
        raws = distinct[raw].astype("object") if raw in distinct.columns else None
        self.register(
            distinct[entity].astype(str).tolist(),
            distinct[value].astype(str).tolist(),
            None if raws is None else [None if pd.isna(r) else str(r) for r in raws],
        )

    def is_shown_in_full(self, value: str) -> bool:
        """Return whether a canonical value is shown unmasked."""
        return self.reveal or value in self.revealed

    def show(self, entity: str, value: str) -> str:
        """Return how one canonical identifier is shown: full, or masked with its pseudonym.

        Each (entity, value) is worked out once (every view of a report shows
        the same subjects; the pseudonym of a value never changes).
        """
        key = (str(entity), str(value))
        found = self._shown.get(key)
        if found is None:
            value = key[1]
            if self.is_shown_in_full(value):
                found = value
            else:
                found = f"{mask_identifier(key[0], value)} 〔{self.pseudonym(entity, value)}〕"
            self._shown[key] = found
        return found

    def show_series(self, entities: pd.Series, values: pd.Series) -> pd.Series:
        """Vectorised :meth:`show`: masks each distinct (entity, value) once and maps back.

        Pseudonyms of new values are assigned in order of first appearance.
        Missing values stay missing.
        """
        pairs = pd.DataFrame(
            {
                "entity": entities.astype("string").to_numpy(),
                "value": values.astype("string").to_numpy(),
            }
        )
        distinct = pairs.dropna().drop_duplicates()
        distinct = distinct.assign(
            shown=[
                self.show(e, v) for e, v in zip(distinct["entity"], distinct["value"], strict=True)
            ]
        )
        merged = pairs.merge(distinct, on=["entity", "value"], how="left")
        return pd.Series(merged["shown"].to_numpy(), index=values.index, dtype="string")

    def text(self, text: object, *, keep_dates: bool = False) -> str | None:
        """Mask every identifier found inside free text (conditions, messages).

        The text is NFKC-normalised first (identifier positions are found in
        the normalised text); everything that is not an identifier is kept.
        Each distinct text is masked once: once masked, every value in it has
        its pseudonym, so the result stays the same until :meth:`register`
        adds a value to look for.

        ``keep_dates=True`` is for the kit's own sentences (the reasons of the
        evidence), whose ``YYYY-MM-DD`` dates are the times of the records
        they cite: those are not masked as eight-digit accounts. In texts from
        the data every run of six or more digits is masked, dates included
        (a birth date is personal data).
        """
        if text is None or (not isinstance(text, str) and pd.isna(text)):  # type: ignore[call-overload]
            return None
        if self.reveal:
            return unicodedata.normalize("NFKC", str(text))
        key = (keep_dates, str(text))
        found = self._masked_texts.get(key)
        if found is None:
            digits = _DATE_OR_DIGIT_RUN if keep_dates else _DIGIT_RUN
            found = self._mask_text(unicodedata.normalize("NFKC", key[1]), digits)
            self._masked_texts[key] = found
        return found

    def _mask_text(self, normal: str, digits: re.Pattern[str]) -> str:
        """Mask an NFKC-normalised text (the four passes of :meth:`text`)."""
        pieces: list[str] = []
        pos = 0
        for item in sorted(extract(normal), key=lambda f: f.start):
            if item.start < pos:
                continue
            pieces.append(self._mask_rest(normal[pos : item.start], digits))
            if item.value in self.revealed:
                pieces.append(normal[item.start : item.end])
            else:
                pieces.append(self.show(item.entity, item.value))
            pos = item.end
        pieces.append(self._mask_rest(normal[pos:], digits))
        return "".join(pieces)

    def _mask_rest(self, text: str, digits: re.Pattern[str]) -> str:
        """Mask registered values, then long digit runs, in text no identifier rule claimed."""
        if not text:
            return text
        key = (digits is _DATE_OR_DIGIT_RUN, text)
        found = self._masked_rests.get(key)
        if found is None:
            found = self._masked_rests[key] = self._mask_rest_once(text, digits)
        return found

    def _literal_spans(self, text: str) -> list[tuple[int, int]]:
        """Return where registered literals stand in ``text``, as one regex of them all would.

        That is: the longest literal at the leftmost position, case-insensitively,
        then on after it.

        A literal can only match where the case keys (:func:`case_key`) of the text's
        characters are those of its own, so at each position only the literals of those
        keys, one length after the other (longest first), are tried, each with its own
        regex. The work per text does not grow with the number of literals: with the 7.8 M
        identifiers of an agency's records registered for one officer's bundle, a regex of
        the candidates cost seconds per text.
        """
        keys = text.translate(_CASE_KEYS)
        spans: list[tuple[int, int]] = []
        pos = 0
        while pos <= len(text) - MIN_LITERAL:
            length = self._literal_at(text, keys, pos)
            if length:
                spans.append((pos, pos + length))
            pos += length or 1
        return spans

    def _literal_at(self, text: str, keys: str, pos: int) -> int:
        """Return the length of the longest literal standing at ``pos`` (0: none)."""
        if keys[pos : pos + 2] not in self._literal_starts:
            return 0
        for length in self._literal_lengths:
            if pos + length > len(text):
                continue
            window = keys[pos : pos + length]
            found = self._literal_keys.get(window, [])
            if window in self._literals:
                found = [window, *found]
            piece = text[pos : pos + length]
            if any(_literal_regex(literal).fullmatch(piece) for literal in found):
                return length
        return 0

    def _mask_rest_once(self, text: str, digits: re.Pattern[str]) -> str:
        if not self._literals:
            return digits.sub(self._mask_digit_run, text)
        spans = self._literal_spans(text)
        if not spans:
            return self._mask_runs(text, digits)
        pieces: list[str] = []
        pos = 0
        for start, end in spans:
            pieces.append(self._mask_runs(text[pos:start], digits))
            found = text[start:end]
            folded = found.casefold()
            entity, value = self._literals.get(folded, (Entity.NAME.value, folded))
            if folded in self._revealed_folded or value in self.revealed:
                pieces.append(found)
            else:
                pieces.append(self.show(entity, value))
            pos = end
        pieces.append(self._mask_runs(text[pos:], digits))
        return "".join(pieces)

    def _mask_runs(self, text: str, digits: re.Pattern[str]) -> str:
        """Mask registered plates, IDs, phones and accounts written in any form, then digit runs.

        A run of letters and digits joined by spaces or dashes (``abc 1234``,
        ``0912-345 678``) is compared, without its separators and upper-cased,
        to the registered canonical values, longest stretch of groups first.
        """
        if not self._compact:
            return digits.sub(self._mask_digit_run, text)
        pieces: list[str] = []
        pos = 0
        lengths = self._compact_lengths
        for run in _RUN.finditer(text):
            groups = list(_GROUP.finditer(run.group()))
            ends = [0]
            for group in groups:
                ends.append(ends[-1] + group.end() - group.start())
            i = 0
            while i < len(groups):
                for j in range(min(len(groups), i + MAX_GROUPS), i, -1):
                    if ends[j] - ends[i] not in lengths:
                        continue
                    key = "".join(g.group() for g in groups[i:j]).upper()
                    found = self._compact.get(key)
                    if found is None or found[1] in self.revealed:
                        continue
                    start = run.start() + groups[i].start()
                    end = run.start() + groups[j - 1].end()
                    pieces.append(digits.sub(self._mask_digit_run, text[pos:start]))
                    pieces.append(self.show(*found))
                    pos = end
                    i = j
                    break
                else:
                    i += 1
        pieces.append(digits.sub(self._mask_digit_run, text[pos:]))
        return "".join(pieces)

    def _mask_digit_run(self, match: re.Match[str]) -> str:
        run = match.group(0)
        if match.lastgroup == "date":
            return run
        digits = _NON_DIGIT.sub("", run)
        if len(digits) < LEFTOVER_DIGITS or digits in self.revealed:
            return run
        return self.show(Entity.ACCOUNT, digits)

    def text_series(self, texts: pd.Series, *, keep_dates: bool = False) -> pd.Series:
        """Vectorised :meth:`text` over distinct values; missing values stay missing."""
        distinct = texts.dropna().unique()
        mapping = {t: self.text(t, keep_dates=keep_dates) for t in distinct}
        return texts.map(mapping).astype("string")
