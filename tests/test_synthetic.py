"""The synthetic Denmark: contracts, determinism, the written files and the truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from progression.config import StaircaseParams, SyntheticParams, load_params
from progression.schemas import SCHEMAS, validate_tables
from progression.sources.synthetic import SyntheticData, generate

SMALL = SyntheticParams(scale=0.05)


@pytest.fixture(scope="module")
def small() -> SyntheticData:
    return generate(SMALL, StaircaseParams(), seed=7)


def test_every_contract_table_is_generated_and_valid(small):
    assert list(small.tables) == list(SCHEMAS)
    validate_tables(small.tables)
    for name in ("persons", "spells", "moves", "assessments", "person_years", "person_year_costs", "participations"):
        assert len(small.tables[name]) > 0, name


def test_ci_parameters_generate_valid_tables():
    params = load_params(__file__.rsplit("/tests/", 1)[0] + "/params/ci.yaml")
    data = generate(params.data.synthetic.model_copy(update={"scale": 0.02}), params.staircase, seed=params.run.seed)
    validate_tables(data.tables)


def test_seed_is_keyword_only():
    with pytest.raises(TypeError):
        generate(SMALL, StaircaseParams(), 7)


def test_same_seed_writes_identical_bytes_and_other_seed_differs(tmp_path):
    params = SyntheticParams(scale=0.02)
    first = generate(params, StaircaseParams(), seed=11).write(tmp_path / "a")
    second = generate(params, StaircaseParams(), seed=11).write(tmp_path / "b")
    other = generate(params, StaircaseParams(), seed=12).write(tmp_path / "c")
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted([f"{t}.parquet" for t in SCHEMAS] + ["truth.json"])
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    differing = [n for n in names if (first / n).read_bytes() != (other / n).read_bytes()]
    assert {"persons.parquet", "spells.parquet", "municipal_accounts.parquet", "truth.json"} <= set(differing)


def test_written_parquet_reads_back_equal_and_truth_is_sorted_json(small, tmp_path):
    out = small.write(tmp_path)
    for name, frame in small.tables.items():
        back = pd.read_parquet(out / f"{name}.parquet")
        pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    text = (out / "truth.json").read_text(encoding="utf-8")
    truth = json.loads(text)
    assert text == json.dumps(truth, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert truth == small.truth


def test_truth_holds_the_generating_parameters(small):
    truth = small.truth
    q = truth["process"]["baseline_q_per_year"]
    assert q["SEL85"]["none"] > 0 and q["SEL108"]["ABL105"] > 0
    coef = truth["process"]["coefficients_log_hr"]
    assert coef["down"]["recovery"] == SMALL.recovery_down_log_hr
    assert coef["up"]["recovery"] == SMALL.recovery_up_log_hr
    assert set(coef["up"]) == set(truth["process"]["covariates"])
    assert truth["spells"]["sel82_unrecorded_share"] == SMALL.sel82_unrecorded_share
    assert truth["params"]["scale"] == SMALL.scale
    assert set(truth["interventions"]["true_effects"]) >= {"ips", "sel82_group", "flexstoette", "housing_first"}


def test_municipalities_mark_the_four_case_municipalities(small):
    muni = small.tables["municipalities"].set_index("municipality")
    case = muni.index[muni["case_municipality"]].tolist()
    assert sorted(case) == [169, 265, 657, 751]
    assert (muni.loc[case, "recovery_start_year"] == SMALL.case_recovery_start_year).all()
    later = muni["recovery_start_year"].dropna().drop(case)
    assert len(later) == SMALL.n_later_adopters and (later > SMALL.case_recovery_start_year).all()
    assert muni["recovery_start_year"].isna().sum() == 98 - 4 - SMALL.n_later_adopters


def test_staircase_without_a_simulated_paragraph_is_rejected():
    steps = [s for s in StaircaseParams().steps if s.name != "SEL107"]
    with pytest.raises(ValueError, match="SEL107"):
        generate(SMALL, StaircaseParams(steps=steps), seed=1)


def test_person_ids_are_consistent_across_tables(small):
    ids = set(small.tables["persons"]["person_id"])
    for name in ("spells", "moves", "assessments", "person_years", "person_year_costs", "participations"):
        assert set(small.tables[name]["person_id"]) <= ids, name
    assert np.array_equal(np.sort(list(ids)), np.arange(1, len(ids) + 1))


def test_spells_carry_the_register_quirks(small):
    spells = small.tables["spells"].sort_values(["person_id", "start_date"])
    nxt = spells.groupby("person_id").shift(-1)
    change = nxt["paragraph"].notna() & (nxt["paragraph"] != spells["paragraph"])
    same_day = change & (spells["end_date"] == nxt["start_date"])
    overlap = change & (spells["end_date"] > nxt["start_date"])
    assert same_day.sum() > 0 and overlap.sum() > same_day.sum() * 0.05
    assert spells["end_date"].isna().any()
    open_ids = spells.loc[spells["end_date"].isna(), "person_id"]
    open_persons = small.tables["persons"].set_index("person_id").loc[open_ids]
    assert open_persons["death_date"].isna().all() and open_persons["emigration_date"].isna().all()
    # §82 held together with §85 in one year
    y22 = spells[(spells["start_date"] <= "2022-12-31")
                 & (spells["end_date"].isna() | (spells["end_date"] >= "2022-01-01"))]
    held = y22.groupby("person_id")["paragraph"].agg(set)
    assert held.map(lambda s: "SEL85" in s and bool(s & {"SEL82a", "SEL82b"})).sum() > 0
    quirks = small.truth["spells"]["realised"]
    n, missing = quirks["sel82_true_spells"], quirks["sel82_unrecorded_spells"]
    share = SMALL.sel82_unrecorded_share
    assert abs(missing / n - share) < 4 * np.sqrt(share * (1 - share) / n)
    assert quirks["same_day_changes"] / quirks["paragraph_changes"] == pytest.approx(
        SMALL.same_day_change_share, abs=0.05)


def test_moves_change_the_acting_municipality(small):
    moves = small.tables["moves"]
    spells = small.tables["spells"]
    assert (moves["from_municipality"] != moves["to_municipality"]).all()
    after = spells.merge(moves, on="person_id")
    after = after[(after["start_date"] >= after["move_date"]) & after["paragraph"].isin(["SEL85", "SEL108", "ABL105"])]
    latest = after.sort_values("move_date").groupby("spell_id").tail(1)
    assert (latest["municipality"] == latest["to_municipality"]).mean() > 0.9


def test_assessments_cover_every_instrument_with_its_items(small):
    a = small.tables["assessments"]
    items = a.groupby("instrument")["item"].agg(lambda s: sorted(set(s)))
    assert items["VUM"] == sorted(["egenomsorg", "praktiske_opgaver", "mobilitet", "kommunikation", "socialt_liv",
                                   "sundhed"])
    assert items["WHO5"] == sorted(str(i) for i in range(1, 6))
    assert items["INSPIRE_O"] == sorted(str(i) for i in range(1, 6))
    assert items["QPR15"] == sorted(str(i) for i in range(1, 16))
    assert (a.loc[a["instrument"] == "VUM", "score"] == 9).any()
    assert a.loc[a["instrument"] == "WHO5", "score"].isna().any()
    dates = a.groupby("person_id")["assessment_date"].nunique()
    assert dates.max() > 3  # repeated, irregular reassessments
    realised = small.truth["assessments"]["realised"]
    for instrument, entry in realised.items():
        assert 0.6 < entry["reliability_realised"] < 0.97, instrument
        shares = entry["by_group"]["all"]["true_shares"]
        assert sum(shares.values()) == pytest.approx(1.0)


def test_unit_costs_are_labelled_illustrative_with_price_year(small):
    unit = small.tables["unit_costs"].set_index(["item", "payer"])
    assert unit["source"].str.contains("illustrative").all()
    assert (unit["price_year"] == SMALL.cost_price_year).all()
    assert 800_000 <= unit.loc[("SEL108", "kommune"), "cost_dkk"] <= 950_000
    assert unit.loc[("disability_pension", "stat"), "cost_dkk"] == pytest.approx(220_000)
    assert 5_000 <= unit.loc[("psych_inpatient", "region"), "cost_dkk"] <= 6_000
    costs = small.tables["person_year_costs"]
    assert set(costs["payer"]) == {"kommune", "region", "stat"}
    assert set(costs["service"]) <= set(unit.index.get_level_values("item"))
