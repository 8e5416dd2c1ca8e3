"""The steps of notebook ``40_fund_evaluation``: effects of preventive interventions, their budget
consequences and a result-payment fund.

:func:`emulate_trials` builds the emulated target trials once (person level: they never leave the run);
each later step returns tidy tables that carry their disclosure declaration
(:func:`progression.disclosure.declare`), ready for ``ctx.write_result``:

1. effects: :func:`trial_counts`, :func:`effect_estimates`, :func:`balance_and_overlap`,
   :func:`event_studies`, :func:`staggered_adoption`;
2. budget consequences: :func:`budget_tables`, :func:`som_potentials`, :func:`som_survival`;
3. the fund: :func:`gains_per_outcome`, :func:`fund_simulation`; the fund under payment rules for small
   volumes (:func:`payment_rules`, :func:`payment_rule_table`); INDIGO's contracts as reference
   (:func:`indigo_folder`, :func:`indigo_tables`); :func:`key_numbers`.

The comparisons with the synthetic truth are in the last section (:func:`true_att`,
:func:`truth_numbers`).

Examples
--------
>>> from progression.analyses import fund
>>> fund.TABLES[:3]
('persons', 'spells', 'person_years')
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from progression import economics, evaluation
from progression._tidy import stream_seed
from progression import fund as fund_lib
from progression.design import Capped, Credibility, MinimumVolume, Pooled, RateCardRule
from progression.disclosure import declare, declaration_of
from progression.economics import (
    BudgetConsequences,
    area_of,
    budget_consequences,
    consequence_effects,
    effect_adjusted_potential,
    one_year_per_person,
    som_cohort,
    success_contrast,
    success_potential,
    unit_costs_after_refusion,
)
from progression.evaluation import trials
from progression.evaluation.trial_effects import (
    LEVEL_COVARIATES,
    PRE_PERIOD,
    estimate_effects,
    nuisance_models,
    preferred_effects,
    varying_columns,
)
from progression.exceptions import StatisticalWarning
from progression.schemas import municipalities_reference
from progression.staircase import Staircase, as_staircase

__all__ = [
    "TABLES", "RANDOM_STREAMS", "FundStudy", "emulate_trials", "trial_counts", "effect_estimates", "balance_and_overlap",
    "event_studies", "staggered_adoption", "FundBudgets", "budget_tables", "SomPotentials", "som_potentials",
    "som_survival", "gains_per_outcome", "FundRun", "fund_simulation", "RULE_NAMES", "RULE_TEXT_VALUES",
    "payment_rules", "payment_rule_table", "indigo_folder", "indigo_absent",
    "indigo_tables", "key_numbers", "summary_values", "truth_values", "headline", "true_att", "truth_numbers",
]

#: The contract tables notebook 40 reads.
TABLES = ("persons", "spells", "person_years", "person_year_costs", "unit_costs", "interventions",
          "participations", "rate_card")
#: Columns of an estimate and its test, statistics on the persons they rest on.
_ESTIMATE_COLUMNS = ("estimate", "std_error", "conf_low", "conf_high", "p_value")
#: The random purposes of the analysis, each its own named stream ``fund.<purpose>`` of the run seed.
RANDOM_STREAMS = ("effects", "cost_effects", "som.employment", "som.botilbud", "gains.controls", "gains.contrast",
                  "simulation")
#: The SØM potentials over four years (Social- og Boligstyrelsen 2024, *Kommunernes omlægning til
#: Borgeren ved roret*, Fig. 15 and 16): success criterion of each cohort and the reported amount.
SOM_POTENTIALS = {"employment": ("employed_or_education", 250_000), "botilbud": ("no_botilbud_next_year", 930_000)}


# ---------------------------------------------------------------------------------------------
# The emulated trials
# ---------------------------------------------------------------------------------------------

@dataclass
class FundStudy:
    """The emulated trials of every intervention and what the later steps share (person level).

    Attributes
    ----------
    tables : dict of str to DataFrame
        The contract tables (:data:`TABLES`).
    params : FundParams
        The ``fund`` section of the parameters.
    staircase : Staircase
    seed : int
        The run seed.
    n_jobs : int
    truth : dict or None
        The generating truth of synthetic data.
    names : list of str
        The interventions, sorted.
    last_year : int
        Last year of the person-years.
    adoption : DataFrame
        :func:`~progression.evaluation.trials.adoption_years`.
    pools, frames : dict of str to DataFrame
        Per intervention, the eligible pool and the trial frame with costs.
    dominance : DominanceParams or None
        The dominance rule of disclosure control (``disclosure.dominance``), for complementary suppression.
    """

    tables: dict[str, pd.DataFrame]
    params: object
    staircase: Staircase
    seed: int
    n_jobs: int
    truth: dict | None
    names: list[str]
    last_year: int
    adoption: pd.DataFrame
    pools: dict[str, pd.DataFrame] = field(repr=False)
    frames: dict[str, pd.DataFrame] = field(repr=False)
    dominance: object = None

    def seed_for(self, purpose: str) -> int:
        """The seed of one random purpose of the analysis: the named stream ``fund.<purpose>`` of the run seed.

        Examples
        --------
        >>> from progression._tidy import stream_seed
        >>> stream_seed(20240101, "fund.simulation") != stream_seed(20240101, "fund.effects")
        True
        """
        if purpose not in RANDOM_STREAMS:
            raise KeyError(f"no random stream {purpose!r}; streams: {list(RANDOM_STREAMS)}")
        return stream_seed(self.seed, f"fund.{purpose}")

    @property
    def card_outcomes(self) -> list[str]:
        """The outcomes on the rate card, sorted."""
        return sorted(self.tables["rate_card"]["outcome"].unique())

    @property
    def outcomes(self) -> list[str]:
        """The outcomes of the effect estimates."""
        return [*trials.NEXT_YEAR_OUTCOMES, "no_escalation_24m"]

    @property
    def did_outcomes(self) -> list[str]:
        """Outcomes whose headline estimate is the doubly robust DiD (``fund.did_outcomes`` with a pre-period)."""
        return [o for o in self.params.did_outcomes if o in PRE_PERIOD]

    def describe(self) -> str:
        """One line: interventions, trial years, end of the data, truth."""
        years = self.params.trial_years or (int(self.tables["person_years"]["year"].min()), self.last_year - 1)
        return (f"{len(self.names)} interventions; trials {years[0]}-{years[1]}; data to {self.last_year}-12-31; "
                f"truth {'available' if self.truth else 'not available'}")


def emulate_trials(tables: Mapping[str, pd.DataFrame], params, *, truth: dict | None = None) -> FundStudy:
    """Emulate the target trials of every intervention (Hernán & Robins 2016).

    For each year an intervention is offered in a municipality, the citizens who start it are compared
    with the eligible citizens of the offering municipalities who have not started any intervention by
    the end of the year (:func:`~progression.evaluation.trials.trial_frame`), with public costs added
    (:func:`~progression.evaluation.trials.add_costs`).

    Parameters
    ----------
    tables : mapping of str to DataFrame
        The contract tables :data:`TABLES`.
    params : Params
        The run's parameters (sections ``fund``, ``staircase``, ``run``).
    truth : dict, optional
        The generating truth of synthetic data.

    Returns
    -------
    FundStudy
    """
    p, stairs = params.fund, as_staircase(params.staircase)
    tables = {name: tables[name] for name in TABLES}
    last_year = int(tables["person_years"]["year"].max())
    years = p.trial_years or (int(tables["person_years"]["year"].min()), last_year - 1)
    names = sorted(tables["interventions"]["intervention"])
    rules = trials.eligibility_rules(tables["interventions"], steps=p.eligible_steps, ages=p.eligible_ages,
                                     staircase=stairs)
    adoption = trials.adoption_years(tables["participations"])
    common = dict(persons=tables["persons"], person_years=tables["person_years"], spells=tables["spells"],
                  staircase=stairs)
    pools = {k: trials.eligible_pool(rules[k], **common, years=years) for k in names}
    frames = {k: trials.add_costs(trials.trial_frame(
        k, rules[k], pool=pools[k], **common, participations=tables["participations"], adoption=adoption,
        extract_date=pd.Timestamp(last_year, 12, 31), botilbud_steps=p.botilbud_steps,
        escalation_months=p.escalation_months), costs=tables["person_year_costs"], unit_costs=tables["unit_costs"])
        for k in names}
    return FundStudy(tables=tables, params=p, staircase=stairs, seed=params.run.seed, n_jobs=params.run.n_jobs,
                     truth=truth, names=names, last_year=last_year, adoption=adoption, pools=pools, frames=frames,
                     dominance=params.disclosure.dominance)


def trial_counts(study: FundStudy) -> pd.DataFrame:
    """Adopting municipalities, starters, eligible controls (persons) and control trials (person-years).

    Returns
    -------
    DataFrame
        ``intervention``, ``municipalities``, ``n_starters``, ``n_controls``, ``n_control_trials``.
    """
    rows = [{"intervention": k, "municipalities": int((study.adoption["intervention"] == k).sum()),
             "n_starters": int(f.loc[f["treated"] == 1, "person_id"].nunique()),
             "n_controls": int(f.loc[f["treated"] == 0, "person_id"].nunique()),
             "n_control_trials": int((f["treated"] == 0).sum())} for k, f in study.frames.items()]
    # municipalities: adopting municipalities, public units describing no person
    return declare(pd.DataFrame(rows), counts=["n_starters", "n_controls", "n_control_trials"], safe=["municipalities"])


def _effect_table(table: pd.DataFrame, stats=_ESTIMATE_COLUMNS) -> pd.DataFrame:
    """Declare a table of effect estimates: the estimates rest on the starters."""
    return declare(table, counts=["n_treated", "n_control", "n_control_trials"],
                   stats={c: "n_treated" for c in stats})


def effect_estimates(study: FundStudy) -> pd.DataFrame:
    """Effects (ATT) of each intervention by outcome and estimator, with the headline estimate marked.

    The naive contrast, IPW and cross-fitted AIPW on outcome levels and, for ``fund.did_outcomes``, the
    2×2 and the doubly robust DiD on changes (:func:`~progression.evaluation.trial_effects.estimate_effects`);
    ``preferred`` marks the headline estimate (:func:`~progression.evaluation.trial_effects.preferred_effects`);
    ``truth`` is the true ATT where the data are synthetic.

    Returns
    -------
    DataFrame
        ``intervention, outcome, design, method, preferred``, the estimate with its interval, ``truth``,
        ``n_treated, n_control, n_control_trials, estimand``.
    """
    effects = pd.concat([estimate_effects(study.frames[k], outcomes=study.outcomes, did_outcomes=study.did_outcomes,
                                          seed=study.seed_for("effects")).assign(intervention=k)
                         for k in study.names], ignore_index=True)
    effects["truth"] = [true_att(study.truth, k, o) for k, o in zip(effects["intervention"], effects["outcome"])]
    effects["preferred"] = effects.index.isin(preferred_effects(effects, did_outcomes=study.did_outcomes).index)
    effects = effects[["intervention", "outcome", "design", "method", "preferred", *_ESTIMATE_COLUMNS, "truth",
                       "n_treated", "n_control", "n_control_trials", "estimand"]]
    return _effect_table(effects.sort_values(["intervention", "outcome", "design", "method"]),
                         stats=(*_ESTIMATE_COLUMNS, "truth"))


def headline(effects: pd.DataFrame) -> pd.DataFrame:
    """The headline estimates (``preferred``) of an effects table."""
    return effects[effects["preferred"].astype(bool)].reset_index(drop=True)


def balance_and_overlap(study: FundStudy) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Covariate balance before and after weighting, and the overlap of the propensity scores.

    On the trials with a next-year outcome, with the propensity model and clipping of the effect
    estimates (:func:`~progression.evaluation.balance_table`, :func:`~progression.evaluation.overlap_summary`).

    Returns
    -------
    (DataFrame, DataFrame)
        The balance table (one row per intervention and design column, with ``n_treated``/``n_control``)
        and the overlap table (``intervention``, ``group``, ``n``, means, spreads and shares).
    """
    balance, overlap = [], []
    for k in study.names:
        data = study.frames[k].dropna(subset=["employed"])
        x = varying_columns(data, LEVEL_COVARIATES)
        with warnings.catch_warnings():  # poor overlap is what the overlap table reports
            warnings.simplefilter("ignore", StatisticalWarning)
            score = evaluation.propensity_scores(data, treatment="treated", covariates=x,
                                                 model=nuisance_models()["propensity"], clip=0.05)
            weight = evaluation.propensity_weights(data, treatment="treated", propensity=score)
            overlap.append(evaluation.overlap_summary(data, treatment="treated", propensity=score)
                           .assign(intervention=k))
        table = evaluation.balance_table(data, treatment="treated", covariates=x, weights=weight).assign(intervention=k)
        table = _balance_dominance(table, data, weight)
        balance.append(table.assign(n_treated=int(data["treated"].sum()), n_control=int((1 - data["treated"]).sum())))
    balance = pd.concat(balance, ignore_index=True)
    stats = {c: "n_treated" for c in balance.columns if c.startswith(("smd", "variance_ratio"))}
    groups = {c: c.split("_")[1] for c in balance.columns if c.startswith(("mean_treated", "mean_control"))}
    overlap = pd.concat(overlap, ignore_index=True)
    # means of money covariates are means of money over persons: magnitudes under the dominance rule
    return (declare(balance, counts=["n_treated", "n_control"], stats=stats,
                    magnitudes={c: f"dominance_{g}" for c, g in groups.items()},
                    magnitude_counts={c: f"n_{g}" for c, g in groups.items()}),
            declare(overlap, counts=["n"], stats={c: "n" for c in overlap.columns
                                                   if c not in ("group", "n", "intervention")}))


