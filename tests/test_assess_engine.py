"""Registry, configuration, range independence and the screen files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
import yaml
from test_assess_helpers import CITIZEN, dataset, lookup, shift

from kit.assess import REGISTRY, RuleKind, Severity, assess, load_config, screen
from kit.assess.config import RULES_FILE
from kit.assess.engine import LOOKUP_COLUMNS
from kit.assess.registry import Registry, RuleResult, empty_hits, flag
from kit.errors import ConfigError


def test_registry_refuses_duplicate_codes() -> None:
    registry = Registry()

    def rule(ctx: Any) -> RuleResult:
        return RuleResult(empty_hits())

    flag("X_TEST", Severity.LOW, rule="r", source="s", needs=(), registry=registry)(rule)
    with pytest.raises(ValueError, match="X_TEST"):
        flag("X_TEST", Severity.HIGH, rule="r", source="s", needs=(), registry=registry)(rule)


def test_registry_holds_the_whole_catalogue() -> None:
    explanations = {r.code for r in REGISTRY.of_kind(RuleKind.EXPLANATION)}
    flags = {r.code for r in REGISTRY.of_kind(RuleKind.FLAG)}
    on_comms = {r.code for r in REGISTRY.of_kind(RuleKind.COMMUNICATION)}
    assert explanations == {
        "EXPL_CASE",
        "EXPL_CASE_NO",
        "EXPL_TICKET",
        "EXPL_WORKLOG",
        "EXPL_PROXY_RECORDED",
        "EXPL_DUTY_CHECK",
    }
    assert len(flags) == 21 and on_comms == {"TIPOFF", "WATCHLIST_CONTACT"}
    assert REGISTRY["IDENTIFIER_SENT"].severity is Severity.CRITICAL
    assert all(r.rule and r.source for r in REGISTRY.values())


def test_rules_file_repeats_the_documented_defaults() -> None:
    config = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    for code, params in config["rules"].items():
        assert params == REGISTRY[code].thresholds, code
    for code, rule in REGISTRY.items():
        if rule.thresholds:
            assert code in config["rules"], code
    assert config["severity_weights"] == {s.value: s.weight for s in Severity}


@pytest.mark.parametrize(
    ("name", "override", "key"),
    [
        ("unknown section", {"thresholds": {}}, "thresholds"),
        ("unknown rule", {"rules": {"NOT_A_RULE": {"x": 1}}}, "rules.NOT_A_RULE"),
        (
            "unknown threshold",
            {"rules": {"CONCURRENT_IP": {"hours": 1}}},
            "rules.CONCURRENT_IP.hours",
        ),
        (
            "negative value",
            {"rules": {"CONCURRENT_IP": {"minutes": -1}}},
            "rules.CONCURRENT_IP.minutes",
        ),
        (
            "text value",
            {"rules": {"BULK_ACCOUNTS": {"accounts": "ten"}}},
            "rules.BULK_ACCOUNTS.accounts",
        ),
        ("unknown severity", {"severity_weights": {"huge": 5}}, "severity_weights.huge"),
    ],
)
def test_bad_configuration_names_the_key(name: str, override: dict, key: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(override)
    assert error.value.column == key, name
    assert key in str(error.value)


def test_configuration_file_override(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  ODD_HOURS: {end_hour: 7}\nseverity_weights: {low: 2}\n", encoding="utf-8"
    )
    config = load_config(path)
    assert config.thresholds["ODD_HOURS"] == {"start_hour": 0, "end_hour": 7}
    result = assess(dataset([lookup("2023-10-05 06:30:00")]), config=path)
    assert result.lookups["flags"].iloc[0] == "ODD_HOURS"
    assert result.lookups["score"].iloc[0] == 2


def test_output_columns_in_order() -> None:
    result = assess(dataset([lookup("2023-10-05 10:00:00")]))
    assert tuple(result.lookups.columns) == LOOKUP_COLUMNS
    assert str(result.lookups["time"].dt.tz) == "Asia/Taipei"
    assert result.lookups["subjects"].iloc[0] == "plate:ABC1234"
    assert list(result.checks.columns) == ["code", "kind", "severity", "checked", "not_checked"]


# --- range independence -----------------------------------------------------------


def _agency() -> Any:
    """Three months of one officer's lookups, with repeats, baselines and messages after."""
    rows, roster = [], []
    for day in pd.date_range("2023-08-01", "2023-10-31", freq="D"):
        date = day.strftime("%Y-%m-%d")
        for officer in ("TC100", "TC101", "TC102"):
            roster.append(shift(date, "08:00", "16:00", officer=officer))
        for k, officer in enumerate(("TC100", "TC101", "TC102")):
            rows.append(
                lookup(
                    f"{date} 09:{k:02d}:00",
                    user=officer,
                    conditions=f"車號=R{k}-{day.day_of_year:03d}",
                )
            )
    rows += [
        lookup(f"{d} 20:00:00", user="TC100", conditions=f"身分證號={CITIZEN}")
        for d in ("2023-09-28", "2023-10-01", "2023-10-03")
    ]
    rows += [
        lookup(f"2023-10-01 10:{m:02d}:00", user="TC101", conditions=f"車號=S-{m:03d}")
        for m in range(40)
    ]
    comms = [
        {
            "time": "2023-09-01 08:00",
            "officer_id": "TC100",
            "counterpart": "0900000000",
            "direction": "收",
        },
        {
            "time": "2023-10-20 08:00",
            "officer_id": "TC100",
            "counterpart": "0933000001",
            "direction": "發",
            "content": f"幫查 {CITIZEN}",
        },
        {
            "time": "2023-10-31 08:00",
            "officer_id": "TC100",
            "counterpart": "0900000000",
            "direction": "收",
        },
    ]
    return dataset(rows, duty_roster=roster, communications=comms)


