"""From the register tables to the inputs of effect estimation, budget economics and the fund (notebook 40).

The libraries (:mod:`progression.evaluation`, :mod:`progression.economics`, :mod:`progression.fund`) take
tidy frames; this module builds them from the contract tables (persons, spells, person-years,
person-year costs, participations):

* :func:`eligible_pool` and :func:`trial_frame` emulate a sequence of target trials (Hernán & Robins
  2016): for each year an intervention is offered in a municipality, the citizens who start it that year
  are compared with the eligible citizens of the offering municipalities who have not (yet) started any
  intervention, with baseline covariates from the years before and outcomes after the start
  (:func:`add_costs` adds public costs and quantities of priced items);
* :func:`estimate_effects` runs the naive contrast, IPW, AIPW, the 2×2 DiD and the doubly robust DiD
  on a trial frame; :func:`preferred_effects` picks the headline estimate per outcome;
* :func:`event_panel` and :func:`adoption_panel` give the person-year panel of an event study around the
  start and the municipality-year panel of staggered adoption (Callaway & Sant'Anna 2021);
* :func:`som_cohort` delimits seed 002's two SØM cohorts (success vs non-success), and
  :func:`success_contrast` compares the priced quantities of successes and non-successes over the
  following years, raw and adjusted for baseline covariates;
* :func:`fund_interventions` and :func:`fund_contracts` turn effect estimates and participation into
  the tables of :func:`progression.fund.simulate`.

Years on a service step are read off the spells; quantities of priced items (years on a service,
bed days, …) off the person-year costs divided by the gross unit cost of the item.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from progression.evaluation import first_treated
from progression.exceptions import DataContractError, ParameterError, StatisticalWarning
from progression.staircase import steps_on_dates
from progression.staircase import Staircase, as_staircase

__all__ = [
    "Eligibility", "eligibility_rules", "adoption_years", "first_starts", "held_by_year", "item_quantities",
    "eligible_pool", "trial_frame", "baseline_covariates", "service_history", "next_year_outcomes", "no_escalation",
    "add_costs", "nuisance_models", "varying_columns", "change_frame", "did_long", "estimate_effects",
    "preferred_effects", "yearly_outcomes", "event_panel", "adoption_panel", "adoption_persons",
    "one_year_per_person", "lagged_cost", "som_cohort", "success_contrast", "consequence_effects",
    "participant_means", "fund_interventions", "fund_contracts", "area_of",
    "NEXT_YEAR_OUTCOMES", "BASELINE_COLUMNS", "LEVEL_COVARIATES", "CHANGE_COVARIATES", "CONTRAST_COVARIATES",
    "PRE_PERIOD", "SERVICE_GAP_BANDS", "AREAS",
]

#: Outcomes of the calendar year after the start year (the register's yearly outcomes).
NEXT_YEAR_OUTCOMES = ("employed", "employment_weeks", "employed_or_education", "no_psych_admission",
                      "psych_inpatient_days", "no_botilbud_next_year")
#: Person-year columns whose values in the years before the start are baseline covariates.
BASELINE_COLUMNS = ("employment_weeks", "education_weeks", "disability_pension_weeks", "employment_measure_hours",
                    "psych_inpatient_days", "outpatient_contacts")
_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Eligibility:
    """Who may start an intervention: steps held on the start date, ages in the start year, target groups."""

    steps: tuple[str, ...]
    min_age: int
    max_age: int
    target_groups: tuple[str, ...]


def _target_groups(declared: str, groups: Sequence[str]) -> tuple[str, ...]:
    """Target groups an intervention serves: 'alle' = every group; a group also takes those in 'begge'."""
    if declared == "alle":
        return tuple(groups)
    return (declared, "begge") if "begge" in groups else (declared,)


def eligibility_rules(interventions: pd.DataFrame, *, steps: Mapping[str, Sequence[str]],
                      ages: Mapping[str, Sequence[int]], staircase=None,
                      groups: Sequence[str] = ("sindslidelse", "kognitivt_handicap", "begge")
                      ) -> dict[str, Eligibility]:
    """Eligibility of each intervention of the ``interventions`` table from the parameters.

    Parameters
    ----------
    interventions : DataFrame
        The interventions table (``intervention``, ``target_group``).
    steps : mapping of str to list of str
        Intervention -> staircase steps a citizen must hold on the start date.
    ages : mapping of str to (int, int)
        Intervention -> youngest and oldest age (in the start year).
    staircase : Staircase or StaircaseParams, optional
    groups : sequence of str
        Target groups of the persons table.

    Returns
    -------
    dict of str to Eligibility

    Raises
    ------
    ParameterError
        When an intervention has no steps or ages, or a step is not on the staircase.
    """
    stairs = as_staircase(staircase)
    missing = [k for k in interventions["intervention"] if k not in steps or k not in ages]
    if missing:
        raise ParameterError(f"fund.eligible_steps / fund.eligible_ages: no entry for intervention(s) {missing}; "
                             f"entries given for {sorted(set(steps) & set(ages))}")
    out = {}
    for row in interventions.itertuples(index=False):
        stairs.check_steps(steps[row.intervention], column=f"fund.eligible_steps[{row.intervention}]")
        low, high = ages[row.intervention]
        out[row.intervention] = Eligibility(steps=tuple(steps[row.intervention]), min_age=int(low), max_age=int(high),
                                            target_groups=_target_groups(str(row.target_group), groups))
    return out


def adoption_years(participations: pd.DataFrame) -> pd.DataFrame:
    """Year each municipality first had a participant in each intervention (its adoption year).

    Returns
    -------
    DataFrame
        ``intervention``, ``municipality``, ``adoption_year``.
    """
    frames = [first_treated(participations, by="municipality", intervention=k).assign(intervention=k)
              for k in sorted(participations["intervention"].unique())]
    out = pd.concat(frames, ignore_index=True).rename(columns={"first_treated": "adoption_year"})
    return out[["intervention", "municipality", "adoption_year"]]


def held_by_year(spells: pd.DataFrame, paragraphs: Sequence[str], *, first_year: int, last_year: int) -> pd.DataFrame:
    """Person-years in which a spell of one of ``paragraphs`` runs for at least a day.

    Returns
    -------
    DataFrame
        ``person_id``, ``year`` (unique pairs, sorted).
    """
    s = spells[spells["paragraph"].isin(list(paragraphs))]
    start = s["start_date"].dt.year.clip(lower=first_year).to_numpy()
    end = s["end_date"].dt.year.fillna(last_year).clip(upper=last_year).astype(int).to_numpy()
    n = np.maximum(end - start + 1, 0)
    person = np.repeat(s["person_id"].to_numpy(), n)
    first = np.repeat(start, n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    out = pd.DataFrame({"person_id": person, "year": first + offset})
    return out.drop_duplicates().sort_values(["person_id", "year"], ignore_index=True)


def item_quantities(costs: pd.DataFrame, unit_costs: pd.DataFrame, keys: pd.DataFrame | None = None) -> pd.DataFrame:
    """Quantities of priced items per person-year: cost over all payers / the item's gross unit cost.

    A year on §108, a psychiatric bed day or an hour of employment measures is priced in ``unit_costs``
    with one row per payer (e.g. region 5,500 and kommune 500 per bed day); the person-year costs split
    the same quantity over the same payers, so the sum over payers divided by the summed unit costs is
    the quantity. Items priced per participant (the interventions themselves) are left out.

    Parameters
    ----------
    costs : DataFrame
        The person-year costs table.
    unit_costs : DataFrame
        The unit-costs table (same price year).
    keys : DataFrame, optional
        ``person_id``, ``year`` pairs to keep (default: all).

    Returns
    -------
    DataFrame
        ``person_id``, ``year`` and one ``q_<item>`` column per item (0 when no cost).
    """
    if costs["price_year"].nunique() > 1 or set(costs["price_year"].unique()) - set(unit_costs["price_year"]):
        raise DataContractError(f"person_year_costs: price years {sorted(costs['price_year'].unique())} must be the "
                                f"single price year of unit_costs {sorted(unit_costs['price_year'].unique())}")
    priced = unit_costs[unit_costs["unit"] != "participant"]
    gross = priced.groupby("item")["cost_dkk"].sum()
    c = costs[costs["service"].isin(gross.index)]
    if keys is not None:
        c = c.merge(keys[["person_id", "year"]].drop_duplicates(), on=["person_id", "year"])
    total = c.groupby(["person_id", "year", "service"], sort=True)["cost_dkk"].sum()
    per_unit = total / gross.reindex(total.index.get_level_values("service")).to_numpy()
    wide = per_unit.unstack("service", fill_value=0.0)
    wide = wide.reindex(columns=sorted(gross.index), fill_value=0.0)
    wide.columns = [f"q_{c}" for c in wide.columns]
    wide = wide.reset_index()
    if keys is not None:
        wanted = keys[["person_id", "year"]].drop_duplicates()
        wide = wanted.merge(wide, on=["person_id", "year"], how="left").fillna(0.0)
    return wide


# ---------------------------------------------------------------------------------------------
# Target-trial emulation: starters against eligible citizens not (yet) started
# ---------------------------------------------------------------------------------------------

def eligible_pool(rule: Eligibility, *, persons: pd.DataFrame, person_years: pd.DataFrame, spells: pd.DataFrame,
                  staircase=None, years: tuple[int, int], index_date: tuple[int, int] = (7, 1)) -> pd.DataFrame:
    """Person-years of citizens who fit ``rule`` on the index date of the year, in any municipality.

    Returns
    -------
    DataFrame
        ``person_id``, ``year``, ``municipality`` (residence that year), ``index_date``, ``step``, ``level``.
    """
    stairs = as_staircase(staircase)
    py = person_years.loc[person_years["year"].between(*years), ["person_id", "year", "municipality"]]
    who = persons[["person_id", "birth_year", "target_group", "death_date", "emigration_date"]]
    py = py.merge(who, on="person_id")
    py["index_date"] = pd.to_datetime(pd.DataFrame({"year": py["year"], "month": index_date[0], "day": index_date[1]}))
    gone = py[["death_date", "emigration_date"]].min(axis=1)
    age = py["year"] - py["birth_year"]
    ok = (age.between(rule.min_age, rule.max_age) & py["target_group"].isin(rule.target_groups)
          & (gone.isna() | (gone > py["index_date"])))
    py = py.loc[ok, ["person_id", "year", "municipality", "index_date"]]
    return _with_step(py, spells, stairs, rule).reset_index(drop=True)


def _with_step(rows: pd.DataFrame, spells: pd.DataFrame, stairs: Staircase, rule: Eligibility) -> pd.DataFrame:
    """Rows with the step held on ``index_date`` (highest step that day), kept when it is eligible."""
    held = steps_on_dates(spells, rows.rename(columns={"index_date": "date"}), staircase=stairs,
                          municipality_col=None)
    out = rows.assign(step=held["step"].astype(str).to_numpy(), level=held["level"].to_numpy())
    return out[out["step"].isin(rule.steps)]


def first_starts(participations: pd.DataFrame) -> pd.DataFrame:
    """Each person's first start of any intervention (later starts are not new trials), with ``start_year``."""
    first = participations.sort_values(["person_id", "start_date", "intervention"], kind="stable")
    first = first.drop_duplicates("person_id")[["person_id", "intervention", "municipality", "start_date"]]
    return first.assign(start_year=first["start_date"].dt.year).reset_index(drop=True)


