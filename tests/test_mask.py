import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit.mask import Masker, case_key, mask_identifier

CASES = {
    "person_id": ("person_id", "A123456789", "A12****789 〔P01〕"),
    "resident_old": ("person_id", "AA00000009", "AA0****009 〔P01〕"),
    "name_three": ("name", "王小明", "王○明 〔N01〕"),
    "name_two": ("name", "王明", "王○ 〔N01〕"),
    "name_four": ("name", "歐陽小明", "歐○○明 〔N01〕"),
    "plate_new": ("plate", "ABC1234", "ABC-**34 〔V01〕"),
    "plate_digits_first": ("plate", "1234AB", "**34-AB 〔V01〕"),
    "mobile": ("phone", "0912345678", "0912-***-678 〔T01〕"),
    "landline": ("phone", "0422223333", "04*****333 〔T01〕"),
    "account": ("account", "8221234567890123", "************0123 〔A01〕"),
    "line_id": ("line_id", "fraud_boss88", "fr*********8 〔L01〕"),
    "business_id": ("business_id", "12345678", "12****78 〔B01〕"),
}


@pytest.mark.parametrize("entity,value,shown", CASES.values(), ids=list(CASES))
def test_every_identifier_kind_is_masked(entity, value, shown):
    masker = Masker()
    assert masker.show(entity, value) == shown
    assert value not in masker.show(entity, value)
    assert Masker(reveal=True).show(entity, value) == value


def test_pseudonyms_are_stable_and_distinct():
    masker = Masker()
    first = masker.show("plate", "ABC1234")
    other = masker.show("plate", "ABD9934")
    assert masker.show("plate", "ABC1234") == first
    # same visible digits, different plates: the pseudonym tells them apart
    assert mask_identifier("plate", "ABC1234") == mask_identifier("plate", "ABC5534")
    assert masker.show("plate", "ABC5534") != first
    assert first.endswith("〔V01〕") and other.endswith("〔V02〕")


def test_registration_order_fixes_pseudonyms():
    a, b = Masker(), Masker()
    a.register(["person_id", "person_id"], ["A123456789", "B234567890"])
    b.register(["person_id", "person_id"], ["A123456789", "B234567890"])
    assert a.show("person_id", "B234567890") == b.show("person_id", "B234567890")
    assert a.show("person_id", "B234567890").endswith("〔P02〕")


def test_revealed_values_shown_in_full():
    masker = Masker(revealed=["A123456789"])
    assert masker.show("person_id", "A123456789") == "A123456789"
    assert "A123456789" in masker.text("身分證號=A123456789")
    assert "B234567890" not in masker.text("身分證號=B234567890")


TEXTS = {
    "keyed_id": ("身分證號=A123456789", "A123456789"),
    "full_width": ("身分證號：Ａ１２３４５６７８９", "A123456789"),
    "plate_dash": ("車號:ABC-1234 幫查", "ABC-1234"),
    "mobile_spaced": ("打給 0912 345 678", "0912 345 678"),
    "account_bank_code": ("帳號822-1234567890123", "1234567890123"),
    "unkeyed_account": ("轉到 00123456789 謝謝", "00123456789"),
    "landline_unkeyed": ("市話 04-2222-3333", "2222-3333"),
    "name_keyed": ("姓名=王小明;出生日期=0800101", "王小明"),
}


@pytest.mark.parametrize("text,secret", TEXTS.values(), ids=list(TEXTS))
def test_text_masks_identifiers_in_free_text(text, secret):
    masked = Masker().text(text)
    assert secret not in masked
    assert "〔" in masked


def test_registered_values_are_masked_in_text_whatever_the_case():
    masker = Masker()
    masker.register(["name", "line_id"], ["陳大文", "fraud_boss88"], [None, "Fraud_Boss88"])
    masked = masker.text("陳大文 說 加 Fraud_Boss88")
    assert "陳大文" not in masked
    assert "boss88" not in masked.casefold()
    assert masker.show("name", "陳大文") in masked


