"""Shapley/LMG decomposition of R²: against a brute-force permutation implementation and known truth."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from progression.exceptions import DataContractError, ParameterError
from progression.variation import shapley_r2, shapley_r2_bootstrap, subset_r2


def wls_r2(frame: pd.DataFrame, y: str, columns: list[str], weights: np.ndarray) -> float:
    """R² of a WLS fit with an intercept, by least squares on the sqrt-weight-scaled data."""
    return _wls_r2(frame[columns].to_numpy(), frame[y].to_numpy(), weights)


def _wls_r2(X: np.ndarray, y: np.ndarray, weights: np.ndarray) -> float:
    mean = np.average(y, weights=weights)
    if X.shape[1] == 0:
        return 0.0
    design = np.column_stack([np.ones(len(y)), X])
    root = np.sqrt(weights)
    beta = np.linalg.lstsq(design * root[:, None], y * root, rcond=None)[0]
    residual = y - design @ beta
    return 1.0 - np.sum(weights * residual**2) / np.sum(weights * (y - mean) ** 2)


def brute_force_shapley(frame, y, players: dict[str, list[str]], weights=None) -> pd.Series:
    """Average marginal R² contribution over all p! orders in which the players enter."""
    weights = np.ones(len(frame)) if weights is None else frame[weights].to_numpy(dtype=float)
    columns = [c for cols in players.values() for c in cols]
    X, target = frame[columns].to_numpy(dtype=float), frame[y].to_numpy(dtype=float)
    position = {c: i for i, c in enumerate(columns)}
    names = list(players)
    total = dict.fromkeys(names, 0.0)
    orders = list(itertools.permutations(names))
    for order in orders:
        entered: list[int] = []
        before = 0.0
        for name in order:
            entered += [position[c] for c in players[name]]
            after = _wls_r2(X[:, entered], target, weights)
            total[name] += after - before
            before = after
    return pd.Series({name: value / len(orders) for name, value in total.items()})


def correlated_data(n: int, p: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(p, p)) * 0.5 + np.eye(p)
    X = rng.normal(size=(n, p)) @ mixing
    y = X @ rng.normal(size=p) + rng.normal(scale=2.0, size=n)
    frame = pd.DataFrame(X, columns=[f"crit_{i}" for i in range(p)])
    frame["spend"] = y
    frame["pop"] = rng.integers(1_800, 650_000, size=n)
    return frame


@pytest.mark.parametrize("weights", [None, "pop"])
def test_agrees_with_permutation_brute_force(weights):
    frame = correlated_data(98, 5, seed=11)
    X = [f"crit_{i}" for i in range(5)]
    ours = shapley_r2(frame, "spend", X, weights=weights)
    truth = brute_force_shapley(frame, "spend", {c: [c] for c in X}, weights=weights)
    np.testing.assert_allclose(ours["estimate"].to_numpy(), truth[ours["term"]].to_numpy(), atol=1e-6)
    full = wls_r2(frame, "spend", X, np.ones(98) if weights is None else frame["pop"].to_numpy())
    assert ours["estimate"].sum() == pytest.approx(full, abs=1e-10)
    np.testing.assert_allclose(ours["share"], ours["estimate"] / full, rtol=1e-9)
    assert ours.attrs["r2"] == pytest.approx(full, abs=1e-10)


def test_groups_agree_with_brute_force_and_sum_to_r2():
    frame = correlated_data(98, 7, seed=5)
    X = [f"crit_{i}" for i in range(7)]
    groups = {"labour": ["crit_0", "crit_1", "crit_2"], "housing": ["crit_3", "crit_4"]}
    ours = shapley_r2(frame, "spend", X, groups=groups, weights="pop")
    assert ours["term"].tolist() == ["labour", "housing", "crit_5", "crit_6"]  # ungrouped columns play alone
    players = {**groups, "crit_5": ["crit_5"], "crit_6": ["crit_6"]}
    truth = brute_force_shapley(frame, "spend", players, weights="pop")
    np.testing.assert_allclose(ours["estimate"].to_numpy(), truth[ours["term"]].to_numpy(), atol=1e-6)
    assert ours["estimate"].sum() == pytest.approx(wls_r2(frame, "spend", X, frame["pop"].to_numpy()), abs=1e-10)


def test_orthogonal_predictors_get_their_squared_correlation():
    """With exactly uncorrelated predictors every order gives the same increment: corr(y, x_j)²."""
    rng = np.random.default_rng(2)
    n, p = 98, 4
    raw = rng.normal(size=(n, p))
    centred = raw - raw.mean(axis=0)
    Q, _ = np.linalg.qr(centred)  # orthonormal columns, each orthogonal to the constant
    y = Q @ np.array([3.0, 2.0, 1.0, 0.5]) + rng.normal(scale=0.3, size=n)
    frame = pd.DataFrame(Q, columns=list("abcd")).assign(y=y)
    ours = shapley_r2(frame, "y", list("abcd"))
    expected = [np.corrcoef(frame[c], frame["y"])[0, 1] ** 2 for c in "abcd"]
    np.testing.assert_allclose(ours["estimate"].to_numpy(), expected, atol=1e-12)


def test_independent_predictors_recover_population_shares():
    """Independent predictors with known β: the population share of x_j is β_j² var(x_j) / var(y)."""
    rng = np.random.default_rng(8)
    n = 20_000
    beta = np.array([1.0, 0.7, 0.4, 0.0])
    sd = np.array([1.0, 2.0, 1.5, 1.0])
    X = rng.normal(size=(n, 4)) * sd
    noise_var = 2.0
    y = X @ beta + rng.normal(scale=np.sqrt(noise_var), size=n)
    explained = beta**2 * sd**2
    truth = explained / (explained.sum() + noise_var)
    frame = pd.DataFrame(X, columns=list("abcd")).assign(y=y)
    ours = shapley_r2(frame, "y", list("abcd"))
    np.testing.assert_allclose(ours["estimate"].to_numpy(), truth, atol=0.015)


def test_subset_r2_matches_direct_fits():
    frame = correlated_data(60, 4, seed=3)
    X = [f"crit_{i}" for i in range(4)]
    table = subset_r2(frame, "spend", X, weights="pop")
    for mask, value in table.items():
        columns = [c for j, c in enumerate(X) if mask >> j & 1]
        assert value == pytest.approx(wls_r2(frame, "spend", columns, frame["pop"].to_numpy()), abs=1e-9)


def test_log_outcome_and_collinear_group():
    frame = correlated_data(98, 3, seed=9)
    frame["spend"] = np.exp(frame["spend"] / 10)
    frame["copy"] = frame["crit_0"] * 2.0  # perfectly collinear with crit_0, inside one group
    out = shapley_r2(frame, "spend", ["crit_0", "copy", "crit_1", "crit_2"], groups={"c0": ["crit_0", "copy"]}, log=True)
    logged = frame.assign(spend=np.log(frame["spend"]))
    full = wls_r2(logged, "spend", ["crit_0", "crit_1", "crit_2"], np.ones(98))
    assert out["estimate"].sum() == pytest.approx(full, abs=1e-8)


def test_errors_name_the_problem():
    frame = correlated_data(30, 3, seed=1)
    X = ["crit_0", "crit_1", "crit_2"]
    with pytest.raises(ParameterError, match=r"groups\['g'\] names columns \['nope'\]"):
        shapley_r2(frame, "spend", X, groups={"g": ["nope"]})
    with pytest.raises(ParameterError, match="are in both groups 'a' and 'b'"):
        shapley_r2(frame, "spend", X, groups={"a": ["crit_0"], "b": ["crit_0"]})
    with pytest.raises(DataContractError, match=r"columns \['flat'\] do not vary"):
        shapley_r2(frame.assign(flat=1.0), "spend", X + ["flat"])
    broken = frame.copy()
    broken.loc[[3, 7], "crit_1"] = np.nan
    with pytest.raises(DataContractError, match=r"\{'crit_1': 2\}.*\[3, 7\]"):
        shapley_r2(broken, "spend", X)
    with pytest.raises(DataContractError, match="weight column 'w': 1 value"):
        shapley_r2(frame.assign(w=np.r_[0.0, np.ones(29)]), "spend", X, weights="w")
    wide = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 22)), columns=[f"v{i}" for i in range(22)])
    with pytest.raises(ParameterError, match="p = 21 players is more than 20"):
        shapley_r2(wide, "v21", [f"v{i}" for i in range(21)])


def test_bootstrap_is_reproducible_and_consistent():
    frame = correlated_data(98, 4, seed=4)
    X = [f"crit_{i}" for i in range(4)]
    first = shapley_r2_bootstrap(frame, "spend", X, weights="pop", n_boot=150, seed=12)
    second = shapley_r2_bootstrap(frame, "spend", X, weights="pop", n_boot=150, seed=12)
    pd.testing.assert_frame_equal(first, second)
    point = shapley_r2(frame, "spend", X, weights="pop")
    np.testing.assert_allclose(first["estimate"].iloc[:-1], point["estimate"], atol=1e-12)
    assert first["term"].tolist() == [*X, "R2"]
    first = first.set_index("term")
    assert first.loc["R2", "estimate"] == pytest.approx(point["estimate"].sum())
    assert (first["conf_low"] <= first["conf_high"]).all()
    assert first["share"].iloc[:-1].sum() == pytest.approx(1.0)


def test_bootstrap_draws_match_refits_on_resamples():
    """The frequency-weight shortcut equals refitting on the resampled rows."""
    frame = correlated_data(50, 3, seed=6)
    X = ["crit_0", "crit_1", "crit_2"]
    _, draws = shapley_r2_bootstrap(frame, "spend", X, n_boot=5, seed=3, return_draws=True)
    rng = np.random.default_rng(3)
    counts = rng.multinomial(50, np.full(50, 1 / 50), size=5)
    for b in range(5):
        resample = frame.loc[np.repeat(np.arange(50), counts[b])].reset_index(drop=True)
        refit = shapley_r2(resample, "spend", X)
        np.testing.assert_allclose(draws.iloc[b, :3].to_numpy(), refit["estimate"].to_numpy(), atol=1e-10)


def _population_r2_data(seed: int, r2: float = 0.40, n: int = 98) -> pd.DataFrame:
    """Three correlated criteria; noise scaled so that the population R² is exactly ``r2``."""
    rng = np.random.default_rng(seed)
    cov = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.2], [0.3, 0.2, 1.0]])
    beta = np.array([0.6, 0.4, 0.3])
    signal_var = beta @ cov @ beta
    noise_var = signal_var * (1 - r2) / r2
    X = rng.multivariate_normal(np.zeros(3), cov, size=n)
    y = 7_776 + 900 * (X @ beta + rng.normal(scale=math.sqrt(noise_var), size=n))
    return pd.DataFrame(X, columns=["no_employment", "no_vocational", "psychiatric"]).assign(spend=y)


def _coverage(n_samples: int, n_boot: int) -> float:
    X = ["no_employment", "no_vocational", "psychiatric"]
    hits = 0
    for seed in range(n_samples):
        table = shapley_r2_bootstrap(_population_r2_data(seed), "spend", X, n_boot=n_boot, seed=seed).set_index("term")
        hits += table.loc["R2", "conf_low"] <= 0.40 <= table.loc["R2", "conf_high"]
    return hits / n_samples


def test_population_r2_of_040_is_recovered_within_the_bootstrap_interval():
    """Data generated with population R² = 0.40 (as seed 004 reports for adults), 98 municipalities.

    A single sample's 95 % interval misses the truth 5–8 % of the time, so the check is over 40 samples:
    at least 80 % of the intervals must cover 0.40.
    """
    assert _coverage(n_samples=40, n_boot=200) >= 0.80


@pytest.mark.slow
def test_bootstrap_interval_coverage_of_population_r2():
    """Over 300 samples the percentile interval covers the population R² close to nominally.

    The percentile interval of R² sits slightly high (R² is biased upwards), so coverage is a little
    under 95 %; we require at least 88 %.
    """
    assert _coverage(n_samples=300, n_boot=300) >= 0.88
