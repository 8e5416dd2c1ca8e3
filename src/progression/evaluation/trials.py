"""Target-trial emulation on register tables: who may start an intervention when, and with whom to compare.

For each year an intervention is offered in a municipality, the citizens who start it that year are
compared with the eligible citizens of the offering municipalities who have not (yet) started any
intervention (a sequence of emulated target trials; Hernán & Robins 2016). This module builds those
trials from the contract tables (persons, spells, person-years, person-year costs, participations):

* :func:`eligibility_rules` and :func:`eligible_pool`: who is eligible on the index date of a year;
* :func:`trial_frame`: one row per trial with baseline covariates (:func:`baseline_covariates`,
  :func:`service_history`) and outcomes (:func:`next_year_outcomes`, :func:`no_escalation`);
  :func:`add_costs` adds public costs and quantities of priced items (:func:`item_quantities`);
* :func:`event_panel` and :func:`adoption_panel`: the person-year panel of an event study around the
  start and the municipality-year panel of staggered adoption, with :func:`adoption_persons` counting the
  citizens behind each staggered estimate.

:mod:`progression.evaluation.trial_effects` estimates the effects on the trial frames.

Years on a service step are read off the spells; quantities of priced items (years on a service,
bed days, …) off the person-year costs divided by the gross unit cost of the item.

References
----------
Hernán, M. A. & Robins, J. M. (2016). Using big data to emulate a target trial when a randomized trial is
not available. American Journal of Epidemiology 183(8), 758–764.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from progression.constants import DAYS_PER_MONTH, DAYS_PER_YEAR, PAYERS, TARGET_GROUPS
from progression.evaluation.timing import first_treated
from progression.exceptions import DataContractError, ParameterError
from progression.staircase import Staircase, as_staircase, steps_on_dates

__all__ = [
    "Eligibility", "eligibility_rules", "adoption_years", "first_starts", "held_by_year", "paragraphs_on_steps",
    "item_quantities", "lagged_cost", "eligible_pool", "trial_frame", "baseline_covariates", "service_history",
    "next_year_outcomes", "no_escalation", "add_costs", "yearly_outcomes", "event_panel", "adoption_panel",
    "adoption_persons", "NEXT_YEAR_OUTCOMES", "BASELINE_COLUMNS", "SERVICE_GAP_BANDS", "BOTILBUD_STEPS",
]

#: Steps that count as botilbud (Social- og Boligstyrelsen 2024): §107, §105/§85, §108.
BOTILBUD_STEPS = ("SEL107", "ABL105", "SEL108")

#: Outcomes of the calendar year after the start year (the register's yearly outcomes).
NEXT_YEAR_OUTCOMES = ("employed", "employment_weeks", "employed_or_education", "no_psych_admission",
                      "psych_inpatient_days", "no_botilbud_next_year")


#: Person-year columns whose values in the years before the start are baseline covariates.
BASELINE_COLUMNS = ("employment_weeks", "education_weeks", "disability_pension_weeks", "employment_measure_hours",
                    "psych_inpatient_days", "outpatient_contacts")


@dataclass(frozen=True)
class Eligibility:
    """Who may start an intervention: steps held on the start date, ages in the start year, target groups.

    Parameters
    ----------
    steps : tuple of str
        Staircase steps a citizen must hold on the start date.
    min_age, max_age : int
        Youngest and oldest age in the start year.
    target_groups : tuple of str
        Target groups (``persons.target_group``) served.

    Build them from the parameters with :func:`eligibility_rules`.

    Examples
    --------
    >>> rule = Eligibility(steps=("SEL82", "SEL85"), min_age=18, max_age=60, target_groups=("sindslidelse", "begge"))
    >>> rule.max_age, "SEL85" in rule.steps
    (60, True)
    """

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
                      groups: Sequence[str] = TARGET_GROUPS) -> dict[str, Eligibility]:
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
    groups : sequence of str, default=:data:`progression.constants.TARGET_GROUPS`
        Target groups of the persons table.

    Returns
    -------
    dict of str to Eligibility

    Raises
    ------
    ParameterError
        When an intervention has no steps or ages, or a step is not on the staircase.

    Examples
    --------
    >>> from progression.datasets import example_params, load_example
    >>> fund = example_params().fund
    >>> rules = eligibility_rules(load_example("interventions"), steps=fund.eligible_steps, ages=fund.eligible_ages)
    >>> rules["ips"]
    Eligibility(steps=('SEL82', 'SEL85'), min_age=18, max_age=60, target_groups=('sindslidelse', 'begge'))
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

    Parameters
    ----------
    participations : DataFrame
        The participations table.

    Returns
    -------
    DataFrame
        ``intervention``, ``municipality``, ``adoption_year``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> adoption = adoption_years(load_example("participations"))
    >>> adoption[adoption["intervention"] == "ips"].head(2)
       intervention  municipality  adoption_year
    ...          ips           163           2018
    ...          ips           167           2018
    """
    frames = [first_treated(participations, by="municipality", intervention=k).assign(intervention=k)
              for k in sorted(participations["intervention"].unique())]
    out = pd.concat(frames, ignore_index=True).rename(columns={"first_treated": "adoption_year"})
    return out[["intervention", "municipality", "adoption_year"]]