#: Covariates in DKK: their group means are means of money over persons (dominance rule).
MONEY_COVARIATES = ("cost_lag1",)


def _balance_dominance(table: pd.DataFrame, data: pd.DataFrame, weight: pd.Series) -> pd.DataFrame:
    """Add the dominance shares of the money covariates' group means (0 for other covariates).

    The control group's share is the larger of the unweighted and the weighted contributions' shares.
    """
    from progression.disclosure import dominance_share

    treated = data["treated"] == 1
    share = {"treated": {}, "control": {}}
    for column in MONEY_COVARIATES:
        if column in set(table["covariate"]):
            x = data[column]
            share["treated"][column] = dominance_share(x[treated])
            share["control"][column] = max(dominance_share(x[~treated]), dominance_share((x * weight)[~treated]))
    return table.assign(**{f"dominance_{g}": table["covariate"].map(v).fillna(0.0).astype(float)
                           for g, v in share.items()})


#: Outcomes of the event studies.
EVENT_OUTCOMES = ("employed", "no_psych_admission")


def event_studies(study: FundStudy) -> pd.DataFrame:
    """Two-way fixed-effects event studies of the starters around the start, per intervention.

    Returns
    -------
    DataFrame
        :func:`~progression.evaluation.event_study` rows of :data:`EVENT_OUTCOMES` with ``intervention``.
    """
    events = []
    for k in study.names:
        panel = trials.event_panel(study.frames[k], person_years=study.tables["person_years"],
                                   participations=study.tables["participations"])
        found = evaluation.event_study(panel, outcome=list(EVENT_OUTCOMES), unit="person_id", time="year",
                                       first_treated="first_treated", window=tuple(study.params.event_window),
                                       cluster="person_id")
        events.append(found.assign(intervention=k))
    return declare(pd.concat(events, ignore_index=True), counts=["n_treated", "n_control"],
                   stats={c: "n_treated" for c in _ESTIMATE_COLUMNS}, labels=["event_time"])


