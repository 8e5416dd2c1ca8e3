"""Sections of the analysis notebooks. Each analysis owns its section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ._base import Section, not_before, ordered_pairs


class ProgressionParams(Section):
    """10_progression: instruments, pairing windows, reliable change, group comparisons, trajectories."""

    instruments: list[str] = Field(default_factory=lambda: ["VUM", "WHO5", "INSPIRE_O", "QPR15"])
    followup_months: int = Field(12, gt=0, le=120, description="target time from baseline to follow-up")
    window_months: int = Field(3, ge=0, le=24, description="tolerance around the follow-up target")
    rci_threshold: float = Field(1.96, gt=0, description="|RCI| above this is reliable change")
    group_by: list[Literal["target_group", "step", "year", "municipality"]] = Field(
        default_factory=lambda: ["target_group", "step", "year"],
        description="groupings of the shares and mean-change tables (municipalities are also compared "
        "within target groups)")
    reliability: Literal["alpha", "declared"] = Field(
        "alpha", description="reliability in the RCI: Cronbach's alpha of the baseline items in the data, or "
        "the declared value where an instrument has one (alpha otherwise)")
    clinical_cutoffs: dict[str, str] = Field(
        default_factory=lambda: {"WHO5": "poor_wellbeing", "INSPIRE_O": "personal_recovery"},
        description="instrument -> its declared cut-off used for clinical significance")
    funnel_instrument: str = Field("VUM", description="instrument of the municipality funnel figure")
    bootstrap_reps: int = Field(200, ge=10, le=10_000,
                                description="replicates of the bootstrap that re-estimates the RCI threshold")
    trajectory_max_years: float = Field(10.0, gt=0, le=60, description="years after service start in trajectories")
    trajectory_max_persons: int = Field(20_000, ge=100,
                                        description="citizens sampled per instrument for the trajectory models")


class TransitionsParams(Section):
    """20_transitions: panels, matrices, bootstrap, multi-state model, projections."""

    period: Literal["month", "quarter", "year"] = "year"
    start_year: int = Field(2014, ge=2000, le=2100)
    end_year: int = Field(2024, ge=2000, le=2100, validate_default=True)
    bootstrap_reps: int = Field(1000, ge=0, le=100_000, description="citizen-level bootstrap replicates")
    flow_from_step: str = Field("SEL85", description="step of the cohort flow figure")
    flow_years: tuple[int, int] = Field((2020, 2022), description="cohort flow from year to year")
    case_municipalities: list[int] = Field(default_factory=lambda: [265, 169, 657, 751])
    age_bands: list[int] = Field(default_factory=lambda: [18, 30, 50, 67], min_length=1,
                                 description="lower limits of the age bands of the matrices by age")
    ctmc_covariates: list[Literal["age", "severity", "target_group", "recovery_oriented", "sex"]] = Field(
        default_factory=lambda: ["age", "severity", "target_group", "recovery_oriented"],
        description="covariates of the multi-state model, each acting on every allowed transition")
    ctmc_min_moves: int = Field(20, ge=1, description="a transition between non-adjacent steps is allowed in the "
                                                      "multi-state model only when observed this often")
    reentry_horizons: list[float] = Field(default_factory=lambda: [1.0, 2.0], min_length=1,
                                          description="years after leaving all services of the re-entry shares")
    projection_years: int = Field(5, ge=1, le=30)
    projection_base_years: int = Field(3, ge=1, le=30, description="last years whose transitions and entrants "
                                                                   "drive the projection")
    stepdown_scenario: float = Field(1.2, gt=0, description="multiplier on step-down intensities in the scenario")
    reorganisation_year: int = Field(2019, ge=2000, le=2100, description="the year the case municipalities began "
                                     "the recovery-oriented reorganisation (Borgeren ved roret): the cut of the "
                                     "multi-state model's period effect")

    _years_ordered = not_before("end_year", "start_year")
    _pairs_ordered = ordered_pairs("flow_years")


class VariationParams(Section):
    """30_spending_variation: outcome, criteria, models and decompositions (Finansministeriet, Indenrigs- og
    Socialministeriet & KL 2009, *Det specialiserede socialområde – redskaber til styring og prioritering*,
    kapitel 2; domain.md §5)."""

    year: int = Field(2022, ge=2000, le=2100, description="accounts year of the cross-section")
    panel_years: tuple[int, int] | None = Field(
        None, description="first and last year of the between/within and random-intercept panel (default: all)")
    adult_functions: list[str] = Field(default_factory=lambda: ["53850", "53851", "53852", "53838"],
                                       description="account functions of the adult area (codes or prefixes)")
    child_functions: list[str] = Field(default_factory=lambda: ["52800"],
                                       description="account functions of the children's area")
    adult_population: str = Field("pop_18_66", description="population column adult spending is divided by")
    child_population: str = Field("pop_0_22", description="population column children's spending is divided by")
    adult_criteria: list[str] = Field(
        default_factory=lambda: ["share_no_vocational_25_49", "share_handicap_diagnoses", "share_psychiatric_patients"],
        min_length=1, description="criteria of the adult model (Finansministeriet 2009, afsnit 2.2, fodnote 3)")
    child_criteria: list[str] = Field(
        default_factory=lambda: ["share_children_low_education", "share_non_western_immigrants"],
        min_length=1, description="criteria of the children's model (Finansministeriet 2009, afsnit 2.1, fodnote 2)")
    criteria: list[str] = Field(default_factory=lambda: [
        "share_no_employment_20_59", "share_no_vocational_25_49", "share_cheap_rentals",
        "share_psychiatric_patients", "share_social_family_housing", "share_children_low_education",
        "share_single_65plus", "share_low_income", "share_handicap_diagnoses", "share_non_western_immigrants",
        "share_developmental_disability",
    ], min_length=1, max_length=20, description="all equalisation criteria: the extended model")
    criteria_groups: dict[str, list[str]] = Field(default_factory=lambda: {
        "labour_market_education": ["share_no_employment_20_59", "share_no_vocational_25_49",
                                    "share_children_low_education", "share_low_income"],
        "housing": ["share_cheap_rentals", "share_social_family_housing"],
        "health_disability": ["share_psychiatric_patients", "share_handicap_diagnoses",
                              "share_developmental_disability"],
        "household_origin": ["share_single_65plus", "share_non_western_immigrants"],
    }, description="groups of `criteria` for the group Shapley decomposition of the extended model")
    weights: Literal["none", "population"] = Field(
        "none", description="weights of the headline model (both are always fitted and compared)")
    log: bool = Field(False, description="headline model in log spending (both are always fitted and compared)")
    exclude: list[int] = Field(default_factory=list,
                               description="municipalities left out of the fits (benchmarked out of sample)")
    bootstrap_reps: int = Field(500, ge=10, le=100_000, description="municipality bootstrap of the Shapley shares")
    cv_folds: int = Field(10, ge=2, le=98)
    cv_repeats: int = Field(5, ge=1, le=100)
    boosting_trees: int = Field(100, ge=10, le=5_000, description="trees of the gradient-boosting comparison")
    register_services: list[str] = Field(default_factory=lambda: ["SEL85", "ABL105", "SEL107", "SEL108"],
                                         description="register services of the adult area (recipients x unit cost)")
    register_payer: str = Field("kommune", description="payer whose register costs count")

    _pairs_ordered = ordered_pairs("panel_years")


class FundParams(Section):
    """40_fund_evaluation: effects, economics, the fund simulation."""

    horizon_years: int = Field(10, ge=1, le=100, description="cohort years of the fund and years of the cash flows")
    discount_profile: Literal["fm2021", "fm2013", "flat5"] = "fm2021"
    price_year: int = Field(2024, ge=1990, le=2100)
    n_draws: int = Field(10_000, ge=10, le=1_000_000)
    neutrality_probability: float = Field(0.8, gt=0, lt=1, description="target probability of budget neutrality")
    rule_draws: int = Field(2_000, ge=10, le=1_000_000, description="draws per payment rule and scenario in the "
                            "comparison of payment rules for small volumes (fund_payment_rules)")
    rule_min_participants: int = Field(20, ge=1, description="minimum-volume rule: citizens a contract (one "
                                       "municipality, one cohort year) must have before it is paid")
    rule_cap_share: float = Field(1.0, gt=0, description="capped rule: each intervention's yearly payments are "
                                  "capped at this multiple of its expected yearly payment by the rate card with the "
                                  "estimated effects")
    rule_paying_share: float = Field(0.05, ge=0, lt=1, description="the fund counts as paying for chance when, with "
                                     "no true effect, it pays more than this share of the rate card's expected "
                                     "payments with the estimated effects (present values)")
    trial_years: tuple[int, int] | None = Field(
        None, description="first and last start year of the emulated trials (default: the data's years but the last)")
    eligible_steps: dict[str, list[str]] = Field(default_factory=lambda: {
        "ips": ["SEL82", "SEL85"], "sel82_group": ["SEL82", "SEL85"], "flexstoette": ["SEL85"],
        "housing_first": ["none", "SEL82", "SEL107"],
    }, description="intervention -> steps a citizen must hold on the start date to be eligible")
    eligible_ages: dict[str, tuple[int, int]] = Field(default_factory=lambda: {
        "ips": (18, 60), "sel82_group": (18, 70), "flexstoette": (18, 70), "housing_first": (18, 29),
    }, description="intervention -> youngest and oldest age in the start year")
    botilbud_steps: list[str] = Field(default_factory=lambda: ["SEL107", "ABL105", "SEL108"],
                                      description="steps that count as botilbud (Social- og Boligstyrelsen 2024)")
    home_support_steps: list[str] = Field(default_factory=lambda: ["SEL85"],
                                          description="steps of the SØM employment cohort (Social- og Boligstyrelsen 2024)")
    escalation_months: int = Field(24, ge=1, le=120, description="window of the step-escalation outcome")
    did_outcomes: list[str] = Field(
        default_factory=lambda: ["employed", "employment_weeks", "employed_or_education"],
        description="outcomes whose headline estimate is the doubly robust DiD (a persistent unmeasured trait "
                    "such as employability drives them); AIPW on levels for the others")
    effect_years: int = Field(4, ge=1, le=30, description="years an effect on next-year quantities lasts in the "
                                                         "budget consequences (SØM's four-year horizon)")
    event_window: tuple[int, int] = Field((-4, 3), description="event times of the event study (reference -1)")
    som_years: tuple[int, int] = Field((2017, 2020), description="delimitation years of the SØM cohorts (Social- og Boligstyrelsen 2024)")
    som_horizon: int = Field(4, ge=1, le=10, description="years of costs counted after the delimitation year")
    som_ages: tuple[int, int] = Field((18, 64), description="ages of the SØM employment cohort")
    indigo_path: str = Field("../shared/reference-data/indigo",
                             description="INDIGO export folder: absolute, or relative to the project checkout or to "
                                         "the parameter file; the reference prices are skipped when it is absent")

    _pairs_ordered = ordered_pairs("trial_years", "eligible_ages", "event_window", "som_years", "som_ages")


class SteeringParams(Section):
    """35_steering: growth by area, volume × unit cost of the register, budget follow-up (Finansministeriet 2009)."""

    areas: dict[str, list[str]] = Field(
        default_factory=lambda: {"adults": ["5.38"], "children": ["5.28"]}, min_length=1,
        description="spending area -> its account functions (codes or prefixes, dotted or not)")
    area_populations: dict[str, str] = Field(
        default_factory=lambda: {"adults": "pop_18_66", "children": "pop_0_22"},
        description="spending area -> the municipality_years population its spending is divided by")
    growth_years: tuple[int, int] | None = Field(
        None, description="first and last accounts year of the growth table (default: the accounts' first and last)")
    services: list[str] | None = Field(
        None, description="paragraphs of the register's commitments (default: every paragraph priced per unit of time)")
    payer: str = Field("kommune", description="payer whose unit costs price the commitments")
    register_years: tuple[int, int] | None = Field(
        None, description="first and last year of the register series (default: the data's window)")
    price_volume_years: tuple[int, int] | None = Field(
        None, description="the two years whose spending change is split into volume and price (default: "
                          "the first and last register year)")
    register_population: str = Field("pop_18_66", description="population of the demography split of the register")
    followup_year: int | None = Field(None, ge=2000, le=2100,
                                      description="budget year of the follow-up (default: the last register year)")
    followup_month: int = Field(6, ge=1, le=12, description="month at whose end the year's spending is forecast")
    budget_volume_change: float = Field(0.0, gt=-1, le=1, description="budget's assumed change in user-years from "
                                                                      "the year before (0.02 = +2 %)")
    budget_price_change: float = Field(0.0, gt=-1, le=1, description="budget's assumed change in unit cost from the "
                                                                     "year before")

    @model_validator(mode="after")
    def _areas_have_populations(self):
        missing = sorted(set(self.areas) - set(self.area_populations))
        if missing:
            raise ValueError(f"area(s) {missing} have no entry in area_populations; give the population column "
                             "their spending is divided by")
        for name, years in (("growth_years", self.growth_years), ("register_years", self.register_years),
                            ("price_volume_years", self.price_volume_years)):
            if years is not None and not years[0] < years[1]:
                raise ValueError(f"{name}: the first year must be before the last; got {list(years)}")
        return self


class DesignParams(Section):
    """45_pilot_design: the pilot's power, minimum detectable effects and payment rules for small volumes."""

    outcomes: list[Literal["psych_admission", "employed", "in_education", "justice_contact"]] = Field(
        default_factory=lambda: ["psych_admission", "employed"], min_length=1,
        description="binary outcomes of the person-year table the pilot is planned for")
    last_years: int = Field(5, ge=1, le=30, description="last data years the ICCs, rates and trends come from")
    min_icc: float = Field(0.005, ge=0, lt=1, description="ICC planned with where the data show less (a planning "
                           "floor: a pilot planned with no municipal variance is planned too small)")
    n_periods: int = Field(5, ge=3, le=20, description="years of the stepped wedge and the staggered pilot")
    n_municipalities: list[int] = Field(default_factory=lambda: [12, 24, 48, 98], min_length=1,
                                        description="pilot sizes (municipalities) of the MDE grid")
    curve_municipalities: int = Field(24, ge=4, le=98, description="municipalities of the power curves")
    n_models: int = Field(3, ge=2, le=3, description="payment models of the pilot (VIVE 2024, Styringsgennemgang "
                          "af socialpsykiatrien, section 3.3.2: 2–3)")
    n_projects: int = Field(6, ge=2, le=12, description="projects of the pilot (VIVE 2024, section 3.3.2: 5–6)")
    relative_effect: float = Field(0.2, gt=0, lt=1, description="target effect as a share of the baseline rate")
    power: float = Field(0.8, gt=0, lt=1)
    never_share: float = Field(1 / 3, ge=0, lt=1, description="share never treated in the staggered pilot")
    n_sims: int = Field(300, ge=20, le=100_000, description="simulated pilots per scenario")
    pilot_budget_dkk: float = Field(1.25e9, gt=0, description="yearly budget of the pilot (VIVE 2024, "
                                    "section 3.3.2: 5 bn kr. for a large-scale trial; here spread over four years)")
    price_per_outcome_dkk: float = Field(100_000, gt=0, description="rate-card price per outcome above the "
                                         "counterfactual in the payment-rule comparison")
    gain_per_outcome_dkk: float = Field(100_000, gt=0, description="public gain per caused outcome")
    min_participants: int = Field(25, ge=1, description="minimum citizens per contract before paying")
    contract_cap_share: float = Field(1.0, gt=0, description="yearly cap of the capped rule as a multiple of the "
                                      "expected payment with the true effect")
    n_rule_draws: int = Field(2000, ge=100, le=1_000_000)
    bonus_rate_per_1000: float = Field(10.0, gt=0, description="preventable admissions per 1,000 citizens and "
                                       "year [check: no Danish figure in the source reports]")
    bonus_price_dkk: float = Field(30_000, gt=0, description="bonus per avoided admission [check]")
    bonus_cap_dkk: float = Field(1e9, gt=0, description="yearly cap of the bonus (VIVE 2024, section 3.3.2: "
                                "up to 1 bn kr.)")
    bonus_true_change: float = Field(-0.03, gt=-1, lt=1, description="true yearly relative change of the rate in "
                                     "the 'effect' scenario of the bonus")


