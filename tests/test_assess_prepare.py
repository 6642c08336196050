"""Preparations of the records that the rules share: work-log tokens, text maps, duty days."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kit.assess.baseline import _SPAN, _duty_days
from kit.assess.context import map_text
from kit.assess.records import _tokens


def test_tokens_are_distinct_upper_case_runs_of_five_or_more_with_dashes_joined() -> None:
    content = pd.Series(
        [
            "查 abc-1234 與 ABC-1234、abc1234",  # one plate in three spellings: one token
            None,
            "",
            "A-B-C-D-E x123 y12345 KLMN-",  # A-B-C-D-E joined (two passes); 4 chars dropped
            "案號K7 車號WRK-0001 WRK-0001",  # digits and letters after Chinese text
        ],
        dtype="str",
    )
    tokens = _tokens(content)
    assert tokens.to_dict("list") == {
        "rec": [0, 3, 3, 4],
        "token": ["ABC1234", "ABCDE", "Y12345", "WRK0001"],
    }
    assert str(tokens["token"].dtype) == "str"


def test_tokens_of_no_text() -> None:
    tokens = _tokens(pd.Series([], dtype="str"))
    assert tokens.empty and list(tokens.columns) == ["rec", "token"]


def test_map_text_looks_up_each_key_with_a_default() -> None:
    units = pd.Series(["甲所", "乙所", "丙所"], index=["TC001", "TC002", "TC001"])  # first kept
    keys = pd.Series(["TC002", "TC404", None, "TC001", "TC002", ""], index=[5, 4, 3, 2, 1, 0])
    for form in ("str", object):
        got = map_text(units, keys.astype(form), "(none)")
        assert got.tolist() == ["乙所", "(none)", "(none)", "甲所", "乙所", "(none)"], form
        assert got.index.tolist() == [5, 4, 3, 2, 1, 0]
        assert str(got.dtype) == "str"
    by_row = pd.Series(["a", "b"], index=[7, 3])
    assert map_text(by_row, pd.Series([3, 8, 7, 3])).tolist() == ["b", "", "a", "b"]
    assert map_text(units, pd.Series([], dtype="str")).tolist() == []


def test_duty_days_take_the_first_shift_of_each_officer_day() -> None:
    day = 19600.0
    officers = ["TC002", "TC001", "TC002", "TC003", "TC001", "TC004"]
    shifts = pd.DataFrame(
        {
            "officer": pd.Series(officers, dtype="str"),
            "on_duty": [False, True, True, True, True, True],
            "day": [day, day, day, np.nan, day + 1, day],
            "unit": pd.Series(["甲所", "甲所", "甲所", "甲所", "甲所", "乙所"], dtype="str"),
            "ref": pd.Series([f"duty_roster:r.csv:{i}" for i in range(2, 8)], dtype="str"),
        }
    )
    prep = _duty_days(shifts)
    # officers on duty first, in order of their first duty day, then the others; TC003's
    # only shift has no day
    assert prep["names"].tolist() == ["TC001", "TC002", "TC004"]
    code = {name: i for i, name in enumerate(prep["names"])}
    peers = prep["peers"]
    assert list(peers) == ["甲所", "乙所"]
    assert peers["甲所"].to_dict("list") == {
        "officer": ["TC001", "TC002", "TC001"],
        "day": [19600, 19600, 19601],
        "pair": [code["TC001"] * _SPAN + 19600, code["TC002"] * _SPAN + 19600,
                 code["TC001"] * _SPAN + 19601],
    }  # fmt: skip
    assert peers["乙所"]["officer"].tolist() == ["TC004"]
    # the reference of an officer-day is its first shift, on duty or not (TC002's line 2)
    refs = prep["ref_by_pair"]
    assert refs[code["TC002"] * _SPAN + 19600] == "duty_roster:r.csv:2"
    assert refs[code["TC001"] * _SPAN + 19601] == "duty_roster:r.csv:6"
    assert len(refs) == 4
    assert prep["no_peers"].empty and list(prep["no_peers"].columns) == ["officer", "day", "pair"]
