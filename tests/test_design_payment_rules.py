"""Payment rules for small volumes, the bonus for fewer preventable admissions, and the planner."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from progression.design import (
    Capped,
    Credibility,
    MinimumVolume,
    Pooled,
    RateCardRule,
    admissions_bonus,
    cluster_power,
    evaluate_rules,
    mde_grid,
    pilot_plan,
    resource_shift,
)
from progression.exceptions import ParameterError

Y = np.array([[3, 10, 0, 30], [1, 2, 5, 25]])
N = np.array([10, 20, 5, 100])
KW = dict(price=1000.0, counterfactual_rate=0.2)


def test_rate_card_is_the_funds_rule_for_one_outcome():
    from progression.fund import outcome_payment

    ours = RateCardRule(cap_per_contract=5000)(Y, N, **KW)
    theirs = outcome_payment(Y[:, None, :], N, prices=[1000.0], counterfactual_rates=[0.2], cap=5000, axis=1)
    np.testing.assert_allclose(ours, theirs)


def test_minimum_volume_pays_nothing_below_the_minimum():
    paid = MinimumVolume(20)(Y, N, **KW)
    assert (paid[:, N < 20] == 0).all()
    np.testing.assert_allclose(paid[:, N >= 20], RateCardRule()(Y, N, **KW)[:, N >= 20])


def test_pooling_pays_the_pool_and_shares_by_participants():
    groups = np.array([0, 0, 1, 1])
    paid = Pooled()(Y, N, **KW, groups=groups)
    pool0 = 1000 * max(0, 13 - 0.2 * 30)
    assert paid[0, :2].sum() == pytest.approx(pool0)
    assert paid[0, 0] / paid[0, 1] == pytest.approx(10 / 20)
    with pytest.raises(ParameterError, match="Pooled needs groups"):
        Pooled()(Y, N, **KW)


def test_credibility_weight_between_nothing_and_the_rate_card():
    high = Credibility(between_variance=1e6)(Y, N, **KW)
    np.testing.assert_allclose(high, RateCardRule()(Y, N, **KW), rtol=1e-4)
    low = Credibility(between_variance=1e-9)(Y, N, **KW)
    assert np.abs(low).max() < 0.01  # kroner
    mid = Credibility(between_variance=0.01)(Y, N, **KW)
    z = N / (N + 0.16 / 0.01)
    np.testing.assert_allclose(mid, 1000 * np.maximum(0, z * (Y - 0.2 * N)))


def test_cap_scales_the_total_down():
    paid = Capped(3000)(Y, N, **KW)
    assert (paid.sum(axis=1) <= 3000 + 1e-9).all()
    free = RateCardRule()(Y, N, **KW)
    np.testing.assert_allclose(paid[0] / paid[0].sum(), free[0] / free[0].sum())


def test_rule_trade_offs_and_n_jobs():
    n = np.r_[np.full(40, 6), np.full(10, 60)]
    rules = {"rate card": RateCardRule(), "pooled + credibility": Pooled(Credibility(0.003))}
    kw = dict(baseline_rate=0.2, effect=0.04, price=1e5, gain_per_outcome=1e5, between_variance=0.002,
              groups=np.arange(len(n)) % 5, n_draws=600, seed=4, chunk_size=200)
    one = evaluate_rules(rules, n, **kw)
    two = evaluate_rules(rules, n, **kw, n_jobs=2)
    pd.testing.assert_frame_equal(one, two)
    t = one.set_index(["rule", "scenario"])
    # paying contract by contract for noise: more with no effect and a lower chance of neutrality
    assert t.loc[("rate card", "no_effect"), "mean_payment_dkk"] > t.loc[("pooled + credibility", "no_effect"),
                                                                          "mean_payment_dkk"]
    assert t.loc[("rate card", "effect"), "p_budget_neutral"] < t.loc[("pooled + credibility", "effect"),
                                                                       "p_budget_neutral"]
    assert t.loc[("rate card", "no_effect"), "p_paying"] > 0.95
    assert (t["mean_gain_dkk"].xs("no_effect", level="scenario") == 0).all()


def test_bonus_pays_noise_when_nothing_changes():
    pop = np.full(98, 50_000.0)
    null = admissions_bonus(pop, rate_per_1000=10, price_per_admission=30_000, n_draws=300, seed=2).iloc[0]
    assert null["share_paid"] == pytest.approx(0.5, abs=0.03)
    assert null["mean_true_saving_dkk"] == 0 and null["mean_bonus_dkk"] > 0
    strict = admissions_bonus(pop, rate_per_1000=10, price_per_admission=30_000, min_fall_z=1.96, n_draws=300,
                              seed=2).iloc[0]
    assert strict["share_paid"] < 0.05
    capped = admissions_bonus(pop, rate_per_1000=10, price_per_admission=30_000, yearly_cap=1e6, n_draws=50,
                              seed=2).iloc[0]
    assert capped["mean_bonus_dkk"] <= 1e6 and capped["p_cap_binds"] == 1.0


INPUTS = pd.DataFrame([{"outcome": "psych_admission", "baseline_rate": 0.13, "sd": 0.336, "icc": 0.01, "cac": 1.0,
                        "cluster_size_mean": 75, "cluster_size_cv": 1.3}])


def test_mde_falls_with_more_municipalities():
    grid = mde_grid(INPUTS, n_municipalities=[12, 24, 48, 98])
    for _, part in grid.groupby("design"):
        assert part["mde"].is_monotonic_decreasing


def test_pilot_plan_needs_are_sufficient():
    plan = pilot_plan(INPUTS, relative_effect=0.3).set_index("level")
    row = plan.loc["project"]
    k = row["municipalities_needed_per_arm"]
    assert cluster_power(row["effect"], k, 75, 0.01, sd=0.336, cv=1.3) >= 0.8
    assert cluster_power(row["effect"], k - 1, 75, 0.01, sd=0.336, cv=1.3) < 0.8
    assert plan.loc["model_vs_model", "mde"] == pytest.approx(plan.loc["model", "mde"] * 2 ** 0.5)
    with pytest.raises(ParameterError, match="n_projects \\(5\\) must be a multiple of n_models \\(3\\)"):
        pilot_plan(INPUTS, n_projects=5)


def test_resource_shift_adds_up():
    pop = pd.Series([1000.0, 3000.0, 2000.0, 500.0], index=[101, 147, 151, 153])
    citizens = pd.Series([10, 40, 20, 5], index=pop.index)
    X = np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0], [0, 1, 1]])
    out = resource_shift(pop, citizens, X, budget_dkk=1e6)
    assert out.groupby("period")["net_dkk"].sum().abs().max() < 1e-6
    year2 = out[(out["period"] == 2)].set_index("group")
    assert year2.loc["running", "net_dkk"] == pytest.approx(1e6 - 1e6 * 1500 / 6500)
