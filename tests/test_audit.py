from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from test_audit_fixtures import agency, officers_frame, screen_lookups

from kit.audit import (
    lookup_quota,
    monthly_sample,
    monthly_statistics,
    station_quota,
    unit_parents,
    unit_quota,
)
from kit.audit.hierarchy import name_parent
from kit.dataset import Dataset
from kit.errors import ConfigError, SchemaError


@pytest.mark.parametrize(
    ("headcount", "officers"),
    [
        pytest.param(0, 0, id="empty"),
        pytest.param(1, 1, id="1"),
        pytest.param(20, 1, id="20"),
        pytest.param(21, 2, id="21"),
        pytest.param(39, 2, id="39"),
        pytest.param(40, 3, id="40"),
        pytest.param(59, 3, id="59"),
        pytest.param(60, 4, id="60"),
        pytest.param(79, 4, id="79"),
        pytest.param(80, 5, id="80"),
    ],
)
def test_station_quota(headcount: int, officers: int) -> None:
    assert int(station_quota(headcount)) == officers


@pytest.mark.parametrize(
    ("units", "quota"), [(1, 1), (5, 1), (6, 2), (7, 2), (10, 2), (11, 3), (15, 3), (16, 4)]
)
def test_unit_quota_is_exact_ceiling(units: int, quota: int) -> None:
    assert unit_quota(units) == quota


@pytest.mark.parametrize(
    ("lookups", "rate", "quota"),
    [
        (0, 0.02, 0),
        (1, 0.02, 1),
        (50, 0.02, 1),
        (51, 0.02, 2),
        (100, 0.02, 2),
        (150, 0.02, 3),
        (101, 0.04, 5),
        (3, 1.0, 3),
    ],
)
def test_lookup_quota(lookups: int, rate: float, quota: int) -> None:
    assert int(lookup_quota(lookups, rate)[()]) == quota


def test_bad_rate_is_config_error() -> None:
    with pytest.raises(ConfigError):
        lookup_quota(10, 1.5)


@pytest.mark.parametrize(
    ("unit", "parent"),
    [
        ("第三分局西屯派出所", "第三分局"),
        ("台中市政府警察局第三分局西屯派出所", "台中市政府警察局第三分局"),
        ("刑事警察大隊偵查隊", "刑事警察大隊"),
        ("第三分局", None),
        ("督察科", None),
    ],
)
def test_parent_from_name(unit: str, parent: str | None) -> None:
    assert name_parent(unit) == parent


def test_units_kind_overrides_names_and_folds() -> None:
    units = pd.DataFrame({"unit": ["臺中西屯所"], "parent": ["第三分局"]})
    parents = unit_parents(units, ["台中西屯所", "第五分局北屯派出所"])
    assert parents["台中西屯所"] == "第三分局"
    assert parents["第五分局北屯派出所"] == "第五分局"


@pytest.mark.parametrize(
    ("stations", "units_chosen"),
    [pytest.param(7, 2, id="precinct of 7"), pytest.param(11, 3, id="precinct of 11")],
)
def test_precinct_unit_count(stations: int, units_chosen: int) -> None:
    lookups, dataset = agency({f"第一分局{i:02d}派出所": 5 for i in range(stations)})
    sample = monthly_sample(lookups, dataset, "2023-03", seed=1, parent_unit="第一分局")
    assert len(sample.units) == stations
    assert int(sample.units["chosen"].sum()) == units_chosen
    assert set(sample.lookups["unit"]) == set(sample.units.loc[sample.units["chosen"], "unit"])


@pytest.mark.parametrize(
    ("headcount", "officers"),
    [
        pytest.param(20, 1, id="20"),
        pytest.param(21, 2, id="21"),
        pytest.param(39, 2, id="39"),
        pytest.param(40, 3, id="40"),
    ],
)
def test_station_officer_sample(headcount: int, officers: int) -> None:
    lookups, dataset = agency({"第二分局甲派出所": headcount}, per_officer=3)
    sample = monthly_sample(lookups, dataset, "2023-03", seed=5)
    chosen = sample.officers_sampled
    assert len(chosen) == officers
    assert chosen["officer_id"].is_unique
    assert (sample.officers.groupby("unit")["p_within"].sum().round(9) == officers).all()


def test_officers_out_of_service_are_not_counted() -> None:
    officers = officers_frame({"第二分局乙派出所": 21})
    officers["end_date"] = [None] * 20 + ["2023-02-27"]
    lookups = screen_lookups(officers.iloc[:20], 3)
    dataset = Dataset.from_frames(officers=officers)
    sample = monthly_sample(lookups, dataset, "2023-03", seed=0)
    assert int(sample.units["headcount"].iloc[0]) == 20
    assert len(sample.officers_sampled) == 1