def staggered_adoption(study: FundStudy) -> pd.DataFrame:
    """Callaway–Sant'Anna effects of adoption on the eligible population's next-year employment, and per starter.

    On the municipality-year panel of the eligible citizens' employment rate in the next year
    (:func:`~progression.evaluation.trials.adoption_panel`): the effect of adoption by event time and
    overall, and the effect per starter: the overall effect divided by the effect of adoption on the
    share started, with the uncertainty of both in its standard error
    (:func:`~progression.evaluation.per_starter_effect`).

    Returns
    -------
    DataFrame
        Tidy rows with ``event_time`` (missing: overall and per starter), ``municipalities_treated``,
        ``municipalities_control``, ``truth`` (the true ATT of the starters, on the per-starter row),
        ``n_persons`` (eligible citizens of the adopting municipalities behind each estimate),
        ``intervention`` and ``share_started`` (the effect of adoption on the share started).
    """
    staggered = []
    panel_columns = dict(unit="municipality", time="year", group="adoption_year")
    for k in study.names:
        panel = _adoption_panel(study, k)
        if panel["adoption_year"].notna().sum() == 0:
            continue
        with warnings.catch_warnings():  # municipalities adopting in the first year have no pre-period: dropped
            warnings.filterwarnings("ignore", message=".*have no pre-period", category=StatisticalWarning)
            events = evaluation.CallawaySantAnna(control_group="notyet").fit(
                panel, outcome="employed", **panel_columns).aggregate("event")
            overall, first_stage, per_starter = (evaluation.per_starter_effect(
                panel, outcome="employed", share="share_started", **panel_columns).iloc[[i]] for i in range(3))
        rows = pd.concat([events, overall.assign(event_time=np.nan),
                          per_starter.assign(event_time=np.nan, truth=true_att(study.truth, k, "employed"))],
                         ignore_index=True)
        rows = rows.merge(trials.adoption_persons(study.pools[k], adoption=study.adoption, intervention=k),
                          on="event_time", how="left")
        staggered.append(rows.assign(intervention=k, share_started=float(first_stage["estimate"].iloc[0]))
                         .rename(columns={"n_treated": "municipalities_treated",
                                          "n_control": "municipalities_control"}))
    # municipalities: public units, no person; truth: the synthetic generator's, absent for real data
    return declare(pd.concat(staggered, ignore_index=True), counts=["n_persons"],
                   stats={c: "n_persons" for c in (*_ESTIMATE_COLUMNS, "share_started")}, labels=["event_time"],
                   safe=["municipalities_treated", "municipalities_control", "truth"])


def _adoption_panel(study: FundStudy, intervention: str) -> pd.DataFrame:
    """The municipality-year panel of staggered adoption of one intervention (next-year employment)."""
    pool = study.pools[intervention]
    nxt = trials.next_year_outcomes(pool.rename(columns={"year": "index_year"}),
                                    person_years=study.tables["person_years"], spells=study.tables["spells"],
                                    stairs=study.staircase, botilbud_steps=study.params.botilbud_steps,
                                    last_year=study.last_year)
    return trials.adoption_panel(pool, outcomes=nxt, adoption=study.adoption, intervention=intervention,
                                 participations=study.tables["participations"], outcome="employed")


# ---------------------------------------------------------------------------------------------
# Budget consequences (SØM-style)
# ---------------------------------------------------------------------------------------------

@dataclass
class FundBudgets:
    """Budget consequences of each intervention: tables to write and the cash flows behind them.

    Attributes
    ----------
    cost_effects : DataFrame
        Effects on each payer's public costs in the year after the start (``fund_cost_effects``).
    cashflows : DataFrame
        Yearly flows per participant by payer and area (``fund_cashflows``).
    budget : DataFrame
        Net present value by payer, break-even year and wrong-pocket shares (``fund_budget``).
    consequences : dict of str to BudgetConsequences
        Per intervention, the item-level flows.
    unit_costs : DataFrame
        The unit costs after refusion.
    """

    cost_effects: pd.DataFrame
    cashflows: pd.DataFrame
    budget: pd.DataFrame
    consequences: dict[str, BudgetConsequences] = field(repr=False)
    unit_costs: pd.DataFrame = field(repr=False)