def trial_frame(intervention: str, rule: Eligibility, *, pool: pd.DataFrame, persons: pd.DataFrame,
                person_years: pd.DataFrame, spells: pd.DataFrame, participations: pd.DataFrame,
                adoption: pd.DataFrame, staircase=None, extract_date,
                botilbud_steps: Sequence[str] = ("SEL107", "ABL105", "SEL108"), escalation_months: int = 24
                ) -> pd.DataFrame:
    """One row per trial: a citizen starting ``intervention`` in a year, or an eligible citizen not started.

    Parameters
    ----------
    intervention : str
    rule : Eligibility
        Steps on the start date, ages and target groups of the intervention.
    pool : DataFrame
        :func:`eligible_pool` of the rule; its years are the trial years.
    persons, person_years, spells, participations : DataFrame
        The contract tables.
    adoption : DataFrame
        :func:`adoption_years` (controls come from municipalities in and after their adoption year).
    staircase : Staircase or StaircaseParams, optional
    extract_date : date-like
        End of the data (escalation is only known when its window ends before it).
    botilbud_steps : sequence of str
        Steps that count as botilbud for ``no_botilbud_next_year`` and ``botilbud_lag1``.
    escalation_months : int, default=24

    Returns
    -------
    DataFrame
        Per trial: ``person_id``, ``municipality``, ``index_year``, ``index_date``, ``treated`` (0/1),
        ``step`` and ``level`` on the index date; covariates (:func:`baseline_covariates`,
        :func:`service_history`); outcomes of
        the next calendar year (:data:`NEXT_YEAR_OUTCOMES`, missing without a next person-year) and
        ``no_escalation_24m`` (no higher step starting within the window, missing when the window
        passes the extract date).

    Notes
    -----
    Controls are person-years of the pool in municipalities that have adopted the intervention, of
    citizens who have not started any intervention by the end of that year; a citizen can be a control
    in several years and a starter later (sequential trials; cluster on the person). Starters whose step
    on the start date is not eligible under the rule (e.g. an unrecorded §82 spell) are left out, as
    their controls would be, and so are trials dated before the citizen's first service: the register
    holds such citizens only because a service follows, which would select on the outcome.
    """
    stairs = as_staircase(staircase)
    years = (int(pool["year"].min()), int(pool["year"].max()))
    first = first_starts(participations)
    mine = first[(first["intervention"] == intervention) & first["start_year"].between(*years)]
    treated = _with_step(mine.rename(columns={"start_date": "index_date", "start_year": "year"})
                         [["person_id", "year", "municipality", "index_date"]], spells, stairs, rule)
    adopted = adoption.loc[adoption["intervention"] == intervention, ["municipality", "adoption_year"]]
    candidates = pool.merge(adopted, on="municipality")
    started = candidates["person_id"].map(first.set_index("person_id")["start_year"])
    controls = candidates[(candidates["year"] >= candidates["adoption_year"]) & ~(started <= candidates["year"])]
    rows = pd.concat([treated.assign(treated=1), controls.drop(columns="adoption_year").assign(treated=0)],
                     ignore_index=True).rename(columns={"year": "index_year"})
    rows = baseline_covariates(rows, persons=persons, person_years=person_years, spells=spells, stairs=stairs,
                               botilbud_steps=botilbud_steps)
    rows = service_history(rows, spells, stairs)
    rows = rows[rows["service_gap"] != "before first"]
    rows = next_year_outcomes(rows, person_years=person_years, spells=spells, stairs=stairs,
                              botilbud_steps=botilbud_steps, last_year=pd.Timestamp(extract_date).year)
    rows["no_escalation_24m"] = no_escalation(rows, spells, stairs, months=escalation_months,
                                              extract_date=extract_date)
    return rows.sort_values(["index_year", "person_id", "treated"], ignore_index=True)


