"""Steps of the multi-state models of notebooks 20 (transitions) and 10 (progression): misclassification,
a period effect, goodness of fit, and VUM functioning levels with rater error.

Each step is a function over DataFrames and parameters that returns a tidy table carrying its disclosure
declaration (:func:`progression.disclosure.declare`), ready for ``ctx.write_result(name, table)``; the
estimators are those of :mod:`progression.transitions.ctmc`.

Disclosure. Estimates of a model fitted by maximum likelihood to a whole panel are functions of many
citizens' histories; each is declared a statistic resting on the citizens it is mainly informed by
(``n_persons``: the citizens ever observed in the state a transition or misclassification starts from,
or in the state a percentage describes), so a table describing a handful of citizens is suppressed.
Parameters and generating values are ``safe`` (they describe no person).

Sections
--------
* Notebook 20: :func:`snapshot_observations`, :func:`allowed_qmatrix`, :func:`fit_sel82_misclassification`,
  :func:`misclassification_table`, :func:`intensity_comparison`, :func:`fit_period_effect`,
  :func:`period_effect_table`, :func:`prevalence_table`, :func:`pearson_tables`.
* Notebook 10: :func:`vum_level_observations`, :func:`fit_vum_levels`.
* Against the synthetic truth (to be gathered into ``analyses/truth.py``): :func:`sel82_truth_comparison`,
  :func:`period_truth_comparison`, :func:`vum_truth_comparison`.

Examples
--------
>>> from progression.datasets import load_example
>>> obs = vum_level_observations(load_example("assessments"))
>>> sorted(obs["state"].unique())
['light', 'moderate', 'severe']
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from progression.disclosure import declare
from progression.exceptions import DataContractError, ParameterError, StatisticalWarning
from progression.staircase import as_staircase
from progression.transitions import ctmc

__all__ = [
    "Sel82Models", "sel82_models", "period_model",
    "PERIODS_PER_YEAR",
    "VUM_LEVEL_CUTS",
    "VUM_LEVELS",
    "snapshot_observations",
    "allowed_qmatrix",
    "fit_sel82_misclassification",
    "misclassification_table",
    "intensity_comparison",
    "fit_period_effect",
    "period_effect_table",
    "prevalence_table",
    "pearson_tables",
    "vum_level_observations",
    "fit_vum_levels",
    "sel82_truth_comparison",
    "period_truth_comparison",
    "vum_truth_comparison",
]

PERIODS_PER_YEAR = {"month": 12, "quarter": 4, "year": 1}
#: Functioning levels from the mean VUM item score over the relevant domains (code 9 = not relevant):
#: [0, 1) light, [1, 2) moderate, [2, 4] severe limitation; as the synthetic generator's truth.
VUM_LEVEL_CUTS = (1.0, 2.0)
VUM_LEVELS = ("light", "moderate", "severe")
_SEVERITY_REFERENCE = 2.0


@contextlib.contextmanager
def _quiet():
    """Silence the overflow warnings of an optimiser's wild trial steps (a failed fit still raises)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="(overflow|invalid value|divide by zero) encountered",
                                category=RuntimeWarning)
        yield


