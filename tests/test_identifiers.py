from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.identifiers import (
    LETTER_VALUES,
    Found,
    alnum_runs,
    canonical,
    digit_runs,
    extract,
    person_id_valid,
)
from kit.schema import Entity

_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 1)


def _with_check_digit(letter: str, second: str, body: str) -> str:
    """Build a valid number independently of the module: letter, second char, 7 digits."""
    v = LETTER_VALUES[letter]
    second_digit = LETTER_VALUES[second] % 10 if second.isalpha() else int(second)
    digits = [second_digit] + [int(c) for c in body]
    total = v // 10 + (v % 10) * 9 + sum(w * d for w, d in zip(_WEIGHTS, digits, strict=True))
    return f"{letter}{second}{body}{(10 - total % 10) % 10}"


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        pytest.param("A123456789", True, id="national-male"),
        pytest.param("A123456788", False, id="national-wrong-check"),
        pytest.param("a123456789", True, id="lower-case"),
        pytest.param("Ａ１２３４５６７８９", True, id="full-width"),
        pytest.param("B223456780", False, id="female-wrong"),
        pytest.param("A800000014", True, id="resident-new-8"),
        pytest.param("A800000015", False, id="resident-new-8-wrong"),
        pytest.param("AA00000009", True, id="resident-old-AA"),
        pytest.param("AC00000001", False, id="resident-old-wrong"),
        pytest.param("FD12345678", False, id="resident-old-FD-wrong"),
        pytest.param("A12345678", False, id="too-short"),
        pytest.param("A323456789", False, id="bad-second-digit"),
        pytest.param("", False, id="empty"),
    ],
)
def test_person_id_fixed_vectors(value: str, valid: bool) -> None:
    assert person_id_valid(value) is valid


def test_computed_resident_numbers_are_valid() -> None:
    # Values computed with the documented algorithm in this test, not the module.
    new_form = _with_check_digit("F", "9", "1234567")
    old_form = _with_check_digit("F", "D", "1234567")
    assert person_id_valid(new_form)
    assert person_id_valid(old_form)
    # Old form: AA00000009 by hand: A=10 -> 1*1 + 0*9; A -> 0*8; digits 0...; 9*1 = 10.
    assert _with_check_digit("A", "A", "0000000") == "AA00000009"


ids = st.builds(
    _with_check_digit,
    st.sampled_from(sorted(LETTER_VALUES)),
    st.sampled_from(["1", "2", "8", "9", "A", "B", "C", "D"]),
    st.text(alphabet="0123456789", min_size=7, max_size=7),
)


@given(ids)
def test_valid_ids_validate(value: str) -> None:
    assert person_id_valid(value)


@given(ids, st.integers(min_value=1, max_value=9))
def test_changing_the_check_digit_invalidates(value: str, delta: int) -> None:
    changed = value[:-1] + str((int(value[-1]) + delta) % 10)
    assert not person_id_valid(changed)


@given(st.sampled_from(list(Entity)), st.text(max_size=30))
def test_canonical_is_idempotent(entity: Entity, text: str) -> None:
    once = canonical(entity, text)
    assert canonical(entity, once) == once


@pytest.mark.parametrize(
    ("entity", "text", "expected"),
    [
        pytest.param(Entity.PERSON_ID, " a123456789 ", "A123456789", id="id-upper"),
        pytest.param(Entity.PLATE, "abc-1234", "ABC1234", id="plate-dash"),
        pytest.param(Entity.PLATE, "ＡＢＣ　１２３４", "ABC1234", id="plate-fullwidth"),
        pytest.param(Entity.ACCOUNT, "822-1234567890123", "8221234567890123", id="account"),
        pytest.param(Entity.PHONE, "+886 912-345-678", "0912345678", id="phone-intl"),
        pytest.param(Entity.PHONE, "0912-345-678", "0912345678", id="phone-dash"),
        pytest.param(Entity.PHONE, "04-2222-3333", "0422223333", id="landline"),
        pytest.param(Entity.PHONE, "886912345678", "0912345678", id="phone-886"),
        pytest.param(Entity.LINE_ID, " Wang.Lee ", "wang.lee", id="line-lower"),
        pytest.param(Entity.BUSINESS_ID, "1234-5678", "12345678", id="business"),
        pytest.param(Entity.NAME, " 王小明　", "王小明", id="name"),
        pytest.param("plate", "1234-ab", "1234AB", id="entity-as-str"),
    ],
)
def test_canonical_forms(entity: Entity | str, text: str, expected: str) -> None:
    assert canonical(entity, text) == expected