def _botilbud_paragraphs(stairs: Staircase, botilbud_steps: Sequence[str]) -> list[str]:
    stairs.check_steps(botilbud_steps, column="fund.botilbud_steps")
    return [p for p, s in stairs.paragraphs.items() if s in set(botilbud_steps)]


def baseline_covariates(rows: pd.DataFrame, *, persons: pd.DataFrame, person_years: pd.DataFrame,
                        spells: pd.DataFrame, stairs: Staircase, botilbud_steps: Sequence[str], lags: int = 2
                        ) -> pd.DataFrame:
    """Add baseline covariates: person traits, age, and person-year outcomes of the ``lags`` years before.

    Adds ``age``, ``sex``, ``target_group``, ``severity``, ``childhood_services``; for lag l = 1 … lags
    ``in_data_lag<l>`` (a person-year exists) and ``<column>_lag<l>`` for :data:`BASELINE_COLUMNS`
    (0 without a person-year); ``botilbud_lag1`` (a botilbud spell in the year before).
    """
    traits = persons[["person_id", "birth_year", "sex", "target_group", "severity", "childhood_services"]]
    out = rows.merge(traits, on="person_id", how="left")
    out["age"] = out["index_year"] - out.pop("birth_year")
    values = person_years[["person_id", "year", *BASELINE_COLUMNS]]
    for lag in range(1, lags + 1):
        past = values.rename(columns={c: f"{c}_lag{lag}" for c in BASELINE_COLUMNS})
        past = past.assign(index_year=past.pop("year") + lag, **{f"in_data_lag{lag}": 1.0})
        out = out.merge(past, on=["person_id", "index_year"], how="left")
        cols = [f"{c}_lag{lag}" for c in BASELINE_COLUMNS] + [f"in_data_lag{lag}"]
        out[cols] = out[cols].fillna(0.0)
    years = (int(out["index_year"].min()) - 1, int(out["index_year"].max()))
    bo = held_by_year(spells, _botilbud_paragraphs(stairs, botilbud_steps), first_year=years[0], last_year=years[1])
    flag = bo.assign(index_year=bo["year"] + 1, botilbud_lag1=1.0)[["person_id", "index_year", "botilbud_lag1"]]
    out = out.merge(flag, on=["person_id", "index_year"], how="left")
    out["botilbud_lag1"] = out["botilbud_lag1"].fillna(0.0)
    return out