def test_every_sampled_unit_meets_two_percent() -> None:
    lookups, dataset = agency({f"第一分局{i}派出所": 6 + i for i in range(6)}, per_officer=37)
    sample = monthly_sample(lookups, dataset, "2023-03", seed=9)
    chosen = sample.units.loc[sample.units["chosen"]]
    counts = sample.lookups["unit"].value_counts()
    for unit, n in zip(chosen["unit"], chosen["lookups"], strict=True):
        assert counts[unit] == math.ceil(n * 2 / 100)
    assert sample.size == int(chosen["lookup_quota"].sum())
    assert int(sample.units["chosen"].sum()) >= math.ceil(len(sample.units) / 5)


def test_same_seed_same_sample_and_seed_recorded() -> None:
    lookups, dataset = agency({f"第一分局{i}派出所": 8 for i in range(9)}, per_officer=30)
    first = monthly_sample(lookups, dataset, "2023-03", seed=42)
    again = monthly_sample(lookups.sample(frac=1, random_state=3), dataset, "2023-03", seed=42)
    other = monthly_sample(lookups, dataset, "2023-03", seed=43)
    assert first.seed == 42
    assert list(first.lookups["lookup_id"]) == list(again.lookups["lookup_id"])
    assert list(first.officers_sampled["officer_id"]) == list(again.officers_sampled["officer_id"])
    assert set(first.lookups["lookup_id"]) != set(other.lookups["lookup_id"])


def test_risk_order_suspicious_then_flagged_then_unexplained() -> None:
    officers = officers_frame({"第一分局丙派出所": 10})
    lookups = screen_lookups(
        officers, 100, suspicious_share=0, flagged_share=0, unexplained_share=0
    )
    # 1000 lookups: quota 20, uniform stratum ⌈20/4⌉ = 5, risk quota 15.
    lookups.loc[0:9, ["suspicious", "flags"]] = [True, "WATCHLIST"]
    lookups.loc[10:29, "flags"] = "ODD_HOURS"
    lookups.loc[30:99, "explanations"] = ""
    dataset = Dataset.from_frames(officers=officers)
    for seed in range(5):
        sample = monthly_sample(lookups, dataset, "2023-03", seed=seed)
        risk = sample.lookups.loc[sample.lookups["stratum"] == "risk", "lookup_id"]
        assert set(lookups.loc[0:9, "lookup_id"]) <= set(risk)
        assert len(risk) == 15
        flagged = set(lookups.loc[10:29, "lookup_id"])
        assert set(risk) - set(lookups.loc[0:9, "lookup_id"]) <= flagged
        assert (sample.lookups["stratum"] == "uniform").sum() == 5


def test_suspicious_is_sampled_before_unflagged() -> None:
    officers = officers_frame({"第一分局丁派出所": 5})
    lookups = screen_lookups(officers, 40, suspicious_share=0, flagged_share=0, unexplained_share=0)
    lookups.loc[123, ["suspicious", "flags"]] = [True, "SELF_OR_RELATED"]
    dataset = Dataset.from_frames(officers=officers)
    for seed in range(10):
        sample = monthly_sample(lookups, dataset, "2023-03", seed=seed)
        assert lookups.loc[123, "lookup_id"] in set(sample.lookups["lookup_id"])
        frame = sample.frame.set_index("lookup_id")
        assert frame.loc[lookups.loc[123, "lookup_id"], "p_within"] == 1.0
        assert (frame["p_within"] < 1).sum() == len(frame) - 1
        assert (sample.lookups["stratum"] == "uniform").sum() == 3


def test_probabilities_positive_and_sum_to_sample_size() -> None:
    lookups, dataset = agency({f"第一分局{i}派出所": 4 + i for i in range(8)}, per_officer=25)
    sample = monthly_sample(lookups, dataset, "2023-03", seed=2, closer_audit=["第一分局3派出所"])
    frame = sample.frame
    assert len(frame) == len(lookups)
    assert (frame["inclusion_probability"] > 0).all()
    chosen = frame[frame["unit"].isin(sample.units.loc[sample.units["chosen"], "unit"])]
    # Conditional on the units drawn, within-unit probabilities sum to the sample size,
    assert chosen["p_within"].sum() == pytest.approx(sample.size)
    by_unit = frame.groupby("unit")["p_within"].sum()
    quotas = sample.units.set_index("unit")["lookup_quota"]
    assert np.allclose(by_unit[quotas.index], quotas)
    # and unconditionally they sum to the expected sample size.
    assert frame["inclusion_probability"].sum() == pytest.approx(sample.expected_size)
    assert sample.lookups["inclusion_probability"].between(0, 1, inclusive="right").all()
    # The units table alone gives every lookup's probability (what the bundle writes).
    units = sample.units.set_index("unit")
    rebuilt = frame["unit"].map(units["p_unit"]) * np.where(
        frame["stratum"] == "risk", 1.0, frame["unit"].map(units["p_uniform"])
    )
    assert np.allclose(rebuilt, frame["inclusion_probability"])
    assert (frame["stratum"] == "risk").sum() == units["risk_stratum"].sum()


