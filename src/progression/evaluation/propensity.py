"""Propensity scores and inverse-probability weights.

References
----------
Rosenbaum, P. R. & Rubin, D. B. (1983). The central role of the propensity score in observational studies
for causal effects. Biometrika 70(1), 41–55.
Robins, J. M., Hernán, M. A. & Brumback, B. (2000). Marginal structural models and causal inference in
epidemiology. Epidemiology 11(5), 550–560 (stabilised weights).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from progression import _validation as chk
from progression.exceptions import DataContractError

ESTIMANDS = ("ATT", "ATE")


__all__ = [
    "ESTIMANDS", "LOGIT_TOL", "logistic_model", "default_propensity_model", "design_matrix", "propensity_scores",
    "propensity_weights", "inverse_probability_weights", "check_classifier", "predict_treatment_probability",
]


#: Gradient tolerance of the logistic fits: Newton's method converges quadratically, so a tolerance far
#: below scikit-learn's default (1e-4, which leaves propensities off by up to about 1e-4) costs one or two
#: iterations and gives the optimum to machine precision.
LOGIT_TOL = 1e-10


def logistic_model(C: float = np.inf):
    """Logistic regression on standardised covariates, solved to convergence by Newton's method.

    Parameters
    ----------
    C : float, default=inf
        Inverse L2 penalty on the standardised coefficients (``inf`` = the maximum-likelihood logit).

    Returns
    -------
    scikit-learn Pipeline
        ``StandardScaler`` then ``LogisticRegression(solver="newton-cholesky", tol=LOGIT_TOL)``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(500, 2))
    >>> t = (rng.random(500) < 1 / (1 + np.exp(-x[:, 0]))).astype(int)
    >>> model = logistic_model().fit(x, t)
    >>> model[-1].solver, model[-1].tol
    ('newton-cholesky', 1e-10)
    """
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, solver="newton-cholesky", max_iter=1000,
                                                              tol=LOGIT_TOL))


def default_propensity_model():
    """The maximum-likelihood logit on standardised covariates: :func:`logistic_model` without a penalty.

    Returns
    -------
    scikit-learn Pipeline
        A new, unfitted model; the propensity model of :func:`propensity_scores`, :func:`ipw` and
        :func:`aipw` when none is given.

    Examples
    --------
    >>> model = default_propensity_model()
    >>> [type(step).__name__ for step in model], model[-1].C
    (['StandardScaler', 'LogisticRegression'], inf)
    """
    return logistic_model()


def design_matrix(data: pd.DataFrame, covariates: str | Sequence[str]) -> pd.DataFrame:
    """Covariates as a float matrix: numeric and boolean columns as they are, others one-hot encoded.

    Text and categorical columns get one indicator per level except the first (sorted) level, named
    ``<column>_<level>``.

    Parameters
    ----------
    data : DataFrame
    covariates : str or list of str

    Returns
    -------
    DataFrame
        Float columns, same index as ``data``.

    Raises
    ------
    DataContractError
        When a column is missing, holds missing values, or is constant.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> design = design_matrix(load_example("persons"), ["birth_year", "sex", "target_group"])
    >>> design.columns.tolist()
    ['birth_year', 'sex_M', 'target_group_kognitivt_handicap', 'target_group_sindslidelse']
    """
    columns = chk.as_list(covariates, name="covariates")
    chk.check_columns(data, columns)
    chk.check_no_missing(data, columns)
    frame = data[columns]
    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])]
    categorical = [c for c in columns if c not in numeric]
    parts = [frame[numeric].astype(float)]
    if categorical:
        cats = frame[categorical].astype("category")
        cats = cats.apply(lambda s: s.cat.reorder_categories(sorted(s.cat.categories)))
        parts.append(pd.get_dummies(cats, drop_first=True, dtype=float))
    design = pd.concat(parts, axis=1)
    constant = [c for c in design.columns if design[c].nunique() < 2]
    if constant:
        raise DataContractError(f"covariate column(s) {constant} are constant; expected variation: drop them")
    return design


def predict_treatment_probability(model, X: np.ndarray) -> np.ndarray:
    """Column of ``predict_proba`` belonging to class 1.

    Parameters
    ----------
    model : fitted classifier
        With ``classes_`` holding 1.
    X : ndarray

    Returns
    -------
    ndarray
        P(T = 1 | x) for each row of ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> x, t = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 1, 0, 1])
    >>> model = default_propensity_model().fit(x, t)
    >>> bool(np.allclose(predict_treatment_probability(model, x), model.predict_proba(x)[:, 1]))
    True
    """
    position = list(model.classes_).index(1)
    return model.predict_proba(X)[:, position]


def check_classifier(model) -> object:
    """Return a fresh clone of ``model`` (or the default), requiring ``fit`` and ``predict_proba``.

    Parameters
    ----------
    model : classifier or None
        None gives :func:`default_propensity_model`.

    Returns
    -------
    classifier
        Unfitted.

    Raises
    ------
    TypeError
        When ``model`` lacks ``fit`` or ``predict_proba``.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> type(check_classifier(None)[-1]).__name__
    'LogisticRegression'
    >>> check_classifier(LinearRegression())
    Traceback (most recent call last):
    ...
    TypeError: propensity model must be a scikit-learn classifier with fit and predict_proba; got LinearRegression
    """
    if model is None:
        return default_propensity_model()
    if not (hasattr(model, "fit") and hasattr(model, "predict_proba")):
        raise TypeError(
            f"propensity model must be a scikit-learn classifier with fit and predict_proba; got {type(model).__name__}"
        )
    return clone(model)


def propensity_scores(
    data: pd.DataFrame,
    *,
    treatment: str,
    covariates: str | Sequence[str],
    model=None,
    clip: float | None = None,
) -> pd.Series:
    """Estimated probability of treatment given covariates, e(x) = P(T = 1 | X = x).

    Parameters
    ----------
    data : DataFrame
        One row per unit.
    treatment : str
        0/1 column.
    covariates : str or list of str
        Confounders measured before treatment; text columns are one-hot encoded.
    model : classifier, optional
        Any scikit-learn classifier with ``predict_proba`` (cloned before fitting). Default: an
        unpenalised logistic regression.
    clip : float, optional
        Clip the scores into [clip, 1 − clip].

    Returns
    -------
    Series
        Named ``"propensity"``, same index as ``data``.

    Raises
    ------
    DataContractError
        When a column is missing or holds missing values, ``treatment`` is not 0/1, or a group is empty.

    References
    ----------
    Rosenbaum, P. R. & Rubin, D. B. (1983). The central role of the propensity score in observational
    studies for causal effects. Biometrika 70(1), 41–55.

    Examples
    --------
    The trials of IPS on the example data (see :func:`~progression.evaluation.trials.trial_frame`):

    >>> from progression.datasets import example_trials
    >>> frame = example_trials("ips")
    >>> covariates = ["age", "sex", "severity", "employment_weeks_lag1", "psych_inpatient_days_lag1"]
    >>> e = propensity_scores(frame, treatment="treated", covariates=covariates)
    >>> e.groupby(frame["treated"]).mean().round(3)
    treated
    0    0.092
    1    0.139
    Name: propensity, dtype: float64
    """
    chk.check_frame(data)
    chk.check_columns(data, [treatment])
    chk.check_no_missing(data, [treatment])
    clip = chk.check_fraction(clip, name="clip")
    t = chk.binary_values(data, treatment)
    chk.check_both_groups(t, treatment)
    X = design_matrix(data, covariates).to_numpy()
    fitted = check_classifier(model).fit(X, t)
    e = predict_treatment_probability(fitted, X)
    if clip is not None:
        e = np.clip(e, clip, 1 - clip)
    return pd.Series(e, index=data.index, name="propensity")


def inverse_probability_weights(
    treated: np.ndarray, propensity: np.ndarray, *, estimand: str = "ATT", stabilized: bool = False
) -> np.ndarray:
    """Inverse-probability weights as arrays (see :func:`propensity_weights`).

    Parameters
    ----------
    treated : array of 0/1
    propensity : array of float
        Scores strictly between 0 and 1 (not checked here).
    estimand : {"ATT", "ATE"}, default="ATT"
    stabilized : bool, default=False

    Returns
    -------
    ndarray

    Examples
    --------
    >>> inverse_probability_weights([1, 0, 0], [0.5, 0.2, 0.5], estimand="ATE")
    array([2.  , 1.25, 2.  ])
    >>> inverse_probability_weights([1, 0, 0], [0.5, 0.2, 0.5])
    array([1.  , 0.25, 1.  ])
    """
    t = np.asarray(treated, dtype=float)
    e = np.asarray(propensity, dtype=float)
    if estimand == "ATE":
        w = t / e + (1 - t) / (1 - e)
        if stabilized:
            p = t.mean()
            w = w * (t * p + (1 - t) * (1 - p))
    else:
        w = t + (1 - t) * e / (1 - e)
        if stabilized:
            p = t.mean()
            w = t + (1 - t) * w * (1 - p) / p
    return w


def propensity_weights(
    data: pd.DataFrame,
    *,
    treatment: str,
    propensity: str | pd.Series,
    estimand: str = "ATT",
    stabilized: bool = True,
) -> pd.Series:
    """Inverse-probability weights for the ATE or the ATT.

    Parameters
    ----------
    data : DataFrame
    treatment : str
        0/1 column.
    propensity : str or Series
        Column name of the propensity score, or a Series aligned with ``data``.
    estimand : {"ATT", "ATE"}, default="ATT"
    stabilized : bool, default=True
        Multiply by the marginal treatment probabilities so the weights of each group sum to about its size.

    Returns
    -------
    Series
        Named ``"weight"``.

    Notes
    -----
    ATE: w = T/e + (1−T)/(1−e); stabilised sw = T·p/e + (1−T)(1−p)/(1−e), p = P(T=1) (Robins et al. 2000).
    ATT: w = T + (1−T)·e/(1−e); stabilised controls are scaled by (1−p)/p. Stabilising rescales each group by
    a constant, so Hájek (normalised) estimates, balance statistics and effective sample sizes are unchanged;
    it matters for weighted regressions and for reading the weights.

    Raises
    ------
    DataContractError
        When a propensity is not strictly between 0 and 1, or ``treatment`` is not 0/1 with both groups.

    References
    ----------
    Robins, J. M., Hernán, M. A. & Brumback, B. (2000). Marginal structural models and causal inference in
    epidemiology. Epidemiology 11(5), 550–560.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"treated": [1, 1, 0, 0, 0], "e": [0.6, 0.3, 0.5, 0.2, 0.1]})
    >>> propensity_weights(data, treatment="treated", propensity="e", stabilized=False).round(3).tolist()
    [1.0, 1.0, 1.0, 0.25, 0.111]
    >>> propensity_weights(data, treatment="treated", propensity="e").round(3).tolist()
    [1.0, 1.0, 1.5, 0.375, 0.167]
    """
    chk.check_frame(data)
    estimand = chk.check_choice(estimand, ESTIMANDS, name="estimand")
    chk.check_columns(data, [treatment, propensity if isinstance(propensity, str) else None])
    e = (data[propensity] if isinstance(propensity, str) else propensity).to_numpy(dtype=float)
    if e.shape[0] != len(data):
        raise DataContractError(f"propensity has {e.shape[0]} values; expected one per row of data ({len(data)})")
    if np.any((e <= 0) | (e >= 1) | np.isnan(e)):
        raise DataContractError(
            f"propensity must lie strictly between 0 and 1; found {int(np.sum((e <= 0) | (e >= 1) | np.isnan(e)))} "
            "values outside (0, 1): clip them (clip=0.01) or trim those units"
        )
    t = chk.binary_values(data, treatment)
    chk.check_both_groups(t, treatment)
    w = inverse_probability_weights(t, e, estimand=estimand, stabilized=stabilized)
    return pd.Series(w, index=data.index, name="weight")
