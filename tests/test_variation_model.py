"""SpendingVariationModel on synthetic municipalities generated with known parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as st
from statsmodels.stats.outliers_influence import OLSInfluence

from progression.exceptions import DataContractError, NotFittedError, ParameterError
from progression.variation import SpendingVariationModel

BETA = np.array([7_800.0, 900.0, 450.0, 0.0])
SIGMA = 1_500.0
SPECIAL = [101, 825, 741, 563, 492]


def municipalities(seed: int, n: int = 98) -> pd.DataFrame:
    """Criteria, populations and spending from y = Xβ + ε, Var(ε) = σ²·(mean pop / pop)."""
    rng = np.random.default_rng(seed)
    ids = np.r_[SPECIAL, np.arange(102, 102 + n - len(SPECIAL))]
    pop = np.round(np.exp(rng.normal(10.4, 0.7, n)))
    X = rng.normal(size=(n, 3))
    noise = rng.normal(size=n) * SIGMA * np.sqrt(pop.mean() / pop)
    return pd.DataFrame(
        {
            "municipality": ids,
            "pop_18_66": pop,
            "share_no_employment_20_59": X[:, 0],
            "share_no_vocational_25_49": X[:, 1],
            "share_psychiatric_patients": X[:, 2],
            "spend": BETA[0] + X @ BETA[1:] + noise,
        }
    )


CRITERIA = ["share_no_employment_20_59", "share_no_vocational_25_49", "share_psychiatric_patients"]


@pytest.fixture(scope="module")
def fitted():
    data = municipalities(seed=1)
    model = SpendingVariationModel(boosting=False).fit(data, y="spend", X=CRITERIA, weights="pop_18_66")
    return data, model


def test_summary_is_tidy_and_covers_true_coefficients(fitted):
    _, model = fitted
    table = model.summary()
    assert list(table.columns) == ["term", "estimate", "std_error", "conf_low", "conf_high", "statistic", "p_value"]
    assert table["term"].tolist() == ["const", *CRITERIA]
    table = table.set_index("term")
    # each true coefficient within 3 robust standard errors
    assert (np.abs(table["estimate"] - BETA) < 3 * table["std_error"]).all()
    assert table.loc["share_no_employment_20_59", "p_value"] < 1e-6


def test_robust_standard_errors_are_hc3_of_the_wls_fit(fitted):
    data, model = fitted
    exog = sm.add_constant(data[CRITERIA])
    reference = sm.WLS(data["spend"], exog, weights=data["pop_18_66"]).fit(cov_type="HC3")
    np.testing.assert_allclose(model.summary()["std_error"], reference.bse, rtol=1e-10)
    np.testing.assert_allclose(model.summary()["estimate"], reference.params, rtol=1e-10)


def test_fit_statistics(fitted):
    data, model = fitted
    stats = model.fit_stats_
    w = data["pop_18_66"].to_numpy()
    y = data["spend"].to_numpy()
    design = sm.add_constant(data[CRITERIA]).to_numpy()
    beta = np.linalg.lstsq(design * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)[0]
    r2 = 1 - np.sum(w * (y - design @ beta) ** 2) / np.sum(w * (y - np.average(y, weights=w)) ** 2)
    assert stats["r2"] == pytest.approx(r2, abs=1e-12)
    assert stats["adj_r2"] == pytest.approx(1 - (1 - r2) * (98 - 1) / (98 - 3 - 1), abs=1e-12)
    assert stats["cv_r2"] < stats["r2"]  # out-of-fold fit is worse than in-sample
    assert stats["cv_r2"] > stats["r2"] - 0.15
    assert np.isnan(stats["cv_r2_boosting"])  # boosting was switched off


def test_population_r2_is_recovered_by_the_weighted_bootstrap():
    """With Var(ε_i) = σ²·mean(pop)/pop_i and population weights, the weighted residual variance is σ² and
    the criteria (independent, unit variance) carry β'β, so the population R² is β'β / (β'β + σ²) ≈ 0.31.
    Over 30 samples at least 80 % of the 95 % bootstrap intervals of the weighted R² cover it."""
    signal = np.sum(BETA[1:] ** 2)
    truth = signal / (signal + SIGMA**2)
    hits = 0
    for seed in range(30):
        model = SpendingVariationModel(boosting=False, cv_repeats=1, seed=seed)
        model.fit(municipalities(seed), y="spend", X=CRITERIA, weights="pop_18_66")
        table = model.shapley_bootstrap(n_boot=200).set_index("term")
        hits += table.loc["R2", "conf_low"] <= truth <= table.loc["R2", "conf_high"]
        assert model.shapley()["estimate"].sum() == pytest.approx(model.fit_stats_["r2"], abs=1e-10)
    assert hits / 30 >= 0.80


def test_cross_validation_is_reproducible_and_boosting_is_reported():
    data = municipalities(seed=2)
    settings = dict(cv_folds=5, cv_repeats=2, boosting=True, boosting_params={"n_estimators": 30}, seed=4)
    first = SpendingVariationModel(**settings).fit(data, y="spend", X=CRITERIA)
    second = SpendingVariationModel(**settings).fit(data, y="spend", X=CRITERIA)
    pd.testing.assert_series_equal(first.fit_stats_, second.fit_stats_)
    assert -1 < first.fit_stats_["cv_r2_boosting"] < first.fit_stats_["r2"]


def test_influence_matches_statsmodels_for_ols():
    data = municipalities(seed=3)
    model = SpendingVariationModel(boosting=False, cv_repeats=1).fit(data, y="spend", X=CRITERIA)
    ours = model.influence().set_index("municipality").loc[data["municipality"]]
    reference = OLSInfluence(sm.OLS(data["spend"], sm.add_constant(data[CRITERIA])).fit())
    np.testing.assert_allclose(ours["leverage"], reference.hat_matrix_diag, rtol=1e-9)
    np.testing.assert_allclose(ours["cooks_d"], reference.cooks_distance[0], rtol=1e-9)
    np.testing.assert_allclose(ours["dffits"], reference.dffits[0], rtol=1e-9)
    np.testing.assert_allclose(ours["student_resid"], reference.resid_studentized_internal, rtol=1e-9)


def test_influence_of_wls_is_that_of_the_scaled_ols(fitted):
    data, model = fitted
    ours = model.influence().set_index("municipality").loc[data["municipality"]]
    root = np.sqrt(data["pop_18_66"].to_numpy())
    scaled = sm.OLS(data["spend"] * root, sm.add_constant(data[CRITERIA]).mul(root, axis=0)).fit()
    reference = OLSInfluence(scaled)
    np.testing.assert_allclose(ours["cooks_d"], reference.cooks_distance[0], rtol=1e-9)
    np.testing.assert_allclose(ours["leverage"], reference.hat_matrix_diag, rtol=1e-9)


def test_planted_capital_outlier_is_flagged_first():
    data = municipalities(seed=4)
    capital = data["municipality"] == 101
    data.loc[capital, "share_no_employment_20_59"] = 5.0  # far out in criterion space
    data.loc[capital, "spend"] += 8 * SIGMA
    model = SpendingVariationModel(boosting=False, cv_repeats=1).fit(data, y="spend", X=CRITERIA)
    table = model.influence()
    top = table.iloc[0]
    assert top["municipality"] == 101 and top["label"] == "København"
    assert top["flag_leverage"] and top["flag_cooks"] and top["flag_dffits"]
    assert table.loc[table["municipality"] == 825, "label"].iloc[0] == "Læsø"


def test_prediction_intervals_cover_new_draws():
    """Fresh spending drawn from the same model falls in the 95 % prediction interval about 95 % of the time."""
    data = municipalities(seed=5)
    model = SpendingVariationModel(boosting=False, cv_repeats=1).fit(data, y="spend", X=CRITERIA, weights="pop_18_66")
    rng = np.random.default_rng(50)
    covered = []
    for _ in range(20):
        fresh = data.copy()
        noise = rng.normal(size=len(data)) * SIGMA * np.sqrt(data["pop_18_66"].mean() / data["pop_18_66"])
        fresh["spend"] = BETA[0] + data[CRITERIA].to_numpy() @ BETA[1:] + noise
        bench = model.benchmark(fresh)
        covered.append(((bench["actual"] >= bench["pred_low"]) & (bench["actual"] <= bench["pred_high"])).mean())
    assert 0.90 <= np.mean(covered) <= 0.99


def test_benchmark_columns_and_interval_formula(fitted):
    data, model = fitted
    bench = model.benchmark()
    assert bench["rank"].min() == 1 and sorted(bench["rank"]) == list(range(1, 99))
    assert set(bench["position"]) <= {"above", "below", "within"}
    res = model.results_
    q = st.t.ppf(0.975, res.df_resid)
    w = data["pop_18_66"].to_numpy()
    half = q * np.sqrt(res.scale / w + bench["expected_std_error"].to_numpy() ** 2)
    np.testing.assert_allclose(bench["pred_high"] - bench["expected"], half, rtol=1e-9)
    # the confidence interval of the expected level is the narrower one, t-based on the same df
    np.testing.assert_allclose(bench["conf_high"] - bench["expected"], q * bench["expected_std_error"], rtol=1e-9)
    np.testing.assert_allclose(bench["residual"], bench["actual"] - bench["expected"])


def test_exclude_and_out_of_sample_benchmark():
    data = municipalities(seed=6)
    model = SpendingVariationModel(boosting=False, cv_repeats=1).fit(
        data, y="spend", X=CRITERIA, weights="pop_18_66", exclude=[825, 999]
    )
    assert model.excluded_ == [825] and model.fit_stats_["n_municipalities"] == 97
    island = model.benchmark(data.loc[data["municipality"] == 825])
    assert len(island) == 1 and np.isnan(island["std_resid"].iloc[0])


def test_log_model_ratios():
    data = municipalities(seed=7)
    model = SpendingVariationModel(log=True, boosting=False, cv_repeats=1).fit(data, y="spend", X=CRITERIA)
    bench = model.benchmark()
    np.testing.assert_allclose(bench["ratio"], np.exp(bench["actual"]) / bench["expected_kr"], rtol=1e-12)
    assert model.fit_stats_["log"]


def test_funnel_limits_and_z_scores(fitted):
    data, model = fitted
    funnel = model.funnel(levels=(0.95, 0.998))
    assert len(funnel) == 2 * 98 and set(funnel["level"]) == {0.95, 0.998}
    limits = funnel.query("level == 0.95")
    assert limits["outside"].mean() < 0.12  # about 5 % under a correct variance model
    np.testing.assert_allclose(limits["limit_high"], 1.959964 * limits["sigma"] / np.sqrt(limits["size"]), rtol=1e-6)
    np.testing.assert_allclose(limits["limit_low"], -limits["limit_high"])
    assert (limits["outside"] == (limits["deviation"].abs() > limits["limit_high"])).all()
    assert np.isclose(limits["z"].std(), 1.0, atol=0.2)


def test_errors():
    data = municipalities(seed=8)
    with pytest.raises(NotFittedError, match="call fit"):
        SpendingVariationModel().summary()
    with pytest.raises(ParameterError, match="cov_type must be one of"):
        SpendingVariationModel(cov_type="HC9").fit(data, y="spend", X=CRITERIA)
    with pytest.raises(DataContractError, match=r"'municipality' must be unique.*\[101\]"):
        SpendingVariationModel().fit(pd.concat([data, data.iloc[[0]]]), y="spend", X=CRITERIA)
    negative = data.assign(spend=data["spend"] - 20_000)
    with pytest.raises(DataContractError, match="log=True needs positive spending"):
        SpendingVariationModel(log=True).fit(negative, y="spend", X=CRITERIA)
    with pytest.raises(DataContractError, match=r"\['nope'\] \(given as \['X\[0\]'\]\) not found"):
        SpendingVariationModel().fit(data, y="spend", X=["nope"])
    with pytest.raises(DataContractError, match="collinear"):
        SpendingVariationModel().fit(data.assign(copy=data[CRITERIA[0]] * 2), y="spend", X=[*CRITERIA, "copy"])
    with pytest.raises(ParameterError, match="funnel needs a size column"):
        SpendingVariationModel(boosting=False, cv_repeats=1).fit(data, y="spend", X=CRITERIA).funnel()


def test_out_of_sample_benchmark_of_a_log_model_needs_positive_spending():
    data = municipalities(seed=9)
    model = SpendingVariationModel(log=True, boosting=False, cv_repeats=1).fit(data, y="spend", X=CRITERIA)
    with pytest.raises(DataContractError,
                       match=r"the model is in logs and 1 row\(s\) are ≤ 0 \(municipality: \[101\]\)"):
        model.benchmark(data.assign(spend=np.where(data["municipality"] == 101, -5.0, data["spend"])))
