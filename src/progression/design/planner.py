"""A planner for the pilot: 2–3 payment models × 5–6 projects across the 98 municipalities.

VIVE (2024), *Styringsgennemgang af socialpsykiatrien*, section 3.3.2, cites a proposal for a
large-scale trial of 2–3 quite different models in 5–6 projects with a scientific evaluation, and warns
that such trials shift resources between municipalities while they run. The planner answers, for each
of the fund's outcomes with the baseline rate, ICC and municipality sizes the data show:

* :func:`mde_grid` — the minimum detectable effect by design (parallel cluster trial, stepped wedge,
  staggered adoption with never-treated municipalities analysed by two-way fixed effects) and number of
  municipalities;
* :func:`power_curves` — power against the effect for each design;
* :func:`pilot_plan` — per project, per payment model and between two models: municipalities and
  citizens per arm, the MDE, the power at a target effect, and the municipalities (and citizens per
  municipality) each arm needs for 80 % power;
* :func:`resource_shift` — what the pilot moves between municipalities while it runs when its budget
  is financed by all municipalities in proportion to population and spent where the pilot runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from progression import _validation as chk
from progression.design.closed_forms import (
    cluster_mde,
    cluster_power,
    clusters_needed,
    gls_effect_variance,
    mde_from_se,
    persons_needed,
    power_from_se,
    stepped_wedge_design,
    stepped_wedge_mde,
    stepped_wedge_power,
)
from progression.design.simulate import randomised_waves
from progression.exceptions import ParameterError

__all__ = ["DESIGNS", "size_profile", "mde_grid", "power_curves", "pilot_plan", "resource_shift"]

#: Designs the planner compares.
DESIGNS = ("parallel", "stepped_wedge", "staggered_twfe")
_INPUT_COLUMNS = ("outcome", "baseline_rate", "sd", "icc", "cluster_size_mean", "cluster_size_cv")


def _check_inputs(inputs: pd.DataFrame) -> pd.DataFrame:
    chk.check_frame(inputs, name="inputs")
    chk.check_columns(inputs, list(_INPUT_COLUMNS), name="inputs")
    return inputs


def size_profile(mean: float, cv: float, n: int) -> np.ndarray:
    """``n`` cluster sizes with the given mean and coefficient of variation: the quantiles of a gamma
    distribution (deterministic, so a plan does not depend on a draw), rescaled to the mean.

    Parameters
    ----------
    mean : float
        Mean cluster size.
    cv : float
        Coefficient of variation (≤ 0: all sizes equal).
    n : int
        Number of clusters.

    Returns
    -------
    ndarray of float
        Sizes of at least 1, in increasing order.

    Examples
    --------
    >>> sizes = size_profile(50, 1.0, 98)
    >>> print(f"{sizes.mean():.1f} {sizes.std() / sizes.mean():.2f}")
    50.0 0.98
    """
    from scipy import stats

    n = chk.check_positive_int(n, name="n")
    if cv <= 0:
        return np.full(n, float(mean))
    shape = 1 / cv ** 2
    q = stats.gamma.ppf((np.arange(n) + 0.5) / n, shape)
    return np.maximum(q / q.mean() * mean, 1.0)


def _design_mde(design: str, row, n_municipalities: int, n_periods: int, factor: float, cl: float, power: float,
                never_share: float) -> float:
    m = row.cluster_size_mean * factor
    if design == "parallel":
        return cluster_mde(n_municipalities / 2, m, row.icc, cl=cl, power=power, sd=row.sd, cv=row.cluster_size_cv)
    if design == "stepped_wedge":
        return stepped_wedge_mde(n_municipalities, n_periods - 1, m, row.icc, cl=cl, power=power, sd=row.sd)
    X = _staggered(n_municipalities, n_periods, never_share)
    sizes = size_profile(m, row.cluster_size_cv, n_municipalities)[:, None]
    cac = getattr(row, "cac", 1.0)
    cac = 1.0 if cac is None or not np.isfinite(cac) else float(cac)
    var = gls_effect_variance(X, sizes, row.icc, sd=row.sd, cac=cac, estimator="twfe")
    return mde_from_se(np.sqrt(var), cl=cl, power=power)


def _staggered(n_municipalities: int, n_periods: int, never_share: float) -> np.ndarray:
    n_never = int(round(never_share * n_municipalities))
    n_waves = max(1, min(n_periods - 2, n_municipalities - n_never))
    return randomised_waves(n_municipalities, n_waves, n_periods, n_never=n_never, first_wave=1)


def mde_grid(inputs: pd.DataFrame, *, n_municipalities: Sequence[int] = (12, 24, 48, 98), n_periods: int = 5,
             designs: Sequence[str] = DESIGNS, size_factor: float = 1.0, never_share: float = 1 / 3,
             cl: float = 0.95, power: float = 0.8) -> pd.DataFrame:
    """Minimum detectable effect per outcome, design and number of municipalities.

    Parameters
    ----------
    inputs : DataFrame
        :func:`~progression.design.design_inputs` (``outcome, baseline_rate, sd, icc, cac,
        cluster_size_mean, cluster_size_cv``).
    n_municipalities : list of int
        Municipalities in the pilot (all arms together).
    n_periods : int, default=5
        Periods (years) of the stepped wedge and the staggered design; the parallel design compares
        one period.
    designs : list of str
        Of :data:`DESIGNS`.
    size_factor : float, default=1
        Multiplies the data's municipality sizes (e.g. 1/scale of synthetic data for national numbers).
    never_share : float, default=1/3
        Share of municipalities never treated in the staggered design.
    cl, power : float

    Returns
    -------
    DataFrame
        ``outcome, design, n_municipalities, cluster_size, baseline_rate, mde, mde_relative``.

    Examples
    --------
    >>> import pandas as pd
    >>> inputs = pd.DataFrame([{"outcome": "psych_admission", "baseline_rate": 0.13, "sd": 0.336, "icc": 0.01,
    ...                         "cac": 1.0, "cluster_size_mean": 75, "cluster_size_cv": 1.3}])
    >>> grid = mde_grid(inputs, n_municipalities=[24])
    >>> grid[["design", "mde"]].round(3).to_string(index=False)
    '        design   mde\\n      parallel 0.077\\n stepped_wedge 0.034\\nstaggered_twfe 0.109'
    """
    _check_inputs(inputs)
    for d in designs:
        chk.check_choice(d, DESIGNS, name="designs")
    n_periods = chk.check_positive_int(n_periods, name="n_periods", minimum=3)
    rows = []
    for row in inputs.itertuples(index=False):
        for design in designs:
            for n in n_municipalities:
                n = chk.check_positive_int(n, name="n_municipalities", minimum=4)
                mde = _design_mde(design, row, n, n_periods, size_factor, cl, power, never_share)
                rows.append({"outcome": row.outcome, "design": design, "n_municipalities": n,
                             "cluster_size": row.cluster_size_mean * size_factor, "baseline_rate": row.baseline_rate,
                             "mde": mde, "mde_relative": mde / row.baseline_rate if row.baseline_rate > 0 else np.nan})
    return pd.DataFrame(rows)


def power_curves(inputs: pd.DataFrame, *, n_municipalities: int = 24, n_periods: int = 5,
                 relative_effects: Sequence[float] = tuple(np.round(np.linspace(0.02, 0.5, 25), 3)),
                 designs: Sequence[str] = DESIGNS, size_factor: float = 1.0, never_share: float = 1 / 3,
                 cl: float = 0.95) -> pd.DataFrame:
    """Power against the effect (relative to the baseline rate) per outcome and design.

    Parameters
    ----------
    inputs : DataFrame
        :func:`~progression.design.design_inputs`, as in :func:`mde_grid`.
    n_municipalities : int, default=24
    n_periods : int, default=5
    relative_effects : sequence of float, default=0.02, 0.04, ..., 0.5
        Effects as fractions of each outcome's baseline rate.
    designs : sequence of str, default=DESIGNS
    size_factor, never_share, cl :
        As in :func:`mde_grid`.

    Returns
    -------
    DataFrame
        ``outcome, design, n_municipalities, relative_effect, effect, power``.

    Examples
    --------
    >>> import pandas as pd
    >>> inputs = pd.DataFrame([{"outcome": "employed", "baseline_rate": 0.15, "sd": 0.357, "icc": 0.01,
    ...                         "cac": 1.0, "cluster_size_mean": 75, "cluster_size_cv": 1.3}])
    >>> curves = power_curves(inputs, relative_effects=[0.1, 0.5], designs=["stepped_wedge"])
    >>> curves["power"].round(2).tolist()
    [0.22, 1.0]
    """
    _check_inputs(inputs)
    for d in designs:
        chk.check_choice(d, DESIGNS, name="designs")
    rows = []
    for row in inputs.itertuples(index=False):
        for design in designs:
            se = _design_mde(design, row, n_municipalities, n_periods, size_factor, cl, 0.5, never_share) \
                / mde_from_se(1.0, cl=cl, power=0.5)
            for rel in relative_effects:
                effect = rel * row.baseline_rate
                rows.append({"outcome": row.outcome, "design": design, "n_municipalities": n_municipalities,
                             "relative_effect": float(rel), "effect": effect, "power": power_from_se(effect, se, cl=cl)})
    return pd.DataFrame(rows)


def pilot_plan(inputs: pd.DataFrame, *, n_models: int = 3, n_projects: int = 6, n_municipalities: int = 98,
               relative_effect: float = 0.2, size_factor: float = 1.0, cl: float = 0.95,
               power: float = 0.8) -> pd.DataFrame:
    """What 2–3 payment models × 5–6 projects can detect, and what each arm needs for ``power``.

    The municipalities are split evenly over the projects; within a project half are treated and half
    are comparisons (a parallel cluster trial with the data's municipality sizes and their spread).
    A payment model pools its projects (n_projects / n_models of them); two models are compared by the
    difference of their effects (the variances add).

    Parameters
    ----------
    inputs : DataFrame
        :func:`~progression.design.design_inputs`.
    n_models : int, default=3
    n_projects : int, default=6
        Projects in total (a multiple of ``n_models``).
    n_municipalities : int, default=98
    relative_effect : float, default=0.2
        Target effect as a share of the baseline rate (0.2 = a 20 % change).
    size_factor : float, default=1
        Multiplies the data's municipality sizes.
    cl, power : float

    Returns
    -------
    DataFrame
        One row per outcome and level (``project``, ``model``, ``model_vs_model``):
        ``municipalities_per_arm, citizens_per_municipality, effect, mde, mde_relative,
        power_at_effect, municipalities_needed_per_arm, citizens_needed_per_municipality``.

    Examples
    --------
    >>> import pandas as pd
    >>> inputs = pd.DataFrame([{"outcome": "psych_admission", "baseline_rate": 0.13, "sd": 0.336, "icc": 0.01,
    ...                         "cac": 1.0, "cluster_size_mean": 75, "cluster_size_cv": 1.3}])
    >>> plan = pilot_plan(inputs)
    >>> plan[["level", "municipalities_per_arm"]].to_string(index=False)
    '         level  municipalities_per_arm\\n       project                     8.0\\n         model                    16.0\\nmodel_vs_model                    16.0'
    """
    _check_inputs(inputs)
    n_models = chk.check_positive_int(n_models, name="n_models")
    n_projects = chk.check_positive_int(n_projects, name="n_projects")
    if n_projects % n_models:
        raise ParameterError(f"n_projects ({n_projects}) must be a multiple of n_models ({n_models})")
    per_project = n_municipalities // n_projects
    if per_project < 4:
        raise ParameterError(f"{n_municipalities} municipalities over {n_projects} projects leave {per_project} per "
                             "project; at least 4 (2 per arm) are needed")
    rows = []
    for row in inputs.itertuples(index=False):
        m = row.cluster_size_mean * size_factor
        effect = relative_effect * row.baseline_rate
        arm = per_project // 2
        levels = {"project": (arm, 1.0), "model": (arm * n_projects // n_models, 1.0),
                  "model_vs_model": (arm * n_projects // n_models, 2.0)}
        for level, (k, variance_factor) in levels.items():
            kw = dict(sd=row.sd * np.sqrt(variance_factor), cv=row.cluster_size_cv)
            mde = cluster_mde(k, m, row.icc, cl=cl, power=power, **kw)
            rows.append({
                "outcome": row.outcome, "level": level, "n_models": n_models, "n_projects": n_projects,
                "municipalities_per_arm": float(k), "citizens_per_municipality": m, "baseline_rate": row.baseline_rate,
                "effect": effect, "mde": mde, "mde_relative": mde / row.baseline_rate,
                "power_at_effect": cluster_power(effect, k, m, row.icc, cl=cl, **kw),
                "municipalities_needed_per_arm": float(clusters_needed(effect, m, row.icc, cl=cl, power=power, **kw)),
                "citizens_needed_per_municipality": persons_needed(effect, k, row.icc, cl=cl, power=power, **kw),
            })
    return pd.DataFrame(rows)


def resource_shift(population: pd.Series, citizens: pd.Series, treatment: np.ndarray, *, budget_dkk: float,
                   funded_share: float = 1.0) -> pd.DataFrame:
    """What a pilot moves between municipalities while it runs, period by period.

    The pilot's yearly budget is financed by all municipalities in proportion to their population
    (as the proposal cited in VIVE 2024, section 3.3.2, takes it from the municipal co-financing, KMF)
    and spent in the municipalities running it, in proportion to their citizens in the target group.

    Parameters
    ----------
    population : Series
        Inhabitants by municipality (public figures), index = municipality code.
    citizens : Series
        Citizens of the target group by municipality, same index.
    treatment : array of shape (n_municipalities, n_periods)
        0/1: the municipality runs the pilot in the period (rows in the order of ``population``).
    budget_dkk : float
        The pilot's yearly budget.
    funded_share : float, default=1
        Share of the budget financed by the municipalities (the rest by the state).

    Returns
    -------
    DataFrame
        One row per period and group (``running``, ``not_running``): ``n_municipalities``,
        ``n_persons`` (citizens of the group), ``population``, ``net_dkk`` (received − paid),
        ``net_dkk_per_inhabitant`` and ``shifted_dkk`` (the period's total moved from net payers to net
        receivers). With ``funded_share`` < 1 the state's part makes the nets add up to
        (1 − funded_share) × budget.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> pop = pd.Series([1000.0, 1000.0], index=[101, 147])
    >>> out = resource_shift(pop, pd.Series([10, 10], index=[101, 147]), np.array([[1], [0]]), budget_dkk=100.0)
    >>> out[["group", "net_dkk"]].to_string(index=False)
    '      group  net_dkk\\n    running     50.0\\nnot_running    -50.0'
    """
    X = np.asarray(treatment)
    pop = population.to_numpy(dtype=float)
    cit = citizens.reindex(population.index).fillna(0).to_numpy(dtype=float)
    if X.shape[0] != len(pop):
        raise ParameterError(f"treatment has {X.shape[0]} rows; population has {len(pop)} municipalities")
    if not 0 <= funded_share <= 1:
        raise ParameterError(f"funded_share must be in [0, 1]; got {funded_share!r}")
    rows = []
    for t in range(X.shape[1]):
        running = X[:, t] == 1
        weight = cit * running
        if weight.sum() > 0:
            paid = budget_dkk * funded_share * pop / pop.sum()
            received = budget_dkk * weight / weight.sum()
        else:  # no municipality runs the pilot yet: nothing is financed or spent
            paid = received = np.zeros_like(pop)
        net = received - paid
        shifted = float(net[net > 0].sum())
        for group, mask in (("running", running), ("not_running", ~running)):
            rows.append({"period": t + 1, "group": group, "n_municipalities": int(mask.sum()),
                         "n_persons": int(cit[mask].sum()), "population": float(pop[mask].sum()),
                         "net_dkk": float(net[mask].sum()),
                         "net_dkk_per_inhabitant": float(net[mask].sum() / pop[mask].sum()) if mask.any() else np.nan,
                         "shifted_dkk": shifted})
    return pd.DataFrame(rows)
