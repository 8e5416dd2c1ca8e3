"""Shared inference of the estimators: the tidy effect row, influence-function variances and the cluster bootstrap."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from progression._tidy import INTERVAL_COLUMNS, z_value
from progression.exceptions import DataContractError, StatisticalWarning

#: Columns of an effect estimate, in this order: what, how, the estimate with its interval, the test of
#: estimate = 0 and the group sizes it rests on.
EFFECT_COLUMNS = ["outcome", "method", "estimand", *INTERVAL_COLUMNS, "p_value", "n_treated", "n_control"]

SeedLike = int | np.random.Generator | None


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Return a Generator from an int seed, a Generator (used as is) or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def int_seed(seed: SeedLike) -> int:
    """Draw one integer seed (for scikit-learn ``random_state``) from ``seed``."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return int(seed)
    return int(as_generator(seed).integers(2**31 - 1))


def result_row(
    *,
    outcome: str,
    method: str,
    estimand: str,
    estimate: float,
    std_error: float,
    n_treated: int,
    n_control: int,
    cl: float,
    conf: tuple[float, float] | None = None,
    df: float | None = None,
) -> dict:
    """One tidy result row with a Wald interval (normal, or t with ``df``) unless ``conf`` is given.

    The p-value tests estimate = 0 with the same reference distribution.
    """
    dist = stats.norm if df is None else stats.t(df)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = estimate / std_error
    if conf is None:
        crit = z_value(cl) if df is None else dist.ppf(0.5 + cl / 2)
        conf = (estimate - crit * std_error, estimate + crit * std_error)
    return {
        "outcome": outcome,
        "method": method,
        "estimand": estimand,
        "estimate": float(estimate),
        "std_error": float(std_error),
        "conf_low": float(conf[0]),
        "conf_high": float(conf[1]),
        "p_value": float(2 * dist.sf(abs(statistic))) if np.isfinite(statistic) else np.nan,
        "n_treated": int(n_treated),
        "n_control": int(n_control),
    }


def tidy_frame(rows: list[dict], extra: list[str] | None = None) -> pd.DataFrame:
    """Assemble result rows into the tidy frame (identifier columns first, then :data:`EFFECT_COLUMNS`)."""
    columns = (extra or []) + EFFECT_COLUMNS
    return pd.DataFrame(rows, columns=columns)


def cluster_codes(data: pd.DataFrame, cluster: str | None) -> np.ndarray | None:
    """Integer codes of the cluster column (None when observations are independent)."""
    if cluster is None:
        return None
    codes, _ = pd.factorize(data[cluster])
    return codes


def if_variance(phi: np.ndarray, clusters: np.ndarray | None = None) -> np.ndarray:
    """Variance of an estimator from its influence function.

    With θ̂ − θ ≈ (1/n) Σᵢ φᵢ, Var(θ̂) ≈ (1/n²) Σᵢ φᵢ φᵢᵀ; with clusters the φᵢ are summed within each
    cluster first and the result scaled by G/(G−1) (the usual small-sample factor, Cameron & Miller 2015).

    Parameters
    ----------
    phi : ndarray of shape (n,) or (n, k)
        Influence-function values per observation.
    clusters : ndarray of shape (n,), optional
        Integer cluster codes.

    Returns
    -------
    ndarray
        Variance (shape ()) or covariance matrix (k, k).
    """
    phi2 = phi.reshape(phi.shape[0], -1)
    n = phi2.shape[0]
    factor = 1.0
    if clusters is not None:
        n_clusters = int(clusters.max()) + 1
        sums = np.zeros((n_clusters, phi2.shape[1]))
        np.add.at(sums, clusters, phi2)
        phi2 = sums
        factor = n_clusters / (n_clusters - 1) if n_clusters > 1 else np.nan
    cov = factor * (phi2.T @ phi2) / n**2
    return cov[0, 0] if phi.ndim == 1 else cov


def cluster_bootstrap(
    statistic: Callable[[np.ndarray, np.ndarray], np.ndarray],
    *,
    n: int,
    clusters: np.ndarray | None,
    n_boot: int,
    seed: SeedLike,
) -> np.ndarray:
    """Nonparametric bootstrap resampling whole clusters (or single rows) with replacement.

    Parameters
    ----------
    statistic : callable
        ``statistic(rows, boot_clusters) -> ndarray`` of fixed length, where ``rows`` indexes the original
        observations of one replicate and ``boot_clusters`` numbers its drawn clusters (so a statistic that
        splits by cluster, like cross-fitting, keeps the copies of a cluster together).
    n : int
        Number of observations.
    clusters : ndarray of int codes, optional
        Resampling units; single rows when None.
    n_boot : int
        Number of replicates.
    seed : int or numpy.random.Generator

    Returns
    -------
    ndarray of shape (n_ok, k)
        The statistic in each successful replicate. Replicates in which it raises DataContractError (for
        example no treated units drawn) are dropped with a StatisticalWarning.
    """
    rng = as_generator(seed)
    if clusters is None:
        members = [np.array([i]) for i in range(n)]
    else:
        members = list(pd.Series(np.arange(n)).groupby(clusters).indices.values())
    sizes = np.array([len(m) for m in members])
    draws, failed = [], 0
    for _ in range(n_boot):
        chosen = rng.integers(len(members), size=len(members))
        rows = np.concatenate([members[c] for c in chosen])
        boot_clusters = np.repeat(np.arange(len(chosen)), sizes[chosen])
        try:
            draws.append(np.atleast_1d(statistic(rows, boot_clusters)))
        except DataContractError:
            failed += 1
    if failed:
        warnings.warn(
            f"{failed} of {n_boot} bootstrap replicates failed (e.g. no treated or no control units drawn) "
            "and were dropped; the bootstrap distribution may be unreliable",
            StatisticalWarning,
            stacklevel=3,
        )
    if len(draws) < 2:
        raise DataContractError(f"only {len(draws)} of {n_boot} bootstrap replicates succeeded; expected at least 2")
    return np.vstack(draws)
