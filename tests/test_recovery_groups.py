"""Group-level change: Wilson shares, mean change, funnel limits and empirical-Bayes shrinkage."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from progression.exceptions import ParameterError, StatisticalWarning
from progression.recovery.groups import (
    funnel_data,
    funnel_limits,
    group_mean_change,
    group_shares,
    shrink_means,
    shrink_shares,
    wilson_interval,
)


def test_wilson_matches_statsmodels_and_hand_value():
    x, n = np.array([0, 3, 17, 50]), np.array([10, 10, 40, 50])
    low, high = wilson_interval(x, n)
    ref_low, ref_high = proportion_confint(x, n, alpha=0.05, method="wilson")
    np.testing.assert_allclose(low, ref_low, atol=1e-12)
    np.testing.assert_allclose(high, ref_high, atol=1e-12)
    # hand: x=3, n=10, z^2=3.841459: centre 4.920729/13.841459 = 0.35551, half 1.959964*sqrt(3.060365)/13.841459
    assert low[1] == pytest.approx(0.1078, abs=5e-5) and high[1] == pytest.approx(0.6032, abs=5e-5)


def make_changes(rng, shares_by_group, n_by_group):
    rows = []
    for g, p in shares_by_group.items():
        cls = rng.choice(["progression", "maintenance", "degression"], size=n_by_group[g], p=p)
        rows.append(pd.DataFrame({"municipality": g, "change_class": cls}))
    return pd.concat(rows, ignore_index=True)


def test_group_shares_cover_known_truth():
    rng = np.random.default_rng(7)
    truth = {101: [0.3, 0.6, 0.1], 147: [0.2, 0.5, 0.3], 751: [0.45, 0.45, 0.10]}
    changes = make_changes(rng, truth, {101: 3000, 147: 3000, 751: 3000})
    out = group_shares(changes, by="municipality", cl=0.999)
    assert len(out) == 9 and not out["suppress"].any()
    for _, row in out.iterrows():
        p = truth[row["municipality"]][["progression", "maintenance", "degression"].index(row["change_class"])]
        assert row["conf_low"] <= p <= row["conf_high"]
    sums = out.groupby("municipality")["share"].sum()
    np.testing.assert_allclose(sums, 1.0)


def test_group_shares_small_group_flag_and_bad_class():
    df = pd.DataFrame({"g": ["a"] * 3 + ["b"] * 6, "change_class": ["progression"] * 9})
    out = group_shares(df, by="g")
    assert out.loc[out["g"] == "a", "suppress"].all() and not out.loc[out["g"] == "b", "suppress"].any()
    with pytest.raises(ParameterError, match="not in classes"):
        group_shares(pd.DataFrame({"change_class": ["better"]}))
    with pytest.raises(ValueError, match=r"\['kommune'\] \(given as \['by\[0\]'\]\)"):
        group_shares(df, by="kommune")


def test_group_mean_change_t_matches_scipy_and_bootstrap_is_seeded():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"g": np.repeat(["x", "y"], 200), "change": np.r_[rng.normal(5, 10, 200), rng.normal(-2, 4, 200)]})
    out = group_mean_change(df, by="g").set_index("g")
    for g in ("x", "y"):
        x = df.loc[df["g"] == g, "change"]
        low, high = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        assert out.loc[g, "conf_low"] == pytest.approx(low) and out.loc[g, "conf_high"] == pytest.approx(high)
    b1 = group_mean_change(df, by="g", ci="bootstrap", n_boot=1000, seed=11)
    b2 = group_mean_change(df, by="g", ci="bootstrap", n_boot=1000, seed=11)
    pd.testing.assert_frame_equal(b1, b2)
    # the percentile bootstrap agrees with the t interval to within a few per cent of its width on normal data
    width = out["conf_high"] - out["conf_low"]
    np.testing.assert_allclose(b1.set_index("g")["conf_low"], out["conf_low"], atol=0.1 * width.max())


def test_funnel_limits_converge_to_normal_and_hold_null_rate():
    lim = funnel_limits(0.3, [10000], levels=(0.95,))
    normal_half = 1.959964 * np.sqrt(0.3 * 0.7 / 10000)
    assert lim.loc[0, "lower_95"] == pytest.approx(0.3 - normal_half, abs=3e-4)
    assert lim.loc[0, "upper_95"] == pytest.approx(0.3 + normal_half, abs=3e-4)
    # simulated groups under the null: about 5% fall outside the 95% limits, about 0.2% outside 99.8%
    rng = np.random.default_rng(5)
    n = rng.integers(20, 400, size=4000)
    k = rng.binomial(n, 0.3)
    table = pd.DataFrame({"kommune": np.arange(4000), "count": k, "n": n})
    out = funnel_data(table, group_col="kommune", target=0.3)
    assert 0.035 < out["outside_95"].mean() < 0.065
    assert out["outside_99.8"].mean() < 0.006
    pooled = funnel_data(table, group_col="kommune")
    assert pooled["target"].iloc[0] == pytest.approx(k.sum() / n.sum())


def test_funnel_flags_a_true_outlier():
    table = pd.DataFrame({"kommune": [1, 2, 3, 4], "count": [30, 31, 29, 80], "n": [100, 100, 100, 100]})
    out = funnel_data(table, group_col="kommune", target=0.3)
    assert out["outside_99.8"].tolist() == [False, False, False, True]
    with pytest.raises(ParameterError, match="one row per group"):
        funnel_data(pd.concat([table, table]), group_col="kommune")


def test_shrink_shares_recovers_prior_and_beats_raw():
    rng = np.random.default_rng(11)
    a, b, g = 6.0, 14.0, 300
    p = rng.beta(a, b, g)
    n = rng.integers(3, 60, g)
    k = rng.binomial(n, p)
    out = shrink_shares(pd.DataFrame({"kommune": range(g), "count": k, "n": n}), group_col="kommune")
    assert out.attrs["prior_mean"] == pytest.approx(0.3, abs=0.03)
    assert out.attrs["prior_a"] + out.attrs["prior_b"] == pytest.approx(20, rel=0.6)
    assert np.mean((out["shrunk_share"] - p) ** 2) < 0.8 * np.mean((out["share"] - p) ** 2)
    # posterior mean formula by hand for one group
    i = 0
    expected = (k[i] + out.attrs["prior_a"]) / (n[i] + out.attrs["prior_a"] + out.attrs["prior_b"])
    assert out.loc[i, "shrunk_share"] == pytest.approx(expected)
    coverage = np.mean((out["conf_low"] <= p) & (p <= out["conf_high"]))
    assert coverage > 0.9
    assert out["suppress"].tolist() == (n < 5).tolist()


def test_shrink_shares_warns_without_overdispersion():
    rng = np.random.default_rng(2)
    n = np.full(200, 50)
    k = rng.binomial(n, 0.4)
    with pytest.warns(StatisticalWarning, match="little or no between-group variation"):
        out = shrink_shares(pd.DataFrame({"g": range(200), "count": k, "n": n}), group_col="g")
    assert out["shrunk_share"].std() < 0.01


def test_shrink_means_normal_normal_truth_and_formula():
    rng = np.random.default_rng(4)
    g, tau, mu = 400, 2.0, 5.0
    theta = rng.normal(mu, tau, g)
    se = rng.uniform(0.5, 4.0, g)
    y = rng.normal(theta, se)
    table = pd.DataFrame({"kommune": range(g), "mean": y, "std_error": se, "n": rng.integers(3, 80, g)})
    out = shrink_means(table, group_col="kommune")
    assert out.attrs["tau2"] == pytest.approx(tau**2, rel=0.3)
    assert out.attrs["mu"] == pytest.approx(mu, abs=0.3)
    assert np.mean((out["shrunk_mean"] - theta) ** 2) < 0.8 * np.mean((y - theta) ** 2)
    tau2, m = out.attrs["tau2"], out.attrs["mu"]
    expected = m + tau2 / (tau2 + se[0] ** 2) * (y[0] - m)
    assert out.loc[0, "shrunk_mean"] == pytest.approx(expected)
    with pytest.raises(ParameterError, match="non-positive standard error"):
        shrink_means(table.assign(std_error=0.0), group_col="kommune")
