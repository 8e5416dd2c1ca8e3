"""Balance and overlap diagnostics for weighting estimators.

References
----------
Austin, P. C. & Stuart, E. A. (2015). Moving towards best practice when using inverse probability of
treatment weighting (IPTW) using the propensity score to estimate causal treatment effects in observational
studies. Statistics in Medicine 34(28), 3661–3679.
Crump, R. K., Hotz, V. J., Imbens, G. W. & Mitnik, O. A. (2009). Dealing with limited overlap in estimation
of average treatment effects. Biometrika 96(1), 187–199.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from progression import _validation as chk
from progression.evaluation.propensity import ESTIMANDS, design_matrix
from progression.exceptions import DataContractError, StatisticalWarning

__all__ = ["balance_table", "effective_sample_size", "overlap_summary", "overlap_problem"]


def _weights(data: pd.DataFrame, weights: str | pd.Series | np.ndarray | None) -> np.ndarray:
    """Weights as a float array aligned with ``data`` (ones when None)."""
    if weights is None:
        return np.ones(len(data))
    if isinstance(weights, str):
        chk.check_columns(data, [weights])
        w = data[weights].to_numpy(dtype=float)
    else:
        w = np.asarray(weights, dtype=float)
    if w.shape != (len(data),):
        raise DataContractError(f"weights have shape {w.shape}; expected one weight per row of data ({len(data)})")
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        raise DataContractError(f"weights must be finite and non-negative; found {int(np.sum(~np.isfinite(w) | (w < 0)))} bad values")
    return w


def _weighted_mean_var(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted mean and (biased) weighted variance."""
    mean = np.average(x, weights=w)
    return float(mean), float(np.average((x - mean) ** 2, weights=w))