def test_text_keeps_what_is_not_an_identifier():
    assert Masker().text("偵查犯罪 案號 112") == "偵查犯罪 案號 112"
    assert Masker().text(None) is None
    assert Masker().text(float("nan")) is None
    assert Masker(reveal=True).text("身分證號=A123456789") == "身分證號=A123456789"


def test_series_versions_match_scalars():
    masker = Masker()
    entities = pd.Series(["plate", "person_id", None, "plate"])
    values = pd.Series(["ABC1234", "A123456789", "X", pd.NA], dtype="string")
    shown = masker.show_series(entities, values)
    assert shown.iloc[0] == masker.show("plate", "ABC1234")
    assert shown.iloc[1] == masker.show("person_id", "A123456789")
    assert pd.isna(shown.iloc[2]) and pd.isna(shown.iloc[3])
    texts = pd.Series(["車號 ABC-1234", None, "車號 ABC-1234"], dtype="string")
    masked = masker.text_series(texts)
    assert masked.iloc[0] == masked.iloc[2] == masker.text("車號 ABC-1234")
    assert pd.isna(masked.iloc[1])


def test_register_frame_uses_raw_forms():
    masker = Masker()
    frame = pd.DataFrame(
        {"entity": ["plate"], "value": ["ABC1234"], "raw": ["abc 1234"]}, dtype="string"
    )
    masker.register_frame(frame)
    assert "abc 1234" not in masker.text("the plate abc 1234 again").casefold()


WRITTEN_FORMS = {
    "plate_lower_spaced": ("plate", "ABC1234", "車 abc 1234 停在門口"),
    "id_spaced": ("person_id", "A123456789", "身分 a1234 56789 查一下"),
    "account_grouped": ("account", "8221234567890123", "匯到 822 1234-567890123"),
    "landline_spaced": ("phone", "0422223333", "打 04 2222 3333"),
}


@pytest.mark.parametrize("entity,value,text", WRITTEN_FORMS.values(), ids=list(WRITTEN_FORMS))
def test_registered_values_masked_in_any_written_form(entity, value, text):
    masker = Masker()
    masker.register([entity], [value])
    masked = masker.text(text)
    assert masker.show(entity, value) in masked
    compact = "".join(c for c in masked if c.isalnum()).upper()
    assert value not in compact


def test_written_forms_of_revealed_values_stay():
    masker = Masker(revealed=["ABC1234"])
    masker.register(["plate"], ["ABC1234"])
    assert masker.text("abc 1234") == "abc 1234"


def test_text_is_masked_again_after_a_new_value_is_registered():
    masker = Masker()
    text = "王小明 called 0912345678"
    first = masker.text(text)
    assert "王小明" in first
    assert masker.text(text) == first
    masker.register(["name"], ["王小明"])
    again = masker.text(text)
    assert "王小明" not in again
    assert masker.show("name", "王小明") in again
    plate_text = "車 abc 1234"
    assert masker.text(plate_text) == plate_text
    masker.register(["plate"], ["ABC1234"])
    assert masker.show("plate", "ABC1234") in masker.text(plate_text)


def test_a_source_is_registered_once_per_masker():
    masker = Masker()
    calls: list[str] = []

    def register(source: list[str]):
        def run(m: Masker) -> None:
            calls.append(source[0])
            m.register(["person_id"] * len(source), source)

        return run

    first, second = ["A123456789"], ["A123456789"]  # equal, but another object
    masker.register_source(first, register(first))
    masker.register_source(first, register(first))
    assert calls == ["A123456789"]
    masker.register_source(second, register(second))
    assert calls == ["A123456789", "A123456789"]
    # registering again changed nothing: the first value keeps the first pseudonym
    assert masker.show("person_id", "A123456789").endswith("〔P01〕")


