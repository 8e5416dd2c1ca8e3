"""The steps of notebook 45_pilot_design: tidy tables with their disclosure declaration.

Each step takes DataFrames and the ``design`` parameters and returns a table ready for
``ctx.write_result``. Tables of closed forms and simulations describe no person (they are model output
on aggregates: the ICCs, rates and municipality sizes of :func:`inputs_table`, which is itself
declared with the counts it rests on) and are declared ``safe``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from progression._tidy import stream
from progression.design import (
    Capped,
    Credibility,
    MinimumVolume,
    PilotScenario,
    Pooled,
    RateCardRule,
    admissions_bonus,
    binary_outcomes,
    cluster_mde,
    cluster_power,
    design_inputs,
    evaluate_rules,
    gls_effect_variance,
    mde_from_se,
    mde_grid,
    parallel_design,
    persons_needed,
    pilot_plan,
    power_curves,
    power_from_se,
    randomised_waves,
    resource_shift,
    simulate_pilots,
    size_profile,
    stepped_wedge_design,
    stepped_wedge_persons_needed,
    stepped_wedge_power,
    stepped_wedge_variance,
)
from progression.disclosure import declare

__all__ = ["size_factor", "inputs_table", "reference_checks", "simulation_checks", "mde_table", "curves_table",
           "plan_table", "allocation", "shift_table", "rules_table", "bonus_table", "key_numbers"]


def size_factor(params) -> float:
    """Multiplier from the data's municipality sizes to national ones: 1/scale for synthetic data."""
    if params.data.source == "synthetic":
        return 1.0 / params.data.synthetic.scale
    return 1.0


def inputs_table(person_years: pd.DataFrame, params) -> pd.DataFrame:
    """Baseline rate, trend, ICC, CAC and municipality sizes per outcome (:func:`design_inputs`).

    Examples
    --------
    >>> from progression.datasets import load_example, example_params
    >>> t = inputs_table(load_example("person_years"), example_params())
    >>> t["outcome"].tolist()
    ['psych_admission', 'employed']
    """
    p = params.design
    data = binary_outcomes(person_years, p.outcomes)
    table = design_inputs(data, p.outcomes, last_years=p.last_years)
    table.insert(table.columns.get_loc("icc") + 1, "icc_planning", table["icc"].clip(lower=p.min_icc))
    stats = {c: ("n_persons", "n_person_years") for c in ("baseline_rate", "trend_per_year", "sd", "icc",
                                                           "icc_planning", "cac",
                                                           "sigma2_between", "cluster_size_mean", "cluster_size_cv")}
    # municipalities are public units, not persons
    return declare(table, counts=["n_persons", "n_person_years"], stats=stats, safe=["n_municipalities"])


# --- published and independent comparisons of the closed forms --------------------------------