# =====================================================================================================
# Notebook 20: the register's yearly snapshots
# =====================================================================================================
def snapshot_observations(snapshots: pd.DataFrame, persons: pd.DataFrame, *, start_year: int, end_year: int,
                          period: str = "year", case_municipalities: Sequence[int] = (),
                          person_col: str = "person_id", period_col: str = "period") -> pd.DataFrame:
    """The state of each citizen at the end of each period, with the covariates of the models.

    Parameters
    ----------
    snapshots : DataFrame
        A person-period panel built with ``rule="end"`` (the step held on the period's last day), as
        :func:`progression.panel.build_panel` makes it.
    persons : DataFrame
        Table ``persons`` (``severity``, ``target_group``, ``sex``, ``birth_year``).
    start_year, end_year : int
        Years of the observations.
    period : {"month", "quarter", "year"}, default="year"
    case_municipalities : sequence of int, optional
        Codes flagged in ``case`` (the municipalities that reorganised).

    Returns
    -------
    DataFrame
        ``person_id``, ``time`` (years; the end of the period), ``state`` (the step), ``municipality``,
        ``case``, ``severity`` (minus 2), ``target_group``; citizens observed at least twice. A death,
        emigration or move ends a citizen's observations (its period is left out).

    Raises
    ------
    ParameterError
        Unknown period or no rows in the years.
    """
    if period not in PERIODS_PER_YEAR:
        raise ParameterError(f"period must be one of {list(PERIODS_PER_YEAR)}; got {period!r}")
    missing = [c for c in (person_col, period_col, "step", "municipality", "status") if c not in snapshots]
    if missing:
        raise DataContractError(f"snapshots lacks columns {missing}; columns present: {list(snapshots.columns)}")
    years = snapshots[period_col].dt.year
    rows = snapshots[(years >= start_year) & (years <= end_year) & (snapshots["status"].astype(str) == "observed")]
    rows = rows[rows.groupby(person_col)[person_col].transform("size") > 1]
    if rows.empty:
        raise ParameterError(f"no citizen is observed twice in {start_year}-{end_year}")
    d = pd.DatetimeIndex(rows[period_col])
    time = d.year.to_numpy() + (d.month.to_numpy() - 1) / 12.0 + 1.0 / PERIODS_PER_YEAR[period]
    who = persons.set_index(person_col)
    ids = rows[person_col]
    out = pd.DataFrame({
        person_col: ids.to_numpy(), "time": time, "state": rows["step"].astype(str).to_numpy(),
        "municipality": rows["municipality"].to_numpy(),
        "case": rows["municipality"].isin(list(case_municipalities)).to_numpy(),
        "severity": ids.map(who["severity"]).to_numpy(dtype=float) - _SEVERITY_REFERENCE,
        "target_group": ids.map(who["target_group"]).astype(str).to_numpy(),
    })
    return out.sort_values([person_col, "time"], kind="stable").reset_index(drop=True)


def allowed_qmatrix(observations: pd.DataFrame, *, min_moves: int = 20, staircase=None,
                    subject: str = "person_id") -> pd.DataFrame:
    """Allowed transitions (neighbouring steps both ways, and jumps observed at least ``min_moves`` times
    between consecutive observations) with crude initial intensities, over the observed steps."""
    stairs = as_staircase(staircase)
    table = ctmc.statetable(observations, subject=subject, time="time", state="state")
    states = [s for s in stairs.steps if s in set(table.index) | set(table.columns)]
    table = table.reindex(index=states, columns=states, fill_value=0)
    position = np.arange(len(states))
    allowed = (np.abs(position[:, None] - position[None, :]) == 1) | (table.to_numpy() >= min_moves)
    allowed &= ~np.eye(len(states), dtype=bool)
    pattern = pd.DataFrame(allowed.astype(float), index=states, columns=states)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)  # never-observed neighbours start at half a move
        return ctmc.crude_inits(observations, subject=subject, time="time", state="state", qmatrix=pattern)


def _first_state_shares(observations: pd.DataFrame, states, subject: str) -> np.ndarray:
    first = observations.groupby(subject, sort=False)["state"].first()
    shares = first.value_counts().reindex(list(states), fill_value=0).to_numpy(dtype=float)
    return (shares + 0.5) / (shares + 0.5).sum()