def held_by_year(spells: pd.DataFrame, paragraphs: Sequence[str], *, first_year: int, last_year: int) -> pd.DataFrame:
    """Person-years in which a spell of one of ``paragraphs`` runs for at least a day.

    Parameters
    ----------
    spells : DataFrame
        The spells table (dates as datetimes; an open end runs to ``last_year``).
    paragraphs : sequence of str
    first_year, last_year : int
        The years counted.

    Returns
    -------
    DataFrame
        ``person_id``, ``year`` (unique pairs, sorted).

    Examples
    --------
    Citizens in a §108 residence in each year of the example data's last five:

    >>> from progression.datasets import load_example
    >>> held = held_by_year(load_example("spells"), ["SEL108"], first_year=2020, last_year=2024)
    >>> held.groupby("year").size().tolist()
    [270, 262, 265, 270, 258]
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


def paragraphs_on_steps(staircase, steps: Sequence[str], *, column: str = "steps") -> list[str]:
    """The service paragraphs that the staircase puts on ``steps``.

    Parameters
    ----------
    staircase : Staircase, StaircaseParams or None
    steps : sequence of str
    column : str, default="steps"
        Name of the setting the steps come from, for the message.

    Returns
    -------
    list of str

    Raises
    ------
    ParameterError
        When a step is not on the staircase (the message names ``column``).

    Examples
    --------
    >>> from progression.staircase import as_staircase
    >>> paragraphs_on_steps(as_staircase(None), ["SEL107", "SEL108"])
    ['SEL107', 'SEL108']
    """
    stairs = as_staircase(staircase)
    stairs.check_steps(steps, column=column)
    return [p for p, s in stairs.paragraphs.items() if s in set(steps)]


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

    Raises
    ------
    DataContractError
        When the costs are not in the single price year of the unit costs.

    Examples
    --------
    >>> import pandas as pd
    >>> from progression.datasets import load_example
    >>> keys = pd.DataFrame({"person_id": [1, 2], "year": [2011, 2015]})
    >>> q = item_quantities(load_example("person_year_costs"), load_example("unit_costs"), keys)
    >>> q[["person_id", "year", "q_SEL85", "q_disability_pension", "q_psych_inpatient"]].round(2)
       person_id  year  q_SEL85  q_disability_pension  q_psych_inpatient
    0          1  2011      1.0                   1.0                0.0
    1          2  2015      1.0                   1.0                0.0
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


def _without_own_prices(costs: pd.DataFrame, unit_costs: pd.DataFrame, persons) -> pd.DataFrame:
    """The costs of ``persons`` without the interventions' own prices (items priced per participant)."""
    own = set(unit_costs.loc[unit_costs["unit"] == "participant", "item"])
    return costs[costs["person_id"].isin(persons) & ~costs["service"].isin(own)]