def budget_tables(study: FundStudy) -> FundBudgets:
    """SØM-style budget consequences of each intervention from its effects on next-year quantities.

    The AIPW effects on the next-year quantities of every priced item are priced with the unit costs after
    refusion (SEL § 176) and last ``fund.effect_years`` years from the year after the start; the
    intervention's own price is paid by the kommune in year 0
    (:func:`~progression.economics.budget_consequences`).

    Returns
    -------
    FundBudgets
    """
    p = study.params
    unit_costs = unit_costs_after_refusion(study.tables["unit_costs"], year=p.price_year)
    first = study.frames[study.names[0]]
    cost_outcomes = sorted(c for c in first.columns if c.startswith(("q_", "cost_")) and c != "cost_lag1")
    cost_effects = pd.concat([estimate_effects(study.frames[k].dropna(subset=["employed"]), outcomes=cost_outcomes,
                                               seed=study.seed_for("cost_effects")).assign(intervention=k)
                              for k in study.names], ignore_index=True)
    own_cost = study.tables["interventions"].set_index("intervention")["cost_per_participant_dkk"]
    consequences, cashflows, summary = {}, [], []
    for k in study.names:
        aipw_rows = cost_effects[(cost_effects["intervention"] == k) & cost_effects["method"].str.startswith("AIPW")]
        effects = consequence_effects(aipw_rows, duration_years=p.effect_years)
        effects["area"] = effects["item"].map(area_of(effects["item"]))
        bc = budget_consequences(effects, unit_costs, intervention_cost=float(own_cost[k]), horizon=p.horizon_years,
                                 rates=p.discount_profile, price_year=p.price_year)
        consequences[k] = bc
        n_k = int(aipw_rows["n_treated"].iloc[0])
        cashflows.append(bc.flows.groupby(["year", "payer", "area"], as_index=False)["amount_dkk"].sum()
                         .assign(intervention=k, n_treated=n_k))
        pocket = bc.wrong_pocket()
        summary.append({"intervention": k, "n_treated": n_k,
                        **{f"npv_{c}_dkk": float(v) for c, v in bc.npv("payer").items()},
                        "break_even_year": bc.break_even_year(),
                        **{f"share_of_gains_{payer}": float(pocket.loc[payer, "share_of_gains"])
                           for payer in pocket.index}})
    summary = pd.DataFrame(summary)
    cashflows = pd.concat(cashflows, ignore_index=True)
    return FundBudgets(
        cost_effects=_effect_table(cost_effects[cost_effects["outcome"].str.startswith("cost_")]),
        cashflows=declare(cashflows, counts=["n_treated"], stats={"amount_dkk": "n_treated"}, labels=["year"]),
        budget=declare(summary, counts=["n_treated"], stats={c: "n_treated" for c in summary.columns
                                                              if c.startswith(("npv_", "share_", "break"))}),
        consequences=consequences, unit_costs=unit_costs)


@dataclass
class SomPotentials:
    """The two SØM potentials of Social- og Boligstyrelsen (2024) recomputed, and the cohorts and contrasts
    behind them.

    Attributes
    ----------
    table : DataFrame
        By potential, year after success, area and payer: mean costs of successes and non-successes and
        their difference (``fund_som_potential_table``).
    totals : DataFrame
        One row per potential: sizes, success rate, the potential, the figure of Social- og Boligstyrelsen
        (2024), the priced raw and adjusted contrasts, the causal share and present values by payer (``fund_som_potentials``).
    cohorts, contrasts : dict of str to DataFrame
        The cohorts (person level) and the contrasts of priced quantities by potential.
    """

    table: pd.DataFrame
    totals: pd.DataFrame
    cohorts: dict[str, pd.DataFrame] = field(repr=False)
    contrasts: dict[str, pd.DataFrame] = field(repr=False)


def som_potentials(study: FundStudy, budgets: FundBudgets) -> SomPotentials:
    """The SØM potentials of Social- og Boligstyrelsen (2024) from the person-year costs, and their contrast
    adjusted for covariates.

    Each cohort (:func:`~progression.economics.som_cohort`) compares citizens who reach the success
    criterion with those who do not over ``fund.som_horizon`` years (:func:`~progression.economics.success_potential`);
    the priced contrast of quantities, raw and adjusted for baseline covariates
    (:func:`~progression.economics.success_contrast`), gives the share of the gap not explained by who
    succeeds as far as the covariates tell (``causal_share``).

    Returns
    -------
    SomPotentials
    """
    p, t = study.params, study.tables
    areas = area_of(t["person_year_costs"]["service"].unique(), interventions=study.names)
    cohorts, contrasts, tables, totals = {}, {}, [], []
    for kind, (_, reference) in SOM_POTENTIALS.items():
        seed = study.seed_for(f"som.{kind}")
        cohort = som_cohort(kind, persons=t["persons"], person_years=t["person_years"], spells=t["spells"],
                            costs=t["person_year_costs"], unit_costs=t["unit_costs"], staircase=study.staircase,
                            years=tuple(p.som_years), seed=seed, home_support_steps=p.home_support_steps,
                            botilbud_steps=p.botilbud_steps, ages=tuple(p.som_ages))
        pot = success_potential(t["person_year_costs"], cohort.assign(success=cohort["success"] == 1),
                                horizon=p.som_horizon, areas=areas)
        contrast = success_contrast(cohort, success="success", costs=t["person_year_costs"],
                                    unit_costs=t["unit_costs"], horizon=p.som_horizon, seed=seed)
        priced = {m: budget_consequences(c.assign(duration_years=1), budgets.unit_costs, price_year=p.price_year,
                                         rates=p.discount_profile).flows["amount_dkk"].sum()
                  for m, c in contrast.groupby("method")}
        cohorts[kind], contrasts[kind] = cohort, contrast
        tables.append(pot.table.assign(potential=kind, n_success=pot.n_success, n_failure=pot.n_failure))
        totals.append({"potential": kind, "n_success": pot.n_success, "n_failure": pot.n_failure,
                       "success_rate": pot.n_success / (pot.n_success + pot.n_failure), "potential_dkk": pot.total,
                       "seed002_dkk": reference, "priced_raw_dkk": priced["raw"], "adjusted_dkk": priced["adjusted"],
                       "causal_share": float(np.clip(priced["adjusted"] / priced["raw"], 0, 1)),
                       **{f"pv_{payer}_dkk": float(v)
                          for payer, v in pot.present_value(rates=p.discount_profile).items()}})
    table = _complementary_dominance(pd.concat(tables, ignore_index=True), study.dominance)
    table["n_smaller_group"] = table[["n_success", "n_failure"]].min(axis=1)
    totals = pd.DataFrame(totals)
    totals["n_smaller_group"] = totals[["n_success", "n_failure"]].min(axis=1)
    counts = ["n_success", "n_failure", "n_smaller_group"]
    return SomPotentials(
        # mean costs are means of money over persons: magnitudes under the dominance rule
        table=declare(table, counts=counts, labels=["rel_year"],
                      magnitudes={"mean_cost_success": "dominance_success", "mean_cost_failure": "dominance_failure"},
                      magnitude_counts={"mean_cost_success": "n_success", "mean_cost_failure": "n_failure"},
                      stats={"potential_dkk": ["n_smaller_group", "mean_cost_success", "mean_cost_failure"]}),
        # seed002_dkk: the report's published figure
        totals=declare(totals, counts=counts, safe=["seed002_dkk"],
                       stats={c: "n_smaller_group" for c in totals.columns
                              if c.endswith(("_dkk", "rate", "share")) and c != "seed002_dkk"}),
        cohorts=cohorts, contrasts=contrasts)


