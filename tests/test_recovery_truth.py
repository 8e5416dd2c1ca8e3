"""Recovery of the synthetic truth at scale 0.2, where the intervals are informative.

One synthetic Denmark is generated per module (scale 0.2, the ci seed). While generating, the true
score of every assessment occasion (the expected raw score given the latent process, which the
generator computes but does not write) is captured, so the trajectory slopes can be checked against
the same growth model fitted to the true scores of the same occasions.
"""

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from progression.config import load_params
from progression.analyses import progression as an
from progression.disclosure import mark_disclosed
from progression.recovery import TrajectoryModel, trajectory_frame
from progression.staircase import Staircase

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
INSTRUMENTS = ["VUM", "WHO5", "INSPIRE_O", "QPR15"]
SURVEYS = ["WHO5", "INSPIRE_O", "QPR15"]


@pytest.fixture(scope="module")
def world():
    from progression.sources import synthetic
    from progression.sources.synthetic import assessments as generator
    from progression.sources.synthetic._calendar import day_number, to_datetime

    params = load_params(ROOT / "params" / "ci.yaml")
    captured = {}
    original = generator.generate

    def capture(*args, **kwargs):
        table, scores = original(*args, **kwargs)
        captured["scores"] = scores
        captured["person_ids"] = inspect.signature(original).bind(*args, **kwargs).arguments["person_ids"]
        return table, scores

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(generator, "generate", capture)
        data = synthetic.generate(params.data.synthetic.model_copy(update={"scale": 0.2}), params.staircase,
                                  seed=params.run.seed)
    s = captured["scores"]
    true_scores = pd.DataFrame({"person_id": captured["person_ids"][s["person"].to_numpy()],
                                "assessment_date": to_datetime(day_number(s["t"].to_numpy())),
                                "instrument": s["instrument"].to_numpy(), "true_raw": s["true_score"].to_numpy()})
    return data, true_scores, Staircase.from_params(params.staircase)


@pytest.fixture(scope="module")
def estimates(world):
    data, _, stairs = world
    t = data.tables
    reliability = an.reliability(t["assessments"], INSTRUMENTS, prefer="declared")
    change = an.reliable_change(t["assessments"], reliability)
    changes = an.changes_in_context(change, t["persons"], t["spells"], staircase=stairs)
    boot = an.bootstrap(t["assessments"], changes, change, reliability, n_boot=200, seed=1)
    means = an.mean_change_by(changes, ["target_group"])
    # no disclosure control here: the comparison is made on every cell (nothing leaves the test)
    comparison = an.truth_comparison(mark_disclosed(boot, "boot"), mark_disclosed(means, "means"), data.truth)
    return reliability, comparison


def test_alpha_recovers_the_reliability_of_the_surveys(world, estimates):
    """Survey items are parallel in the generator, so alpha estimates the realised reliability."""
    realised = world[0].truth["assessments"]["realised"]
    rel = estimates[0].set_index("instrument")
    for instrument in SURVEYS:
        assert rel.loc[instrument, "alpha"] == pytest.approx(realised[instrument]["reliability_realised"], abs=0.02)


def test_survey_shares_recover_the_truth_by_target_group(estimates):
    """Reliable-change shares against the truth's observed shares and latent shares against the true shares,
    all citizens and by target group: at least 90 % of the (nominal 95 %) intervals cover."""
    comparison = estimates[1]
    shares = comparison[comparison["instrument"].isin(SURVEYS) & comparison["quantity"].isin(["rci_share",
                                                                                             "latent_share"])]
    shares = shares.dropna(subset=["estimate"])
    assert len(shares) >= 60
    for quantity, rows in shares.groupby("quantity"):
        assert rows["covered"].astype(bool).mean() >= 0.9, rows[~rows["covered"].astype(bool)]


def test_mean_change_recovers_the_mean_true_change(estimates):
    comparison = estimates[1]
    means = comparison[comparison["quantity"] == "mean_change"]
    assert len(means) == 4 and means["covered"].astype(bool).all(), means


def test_vum_threshold_is_conservative(world, estimates):
    """VUM domains load unequally, so alpha (a lower bound) underestimates the reliability of the mean
    level: the threshold is too wide and fewer citizens are classified as changed than in the truth."""
    realised = world[0].truth["assessments"]["realised"]["VUM"]
    assert estimates[0].set_index("instrument").loc["VUM", "alpha"] < realised["reliability_realised"]
    vum = estimates[1]
    vum = vum[(vum["instrument"] == "VUM") & (vum["group"] == "all") & (vum["quantity"] == "rci_share")]
    changed = vum[vum["change_class"] != "maintenance"]
    assert (changed["estimate"] < changed["truth"]).all()
    assert (changed["truth"] - changed["estimate"]).max() < 0.06


@pytest.mark.parametrize("instrument", INSTRUMENTS)
def test_trajectory_slope_recovers_the_true_score_slope(world, instrument):
    """The growth model on observed scores against the same model on the true scores of the same occasions:
    the observed slope's 95 % interval covers the true-score slope."""
    data, true_scores, stairs = world
    t = data.tables
    frame = trajectory_frame(t["assessments"], instrument, t["persons"], t["spells"], staircase=stairs)
    frame = frame.merge(true_scores[true_scores["instrument"] == instrument].drop(columns="instrument"),
                        on=["person_id", "assessment_date"], how="left")
    assert frame["true_raw"].notna().all()
    observed = TrajectoryModel(engine="fast").fit(frame, value_col="raw", municipality_col="municipality")
    true = TrajectoryModel(engine="fast").fit(frame, value_col="true_raw", municipality_col="municipality")
    est = observed.summary().set_index("term").loc["years"]
    target = true.summary().set_index("term").loc["years", "estimate"]
    assert est["conf_low"] < target < est["conf_high"]
    assert np.sign(est["estimate"]) == np.sign(target)
