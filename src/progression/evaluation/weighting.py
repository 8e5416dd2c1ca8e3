"""Inverse probability weighting (IPW) and doubly robust AIPW estimators of the ATT and ATE.

References
----------
Hájek, J. (1971). Comment on "An essay on the logical foundations of survey sampling". In Foundations of
Statistical Inference, 236.
Lunceford, J. K. & Davidian, M. (2004). Stratification and weighting via the propensity score in estimation of
causal treatment effects: a comparative study. Statistics in Medicine 23(19), 2937–2960.
Robins, J. M., Rotnitzky, A. & Zhao, L. P. (1994). Estimation of regression coefficients when some regressors
are not always observed. JASA 89(427), 846–866.
Hahn, J. (1998). On the role of the propensity score in efficient semiparametric estimation of average
treatment effects. Econometrica 66(2), 315–331.
Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and structural parameters.
The Econometrics Journal 21(1), C1–C68.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.utils import get_tags

from progression import _validation as chk
from progression._tidy import percentile_interval
from progression.evaluation._inference import (
    SeedLike,
    cluster_bootstrap,
    cluster_codes,
    if_variance,
    int_seed,
    result_row,
    tidy_frame,
)
from progression.evaluation.balance import overlap_problem
from progression.evaluation.propensity import (
    ESTIMANDS,
    check_classifier,
    design_matrix,
    predict_treatment_probability,
)
from progression.exceptions import DataContractError, StatisticalWarning

__all__ = ["ipw", "aipw"]

OVERLAP_THRESHOLD = 0.05
OVERLAP_TOLERANCE = 0.05


@dataclass
class _Inputs:
    """Validated arrays shared by the estimators."""

    X: np.ndarray
    t: np.ndarray
    outcomes: dict[str, np.ndarray]
    clusters: np.ndarray | None


def _validate(data, *, outcome, treatment, covariates, cluster, estimand, clip, trim, se, n_boot, cl) -> _Inputs:
    chk.check_frame(data)
    outcomes = chk.as_list(outcome, name="outcome")
    chk.check_choice(estimand, ESTIMANDS, name="estimand")
    chk.check_choice(se, ("analytic", "bootstrap"), name="se")
    chk.check_fraction(clip, name="clip")
    chk.check_fraction(trim, name="trim")
    chk.check_positive_int(n_boot, name="n_boot", minimum=2)
    chk.check_level(cl)
    chk.check_columns(data, [*outcomes, treatment, cluster])
    chk.check_no_missing(data, [*outcomes, treatment, cluster])
    t = chk.binary_values(data, treatment)
    chk.check_both_groups(t, treatment)
    X = design_matrix(data, covariates).to_numpy()
    ys = {name: chk.numeric_values(data, name) for name in outcomes}
    return _Inputs(X=X, t=t, outcomes=ys, clusters=cluster_codes(data, cluster))


def _trim_mask(e: np.ndarray, trim: float | None) -> np.ndarray:
    """Units kept after trimming to trim ≤ e ≤ 1 − trim (all units when trim is None)."""
    if trim is None:
        return np.ones(e.shape, dtype=bool)
    return (e >= trim) & (e <= 1 - trim)


def _warn_overlap(t: np.ndarray, e: np.ndarray, estimand: str) -> None:
    message = overlap_problem(t, e, estimand=estimand, threshold=OVERLAP_THRESHOLD, tolerance=OVERLAP_TOLERANCE)
    if message:
        warnings.warn(message, StatisticalWarning, stacklevel=4)


def _check_kept(t: np.ndarray, keep: np.ndarray) -> tuple[int, int]:
    """Counts of treated and controls left after trimming; both must be positive."""
    n1, n0 = int(t[keep].sum()), int((1 - t[keep]).sum())
    if n1 == 0 or n0 == 0:
        raise DataContractError(
            f"after trimming {n1} treated and {n0} control units remain; expected both groups: lower trim"
        )
    return n1, n0


# --------------------------------------------------------------------------------------------- IPW


def _logit_influence(Xd: np.ndarray, t: np.ndarray, e_raw: np.ndarray) -> np.ndarray:
    """Influence function of logistic-regression coefficients: M⁻¹ xᵢ(tᵢ − eᵢ), M = mean(e(1−e) x xᵀ)."""
    M = (Xd * (e_raw * (1 - e_raw))[:, None]).T @ Xd / len(t)
    return (Xd * (t - e_raw)[:, None]) @ np.linalg.pinv(M, hermitian=True)


def _group_weights(t, e, estimand, active):
    """Weights of the treated and control means and their derivatives ∂w/∂η (η = logit e)."""
    if estimand == "ATE":
        w1, dw1 = 1 / e, -(1 - e) / e
        w0, dw0 = 1 / (1 - e), e / (1 - e)
    else:
        w1, dw1 = np.ones_like(e), np.zeros_like(e)
        w0 = dw0 = e / (1 - e)
    return (t, w1, dw1 * active), (1 - t, w0, dw0 * active)


def _ipw_effect(y, t, e, keep, *, estimand, estimator, correction=None):
    """IPW effect and its influence function.

    Hájek: μₛ = Σ sᵢwᵢyᵢ / Σ sᵢwᵢ, φₛ = [sᵢwᵢ(yᵢ − μₛ) + Hₛᵀ IFᵦ,ᵢ] / mean(s w).
    Horvitz–Thompson: μₛ = mean(s w y)/c with c = 1 (ATE) or c = P(T=1) (ATT).
    Hₛ = mean(s (∂w/∂β)(y − μₛ)) is the M-estimation correction for the estimated logistic coefficients β
    (Lunceford & Davidian 2004). ``correction`` = (design with intercept, 0/1 mask of unclipped scores,
    IFᵦ) or None to treat the propensity as known.
    """
    active = np.ones_like(e) if correction is None else correction[1]
    p = t[keep].sum() / len(t)
    mus, phis = [], []
    for s, w, dw in _group_weights(t, e, estimand, active):
        s = s * keep
        if estimator == "hajek":
            norm = np.mean(s * w)
            mu = np.sum(s * w * y) / np.sum(s * w)
            resid = y - mu
            phi = s * w * resid
        else:
            norm = p if estimand == "ATT" else 1.0
            mu = np.mean(s * w * y) / norm
            resid = y
            phi = s * w * y - mu * (t * keep if estimand == "ATT" else 1.0)
        if correction is not None:
            design, _, if_beta = correction
            phi = phi + if_beta @ (design * (s * dw * resid)[:, None]).mean(axis=0)
        mus.append(mu)
        phis.append(phi / norm)
    return mus[0] - mus[1], phis[0] - phis[1]


def _ipw_core(X, t, outcomes, *, model, estimand, estimator, clip, trim):
    """Fit the propensity model and return ({outcome: (τ, φ)}, n_treated, n_control)."""
    fitted = check_classifier(model).fit(X, t)
    e_raw = predict_treatment_probability(fitted, X)
    e = e_raw if clip is None else np.clip(e_raw, clip, 1 - clip)
    keep = _trim_mask(e, trim)
    _warn_overlap(t[keep], e[keep], estimand)
    n1, n0 = _check_kept(t, keep)
    correction = None
    if model is None:
        design = np.column_stack([np.ones(len(t)), X])
        correction = (design, (e == e_raw).astype(float), _logit_influence(design, t, e_raw))
    effects = {
        name: _ipw_effect(y, t, e, keep, estimand=estimand, estimator=estimator, correction=correction)
        for name, y in outcomes.items()
    }
    return effects, n1, n0


def ipw(
    data: pd.DataFrame,
    *,
    outcome: str | Sequence[str],
    treatment: str,
    covariates: str | Sequence[str],
    estimand: str = "ATT",
    model=None,
    estimator: str = "hajek",
    clip: float | None = None,
    trim: float | None = None,
    se: str = "analytic",
    cluster: str | None = None,
    n_boot: int = 999,
    seed: SeedLike = None,
    cl: float = 0.95,
) -> pd.DataFrame:
    """Inverse probability weighting estimate of the ATT or ATE.

    Parameters
    ----------
    data : DataFrame
        One row per unit: treatment, baseline covariates and outcomes measured after treatment start.
    outcome : str or list of str
        Numeric outcome column(s).
    treatment : str
        0/1 column (1 = participant).
    covariates : str or list of str
        Pre-treatment confounders; text columns are one-hot encoded.
    estimand : {"ATT", "ATE"}, default="ATT"
    model : classifier, optional
        Propensity model with ``predict_proba`` (cloned). Default: unpenalised logistic regression.
    estimator : {"hajek", "horvitz-thompson"}, default="hajek"
        Normalised (Hájek) or unnormalised (Horvitz–Thompson) weighted means.
    clip : float, optional
        Clip propensities into [clip, 1 − clip] (keeps every unit, bounds the weights).
    trim : float, optional
        Drop units with propensity outside [trim, 1 − trim] (Crump et al. 2009). This changes the target
        population to the units with overlap.
    se : {"analytic", "bootstrap"}, default="analytic"
        Influence-function (sandwich) standard errors, or a bootstrap that refits the propensity model.
    cluster : str, optional
        Column to cluster on (person or municipality): summed influence functions, or resampled clusters.
    n_boot : int, default=999
        Bootstrap replicates.
    seed : int or numpy.random.Generator, optional
        Seeds the bootstrap.
    cl : float, default=0.95
        Confidence level.

    Returns
    -------
    DataFrame
        Tidy rows (one per outcome): ``outcome, method, estimand, estimate, std_error, conf_low, conf_high,
        p_value, n_treated, n_control``. Bootstrap intervals are percentile intervals.

    Raises
    ------
    DataContractError
        When a column is missing or holds missing values, ``treatment`` is not 0/1, or trimming leaves a
        group empty.

    Warns
    -----
    StatisticalWarning
        When propensity overlap is poor (see :func:`overlap_summary`).

    Notes
    -----
    ATE: τ = Σ Tᵢyᵢ/eᵢ / Σ Tᵢ/eᵢ − Σ (1−Tᵢ)yᵢ/(1−eᵢ) / Σ (1−Tᵢ)/(1−eᵢ); ATT: controls weighted by e/(1−e).
    With the default logistic model the analytic standard error stacks the logistic score with the
    weighted means (M-estimation; Lunceford & Davidian 2004), so it accounts for the estimated propensity.
    With a user ``model`` the propensity is treated as known, which is usually conservative for the ATE but
    not guaranteed for the ATT: use ``se="bootstrap"`` then.

    References
    ----------
    Hájek (1971); Lunceford & Davidian (2004); see the module docstring.

    Examples
    --------
    Employment the year after starting IPS in the example data (the trials of
    :func:`~progression.evaluation.trials.trial_frame`); the naive contrast is 0.35:

    >>> from progression.datasets import example_trials
    >>> frame = example_trials("ips")
    >>> frame = frame.dropna(subset=["employed"])
    >>> covariates = ["age", "sex", "severity", "employment_weeks_lag1", "psych_inpatient_days_lag1"]
    >>> ipw(frame, outcome="employed", treatment="treated", covariates=covariates, cluster="person_id")[
    ...     ["method", "estimate", "std_error", "conf_low", "conf_high"]].round(3)
            method  estimate  std_error  conf_low  conf_high
    0  IPW (Hájek)     0.253      0.064     0.129      0.378
    """
    inputs = _validate(
        data, outcome=outcome, treatment=treatment, covariates=covariates, cluster=cluster,
        estimand=estimand, clip=clip, trim=trim, se=se, n_boot=n_boot, cl=cl,
    )
    chk.check_choice(estimator, ("hajek", "horvitz-thompson"), name="estimator")
    settings = dict(model=model, estimand=estimand, estimator=estimator, clip=clip, trim=trim)
    effects, n1, n0 = _ipw_core(inputs.X, inputs.t, inputs.outcomes, **settings)
    draws = None
    if se == "bootstrap":
        def statistic(rows: np.ndarray, _: np.ndarray) -> np.ndarray:
            ys = {name: y[rows] for name, y in inputs.outcomes.items()}
            boot, _, _ = _ipw_core(inputs.X[rows], inputs.t[rows], ys, **settings)
            return np.array([tau for tau, _ in boot.values()])

        draws = _quiet_bootstrap(statistic, inputs, n_boot=n_boot, seed=seed)
    method = "IPW (Hájek)" if estimator == "hajek" else "IPW (Horvitz–Thompson)"
    return _tidy_effects(effects, draws, inputs.clusters, method=method, estimand=estimand, n1=n1, n0=n0, cl=cl)


def _quiet_bootstrap(statistic, inputs: _Inputs, *, n_boot: int, seed: SeedLike) -> np.ndarray:
    """Cluster bootstrap of an estimator, without repeating its overlap warning in every replicate."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return cluster_bootstrap(statistic, n=len(inputs.t), clusters=inputs.clusters, n_boot=n_boot, seed=seed)


