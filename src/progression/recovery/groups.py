"""Group-level summaries of change: shares with Wilson intervals, mean change, funnel plots, shrinkage.

Ekspertudvalget på socialområdet (2024, section 6.2) advises starting with the average values of
target groups, where the uncertainty is smaller, and comparing municipalities only within comparable
target groups; VIVE (2024, *Styringsgennemgang af socialpsykiatrien*) warns that the groups are small and
heterogeneous. So every table carries a ``suppress`` flag for groups below ``min_group_size`` persons
(default 5, the package's disclosure default) and shrinkage estimators pull small groups toward the
overall value.

Examples
--------
>>> import pandas as pd
>>> changes = pd.DataFrame({"group": ["a"] * 6 + ["b"] * 4,
...                         "change_class": ["progression", "maintenance"] * 5})
>>> group_shares(changes, by="group")[["group", "change_class", "n", "count", "share"]].head(3)
  group change_class  n  count  share
0     a  progression  6      3    0.5
1     a  maintenance  6      3    0.5
2     a   degression  6      0    0.0
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from progression._tidy import percentile_interval, z_value
from progression._validation import as_list, check_columns, check_level, check_positive_int
from progression.exceptions import ParameterError, StatisticalWarning
from progression.recovery.change import CHANGE_CLASSES, _direction_sign, _s_diff

__all__ = [
    "wilson_interval",
    "group_shares",
    "group_mean_change",
    "funnel_limits",
    "funnel_data",
    "shrink_shares",
    "shrink_means",
    "latent_change_shares",
]


def _keys(by: str | Sequence[str] | None) -> list[str]:
    return [] if by is None else as_list(by, name="by")


def _by_columns(keys: list[str], **columns: str) -> dict[str, str]:
    """The argument -> column mapping of a check: ``by[i]`` for each grouping column, then ``columns``."""
    return {**{f"by[{i}]": k for i, k in enumerate(keys)}, **columns}


def wilson_interval(successes, n, *, cl: float = 0.95):
    """Wilson score interval for a binomial proportion.

    Parameters
    ----------
    successes, n : array-like
        Successes and trials.
    cl : float, default 0.95
        Confidence level.

    Returns
    -------
    tuple of ndarray
        Lower and upper limits (NaN where n = 0).

    Notes
    -----
    centre = (x + z^2/2) / (n + z^2), half-width = z sqrt(x(n - x)/n + z^2/4) / (n + z^2).

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. JASA,
    22, 209-212. Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion.
    Statistics in Medicine, 17, 857-872.

    Examples
    --------
    >>> low, high = wilson_interval(3, 10)
    >>> print(f"{float(low):.4f} {float(high):.4f}")
    0.1078 0.6032
    """
    z = z_value(cl)
    x = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(x < 0) or np.any(x > n):
        raise ParameterError("successes must lie between 0 and n")
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (x + z**2 / 2) / (n + z**2)
        half = z * np.sqrt(x * (n - x) / n + z**2 / 4) / (n + z**2)
        low, high = centre - half, centre + half
    bad = n == 0
    return np.where(bad, np.nan, np.clip(low, 0, 1)), np.where(bad, np.nan, np.clip(high, 0, 1))


def group_shares(
    changes: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    class_col: str = "change_class",
    classes: Sequence[str] = CHANGE_CLASSES,
    cl: float = 0.95,
    min_group_size: int = 5,
) -> pd.DataFrame:
    """Shares progressing / maintaining / degressing per group with Wilson intervals.

    Citizens with a missing class are left out of the denominator.

    Parameters
    ----------
    changes : DataFrame
        One row per citizen with its change class (e.g. :attr:`ReliableChange.changes_`).
    by : str or list of str, optional
        Grouping columns; None for all citizens together.
    class_col : str, default "change_class"
    classes : sequence of str, default :data:`CHANGE_CLASSES`
    cl : float, default 0.95
        Confidence level of the Wilson intervals.
    min_group_size : int, default 5
        Groups with fewer citizens are flagged ``suppress``.

    Returns
    -------
    DataFrame
        One row per group x class: the ``by`` columns, ``change_class``, ``n`` (classified citizens in the
        group), ``count``, ``share``, ``conf_low``, ``conf_high`` and ``suppress`` (n < min_group_size).

    Raises
    ------
    ParameterError
        When ``class_col`` holds a class not in ``classes``.

    Examples
    --------
    >>> import pandas as pd
    >>> changes = pd.DataFrame({"change_class": ["progression"] * 3 + ["maintenance"] * 7})
    >>> group_shares(changes).round(3)[["change_class", "n", "count", "share", "conf_low", "conf_high"]]
      change_class   n  count  share  conf_low  conf_high
    0  progression  10      3    0.3     0.108      0.603
    1  maintenance  10      7    0.7     0.397      0.892
    2   degression  10      0    0.0     0.000      0.278
    """
    keys = _keys(by)
    check_columns(changes, _by_columns(keys, class_col=class_col), name="group_shares")
    data = changes[changes[class_col].notna()]
    unknown = sorted(set(data[class_col].astype(str)) - set(classes))
    if unknown:
        raise ParameterError(f"column {class_col!r} has classes {unknown} not in classes={list(classes)}")
    counts = (
        data.assign(_class=pd.Categorical(data[class_col].astype(str), categories=list(classes)))
        .groupby(keys + ["_class"], observed=False, dropna=False)
        .size()
        .rename("count")
        .reset_index()
        .rename(columns={"_class": "change_class"})
    )
    counts["n"] = counts.groupby(keys, dropna=False)["count"].transform("sum") if keys else counts["count"].sum()
    counts = counts[counts["n"] > 0]
    counts["share"] = counts["count"] / counts["n"]
    counts["conf_low"], counts["conf_high"] = wilson_interval(counts["count"], counts["n"], cl=cl)
    counts["suppress"] = counts["n"] < min_group_size
    return counts[keys + ["change_class", "n", "count", "share", "conf_low", "conf_high", "suppress"]].reset_index(drop=True)


def group_mean_change(
    changes: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    value_col: str = "change",
    ci: str = "t",
    n_boot: int = 2000,
    cl: float = 0.95,
    seed: int | np.random.Generator | None = 0,
    min_group_size: int = 5,
) -> pd.DataFrame:
    """Mean change per group with a t or percentile-bootstrap confidence interval.

    Parameters
    ----------
    changes : DataFrame
        One row per citizen with its change.
    by : str or list of str, optional
        Grouping columns; None for all citizens together.
    value_col : str, default "change"
    ci : {"t", "bootstrap"}, default "t"
        ``"t"``: mean +/- t_{n-1} s / sqrt(n). ``"bootstrap"``: percentile interval of ``n_boot``
        resampled means per group (citizens resampled with replacement).
    n_boot : int, default 2000
        Bootstrap replicates (``ci="bootstrap"``).
    cl : float, default 0.95
        Confidence level.
    seed : int or Generator, default 0
        Random state of the bootstrap.
    min_group_size : int, default 5
        Groups with fewer citizens are flagged ``suppress``.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``n``, ``estimate`` (the mean change), ``std_error``, ``conf_low``,
        ``conf_high``, ``suppress``.

    Examples
    --------
    >>> import pandas as pd
    >>> changes = pd.DataFrame({"change": [1.0, 3.0, 2.0, 6.0, 4.0, 2.0]})
    >>> group_mean_change(changes).round(3)[["n", "estimate", "std_error", "conf_low", "conf_high"]]
       n  estimate  std_error  conf_low  conf_high
    0  6       3.0       0.73     1.123      4.877
    """
    keys = _keys(by)
    check_columns(changes, _by_columns(keys, value_col=value_col), name="group_mean_change")
    if ci not in ("t", "bootstrap"):
        raise ParameterError(f"ci must be 't' or 'bootstrap'; got {ci!r}")
    check_level(cl)
    if ci == "bootstrap":
        check_positive_int(n_boot, name="n_boot")
    rng = np.random.default_rng(seed)
    data = changes[changes[value_col].notna()]
    groups = data.groupby(keys, dropna=False, sort=True) if keys else [((), data)]
    rows = []
    for key, g in groups:
        x = g[value_col].to_numpy(dtype=float)
        n = x.size
        mean = x.mean()
        se = x.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        if ci == "t":
            half = stats.t.ppf(0.5 + cl / 2, n - 1) * se if n > 1 else np.nan
            low, high = mean - half, mean + half
        else:
            boot = rng.choice(x, size=(n_boot, n), replace=True).mean(axis=1)
            low, high = percentile_interval(boot, cl=cl)
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(keys, key)), "n": n, "estimate": mean, "std_error": se, "conf_low": low,
                     "conf_high": high})
    out = pd.DataFrame(rows, columns=keys + ["n", "estimate", "std_error", "conf_low", "conf_high"])
    out["suppress"] = out["n"] < min_group_size
    return out


def funnel_limits(target: float, n, *, levels: Sequence[float] = (0.95, 0.998)) -> pd.DataFrame:
    """Exact binomial funnel-plot control limits for a proportion (Spiegelhalter 2005).

    Parameters
    ----------
    target : float
        The value groups are compared with (e.g. the national share), in (0, 1).
    n : int or array-like
        Group sizes.
    levels : sequence of float, default (0.95, 0.998)
        Two-sided coverage of each pair of limits.

    Returns
    -------
    DataFrame
        ``n``, ``target`` and ``lower_<L>`` / ``upper_<L>`` per level, with L written as a percentage
        (e.g. ``lower_95``, ``upper_99.8``). These are control limits around ``target``, not confidence
        intervals of an estimate.

    Notes
    -----
    For each size n and level L with tail probability p = (1 - L)/2, the limit is (r_p - a)/n with r_p
    the binomial p-quantile and a = (F(r_p) - p)/(F(r_p) - F(r_p - 1)), the interpolation that makes
    the limits smooth in n.

    References
    ----------
    Spiegelhalter, D. J. (2005). Funnel plots for comparing institutional performance.
    Statistics in Medicine, 24(8), 1185-1202.

    Examples
    --------
    >>> funnel_limits(0.2, [10, 100]).round(3)
           n  target  lower_95  upper_95  lower_99.8  upper_99.8
    0   10.0     0.2      0.00     0.429       0.000       0.598
    1  100.0     0.2      0.12     0.276       0.081       0.327
    """
    if not 0 < target < 1:
        raise ParameterError(f"target must lie in (0, 1); got {target!r}")
    n = np.atleast_1d(np.asarray(n, dtype=float))
    if np.any(n < 1):
        raise ParameterError("group sizes n must be at least 1")
    out = pd.DataFrame({"n": n, "target": target})
    for level in levels:
        if not 0 < level < 1:
            raise ParameterError(f"levels must lie in (0, 1); got {level!r}")
        label = f"{100 * level:g}"
        p = (1 - level) / 2
        out[f"lower_{label}"] = _binomial_limit(p, n, target)
        out[f"upper_{label}"] = _binomial_limit(1 - p, n, target)
    return out


def _binomial_limit(p: float, n: np.ndarray, theta: float) -> np.ndarray:
    r = stats.binom.ppf(p, n, theta)
    f_r = stats.binom.cdf(r, n, theta)
    f_below = stats.binom.cdf(r - 1, n, theta)
    a = (f_r - p) / (f_r - f_below)
    return np.clip((r - a) / n, 0.0, 1.0)


def funnel_data(
    table: pd.DataFrame,
    *,
    group_col: str,
    count_col: str = "count",
    n_col: str = "n",
    target: float | None = None,
    levels: Sequence[float] = (0.95, 0.998),
    min_group_size: int = 5,
) -> pd.DataFrame:
    """Per group: share, the national (pooled) value and funnel control limits at the group's size.

    Parameters
    ----------
    table : DataFrame
        One row per group with a count (e.g. citizens progressing) and a size.
    group_col, count_col, n_col : str
        Columns of the group, the count and the size.
    target : float, optional
        The national value; defaults to the pooled share sum(count) / sum(n).
    levels : sequence of float, default (0.95, 0.998)
        Coverage of the limits (:func:`funnel_limits`).
    min_group_size : int, default 5
        Groups with fewer persons are flagged ``suppress``.

    Returns
    -------
    DataFrame
        ``group_col``, ``n``, ``count``, ``share``, ``target``, limits per level (see
        :func:`funnel_limits`), ``outside_<L>`` flags and ``suppress``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"municipality": [101, 147, 751], "count": [30, 12, 80], "n": [100, 50, 120]})
    >>> funnel_data(table, group_col="municipality")[["municipality", "share", "outside_95"]].round(3)
       municipality  share  outside_95
    0           101  0.300        True
    1           147  0.240        True
    2           751  0.667        True
    """
    check_columns(table, {"group_col": group_col, "count_col": count_col, "n_col": n_col}, name="funnel_data")
    if table[group_col].duplicated().any():
        dups = table.loc[table[group_col].duplicated(), group_col].tolist()[:5]
        raise ParameterError(f"funnel_data: column {group_col!r} must have one row per group; repeated: {dups}")
    k = table[count_col].to_numpy(dtype=float)
    n = table[n_col].to_numpy(dtype=float)
    if target is None:
        target = float(k.sum() / n.sum())
    limits = funnel_limits(target, n, levels=levels)
    out = pd.DataFrame({group_col: table[group_col].to_numpy(), "n": n, "count": k, "share": k / n})
    out = pd.concat([out, limits.drop(columns="n")], axis=1)
    for level in levels:
        label = f"{100 * level:g}"
        out[f"outside_{label}"] = (out["share"] < out[f"lower_{label}"]) | (out["share"] > out[f"upper_{label}"])
    out["suppress"] = out["n"] < min_group_size
    return out


def shrink_shares(
    table: pd.DataFrame,
    *,
    group_col: str,
    count_col: str = "count",
    n_col: str = "n",
    cl: float = 0.95,
    min_group_size: int = 5,
) -> pd.DataFrame:
    """Empirical-Bayes (beta-binomial) shrinkage of group shares.

    Parameters
    ----------
    table : DataFrame
        One row per group with a count and a size.
    group_col, count_col, n_col : str
        Columns of the group, the count and the size.
    cl : float, default 0.95
        Level of the posterior intervals.
    min_group_size : int, default 5
        Groups with fewer persons are flagged ``suppress``.

    Returns
    -------
    DataFrame
        ``group_col``, ``n``, ``count``, ``share`` (raw), ``shrunk_share``, ``conf_low``, ``conf_high``
        (posterior interval), ``weight`` (n/(n + a + b), the weight on the group's own share) and
        ``suppress``. ``attrs`` holds ``prior_a``, ``prior_b`` and ``prior_mean``.

    Warns
    -----
    StatisticalWarning
        When the data show little or no between-group variation beyond binomial noise (a + b at its
        upper bound, or every group's own weight below 5 %), so every group is pulled to the pooled share.

    Notes
    -----
    The prior p_g ~ Beta(a, b) is fitted by maximising the beta-binomial marginal likelihood
    sum_g log[C(n_g, k_g) B(k_g + a, n_g - k_g + b) / B(a, b)]; each group's posterior is
    Beta(k_g + a, n_g - k_g + b), with mean (k_g + a)/(n_g + a + b) and an equal-tailed interval.
    The shrunk share is an invertible function of the group's count once (a, b) are known, so where
    the count may not be shown, neither may the shrunk share.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"g": list("abcd"), "count": [2, 30, 8, 45], "n": [10, 60, 40, 50]})
    >>> shrink_shares(table, group_col="g")[["g", "share", "shrunk_share", "weight"]].round(3)
       g  share  shrunk_share  weight
    0  a    0.2         0.259   0.789
    1  b    0.5         0.499   0.957
    2  c    0.2         0.218   0.937
    3  d    0.9         0.879   0.949
    """
    check_columns(table, {"group_col": group_col, "count_col": count_col, "n_col": n_col}, name="shrink_shares")
    tail = (1 - check_level(cl)) / 2
    k = table[count_col].to_numpy(dtype=float)
    n = table[n_col].to_numpy(dtype=float)
    if np.any(k < 0) or np.any(k > n) or np.any(n <= 0):
        raise ParameterError(f"shrink_shares: need 0 <= {count_col} <= {n_col} and {n_col} > 0 in every row")
    if len(k) < 2:
        raise ParameterError(f"shrink_shares: need at least 2 groups; got {len(k)}")
    a, b, at_bound = _fit_beta_binomial(k, n)
    if at_bound or np.all(n / (n + a + b) < 0.05):
        warnings.warn("shrink_shares: little or no between-group variation beyond binomial noise was found; every "
                      "group is shrunk (almost) to the pooled share", StatisticalWarning, stacklevel=2)
    post_a, post_b = k + a, n - k + b
    out = pd.DataFrame({group_col: table[group_col].to_numpy(), "n": n, "count": k, "share": k / n})
    out["shrunk_share"] = post_a / (post_a + post_b)
    out["conf_low"] = stats.beta.ppf(tail, post_a, post_b)
    out["conf_high"] = stats.beta.ppf(1 - tail, post_a, post_b)
    out["weight"] = n / (n + a + b)
    out["suppress"] = out["n"] < min_group_size
    out.attrs.update({"prior_a": a, "prior_b": b, "prior_mean": a / (a + b)})
    return out


_MAX_LOG_PRECISION = np.log(1e7)


def _fit_beta_binomial(k: np.ndarray, n: np.ndarray) -> tuple[float, float, bool]:
    """ML fit of Beta(a, b) in the parametrisation mean m = a/(a+b), precision s = a + b."""
    pooled = np.clip(k.sum() / n.sum(), 1e-6, 1 - 1e-6)

    def negloglik(theta):
        m = special.expit(theta[0])
        s = np.exp(theta[1])
        a, b = m * s, (1 - m) * s
        return -np.sum(special.betaln(k + a, n - k + b) - special.betaln(a, b))

    start = np.array([special.logit(pooled), np.log(10.0)])
    res = optimize.minimize(negloglik, start, method="L-BFGS-B",
                            bounds=[(-15, 15), (np.log(1e-3), _MAX_LOG_PRECISION)])
    m, s = special.expit(res.x[0]), np.exp(res.x[1])
    return m * s, (1 - m) * s, bool(res.x[1] >= _MAX_LOG_PRECISION - 1e-3)


def shrink_means(
    table: pd.DataFrame,
    *,
    group_col: str,
    mean_col: str = "mean",
    se_col: str = "std_error",
    n_col: str | None = "n",
    cl: float = 0.95,
    min_group_size: int = 5,
) -> pd.DataFrame:
    """Empirical-Bayes (normal-normal) shrinkage of group means, e.g. mean change per municipality.

    Parameters
    ----------
    table : DataFrame
        One row per group with its mean and standard error (at least 3 groups).
    group_col, mean_col, se_col : str
        Columns of the group, its mean and the mean's standard error.
    n_col : str or None, default "n"
        Column of the group size (for the ``suppress`` flag), or None.
    cl : float, default 0.95
        Level of the posterior intervals.
    min_group_size : int, default 5
        Groups with fewer persons are flagged ``suppress``.

    Notes
    -----
    Model: ybar_g ~ N(theta_g, se_g^2), theta_g ~ N(mu, tau^2). tau^2 is estimated by the
    DerSimonian-Laird moment estimator, mu by the precision-weighted mean with weights
    1/(se_g^2 + tau^2); the posterior of theta_g has mean mu + B_g (ybar_g - mu) with
    B_g = tau^2/(tau^2 + se_g^2) and variance B_g se_g^2 (uncertainty in mu and tau^2 ignored).

    Returns
    -------
    DataFrame
        ``group_col``, ``n`` (when ``n_col`` is given), ``mean``, ``std_error``, ``shrunk_mean``,
        ``conf_low``, ``conf_high``, ``weight`` (B_g) and ``suppress``. ``attrs`` holds ``mu`` and
        ``tau2``.

    References
    ----------
    DerSimonian, R., & Laird, N. (1986). Meta-analysis in clinical trials. Controlled Clinical Trials,
    7(3), 177-188. Efron, B., & Morris, C. (1975). Data analysis using Stein's estimator and its
    generalizations. JASA, 70, 311-319.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"g": list("abcd"), "mean": [1.0, 3.0, -1.0, 2.0], "std_error": [0.5, 1.0, 2.0, 0.4],
    ...                       "n": [40, 10, 5, 60]})
    >>> shrink_means(table, group_col="g")[["g", "mean", "shrunk_mean", "weight"]].round(3)
       g  mean  shrunk_mean  weight
    0  a   1.0        1.228   0.647
    1  b   3.0        2.070   0.314
    2  c  -1.0        1.374   0.103
    3  d   2.0        1.908   0.741
    """
    cols = {"group_col": group_col, "mean_col": mean_col, "se_col": se_col}
    if n_col is not None:
        cols["n_col"] = n_col
    check_columns(table, cols, name="shrink_means")
    z = z_value(cl)
    y = table[mean_col].to_numpy(dtype=float)
    se = table[se_col].to_numpy(dtype=float)
    bad = ~np.isfinite(y) | ~np.isfinite(se) | (se <= 0)
    if bad.any():
        ids = table.loc[bad, group_col].tolist()[:5]
        raise ParameterError(
            f"shrink_means: {int(bad.sum())} group(s) have a missing mean or a non-positive standard error "
            f"(e.g. groups of one citizen): {ids}; drop or merge them first"
        )
    if len(y) < 3:
        raise ParameterError(f"shrink_means: need at least 3 groups to estimate tau^2; got {len(y)}")
    w = 1 / se**2
    ybar_fixed = np.sum(w * y) / w.sum()
    q = np.sum(w * (y - ybar_fixed) ** 2)
    tau2 = max(0.0, (q - (len(y) - 1)) / (w.sum() - np.sum(w**2) / w.sum()))
    w_star = 1 / (se**2 + tau2)
    mu = float(np.sum(w_star * y) / w_star.sum())
    shrink = tau2 / (tau2 + se**2)
    post_mean = mu + shrink * (y - mu)
    post_sd = np.sqrt(shrink * se**2)
    out = pd.DataFrame({group_col: table[group_col].to_numpy()})
    if n_col is not None:
        out["n"] = table[n_col].to_numpy()
    out["mean"], out["std_error"], out["shrunk_mean"] = y, se, post_mean
    out["conf_low"], out["conf_high"] = post_mean - z * post_sd, post_mean + z * post_sd
    out["weight"] = shrink
    out["suppress"] = (out["n"] < min_group_size) if n_col is not None else False
    if tau2 == 0:
        warnings.warn("shrink_means: estimated between-group variance is 0; all groups are shrunk to the overall mean",
                      StatisticalWarning, stacklevel=2)
    out.attrs.update({"mu": mu, "tau2": tau2})
    return out


def latent_change_shares(
    changes: pd.DataFrame,
    *,
    sd_pre: float,
    reliability: float,
    critical: float = 1.96,
    direction: str = "higher_better",
    by: str | Sequence[str] | None = None,
    value_col: str = "change",
    cl: float = 0.95,
    n_boot: int = 1000,
    seed: int | np.random.Generator | None = 0,
    min_group_size: int = 5,
) -> pd.DataFrame:
    """Shares whose *true* change lies beyond the reliable-change threshold (normal deconvolution).

    Parameters
    ----------
    changes : DataFrame
        One row per citizen with its change (post - pre).
    sd_pre, reliability : float
        Baseline standard deviation and reliability r_xx of the instrument.
    critical : float, default 1.96
        The reliable change index beyond which change is reliable.
    direction : {"higher_better", "lower_better"}, default "higher_better"
    by : str or list of str, optional
        Grouping columns.
    value_col : str, default "change"
    cl : float, default 0.95
        Level of the percentile intervals.
    n_boot : int, default 1000
        Bootstrap resamples of citizens within each group.
    seed : int or Generator, default 0
    min_group_size : int, default 5
        Groups with fewer citizens are flagged ``suppress``.

    Notes
    -----
    The share of citizens with a reliable change index beyond +/- ``critical`` counts measurement
    error too: with no true change at all, about 2.5 % cross each threshold by chance. Classical test
    theory writes observed change as true change plus an independent error of variance
    S_diff^2 = 2 s_pre^2 (1 - r_xx) (Jacobson & Truax 1991; Lord & Novick 1968). Assuming the true
    change is normal, its mean is the mean observed change mu and its variance
    sigma_T^2 = max(0, s_change^2 - S_diff^2), so with threshold c = critical x S_diff and sign = +1
    when higher is better (-1 otherwise)::

        P(progression) = Phi((sign mu - c) / sigma_T),  P(degression) = Phi((-c - sign mu) / sigma_T).

    Percentile intervals come from ``n_boot`` bootstrap resamples of citizens within each group; S_diff is
    held fixed. The normal assumption is strong when true change has heavy tails (e.g. a few large
    moves): compare with the raw reliable-change shares.

    Returns
    -------
    DataFrame
        One row per group x class: the ``by`` columns, ``change_class``, ``n``, ``share``,
        ``conf_low``, ``conf_high``, ``latent_mean``, ``latent_sd`` and ``suppress``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> changes = pd.DataFrame({"change": rng.normal(2.0, 5.0, 500)})
    >>> out = latent_change_shares(changes, sd_pre=5.0, reliability=0.9, n_boot=200)
    >>> out[["change_class", "share"]].round(2)
      change_class  share
    0  progression   0.26
    1  maintenance   0.68
    2   degression   0.06
    """
    keys = _keys(by)
    check_columns(changes, _by_columns(keys, value_col=value_col), name="latent_change_shares")
    check_level(cl)
    check_positive_int(n_boot, name="n_boot")
    sign = _direction_sign(direction)
    s_diff = _s_diff(sd_pre, reliability)
    threshold = critical * s_diff
    rng = np.random.default_rng(seed)
    data = changes[changes[value_col].notna()]
    groups = data.groupby(keys, dropna=False, sort=True) if keys else [((), data)]
    rows = []
    for key, g in groups:
        x = sign * g[value_col].to_numpy(dtype=float)
        mean, var = x.mean(), (x.var(ddof=1) if x.size > 1 else np.nan)
        point = _latent_shares(np.array([mean]), np.array([var]), s_diff, threshold)[:, 0]
        if x.size > 1:
            low, high = percentile_interval(_latent_shares(*_bootstrap_moments(x, n_boot, rng), s_diff, threshold),
                                            cl=cl, axis=1)
        else:
            low = high = np.full(len(CHANGE_CLASSES), np.nan)
        key = key if isinstance(key, tuple) else (key,)
        latent_sd = np.sqrt(max(0.0, var - s_diff**2)) if x.size > 1 else np.nan
        for j, cls in enumerate(CHANGE_CLASSES):
            rows.append({**dict(zip(keys, key)), "change_class": cls, "n": x.size, "share": point[j],
                         "conf_low": low[j], "conf_high": high[j], "latent_mean": sign * mean,
                         "latent_sd": latent_sd})
    out = pd.DataFrame(rows, columns=keys + ["change_class", "n", "share", "conf_low", "conf_high", "latent_mean",
                                             "latent_sd"])
    out["suppress"] = out["n"] < min_group_size
    out.attrs.update({"s_diff": s_diff, "threshold": threshold})
    return out


def _bootstrap_moments(x: np.ndarray, n_boot: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Means and variances (ddof=1) of ``n_boot`` resamples of ``x``, in chunks of about 2 million draws."""
    n = x.size
    chunk = max(1, 2_000_000 // n)
    means, variances = [], []
    for start in range(0, n_boot, chunk):
        draws = x[rng.integers(0, n, size=(min(chunk, n_boot - start), n))]
        means.append(draws.mean(axis=1))
        variances.append(draws.var(axis=1, ddof=1))
    return np.concatenate(means), np.concatenate(variances)


def _latent_shares(mean: np.ndarray, var: np.ndarray, s_diff: float, threshold: float) -> np.ndarray:
    """Progression / maintenance / degression shares (rows) under N(mean, var - s_diff^2) true change."""
    sd = np.sqrt(np.clip(var - s_diff**2, 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        prog = np.where(sd > 0, stats.norm.cdf((mean - threshold) / sd), (mean > threshold).astype(float))
        degr = np.where(sd > 0, stats.norm.cdf((-threshold - mean) / sd), (mean < -threshold).astype(float))
    prog = np.where(np.isnan(var), np.nan, prog)
    degr = np.where(np.isnan(var), np.nan, degr)
    return np.vstack([prog, 1 - prog - degr, degr])