def test_inclusion_probabilities_match_repeated_draws() -> None:
    lookups, dataset = agency(
        {f"第一分局{i}派出所": 3 for i in range(6)}, per_officer=20, flagged_share=0.1
    )
    draws = 100
    hits = pd.Series(0, index=lookups["lookup_id"])
    for seed in range(draws):
        sample = monthly_sample(lookups, dataset, "2023-03", seed=seed, rate=0.1)
        hits[sample.lookups["lookup_id"]] += 1
    expected = sample.frame.set_index("lookup_id")["inclusion_probability"][hits.index]
    observed = hits / draws
    tolerance = 4 * np.sqrt(expected * (1 - expected) / draws) + 1e-9
    assert ((observed - expected).abs() <= tolerance).mean() > 0.99


def test_closer_audit_units_always_chosen_at_twice_the_rate() -> None:
    stations = {f"第一分局{i:02d}派出所": 6 for i in range(12)}
    lookups, dataset = agency(stations, per_officer=40)
    closer = ["第一分局04派出所", "第一分局09派出所"]
    for seed in range(10):
        sample = monthly_sample(lookups, dataset, "2023-03", seed=seed, closer_audit=closer)
        units = sample.units.set_index("unit")
        assert units.loc[closer, "chosen"].all()
        assert (units.loc[closer, "p_unit"] == 1).all()
        assert int(units["chosen"].sum()) == 3
        counts = sample.lookups["unit"].value_counts()
        for unit in closer:
            assert counts[unit] == math.ceil(units.loc[unit, "lookups"] * 4 / 100)
        assert units.loc[closer, "rate"].tolist() == [0.04, 0.04]
    assert sample.closer_audit == tuple(closer)


def test_closer_audit_unknown_unit_is_reported() -> None:
    lookups, dataset = agency({"第一分局甲派出所": 3})
    sample = monthly_sample(lookups, dataset, "2023-03", seed=0, closer_audit=["不存在派出所"])
    assert sample.closer_not_found == ("不存在派出所",)


def test_parent_unit_restricts_and_unknown_raises() -> None:
    stations = {f"第一分局{i}派出所": 3 for i in range(4)}
    stations |= {f"第二分局{i}派出所": 3 for i in range(6)}
    officers = officers_frame(stations)
    lookups = screen_lookups(officers, 5)
    dataset = Dataset.from_frames(officers=officers)
    sample = monthly_sample(lookups, dataset, "2023-03", seed=0, parent_unit="第二分局")
    assert sample.parent_unit == "第二分局"
    assert set(sample.units["unit"]) == {f"第二分局{i}派出所" for i in range(6)}
    assert sample.lookups["unit"].str.startswith("第二分局").all()
    with pytest.raises(ConfigError):
        monthly_sample(lookups, dataset, "2023-03", seed=0, parent_unit="第九分局")


def test_lookups_outside_month_ignored_and_bad_month() -> None:
    lookups, dataset = agency({"第一分局甲派出所": 5}, per_officer=20)
    shifted = lookups.assign(time=lookups["time"] + pd.Timedelta(days=60))
    both = pd.concat([lookups, shifted.assign(lookup_id=shifted["lookup_id"] + "x")])
    sample = monthly_sample(both, dataset, "2023-03", seed=0)
    assert len(sample.frame) == len(lookups)
    with pytest.raises(ConfigError):
        monthly_sample(both, dataset, "2023-13", seed=0)
    with pytest.raises(SchemaError) as error:
        monthly_sample(lookups.drop(columns=["flags", "suspicious"]), dataset, "2023-03", seed=0)
    assert error.value.missing == ("flags", "suspicious")


def test_iso_text_times_and_text_booleans_accepted() -> None:
    lookups, dataset = agency({"第一分局甲派出所": 5}, per_officer=20)
    as_text = lookups.assign(
        time=lookups["time"].dt.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
        suspicious=np.where(lookups["suspicious"], "true", "false"),
    )
    a = monthly_sample(lookups, dataset, "2023-03", seed=1)
    b = monthly_sample(as_text, dataset, "2023-03", seed=1)
    assert list(a.lookups["lookup_id"]) == list(b.lookups["lookup_id"])


