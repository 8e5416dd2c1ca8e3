"""Simulated pilots: what has no closed form (staggered adoption, unequal municipalities, binary
outcomes, the project's own estimators).

One simulated pilot draws, for every municipality i and period t of a design (a treatment matrix
X, clusters × periods),

    p_it = p₀ + trend·t + a_i + b_it + θ·X_it,   a_i ~ N(0, cac·τ²),  b_it ~ N(0, (1 − cac)·τ²),
    y_it ~ Binomial(m_it, clip(p_it, 0, 1)),

with τ² = ρ·p̄(1 − p̄) (ρ the ICC, p̄ the mean rate), and analyses the municipality-period rates
y_it/m_it with

* ``"twfe"`` — the two-way fixed-effects DiD of :func:`progression.evaluation.twfe` (cluster-robust
  standard errors, t with G − 1 degrees of freedom);
* ``"callaway_santanna"`` — :class:`progression.evaluation.CallawaySantAnna` (not-yet-treated
  comparisons), aggregated to one ATT;
* ``"gls"`` — the generalised least squares estimator with the true variance components: the
  estimator behind the Hussey & Hughes closed form (the check that simulation and closed form agree);
* ``"cluster_means"`` — the difference of the arms' mean municipal rates with a two-sample t test
  (one-period parallel trials: the estimator behind :func:`cluster_mde`).

Pilots are drawn in chunks of ``chunk_size``; chunk c draws from the named random stream
``"<name>.chunk<c>"`` of the seed (:func:`progression._tidy.stream`), so the results are identical for
any ``n_jobs`` and joblib backend.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats

from progression import _validation as chk
from progression._tidy import stream, z_value
from progression.design.closed_forms import _treatment_matrix, gls_effect_variance
from progression.exceptions import ParameterError

__all__ = ["ESTIMATORS", "PilotScenario", "PilotSimulation", "simulate_pilots", "randomised_waves"]

#: The estimators a simulated pilot can be analysed with.
ESTIMATORS = ("twfe", "callaway_santanna", "gls", "cluster_means")


@dataclass(frozen=True)
class PilotScenario:
    """A pilot to simulate: its design, its municipalities and the outcome's behaviour.

    Parameters
    ----------
    treatment : array of shape (I, T)
        0/1 treatment of each municipality and period (:func:`stepped_wedge_design`,
        :func:`parallel_design`, :func:`staggered_design`).
    cluster_sizes : float or array of shape (I,) or (I, T)
        Citizens per municipality (and period); unequal sizes allowed.
    baseline_rate : float
        Outcome rate without the intervention in the first period, p₀.
    icc : float
        Within-period intracluster correlation ρ.
    effect : float, default=0
        True effect θ on the rate (absolute difference).
    trend : float, default=0
        Change of the rate per period.
    cac : float, default=1
        Cluster autocorrelation (share of the municipal variance that persists).
    randomise : bool, default=False
        Draw a new assignment of municipalities to the design's rows in each pilot (the sizes are
        permuted), as a randomised pilot would.

    Raises
    ------
    ParameterError
        When the sizes do not fit the design, or a rate, ``icc`` or ``cac`` is out of range.

    Notes
    -----
    The between-municipality variance is τ² = ρ·p̄(1 − p̄), with p̄ = p₀ + θ/2 (:attr:`tau2`).

    Examples
    --------
    A stepped wedge of 12 municipalities in 3 waves, 60 citizens each per period:

    >>> from progression.design import stepped_wedge_design
    >>> scenario = PilotScenario(stepped_wedge_design(12, 3), cluster_sizes=60, baseline_rate=0.13,
    ...                          icc=0.02, effect=0.05)
    >>> scenario.sizes.shape, round(scenario.tau2, 5)
    ((12, 4), 0.00262)
    >>> scenario.first_treated()[[0, 4, 8]]
    array([2., 3., 4.])
    """

    treatment: np.ndarray
    cluster_sizes: np.ndarray | float
    baseline_rate: float
    icc: float
    effect: float = 0.0
    trend: float = 0.0
    cac: float = 1.0
    randomise: bool = False
    _sizes: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        X = _treatment_matrix(self.treatment).astype(int)
        object.__setattr__(self, "treatment", X)
        sizes = np.asarray(self.cluster_sizes, dtype=float)
        if sizes.ndim == 1:
            if sizes.shape[0] != X.shape[0]:
                raise ParameterError(f"cluster_sizes has {sizes.shape[0]} entries; the design has {X.shape[0]} "
                                     "municipalities")
            sizes = sizes[:, None]
        try:
            sizes = np.broadcast_to(sizes, X.shape).astype(np.int64)
        except ValueError:
            raise ParameterError(f"cluster_sizes of shape {np.shape(self.cluster_sizes)} does not fit the design "
                                 f"{X.shape}") from None
        if (sizes < 1).any():
            raise ParameterError("cluster_sizes must be at least 1 citizen in every municipality and period")
        object.__setattr__(self, "_sizes", sizes)
        if not 0 <= self.baseline_rate <= 1:
            raise ParameterError(f"baseline_rate must be a rate in [0, 1]; got {self.baseline_rate!r}")
        if not 0 <= self.icc < 1:
            raise ParameterError(f"icc must be in [0, 1); got {self.icc!r}")
        if not 0 <= self.cac <= 1:
            raise ParameterError(f"cac must be in [0, 1]; got {self.cac!r}")

    @property
    def sizes(self) -> np.ndarray:
        """(I, T) citizens per municipality and period."""
        return self._sizes

    @property
    def tau2(self) -> float:
        """Between-municipality variance of the rate, ρ·p̄(1 − p̄)."""
        p = float(np.clip(self.baseline_rate + self.effect / 2, 1e-6, 1 - 1e-6))
        return self.icc * p * (1 - p)

    def first_treated(self) -> np.ndarray:
        """First treated period (1-based) of each row of the design; NaN = never treated."""
        X = self.treatment
        ever = X.any(axis=1)
        return np.where(ever, X.argmax(axis=1) + 1.0, np.nan)


@dataclass
class PilotSimulation:
    """Simulated pilots and their analysis.

    Returned by :func:`simulate_pilots`; :meth:`summary` gives power, bias and coverage.

    Attributes
    ----------
    draws : DataFrame
        One row per pilot: ``pilot, estimate, std_error, p_value, reject``.
    scenario : PilotScenario
    estimator : str
    cl : float

    Examples
    --------
    >>> from progression.design import stepped_wedge_design
    >>> scenario = PilotScenario(stepped_wedge_design(12, 3), cluster_sizes=60, baseline_rate=0.13,
    ...                          icc=0.02, effect=0.05)
    >>> sim = simulate_pilots(scenario, n_sims=200, estimator="gls", seed=1)
    >>> list(sim.draws.columns)
    ['pilot', 'estimate', 'std_error', 'p_value', 'reject']
    >>> sim.summary()[["estimator", "n_sims", "power", "coverage"]].round(2)
      estimator  n_sims  power  coverage
    0       gls     200   0.52      0.94
    """

    draws: pd.DataFrame
    scenario: PilotScenario
    estimator: str
    cl: float

    def summary(self) -> pd.DataFrame:
        """Power (rejection rate) with its Monte Carlo standard error, bias, empirical and mean
        standard errors and the coverage of the Wald interval; one tidy row.

        Returns
        -------
        DataFrame
            ``estimator, effect, n_sims, power, power_mc_se, mean_estimate, bias, empirical_se,
            mean_std_error, coverage, n_failed``.
        """
        d = self.draws
        ok = d["estimate"].notna()
        theta = self.scenario.effect
        reject = d.loc[ok, "reject"].to_numpy(dtype=float)
        power = float(reject.mean()) if reject.size else np.nan
        z = z_value(self.cl)
        covered = (np.abs(d.loc[ok, "estimate"] - theta) <= z * d.loc[ok, "std_error"]).mean()
        return pd.DataFrame([{
            "estimator": self.estimator, "effect": theta, "n_sims": int(ok.sum()), "power": power,
            "power_mc_se": math.sqrt(power * (1 - power) / max(int(ok.sum()), 1)),
            "mean_estimate": float(d.loc[ok, "estimate"].mean()), "bias": float(d.loc[ok, "estimate"].mean() - theta),
            "empirical_se": float(d.loc[ok, "estimate"].std(ddof=1)), "mean_std_error": float(d.loc[ok, "std_error"].mean()),
            "coverage": float(covered), "n_failed": int((~ok).sum()),
        }])


def randomised_waves(n_clusters: int, n_waves: int, n_periods: int, *, n_never: int = 0,
                     first_wave: int = 1) -> np.ndarray:
    """Treatment matrix of staggered adoption in ``n_waves`` equal waves, one period apart from period
    ``first_wave`` (0-based), with ``n_never`` municipalities never treated (the last rows).

    Parameters
    ----------
    n_clusters : int
    n_waves : int
    n_periods : int
    n_never : int, default=0
        Municipalities never treated (fewer than ``n_clusters``).
    first_wave : int, default=1
        Period of the first wave (≥ 1, so every municipality has a period before).

    Returns
    -------
    ndarray of int, shape (n_clusters, n_periods)

    Raises
    ------
    ParameterError
        When the waves do not fit in the periods or ``n_never`` is out of range.

    Examples
    --------
    >>> randomised_waves(5, 2, 4, n_never=1)
    array([[0, 1, 1, 1],
           [0, 1, 1, 1],
           [0, 0, 1, 1],
           [0, 0, 1, 1],
           [0, 0, 0, 0]])
    """
    n_clusters = chk.check_positive_int(n_clusters, name="n_clusters")
    n_waves = chk.check_positive_int(n_waves, name="n_waves")
    if not 0 <= n_never < n_clusters or first_wave + n_waves > n_periods or first_wave < 1:
        raise ParameterError(f"randomised_waves: need 0 <= n_never < n_clusters and 1 <= first_wave, first_wave + "
                             f"n_waves <= n_periods; got n_never={n_never}, first_wave={first_wave}, "
                             f"n_waves={n_waves}, n_periods={n_periods}")
    treated = n_clusters - n_never
    per_wave = np.full(n_waves, treated // n_waves)
    per_wave[: treated % n_waves] += 1
    start = np.r_[np.repeat(np.arange(first_wave, first_wave + n_waves), per_wave), np.full(n_never, np.inf)]
    return (np.arange(n_periods)[None, :] >= start[:, None]).astype(int)


# ------------------------------------------------------------------------------------------
# drawing and analysing one chunk
# ------------------------------------------------------------------------------------------

def _draw_rates(scenario: PilotScenario, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, I, T) rates and the (n, I, T) sizes of n pilots."""
    X = scenario.treatment
    I, T = X.shape
    sizes = np.broadcast_to(scenario.sizes, (n, I, T))
    if scenario.randomise:
        order = np.argsort(rng.random((n, I)), axis=1)
        sizes = np.take_along_axis(np.broadcast_to(scenario.sizes, (n, I, T)), order[:, :, None], axis=1)
    tau = math.sqrt(scenario.tau2)
    a = rng.standard_normal((n, I, 1)) * tau * math.sqrt(scenario.cac)
    b = rng.standard_normal((n, I, T)) * tau * math.sqrt(1 - scenario.cac)
    p = scenario.baseline_rate + scenario.trend * np.arange(T) + a + b + scenario.effect * X
    y = rng.binomial(sizes, np.clip(p, 0.0, 1.0))
    return y / sizes, np.ascontiguousarray(sizes)