def lagged_cost(rows: pd.DataFrame, *, costs: pd.DataFrame, unit_costs: pd.DataFrame) -> pd.Series:
    """All public costs (DKK) of each row's person in the year before ``index_year`` (0 without costs).

    The interventions' own prices are left out.

    Parameters
    ----------
    rows : DataFrame
        ``person_id`` and ``index_year``.
    costs, unit_costs : DataFrame
        The person-year costs and unit costs tables.

    Returns
    -------
    Series
        Named ``cost_lag1``, indexed like ``rows``.

    Examples
    --------
    >>> import pandas as pd
    >>> from progression.datasets import load_example
    >>> rows = pd.DataFrame({"person_id": [1, 2], "index_year": [2012, 2016]})
    >>> lagged_cost(rows, costs=load_example("person_year_costs"), unit_costs=load_example("unit_costs")).round(0)
    0    332982.0
    1    496063.0
    Name: cost_lag1, dtype: float64
    """
    c = _without_own_prices(costs, unit_costs, rows["person_id"].unique())
    total = c.groupby(["person_id", "year"])["cost_dkk"].sum()
    key = pd.MultiIndex.from_arrays([rows["person_id"], rows["index_year"] - 1])
    return pd.Series(total.reindex(key).fillna(0.0).to_numpy(), index=rows.index, name="cost_lag1")


# ---------------------------------------------------------------------------------------------
# Trials: starters against eligible citizens not (yet) started
# ---------------------------------------------------------------------------------------------

def eligible_pool(rule: Eligibility, *, persons: pd.DataFrame, person_years: pd.DataFrame, spells: pd.DataFrame,
                  staircase=None, years: tuple[int, int], index_date: tuple[int, int] = (7, 1)) -> pd.DataFrame:
    """Person-years of citizens who fit ``rule`` on the index date of the year, in any municipality.

    Parameters
    ----------
    rule : Eligibility
    persons, person_years, spells : DataFrame
        The contract tables.
    staircase : Staircase or StaircaseParams, optional
    years : (int, int)
        First and last year.
    index_date : (int, int), default=(7, 1)
        Month and day of each year's index date.

    Returns
    -------
    DataFrame
        ``person_id``, ``year``, ``municipality`` (residence that year), ``index_date``, ``step``, ``level``.

    Examples
    --------
    >>> from progression.datasets import example_params, load_example
    >>> fund = example_params().fund
    >>> t = {n: load_example(n) for n in ("persons", "person_years", "spells", "interventions")}
    >>> rule = eligibility_rules(t["interventions"], steps=fund.eligible_steps, ages=fund.eligible_ages)["ips"]
    >>> pool = eligible_pool(rule, persons=t["persons"], person_years=t["person_years"], spells=t["spells"],
    ...                      years=(2015, 2020))
    >>> pool.head(2)
       person_id  year  municipality index_date   step  level
    0        807  2015           316 2015-07-01  SEL85    2.0
    1        814  2015           350 2015-07-01  SEL85    2.0
    >>> len(pool)
    5596
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
    """Each person's first start of any intervention (later starts are not new trials), with ``start_year``.

    Parameters
    ----------
    participations : DataFrame
        The participations table.

    Returns
    -------
    DataFrame
        ``person_id``, ``intervention``, ``municipality``, ``start_date``, ``start_year``; one row per person.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> first_starts(load_example("participations")).head(2)
       person_id intervention  municipality start_date  start_year
    0         50  sel82_group           219 2020-06-30        2020
    1        133  sel82_group           461 2020-07-21        2020
    """
    first = participations.sort_values(["person_id", "start_date", "intervention"], kind="stable")
    first = first.drop_duplicates("person_id")[["person_id", "intervention", "municipality", "start_date"]]
    return first.assign(start_year=first["start_date"].dt.year).reset_index(drop=True)


def trial_frame(intervention: str, rule: Eligibility, *, pool: pd.DataFrame, persons: pd.DataFrame,
                person_years: pd.DataFrame, spells: pd.DataFrame, participations: pd.DataFrame,
                adoption: pd.DataFrame, staircase=None, extract_date,
                botilbud_steps: Sequence[str] = BOTILBUD_STEPS, escalation_months: int = 24
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

    Examples
    --------
    >>> from progression.datasets import example_params, load_example
    >>> fund = example_params().fund
    >>> t = {name: load_example(name) for name in ("persons", "spells", "person_years", "participations",
    ...                                            "interventions", "person_year_costs", "unit_costs")}
    >>> rules = eligibility_rules(t["interventions"], steps=fund.eligible_steps, ages=fund.eligible_ages)
    >>> common = dict(persons=t["persons"], person_years=t["person_years"], spells=t["spells"])
    >>> pool = eligible_pool(rules["ips"], **common, years=(2015, 2020))
    >>> frame = trial_frame("ips", rules["ips"], pool=pool, **common, participations=t["participations"],
    ...                     adoption=adoption_years(t["participations"]), extract_date="2024-12-31")
    >>> frame.shape, int(frame["treated"].sum())
    ((630, 35), 61)
    >>> frame = add_costs(frame, costs=t["person_year_costs"], unit_costs=t["unit_costs"])
    >>> sorted(c for c in frame.columns if c.startswith("cost_"))
    ['cost_kommune', 'cost_lag1', 'cost_region', 'cost_stat']
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




def baseline_covariates(rows: pd.DataFrame, *, persons: pd.DataFrame, person_years: pd.DataFrame,
                        spells: pd.DataFrame, stairs: Staircase, botilbud_steps: Sequence[str], lags: int = 2
                        ) -> pd.DataFrame:
    """Add baseline covariates: person traits, age, and person-year outcomes of the ``lags`` years before.

    Adds ``age``, ``sex``, ``target_group``, ``severity``, ``childhood_services``; for lag l = 1 … lags
    ``in_data_lag<l>`` (a person-year exists) and ``<column>_lag<l>`` for :data:`BASELINE_COLUMNS`
    (0 without a person-year); ``botilbud_lag1`` (a botilbud spell in the year before).

    Parameters
    ----------
    rows : DataFrame
        ``person_id`` and ``index_year``.
    persons, person_years, spells : DataFrame
        The contract tables.
    stairs : Staircase
    botilbud_steps : sequence of str
        Steps that count as botilbud.
    lags : int, default=2

    Returns
    -------
    DataFrame
        ``rows`` with the covariates.

    Examples
    --------
    >>> import pandas as pd
    >>> from progression.datasets import load_example
    >>> from progression.staircase import Staircase
    >>> rows = pd.DataFrame({"person_id": [1, 2], "index_year": [2011, 2015]})
    >>> out = baseline_covariates(rows, persons=load_example("persons"), person_years=load_example("person_years"),
    ...                           spells=load_example("spells"), stairs=Staircase.from_params(),
    ...                           botilbud_steps=BOTILBUD_STEPS)
    >>> out[["person_id", "age", "sex", "employment_weeks_lag1", "in_data_lag2"]]
       person_id  age sex  employment_weeks_lag1  in_data_lag2
    0          1   51   K                    0.0           0.0
    1          2   55   M                    0.0           1.0
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
    bo = held_by_year(spells, paragraphs_on_steps(stairs, botilbud_steps, column="fund.botilbud_steps"), first_year=years[0], last_year=years[1])
    flag = bo.assign(index_year=bo["year"] + 1, botilbud_lag1=1.0)[["person_id", "index_year", "botilbud_lag1"]]
    out = out.merge(flag, on=["person_id", "index_year"], how="left")
    out["botilbud_lag1"] = out["botilbud_lag1"].fillna(0.0)
    return out