def fit_sel82_misclassification(observations: pd.DataFrame, qmatrix: pd.DataFrame, *, under: str = "SEL82",
                                recorded_as: str | None = None, e_init: float = 0.2,
                                left_for_good: str | None = "out", leave_init: float = 0.2,
                                covariates: Sequence[str] = (), staircase=None,
                                subject: str = "person_id") -> ctmc.MultiStateModel:
    """A hidden Markov model of the register's steps: a year on ``under`` may be recorded as
    ``recorded_as``, and a citizen without services may have left for good.

    The register misses a share of the §82 spells, so a year on §82 can be recorded as a year without
    services; the model lets true state ``under`` be observed as ``recorded_as`` with an estimated
    probability ``e``. A year without services is also what the register shows for a citizen who has
    left the target group for good and will not come back; the model adds that hidden, absorbing state
    (``left_for_good``), entered from ``recorded_as`` and always recorded as it, so that "no services"
    is not forced to be one state with one rate of return. The distribution of the true state at each
    citizen's first observation is estimated.

    Parameters
    ----------
    observations : DataFrame
        From :func:`snapshot_observations`.
    qmatrix : DataFrame
        Allowed transitions and initial intensities between the observed steps (:func:`allowed_qmatrix`).
    under : str, default="SEL82"
        The step whose records are incomplete.
    recorded_as : str, optional
        What a missing record looks like; default the staircase's step without services.
    e_init : float, default=0.2
        Initial value of ``e``.
    left_for_good : str or None, default="out"
        Name of the hidden absorbing state; None leaves it out.
    leave_init : float, default=0.2
        Initial intensity of leaving for good.
    covariates : sequence of str, optional
        Covariate columns acting on every transition.

    Returns
    -------
    MultiStateModel
        With ``ematrix_``, ``ematrix()``, ``viterbi()``.
    """
    stairs = as_staircase(staircase)
    recorded_as = stairs.none_step if recorded_as is None else recorded_as
    states = list(qmatrix.index)
    for name, value in (("under", under), ("recorded_as", recorded_as)):
        if value not in states:
            raise ParameterError(f"{name}: {value!r} is not a state of qmatrix {states}")
    q = qmatrix.copy()
    if left_for_good is not None:
        if left_for_good in states:
            raise ParameterError(f"left_for_good: {left_for_good!r} is already an observed state")
        states = [*states, left_for_good]
        q = q.reindex(index=states, columns=states, fill_value=0.0)
        q.loc[recorded_as, left_for_good] = leave_init
    e = pd.DataFrame(0.0, index=states, columns=states)
    e.loc[under, recorded_as] = e_init
    if left_for_good is not None:
        e.loc[left_for_good, recorded_as] = 1.0
    with _quiet():
        return ctmc.fit(observations, subject=subject, time="time", state="state", qmatrix=q, ematrix=e,
                        initprobs=_first_state_shares(observations, states, subject), est_initprobs=True,
                        covariates=list(covariates) or None)


@dataclass
class Sel82Models:
    """The register taken at face value and the hidden Markov model of §82 under-registration, on one panel."""

    observations: pd.DataFrame
    qmatrix: pd.DataFrame
    register: ctmc.MultiStateModel
    hidden: ctmc.MultiStateModel


def sel82_models(snapshots: pd.DataFrame, persons: pd.DataFrame, *, start_year: int, end_year: int,
                 period: str = "year", case_municipalities: Sequence[int] = (), min_moves: int = 20,
                 under: str = "SEL82", staircase=None) -> Sel82Models:
    """Both models of the §82 section: the observations at the end of each period, the allowed transitions,
    the Markov model of the register as recorded, and the hidden Markov model in which a period on
    ``under`` may be recorded as no service (:func:`fit_sel82_misclassification`).

    Examples
    --------
    ``mm.sel82_models(snapshots, persons, start_year=2014, end_year=2024)`` on notebook 20's end-of-year panel.
    """
    stairs = as_staircase(staircase)
    observations = snapshot_observations(snapshots, persons, start_year=start_year, end_year=end_year,
                                         period=period, case_municipalities=case_municipalities)
    qmatrix = allowed_qmatrix(observations, min_moves=min_moves, staircase=stairs)
    with _quiet():
        register = ctmc.fit(observations, subject="person_id", time="time", state="state", qmatrix=qmatrix)
    hidden = fit_sel82_misclassification(observations, qmatrix, under=under, staircase=stairs)
    return Sel82Models(observations=observations, qmatrix=qmatrix, register=register, hidden=hidden)


def period_model(observations: pd.DataFrame, *, cut: float, min_moves: int = 20,
                 covariates: Sequence[str] = ("severity",), staircase=None
                 ) -> tuple[ctmc.MultiStateModel, pd.DataFrame]:
    """The period effect at the reorganisation year ``cut``, in the municipalities that reorganised then.

    The citizens observed only in the case municipalities (column ``case`` of :func:`snapshot_observations`)
    are fitted with piecewise-constant intensities changing at ``cut`` (:func:`fit_period_effect`). Severity
    is the default covariate: in four municipalities the target groups are too unevenly spread for their
    contrasts on every transition to be estimable at small scales.

    Returns
    -------
    (MultiStateModel, DataFrame)
        The model and the observations it was fitted to.
    """
    case = observations[observations.groupby("person_id")["case"].transform("all")]
    qmatrix = allowed_qmatrix(case, min_moves=min_moves, staircase=staircase)
    return fit_period_effect(case, qmatrix, cut=float(cut), covariates=covariates), case


