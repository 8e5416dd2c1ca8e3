"""Glue of notebook 20_transitions: the analysis panel, tables ready for disclosure control, the data
of the multi-state model and its comparison with a known truth.

The estimators live in :mod:`progression.transitions`, :mod:`progression.transitions.durations`,
:mod:`progression.transitions.projection` and :mod:`progression.transitions.ctmc`; this module only prepares their inputs
and turns their outputs into tables that :meth:`progression.chain.run_context.RunContext.write_result`
can disclose.

Disclosure of a transition matrix. A published probability p_ij = n_ij / n_i. (with n_i. shown)
reveals n_ij, so it rests on the persons in the cell; a zero probability describes nobody in the
cell but says something about everyone in the row. Each cell therefore carries ``n_described``:
the distinct persons in the cell when the cell has transitions, otherwise the distinct persons of
the row. Probabilities, counts (of citizen-years and of persons) and intervals are tied to it, and
secondary suppression runs within each row, whose probabilities add up to one.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from progression.transitions import ctmc
from progression.transitions.durations import time_on_step
from progression.exceptions import DataContractError, ParameterError, StatisticalWarning
from progression.analyses.overview import SEED002_RELABEL
from progression.panel import PERIODS
from progression.staircase import as_staircase
from progression.transitions import (
    CohortFlow,
    TransitionMatrix,
    add_person_columns,
    label_municipalities,
    transition_pairs,
)

__all__ = [
    "PERIODS_PER_YEAR",
    "in_years",
    "analysis_panel",
    "matrix_table",
    "matrix_disclosure",
    "matrices_by",
    "compare_table",
    "flow_comparison",
    "ctmc_data",
    "ctmc_qmatrix",
    "fit_ctmc",
    "reference_covariates",
    "totlos_by_start",
    "truth_comparison",
    "km_disclosed",
    "time_on_step_by",
    "km_summary",
    "entrant_table",
    "yearly_inflow",
    "implied_stepdown_factor",
    "projection_table",
    "float_counts",
]

PERIODS_PER_YEAR = {"month": 12, "quarter": 4, "year": 1}
#: Target groups in the order of the model's dummies (the first is the reference).
TARGET_GROUPS = ("kognitivt_handicap", "sindslidelse", "begge")
#: Column of each multi-state model covariate (parameter ``transitions.ctmc_covariates``).
CTMC_COLUMNS = {"age": "age10", "severity": "severity", "target_group": "target_group",
                "recovery_oriented": "recovery_oriented", "sex": "sex"}
#: The synthetic truth's reference person: kognitivt handicap, severity 2, age 40, before recovery start.
REFERENCE_PERSON = {"age10": 0.0, "severity": 0.0, "target_group": "kognitivt_handicap", "recovery_oriented": 0.0}


# -- the analysis panel ----------------------------------------------------------------------------
def in_years(panel: pd.DataFrame, first: int, last: int, *, period_col: str = "period") -> pd.DataFrame:
    """Rows of the panel whose period lies in calendar years ``first`` .. ``last``.

    A person's rows stay consecutive; a censoring status is kept only when it falls in the years.
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
        Person-period panel (:func:`progression.panel.read_panel`).
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


# -- transition matrices ready for disclosure ------------------------------------------------------
def matrix_table(tm: TransitionMatrix, panel: pd.DataFrame, *, groups: Sequence[str] = (),
                 person_col: str = "person_id") -> pd.DataFrame:
    """``tm.summary`` with the persons of each row (``n_persons_from``) and ``n_described``.

    Parameters
    ----------
    tm : TransitionMatrix
        Fitted on ``panel`` with ``groups``.
    panel : DataFrame
        The panel it was fitted on.
    groups : sequence of str
        Its group columns.
    """
    groups = list(groups)
    pairs = transition_pairs(panel, lag=tm.lag, exits=tm.exits, groups=groups, staircase=tm.stairs_)
    rows = (pairs.assign(from_step=pairs["from_step"].astype(str))
            .groupby([*groups, "from_step"], observed=True)[person_col].nunique()
            .rename("n_persons_from").reset_index())
    table = tm.summary
    keyed = table.assign(from_step=table["from_step"].astype(str))
    merged = keyed.merge(rows, on=[*groups, "from_step"], how="left", validate="m:1")
    table["n_persons_from"] = merged["n_persons_from"].fillna(0).astype("int64").to_numpy()
    table["n_described"] = np.where(table["n"] > 0, table["n_persons"], table["n_persons_from"]).astype("int64")
    return table


def matrix_disclosure(table: pd.DataFrame, groups: Sequence[str] = ()) -> dict:
    """Arguments of ``write_result`` for a :func:`matrix_table` (see the module docstring)."""
    stats = {c: "n_described" for c in ("n", "n_persons", "prob", "se", "ci_lower", "ci_upper") if c in table}
    stats["n_from"] = "n_persons_from"
    return {"count_cols": ["n_described", "n_persons_from"], "stat_cols": stats,
            "margin_groups": {"n_described": [*groups, "from_step"]}}


