"""Steps of progression.analyses.multistate on the example data (the ci-sized synthetic Denmark), against
its generating truth; each table carries its disclosure declaration and passes disclosure control."""

import numpy as np
import pytest

from progression.analyses import multistate as mm
from progression.datasets import example_params, example_truth, load_example
from progression.disclosure import declaration_of, suppress
from progression.panel import build_panel
from progression.transitions import ctmc

MIN_CELL = 5


@pytest.fixture(scope="module")
def params():
    return example_params()


@pytest.fixture(scope="module")
def truth():
    return example_truth()


@pytest.fixture(scope="module")
def observations(params):
    s = params.data.synthetic
    snapshots = build_panel(load_example("spells"), load_example("persons"), load_example("moves"),
                            start=s.start_year, end=s.end_year, period="year", rule="end", staircase=params.staircase)
    return mm.snapshot_observations(snapshots, load_example("persons"), start_year=params.transitions.start_year,
                                    end_year=params.transitions.end_year,
                                    case_municipalities=params.transitions.case_municipalities)


@pytest.fixture(scope="module")
def qmatrix(observations, params):
    return mm.allowed_qmatrix(observations, min_moves=params.transitions.ctmc_min_moves, staircase=params.staircase)


@pytest.fixture(scope="module")
def sel82_model(observations, qmatrix, params):
    return mm.fit_sel82_misclassification(observations, qmatrix, staircase=params.staircase)


def _passes(table, name):
    assert declaration_of(table) is not None
    shown, _ = suppress(table, table_name=name, min_cell_size=MIN_CELL)
    return shown


def test_snapshot_observations(observations):
    assert list(observations.columns) == ["person_id", "time", "state", "municipality", "case", "severity",
                                          "target_group"]
    assert observations.groupby("person_id").size().min() >= 2
    assert observations["time"].is_monotonic_increasing is False  # sorted by person, then time
    assert (observations.groupby("person_id")["time"].diff().dropna() > 0).all()


def test_sel82_misclassification_and_leaving_for_good(sel82_model, observations, truth, params):
    assert sel82_model.ematrix_.loc["out", "none"] == 1.0
    table = mm.sel82_truth_comparison(sel82_model, truth, observations, staircase=params.staircase)
    assert list(table["quantity"]) == ["P(recorded as none | on SEL82)", "intensity none -> out (per year)"]
    leave = table.iloc[1]
    assert leave["truth"] == 0.25
    assert leave["conf_low"] <= 0.25 <= leave["conf_high"]  # the hidden state recovers the generating rate
    e = table.iloc[0]
    assert 0 < e["conf_low"] < e["estimate"] < e["conf_high"] < 1
    assert e["truth"] == pytest.approx(params.data.synthetic.sel82_unrecorded_share)
    _passes(table, "transitions_hmm_truth")
    _passes(mm.misclassification_table(sel82_model, observations), "transitions_hmm_misclassification")


def test_intensity_comparison_side_by_side(sel82_model, observations, qmatrix):
    basic = ctmc.fit(observations, subject="person_id", time="time", state="state", qmatrix=qmatrix)
    table = mm.intensity_comparison({"register": basic, "hidden Markov": sel82_model}, observations,
                                    states=["SEL82", "none"])
    assert set(table["model"]) == {"register", "hidden Markov"}
    assert ((table["from_state"].isin(["SEL82", "none"])) | (table["to_state"].isin(["SEL82", "none"]))).all()
    _passes(table, "transitions_hmm_intensities")


def test_period_effect_in_the_reorganised_municipalities(observations, params, truth):
    case = observations[observations.groupby("person_id")["case"].transform("all")]
    q = mm.allowed_qmatrix(case, min_moves=20, staircase=params.staircase)
    model = mm.fit_period_effect(case, q, cut=float(params.data.synthetic.case_recovery_start_year),
                                 covariates=["severity"])
    table = mm.period_truth_comparison(model, truth, case)
    assert table["term"].str.startswith("timeperiod").all()
    assert table["covered"].mean() >= 0.7
    shown = _passes(table, "transitions_pci_truth")
    assert len(shown) == len(table)


def test_goodness_of_fit_tables(sel82_model, observations, qmatrix):
    basic = ctmc.fit(observations, subject="person_id", time="time", state="state", qmatrix=qmatrix)
    prevalence = mm.prevalence_table(basic, times=np.arange(0.0, 10.0))
    shown = _passes(prevalence, "transitions_gof_prevalence")
    first = shown[shown["time"] == 0.0]
    np.testing.assert_allclose(first["expected_percent"], first["observed_percent"], atol=1e-9)
    cells, test = mm.pearson_tables(basic, timegroups=2)
    _passes(cells, "transitions_gof_pearson_cells")
    _passes(test, "transitions_gof_pearson_test")
    assert test.loc[0, "statistic"] > 0 and 0 <= test.loc[0, "p_value"] <= 1


def test_vum_levels_with_rater_misclassification(truth):
    obs = mm.vum_level_observations(load_example("assessments"))
    model = mm.fit_vum_levels(obs)
    table = mm.vum_truth_comparison(model, truth, obs)
    mis = table[table["quantity"] == "misclassification"]
    assert np.abs(mis["estimate"] - mis["truth"]).max() < 0.1
    share = table[table["quantity"] == "share misclassified"].iloc[0]
    assert share["estimate"] == pytest.approx(share["truth"], abs=0.05)
    _passes(table, "progression_vum_hmm_truth")
    _passes(mm.misclassification_table(model, obs), "progression_vum_hmm_misclassification")
    prevalence = mm.prevalence_table(model, times=np.arange(0.0, 6.0, 0.5))
    _passes(prevalence, "progression_vum_hmm_prevalence")


def test_vum_level_cuts_must_match_the_names():
    with pytest.raises(Exception, match="2 cuts make 3 levels; found 2 level names"):
        mm.vum_level_observations(load_example("assessments"), levels=("low", "high"))


def test_unknown_states_are_named(observations, qmatrix):
    with pytest.raises(Exception, match="under: 'SEL99' is not a state of qmatrix"):
        mm.fit_sel82_misclassification(observations, qmatrix, under="SEL99")