def _persons_in(observations: pd.DataFrame, subject: str = "person_id") -> pd.Series:
    """Citizens ever observed in each state."""
    return observations.groupby("state")[subject].nunique()


def misclassification_table(model: ctmc.MultiStateModel, observations: pd.DataFrame, *,
                            subject: str = "person_id") -> pd.DataFrame:
    """The estimated misclassification probabilities with 95% (``cl``) intervals.

    Returns
    -------
    DataFrame
        ``true_state``, ``recorded_state``, ``estimate``, ``std_error``, ``conf_low``, ``conf_high`` and
        ``n_persons`` (citizens ever recorded in the true state); declared.
    """
    table = model.ematrix().rename(columns={"from_state": "true_state", "to_state": "recorded_state"})
    table["n_persons"] = table["true_state"].map(_persons_in(observations, subject)).fillna(0).astype("int64")
    return declare(table, counts="n_persons",
                   stats={c: "n_persons" for c in ("estimate", "std_error", "conf_low", "conf_high")})


def intensity_comparison(models: Mapping[str, ctmc.MultiStateModel], observations: pd.DataFrame, *,
                         states: Sequence[str] | None = None, subject: str = "person_id") -> pd.DataFrame:
    """Intensities of several models side by side (at their covariate means), e.g. with and without
    misclassification.

    Parameters
    ----------
    models : mapping {label: MultiStateModel}
    states : sequence of str, optional
        Keep the transitions into or out of these states; default all.

    Returns
    -------
    DataFrame
        ``model``, ``from_state``, ``to_state``, ``estimate``, ``std_error``, ``conf_low``, ``conf_high``,
        ``n_persons`` (citizens ever observed in the from-state); declared.
    """
    frames = []
    for label, model in models.items():
        q = model.qmatrix()
        q = q[q["from_state"] != q["to_state"]]
        if states is not None:
            q = q[q["from_state"].isin(states) | q["to_state"].isin(states)]
        frames.append(q.assign(model=label))
    out = pd.concat(frames, ignore_index=True)
    out["n_persons"] = out["from_state"].map(_persons_in(observations, subject)).fillna(0).astype("int64")
    out = out[["model", "from_state", "to_state", "estimate", "std_error", "conf_low", "conf_high", "n_persons"]]
    return declare(out, counts="n_persons",
                   stats={c: "n_persons" for c in ("estimate", "std_error", "conf_low", "conf_high")})


def fit_period_effect(observations: pd.DataFrame, qmatrix: pd.DataFrame, *, cut: float,
                      covariates: Sequence[str] = (), subject: str = "person_id") -> ctmc.MultiStateModel:
    """Piecewise-constant intensities with a period factor that changes at ``cut`` (msm ``pci``).

    Parameters
    ----------
    cut : float
        The year the intensities may change, on the time scale of ``observations`` (e.g. 2019.0 for
        1 January 2019, the reorganisation year).
    covariates : sequence of str, optional
        Other covariates acting on every transition.

    Returns
    -------
    MultiStateModel
        With a term ``timeperiod[[<cut>,Inf)]`` on every transition.
    """
    with _quiet():
        return ctmc.fit(observations, subject=subject, time="time", state="state", qmatrix=qmatrix, pci=[cut],
                        covariates=list(covariates) or None)


def period_effect_table(model: ctmc.MultiStateModel, observations: pd.DataFrame, *,
                        subject: str = "person_id") -> pd.DataFrame:
    """Hazard ratios of the later period on each transition, with intervals and Wald tests.

    Returns
    -------
    DataFrame
        ``from_state``, ``to_state``, ``term``, ``estimate``, ``std_error``, ``conf_low``, ``conf_high``,
        ``statistic``, ``p_value``, ``n_persons``; declared.
    """
    hr = model.hazard_ratios()
    hr = hr[hr["term"].str.startswith("timeperiod")].reset_index(drop=True)
    hr["n_persons"] = hr["from_state"].map(_persons_in(observations, subject)).fillna(0).astype("int64")
    stats = ("estimate", "std_error", "conf_low", "conf_high", "statistic", "p_value")
    return declare(hr, counts="n_persons", stats={c: "n_persons" for c in stats})