class TariffRow(Section):
    """One takst of the tariff table, as a provider reports it on Tilbudsportalen: a day rate (døgntakst) of a
    step (the service paragraph) at one support level (takstniveau)."""

    step: str = Field(..., description="step of the staircase (the service paragraph)")
    support_level: int = Field(..., ge=1, le=9, description="support level (1 = least support need)")
    takst_dkk: float = Field(..., gt=0, description="day rate in DKK (døgntakst) at the section's price year")


def _default_tariffs() -> list[TariffRow]:
    # ILLUSTRATIVE defaults, not published takster: day rates of the order of the synthetic data's unit costs
    # (§108 900,000, §107 650,000, ABL §105 550,000, §85 100,000 kr. a year), about 0.75 / 1 / 1.3 times them
    # at support levels 1 / 2 / 3. Replace them by the takster of the user's own tilbud (Tilbudsportalen).
    rates = {"SEL82": (40, 55, 70), "SEL85": (200, 275, 360), "SEL107": (1_350, 1_800, 2_300),
             "ABL105": (1_150, 1_500, 1_950), "SEL108": (1_850, 2_450, 3_200)}
    return [TariffRow(step=step, support_level=level, takst_dkk=value)
            for step, values in rates.items() for level, value in enumerate(values, start=1)]


