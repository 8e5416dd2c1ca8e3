"""Between/within decomposition and random-intercept ICC on panels generated with known variances."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from progression.exceptions import DataContractError, NotFittedError
from progression.variation import RandomInterceptDecomposition, between_within


def panel(seed: int, n_units: int = 98, n_years: int = 10, sigma_v: float = 1.0, gamma: float = 1.0,
          sigma_e: float = 1.0) -> pd.DataFrame:
    """y_it = 10 + τ_t + γ z_i + v_i + e_it with z ~ N(0, 1): σ_u² = γ² + σ_v² before adjusting for z."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n_units)
    v = rng.normal(scale=sigma_v, size=n_units)
    years = np.arange(2014, 2014 + n_years)
    tau = np.linspace(0, 2, n_years)  # common growth, not municipal variance
    unit = np.repeat(np.arange(101, 101 + n_units), n_years)
    year = np.tile(years, n_units)
    e = rng.normal(scale=sigma_e, size=n_units * n_years)
    y = 10 + np.tile(tau, n_units) + np.repeat(gamma * z + v, n_years) + e
    return pd.DataFrame({"municipality": unit, "year": year, "criterion": np.repeat(z, n_years), "spend": y,
                         "pop": np.repeat(rng.integers(2_000, 600_000, n_units), n_years)})


def test_between_within_identity_and_definitions():
    data = panel(1, n_units=20, n_years=5).sample(frac=0.8, random_state=2)  # unbalanced
    table = between_within(data, y="spend", weights="pop").set_index("component")
    y, w = data["spend"].to_numpy(), data["pop"].to_numpy()
    grand = np.average(y, weights=w)
    assert table.loc["total", "sum_of_squares"] == pytest.approx(np.sum(w * (y - grand) ** 2), rel=1e-12)
    means = data.groupby("municipality").apply(lambda g: np.average(g["spend"], weights=g["pop"]), include_groups=False)
    within = np.sum(w * (y - data["municipality"].map(means).to_numpy()) ** 2)
    assert table.loc["within", "sum_of_squares"] == pytest.approx(within, rel=1e-12)
    assert table.loc[["between", "within"], "share"].sum() == pytest.approx(1.0)
    assert (table["n_units"] == data["municipality"].nunique()).all() and (table["n_obs"] == len(data)).all()


def test_between_share_matches_the_generating_variances():
    """Balanced panel, year shifts removed: E[between variance] ≈ σ_u² + σ_e²/T, within ≈ σ_e²(T − 1)/T."""
    data = panel(3, n_units=400, n_years=10)
    table = between_within(data, y="spend", time="year").set_index("component")
    sigma_u2, sigma_e2, T = 2.0, 1.0, 10
    expected_between = (sigma_u2 + sigma_e2 / T) / (sigma_u2 + sigma_e2)
    assert table.loc["between", "share"] == pytest.approx(expected_between, abs=0.05)
    assert table.loc["within", "variance"] == pytest.approx(sigma_e2 * (T - 1) / T, abs=0.05)
    without_time = between_within(data, y="spend").set_index("component")
    assert without_time.loc["within", "variance"] > table.loc["within", "variance"] + 0.2  # growth inflates it


def test_random_intercept_icc_and_share_removed_recover_truth():
    """σ_u0² = γ² + σ_v² = 2, σ_e² = 1 → ICC 2/3; adding z leaves σ_v² = 1, so half is removed."""
    data = panel(5)
    result = RandomInterceptDecomposition().fit(data, y="spend", X=["criterion"], time="year")
    assert result.variances_.loc["empty", "icc"] == pytest.approx(2 / 3, abs=0.08)
    assert result.variances_.loc["criteria", "icc"] == pytest.approx(1 / 2, abs=0.08)
    assert result.share_removed_ == pytest.approx(0.5, abs=0.15)
    assert abs(result.within_share_removed_) < 0.02  # a time-invariant criterion cannot explain within variance
    assert result.variances_["converged"].all()
    row = result.coefficients_.set_index("term").loc["criterion"]
    assert row["conf_low"] < 1.0 < row["conf_high"]


def test_random_intercept_errors_name_columns():
    data = panel(6, n_units=10, n_years=3)
    with pytest.raises(DataContractError, match=r"\['nope'\] \(given as \['X\[0\]'\]\) not found"):
        RandomInterceptDecomposition().fit(data, y="spend", X=["nope"])
    data.loc[data.index[:2], "criterion"] = np.nan
    with pytest.raises(DataContractError, match=r"\{'criterion': 2\}"):
        RandomInterceptDecomposition().fit(data, y="spend", X=["criterion"])


def test_random_intercept_summary_is_tidy_and_needs_a_fit():
    data = panel(7, n_units=30, n_years=4)
    with pytest.raises(NotFittedError, match="call fit"):
        RandomInterceptDecomposition().summary()
    model = RandomInterceptDecomposition().fit(data, y="spend", X=["criterion"])
    table = model.summary()
    assert table["model"].tolist() == ["empty", "criteria"]
    assert list(table.columns) == ["model", "sigma2_between", "sigma2_within", "icc", "loglik", "converged",
                                   "share_removed"]
    assert (table["share_removed"] == model.share_removed_).all()
    assert table["icc"].tolist() == pytest.approx(
        (table["sigma2_between"] / (table["sigma2_between"] + table["sigma2_within"])).tolist())