def matrices_by(panel: pd.DataFrame, columns: Sequence[str], *, n_boot: int, seed: int,
                staircase=None) -> tuple[pd.DataFrame, dict[str, TransitionMatrix]]:
    """One transition matrix per value of each column, in one long table.

    Returns
    -------
    (DataFrame, dict)
        The :func:`matrix_table` of every grouping with ``grouping`` (the column) and ``group``
        (its value, as text) in front, and the fitted matrices by column. Grouping i is
        bootstrapped with seed ``seed + i``.
    """
    tables, fitted = [], {}
    for i, column in enumerate(columns):
        tm = TransitionMatrix(n_boot=n_boot, seed=seed + i, staircase=staircase).fit(panel, groups=[column])
        table = matrix_table(tm, panel, groups=[column]).rename(columns={column: "group"})
        table.insert(0, "grouping", column)
        table["group"] = table["group"].astype(str)
        tables.append(table)
        fitted[column] = tm
    return pd.concat(tables, ignore_index=True), fitted


def compare_table(tm: TransitionMatrix, table: pd.DataFrame, shown: pd.DataFrame, *, by: str, a, b) -> pd.DataFrame:
    """Difference of transition probabilities between two groups, hidden wherever either is hidden.

    Parameters
    ----------
    tm : TransitionMatrix
        Fitted with ``groups=[by]``.
    table, shown : DataFrame
        The :func:`matrices_by` table before and after disclosure control.
    by : str
        The grouping column; ``a`` and ``b`` are two of its values (difference = a - b).

    Returns
    -------
    DataFrame
        ``from_step``, ``to_step``, ``prob_a``, ``prob_b``, ``diff`` with its bootstrap ``se``,
        ``ci_lower`` and ``ci_upper``, and ``n_described`` (the smaller of the two groups').
        Where a probability of either group was suppressed, the difference is missing too, so it
        cannot reveal the hidden cell.
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
    for column in ("prob_a", "prob_b", "diff", "se", "ci_lower", "ci_upper"):
        if column in out:
            out[column] = out[column].mask(hidden)
    out["n_described"] = np.minimum(raw_a["n_described"].to_numpy(), raw_b["n_described"].to_numpy()).astype("int64")
    return out


def flow_comparison(panel: pd.DataFrame, *, from_step: str, start: int, stop: int, n_boot: int, seed: int,
                    staircase=None, by: str = "municipality_set", a="case", b="rest") -> pd.DataFrame:
    """A cohort flow's shares in two groups and their difference, as seed 002 groups destinations.

    Deaths, emigrations and moves are left out of the denominator (seed 002's choice, see
    :data:`progression.analyses.overview.SEED002_RELABEL`).

    Returns
    -------
    DataFrame
        ``category``, ``share_a``, ``share_b``, ``diff``, ``se``, ``ci_lower``, ``ci_upper``,
        ``n_cohort_a``, ``n_cohort_b`` and ``n_described`` (the smaller of the two groups' persons
        in the category, or of the cohort where the category is empty).
    """
    flow = CohortFlow(from_step=from_step, start=start, stop=stop, relabel=SEED002_RELABEL, n_boot=n_boot,
                      seed=seed, staircase=staircase).fit(panel, groups=[by])
    summary = flow.summary
    summary["category"] = summary["category"].astype(str)
    out = flow.compare(by, a, b).drop(columns="from_step")
    out["category"] = out["category"].astype(str)
    for label, value in (("a", a), ("b", b)):
        rows = summary[summary[by] == value].set_index("category").reindex(out["category"])
        out[f"n_cohort_{label}"] = rows["n_cohort"].to_numpy()
        out[f"described_{label}"] = np.where(rows["n"] > 0, rows["n"], rows["n_cohort"])
    out["n_described"] = np.minimum(out.pop("described_a"), out.pop("described_b")).astype("int64")
    return out


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
        ``severity`` (severity - 2), ``target_group`` (dummies against kognitivt_handicap),
        ``recovery_oriented`` (1 from the acting municipality's ``recovery_start_year``),
        ``sex`` (a dummy for ``K``).
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
    length = 1.0 / PERIODS_PER_YEAR[period]
    time = _period_years(rows[period_col], period) + length
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
        out["target_group"] = pd.Categorical(groups, categories=[g for g in TARGET_GROUPS if (groups == g).any()])
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


def fit_ctmc(data: pd.DataFrame, qmatrix: pd.DataFrame, covariates: Sequence[str], *,
             subject: str = "person_id") -> ctmc.MultiStateModel:
    """Fit the model with the covariate columns of ``covariates`` (names of :data:`CTMC_COLUMNS`).

    Overflow warnings of trial points far from the optimum during the line search are silenced; a
    failed fit still raises :class:`~progression.exceptions.ConvergenceError`.
    """
    columns = [CTMC_COLUMNS[c] for c in covariates]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="(overflow|invalid value) encountered", category=RuntimeWarning)
        return ctmc.fit(data, subject=subject, time="time", state="state", qmatrix=qmatrix, covariates=columns)


def reference_covariates(model: ctmc.MultiStateModel) -> dict:
    """The synthetic truth's reference person, for the covariates the model has."""
    names = {t.split("[")[0] for t in model.terms_}
    return {k: v for k, v in REFERENCE_PERSON.items() if k in names}


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