class RefusionBand(Section):
    """A band of the central refusion scheme (SEL § 176): the state refunds ``share`` of a citizen's yearly cost
    above ``threshold_dkk``."""

    threshold_dkk: float = Field(..., gt=0)
    share: float = Field(..., gt=0, le=1)


def _default_refusion() -> list[RefusionBand]:
    # 2024 level: 910,000 kr. is VIVE (2024), Styringsgennemgang af socialpsykiatrien, section 2.2.1; the two
    # upper thresholds are the 2022 values scaled by 910/860 (not confirmed), as
    # progression.economics.REFUSION_THRESHOLDS.
    return [RefusionBand(threshold_dkk=910_000, share=0.25), RefusionBand(threshold_dkk=1_780_000, share=0.50),
            RefusionBand(threshold_dkk=2_240_000, share=0.75)]


class PaymentParams(Section):
    """50_payment_models: payment models for botilbud, what each costs the municipality and what it rewards."""

    horizon_years: int = Field(10, ge=1, le=40, description="projected years")
    base_years: int = Field(3, ge=1, le=30, description="last years of the panel whose transitions, support-level "
                            "changes and entrants drive the projection")
    n_boot: int = Field(1000, ge=0, le=100_000, description="citizen-bootstrap replicates of the transitions (bands)")
    chunk_size: int = Field(250, ge=1, le=100_000, description="replicates per chunk (fixes the random streams)")
    botilbud_steps: list[str] = Field(default_factory=lambda: ["SEL107", "ABL105", "SEL108"], min_length=1,
                                      description="steps whose providers the payment models pay")
    support_cuts: list[float] = Field(default_factory=lambda: [1.0, 2.0], min_length=1,
                                      description="cut points on the VUM functioning level (mean of the domains, "
                                      "0-4) between support levels 1, 2, ...: below 1 (at most light limitations) "
                                      "level 1, 1 to 2 level 2, 2 or more (moderate or worse) level 3")
    price_year: int = Field(2024, ge=1990, le=2100, description="price year of the takster and refusion thresholds")
    tariffs: list[TariffRow] = Field(default_factory=_default_tariffs, min_length=1,
                                     description="day rates by step and support level (ILLUSTRATIVE defaults)")
    planned_occupancy: float = Field(0.95, gt=0, le=1, description="planned occupancy the takst is computed at "
                                     "(forudsat belægningsprocent); places = residents today / planned occupancy")
    capacity: dict[str, float] = Field(default_factory=dict, description="places per botilbud step in the country "
                                       "(default: residents in the last year / planned occupancy)")
    fixed_cost_share: float = Field(0.5, ge=0, le=1, description="share of the takst that is fixed costs (KKR "
                                    "Hovedstaden's deficit guarantee: 50 %)")
    guarantee_years: int = Field(3, ge=0, le=40, description="years the deficit guarantee covers vacant places")
    municipal_share: float = Field(0.8, gt=0, le=1, description="municipalities' share of the budgeted costs of "
                                   "the special places (the region pays the rest)")
    objective_key: Literal["population", "expected_use"] = Field(
        "population", description="what objective financing and collective payments are shared by: 18-66-year-olds, "
        "or each municipality's share of the botilbud residents in the last year (expected use)")
    result_base_share: float = Field(1.0, ge=0, le=1, description="base payment of result-based payment as a share "
                                     "of the average takst")
    bonus_dkk: float | None = Field(None, ge=0, description="bonus per verified progression under result-based "
                                    "payment (null: the bonus that makes progression revenue-neutral for the base)")
    verified_share: float = Field(1.0, gt=0, le=1, description="share of progression events that are verified "
                                  "(documented by a VUM reassessment) and paid")
    refusion: list[RefusionBand] = Field(default_factory=_default_refusion, min_length=1,
                                         description="bands of the central refusion scheme at the price year")
    stepdown_increase: list[float] = Field(default_factory=lambda: [0.1, 0.25], description="behaviour scenarios "
                                           "(assumptions): relative rise of step-downs and support-level falls of "
                                           "botilbud residents under result-based payment")
    municipalities: list[int] = Field(default_factory=list, description="municipalities reported beside the country "
                                      "in payment_models")
    status_quo: Literal["activity_average", "activity_differentiated"] = Field(
        "activity_differentiated", description="the model others are compared with (8 of 10 municipalities use "
        "differentiated takster for §108; VIVE 2024, section 2.1.1)")
