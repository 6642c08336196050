"""Small pieces of the generator: identifier shapes, time formats, the command line."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from kit.synth import idgen
from kit.synth.__main__ import main
from kit.synth.conditions import typed
from kit.synth.timefmt import clock, format_times, iso, local_seconds

INSTANT = local_seconds(2023, 10, 5, 14, 33) + 21


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("roc_slash", "112/10/05 14:33:21"),
        ("roc_slash_minute", "112/10/05 14:33"),
        ("roc_dash", "112-10-05 14:33:21"),
        ("roc_compact_space", "1121005 143321"),
        ("roc_compact", "1121005143321"),
        ("iso_space", "2023-10-05 14:33:21"),
        ("slash", "2023/10/05 14:33:21"),
        ("iso_t", "2023-10-05T14:33:21+08:00"),
        ("roc_date", "112/10/05"),
        ("roc_date_compact", "1121005"),
        ("iso_date", "2023-10-05"),
    ],
)
def test_every_time_format(fmt: str, text: str) -> None:
    assert format_times(np.array([INSTANT]), fmt)[0] == text


def test_two_digit_roc_year_and_clock_times() -> None:
    assert format_times(np.array([local_seconds(2010, 1, 1)]), "roc_date")[0] == "99/01/01"
    assert list(clock(np.array([0, 605, 1440]))) == ["00:00", "10:05", "24:00"]
    assert list(clock(np.array([1320]), compact=True)) == ["2200"]
    assert iso(INSTANT) == "2023-10-05T14:33:21+08:00"


def test_identifier_shapes_and_uniqueness() -> None:
    index = np.arange(50_000) * 3 + 10_000_000
    ids = idgen.person_ids(index, salt=7)
    assert len(set(ids)) == len(ids)
    assert all(idgen.person_id_valid(v) for v in ids)
    assert not any(
        idgen.person_id_valid(v) for v in idgen.person_ids(index[:100], salt=7, valid=False)
    )
    assert all(re.fullmatch(r"[A-HJ-NP-Z]{3}-\d{4}", p) for p in idgen.plates(index[:1000], salt=7))
    assert all(re.fullmatch(r"09\d{8}", p) for p in idgen.phones(index[:1000], salt=7))
    assert all(re.fullmatch(r"\d{3}-\d{12}", a) for a in idgen.accounts(index[:1000], salt=7))
    assert idgen.person_id_valid("A123456789") and not idgen.person_id_valid("A123456788")


def test_conditions_are_typed_with_varied_keys() -> None:
    rng = np.random.default_rng(1)
    values = np.array(idgen.person_ids(np.arange(2000), salt=3), dtype=object)
    entity = np.full(len(values), "person_id", dtype=object)
    messy = typed(rng, entity, values, messy=True)
    assert {"身分證號=", "統一編號：", "身分證字號="} <= {
        re.sub(r"[A-Z0-9].*", "", str(c)) for c in messy
    }
    assert any(str(c) in values for c in messy)
    assert any("Ｂ" in str(c) or "１" in str(c) for c in messy)
    clean = typed(rng, entity, values, messy=False)
    assert all(str(c).startswith("身分證號=") for c in clean)


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "x"), "--officers", "3"]) == 2
    assert "error" in capsys.readouterr().err
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main([str(tmp_path / "busy"), "--officers", "12", "--months", "1"]) == 2
    assert (tmp_path / "busy" / "notes.txt").read_text(encoding="utf-8") == "keep me"