def _spell_levels(spells: pd.DataFrame, stairs: Staircase) -> pd.Series:
    """Staircase level of each spell's paragraph (missing for paragraphs off the staircase)."""
    return spells["paragraph"].map({p: stairs.level_of(s) for p, s in stairs.paragraphs.items()})


#: Bands of the years since the last service (upper ends), for :func:`service_history`.
SERVICE_GAP_BANDS = ((1.0, "<1"), (2.0, "1-2"), (5.0, "2-5"), (np.inf, "5+"))


def service_history(rows: pd.DataFrame, spells: pd.DataFrame, stairs: Staircase) -> pd.DataFrame:
    """Add ``service_gap`` on each row's ``index_date``: how long since the citizen last held a service step.

    Citizens without a service are a mix of those who left recently (and often come back) and those
    who left the target group long ago; registers tell them apart only by the time since the last
    service, which acts far from linearly, so it is banded: ``on service``, ``<1``, ``1-2``, ``2-5``,
    ``5+`` years, or ``before first`` (no step spell has started yet: the register sees such citizens
    only because a service follows).

    Parameters
    ----------
    rows : DataFrame
        ``person_id``, ``index_date`` and ``level`` (the step's level on the index date).
    spells : DataFrame
    stairs : Staircase

    Returns
    -------
    DataFrame
        ``rows`` with ``service_gap``.

    Examples
    --------
    Person 1 of the example data left §85 in August 2013, person 3 got a first step in October 2008:

    >>> import pandas as pd
    >>> from progression.datasets import load_example
    >>> from progression.staircase import Staircase
    >>> rows = pd.DataFrame({"person_id": [1, 1, 2, 3], "level": [0.0, 0.0, 2.0, 0.0],
    ...                      "index_date": pd.to_datetime(["2014-07-01", "2020-07-01", "2015-07-01", "2005-07-01"])})
    >>> service_history(rows, load_example("spells"), Staircase.from_params())["service_gap"].tolist()
    ['<1', '5+', 'on service', 'before first']
    """
    level = _spell_levels(spells, stairs)
    s = spells.loc[level.notna(), ["person_id", "start_date", "end_date"]]
    q = rows[["person_id", "index_date"]].reset_index(drop=True).reset_index(names="_row").merge(s, on="person_id",
                                                                                                 how="left")
    started = q["start_date"] <= q["index_date"]
    ended = q["end_date"].where(started & (q["end_date"] < q["index_date"]))
    by_row = pd.DataFrame({"_started": started, "_ended": ended, "_row": q["_row"]}).groupby("_row")
    first = by_row["_started"].any().reindex(range(len(rows)), fill_value=False).to_numpy()
    last_end = pd.to_datetime(by_row["_ended"].max().reindex(range(len(rows)))).to_numpy()
    gap = (rows["index_date"].to_numpy() - last_end) / np.timedelta64(1, "D") / DAYS_PER_YEAR
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

    Parameters
    ----------
    rows : DataFrame
        ``person_id`` and ``index_year``.
    person_years, spells : DataFrame
    stairs : Staircase
    botilbud_steps : sequence of str
    last_year : int
        Last year of the data (for the botilbud outcome).

    Returns
    -------
    DataFrame
        ``rows`` with the outcomes.

    Examples
    --------
    >>> import pandas as pd
    >>> from progression.datasets import load_example
    >>> from progression.staircase import Staircase
    >>> rows = pd.DataFrame({"person_id": [1, 2], "index_year": [2011, 2015]})
    >>> out = next_year_outcomes(rows, person_years=load_example("person_years"), spells=load_example("spells"),
    ...                          stairs=Staircase.from_params(), botilbud_steps=BOTILBUD_STEPS, last_year=2024)
    >>> out[["person_id", "employed", "no_psych_admission", "no_botilbud_next_year"]]
       person_id  employed  no_psych_admission  no_botilbud_next_year
    0          1       0.0                 1.0                    1.0
    1          2       0.0                 1.0                    1.0
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
    bo = held_by_year(spells, paragraphs_on_steps(stairs, botilbud_steps, column="fund.botilbud_steps"), first_year=first, last_year=last_year)
    in_bo = bo.assign(index_year=bo["year"] - 1, _bo=1.0)[["person_id", "index_year", "_bo"]]
    out = out.merge(in_bo, on=["person_id", "index_year"], how="left")
    out["no_botilbud_next_year"] = (1.0 - out.pop("_bo").fillna(0.0)).where(known)
    return out.drop(columns="education_weeks")


