"""The steps of notebook 30_spending_variation: spending per inhabitant, models of how much the
equalisation criteria explain, their decomposition, benchmarks and the comparison with
Finansministeriet, Indenrigs- og Socialministeriet & KL (2009), *Det specialiserede socialområde –
redskaber til styring og prioritering*, afsnit 2.

Each step is a function over DataFrames and the run's parameters (``params.variation``) that returns a
tidy table carrying its disclosure declaration (:func:`progression.disclosure.declare`), ready for
``ctx.write_result(name, table)``. The estimators are in :mod:`progression.variation`.

Disclosure
----------
* Municipal spending (the municipal accounts, DST REGK31) and the equalisation criteria (the
  socioeconomic statistics of the equalisation system, udligningsloven § 5) are public
  municipality-level figures: tables built from them alone — spending per inhabitant, the models on
  them, their decompositions and benchmarks — describe no person and are declared ``safe``;
  municipality codes and years are ``labels``.
* The split into recipients × cost per recipient comes from the person register: the recipients per
  municipality are counts of persons (suppressed when small, with secondary suppression against the
  national total), and the cost per recipient and the register spending per inhabitant are sums of money
  over persons, *magnitudes* under the (n, k) dominance rule (their dominance share is computed from the
  per-person costs by :func:`progression.variation.register_recipients`); everything derived from them
  rests on both.

The stacking of the two areas (adults, children) happens here: every table has an ``area`` column.

Examples
--------
>>> from progression.datasets import example_params, load_example
>>> from progression.analyses import variation as va
>>> p = example_params().variation
>>> panel = va.spending_panel(load_example("municipal_accounts"), load_example("municipality_years"),
...                           load_example("municipalities"), p)
>>> cross = va.cross_section(panel, p.year)
>>> va.spending_summary(cross)[["area", "n_municipalities", "n_below_low"]]
       area  n_municipalities  n_below_low
0    adults                98           15
1  children                98            8
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from progression._tidy import stream_seed
from progression._validation import check_columns
from progression.config import DisclosureParams
from progression.config.analyses import VariationParams
from progression.disclosure import declare
from progression.exceptions import ParameterError
from progression.variation import (
    SEED004_REPORTED,
    SPECIAL_MUNICIPALITIES,
    RandomInterceptDecomposition,
    SpendingVariationModel,
    between_within,
    describe_spending,
    register_recipients,
    unit_cost_decomposition,
    unit_cost_variance_shares,
)
from progression.variation import spending_panel as area_panel

__all__ = [
    "AREAS",
    "Area",
    "areas",
    "spending_panel",
    "cross_section",
    "spending_summary",
    "fit_models",
    "fit_table",
    "coefficient_table",
    "influence_table",
    "influence_refits",
    "shapley_table",
    "between_within_table",
    "icc_table",
    "panel_overview",
    "panel_years",
    "benchmark_table",
    "outside_table",
    "funnel_table",
    "unit_cost_table",
    "unit_cost_shares",
    "seed004_comparison",
    "key_numbers",
    "text_values",
    "true_coefficients",
    "true_area_values",
]

#: The two spending areas, in the order of every table.
AREAS = ("adults", "children")


@dataclass(frozen=True)
class Area:
    """One spending area: its account functions, the population it is divided by and the criteria of the
    model Finansministeriet (2009) describes for it."""

    name: str
    functions: tuple[str, ...]
    population: str
    criteria: tuple[str, ...]


def areas(params: VariationParams) -> dict[str, Area]:
    """The two areas as the parameters define them (adults: 5.38 per 18–66-year-old; children: 5.28 per
    0–22-year-old).

    Examples
    --------
    >>> from progression.datasets import example_params
    >>> areas(example_params().variation)["adults"].population
    'pop_18_66'
    """
    return {
        "adults": Area("adults", tuple(params.adult_functions), params.adult_population, tuple(params.adult_criteria)),
        "children": Area("children", tuple(params.child_functions), params.child_population,
                         tuple(params.child_criteria)),
    }


def _seed(seed: int, purpose: str, area: str) -> int:
    """The seed of one kind of random draw of one area, from the run seed by a named stream:
    ``variation.cv.<area>`` (cross-validation folds and boosting, shared by a model and its refits),
    ``variation.shapley.<criteria set>.<area>`` (the municipality bootstrap of a decomposition)."""
    return stream_seed(seed, f"variation.{purpose}.{area}")


def _scale(log: bool) -> str:
    return "log" if log else "level"


def _weights(weights: str) -> str | None:
    """The weight column of a specification (``"population"`` weights the municipalities by it)."""
    return "population" if weights == "population" else None


def _public(table: pd.DataFrame, labels=("municipality", "year", "price_year")) -> pd.DataFrame:
    """Declare a table of public municipality figures and models on them: every number safe but the labels."""
    numeric = [c for c in table.columns
               if pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])]
    present = [c for c in labels if c in table.columns]
    # public municipality-level figures (accounts, population, equalisation criteria) and what is computed
    # from them alone describe no person
    return declare(table, safe=[c for c in numeric if c not in present], labels=present)


# -- 1 spending per inhabitant ---------------------------------------------------------------------------
def spending_panel(accounts: pd.DataFrame, municipality_years: pd.DataFrame, municipalities: pd.DataFrame,
                   params: VariationParams) -> pd.DataFrame:
    """Spending per inhabitant of each area's age group with every criterion, per municipality and year.

    Parameters
    ----------
    accounts : pandas.DataFrame
        The ``municipal_accounts`` table (net operating expenditure by function, at one price level).
    municipality_years : pandas.DataFrame
        Populations and criteria per municipality and year.
    municipalities : pandas.DataFrame
        ``municipality`` and ``name``.
    params : VariationParams

    Returns
    -------
    pandas.DataFrame
        ``area``, ``municipality``, ``name``, ``year``, ``population`` (of the area's age group),
        ``spending_dkk``, ``n_functions``, ``spend_per_capita``, ``price_year`` and the criteria (those of
        the area's model and all of ``params.criteria``); sorted by area, municipality and year. Public
        figures: declared safe.
    """
    check_columns(municipalities, ["municipality", "name"], name="municipalities")
    frames = []
    for area in areas(params).values():
        criteria = list(dict.fromkeys([*area.criteria, *params.criteria]))
        panel = area_panel(accounts, municipality_years, functions=list(area.functions),
                           population_col=area.population, criteria=criteria)
        panel = panel.merge(municipalities[["municipality", "name"]], on="municipality")
        frames.append(panel.rename(columns={area.population: "population"}).assign(area=area.name))
    out = pd.concat(frames, ignore_index=True)
    first = ["area", "municipality", "name", "year", "population", "spending_dkk", "n_functions",
             "spend_per_capita", "price_year"]
    return _public(out[first + [c for c in out.columns if c not in first]])


def cross_section(panel: pd.DataFrame, year: int) -> pd.DataFrame:
    """The rows of one accounts year (the data of the models), declared like the panel.

    Raises
    ------
    ParameterError
        When ``year`` is not in the panel.
    """
    out = panel[panel["year"] == year].reset_index(drop=True)
    if out.empty:
        raise ParameterError(f"variation.year {year} is not in the accounts; years: {sorted(panel['year'].unique())}")
    return _public(out)


def _area_rows(table: pd.DataFrame, area: str) -> pd.DataFrame:
    return table[table["area"] == area].reset_index(drop=True)


def spending_summary(cross: pd.DataFrame) -> pd.DataFrame:
    """Per area: the population-weighted and unweighted mean, the spread and how many municipalities lie under
    and over the thresholds Finansministeriet (2009) counts against (:func:`describe_spending`)."""
    rows = []
    for area in AREAS:
        part = _area_rows(cross, area)
        reported = SEED004_REPORTED[area]
        row = describe_spending(part, per_capita="spend_per_capita", population="population",
                                low=reported["low"], high=reported["high"])
        rows.append(row.assign(area=area, year=int(part["year"].iloc[0]), price_year=int(part["price_year"].iloc[0])))
    out = pd.concat(rows, ignore_index=True)
    return _public(out[["area", *[c for c in out.columns if c != "area"]]])


# -- 2 models --------------------------------------------------------------------------------------------
def _specifications(params: VariationParams) -> list[tuple[str, str, bool]]:
    """(criteria set, weights, log) of every model of an area: the four of the report's criteria, then the
    headline specification with all criteria."""
    specs = [("seed004", w, log) for w in ("none", "population") for log in (False, True)]
    return specs + [("all", params.weights, params.log)]


def fit_models(cross: pd.DataFrame, params: VariationParams, *, seed: int) -> dict[tuple, SpendingVariationModel]:
    """Fit every specification of both areas.

    The criteria Finansministeriet (2009) names are fitted by OLS and population-weighted WLS, each in
    levels and logs; all equalisation criteria in the headline specification (``params.weights``,
    ``params.log``). Only the headline models cross-validate gradient boosting.

    Returns
    -------
    dict
        (area, criteria set, weights, scale) → fitted :class:`SpendingVariationModel`.
    """
    settings = dict(cv_folds=params.cv_folds, cv_repeats=params.cv_repeats,
                    boosting_params={"n_estimators": params.boosting_trees})
    models = {}
    for name, area in areas(params).items():
        data = _area_rows(cross, name)
        for criteria_set, weights, log in _specifications(params):
            headline = (weights, log) == (params.weights, params.log)
            model = SpendingVariationModel(log=log, boosting=headline, seed=_seed(seed, "cv", name), **settings)
            models[name, criteria_set, weights, _scale(log)] = model.fit(
                data, y="spend_per_capita", X=list(area.criteria) if criteria_set == "seed004" else params.criteria,
                weights=_weights(weights), exclude=params.exclude)
    return models


def _headline(models: Mapping, area: str, params: VariationParams, criteria_set: str = "seed004"):
    return models[area, criteria_set, params.weights, _scale(params.log)]


def _key(key: tuple, params: VariationParams) -> dict:
    area, criteria_set, weights, scale = key
    return {"area": area, "criteria_set": criteria_set, "weights": weights, "scale": scale,
            "headline": (weights, scale) == (params.weights, _scale(params.log))}


def fit_table(models: Mapping, params: VariationParams) -> pd.DataFrame:
    """R², adjusted R², cross-validated R² (and of gradient boosting for the headline models), RMSE: one row
    per area and specification."""
    rows = [{**_key(key, params), **model.fit_stats_.drop(["weighted", "log"]).to_dict()}
            for key, model in models.items()]
    return _public(pd.DataFrame(rows))


def coefficient_table(models: Mapping, params: VariationParams, truth: dict | None = None) -> pd.DataFrame:
    """Coefficients with HC3 standard errors and intervals, every model; on synthetic data the generating
    coefficients of the level models on the report's criteria in ``truth`` (:func:`true_coefficients`)."""
    frames = []
    for key, model in models.items():
        frames.append(model.summary().assign(**_key(key, params)))
    table = pd.concat(frames, ignore_index=True)
    if truth is not None:
        true = true_coefficients(truth, params.year)
        table["truth"] = [true.get((r.area, r.term)) if r.scale == "level" and r.criteria_set == "seed004" else None
                          for r in table.itertuples()]
        table["truth"] = table["truth"].astype(float)
    return _public(table)


# -- 3 influence -----------------------------------------------------------------------------------------
def influence_table(models: Mapping, cross: pd.DataFrame, params: VariationParams) -> pd.DataFrame:
    """Influence diagnostics of the headline models: flagged municipalities and the capital and small islands,
    with names; sorted by area and Cook's distance."""
    names = cross[["municipality", "name"]].drop_duplicates()
    frames = []
    for area in AREAS:
        diagnostics = _headline(models, area, params).influence()
        shown = diagnostics[diagnostics["flagged"] | diagnostics["municipality"].isin(list(SPECIAL_MUNICIPALITIES))]
        frames.append(shown.drop(columns="label").merge(names, on="municipality").assign(area=area))
    table = pd.concat(frames, ignore_index=True).sort_values(["area", "cooks_d"], ascending=[True, False])
    return _public(table.reset_index(drop=True))


def influence_refits(models: Mapping, cross: pd.DataFrame, params: VariationParams, *, seed: int) -> pd.DataFrame:
    """R² of the headline models refitted on all municipalities, without the capital and the small islands, and
    without every flagged municipality."""
    settings = dict(cv_folds=params.cv_folds, cv_repeats=params.cv_repeats,
                    boosting_params={"n_estimators": params.boosting_trees})
    rows = []
    for name, area in areas(params).items():
        diagnostics = _headline(models, name, params).influence()
        samples = {"all": [], "without Copenhagen and the islands": list(SPECIAL_MUNICIPALITIES),
                   "without flagged municipalities": diagnostics.loc[diagnostics["flagged"], "municipality"].tolist()}
        for sample, left_out in samples.items():
            refit = SpendingVariationModel(log=params.log, boosting=False, seed=_seed(seed, "cv", name),
                                           **settings).fit(
                _area_rows(cross, name), y="spend_per_capita", X=list(area.criteria),
                weights=_weights(params.weights), exclude=[*params.exclude, *left_out])
            rows.append({"area": name, "sample": sample, "n_left_out": len(refit.excluded_),
                         **refit.fit_stats_[["n_municipalities", "r2", "adj_r2", "cv_r2"]].to_dict()})
    return _public(pd.DataFrame(rows))


# -- 4 Shapley decomposition -----------------------------------------------------------------------------
def shapley_table(models: Mapping, params: VariationParams, *, seed: int) -> pd.DataFrame:
    """Shapley (LMG) decomposition of the headline models' R², with municipality-bootstrap intervals: the
    report's criteria, all criteria, and all criteria in the groups of ``params.criteria_groups``."""
    frames = []
    for area in AREAS:
        boot = dict(n_boot=params.bootstrap_reps)
        own = _headline(models, area, params).shapley_bootstrap(seed=_seed(seed, "shapley.seed004", area), **boot)
        extended = _headline(models, area, params, "all")
        every = extended.shapley_bootstrap(seed=_seed(seed, "shapley.all", area), **boot)
        grouped = extended.shapley_bootstrap(groups=params.criteria_groups, seed=_seed(seed, "shapley.all", area),
                                             **boot)
        for model, table in (("seed004 criteria", own), ("all criteria", every), ("all criteria, groups", grouped)):
            frames.append(table.assign(area=area, model=model))
    out = pd.concat(frames, ignore_index=True)
    return _public(out[["area", "model", *[c for c in out.columns if c not in ("area", "model")]]])


# -- 5 lasting differences -------------------------------------------------------------------------------
def _panel_outcome(panel: pd.DataFrame, params: VariationParams, area: str) -> pd.DataFrame:
    part = _area_rows(panel, area)
    part = part[part["year"].between(*panel_years(part, params))].copy()
    part["outcome"] = np.log(part["spend_per_capita"]) if params.log else part["spend_per_capita"] / 1_000
    return part


def panel_years(panel: pd.DataFrame, params: VariationParams) -> tuple[int, int]:
    """First and last year of the panel analyses (``params.panel_years``, default every year)."""
    years = params.panel_years or (panel["year"].min(), panel["year"].max())
    return int(min(years)), int(max(years))


def between_within_table(panel: pd.DataFrame, params: VariationParams) -> pd.DataFrame:
    """Between- and within-municipality parts of the variation in spending per inhabitant (in thousands of kr.,
    or logs), after removing the common year means (:func:`between_within`)."""
    frames = []
    for name, area in areas(params).items():
        part = _panel_outcome(panel, params, name)
        table = between_within(part, y="outcome", time="year", weights=_weights(params.weights))
        frames.append(table.assign(area=name))
    out = pd.concat(frames, ignore_index=True)
    return _public(out[["area", *[c for c in out.columns if c != "area"]]])


def icc_table(panel: pd.DataFrame, params: VariationParams) -> pd.DataFrame:
    """Random-intercept models without and with the criteria, year effects in both: municipal and residual
    variance, ICC and the share of the municipal variance the criteria remove
    (:class:`RandomInterceptDecomposition`)."""
    frames = []
    for name, area in areas(params).items():
        model = RandomInterceptDecomposition().fit(_panel_outcome(panel, params, name), y="outcome",
                                                   X=list(area.criteria), time="year")
        frames.append(model.summary().assign(area=name))
    out = pd.concat(frames, ignore_index=True)
    return _public(out[["area", *[c for c in out.columns if c != "area"]]])


def panel_overview(between: pd.DataFrame, icc: pd.DataFrame) -> pd.DataFrame:
    """One row per area: the between and within shares and the ICC of both random-intercept models (a view of
    :func:`between_within_table` and :func:`icc_table` for display)."""
    shares = between.pivot(index="area", columns="component", values="share")
    iccs = icc.pivot(index="area", columns="model", values="icc").add_prefix("icc_")
    return pd.concat([shares, iccs], axis=1)


# -- 6 expected against actual ---------------------------------------------------------------------------
def benchmark_table(models: Mapping, cross: pd.DataFrame, params: VariationParams) -> pd.DataFrame:
    """Expected against actual spending per municipality under the headline model, both areas: every
    municipality, those left out of the fit (``params.exclude``) predicted out of sample; ``rank`` over all
    municipalities of an area (1 = largest residual)."""
    frames = []
    for area in AREAS:
        model = _headline(models, area, params)
        data = _area_rows(cross, area)
        left_out = data[data["municipality"].isin(model.excluded_)]
        bench = pd.concat([model.benchmark(), model.benchmark(left_out)] if len(left_out) else [model.benchmark()])
        bench["rank"] = bench["residual"].rank(ascending=False, method="first").astype(int)
        bench = bench.merge(data[["municipality", "name", "population"]], on="municipality")
        frames.append(bench.sort_values("municipality").assign(area=area))
    out = pd.concat(frames, ignore_index=True)
    return _public(out[["area", *[c for c in out.columns if c != "area"]]])


def outside_table(benchmark: pd.DataFrame) -> pd.DataFrame:
    """The municipalities whose spending lies outside the prediction interval of the headline model."""
    columns = ["area", "municipality", "name", "actual", "expected", "pred_low", "pred_high", "position"]
    out = benchmark.loc[benchmark["position"] != "within", columns].sort_values(["area", "position", "municipality"])
    return _public(out.reset_index(drop=True))


def funnel_table(models: Mapping, params: VariationParams, *, levels=(0.95, 0.998)) -> pd.DataFrame:
    """Funnel-plot table of the headline models: deviations against population with the 95 % and 99.8 %
    control limits (Spiegelhalter 2005), one row per area, municipality and level."""
    frames = [_headline(models, area, params).funnel(size="population", levels=levels).assign(area=area)
              for area in AREAS]
    out = pd.concat(frames, ignore_index=True)
    return _public(out[["area", *[c for c in out.columns if c != "area"]]])


# -- 7 recipients × cost per recipient -------------------------------------------------------------------
_UNIT_COST_COLUMNS = ["municipality", "name", "n_recipients", "spend_per_capita", "unit_cost", "log_diff_spending",
                      "log_diff_coverage", "log_diff_unit_cost", "recipients_per_1000", "population", "dominance_share"]


def unit_cost_table(costs: pd.DataFrame, residence: pd.DataFrame, cross: pd.DataFrame, params: VariationParams, *,
                    disclosure: DisclosureParams | None = None) -> pd.DataFrame:
    """Register spending per 18–66-year-old split into recipients per inhabitant × cost per recipient, per
    municipality of the analysis year (:func:`register_recipients`, :func:`unit_cost_decomposition`).

    Parameters
    ----------
    costs, residence : pandas.DataFrame
        The ``person_year_costs`` and ``person_years`` tables (person level: they never leave the run).
    cross : pandas.DataFrame
        The cross-section (:func:`cross_section`): names and populations of the adult area.
    params : VariationParams
    disclosure : DisclosureParams, optional
        The run's disclosure parameters: the ``n`` of their dominance rule sets how many of the largest
        costs ``dominance_share`` adds up (default 2, Statistics Denmark's rule).

    Returns
    -------
    pandas.DataFrame
        ``municipality``, ``name``, ``n_recipients``, ``spend_per_capita`` (register cost per inhabitant),
        ``unit_cost``, the three log differences from the country, ``recipients_per_1000``,
        ``population`` (inhabitants aged 18–66, public) and ``dominance_share``. Declared: ``n_recipients``
        a count of persons with the national total as margin; register spending per inhabitant and cost per
        recipient magnitudes under the dominance rule, resting on the recipients; the coverage on the
        recipients; each log difference on what it is made of.
    """
    dominance = disclosure.dominance if disclosure is not None else None
    adults = _area_rows(cross, "adults")
    year = costs[costs["year"] == params.year]
    recipients = register_recipients(year, residence[residence["year"] == params.year],
                                     services=params.register_services, payer=params.register_payer,
                                     dominance_n=dominance.n if dominance is not None else 2)
    recipients = recipients.merge(adults[["municipality", "name", "population"]], on="municipality")
    split = unit_cost_decomposition(recipients, spending="cost_dkk", recipients="n_recipients",
                                    population="population")
    table = recipients[["municipality", "name", "n_recipients", "population", "dominance_share"]].merge(
        split, on="municipality")
    table["recipients_per_1000"] = 1_000 * table["recipients_per_capita"]
    # the population is a public municipality figure
    return declare(
        table[_UNIT_COST_COLUMNS], counts=["n_recipients"], margins={"n_recipients": []}, labels=["municipality"],
        safe=["population"],
        magnitudes={"spend_per_capita": "dominance_share", "unit_cost": "dominance_share"},
        magnitude_counts={"spend_per_capita": "n_recipients", "unit_cost": "n_recipients"},
        stats={"recipients_per_1000": "n_recipients", "log_diff_coverage": "n_recipients",
               "log_diff_spending": ["n_recipients", "spend_per_capita"],
               "log_diff_unit_cost": ["n_recipients", "unit_cost"]})


def unit_cost_shares(split: pd.DataFrame, shown: pd.DataFrame, params: VariationParams):
    """Key numbers: the split of the variance of log register spending per inhabitant into coverage and unit
    cost (:func:`unit_cost_variance_shares`) over every municipality, and how many municipalities the
    disclosed table ``shown`` shows.

    The variances and shares summarise all 98 municipalities at once and are declared safe: they describe
    no municipality, let alone a person.
    """
    weights = split["population"].to_numpy() if params.weights == "population" else None
    shares = unit_cost_variance_shares(split, weights=weights)
    numbers = {"year": params.year, "services": ", ".join(params.register_services),
               "n_municipalities_with_recipients": len(split),
               "n_municipalities_shown": int(shown["n_recipients"].notna().sum()),
               **{k: float(v) for k, v in shares.items()}}
    # counts of municipalities and the spread of 98 municipality values: no person is described
    return declare(numbers, safe=[k for k in numbers if k not in ("year", "services")], labels=["year"])


# -- 8 Finansministeriet (2009) and the key numbers ------------------------------------------------------
#: What the synthetic generator was calibrated to (``data.synthetic``): the 2008 national means and the R²
#: of OLS on the report's criteria are its targets; the counts under and over the thresholds follow from the
#: calibrated mean and a spread that is a parameter of its own.
_CALIBRATION = {"weighted_mean": "calibration target", "n_below_low": "partly calibrated",
                "n_above_high": "partly calibrated", "explained_share": "calibration target",
                "explained_share_adjusted": "calibration target",
                "explained_share_cross_validated": "calibration target"}


def seed004_comparison(summary: pd.DataFrame, fit: pd.DataFrame, shapley: pd.DataFrame, params: VariationParams,
                       truth: dict | None = None) -> pd.DataFrame:
    """This run beside Finansministeriet (2009, afsnit 2): the population-weighted mean per inhabitant, the
    municipalities under and over the thresholds, and the explained share (the headline R² with its bootstrap
    interval, adjusted and cross-validated).

    ``comparison`` says what the comparison is worth: on synthetic data the generator was calibrated to the
    report's means and R² (``"calibration target"``: agreement checks the assembly of accounts, denominators,
    year and criteria, not the report), the counts follow from the calibrated mean and a spread parameter
    (``"partly calibrated"``); on real data every row is an ``"independent check"``.

    Parameters
    ----------
    summary, fit, shapley : pandas.DataFrame
        The written tables of :func:`spending_summary`, :func:`fit_table` and :func:`shapley_table`.
    params : VariationParams
    truth : dict, optional
        The synthetic truth (``ctx.truth()``); None on real data.
    """
    described = summary.set_index("area")
    headline = fit[fit["headline"].astype(bool) & (fit["criteria_set"] == "seed004")].set_index("area")
    r2 = shapley[(shapley["model"] == "seed004 criteria") & (shapley["term"] == "R2")].set_index("area")
    rows = []
    for area in AREAS:
        reported, row = SEED004_REPORTED[area], described.loc[area]
        true = true_area_values(truth, area, params.year)
        rows += [
            {"area": area, "quantity": "weighted_mean", "estimate": row["weighted_mean"],
             "seed004": reported["weighted_mean"], "truth": true["national_mean_dkk"]},
            {"area": area, "quantity": "n_below_low", "estimate": row["n_below_low"],
             "seed004": reported["n_below_low"]},
            {"area": area, "quantity": "n_above_high", "estimate": row["n_above_high"],
             "seed004": reported["n_above_high"]},
            {"area": area, "quantity": "explained_share", "estimate": r2.loc[area, "estimate"],
             "conf_low": r2.loc[area, "conf_low"], "conf_high": r2.loc[area, "conf_high"],
             "seed004": reported["explained_share"], "seed004_text": reported["explained_text"],
             "truth": true["r2_target"]},
            {"area": area, "quantity": "explained_share_adjusted", "estimate": headline.loc[area, "adj_r2"],
             "seed004": reported["explained_share"]},
            {"area": area, "quantity": "explained_share_cross_validated", "estimate": headline.loc[area, "cv_r2"],
             "seed004": reported["explained_share"]},
        ]
    table = pd.DataFrame(rows).assign(year=params.year, price_year=int(described["price_year"].iloc[0]))
    table["truth"] = table["truth"].astype(float)
    table["comparison"] = table["quantity"].map(_CALIBRATION) if truth is not None else "independent check"
    return _public(table)


def key_numbers(comparison: pd.DataFrame, params: VariationParams):
    """The headline numbers of the analysis, for the report: R² with its interval, cross-validated R² and the
    weighted mean per area (and, on synthetic data, the generating R² and whether the interval covers it)."""
    rows = comparison.set_index(["area", "quantity"])
    numbers: dict = {"year": params.year, "price_year": int(comparison["price_year"].iloc[0]),
                     "weights": params.weights, "scale": _scale(params.log)}
    synthetic = rows["truth"].notna().any()
    for area in AREAS:
        share = rows.loc[(area, "explained_share")]
        numbers.update({f"{area}_r2": share["estimate"], f"{area}_r2_conf_low": share["conf_low"],
                        f"{area}_r2_conf_high": share["conf_high"],
                        f"{area}_r2_cross_validated": rows.loc[(area, "explained_share_cross_validated"), "estimate"],
                        f"{area}_weighted_mean_dkk": rows.loc[(area, "weighted_mean"), "estimate"],
                        f"{area}_r2_comparison": share["comparison"]})
        if synthetic:
            numbers[f"{area}_r2_truth"] = share["truth"]
            covers = share["conf_low"] <= share["truth"] <= share["conf_high"]
            numbers[f"{area}_r2_interval_covers_truth"] = bool(covers)
    numeric = [k for k, v in numbers.items() if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)]
    # model output on public municipality figures, and the generator's parameters
    return declare(numbers, safe=[k for k in numeric if k not in ("year", "price_year")],
                   labels=["year", "price_year"])


def text_values(numbers: Mapping) -> dict:
    """The key numbers report text may be built from (the written numbers and strings; flags left out)."""
    return {k: v for k, v in numbers.items() if not isinstance(v, (bool, np.bool_)) and k not in ("year", "price_year")}


# -- comparisons with the synthetic truth ----------------------------------------------------------------
def true_coefficients(truth: dict, year: int) -> dict[tuple[str, str], float]:
    """The generating coefficients (kr. per inhabitant per unit share) of the report's criteria in the level
    model, by (area, term)."""
    return {(area, term): value for area in AREAS
            for term, value in truth["spending"][area]["by_year"][str(year)]["coefficients_dkk_per_unit_share"].items()}


def true_area_values(truth: dict | None, area: str, year: int) -> dict:
    """The generating national mean of ``year`` and the R² the generator was calibrated to (None without truth)."""
    if truth is None:
        return {"national_mean_dkk": None, "r2_target": None}
    spending = truth["spending"][area]
    return {"national_mean_dkk": spending.get("by_year", {}).get(str(year), {}).get("national_mean_dkk"),
            "r2_target": spending.get("r2_target")}