#: Bands of the years since the last service (upper ends), for :func:`service_history`.
SERVICE_GAP_BANDS = ((1.0, "<1"), (2.0, "1-2"), (5.0, "2-5"), (np.inf, "5+"))


def service_history(rows: pd.DataFrame, spells: pd.DataFrame, stairs: Staircase) -> pd.DataFrame:
    """Add ``service_gap`` on each row's ``index_date``: how long since the citizen last held a service step.

    Citizens without a service are a mix of those who left recently (and often come back) and those
    who left the target group long ago; registers tell them apart only by the time since the last
    service, which acts far from linearly, so it is banded: ``on service``, ``<1``, ``1-2``, ``2-5``,
    ``5+`` years, or ``before first`` (no step spell has started yet: the register sees such citizens
    only because a service follows).
    """
    level = spells["paragraph"].map({p: stairs.level_of(s) for p, s in stairs.paragraphs.items()})
    s = spells.loc[level.notna(), ["person_id", "start_date", "end_date"]]
    q = rows[["person_id", "index_date"]].reset_index(drop=True).reset_index(names="_row").merge(s, on="person_id",
                                                                                                 how="left")
    started = q["start_date"] <= q["index_date"]
    ended = q["end_date"].where(started & (q["end_date"] < q["index_date"]))
    by_row = pd.DataFrame({"_started": started, "_ended": ended, "_row": q["_row"]}).groupby("_row")
    first = by_row["_started"].any().reindex(range(len(rows)), fill_value=False).to_numpy()
    last_end = pd.to_datetime(by_row["_ended"].max().reindex(range(len(rows)))).to_numpy()
    gap = (rows["index_date"].to_numpy() - last_end) / np.timedelta64(1, "D") / _DAYS_PER_YEAR
    band = np.full(len(rows), "on service", dtype=object)
    off = (rows["level"] <= stairs.none_level).to_numpy()
    for upper, label in reversed(SERVICE_GAP_BANDS):
        band[off & (gap < upper)] = label
    band[off & ~first] = "before first"
    return rows.assign(service_gap=pd.array(band, dtype="str"))


def next_year_outcomes(rows: pd.DataFrame, *, person_years: pd.DataFrame, spells: pd.DataFrame, stairs: Staircase,
                       botilbud_steps: Sequence[str], last_year: int) -> pd.DataFrame:
    """Add the outcomes of the calendar year after the index year (:data:`NEXT_YEAR_OUTCOMES`).

    Missing when the person has no person-year then (dead or emigrated before it, or after the data).
    """
    cols = ["employment_weeks", "education_weeks", "psych_inpatient_days"]
    nxt = person_years[["person_id", "year", *cols]].rename(columns={"year": "index_year"})
    nxt = nxt.assign(index_year=nxt["index_year"] - 1)
    out = rows.merge(nxt, on=["person_id", "index_year"], how="left")
    known = out["employment_weeks"].notna()
    out["employed"] = (out["employment_weeks"] > 0).astype(float).where(known)
    working = (out["employment_weeks"] > 0) | (out["education_weeks"] > 0)
    out["employed_or_education"] = working.astype(float).where(known)
    out["no_psych_admission"] = (out["psych_inpatient_days"] == 0).astype(float).where(known)
    first = int(out["index_year"].min()) + 1
    bo = held_by_year(spells, _botilbud_paragraphs(stairs, botilbud_steps), first_year=first, last_year=last_year)
    in_bo = bo.assign(index_year=bo["year"] - 1, _bo=1.0)[["person_id", "index_year", "_bo"]]
    out = out.merge(in_bo, on=["person_id", "index_year"], how="left")
    out["no_botilbud_next_year"] = (1.0 - out.pop("_bo").fillna(0.0)).where(known)
    return out.drop(columns="education_weeks")


def no_escalation(rows: pd.DataFrame, spells: pd.DataFrame, stairs: Staircase, *, months: int,
                  extract_date) -> pd.Series:
    """1 when no spell of a higher step than ``level`` starts within ``months`` after ``index_date``.

    Missing when the window ends after ``extract_date``. Mirrors the escalation outcome of the
    synthetic truth (a higher step than at the start within 24 months).
    """
    level = spells["paragraph"].map({p: stairs.level_of(s) for p, s in stairs.paragraphs.items()})
    s = spells.loc[level.notna(), ["person_id", "start_date"]].assign(_level=level[level.notna()].to_numpy())
    q = rows[["person_id", "index_date", "level"]].reset_index(names="_row")
    q["_end"] = q["index_date"] + pd.to_timedelta(months * _DAYS_PER_YEAR / 12, unit="D")
    m = q.merge(s, on="person_id")
    up = m[(m["start_date"] > m["index_date"]) & (m["start_date"] <= m["_end"]) & (m["_level"] > m["level"])]
    escalated = np.isin(q["_row"].to_numpy(), up["_row"].unique())
    known = (q["_end"] <= pd.Timestamp(extract_date)).to_numpy()
    return pd.Series(np.where(known, 1.0 - escalated, np.nan), index=rows.index, name="no_escalation_24m")