def _tidy_effects(effects, draws, clusters, *, method, estimand, n1, n0, cl) -> pd.DataFrame:
    """Tidy rows from {outcome: (τ, φ)}: influence-function SEs, or bootstrap SEs and percentile intervals."""
    if draws is not None:
        low, high = percentile_interval(draws, cl=cl)
    rows = []
    for k, (name, (tau, phi)) in enumerate(effects.items()):
        if draws is not None:
            std_error, conf = float(draws[:, k].std(ddof=1)), (low[k], high[k])
        else:
            std_error, conf = float(np.sqrt(if_variance(phi, clusters))), None
        rows.append(
            result_row(
                outcome=name, method=method, estimand=estimand, estimate=tau, std_error=std_error,
                n_treated=n1, n_control=n0, cl=cl, conf=conf,
            )
        )
    return tidy_frame(rows)


# -------------------------------------------------------------------------------------------- AIPW


def _folds(t: np.ndarray, groups: np.ndarray | None, n_folds: int, seed: SeedLike):
    """Seeded cross-fitting folds: stratified by treatment, or by whole clusters when given."""
    random_state = int_seed(seed)
    if groups is None:
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=random_state)
    else:
        if len(np.unique(groups)) < n_folds:
            raise DataContractError(f"cross-fitting needs at least n_folds={n_folds} clusters; found {len(np.unique(groups))}")
        splitter = GroupKFold(n_splits=n_folds, shuffle=True, random_state=random_state)
    return list(splitter.split(np.zeros(len(t)), t, groups))