def balance_table(
    data: pd.DataFrame,
    *,
    treatment: str,
    covariates: str | Sequence[str],
    weights: str | pd.Series | np.ndarray | None = None,
    estimand: str = "ATT",
) -> pd.DataFrame:
    """Standardised mean differences and variance ratios before and after weighting.

    Parameters
    ----------
    data : DataFrame
    treatment : str
        0/1 column.
    covariates : str or list of str
        Text columns are one-hot encoded (one row per level except the first).
    weights : str, Series or ndarray, optional
        Weights (e.g. from :func:`propensity_weights`); without them the "weighted" columns repeat the
        unweighted ones.
    estimand : {"ATT", "ATE"}, default="ATT"
        Chooses the SMD denominator.

    Returns
    -------
    DataFrame
        One row per design column: ``covariate``, ``mean_treated``, ``mean_control`` (unweighted),
        ``mean_treated_weighted``, ``mean_control_weighted``, ``smd_unweighted``, ``smd_weighted``,
        ``variance_ratio_unweighted``, ``variance_ratio_weighted``.

    Notes
    -----
    SMD = (x̄₁ − x̄₀)/s with the *unweighted* s held fixed before and after weighting, so the change shows the
    change in means: s = s₁ (treated SD) for the ATT and s = √((s₁² + s₀²)/2) for the ATE. The variance ratio
    is s₁²/s₀² (weighted variances after weighting). |SMD| < 0.1 and variance ratios within [0.5, 2] are
    the usual rules of thumb (Austin & Stuart 2015).

    Raises
    ------
    DataContractError
        When a column is missing, ``treatment`` is not 0/1 with both groups, or the weights do not fit.

    References
    ----------
    Austin, P. C. & Stuart, E. A. (2015). Statistics in Medicine 34(28), 3661–3679.

    Examples
    --------
    The trials of IPS on the example data (see :func:`~progression.evaluation.trials.trial_frame`), before
    and after weighting the controls to the starters:

    >>> from progression.datasets import example_trials
    >>> from progression.evaluation import propensity_scores, propensity_weights
    >>> frame = example_trials("ips")
    >>> covariates = ["age", "sex", "severity", "employment_weeks_lag1", "psych_inpatient_days_lag1"]
    >>> e = propensity_scores(frame, treatment="treated", covariates=covariates)
    >>> w = propensity_weights(frame, treatment="treated", propensity=e)
    >>> table = balance_table(frame, treatment="treated", covariates=covariates, weights=w)
    >>> table[["covariate", "smd_unweighted"]].round(2)
                       covariate  smd_unweighted
    0                        age           -0.14
    1                   severity           -0.46
    2      employment_weeks_lag1            0.34
    3  psych_inpatient_days_lag1           -0.18
    4                      sex_M           -0.16
    >>> bool((table["smd_weighted"].abs() < 0.1).all())
    True
    """
    chk.check_frame(data)
    estimand = chk.check_choice(estimand, ESTIMANDS, name="estimand")
    chk.check_columns(data, [treatment])
    chk.check_no_missing(data, [treatment])
    t = chk.binary_values(data, treatment)
    chk.check_both_groups(t, treatment)
    X = design_matrix(data, covariates)
    w = _weights(data, weights)
    rows = []
    for name in X.columns:
        x = X[name].to_numpy()
        m1, v1 = _weighted_mean_var(x[t == 1], np.ones(int(t.sum())))
        m0, v0 = _weighted_mean_var(x[t == 0], np.ones(int((1 - t).sum())))
        m1w, v1w = _weighted_mean_var(x[t == 1], w[t == 1])
        m0w, v0w = _weighted_mean_var(x[t == 0], w[t == 0])
        scale = np.sqrt(v1) if estimand == "ATT" else np.sqrt((v1 + v0) / 2)
        if scale == 0:
            scale = np.sqrt((v1 + v0) / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            rows.append(
                {
                    "covariate": name,
                    "mean_treated": m1,
                    "mean_control": m0,
                    "mean_treated_weighted": m1w,
                    "mean_control_weighted": m0w,
                    "smd_unweighted": (m1 - m0) / scale,
                    "smd_weighted": (m1w - m0w) / scale,
                    "variance_ratio_unweighted": v1 / v0,
                    "variance_ratio_weighted": v1w / v0w,
                }
            )
    return pd.DataFrame(rows)


def effective_sample_size(
    data: pd.DataFrame, *, treatment: str, weights: str | pd.Series | np.ndarray
) -> pd.DataFrame:
    """Kish effective sample size of each group under the weights.

    Parameters
    ----------
    data : DataFrame
    treatment : str
        0/1 column.
    weights : str, Series or ndarray
        Weights (e.g. from :func:`propensity_weights`).

    Returns
    -------
    DataFrame
        Rows ``treated`` and ``control`` with ``n``, ``ess`` = (Σw)²/Σw² and ``ess_share`` = ess/n.

    Raises
    ------
    DataContractError
        When a column is missing or the weights are negative, not finite or do not fit.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"treated": [1, 1, 0, 0, 0], "w": [1.0, 1.0, 1.5, 0.375, 0.167]})
    >>> effective_sample_size(data, treatment="treated", weights="w").round(3)
         group  n    ess  ess_share
    0  treated  2  2.000      1.000
    1  control  3  1.724      0.575
    """
    chk.check_frame(data)
    chk.check_columns(data, [treatment])
    t = chk.binary_values(data, treatment)
    w = _weights(data, weights)
    rows = []
    for label, mask in (("treated", t == 1), ("control", t == 0)):
        wg = w[mask]
        ess = wg.sum() ** 2 / np.sum(wg**2) if wg.size and np.sum(wg**2) > 0 else 0.0
        rows.append({"group": label, "n": int(mask.sum()), "ess": float(ess), "ess_share": float(ess / max(mask.sum(), 1))})
    return pd.DataFrame(rows)


def overlap_problem(
    treated: np.ndarray, propensity: np.ndarray, *, estimand: str, threshold: float, tolerance: float
) -> str | None:
    """Describe poor overlap, or return None.

    For the ATT the treated units with e > 1 − threshold have no comparable controls; for the ATE every
    unit with e outside [threshold, 1 − threshold] is a problem. Overlap is poor when the share of such
    units exceeds ``tolerance``.

    Parameters
    ----------
    treated, propensity : ndarray
        0/1 treatment and propensity score of each unit.
    estimand : {"ATT", "ATE"}
    threshold, tolerance : float
        As in :func:`overlap_summary`.

    Returns
    -------
    str or None
        The warning's message (with what to do), or None when overlap is acceptable.

    References
    ----------
    Crump, R. K., Hotz, V. J., Imbens, G. W. & Mitnik, O. A. (2009). Biometrika 96(1), 187–199.

    Examples
    --------
    >>> import numpy as np
    >>> treated = np.array([1, 1, 0, 0])
    >>> overlap_problem(treated, np.array([0.6, 0.5, 0.2, 0.4]), estimand="ATT", threshold=0.05, tolerance=0.05)
    >>> overlap_problem(treated, np.array([0.97, 0.5, 0.2, 0.4]), estimand="ATT", threshold=0.05, tolerance=0.05)
    'poor propensity overlap for the ATT: 1 treated units (50.0%) have propensity above 0.95 ...'
    """
    if estimand == "ATT":
        extreme = propensity[treated == 1] > 1 - threshold
        who = "treated units"
        where = f"above {1 - threshold:g}"
    else:
        extreme = (propensity < threshold) | (propensity > 1 - threshold)
        who = "units"
        where = f"outside [{threshold:g}, {1 - threshold:g}]"
    share = float(extreme.mean())
    if share <= tolerance:
        return None
    return (
        f"poor propensity overlap for the {estimand}: {int(extreme.sum())} {who} ({share:.1%}) have propensity "
        f"{where} (tolerance {tolerance:.0%}); weights are extreme and the estimate rests on few comparisons. "
        "Consider trim= (Crump et al. 2009), a narrower target population or different covariates"
    )


def overlap_summary(
    data: pd.DataFrame,
    *,
    treatment: str,
    propensity: str | pd.Series,
    estimand: str = "ATT",
    threshold: float = 0.05,
    tolerance: float = 0.05,
) -> pd.DataFrame:
    """Summarise the overlap of propensity scores between treated and controls; warn when it is poor.

    Only means, spreads and shares are reported (no minima, maxima or medians, which can describe a single
    person).

    Parameters
    ----------
    data : DataFrame
    treatment : str
        0/1 column.
    propensity : str or Series
        Propensity column (or Series aligned with ``data``).
    estimand : {"ATT", "ATE"}, default="ATT"
        Which units need comparisons (see Notes).
    threshold : float, default=0.05
        Scores below ``threshold`` or above ``1 − threshold`` count as extreme.
    tolerance : float, default=0.05
        Largest acceptable share of extreme relevant units before warning.

    Returns
    -------
    DataFrame
        Rows ``treated``/``control`` with ``n``, ``mean``, ``sd``, ``share_below``, ``share_above`` and
        ``share_common_support`` (share inside the range where both groups have scores).

    Warns
    -----
    StatisticalWarning
        When overlap is poor: for the ATT, too many treated units with e > 1 − threshold; for the ATE,
        too many units with e outside [threshold, 1 − threshold].

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"treated": [1, 1, 1, 0, 0, 0], "e": [0.8, 0.6, 0.5, 0.5, 0.3, 0.2]})
    >>> overlap_summary(data, treatment="treated", propensity="e").round(3)
         group  n   mean     sd  share_below  share_above  share_common_support
    0  treated  3  0.633  0.153          0.0          0.0                 0.333
    1  control  3  0.333  0.153          0.0          0.0                 0.333
    """
    chk.check_frame(data)
    estimand = chk.check_choice(estimand, ESTIMANDS, name="estimand")
    threshold = chk.check_fraction(threshold, name="threshold")
    tolerance = chk.check_fraction(tolerance, name="tolerance", upper=1.0)
    chk.check_columns(data, [treatment, propensity if isinstance(propensity, str) else None])
    t = chk.binary_values(data, treatment)
    chk.check_both_groups(t, treatment)
    e = (data[propensity] if isinstance(propensity, str) else propensity).to_numpy(dtype=float)
    low = max(e[t == 1].min(), e[t == 0].min())
    high = min(e[t == 1].max(), e[t == 0].max())
    rows = []
    for label, mask in (("treated", t == 1), ("control", t == 0)):
        eg = e[mask]
        rows.append(
            {
                "group": label,
                "n": int(mask.sum()),
                "mean": float(eg.mean()),
                "sd": float(eg.std(ddof=1)) if eg.size > 1 else np.nan,
                "share_below": float(np.mean(eg < threshold)),
                "share_above": float(np.mean(eg > 1 - threshold)),
                "share_common_support": float(np.mean((eg >= low) & (eg <= high))),
            }
        )
    message = overlap_problem(t, e, estimand=estimand, threshold=threshold, tolerance=tolerance)
    if message:
        warnings.warn(message, StatisticalWarning, stacklevel=2)
    return pd.DataFrame(rows)