def test_statistics_totals_and_rankings() -> None:
    stations = {"第一分局甲派出所": 4, "第一分局乙派出所": 6, "第一分局丙派出所": 2}
    lookups, dataset = agency(stations, per_officer=30)
    previous = lookups.assign(time=lookups["time"] - pd.Timedelta(days=28)).iloc[:200]
    stats = monthly_statistics(lookups, dataset, "2023-03", previous)
    assert int(stats["totals"]["lookups"].iloc[0]) == len(lookups)
    by_unit = stats["volume_by_unit"].set_index("unit")
    assert by_unit["lookups"].sum() == len(lookups)
    assert by_unit["lookups"].to_dict() == lookups["unit"].value_counts().to_dict()
    assert by_unit.loc["第一分局乙派出所", "rank"] == 1
    assert stats["volume_by_account"]["lookups"].sum() == len(lookups)
    assert (
        stats["abnormal_times"]["ODD_HOURS"].sum()
        == lookups["flags"].str.contains("ODD_HOURS").sum()
    )
    assert stats["abnormal_subjects"]["WATCHLIST"].sum() == int(lookups["suspicious"].sum())
    assert stats["lookups_by_hour"]["lookups"].sum() == len(lookups)
    unexplained = (lookups["explanations"] == "").sum()
    assert stats["unexplained_by_unit"]["unexplained"].sum() == unexplained
    mom = stats["month_over_month"].set_index("unit")
    assert mom["previous_lookups"].sum() == 200
    assert mom["lookups"].sum() == len(lookups)


def test_closer_audit_candidates_from_volume_jump() -> None:
    stations = {f"第一分局{i}派出所": 5 for i in range(6)}
    lookups, dataset = agency(stations, per_officer=20)
    previous = lookups.assign(time=lookups["time"] - pd.Timedelta(days=28))
    heavy = screen_lookups(officers_frame({"第一分局0派出所": 5}), 60, seed=7)
    current = pd.concat([lookups, heavy], ignore_index=True)
    stats = monthly_statistics(current, dataset, "2023-03", previous)
    candidates = stats["closer_audit_candidates"].set_index("unit")
    assert list(candidates.index) == ["第一分局0派出所"]
    assert "jump" in candidates.loc["第一分局0派出所", "reason"]
    assert "volume" in candidates.loc["第一分局0派出所", "reason"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_risk_stratum_never_skips_a_riskier_lookup(seed: int) -> None:
    lookups, dataset = agency(
        {f"第一分局{i}派出所": 5 + 3 * i for i in range(4)},
        per_officer=60,
        seed=seed,
        flagged_share=0.02,
        suspicious_share=0.005,
        unexplained_share=0.01,
    )
    sample = monthly_sample(lookups, dataset, "2023-03", seed=seed)
    frame = sample.frame
    units = sample.units.set_index("unit")
    for unit, rows in frame.groupby("unit"):
        risk = rows[rows["stratum"] == "risk"]
        others = rows[(rows["stratum"] != "risk") & (rows["risk_tier"] > 0)]
        risk_quota = units.loc[unit, "lookup_quota"] - math.ceil(
            units.loc[unit, "lookup_quota"] / 4
        )
        assert len(risk) <= risk_quota
        if len(others):
            assert len(risk) == risk_quota
            assert risk["risk_tier"].min() >= others["risk_tier"].max()


def test_hierarchy_from_units_kind_selects_descendants() -> None:
    stations = {"西屯所": 4, "南屯所": 4, "北屯所": 4, "大雅所": 4}
    officers = officers_frame(stations)
    lookups = screen_lookups(officers, 10)
    units = pd.DataFrame(
        {
            "unit": ["西屯所", "南屯所", "北屯所", "大雅所", "第三分局", "第四分局"],
            "parent": [
                "第三分局",
                "第三分局",
                "第四分局",
                "第四分局",
                "臺中市警察局",
                "臺中市警察局",
            ],
        }
    )
    dataset = Dataset.from_frames(officers=officers, units=units)
    third = monthly_sample(lookups, dataset, "2023-03", seed=0, parent_unit="第三分局")
    assert set(third.units["unit"]) == {"西屯所", "南屯所"}
    assert set(third.units["parent"]) == {"第三分局"}
    whole = monthly_sample(lookups, dataset, "2023-03", seed=0, parent_unit="台中市警察局")
    assert set(whole.units["unit"]) == set(stations)
    assert int(whole.units["chosen"].sum()) == 1


def test_month_without_lookups_still_samples_officers() -> None:
    lookups, dataset = agency({"第一分局甲派出所": 3})
    sample = monthly_sample(lookups.iloc[:0], dataset, "2023-03", seed=0)
    assert sample.size == 0 and sample.expected_size == 0
    assert len(sample.officers_sampled) == 1
    stats = monthly_statistics(lookups.iloc[:0], dataset, "2023-03")
    assert int(stats["totals"]["lookups"].iloc[0]) == 0
    assert stats["lookups_by_hour"]["lookups"].sum() == 0
