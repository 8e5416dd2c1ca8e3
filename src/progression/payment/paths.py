"""Citizens' paths on the staircase and through support levels: the states, their yearly transitions, projections.

A citizen's state in a year is the step held (the staircase) and, on a service step, the support level
(1 = least need). The yearly transition from state (s, l) combines the step transitions P of the fitted
transition model with the support-level transitions within a step Q_s and the level on arrival at a step e_s:

.. math::

    \\tilde P[(s,l) \\to (s',l')] = P_{ss'} \\cdot
    \\begin{cases} Q_s[l, l'] & s' = s \\\\ e_{s'}[l'] & s' \\ne s \\end{cases}

with the exits (died, emigrated, moved) absorbing. A move between municipalities is not an exit from the
country: by default it is folded into staying (``moves="stay"``), which keeps the national totals right and
takes a municipality's out- and in-moves to balance. Occupancy then follows
``x_{t+1} = x_t P̃ + a`` (today's stock x_0, yearly inflow a by state), as in
:func:`progression.transitions.projection.project_occupancy`, of which the step margins of these paths are
the projection.

The step transitions stay independent of the support level: a resident at level 3 steps down as often as
one at level 1. The support levels come from VUM functioning levels (:func:`support_levels`); their
within-step transitions from consecutive years on the same step (:func:`support_transitions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from progression._validation import check_columns, check_frame, check_positive_int
from progression.exceptions import DataContractError, ParameterError
from progression.payment.tariffs import support_level
from progression.staircase import EXIT_STATUSES, Staircase, as_staircase

__all__ = ["StateSpace", "support_levels", "support_transitions", "level_mix", "support_matrices",
           "stock_and_inflow", "exposure_factors", "joint_matrix", "progression_rates", "project",
           "without_progression",
           "scale_progression"]


@dataclass(frozen=True)
class StateSpace:
    """The states of a citizen-year: no service, each service step at each support level, and the exits.

    Parameters
    ----------
    staircase : Staircase
        The steps, least to most intensive.
    n_levels : int
        Support levels on every service step.
    botilbud : tuple of str
        Steps whose providers the payment models pay.

    Examples
    --------
    >>> space = StateSpace.from_staircase(n_levels=3)
    >>> space.n_states, space.states[:3], space.states[-3:]
    (19, ('none', 'SEL82.1', 'SEL82.2'), ('died', 'emigrated', 'moved'))
    >>> space.state("SEL108", 3), int(space.botilbud_mask.sum())
    (15, 9)
    """

    staircase: Staircase
    n_levels: int
    botilbud: tuple[str, ...]

    @classmethod
    def from_staircase(cls, staircase=None, *, n_levels: int = 3,
                       botilbud: Sequence[str] = ("SEL107", "ABL105", "SEL108")) -> "StateSpace":
        """The state space of a staircase (default: the staircase of Social- og Boligstyrelsen 2024,
        *Kommunernes omlægning til Borgeren ved roret*) with ``n_levels`` support levels."""
        stairs = as_staircase(staircase)
        check_positive_int(n_levels, name="n_levels")
        botilbud = tuple(botilbud)
        stairs.check_steps(botilbud, column="botilbud_steps")
        if stairs.none_step in botilbud:
            raise ParameterError(f"botilbud_steps: the no-service step {stairs.none_step!r} has no provider")
        ordered = tuple(s for s in stairs.steps if s in botilbud)
        return cls(staircase=stairs, n_levels=n_levels, botilbud=ordered)

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(self.staircase.steps)

    @property
    def none_step(self) -> str:
        return self.staircase.none_step

    @property
    def service(self) -> tuple[str, ...]:
        """Steps with a service (all but the no-service step)."""
        return tuple(s for s in self.steps if s != self.none_step)

    @cached_property
    def states(self) -> tuple[str, ...]:
        """State labels: the no-service step, ``step.level`` for service steps, then the exits."""
        return (self.none_step, *[f"{s}.{lvl}" for s in self.service for lvl in range(1, self.n_levels + 1)],
                *EXIT_STATUSES)

    @property
    def n_states(self) -> int:
        return len(self.states)

    def state(self, step: str, level: int | None = None) -> int:
        """Index of a state: a step (and support level on a service step) or an exit."""
        if step in EXIT_STATUSES:
            return self.states.index(step)
        self.staircase.check_steps([step])
        if step == self.none_step:
            return 0
        if level is None or not 1 <= int(level) <= self.n_levels:
            raise ParameterError(f"state of step {step!r} needs a support level 1-{self.n_levels}; got {level!r}")
        return 1 + self.service.index(step) * self.n_levels + int(level) - 1

    @cached_property
    def step_index(self) -> np.ndarray:
        """Staircase index of each state's step (exits: -1)."""
        out = [0] + [self.steps.index(s) for s in self.service for _ in range(self.n_levels)] + [-1] * 3
        return np.asarray(out)

    @cached_property
    def level(self) -> np.ndarray:
        """Support level of each state (0 for no service and the exits)."""
        return np.asarray([0] + list(range(1, self.n_levels + 1)) * len(self.service) + [0] * 3)

    @cached_property
    def botilbud_mask(self) -> np.ndarray:
        return np.isin(self.step_index, [self.steps.index(s) for s in self.botilbud])

    @cached_property
    def service_mask(self) -> np.ndarray:
        return (self.step_index > 0) & (self.step_index != self.steps.index(self.none_step))

    @cached_property
    def membership(self) -> np.ndarray:
        """(n_states, n_botilbud) 0/1: state k is on botilbud step j."""
        out = np.zeros((self.n_states, len(self.botilbud)))
        for j, s in enumerate(self.botilbud):
            out[self.step_index == self.steps.index(s), j] = 1.0
        return out


