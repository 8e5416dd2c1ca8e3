"""The steps of the step-transition analysis (notebook ``20_transitions``).

Each step is a function of the run's tables and parameters that returns a tidy table carrying its
disclosure declaration (:mod:`progression.disclosure`), ready for
:meth:`~progression.chain.run_context.RunContext.write_result`. The estimators live in the topic
package: :class:`~progression.transitions.TransitionMatrix` and
:class:`~progression.transitions.CohortFlow` (:mod:`progression.transitions.discrete`), the
Kaplan-Meier durations (:mod:`progression.transitions.durations`), the projection
(:mod:`progression.transitions.projection`) and the multi-state model
(:mod:`progression.transitions.ctmc`).

The steps, in the notebook's order:

1. the analysis panel (:func:`period_panel`, :func:`analysis_panel`) and the citizens per step and
   year (:func:`stock_by_year`);
2. transition matrices overall and by group (:func:`transition_matrix`, :func:`matrices_by`), the
   case municipalities against the rest (:func:`case_vs_rest`, :func:`flow_case_vs_rest`);
3. the multi-state model (:func:`ctmc_data`, :func:`fit_ctmc`, :func:`ctmc_fit_numbers`,
   :func:`ctmc_tables`);
4. time on a step and to re-entry (:func:`time_on_step_by`, :func:`km_summary`,
   :func:`reentry_curve`, :func:`reentry_shares_by`);
5. the projection with its scenarios (:func:`project_staircase`);
6. on synthetic data, the model against the generating truth (:func:`ctmc_truth`,
   :func:`ctmc_coverage`; the section "comparisons with the synthetic truth" below).

Examples
--------
>>> from progression.datasets import load_example
>>> panel = analysis_panel(load_example("panel_year"), load_example("persons"), start_year=2014,
...                        end_year=2024, case_municipalities=[265, 169, 657, 751], age_bands=[18, 30, 50, 67])
>>> table = transition_matrix(panel, n_boot=0)
>>> from progression.disclosure import declaration_of
>>> declaration_of(table).counts
('n_described', 'n_persons_from')
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from progression._tidy import stream_seed
from progression.constants import TARGET_GROUPS
from progression.disclosure import declaration_of, declare
from progression.exceptions import DataContractError, ParameterError, StatisticalWarning
from progression.panel import PERIODS, PERIODS_PER_YEAR, data_panel
from progression.staircase import as_staircase
from progression.texts import text
from progression.transitions import (
    CohortFlow,
    TransitionMatrix,
    add_person_columns,
    label_municipalities,
    matrix_declaration,
)
from progression.transitions import ctmc
from progression.transitions.durations import km_disclosed, median_time, reentry_shares, time_on_step, time_to_reentry
from progression.transitions.projection import (
    current_stock,
    entrants,
    implied_stepdown_factor,
    match_stepdown,
    project_occupancy,
    scale_stepdown,
    yearly_inflow,
)
from progression.transitions.published import REPORT_GROUPING

__all__ = [
    "REFERENCE_TARGET_GROUP",
    "CTMC_COLUMNS",
    "REFERENCE_PERSON",
    "period_panel",
    "in_years",
    "analysis_panel",
    "stock_by_year",
    "transition_matrix",
    "matrices_by",
    "stay_phrase",
    "case_vs_rest",
    "clear_differences",
    "flow_case_vs_rest",
    "ctmc_data",
    "ctmc_qmatrix",
    "fit_ctmc",
    "ctmc_fit_numbers",
    "ctmc_tables",
    "totlos_by_start",
    "time_on_step_by",
    "km_summary",
    "reentry_curve",
    "reentry_shares_by",
    "Projection",
    "project_staircase",
    "ctmc_truth",
    "ctmc_coverage",
]

#: The reference level of the multi-state model's target-group dummies: its hazard ratios compare
#: the other groups (:data:`progression.constants.TARGET_GROUPS`) with this one.
REFERENCE_TARGET_GROUP = "kognitivt_handicap"
#: Column of each multi-state model covariate (parameter ``transitions.ctmc_covariates``).
CTMC_COLUMNS = {"age": "age10", "severity": "severity", "target_group": "target_group",
                "recovery_oriented": "recovery_oriented", "sex": "sex"}
#: The synthetic truth's reference person: kognitivt handicap, severity 2, age 40, before recovery start.
REFERENCE_PERSON = {"age10": 0.0, "severity": 0.0, "target_group": REFERENCE_TARGET_GROUP, "recovery_oriented": 0.0}


# -- the analysis panel ----------------------------------------------------------------------------
def period_panel(data_dir: str | Path, *, period: str = "year", rule: str | None = None, start: int, end: int,
                 moves: bool = True, staircase=None) -> pd.DataFrame:
    """The person-period panel of a run's data folder (:func:`progression.panel.data_panel`).

    The yearly panel of the staircase's rule is the one ``00_data`` wrote and is read; a panel of
    another period or rule is built for the years ``start`` .. ``end`` and written beside it. With
    ``moves=False`` citizens are followed across moves between municipalities (the national panel of
    the projection), built likewise.
    """
    return data_panel(data_dir, period=period, rule=rule, start=start, end=end,
                      build=period != "year" or rule is not None, moves=moves, staircase=staircase)


def in_years(panel: pd.DataFrame, first: int, last: int, *, period_col: str = "period") -> pd.DataFrame:
    """Rows of the panel whose period lies in calendar years ``first`` .. ``last``.

    A person's rows stay consecutive; a censoring status is kept only when it falls in the years.

    Raises
    ------
    ParameterError
        When ``last < first`` or no row falls in the years.
    """
    if last < first:
        raise ParameterError(f"the last year ({last}) is before the first ({first})")
    years = panel[period_col].dt.year
    out = panel[(years >= first) & (years <= last)].reset_index(drop=True)
    if out.empty:
        raise ParameterError(f"no panel rows in {first}-{last}; the panel covers {years.min()}-{years.max()}")
    out.attrs.update(panel.attrs)
    return out


def analysis_panel(panel: pd.DataFrame, persons: pd.DataFrame, *, start_year: int, end_year: int,
                   case_municipalities: Sequence[int], age_bands: Sequence[int],
                   person_col: str = "person_id", period_col: str = "period") -> pd.DataFrame:
    """The panel within the analysis years, with the columns the matrices are grouped by.

    Parameters
    ----------
    panel : DataFrame
        Person-period panel (:func:`period_panel`).
    persons : DataFrame
        Table ``persons`` (``target_group``, ``birth_year``).
    start_year, end_year : int
        Analysis years (clipped to the panel's years). Years before the data window hold only
        citizens whose spells were still running when the extract begins, so they are left out.
    case_municipalities : sequence of int
        Codes of the municipality set compared with the rest.
    age_bands : sequence of int
        Lower limits of the age bands (age = period year - birth year).

    Returns
    -------
    DataFrame
        The panel columns plus ``year``, ``target_group``, ``age_band`` (``under <first limit>``
        below the first band) and ``municipality_set`` (``case`` / ``rest``).
    """
    years = panel[period_col].dt.year
    first, last = max(start_year, int(years.min())), min(end_year, int(years.max()))
    out = add_person_columns(in_years(panel, first, last, period_col=period_col), persons,
                             columns=["target_group"], age_bands=age_bands, person_col=person_col,
                             period_col=period_col)
    band = out["age_band"].astype(str).where(out["age_band"].notna(), f"under {min(age_bands)}")
    out["age_band"] = pd.Categorical(band, categories=[f"under {min(age_bands)}",
                                                       *out["age_band"].cat.categories], ordered=True)
    out["municipality_set"] = label_municipalities(out["municipality"], {"case": list(case_municipalities)})
    out["year"] = out[period_col].dt.year
    out.attrs.update(panel.attrs)
    return out


def stock_by_year(panel: pd.DataFrame) -> pd.DataFrame:
    """Citizens per step and year (those who died, emigrated or moved during the year not counted).

    Returns
    -------
    DataFrame
        ``year`` (a label), ``step``, ``n_persons`` (a count; the steps of a year add up).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> panel = analysis_panel(load_example("panel_year"), load_example("persons"), start_year=2014,
    ...                        end_year=2024, case_municipalities=[265, 169, 657, 751], age_bands=[18, 30, 50, 67])
    >>> stock_by_year(panel).groupby("year")["n_persons"].sum().index.tolist()[:3]
    [2014, 2015, 2016]
    """
    observed = panel[panel["status"].astype(str) == "observed"]
    out = observed.groupby(["year", "step"], observed=False)["person_id"].nunique().rename("n_persons").reset_index()
    return declare(out, counts=["n_persons"], margins={"n_persons": ["year"]}, labels=["year"])


# -- transition matrices ---------------------------------------------------------------------------
def transition_matrix(panel: pd.DataFrame, *, n_boot: int, seed: int = 0, staircase=None) -> pd.DataFrame:
    """One-period transition probabilities with citizen-bootstrap intervals, declared for disclosure.

    The bootstrap draws from the random stream ``transitions.matrix`` of the run's ``seed``
    (:func:`progression._tidy.stream_seed`).

    Returns
    -------
    DataFrame
        :meth:`progression.transitions.TransitionMatrix.summary`.
    """
    return TransitionMatrix(n_boot=n_boot, seed=stream_seed(seed, "transitions.matrix"),
                            staircase=staircase).fit(panel).summary()


def matrices_by(panel: pd.DataFrame, columns: Sequence[str], *, n_boot: int, seed: int,
                staircase=None) -> tuple[pd.DataFrame, dict[str, TransitionMatrix]]:
    """One transition matrix per value of each column, in one long table.

    Returns
    -------
    (DataFrame, dict)
        The :meth:`~progression.transitions.TransitionMatrix.summary` of every grouping with
        ``grouping`` (the column) and ``group`` (its value, as text) in front, declared with rows
        adding up within (grouping, group, from step); and the fitted matrices by column. The
        grouping by a column draws from the random stream ``transitions.by_group.<column>`` of the
        run's ``seed``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> panel = analysis_panel(load_example("panel_year"), load_example("persons"), start_year=2014,
    ...                        end_year=2024, case_municipalities=[265, 169, 657, 751], age_bands=[18, 30, 50, 67])
    >>> table, fitted = matrices_by(panel, ["municipality_set"], n_boot=0, seed=1)
    >>> sorted(table["group"].unique()), list(fitted)
    (['case', 'rest'], ['municipality_set'])
    >>> from progression.disclosure import suppress
    >>> shown, _ = suppress(table, table_name="by_group", min_cell_size=5)
    >>> difference = case_vs_rest(fitted["municipality_set"], table, shown)
    >>> bool(difference["diff"].isna().any())  # hidden wherever either group's probability is
    True
    """
    tables, fitted = [], {}
    for column in columns:
        tm = TransitionMatrix(n_boot=n_boot, seed=stream_seed(seed, f"transitions.by_group.{column}"),
                              staircase=staircase).fit(panel, groups=[column])
        table = tm.summary().rename(columns={column: "group"})
        table.insert(0, "grouping", column)
        table["group"] = table["group"].astype(str)
        tables.append(table)
        fitted[column] = tm
    table = pd.concat(tables, ignore_index=True)
    declaration = matrix_declaration(["grouping", "group"])
    return declare(table, counts=declaration.counts, stats=declaration.stats, margins=declaration.margins), fitted


def stay_phrase(matrix: pd.DataFrame, *, labels: Mapping[str, str], staircase=None) -> str:
    """The shares staying on their step, in words, from a disclosed matrix (for report text).

    Examples
    --------
    >>> table = pd.DataFrame({"from_step": ["SEL85", "SEL85"], "to_step": ["SEL85", "none"], "prob": [0.8, 0.2]})
    >>> stay_phrase(table, labels={"SEL85": "§85"})
    '80% on §85'
    """
    stairs = as_staircase(staircase)
    stay = matrix[matrix["from_step"].astype(str) == matrix["to_step"].astype(str)]
    stay = stay.set_index(stay["from_step"].astype(str))["prob"].dropna()
    return ", ".join(text("texts", "transitions_stay_item", share=v, step=labels.get(s, s)) for s, v in stay.items()
                     if s != stairs.none_step)


def case_vs_rest(tm: TransitionMatrix, table: pd.DataFrame, shown: pd.DataFrame, *, by: str = "municipality_set",
                 a="case", b="rest") -> pd.DataFrame:
    """Difference of transition probabilities between two groups, hidden wherever either is hidden.

    Parameters
    ----------
    tm : TransitionMatrix
        Fitted with ``groups=[by]`` (from :func:`matrices_by`).
    table, shown : DataFrame
        The :func:`matrices_by` table before and after disclosure control.
    by : str
        The grouping column; ``a`` and ``b`` are two of its values (difference = a - b).

    Returns
    -------
    DataFrame
        ``from_step``, ``to_step``, ``prob_a``, ``prob_b``, ``diff`` with its bootstrap
        ``std_error``, ``conf_low`` and ``conf_high``, and ``n_described`` (the smaller of the two
        groups', the count everything rests on). Where a probability of either group was
        suppressed, the difference is missing too, so it cannot reveal the hidden cell.
    """
    out = tm.compare(by, a, b)
    out["from_step"], out["to_step"] = out["from_step"].astype(str), out["to_step"].astype(str)
    keys = ["from_step", "to_step"]

    def side(frame, value, columns):
        rows = frame[(frame["grouping"] == by) & (frame["group"] == str(value))]
        return rows.assign(from_step=rows["from_step"].astype(str), to_step=rows["to_step"].astype(str))[
            [*keys, *columns]].set_index(keys)

    index = pd.MultiIndex.from_frame(out[keys])
    raw_a, raw_b = (side(table, v, ["n_described"]).reindex(index) for v in (a, b))
    seen_a, seen_b = (side(shown, v, ["prob"]).reindex(index) for v in (a, b))
    hidden = (seen_a["prob"].isna() | seen_b["prob"].isna()).to_numpy()
    stats = [c for c in ("prob_a", "prob_b", "diff", "std_error", "conf_low", "conf_high") if c in out]
    for column in stats:
        out[column] = out[column].mask(hidden)
    out["n_described"] = np.minimum(raw_a["n_described"].to_numpy(), raw_b["n_described"].to_numpy()).astype("int64")
    return declare(out, counts=["n_described"], stats={c: "n_described" for c in stats})


def clear_differences(difference: pd.DataFrame) -> pd.DataFrame:
    """Moves between steps seen in both groups whose difference interval excludes zero (for display)."""
    moved = ((difference["from_step"] != difference["to_step"]) & (difference["prob_a"] > 0)
             & (difference["prob_b"] > 0))
    return difference[moved & ((difference["conf_low"] > 0) | (difference["conf_high"] < 0))]


def flow_case_vs_rest(panel: pd.DataFrame, *, from_step: str, start: int, stop: int, n_boot: int, seed: int,
                      staircase=None, by: str = "municipality_set", a="case", b="rest") -> pd.DataFrame:
    """A cohort flow's shares in two groups and their difference, destinations grouped as in the report.

    Deaths, emigrations and moves are left out of the denominator, as in Social- og Boligstyrelsen
    (2024) (:data:`progression.transitions.published.REPORT_GROUPING`). The bootstrap draws from the
    random stream ``transitions.flow`` of the run's ``seed``.

    Returns
    -------
    DataFrame
        ``category``, ``share_a``, ``share_b``, ``diff``, ``std_error``, ``conf_low``, ``conf_high``,
        ``n_cohort_a``, ``n_cohort_b`` and ``n_described`` (the smaller of the two groups' persons
        in the category, or of the cohort where the category is empty); the cohorts and
        ``n_described`` are counts, the shares and the difference rest on ``n_described``.
    """
    flow = CohortFlow(from_step=from_step, start=start, stop=stop, relabel=REPORT_GROUPING, n_boot=n_boot,
                      seed=stream_seed(seed, "transitions.flow"), staircase=staircase).fit(panel, groups=[by])
    summary = flow.summary()
    summary["category"] = summary["category"].astype(str)
    out = flow.compare(by, a, b).drop(columns="from_step")
    out["category"] = out["category"].astype(str)
    for label, value in (("a", a), ("b", b)):
        rows = summary[summary[by] == value].set_index("category").reindex(out["category"])
        out[f"n_cohort_{label}"] = rows["n_cohort"].to_numpy()
        out[f"described_{label}"] = np.where(rows["n"] > 0, rows["n"], rows["n_cohort"])
    out["n_described"] = np.minimum(out.pop("described_a"), out.pop("described_b")).astype("int64")
    stats = [c for c in ("share_a", "share_b", "diff", "std_error", "conf_low", "conf_high") if c in out]
    return declare(out, counts=["n_cohort_a", "n_cohort_b", "n_described"],
                   stats={c: "n_described" for c in stats}, margins={"n_described": []})


# -- the continuous-time multi-state model ---------------------------------------------------------
def _period_years(periods: pd.Series, period: str) -> np.ndarray:
    """Start of each period in (fractional) calendar years."""
    if period not in PERIODS:
        raise ParameterError(f"period must be one of {PERIODS}; got {period!r}")
    d = pd.DatetimeIndex(periods)
    return d.year.to_numpy() + (d.month.to_numpy() - 1) / 12.0


def ctmc_data(snapshots: pd.DataFrame, persons: pd.DataFrame, *, covariates: Sequence[str], start_year: int,
              end_year: int, period: str = "year", municipalities: pd.DataFrame | None = None,
              person_col: str = "person_id", period_col: str = "period") -> pd.DataFrame:
    """Observations of the multi-state model: the step held at the end of each period, with covariates.

    Parameters
    ----------
    snapshots : DataFrame
        A panel built with ``rule="end"`` (the step held on the period's last day), so that each
        row is the state at one point in time, as the model's likelihood requires.
    persons : DataFrame
        Table ``persons``.
    covariates : sequence of str
        Names from :data:`CTMC_COLUMNS`: ``age`` (age10 = (age - 40) / 10, birthdays mid-year),
        ``severity`` (severity - 2), ``target_group`` (dummies against
        :data:`REFERENCE_TARGET_GROUP`), ``recovery_oriented`` (1 from the acting municipality's
        ``recovery_start_year``), ``sex`` (a dummy for ``K``).
    start_year, end_year : int
        Years of the observations.
    period : {"month", "quarter", "year"}
        Period of the panel.
    municipalities : DataFrame, optional
        Table ``municipalities``; needed for ``recovery_oriented``.

    Returns
    -------
    DataFrame
        ``person_id``, ``time`` (years; the end of the period), ``state`` and the covariate columns,
        for persons observed at least twice. Deaths, emigrations and moves end a person's
        observations: their period (whose state is read on the day of the event, not at the
        period's end) is left out. Covariates on a row are those of the period that follows it,
        the interval the row starts (msm applies the values at the start of an interval).
    """
    unknown = [c for c in covariates if c not in CTMC_COLUMNS]
    if unknown:
        raise ParameterError(f"ctmc covariates {unknown} are unknown; choose from {list(CTMC_COLUMNS)}")
    rows = in_years(snapshots, start_year, end_year, period_col=period_col)
    rows = rows[rows["status"].astype(str) == "observed"]
    rows = rows[rows.groupby(person_col)[person_col].transform("size") > 1]
    time = _period_years(rows[period_col], period) + 1.0 / PERIODS_PER_YEAR[period]
    out = pd.DataFrame({person_col: rows[person_col].to_numpy(), "time": time,
                        "state": rows["step"].astype(str).to_numpy()})
    who = persons.set_index(person_col)
    ids = out[person_col]
    if "age" in covariates:
        out["age10"] = (time - (ids.map(who["birth_year"]).to_numpy() + 0.5) - 40.0) / 10.0
    if "severity" in covariates:
        out["severity"] = ids.map(who["severity"]).to_numpy(dtype=float) - 2.0
    if "target_group" in covariates:
        groups = ids.map(who["target_group"])
        order = [REFERENCE_TARGET_GROUP, *(g for g in TARGET_GROUPS if g != REFERENCE_TARGET_GROUP)]
        out["target_group"] = pd.Categorical(groups, categories=[g for g in order if (groups == g).any()])
    if "sex" in covariates:
        out["sex"] = pd.Categorical(ids.map(who["sex"]), categories=["M", "K"])
    if "recovery_oriented" in covariates:
        if municipalities is None:
            raise DataContractError("the covariate 'recovery_oriented' needs the table 'municipalities' "
                                    "(recovery_start_year); it is not in the data")
        start = rows["municipality"].map(municipalities.set_index("municipality")["recovery_start_year"]
                                         .astype("float64"))
        out["recovery_oriented"] = (np.floor(time + 1e-9) >= start.to_numpy()).astype(float)
    return out


def ctmc_qmatrix(data: pd.DataFrame, *, min_moves: int, staircase=None, subject: str = "person_id") -> pd.DataFrame:
    """Allowed transitions and their crude initial intensities.

    Neighbouring steps are connected both ways; a move between steps further apart is allowed when
    it is observed at least ``min_moves`` times between consecutive observations (each allowed
    transition carries an intensity and one log hazard ratio per covariate term, so rare ones
    cannot be estimated). Steps never observed are left out.

    Returns
    -------
    DataFrame
        The intensity matrix of :func:`progression.transitions.ctmc.crude_inits` over the observed steps.
    """
    stairs = as_staircase(staircase)
    table = ctmc.statetable(data, subject=subject, time="time", state="state")
    states = [s for s in stairs.steps if s in set(table.index) | set(table.columns)]
    table = table.reindex(index=states, columns=states, fill_value=0)
    position = np.arange(len(states))
    adjacent = np.abs(position[:, None] - position[None, :]) == 1
    allowed = (adjacent | (table.to_numpy() >= min_moves)) & ~np.eye(len(states), dtype=bool)
    pattern = pd.DataFrame(allowed.astype(float), index=states, columns=states)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)  # neighbours never observed start at half a move
        return ctmc.crude_inits(data, subject=subject, time="time", state="state", qmatrix=pattern)


def fit_ctmc(data: pd.DataFrame, *, covariates: Sequence[str], min_moves: int, staircase=None,
             subject: str = "person_id") -> ctmc.MultiStateModel:
    """Fit the multi-state model on :func:`ctmc_data`, the transitions of :func:`ctmc_qmatrix` allowed.

    ``covariates`` are names of :data:`CTMC_COLUMNS`. Overflow warnings of trial points far from the
    optimum during the line search are silenced; a failed fit still raises
    :class:`~progression.exceptions.ConvergenceError`.
    """
    qmatrix = ctmc_qmatrix(data, min_moves=min_moves, staircase=staircase, subject=subject)
    columns = [CTMC_COLUMNS[c] for c in covariates]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="(overflow|invalid value) encountered", category=RuntimeWarning)
        return ctmc.fit(data, subject=subject, time="time", state="state", qmatrix=qmatrix, covariates=columns)


def ctmc_fit_numbers(model: ctmc.MultiStateModel):
    """The model's data, size and fit as key numbers (declared: persons and observations are counts).

    ``converged`` is True: :func:`fit_ctmc` raises when the fit does not converge.
    """
    numbers = {"n_subjects": model.n_subjects_, "n_observations": model.n_observations_,
               "n_intervals": model.n_intervals_, "n_allowed_transitions": len(model.transitions_),
               "n_parameters": len(model.params_), "minus2loglik": model.minus2loglik_, "aic": model.aic_,
               "bfgs_iterations": model.n_iter_, "converged": True, "covariate_terms": ", ".join(model.terms_)}
    # the model's size and fit describe no person
    return declare(numbers, counts=["n_subjects", "n_observations", "n_intervals"],
                   safe=["n_allowed_transitions", "n_parameters", "minus2loglik", "aic", "bfgs_iterations"])


def totlos_by_start(model: ctmc.MultiStateModel, *, horizon: float, covariates="mean",
                    ci: str = "delta") -> pd.DataFrame:
    """Expected years in each state within ``horizon`` years, from each starting state (msm ``totlos``).

    With ``ci="delta"`` each starting state costs two evaluations of the expected times per
    parameter (seconds with a hundred parameters); ``ci="none"`` gives the point estimates only.
    """
    frames = [model.totlos(start=s, tot=horizon, covariates=covariates, ci=ci).reset_index().assign(from_state=s)
              for s in model.states_]
    out = pd.concat(frames, ignore_index=True).rename(columns={"state": "to_state"})
    return out[["from_state", "to_state", *[c for c in out.columns if c not in ("from_state", "to_state")]]]


def _model_output(table: pd.DataFrame) -> pd.DataFrame:
    # Estimates of a model fitted by maximum likelihood to all citizens' intervals are smooth functions of
    # the whole data, not of a cell: they describe no person, and were always published unsuppressed.
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])
               and not pd.api.types.is_bool_dtype(table[c])]
    return declare(table, safe=numeric)


def ctmc_tables(model: ctmc.MultiStateModel, *, horizon: float = 10.0, years: Sequence[float] = (1, 5),
                curve_times: Sequence[float] | None = None) -> dict[str, pd.DataFrame]:
    """What is read off the fitted model, at the covariate means, each table declared as model output.

    Returns
    -------
    dict of str to DataFrame
        ``intensities`` (msm ``qmatrix``, delta-method intervals), ``hazard_ratios``, ``sojourn``
        (``state`` a column), ``pnext``, ``pmatrix`` (P(t) for each of ``years``, with ``years``),
        ``totlos`` (expected years on each step within ``horizon`` years, by starting step, point
        estimates) and ``curves`` (P(t) over ``curve_times``, default 0-10 years in 41 points, for the
        figure).
    """
    times = np.linspace(0, 10, 41) if curve_times is None else curve_times
    tables = {
        "intensities": model.qmatrix(),
        "hazard_ratios": model.hazard_ratios(),
        "sojourn": model.sojourn().reset_index(),
        "pnext": model.pnext(),
        "pmatrix": pd.concat([model.pmatrix(t, ci="delta").assign(years=t) for t in years]),
        "totlos": totlos_by_start(model, horizon=horizon, ci="none"),
        "curves": ctmc.transition_probabilities(model.qmatrix(ci="none"), times),
    }
    return {name: _model_output(table) for name, table in tables.items()}


# -- durations -------------------------------------------------------------------------------------
def time_on_step_by(panel: pd.DataFrame, groupings: Sequence[str | None], *, min_cell_size: int,
                    staircase=None) -> pd.DataFrame:
    """Kaplan-Meier time on each step overall (``None``) and by each grouping column, cut for disclosure.

    Returns
    -------
    DataFrame
        ``grouping`` (the column, or ``all``), ``group`` (its value as text, or ``all``) and the
        columns of :func:`progression.transitions.durations.time_on_step`, each curve cut and the
        table declared by :func:`progression.transitions.durations.km_disclosed`.
    """
    frames = []
    for column in groupings:
        groups = [column] if column else []
        km = time_on_step(panel, groups=groups, staircase=staircase)
        km = km.rename(columns={column: "group"}) if column else km.assign(group="all")
        km["group"] = km["group"].astype(str)
        km["step"] = km["step"].astype(str)
        km.insert(0, "grouping", column or "all")
        frames.append(km)
    out = pd.concat(frames, ignore_index=True)
    out = out[["grouping", "group", *[c for c in out.columns if c not in ("grouping", "group")]]]
    return km_disclosed(out, by=["grouping", "group", "step"], min_cell_size=min_cell_size)


def km_summary(km: pd.DataFrame, *, by: Sequence[str], years: Sequence[float] = (1, 2, 5)) -> pd.DataFrame:
    """Per curve: episodes, median years on the step and the survival after each of ``years``.

    Values beyond the (possibly cut) curve are missing.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> panel = analysis_panel(load_example("panel_year"), load_example("persons"), start_year=2014,
    ...                        end_year=2024, case_municipalities=[265, 169, 657, 751], age_bands=[18, 30, 50, 67])
    >>> on_step = time_on_step_by(panel, [None], min_cell_size=5)
    >>> km_summary(on_step, by=["grouping", "group", "step"]).columns.tolist()[3:]
    ['n_episodes', 'median_years', 'survival_1y', 'survival_2y', 'survival_5y']

    Returns
    -------
    DataFrame
        ``by`` columns, ``n_episodes`` (at risk at the first time; a count), ``median_years`` and
        ``survival_<y>y`` for each y (resting on ``n_episodes``).
    """
    keys = list(by)
    rows = []
    for key, curve in (km.groupby(keys, observed=True, sort=True) if keys else [((), km)]):
        key = key if isinstance(key, tuple) else (key,)
        curve = curve.sort_values("years")
        row = dict(zip(keys, key), n_episodes=int(curve["n_at_risk"].iloc[0]),
                   median_years=median_time(curve, x="years"))
        for y in years:
            upto = curve[curve["years"] <= y + 1e-9]
            reached = len(upto) and curve["years"].max() >= y - 1e-9
            row[f"survival_{y:g}y"] = float(upto["survival"].iloc[-1]) if reached else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    return declare(out, counts=["n_episodes"],
                   stats={c: "n_episodes" for c in out.columns if c.startswith(("median", "survival"))})


def reentry_curve(panel: pd.DataFrame, *, min_cell_size: int, staircase=None) -> pd.DataFrame:
    """Kaplan-Meier share still without services by years since leaving all services, by the step left.

    Returns
    -------
    DataFrame
        :func:`progression.transitions.durations.time_to_reentry` by ``left_step``, cut and declared
        by :func:`progression.transitions.durations.km_disclosed`.
    """
    curve = time_to_reentry(panel, groups=["left_step"], staircase=staircase)
    return km_disclosed(curve, by=["left_step"], min_cell_size=min_cell_size)


def reentry_shares_by(panel: pd.DataFrame, *, horizons: Sequence[float], n_boot: int, seed: int,
                      by: str = "municipality_set", staircase=None) -> pd.DataFrame:
    """Shares back on a step within each horizon after leaving all services, overall and by ``by``.

    The overall shares draw from the random stream ``transitions.reentry.all`` of the run's ``seed``,
    those by group from ``transitions.reentry.<by>``.

    Returns
    -------
    DataFrame
        :func:`progression.transitions.durations.reentry_shares`, overall (``by`` = ``all``) then
        by group, declared.
    """
    overall = reentry_shares(panel, horizons=horizons, n_boot=n_boot, seed=stream_seed(seed, "transitions.reentry.all"),
                             staircase=staircase)
    grouped = reentry_shares(panel, horizons=horizons, groups=[by], n_boot=n_boot,
                             seed=stream_seed(seed, f"transitions.reentry.{by}"), staircase=staircase)
    out = pd.concat([overall.assign(**{by: "all"}), grouped], ignore_index=True)
    declaration = declaration_of(grouped)  # the shares' own declaration, for the stacked table
    return declare(out, counts=declaration.counts, stats=declaration.stats, labels=declaration.labels)


# -- projections -----------------------------------------------------------------------------------
@dataclass
class Projection:
    """The projection's tables: each declared for disclosure control.

    Attributes
    ----------
    entrants : DataFrame
        New citizens per year by their first step, all (``n``) and aged 18-19 (``n_young``).
    occupancy : DataFrame
        ``scenario``, ``year``, ``state``, ``n`` with its band ``conf_low``, ``conf_high``, and
        ``n_stock`` (citizens on the step today, the count the projection of a step rests on).
    inputs : mapping
        Key numbers: the stock year and the citizens on a step then, the base years, the yearly
        inflow and its young share, the scenario's step-down factor and the factor the case
        municipalities' step-downs imply against the rest.
    """

    entrants: pd.DataFrame
    occupancy: pd.DataFrame
    inputs: Mapping


def _occupancy_table(projection: pd.DataFrame, stock: pd.Series, *, scenario: str) -> pd.DataFrame:
    """Projected citizens per step (exits left out) with today's persons on the step as ``n_stock``."""
    steps = projection[projection["kind"] == "step"].copy()
    steps["state"] = steps["state"].astype(str)
    steps.insert(0, "scenario", scenario)
    steps["n_stock"] = steps["state"].map(stock).fillna(0).astype("int64")
    return steps.drop(columns="kind").reset_index(drop=True)


def project_staircase(panel: pd.DataFrame, persons: pd.DataFrame, *, base_years: int, years: int,
                      stepdown_scenario: float, n_boot: int, seed: int, period: str = "year",
                      by: str = "municipality_set", national: pd.DataFrame | None = None,
                      staircase=None) -> Projection:
    """Occupancy of the staircase projected from today's stock, in three scenarios.

    With n_t the citizens per state after t years, P the one-period matrix of the last ``base_years``
    years of transitions and a the mean yearly inflow of new citizens by their first step over the
    same years, n_{t+1} = n_t P + a (:func:`progression.transitions.projection.project_occupancy`).
    The scenarios: ``baseline``; ``step-down x <factor>`` (every step-down probability multiplied by
    ``stepdown_scenario``, :func:`~progression.transitions.projection.scale_stepdown`); and ``as the
    case municipalities`` (everyone stepping down with the case municipalities' probabilities,
    :func:`~progression.transitions.projection.match_stepdown`). The bands project every bootstrap
    replicate of P, drawn from the random streams ``transitions.projection.national`` and
    ``transitions.projection.<by>`` of the run's ``seed``.

    A move to another municipality is no exit from the country's staircase: the stock, the inflow and
    the national matrix come from ``national``, the panel that follows citizens across moves (the
    municipal ``panel`` censors them at a move, which would lose every mover from the stock and send
    projected citizens out of the staircase at the moving rate). The case municipalities' step-down
    probabilities come from ``panel``, where a citizen belongs to one municipality set at a time.
    Without ``national`` every part comes from ``panel``.

    Returns
    -------
    Projection
    """
    stairs = as_staircase(staircase)
    country = panel if national is None else national
    last_year = int(panel["year"].max())
    base = in_years(panel, last_year - base_years, last_year)
    national = TransitionMatrix(n_boot=n_boot, seed=stream_seed(seed, "transitions.projection.national"),
                                staircase=stairs).fit(in_years(country, last_year - base_years, last_year))
    by_set = TransitionMatrix(n_boot=n_boot, seed=stream_seed(seed, f"transitions.projection.{by}"),
                              staircase=stairs).fit(base, groups=[by])
    stock = current_stock(country, staircase=stairs)
    new = entrants(country, persons, staircase=stairs)
    inflow = yearly_inflow(new, years=range(last_year - base_years + 1, last_year + 1), staircase=stairs)
    p, reps = national.matrix(), national.replicates()
    case_p, case_reps = by_set.matrix(**{by: "case"}), by_set.replicates(**{by: "case"})
    scenarios = {
        "baseline": (p, reps),
        f"step-down x {stepdown_scenario:g}": (scale_stepdown(p, stepdown_scenario, staircase=stairs),
                                               scale_stepdown(reps, stepdown_scenario, staircase=stairs)),
        "as the case municipalities": (match_stepdown(p, case_p, staircase=stairs),
                                       match_stepdown(reps, case_reps, staircase=stairs)),
    }
    occupancy = pd.concat([
        _occupancy_table(project_occupancy(stock, matrix, years=years, inflow=inflow, replicates=replicates,
                                           steps_per_year=PERIODS_PER_YEAR[period], start_year=last_year,
                                           staircase=stairs), stock, scenario=name)
        for name, (matrix, replicates) in scenarios.items()], ignore_index=True)
    factor = implied_stepdown_factor(case_p, by_set.matrix(**{by: "rest"}), stock, staircase=stairs)
    young = new[new["year"] > last_year - base_years]
    inputs = {"stock_year": last_year, "base_years": f"{last_year - base_years}-{last_year}",
              "inflow_per_year": float(inflow.sum()),
              "inflow_young_share": float(young["n_young"].sum() / young["n"].sum()),
              "stepdown_scenario": stepdown_scenario, "implied_case_stepdown_factor": factor,
              "stock_on_steps": int(stock.drop(stairs.none_step).sum())}
    return Projection(
        entrants=declare(new, counts=["n", "n_young"], labels=["year"]),
        occupancy=declare(occupancy, counts=["n_stock"], stats={c: "n_stock" for c in ("n", "conf_low", "conf_high")},
                          labels=["year"]),
        # the scenario's factor is a parameter; the implied factor a ratio of step-down probabilities weighted
        # over all citizens on a step in two large municipality sets, describing no person
        inputs=declare(inputs, counts=["inflow_per_year", "stock_on_steps"],
                       stats={"inflow_young_share": "inflow_per_year"},
                       safe=["stepdown_scenario", "implied_case_stepdown_factor"], labels=["stock_year"]),
    )


# -- comparisons with the synthetic truth ----------------------------------------------------------
def _reference_covariates(model: ctmc.MultiStateModel) -> dict:
    """The synthetic truth's reference person, for the covariates the model has."""
    names = {t.split("[")[0] for t in model.terms_}
    return {k: v for k, v in REFERENCE_PERSON.items() if k in names}


def _true_log_hr(term: str, cls: str, to: str, process: Mapping) -> float:
    """The generating log hazard ratio of a model term on a transition of class ``cls`` into ``to``."""
    coef = process["coefficients_log_hr"][cls]
    if term == "age10":
        return coef.get("age10", 0.0)
    if term == "severity":
        return coef.get("severity", 0.0)
    if term == "recovery_oriented":
        return coef.get("recovery", 0.0) + process["recovery_destination_effects_log"].get(to, 0.0)
    if term.startswith("target_group["):
        group = term[len("target_group["):-1]
        column = {"sindslidelse": "mental", "begge": "both"}.get(group)
        return coef.get(column, 0.0) + process["destination_group_effects_log"].get(group, {}).get(to, 0.0)
    return 0.0  # sex has no effect in the synthetic process


def ctmc_truth(model: ctmc.MultiStateModel, truth: Mapping, *, observations: pd.DataFrame,
               detour_share: float = 0.1, staircase=None, subject: str = "person_id") -> pd.DataFrame:
    """Estimated intensities (for the truth's reference person) and hazard ratios beside the generating ones.

    Comparable are transitions out of a step (not out of the no-service step, which in the data
    also holds everyone who left the target group for good, a state the register never records)
    that neither start nor end on a step whose spells the synthetic register under-records (§82).
    Transitions the generating process does not have (intensity 0) are not comparable either, nor
    are the legs r -> k and k -> s of a generating jump r -> s that the model does not allow when
    the jump's observed moves are at least ``detour_share`` of the leg's: the model can only explain
    them through the legs, which inflates their intensities.

    The intensities are comparable only when the model has every covariate of the reference citizen
    (age, severity, target group, recovery orientation); otherwise they average over those.

    Parameters
    ----------
    model : MultiStateModel
        Fitted on ``observations`` (:func:`ctmc_data`).
    truth : mapping
        The synthetic ``truth.json``.
    observations : DataFrame
        The model's data, for the observed moves between consecutive observations.

    Returns
    -------
    DataFrame
        ``from_state``, ``to_state``, ``term`` (``baseline`` for the intensity), ``estimate``,
        ``conf_low``, ``conf_high``, ``truth``, ``covered``, ``comparable``, ``note``; and the
        generating transitions the model does not allow, with the estimate missing. Declared as
        model output beside generating parameters (no person).
    """
    stairs = as_staircase(staircase)
    process = truth["process"]
    missing = sorted(set(stairs.steps) - set(process["states"]))
    if missing:
        raise ParameterError(f"steps {missing} are not states of the synthetic process {process['states']}; "
                             "the truth can only be compared on the staircase it was generated on")
    under = {"SEL82"} if truth.get("spells", {}).get("sel82_unrecorded_share", 0) > 0 else set()
    classes = process["transition_class"]
    base = model.qmatrix(covariates=_reference_covariates(model))
    base = base[base["from_state"] != base["to_state"]].assign(term="baseline")
    table = pd.concat([base, model.hazard_ratios()], ignore_index=True)
    model_pairs = set(zip(base["from_state"], base["to_state"]))
    absent = [(r, s) for key in classes for r, s in [key.split("->")]
              if r in stairs.steps and s in stairs.steps and (r, s) not in model_pairs]
    table = pd.concat([table, pd.DataFrame({"from_state": [r for r, _ in absent], "to_state": [s for _, s in absent],
                                            "term": "baseline"})], ignore_index=True)
    moves = ctmc.statetable(observations, subject=subject, time="time", state="state")
    count = lambda r, s: float(moves.at[r, s]) if r in moves.index and s in moves.columns else 0.0  # noqa: E731
    unset = sorted(set(REFERENCE_PERSON) - set(_reference_covariates(model)))
    detours = {leg for r, s in absent for k in model.states_ if (r, k) in model_pairs and (k, s) in model_pairs
               for leg in ((r, k), (k, s)) if count(r, s) >= detour_share * count(*leg)}
    q0 = process["baseline_q_per_year"]
    values, notes = [], []
    for r, s, term in zip(table["from_state"], table["to_state"], table["term"]):
        cls = classes.get(f"{r}->{s}")
        if term == "baseline":
            values.append(q0.get(r, {}).get(s, 0.0))
        else:
            values.append(np.exp(_true_log_hr(term, cls, s, process)) if cls else np.nan)
        notes.append("not in the process" if cls is None
                     else "not allowed in the model" if (r, s) not in model_pairs
                     else "out of no service: mixes with leaving for good" if r == stairs.none_step
                     else f"no covariate {', '.join(unset)} for the reference citizen" if term == "baseline" and unset
                     else "§82 under-recorded" if {r, s} & under
                     else "on the detour of a generating jump not in the model" if (r, s) in detours else "")
    table["truth"] = values
    table["note"] = notes
    table["comparable"] = table["note"] == ""
    table["covered"] = (table["conf_low"] <= table["truth"]) & (table["truth"] <= table["conf_high"])
    columns = ["from_state", "to_state", "term", "estimate", "conf_low", "conf_high", "truth", "covered",
               "comparable", "note"]
    return _model_output(table[columns])


def ctmc_coverage(comparison: pd.DataFrame):
    """How many comparable generating intensities and hazard ratios the model's intervals cover.

    Returns
    -------
    mapping
        ``<kind>_n_comparable``, ``<kind>_n_covered`` and ``<kind>_share_covered`` for the kinds
        ``hazard_ratio`` and ``intensity`` present; counts of model parameters, declared safe.
    """
    comparable = comparison[comparison["comparable"].astype(bool)]
    kind = np.where(comparable["term"] == "baseline", "intensity", "hazard_ratio")
    coverage = comparable.assign(kind=kind).groupby("kind")["covered"].agg(["size", "sum", "mean"])
    numbers = {f"{kind}_{name}": value for kind, row in coverage.iterrows()
               for name, value in zip(("n_comparable", "n_covered", "share_covered"), row)}
    return declare(numbers, safe=list(numbers))  # counts of model parameters, not of persons
