"""Kaplan-Meier time on step and re-entry: a hand-computed example, statsmodels, and known chains."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import SurvfuncRight

from progression.transitions.durations import (
    kaplan_meier,
    median_time,
    reentry_episodes,
    reentry_shares,
    step_episodes,
    time_on_step,
    time_to_reentry,
)
from progression.exceptions import ParameterError
from test_transitions import P_TRUE, STEPS, chain_panel, simulate_chain


def test_kaplan_meier_by_hand():
    """t = 1, 2, 2+, 3, 4+, 4, 5+  ->  S = 6/7, 5/7, 15/28, 5/14, 5/14 (events before censorings)."""
    km = kaplan_meier([1, 2, 2, 3, 4, 4, 5], [1, 1, 0, 1, 0, 1, 0])
    assert km["time"].tolist() == [1, 2, 3, 4, 5]
    assert km["n_at_risk"].tolist() == [7, 6, 4, 3, 1]
    assert km["n_events"].tolist() == [1, 1, 1, 1, 0]
    np.testing.assert_allclose(km["survival"], [6 / 7, 5 / 7, 15 / 28, 5 / 14, 5 / 14])
    greenwood = np.cumsum([1 / 42, 1 / 30, 1 / 12, 1 / 6, 0])
    np.testing.assert_allclose(km["std_error"], km["survival"] * np.sqrt(greenwood))
    # log(-log) interval at t = 1 by hand
    s, v = 6 / 7, 1 / 42
    half = 1.959964 * np.sqrt(v) / abs(np.log(s))
    np.testing.assert_allclose([km.conf_low[0], km.conf_high[0]],
                               [s ** np.exp(half), s ** np.exp(-half)], rtol=1e-6)
    assert median_time(km) == 4


def test_kaplan_meier_matches_statsmodels():
    rng = np.random.default_rng(7)
    time = rng.integers(1, 30, 500).astype(float)
    event = rng.random(500) < 0.7
    ours = kaplan_meier(time, event)
    peer = SurvfuncRight(time, event.astype(int))
    at_events = ours[ours.n_events > 0]
    np.testing.assert_allclose(at_events["survival"], peer.surv_prob, rtol=1e-12)
    np.testing.assert_allclose(at_events["std_error"], peer.surv_prob_se, rtol=1e-10)
    np.testing.assert_allclose(at_events["n_at_risk"], peer.n_risk)


@pytest.fixture(scope="module")
def chain():
    states, first = simulate_chain(20000, 10, seed=31)
    return chain_panel(states, first)


def test_time_on_step_recovers_geometric_sojourns(chain):
    """With yearly P, time on step s is geometric: S(t) = (1 - c)^t, c the chance of changing step
    (deaths censor); with deaths as exits, S(t) = p_ss^t."""
    km = time_on_step(chain, steps=["SEL85", "SEL108"])
    for step in ("SEL85", "SEL108"):
        i = STEPS.index(step)
        change = 1 - P_TRUE[i, i] - P_TRUE[i, 6]
        curve = km[(km.step == step) & (km.time <= 4)]
        truth = (1 - change) ** curve["time"]
        # the points of one curve are strongly correlated, so judge each by its Greenwood error
        assert (np.abs(curve.survival - truth) <= 4 * curve.std_error + 1e-12).all()
        assert np.abs(curve.survival - truth).max() < 0.03
    with_exits = time_on_step(chain, steps=["SEL108"], exits="event")
    curve = with_exits[with_exits.time <= 4]
    truth = P_TRUE[5, 5] ** curve.time
    assert (np.abs(curve.survival - truth) <= 4 * curve.std_error + 1e-12).all()


def test_prevalent_episodes_are_left_out_by_default(chain):
    incident = step_episodes(chain)
    everything = step_episodes(chain, include_prevalent=True)
    first_period = chain.period.min()
    assert (incident.period > first_period).all()
    assert len(everything) - len(incident) == chain.loc[chain.period == first_period, "person_id"].nunique()
    assert set(incident.destination) <= set(STEPS) | {"censored", "died"}
    assert not incident.loc[incident.event, "destination"].isin(["censored", "died"]).any()


def test_reentry_share_matches_the_chain(chain):
    """From no service, a step is taken with probability 1 - 0.80 - 0.01 each year."""
    shares = reentry_shares(chain, horizons=[1, 2], n_boot=300, seed=1).set_index("horizon_years")
    hazard = 1 - P_TRUE[0, 0] - P_TRUE[0, 6]
    for h in (1, 2):
        truth = 1 - (1 - hazard) ** h
        assert shares.loc[h, "conf_low"] < truth < shares.loc[h, "conf_high"]
        assert abs(shares.loc[h, "share"] - truth) < 0.02
    km = time_to_reentry(chain)
    assert km.loc[km.time == 1, "survival"].item() == pytest.approx(1 - shares.loc[1, "share"])


def test_reentry_by_left_step_and_groups(chain):
    chain = chain.assign(year=chain.period.dt.year)
    shares = reentry_shares(chain, groups=["left_step"], n_boot=0)
    assert set(shares.left_step) <= set(STEPS) - {"none"}
    assert {"share", "n_episodes", "n_persons"} <= set(shares.columns)
    episodes = reentry_episodes(chain, groups=["year"])
    assert (episodes.left_step != "none").all()
    assert episodes.year.min() > chain.year.min()


def test_hand_built_reentry_and_censoring():
    """One person leaves §85 in 2016, is back in 2018; another leaves in 2019 and the window ends."""
    rows = [(1, 2014, "SEL85"), (1, 2015, "SEL85"), (1, 2016, "none"), (1, 2017, "none"), (1, 2018, "SEL82"),
            (2, 2016, "SEL108"), (2, 2017, "SEL108"), (2, 2018, "SEL108"), (2, 2019, "none"), (2, 2020, "none")]
    panel = pd.DataFrame(rows, columns=["person_id", "year", "step"])
    panel["period"] = pd.to_datetime(panel.year.astype(str))
    panel["step"] = pd.Categorical(panel.step, categories=STEPS, ordered=True)
    panel["status"] = "observed"
    ep = reentry_episodes(panel)
    assert ep[["person_id", "left_step", "duration", "event", "destination"]].values.tolist() == [
        [1, "SEL85", 2.0, True, "SEL82"], [2, "SEL108", 1.0, False, "censored"]]
    steps = step_episodes(panel)  # person 1's first episode starts in the window's first year
    on_108 = steps[steps.step == "SEL108"].iloc[0]
    assert (on_108.duration, on_108.event, on_108.destination) == (3.0, True, "none")


def test_errors():
    with pytest.raises(ParameterError, match="non-negative"):
        kaplan_meier([1, -2], [True, False])
    with pytest.raises(ParameterError, match="differ in length"):
        kaplan_meier([1, 2], [True])
    panel = chain_panel(simulate_chain(50, 3, seed=1)[0], 2014)
    with pytest.raises(ParameterError, match="'SEL86'"):
        time_on_step(panel, steps=["SEL86"])
    with pytest.raises(ParameterError, match="exits"):
        step_episodes(panel, exits="absorbing")