def add_costs(rows: pd.DataFrame, *, costs: pd.DataFrame, unit_costs: pd.DataFrame,
              payers: Sequence[str] = ("kommune", "region", "stat")) -> pd.DataFrame:
    """Add public costs around the index year: a baseline covariate and next-year outcomes.

    Adds ``cost_lag1`` (all public costs of the year before, DKK), and for the next year
    ``cost_<payer>`` (DKK by payer) and ``q_<item>`` (quantities of priced items, :func:`item_quantities`),
    missing where the next-year outcomes are. The interventions' own prices are left out.
    """
    own = set(unit_costs.loc[unit_costs["unit"] == "participant", "item"])
    c = costs[costs["person_id"].isin(rows["person_id"].unique()) & ~costs["service"].isin(own)]
    keys = rows[["person_id", "index_year"]].drop_duplicates()
    before = c.merge(keys.assign(year=keys["index_year"] - 1), on=["person_id", "year"])
    lag = before.groupby(["person_id", "index_year"])["cost_dkk"].sum().rename("cost_lag1")
    after = c.merge(keys.assign(year=keys["index_year"] + 1), on=["person_id", "year"])
    by_payer = (after.groupby(["person_id", "index_year", "payer"])["cost_dkk"].sum().unstack("payer")
                .reindex(columns=list(payers)).add_prefix("cost_"))
    quantities = item_quantities(c, unit_costs, keys.assign(year=keys["index_year"] + 1))
    quantities = quantities.assign(index_year=quantities.pop("year") - 1)
    out = rows.merge(lag, on=["person_id", "index_year"], how="left").merge(by_payer, on=["person_id", "index_year"],
                                                                             how="left")
    out = out.merge(quantities, on=["person_id", "index_year"], how="left")
    out["cost_lag1"] = out["cost_lag1"].fillna(0.0)
    known = out["employed"].notna()
    next_cols = [*by_payer.columns, *[q for q in quantities.columns if q.startswith("q_")]]
    out[next_cols] = out[next_cols].fillna(0.0).where(known, np.nan)
    return out


# ---------------------------------------------------------------------------------------------
# Effect estimation on the trial frame
# ---------------------------------------------------------------------------------------------

#: Baseline covariates of the estimators on outcome levels (confounders and proxies of them).
LEVEL_COVARIATES = ("age", "sex", "target_group", "severity", "childhood_services", "step", "index_year",
                    "service_gap", "botilbud_lag1", "in_data_lag1", "in_data_lag2", "cost_lag1",
                    *(f"{c}_lag{lag}" for c in BASELINE_COLUMNS for lag in (1, 2)))
#: Covariates of the doubly robust DiD: no lagged values of the outcomes themselves, whose transitory
#: part would regress to the mean (conditioning on them breaks parallel trends).
CHANGE_COVARIATES = ("age", "sex", "target_group", "severity", "childhood_services", "step", "index_year",
                     "service_gap", "botilbud_lag1", "in_data_lag2",
                     "disability_pension_weeks_lag1", "employment_measure_hours_lag1")

#: Pre-period value (the year before the index year) of each outcome with one.
PRE_PERIOD = {
    "employed": lambda f: (f["employment_weeks_lag1"] > 0).astype(float),
    "employment_weeks": lambda f: f["employment_weeks_lag1"],
    "employed_or_education": lambda f: ((f["employment_weeks_lag1"] > 0)
                                        | (f["education_weeks_lag1"] > 0)).astype(float),
    "no_psych_admission": lambda f: (f["psych_inpatient_days_lag1"] == 0).astype(float),
    "psych_inpatient_days": lambda f: f["psych_inpatient_days_lag1"],
}


