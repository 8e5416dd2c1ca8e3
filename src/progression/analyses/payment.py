"""The steps of notebook 50_payment_models: tidy tables with their disclosure declaration.

Each step takes DataFrames and the parameters and returns a table ready for ``ctx.write_result``.
:func:`prepare` gathers the inputs once from the run's person-level tables (the yearly panel, the VUM
assessments, the persons and the municipality-years); :func:`simulation` projects and pays.

Money columns of the projections are model output on aggregates (today's citizens per municipality and
state, the transition and support-level matrices, the tariff parameters); they are declared as
statistics resting on the citizens they start from (``n_persons``), so an area with too few citizens is
suppressed. Parameter columns (takster, shares) are declared safe.

The step transitions are the model of notebook 20 (a discrete-time matrix over the last years with a
citizen bootstrap), fitted here on the run's yearly panel through :func:`fit_transitions`, the one place
this module calls :mod:`progression.transitions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from progression.constants import DAYS_PER_YEAR
from progression.disclosure import declare, dominance_share
from progression.exceptions import DataContractError, StatisticalWarning
from progression.payment import (
    ITEMS,
    MODELS,
    PaymentInputs,
    PaymentRules,
    PaymentSimulation,
    StateSpace,
    StateTariffs,
    average_tariffs,
    exposure_factors,
    group_tariffs,
    joint_matrix,
    level_mix,
    path_occupancy,
    payments,
    project,
    resource_homogeneity,
    stock_and_inflow,
    support_levels,
    support_matrices,
    support_transitions,
    tariff_table,
)
from progression.panel import build_panel
from progression.staircase import as_staircase

__all__ = ["fit_transitions", "Prepared", "prepare", "simulation", "inputs_table", "support_table",
           "group_tariff_table", "homogeneity_table", "models_table", "penalty_table", "scenario_table",
           "municipality_table", "paths_table", "reference_checks", "conservation_table", "projection_check",
           "truth_backtest"]


# --- the transition model of notebook 20 --------------------------------------------------------

def fit_transitions(panel: pd.DataFrame, *, n_boot: int, seed: int,
                    staircase) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The yearly step transition matrix and its citizen-bootstrap replicates (notebook 20's model).

    The one call of :mod:`progression.transitions` in this module: adapt it here when that API changes.

    Returns
    -------
    (DataFrame, ndarray or None)
        P (rows = steps, columns = steps and exits) and, with ``n_boot > 0``, replicates (n_boot, S, S + 3).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> P, reps = fit_transitions(load_example("panel_year"), n_boot=0, seed=0, staircase=None)
    >>> P.shape, reps is None, bool(abs(P.sum(axis=1) - 1).max() < 1e-12)
    ((6, 9), True, True)
    """
    from progression.transitions import TransitionMatrix

    tm = TransitionMatrix(n_boot=n_boot, seed=seed, staircase=staircase).fit(panel)
    return tm.matrix(), (tm.replicates() if n_boot else None)