def _predict_outcome(model, X: np.ndarray) -> np.ndarray:
    """Predicted mean outcome: P(Y = 1) for classifiers, ``predict`` for regressors."""
    if is_classifier(model):
        return predict_treatment_probability(model, X)
    return model.predict(X)


def _fit_predict(model, X_train: np.ndarray, Y_train: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    """Predictions (n_test, n_outcomes) of one model per outcome column, or of one multi-output fit.

    Regressors that accept several targets (linear and ridge regression) are fitted once for all
    outcomes, which gives the same coefficients as separate fits and saves the repeated work.
    """
    if Y_train.shape[1] > 1 and not is_classifier(model) and get_tags(model).target_tags.multi_output:
        return clone(model).fit(X_train, Y_train).predict(X_test).reshape(len(X_test), -1)
    return np.column_stack([_predict_column(model, X_train, Y_train[:, j], X_test) for j in range(Y_train.shape[1])])


def _predict_column(model, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    """Predictions of one outcome; a classifier whose training arm holds one class predicts that class."""
    if is_classifier(model) and np.unique(y_train).size == 1:
        return np.full(len(X_test), float(y_train[0]))
    return _predict_outcome(clone(model).fit(X_train, y_train), X_test)


def _cross_fit(X, t, outcomes, folds, *, propensity_model, outcome_model, estimand):
    """Out-of-fold propensities and outcome regressions m₀(x), m₁(x) for every outcome."""
    n = len(t)
    e = np.empty(n)
    names = list(outcomes)
    Y = np.column_stack([outcomes[name] for name in names])
    m0, m1 = np.empty((n, len(names))), np.empty((n, len(names)))
    for train, test in folds:
        t_train = t[train]
        if t_train.min() == t_train.max():
            raise DataContractError("a cross-fitting training fold has only one treatment group; use fewer folds")
        fitted = clone(propensity_model).fit(X[train], t_train)
        e[test] = predict_treatment_probability(fitted, X[test])
        for arm, store in ((0, m0), (1, m1)):
            if arm == 1 and estimand == "ATT":
                continue
            rows = train[t_train == arm]
            store[test] = _fit_predict(outcome_model, X[rows], Y[rows], X[test])
    return e, {name: (m0[:, j], m1[:, j]) for j, name in enumerate(names)}


def _aipw_core(X, t, outcomes, clusters, *, propensity_model, outcome_model, estimand, n_folds, clip, trim, rng):
    """Cross-fit the nuisance models and return ({outcome: (τ, φ)}, kept cluster codes, n_treated, n_control)."""
    folds = _folds(t, clusters, n_folds, rng)
    e, m = _cross_fit(
        X, t, outcomes, folds, propensity_model=check_classifier(propensity_model),
        outcome_model=LinearRegression() if outcome_model is None else outcome_model, estimand=estimand,
    )
    if clip is not None:
        e = np.clip(e, clip, 1 - clip)
    keep = _trim_mask(e, trim)
    _warn_overlap(t[keep], e[keep], estimand)
    n1, n0 = _check_kept(t, keep)
    effects = {
        name: _aipw_effect(y[keep], t[keep], e[keep], m[name][0][keep], m[name][1][keep], estimand)
        for name, y in outcomes.items()
    }
    kept_clusters = None if clusters is None else pd.factorize(clusters[keep])[0]
    return effects, kept_clusters, n1, n0


def _aipw_effect(y, t, e, m0, m1, estimand):
    """AIPW effect and influence function.

    ATE: ψ = m₁ − m₀ + T(y − m₁)/e − (1−T)(y − m₀)/(1−e), τ = mean ψ, φ = ψ − τ.
    ATT: τ = mean[T(y − m₀) − (1−T)·e/(1−e)·(y − m₀)] / p, φ = [T(y − m₀) − (1−T)e/(1−e)(y − m₀) − Tτ]/p.
    """
    if estimand == "ATE":
        psi = m1 - m0 + t * (y - m1) / e - (1 - t) * (y - m0) / (1 - e)
        tau = psi.mean()
        return tau, psi - tau
    p = t.mean()
    psi = t * (y - m0) - (1 - t) * e / (1 - e) * (y - m0)
    tau = psi.mean() / p
    return tau, (psi - t * tau) / p


def aipw(
    data: pd.DataFrame,
    *,
    outcome: str | Sequence[str],
    treatment: str,
    covariates: str | Sequence[str],
    estimand: str = "ATT",
    propensity_model=None,
    outcome_model=None,
    n_folds: int = 5,
    clip: float | None = None,
    trim: float | None = None,
    se: str = "analytic",
    cluster: str | None = None,
    n_boot: int = 199,
    seed: SeedLike = None,
    cl: float = 0.95,
) -> pd.DataFrame:
    """Doubly robust augmented IPW (AIPW) estimate of the ATT or ATE with cross-fitting.

    Parameters
    ----------
    data : DataFrame
        One row per unit.
    outcome : str or list of str
        Numeric outcome column(s).
    treatment : str
        0/1 column.
    covariates : str or list of str
        Pre-treatment confounders, used by both nuisance models.
    estimand : {"ATT", "ATE"}, default="ATT"
    propensity_model : classifier, optional
        Default: unpenalised logistic regression.
    outcome_model : regressor or classifier, optional
        Fitted separately in each arm; a classifier's P(Y = 1) is used for 0/1 outcomes.
        Default: linear regression. A regressor that accepts several targets is fitted once per fold
        and arm for all outcomes (give ``RidgeCV(alpha_per_target=True)`` to choose a penalty per outcome).
    n_folds : int, default=5
        Cross-fitting folds (seeded; stratified by treatment, or whole clusters when ``cluster`` is given).
    clip, trim : float, optional
        As in :func:`ipw`, applied to the cross-fitted propensities.
    se : {"analytic", "bootstrap"}, default="analytic"
        Influence-function standard errors, or a bootstrap that redoes the cross-fitting.
    cluster : str, optional
        Cluster column (person or municipality).
    n_boot : int, default=199
        Bootstrap replicates.
    seed : int or numpy.random.Generator, optional
        Seeds the folds and the bootstrap.
    cl : float, default=0.95

    Returns
    -------
    DataFrame
        Tidy rows, one per outcome, ``method`` = ``"AIPW (cross-fitted)"``.

    Raises
    ------
    DataContractError
        As :func:`ipw`, and when a training fold holds one treatment group only (use fewer folds).

    Warns
    -----
    StatisticalWarning
        When overlap of the cross-fitted propensities is poor.

    Notes
    -----
    The estimate is consistent if either nuisance model is right, and with cross-fitting its influence
    function gives valid standard errors when both converge fast enough (Chernozhukov et al. 2018).
    Influence functions are in the docstring of ``_aipw_effect`` (ATE: Robins et al. 1994; ATT: Hahn 1998).

    References
    ----------
    Robins, Rotnitzky & Zhao (1994); Hahn (1998); Chernozhukov et al. (2018); see the module docstring.

    Examples
    --------
    Employment the year after starting IPS in the example data (the trials of
    :func:`~progression.evaluation.trials.trial_frame`), folds on whole persons:

    >>> from progression.datasets import example_trials
    >>> frame = example_trials("ips")
    >>> frame = frame.dropna(subset=["employed"])
    >>> covariates = ["age", "sex", "severity", "employment_weeks_lag1", "psych_inpatient_days_lag1"]
    >>> aipw(frame, outcome="employed", treatment="treated", covariates=covariates, cluster="person_id", seed=1)[
    ...     ["method", "estimate", "std_error", "conf_low", "conf_high"]].round(3)
                    method  estimate  std_error  conf_low  conf_high
    0  AIPW (cross-fitted)     0.236      0.067     0.106      0.367
    """
    inputs = _validate(
        data, outcome=outcome, treatment=treatment, covariates=covariates, cluster=cluster,
        estimand=estimand, clip=clip, trim=trim, se=se, n_boot=n_boot, cl=cl,
    )
    chk.check_positive_int(n_folds, name="n_folds", minimum=2)
    if outcome_model is not None and not (hasattr(outcome_model, "fit") and hasattr(outcome_model, "predict")):
        raise TypeError(
            f"outcome_model must be a scikit-learn estimator with fit and predict; got {type(outcome_model).__name__}"
        )
    rng = np.random.default_rng(int_seed(seed))
    settings = dict(
        propensity_model=propensity_model, outcome_model=outcome_model, estimand=estimand,
        n_folds=n_folds, clip=clip, trim=trim, rng=rng,
    )
    effects, clusters, n1, n0 = _aipw_core(inputs.X, inputs.t, inputs.outcomes, inputs.clusters, **settings)
    draws = None
    if se == "bootstrap":
        def statistic(rows: np.ndarray, boot_clusters: np.ndarray) -> np.ndarray:
            ys = {name: y[rows] for name, y in inputs.outcomes.items()}
            boot, *_ = _aipw_core(inputs.X[rows], inputs.t[rows], ys, boot_clusters, **settings)
            return np.array([tau for tau, _ in boot.values()])

        draws = _quiet_bootstrap(statistic, inputs, n_boot=n_boot, seed=rng)
    return _tidy_effects(
        effects, draws, clusters, method="AIPW (cross-fitted)", estimand=estimand, n1=n1, n0=n0, cl=cl
    )
