from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from kit.dataset import Dataset
from kit.schema import (
    DERIVED,
    IDENTIFIER_COLUMNS,
    KINDS,
    LEDGER_COLUMNS,
    PROVENANCE,
    SUBJECT_COLUMNS,
    TIME_DTYPE,
)

TPE = "Asia/Taipei"


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return Dataset.from_frames(
        query_log=pd.DataFrame(
            {
                "time": [
                    "112/10/05 14:33:21",
                    "2023-10-05 14:33:21",  # duplicate of the first
                    pd.Timestamp("2023-10-05 15:00", tz=TPE),
                    "not a time",
                ],
                "user": ["TC1", "TC1", "TC2", "TC3"],
                "unit": ["臺中一分局", "台中一分局", "x", "x"],
                "operation": [
                    "M-Police-戶役政-相片影像查詢",
                    "M-Police-戶役政-相片影像查詢",
                    "165反詐騙-警示帳戶查詢",
                    "車籍資料查詢",
                ],
                "conditions": [
                    "身分證號=A123456788;車號ABC-1234",
                    "身分證號=A123456788;車號ABC-1234",
                    "帳號=822-1234567890123",
                    "車號=ABC-1234",
                ],
                "device": ["M-0123", "M-0123", "PC", "PC"],
                "my extra": ["e1", "e1", "e2", "e3"],
            }
        ),
        duty_roster=pd.DataFrame(
            {
                "date": ["2023-10-05", "112/10/05"],
                "officer_id": ["TC1", "TC2"],
                "start": ["22:00", "08:00"],
                "end": ["02:00", "24:00"],
                "duty": ["巡邏", "休假"],
            }
        ),
        register=pd.DataFrame(
            {
                "officer_id": ["TC1"],
                "out_time": [dt.datetime(2023, 10, 5, 8, 0)],
                "equipment": ["手槍;無線電;行動電腦M-0123"],
            }
        ),
        cases=pd.DataFrame(
            {
                "case_no": ["1120012345"],
                "opened": ["2023-10-01 08:00:00"],
                "officers": ["TC1、TC2"],
                "parties": ["身分證號=A123456789;ABC-1234、0912-345-678"],
            }
        ),
        communications=pd.DataFrame(
            {
                "time": ["2023-10-05 15:00:00"] * 3,
                "officer_id": ["TC1"] * 3,
                "counterpart": ["+886 912-345-678", "Wang.88", "王小明"],
                "direction": ["發"] * 3,
                "type": ["通話", "訊息", "通話"],
                "content": ["幫我查 A123456789", None, None],
            }
        ),
    )


def test_every_kind_has_the_schema_layout(ds: Dataset) -> None:
    for name, kind in KINDS.items():
        frame = ds.frame(name)
        cols = list(frame.columns)
        canonical = [c.canonical for c in kind.columns]
        assert cols[: len(canonical)] == canonical, name
        assert cols[-3:] == list(PROVENANCE), name
        for c in kind.columns:
            if c.identifier:
                assert f"{c.canonical}_entity" in cols and f"{c.canonical}_raw" in cols
            if c.keep_raw:
                assert f"{c.canonical}_raw" in cols
        for d in DERIVED.get(name, ()):
            assert d in cols, (name, d)
    assert list(ds.subjects.columns) == list(SUBJECT_COLUMNS)
    assert list(ds.identifiers.columns) == list(IDENTIFIER_COLUMNS)
    assert list(ds.ledger.columns) == list(LEDGER_COLUMNS)


def test_empty_kinds_are_typed(ds: Dataset) -> None:
    assert len(ds.officers) == 0
    assert str(ds.worklog["time"].dtype) == TIME_DTYPE
    assert str(ds.officers["end_date"].dtype) == "date32[day][pyarrow]"
    with pytest.raises(KeyError):
        ds.frame("nope")
    with pytest.raises(KeyError):
        Dataset.from_frames(nope=pd.DataFrame())


def test_query_log_completed(ds: Dataset) -> None:
    q = ds.query_log
    assert len(q) == 2  # one duplicate dropped, one unparseable time rejected
    assert str(q["time"].dtype) == TIME_DTYPE
    assert q["time"].iloc[0] == pd.Timestamp("2023-10-05 14:33:21", tz=TPE)
    assert q["unit"].iloc[0] == "台中一分局"
    assert q["system"].tolist() == ["戶役政", "165反詐騙"]
    assert q["handheld"].tolist() == [True, False]
    assert q["lookup_id"].str.fullmatch(r"[0-9a-f]{32}").all()
    assert q["source_file"].tolist() == ["<frames>", "<frames>"]
    assert q["source_line"].tolist() == ["2", "4"]
    assert q["my extra"].tolist() == ["e1", "e2"]
    assert q["conditions_raw"].iloc[0] == "身分證號=A123456788;車號ABC-1234"