def _draw(panel: pd.DataFrame, staircase, size: int, seed: int) -> np.ndarray:
    """``size`` bootstrap replicates of P on the random stream ``seed`` (one chunk of the simulation).

    A chunk's own percentile intervals are never used (the simulation pools every chunk's replicates and
    warns itself when there are too few), so the transition model's warning about a small ``n_boot`` is
    not repeated per chunk.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="n_boot=", category=StatisticalWarning)
        return fit_transitions(panel, n_boot=size, seed=seed, staircase=staircase)[1]


# --- inputs -----------------------------------------------------------------------------------

@dataclass
class Prepared:
    """The inputs of the simulation (person-level parts never leave the run)."""

    space: StateSpace
    tariffs: pd.DataFrame
    levels: pd.DataFrame
    mix: pd.DataFrame
    moves: pd.DataFrame
    support: np.ndarray
    entry: np.ndarray
    paths: dict
    average: pd.Series
    group: pd.DataFrame
    group_mix: pd.DataFrame
    residents: pd.DataFrame
    state_tariffs: StateTariffs
    capacity: np.ndarray
    key: np.ndarray
    municipalities: tuple[int, ...]
    year: int
    base: pd.DataFrame
    transition: pd.DataFrame
    n_entrants: pd.Series
    exposure: pd.DataFrame
    state_exposure: np.ndarray


def _years(panel: pd.DataFrame) -> np.ndarray:
    return pd.to_datetime(panel["period"]).dt.year.to_numpy()


def prepare(panel: pd.DataFrame, spells: pd.DataFrame, assessments: pd.DataFrame, persons: pd.DataFrame,
            municipality_years: pd.DataFrame, params, *, year: int | None = None) -> Prepared:
    """Gather the simulation's inputs from the run's tables.

    * The step transitions: notebook 20's model on the yearly panel's last ``payment.base_years`` years up
      to ``year`` (default: the panel's last year), where a move to another municipality censors.
    * Today's citizens and the inflow: a yearly panel of the same years built from the spells *without*
      censoring at a move (:func:`progression.panel.build_panel` with no moves), so that citizens who once
      moved are counted where they now are; the stock is the citizens of ``year`` by their acting
      municipality, the inflow the citizens new in the years after the first.
    * Support levels: the VUM assessments (:func:`progression.recovery.score`: the mean functioning level of
      the domains, cut at ``payment.support_cuts``), in the same panel; a citizen of today's stock has the
      level of the last assessment in the base years (none before them counts).

    Examples
    --------
    >>> from progression.datasets import load_example, example_params
    >>> prep = prepare(load_example("panel_year"), load_example("spells"), load_example("assessments"),
    ...                load_example("persons"), load_example("municipality_years"), example_params())
    >>> prep.year, prep.space.n_states, len(prep.municipalities), prep.support.shape
    (2024, 19, 98, (5, 3, 3))
    """
    from progression.recovery import score

    p = params.payment
    stairs = as_staircase(params.staircase)
    space = StateSpace.from_staircase(stairs, n_levels=len(p.support_cuts) + 1, botilbud=p.botilbud_steps)
    tariffs = tariff_table(p.tariffs, staircase=stairs, n_levels=space.n_levels)
    panel_years = _years(panel)
    year = int(year if year is not None else panel_years.max())
    first = year - p.base_years
    base = panel[(panel_years >= first) & (panel_years <= year)]
    if base.empty or (panel_years < year).sum() == 0:
        raise DataContractError(f"panel: no years {first}-{year} to fit the transitions on; years present: "
                                f"{sorted(set(panel_years.tolist()))}")
    levels = support_levels(score(assessments, "VUM"), cuts=p.support_cuts)
    years = range(first, year + 1)
    national = build_panel(spells, persons, None, start=first, end=year, period="year", staircase=stairs)
    mix = level_mix(levels, national, years=years, staircase=stairs)
    moves = support_transitions(levels, national, years=years, staircase=stairs)
    support, entry = support_matrices(moves, mix, space)
    municipalities = tuple(int(m) for m in sorted(municipality_years["municipality"].unique()))
    inflow_years = range(first + 1, year + 1)
    recent = levels[(levels["year"] >= first) & (levels["year"] <= year)]  # a level assessed in the base years
    paths = stock_and_inflow(national, recent, entry, space, year=year, inflow_years=inflow_years,
                             municipalities=municipalities)
    stock = paths["stock"].sum(axis=0)
    today = pd.DataFrame([(space.steps[space.step_index[k]], int(space.level[k]), stock[k])
                          for k in np.flatnonzero(space.service_mask)], columns=["step", "support_level", "n_persons"])
    average = average_tariffs(tariffs, today)
    target = persons[["person_id", "target_group"]]
    residents = paths["persons"].merge(target, on="person_id", how="left")
    residents = residents[residents["step"].isin(space.botilbud) & (residents["support_level"] > 0)]
    group_mix = residents.groupby(["step", "support_level", "target_group"]).size().rename("n_persons").reset_index()
    group = group_tariffs(tariffs, group_mix, by=("support_level", "target_group"))
    state_tariffs = StateTariffs.from_tables(tariffs, space, average=average, group=group, group_mix=group_mix)
    exposure = exposure_factors(spells, national, years=years, staircase=stairs)
    factor = exposure.set_index("step")["exposure"]
    state_exposure = np.asarray([float(factor.get(space.steps[i], 1.0)) if space.service_mask[k] else 1.0
                                 for k, i in enumerate(space.step_index)])
    on_step = paths["stock"] @ space.membership  # (M, S_b) citizens
    full_year = (paths["stock"] * state_exposure) @ space.membership  # full-year equivalents
    capacity = np.asarray([float(p.capacity.get(s, full_year[:, j].sum() / p.planned_occupancy))
                           for j, s in enumerate(space.botilbud)])
    if p.objective_key == "population":
        last = municipality_years[municipality_years["year"] == municipality_years["year"].max()]
        weight = last.set_index("municipality")["pop_18_66"].reindex(municipalities).to_numpy(dtype=float)
    else:
        weight = on_step.sum(axis=1)
    key = weight / weight.sum()
    transition, _ = fit_transitions(base, n_boot=0, seed=0, staircase=stairs)
    starts = national.sort_values(["person_id", "period"]).groupby("person_id").head(1)
    n_entrants = starts[_years(starts) > first]["step"].astype(str).value_counts()
    return Prepared(space=space, tariffs=tariffs, levels=levels, mix=mix, moves=moves, support=support, entry=entry,
                    paths=paths, average=average, group=group, group_mix=group_mix, residents=residents,
                    state_tariffs=state_tariffs, capacity=capacity, key=key, municipalities=municipalities,
                    year=year, base=base, transition=transition, n_entrants=n_entrants, exposure=exposure,
                    state_exposure=state_exposure)


def simulation(prep: Prepared, params, *, seed: int = 0, n_jobs: int = 1, n_boot: int | None = None,
               areas=None) -> PaymentSimulation:
    """Project and pay: :class:`~progression.payment.PaymentSimulation` on the prepared inputs.

    Bootstrap replicates are refitted per chunk from the base years' panel (:func:`fit_transitions` with
    ``n_boot = chunk size`` and the chunk's named stream ``payment.bootstrap.<c>`` of ``seed``).

    Examples
    --------
    >>> from progression.datasets import load_example, example_params
    >>> params = example_params()
    >>> prep = prepare(load_example("panel_year"), load_example("spells"), load_example("assessments"),
    ...                load_example("persons"), load_example("municipality_years"), params)
    >>> sim = simulation(prep, params, n_boot=0)
    >>> pen = penalty_table(sim)
    >>> row = pen[(pen["model"] == "objective") & (pen["event"] == "any") & (pen["quantity"] == "neutral_bonus")]
    >>> float(row["estimate"].iloc[0]), sim.years_[0], sim.years_[-1]
    (0.0, 2025, 2034)
    """
    p = params.payment
    inputs = PaymentInputs(space=prep.space, tariffs=prep.state_tariffs, support=prep.support, entry=prep.entry,
                           stock=prep.paths["stock"], inflow=prep.paths["inflow"], capacity=prep.capacity,
                           key=prep.key, municipalities=prep.municipalities, start_year=prep.year,
                           n_persons=prep.paths["n_persons"], exposure=prep.state_exposure)
    sim = PaymentSimulation(rules=PaymentRules.from_params(p), years=p.horizon_years,
                            n_boot=p.n_boot if n_boot is None else n_boot, seed=seed,
                            stepdown_increase=p.stepdown_increase, chunk_size=p.chunk_size, n_jobs=n_jobs,
                            status_quo=p.status_quo)
    draw = partial(_draw, prep.base, prep.space.staircase)
    return sim.fit(inputs, prep.transition, draw=draw, areas=p.municipalities if areas is None else areas)


# --- tables of the inputs -----------------------------------------------------------------------

def inputs_table(prep: Prepared) -> pd.DataFrame:
    """Per service step and support level: the takst, today's citizens and the yearly inflow.

    ``citizens`` and ``inflow_per_year`` are expected numbers (citizens never assessed are spread over the
    levels by the step's mix); they rest on the step's citizens today (``n_persons``) and entrants in the
    base years (``n_entrants``). ``average_takst_dkk`` is the step's average takst (botilbud steps),
    ``exposure`` the share of a panel year a citizen on the step spends on it (full-year equivalents).

    Examples
    --------
    >>> from progression.datasets import load_example, example_params
    >>> prep = prepare(load_example("panel_year"), load_example("spells"), load_example("assessments"),
    ...                load_example("persons"), load_example("municipality_years"), example_params())
    >>> t = inputs_table(prep)
    >>> len(t), list(t.columns[:3])
    (15, ['step', 'support_level', 'takst_dkk'])
    """
    space = prep.space
    stock, inflow = prep.paths["stock"].sum(axis=0), prep.paths["inflow"].sum(axis=0)
    on_step = prep.paths["persons"].groupby("step").size()
    factor = prep.exposure.set_index("step")["exposure"]
    rows = []
    for k in np.flatnonzero(space.service_mask):
        step, level = space.steps[space.step_index[k]], int(space.level[k])
        rate = prep.tariffs.set_index(["step", "support_level"]).loc[(step, level), "takst_dkk"]
        rows.append({"step": step, "support_level": level, "takst_dkk": float(rate),
                     "average_takst_dkk": float(prep.average[step]) if step in space.botilbud else np.nan,
                     "botilbud": step in space.botilbud, "exposure": float(factor.get(step, np.nan)),
                     "citizens": float(stock[k]),
                     "n_persons": float(on_step.get(step, 0)), "inflow_per_year": float(inflow[k]),
                     "n_entrants": float(prep.n_entrants.get(step, 0))})
    table = pd.DataFrame(rows)
    # takster are parameters (illustrative defaults or the user's own); the average takst rests on the mix
    return declare(table, counts=["n_persons", "n_entrants"], safe=["takst_dkk"], labels=["support_level"],
                   stats={"citizens": "n_persons", "average_takst_dkk": "n_persons", "exposure": "n_persons",
                          "inflow_per_year": "n_entrants"})


def support_table(prep: Prepared) -> pd.DataFrame:
    """The support-level chain: yearly moves between support levels of citizens staying on a step.

    Columns: ``step``, ``from_level``, ``to_level``, ``n`` (pairs of consecutive years), ``n_from``, ``share``
    (n / n_from), ``prob`` (the matrix used: the step's own share, or the pooled share of all service steps
    where the step has fewer than 20 pairs from the level), ``arrival_share`` (the mix of levels on the step,
    used for arrivals), ``n_persons``.
    """
    space, L = prep.space, prep.space.n_levels
    moves = prep.moves.set_index(["step", "from_level", "to_level"])
    n_from = prep.moves.groupby(["step", "from_level"])["n"].sum()
    rows = []
    for i, step in enumerate(space.service):
        for f in range(1, L + 1):
            for t in range(1, L + 1):
                n = float(moves["n"].get((step, f, t), 0.0))
                total = float(n_from.get((step, f), 0.0))
                rows.append({"step": step, "from_level": f, "to_level": t, "n": n, "n_from": total,
                             "share": n / total if total > 0 else np.nan, "prob": float(prep.support[i, f - 1, t - 1]),
                             "arrival_share": float(prep.entry[i, t - 1]),
                             "n_persons": float(moves["n_persons"].get((step, f, t), 0.0))})
    table = pd.DataFrame(rows)
    table["n_step"] = table.groupby("step")["n"].transform("sum")
    return declare(table, counts=["n", "n_from", "n_persons", "n_step"], labels=["from_level", "to_level"],
                   stats={"share": ["n", "n_from"], "prob": "n_from", "arrival_share": "n_step"},
                   margins={"n": ["step", "from_level"]})


def group_tariff_table(prep: Prepared) -> pd.DataFrame:
    """The DRG-inspired group tariffs: the mean day rate of today's botilbud residents per support level and
    target group, with the residents per group (VIVE's volume condition)."""
    table = prep.group.copy()
    table["yearly_dkk"] = table["takst_dkk"] * DAYS_PER_YEAR
    return declare(table, counts=["n_persons"], labels=["support_level"],
                   stats={"takst_dkk": "n_persons", "yearly_dkk": "n_persons"})


def homogeneity_table(prep: Prepared, person_year_costs: pd.DataFrame | None = None) -> pd.DataFrame:
    """How much of the variance of the yearly cost per botilbud resident each grouping explains.

    Two cost bases: the tariff table (each resident's differentiated takst a year: step and support level
    explain everything) and, when given, the register (``person_year_costs``: the gross yearly cost of
    the botilbud services in today's year, municipality and state together). Groupings: support level,
    target group, support level × target group (the group tariff's groups), step, step × support level.
    """
    residents = prep.residents.copy()
    rates = prep.tariffs.set_index(["step", "support_level"])["yearly_dkk"]
    residents["tariff_dkk"] = [rates[(s, lvl)] for s, lvl in zip(residents["step"], residents["support_level"])]
    groupings = {"support level": ["support_level"], "target group": ["target_group"],
                 "support level x target group": ["support_level", "target_group"], "step": ["step"],
                 "step x support level": ["step", "support_level"]}
    frames = [resource_homogeneity(residents, groupings, cost_col="tariff_dkk").assign(basis="tariff table")]
    if person_year_costs is not None:
        paragraphs = [par for par, step in prep.space.staircase.paragraphs.items() if step in prep.space.botilbud]
        costs = person_year_costs[(person_year_costs["year"] == prep.year)
                                  & person_year_costs["service"].isin(paragraphs)]
        cost = costs.groupby("person_id")["cost_dkk"].sum().rename("register_dkk")
        joined = residents.merge(cost, left_on="person_id", right_index=True, how="inner")
        if len(joined) > 1:
            frames.append(resource_homogeneity(joined, groupings, cost_col="register_dkk").assign(basis="register"))
    table = pd.concat(frames, ignore_index=True)[["basis", "grouping", "n_persons", "groups", "smallest_group", "r2"]]
    # groups counts categories, not persons; R² is a ratio of sums of squares over all the residents (a small
    # group's own mean is what the group tariff table shows, and suppresses)
    return declare(table, counts=["n_persons", "smallest_group"], safe=["groups"], stats={"r2": "n_persons"})


# --- tables of the simulation ------------------------------------------------------------------

_INTERVAL = ("estimate", "std_error", "conf_low", "conf_high")


def _area_persons(sim: PaymentSimulation, area: str) -> float:
    n = sim.inputs_.n_persons
    if area == "national":
        return float(np.sum(n))
    return float(n[sim.inputs_.municipalities.index(int(area))])


def models_table(sim: PaymentSimulation) -> pd.DataFrame:
    """``payment_models``: every model's payments by payer and year, and over the horizon (``year = total``).

    Columns: ``area``, ``model``, ``payer`` (kommune, stat, region, provider), ``item`` (gross_cost,
    net_cost, refusion, cost, revenue, margin, other_services, bonus, collective), ``year``, ``n_persons``
    (citizens on a service step today in the area), ``estimate``, ``std_error``, ``conf_low``, ``conf_high``
    (DKK at the price year; bands from the transition bootstrap).
    """
    table = sim.summary()
    table.insert(5, "n_persons", [_area_persons(sim, a) for a in table["area"]])
    return declare(table, counts=["n_persons"], stats={c: "n_persons" for c in _INTERVAL})


def _national_persons(sim: PaymentSimulation, botilbud: bool = True) -> float:
    stock = sim.inputs_.stock.sum(axis=0)
    mask = sim.inputs_.space.botilbud_mask if botilbud else sim.inputs_.space.service_mask
    return float(np.round(stock[mask].sum()))


def penalty_table(sim: PaymentSimulation) -> pd.DataFrame:
    """``payment_progression_penalty``: per model and event type, the revenue providers lose per progression
    event and in total, and the neutral bonus (see :meth:`~progression.payment.PaymentSimulation.penalty`).
    ``n_persons`` is today's botilbud residents."""
    table = sim.penalty()
    table.insert(3, "n_persons", _national_persons(sim))
    return declare(table, counts=["n_persons"], stats={c: "n_persons" for c in _INTERVAL})


def scenario_table(sim: PaymentSimulation) -> pd.DataFrame:
    """The behaviour scenarios under result-based payment (assumptions; see
    :meth:`~progression.payment.PaymentSimulation.scenarios`)."""
    table = sim.scenarios()
    table.insert(3, "n_persons", _national_persons(sim))
    # the increase is an assumption (a parameter)
    return declare(table, counts=["n_persons"], safe=["increase"], stats={c: "n_persons" for c in _INTERVAL})


def municipality_table(sim: PaymentSimulation) -> pd.DataFrame:
    """Each municipality's net cost over the horizon per model and against the status quo; suppressed where
    fewer citizens than the minimum cell size are on a service step today."""
    table = sim.municipalities()
    return declare(table, counts=["n_persons"], labels=["municipality"], stats={c: "n_persons" for c in _INTERVAL})


def paths_table(sim: PaymentSimulation) -> pd.DataFrame:
    """Projected citizens per step and year (the baseline paths, year 0 = today), resting on today's citizens
    on the step."""
    table = sim.paths()
    today = table[table["year"] == table["year"].min()].set_index("step")["estimate"]
    table.insert(2, "n_persons", table["step"].map(today).round())
    return declare(table, counts=["n_persons"], labels=["year"], stats={c: "n_persons" for c in _INTERVAL})


# --- checks: by hand, published numbers, identities, an independent projection ---------------

def _hand_checks(params) -> list[dict]:
    """One citizen's path under each model, against the formulas written out by hand."""
    p = params.payment
    stairs = as_staircase(params.staircase)
    space = StateSpace.from_staircase(stairs, n_levels=len(p.support_cuts) + 1, botilbud=p.botilbud_steps)
    tariffs = tariff_table(p.tariffs, staircase=stairs, n_levels=space.n_levels)
    rate = tariffs.set_index(["step", "support_level"])["takst_dkk"]
    top = space.botilbud[-1]
    mix = pd.DataFrame({"step": [top] * space.n_levels, "support_level": range(1, space.n_levels + 1),
                        "n_persons": [1.0] * space.n_levels})
    average = average_tariffs(tariffs, mix)
    st = StateTariffs.from_tables(tariffs, space, average=average)
    L = space.n_levels
    path = [(top, L), (top, L - 1), ("SEL85", 1)]  # a resident needs less support, then steps down to § 85
    x, ev = path_occupancy(path, space)
    rules = PaymentRules(planned_occupancy=1.0, fixed_cost_share=p.fixed_cost_share, guarantee_years=3,
                         municipal_share=p.municipal_share, result_base_share=p.result_base_share,
                         bonus_dkk=100_000.0, verified_share=1.0, price_year=p.price_year)
    capacity = np.zeros(len(space.botilbud))
    capacity[-1] = 1.0
    out = payments(x, ev, space=space, tariffs=st, rules=rules, capacity=capacity, key=np.ones(1))
    D, d_bar = DAYS_PER_YEAR, float(average[top])
    d_hi, d_mid, d85 = (float(rate[(top, L)]), float(rate[(top, L - 1)]), float(rate[("SEL85", 1)]))
    gross = {
        "activity_average": [d_bar * D, d_bar * D, d85 * D],
        "activity_differentiated": [d_hi * D, d_mid * D, d85 * D],
        "result_based": [p.result_base_share * d_bar * D, p.result_base_share * d_bar * D + 100_000,
                         100_000 + d85 * D],
        "objective": [d_bar * D, d_bar * D, d_bar * D + d85 * D],
        "special_places_80_20": [p.municipal_share * d_bar * D] * 2 + [p.municipal_share * d_bar * D + d85 * D],
        "deficit_guarantee": [d_hi * D, d_mid * D, p.fixed_cost_share * d_bar * D + d85 * D],
    }
    i = ITEMS.index("kommune_gross")
    rows = []
    for model, values in gross.items():
        for t, value in enumerate(values, start=1):
            rows.append({"case": f"one citizen: {top} level {L}, {top} level {L - 1}, SEL85 level 1; year {t}",
                         "source": "by hand", "quantity": f"{model}: municipal gross payment",
                         "reference": value, "computed": float(out[model]["area"][i, t - 1])})
    return rows


def reference_checks(params) -> pd.DataFrame:
    """The payment rules against hand computations and the published numbers of the schemes.

    * One citizen's path (level 3 → level 2 on the top botilbud step → § 85) under each model, written out
      by hand.
    * The special places (VIVE (2024), section 3.1.2): 150 places, running costs of 285 mio. kr. a year, 80 %
      paid by the municipalities, 20 % by the regions, so 228 and 57 mio. kr.
    * KKR Hovedstaden's deficit guarantee (VIVE (2024), section 2.1.2, note 14): fixed costs at 50 % of the
      takst of a vacant place, for 3 years.
    * The central refusion scheme (VIVE (2024), section 2.2.1): nothing below 910,000 kr. a year (2024),
      25 % of the part above (the percentage of the lowest band, SEL § 176).

    Returns
    -------
    DataFrame
        ``case``, ``source``, ``quantity``, ``reference``, ``computed``, ``difference``.

    Examples
    --------
    >>> from progression.datasets import example_params
    >>> t = reference_checks(example_params())
    >>> bool((t["difference"].abs() < 1e-6 * t["reference"].abs().clip(lower=1)).all())
    True
    """
    p = params.payment
    rows = _hand_checks(params)
    # the special places: one step of 150 places at a yearly cost of 285 mio. kr., fully used
    space = StateSpace.from_staircase(n_levels=1, botilbud=["SEL108"])
    rate_per_day = 285e6 / 150 / DAYS_PER_YEAR
    tariffs = tariff_table([{"step": s, "support_level": 1, "takst_dkk": rate_per_day} for s in space.service])
    avg = pd.Series({s: rate_per_day for s in space.service})
    st = StateTariffs.from_tables(tariffs, space, average=avg)
    rules = PaymentRules(planned_occupancy=1.0, municipal_share=0.8, fixed_cost_share=0.5, guarantee_years=3,
                         price_year=p.price_year)
    for used in (150, 90):
        x = np.zeros((1, 4, space.n_states))
        x[0, :, space.state("SEL108", 1)] = used
        out = payments(x, np.zeros((1, 4)), space=space, tariffs=st, rules=rules, capacity=np.array([150.0]),
                       key=np.ones(1), models=["special_places_80_20", "deficit_guarantee"])
        sp = out["special_places_80_20"]["area"][:, 0]
        case = f"special places: 150 places, 285 mio. kr. a year, {used} used"
        rows += [{"case": case, "source": "VIVE (2024), section 3.1.2", "quantity": "municipalities (80 %)",
                  "reference": 228e6, "computed": float(sp[ITEMS.index("kommune_gross")])},
                 {"case": case, "source": "VIVE (2024), section 3.1.2", "quantity": "regions (20 %)",
                  "reference": 57e6, "computed": float(sp[ITEMS.index("region")])}]
        g = out["deficit_guarantee"]["area"][ITEMS.index("collective")]
        rows += [{"case": f"deficit guarantee: 150 places at 1.9 mio. kr. a year, {used} used, year {t}",
                  "source": "VIVE (2024), section 2.1.2, note 14",
                  "quantity": "guarantee (50 % of the takst of vacant places, 3 years)",
                  "reference": 0.5 * 1.9e6 * (150 - used) * (t <= 3), "computed": float(g[t - 1])}
                 for t in (1, 3, 4)]
    rules = PaymentRules.from_params(p)
    for cost, expected in ((900_000.0, 0.0), (1_000_000.0, 0.25 * 90_000)):
        rows.append({"case": f"refusion of a yearly cost of {cost:,.0f} kr.", "source": "VIVE (2024), section 2.2.1",
                     "quantity": "state refusion", "reference": expected, "computed": float(rules.refund([cost])[0])})
    table = pd.DataFrame(rows)
    table["difference"] = table["computed"] - table["reference"]
    return declare(table, safe=["reference", "computed", "difference"])  # formulas and parameters: no person


def conservation_table(sim: PaymentSimulation) -> pd.DataFrame:
    """The accounting identities over the horizon, per model (point estimates): municipal gross payments +
    region − provider revenue − places bought beyond capacity − other services = 0; gross − refusion − net = 0,
    each computed from the payers' and from the providers' side."""
    nat = sim.point_["national"][0, sim.variants_.index("baseline")].sum(axis=-1)  # (models, items)
    g, r, n, reg, rev, bey, oth = (ITEMS.index(i) for i in ("kommune_gross", "stat_refusion", "kommune_net", "region",
                                                            "provider_revenue", "beyond_capacity", "other_services"))
    rows = [{"model": m, "paid_by_public": float(nat[i, g] + nat[i, reg]),
             "received_by_providers": float(nat[i, rev] + nat[i, bey] + nat[i, oth]),
             "difference": float(nat[i, g] + nat[i, reg] - nat[i, rev] - nat[i, bey] - nat[i, oth]),
             "net_identity": float(nat[i, g] - nat[i, r] - nat[i, n])} for i, m in enumerate(sim.models)]
    table = pd.DataFrame(rows)
    table.insert(1, "n_persons", _national_persons(sim, botilbud=False))
    return declare(table, counts=["n_persons"],
                   stats={c: "n_persons" for c in ("paid_by_public", "received_by_providers", "difference",
                                                   "net_identity")})


def projection_check(prep: Prepared, params) -> pd.DataFrame:
    """Citizens per step: the paths' step margins beside :func:`progression.transitions.projection.project_occupancy`
    (an independent computation on the steps alone), for the whole country, year by year.
    """
    from progression.transitions.projection import project_occupancy

    space, years = prep.space, params.payment.horizon_years
    J = joint_matrix(prep.transition, prep.support, prep.entry, space)
    X = project(prep.paths["stock"].sum(axis=0, keepdims=True), J, prep.paths["inflow"].sum(axis=0, keepdims=True),
                years=years)[0]
    stock = X[0]
    P = prep.transition.copy()
    for s in space.steps:  # moves between municipalities stay in the country (as the paths fold them)
        P.loc[s, s] += P.loc[s, "moved"]
    P["moved"] = 0.0
    inflow = pd.Series({s: prep.paths["inflow"].sum(axis=0)[space.step_index == i].sum()
                        for i, s in enumerate(space.steps)})
    stock_steps = pd.Series({s: stock[space.step_index == i].sum() for i, s in enumerate(space.steps)})
    ref = project_occupancy(stock_steps, P, years=years, inflow=inflow, staircase=space.staircase)
    rows = []
    for t in range(years + 1):
        for i, s in enumerate(space.steps):
            ours = float(X[t, space.step_index == i].sum())
            theirs = float(ref[(ref["year"] == t) & (ref["state"] == s)]["n"].iloc[0])
            rows.append({"year": prep.year + t, "step": s, "paths": ours, "project_occupancy": theirs,
                         "difference": ours - theirs})
    table = pd.DataFrame(rows)
    today = table[table["year"] == prep.year].set_index("step")["paths"].round()
    table.insert(2, "n_persons", table["step"].map(today))
    return declare(table, counts=["n_persons"], labels=["year"],
                   stats={c: "n_persons" for c in ("paths", "project_occupancy", "difference")})


# --- known truth on the synthetic data -----------------------------------------------------------

def truth_backtest(panel: pd.DataFrame, spells: pd.DataFrame, assessments: pd.DataFrame, persons: pd.DataFrame,
                   municipality_years: pd.DataFrame, person_year_costs: pd.DataFrame, params, truth: dict, *,
                   years: int = 3) -> pd.DataFrame:
    """Project from ``years`` years before the panel's end and compare with what the data then show.

    The synthetic data's service costs are the generator's unit costs (``truth["outcomes"]["unit_costs"]``,
    a yearly amount per step) times the time on the step. Paying every service step its true unit cost
    (one takst per step, no support levels), the projected municipal gross payment for the services must
    match the data's gross cost of those services (municipality and state together) in the years after the
    stock, and the projected citizens on each botilbud step the observed ones, up to the projection's
    approximations (a citizen is paid the whole year of the step held on 1 January; the step transitions of
    the base years stay constant).

    Returns
    -------
    DataFrame
        ``year``, ``quantity``, ``projected`` (estimate), ``observed``, ``relative_difference`` and the counts
        they rest on.
    """
    p = params.payment
    end = int(_years(panel).max())
    start = end - years
    stairs = as_staircase(params.staircase)
    unit = {s: float(v[0][2]) for s, v in truth["outcomes"]["unit_costs"].items()}
    share_a = float(truth.get("spells", {}).get("sel82a_share", 0.5))  # §82a among the §82 spells
    unit["SEL82"] = share_a * unit.get("SEL82a", 0.0) + (1 - share_a) * unit.get("SEL82b", 0.0)
    flat = [{"step": s, "support_level": lvl, "takst_dkk": unit[s] / DAYS_PER_YEAR}
            for s in stairs.steps if s != stairs.none_step for lvl in range(1, len(p.support_cuts) + 2)]
    flat_params = params.model_copy(update={"payment": p.model_copy(update={"tariffs": flat, "horizon_years": years})})
    prep = prepare(panel, spells, assessments, persons, municipality_years, flat_params, year=start)
    sim = simulation(prep, flat_params, n_boot=0, areas=[])
    nat = sim.point_["national"][0, sim.variants_.index("baseline"), MODELS.index("activity_average")]
    steps = sim.point_["steps"][0]  # (T + 1, S)
    national = build_panel(spells, persons, None, start=start, end=end, period="year", staircase=stairs)
    observed_on = national[national["status"].astype(str) == "observed"].assign(year=lambda d: _years(d))
    costs = person_year_costs[person_year_costs["service"].isin(list(stairs.paragraphs))]
    rows = []
    for t in range(1, years + 1):
        year = start + t
        in_year = costs[costs["year"] == year]
        per_person = in_year.groupby("person_id")["cost_dkk"].sum()
        rows.append({"year": year, "quantity": "gross cost of the services (DKK)",
                     "projected": float(nat[ITEMS.index("kommune_gross"), t - 1]),
                     "observed": float(per_person.sum()), "n_persons": float(len(per_person)),
                     "top2_share": float(dominance_share(per_person)) if len(per_person) else 1.0})
        for s in prep.space.botilbud:
            n_obs = float((observed_on[observed_on["year"] == year]["step"].astype(str) == s).sum())
            rows.append({"year": year, "quantity": f"citizens on {s}",
                         "projected": float(steps[t, prep.space.steps.index(s)]), "observed": n_obs,
                         "n_persons": n_obs, "top2_share": 0.0})
    table = pd.DataFrame(rows)
    table["relative_difference"] = table["projected"] / table["observed"] - 1
    return declare(table, counts=["n_persons"], labels=["year"], magnitudes={"observed": "top2_share"},
                   magnitude_counts={"observed": "n_persons"},
                   stats={"projected": "n_persons", "relative_difference": "n_persons"})