# -- support levels from VUM -------------------------------------------------------------------------
def support_levels(scores: pd.DataFrame, *, cuts: Sequence[float], person_col: str = "person_id",
                   date_col: str = "assessment_date", score_col: str = "raw") -> pd.DataFrame:
    """The support level of each citizen in each year: the last valid VUM assessment of the year.

    Parameters
    ----------
    scores : DataFrame
        Scored VUM assessments, one row per citizen and date (:func:`progression.recovery.score` with
        ``"VUM"``: the mean functioning level of the domains in ``raw``, ``valid``).
    cuts : sequence of float
        Cut points between support levels (:func:`~progression.payment.support_level`).

    Returns
    -------
    DataFrame
        ``person_id``, ``year``, ``functioning``, ``support_level`` (person-level: never leaves a run).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> from progression.recovery import score
    >>> levels = support_levels(score(load_example("assessments"), "VUM"), cuts=[1.0, 2.0])
    >>> list(levels.columns), sorted(levels["support_level"].unique().tolist())
    (['person_id', 'year', 'functioning', 'support_level'], [1, 2, 3])
    """
    check_frame(scores, name="scores")
    check_columns(scores, [person_col, date_col, score_col], name="scores")
    rows = scores[scores["valid"]] if "valid" in scores else scores
    rows = rows.dropna(subset=[score_col])
    year = pd.to_datetime(rows[date_col]).dt.year
    last = (rows.assign(year=year).sort_values([person_col, date_col], kind="stable")
            .groupby([person_col, "year"], sort=True).tail(1))
    out = pd.DataFrame({"person_id": last[person_col].to_numpy(), "year": last["year"].to_numpy().astype(int),
                        "functioning": last[score_col].to_numpy(dtype=float)})
    out["support_level"] = support_level(out["functioning"], cuts)
    return out.reset_index(drop=True)


def _yearly(panel: pd.DataFrame) -> pd.DataFrame:
    check_columns(panel, ["person_id", "period", "step", "municipality", "status"], name="panel")
    out = panel[["person_id", "period", "step", "municipality", "status"]].copy()
    out["year"] = pd.to_datetime(out["period"]).dt.year.astype(int)
    out["step"] = out["step"].astype(str)
    out["status"] = out["status"].astype(str)
    return out