def test_case_key_joins_every_pair_ignorecase_matches():
    # Every cased character of the running Python against every other: whatever a
    # case-insensitive regex matches with a character must share its case key, or
    # the masker's prefilter could skip a text that holds a registered value.
    cased = [
        chr(c)
        for c in range(0x110000)
        if not 0xD800 <= c < 0xE000 and (chr(c).lower() != chr(c) or chr(c).upper() != chr(c))
    ]
    everything = "".join(cased)
    split = [
        (c, m.group(0))
        for c in cased
        for m in re.finditer(re.escape(c), everything, re.IGNORECASE)
        if case_key(m.group(0)) != case_key(c)
    ]
    assert split == []
    assert all(len(case_key(c)) == 1 for c in cased)
    assert case_key("王") == "王" and case_key("A") == case_key("a")


def _whole_regex_spans(masker: Masker, text: str) -> list[tuple[int, int]]:
    """Where one case-insensitive regex of every registered literal finds them.

    The literals longest first: at each position the regex takes the first that
    matches, so the longest, as the masker must.
    """
    literals = sorted(masker._literals, key=lambda literal: (-len(literal), literal))
    whole = re.compile("|".join(re.escape(literal) for literal in literals), re.IGNORECASE)
    return [(m.start(), m.end()) for m in whole.finditer(text)]


LITERALS = ["陳大文", "王小明", "fraud_boss88", "ΣΟΦΙΑ", "straße", "İstanbul", "kısa", "ab", "abc"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [*LITERALS, "ABC", "Fraud_BOSS88", "σοφια", "STRASSE", "istanbul", "KISA"]
            ),
            st.text(alphabet="abcıİσςΣ王小明陳大文 =-_0123456789", max_size=6),
        ),
        max_size=6,
    )
)
def test_literals_are_found_where_the_whole_regex_finds_them(pieces):
    text = "".join(pieces)
    masker = Masker()
    masker.register(["name"] * len(LITERALS), LITERALS)
    assert masker._literal_spans(text) == _whole_regex_spans(masker, text)


def test_many_literals_sharing_their_first_characters_are_all_masked():
    # 18 names on 6 first-two-character keys, two in each text, one written in full width
    names = [f"{a}{b}{c}" for a in "王陳林" for b in "小大" for c in "明文華"]
    masker = Masker()
    masker.register(["name"] * len(names), names)
    pairs = [(n, m) for n in names for m in names if n[:2] < m[:2]]
    texts = [f"{n} 與 {m}見面，{m[:2]}" for n, m in pairs]
    masked = [masker.text(t) for t in texts]
    assert all(n not in t and m not in t for (n, m), t in zip(pairs, masked, strict=True))
    assert all(masker._literal_spans(t) == _whole_regex_spans(masker, t) for t in texts)
    assert masker._literal_spans("王小明王小明林大") == [(0, 3), (3, 6)]


DATES_KEPT = {
    "reason": "no on-duty roster entry of TC10001 covers 06:33 on 2023-01-01",
    "date_and_time": "首則 2023-01-01 07:07:56 收",
    "end_of_month": "到 2024-02-29 為止",
}


@pytest.mark.parametrize("text", DATES_KEPT.values(), ids=list(DATES_KEPT))
def test_dates_in_the_kits_own_sentences_are_not_masked_as_accounts(text):
    masker = Masker()
    assert masker.text(text, keep_dates=True) == text
    assert masker._pseudonyms == {}  # no account pseudonym spent on a date
    assert masker.text_series(pd.Series([text]), keep_dates=True).iloc[0] == text


def test_dates_in_the_data_stay_masked():
    # a birth date in a lookup's conditions is personal data: over-masking is the safe side
    masker = Masker()
    text = "姓名=王小明;出生日期=1991-01-01"
    assert "1991-01-01" not in masker.text(text)
    assert "1991-01-01" in masker.text(text, keep_dates=True)


NOT_DATES = {
    "month_13": "2023-13-01",
    "day_32": "2023-01-32",
    "longer_before": "12023-01-01",
    "longer_after": "2023-01-0112",
    "account_4_4_4": "8221-2345-6789",
}


@pytest.mark.parametrize("text", NOT_DATES.values(), ids=list(NOT_DATES))
def test_digit_runs_shaped_like_no_date_are_still_masked(text):
    masked = Masker().text(text)
    assert "〔A01〕" in masked
    assert text not in masked