def no_escalation(rows: pd.DataFrame, spells: pd.DataFrame, stairs: Staircase, *, months: int,
                  extract_date) -> pd.Series:
    """1 when no spell of a higher step than ``level`` starts within ``months`` after ``index_date``.

    Missing when the window ends after ``extract_date``. Mirrors the escalation outcome of the
    synthetic truth (a higher step than at the start within 24 months).

    Parameters
    ----------
    rows : DataFrame
        ``person_id``, ``index_date`` and ``level``.
    spells : DataFrame
    stairs : Staircase
    months : int
        Length of the window.
    extract_date : date-like
        End of the data.

    Returns
    -------
    Series
        Named ``no_escalation_24m`` (whatever ``months``), indexed like ``rows``: 1, 0 or missing.

    Examples
    --------
    Citizens eligible for IPS in the example data: the share not escalating within two years.

    >>> from progression.datasets import example_params, load_example
    >>> from progression.staircase import Staircase
    >>> fund = example_params().fund
    >>> t = {n: load_example(n) for n in ("persons", "person_years", "spells", "interventions")}
    >>> rule = eligibility_rules(t["interventions"], steps=fund.eligible_steps, ages=fund.eligible_ages)["ips"]
    >>> pool = eligible_pool(rule, persons=t["persons"], person_years=t["person_years"], spells=t["spells"],
    ...                      years=(2015, 2020))
    >>> kept = no_escalation(pool, t["spells"], Staircase.from_params(), months=24, extract_date="2024-12-31")
    >>> round(float(kept.mean()), 3)
    0.941
    """
    level = _spell_levels(spells, stairs)
    s = spells.loc[level.notna(), ["person_id", "start_date"]].assign(_level=level[level.notna()].to_numpy())
    q = rows[["person_id", "index_date", "level"]].reset_index(names="_row")
    q["_end"] = q["index_date"] + pd.to_timedelta(months * DAYS_PER_MONTH, unit="D")
    m = q.merge(s, on="person_id")
    up = m[(m["start_date"] > m["index_date"]) & (m["start_date"] <= m["_end"]) & (m["_level"] > m["level"])]
    escalated = np.isin(q["_row"].to_numpy(), up["_row"].unique())
    known = (q["_end"] <= pd.Timestamp(extract_date)).to_numpy()
    return pd.Series(np.where(known, 1.0 - escalated, np.nan), index=rows.index, name="no_escalation_24m")