def _complementary_dominance(table: pd.DataFrame, dominance) -> pd.DataFrame:
    """Mark a second cell of a potential for suppression where the dominance rule hides exactly one.

    The cells of a potential add up to its total and, by payer, to its present values
    (``fund_som_potentials``), so one hidden cell could be recovered by subtraction. The non-zero cell of
    the same payer (of any payer when there is none) with the smallest potential is then hidden too: its
    dominance shares are set to 1 (complementary suppression).
    """
    if dominance is None:
        return table
    table = table.copy()
    shares = ["dominance_success", "dominance_failure"]
    for _, rows in table.groupby("potential", sort=False):
        hidden = rows[shares].max(axis=1) > dominance.k
        if hidden.sum() != 1:
            continue
        payer = rows.loc[hidden, "payer"].iloc[0]
        open_cells = rows[~hidden & (rows["potential_dkk"] != 0)]
        candidates = open_cells[open_cells["payer"] == payer] if (open_cells["payer"] == payer).any() else open_cells
        if len(candidates):
            table.loc[candidates["potential_dkk"].abs().sort_values(kind="stable").index[0], shares] = 1.0
    return table


def som_survival(study: FundStudy, effects: pd.DataFrame, budgets: FundBudgets, totals: pd.DataFrame) -> pd.DataFrame:
    """What survives of the SØM potentials per participant when effects replace the success contrast.

    Per intervention and potential: the naive reading (success rate × potential), effect × causal share ×
    potential (:func:`~progression.economics.effect_adjusted_potential`) and the intervention's own estimated
    gain over the same years (without its own cost).

    Parameters
    ----------
    study : FundStudy
    effects : DataFrame
        ``fund_effects`` as written (disclosed).
    budgets : FundBudgets
    totals : DataFrame
        ``fund_som_potentials`` as written (disclosed).

    Returns
    -------
    DataFrame
        ``unit_gain_dkk, naive_gain_dkk, effect_gain_dkk, conf_low, conf_high, surviving_share, intervention,
        potential, n_treated, direct_gain_dkk``.
    """
    preferred = headline(effects)
    means = fund_lib.participant_means(study.frames, study.outcomes)
    totals = totals.set_index("potential")
    rows = []
    for k in study.names:
        flows = budgets.consequences[k].flows
        same_years = (flows["area"] != "intervention") & (flows["year"] <= study.params.som_horizon)
        gains = flows.loc[same_years, "amount_dkk"].sum()
        for kind, (success, _) in SOM_POTENTIALS.items():
            eff = preferred[(preferred["intervention"] == k) & (preferred["outcome"] == success)].iloc[0]
            rate = means[(means["intervention"] == k) & (means["outcome"] == success)]["mean_treated"].iloc[0]
            adjusted = effect_adjusted_potential(totals.loc[kind, "potential_dkk"], effect=eff["estimate"],
                                                 effect_std_error=eff["std_error"], observed_success_rate=rate,
                                                 causal_share=totals.loc[kind, "causal_share"])
            rows.append(adjusted.assign(intervention=k, potential=kind, n_treated=int(eff["n_treated"]),
                                        direct_gain_dkk=gains))
    survival = pd.concat(rows, ignore_index=True)
    return declare(survival, counts=["n_treated"],
                   stats={c: "n_treated" for c in survival.columns if c.endswith(("_dkk", "low", "high", "share"))})


# ---------------------------------------------------------------------------------------------
# The result-payment fund
# ---------------------------------------------------------------------------------------------

def gains_per_outcome(study: FundStudy, budgets: FundBudgets, potentials: SomPotentials) -> pd.DataFrame:
    """Present-value public gain of one extra outcome, by payer: raw and covariate-adjusted contrasts.

    For *employed* the SØM employment contrast; for *no step escalation* and *no psychiatric admission*
    the contrast of the eligible non-participants who reach the outcome and those who do not (one random
    year per citizen), each over ``fund.som_horizon`` years, priced after refusion and discounted
    (:func:`~progression.fund.gains_per_outcome`).

    Returns
    -------
    DataFrame
        ``outcome``, ``gain_<payer>_dkk``, ``method`` (``raw``/``adjusted``), ``n_success``, ``n_failure``,
        ``n_smaller_group``.
    """
    p, t = study.params, study.tables
    employment = potentials.cohorts["employment"]
    cohorts = {"employed": employment.assign(employed=employment["success"])}
    controls = pd.concat([f[f["treated"] == 0] for f in study.frames.values()], ignore_index=True)
    controls = controls[controls["index_year"] <= study.last_year - p.som_horizon]
    controls = one_year_per_person(controls.drop_duplicates(["person_id", "index_year"]),
                                   seed=study.seed_for("gains.controls"))
    for outcome in ("no_escalation_24m", "no_psych_admission"):
        known = controls.dropna(subset=[outcome])
        cohorts[outcome] = known.assign(reference_year=known["index_year"] + 1)
    gains = []
    for outcome, cohort in cohorts.items():
        contrast = (potentials.contrasts["employment"] if outcome == "employed" else
                    success_contrast(cohort, success=outcome, costs=t["person_year_costs"], unit_costs=t["unit_costs"],
                                     horizon=p.som_horizon, seed=study.seed_for("gains.contrast")))
        for method, rows in contrast.groupby("method"):
            g = fund_lib.gains_per_outcome(rows.assign(outcome=outcome, duration_years=1), budgets.unit_costs,
                                           rates=p.discount_profile, price_year=p.price_year)
            gains.append(g.assign(method=method, n_success=int(rows["n_success"].iloc[0]),
                                  n_failure=int(rows["n_failure"].iloc[0])))
    gains = pd.concat(gains, ignore_index=True)
    gains["n_smaller_group"] = gains[["n_success", "n_failure"]].min(axis=1)
    return declare(gains, counts=["n_success", "n_failure", "n_smaller_group"],
                   stats={c: "n_smaller_group" for c in gains.columns if c.startswith("gain_")})


