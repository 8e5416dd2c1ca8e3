"""Projected occupancy of the staircase: today's stock moved by a transition matrix, plus inflow.

With n_t the number of citizens per state after t years (steps, then the cumulative exits died,
emigrated and moved), P the yearly transition matrix (rows = steps, columns = steps and exits; exit
rows absorb) and a_t the inflow during year t (e.g. young people turning 18, by step):

    n_{t+1} = n_t P + a_{t+1}

(Municipalities plan capacity from such forecasts, including the young people who turn 18 and come
from the children's area: Social- og Boligstyrelsen 2024, *Kommunernes omlægning til Borgeren ved
roret*, on økonomisk styring.) P may be the discrete-time matrix of :class:`progression.transitions.TransitionMatrix`,
applied ``steps_per_year`` times per year, or any P(t) the caller supplies (e.g. exp(tQ) of a
continuous-time model). Uncertainty is propagated by projecting every bootstrap replicate of P and
taking percentiles at each year.

Scenarios change the step-down probabilities: :func:`scale_stepdown` multiplies each row's mass
below the diagonal (moves to lower steps, including to no service) by a factor and puts the
difference on the diagonal; :func:`match_stepdown` gives every row the step-down probabilities of a
reference matrix, e.g. "what if every municipality moved citizens down like the four case
municipalities?". :func:`implied_stepdown_factor` gives the factor one matrix's step-downs imply
against another's.

The inputs come from the panel: :func:`current_stock` (today's citizens per step) and
:func:`entrants` (new citizens per year by their first step), averaged into an inflow by
:func:`yearly_inflow`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from progression._tidy import percentile_interval
from progression.exceptions import ParameterError
from progression.staircase import EXIT_STATUSES, as_staircase

__all__ = ["project_occupancy", "scale_stepdown", "match_stepdown", "implied_stepdown_factor", "current_stock",
           "entrants", "yearly_inflow"]

Matrix = pd.DataFrame | np.ndarray
TransitionLike = Matrix | Callable[[float], Matrix]


def _states(stairs, with_exits: bool) -> list[str]:
    return [*stairs.steps, *EXIT_STATUSES] if with_exits else list(stairs.steps)


def _as_array(matrix: Matrix, stairs, name: str) -> np.ndarray:
    """A (n_steps, n_to) array in staircase order from a DataFrame (labels checked) or an array."""
    steps = list(stairs.steps)
    if isinstance(matrix, pd.DataFrame):
        matrix = matrix.drop(index=[r for r in EXIT_STATUSES if r in matrix.index])  # exit rows absorb anyway
        missing_rows = [s for s in steps if s not in matrix.index]
        to = _states(stairs, any(c in EXIT_STATUSES for c in matrix.columns))
        missing_cols = [c for c in to if c not in matrix.columns]
        extra = [c for c in matrix.columns if c not in to] + [r for r in matrix.index if r not in steps]
        if missing_rows or missing_cols or extra:
            raise ParameterError(
                f"{name}: rows must be the steps {steps} and columns the steps (and exits {list(EXIT_STATUSES)}); "
                f"missing rows {missing_rows}, missing columns {missing_cols}, unknown labels {extra}"
            )
        return matrix.loc[steps, to].to_numpy(dtype="float64")
    array = np.asarray(matrix, dtype="float64")
    if array.ndim < 2 or array.shape[-2] != len(steps) or array.shape[-1] not in (len(steps), len(steps) + 3):
        raise ParameterError(f"{name}: expected shape (..., {len(steps)}, {len(steps)} or {len(steps) + 3}); "
                             f"got {array.shape}")
    return array


def _augment(p: np.ndarray) -> np.ndarray:
    """Square matrix over steps and exits (exit rows absorb); accepts (..., K, K) or (..., K, K+3)."""
    k = p.shape[-2]
    if p.shape[-1] == k:
        p = np.concatenate([p, np.zeros((*p.shape[:-1], 3))], axis=-1)
    bottom = np.broadcast_to(np.eye(k + 3)[k:], (*p.shape[:-2], 3, k + 3))
    return np.concatenate([p, bottom], axis=-2)


def _check_rows(p: np.ndarray, stairs, name: str) -> None:
    bad = ~np.isfinite(p).all(axis=-1)
    if bad.any():
        rows = [stairs.steps[i] for i in np.flatnonzero(bad.reshape(-1, p.shape[-2]).any(axis=0))]
        raise ParameterError(f"{name}: row(s) {rows} have no estimate (no transitions observed from them); "
                             f"merge sparse steps or supply those rows")
    off = np.abs(p.sum(axis=-1) - 1) > 1e-6
    if off.any() or (p < -1e-12).any():
        rows = [stairs.steps[i] for i in np.flatnonzero((off | (p < -1e-12).any(axis=-1))
                                                         .reshape(-1, p.shape[-2]).any(axis=0))]
        raise ParameterError(f"{name}: row(s) {rows} are not probabilities summing to 1 over steps and exits")


def _inflow_array(inflow, stairs, years: int) -> np.ndarray:
    """(years, n_states) inflow added at the end of each projected year."""
    n_states = len(stairs.steps) + 3
    out = np.zeros((years, n_states))
    if inflow is None:
        return out
    if isinstance(inflow, pd.Series):
        stairs.check_steps(inflow.index, column="inflow index")
        for step, value in inflow.items():
            out[:, stairs.steps.index(step)] = value
        return out
    if isinstance(inflow, pd.DataFrame):
        stairs.check_steps(inflow.columns, column="inflow columns")
        if len(inflow) != years:
            raise ParameterError(f"inflow has {len(inflow)} rows; expected one per projected year ({years})")
        for step in inflow.columns:
            out[:, stairs.steps.index(step)] = inflow[step].to_numpy(dtype="float64")
        return out
    raise TypeError(f"inflow must be a Series (per year, by step) or a DataFrame (year x step); "
                    f"got {type(inflow).__name__}")


def _stock_array(stock, stairs) -> np.ndarray:
    if isinstance(stock, pd.DataFrame):
        if not {"step", "n"} <= set(stock.columns):
            raise ParameterError(f"stock as a DataFrame needs columns 'step' and 'n'; got {list(stock.columns)}")
        stock = stock.groupby("step", observed=True)["n"].sum()
    if not isinstance(stock, pd.Series):
        raise TypeError(f"stock must be a Series indexed by step or a DataFrame (step, n); got {type(stock).__name__}")
    states = _states(stairs, True)
    unknown = [s for s in stock.index.astype(str) if s not in states]
    if unknown:
        raise ParameterError(f"stock has states {unknown} that are not steps or exits; states are {states}")
    out = np.zeros(len(states))
    for state, value in stock.items():
        out[states.index(str(state))] = value
    return out


def _one_step(transition: TransitionLike, stairs, steps_per_year: int, name: str) -> np.ndarray:
    """The augmented one-year matrix."""
    p = transition(1.0 / steps_per_year) if callable(transition) else transition
    p = _as_array(p, stairs, name)
    _check_rows(p, stairs, name)
    return np.linalg.matrix_power(_augment(p), steps_per_year)


def _run(stock: np.ndarray, one_year: np.ndarray, inflow: np.ndarray) -> np.ndarray:
    """Occupancy (..., years + 1, n_states) for one or many one-year matrices (..., S, S)."""
    years = inflow.shape[0]
    n = np.broadcast_to(stock, (*one_year.shape[:-2], stock.shape[-1])).copy()
    path = [n]
    for t in range(years):
        n = np.einsum("...i,...ij->...j", n, one_year) + inflow[t]
        path.append(n)
    return np.stack(path, axis=-2)


def project_occupancy(
    stock,
    transition: TransitionLike,
    *,
    years: int = 5,
    inflow=None,
    replicates: np.ndarray | Sequence[TransitionLike] | None = None,
    cl: float = 0.95,
    steps_per_year: int = 1,
    start_year: int | None = None,
    staircase=None,
) -> pd.DataFrame:
    """Project the number of citizens per step (and cumulative exits) year by year.

    Parameters
    ----------
    stock : Series or DataFrame
        Citizens per step today (Series indexed by step, or columns ``step`` and ``n``); exits
        may be given to start their cumulative counts.
    transition : DataFrame, ndarray or callable
        The one-period matrix, rows = steps, columns = steps (+ exits), as from
        ``TransitionMatrix.matrix()``; or a callable t -> P(t) with t in years, e.g.
        ``lambda t: progression.transitions.ctmc.pmatrix(Q, t)`` when Q's states carry the staircase's step and
        exit names (rows of exits in a square matrix are ignored: exits absorb).
    years : int, default=5
        Years to project.
    inflow : Series or DataFrame, optional
        New citizens per year by step: a Series (the same every year) or a DataFrame with one row
        per projected year and a column per step. Added at the end of each year.
    replicates : ndarray or sequence, optional
        Bootstrap replicates of the matrix (``TransitionMatrix.replicates()``, shape (B, K, K+3)),
        or a sequence of matrices/callables. Rows without transitions in a replicate take the
        point estimate's row.
    cl : float, default=0.95
        Level of the percentile band over the replicates.
    steps_per_year : int, default=1
        Matrix applications per year (12 for a monthly matrix); a callable gets t = 1/steps_per_year.
    start_year : int, optional
        Calendar year of the stock; the output then has ``year`` as calendar years.

    Returns
    -------
    DataFrame
        ``year`` (0 = today, or calendar years), ``state``, ``kind`` (``step`` or ``exit``,
        exits cumulative), ``n``, and with replicates the band ``conf_low``, ``conf_high``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> from progression.transitions import TransitionMatrix
    >>> panel = load_example("panel_year")
    >>> p = TransitionMatrix(n_boot=0).fit(panel).matrix()
    >>> out = project_occupancy(current_stock(panel), p, years=3, start_year=2024)
    >>> out["year"].unique().tolist()
    [2024, 2025, 2026, 2027]
    """
    stairs = as_staircase(staircase)
    if not isinstance(years, (int, np.integer)) or years < 1:
        raise ParameterError(f"years must be a positive integer; got {years!r}")
    if not isinstance(steps_per_year, (int, np.integer)) or steps_per_year < 1:
        raise ParameterError(f"steps_per_year must be a positive integer; got {steps_per_year!r}")
    start = _stock_array(stock, stairs)
    flows = _inflow_array(inflow, stairs, years)
    one_year = _one_step(transition, stairs, steps_per_year, "transition")
    path = _run(start, one_year, flows)
    states = _states(stairs, True)
    label = np.arange(years + 1) + (start_year or 0)
    out = pd.DataFrame({
        "year": np.repeat(label, len(states)),
        "state": pd.Categorical(np.tile(states, years + 1), categories=states, ordered=True),
        "kind": np.tile(["step"] * len(stairs.steps) + ["exit"] * 3, years + 1),
        "n": path.ravel(),
    })
    if replicates is not None:
        draws = _replicate_paths(replicates, transition, stairs, steps_per_year, start, flows)
        low, high = percentile_interval(draws, cl=cl)
        out["conf_low"], out["conf_high"] = low.ravel(), high.ravel()
    return out


def _replicate_paths(replicates, transition, stairs, steps_per_year, start, flows) -> np.ndarray:
    point = _as_array(transition(1.0 / steps_per_year) if callable(transition) else transition, stairs,
                      "transition")
    if isinstance(replicates, np.ndarray):
        reps = _as_array(replicates, stairs, "replicates")
    else:
        reps = np.stack([_as_array(r(1.0 / steps_per_year) if callable(r) else r, stairs, "replicates")
                         for r in replicates])
    if reps.shape[-1] != point.shape[-1]:
        raise ParameterError(f"replicates have {reps.shape[-1]} columns, the transition {point.shape[-1]}")
    empty = ~np.isfinite(reps).all(axis=-1, keepdims=True)
    reps = np.where(empty, point, reps)
    _check_rows(reps, stairs, "replicates")
    one_year = np.linalg.matrix_power(_augment(reps), steps_per_year)
    return _run(start, one_year, flows)


# -- scenarios -------------------------------------------------------------------------------------
def _lower_mask(stairs, n_to: int) -> np.ndarray:
    """mask[i, j]: destination step j is below step i (exit columns never)."""
    levels = np.asarray(stairs.levels)
    mask = np.zeros((len(levels), n_to), dtype=bool)
    mask[:, :len(levels)] = levels[None, :] < levels[:, None]
    return mask


def _rebalance(p: np.ndarray, stairs, name: str) -> np.ndarray:
    """Put 1 - (off-diagonal mass) on the diagonal; refuse a negative diagonal."""
    k = len(stairs.steps)
    diag = np.arange(k)
    off = p.sum(axis=-1) - p[..., diag, diag]
    p = p.copy()
    p[..., diag, diag] = 1 - off
    negative = p[..., diag, diag] < -1e-12
    if negative.any():
        rows = [stairs.steps[i] for i in np.flatnonzero(negative.reshape(-1, k).any(axis=0))]
        raise ParameterError(f"{name}: the step-down mass of row(s) {rows} would exceed 1 - (other moves); "
                             f"use a smaller factor")
    return p


def _like(result: np.ndarray, template):
    if isinstance(template, pd.DataFrame):
        return pd.DataFrame(result, index=template.index, columns=template.columns)
    return result


def _ordered(p: Matrix, stairs, name: str) -> tuple[np.ndarray, Matrix]:
    array = _as_array(p, stairs, name)
    template = p
    if isinstance(p, pd.DataFrame):
        to = _states(stairs, array.shape[-1] > len(stairs.steps))
        template = pd.DataFrame(index=pd.Index(list(stairs.steps), name=p.index.name),
                                columns=pd.Index(to, name=p.columns.name))
    return array, template


def scale_stepdown(p: Matrix, factor: float, *, staircase=None) -> Matrix:
    """Multiply each row's probabilities of moving to a lower step by ``factor``; the diagonal absorbs it.

    Parameters
    ----------
    p : DataFrame or ndarray
        Transition matrix (rows = steps, columns = steps and optionally exits), or a stack of
        replicates (..., K, K or K+3).
    factor : float
        Multiplier (> 0) on p_ij for level_j < level_i, including moves to no service. Exits
        and step-ups are unchanged.

    Returns
    -------
    Same type as ``p``
        The scenario matrix: p'_ij = factor p_ij below the diagonal, p'_ii = 1 - sum_{j != i} p'_ij.

    Raises
    ------
    ParameterError
        If a diagonal would become negative (the factor is too large for that row).

    Examples
    --------
    Half as many step-downs again from §85 in the example data: to no service 0.116 → 0.173, the
    diagonal gives up the difference:

    >>> from progression.datasets import load_example
    >>> from progression.transitions import TransitionMatrix
    >>> p = TransitionMatrix(n_boot=0).fit(load_example("panel_year")).matrix()
    >>> scale_stepdown(p, 1.5).loc["SEL85", ["none", "SEL82", "SEL85"]].round(3)
    to_step
    none     0.173
    SEL82    0.028
    SEL85    0.716
    Name: SEL85, dtype: float64
    """
    stairs = as_staircase(staircase)
    if not np.isfinite(factor) or factor < 0:
        raise ParameterError(f"factor must be a non-negative number; got {factor!r}")
    array, template = _ordered(p, stairs, "p")
    lower = _lower_mask(stairs, array.shape[-1])
    scaled = np.where(lower, array * factor, array)
    return _like(_rebalance(scaled, stairs, "scale_stepdown"), template)


def match_stepdown(p: Matrix, reference: Matrix, *, staircase=None) -> Matrix:
    """Give every row of ``p`` the step-down probabilities of ``reference``; the diagonal absorbs it.

    Use it for "what if every municipality moved citizens down like the case municipalities?":
    ``match_stepdown(tm.matrix(municipality_set="rest"), tm.matrix(municipality_set="case"))``;
    with replicate stacks of both (same shape) the scenario carries the joint uncertainty.

    Parameters
    ----------
    p, reference : DataFrame or ndarray
        Transition matrices (or stacks of replicates) with the same columns: rows = steps,
        columns = steps and optionally exits.
    staircase : Staircase or StaircaseParams, optional

    Returns
    -------
    Same type as ``p``
        p'_ij = reference_ij below the diagonal, p_ij elsewhere off it, p'_ii = 1 - sum_{j != i} p'_ij.

    Raises
    ------
    ParameterError
        When the matrices' columns differ, or a diagonal would become negative.

    Examples
    --------
    The rest of the country with the step-downs of the four case municipalities of the example data:

    >>> from progression.datasets import load_example
    >>> from progression.transitions import TransitionMatrix, label_municipalities
    >>> panel, municipalities = load_example("panel_year"), load_example("municipalities")
    >>> case = municipalities.loc[municipalities["case_municipality"], "municipality"]
    >>> panel["municipality_set"] = label_municipalities(panel["municipality"], {"case": case})
    >>> tm = TransitionMatrix(n_boot=0).fit(panel, groups=["municipality_set"])
    >>> scenario = match_stepdown(tm.matrix(municipality_set="rest"), tm.matrix(municipality_set="case"))
    >>> scenario.loc["SEL85", ["none", "SEL85"]].round(3)
    to_step
    none     0.106
    SEL85    0.790
    Name: SEL85, dtype: float64
    """
    stairs = as_staircase(staircase)
    array, template = _ordered(p, stairs, "p")
    ref = _as_array(reference, stairs, "reference")
    if ref.shape[-1] != array.shape[-1]:
        raise ParameterError(f"reference has {ref.shape[-1]} columns, p has {array.shape[-1]}")
    lower = _lower_mask(stairs, array.shape[-1])
    return _like(_rebalance(np.where(lower, ref, array), stairs, "match_stepdown"), template)


def implied_stepdown_factor(p: Matrix, reference: Matrix, stock, *, staircase=None) -> float:
    """How much more often citizens step down under ``p`` than under ``reference``.

    The ratio of the stock-weighted step-down probabilities, sum_i n_i sum_{j below i} p_ij: the
    factor of :func:`scale_stepdown` that, applied to ``reference``, moves as many of today's citizens
    down in a period as ``p`` does.

    Parameters
    ----------
    p, reference : DataFrame
        Transition matrices (rows = steps, columns = steps and optionally exits).
    stock : Series
        Citizens per step (:func:`current_stock`), the weights.

    Returns
    -------
    float

    Examples
    --------
    >>> steps = ["none", "SEL82", "SEL85", "SEL107", "ABL105", "SEL108"]
    >>> p = pd.DataFrame(0.02 + 0.88 * np.eye(6), index=steps, columns=steps)
    >>> round(implied_stepdown_factor(scale_stepdown(p, 1.5), p, pd.Series(100, index=steps)), 6)
    1.5
    """
    stairs = as_staircase(staircase)
    steps = list(stairs.steps)
    weights = pd.Series(stock).reindex(steps, fill_value=0).to_numpy(dtype=float)
    below = _lower_mask(stairs, len(steps))

    def down(matrix: Matrix) -> float:
        values = matrix.loc[steps, steps].fillna(0.0).to_numpy() if isinstance(matrix, pd.DataFrame) \
            else np.nan_to_num(np.asarray(matrix, dtype=float)[:, :len(steps)])
        return float(weights @ (values * below).sum(axis=1))

    return down(p) / down(reference)


# -- inputs from the panel -------------------------------------------------------------------------
def current_stock(panel: pd.DataFrame, *, period=None, staircase=None, person_col: str = "person_id",
                  period_col: str = "period", step_col: str = "step", status_col: str = "status") -> pd.Series:
    """Citizens per step in one period of the panel (default: the last), status ``observed`` only.

    Parameters
    ----------
    panel : DataFrame
        Person-period panel.
    period : date-like, optional
        First day of the period; default the panel's last.
    staircase : Staircase or StaircaseParams, optional
    person_col, period_col, step_col, status_col : str
        Column names.

    Returns
    -------
    Series
        ``n`` indexed by ``step`` in staircase order (zeros included): the ``stock`` of
        :func:`project_occupancy`.

    Raises
    ------
    ParameterError
        When no observed citizen is in the period, or a step is not on the staircase.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> current_stock(load_example("panel_year")).index.tolist()
    ['none', 'SEL82', 'SEL85', 'SEL107', 'ABL105', 'SEL108']
    """
    stairs = as_staircase(staircase)
    at = pd.Timestamp(period) if period is not None else panel[period_col].max()
    rows = panel[(panel[period_col] == at) & (panel[status_col].astype(str) == "observed")]
    if rows.empty:
        raise ParameterError(f"no observed citizens in period {at.date()}; periods run "
                             f"{panel[period_col].min().date()} to {panel[period_col].max().date()}")
    counts = rows[step_col].astype(str).value_counts()
    stairs.check_steps(counts.index, column=step_col)
    return counts.reindex(list(stairs.steps), fill_value=0).rename("n").rename_axis("step")


def entrants(panel: pd.DataFrame, persons: pd.DataFrame | None = None, *, young_ages: tuple[int, int] = (18, 19),
             staircase=None, person_col: str = "person_id", period_col: str = "period",
             step_col: str = "step") -> pd.DataFrame:
    """New citizens per year by their first step, all and (with ``persons``) the young among them.

    New citizens are those whose panel starts after its first period (those already there are the
    stock). The young are those whose age (year minus birth year) lies in ``young_ages``: the young
    people who come from the children's area at 18.

    Parameters
    ----------
    panel : DataFrame
        Person-period panel.
    persons : DataFrame, optional
        Table ``persons`` (``birth_year``), for ``n_young``.
    young_ages : (int, int), default=(18, 19)
        First and last age of the young.

    Returns
    -------
    DataFrame
        ``year``, ``step``, ``n`` (entrants) and, with ``persons``, ``n_young``: every year with
        entrants and every step, zeros included.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> new = entrants(load_example("panel_year"), load_example("persons"))
    >>> list(new.columns), bool((new["n_young"] <= new["n"]).all())
    (['year', 'step', 'n', 'n_young'], True)
    """
    stairs = as_staircase(staircase)
    first = panel.sort_values([person_col, period_col]).groupby(person_col, sort=False).head(1)
    first = first[first[period_col] > panel[period_col].min()]
    steps = first[step_col].astype(str)
    stairs.check_steps(steps.unique(), column=step_col)
    frame = pd.DataFrame({"year": first[period_col].dt.year.to_numpy(), "step": steps.to_numpy()})
    columns = {"n": ("step", "size")}
    if persons is not None:
        age = first[period_col].dt.year - first[person_col].map(persons.set_index(person_col)["birth_year"])
        frame["young"] = age.between(*young_ages).to_numpy()
        columns["n_young"] = ("young", "sum")
    out = frame.groupby(["year", "step"]).agg(**columns).reset_index()
    grid = pd.MultiIndex.from_product([sorted(out["year"].unique()), list(stairs.steps)], names=["year", "step"])
    out = out.set_index(["year", "step"]).reindex(grid, fill_value=0).reset_index()
    return out.astype({c: "int64" for c in columns})


def yearly_inflow(entrants: pd.DataFrame, *, years: Sequence[int], staircase=None) -> pd.Series:
    """Mean entrants per year by step over ``years``: the inflow of :func:`project_occupancy`.

    Parameters
    ----------
    entrants : DataFrame
        :func:`entrants`.
    years : sequence of int
        The years averaged over.

    Returns
    -------
    Series
        Entrants per year, indexed by step.

    Raises
    ------
    ParameterError
        When no entrant falls in ``years``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> new = entrants(load_example("panel_year"), load_example("persons"))
    >>> yearly_inflow(new, years=[2022, 2023, 2024]).round(1)
    step
    none        0.0
    SEL82      42.0
    SEL85     238.7
    SEL107     33.0
    ABL105     31.7
    SEL108      7.7
    Name: n, dtype: float64
    """
    stairs = as_staircase(staircase)
    rows = entrants[entrants["year"].isin(list(years))]
    if rows.empty:
        raise ParameterError(f"no entrants in the years {list(years)}; entrants are counted in "
                             f"{sorted(entrants['year'].unique())}")
    per_year = rows.groupby("step")["n"].sum() / len(set(years))  # a year without entrants counts as zero
    return per_year.reindex(list(stairs.steps), fill_value=0.0).rename("n").rename_axis("step")
