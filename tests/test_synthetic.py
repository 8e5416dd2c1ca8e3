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