def reference_checks() -> pd.DataFrame:
    """The closed forms beside published numbers and the independent GLS computation.

    Published: the documented examples of the R package SteppedPower (Mildenberger & Marini, vignette
    *Getting Started with SteppedPower*, sections 4.2 and 5.1–5.2), whose ``glsPower`` computes the
    GLS power of the Hussey & Hughes model from the design and covariance matrices. Independent:
    :func:`~progression.design.gls_effect_variance` on Hussey & Hughes's example (24 clusters, 4 steps,
    100 persons per cluster and period, 5 % → 3.2 %, τ = 0.025), the example of the R package
    swCRTdesign's ``swPwr`` (24 clusters, 120 persons, 5 % → 3.5 %, τ = 0.01) and a 98-municipality
    stepped wedge.

    Returns
    -------
    DataFrame
        ``case, source, quantity, reference, closed_form, difference``.

    Examples
    --------
    >>> t = reference_checks()
    >>> bool((t["difference"].abs() < 5e-5).all())
    True
    """
    rows = []

    def add(case, source, quantity, reference, ours):
        rows.append({"case": case, "source": source, "quantity": quantity, "reference": float(reference),
                     "closed_form": float(ours), "difference": float(ours) - float(reference)})

    add("z test, 2 x 10 persons, effect 1.2 SD", "SteppedPower vignette 5.1", "power", 0.7652593,
        cluster_power(1.2, 10, 1, 0.0))
    add("parallel, 2 x 10 clusters x 5 periods, sigma 0.5, effect 0.25", "SteppedPower vignette 5.2", "power",
        0.7054, round(cluster_power(0.25, 10, 5, 0.0, sd=0.5), 4))
    icc = 0.2 ** 2 / (0.2 ** 2 + 0.5 ** 2)
    add("parallel, as above, tau 0.2", "SteppedPower vignette 5.2", "power", 0.4616,
        round(cluster_power(0.25, 10, 5, icc, sd=(0.2 ** 2 + 0.5 ** 2) ** 0.5), 4))
    add("stepped wedge, 3 x 3 clusters, effect 0.2 SD, tau 0", "SteppedPower vignette 4.2",
        "persons per cluster-period", 50, stepped_wedge_persons_needed(0.2, 9, 3, 0.0))
    add("stepped wedge, 3 x 3 clusters, 50 persons, effect 0.2 SD", "SteppedPower vignette 4.2", "power", 0.8074,
        round(stepped_wedge_power(0.2, 9, 3, 50, 0.0), 4))
    for case, (n, steps, m, p0, p1, tau) in {
        "Hussey & Hughes example: 24 clusters, 4 steps, 100 persons, 5% -> 3.2%, tau 0.025": (24, 4, 100, .05, .032, .025),
        "swCRTdesign swPwr example 1: 24 clusters, 4 steps, 120 persons, 5% -> 3.5%, tau 0.01": (24, 4, 120, .05, .035, .01),
        "98 municipalities, 4 steps, 60 persons, 13% -> 10%, ICC 0.01": (98, 4, 60, .13, .10, (0.01 * .115 * .885) ** .5),
    }.items():
        pbar = (p0 + p1) / 2
        sd = (pbar * (1 - pbar) + tau ** 2) ** 0.5
        rho = tau ** 2 / sd ** 2
        X = stepped_wedge_design(n, steps)
        gls = gls_effect_variance(X, m, rho, sd=sd)
        hh = stepped_wedge_variance(n, steps, m, rho, sd=sd)
        add(case, "independent GLS computation", "variance of the effect", gls, hh)
        add(case, "independent GLS computation", "power", power_from_se(p1 - p0, gls ** 0.5),
            stepped_wedge_power(p1 - p0, n, steps, m, rho, sd=sd))
    table = pd.DataFrame(rows)
    return declare(table, safe=["reference", "closed_form", "difference"])  # parameters and formulas: no person


# --- simulation against the closed forms --------------------------------------------------------

def planning_inputs(inputs: pd.DataFrame) -> pd.DataFrame:
    """The inputs with the planning ICC in the ``icc`` column (what the planner uses)."""
    return inputs.assign(icc=inputs["icc_planning"])


def simulation_checks(inputs: pd.DataFrame, person_years: pd.DataFrame, params, *, seed: int,
                      n_jobs: int = 1) -> pd.DataFrame:
    """Simulated power beside the closed form where both apply, and the staggered 98-municipality pilot.

    The effect of each scenario is the closed form's MDE at 80 % power, so the simulated power should
    be near 0.8 where the closed form applies: a one-period parallel trial (cluster means, t test), the
    stepped wedge analysed by GLS (Hussey & Hughes) and by the two-way fixed-effects DiD (its own
    closed form, :func:`gls_effect_variance` with ``estimator="twfe"``), and staggered adoption across
    the 98 municipalities with their sizes in the data, by TWFE (closed form) and Callaway–Sant'Anna
    (none).

    Returns
    -------
    DataFrame
        ``scenario, estimator, n_municipalities, effect, closed_form_power, power, power_mc_se,
        bias, empirical_se, mean_std_error, coverage, n_sims``.
    """
    p = params.design
    row = inputs.iloc[0]
    p0, rho, sd = float(row["baseline_rate"]), float(row["icc_planning"]), float(row["sd"])
    last = person_years["year"].max()
    sizes = person_years[person_years["year"] == last].groupby("municipality").size().to_numpy()
    m = int(round(sizes.mean()))
    scenarios = []
    # one-period parallel trial, 2 x 25 municipalities of m citizens
    k = 25
    effect = cluster_mde(k, m, rho, sd=sd)
    scenarios.append(("parallel, 2 x 25 municipalities, one period", parallel_design(k, 1), m, effect,
                      {"cluster_means": cluster_power(effect, k, m, rho, sd=sd)}))
    # stepped wedge, 24 municipalities, 4 steps
    X = stepped_wedge_design(24, 4)
    effect = mde_from_se(stepped_wedge_variance(24, 4, m, rho, sd=sd) ** 0.5)
    scenarios.append(("stepped wedge, 24 municipalities, 4 steps", X, m, effect,
                      {"gls": stepped_wedge_power(effect, 24, 4, m, rho, sd=sd),
                       "twfe": power_from_se(effect, gls_effect_variance(X, m, rho, sd=sd, estimator="twfe") ** 0.5,
                                             df=X.shape[0] - 1)}))
    # staggered adoption across the 98 municipalities with their sizes in the data
    n_never = int(round(p.never_share * len(sizes)))
    X = randomised_waves(len(sizes), p.n_periods - 2, p.n_periods, n_never=n_never)
    order = stream(seed, "design.allocation").permutation(len(sizes))
    staggered_sizes = sizes[order]
    var = gls_effect_variance(X, staggered_sizes[:, None], rho, sd=sd, estimator="twfe")
    effect = mde_from_se(var ** 0.5)
    scenarios.append((f"staggered adoption, {len(sizes)} municipalities, data sizes", X, staggered_sizes, effect,
                      {"twfe": power_from_se(effect, var ** 0.5, df=X.shape[0] - 1), "callaway_santanna": np.nan}))
    rows = []
    for label, X, sizes_, effect, estimators in scenarios:
        scenario = PilotScenario(X, cluster_sizes=sizes_, baseline_rate=p0, icc=rho, effect=effect)
        for estimator, closed in estimators.items():
            sim = simulate_pilots(scenario, n_sims=p.n_sims, estimator=estimator, seed=seed, n_jobs=n_jobs,
                                  name=f"design.check.{label}.{estimator}")
            s = sim.summary().iloc[0]
            rows.append({"scenario": label, "estimator": estimator, "n_municipalities": X.shape[0],
                         "effect": effect, "closed_form_power": closed, **{c: s[c] for c in (
                             "power", "power_mc_se", "bias", "empirical_se", "mean_std_error", "coverage", "n_sims")}})
    table = pd.DataFrame(rows)
    # simulation output on disclosed aggregates (rate, ICC, municipality sizes): describes no person
    return declare(table, safe=[c for c in table.columns if c not in ("scenario", "estimator")])


