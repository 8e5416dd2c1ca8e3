"""Closed forms for the power of a pilot: parallel cluster trials and the stepped wedge.

Everything is on the normal approximation and in standard-deviation units of the outcome: a call
with ``sd=1`` gives effects in SDs, and ``sd`` (for a proportion p: √(p(1 − p))) puts them on the
outcome's scale. The test is two-sided at level 1 − ``cl``.

* Parallel cluster-randomised trial (two arms, equal allocation): the variance of the difference in
  means is 2σ²·DE / (k·m) with the design effect DE = 1 + ((1 + cv²)·m − 1)·ρ for k clusters per arm of
  mean size m, intracluster correlation ρ and coefficient of variation cv of the cluster sizes
  (Donner & Klar 2000; Eldridge, Ashby & Kerry 2006; cv = 0 gives the familiar 1 + (m − 1)ρ).
* Cross-sectional stepped wedge (Hussey & Hughes 2007): I clusters, S steps and T = S + 1 periods, the
  first all control, I/S clusters crossing over at each step, m new persons per cluster and period;
  with cluster-period means of variance σ_c² = σ²(1 − ρ)/m and a cluster effect of variance τ² = σ²ρ,

      Var(θ̂) = I σ_c² (σ_c² + T τ²) / [(I U − W) σ_c² + (U² + I T U − T W − I V) τ²],

  U = Σ_ij X_ij, W = Σ_j (Σ_i X_ij)², V = Σ_i (Σ_j X_ij)² for the treatment matrix X.
* :func:`gls_effect_variance` computes the variance of the treatment effect of *any* design (parallel,
  stepped wedge, staggered adoption with never-treated units, unequal cluster-period sizes, a cluster
  autocorrelation below 1) directly from the generalised least squares normal equations, and that of
  the two-way fixed-effects estimator (cluster and period fixed effects, OLS on the cluster-period
  means) as a sandwich. It is the independent check of the closed forms and the closed form of what
  the simulation's estimators do.

Power = Φ(|θ|/se − z) + Φ(−|θ|/se − z) with z = Φ⁻¹(1/2 + cl/2); the minimum detectable effect is
(z + Φ⁻¹(power))·se (the far tail is neglected there, as usual).

References
----------
Donner, A. & Klar, N. (2000). Design and Analysis of Cluster Randomization Trials in Health Research.
Arnold, ch. 5.
Eldridge, S. M., Ashby, D. & Kerry, S. (2006). Sample size for cluster randomized trials: effect of
coefficient of variation of cluster size and analysis method. International Journal of Epidemiology
35(5), 1292–1300.
Hussey, M. A. & Hughes, J. P. (2007). Design and analysis of stepped wedge cluster randomized trials.
Contemporary Clinical Trials 28(2), 182–191.
Hooper, R., Teerenstra, S., de Hoop, E. & Eldridge, S. (2016). Sample size calculation for stepped wedge
and other longitudinal cluster randomised trials. Statistics in Medicine 35(26), 4718–4728.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from progression import _validation as chk
from progression._tidy import z_value
from progression.exceptions import ParameterError

__all__ = [
    "design_effect", "cluster_variance", "cluster_mde", "cluster_power", "clusters_needed", "persons_needed",
    "stepped_wedge_design", "parallel_design", "staggered_design", "stepped_wedge_variance", "stepped_wedge_mde",
    "stepped_wedge_power", "stepped_wedge_clusters_needed", "stepped_wedge_persons_needed",
    "gls_effect_variance", "power_from_se", "mde_from_se",
]


# ------------------------------------------------------------------------------------------
# checks and the normal approximation
# ------------------------------------------------------------------------------------------

def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value <= 0:
        raise ParameterError(f"{name} must be a positive number; got {value!r}")
    return float(value)


def _icc(icc) -> float:
    if isinstance(icc, bool) or not isinstance(icc, (int, float, np.integer, np.floating)) or not 0 <= icc < 1:
        raise ParameterError(f"icc must be an intracluster correlation in [0, 1); got {icc!r}")
    return float(icc)


def _power_target(power) -> float:
    if isinstance(power, bool) or not isinstance(power, (int, float)) or not 0 < power < 1:
        raise ParameterError(f"power must be a probability in (0, 1); got {power!r}")
    return float(power)


def power_from_se(effect, std_error, *, cl: float = 0.95, df: float | None = None):
    """Two-sided power of a Wald test of an effect with the given standard error.

    Power = Φ(|θ|/se − z) + Φ(−|θ|/se − z), z = Φ⁻¹(1/2 + cl/2); with ``df`` the critical value is
    the t quantile with ``df`` degrees of freedom (as for a test with cluster-robust standard errors
    and G − 1 degrees of freedom), the rest unchanged. Arrays broadcast.

    Parameters
    ----------
    effect, std_error : float or array-like
        True effect θ and the estimator's standard error, on the same scale.
    cl : float, default=0.95
        Confidence level; the test is at level 1 − cl.
    df : float, optional
        Degrees of freedom of a t test; None for the normal test.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> print(f"{power_from_se(1.2, (2 / 10) ** 0.5):.4f}")
    0.7653
    """
    z = z_value(cl) if df is None else float(stats.t.ppf(0.5 + chk.check_level(cl) / 2, df))
    ratio = np.abs(np.asarray(effect, dtype=float)) / np.asarray(std_error, dtype=float)
    out = stats.norm.cdf(ratio - z) + stats.norm.cdf(-ratio - z)
    return float(out) if np.ndim(out) == 0 else out


def mde_from_se(std_error, *, cl: float = 0.95, power: float = 0.8):
    """Minimum detectable effect (z_{1−α/2} + z_power)·se of a Wald test with standard error ``se``.

    Parameters
    ----------
    std_error : float or array-like
    cl : float, default=0.95
    power : float, default=0.8

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> print(f"{mde_from_se(0.1):.4f}")
    0.2802
    """
    multiplier = z_value(cl) + stats.norm.ppf(_power_target(power))
    out = multiplier * np.asarray(std_error, dtype=float)
    return float(out) if np.ndim(out) == 0 else out


# ------------------------------------------------------------------------------------------
# parallel cluster-randomised trial
# ------------------------------------------------------------------------------------------

def design_effect(cluster_size: float, icc: float, *, cv: float = 0.0) -> float:
    """Design effect 1 + ((1 + cv²)·m − 1)·ρ of a cluster-randomised comparison of means.

    Parameters
    ----------
    cluster_size : float
        Mean number of persons per cluster, m.
    icc : float
        Intracluster correlation ρ in [0, 1).
    cv : float, default=0
        Coefficient of variation of the cluster sizes (Eldridge, Ashby & Kerry 2006).

    Returns
    -------
    float

    Examples
    --------
    >>> design_effect(10, 0.017)
    1.153
    """
    m = _positive(cluster_size, "cluster_size")
    rho = _icc(icc)
    if not cv >= 0:
        raise ParameterError(f"cv must be a coefficient of variation >= 0; got {cv!r}")
    return round(1 + ((1 + cv ** 2) * m - 1) * rho, 12)


def cluster_variance(n_clusters_per_arm: float, cluster_size: float, icc: float, *, sd: float = 1.0,
                     cv: float = 0.0) -> float:
    """Variance 2σ²·DE/(k·m) of the difference in means of a two-arm cluster-randomised trial.

    Parameters
    ----------
    n_clusters_per_arm : float
        Clusters per arm, k.
    cluster_size : float
        Mean persons per cluster, m.
    icc : float
        Intracluster correlation.
    sd : float, default=1
        Standard deviation of the outcome across persons (total: between + within clusters).
    cv : float, default=0
        Coefficient of variation of the cluster sizes.

    Returns
    -------
    float

    Examples
    --------
    >>> print(f"{cluster_variance(10, 5, 0.04 / 0.29, sd=0.29 ** 0.5):.4f}")
    0.0180
    """
    k = _positive(n_clusters_per_arm, "n_clusters_per_arm")
    m = _positive(cluster_size, "cluster_size")
    sd = _positive(sd, "sd")
    return 2 * sd ** 2 * design_effect(m, icc, cv=cv) / (k * m)


def cluster_mde(n_clusters_per_arm: float, cluster_size: float, icc: float, *, cl: float = 0.95,
                power: float = 0.8, sd: float = 1.0, cv: float = 0.0) -> float:
    """Minimum detectable difference in means of a two-arm cluster-randomised trial.

    MDE = (z_{1−α/2} + z_power)·√(2σ²·DE/(k·m)), DE = 1 + ((1 + cv²)·m − 1)·ρ, α = 1 − cl.

    Parameters
    ----------
    n_clusters_per_arm : float
        Clusters (municipalities) per arm, k; equal allocation.
    cluster_size : float
        Mean persons per cluster, m.
    icc : float
        Intracluster correlation ρ in [0, 1).
    cl : float, default=0.95
        Confidence level; the two-sided test is at level α = 1 − cl.
    power : float, default=0.8
    sd : float, default=1
        Outcome standard deviation (1: the MDE in SDs; for a proportion p, √(p(1 − p))).
    cv : float, default=0
        Coefficient of variation of the cluster sizes.

    Returns
    -------
    float

    Raises
    ------
    ParameterError
        When an argument is out of range (naming it).

    References
    ----------
    Donner & Klar (2000), ch. 5; Eldridge, Ashby & Kerry (2006).

    Examples
    --------
    A proportion of 10 % (sd = 0.3), 10 municipalities per arm of 50 citizens, ICC 0.02:

    >>> print(f"{cluster_mde(10, 50, 0.02, sd=0.3):.4f}")
    0.0748
    """
    return mde_from_se(math.sqrt(cluster_variance(n_clusters_per_arm, cluster_size, icc, sd=sd, cv=cv)),
                       cl=cl, power=power)


def cluster_power(effect: float, n_clusters_per_arm: float, cluster_size: float, icc: float, *,
                  cl: float = 0.95, sd: float = 1.0, cv: float = 0.0) -> float:
    """Power of a two-arm cluster-randomised trial to detect a difference in means ``effect``.

    Parameters
    ----------
    effect : float
        Difference in means on the outcome's scale (in SDs when ``sd=1``).
    n_clusters_per_arm, cluster_size, icc, cl, sd, cv :
        As in :func:`cluster_mde`.

    Returns
    -------
    float

    Examples
    --------
    Two groups of 10 persons, effect 1.2 SD (SteppedPower's z-test example, 0.7652593):

    >>> print(f"{cluster_power(1.2, 10, 1, 0.0):.7f}")
    0.7652593
    """
    se = math.sqrt(cluster_variance(n_clusters_per_arm, cluster_size, icc, sd=sd, cv=cv))
    return power_from_se(effect, se, cl=cl)


def clusters_needed(effect: float, cluster_size: float, icc: float, *, cl: float = 0.95, power: float = 0.8,
                    sd: float = 1.0, cv: float = 0.0) -> int:
    """Clusters per arm for a two-arm cluster-randomised trial to reach ``power`` (rounded up).

    k = 2σ²·DE·(z_{1−α/2} + z_power)² / (m·θ²).

    Parameters
    ----------
    effect : float
        Difference in means to detect, θ (on the outcome's scale; in SDs when ``sd=1``).
    cluster_size, icc, cl, power, sd, cv :
        As in :func:`cluster_mde`.

    Returns
    -------
    int

    Raises
    ------
    ParameterError
        When an argument is out of range (naming it).

    Examples
    --------
    >>> clusters_needed(0.05, 50, 0.02, sd=0.3)
    23
    """
    theta = _positive(abs(effect), "effect (absolute value)")
    m = _positive(cluster_size, "cluster_size")
    multiplier = z_value(cl) + stats.norm.ppf(_power_target(power))
    k = 2 * _positive(sd, "sd") ** 2 * design_effect(m, icc, cv=cv) * multiplier ** 2 / (m * theta ** 2)
    return int(math.ceil(k - 1e-9))


def persons_needed(effect: float, n_clusters_per_arm: float, icc: float, *, cl: float = 0.95, power: float = 0.8,
                   sd: float = 1.0, cv: float = 0.0) -> float:
    """Mean persons per cluster for a two-arm cluster trial with ``n_clusters_per_arm`` clusters per arm.

    Solves 2σ²[(1 − ρ)/m + ρ(1 + cv²)]/k = (θ/(z_{1−α/2} + z_power))² for m, rounded up. With too few
    clusters no cluster size suffices (the between-cluster variance alone exceeds the target): then
    ``inf``.

    Parameters
    ----------
    effect : float
        Difference in means to detect, θ.
    n_clusters_per_arm : float
        Clusters per arm, k.
    icc, cl, power, sd, cv :
        As in :func:`cluster_mde`.

    Returns
    -------
    float
        Persons per cluster (a whole number), or ``inf``.

    Raises
    ------
    ParameterError
        When an argument is out of range (naming it).

    Examples
    --------
    >>> persons_needed(0.05, 23, 0.02, sd=0.3)
    48.0
    >>> persons_needed(0.05, 3, 0.02, sd=0.3)
    inf
    """
    theta = _positive(abs(effect), "effect (absolute value)")
    k = _positive(n_clusters_per_arm, "n_clusters_per_arm")
    rho = _icc(icc)
    multiplier = z_value(cl) + stats.norm.ppf(_power_target(power))
    target = (theta / multiplier) ** 2
    room = k * target / (2 * _positive(sd, "sd") ** 2) - rho * (1 + cv ** 2)
    if room <= 0:
        return math.inf
    return float(math.ceil((1 - rho) / room - 1e-9))


# ------------------------------------------------------------------------------------------
# designs as treatment matrices
# ------------------------------------------------------------------------------------------

def stepped_wedge_design(n_clusters: int, n_steps: int) -> np.ndarray:
    """Treatment matrix (clusters × periods) of a standard stepped wedge: n_steps + 1 periods, the
    first all control, the clusters spread as evenly as possible over the steps (earlier steps take
    the remainder).

    Parameters
    ----------
    n_clusters : int
        Clusters (at least ``n_steps``).
    n_steps : int
        Steps at which clusters cross over.

    Returns
    -------
    ndarray of int, shape (n_clusters, n_steps + 1)

    Raises
    ------
    ParameterError
        When there are fewer clusters than steps.

    Examples
    --------
    >>> stepped_wedge_design(4, 2)
    array([[0, 1, 1],
           [0, 1, 1],
           [0, 0, 1],
           [0, 0, 1]])
    """
    n_clusters = chk.check_positive_int(n_clusters, name="n_clusters")
    n_steps = chk.check_positive_int(n_steps, name="n_steps")
    if n_clusters < n_steps:
        raise ParameterError(f"n_clusters ({n_clusters}) must be at least n_steps ({n_steps}): every step needs "
                             "a cluster crossing over")
    per_step = np.full(n_steps, n_clusters // n_steps)
    per_step[: n_clusters % n_steps] += 1
    start = np.repeat(np.arange(1, n_steps + 1), per_step)
    return (np.arange(n_steps + 1)[None, :] >= start[:, None]).astype(int)


def parallel_design(n_clusters_per_arm: int, n_periods: int = 1, *, start: int = 0) -> np.ndarray:
    """Treatment matrix of a parallel cluster trial: the first half of the clusters treated from period
    ``start`` on, the second half never.

    Parameters
    ----------
    n_clusters_per_arm : int
    n_periods : int, default=1
    start : int, default=0
        First treated period (0-based).

    Returns
    -------
    ndarray of int, shape (2 · n_clusters_per_arm, n_periods)

    Raises
    ------
    ParameterError
        When ``start`` is not a period of the design.

    Examples
    --------
    >>> parallel_design(2, 3, start=1)
    array([[0, 1, 1],
           [0, 1, 1],
           [0, 0, 0],
           [0, 0, 0]])
    """
    k = chk.check_positive_int(n_clusters_per_arm, name="n_clusters_per_arm")
    n_periods = chk.check_positive_int(n_periods, name="n_periods")
    if not 0 <= start < n_periods:
        raise ParameterError(f"start must be a period in 0…{n_periods - 1}; got {start!r}")
    treated = (np.arange(n_periods) >= start).astype(int)
    return np.vstack([np.tile(treated, (k, 1)), np.zeros((k, n_periods), dtype=int)])


def staggered_design(first_treated, n_periods: int) -> np.ndarray:
    """Treatment matrix of staggered adoption: cluster i treated from period ``first_treated[i]`` on
    (0-based; ``inf``, NaN or a value ≥ n_periods for never-treated clusters).

    Parameters
    ----------
    first_treated : sequence of float
        First treated period of each cluster.
    n_periods : int

    Returns
    -------
    ndarray of int, shape (len(first_treated), n_periods)

    Raises
    ------
    ParameterError
        When ``first_treated`` is empty, not one-dimensional or holds a negative period.

    Examples
    --------
    >>> staggered_design([1, 2, float("inf")], 3)
    array([[0, 1, 1],
           [0, 0, 1],
           [0, 0, 0]])
    """
    n_periods = chk.check_positive_int(n_periods, name="n_periods")
    start = np.asarray(first_treated, dtype=float)
    if start.ndim != 1 or start.size == 0:
        raise ParameterError("first_treated must be a non-empty one-dimensional sequence of periods")
    start = np.where(np.isnan(start), np.inf, start)
    if (start < 0).any():
        raise ParameterError(f"first_treated must be periods >= 0 (or inf for never); found {start[start < 0][:3]}")
    return (np.arange(n_periods)[None, :] >= start[:, None]).astype(int)


def _treatment_matrix(treatment) -> np.ndarray:
    X = np.asarray(treatment, dtype=float)
    if X.ndim != 2 or X.size == 0 or not np.isin(X, (0.0, 1.0)).all():
        raise ParameterError("treatment must be a clusters × periods matrix of 0/1 (see stepped_wedge_design)")
    if X.min() == X.max():
        raise ParameterError("treatment must have treated and untreated cluster-periods; it is all "
                             f"{int(X.flat[0])}")
    return X


# ------------------------------------------------------------------------------------------
# stepped wedge (Hussey & Hughes 2007)
# ------------------------------------------------------------------------------------------

def stepped_wedge_variance(n_clusters: int, n_steps: int, cluster_size: float, icc: float, *,
                           sd: float = 1.0, treatment=None) -> float:
    """Variance of the treatment effect of a cross-sectional stepped wedge (Hussey & Hughes 2007).

    Parameters
    ----------
    n_clusters : int
        Clusters I (municipalities).
    n_steps : int
        Steps S; the trial has S + 1 periods, the first all control.
    cluster_size : float
        New persons per cluster and period, m.
    icc : float
        Intracluster correlation ρ (between-cluster share of the outcome's variance).
    sd : float, default=1
        Outcome standard deviation σ (total).
    treatment : array of shape (I, T), optional
        Another treatment matrix (default :func:`stepped_wedge_design`); the formula holds for any.

    Returns
    -------
    float

    Notes
    -----
    With σ_c² = σ²(1 − ρ)/m and τ² = σ²ρ:
    Var = I σ_c² (σ_c² + T τ²) / [(I U − W) σ_c² + (U² + I T U − T W − I V) τ²].

    Examples
    --------
    >>> print(f"{stepped_wedge_variance(9, 3, 50, 0.0):.4f}")
    0.0050
    """
    X = _treatment_matrix(stepped_wedge_design(n_clusters, n_steps) if treatment is None else treatment)
    m = _positive(cluster_size, "cluster_size")
    rho = _icc(icc)
    sd = _positive(sd, "sd")
    I, T = X.shape
    sigma2 = sd ** 2 * (1 - rho) / m
    tau2 = sd ** 2 * rho
    U = X.sum()
    W = (X.sum(axis=0) ** 2).sum()
    V = (X.sum(axis=1) ** 2).sum()
    denominator = (I * U - W) * sigma2 + (U ** 2 + I * T * U - T * W - I * V) * tau2
    if denominator <= 0:
        raise ParameterError("the treatment effect is not identified in this design (no within-period contrast)")
    return float(I * sigma2 * (sigma2 + T * tau2) / denominator)


def stepped_wedge_mde(n_clusters: int, n_steps: int, cluster_size: float, icc: float, *, cl: float = 0.95,
                      power: float = 0.8, sd: float = 1.0) -> float:
    """Minimum detectable effect of a cross-sectional stepped wedge (Hussey & Hughes 2007).

    Parameters
    ----------
    n_clusters : int
        Clusters I; n_clusters / n_steps cross over at each step.
    n_steps : int
        Steps S (S + 1 periods, the first all control).
    cluster_size : float
        Persons per cluster and period.
    icc : float
        Intracluster correlation.
    cl : float, default=0.95
    power : float, default=0.8
    sd : float, default=1

    Returns
    -------
    float

    Notes
    -----
    MDE = (z_{1−α/2} + z_power)·√Var with Var of :func:`stepped_wedge_variance`.

    References
    ----------
    Hussey & Hughes (2007), section 3.

    Examples
    --------
    >>> print(f"{stepped_wedge_mde(9, 3, 50, 0.0):.4f}")
    0.1981
    """
    se = math.sqrt(stepped_wedge_variance(n_clusters, n_steps, cluster_size, icc, sd=sd))
    return mde_from_se(se, cl=cl, power=power)


def stepped_wedge_power(effect: float, n_clusters: int, n_steps: int, cluster_size: float, icc: float, *,
                        cl: float = 0.95, sd: float = 1.0) -> float:
    """Power of a cross-sectional stepped wedge to detect ``effect`` (Hussey & Hughes 2007).

    Parameters
    ----------
    effect : float
        Effect to detect, θ.
    n_clusters, n_steps, cluster_size, icc, cl, sd :
        As in :func:`stepped_wedge_mde`.

    Returns
    -------
    float

    Examples
    --------
    SteppedPower's example ``glsPower(Cl=c(3,3,3), mu0=0, mu1=.2, sigma=1, tau=0, N=50)``: 0.8074.

    >>> print(f"{stepped_wedge_power(0.2, 9, 3, 50, 0.0):.4f}")
    0.8074
    """
    se = math.sqrt(stepped_wedge_variance(n_clusters, n_steps, cluster_size, icc, sd=sd))
    return power_from_se(effect, se, cl=cl)


def stepped_wedge_clusters_needed(effect: float, n_steps: int, cluster_size: float, icc: float, *,
                                  cl: float = 0.95, power: float = 0.8, sd: float = 1.0,
                                  max_clusters: int = 10_000) -> int:
    """Smallest number of clusters (a multiple of ``n_steps``) for a stepped wedge to reach ``power``.

    Parameters
    ----------
    effect : float
    n_steps : int
    cluster_size, icc, cl, power, sd :
        As in :func:`stepped_wedge_mde`.
    max_clusters : int, default=10000
        Largest number of clusters tried.

    Returns
    -------
    int

    Raises
    ------
    ParameterError
        When even ``max_clusters`` clusters do not suffice.

    Examples
    --------
    >>> stepped_wedge_clusters_needed(0.2, 3, 50, 0.0)
    9
    """
    target = _power_target(power)
    n_steps = chk.check_positive_int(n_steps, name="n_steps")
    for n in range(n_steps, max_clusters + 1, n_steps):
        if stepped_wedge_power(effect, n, n_steps, cluster_size, icc, cl=cl, sd=sd) >= target:
            return n
    raise ParameterError(f"no stepped wedge with up to max_clusters={max_clusters} clusters reaches power {power}")


def stepped_wedge_persons_needed(effect: float, n_clusters: int, n_steps: int, icc: float, *, cl: float = 0.95,
                                 power: float = 0.8, sd: float = 1.0, max_size: int = 1_000_000) -> float:
    """Smallest number of persons per cluster and period for a stepped wedge to reach ``power``
    (``inf`` when none up to ``max_size`` does).

    Parameters
    ----------
    effect : float
    n_clusters, n_steps, icc, cl, power, sd :
        As in :func:`stepped_wedge_mde`.
    max_size : int, default=1000000
        Largest cluster-period size tried.

    Returns
    -------
    float
        A whole number, or ``inf``.

    Examples
    --------
    SteppedPower: ``glsPower(Cl=c(3,3,3), mu0=0, mu1=.2, sigma=1, tau=0, power=.8)`` needs N = 50.

    >>> stepped_wedge_persons_needed(0.2, 9, 3, 0.0)
    50.0
    """
    target = _power_target(power)

    def reaches(m: int) -> bool:
        return stepped_wedge_power(effect, n_clusters, n_steps, m, icc, cl=cl, sd=sd) >= target

    if not reaches(max_size):
        return math.inf
    low, high = 1, max_size
    if reaches(low):
        return 1.0
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if reaches(mid) else (mid, high)
    return float(high)


# ------------------------------------------------------------------------------------------
# the independent computation: GLS (random cluster effects) and TWFE (fixed effects) variances
# ------------------------------------------------------------------------------------------

def gls_effect_variance(treatment, cluster_size, icc: float, *, sd: float = 1.0, cac: float = 1.0,
                        estimator: str = "gls") -> float:
    """Variance of the treatment effect of any cluster design, computed from the normal equations.

    The cluster-period mean of cluster i in period j is ȳ_ij = μ_j + θ X_ij + a_i + b_ij + ē_ij with
    a_i ~ N(0, cac·τ²), b_ij ~ N(0, (1 − cac)·τ²), ē_ij ~ N(0, σ_e²/m_ij), τ² = σ²ρ, σ_e² = σ²(1 − ρ).

    * ``"gls"``: the best linear unbiased estimator with period fixed effects and known variances,
      Var(θ̂) = [(Σ_i X_iᵀ V_i⁻¹ X_i)⁻¹]_θθ (the model of Hussey & Hughes 2007 when cac = 1; Hooper et
      al. 2016 otherwise).
    * ``"twfe"``: ordinary least squares on the cluster-period means with cluster and period fixed
      effects (what :func:`progression.evaluation.twfe` computes), Var = (D'D)⁻¹ D' Σ D (D'D)⁻¹ with D
      the treatment indicator after sweeping out both sets of fixed effects.

    Parameters
    ----------
    treatment : array of shape (I, T)
        0/1 treatment of each cluster and period.
    cluster_size : float or array broadcastable to (I, T)
        Persons per cluster and period (unequal sizes allowed).
    icc : float
        Within-period intracluster correlation ρ.
    sd : float, default=1
        Outcome standard deviation σ.
    cac : float, default=1
        Cluster autocorrelation: the share of the cluster variance that persists across periods.
    estimator : {"gls", "twfe"}, default="gls"

    Returns
    -------
    float

    Examples
    --------
    The GLS variance of a stepped wedge equals Hussey & Hughes's closed form:

    >>> X = stepped_wedge_design(24, 4)
    >>> gls = gls_effect_variance(X, 100, 0.025 ** 2 / 0.041 / 0.959, sd=(0.041 * 0.959) ** 0.5)
    >>> hh = stepped_wedge_variance(24, 4, 100, 0.025 ** 2 / 0.041 / 0.959, sd=(0.041 * 0.959) ** 0.5)
    >>> abs(gls - hh) < 1e-15
    True
    """
    X = _treatment_matrix(treatment)
    I, T = X.shape
    rho = _icc(icc)
    sd = _positive(sd, "sd")
    if not 0 <= cac <= 1:
        raise ParameterError(f"cac must be a cluster autocorrelation in [0, 1]; got {cac!r}")
    chk.check_choice(estimator, ("gls", "twfe"), name="estimator")
    m = np.broadcast_to(np.asarray(cluster_size, dtype=float), (I, T))
    if not (m > 0).all():
        raise ParameterError("cluster_size must be positive in every cluster and period")
    tau2, sigma2 = sd ** 2 * rho, sd ** 2 * (1 - rho)
    noise = sigma2 / m + (1 - cac) * tau2                       # (I, T) independent part
    if estimator == "gls":
        information = np.zeros((T + 1, T + 1))
        for i in range(I):
            design = np.column_stack([np.eye(T), X[i]])
            V = np.diag(noise[i]) + cac * tau2 * np.ones((T, T))
            information += design.T @ np.linalg.solve(V, design)
        return float(np.linalg.inv(information)[-1, -1])
    # TWFE: sweep cluster and period effects from the treatment indicator (exact on a complete panel)
    D = X - X.mean(axis=1, keepdims=True) - X.mean(axis=0, keepdims=True) + X.mean()
    DD = float((D ** 2).sum())
    if DD <= 0:
        raise ParameterError("the treatment is collinear with the cluster and period effects")
    # Σ of the cluster-period means: the persistent cluster effect is swept out; the rest is independent
    return float(((D ** 2) * noise).sum() / DD ** 2)
