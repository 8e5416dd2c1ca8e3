"""The SØM potentials of *Borgeren ved roret*: citizens who reach a success criterion against those who do not.

Social- og Boligstyrelsen (2024), *Kommunernes omlægning til Borgeren ved roret*, reports two budget
potentials over four years: ≈ 250,000 kr. when a §85 recipient not on førtidspension gets into work or
education, and ≈ 930,000 kr. when a botilbud resident leaves botilbud. They compare successes with
non-successes and are **not** effects. This module

* delimits the two cohorts from the register tables (:func:`som_cohort`), each citizen's delimitation
  year drawn at random (:func:`one_year_per_person`);
* computes the potential as SØM does (:func:`success_potential`), and the contrast of priced
  quantities, raw and adjusted for baseline covariates (:func:`success_contrast`);
* replaces the descriptive contrast by an effect estimate (:func:`effect_adjusted_potential`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from progression._tidy import normal_interval
from progression.disclosure import dominance_share
from progression.economics.discounting import present_value
from progression.evaluation.naive import naive_contrast
from progression.evaluation.trial_effects import nuisance_models, varying_columns
from progression.evaluation.trials import (
    BASELINE_COLUMNS,
    BOTILBUD_STEPS,
    baseline_covariates,
    held_by_year,
    item_quantities,
    lagged_cost,
    paragraphs_on_steps,
    yearly_outcomes,
)
from progression.evaluation.weighting import aipw
from progression.exceptions import ParameterError, StatisticalWarning
from progression.staircase import as_staircase

__all__ = ["SuccessPotential", "success_potential", "effect_adjusted_potential", "CONTRAST_COVARIATES",
           "one_year_per_person", "som_cohort", "success_contrast"]

@dataclass(frozen=True)
class SuccessPotential:
    """Mean yearly costs of successes and non-successes, and their difference (the "potential").

    Attributes
    ----------
    table : DataFrame
        One row per ``rel_year`` (0 = the reference year), ``area`` and ``payer``:
        ``mean_cost_success``, ``mean_cost_failure`` (DKK per person-year),
        ``potential_dkk`` = failure − success (positive = successes cost less), and
        ``dominance_success``, ``dominance_failure``: the share of each mean's total that its two
        largest contributions (persons) make up, for the dominance rule of disclosure control
        (:func:`progression.disclosure.dominance_share`).
    n_success, n_failure : int
        Persons in each group (the denominators).

    Examples
    --------
    The botilbud cohort of the example data (success: out of botilbud the next year):

    >>> from progression.datasets import load_example
    >>> t = {name: load_example(name) for name in ("persons", "person_years", "spells", "person_year_costs",
    ...                                            "unit_costs")}
    >>> cohort = som_cohort("botilbud", persons=t["persons"], person_years=t["person_years"], spells=t["spells"],
    ...                     costs=t["person_year_costs"], unit_costs=t["unit_costs"], seed=1)
    >>> potential = success_potential(t["person_year_costs"], cohort.assign(success=cohort["success"] == 1))
    >>> potential.n_success, potential.n_failure
    (255, 1444)
    >>> potential.by("payer").round(-3)
    payer
    kommune    1855000.0
    region        2000.0
    stat          2000.0
    Name: potential_dkk, dtype: float64
    """

    table: pd.DataFrame
    n_success: int
    n_failure: int

    @property
    def total(self) -> float:
        """Potential per success over the whole horizon (undiscounted), DKK."""
        return float(self.table["potential_dkk"].sum())

    def by(self, column: str) -> pd.Series:
        """Potential summed by ``rel_year``, ``area`` or ``payer``."""
        return self.table.groupby(column)["potential_dkk"].sum()

    def present_value(self, *, rates=None) -> pd.Series:
        """Discounted potential by payer (rel_year 0 undiscounted)."""
        wide = self.table.pivot_table(index="rel_year", columns="payer", values="potential_dkk",
                                      aggfunc="sum").fillna(0.0)
        return present_value(wide, rates=rates).rename("potential_pv_dkk")


def success_potential(costs: pd.DataFrame, groups: pd.DataFrame, *, horizon: int = 4,
                      person_col: str = "person_id", year_col: str = "year",
                      service_col: str = "service", payer_col: str = "payer",
                      cost_col: str = "cost_dkk", success_col: str = "success",
                      reference_year_col: str = "reference_year",
                      areas: Mapping[str, str] | None = None) -> SuccessPotential:
    """The SØM-style budget potential: mean yearly cost of non-successes minus successes.

    Social- og Boligstyrelsen (2024) reports ≈ 250,000 kr. over four years when a §85 recipient not on
    førtidspension gets into work or education, and ≈ 930,000 kr. when a botilbud resident leaves botilbud. These
    compare citizens who reach a success criterion with those who do not; they are **not**
    effects of an intervention (use :func:`effect_adjusted_potential` for that).

    Parameters
    ----------
    costs : DataFrame
        Public costs per person, year, service and payer (the
        :class:`~progression.schemas.PersonYearCosts` table). Missing rows count as zero cost.
    groups : DataFrame
        One row per person of the cohort: ``success`` (bool) and ``reference_year`` (the first
        calendar year counted, e.g. the year success is measured).
    horizon : int, default=4
        Years counted from the reference year.
    person_col, year_col, service_col, payer_col, cost_col, success_col, reference_year_col : str
    areas : mapping of str to str, default=None
        Service → area (e.g. "SEL108" → "social", "førtidspension" → "indkomstoverførsler");
        unmapped services keep their name.

    Returns
    -------
    SuccessPotential

    Notes
    -----
    mean_cost_g(t, a, p) = Σ_{i∈g} cost_i(ref_i + t, a, p) / N_g, so persons without costs count
    as zero and each group's denominator is its cohort size.

    Raises
    ------
    ParameterError
        When a column is missing, a person appears twice in ``groups``, or a group is empty.

    References
    ----------
    Social- og Boligstyrelsen (2024), *Kommunernes omlægning til Borgeren ved roret*.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> t = {name: load_example(name) for name in ("persons", "person_years", "spells", "person_year_costs",
    ...                                            "unit_costs")}
    >>> cohort = som_cohort("botilbud", persons=t["persons"], person_years=t["person_years"], spells=t["spells"],
    ...                     costs=t["person_year_costs"], unit_costs=t["unit_costs"], seed=1)
    >>> potential = success_potential(t["person_year_costs"], cohort.assign(success=cohort["success"] == 1))
    >>> first = potential.table[(potential.table["rel_year"] == 0) & (potential.table["area"] == "SEL108")]
    >>> first[["payer", "mean_cost_success", "mean_cost_failure", "potential_dkk"]].round(-3)
         payer  mean_cost_success  mean_cost_failure  potential_dkk
    8  kommune                0.0           160000.0       160000.0
    9     stat                0.0             1000.0         1000.0
    >>> round(potential.total, -3)
    1860000.0
    """
    for name, frame, cols in (("costs", costs, [person_col, year_col, service_col, payer_col, cost_col]),
                              ("groups", groups, [person_col, success_col, reference_year_col])):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ParameterError(f"{name}: missing column(s) {missing}; columns present: {list(frame.columns)}")
    if groups[person_col].duplicated().any():
        dup = groups.loc[groups[person_col].duplicated(), person_col].head(5).tolist()
        raise ParameterError(f"groups: each person must appear once; duplicated {person_col}: {dup}")
    success = groups[success_col].astype(bool)
    n_success, n_failure = int(success.sum()), int((~success).sum())
    if n_success == 0 or n_failure == 0:
        raise ParameterError(f"groups: need both successes and non-successes; got {n_success} and {n_failure}")
    g = groups[[person_col, reference_year_col]].assign(_success=success.to_numpy())
    merged = costs.merge(g, on=person_col, how="inner")
    merged["rel_year"] = merged[year_col] - merged[reference_year_col]
    merged = merged[(merged["rel_year"] >= 0) & (merged["rel_year"] < horizon)]
    merged["area"] = merged[service_col].map(lambda s: areas.get(s, s)) if areas else merged[service_col]
    cells = ["rel_year", "area", payer_col, "_success"]
    sums = merged.groupby(cells)[cost_col].sum().unstack("_success")
    sums = sums.reindex(columns=[True, False]).fillna(0.0)
    per_person = merged.groupby([*cells, person_col])[cost_col].sum()
    dominance = dominance_share(per_person, per_person.index.to_frame(index=False)[cells]).unstack("_success")
    dominance = dominance.reindex(index=sums.index, columns=[True, False]).fillna(0.0)
    table = pd.DataFrame({
        "mean_cost_success": sums[True] / n_success,
        "mean_cost_failure": sums[False] / n_failure,
    }).reset_index().rename(columns={payer_col: "payer"})
    table["potential_dkk"] = table["mean_cost_failure"] - table["mean_cost_success"]
    table["dominance_success"] = dominance[True].to_numpy()
    table["dominance_failure"] = dominance[False].to_numpy()
    return SuccessPotential(table=table, n_success=n_success, n_failure=n_failure)


def effect_adjusted_potential(unit_gain: float | SuccessPotential, *, effect: float,
                              observed_success_rate: float, effect_std_error: float | None = None,
                              causal_share: float = 1.0, cl: float = 0.95) -> pd.DataFrame:
    """Replace the naive success contrast by an effect estimate: effect × unit gain.

    Reading a SØM potential naively credits an intervention with the full potential for every
    participant who succeeds. Only the *extra* successes it causes count (those who would have
    succeeded anyway are deadweight), and only the part of the success-vs-failure cost gap that
    success itself causes (the rest reflects who succeeds).

    Parameters
    ----------
    unit_gain : float or SuccessPotential
        Potential per success (DKK), e.g. :attr:`SuccessPotential.total`.
    effect : float
        Estimated change in the probability of success caused by the intervention (absolute,
        0.08 = 8 percentage points).
    observed_success_rate : float
        Share of participants who succeed (what the naive reading counts).
    effect_std_error : float, default=None
        Standard error of ``effect``; gives a normal confidence interval.
    causal_share : float, default=1.0
        Share of the cost contrast caused by success itself (1 = take the contrast at face value).
    cl : float, default=0.95
        Confidence level.

    Returns
    -------
    DataFrame
        One row: ``unit_gain_dkk``, ``naive_gain_dkk`` (= rate × unit gain, per participant),
        ``effect_gain_dkk`` (= effect × causal share × unit gain), ``conf_low``, ``conf_high``,
        ``surviving_share`` (= effect gain / naive gain).

    Raises
    ------
    ParameterError
        When ``observed_success_rate`` is not in (0, 1] or ``causal_share`` not in [0, 1].

    Examples
    --------
    The report's 930,000 kr. per botilbud resident who leaves, for an intervention after which 30 % leave
    but which causes 8 percentage points of it:

    >>> out = effect_adjusted_potential(930_000, effect=0.08, observed_success_rate=0.3, effect_std_error=0.03)
    >>> out[["naive_gain_dkk", "effect_gain_dkk", "conf_low", "conf_high"]].round(-2)
       naive_gain_dkk  effect_gain_dkk  conf_low  conf_high
    0        279000.0          74400.0   19700.0   129100.0
    >>> round(float(out["surviving_share"].iloc[0]), 3)
    0.267
    """
    gain = unit_gain.total if isinstance(unit_gain, SuccessPotential) else float(unit_gain)
    if not 0 < observed_success_rate <= 1:
        raise ParameterError(f"observed_success_rate: expected a share in (0, 1]; got {observed_success_rate}")
    if not 0 <= causal_share <= 1:
        raise ParameterError(f"causal_share: expected a share in [0, 1]; got {causal_share}")
    naive = observed_success_rate * gain
    scale = causal_share * gain
    estimate = effect * scale
    if effect_std_error is None:
        low = high = np.nan
    else:
        low, high = sorted(float(limit) * scale for limit in normal_interval(effect, effect_std_error, cl=cl))
    return pd.DataFrame([{
        "unit_gain_dkk": gain, "naive_gain_dkk": naive, "effect_gain_dkk": estimate,
        "conf_low": low, "conf_high": high,
        "surviving_share": estimate / naive if naive != 0 else np.nan,
    }])


#: Covariates of the adjusted success contrasts (measured in the delimitation year and the year before).
CONTRAST_COVARIATES = ("age", "sex", "target_group", "severity", "childhood_services", "index_year",
                       "botilbud_lag1", "in_data_lag2", "cost_lag1",
                       *(f"{c}_lag{lag}" for c in BASELINE_COLUMNS for lag in (1, 2)))


def one_year_per_person(rows: pd.DataFrame, *, seed: int, year_col: str = "index_year") -> pd.DataFrame:
    """Keep one row per person, its year drawn at random (SØM draws the delimitation year at random).

    Parameters
    ----------
    rows : DataFrame
        Candidate rows with ``person_id`` and ``year_col``.
    seed : int
        Seed of the draw; the same rows and seed give the same choice.
    year_col : str, default="index_year"

    Returns
    -------
    DataFrame
        One row per person, sorted by person.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"person_id": [1, 1, 1, 2, 2], "index_year": [2017, 2018, 2019, 2017, 2020]})
    >>> one_year_per_person(rows, seed=1)
       person_id  index_year
    0          1        2018
    1          2        2017
    """
    rng = np.random.default_rng(seed)
    ordered = rows.sort_values(["person_id", year_col], kind="stable").reset_index(drop=True)
    key = rng.random(len(ordered))
    pick = pd.Series(key).groupby(ordered["person_id"].to_numpy()).idxmax().to_numpy()
    return ordered.loc[np.sort(pick)].reset_index(drop=True)


def som_cohort(kind: str, *, persons: pd.DataFrame, person_years: pd.DataFrame, spells: pd.DataFrame,
               costs: pd.DataFrame, unit_costs: pd.DataFrame, staircase=None, years: tuple[int, int] = (2017, 2020),
               seed: int, home_support_steps: Sequence[str] = ("SEL85",),
               botilbud_steps: Sequence[str] = BOTILBUD_STEPS,
               ages: tuple[int, int] = (18, 64)) -> pd.DataFrame:
    """One of the two SØM cohorts of Social- og Boligstyrelsen (2024), with success and baseline covariates.

    Parameters
    ----------
    kind : {"employment", "botilbud"}
        ``"employment"``: citizens on home support (§85) in the delimitation year t, not on
        førtidspension that year, aged within ``ages``; success = employed or in education in t + 1
        (the register's yearly weeks stand in for SØM's week 48). ``"botilbud"``: citizens in botilbud
        (§107, §105/§85, §108) in t; success = no botilbud in t + 1.
    persons, person_years, spells, costs, unit_costs : DataFrame
        The contract tables.
    staircase : Staircase or StaircaseParams, optional
    years : (int, int), default=(2017, 2020)
        Delimitation years (Social- og Boligstyrelsen 2024, *Kommunernes omlægning til Borgeren ved roret*,
        method appendix); each citizen's year is drawn at random among them.
    seed : int
    home_support_steps, botilbud_steps : sequence of str
    ages : (int, int)
        Ages of the employment cohort (not the botilbud cohort).

    Returns
    -------
    DataFrame
        One row per citizen: ``person_id``, ``year`` (t), ``index_year`` = ``reference_year`` = t + 1,
        ``success`` (0/1) and the covariates of :data:`CONTRAST_COVARIATES` (lag 1 = year t).
        Citizens without a person-year in t + 1 (dead or emigrated) are left out.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> t = {name: load_example(name) for name in ("persons", "person_years", "spells", "person_year_costs",
    ...                                            "unit_costs")}
    >>> cohort = som_cohort("botilbud", persons=t["persons"], person_years=t["person_years"], spells=t["spells"],
    ...                     costs=t["person_year_costs"], unit_costs=t["unit_costs"], seed=1)
    >>> bool(cohort["person_id"].is_unique), sorted(cohort["success"].unique().tolist())
    (True, [0.0, 1.0])
    >>> potential = success_potential(t["person_year_costs"], cohort.assign(success=cohort["success"] == 1))
    >>> potential.total > 0
    True
    """
    if kind not in ("employment", "botilbud"):
        raise ParameterError(f"kind: expected 'employment' or 'botilbud'; got {kind!r}")
    stairs = as_staircase(staircase)
    if kind == "employment":
        paragraphs = paragraphs_on_steps(stairs, home_support_steps, column="fund.home_support_steps")
    else:
        paragraphs = paragraphs_on_steps(stairs, botilbud_steps, column="fund.botilbud_steps")
    held = held_by_year(spells, paragraphs, first_year=years[0], last_year=years[1] + 1)
    py = yearly_outcomes(person_years)
    rows = held[held["year"] <= years[1]].merge(py[["person_id", "year", "disability_pension_weeks"]],
                                                on=["person_id", "year"])
    rows = rows.merge(persons[["person_id", "birth_year"]], on="person_id")
    if kind == "employment":
        age = rows["year"] - rows["birth_year"]
        rows = rows[(rows["disability_pension_weeks"] == 0) & age.between(*ages)]
    nxt = py[["person_id", "year", "employed_or_education"]].assign(year=py["year"] - 1)
    rows = rows[["person_id", "year"]].merge(nxt, on=["person_id", "year"])
    if kind == "employment":
        rows["success"] = rows.pop("employed_or_education")
    else:
        again = held.assign(year=held["year"] - 1, _again=1.0)
        rows = rows.drop(columns="employed_or_education").merge(again, on=["person_id", "year"], how="left")
        rows["success"] = 1.0 - rows.pop("_again").fillna(0.0)
    rows = rows.assign(index_year=rows["year"] + 1, reference_year=rows["year"] + 1)
    rows = one_year_per_person(rows, seed=seed)
    rows = baseline_covariates(rows, persons=persons, person_years=person_years, spells=spells, stairs=stairs,
                               botilbud_steps=botilbud_steps)
    rows["cost_lag1"] = lagged_cost(rows, costs=costs, unit_costs=unit_costs)
    return rows


def success_contrast(cohort: pd.DataFrame, *, success: str, costs: pd.DataFrame, unit_costs: pd.DataFrame,
                     horizon: int, covariates: Sequence[str] = CONTRAST_COVARIATES, seed: int = 0,
                     cl: float = 0.95) -> pd.DataFrame:
    """Differences in yearly quantities of priced items between successes and non-successes.

    For each item and year r = 0 … horizon − 1 after the reference year, the raw contrast (the SØM
    potential's basis: mean of successes − mean of non-successes, by :func:`naive_contrast`) and the
    contrast adjusted for baseline covariates (AIPW, ATE of success). The adjusted contrast removes the
    part of the gap explained by who succeeds *as far as the covariates tell*; it is still not an effect
    of success when unmeasured traits drive both.

    Parameters
    ----------
    cohort : DataFrame
        Rows with ``person_id``, ``reference_year``, the ``success`` column and the covariates.
    success : str
        0/1 column.
    costs, unit_costs : DataFrame
    horizon : int
    covariates : sequence of str
    seed : int
    cl : float

    Returns
    -------
    DataFrame
        ``item``, ``start_year`` (r), ``method`` (``raw`` / ``adjusted``), ``change`` (quantity per
        success per year), ``std_error``, ``conf_low``, ``conf_high``, ``n_success``, ``n_failure``.

    Examples
    --------
    Years on §108 in the year after the delimitation year, for those who left botilbud against those
    who did not, raw and adjusted for a few covariates:

    >>> from progression.datasets import load_example
    >>> t = {name: load_example(name) for name in ("persons", "person_years", "spells", "person_year_costs",
    ...                                            "unit_costs")}
    >>> cohort = som_cohort("botilbud", persons=t["persons"], person_years=t["person_years"], spells=t["spells"],
    ...                     costs=t["person_year_costs"], unit_costs=t["unit_costs"], seed=1)
    >>> contrast = success_contrast(cohort, success="success", costs=t["person_year_costs"],
    ...                             unit_costs=t["unit_costs"], horizon=1,
    ...                             covariates=["age", "sex", "severity", "cost_lag1"])
    >>> contrast.loc[contrast["item"] == "SEL108", ["method", "change", "conf_low", "conf_high"]].round(2)
          method  change  conf_low  conf_high
    4   adjusted   -0.17     -0.19      -0.15
    20       raw   -0.18     -0.20      -0.16
    """
    keys = cohort[["person_id", "reference_year"]].drop_duplicates()
    wide = cohort[["person_id", "reference_year", success, *covariates]].copy()
    for r in range(horizon):
        q = item_quantities(costs[costs["person_id"].isin(keys["person_id"])], unit_costs,
                            keys.assign(year=keys["reference_year"] + r))
        q = q.assign(reference_year=q.pop("year") - r).rename(columns=lambda c: f"{c}@{r}" if c.startswith("q_") else c)
        wide = wide.merge(q, on=["person_id", "reference_year"], how="left")
    outcome_cols = [c for c in wide.columns if c.startswith("q_")]
    wide[outcome_cols] = wide[outcome_cols].fillna(0.0)
    outcome_cols = [c for c in outcome_cols if wide[c].abs().sum() > 0]
    raw = naive_contrast(wide, outcome=outcome_cols, group=success, cluster="person_id", cl=cl).assign(method="raw")
    models = nuisance_models()
    with warnings.catch_warnings():  # success is predictable from the covariates by design; clip instead
        warnings.simplefilter("ignore", StatisticalWarning)
        adjusted = aipw(wide, outcome=outcome_cols, treatment=success, covariates=varying_columns(wide, covariates),
                        estimand="ATE", propensity_model=models["propensity"], outcome_model=models["continuous"],
                        clip=0.01, cluster="person_id", seed=seed, cl=cl).assign(method="adjusted")
    out = pd.concat([raw, adjusted], ignore_index=True)
    parts = out["outcome"].str.extract(r"^q_(?P<item>.+)@(?P<start_year>\d+)$")
    return pd.DataFrame({
        "item": parts["item"], "start_year": parts["start_year"].astype(int), "method": out["method"],
        "change": out["estimate"], "std_error": out["std_error"], "conf_low": out["conf_low"],
        "conf_high": out["conf_high"], "n_success": out["n_treated"], "n_failure": out["n_control"],
    }).sort_values(["method", "item", "start_year"], ignore_index=True)
