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


def _row(r: object) -> tuple:
    valid = r.id_valid  # type: ignore[attr-defined]
    return (
        r.entity,  # type: ignore[attr-defined]
        r.value,  # type: ignore[attr-defined]
        r.raw,  # type: ignore[attr-defined]
        bool(r.keyed),  # type: ignore[attr-defined]
        None if pd.isna(valid) else bool(valid),
    )


FREE = [
    "受理陳情，核對 車號:RZB-4827",
    "查詢 身分證號N227381713",
    "行政調查：身分證號G183684698。",
    "巡查巷裏治安死角",
    "查詢 姓名王小明 A123456789",
    "行政調查：身分證號 G183684698",
    "幫我查 0912-345-678 謝",
    "案號1120012345 查 A123456789",
    "ＡＢＣ-1234 查",
    "查詢 LINE abc",
    "查 ABC-1234、A123456789",
    "帳號：822-1234567890123 幫我看",
    "電話 0912345678",
    "車號ABC1234",
    "１２３",
    "",
]


def test_free_text_fast_path_matches_extract() -> None:
    from kit.load.fastsubjects import fast_free_text

    found, matched = fast_free_text(pa.array(FREE, type=pa.string()))
    assert matched.sum() >= 6
    for i, text in enumerate(FREE):
        if matched[i]:
            got = [
                (
                    r.entity,
                    r.value,
                    r.raw,
                    bool(r.keyed),
                    None if pd.isna(r.id_valid) else bool(r.id_valid),
                )
                for r in found[found["_code"] == i].itertuples()
            ]
            assert got == _slow(text), text


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="查詢車號身分證號：:= ，ABCZ0123456789-王", max_size=20))
def test_free_text_fast_path_never_disagrees(text: str) -> None:
    from kit.load.fastsubjects import fast_free_text

    found, matched = fast_free_text(pa.array([text], type=pa.string()))
    if matched[0]:
        got = [
            (
                r.entity,
                r.value,
                r.raw,
                bool(r.keyed),
                None if pd.isna(r.id_valid) else bool(r.id_valid),
            )
            for r in found.itertuples()
        ]
        assert got == _slow(text), text


@pytest.mark.parametrize(
    ("kind", "column"),
    [
        ("tickets", "plate"),
        ("tickets", "person_id"),
        ("relations", "identifier"),
        ("cases", "parties"),
    ],
)
def test_classify_many_matches_classify_value(kind: str, column: str) -> None:
    from kit.load.entities import DEFAULT_ENTITY, classify_many, classify_value

    default = DEFAULT_ENTITY.get((kind, column))
    texts = [*SAMPLES, *FREE, "0422223333", "wang.88", "王小明", "12345678"]
    assert classify_many(texts, default=default) == [
        classify_value(t, default=default) for t in texts
    ]
