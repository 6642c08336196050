"""The lookup explorer, driven from code as an investigator would drive it."""

from __future__ import annotations

import pandas as pd
import pytest

from kit.bundle.explorer import ALL, ANY_FLAG, explorer
from kit.mask import Masker


@pytest.fixture
def lookups() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lookup_id": ["L1", "L2", "L3", "L4"],
            "time": [
                "2023-08-01T09:00:00+08:00",
                "2023-08-02T23:30:00+08:00",
                "2023-08-05T10:00:00+08:00",
                "2023-08-09T11:00:00+08:00",
            ],
            "user": ["TC001", "TC001", "TC002", "TC001"],
            "actual_user": [None, None, "TC009", ""],
            "unit": ["第一分局"] * 4,
            "actual_unit": [None] * 4,
            "ip": ["10.0.0.1"] * 4,
            "operation": ["戶役政", "車籍", "戶役政", "車籍"],
            "purpose": ["<script>window.__x=1</script>", "查贓", "協尋", "查贓"],
            "conditions": ["A123456789", "ABC1234", "A123456789", "XYZ9876"],
            "source_file": ["q.csv"] * 4,
            "source_line": ["2", "3", "4", "5"],
            "subjects": [
                "person_id:A123456789",
                "plate:ABC1234",
                "person_id:A123456789",
                "plate:XYZ9876;person_id:B223456780",
            ],
            "explanations": ["EXPL_CASE", "", "", "EXPL_TICKET"],
            "flags": ["", "OFF_DUTY;NO_PURPOSE", "OFF_DUTY", ""],
            "severity": ["none", "high", "medium", "none"],
            "score": [0.0, 13.0, 3.0, 0.0],
            "suspicious": [False, True, False, False],
            "not_checked": ["", "", "", ""],
        }
    )


def test_filters_by_period_flag_and_subject(lookups: pd.DataFrame) -> None:
    ex = explorer(lookups, masker=Masker(), lang="en")
    assert list(ex.selected()["lookup_id"]) == ["L1", "L2", "L3", "L4"]
    assert "Matching lookups: 4" in ex.count.value

    ex.flag.value = "OFF_DUTY"
    assert list(ex.selected()["lookup_id"]) == ["L2", "L3"]
    assert "Matching lookups: 2" in ex.count.value
    ex.flag.value = ANY_FLAG
    assert list(ex.selected()["lookup_id"]) == ["L2", "L3"]
    ex.flag.value = ALL

    ex.end.value = pd.Timestamp("2023-08-04").date()
    assert list(ex.selected()["lookup_id"]) == ["L1", "L2"]
    ex.end.value = None

    ex.subject.value = "person_id:A123456789"
    assert list(ex.selected()["lookup_id"]) == ["L1", "L3"]
    assert set(ex.selected()["querier"]) == {"TC001", "TC009"}


def test_subjects_are_masked_and_text_escaped(lookups: pd.DataFrame) -> None:
    ex = explorer(lookups, masker=Masker(), lang="zh-TW")
    labels = [label for label, _ in ex.subject.options]
    assert labels[0] == "（全部）"
    assert not any("A123456789" in label or "ABC1234" in label for label in labels)
    assert "A12****789" in ex.table.value
    assert "A123456789" not in ex.table.value
    assert "<script>" not in ex.table.value
    assert "&lt;script&gt;" in ex.table.value
    # the combined subject column lists both subjects of a lookup
    row = ex.selected().set_index("lookup_id").loc["L4", "subject"]
    assert row.count("〔") == 2


def test_pivot_asks_who_looked_the_subject_up(lookups: pd.DataFrame) -> None:
    asked: list[tuple[str, str]] = []

    def who(entity: str, value: str) -> pd.DataFrame:
        asked.append((entity, value))
        return pd.DataFrame({"querier": ["TC001", "TC009"], "lookups": [1, 1]})

    ex = explorer(lookups, masker=Masker(), lang="en", who_looked_up=who)
    ex.pivot_button.click()
    assert asked == [] and ex.pivot.value == ""
    ex.subject.value = "person_id:A123456789"
    ex.pivot_button.click()
    assert asked == [("person_id", "A123456789")]
    assert "TC009" in ex.pivot.value and "Who looked this up" in ex.pivot.value