def test_same_flags_in_a_one_day_and_a_three_month_range() -> None:
    data = _agency()
    wide = assess(data, "2023-08-01", "2023-10-31")
    narrow = assess(data, "2023-10-01", "2023-10-01")
    assert len(narrow.lookups) == 3 + 40 + 1  # daily lookups, the burst, the repeat
    cols = ["lookup_id", "explanations", "flags", "severity", "score", "suspicious", "not_checked"]
    merged = narrow.lookups[cols].merge(wide.lookups[cols], on="lookup_id", suffixes=("", "_wide"))
    assert len(merged) == len(narrow.lookups)
    for col in cols[1:]:
        assert (merged[col] == merged[col + "_wide"]).all(), col
    flags = ";".join(narrow.lookups["flags"])
    assert "REPEAT_SUBJECT" in flags and "IDENTIFIER_SENT" in flags and "VOLUME_SPIKE" in flags


def test_roc_dates_and_officer_filter() -> None:
    data = _agency()
    roc = assess(data, "112/10/01", "112/10/01", officers="TC100")
    assert set(roc.lookups["user"]) == {"TC100"} and len(roc.lookups) == 2
    with pytest.raises(ConfigError):
        assess(data, "2023-13-01")


# --- screen files -----------------------------------------------------------------


def test_screen_writes_csv_with_bom_and_neutralised_formulas(tmp_path: Path) -> None:
    data = dataset(
        [lookup("2023-10-05 10:00:00", purpose='=HYPERLINK("x")'), lookup("2023-10-05 03:00:00")],
        communications=[
            {
                "time": "2023-10-05 10:10",
                "officer_id": "TC001",
                "counterpart": "0933000001",
                "direction": "發",
                "content": "-1+1",
            }
        ],
    )
    paths = screen(data, tmp_path / "out.csv")
    assert [p.name for p in paths] == ["out.csv", "out.evidence.csv", "out.communications.csv"]
    raw = paths[0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(paths[0], encoding="utf-8-sig", dtype=str)
    assert list(table.columns) == list(LOOKUP_COLUMNS)
    assert table["purpose"].str.startswith("'=").any()
    assert table["time"].str.endswith("+08:00").all()
    assert set(table["suspicious"]) <= {"true", "false"}
    evidence = pd.read_csv(paths[1], encoding="utf-8-sig", dtype=str)
    assert {"lookup_id", "code", "kind", "rests_on", "reason"} <= set(evidence.columns)
    comms = pd.read_csv(paths[2], encoding="utf-8-sig", dtype=str)
    assert comms["content"].iloc[0] == "'-1+1"


def test_screen_parquet(tmp_path: Path) -> None:
    paths = screen(dataset([lookup("2023-10-05 03:00:00")]), tmp_path / "out.parquet")
    assert [p.name for p in paths] == ["out.parquet", "out.evidence.parquet"]
    table = pd.read_parquet(paths[0])
    assert table["flags"].iloc[0] == "ODD_HOURS"
    with pytest.raises(ConfigError):
        screen(dataset([lookup("2023-10-05 03:00:00")]), tmp_path / "out.txt")


def test_unit_filter_takes_the_stations_under_a_precinct() -> None:
    from test_assess_helpers import OTHER_UNIT

    data = dataset(
        [
            lookup("2023-10-05 10:00:00"),
            lookup("2023-10-05 10:00:00", user="TC003", unit=OTHER_UNIT),
        ]
    )
    first = assess(data, units="臺中市政府警察局第一分局")
    assert list(first.lookups["user"]) == ["TC001"]
    assert list(assess(data, units="第二分局").lookups["user"]) == ["TC003"]
    assert len(assess(data, units="第三分局").lookups) == 0


def test_a_log_alone_is_assessed_and_every_record_rule_is_not_checked() -> None:
    from kit.dataset import Dataset

    log = pd.DataFrame(
        {"time": ["2023-10-05 10:00"], "user": ["TC1"], "operation": ["車籍資料查詢"],
         "conditions": ["車號=ABC-1234"], "purpose": ["舉發交通違規"]}
    )  # fmt: skip
    result = assess(Dataset.from_frames(query_log=log))
    row = result.lookups.iloc[0]
    assert row["flags"] == "" and not row["suspicious"]
    assert {"OFF_DUTY", "FALSE_PURPOSE_TICKET", "AFTER_SEPARATION", "CONTACT_AFTER"} <= set(
        row["not_checked"].split(";")
    )
    empty = assess(Dataset.from_frames())
    assert len(empty.lookups) == 0 and tuple(empty.lookups.columns) == LOOKUP_COLUMNS


def test_indicators_are_built_when_first_read() -> None:
    import kit.assess.indicators as indicators_module

    data = dataset([lookup("2023-10-10 09:00:00", user="TC100") for _ in range(3)])
    built: list[int] = []
    real = indicators_module.build_indicators

    def counted(*args: Any) -> Any:
        built.append(1)
        return real(*args)

    indicators_module.build_indicators = counted
    try:
        result = assess(data)
        assert built == [] and "not built" in repr(result.indicators)
        names = list(result.indicators)
        assert "high_volume_accounts" in names and "unit_volume_ranking" in names
        assert len(result.indicators["unit_volume_ranking"]) >= 1
        assert len(result.indicators) == len(names) and built == [1]  # once
    finally:
        indicators_module.build_indicators = real


def test_record_values_get_the_codes_of_each_context_they_are_matched_in() -> None:
    """Officer IDs of records are coded as the context codes its lookups' queriers.

    Absent and missing values are -1, whatever form the values come in; values
    prepared once (by name) and shared take the codes of each context in turn.
    """
    import numpy as np

    from kit.assess.context import build_context

    cfg = load_config(None)
    shared: dict[str, Any] = {}
    first = build_context(
        dataset(
            [
                lookup("2023-10-02 09:00", user="TC001"),
                lookup("2023-10-02 10:00", user="TC002"),
                lookup("2023-10-02 11:00", user="TC003"),
            ]
        ),
        cfg,
        shared,
    )
    officers = ["TC002", "TC999", None, "TC001", "TC002", ""]
    index = first.cache["officer_index"]
    expected = [index.get_loc("TC002"), -1, -1, index.get_loc("TC001"), index.get_loc("TC002"), -1]
    forms = {
        "text": pd.Series(officers, dtype="str"),
        "object": pd.Series(officers, dtype=object),
        "array": np.array(officers, dtype=object),
        "arrow": pd.Series(officers, dtype=pd.ArrowDtype(pa.string())),
    }
    for form, values in forms.items():
        assert first.officer_codes(values).tolist() == expected, form
        assert first.officer_codes(values, f"test:{form}").tolist() == expected, form
    # columns of other lengths, asked for in one context, matched together in the next
    others = {"test:few": ["TC003"], "test:many": ["TC001", "TC003", "TC002", "TC404", "TC003"]}
    for name, values in others.items():
        assert first.officer_codes(np.array(values, dtype=object), name).tolist() == [
            index.get_loc(v) if v in index else -1 for v in values
        ]
    # another context over the same records: its own codes (TC002 only, so code 0), and the
    # key map and officers' phones of the first (made from the records alone)
    second = build_context(dataset([lookup("2023-10-03 09:00", user="TC002")]), cfg, shared)
    assert second.keymap is first.keymap
    assert second.cache["officer_phones"] is first.cache["officer_phones"]
    many = np.array(others["test:many"], dtype=object)
    assert second.officer_codes(many, "test:many").tolist() == [-1, -1, 0, -1, -1]
    for form, values in forms.items():
        assert second.officer_codes(values, f"test:{form}").tolist() == [0, -1, -1, -1, 0, -1]
    assert second.officer_codes(np.array(["TC003"], dtype=object), "test:few").tolist() == [-1]


def test_subject_keys_and_codes_follow_identities_and_first_appearance() -> None:
    """Identifiers tied by ``identities`` share one key and one code; the rest keep their own.

    The person is the root of her plate's and phone's component, and is also
    looked up herself: all three lookups' subjects get the same key and ``k``.
    Codes number keys and values in order of first appearance over the rows,
    as factorising the columns row by row gives; a repeated identifier in one
    lookup is one subject.
    """
    from kit.assess.context import build_context

    person = "身分證號=C135792461"
    data = dataset(
        [
            lookup("2023-10-02 09:00", conditions="車號=XYZ-0001"),
            lookup("2023-10-02 09:05", conditions="車號=CAR-7777"),
            lookup("2023-10-02 09:10", conditions="電話=0955000111;車號=XYZ-0001"),
            lookup("2023-10-02 09:15", conditions=person),
            lookup("2023-10-02 09:20", conditions=f"{person};車號=CAR-7777;{person}"),
            lookup("2023-10-02 09:25", conditions="電話=0911000002"),
        ],
        identities=[
            {"identifier": "車牌=CAR-7777", "belongs_to": person, "link": "車主"},
            {"identifier": "電話=0955000111", "belongs_to": person, "link": "門號申請人"},
        ],
    )
    ctx = build_context(data, load_config(None))
    subjects = ctx.subjects
    # the reference: keys through the key map one row at a time, codes by first appearance
    rows = [
        (row, entity, value)
        for row, entity, value in zip(
            subjects["row"], subjects["entity"], subjects["value"], strict=True
        )
    ]
    assert len(set(rows)) == len(rows), "one subject per (lookup, identifier)"
    assert list(subjects["row"]) == sorted(subjects["row"])
    keys = [ctx.keymap.keys(pd.Series([e]), pd.Series([v])).iloc[0] for _, e, v in rows]
    assert list(subjects["key"]) == keys
    assert list(subjects["k"]) == list(pd.factorize(pd.Series(keys))[0])
    assert list(subjects["v"]) == list(pd.factorize(subjects["value"])[0])
    assert list(ctx.cache["key_index"]) == list(dict.fromkeys(keys))
    assert list(ctx.cache["value_index"]) == list(dict.fromkeys(subjects["value"]))
    # the person's own lookup, her car and her phone share one key; the other plate does not
    k_of = dict(
        zip(zip(subjects["entity"], subjects["value"], strict=True), subjects["k"], strict=True)
    )
    own = k_of[("person_id", "C135792461")]
    assert k_of[("plate", "CAR7777")] == own
    assert k_of[("phone", "0955000111")] == own
    assert k_of[("plate", "XYZ0001")] != own
    # an officer's phone resolves to the officer (TC002, through his national ID)
    assert subjects.loc[subjects["value"] == "0911000002", "key"].tolist() == [
        "person_id:F222222222"
    ]