def _gls_weights(scenario: PilotScenario, sizes: np.ndarray) -> tuple[np.ndarray, float]:
    """Weights w (I, T) with θ̂ = Σ w·ȳ for the GLS estimator with known variances, and its variance."""
    X = scenario.treatment.astype(float)
    I, T = X.shape
    p = float(np.clip(scenario.baseline_rate + scenario.effect / 2, 1e-6, 1 - 1e-6))
    sigma2 = p * (1 - p) * (1 - scenario.icc)
    tau2 = scenario.tau2
    info = np.zeros((T + 1, T + 1))
    pieces = []
    for i in range(I):
        design = np.column_stack([np.eye(T), X[i]])
        V = np.diag(sigma2 / sizes[i] + (1 - scenario.cac) * tau2) + scenario.cac * tau2 * np.ones((T, T))
        piece = np.linalg.solve(V, design).T          # (T + 1, T): design' V⁻¹
        info += piece @ design
        pieces.append(piece)
    cov = np.linalg.inv(info)
    weights = np.vstack([(cov @ piece)[-1] for piece in pieces])
    return weights, float(cov[-1, -1])


def _analyse_panel(rates: np.ndarray, scenario: PilotScenario, estimator: str, cl: float) -> tuple[float, float, float]:
    """(estimate, std_error, p_value) of one pilot with the project's estimators."""
    from progression.evaluation import CallawaySantAnna, twfe

    I, T = rates.shape
    panel = pd.DataFrame({"municipality": np.repeat(np.arange(I), T), "period": np.tile(np.arange(1, T + 1), I),
                          "rate": rates.ravel(), "first_treated": np.repeat(scenario.first_treated(), T)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # cells without comparisons in the last periods are expected
        if estimator == "twfe":
            row = twfe(panel, outcome="rate", unit="municipality", time="period", first_treated="first_treated",
                       cl=cl).iloc[0]
        else:
            fitted = CallawaySantAnna(control_group="notyet", cl=cl).fit(
                panel, outcome="rate", unit="municipality", time="period", group="first_treated")
            row = fitted.aggregate("simple").iloc[0]
    return float(row["estimate"]), float(row["std_error"]), float(row["p_value"])


def _cluster_means(rates: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-sample t test of the arms' mean municipal rates (last period), vectorised over pilots."""
    treated = X[:, -1] == 1
    r = rates[:, :, -1]
    a, b = r[:, treated], r[:, ~treated]
    n1, n0 = a.shape[1], b.shape[1]
    diff = a.mean(axis=1) - b.mean(axis=1)
    pooled = ((n1 - 1) * a.var(axis=1, ddof=1) + (n0 - 1) * b.var(axis=1, ddof=1)) / (n1 + n0 - 2)
    se = np.sqrt(pooled * (1 / n1 + 1 / n0))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.t.sf(np.abs(diff / se), n1 + n0 - 2)
    return diff, se, p


def _simulate_chunk(scenario: PilotScenario, estimator: str, cl: float, seed: int, name: str, chunk: int,
                    size: int) -> pd.DataFrame:
    from threadpoolctl import threadpool_limits

    rng = stream(seed, f"{name}.chunk{chunk}")
    rates, sizes = _draw_rates(scenario, rng, size)
    with threadpool_limits(1):   # small matrices: one BLAS thread, the same bits in every process
        if estimator == "gls":
            if scenario.randomise:
                rows = []
                for k in range(size):
                    w, var = _gls_weights(scenario, sizes[k])
                    rows.append(((w * rates[k]).sum(), math.sqrt(var)))
                est, se = (np.array(v) for v in zip(*rows))
            else:
                w, var = _gls_weights(scenario, sizes[0])
                est = (rates * w).sum(axis=(1, 2))
                se = np.full(size, math.sqrt(var))
            p = 2 * stats.norm.sf(np.abs(est / se))
        elif estimator == "cluster_means":
            est, se, p = _cluster_means(rates, scenario.treatment)
        else:
            out = []
            for k in range(size):
                try:
                    out.append(_analyse_panel(rates[k], scenario, estimator, cl))
                except (ValueError, np.linalg.LinAlgError):
                    out.append((np.nan, np.nan, np.nan))
            est, se, p = (np.array(v, dtype=float) for v in zip(*out))
    start = chunk * size
    return pd.DataFrame({"pilot": np.arange(start, start + size), "estimate": est, "std_error": se, "p_value": p,
                         "reject": np.asarray(p) < 1 - cl})


def simulate_pilots(scenario: PilotScenario, *, n_sims: int = 1000, estimator: str = "twfe", cl: float = 0.95,
                    seed: int = 0, n_jobs: int = 1, chunk_size: int = 50, name: str = "design.pilots",
                    backend: str | None = None) -> PilotSimulation:
    """Simulate ``n_sims`` pilots of ``scenario`` and analyse each with ``estimator``.

    Parameters
    ----------
    scenario : PilotScenario
        Design, municipalities, outcome behaviour and true effect.
    n_sims : int, default=1000
        Pilots to simulate.
    estimator : {"twfe", "callaway_santanna", "gls", "cluster_means"}, default="twfe"
        How each pilot is analysed (see the module docstring).
    cl : float, default=0.95
        Confidence level; a pilot "detects" the effect when p < 1 − cl.
    seed : int, default=0
        Master seed; chunk c draws from the named stream ``f"{name}.chunk{c}"``.
    n_jobs : int, default=1
        Parallel workers (joblib); results do not depend on it.
    chunk_size : int, default=50
        Pilots per chunk (part of the random streams: keep it fixed to reproduce a run).
    name : str, default="design.pilots"
        Name of the random streams.
    backend : str, optional
        joblib backend (default loky).

    Returns
    -------
    PilotSimulation

    Examples
    --------
    >>> from progression.design import PilotScenario, stepped_wedge_design, simulate_pilots
    >>> scenario = PilotScenario(stepped_wedge_design(12, 3), cluster_sizes=60, baseline_rate=0.13,
    ...                          icc=0.02, effect=0.05)
    >>> sim = simulate_pilots(scenario, n_sims=400, estimator="gls", seed=1)
    >>> print(f"{sim.summary()['power'].iloc[0]:.2f}")   # Hussey & Hughes: 0.54
    0.53
    """
    chk.check_choice(estimator, ESTIMATORS, name="estimator")
    n_sims = chk.check_positive_int(n_sims, name="n_sims")
    chunk_size = chk.check_positive_int(chunk_size, name="chunk_size")
    chk.check_level(cl)
    if estimator == "cluster_means" and not (scenario.treatment == scenario.treatment[:, :1]).all():
        raise ParameterError("estimator='cluster_means' needs a parallel design (treatment constant over periods)")
    n_chunks = math.ceil(n_sims / chunk_size)
    tasks = (delayed(_simulate_chunk)(scenario, estimator, cl, seed, name, c, chunk_size) for c in range(n_chunks))
    parts = Parallel(n_jobs=n_jobs, backend=backend)(tasks) if n_jobs != 1 else [t[0](*t[1], **t[2]) for t in tasks]
    draws = pd.concat(parts, ignore_index=True).iloc[:n_sims].reset_index(drop=True)
    return PilotSimulation(draws=draws, scenario=scenario, estimator=estimator, cl=cl)