@dataclass
class FundRun:
    """The fund simulated with the headline effects and with the naive SØM contrasts, and its tables.

    Attributes
    ----------
    simulation, naive : FundSimulation
        With headline effects and adjusted gains; with naive contrasts as effects and raw contrasts as gains.
    inputs, summary, ranking, neutral_prices, expected_flows, rate_card, draws : DataFrame
        ``fund_inputs``, ``fund_summary``, ``fund_ranking``, ``fund_neutral_prices``,
        ``fund_expected_flows``, ``fund_rate_card`` and the simulated balances per draw (figure data).
    interventions, contracts : DataFrame
        What :attr:`simulation` ran on: the headline effects with baselines and gains, and the contracts
        (participants per municipality and cohort year) with the municipality's region (DST's, from
        :func:`~progression.schemas.municipalities_reference`).
    """

    simulation: fund_lib.FundSimulation = field(repr=False)
    naive: fund_lib.FundSimulation = field(repr=False)
    inputs: pd.DataFrame
    summary: pd.DataFrame
    ranking: pd.DataFrame
    neutral_prices: pd.DataFrame
    expected_flows: pd.DataFrame
    rate_card: pd.DataFrame
    draws: pd.DataFrame
    interventions: pd.DataFrame = field(default=None, repr=False)
    contracts: pd.DataFrame = field(default=None, repr=False)


#: Columns of the simulation's summaries: model output on aggregates (effect estimates, gains), no person.
_SIMULATED = ("mean", "std", "q05", "q50", "q95", "prob_nonnegative")


def fund_simulation(study: FundStudy, effects: pd.DataFrame, gains: pd.DataFrame) -> FundRun:
    """Monte Carlo simulation of the rate card over municipalities and years (:func:`~progression.fund.simulate`).

    Each adopting municipality runs one contract per cohort year for ``fund.horizon_years`` years with its
    mean yearly number of starters (:func:`~progression.fund.fund_contracts`); the true effects are drawn
    from the headline estimates' sampling distributions. The same simulation with the naive contrasts as
    effects and the raw contrasts as gains shows what a design on SØM potentials would have promised.

    Returns
    -------
    FundRun
    """
    p, t = study.params, study.tables
    card = fund_lib.RateCard(t["rate_card"])
    preferred = headline(effects)
    means = fund_lib.participant_means(study.frames, study.outcomes)
    contracts = fund_lib.fund_contracts(t["participations"], study.adoption, last_year=study.last_year)
    settings = dict(years=p.horizon_years, n_draws=p.n_draws, seed=study.seed_for("simulation"), n_jobs=study.n_jobs,
                    rates=p.discount_profile)

    def inputs(rows, method):
        gain = gains[gains["method"] == method].drop(columns="method")
        return fund_lib.fund_interventions(rows, means, gain, t["interventions"], t["rate_card"])

    headline_inputs = inputs(preferred, "adjusted")
    naive = effects[effects["method"].str.startswith("naive") & (effects["design"] == "levels")]
    sim = fund_lib.simulate(headline_inputs, card, contracts, **settings)
    sim_naive = fund_lib.simulate(inputs(naive, "raw"), card, contracts, **settings)
    n_participants = contracts.groupby("intervention")["participants"].sum() * p.horizon_years
    n_treated = headline_inputs["intervention"].map(preferred.groupby("intervention")["n_treated"].max())
    adjusted = gains[gains["method"] == "adjusted"].set_index("outcome")["n_smaller_group"]
    gain_columns = list(fund_lib.GAIN_COLUMNS.values())
    summary = pd.concat([sim.summary().assign(design="effects"), sim_naive.summary().assign(design="SØM contrasts")])
    summary = summary.reset_index().assign(n_participants=int(n_participants.sum()))
    ranking = sim.ranking(by="public_net_dkk").assign(
        n_participants=lambda r: r["intervention"].map(n_participants).astype(int))
    with warnings.catch_warnings():  # an intervention whose gains are negative is not neutral at any price: NaN
        warnings.simplefilter("ignore", StatisticalWarning)
        prices = pd.concat([sim.neutral_price(perspective=s, probability=q) for s in ("state", "public")
                            for q in (None, p.neutrality_probability)], ignore_index=True)
    flows = sim.expected_flows().assign(n_participants=lambda f: f["intervention"].map(n_participants).astype(int))
    draws = pd.concat([sim.fund_draws().assign(design="effects"),
                       sim_naive.fund_draws().assign(design="SØM contrasts")]).reset_index()
    simulated = ["payments_dkk", *gain_columns, "cost_dkk", "public_gain_dkk", "state_balance_dkk",
                 "public_balance_dkk", "public_net_dkk", "kommune_net_dkk"]
    return FundRun(
        simulation=sim, naive=sim_naive,
        # the gains rest on the smaller group of their contrast; own cost and price year are parameters
        inputs=declare(headline_inputs.assign(n_treated=n_treated,
                                              n_smaller_group=headline_inputs["outcome"].map(adjusted)),
                       counts=["n_treated", "n_smaller_group"],
                       stats={"effect": "n_treated", "effect_std_error": "n_treated", "baseline_rate": "n_treated",
                              **{c: "n_smaller_group" for c in gain_columns}},
                       safe=["cost_per_participant_dkk"], labels=["price_year"]),
        # the simulation's output on aggregates (effect estimates, gains, the card): no person
        summary=declare(summary, counts=["n_participants"], safe=list(_SIMULATED)),
        ranking=declare(ranking, counts=["n_participants"], safe=[c for c in ranking.columns if c not in
                                                                  ("intervention", "n_participants")]),
        neutral_prices=declare(prices, safe=["price_dkk", "scale", "neutral_price_dkk"]),
        expected_flows=declare(flows, counts=["n_participants"], labels=["year"], safe=["payments_dkk", *gain_columns]),
        rate_card=declare(t["rate_card"], safe=["price_dkk", "cap_dkk", "counterfactual_rate", "window_months"],
                          labels=["price_year"]),
        draws=declare(draws, labels=["draw"], safe=simulated),
        interventions=headline_inputs,
        contracts=contracts.merge(municipalities_reference()[["municipality", "region"]], on="municipality",
                                  how="left"))


# ---------------------------------------------------------------------------------------------
# Payment rules for small volumes
# ---------------------------------------------------------------------------------------------