# --- the planner ----------------------------------------------------------------------------

def mde_table(inputs: pd.DataFrame, params) -> pd.DataFrame:
    """MDE per outcome, design and pilot size at national municipality sizes (:func:`mde_grid`)."""
    p = params.design
    table = mde_grid(planning_inputs(inputs), n_municipalities=p.n_municipalities, n_periods=p.n_periods,
                     size_factor=size_factor(params), never_share=p.never_share, power=p.power)
    return declare(table, safe=["n_municipalities", "cluster_size", "baseline_rate", "mde", "mde_relative"])  # model output


def curves_table(inputs: pd.DataFrame, params) -> pd.DataFrame:
    """Power curves per outcome and design (:func:`power_curves`)."""
    p = params.design
    table = power_curves(planning_inputs(inputs), n_municipalities=p.curve_municipalities, n_periods=p.n_periods,
                         size_factor=size_factor(params), never_share=p.never_share)
    return declare(table, safe=["n_municipalities", "relative_effect", "effect", "power"])  # model output


def plan_table(inputs: pd.DataFrame, params, *, size: str = "national") -> pd.DataFrame:
    """Models × projects: what each arm can detect and needs (:func:`pilot_plan`), at national sizes
    (``size="national"``) or at the data's (``"data"``)."""
    p = params.design
    factor = size_factor(params) if size == "national" else 1.0
    table = pilot_plan(planning_inputs(inputs), n_models=p.n_models, n_projects=p.n_projects, relative_effect=p.relative_effect,
                       size_factor=factor, power=p.power).assign(sizes=size)
    return declare(table, safe=[c for c in table.columns if c not in ("outcome", "level", "sizes")])  # model output


def allocation(n_municipalities: int, params, *, seed: int) -> np.ndarray:
    """The staggered pilot's treatment matrix with its municipalities in a random order (named stream
    ``design.allocation``): row r of the result belongs to the r-th municipality in code order."""
    p = params.design
    X = randomised_waves(n_municipalities, p.n_periods - 2, p.n_periods,
                         n_never=int(round(p.never_share * n_municipalities)))
    order = stream(seed, "design.allocation").permutation(n_municipalities)
    out = np.empty_like(X)
    out[order] = X
    return out


def shift_table(person_years: pd.DataFrame, municipality_years: pd.DataFrame, params, *, seed: int) -> pd.DataFrame:
    """Resources the staggered pilot shifts between municipalities, by year and running / not running."""
    last = person_years["year"].max()
    pop_year = min(last, municipality_years["year"].max())
    pop = (municipality_years[municipality_years["year"] == pop_year].set_index("municipality")["pop_18_66"]
           .sort_index().astype(float))
    citizens = person_years[person_years["year"] == last].groupby("municipality").size()
    X = allocation(len(pop), params, seed=seed)
    table = resource_shift(pop, citizens, X, budget_dkk=params.design.pilot_budget_dkk)
    stats = {c: "n_persons" for c in ("net_dkk", "net_dkk_per_inhabitant", "shifted_dkk")}
    # municipalities and their populations are public figures; citizens of the target group are counted
    return declare(table, counts=["n_persons"], stats=stats, safe=["n_municipalities", "population"],
                   labels=["period"])


