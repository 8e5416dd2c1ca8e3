"""Municipality-year panels: between/within decomposition and a random-intercept model.

How much of the variation in spending per inhabitant is a lasting difference between municipalities
(between), and how much year-to-year movement within them (within)? And how much of the lasting municipal
difference do the objective criteria remove? The second question is answered with a random-intercept model

    y_it = x_itᵀβ + u_i + e_it,   u_i ~ N(0, σ_u²),   e_it ~ N(0, σ_e²),

fitted once without the criteria ("empty") and once with them: ICC = σ_u² / (σ_u² + σ_e²), and the share of
the municipal variance the criteria remove is (σ_u0² − σ_u1²) / σ_u0² (Snijders & Bosker 2012, ch. 7):
:class:`RandomInterceptDecomposition`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from progression._validation import check_columns
from progression.exceptions import ConvergenceError, NotFittedError, ParameterError, StatisticalWarning
from progression.variation._data import column_list, finite_matrix, positive_weights

__all__ = ["RandomInterceptDecomposition", "between_within"]


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
        Rows ``between``, ``within``, ``total``: ``component``, ``sum_of_squares``, ``variance`` (sum of
        squares / total weight), ``share`` (of the total), ``n_units`` and ``n_obs``.

    Examples
    --------
    >>> import pandas as pd
    >>> panel = pd.DataFrame({"municipality": [1, 1, 2, 2], "year": [1, 2, 1, 2], "y": [1.0, 2.0, 5.0, 6.0]})
    >>> print(between_within(panel, y="y")[["component", "share"]].to_string(index=False))
    component  share
      between   0.94...
       within   0.05...
        total   1.0...
    """
    check_columns(data, {"unit": unit, "time": time})
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
    table = pd.DataFrame({"component": ["between", "within", "total"], "sum_of_squares": [between, within, total]})
    table["variance"] = table["sum_of_squares"] / w.sum()
    table["share"] = table["sum_of_squares"] / total
    table["n_units"] = int(totals.size)
    table["n_obs"] = int(len(values))
    return table


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


class RandomInterceptDecomposition:
    """How much of the lasting municipal variance do the criteria remove? A random-intercept model
    fitted without and with them.

    Parameters
    ----------
    reml : bool, default=True
        Restricted maximum likelihood (recommended for variance components).

    Attributes
    ----------
    variances_ : pandas.DataFrame
        Rows ``empty`` and ``criteria`` (index ``model``): ``sigma2_between`` (σ_u²), ``sigma2_within``
        (σ_e²), ``icc``, ``loglik``, ``converged``.
    share_removed_ : float
        (σ_u0² − σ_u1²) / σ_u0²: the share of the municipal (between) variance the criteria remove.
    within_share_removed_ : float
        (σ_e0² − σ_e1²) / σ_e0², the same for the within variance.
    coefficients_ : pandas.DataFrame
        Fixed effects of the model with criteria: ``term``, ``estimate``, ``std_error``, ``conf_low``,
        ``conf_high``.

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

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(5)
    >>> z = rng.normal(size=60)
    >>> panel = pd.DataFrame({"municipality": np.repeat(np.arange(60), 4), "year": np.tile([1, 2, 3, 4], 60),
    ...                       "criterion": np.repeat(z, 4)})
    >>> panel["y"] = np.repeat(z + rng.normal(size=60), 4) + rng.normal(size=240)
    >>> model = RandomInterceptDecomposition().fit(panel, y="y", X=["criterion"])
    >>> model.summary()["model"].tolist()
    ['empty', 'criteria']
    >>> 0.2 < model.share_removed_ < 0.8
    True
    """

    def __init__(self, *, reml: bool = True) -> None:
        self.reml = reml

    def fit(self, data: pd.DataFrame, *, y: str, X: Sequence[str], unit: str = "municipality",
            time: str | None = "year") -> RandomInterceptDecomposition:
        """Fit the empty model and the model with the criteria.

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

        Returns
        -------
        self
        """
        X = column_list(X, name="X")
        check_columns(data, {"unit": unit, "y": y, **{f"X[{i}]": x for i, x in enumerate(X)}, "time": time})
        outcome = finite_matrix(data, [y], id_col=unit)[:, 0]
        criteria = finite_matrix(data, X, id_col=unit)
        if data[unit].nunique() < 3:
            raise ParameterError(f"RandomInterceptDecomposition needs at least 3 units in {unit!r}; "
                                 f"found {data[unit].nunique()}")
        base = pd.DataFrame({"const": np.ones(len(data))})
        if time is not None:
            dummies = pd.get_dummies(data[time].astype(str), prefix=str(time), drop_first=True, dtype=float)
            base = pd.concat([base, dummies.reset_index(drop=True)], axis=1)
        full = pd.concat([base, pd.DataFrame(criteria, columns=X)], axis=1)
        groups = data[unit].to_numpy()

        rows, problems, results = {}, [], {}
        for name, exog in (("empty", base), ("criteria", full)):
            result, issues = _fit_mixed(outcome, exog, groups, self.reml)
            problems += [f"{name}: {msg}" for msg in issues]
            between = float(result.cov_re.iloc[0, 0])
            within = float(result.scale)
            rows[name] = {"sigma2_between": between, "sigma2_within": within, "icc": between / (between + within),
                          "loglik": float(result.llf), "converged": bool(result.converged)}
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
            {"term": names, "estimate": np.asarray(fe.fe_params), "std_error": np.asarray(fe.bse_fe),
             "conf_low": ci[:, 0], "conf_high": ci[:, 1]})
        if empty["sigma2_between"] <= 0:
            warnings.warn("the empty model has no municipal variance (σ_u² = 0): nothing for the criteria to remove",
                          StatisticalWarning, stacklevel=2)
        self.variances_ = table
        self.share_removed_ = ((empty["sigma2_between"] - with_criteria["sigma2_between"]) / empty["sigma2_between"]
                               if empty["sigma2_between"] > 0 else np.nan)
        self.within_share_removed_ = (empty["sigma2_within"] - with_criteria["sigma2_within"]) / empty["sigma2_within"]
        self.coefficients_ = coefficients.set_index("term").loc[["const", *X]].reset_index()
        return self

    def summary(self) -> pd.DataFrame:
        """Tidy table, one row per model (``empty``, ``criteria``): ``model``, ``sigma2_between``,
        ``sigma2_within``, ``icc``, ``loglik``, ``converged`` and ``share_removed`` (the same on both rows)."""
        if not hasattr(self, "variances_"):
            raise NotFittedError(
                "this RandomInterceptDecomposition is not fitted yet; call fit(data, y=..., X=...) first")
        return self.variances_.reset_index().assign(share_removed=self.share_removed_)