#: The payment rules the fund is run under (:func:`payment_rules`), in the order of ``fund_payment_rules``.
RULE_NAMES = ("rate card", "minimum volume", "pooled by region", "pooled nationally", "credibility-weighted",
              "empirical Bayes", "capped at expected payment")
#: The numbers of the report's paragraph on the rules (text ``fund_rules``): field → (column, rule, scenario)
#: of ``fund_payment_rules``, for ``ctx.value``.
RULE_TEXT_VALUES = {
    "threshold": ("paying_threshold_dkk", "rate card", "no_effect"),
    "p_null_card": ("prob_paying_above", "rate card", "no_effect"),
    "pay_null_card": ("mean_payment_dkk", "rate card", "no_effect"),
    "p_chance_card": ("prob_paying_above", "rate card", "chance_only"),
    "pay_chance_card": ("mean_payment_dkk", "rate card", "chance_only"),
    "p_chance_eb": ("prob_paying_above", "empirical Bayes", "chance_only"),
    "pay_chance_eb": ("mean_payment_dkk", "empirical Bayes", "chance_only"),
    "p_chance_pooled": ("prob_paying_above", "pooled by region", "chance_only"),
    "pay_chance_pooled": ("mean_payment_dkk", "pooled by region", "chance_only"),
    "p_neutral_card": ("prob_neutral_public", "rate card", "estimated_effects"),
    "p_neutral_eb": ("prob_neutral_public", "empirical Bayes", "estimated_effects"),
    "p_neutral_pooled": ("prob_neutral_public", "pooled by region", "estimated_effects"),
}


def payment_rules(run: FundRun, params) -> dict:
    """The payment rules for small volumes the fund is compared under, by name (:data:`RULE_NAMES`).

    * *rate card*: each contract by the card (the fund's own rule);
    * *minimum volume*: nothing for contracts of fewer than ``fund.rule_min_participants`` citizens;
    * *pooled by region* and *pooled nationally*: the contracts of a region (the municipality's region)
      or of the whole country are paid together on their summed outcomes, year by year, and share the
      payment by participants;
    * *credibility-weighted*: each contract's excess over the counterfactual is weighted by
      Z = n/(n + r(1 − r)/τ²), with τ² of an outcome the mean square of a contract's true rate around
      the counterfactual r that the estimates imply, (p₀ + δ̂ − r)² + se(δ̂)²;
    * *empirical Bayes*: the same weight with τ² estimated in each payment year from the scatter of the
      contracts' rates around r (Bühlmann–Straub);
    * *capped at expected payment*: each intervention's payments of a year scaled down to
      ``fund.rule_cap_share`` × its expected yearly payment by the rate card with the estimated effects.

    Parameters
    ----------
    run : FundRun
        The fund simulated with the headline effects (its inputs, contracts and expected flows).
    params : FundParams
        The ``fund`` section of the parameters.

    Returns
    -------
    dict of str to PaymentRule
    """
    card = run.rate_card.set_index(["intervention", "outcome"])
    inputs = run.interventions.set_index(["intervention", "outcome"])
    priced = inputs.index.intersection(card.index)
    excess = inputs.loc[priced, "baseline_rate"] + inputs.loc[priced, "effect"] - card.loc[priced, "counterfactual_rate"]
    # τ² = 0 (no expected excess, no uncertainty) shrinks the contract's excess away: a vanishing floor keeps k finite
    tau2 = (excess ** 2 + inputs.loc[priced, "effect_std_error"] ** 2).clip(lower=1e-12)
    yearly = run.expected_flows.groupby("intervention")["payments_dkk"].sum() / params.horizon_years
    caps = {name: params.rule_cap_share * float(amount) for name, amount in yearly.items() if amount > 0}
    credibility = Credibility({key: float(value) for key, value in tau2.items()})
    return dict(zip(RULE_NAMES, (RateCardRule(), MinimumVolume(params.rule_min_participants), Pooled(by="region"),
                                 Pooled(by="year"), credibility, Credibility("estimate"), Capped(caps))))


def payment_rule_table(study: FundStudy, run: FundRun) -> pd.DataFrame:
    """The fund under each payment rule: with the headline effects, with no true effect, and with no true
    effect and the contracted counterfactual right (chance alone) (:func:`~progression.fund.compare_rules`).

    ``fund.rule_draws`` draws per rule and scenario on the simulation's own random stream
    (``fund.simulation``): the rules pay for the same outcomes as the fund of ``fund_summary`` (common
    random numbers), and with ``rule_draws = n_draws`` the rate card's row is its row. The fund counts as
    paying for chance in ``prob_paying_above`` when it pays more than ``fund.rule_paying_share`` × the
    rate card's expected present value of payments with the estimated effects.

    Returns
    -------
    DataFrame
        One row per scenario (:data:`~progression.fund.SCENARIOS`) and rule (:data:`RULE_NAMES`): the
        present values' mean and sd of payments,
        the expected balances, P(budget neutral) for the state and the public sector, P(paying),
        P(paying above the threshold), the threshold and ``n_participants``.
    """
    p = study.params
    threshold = p.rule_paying_share * float(run.simulation.fund_draws()["payments_dkk"].mean())
    table = fund_lib.compare_rules(run.interventions, fund_lib.RateCard(run.rate_card), run.contracts,
                                   payment_rules(run, p), years=p.horizon_years, n_draws=p.rule_draws,
                                   seed=study.seed_for("simulation"), n_jobs=study.n_jobs, rates=p.discount_profile,
                                   paying_threshold=threshold)
    table["n_participants"] = int(run.contracts["participants"].sum() * p.horizon_years)
    # the simulation's output on aggregates (effect estimates, gains, the card, contract sizes): no person
    return declare(table, counts=["n_participants"],
                   safe=[c for c in table.columns if c not in ("rule", "scenario", "n_participants")])


# ---------------------------------------------------------------------------------------------
# INDIGO: real outcome contracts as reference
# ---------------------------------------------------------------------------------------------

def indigo_folder(path: str | Path, *, params_file: str | Path | None = None) -> Path | None:
    """The INDIGO export folder ``fund.indigo_path``, or None when it is absent.

    A relative path is tried against the project's checkout (the folder holding ``src/progression``),
    then against the folder of the parameter file.

    Parameters
    ----------
    path : str or Path
        ``fund.indigo_path``.
    params_file : path, optional
        The parameter file (``Params.source_file``).

    Returns
    -------
    Path or None
        The first candidate that is a folder.

    Examples
    --------
    >>> indigo_folder("/no/such/folder") is None
    True
    """
    from progression.sources.indigo import resolve_folder

    return resolve_folder(path, params_file=params_file)


