"""Group-level summaries of change: shares with Wilson intervals, mean change, funnel plots, shrinkage.

Seed 003 advises starting with group averages and comparing municipalities only within comparable
target groups; groups are small (seed 000), so every table carries a ``suppress`` flag for groups
below ``min_group_size`` persons (default 5, the package's disclosure default) and shrinkage
estimators pull small groups toward the overall value.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from progression.exceptions import ParameterError, StatisticalWarning
from progression.recovery.change import CHANGE_CLASSES, _direction_sign, _s_diff
from progression.recovery.instruments import _require_columns

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


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must lie in (0, 1); got {alpha!r}")


def _as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def wilson_interval(successes, n, *, alpha: float = 0.05):
    """Wilson score interval for a binomial proportion (Wilson 1927; Newcombe 1998).

    centre = (x + z^2/2) / (n + z^2), half-width = z sqrt(x(n - x)/n + z^2/4) / (n + z^2).

    Returns
    -------
    tuple of ndarray
        Lower and upper limits (NaN where n = 0).
    """
    _check_alpha(alpha)
    x = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(x < 0) or np.any(x > n):
        raise ParameterError("successes must lie between 0 and n")
    z = stats.norm.ppf(1 - alpha / 2)
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
    alpha: float = 0.05,
    min_group_size: int = 5,
) -> pd.DataFrame:
    """Shares progressing / maintaining / degressing per group with Wilson intervals.

    Citizens with a missing class are left out of the denominator.

    Returns
    -------
    DataFrame
        One row per group x class: the ``by`` columns, ``change_class``, ``n`` (classified citizens in the
        group), ``count``, ``share``, ``conf_low``, ``conf_high`` and ``suppress`` (n < min_group_size).
    """
    keys = _as_list(by)
    _require_columns(changes, {**{f"by[{i}]": k for i, k in enumerate(keys)}, "class_col": class_col}, "group_shares")
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
    counts["conf_low"], counts["conf_high"] = wilson_interval(counts["count"], counts["n"], alpha=alpha)
    counts["suppress"] = counts["n"] < min_group_size
    return counts[keys + ["change_class", "n", "count", "share", "conf_low", "conf_high", "suppress"]].reset_index(drop=True)


def group_mean_change(
    changes: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    value_col: str = "change",
    ci: str = "t",
    B: int = 2000,
    alpha: float = 0.05,
    seed: int | np.random.Generator | None = 0,
    min_group_size: int = 5,
) -> pd.DataFrame:
    """Mean change per group with a t or percentile-bootstrap confidence interval.

    Parameters
    ----------
    ci : {"t", "bootstrap"}, default="t"
        ``"t"``: mean +/- t_{n-1} s / sqrt(n). ``"bootstrap"``: percentile interval of ``B`` resampled
        means per group (citizens resampled with replacement).
    seed : int or Generator, default=0
        Random state of the bootstrap.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``n``, ``mean``, ``std_error``, ``conf_low``, ``conf_high``, ``suppress``.
    """
    keys = _as_list(by)
    _require_columns(changes, {**{f"by[{i}]": k for i, k in enumerate(keys)}, "value_col": value_col},
                     "group_mean_change")
    if ci not in ("t", "bootstrap"):
        raise ParameterError(f"ci must be 't' or 'bootstrap'; got {ci!r}")
    _check_alpha(alpha)
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
            half = stats.t.ppf(1 - alpha / 2, n - 1) * se if n > 1 else np.nan
            low, high = mean - half, mean + half
        else:
            boot = rng.choice(x, size=(B, n), replace=True).mean(axis=1)
            low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(keys, key)), "n": n, "mean": mean, "std_error": se, "conf_low": low, "conf_high": high})
    out = pd.DataFrame(rows, columns=keys + ["n", "mean", "std_error", "conf_low", "conf_high"])
    out["suppress"] = out["n"] < min_group_size
    return out


def funnel_limits(target: float, n, *, levels: Sequence[float] = (0.95, 0.998)) -> pd.DataFrame:
    """Exact binomial funnel-plot control limits for a proportion (Spiegelhalter 2005).

    For each size n and two-sided level L with tail probability p = (1 - L)/2, the limit is
    (r_p - a)/n with r_p the binomial p-quantile and a = (F(r_p) - p)/(F(r_p) - F(r_p - 1)), the
    interpolation that makes the limits smooth in n.

    Returns
    -------
    DataFrame
        ``n``, ``target`` and ``lower_<L>`` / ``upper_<L>`` per level, with L written as a percentage
        (e.g. ``lower_95``, ``upper_99.8``).

    References
    ----------
    Spiegelhalter, D. J. (2005). Funnel plots for comparing institutional performance.
    Statistics in Medicine, 24(8), 1185-1202.
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
    target : float, optional
        The national value; defaults to the pooled share sum(count) / sum(n).

    Returns
    -------
    DataFrame
        ``group_col``, ``n``, ``count``, ``share``, ``target``, limits per level (see
        :func:`funnel_limits`), ``outside_<L>`` flags and ``suppress``.
    """
    _require_columns(table, {"group_col": group_col, "count_col": count_col, "n_col": n_col}, "funnel_data")
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
    alpha: float = 0.05,
    min_group_size: int = 5,
) -> pd.DataFrame:
    """Empirical-Bayes (beta-binomial) shrinkage of group shares.

    The prior p_g ~ Beta(a, b) is fitted by maximising the beta-binomial marginal likelihood
    sum_g log[C(n_g, k_g) B(k_g + a, n_g - k_g + b) / B(a, b)]; each group's posterior is
    Beta(k_g + a, n_g - k_g + b), with mean (k_g + a)/(n_g + a + b) and an equal-tailed interval.

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
    """
    _require_columns(table, {"group_col": group_col, "count_col": count_col, "n_col": n_col}, "shrink_shares")
    _check_alpha(alpha)
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
    out["conf_low"] = stats.beta.ppf(alpha / 2, post_a, post_b)
    out["conf_high"] = stats.beta.ppf(1 - alpha / 2, post_a, post_b)
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
    alpha: float = 0.05,
    min_group_size: int = 5,
) -> pd.DataFrame:
    """Empirical-Bayes (normal-normal) shrinkage of group means, e.g. mean change per municipality.

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
    """
    cols = {"group_col": group_col, "mean_col": mean_col, "se_col": se_col}
    if n_col is not None:
        cols["n_col"] = n_col
    _require_columns(table, cols, "shrink_means")
    _check_alpha(alpha)
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
    z = stats.norm.ppf(1 - alpha / 2)
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
    alpha: float = 0.05,
    B: int = 1000,
    seed: int | np.random.Generator | None = 0,
    min_group_size: int = 5,
) -> pd.DataFrame:
    """Shares whose *true* change lies beyond the reliable-change threshold (normal deconvolution).

    The share of citizens with a reliable change index beyond +/- ``critical`` counts measurement
    error too: with no true change at all, about 2.5 % cross each threshold by chance. Classical test
    theory writes observed change as true change plus an independent error of variance
    S_diff^2 = 2 s_pre^2 (1 - r_xx) (Jacobson & Truax 1991; Lord & Novick 1968). Assuming the true
    change is normal, its mean is the mean observed change mu and its variance
    sigma_T^2 = max(0, s_change^2 - S_diff^2), so with threshold c = critical x S_diff and sign = +1
    when higher is better (-1 otherwise)::

        P(progression) = Phi((sign mu - c) / sigma_T),  P(degression) = Phi((-c - sign mu) / sigma_T).

    Percentile intervals come from ``B`` bootstrap resamples of citizens within each group; S_diff is
    held fixed. The normal assumption is strong when true change has heavy tails (e.g. a few large
    moves): compare with the raw reliable-change shares.

    Returns
    -------
    DataFrame
        One row per group x class: the ``by`` columns, ``change_class``, ``n``, ``share``,
        ``conf_low``, ``conf_high``, ``latent_mean``, ``latent_sd`` and ``suppress``.
    """
    keys = _as_list(by)
    _require_columns(changes, {**{f"by[{i}]": k for i, k in enumerate(keys)}, "value_col": value_col},
                     "latent_change_shares")
    _check_alpha(alpha)
    if B < 1:
        raise ParameterError(f"B must be a positive number of bootstrap resamples; got {B!r}")
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
            low, high = np.quantile(_latent_shares(*_bootstrap_moments(x, B, rng), s_diff, threshold),
                                    [alpha / 2, 1 - alpha / 2], axis=1)
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


def _bootstrap_moments(x: np.ndarray, B: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Means and variances (ddof=1) of ``B`` resamples of ``x``, in chunks of about 2 million draws."""
    n = x.size
    chunk = max(1, 2_000_000 // n)
    means, variances = [], []
    for start in range(0, B, chunk):
        draws = x[rng.integers(0, n, size=(min(chunk, B - start), n))]
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