def test_ledger(ds: Dataset) -> None:
    led = ds.ledger
    rejected = led[led["status"] == "rejected"]
    assert rejected[["source_line", "column"]].values.tolist() == [["5", "time"]]
    dup = led[led["status"] == "duplicate"]
    assert dup["source_line"].tolist() == ["3"]
    assert dup["reason"].iloc[0] == "duplicate of <frames>:2"
    warn = led[(led["status"] == "warning") & (led["column"] == "conditions")]
    assert warn["source_line"].tolist() == ["2"]


def test_subjects(ds: Dataset) -> None:
    s = ds.subjects
    first = ds.query_log["lookup_id"].iloc[0]
    mine = s[s["lookup_id"] == first]
    assert mine[["entity", "value", "keyed"]].values.tolist() == [
        ["person_id", "A123456788", True],
        ["plate", "ABC1234", True],
    ]
    assert mine["id_valid"].tolist()[0] is False
    assert s["entity"].tolist().count("account") == 1


def test_roster(ds: Dataset) -> None:
    r = ds.duty_roster
    assert r["start"].iloc[0] == pd.Timestamp("2023-10-05 22:00", tz=TPE)
    assert r["end"].iloc[0] == pd.Timestamp("2023-10-06 02:00", tz=TPE)
    assert r["end"].iloc[1] == pd.Timestamp("2023-10-06 00:00", tz=TPE)
    assert r["on_duty"].tolist() == [True, False]
    assert r["form"].tolist() == ["long", "long"]


def test_wide_roster_becomes_long() -> None:
    wide = pd.DataFrame(
        {
            "date": ["112/10/05"],
            "officer_id": ["TC1"],
            "00-02": ["巡邏"],
            "02-04": ["巡邏"],
            "04-06": [""],
            "6-8": ["休假"],
        }
    )
    r = Dataset.from_frames(duty_roster=wide).duty_roster
    assert r["duty"].tolist() == ["巡邏", "休假"]
    assert r["start"].dt.hour.tolist() == [0, 6]
    assert r["end"].dt.hour.tolist() == [4, 8]
    assert r["form"].tolist() == ["wide", "wide"]
    assert r["on_duty"].tolist() == [True, False]


def test_register_and_communications(ds: Dataset) -> None:
    assert list(ds.register["devices"].iloc[0]) == ["M-0123"]
    assert ds.register["out_time"].iloc[0] == pd.Timestamp("2023-10-05 08:00", tz=TPE)
    c = ds.communications
    assert c["counterpart"].tolist() == ["0912345678", "wang.88", "王小明"]
    assert c["counterpart_entity"].tolist() == ["phone", "line_id", "name"]
    assert c["counterpart_raw"].tolist() == ["+886 912-345-678", "Wang.88", "王小明"]


def test_identifiers_table(ds: Dataset) -> None:
    i = ds.identifiers
    parties = i[(i["kind"] == "cases") & (i["field"] == "parties")]
    assert parties[["entity", "value"]].values.tolist() == [
        ["person_id", "A123456789"],
        ["plate", "ABC1234"],
        ["phone", "0912345678"],
    ]
    content = i[(i["kind"] == "communications") & (i["field"] == "content")]
    assert content["value"].tolist() == ["A123456789"]
    assert set(i["source_file"]) == {"<frames>"}


def test_lookup_id_formula() -> None:
    import hashlib

    frame = pd.DataFrame(
        {
            "time": ["2023-10-05T14:33:21.5+08:00", "112/10/05 14:33:21"],
            "user": ["TC1", "TC1"],
            "operation": ["車籍資料查詢", "車籍資料查詢"],
            "conditions": ["車號：ＡＢＣ-1234 ", "x"],
            "actual_unit": ["臺中", None],
        }
    )
    q = Dataset.from_frames(query_log=frame).query_log
    fields = ["2023-10-05T14:33:21.500000+08:00", "TC1", "", "車籍資料查詢"]
    fields += ["車號:ABC-1234", "", "台中", ""]
    expected = hashlib.sha256("\x1f".join(fields).encode()).hexdigest()[:32]
    assert q["lookup_id"].iloc[0] == expected
    fields = ["2023-10-05T14:33:21+08:00", "TC1", "", "車籍資料查詢", "x", "", "", ""]
    assert q["lookup_id"].iloc[1] == hashlib.sha256("\x1f".join(fields).encode()).hexdigest()[:32]


def test_list_cells_given_as_lists() -> None:
    officers = pd.DataFrame(
        {"officer_id": ["TC1"], "name": ["王"], "phone": [["0912-345-678", "0922333444"]]}
    )
    ds = Dataset.from_frames(officers=officers)
    assert list(ds.officers["phone"].iloc[0]) == ["0912-345-678", "0922333444"]
    assert ds.identifiers["value"].tolist() == ["0912345678", "0922333444"]
