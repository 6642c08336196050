from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit.identifiers import extract, person_id_valid
from kit.load.fastsubjects import fast_extract, ids_valid

SAMPLES = [
    "身分證號=A123456789",
    "身分證號:A123456788",
    "身分證號：B223456780",
    "統一編號：A123456789",
    "身分證字號=AA00000009",
    "A123456789",
    "車牌號碼=ABC-1234",
    "車號:ABC1234",
    "車牌：1234-AB",
    "車號ABCD1234",
    "ABC-1234",
    "1234-AB",
    "AB-1234",
    "ABC1234",
    "帳號=822-1234567890123",
    "帳號：12345678901234",
    "電話=0912-345-678",
    "電話:0912345678",
    "電話=04-2222-3333",
    "0912-345-678",
    "0912345678",
    "姓名=王小明;出生日期=0800101",
    "姓名=王小明；出生日期=0800101",
    "姓名=王小明 出生日期=0800101",
    "姓名=王小明",
    # shapes left to the slow path
    "身分證號=a123456789",
    "電話=+886 912-345-678",
    "電話=886912345678",
    "身分證號=A123456789;車號ABC-1234",
    "plate=ABC-1234",
    "ＡＢＣ－１２３４",
    "車號=ABCDE-12",
    "",
]


def _slow(text: str) -> list[tuple[str, str, str, bool, bool | None]]:
    return [(f.entity.value, f.value, f.raw, f.keyed, f.id_valid) for f in extract(text)]


def _fast(texts: list[str]) -> tuple[dict[int, list[tuple]], list[bool]]:
    found, matched = fast_extract(pa.array(texts, type=pa.string()))
    out: dict[int, list[tuple]] = {}
    for r in found.itertuples(index=False):
        valid = None if pd.isna(r.id_valid) else bool(r.id_valid)
        out.setdefault(int(r._0), []).append((r.entity, r.value, r.raw, bool(r.keyed), valid))
    return out, matched.tolist()


def test_fast_path_matches_extract_on_samples() -> None:
    out, matched = _fast(SAMPLES)
    assert sum(matched) == 25  # the common shapes are handled vectorised
    for i, text in enumerate(SAMPLES):
        if matched[i]:
            assert out[i] == _slow(text), text


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(
        ["身分證號=", "統一編號：", "車號:", "車牌號碼=", "帳號=", "電話=", "姓名=", ""]
    ),
    st.text(alphabet="ABCDZ0123456789-王小明;出生日期=：", min_size=1, max_size=16),
)
def test_fast_path_never_disagrees(key: str, value: str) -> None:
    text = key + value
    out, matched = _fast([text])
    if matched[0]:
        assert out[0] == _slow(text), text


@pytest.mark.parametrize("value", ["A123456789", "A123456788", "AA00000009", "F912345675"])
def test_vectorised_check_digits(value: str) -> None:
    assert ids_valid(pa.array([value])).tolist() == [person_id_valid(value)]