def add_costs(rows: pd.DataFrame, *, costs: pd.DataFrame, unit_costs: pd.DataFrame,
              payers: Sequence[str] = PAYERS) -> pd.DataFrame:
    """Add public costs around the index year: a baseline covariate and next-year outcomes.

    Adds ``cost_lag1`` (all public costs of the year before, DKK), and for the next year
    ``cost_<payer>`` (DKK by payer) and ``q_<item>`` (quantities of priced items, :func:`item_quantities`),
    missing where the next-year outcomes are. The interventions' own prices are left out.

    Parameters
    ----------
    rows : DataFrame
        ``person_id``, ``index_year`` and ``employed`` (:func:`next_year_outcomes`: whether the next
        year is known).
    costs, unit_costs : DataFrame
        The person-year costs and unit costs tables.
    payers : sequence of str, default=("kommune", "region", "stat")

    Returns
    -------
    DataFrame
        ``rows`` with the cost and quantity columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from progression.datasets import load_example
    >>> rows = pd.DataFrame({"person_id": [1, 2], "index_year": [2011, 2015], "employed": [0.0, 0.0]})
    >>> out = add_costs(rows, costs=load_example("person_year_costs"), unit_costs=load_example("unit_costs"))
    >>> out[["person_id", "cost_lag1", "cost_kommune", "cost_stat", "q_SEL85"]].round(0)
       person_id  cost_lag1  cost_kommune  cost_stat  q_SEL85
    0          1   325782.0      100805.0   220000.0      1.0
    1          2   421813.0      201011.0   220000.0      1.0
    """
    c = _without_own_prices(costs, unit_costs, rows["person_id"].unique())
    keys = rows[["person_id", "index_year"]].drop_duplicates()
    after = c.merge(keys.assign(year=keys["index_year"] + 1), on=["person_id", "year"])
    by_payer = (after.groupby(["person_id", "index_year", "payer"])["cost_dkk"].sum().unstack("payer")
                .reindex(columns=list(payers)).add_prefix("cost_"))
    quantities = item_quantities(c, unit_costs, keys.assign(year=keys["index_year"] + 1))
    quantities = quantities.assign(index_year=quantities.pop("year") - 1)
    out = rows.assign(cost_lag1=lagged_cost(rows, costs=c, unit_costs=unit_costs))
    out = out.merge(by_payer, on=["person_id", "index_year"], how="left")
    out = out.merge(quantities, on=["person_id", "index_year"], how="left")
    known = out["employed"].notna()
    next_cols = [*by_payer.columns, *[q for q in quantities.columns if q.startswith("q_")]]
    out[next_cols] = out[next_cols].fillna(0.0).where(known, np.nan)
    return out


# ---------------------------------------------------------------------------------------------
# Panels: event study around the start, staggered adoption across municipalities
# ---------------------------------------------------------------------------------------------