def varying_columns(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The columns that vary in ``frame`` (a constant covariate cannot enter a model)."""
    return [c for c in columns if frame[c].nunique() > 1]


def _is_binary(values: pd.Series) -> bool:
    return bool(values.dropna().isin([0, 1]).all())


def _outcome_groups(frame: pd.DataFrame, outcomes: Sequence[str]) -> list[list[str]]:
    """Outcomes grouped by the rows where they are known and by being 0/1 (one estimation per group)."""
    groups: dict[tuple, list[str]] = {}
    for name in outcomes:
        key = (frame[name].notna().to_numpy().tobytes(), _is_binary(frame[name]))
        groups.setdefault(key, []).append(name)
    return list(groups.values())


def change_frame(frame: pd.DataFrame, outcomes: Sequence[str]) -> pd.DataFrame:
    """Rows with a person-year before the index year, with ``d_<outcome>`` = next year − year before."""
    known = frame[frame["in_data_lag1"] == 1]
    return known.assign(**{f"d_{o}": known[o] - PRE_PERIOD[o](known) for o in outcomes})


def did_long(frame: pd.DataFrame, outcomes: Sequence[str]) -> pd.DataFrame:
    """Two rows per trial (the year before: ``post`` = 0; the next year: ``post`` = 1) for :func:`did_2x2`."""
    known = frame[frame["in_data_lag1"] == 1].reset_index(names="trial")
    pre = known.assign(post=0, **{o: PRE_PERIOD[o](known) for o in outcomes})
    long = pd.concat([pre, known.assign(post=1)], ignore_index=True)
    return long[["trial", "person_id", "treated", "post", *outcomes]]


def nuisance_models():
    """Nuisance models of the estimators on standardised covariates: the propensity model and the outcome
    models of 0/1 and of other outcomes.

    L2-penalised logistic regressions (propensity; P(Y = 1) of 0/1 outcomes, which stays in [0, 1])
    and ridge regression (penalty by generalised cross-validation) for counts and amounts. Penalties
    keep weights and outcome regressions stable when an intervention has few starters and many
    covariates (unpenalised fits separate and extrapolate); with thousands of trials they barely
    differ from unpenalised fits.

    Returns
    -------
    dict
        ``propensity``, ``binary`` and ``continuous`` scikit-learn estimators.
    """
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def logistic():
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, solver="newton-cholesky", max_iter=200))

    return {"propensity": logistic(), "binary": logistic(),
            "continuous": make_pipeline(StandardScaler(),
                                        RidgeCV(alphas=np.logspace(-2, 4, 13), alpha_per_target=True))}


def estimate_effects(frame: pd.DataFrame, *, outcomes: Sequence[str], did_outcomes: Sequence[str] = (),
                     covariates: Sequence[str] = LEVEL_COVARIATES,
                     change_covariates: Sequence[str] = CHANGE_COVARIATES, models=None,
                     clip: float | None = 0.05, seed: int = 0, cl: float = 0.95) -> pd.DataFrame:
    """Naive contrast, IPW and AIPW on outcome levels; 2×2 DiD and doubly robust DiD on changes.

    Parameters
    ----------
    frame : DataFrame
        :func:`trial_frame` (with :func:`add_costs` for cost outcomes).
    outcomes : sequence of str
        Outcomes estimated on levels (rows missing an outcome are left out of its estimate).
    did_outcomes : sequence of str
        Outcomes with a pre-period value (:data:`PRE_PERIOD`) also estimated on changes.
    covariates, change_covariates : sequence of str
        Baseline covariates of the level and change estimators (constant ones are dropped).
    propensity_model : scikit-learn classifier, optional
        Default: unpenalised logistic regression.
    seed : int
        Seeds the cross-fitting folds.
    cl : float, default=0.95

    Returns
    -------
    DataFrame
        Tidy rows (:data:`progression.evaluation.RESULT_COLUMNS`) plus ``design`` (``levels`` or
        ``change``). The ATT of the starters; standard errors clustered on the person.

    Notes
    -----
    The doubly robust DiD is AIPW applied to the change Y(t+1) − Y(t−1) (Sant'Anna & Zhao 2020): it
    needs parallel trends given the covariates, not the absence of unmeasured confounders, so a
    persistent unobserved trait (e.g. employability) drops out with the person's own baseline.
    """
    from progression.evaluation import aipw, did_2x2, ipw, naive_contrast

    models = models or nuisance_models()
    propensity_model = models["propensity"]
    parts = []
    for group in _outcome_groups(frame, outcomes):
        data = frame.dropna(subset=group)
        x = varying_columns(data, covariates)
        outcome_model = models["binary" if _is_binary(data[group[0]]) else "continuous"]
        found = pd.concat([
            naive_contrast(data, outcome=group, group="treated", cluster="person_id", cl=cl),
            ipw(data, outcome=group, treatment="treated", covariates=x, model=propensity_model, clip=clip,
                cluster="person_id", cl=cl),
            aipw(data, outcome=group, treatment="treated", covariates=x, propensity_model=propensity_model,
                 outcome_model=outcome_model, clip=clip, cluster="person_id", seed=seed, cl=cl)], ignore_index=True)
        parts.append(_person_counts(found.assign(design="levels"), data))
    if did_outcomes:
        changes = change_frame(frame.dropna(subset=list(did_outcomes)), did_outcomes)
        x = varying_columns(changes, change_covariates)
        did = did_2x2(did_long(changes, did_outcomes), outcome=list(did_outcomes), treated="treated", post="post",
                      cluster="person_id", unit="person_id", cl=cl)
        dr = aipw(changes, outcome=[f"d_{o}" for o in did_outcomes], treatment="treated", covariates=x,
                  propensity_model=propensity_model, outcome_model=models["continuous"], clip=clip,
                  cluster="person_id", seed=seed, cl=cl)
        dr = dr.assign(outcome=dr["outcome"].str.removeprefix("d_"), method="DR-DiD (AIPW on change)")
        parts.append(_person_counts(pd.concat([did, dr], ignore_index=True).assign(design="change"), changes))
    return pd.concat(parts, ignore_index=True)


def _person_counts(results: pd.DataFrame, data: pd.DataFrame) -> pd.DataFrame:
    """Replace the row counts by counts of persons; keep the controls' trial rows as ``n_control_trials``.

    A citizen is a control in several years, so the control rows are person-years; disclosure control
    needs the number of persons each estimate rests on.
    """
    treated = data["treated"] == 1
    return results.assign(n_treated=int(data.loc[treated, "person_id"].nunique()),
                          n_control=int(data.loc[~treated, "person_id"].nunique()),
                          n_control_trials=int((~treated).sum()))


def preferred_effects(effects: pd.DataFrame, *, did_outcomes: Sequence[str]) -> pd.DataFrame:
    """One estimate per outcome: the doubly robust DiD for ``did_outcomes``, AIPW on levels otherwise.

    Returns the chosen rows of ``effects`` with their index.
    """
    did = effects["outcome"].isin(list(did_outcomes))
    chosen = ((did & (effects["method"] == "DR-DiD (AIPW on change)"))
              | (~did & effects["method"].str.startswith("AIPW")))
    return effects[chosen]


# ---------------------------------------------------------------------------------------------
# Panels: event study around the start, staggered adoption across municipalities
# ---------------------------------------------------------------------------------------------

def yearly_outcomes(person_years: pd.DataFrame) -> pd.DataFrame:
    """Person-years with the binary outcomes ``employed``, ``employed_or_education``, ``no_psych_admission``."""
    return person_years.assign(
        employed=(person_years["employment_weeks"] > 0).astype(float),
        employed_or_education=((person_years["employment_weeks"] > 0)
                               | (person_years["education_weeks"] > 0)).astype(float),
        no_psych_admission=(person_years["psych_inpatient_days"] == 0).astype(float))


def event_panel(frame: pd.DataFrame, *, person_years: pd.DataFrame, participations: pd.DataFrame) -> pd.DataFrame:
    """Person-year panel of the starters and of the controls who never start any intervention.

    Parameters
    ----------
    frame : DataFrame
        :func:`trial_frame` of one intervention.
    person_years, participations : DataFrame

    Returns
    -------
    DataFrame
        Every person-year of those persons with :func:`yearly_outcomes` and ``first_treated`` (the start
        year; missing for controls), for :func:`progression.evaluation.event_study`.
    """
    starters = (frame.loc[frame["treated"] == 1, ["person_id", "index_year"]]
                .rename(columns={"index_year": "first_treated"}))
    ever = set(first_starts(participations)["person_id"])
    controls = pd.DataFrame({"person_id": sorted(set(frame.loc[frame["treated"] == 0, "person_id"]) - ever)})
    units = pd.concat([starters, controls.assign(first_treated=np.nan)], ignore_index=True)
    panel = yearly_outcomes(person_years.merge(units, on="person_id"))
    return panel.sort_values(["person_id", "year"], ignore_index=True)


def adoption_panel(pool: pd.DataFrame, *, outcomes: pd.DataFrame, adoption: pd.DataFrame, intervention: str,
                   participations: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Municipality-year panel of the eligible population's next-year outcome, for staggered adoption.

    Parameters
    ----------
    pool : DataFrame
        :func:`eligible_pool` (all municipalities).
    outcomes : DataFrame
        ``person_id``, ``index_year`` and the ``outcome`` of the next year (:func:`next_year_outcomes`
        of the pool).
    adoption : DataFrame
        :func:`adoption_years`.
    intervention, outcome : str
    participations : DataFrame

    Returns
    -------
    DataFrame
        One row per municipality and year: the mean ``outcome`` of the eligible citizens, ``n_persons``,
        ``share_started`` (share who started the intervention by that year) and ``adoption_year``
        (missing = never). Only municipalities with eligible citizens with a known outcome in every year
        are kept (the estimator needs a balanced panel).
    """
    rows = pool.rename(columns={"year": "index_year"}).merge(outcomes[["person_id", "index_year", outcome]],
                                                             on=["person_id", "index_year"])
    rows = rows.dropna(subset=[outcome])
    first = first_starts(participations)
    mine = first[first["intervention"] == intervention].set_index("person_id")["start_year"]
    rows["started"] = (rows["person_id"].map(mine) <= rows["index_year"]).astype(float)
    panel = (rows.groupby(["municipality", "index_year"])
             .agg(**{outcome: (outcome, "mean"), "n_persons": ("person_id", "nunique"),
                     "share_started": ("started", "mean")})
             .reset_index().rename(columns={"index_year": "year"}))
    n_years = panel["year"].nunique()
    complete = panel.groupby("municipality")["year"].transform("size") == n_years
    panel = panel[complete]
    adopted = adoption.loc[adoption["intervention"] == intervention, ["municipality", "adoption_year"]]
    panel = panel.merge(adopted, on="municipality", how="left")
    return panel.sort_values(["municipality", "year"], ignore_index=True)


# ---------------------------------------------------------------------------------------------
# SØM potentials: success against non-success, raw and adjusted for baseline covariates
# ---------------------------------------------------------------------------------------------

#: Covariates of the adjusted success contrasts (measured in the delimitation year and the year before).
CONTRAST_COVARIATES = ("age", "sex", "target_group", "severity", "childhood_services", "index_year",
                       "botilbud_lag1", "in_data_lag2", "cost_lag1",
                       *(f"{c}_lag{lag}" for c in BASELINE_COLUMNS for lag in (1, 2)))


def one_year_per_person(rows: pd.DataFrame, *, seed: int, year_col: str = "index_year") -> pd.DataFrame:
    """Keep one row per person, its year drawn at random (SØM draws the delimitation year at random)."""
    rng = np.random.default_rng(seed)
    ordered = rows.sort_values(["person_id", year_col], kind="stable").reset_index(drop=True)
    key = rng.random(len(ordered))
    pick = pd.Series(key).groupby(ordered["person_id"].to_numpy()).idxmax().to_numpy()
    return ordered.loc[np.sort(pick)].reset_index(drop=True)


def lagged_cost(rows: pd.DataFrame, *, costs: pd.DataFrame, unit_costs: pd.DataFrame) -> pd.Series:
    """All public costs (DKK) of each row's person in the year before ``index_year`` (0 without costs)."""
    own = set(unit_costs.loc[unit_costs["unit"] == "participant", "item"])
    c = costs[costs["person_id"].isin(rows["person_id"].unique()) & ~costs["service"].isin(own)]
    total = c.groupby(["person_id", "year"])["cost_dkk"].sum()
    key = pd.MultiIndex.from_arrays([rows["person_id"], rows["index_year"] - 1])
    return pd.Series(total.reindex(key).fillna(0.0).to_numpy(), index=rows.index, name="cost_lag1")


def som_cohort(kind: str, *, persons: pd.DataFrame, person_years: pd.DataFrame, spells: pd.DataFrame,
               costs: pd.DataFrame, unit_costs: pd.DataFrame, staircase=None, years: tuple[int, int] = (2017, 2020),
               seed: int, home_support_steps: Sequence[str] = ("SEL85",),
               botilbud_steps: Sequence[str] = ("SEL107", "ABL105", "SEL108"),
               ages: tuple[int, int] = (18, 64)) -> pd.DataFrame:
    """One of seed 002's two SØM cohorts, with success and baseline covariates.

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
        Delimitation years (seed 002 L1320); each citizen's year is drawn at random among them.
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
    """
    if kind not in ("employment", "botilbud"):
        raise ParameterError(f"kind: expected 'employment' or 'botilbud'; got {kind!r}")
    stairs = as_staircase(staircase)
    if kind == "employment":
        stairs.check_steps(home_support_steps, column="fund.home_support_steps")
        paragraphs = [p for p, s in stairs.paragraphs.items() if s in set(home_support_steps)]
    else:
        paragraphs = _botilbud_paragraphs(stairs, botilbud_steps)
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
    """
    from progression.evaluation import aipw, naive_contrast

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


def consequence_effects(effects: pd.DataFrame, *, duration_years: int, start_year: int = 1) -> pd.DataFrame:
    """Effects on next-year item quantities (outcomes ``q_<item>``) as an effects table of
    :func:`progression.economics.budget_consequences`: each lasting ``duration_years`` from ``start_year``."""
    q = effects[effects["outcome"].str.startswith("q_")]
    return pd.DataFrame({"item": q["outcome"].str.removeprefix("q_").to_numpy(), "change": q["estimate"].to_numpy(),
                         "duration_years": duration_years, "start_year": start_year}
                        ).sort_values("item", ignore_index=True)


# ---------------------------------------------------------------------------------------------
# Inputs of the fund simulation
# ---------------------------------------------------------------------------------------------

def participant_means(frames: Mapping[str, pd.DataFrame], outcomes: Sequence[str]) -> pd.DataFrame:
    """Mean outcome of the starters of each intervention (``mean_treated``) with its person count ``n``."""
    rows = []
    for name, frame in frames.items():
        starters = frame[frame["treated"] == 1]
        for outcome in outcomes:
            known = starters[outcome].dropna()
            rows.append({"intervention": name, "outcome": outcome, "mean_treated": float(known.mean()),
                         "n": int(known.size)})
    return pd.DataFrame(rows)


def fund_interventions(effects: pd.DataFrame, means: pd.DataFrame, gains: pd.DataFrame,
                       interventions: pd.DataFrame, rate_card: pd.DataFrame) -> pd.DataFrame:
    """The ``interventions`` table of :func:`progression.fund.simulate`, one row per rate-card outcome.

    Parameters
    ----------
    effects : DataFrame
        One effect per intervention and outcome (``intervention``, ``outcome``, ``estimate``,
        ``std_error``; e.g. :func:`preferred_effects`), on the probability of the outcome.
    means : DataFrame
        :func:`participant_means`; the baseline rate is the starters' mean minus the effect (their
        estimated mean without the intervention), clipped to [0, 1].
    gains : DataFrame
        ``outcome`` and ``gain_<payer>_dkk`` (present value per extra outcome,
        :func:`progression.fund.gains_per_outcome`).
    interventions, rate_card : DataFrame
        The contract tables (own cost per participant; price year).

    Returns
    -------
    DataFrame
        ``intervention``, ``outcome``, ``effect``, ``effect_se``, ``baseline_rate``, the gain columns,
        ``cost_per_participant_dkk``, ``price_year``.
    """
    keys = rate_card[["intervention", "outcome"]]
    eff = keys.merge(effects[["intervention", "outcome", "estimate", "std_error"]], on=["intervention", "outcome"],
                     how="left")
    missing = eff[eff["estimate"].isna()]
    if len(missing):
        raise DataContractError(f"effects: no estimate for rate-card outcome(s) "
                                f"{missing[['intervention', 'outcome']].values.tolist()[:5]}")
    eff = eff.merge(means, on=["intervention", "outcome"], how="left").merge(gains, on="outcome", how="left")
    no_gain = sorted(set(eff.loc[eff.filter(like="gain_").isna().any(axis=1), "outcome"]))
    if no_gain:
        raise DataContractError(f"gains: no gain per outcome for {no_gain}; gains given for {sorted(gains['outcome'])}")
    effect = eff["estimate"].clip(-1.0, 1.0)
    out = pd.DataFrame({"intervention": eff["intervention"], "outcome": eff["outcome"], "effect": effect,
                        "effect_se": eff["std_error"], "baseline_rate": (eff["mean_treated"] - effect).clip(0.0, 1.0)})
    for col in [c for c in gains.columns if c.startswith("gain_")]:
        out[col] = eff[col].to_numpy()
    out["cost_per_participant_dkk"] = out["intervention"].map(
        interventions.set_index("intervention")["cost_per_participant_dkk"])
    out["price_year"] = int(rate_card["price_year"].iloc[0])
    return out


def fund_contracts(participations: pd.DataFrame, adoption: pd.DataFrame, *, last_year: int) -> pd.DataFrame:
    """Participants per municipality and cohort year of each intervention: the mean yearly number of
    starters since the municipality's adoption year, rounded (contracts rounding to 0 are dropped).

    Returns
    -------
    DataFrame
        ``municipality``, ``intervention``, ``participants`` (the same number every cohort year).
    """
    first = first_starts(participations)
    counts = first.groupby(["intervention", "municipality"]).size().rename("starters").reset_index()
    out = counts.merge(adoption, on=["intervention", "municipality"])
    years = (last_year - out["adoption_year"] + 1).clip(lower=1)
    out["participants"] = np.floor(out["starters"] / years + 0.5).astype(int)
    out = out[out["participants"] > 0]
    return out[["municipality", "intervention", "participants"]].sort_values(
        ["intervention", "municipality"], ignore_index=True)


#: Welfare area of each priced item (service paragraphs are social services), as in SØM's figures.
AREAS = {"disability_pension": "income transfers", "psych_inpatient": "health", "somatic_inpatient": "health",
         "outpatient": "health", "employment_measures": "employment", "education": "education",
         "justice": "justice"}


def area_of(items: Sequence[str], *, interventions: Sequence[str] = ()) -> dict[str, str]:
    """Item -> welfare area (:data:`AREAS`; SEL and ABL paragraphs are social services, the
    ``interventions`` preventive interventions, others keep their name)."""
    def area(item: str) -> str:
        if item in set(interventions):
            return "preventive interventions"
        return AREAS.get(item, "social services" if item.startswith(("SEL", "ABL")) else item)

    return {i: area(i) for i in items}


def adoption_persons(pool: pd.DataFrame, *, adoption: pd.DataFrame, intervention: str) -> pd.DataFrame:
    """Eligible persons of the adopting municipalities behind each event time of a staggered-adoption estimate.

    Returns
    -------
    DataFrame
        ``event_time`` (year − adoption year; missing = all years from adoption on, the overall
        effect) and ``n_persons`` (distinct eligible citizens of adopting municipalities then).
    """
    adopted = adoption.loc[adoption["intervention"] == intervention, ["municipality", "adoption_year"]]
    rows = pool.merge(adopted, on="municipality")
    rows = rows.assign(event_time=(rows["year"] - rows["adoption_year"]).astype(float))
    by_time = rows.groupby("event_time")["person_id"].nunique().rename("n_persons").reset_index()
    after = rows.loc[rows["event_time"] >= 0, "person_id"].nunique()
    overall = pd.DataFrame({"event_time": [np.nan], "n_persons": [after]})
    return pd.concat([by_time, overall], ignore_index=True)