def level_mix(levels: pd.DataFrame, panel: pd.DataFrame, *, years: Sequence[int], staircase=None) -> pd.DataFrame:
    """Citizen-years per service step and support level in ``years`` (citizens with a VUM that year).

    Returns
    -------
    DataFrame
        ``step``, ``support_level``, ``n`` (citizen-years), ``n_persons`` (distinct citizens).

    Examples
    --------
    >>> levels = pd.DataFrame({"person_id": [1, 2], "year": [2023, 2023], "support_level": [2, 3]})
    >>> panel = pd.DataFrame({"person_id": [1, 2], "period": pd.to_datetime(["2023-01-01"] * 2),
    ...                       "step": ["SEL108", "SEL108"], "municipality": 101, "status": "observed"})
    >>> level_mix(levels, panel, years=[2023])["n"].tolist()
    [1, 1]
    """
    stairs = as_staircase(staircase)
    yearly = _yearly(panel)
    rows = yearly[yearly["year"].isin(list(years)) & (yearly["status"] == "observed")
                  & (yearly["step"] != stairs.none_step)]
    rows = rows.merge(levels[["person_id", "year", "support_level"]], on=["person_id", "year"], how="inner")
    rows = rows[rows["support_level"] > 0]
    out = rows.groupby(["step", "support_level"]).agg(n=("person_id", "size"), n_persons=("person_id", "nunique"))
    return out.reset_index()


def support_transitions(levels: pd.DataFrame, panel: pd.DataFrame, *, years: Sequence[int],
                        staircase=None) -> pd.DataFrame:
    """Support-level moves of citizens who stay on the same service step from one year to the next.

    A pair is a citizen on step s with a support level in year y and on s again with a level in y + 1,
    y and y + 1 both in ``years``.

    Returns
    -------
    DataFrame
        ``step``, ``from_level``, ``to_level``, ``n`` (pairs), ``n_persons`` (distinct citizens).

    Examples
    --------
    >>> levels = pd.DataFrame({"person_id": [1, 1], "year": [2022, 2023], "support_level": [3, 2]})
    >>> panel = pd.DataFrame({"person_id": [1, 1], "period": pd.to_datetime(["2022-01-01", "2023-01-01"]),
    ...                       "step": "SEL108", "municipality": 101, "status": "observed"})
    >>> support_transitions(levels, panel, years=[2022, 2023])[["step", "from_level", "to_level", "n"]].values.tolist()
    [['SEL108', 3, 2, 1]]
    """
    stairs = as_staircase(staircase)
    yearly = _yearly(panel)
    rows = yearly[yearly["year"].isin(list(years)) & (yearly["status"] == "observed")
                  & (yearly["step"] != stairs.none_step)]
    rows = rows.merge(levels[["person_id", "year", "support_level"]], on=["person_id", "year"], how="inner")
    rows = rows[rows["support_level"] > 0]
    nxt = rows[["person_id", "year", "step", "support_level"]].assign(year=lambda d: d["year"] - 1)
    pairs = rows.merge(nxt, on=["person_id", "year", "step"], suffixes=("_from", "_to"))
    pairs = pairs.rename(columns={"support_level_from": "from_level", "support_level_to": "to_level"})
    out = pairs.groupby(["step", "from_level", "to_level"]).agg(n=("person_id", "size"),
                                                                n_persons=("person_id", "nunique"))
    return out.reset_index()