def yearly_outcomes(person_years: pd.DataFrame) -> pd.DataFrame:
    """Person-years with the binary outcomes ``employed``, ``employed_or_education``, ``no_psych_admission``.

    Parameters
    ----------
    person_years : DataFrame
        The person-years table.

    Returns
    -------
    DataFrame
        A copy with the three 0/1 columns.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> yearly_outcomes(load_example("person_years"))[["employed", "employed_or_education",
    ...                                                 "no_psych_admission"]].mean().round(3)
    employed                 0.144
    employed_or_education    0.176
    no_psych_admission       0.866
    dtype: float64
    """
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

    Examples
    --------
    The starters of IPS in the example data and the eligible citizens who never start an intervention:

    >>> from progression.datasets import example_params, load_example
    >>> t = {n: load_example(n) for n in ("persons", "person_years", "spells", "participations", "interventions")}
    >>> fund = example_params().fund
    >>> rule = eligibility_rules(t["interventions"], steps=fund.eligible_steps, ages=fund.eligible_ages)["ips"]
    >>> people = dict(persons=t["persons"], person_years=t["person_years"], spells=t["spells"])
    >>> frame = trial_frame("ips", rule, pool=eligible_pool(rule, **people, years=(2015, 2020)), **people,
    ...                     participations=t["participations"], adoption=adoption_years(t["participations"]),
    ...                     extract_date="2024-12-31")
    >>> panel = event_panel(frame, person_years=t["person_years"], participations=t["participations"])
    >>> panel["person_id"].nunique(), int(panel.groupby("person_id")["first_treated"].first().notna().sum())
    (286, 61)
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

    Examples
    --------
    Employment of the citizens eligible for IPS in the example data, by municipality and year:

    >>> from progression.datasets import example_params, load_example
    >>> from progression.staircase import Staircase
    >>> fund = example_params().fund
    >>> t = {n: load_example(n) for n in ("persons", "person_years", "spells", "participations", "interventions")}
    >>> rule = eligibility_rules(t["interventions"], steps=fund.eligible_steps, ages=fund.eligible_ages)["ips"]
    >>> pool = eligible_pool(rule, persons=t["persons"], person_years=t["person_years"], spells=t["spells"],
    ...                      years=(2015, 2020))
    >>> outcomes = next_year_outcomes(pool.rename(columns={"year": "index_year"}), person_years=t["person_years"],
    ...                               spells=t["spells"], stairs=Staircase.from_params(),
    ...                               botilbud_steps=BOTILBUD_STEPS, last_year=2024)
    >>> panel = adoption_panel(pool, outcomes=outcomes, adoption=adoption_years(t["participations"]),
    ...                        intervention="ips", participations=t["participations"], outcome="employed")
    >>> panel.shape
    (552, 6)
    >>> panel.head(2).round(3)
       municipality  year  employed  n_persons  share_started  adoption_year
    0           101  2015     0.139        122            0.0            NaN
    1           101  2016     0.131        122            0.0            NaN
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


def adoption_persons(pool: pd.DataFrame, *, adoption: pd.DataFrame, intervention: str) -> pd.DataFrame:
    """Eligible persons of the adopting municipalities behind each event time of a staggered-adoption estimate.

    Parameters
    ----------
    pool : DataFrame
        :func:`eligible_pool`.
    adoption : DataFrame
        :func:`adoption_years`.
    intervention : str

    Returns
    -------
    DataFrame
        ``event_time`` (year − adoption year; missing = all years from adoption on, the overall
        effect) and ``n_persons`` (distinct eligible citizens of adopting municipalities then).

    Examples
    --------
    >>> from progression.datasets import example_params, load_example
    >>> fund = example_params().fund
    >>> t = {n: load_example(n) for n in ("persons", "person_years", "spells", "participations", "interventions")}
    >>> rule = eligibility_rules(t["interventions"], steps=fund.eligible_steps, ages=fund.eligible_ages)["ips"]
    >>> pool = eligible_pool(rule, persons=t["persons"], person_years=t["person_years"], spells=t["spells"],
    ...                      years=(2015, 2020))
    >>> persons = adoption_persons(pool, adoption=adoption_years(t["participations"]), intervention="ips")
    >>> persons.tail(3)
        event_time  n_persons
    13         5.0         44
    14         6.0         12
    15         NaN        364
    """
    adopted = adoption.loc[adoption["intervention"] == intervention, ["municipality", "adoption_year"]]
    rows = pool.merge(adopted, on="municipality")
    rows = rows.assign(event_time=(rows["year"] - rows["adoption_year"]).astype(float))
    by_time = rows.groupby("event_time")["person_id"].nunique().rename("n_persons").reset_index()
    after = rows.loc[rows["event_time"] >= 0, "person_id"].nunique()
    overall = pd.DataFrame({"event_time": [np.nan], "n_persons": [after]})
    return pd.concat([by_time, overall], ignore_index=True)