# --- payment rules and the bonus ----------------------------------------------------------------

def rules_table(inputs: pd.DataFrame, params, *, seed: int, n_jobs: int = 1) -> pd.DataFrame:
    """Payment rules for small volumes under the target effect and under no effect (:func:`evaluate_rules`).

    Contracts: one per municipality with the data's spread of sizes around the mean national
    municipality size divided by the number of projects (a project's participants in one municipality
    and year); pools: the projects. The contracts' true rates vary around the counterfactual with the
    planning ICC; the credibility weight assumes a prior spread of true rates of that variance plus the
    target effect squared (Bühlmann's τ²).
    """
    p = params.design
    row = inputs.iloc[0]
    r = float(row["baseline_rate"])
    effect = p.relative_effect * r
    between = float(row["icc_planning"]) * r * (1 - r)
    tau2 = between + effect ** 2
    n_mun = int(row["n_municipalities"])
    mean = row["cluster_size_mean"] * size_factor(params) / p.n_projects
    sizes = np.maximum(1, np.round(size_profile(mean, row["cluster_size_cv"], n_mun))).astype(int)
    groups = np.arange(n_mun) % p.n_projects
    expected = p.price_per_outcome_dkk * effect * sizes.sum()
    rules = {
        "rate card": RateCardRule(),
        f"minimum {p.min_participants} citizens": MinimumVolume(p.min_participants),
        "pooled by project": Pooled(),
        "credibility-weighted": Credibility(tau2),
        "pooled + credibility": Pooled(Credibility(tau2)),
        "capped at expected payment": Capped(p.contract_cap_share * expected),
    }
    table = evaluate_rules(rules, sizes, baseline_rate=r, effect=effect, price=p.price_per_outcome_dkk,
                           gain_per_outcome=p.gain_per_outcome_dkk, between_variance=between, groups=groups,
                           n_draws=p.n_rule_draws, seed=seed, n_jobs=n_jobs).assign(outcome=row["outcome"])
    table["median_contract_size"] = float(np.median(sizes))
    safe = [c for c in table.columns if c not in ("rule", "scenario", "outcome")]
    return declare(table, safe=safe)  # simulated contracts around disclosed aggregates: no person


def bonus_table(municipality_years: pd.DataFrame, params, *, seed: int) -> pd.DataFrame:
    """The capped bonus for fewer preventable admissions per 1,000 citizens: with and without a true
    fall, paying any fall or only a significant one (:func:`admissions_bonus`)."""
    p = params.design
    year = municipality_years["year"].max()
    pop = municipality_years[municipality_years["year"] == year].sort_values("municipality")["pop_total"]
    rows = []
    for change in (0.0, p.bonus_true_change):
        for z in (0.0, 1.96):
            rows.append(admissions_bonus(pop.to_numpy(dtype=float), rate_per_1000=p.bonus_rate_per_1000,
                                         price_per_admission=p.bonus_price_dkk, yearly_cap=p.bonus_cap_dkk,
                                         true_change=change, min_fall_z=z, n_draws=500, seed=seed,
                                         name=f"design.bonus.{change}.{z}"))
    table = pd.concat(rows, ignore_index=True)
    return declare(table, safe=list(table.columns))  # public populations and parameters: no person


def key_numbers(inputs: pd.DataFrame, plan: pd.DataFrame, rules: pd.DataFrame) -> dict:
    """Headline numbers for the report text."""
    first = plan[plan["outcome"] == inputs["outcome"].iloc[0]].set_index("level")
    nul = rules[rules["scenario"] == "no_effect"].set_index("rule")
    eff = rules[rules["scenario"] == "effect"].set_index("rule")
    numbers = {
        "project_mde_relative": float(first.loc["project", "mde_relative"]),
        "model_mde_relative": float(first.loc["model", "mde_relative"]),
        "needed_per_arm_project": float(first.loc["project", "municipalities_needed_per_arm"]),
        "p_paying_null_rate_card": float(nul.loc["rate card", "p_paying"]),
        "p_paying_null_credibility": float(nul.loc["pooled + credibility", "p_paying"]),
        "p_neutral_rate_card": float(eff.loc["rate card", "p_budget_neutral"]),
        "p_neutral_credibility": float(eff.loc["pooled + credibility", "p_budget_neutral"]),
    }
    return declare(numbers, safe=list(numbers))  # model output