def support_matrices(transitions: pd.DataFrame, mix: pd.DataFrame, space: StateSpace, *,
                     min_pairs: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """The yearly support-level matrix Q_s of each service step and the level distribution e_s on arrival.

    Q_s[l, l'] = n_s(l → l') / n_s(l →): a row with fewer than ``min_pairs`` pairs borrows the pooled row of
    all service steps (and stays put when that is empty too). e_s is the citizen-year mix of levels on the
    step (uniform when the step has no assessed citizens).

    Returns
    -------
    (ndarray, ndarray)
        Q of shape (n_service, L, L) and e of shape (n_service, L), in ``space.service`` order.

    Examples
    --------
    >>> space = StateSpace.from_staircase(n_levels=2)
    >>> moves = pd.DataFrame({"step": ["SEL108"] * 2, "from_level": [2, 2], "to_level": [1, 2], "n": [10, 30]})
    >>> mix = pd.DataFrame({"step": ["SEL108"] * 2, "support_level": [1, 2], "n": [1, 3]})
    >>> Q, e = support_matrices(moves, mix, space)
    >>> Q[space.service.index("SEL108")].tolist(), e[space.service.index("SEL108")].tolist()
    ([[1.0, 0.0], [0.25, 0.75]], [0.25, 0.75])
    """
    L, service = space.n_levels, space.service
    counts = np.zeros((len(service), L, L))
    for row in transitions.itertuples(index=False):
        if row.step in service and 1 <= row.from_level <= L and 1 <= row.to_level <= L:
            counts[service.index(row.step), row.from_level - 1, row.to_level - 1] += row.n
    pooled = counts.sum(axis=0)
    Q = np.empty_like(counts)
    for i in range(len(service)):
        for lvl in range(L):
            own, pool = counts[i, lvl], pooled[lvl]
            if own.sum() >= min_pairs:
                Q[i, lvl] = own / own.sum()
            elif pool.sum() > 0:
                Q[i, lvl] = pool / pool.sum()
            else:
                Q[i, lvl] = np.eye(L)[lvl]
    e = np.full((len(service), L), 1.0 / L)
    for i, step in enumerate(service):
        rows = mix[mix["step"] == step]
        n = np.zeros(L)
        for row in rows.itertuples(index=False):
            if 1 <= row.support_level <= L:
                n[row.support_level - 1] += row.n
        if n.sum() > 0:
            e[i] = n / n.sum()
    return Q, e


def stock_and_inflow(panel: pd.DataFrame, levels: pd.DataFrame, entry: np.ndarray, space: StateSpace, *,
                     year: int, inflow_years: Sequence[int], municipalities: Sequence[int]) -> dict:
    """Today's citizens per municipality and state, and the yearly inflow of new citizens.

    The stock is everyone observed in ``year``, on their step and (on a service step) at the support
    level of their last VUM assessment up to that year; a citizen never assessed is spread over the
    levels by the step's arrival mix ``entry``. The inflow is the mean number of new citizens a year
    (persons whose panel starts after its first period) in ``inflow_years``, by first step, spread over
    the levels by ``entry``.

    Returns
    -------
    dict
        ``stock`` and ``inflow`` of shape (n_municipalities, n_states), ``n_persons`` (citizens on a service
        step per municipality), ``residents`` (DataFrame: municipality, step, support_level, n_persons of the
        stock with a known level, for group tariffs).

    Examples
    --------
    >>> space = StateSpace.from_staircase(n_levels=1)
    >>> panel = pd.DataFrame({"person_id": [1, 1, 2], "period": pd.to_datetime(["2023-01-01", "2024-01-01",
    ...                       "2024-01-01"]), "step": ["SEL108", "SEL108", "SEL85"], "municipality": [101, 101, 147],
    ...                       "status": "observed"})
    >>> out = stock_and_inflow(panel, pd.DataFrame(columns=["person_id", "year", "support_level"]), np.ones((5, 1)),
    ...                        space, year=2024, inflow_years=[2024], municipalities=[101, 147])
    >>> out["stock"].sum(axis=1).tolist(), float(out["inflow"][1, space.state("SEL85", 1)])
    ([1.0, 1.0], 1.0)
    """
    yearly = _yearly(panel)
    municipalities = list(municipalities)
    where = {m: i for i, m in enumerate(municipalities)}
    K, L = space.n_states, space.n_levels
    unknown = sorted(set(yearly["municipality"].unique()) - set(where))
    if unknown:
        raise DataContractError(f"panel: municipalities {unknown[:5]} are not among the {len(municipalities)} "
                                "municipalities given")
    now = yearly[(yearly["year"] == year) & (yearly["status"] == "observed")]
    if now.empty:
        raise DataContractError(f"panel: no observed citizens in {year}; years present: "
                                f"{sorted(yearly['year'].unique())[:3]} ... {sorted(yearly['year'].unique())[-3:]}")
    known = levels[levels["year"] <= year].sort_values(["person_id", "year"]).groupby("person_id").tail(1)
    now = now.merge(known[["person_id", "support_level"]], on="person_id", how="left")
    now["support_level"] = now["support_level"].fillna(0).astype(int)
    stock = np.zeros((len(municipalities), K))
    m_idx = now["municipality"].map(where).to_numpy()
    s_idx = now["step"].map({s: i for i, s in enumerate(space.steps)}).to_numpy()
    service = space.service
    for m, s, lvl in zip(m_idx, s_idx, now["support_level"].to_numpy()):
        step = space.steps[s]
        if step == space.none_step:
            stock[m, 0] += 1
            continue
        first = space.state(step, 1)
        if lvl > 0:
            stock[m, first + lvl - 1] += 1
        else:
            stock[m, first:first + L] += entry[service.index(step)]
    first_year = yearly["year"].min()
    starts = yearly.sort_values(["person_id", "year"]).groupby("person_id").head(1)
    starts = starts[(starts["year"] > first_year) & starts["year"].isin(list(inflow_years))]
    inflow = np.zeros((len(municipalities), K))
    for (m, step), n in starts.groupby(["municipality", "step"]).size().items():
        i = where[m]
        if step == space.none_step:
            inflow[i, 0] += n
        else:
            first = space.state(step, 1)
            inflow[i, first:first + L] += n * entry[service.index(step)]
    inflow /= max(1, len(set(inflow_years)))
    on_service = now[now["step"] != space.none_step]
    n_persons = on_service.groupby("municipality").size().reindex(municipalities, fill_value=0).to_numpy()
    residents = (on_service[on_service["support_level"] > 0]
                 .groupby(["municipality", "step", "support_level"]).size().rename("n_persons").reset_index())
    return {"stock": stock, "inflow": inflow, "n_persons": n_persons.astype(float), "residents": residents,
            "persons": now[["person_id", "municipality", "step", "support_level"]]}


def exposure_factors(spells: pd.DataFrame, panel: pd.DataFrame, *, years: Sequence[int], staircase=None,
                     person_col: str = "person_id") -> pd.DataFrame:
    """The share of a year a citizen the yearly panel puts on a step actually spends on it.

    The yearly panel gives a citizen the highest step held during the year, so a year counts whole
    even when the step was held for a month; a takst is paid per day. The factor of a step is
    Σ days on the step's paragraphs / Σ days of the years, over the citizen-years on the step in ``years``
    (overlapping spells of one step counted once per day up to the year's length). Multiplying citizens
    by it gives full-year equivalents (*helårspersoner*), the unit takster and places are counted in.

    Returns
    -------
    DataFrame
        ``step``, ``exposure`` (factor in (0, 1]), ``n`` (citizen-years), ``n_persons``.

    Examples
    --------
    >>> spells = pd.DataFrame({"person_id": [1], "paragraph": ["SEL108"], "start_date": pd.to_datetime(["2021-07-02"]),
    ...                        "end_date": pd.to_datetime([None])})
    >>> panel = pd.DataFrame({"person_id": [1], "period": pd.to_datetime(["2021-01-01"]), "step": "SEL108",
    ...                       "municipality": 101, "status": "observed"})
    >>> round(float(exposure_factors(spells, panel, years=[2021])["exposure"].iloc[0]), 3)
    0.501
    """
    stairs = as_staircase(staircase)
    check_columns(spells, [person_col, "paragraph", "start_date", "end_date"], name="spells")
    yearly = _yearly(panel)
    rows = yearly[yearly["year"].isin(list(years)) & (yearly["status"] == "observed")
                  & (yearly["step"] != stairs.none_step)][["person_id", "year", "step"]].reset_index(drop=True)
    rows["_row"] = np.arange(len(rows))
    sp = spells[[person_col, "paragraph", "start_date", "end_date"]].rename(columns={person_col: "person_id"})
    sp = sp.assign(step=sp["paragraph"].map(dict(stairs.paragraphs))).dropna(subset=["step"])
    m = rows.merge(sp[["person_id", "step", "start_date", "end_date"]], on=["person_id", "step"], how="inner")
    first = pd.to_datetime(m["year"].astype(str) + "-01-01")
    last = pd.to_datetime(m["year"].astype(str) + "-12-31")
    start = pd.to_datetime(m["start_date"]).where(pd.to_datetime(m["start_date"]) > first, first)
    end = pd.to_datetime(m["end_date"]).fillna(last)
    end = end.where(end < last, last)
    m["days"] = ((end - start).dt.days + 1).clip(lower=0)
    days = m.groupby("_row")["days"].sum().reindex(rows["_row"], fill_value=0).to_numpy(dtype=float)
    length = np.where(pd.to_datetime(rows["year"].astype(str) + "-12-31").dt.is_leap_year, 366.0, 365.0)
    rows["days"] = np.minimum(days, length)
    rows["length"] = length
    out = rows.groupby("step").agg(days=("days", "sum"), length=("length", "sum"), n=("person_id", "size"),
                                   n_persons=("person_id", "nunique")).reset_index()
    out["exposure"] = (out["days"] / out["length"]).clip(upper=1.0)
    out.loc[out["exposure"] <= 0, "exposure"] = 1.0
    return out[["step", "exposure", "n", "n_persons"]]


# -- the yearly transition of states ----------------------------------------------------------------
def _step_array(step_matrix, space: StateSpace) -> np.ndarray:
    """(..., S, S + 3) array in staircase order from a DataFrame (labels checked) or an array."""
    steps, to = list(space.steps), [*space.steps, *EXIT_STATUSES]
    if isinstance(step_matrix, pd.DataFrame):
        missing = [r for r in steps if r not in step_matrix.index] + [c for c in to if c not in step_matrix.columns]
        if missing:
            raise ParameterError(f"step_matrix: rows must be the steps {steps} and columns the steps and exits "
                                 f"{list(EXIT_STATUSES)}; missing {missing}")
        return step_matrix.loc[steps, to].to_numpy(dtype=float)
    array = np.asarray(step_matrix, dtype=float)
    if array.ndim < 2 or array.shape[-2:] != (len(steps), len(to)):
        raise ParameterError(f"step_matrix: expected shape (..., {len(steps)}, {len(to)}); got {array.shape}")
    return array


def _fold_moves(P: np.ndarray, S: int) -> np.ndarray:
    P = P.copy()
    diag = np.arange(S)
    P[..., diag, diag] += P[..., :, S + 2]
    P[..., :, S + 2] = 0.0
    return P


def joint_matrix(step_matrix, support: np.ndarray, entry: np.ndarray, space: StateSpace, *,
                 moves: str = "stay") -> np.ndarray:
    """The yearly transition matrix of states from step transitions, support-level transitions and arrival levels.

    Parameters
    ----------
    step_matrix : DataFrame or ndarray
        P, rows = steps, columns = steps and exits (``TransitionMatrix.matrix()``), or a stack (..., S, S+3).
    support : ndarray of shape (n_service, L, L)
        Q_s, the within-step support-level transitions (:func:`support_matrices`).
    entry : ndarray of shape (n_service, L)
        e_s, the support levels on arrival at a step.
    moves : {"stay", "exit"}
        Fold moves between municipalities into staying (default), or keep them absorbing.

    Returns
    -------
    ndarray of shape (..., n_states, n_states)
        Rows sum to one; exit rows absorb.

    Examples
    --------
    >>> space = StateSpace.from_staircase(n_levels=2)
    >>> P = np.zeros((6, 9)); P[np.arange(6), np.arange(6)] = 1.0
    >>> Q = np.tile(np.array([[0.5, 0.5], [0.0, 1.0]]), (5, 1, 1)); e = np.full((5, 2), 0.5)
    >>> J = joint_matrix(P, Q, e, space)
    >>> J.shape, bool(np.allclose(J.sum(axis=1), 1)), float(J[space.state("SEL108", 1), space.state("SEL108", 2)])
    ((14, 14), True, 0.5)
    """
    if moves not in ("stay", "exit"):
        raise ParameterError(f"moves must be 'stay' or 'exit'; got {moves!r}")
    P = _step_array(step_matrix, space)
    S, L, K = len(space.steps), space.n_levels, space.n_states
    n_service = len(space.service)
    support, entry = np.asarray(support, dtype=float), np.asarray(entry, dtype=float)
    if support.shape != (n_service, L, L) or entry.shape != (n_service, L):
        raise ParameterError(f"support must have shape {(n_service, L, L)} and entry {(n_service, L)}; "
                             f"got {support.shape} and {entry.shape}")
    if moves == "stay":
        P = _fold_moves(P, S)
    arrival = np.zeros((S + 3, K))  # step (or exit) -> distribution over states on arrival
    none = space.steps.index(space.none_step)
    arrival[none, 0] = 1.0
    for i, step in enumerate(space.service):
        first = space.state(step, 1)
        arrival[space.steps.index(step), first:first + L] = entry[i]
    for j in range(3):
        arrival[S + j, K - 3 + j] = 1.0
    transient = space.step_index[:K - 3]
    J = np.zeros((*P.shape[:-2], K, K))
    J[..., :K - 3, :] = np.einsum("...ks,sj->...kj", P[..., transient, :], arrival)
    for i, step in enumerate(space.service):  # staying on the step: the support-level chain instead of arrival
        s, first = space.steps.index(step), space.state(step, 1)
        block = slice(first, first + L)
        stay = P[..., s, s][..., None, None]
        J[..., block, block] += stay * (support[i] - entry[i][None, :])
    J[..., K - 3:, K - 3:] = np.eye(3)
    return J


def _lower_steps(space: StateSpace) -> np.ndarray:
    levels = np.asarray(space.staircase.levels)
    mask = np.zeros((len(levels), len(levels) + 3), dtype=bool)
    mask[:, :len(levels)] = levels[None, :] < levels[:, None]
    return mask


def progression_rates(step_matrix, support: np.ndarray, space: StateSpace, *, moves: str = "stay") -> np.ndarray:
    """Yearly probability that a botilbud resident in each state steps down, or stays and needs less support.

    Returns
    -------
    ndarray of shape (..., 2, n_states)
        Row 0: a move to a lower step (no service included); row 1: staying on the step at a lower support
        level. Zero for states off the botilbud steps.

    Examples
    --------
    >>> space = StateSpace.from_staircase(n_levels=1)
    >>> P = np.zeros((6, 9)); P[np.arange(6), np.arange(6)] = 1.0; P[5, 5], P[5, 2] = 0.8, 0.2
    >>> float(progression_rates(P, np.ones((5, 1, 1)), space)[0, space.state("SEL108", 1)])
    0.2
    """
    P = _step_array(step_matrix, space)
    S = len(space.steps)
    if moves == "stay":
        P = _fold_moves(P, S)
    down = (P * _lower_steps(space)).sum(axis=-1)  # (..., S)
    L = space.n_levels
    lower = np.tril(np.ones((L, L)), k=-1)
    drop = (np.asarray(support) * lower).sum(axis=-1)  # (n_service, L)
    out = np.zeros((*P.shape[:-2], 2, space.n_states))
    for step in space.botilbud:
        s, first = space.steps.index(step), space.state(step, 1)
        out[..., 0, first:first + L] = down[..., s][..., None]
        out[..., 1, first:first + L] = P[..., s, s][..., None] * drop[space.service.index(step)]
    return out


def scale_progression(step_matrix, support: np.ndarray, space: StateSpace, *, stepdown: float = 1.0,
                      less_support: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Scale the step-downs and the support-level falls of the botilbud steps; the diagonal absorbs the change.

    Step-downs are scaled with :func:`progression.transitions.projection.scale_stepdown` on the botilbud rows
    only; the support-level falls within a botilbud step (below the diagonal of Q_s) likewise. A factor 0
    removes them (no progression), a factor 1.25 makes them 25 % more likely.

    Returns
    -------
    (ndarray, ndarray)
        The scaled step matrix (..., S, S+3) and support matrices (n_service, L, L).

    Raises
    ------
    ParameterError
        When a factor would make a diagonal negative.


    Examples
    --------
    >>> space = StateSpace.from_staircase(n_levels=1)
    >>> P = np.zeros((6, 9)); P[np.arange(6), np.arange(6)] = 1.0; P[5, 5], P[5, 2] = 0.8, 0.2
    >>> P2, _ = scale_progression(P, np.ones((5, 1, 1)), space, stepdown=1.5)
    >>> round(float(P2[5, 2]), 2), round(float(P2[5, 5]), 2)
    (0.3, 0.7)
    """
    from progression.transitions.projection import scale_stepdown

    P = _step_array(step_matrix, space).copy()
    rows = [space.steps.index(s) for s in space.botilbud]
    if stepdown != 1.0:
        scaled = scale_stepdown(P, stepdown, staircase=space.staircase)
        P[..., rows, :] = scaled[..., rows, :]
    Q = np.array(support, dtype=float, copy=True)
    if less_support != 1.0:
        L = space.n_levels
        lower = np.tril(np.ones((L, L), dtype=bool), k=-1)
        for step in space.botilbud:
            i = space.service.index(step)
            q = np.where(lower, Q[i] * less_support, Q[i])
            off = q.sum(axis=1) - np.diag(q)
            if np.any(off > 1 + 1e-12):
                raise ParameterError(f"less_support factor {less_support} makes the support-level falls on {step} "
                                     "exceed 1; use a smaller factor")
            q[np.arange(L), np.arange(L)] = 1 - off
            Q[i] = q
    return P, Q


def without_progression(step_matrix, support: np.ndarray, space: StateSpace, *, stepdowns: bool = True,
                        less_support: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Paths without progression of botilbud residents: no step-downs, no support-level falls (or one of them).

    Examples
    --------
    >>> space = StateSpace.from_staircase(n_levels=2)
    >>> P = np.full((6, 9), 1 / 9); Q = np.tile(np.array([[0.8, 0.2], [0.3, 0.7]]), (5, 1, 1))
    >>> P0, Q0 = without_progression(P, Q, space)
    >>> float(progression_rates(P0, Q0, space).max()), Q0[space.service.index("SEL108")].tolist()
    (0.0, [[0.8, 0.2], [0.0, 1.0]])
    """
    return scale_progression(step_matrix, support, space, stepdown=0.0 if stepdowns else 1.0,
                             less_support=0.0 if less_support else 1.0)


def project(stock: np.ndarray, joint: np.ndarray, inflow: np.ndarray | None = None, *, years: int) -> np.ndarray:
    """Occupancy by state year by year: ``x_{t+1} = x_t P̃ + a``.

    Parameters
    ----------
    stock : ndarray of shape (M, K)
        Citizens per area (municipality) and state today.
    joint : ndarray of shape (..., K, K)
        P̃ (:func:`joint_matrix`), or a stack of them (bootstrap replicates).
    inflow : ndarray of shape (M, K), optional
        New citizens per year, added at the end of each year.
    years : int
        Years projected.

    Returns
    -------
    ndarray of shape (..., M, years + 1, K)
        Year 0 is today's stock.


    Examples
    --------
    >>> project(np.array([[100.0, 0.0]]), np.array([[0.9, 0.1], [0.0, 1.0]]), years=2)[0, :, 0].round(1).tolist()
    [100.0, 90.0, 81.0]
    """
    check_positive_int(years, name="years")
    stock = np.asarray(stock, dtype=float)
    joint = np.asarray(joint, dtype=float)
    inflow = np.zeros_like(stock) if inflow is None else np.asarray(inflow, dtype=float)
    x = np.broadcast_to(stock, (*joint.shape[:-2], *stock.shape)).copy()
    out = np.empty((*joint.shape[:-2], stock.shape[0], years + 1, stock.shape[1]))
    out[..., 0, :] = x
    for t in range(1, years + 1):
        x = np.einsum("...mk,...kj->...mj", x, joint) + inflow  # no BLAS: the same bits in any thread
        out[..., t, :] = x
    return out
