"""Naive contrasts, IPW, AIPW and balance diagnostics against synthetic data with known effects.

Participation in the synthetic intervention depends on severity, age and baseline employment, which also
drive the outcomes, so the naive contrast is biased while weighting on those covariates recovers the truth.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from progression.evaluation import (
    EFFECT_COLUMNS,
    aipw,
    balance_table,
    effective_sample_size,
    ipw,
    naive_contrast,
    overlap_summary,
    propensity_scores,
    propensity_weights,
)
from progression.exceptions import DataContractError, ParameterError, StatisticalWarning

COVARIATES = ["age", "severity", "baseline_employment", "sex", "target_group"]
BASE_EFFECT = 4.0  # extra employment weeks at average severity
EFFECT_SLOPE = 2.0  # the effect grows with severity: ATT ≠ ATE


def confounded_people(n: int, seed: int, *, selection: float = 1.0) -> pd.DataFrame:
    """One row per person; ``selection`` scales how strongly participation depends on the confounders.

    True individual effect on employment weeks: 4 + 2·severity; true effect on psychiatric inpatient
    days: 0. ``success`` (employed more than half the year) is an outcome, not a treatment.
    """
    rng = np.random.default_rng(seed)
    age = rng.uniform(18, 65, n)
    severity = rng.normal(0, 1, n)
    baseline = rng.normal(20, 10, n)
    sex = rng.choice(["F", "M"], n)
    target_group = rng.choice(["kognitivt handicap", "sindslidelse"], n, p=[0.4, 0.6])
    index = -0.8 + selection * (0.6 * severity - 0.02 * (age - 40) + 0.05 * (baseline - 20)) + 0.2 * (sex == "M")
    participant = rng.binomial(1, expit(index))
    effect = BASE_EFFECT + EFFECT_SLOPE * severity
    employment = (
        8 + 0.6 * baseline - 3 * severity - 0.1 * (age - 40) + 1.0 * (target_group == "sindslidelse")
        + participant * effect + rng.normal(0, 5, n)
    )
    psych_days = 10 + 4 * severity - 0.1 * baseline + rng.normal(0, 4, n)
    return pd.DataFrame(
        {
            "person_id": np.arange(n),
            "municipality": rng.integers(101, 161, n),
            "age": age,
            "severity": severity,
            "baseline_employment": baseline,
            "sex": sex,
            "target_group": target_group,
            "participant": participant,
            "employment_weeks": employment,
            "psych_inpatient_days": psych_days,
            "success": (employment > 26).astype(int),
            "true_effect": effect,
        }
    )


def sample_truth(people: pd.DataFrame, estimand: str) -> float:
    """Average true effect among participants (ATT) or everyone (ATE) in the sample."""
    if estimand == "ATT":
        return float(people.loc[people["participant"] == 1, "true_effect"].mean())
    return float(people["true_effect"].mean())


def covers(row: pd.Series, value: float) -> bool:
    return bool(row["conf_low"] <= value <= row["conf_high"])


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    return confounded_people(4000, seed=11)


# ------------------------------------------------------------------------------------ naive contrast


def test_naive_participant_contrast_is_biased_beyond_its_interval(people):
    truth = sample_truth(people, "ATT")
    row = naive_contrast(people, outcome="employment_weeks", group="participant").iloc[0]
    assert list(naive_contrast(people, outcome="employment_weeks", group="participant").columns) == EFFECT_COLUMNS
    assert row["estimate"] > truth and not covers(row, truth)
    assert row["n_treated"] == people["participant"].sum()


def test_naive_contrast_matches_welch_difference_in_means(people):
    y, g = people["employment_weeks"], people["participant"]
    row = naive_contrast(people, outcome="employment_weeks", group="participant").iloc[0]
    assert row["estimate"] == pytest.approx(y[g == 1].mean() - y[g == 0].mean())
    welch = np.sqrt(y[g == 1].var(ddof=1) / (g == 1).sum() + y[g == 0].var(ddof=1) / (g == 0).sum())
    assert row["std_error"] == pytest.approx(welch, rel=1e-3)


def test_success_contrast_shows_a_difference_the_intervention_does_not_cause(people):
    """SØM-style success vs non-success comparison: large 'gain' in inpatient days, true effect zero."""
    naive = naive_contrast(people, outcome="psych_inpatient_days", group="success").iloc[0]
    effect = aipw(people, outcome="psych_inpatient_days", treatment="participant", covariates=COVARIATES, seed=1).iloc[0]
    assert not covers(naive, 0.0)
    assert covers(effect, 0.0)


# ------------------------------------------------------------------------------------- IPW and AIPW


@pytest.mark.parametrize("estimand", ["ATT", "ATE"])
@pytest.mark.parametrize("estimator", ["hajek", "horvitz-thompson"])
def test_ipw_recovers_the_true_effect(people, estimand, estimator):
    truth = sample_truth(people, estimand)
    row = ipw(people, outcome="employment_weeks", treatment="participant", covariates=COVARIATES,
              estimand=estimand, estimator=estimator).iloc[0]
    assert covers(row, truth)
    assert row["estimand"] == estimand


@pytest.mark.parametrize("estimand", ["ATT", "ATE"])
def test_aipw_recovers_the_true_effect_for_several_outcomes(people, estimand):
    result = aipw(people, outcome=["employment_weeks", "psych_inpatient_days"], treatment="participant",
                  covariates=COVARIATES, estimand=estimand, seed=3)
    assert list(result["outcome"]) == ["employment_weeks", "psych_inpatient_days"]
    assert covers(result.iloc[0], sample_truth(people, estimand))
    assert covers(result.iloc[1], 0.0)


def test_true_att_and_ate_differ_and_estimates_separate_them(people):
    """Effects grow with severity and participants are more severe: the ATT exceeds the ATE."""
    att = aipw(people, outcome="employment_weeks", treatment="participant", covariates=COVARIATES,
               estimand="ATT", seed=3).iloc[0]
    ate = aipw(people, outcome="employment_weeks", treatment="participant", covariates=COVARIATES,
               estimand="ATE", seed=3).iloc[0]
    assert sample_truth(people, "ATT") - sample_truth(people, "ATE") > 0.3
    assert att["estimate"] > ate["estimate"]


def test_ipw_analytic_standard_error_accounts_for_the_estimated_propensity(people):
    """The stacked (M-estimation) SE agrees with a bootstrap that refits the propensity model."""
    analytic = ipw(people, outcome="employment_weeks", treatment="participant", covariates=COVARIATES).iloc[0]
    boot = ipw(people, outcome="employment_weeks", treatment="participant", covariates=COVARIATES,
               se="bootstrap", n_boot=100, seed=5).iloc[0]
    assert boot["estimate"] == analytic["estimate"]
    assert boot["std_error"] == pytest.approx(analytic["std_error"], rel=0.2)
    assert boot["conf_low"] < boot["estimate"] < boot["conf_high"]


def test_user_propensity_model_is_accepted(people):
    truth = sample_truth(people, "ATT")
    row = ipw(people, outcome="employment_weeks", treatment="participant", covariates=COVARIATES,
              model=LogisticRegression(max_iter=500)).iloc[0]
    assert covers(row, truth)
    forest = RandomForestClassifier(n_estimators=20, min_samples_leaf=40, random_state=0)
    row = aipw(people, outcome="employment_weeks", treatment="participant", covariates=COVARIATES,
               propensity_model=forest, seed=2).iloc[0]
    assert covers(row, truth)


def test_aipw_is_reproducible_with_a_seed_and_clusters(people):
    kwargs = dict(outcome="employment_weeks", treatment="participant", covariates=COVARIATES,
                  cluster="municipality", se="bootstrap", n_boot=3)
    first = aipw(people, seed=7, **kwargs)
    pd.testing.assert_frame_equal(first, aipw(people, seed=7, **kwargs))
    assert not first.equals(aipw(people, seed=8, **kwargs))


def test_clustered_standard_error_is_larger_when_outcomes_share_a_cluster_shock(people):
    rng = np.random.default_rng(0)
    shocked = people.copy()
    shock = pd.Series(rng.normal(0, 4, 60), index=range(101, 161))
    shocked["employment_weeks"] += shocked["municipality"].map(shock) * (1 + shocked["participant"])
    kwargs = dict(outcome="employment_weeks", group="participant")
    plain = naive_contrast(shocked, **kwargs).iloc[0]
    clustered = naive_contrast(shocked, cluster="municipality", **kwargs).iloc[0]
    assert clustered["std_error"] > 1.5 * plain["std_error"]


def test_trim_and_clip_bound_the_weights(people):
    trimmed = ipw(people, outcome="employment_weeks", treatment="participant", covariates=COVARIATES,
                  estimand="ATE", trim=0.1).iloc[0]
    e = propensity_scores(people, treatment="participant", covariates=COVARIATES)
    kept = (e >= 0.1) & (e <= 0.9)
    assert trimmed["n_treated"] + trimmed["n_control"] == kept.sum() < len(people)
    clipped = propensity_scores(people, treatment="participant", covariates=COVARIATES, clip=0.2)
    assert clipped.between(0.2, 0.8).all()


# ----------------------------------------------------------------------------------------- diagnostics


def test_weights_balance_the_confounders(people):
    e = propensity_scores(people, treatment="participant", covariates=COVARIATES)
    w = propensity_weights(people, treatment="participant", propensity=e, estimand="ATT")
    table = balance_table(people, treatment="participant", covariates=COVARIATES, weights=w)
    severity = table.set_index("covariate").loc["severity"]
    assert abs(severity["smd_unweighted"]) > 0.2
    assert table["smd_weighted"].abs().max() < 0.1
    assert set(table["covariate"]) == {"age", "severity", "baseline_employment", "sex_M", "target_group_sindslidelse"}
    assert table["variance_ratio_weighted"].between(0.8, 1.25).all()


def test_stabilised_weights_sum_to_group_sizes_and_leave_balance_unchanged(people):
    e = propensity_scores(people, treatment="participant", covariates=COVARIATES)
    t = people["participant"]
    for estimand in ("ATT", "ATE"):
        stable = propensity_weights(people, treatment="participant", propensity=e, estimand=estimand)
        raw = propensity_weights(people, treatment="participant", propensity=e, estimand=estimand, stabilized=False)
        sums = stable.groupby(t).sum()
        assert sums[0] == pytest.approx((t == 0).sum(), rel=0.05)
        assert sums[1] == pytest.approx((t == 1).sum(), rel=0.05)
        pd.testing.assert_frame_equal(
            balance_table(people, treatment="participant", covariates=COVARIATES, weights=stable, estimand=estimand),
            balance_table(people, treatment="participant", covariates=COVARIATES, weights=raw, estimand=estimand),
        )


def test_effective_sample_size_is_kish_and_below_n(people):
    e = propensity_scores(people, treatment="participant", covariates=COVARIATES)
    w = propensity_weights(people, treatment="participant", propensity=e, estimand="ATT")
    ess = effective_sample_size(people, treatment="participant", weights=w).set_index("group")
    controls = w[people["participant"] == 0]
    assert ess.loc["control", "ess"] == pytest.approx(controls.sum() ** 2 / (controls**2).sum())
    assert ess.loc["control", "ess"] < ess.loc["control", "n"]
    assert ess.loc["treated", "ess"] == pytest.approx(ess.loc["treated", "n"])  # ATT: treated weights are 1


def test_good_overlap_is_summarised_without_warning(people):
    e = propensity_scores(people, treatment="participant", covariates=COVARIATES)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StatisticalWarning)
        summary = overlap_summary(people, treatment="participant", propensity=e).set_index("group")
    assert summary.loc["treated", "mean"] > summary.loc["control", "mean"]
    assert summary["share_common_support"].gt(0.95).all()
    assert not {"min", "max", "median"} & set(summary.columns)


def test_poor_overlap_warns():
    people = confounded_people(3000, seed=2, selection=6.0)
    e = propensity_scores(people, treatment="participant", covariates=COVARIATES)
    with pytest.warns(StatisticalWarning, match="poor propensity overlap for the ATE"):
        overlap_summary(people, treatment="participant", propensity=e, estimand="ATE")
    with pytest.warns(StatisticalWarning, match="poor propensity overlap"):
        ipw(people, outcome="employment_weeks", treatment="participant", covariates=COVARIATES, estimand="ATE")


# ---------------------------------------------------------------------------------------------- errors


def test_missing_columns_are_named(people):
    with pytest.raises(DataContractError, match=r"\['severity_score'\] not found"):
        ipw(people, outcome="employment_weeks", treatment="participant", covariates=["age", "severity_score"])
    with pytest.raises(DataContractError, match=r"\['employed'\] not found; columns present"):
        aipw(people, outcome="employed", treatment="participant", covariates=COVARIATES)


@pytest.mark.parametrize("value, group", [(0, "treated units"), (1, "control units")])
def test_one_group_only_is_an_error(people, value, group):
    one_group = people.assign(participant=value)
    with pytest.raises(DataContractError, match=f"'participant' has no {group}"):
        ipw(one_group, outcome="employment_weeks", treatment="participant", covariates=COVARIATES)
    with pytest.raises(DataContractError, match=f"has no {group}"):
        naive_contrast(one_group, outcome="employment_weeks", group="participant")


def test_bad_values_are_errors(people):
    with pytest.raises(DataContractError, match="'participant' must hold 0/1"):
        ipw(people.assign(participant=2), outcome="employment_weeks", treatment="participant", covariates=COVARIATES)
    gap = people.copy()
    gap.loc[[3, 9], "severity"] = np.nan
    with pytest.raises(DataContractError, match=r"'severity' has 2 missing value\(s\) \(e.g. rows \[3, 9\]\)"):
        aipw(gap, outcome="employment_weeks", treatment="participant", covariates=COVARIATES)
    with pytest.raises(ParameterError, match="estimand must be one of"):
        ipw(people, outcome="employment_weeks", treatment="participant", covariates=COVARIATES, estimand="ATC")
    with pytest.raises(ParameterError, match="trim must be None or a number"):
        ipw(people, outcome="employment_weeks", treatment="participant", covariates=COVARIATES, trim=0.7)
    with pytest.raises(TypeError, match="predict_proba"):
        ipw(people, outcome="employment_weeks", treatment="participant", covariates=COVARIATES, model=object())
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        naive_contrast(people.to_numpy(), outcome="employment_weeks", group="participant")


# ------------------------------------------------------------------------------------------- coverage


def population_att(n: int = 2_000_000) -> float:
    """E[effect | participant] of the data-generating process, by one large draw."""
    big = confounded_people(n, seed=123_456)
    return sample_truth(big, "ATT")


@pytest.mark.slow
def test_aipw_interval_coverage_over_repeated_samples():
    truth = population_att()
    hits = []
    for seed in range(200):
        people = confounded_people(1000, seed=seed)
        row = aipw(people, outcome="employment_weeks", treatment="participant", covariates=COVARIATES,
                   seed=seed).iloc[0]
        hits.append(covers(row, truth))
    coverage = np.mean(hits)
    assert 0.90 <= coverage <= 0.99, coverage


# --------------------------------------------------------------------------------------------
# The propensity model is solved to convergence
# --------------------------------------------------------------------------------------------


def test_default_propensity_is_the_maximum_likelihood_logit_of_statsmodels():
    """statsmodels' Logit (Newton, tolerance 1e-12) on the same design matrix: propensities agree to 1e-6.

    Stopping at scikit-learn's default tolerance (1e-4) left them up to about 1e-4 apart.
    """
    import statsmodels.api as sm

    from progression.evaluation import design_matrix

    people = confounded_people(4000, seed=11)
    X = sm.add_constant(design_matrix(people, COVARIATES).to_numpy())
    reference = sm.Logit(people["participant"].to_numpy(), X).fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    ours = propensity_scores(people, treatment="participant", covariates=COVARIATES)
    np.testing.assert_allclose(ours.to_numpy(), reference.predict(X), rtol=0, atol=1e-6)


def test_penalised_logit_reaches_the_penalised_optimum():
    """The penalised propensity model of the fund's estimators (C = 1 on standardised covariates) agrees with
    a direct minimisation of 0.5·‖β‖² + C·Σ log-loss (intercept unpenalised) to 1e-6."""
    from scipy.optimize import minimize

    from progression.evaluation import design_matrix
    from progression.evaluation.propensity import logistic_model

    people = confounded_people(3000, seed=12)
    X = design_matrix(people, COVARIATES).to_numpy()
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    t = people["participant"].to_numpy()

    def objective(b):
        eta = b[0] + Z @ b[1:]
        loss = np.logaddexp(0, eta) - t * eta
        grad = np.r_[np.sum(expit(eta) - t), Z.T @ (expit(eta) - t) + b[1:]]
        return 0.5 * b[1:] @ b[1:] + loss.sum(), grad

    best = minimize(objective, np.zeros(Z.shape[1] + 1), jac=True, method="BFGS", options={"gtol": 1e-10})
    ours = logistic_model(C=1.0).fit(X, t).predict_proba(X)[:, 1]
    np.testing.assert_allclose(ours, expit(best.x[0] + Z @ best.x[1:]), rtol=0, atol=1e-6)