def indigo_absent(path: str | Path, *, params_file: str | Path | None = None) -> str:
    """Where the INDIGO folder was looked for, for the report when it is absent."""
    from progression.sources.indigo import candidate_folders

    return ", ".join(str(p) for p in candidate_folders(path, params_file=params_file))


def indigo_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """INDIGO's reference prices per outcome, achievement rates and the outcome metrics of its Danish projects.

    Returns
    -------
    dict of str to DataFrame
        ``fund_indigo_prices``, ``fund_indigo_achievement``, ``fund_indigo_danish``: counts of contracts
        and outcome metrics, not of persons (public data).
    """
    from progression.sources.indigo import achievement_rates, read_indigo, reference_prices

    indigo = read_indigo(folder)
    contracts_not_persons = {"n_metrics": "metrics", "n_projects": "projects"}
    prices = reference_prices(indigo, by=("outcome_category", "currency")).rename(columns=contracts_not_persons)
    achievement = achievement_rates(indigo, by=("policy_sector",)).rename(columns=contracts_not_persons)
    danish = indigo.danish().outcome_metrics.groupby("outcome_category").size().rename("metrics").reset_index()
    # public data on contracts and projects: no person
    return {"fund_indigo_prices": declare(prices, safe=[c for c in prices.columns if c not in
                                                        ("outcome_category", "currency")]),
            "fund_indigo_achievement": declare(achievement, safe=[c for c in achievement.columns
                                                                  if c != "policy_sector"]),
            "fund_indigo_danish": declare(danish, safe=["metrics"])}


# ---------------------------------------------------------------------------------------------
# Key numbers
# ---------------------------------------------------------------------------------------------

def key_numbers(study: FundStudy, run: FundRun, potentials: pd.DataFrame, effects: pd.DataFrame) -> dict:
    """The fund evaluation's key numbers, from the simulation and the disclosed tables.

    Parameters
    ----------
    study : FundStudy
    run : FundRun
    potentials : DataFrame
        ``fund_som_potentials`` as written (disclosed).
    effects : DataFrame
        ``fund_effects`` as written (disclosed): with synthetic data, the comparisons with the truth
        (:func:`truth_numbers`) are added.

    Returns
    -------
    dict
        Declared key numbers: probabilities of neutrality and expected public balances (simulation output),
        the 10-year discount factor (a parameter), the SØM potentials (copies of disclosed cells) and the
        best intervention.
    """
    discount_profile = study.params.discount_profile
    balance = run.summary.set_index(["design", "quantity"])
    totals = potentials.set_index("potential")["potential_dkk"]
    key = {"prob_neutral_state": float(run.simulation.prob_neutral()["state"]),
           "prob_neutral_public": float(run.simulation.prob_neutral()["public"]),
           "prob_neutral_state_som_contrasts": float(run.naive.prob_neutral()["state"]),
           "prob_neutral_public_som_contrasts": float(run.naive.prob_neutral()["public"]),
           "expected_public_balance_dkk": float(balance.loc[("effects", "public_balance_dkk"), "mean"]),
           "expected_public_balance_som_contrasts_dkk":
               float(balance.loc[("SØM contrasts", "public_balance_dkk"), "mean"]),
           "discount_factor_10y": float(economics.discount_factors([10], rates=discount_profile).iloc[0]),
           "som_employment_potential_dkk": _number(totals["employment"]),
           "som_botilbud_potential_dkk": _number(totals["botilbud"]),
           "best_intervention": str(run.ranking["intervention"].iloc[0])}
    if study.truth:
        key.update(truth_numbers(effects, study.tables["rate_card"]))
    # simulation output, a parameter and copies of disclosed cells: no person
    return declare(key, safe=[k for k, v in key.items() if not isinstance(v, str)])


def summary_values(key: Mapping) -> dict:
    """The key numbers the report's summary paragraph (text ``fund_summary``) takes, by its field names."""
    names = {"prob_state": "prob_neutral_state", "prob_public": "prob_neutral_public",
             "public_balance": "expected_public_balance_dkk",
             "public_balance_som": "expected_public_balance_som_contrasts_dkk", "best": "best_intervention",
             "employment": "som_employment_potential_dkk", "botilbud": "som_botilbud_potential_dkk"}
    return {field: key[name] for field, name in names.items()}


def truth_values(key: Mapping) -> dict:
    """The key numbers the paragraph on the synthetic truth (text ``fund_truth``) takes."""
    return {"covered": key["headline_intervals_covering_truth"], "compared": key["headline_intervals_compared"],
            "naive_error": key["employment_mean_abs_error_naive"],
            "headline_error": key["employment_mean_abs_error_headline"]}


def _number(value) -> float | None:
    return None if pd.isna(value) else float(value)


# ---------------------------------------------------------------------------------------------
# Comparisons with the synthetic truth
# ---------------------------------------------------------------------------------------------

def true_att(truth: dict | None, intervention: str, outcome: str) -> float:
    """The generator's true ATT of an intervention on an outcome (NaN without truth or without that outcome).

    Examples
    --------
    >>> true_att(None, "ips", "employed")
    nan
    """
    found = truth and truth["interventions"]["true_effects"].get(intervention, {}).get("outcomes", {}).get(outcome)
    return found["att"] if found else np.nan


def truth_numbers(effects: pd.DataFrame, rate_card: pd.DataFrame) -> dict:
    """How the headline intervals and the naive contrast fare against the true effects (synthetic data).

    Parameters
    ----------
    effects : DataFrame
        ``fund_effects`` as written (disclosed), with ``truth``.
    rate_card : DataFrame
        The rate card (its intervention and outcome pairs).

    Returns
    -------
    dict
        ``headline_intervals_covering_truth`` of ``headline_intervals_compared`` rate-card outcomes, and the
        mean absolute error of
        the naive contrast and of the headline estimate on employment (from disclosed cells).
    """
    preferred = headline(effects)
    rated = preferred.merge(rate_card[["intervention", "outcome"]]).dropna(subset=["estimate", "truth"])
    covered = (rated["conf_low"] <= rated["truth"]) & (rated["truth"] <= rated["conf_high"])
    employed = effects[(effects["outcome"] == "employed") & effects["truth"].notna()]
    naive_error = (employed[employed["method"].str.startswith("naive")]["estimate"] - employed["truth"]).abs().mean()
    headline_error = (employed[employed["preferred"].astype(bool)]["estimate"] - employed["truth"]).abs().mean()
    return {"headline_intervals_covering_truth": int(covered.sum()), "headline_intervals_compared": len(rated),
            "employment_mean_abs_error_naive": float(naive_error),
            "employment_mean_abs_error_headline": float(headline_error)}