def prevalence_table(model: ctmc.MultiStateModel, *, times: Sequence[float] | None = None,
                     covariates="population", origin: str = "entry") -> pd.DataFrame:
    """Observed against expected numbers and percentages in each state over time (msm ``prevalence.msm``).

    Citizens enter the register (and the assessments) at different dates, so time runs from each one's
    first observation (``origin="entry"``); the forecast starts from the states at entry. Use
    ``origin="time"`` for a model whose intensities change with calendar time (``pci``).

    Returns
    -------
    DataFrame
        ``time``, ``state``, ``n_observed``, ``n_at_risk``, ``expected``, ``observed_percent``,
        ``expected_percent``; declared (the expected numbers and percentages rest on the citizens under
        observation, the observed percentages also on those in the state; ``time`` is a label).
    """
    table = model.prevalence(times=times, covariates=covariates, origin=origin)
    return declare(table, counts=["n_observed", "n_at_risk"], labels="time",
                   stats={"expected": "n_at_risk", "expected_percent": "n_at_risk",
                          "observed_percent": ["n_observed", "n_at_risk"]},
                   margins={"n_observed": "time"})


def pearson_tables(model: ctmc.MultiStateModel, **options) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Pearson-type goodness-of-fit test (msm ``pearson.msm``): its cells and its statistic.

    Parameters
    ----------
    **options
        ``timegroups``, ``intervalgroups``, ``covgroups``, ``transitions`` of
        :meth:`MultiStateModel.pearson`.

    Returns
    -------
    (DataFrame, DataFrame)
        The cells (``observed`` is a count of transitions of citizens, so it is declared a count and the
        expected count and signed deviance rest on it) and the test (statistic, degrees of freedom and
        p-values: ``safe``, a summary of the whole panel).
    """
    result = model.pearson(**options)
    cells = result.table.rename(columns={"observed": "n_observed"})
    cells = declare(cells, counts="n_observed", labels=["interval_group", "cov_group", "group"],
                    stats={"expected": "n_observed", "deviance": "n_observed"})
    # the test statistic sums over the whole panel: it describes no citizen
    test = declare(result.test, safe=list(result.test.columns))
    return cells, test


# =====================================================================================================
# Notebook 10: VUM functioning levels at reassessment dates
# =====================================================================================================
def vum_level_observations(assessments: pd.DataFrame, *, cuts: Sequence[float] = VUM_LEVEL_CUTS,
                           levels: Sequence[str] = VUM_LEVELS, min_occasions: int = 2,
                           person_col: str = "person_id") -> pd.DataFrame:
    """Each citizen's VUM functioning level at each assessment date.

    The level is the mean item score over the relevant domains (code 9 = not relevant left out), cut at
    ``cuts``: with the defaults [0, 1) light, [1, 2) moderate, [2, 4] severe limitation.

    Parameters
    ----------
    assessments : DataFrame
        Table ``assessments`` (``instrument`` VUM, ``item``, ``score``, ``assessment_date``).
    min_occasions : int, default=2
        Citizens assessed fewer times are left out.

    Returns
    -------
    DataFrame
        ``person_id``, ``date``, ``time`` (years since 1970), ``mean_score``, ``n_domains``, ``state``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> obs = vum_level_observations(load_example("assessments"))
    >>> list(obs.columns)
    ['person_id', 'date', 'time', 'mean_score', 'n_domains', 'state']
    """
    if len(levels) != len(cuts) + 1:
        raise ParameterError(f"{len(cuts)} cuts make {len(cuts) + 1} levels; found {len(levels)} level names")
    vum = assessments[(assessments["instrument"] == "VUM") & (assessments["score"] < 9)]
    grouped = vum.groupby([person_col, "assessment_date"])["score"]
    out = pd.DataFrame({"mean_score": grouped.mean(), "n_domains": grouped.size()}).reset_index()
    out = out.rename(columns={"assessment_date": "date"})
    out["time"] = (out["date"] - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=365.25)
    out["state"] = np.asarray(levels, dtype=object)[np.searchsorted(np.asarray(cuts), out["mean_score"], "right")]
    out = out[out.groupby(person_col)[person_col].transform("size") >= min_occasions]
    out = out.sort_values([person_col, "time"], kind="stable").reset_index(drop=True)
    return out[[person_col, "date", "time", "mean_score", "n_domains", "state"]]


def fit_vum_levels(observations: pd.DataFrame, *, levels: Sequence[str] = VUM_LEVELS, e_init: float = 0.1,
                   subject: str = "person_id") -> ctmc.MultiStateModel:
    """A hidden Markov model of functioning levels: neighbouring levels connected both ways, a rater
    may record a neighbouring level (misclassification to adjacent levels), and the distribution of the
    true level at a citizen's first assessment is estimated.

    Returns
    -------
    MultiStateModel
    """
    levels = list(levels)
    k = len(levels)
    adjacent = (np.abs(np.arange(k)[:, None] - np.arange(k)[None, :]) == 1).astype(float)
    pattern = pd.DataFrame(adjacent, index=levels, columns=levels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        q = ctmc.crude_inits(observations, subject=subject, time="time", state="state", qmatrix=pattern)
    e = pd.DataFrame(adjacent * e_init, index=levels, columns=levels)
    with _quiet():
        return ctmc.fit(observations, subject=subject, time="time", state="state", qmatrix=q, ematrix=e,
                        initprobs=_first_state_shares(observations, levels, subject), est_initprobs=True)


# =====================================================================================================
# Against the synthetic truth (to be gathered into progression/analyses/truth.py)
# =====================================================================================================
def sel82_truth_comparison(model: ctmc.MultiStateModel, truth: Mapping, observations: pd.DataFrame, *,
                           under: str = "SEL82", recorded_as: str | None = None, left_for_good: str = "out",
                           staircase=None, subject: str = "person_id") -> pd.DataFrame:
    """The estimated probability that a year on §82 is recorded as ``recorded_as``, and the intensity of
    leaving for good, beside the synthetic register's truth.

    The generator drops each §82 spell with probability ``sel82_unrecorded_share``; ``truth`` holds that
    parameter and the share realised. A citizen all of whose spells were dropped never enters the
    register, so among the citizens in the data the share of §82 years recorded without services is
    expected somewhat below the spell share; spells of a higher step held at the same time hide nothing.
    The generating intensity of leaving the target group for good (``none -> out``) has no covariates,
    so it is comparable for every citizen.

    Returns
    -------
    DataFrame
        ``quantity``, ``estimate``, ``conf_low``, ``conf_high``, ``truth``, ``truth_realised``,
        ``covered``, ``n_persons``; declared (the truth is safe: generating parameters and a share over
        all generated spells).
    """
    stairs = as_staircase(staircase)
    recorded_as = stairs.none_step if recorded_as is None else recorded_as
    persons = _persons_in(observations, subject)
    e = model.ematrix()
    row = e[(e["from_state"] == under) & (e["to_state"] == recorded_as)].iloc[0]
    spells = truth.get("spells", {})
    share = float(spells.get("sel82_unrecorded_share", np.nan))
    realised = float(spells.get("realised", {}).get("sel82_unrecorded_share_realised", np.nan))
    rows = [{"quantity": f"P(recorded as {recorded_as} | on {under})", "estimate": row["estimate"],
             "conf_low": row["conf_low"], "conf_high": row["conf_high"], "truth": share, "truth_realised": realised,
             "n_persons": int(persons.get(under, 0))}]
    if left_for_good in model.states_:
        q = model.qmatrix()
        leave = q[(q["from_state"] == recorded_as) & (q["to_state"] == left_for_good)].iloc[0]
        baseline = truth.get("process", {}).get("baseline_q_per_year", {})
        generating = baseline.get(recorded_as, {}).get(left_for_good, np.nan)
        rows.append({"quantity": f"intensity {recorded_as} -> {left_for_good} (per year)",
                     "estimate": leave["estimate"],
                     "conf_low": leave["conf_low"], "conf_high": leave["conf_high"], "truth": float(generating),
                     "truth_realised": np.nan, "n_persons": int(persons.get(recorded_as, 0))})
    table = pd.DataFrame(rows)
    table["covered"] = (table["conf_low"] <= table["truth"]) & (table["truth"] <= table["conf_high"])
    table = table[["quantity", "estimate", "conf_low", "conf_high", "truth", "truth_realised", "covered", "n_persons"]]
    return declare(table, counts="n_persons", safe=["truth", "truth_realised"],
                   stats={c: "n_persons" for c in ("estimate", "conf_low", "conf_high")})


def _true_period_log_hr(process: Mapping, from_state: str, to_state: str) -> float:
    cls = process["transition_class"].get(f"{from_state}->{to_state}")
    if cls is None:
        return np.nan
    return (process["coefficients_log_hr"][cls].get("recovery", 0.0)
            + process["recovery_destination_effects_log"].get(to_state, 0.0))


def period_truth_comparison(model: ctmc.MultiStateModel, truth: Mapping, observations: pd.DataFrame, *,
                            subject: str = "person_id") -> pd.DataFrame:
    """Hazard ratios of the period after the reorganisation beside the generating effect of becoming
    recovery-oriented, ``exp(beta_recovery,class + g_recovery,destination)``.

    Comparable when the model is fitted to the municipalities that reorganised at the cut (the
    synthetic case municipalities, ``case_recovery_start_year``) and nothing else changed at that time;
    the comparison is then of a before/after contrast with the generating effect.

    Returns
    -------
    DataFrame
        The rows of :func:`period_effect_table` with ``truth`` and ``covered``; declared.
    """
    table = period_effect_table(model, observations, subject=subject)
    process = truth["process"]
    table["truth"] = [np.exp(_true_period_log_hr(process, r, s))
                      for r, s in zip(table["from_state"], table["to_state"])]
    table["covered"] = (table["conf_low"] <= table["truth"]) & (table["truth"] <= table["conf_high"])
    return declare(table, safe="truth", add=True)


def vum_truth_comparison(model: ctmc.MultiStateModel, truth: Mapping, observations: pd.DataFrame, *,
                         subject: str = "person_id") -> pd.DataFrame:
    """Estimated rater misclassification and true-level shares beside the generator's.

    The generator rates each VUM domain as ``round(c + a phi + eps)`` with a rater error ``eps`` (sd in
    ``truth``); the true level is the level of the expected score given the latent functioning.
    ``truth["assessments"]["vum_levels"]`` holds the realised shares of occasions of each true level
    rated at each level, and the shares of the true levels. The model's true-level shares are the
    forward-backward probabilities averaged over the assessments.

    Returns
    -------
    DataFrame
        ``quantity`` (``misclassification``, ``true share``, ``share misclassified``), ``true_state``,
        ``recorded_state``, ``estimate``, ``conf_low``, ``conf_high``, ``truth``, ``n_persons``; declared.
    """
    levels_truth = truth["assessments"]["vum_levels"]
    names = list(levels_truth["levels"])
    matrix = pd.DataFrame(levels_truth["misclassification"], index=names, columns=names)
    persons = _persons_in(observations, subject)
    e = model.ematrix()
    rows = [dict(quantity="misclassification", true_state=r, recorded_state=s, estimate=est, conf_low=lo,
                 conf_high=hi, truth=float(matrix.loc[r, s]), n_persons=int(persons.get(r, 0)))
            for r, s, est, lo, hi in zip(e["from_state"], e["to_state"], e["estimate"], e["conf_low"], e["conf_high"])]
    posterior = model.viterbi()[[f"p_{s}" for s in model.states_]].mean(axis=0).to_numpy()
    for s, share, true_share in zip(model.states_, posterior, levels_truth["true_shares"]):
        rows.append(dict(quantity="true share", true_state=s, recorded_state="", estimate=share, conf_low=np.nan,
                         conf_high=np.nan, truth=float(true_share), n_persons=int(persons.get(s, 0))))
    e_mat = model.ematrix_.to_numpy()
    implied = float(posterior @ (1.0 - np.diag(e_mat)))
    rows.append(dict(quantity="share misclassified", true_state="", recorded_state="", estimate=implied,
                     conf_low=np.nan, conf_high=np.nan, truth=float(levels_truth["share_misclassified"]),
                     n_persons=int(observations[subject].nunique())))
    table = pd.DataFrame(rows)
    table["covered"] = (table["conf_low"] <= table["truth"]) & (table["truth"] <= table["conf_high"])
    return declare(table, counts="n_persons", safe="truth",
                   stats={c: "n_persons" for c in ("estimate", "conf_low", "conf_high")})
