"""Municipality-year panels: between/within decomposition and a random-intercept model.

How much of the variation in spending per inhabitant is a lasting difference between municipalities
(between), and how much year-to-year movement within them (within)? And how much of the lasting municipal
difference do the objective criteria remove? The second question is answered with a random-intercept model

    y_it = x_itᵀβ + u_i + e_it,   u_i ~ N(0, σ_u²),   e_it ~ N(0, σ_e²),

fitted once without the criteria ("empty") and once with them: ICC = σ_u² / (σ_u² + σ_e²), and the share of
the municipal variance the criteria remove is (σ_u0² − σ_u1²) / σ_u0² (Snijders & Bosker 2012, ch. 7).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from progression.exceptions import ConvergenceError, ParameterError, StatisticalWarning
from progression.variation._data import as_list, finite_matrix, positive_weights, require_columns

__all__ = ["RandomInterceptDecomposition", "between_within", "random_intercept_icc"]


def _year_demeaned(y: np.ndarray, years: np.ndarray, w: np.ndarray) -> np.ndarray:
    """y minus its (weighted) year mean, plus the overall mean: removes common year shifts."""
    frame = pd.DataFrame({"y": y, "w": w, "t": years})
    year_mean = frame.groupby("t").apply(lambda g: np.average(g["y"], weights=g["w"]), include_groups=False)
    return y - frame["t"].map(year_mean).to_numpy() + np.average(y, weights=w)


def between_within(
    data: pd.DataFrame,
    *,
    y: str,
    unit: str = "municipality",
    time: str | None = None,
    weights: str | None = None,
) -> pd.DataFrame:
    """Split the (weighted) sum of squares of ``y`` over a panel into between- and within-unit parts.

    SS_total = Σ_it w_it (y_it − ȳ)² = Σ_i W_i (ȳ_i − ȳ)² + Σ_it w_it (y_it − ȳ_i)², where ȳ_i is unit i's
    (weighted) mean, W_i its total weight and ȳ the overall mean. The identity is exact for unbalanced panels.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit × year.
    y : str
        Outcome (e.g. spending per inhabitant).
    unit : str, default="municipality"
    time : str, optional
        When given, common year shifts (the weighted year means, e.g. price and wage growth) are removed
        first, so "within" is movement relative to the country.
    weights : str, optional
        Row weights (e.g. population).

    Returns
    -------
    pandas.DataFrame
        Rows ``between``, ``within``, ``total``; columns ``sum_of_squares``, ``variance`` (sum of squares
        / total weight) and ``share`` (of the total). ``frame.attrs`` holds ``n_units`` and ``n_obs``.
    """
    require_columns(data, [unit] + ([time] if time else []))
    values = finite_matrix(data, [y], id_col=unit)[:, 0]
    w = positive_weights(data, weights, id_col=unit)
    w = np.ones(len(values)) if w is None else w
    if time is not None:
        values = _year_demeaned(values, data[time].to_numpy(), w)
    frame = pd.DataFrame({"unit": data[unit].to_numpy(), "y": values, "w": w})
    grand = np.average(values, weights=w)
    totals = frame.groupby("unit")["w"].sum()
    means = (frame["y"] * frame["w"]).groupby(frame["unit"]).sum() / totals
    between = float(np.sum(totals * (means - grand) ** 2))
    within = float(np.sum(w * (values - frame["unit"].map(means).to_numpy()) ** 2))
    total = between + within
    table = pd.DataFrame(
        {"sum_of_squares": [between, within, total]}, index=pd.Index(["between", "within", "total"], name="component")
    )
    table["variance"] = table["sum_of_squares"] / w.sum()
    table["share"] = table["sum_of_squares"] / total
    table.attrs.update({"n_units": int(totals.size), "n_obs": int(len(values))})
    return table


@dataclass(frozen=True)
class RandomInterceptDecomposition:
    """Result of :func:`random_intercept_icc`.

    Attributes
    ----------
    table : pandas.DataFrame
        Rows ``empty`` and ``criteria``; columns ``sigma2_between`` (σ_u²), ``sigma2_within`` (σ_e²),
        ``icc``, ``loglik``, ``converged``.
    share_removed : float
        (σ_u0² − σ_u1²) / σ_u0²: the share of the municipal (between) variance the criteria remove.
    within_share_removed : float
        (σ_e0² − σ_e1²) / σ_e0², the same for the within variance.
    coefficients : pandas.DataFrame
        Fixed effects of the model with criteria: ``estimate``, ``std_error``, ``conf_low``, ``conf_high``.
    """

    table: pd.DataFrame
    share_removed: float
    within_share_removed: float
    coefficients: pd.DataFrame = field(repr=False)


def _fit_mixed(y, exog, groups, reml, methods=("lbfgs", "bfgs", "powell")):
    """Fit MixedLM, trying the optimisers in turn until one converges; return the fit and boundary warnings."""
    import statsmodels.api as sm

    problems = []
    for method in methods:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = sm.MixedLM(y, exog, groups=groups).fit(reml=reml, method=method)
            except np.linalg.LinAlgError as error:
                problems.append(f"{method}: {error}")
                continue
        if result.converged:  # a fallback optimiser that converged is not a problem; a boundary fit is
            return result, [f"{method}: {w.message}" for w in caught if "boundary" in str(w.message).lower()]
        problems.append(f"{method}: did not converge")
    raise ConvergenceError(
        "MixedLM did not converge with any optimiser (" + "; ".join(problems) + "). Things to try: "
        "1) rescale y (e.g. thousands of kr. or logs); 2) standardise the criteria; "
        "3) drop years with few municipalities; 4) check that the criteria are not collinear with the year effects"
    )


def random_intercept_icc(
    data: pd.DataFrame,
    *,
    y: str,
    X: Sequence[str],
    unit: str = "municipality",
    time: str | None = "year",
    reml: bool = True,
) -> RandomInterceptDecomposition:
    """ICC of a random-intercept model before and after adding the criteria.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per municipality × year.
    y : str
        Outcome (spending per inhabitant; take logs beforehand for relative differences).
    X : sequence of str
        Criteria (time-varying or not).
    unit : str, default="municipality"
        Grouping column of the random intercept.
    time : str or None, default="year"
        Year fixed effects in both models (common shocks are not municipal variance); ``None`` for none.
    reml : bool, default=True
        Restricted maximum likelihood (recommended for variance components).

    Returns
    -------
    RandomInterceptDecomposition

    Warns
    -----
    StatisticalWarning
        When statsmodels reports a convergence or boundary problem (e.g. σ_u² estimated at 0).

    Notes
    -----
    Fitted with :class:`statsmodels.regression.mixed_linear_model.MixedLM`. The random intercept absorbs the
    lasting municipal level; σ_u² of the empty model is the municipal variance to be explained.

    References
    ----------
    Snijders, T. A. B., Bosker, R. J. (2012). Multilevel Analysis, 2nd ed. Sage, sections 3.3 and 7.2.
    """
    X = as_list(X, "X")
    require_columns(data, [unit, y, *X] + ([time] if time else []))
    outcome = finite_matrix(data, [y], id_col=unit)[:, 0]
    criteria = finite_matrix(data, X, id_col=unit)
    if data[unit].nunique() < 3:
        raise ParameterError(f"random_intercept_icc needs at least 3 units in {unit!r}; found {data[unit].nunique()}")
    base = pd.DataFrame({"const": np.ones(len(data))})
    if time is not None:
        dummies = pd.get_dummies(data[time].astype(str), prefix=str(time), drop_first=True, dtype=float)
        base = pd.concat([base, dummies.reset_index(drop=True)], axis=1)
    full = pd.concat([base, pd.DataFrame(criteria, columns=X)], axis=1)
    groups = data[unit].to_numpy()

    rows, problems = {}, []
    results = {}
    for name, exog in (("empty", base), ("criteria", full)):
        result, issues = _fit_mixed(outcome, exog, groups, reml)
        problems += [f"{name}: {msg}" for msg in issues]
        between = float(result.cov_re.iloc[0, 0])
        within = float(result.scale)
        rows[name] = {
            "sigma2_between": between,
            "sigma2_within": within,
            "icc": between / (between + within),
            "loglik": float(result.llf),
            "converged": bool(result.converged),
        }
        results[name] = result
    if problems:
        warnings.warn("MixedLM reported: " + "; ".join(problems[:4]), StatisticalWarning, stacklevel=2)
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    empty, with_criteria = rows["empty"], rows["criteria"]
    fe = results["criteria"]
    names = list(full.columns)
    ci = np.asarray(fe.conf_int())[: len(names)]
    coefficients = pd.DataFrame(
        {
            "estimate": np.asarray(fe.fe_params),
            "std_error": np.asarray(fe.bse_fe),
            "conf_low": ci[:, 0],
            "conf_high": ci[:, 1],
        },
        index=pd.Index(names, name="term"),
    ).loc[["const", *X]]
    if empty["sigma2_between"] <= 0:
        warnings.warn("the empty model has no municipal variance (σ_u² = 0): nothing for the criteria to remove",
                      StatisticalWarning, stacklevel=2)
    share = (empty["sigma2_between"] - with_criteria["sigma2_between"]) / empty["sigma2_between"] \
        if empty["sigma2_between"] > 0 else np.nan
    return RandomInterceptDecomposition(
        table=table,
        share_removed=share,
        within_share_removed=(empty["sigma2_within"] - with_criteria["sigma2_within"]) / empty["sigma2_within"],
        coefficients=coefficients,
    )