def truth_comparison(model: ctmc.MultiStateModel, truth: Mapping, *, observations: pd.DataFrame,
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
        generating transitions the model does not allow, with the estimate missing.
    """
    stairs = as_staircase(staircase)
    process = truth["process"]
    missing = sorted(set(stairs.steps) - set(process["states"]))
    if missing:
        raise ParameterError(f"steps {missing} are not states of the synthetic process {process['states']}; "
                             "the truth can only be compared on the staircase it was generated on")
    under = {"SEL82"} if truth.get("spells", {}).get("sel82_unrecorded_share", 0) > 0 else set()
    classes = process["transition_class"]
    base = model.qmatrix(covariates=reference_covariates(model))
    base = base[base["from_state"] != base["to_state"]].assign(term="baseline")
    table = pd.concat([base, model.hazard_ratios()], ignore_index=True)
    model_pairs = set(zip(base["from_state"], base["to_state"]))
    absent = [(r, s) for key in classes for r, s in [key.split("->")]
              if r in stairs.steps and s in stairs.steps and (r, s) not in model_pairs]
    table = pd.concat([table, pd.DataFrame({"from_state": [r for r, _ in absent], "to_state": [s for _, s in absent],
                                            "term": "baseline"})], ignore_index=True)
    moves = ctmc.statetable(observations, subject=subject, time="time", state="state")
    count = lambda r, s: float(moves.at[r, s]) if r in moves.index and s in moves.columns else 0.0  # noqa: E731
    unset = sorted(set(REFERENCE_PERSON) - set(reference_covariates(model)))
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
    return table[columns]


# -- durations -------------------------------------------------------------------------------------
def km_disclosed(km: pd.DataFrame, *, by: Sequence[str], min_cell_size: int) -> pd.DataFrame:
    """Cut each Kaplan-Meier curve before the first time with 1 .. min_cell_size - 1 episodes at risk,
    ending or censored.

    With the numbers at risk shown, each step of the curve reveals the events and censorings at its
    time (d = r (1 - S(t) / S(t-)), c = r - d - r_next), so a small count cannot be hidden by
    suppressing one cell: the curve is cut from there on.
    """
    counts = km[["n_at_risk", "n_events", "n_censored"]]
    small = ((counts > 0) & (counts < min_cell_size)).any(axis=1)
    keys = list(by)
    cut = small.groupby([km[k] for k in keys], observed=True, sort=False).cummax() if keys else small.cummax()
    return km[~cut.to_numpy(dtype=bool)].reset_index(drop=True)


def time_on_step_by(panel: pd.DataFrame, groupings: Sequence[str | None], *, min_cell_size: int,
                    staircase=None) -> pd.DataFrame:
    """Kaplan-Meier time on each step overall (``None``) and by each grouping column, cut for disclosure.

    Returns
    -------
    DataFrame
        ``grouping`` (the column, or ``all``), ``group`` (its value as text, or ``all``) and the
        columns of :func:`progression.transitions.durations.time_on_step`, each curve cut by :func:`km_disclosed`.
    """
    frames = []
    for column in groupings:
        groups = [column] if column else []
        km = km_disclosed(time_on_step(panel, groups=groups, staircase=staircase), by=["step", *groups],
                          min_cell_size=min_cell_size)
        km = km.rename(columns={column: "group"}) if column else km.assign(group="all")
        km["group"] = km["group"].astype(str)
        km["step"] = km["step"].astype(str)
        km.insert(0, "grouping", column or "all")
        frames.append(km)
    out = pd.concat(frames, ignore_index=True)
    return out[["grouping", "group", *[c for c in out.columns if c not in ("grouping", "group")]]]


def km_summary(km: pd.DataFrame, *, by: Sequence[str], years: Sequence[float] = (1, 2, 5)) -> pd.DataFrame:
    """Per curve: episodes, median years on the step and the survival after each of ``years``.

    Values beyond the (possibly cut) curve are missing.

    Returns
    -------
    DataFrame
        ``by`` columns, ``n_episodes`` (at risk at the first time), ``median_years`` and
        ``survival_<y>y`` for each y.
    """
    keys = list(by)
    rows = []
    for key, curve in (km.groupby(keys, observed=True, sort=True) if keys else [((), km)]):
        key = key if isinstance(key, tuple) else (key,)
        curve = curve.sort_values("years")
        below = curve.loc[curve["survival"] <= 0.5, "years"]
        row = dict(zip(keys, key), n_episodes=int(curve["n_at_risk"].iloc[0]),
                   median_years=float(below.iloc[0]) if len(below) else np.nan)
        for y in years:
            upto = curve[curve["years"] <= y + 1e-9]
            reached = len(upto) and curve["years"].max() >= y - 1e-9
            row[f"survival_{y:g}y"] = float(upto["survival"].iloc[-1]) if reached else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


# -- projections -----------------------------------------------------------------------------------
def entrant_table(panel: pd.DataFrame, persons: pd.DataFrame, *, young_ages: tuple[int, int] = (18, 19),
                  staircase=None, person_col: str = "person_id", period_col: str = "period") -> pd.DataFrame:
    """Citizens entering the panel per year by their first step, all and those aged ``young_ages``.

    Persons already in the panel's first period are the stock, not entrants.

    Returns
    -------
    DataFrame
        ``year``, ``step``, ``n`` (entrants) and ``n_young`` (entrants whose age, period year minus
        birth year, lies in ``young_ages``: the young people coming from the children's area).
    """
    stairs = as_staircase(staircase)
    ordered = panel.sort_values([person_col, period_col])
    first = ordered.groupby(person_col, sort=False).head(1)
    first = first[first[period_col] > panel[period_col].min()]
    age = first[period_col].dt.year - first[person_col].map(persons.set_index(person_col)["birth_year"])
    frame = pd.DataFrame({"year": first[period_col].dt.year.to_numpy(), "step": first["step"].astype(str).to_numpy(),
                          "young": age.between(*young_ages).to_numpy()})
    out = frame.groupby(["year", "step"]).agg(n=("young", "size"), n_young=("young", "sum")).reset_index()
    years = sorted(out["year"].unique())
    grid = pd.MultiIndex.from_product([years, list(stairs.steps)], names=["year", "step"])
    out = out.set_index(["year", "step"]).reindex(grid, fill_value=0).reset_index()
    return out.astype({"n": "int64", "n_young": "int64"})


def yearly_inflow(entrants: pd.DataFrame, *, years: Sequence[int], staircase=None) -> pd.Series:
    """Mean entrants per year by step over ``years`` (the inflow assumption of the projection)."""
    stairs = as_staircase(staircase)
    rows = entrants[entrants["year"].isin(list(years))]
    if rows.empty:
        raise ParameterError(f"no entrants in the years {list(years)}; entrants are counted in "
                             f"{sorted(entrants['year'].unique())}")
    per_year = rows.groupby("step")["n"].sum() / rows["year"].nunique()
    return per_year.reindex(list(stairs.steps), fill_value=0.0).rename("n").rename_axis("step")


def implied_stepdown_factor(p_case: pd.DataFrame, p_rest: pd.DataFrame, stock: pd.Series, *,
                            staircase=None) -> float:
    """How much more often citizens step down in the case municipalities than in the rest.

    The ratio of the stock-weighted step-down probabilities, sum_i n_i sum_{j below i} p_ij:
    the factor of :func:`progression.transitions.projection.scale_stepdown` that, applied to the rest, gives the
    case municipalities' share of citizens moving down in a year.
    """
    stairs = as_staircase(staircase)
    levels = pd.Series(stairs.levels, index=list(stairs.steps))
    weights = stock.reindex(list(stairs.steps), fill_value=0).to_numpy(dtype=float)

    def down(p):
        p = p.loc[list(stairs.steps), list(stairs.steps)].fillna(0.0)
        below = levels.to_numpy()[None, :] < levels.to_numpy()[:, None]
        return float(weights @ (p.to_numpy() * below).sum(axis=1))

    return down(p_case) / down(p_rest)


def projection_table(projection: pd.DataFrame, stock: pd.Series, *, scenario: str) -> pd.DataFrame:
    """Projected citizens per step (exits left out) with today's persons on the step as ``n_stock``."""
    steps = projection[projection["kind"] == "step"].copy()
    steps["state"] = steps["state"].astype(str)
    steps.insert(0, "scenario", scenario)
    steps["n_stock"] = steps["state"].map(stock).fillna(0).astype("int64")
    return steps.drop(columns="kind").reset_index(drop=True)


def float_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable integer columns (suppressed counts as written) as floats with NaN, for the figure functions."""
    nullable = [c for c in frame.columns if isinstance(frame[c].dtype, pd.Int64Dtype)]
    return frame.astype({c: "float64" for c in nullable})
