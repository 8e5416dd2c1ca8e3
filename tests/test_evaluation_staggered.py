"""The effect per starter under staggered adoption against simulated data with a known effect per starter."""

import warnings

import numpy as np
import pytest

from progression.evaluation import CallawaySantAnna, per_starter_effect
from progression.evaluation.simulate import staggered_adoption_panel
from progression.evaluation.staggered import PER_STARTER_METHOD
from progression.exceptions import DataContractError, StatisticalWarning

TRUTH = 0.3
COLUMNS = dict(outcome="employed", share="share_started", unit="municipality", time="year", group="adoption_year")


def fit(seed, **kwargs):
    return per_starter_effect(staggered_adoption_panel(seed=seed, effect_per_starter=TRUTH, **kwargs), **COLUMNS)


def test_per_starter_effect_is_the_ratio_of_two_callaway_santanna_effects_and_covers_the_truth():
    panel = staggered_adoption_panel(seed=3, effect_per_starter=TRUTH)
    rows = per_starter_effect(panel, **COLUMNS)
    itt = CallawaySantAnna().fit(panel, outcome="employed", unit="municipality", time="year",
                                 group="adoption_year").summary().iloc[0]
    share = CallawaySantAnna().fit(panel, outcome="share_started", unit="municipality", time="year",
                                   group="adoption_year").summary().iloc[0]
    assert rows["method"].tolist()[2] == PER_STARTER_METHOD
    assert rows["estimate"].iloc[0] == pytest.approx(itt["estimate"]) and rows["estimate"].iloc[1] == pytest.approx(
        share["estimate"])
    per_starter = rows.iloc[2]
    assert per_starter["estimate"] == pytest.approx(itt["estimate"] / share["estimate"])
    assert per_starter["conf_low"] < TRUTH < per_starter["conf_high"]
    # the share's uncertainty and its covariance with the outcome's effect are in the standard error:
    # it is not the outcome's standard error divided by the share
    assert per_starter["std_error"] != pytest.approx(itt["std_error"] / share["estimate"], rel=1e-3)


def test_per_starter_effect_warns_on_a_weak_first_stage_and_refuses_a_zero_one():
    with pytest.warns(StatisticalWarning, match="weak first stage"):
        fit(2, uptake=(0.0, 0.005), eligible=(5, 10), share_adopting=0.1)  # a few adopters, hardly any starters
    panel = staggered_adoption_panel(seed=4).assign(share_started=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        with pytest.raises(DataContractError, match="share started is 0"):
            per_starter_effect(panel, **COLUMNS)


@pytest.mark.slow
def test_per_starter_interval_covers_the_truth_at_its_nominal_rate():
    """200 simulated countries of 98 municipalities (about 20 s): the 95 % interval covers the effect per starter
    in 90–99 % of them, and its standard error matches the spread of the estimates."""
    estimates, errors, covered = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        for seed in range(200):
            row = fit(seed).iloc[2]
            estimates.append(row["estimate"])
            errors.append(row["std_error"])
            covered.append(row["conf_low"] < TRUTH < row["conf_high"])
    assert 0.90 <= np.mean(covered) <= 0.99
    assert np.mean(estimates) == pytest.approx(TRUTH, abs=0.01)
    assert np.mean(errors) == pytest.approx(np.std(estimates), rel=0.15)