def _pairs(found: list[Found]) -> list[tuple[str, str, bool]]:
    return [(f.entity.value, f.value, f.keyed) for f in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "身分證號=A123456789",
            [("person_id", "A123456789", True)],
            id="national-id-keyed",
        ),
        pytest.param(
            "身分證字號：a123456789",
            [("person_id", "A123456789", True)],
            id="fullwidth-colon-lower",
        ),
        pytest.param(
            "統一編號：A123456789",
            [("person_id", "A123456789", True)],
            id="business-key-with-id",
        ),
        pytest.param("統編=12345678", [("business_id", "12345678", True)], id="business"),
        pytest.param(
            "車牌號碼=ABC-1234;車號:ABC1234",
            [("plate", "ABC1234", True), ("plate", "ABC1234", True)],
            id="plates",
        ),
        pytest.param(
            "帳號=822-1234567890123", [("account", "8221234567890123", True)], id="account"
        ),
        pytest.param("帳戶 1234567890", [("account", "1234567890", True)], id="account-space"),
        pytest.param("電話=0912-345-678", [("phone", "0912345678", True)], id="phone"),
        pytest.param("門號:04-2222-3333", [("phone", "0422223333", True)], id="landline"),
        pytest.param(
            "姓名=王小明;出生日期=0800101", [("name", "王小明", True)], id="name-and-birth"
        ),
        pytest.param("LINE ID：Wang_88", [("line_id", "wang_88", True)], id="line-id"),
        pytest.param("LINE帳號=abc.def", [("line_id", "abc.def", True)], id="line-account"),
        pytest.param("line=xyz", [("line_id", "xyz", True)], id="line-lower-key"),
        pytest.param(
            "person_id=A123456789, plate=abc-1234",
            [("person_id", "A123456789", True), ("plate", "ABC1234", True)],
            id="english-keys",
        ),
        pytest.param(
            "A123456789、ABC-1234；0912 345 678",
            [
                ("person_id", "A123456789", False),
                ("plate", "ABC1234", False),
                ("phone", "0912345678", False),
            ],
            id="unkeyed",
        ),
        pytest.param(
            "1234-AB AB-1234 +886 912-345-678",
            [
                ("plate", "1234AB", False),
                ("plate", "AB1234", False),
                ("phone", "0912345678", False),
            ],
            id="unkeyed-forms",
        ),
        pytest.param("ABCD-EFGH 1234-5678", [], id="plate-needs-letter-and-digit"),
        pytest.param("偵查犯罪 案號1120012345", [], id="case-number-not-identifier"),
        pytest.param("0422223333 12345678", [], id="unkeyed-landline-and-digits-ignored"),
        pytest.param(
            "帳號822-1234567890123 幫我看",
            [("account", "8221234567890123", True)],
            id="message-account",
        ),
        pytest.param("姓名=;電話=0912345678", [("phone", "0912345678", True)], id="empty-value"),
        pytest.param("the plate is fine", [], id="english-word-not-key"),
    ],
)
def test_extract(text: str, expected: list[tuple[str, str, bool]]) -> None:
    assert _pairs(extract(text)) == expected


def test_extract_keyed_only_and_spans() -> None:
    text = "車號：ＡＢＣ－１２３４ A123456789"
    found = extract(text, unkeyed=False)
    assert _pairs(found) == [("plate", "ABC1234", True)]
    assert found[0].raw == "ＡＢＣ－１２３４"
    assert found[0].start == 3 and found[0].end == 11
    assert extract(text)[1].id_valid is True
    assert extract("身分證號=A123456788")[0].id_valid is False
    assert extract("電話=0912345678")[0].id_valid is None


def test_digit_and_alnum_runs() -> None:
    runs = digit_runs("帳號822-1234567890123 或 0912 345 678；+886 912 345 678")
    assert "8221234567890123" in runs
    assert "0912345678" in runs
    assert runs.count("0912345678") == 1
    assert "1234567890123" not in runs
    assert "ABC1234" in alnum_runs("車號abc-1234幫查")
    assert "ABC1234" in alnum_runs("ＡＢＣ　１２３４")
    assert digit_runs("") == []
