"""Difference-in-differences: the 2×2 design, two-way fixed effects and the event study.

With staggered adoption and effects that differ across cohorts or grow with exposure, the two-way
fixed-effects (TWFE) regressions here are biased: already-treated units act as controls and some
group-time effects get negative weights (Goodman-Bacon 2021; Sun & Abraham 2021). They are kept as the
familiar benchmark; use :class:`CallawaySantAnna` for the heterogeneity-robust estimate.

References
----------
Angrist, J. D. & Pischke, J.-S. (2009). Mostly Harmless Econometrics, ch. 5.
Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference. Journal of Human
Resources 50(2), 317–372.
Gaure, S. (2013). OLS with multiple high dimensional category variables. Computational Statistics & Data
Analysis 66, 8–18 (alternating projections).
Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing. Journal of
Econometrics 225(2), 254–277.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm

from progression import _validation as chk
from progression.evaluation._inference import result_row, tidy_frame
from progression.exceptions import ConvergenceError, DataContractError, ParameterError

__all__ = ["did_2x2", "twfe", "event_study", "never_treated", "unit_constant"]


def never_treated(first_treated: pd.Series) -> np.ndarray:
    """Units never treated: first treatment period missing, 0 or infinite (the ``did`` convention).

    Parameters
    ----------
    first_treated : Series
        First treated period of each row's unit.

    Returns
    -------
    ndarray of bool

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> never_treated(pd.Series([2018, np.nan, 0, np.inf]))
    array([False,  True,  True,  True])
    """
    values = first_treated.to_numpy(dtype=float)
    return np.isnan(values) | (values == 0) | np.isinf(values)


def unit_constant(data: pd.DataFrame, unit: str, column: str) -> pd.Series:
    """Per-unit value of a column that must not vary within a unit (sorted by unit).

    Parameters
    ----------
    data : DataFrame
    unit, column : str

    Returns
    -------
    Series
        Indexed by unit.

    Raises
    ------
    DataContractError
        Naming the column and a few units where it varies.

    Examples
    --------
    >>> from progression.evaluation.simulate import staggered_adoption_panel
    >>> unit_constant(staggered_adoption_panel(seed=1), "municipality", "adoption_year").head(3)
    municipality
    1    2020.0
    2       NaN
    3    2016.0
    Name: adoption_year, dtype: float64
    """
    varying = data.groupby(unit, sort=True)[column].nunique(dropna=False)
    if (varying > 1).any():
        examples = list(varying.index[varying > 1][:3])
        raise DataContractError(
            f"column {column!r} must be constant within each {unit!r}; "
            f"{int((varying > 1).sum())} units have several values (e.g. {examples})"
        )
    return data.groupby(unit, sort=True)[column].first()


def _demean(matrix: np.ndarray, fixed_effects: list[np.ndarray], *, tol: float = 1e-10, max_iter: int = 10_000) -> np.ndarray:
    """Sweep out several fixed effects by alternating projections (Gaure 2013).

    One pass is exact for a single effect or a balanced two-way panel; unbalanced panels iterate until
    the largest change is below ``tol`` times the data's scale.
    """
    out = matrix.astype(float, copy=True)
    scale = max(float(np.abs(out).max()), 1.0)
    counts = [np.bincount(codes) for codes in fixed_effects]
    for _ in range(max_iter):
        largest = 0.0
        for codes, count in zip(fixed_effects, counts):
            means = np.column_stack([np.bincount(codes, weights=col) for col in out.T]) / count[:, None]
            step = means[codes]
            out -= step
            largest = max(largest, float(np.abs(step).max()))
        if len(fixed_effects) == 1 or largest < tol * scale:
            return out
    raise ConvergenceError(
        f"removing the fixed effects did not converge in {max_iter} sweeps: "
        "1. check that units are connected across periods; 2. drop units observed only once"
    )


def _ols_cluster(y: np.ndarray, X: np.ndarray, clusters: np.ndarray, names: list[str]):
    """OLS with cluster-robust covariance (CR1: G/(G−1)·(N−1)/(N−K)); returns (params, bse, G)."""
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise DataContractError(
            f"the regressors {names} are collinear with the fixed effects; a common cause is no never-treated "
            "or not-yet-treated comparison: narrow the event window or bin more event times"
        )
    fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": clusters})
    return np.asarray(fit.params), np.asarray(fit.bse), int(clusters.max()) + 1


def _codes(data: pd.DataFrame, column: str) -> np.ndarray:
    return pd.factorize(data[column])[0]


def did_2x2(
    data: pd.DataFrame,
    *,
    outcome: str | Sequence[str],
    treated: str,
    post: str,
    cluster: str,
    unit: str | None = None,
    cl: float = 0.95,
) -> pd.DataFrame:
    """The canonical 2×2 difference-in-differences with cluster-robust standard errors.

    Fits y = α + β·treated + γ·post + δ·treated·post + ε by OLS; δ is the ATT under parallel trends.

    Parameters
    ----------
    data : DataFrame
        Rows of the treated and comparison groups before and after the start.
    outcome : str or list of str
        Numeric outcome column(s).
    treated : str
        0/1 column: the unit belongs to the treated group.
    post : str
        0/1 column: the row is from the period after the start.
    cluster : str
        Column to cluster on (``"person_id"`` or ``"municipality"``).
    unit : str, optional
        Unit column; when given, ``n_treated``/``n_control`` count distinct units rather than rows.
    cl : float, default=0.95
        Confidence level; intervals use a t distribution with G − 1 degrees of freedom (G clusters).

    Returns
    -------
    DataFrame
        Tidy rows, ``method`` = ``"DiD 2x2"``, ``estimand`` = ``"ATT"``.

    Raises
    ------
    DataContractError
        When a column is missing or holds missing values, or ``treated`` or ``post`` is not 0/1 with both
        values.

    References
    ----------
    Angrist & Pischke (2009), ch. 5; Cameron & Miller (2015); see the module docstring.

    Examples
    --------
    Municipalities adopting in 2018 against those never adopting, 2017 against 2019, in a simulated
    panel (the effect on everyone eligible is 0.3 per starter times the 18 % started by 2019):

    >>> from progression.evaluation.simulate import staggered_adoption_panel
    >>> panel = staggered_adoption_panel(seed=1)
    >>> group = panel["adoption_year"].isna() | (panel["adoption_year"] == 2018)
    >>> rows = panel[group & panel["year"].isin([2017, 2019])]
    >>> rows = rows.assign(treated=rows["adoption_year"].notna().astype(int), post=(rows["year"] == 2019).astype(int))
    >>> did_2x2(rows, outcome="employed", treated="treated", post="post", cluster="municipality", unit="municipality")[
    ...     ["estimate", "std_error", "n_treated", "n_control"]].round(3)
       estimate  std_error  n_treated  n_control
    0     0.026      0.028          9         42
    """
    chk.check_frame(data)
    outcomes = chk.as_list(outcome, name="outcome")
    cl = chk.check_level(cl)
    chk.check_columns(data, [*outcomes, treated, post, cluster, unit])
    chk.check_no_missing(data, [*outcomes, treated, post, cluster, unit])
    d = chk.binary_values(data, treated)
    p = chk.binary_values(data, post)
    chk.check_both_groups(d, treated)
    chk.check_both_groups(p, post)
    X = np.column_stack([np.ones(len(d)), d, p, d * p])
    clusters = _codes(data, cluster)
    if unit is None:
        n1, n0 = int(d.sum()), int((1 - d).sum())
    else:
        n1, n0 = data.loc[d == 1, unit].nunique(), data.loc[d == 0, unit].nunique()
    rows = []
    for name in outcomes:
        params, bse, G = _ols_cluster(chk.numeric_values(data, name), X, clusters, ["const", treated, post, "interaction"])
        rows.append(
            result_row(
                outcome=name, method="DiD 2x2", estimand="ATT", estimate=params[3], std_error=bse[3],
                n_treated=n1, n_control=n0, cl=cl, df=G - 1,
            )
        )
    return tidy_frame(rows)


def _panel_inputs(data, *, outcomes, unit, time, first_treated, cluster):
    """Validate a unit-period panel and return (fixed-effect codes, cluster codes, never-treated mask)."""
    chk.check_frame(data)
    chk.check_columns(data, [*outcomes, unit, time, first_treated, cluster])
    chk.check_no_missing(data, [*outcomes, unit, time, cluster])
    chk.numeric_values(data, time)
    chk.numeric_values(data, first_treated)
    unit_constant(data, unit, first_treated)
    never = never_treated(data[first_treated])
    if never.all():
        raise DataContractError(f"column {first_treated!r} marks no unit as treated; expected some treated units")
    fixed_effects = [_codes(data, unit), _codes(data, time)]
    clusters = _codes(data, cluster or unit)
    return fixed_effects, clusters, never


def twfe(
    data: pd.DataFrame,
    *,
    outcome: str | Sequence[str],
    unit: str,
    time: str,
    first_treated: str,
    cluster: str | None = None,
    cl: float = 0.95,
) -> pd.DataFrame:
    """Static two-way fixed-effects DiD: y_it = α_i + λ_t + β·D_it + ε_it with D_it = 1{t ≥ first_treated_i}.

    Shown beside :class:`CallawaySantAnna`: under staggered adoption with heterogeneous effects β is a
    weighted average of group-time effects with possibly negative weights (Goodman-Bacon 2021), so it is
    biased for the ATT.

    Parameters
    ----------
    data : DataFrame
        Unit-period panel.
    outcome : str or list of str
    unit, time : str
        Unit and (numeric) period columns.
    first_treated : str
        First treated period of the unit; missing, 0 or inf for never-treated units.
    cluster : str, optional
        Cluster column; default the unit.
    cl : float, default=0.95

    Returns
    -------
    DataFrame
        Tidy rows, ``method`` = ``"TWFE"``; ``n_treated``/``n_control`` count ever- and never-treated units.

    Raises
    ------
    DataContractError
        When a column is missing, ``first_treated`` varies within a unit or marks no unit as treated, or
        the regressor is collinear with the fixed effects.

    References
    ----------
    Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing. Journal of
    Econometrics 225(2), 254–277.

    Examples
    --------
    >>> from progression.evaluation.simulate import staggered_adoption_panel
    >>> panel = staggered_adoption_panel(seed=1)
    >>> twfe(panel, outcome="employed", unit="municipality", time="year", first_treated="adoption_year")[
    ...     ["method", "estimate", "std_error", "n_treated", "n_control"]].round(3)
      method  estimate  std_error  n_treated  n_control
    0   TWFE     0.047      0.006         56         42
    """
    outcomes = chk.as_list(outcome, name="outcome")
    cl = chk.check_level(cl)
    fixed_effects, clusters, never = _panel_inputs(
        data, outcomes=outcomes, unit=unit, time=time, first_treated=first_treated, cluster=cluster
    )
    start = data[first_treated].to_numpy(dtype=float)
    D = (~never & (data[time].to_numpy(dtype=float) >= start)).astype(float)
    n1 = data.loc[~never, unit].nunique()
    n0 = data.loc[never, unit].nunique()
    rows = []
    for name in outcomes:
        Z = _demean(np.column_stack([chk.numeric_values(data, name), D]), fixed_effects)
        params, bse, G = _ols_cluster(Z[:, 0], Z[:, 1:], clusters, ["treated x post"])
        rows.append(
            result_row(
                outcome=name, method="TWFE", estimand="ATT", estimate=params[0], std_error=bse[0],
                n_treated=n1, n_control=n0, cl=cl, df=G - 1,
            )
        )
    return tidy_frame(rows)


def event_study(
    data: pd.DataFrame,
    *,
    outcome: str | Sequence[str],
    unit: str,
    time: str,
    first_treated: str,
    window: tuple[int, int] = (-4, 4),
    reference: int = -1,
    cluster: str | None = None,
    cl: float = 0.95,
) -> pd.DataFrame:
    """Event study: two-way fixed effects with leads and lags of the start.

    y_it = α_i + λ_t + Σ_{k ≠ reference} β_k·1{t − first_treated_i = k} + ε_it, with event times outside
    ``window`` binned into its end points. Leads (k < 0) test parallel pre-trends; lags trace the effect
    over time since start.

    Parameters
    ----------
    data : DataFrame
        Unit-period panel.
    outcome : str or list of str
    unit, time : str
        Unit and (numeric) period columns.
    first_treated : str
        First treated period; missing, 0 or inf for never-treated units.
    window : (int, int), default=(-4, 4)
        First and last event time estimated; earlier/later event times are binned into them.
    reference : int, default=-1
        Omitted event time (β_reference = 0).
    cluster : str, optional
        Cluster column; default the unit.
    cl : float, default=0.95

    Returns
    -------
    DataFrame
        One row per outcome and event time: ``event_time`` then the tidy columns; the reference row has
        estimate 0 and a missing standard error. ``n_treated`` counts units observed at that event time,
        ``n_control`` never-treated units.

    Notes
    -----
    With a single start date (or homogeneous effects) this is the standard dynamic DiD. With staggered
    starts and heterogeneous effects the lags are contaminated by other periods' effects (Sun & Abraham
    2021); use ``CallawaySantAnna(...).aggregate("event")`` instead.

    Raises
    ------
    ParameterError
        When ``window`` is not a pair of integers around ``reference``.
    DataContractError
        As :func:`twfe`.

    References
    ----------
    Sun, L. & Abraham, S. (2021). Estimating dynamic treatment effects in event studies with heterogeneous
    treatment effects. Journal of Econometrics 225(2), 175–199.

    Examples
    --------
    Employment of the citizens who started IPS in the example data and of eligible citizens who never start
    an intervention, around the start (the panel of :func:`~progression.evaluation.trials.event_panel`):

    >>> from progression.datasets import example_trials, load_example
    >>> from progression.evaluation import trials
    >>> frame = example_trials("ips")
    >>> panel = trials.event_panel(frame, person_years=load_example("person_years"),
    ...                            participations=load_example("participations"))
    >>> found = event_study(panel, outcome="employed", unit="person_id", time="year", first_treated="first_treated",
    ...                     window=(-3, 3))
    >>> found[["event_time", "estimate", "std_error", "n_treated"]].round(3)
       event_time  estimate  std_error  n_treated
    0          -3     0.009      0.057         41
    1          -2     0.050      0.067         49
    2          -1     0.000        NaN         58
    3           0     0.060      0.065         61
    4           1     0.229      0.072         61
    5           2     0.167      0.067         61
    6           3     0.228      0.057         61
    """
    outcomes = chk.as_list(outcome, name="outcome")
    cl = chk.check_level(cl)
    low, high = window
    if not (isinstance(low, int) and isinstance(high, int) and low <= reference <= high and low < high):
        raise ParameterError(f"window must be (low, high) integers around reference={reference}; got {window!r}")
    fixed_effects, clusters, never = _panel_inputs(
        data, outcomes=outcomes, unit=unit, time=time, first_treated=first_treated, cluster=cluster
    )
    relative = data[time].to_numpy(dtype=float) - data[first_treated].to_numpy(dtype=float)
    binned = np.clip(np.where(never, np.nan, relative), low, high)
    event_times = [k for k in range(low, high + 1) if k != reference]
    dummies = np.column_stack([(binned == k).astype(float) for k in event_times])
    units = data[unit].to_numpy()
    n0 = len(pd.unique(units[never]))
    rows = []
    for name in outcomes:
        Z = _demean(np.column_stack([chk.numeric_values(data, name), dummies]), fixed_effects)
        params, bse, G = _ols_cluster(Z[:, 0], Z[:, 1:], clusters, [f"event time {k}" for k in event_times])
        for k in range(low, high + 1):
            n1 = len(pd.unique(units[binned == k]))
            if k == reference:
                row = result_row(outcome=name, method="event study (TWFE)", estimand="ATT", estimate=0.0,
                                 std_error=np.nan, n_treated=n1, n_control=n0, cl=cl, conf=(0.0, 0.0))
            else:
                j = event_times.index(k)
                row = result_row(outcome=name, method="event study (TWFE)", estimand="ATT", estimate=params[j],
                                 std_error=bse[j], n_treated=n1, n_control=n0, cl=cl, df=G - 1)
            rows.append({"event_time": k, **row})
    return tidy_frame(rows, extra=["event_time"])
