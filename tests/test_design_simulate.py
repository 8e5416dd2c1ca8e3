"""Simulated pilots agree with the closed forms where both apply, and do not depend on n_jobs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from progression.design import (
    PilotScenario,
    anova_icc,
    cluster_power,
    design_inputs,
    gls_effect_variance,
    mde_from_se,
    parallel_design,
    power_from_se,
    randomised_waves,
    simulate_pilots,
    stepped_wedge_design,
    stepped_wedge_power,
    stepped_wedge_variance,
)
from progression.exceptions import ParameterError

P0, RHO = 0.13, 0.02
SD = (P0 * (1 - P0)) ** 0.5


def _within(sim, expected, k=3.5):
    s = sim.summary().iloc[0]
    assert abs(s["power"] - expected) < k * max(s["power_mc_se"], 0.005), (s["power"], expected)


def test_gls_simulation_matches_hussey_hughes():
    effect = mde_from_se(stepped_wedge_variance(24, 4, 60, RHO, sd=SD) ** 0.5)
    scenario = PilotScenario(stepped_wedge_design(24, 4), cluster_sizes=60, baseline_rate=P0 - effect / 2, icc=RHO,
                             effect=effect)
    sim = simulate_pilots(scenario, n_sims=3000, estimator="gls", seed=11)
    _within(sim, stepped_wedge_power(effect, 24, 4, 60, RHO, sd=SD))
    s = sim.summary().iloc[0]
    assert abs(s["bias"]) < 4 * s["empirical_se"] / np.sqrt(3000)
    assert s["empirical_se"] == pytest.approx(s["mean_std_error"], rel=0.05)


def test_cluster_means_simulation_matches_cluster_formula():
    k, m = 30, 50
    effect = 0.05
    scenario = PilotScenario(parallel_design(k, 1), cluster_sizes=m, baseline_rate=P0 - effect / 2, icc=RHO,
                             effect=effect)
    sim = simulate_pilots(scenario, n_sims=2000, estimator="cluster_means", seed=5)
    se = (cluster_power(effect, k, m, RHO, sd=SD), )
    expected = power_from_se(effect, (2 * SD ** 2 * (1 + (m - 1) * RHO) / (k * m)) ** 0.5, df=2 * k - 2)
    assert se[0] == pytest.approx(power_from_se(effect, (2 * SD ** 2 * (1 + (m - 1) * RHO) / (k * m)) ** 0.5))
    _within(sim, expected)


@pytest.mark.slow
def test_twfe_simulation_matches_its_closed_form_with_unequal_sizes():
    X = randomised_waves(40, 3, 5, n_never=12)
    sizes = np.random.default_rng(2).integers(10, 150, size=40)
    var = gls_effect_variance(X, sizes[:, None], RHO, sd=SD, estimator="twfe")
    effect = mde_from_se(var ** 0.5)
    scenario = PilotScenario(X, cluster_sizes=sizes, baseline_rate=P0, icc=RHO, effect=effect)
    sim = simulate_pilots(scenario, n_sims=800, estimator="twfe", seed=7, n_jobs=2)
    _within(sim, power_from_se(effect, var ** 0.5, df=39), k=4)
    s = sim.summary().iloc[0]
    assert s["empirical_se"] == pytest.approx(var ** 0.5, rel=0.1)


def test_twfe_size_without_effect():
    X = randomised_waves(30, 3, 5, n_never=10)
    scenario = PilotScenario(X, cluster_sizes=40, baseline_rate=P0, icc=RHO, trend=0.005)
    s = simulate_pilots(scenario, n_sims=400, estimator="twfe", seed=3).summary().iloc[0]
    assert s["power"] < 0.1 and abs(s["bias"]) < 0.005


@pytest.mark.parametrize("estimator", ["gls", "twfe", "callaway_santanna"])
def test_identical_for_any_n_jobs(estimator):
    scenario = PilotScenario(randomised_waves(20, 2, 4, n_never=6), cluster_sizes=np.arange(20) + 10,
                             baseline_rate=P0, icc=RHO, effect=0.03, randomise=True)
    one = simulate_pilots(scenario, n_sims=60, estimator=estimator, seed=9, chunk_size=20).draws
    two = simulate_pilots(scenario, n_sims=60, estimator=estimator, seed=9, chunk_size=20, n_jobs=2).draws
    threads = simulate_pilots(scenario, n_sims=60, estimator=estimator, seed=9, chunk_size=20, n_jobs=2,
                              backend="threading").draws
    pd.testing.assert_frame_equal(one, two)
    pd.testing.assert_frame_equal(one, threads)


def test_scenario_errors():
    with pytest.raises(ParameterError, match="cluster_sizes has 3 entries; the design has 4"):
        PilotScenario(stepped_wedge_design(4, 2), cluster_sizes=[1, 2, 3], baseline_rate=0.1, icc=0.0)
    with pytest.raises(ParameterError, match="cluster_means' needs a parallel design"):
        simulate_pilots(PilotScenario(stepped_wedge_design(4, 2), cluster_sizes=5, baseline_rate=0.1, icc=0.0),
                        estimator="cluster_means")


def test_anova_icc_recovers_a_known_icc_and_agrees_with_mixedlm():
    import statsmodels.api as sm

    rng = np.random.default_rng(1)
    k, tau2 = 60, 0.02
    sizes = rng.integers(20, 120, size=k)
    cluster = np.repeat(np.arange(k), sizes)
    y = (rng.random(cluster.size) < 0.3 + rng.normal(0, tau2 ** 0.5, k)[cluster]).astype(float)
    data = pd.DataFrame({"y": y, "municipality": cluster})
    est = anova_icc(data, outcome="y", cluster="municipality")
    truth = tau2 / 0.21
    assert est["icc"] == pytest.approx(truth, abs=0.04)
    fit = sm.MixedLM(y, np.ones((len(y), 1)), groups=cluster).fit(reml=True)
    between = float(np.asarray(fit.cov_re)[0, 0])
    mixed = between / (between + fit.scale)
    assert est["icc"] == pytest.approx(mixed, abs=0.01)


def test_design_inputs_on_the_example_data():
    from progression.datasets import load_example
    from progression.design import binary_outcomes

    py = binary_outcomes(load_example("person_years"), ["psych_admission", "employed"])
    inputs = design_inputs(py, ["psych_admission", "employed"], last_years=5)
    assert (inputs["n_municipalities"] == 98).all()
    last = py[py["year"] == py["year"].max()]
    assert inputs.loc[0, "baseline_rate"] == pytest.approx(last["psych_admission"].mean())
    assert inputs.loc[0, "cluster_size_mean"] == pytest.approx(len(last) / 98)
    assert ((inputs["icc"] >= 0) & (inputs["icc"] < 0.05)).all()
