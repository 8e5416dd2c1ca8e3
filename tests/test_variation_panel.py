"""Between/within decomposition and random-intercept ICC on panels generated with known variances."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from progression.exceptions import DataContractError
from progression.variation import between_within, random_intercept_icc


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
    table = between_within(data, y="spend", weights="pop")
    y, w = data["spend"].to_numpy(), data["pop"].to_numpy()
    grand = np.average(y, weights=w)
    assert table.loc["total", "sum_of_squares"] == pytest.approx(np.sum(w * (y - grand) ** 2), rel=1e-12)
    means = data.groupby("municipality").apply(lambda g: np.average(g["spend"], weights=g["pop"]), include_groups=False)
    within = np.sum(w * (y - data["municipality"].map(means).to_numpy()) ** 2)
    assert table.loc["within", "sum_of_squares"] == pytest.approx(within, rel=1e-12)
    assert table.loc[["between", "within"], "share"].sum() == pytest.approx(1.0)
    assert table.attrs == {"n_units": data["municipality"].nunique(), "n_obs": len(data)}


def test_between_share_matches_the_generating_variances():
    """Balanced panel, year shifts removed: E[between variance] ≈ σ_u² + σ_e²/T, within ≈ σ_e²(T − 1)/T."""
    data = panel(3, n_units=400, n_years=10)
    table = between_within(data, y="spend", time="year")
    sigma_u2, sigma_e2, T = 2.0, 1.0, 10
    expected_between = (sigma_u2 + sigma_e2 / T) / (sigma_u2 + sigma_e2)
    assert table.loc["between", "share"] == pytest.approx(expected_between, abs=0.05)
    assert table.loc["within", "variance"] == pytest.approx(sigma_e2 * (T - 1) / T, abs=0.05)
    without_time = between_within(data, y="spend")
    assert without_time.loc["within", "variance"] > table.loc["within", "variance"] + 0.2  # growth inflates it


def test_random_intercept_icc_and_share_removed_recover_truth():
    """σ_u0² = γ² + σ_v² = 2, σ_e² = 1 → ICC 2/3; adding z leaves σ_v² = 1, so half is removed."""
    data = panel(5)
    result = random_intercept_icc(data, y="spend", X=["criterion"], time="year")
    assert result.table.loc["empty", "icc"] == pytest.approx(2 / 3, abs=0.08)
    assert result.table.loc["criteria", "icc"] == pytest.approx(1 / 2, abs=0.08)
    assert result.share_removed == pytest.approx(0.5, abs=0.15)
    assert abs(result.within_share_removed) < 0.02  # a time-invariant criterion cannot explain within variance
    assert result.table["converged"].all()
    row = result.coefficients.loc["criterion"]
    assert row["conf_low"] < 1.0 < row["conf_high"]


def test_random_intercept_errors_name_columns():
    data = panel(6, n_units=10, n_years=3)
    with pytest.raises(DataContractError, match=r"\['nope'\] not in data"):
        random_intercept_icc(data, y="spend", X=["nope"])
    data.loc[data.index[:2], "criterion"] = np.nan
    with pytest.raises(DataContractError, match=r"\{'criterion': 2\}"):
        random_intercept_icc(data, y="spend", X=["criterion"])
