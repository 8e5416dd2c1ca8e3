"""The steps of ``35_steering``: Finansministeriet (2009)'s steering tools on its own tables and on the data.

Each step returns a tidy table carrying its disclosure declaration (:mod:`progression.disclosure`),
ready for ``ctx.write_result``:

* Finansministeriet, Indenrigs- og Socialministeriet & KL (2009), section 2, reproduced from the
  package's keyed copy of its tables: :func:`seed004_growth`, :func:`seed004_sums`,
  :func:`seed004_populations`, :func:`seed004_means`, :func:`seed004_decomposition`. Published
  national figures describe no person: every column is safe.
* The municipal accounts, summed over municipalities by spending area and account function:
  :func:`accounts_series`, :func:`accounts_growth`, :func:`accounts_decomposition`. Public municipal
  figures: safe.
* The register's commitments (service spells × unit costs): :func:`register_commitments` (person level,
  never written), :func:`register_volume`, :func:`register_price_volume`, :func:`followup`,
  :func:`followup_by_month`. Persons are counted, user-years rest on the count, and money (spending,
  unit costs, budgets, deviations) is a magnitude under the dominance rule; paragraph rows add up to
  their step and steps to the total, which drives secondary suppression (``part_of``).
* Comparisons with the synthetic truth (gathered in their own section below):
  :func:`accounts_truth`, :func:`register_truth`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from progression.disclosure import declare
from progression.exceptions import DataContractError, ParameterError
from progression.schemas import PARAGRAPHS
from progression.staircase import as_staircase
from progression.texts import has_text, text
from progression.steering import (
    budget_followup,
    budget_from_base,
    check_sums,
    commitments,
    forecast_by_month,
    forecast_year,
    growth_table,
    implied_populations,
    load_seed004_tables,
    price_volume,
    price_volume_demography,
    reproduce_growth,
    reproduce_weighted_means,
    seed004_decomposition as _seed004_decomposition,
    shapley_product,
    shares_of_total,
    yearly_volume,
)

__all__ = [
    "seed004_growth", "seed004_sums", "seed004_populations", "seed004_means", "seed004_decomposition",
    "seed004_summary", "dominance_n", "caption_values", "accounts_key_numbers", "register_key_numbers", "followup_key_numbers",
    "accounts_series", "accounts_growth", "accounts_decomposition", "register_years", "register_commitments",
    "register_volume", "register_price_volume", "followup", "followup_by_month", "accounts_truth", "register_truth",
    "OTHER_STEP", "TOTAL",
]

#: The group of paragraphs on no step of the staircase (§103, §104, §97, …).
OTHER_STEP = "other"
#: The group of all commitments.
TOTAL = "total"

_LEVELS = ("paragraph", "step", "total")


# --- Finansministeriet (2009), section 2 ---------------------------------------------------------------------
# Every column of these tables is a published national figure or arithmetic on published figures: they
# describe no person, so they are declared safe.

def seed004_growth(tables: pd.DataFrame | None = None, *, tolerance: float = 0.1) -> pd.DataFrame:
    """The growth columns of Tabel 2.1, 2.2, 2.4, 2.6 and 2.8, published beside recomputed.

    See :func:`progression.steering.reproduce_growth`.

    Examples
    --------
    >>> growth = seed004_growth()
    >>> int(growth["within_tolerance"].sum()), len(growth)
    (27, 27)
    """
    tables = load_seed004_tables() if tables is None else tables
    out = reproduce_growth(tables, tolerance=tolerance)
    return declare(out, safe=["published", "recomputed", "difference", "tolerance", "bound_low", "bound_high"],
                   labels=["start", "end"])


def seed004_sums(tables: pd.DataFrame | None = None) -> pd.DataFrame:
    """Items against their totals, and the totals Tabel 2.1 repeats (:func:`progression.steering.check_sums`).

    Examples
    --------
    >>> bool(seed004_sums()["within"].all())
    True
    """
    tables = load_seed004_tables() if tables is None else tables
    return declare(check_sums(tables), safe=["items_added", "published", "recomputed", "difference", "allowed"])


def seed004_populations(tables: pd.DataFrame | None = None) -> pd.DataFrame:
    """The populations the tables imply (:func:`progression.steering.implied_populations`).

    Examples
    --------
    >>> pops = seed004_populations()
    >>> sorted(pops["source"].unique())
    ['recipients', 'spending']
    """
    tables = load_seed004_tables() if tables is None else tables
    return declare(implied_populations(tables), safe=["population", "bound_low", "bound_high"], labels=["year"])


def seed004_means(tables: pd.DataFrame | None = None) -> pd.DataFrame:
    """National spending per inhabitant as Σ spending / Σ population (:func:`~progression.steering.reproduce_weighted_means`).

    Examples
    --------
    >>> means = seed004_means()
    >>> means.loc[means["year"] == 2008, ["area", "published", "within"]].to_records(index=False).tolist()
    [('children', 9105.0, True), ('adults', 7776.0, True)]
    """
    tables = load_seed004_tables() if tables is None else tables
    return declare(reproduce_weighted_means(tables),
                   safe=["published", "sum_of_items", "spending_bn", "population", "recomputed", "difference",
                         "relative_difference", "bound_low", "bound_high"], labels=["year"])


def seed004_decomposition(tables: pd.DataFrame | None = None) -> pd.DataFrame:
    """Growth 2004–2008 split into demography and spending per inhabitant, and placements and botilbud
    into demography, coverage and unit cost (:func:`progression.steering.seed004_decomposition`).

    Examples
    --------
    >>> parts = seed004_decomposition()
    >>> parts["item"].tolist()
    ['i_alt', 'i_alt', 'anbringelser', 'botilbud']
    """
    tables = load_seed004_tables() if tables is None else tables
    out = _seed004_decomposition(tables)
    out.insert(2, "label", out["area"] + " · " + out["item"].str.replace("i_alt", "total").str.replace("_", " ") + " "
               + out["start"].astype(str) + "–" + out["end"].astype(str))
    return declare(out, safe=["spending_start", "spending_end", "change", "demography", "per_capita", "coverage",
                              "unit_cost"], labels=["start", "end"])


def seed004_summary(growth: pd.DataFrame, sums: pd.DataFrame, populations: pd.DataFrame, means: pd.DataFrame,
                    *, year: int = 2008):
    """Key numbers of the reproduction, for the report's text (all safe: arithmetic on published figures).

    Examples
    --------
    >>> key = seed004_summary(seed004_growth(), seed004_sums(), seed004_populations(), seed004_means())
    >>> key["n_growth"], key["n_growth_within"], key["n_sums_within"] == key["n_sums"]
    (27, 27, True)
    >>> round(key["children_mean_recomputed"]), round(key["adults_mean_recomputed"])
    (9135, 7774)
    """
    bn = growth[growth["measure"] == "average_growth_bn"]
    pct = growth[growth["measure"] == "growth_rate_pct"]
    combined = populations[(populations["item"] == "combined")]
    key = {
        "n_growth": int(len(growth)), "n_growth_within": int(growth["within_tolerance"].sum()),
        "n_growth_consistent": int(growth["consistent"].sum()),
        "max_difference_bn": float(bn["difference"].abs().max()), "max_difference_pp": float(pct["difference"].abs().max()),
        "n_sums": int(len(sums)), "n_sums_within": int(sums["within"].sum()),
        "n_recipient_years": int((combined["source"] == "recipients").sum()),
        "n_recipient_years_inconsistent": int(((combined["source"] == "recipients") & ~combined["consistent"]).sum()),
        "year": int(year),
    }
    for area in ("children", "adults"):
        row = means[(means["area"] == area) & (means["year"] == year)].iloc[0]
        pop = combined[(combined["area"] == area) & (combined["source"] == "spending") & (combined["year"] == year)]
        key.update({f"{area}_mean_published": float(row["published"]), f"{area}_mean_recomputed": float(row["recomputed"]),
                    f"{area}_mean_low": float(row["bound_low"]), f"{area}_mean_high": float(row["bound_high"]),
                    f"{area}_mean_sum_of_items": float(row["sum_of_items"]),
                    f"{area}_population": float(pop["population"].iloc[0])})
    numbers = [k for k in key if k != "year"]
    return declare(key, safe=numbers, labels=["year"])


def caption_values(table: pd.DataFrame) -> dict:
    """The period of a table for its caption: the first value of each of ``start``, ``end``, ``price_year``,
    ``year``, ``month`` it has (parameters of the table, not data).

    Examples
    --------
    >>> import pandas as pd
    >>> caption_values(pd.DataFrame({"start": [2010], "end": [2024], "x": [1.0]}))
    {'start': 2010, 'end': 2024}
    """
    return {c: int(table[c].iloc[0]) for c in ("start", "end", "price_year", "year", "month") if c in table.columns}


def dominance_n(params) -> int:
    """``n`` of the run's dominance rule (2 when the rule is off: the share is then unused)."""
    return params.disclosure.dominance.n if params.disclosure.dominance is not None else 2


# --- the municipal accounts --------------------------------------------------------------------------------------
# Net operating expenditure per municipality (REGK31) and the population by age (FOLK1) are public municipal
# figures; their national sums describe no person, so every column is safe.

def _codes(values: pd.Series) -> pd.Series:
    return values.astype(str).str.replace(".", "", regex=False).str.lstrip("0")


def accounts_series(accounts: pd.DataFrame, municipality_years: pd.DataFrame, *, areas: Mapping[str, Sequence[str]],
                    populations: Mapping[str, str]) -> pd.DataFrame:
    """National spending by area and account function per year, with spending per inhabitant of the age group.

    Parameters
    ----------
    accounts : DataFrame
        The ``municipal_accounts`` table (``municipality``, ``year``, ``function``, ``net_operating_dkk``,
        ``price_year``).
    municipality_years : DataFrame
        Population by municipality and year (the columns named in ``populations``).
    areas : mapping of str to list of str
        Area -> its account functions (codes or prefixes, dotted or not: ``"5.38"``).
    populations : mapping of str to str
        Area -> population column.

    Returns
    -------
    DataFrame
        ``area``, ``function`` ("all" for the area), ``year``, ``price_year``, ``spending_bn`` (bn kr.),
        ``population``, ``per_capita`` (kr. per inhabitant of the age group), ``share`` (of the area).

    Raises
    ------
    DataContractError
        When an area's functions match no account rows, a year has no population, or the amounts are
        in more than one price year.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> series = accounts_series(load_example("municipal_accounts"), load_example("municipality_years"),
    ...                          areas={"adults": ["5.38"]}, populations={"adults": "pop_18_66"})
    >>> sorted(series["function"].unique())
    ['53838', '53850', '53851', '53852', 'all']
    """
    codes = _codes(accounts["function"])
    frames = []
    for area, functions in areas.items():
        prefixes = [str(f).replace(".", "").lstrip("0") for f in functions]
        chosen = accounts[codes.map(lambda c: any(c.startswith(p) for p in prefixes)).astype(bool)]
        if chosen.empty:
            raise DataContractError(f"steering.areas[{area!r}]: functions {list(functions)} match no account rows; "
                                    f"functions present: {sorted(codes.unique())[:12]}")
        price_years = sorted(chosen["price_year"].unique().tolist())
        if len(price_years) != 1:
            raise DataContractError(f"area {area!r}: the amounts are in price years {price_years}; growth needs one "
                                    "price level: deflate them first")
        population_col = populations[area]
        if population_col not in municipality_years.columns:
            raise DataContractError(f"steering.area_populations[{area!r}]: column {population_col!r} not in "
                                    f"municipality_years; columns present: {list(municipality_years.columns)}")
        population = municipality_years.groupby("year")[population_col].sum()
        by_function = chosen.groupby(["function", "year"])["net_operating_dkk"].sum().reset_index()
        total = chosen.groupby("year")["net_operating_dkk"].sum().rename("area_total")
        both = pd.concat([by_function, total.reset_index().assign(function="all").rename(
            columns={"area_total": "net_operating_dkk"})], ignore_index=True)
        missing = sorted(set(both["year"]) - set(population.index))
        if missing:
            raise DataContractError(f"municipality_years has no population for year(s) {missing} of the accounts")
        both = both.merge(total, on="year")
        frames.append(pd.DataFrame({
            "area": area, "function": both["function"].astype(str), "year": both["year"].astype(int),
            "price_year": int(price_years[0]), "spending_bn": both["net_operating_dkk"] / 1e9,
            "population": both["year"].map(population).astype(float),
            "per_capita": both["net_operating_dkk"] / both["year"].map(population),
            "share": both["net_operating_dkk"] / both["area_total"],
        }))
    out = pd.concat(frames, ignore_index=True).sort_values(["area", "function", "year"]).reset_index(drop=True)
    return declare(out, safe=["spending_bn", "population", "per_capita", "share"], labels=["year", "price_year"])


def _period(series: pd.DataFrame, years: Sequence[int] | None) -> tuple[int, int]:
    present = sorted(series["year"].unique())
    start, end = (present[0], present[-1]) if years is None else (int(years[0]), int(years[1]))
    missing = [y for y in (start, end) if y not in present]
    if missing:
        raise ParameterError(f"steering.growth_years: year(s) {missing} not in the accounts; years present: "
                             f"{present[0]}–{present[-1]}")
    return start, end


def accounts_growth(series: pd.DataFrame, *, years: Sequence[int] | None = None) -> pd.DataFrame:
    """Growth of spending and of spending per inhabitant by area and account function, as in Tabel 2.1–2.8.

    Parameters
    ----------
    series : DataFrame
        :func:`accounts_series`.
    years : (int, int), optional
        First and last year; default the first and last of ``series``.

    Returns
    -------
    DataFrame
        ``area``, ``function``, ``start``, ``end``, ``price_year``, ``spending_start``, ``spending_end``
        (bn kr.), ``average_growth`` (bn kr. a year), ``growth_rate`` (compound), ``per_capita_start``,
        ``per_capita_end``, ``per_capita_growth_rate``, ``share_start``, ``share_end``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> series = accounts_series(load_example("municipal_accounts"), load_example("municipality_years"),
    ...                          areas={"adults": ["5.38"]}, populations={"adults": "pop_18_66"})
    >>> growth = accounts_growth(series)
    >>> round(float(growth.loc[growth["function"] == "all", "per_capita_growth_rate"].item()), 4)
    0.01
    """
    start, end = _period(series, years)
    rows = []
    for (area, function), part in series.groupby(["area", "function"], sort=False):
        wide = part.set_index("year")
        spend = growth_table(wide[["spending_bn"]].T, start=start, end=end).iloc[0]
        per = growth_table(wide[["per_capita"]].T, start=start, end=end).iloc[0]
        shares = shares_of_total(series[(series["area"] == area) & (series["function"] != "all")]
                                 .pivot(index="function", columns="year", values="spending_bn"))
        share = shares.loc[function] if function in shares.index else pd.Series({start: 1.0, end: 1.0})
        rows.append({"area": area, "function": function, "start": start, "end": end,
                     "price_year": int(part["price_year"].iloc[0]), "spending_start": spend["level_start"],
                     "spending_end": spend["level_end"], "average_growth": spend["average_growth"],
                     "growth_rate": spend["annual_growth_rate"], "per_capita_start": per["level_start"],
                     "per_capita_end": per["level_end"], "per_capita_growth_rate": per["annual_growth_rate"],
                     "share_start": float(share[start]), "share_end": float(share[end])})
    out = pd.DataFrame(rows)
    return declare(out, safe=["spending_start", "spending_end", "average_growth", "growth_rate", "per_capita_start",
                              "per_capita_end", "per_capita_growth_rate", "share_start", "share_end"],
                   labels=["start", "end", "price_year"])


def accounts_decomposition(series: pd.DataFrame, *, years: Sequence[int] | None = None) -> pd.DataFrame:
    """Each area's change in spending split into demography and spending per inhabitant (Shapley, bn kr.).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> series = accounts_series(load_example("municipal_accounts"), load_example("municipality_years"),
    ...                          areas={"adults": ["5.38"]}, populations={"adults": "pop_18_66"})
    >>> parts = accounts_decomposition(series)
    >>> bool(abs(parts["demography"] + parts["per_capita"] - parts["change"]).max() < 1e-9)
    True
    """
    start, end = _period(series, years)
    rows = []
    for area, part in series[series["function"] == "all"].groupby("area", sort=False):
        at = part.set_index("year")
        parts = shapley_product({"population": [at.loc[start, "population"]],
                                 "per_capita": [at.loc[start, "per_capita"]]},
                                {"population": [at.loc[end, "population"]], "per_capita": [at.loc[end, "per_capita"]]})
        rows.append({"area": area, "start": start, "end": end, "price_year": int(at["price_year"].iloc[0]),
                     "spending_start": parts["start"].item() / 1e9, "spending_end": parts["end"].item() / 1e9,
                     "change": parts["change"].item() / 1e9, "demography": parts["population"].item() / 1e9,
                     "per_capita": parts["per_capita"].item() / 1e9})
    return declare(pd.DataFrame(rows), safe=["spending_start", "spending_end", "change", "demography", "per_capita"],
                   labels=["start", "end", "price_year"])


def accounts_key_numbers(growth: pd.DataFrame, decomposition: pd.DataFrame, *, area: str, language: str = "en"):
    """Key numbers of one area's growth for the report's text (safe: public accounts).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> series = accounts_series(load_example("municipal_accounts"), load_example("municipality_years"),
    ...                          areas={"adults": ["5.38"]}, populations={"adults": "pop_18_66"})
    >>> key = accounts_key_numbers(accounts_growth(series), accounts_decomposition(series), area="adults")
    >>> key["area_label"], round(key["per_capita_growth_rate"], 4)
    ('adults (per 18–66-year-old)', 0.01)
    """
    row = growth[(growth["area"] == area) & (growth["function"] == "all")]
    parts = decomposition[decomposition["area"] == area]
    if row.empty or parts.empty:
        raise ParameterError(f"area {area!r} is not in the growth table; areas: {sorted(growth['area'].unique())}")
    row, parts = row.iloc[0], parts.iloc[0]
    label = f"steering_area_{area}"
    key = {"area_label": text("labels", label, language=language) if has_text("labels", label) else area,
           "start": int(row["start"]), "end": int(row["end"]), "price_year": int(row["price_year"]),
           **{c: float(row[c]) for c in ("spending_start", "spending_end", "average_growth", "per_capita_growth_rate")},
           "change": float(parts["change"]), "demography": float(parts["demography"])}
    return declare(key, safe=["spending_start", "spending_end", "average_growth", "per_capita_growth_rate", "change",
                              "demography"], labels=["start", "end", "price_year"])


# --- the register: commitments, volume × unit cost, budget follow-up ---------------------------------------------

def register_years(params, spells: pd.DataFrame) -> tuple[int, int]:
    """The register years: ``steering.register_years``, else the synthetic window, else the spells' years.

    Examples
    --------
    >>> from progression.datasets import example_params, load_example
    >>> register_years(example_params(), load_example("spells"))
    (2010, 2024)
    """
    if params.steering.register_years is not None:
        return tuple(int(y) for y in params.steering.register_years)
    if params.data.source == "synthetic":
        return params.data.synthetic.start_year, params.data.synthetic.end_year
    return int(spells["start_date"].dt.year.min()), int(spells["start_date"].dt.year.max())


def register_commitments(spells: pd.DataFrame, unit_costs: pd.DataFrame, *, services: Sequence[str] | None = None,
                         payer: str = "kommune", staircase=None) -> pd.DataFrame:
    """The register's service spells priced by their paragraph's unit cost, with the step of each paragraph.

    Person level: an input of the steps below, never written. ``step`` is :data:`OTHER_STEP` for a
    paragraph on no step.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> priced = register_commitments(load_example("spells"), load_example("unit_costs"))
    >>> sorted(priced["step"].unique())
    ['ABL105', 'SEL107', 'SEL108', 'SEL82', 'SEL85', 'other']
    """
    stairs = as_staircase(staircase)
    out = commitments(spells, unit_costs, services=services, payer=payer)
    steps = {p: stairs.step_of(p) or OTHER_STEP for p in out["paragraph"].unique()}
    out["step"] = out["paragraph"].map(steps)
    return out


def _labels(stairs, language: str) -> dict[str, str]:
    other = {"en": "services on no step", "da": "ydelser uden for trappen"}[language]
    total = {"en": "all commitments", "da": "alle bevillinger"}[language]
    return {**PARAGRAPHS, **stairs.labels(language), OTHER_STEP: other, TOTAL: total}


def _by_level(compute, stairs, language: str) -> pd.DataFrame:
    """``compute(by)`` at the three levels, stacked with ``level``, ``group``, ``part_of`` and ``label``."""
    labels = _labels(stairs, language)
    frames = []
    for level, by in zip(_LEVELS, (["step", "paragraph"], ["step"], [])):
        part = compute(by)
        if level == "paragraph":
            part = part.rename(columns={"paragraph": "group", "step": "part_of"})
        elif level == "step":
            part = part.rename(columns={"step": "group"}).assign(part_of=TOTAL)
        else:
            part = part.assign(group=TOTAL, part_of="")
        frames.append(part.assign(level=level))
    out = pd.concat(frames, ignore_index=True)
    out["label"] = out["group"].map(labels).fillna(out["group"])
    # each step's paragraphs, then the step, …, then the total
    order = {s: i for i, s in enumerate([*stairs.steps, OTHER_STEP, TOTAL])}
    step = np.where(out["level"] == "paragraph", out["part_of"], out["group"])
    out["_order"] = pd.Series(step, index=out.index).map(order) * 2 + (out["level"] != "paragraph")
    lead = [c for c in ("year", "month") if c in out.columns]
    out = out.sort_values([*lead, "_order", "group"], kind="stable").drop(columns="_order")
    first = [*lead, "level", "group", "part_of", "label"]
    return out[[*first, *[c for c in out.columns if c not in first]]].reset_index(drop=True)


_VOLUME_STATS = ("user_years",)
_MONEY = ("spending", "unit_cost")


def _declare_register(table: pd.DataFrame, *, stats: Sequence[str], money: Sequence[str], labels: Sequence[str],
                      margins: Sequence[str] | None, safe: Sequence[str] = ()) -> pd.DataFrame:
    return declare(table, counts=["n_persons"], stats={c: "n_persons" for c in stats},
                   margins={"n_persons": list(margins)} if margins is not None else None,
                   magnitudes={c: "dominance_share" for c in money},
                   magnitude_counts={c: "n_persons" for c in money}, labels=list(labels), safe=list(safe))


def register_volume(priced: pd.DataFrame, *, years: Sequence[int], staircase=None, dominance_n: int = 2,
                    language: str = "en") -> pd.DataFrame:
    """Persons, user-years, spending and unit cost per year, by paragraph, by step and in total.

    Parameters
    ----------
    priced : DataFrame
        :func:`register_commitments`.
    years : (int, int)
        First and last year.
    dominance_n : int, default 2
        ``n`` of the dominance rule (``disclosure.dominance.n``).

    Returns
    -------
    DataFrame
        ``year``, ``level`` (paragraph, step, total), ``group``, ``part_of`` (the row it adds up to),
        ``label``, ``n_persons``, ``user_years``, ``spending``, ``unit_cost`` (kr. per user-year) and
        ``dominance_share`` (used for the dominance rule, not written).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> priced = register_commitments(load_example("spells"), load_example("unit_costs"))
    >>> volume = register_volume(priced, years=(2023, 2024))
    >>> volume.query("year == 2024 and level == 'step'")["group"].tolist()
    ['SEL82', 'SEL85', 'SEL107', 'ABL105', 'SEL108', 'other']
    """
    stairs = as_staircase(staircase)
    span = range(int(years[0]), int(years[-1]) + 1)
    out = _by_level(lambda by: yearly_volume(priced, years=span, by=by, dominance_n=dominance_n), stairs, language)
    return _declare_register(out, stats=_VOLUME_STATS, money=_MONEY, labels=["year"], margins=["year", "part_of"])


def _two_years(volume: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    present = sorted(volume["year"].unique())
    missing = [y for y in (start, end) if y not in present]
    if missing:
        raise ParameterError(f"year(s) {missing} not in the register volume; years present: {present[0]}–{present[-1]}")
    keys = ["level", "group", "part_of", "label"]
    a = volume[volume["year"] == start].set_index(keys)
    b = volume[volume["year"] == end].set_index(keys)
    both = a.add_suffix("_start").join(b.add_suffix("_end"), how="outer")
    for c in ("n_persons", "user_years", "spending"):
        both[[f"{c}_start", f"{c}_end"]] = both[[f"{c}_start", f"{c}_end"]].fillna(0.0)
    both["unit_cost_start"] = both["unit_cost_start"].fillna(both["unit_cost_end"])
    both["unit_cost_end"] = both["unit_cost_end"].fillna(both["unit_cost_start"])
    both["n_persons"] = both[["n_persons_start", "n_persons_end"]].min(axis=1)
    both["dominance_share"] = both[["dominance_share_start", "dominance_share_end"]].max(axis=1)
    order = pd.Index(pd.concat([b.index.to_frame(index=False), a.index.to_frame(index=False)]).drop_duplicates()
                     .itertuples(index=False, name=None))  # the volume table's order
    return both.reindex(pd.MultiIndex.from_tuples(order, names=keys)).reset_index()


def register_price_volume(volume: pd.DataFrame, municipality_years: pd.DataFrame, *, years: Sequence[int],
                          population: str = "pop_18_66") -> pd.DataFrame:
    """The change in spending between two years split into volume and price, and into demography, coverage and
    unit cost, by paragraph, step and in total.

    Parameters
    ----------
    volume : DataFrame
        :func:`register_volume` holding both years.
    municipality_years : DataFrame
        Population by municipality and year (``population``).
    years : (int, int)
        The start and end year.
    population : str, default "pop_18_66"
        Population of the demography split.

    Returns
    -------
    DataFrame
        ``level``, ``group``, ``part_of``, ``label``, ``start``, ``end``, ``n_persons`` (the smaller of the
        two years' counts), ``user_years_start``/``_end``, ``unit_cost_start``/``_end``,
        ``spending_start``/``_end``, ``change``; the two-factor split ``volume`` + ``price`` (Shapley); the
        population (public) and the coverage (user-years per 1,000 inhabitants) of each year and the
        three-factor split ``demography`` + ``coverage`` + ``unit_cost``.

    Notes
    -----
    With one price per paragraph a paragraph's ``price`` part is zero; the ``price`` part of a step or of
    the total is the change in its mix of paragraphs (Finansministeriet 2009: average costs develop "i
    lyset af brugernes tyngde").

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> priced = register_commitments(load_example("spells"), load_example("unit_costs"))
    >>> volume = register_volume(priced, years=(2023, 2024))
    >>> split = register_price_volume(volume, load_example("municipality_years"), years=(2023, 2024))
    >>> paragraphs = split[split["level"] == "paragraph"]
    >>> bool(paragraphs["price"].abs().max() < 1e-3), bool((split["volume"] + split["price"] - split["change"]).abs().max() < 1e-3)
    (True, True)
    """
    start, end = int(years[0]), int(years[1])
    if population not in municipality_years.columns:
        raise DataContractError(f"steering.register_population: column {population!r} not in municipality_years; "
                                f"columns present: {list(municipality_years.columns)}")
    people = municipality_years.groupby("year")[population].sum()
    missing = [y for y in (start, end) if y not in people.index]
    if missing:
        raise DataContractError(f"municipality_years has no population for year(s) {missing}")
    both = _two_years(volume, start, end)
    split = price_volume("user_years_start", "unit_cost_start", "user_years_end", "unit_cost_end", data=both)
    split["population_start"], split["population_end"] = float(people[start]), float(people[end])
    split["coverage_start"] = split["user_years_start"] / split["population_start"] * 1000
    split["coverage_end"] = split["user_years_end"] / split["population_end"] * 1000
    three = price_volume_demography(split["population_start"], split["user_years_start"] / split["population_start"],
                                    split["unit_cost_start"], split["population_end"],
                                    split["user_years_end"] / split["population_end"], split["unit_cost_end"])
    for c in ("demography", "coverage", "unit_cost"):
        split[c] = three[c].to_numpy()
    out = split.assign(start=start, end=end)
    columns = ["level", "group", "part_of", "label", "start", "end", "n_persons", "user_years_start", "user_years_end",
               "unit_cost_start", "unit_cost_end", "spending_start", "spending_end", "change", "volume", "price",
               "population_start", "population_end", "coverage_start", "coverage_end", "demography", "coverage",
               "unit_cost", "dominance_share"]
    out = out[columns]
    return _declare_register(
        out, stats=["user_years_start", "user_years_end", "coverage_start", "coverage_end"],
        money=["unit_cost_start", "unit_cost_end", "spending_start", "spending_end", "change", "volume", "price",
               "demography", "coverage", "unit_cost"],
        labels=["start", "end"], margins=["part_of"],
        safe=["population_start", "population_end"])  # public population figures


_FOLLOWUP_MONEY = ("budget_unit_cost", "budget", "spending_to_date", "unit_cost", "spending", "deviation",
                   "deviation_volume", "deviation_price", "actual_spending", "forecast_error")


def _followup_frame(priced: pd.DataFrame, by: list[str], *, year: int, month: int, volume_change: float,
                    price_change: float, dominance_n: int) -> pd.DataFrame:
    base = yearly_volume(priced, years=[year - 1], by=by, dominance_n=dominance_n)
    budget = budget_from_base(base, base_year=year - 1, by=by, volume_change=volume_change, price_change=price_change)
    forecast = forecast_year(priced, year=year, month=month, by=by, dominance_n=dominance_n)
    out = budget_followup(forecast, budget, by=by)
    actual = yearly_volume(priced, years=[year], by=by, dominance_n=dominance_n)
    extra = base[[*by, "n_persons", "dominance_share"]].rename(
        columns={"n_persons": "n_base", "dominance_share": "d_base"}).merge(
        actual[[*by, "n_persons", "dominance_share", "spending", "user_years"]].rename(
            columns={"n_persons": "n_actual", "dominance_share": "d_actual", "spending": "actual_spending",
                     "user_years": "actual_user_years"}), on=by, how="outer") if by else pd.concat(
        [base[["n_persons", "dominance_share"]].set_axis(["n_base", "d_base"], axis=1),
         actual[["n_persons", "dominance_share", "spending", "user_years"]].set_axis(
             ["n_actual", "d_actual", "actual_spending", "actual_user_years"], axis=1)], axis=1)
    out = out.merge(extra, on=by, how="left") if by else pd.concat([out, extra], axis=1)
    out["n_persons"] = out[["n_persons", "n_base", "n_actual"]].fillna(0).min(axis=1)
    out["dominance_share"] = out[["dominance_share", "d_base", "d_actual"]].max(axis=1)
    out["actual_spending"] = out["actual_spending"].fillna(0.0)
    out["forecast_error"] = out["spending"] - out["actual_spending"]
    return out.drop(columns=["n_base", "n_actual", "d_base", "d_actual"])


def followup(priced: pd.DataFrame, *, year: int, month: int, volume_change: float = 0.0, price_change: float = 0.0,
             staircase=None, dominance_n: int = 2, language: str = "en") -> pd.DataFrame:
    """Budget follow-up at the end of a month: budget, forecast on known commitments, deviation split into
    volume and price, and the year's actual spending, by paragraph, step and in total.

    The budget is the year before's user-years × unit cost, changed by ``volume_change`` and
    ``price_change`` (:func:`progression.steering.budget_from_base`); the forecast is the
    dispositionsregnskab at the end of ``month`` (:func:`progression.steering.forecast_year`).

    Returns
    -------
    DataFrame
        ``year``, ``month``, ``level``, ``group``, ``part_of``, ``label``, ``n_persons`` (the smallest of
        the base year's, the forecast's and the year's counts), ``budget_user_years``,
        ``budget_unit_cost``, ``budget``, ``user_years_to_date``, ``spending_to_date``, ``user_years``,
        ``unit_cost``, ``spending`` (the forecast), ``deviation`` = ``deviation_volume`` +
        ``deviation_price``, ``actual_user_years``, ``actual_spending`` (the whole year, known afterwards)
        and ``forecast_error`` (forecast − actual).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> priced = register_commitments(load_example("spells"), load_example("unit_costs"))
    >>> table = followup(priced, year=2024, month=6)
    >>> total = table[table["level"] == "total"].iloc[0]
    >>> bool(abs(total["deviation_volume"] + total["deviation_price"] - total["deviation"]) < 1e-3)
    True
    """
    stairs = as_staircase(staircase)
    out = _by_level(lambda by: _followup_frame(priced, by, year=year, month=month, volume_change=volume_change,
                                               price_change=price_change, dominance_n=dominance_n), stairs, language)
    out.insert(0, "month", month)
    out.insert(0, "year", year)
    columns = ["year", "month", "level", "group", "part_of", "label", "n_persons", "budget_user_years",
               "budget_unit_cost", "budget", "user_years_to_date", "spending_to_date", "user_years", "unit_cost",
               "spending", "deviation", "deviation_volume", "deviation_price", "actual_user_years", "actual_spending",
               "forecast_error", "dominance_share"]
    return _declare_register(out[columns], stats=["budget_user_years", "user_years_to_date", "user_years",
                                                  "actual_user_years"],
                             money=_FOLLOWUP_MONEY, labels=["year", "month"], margins=["part_of"])


def followup_by_month(priced: pd.DataFrame, *, year: int, volume_change: float = 0.0, price_change: float = 0.0,
                      dominance_n: int = 2) -> pd.DataFrame:
    """The follow-up of all commitments at the end of every month of the year (the forecast's path).

    Returns
    -------
    DataFrame
        ``year``, ``month``, ``n_persons``, ``budget``, ``spending_to_date``, ``spending`` (forecast),
        ``deviation``, ``deviation_volume``, ``deviation_price``, ``actual_spending``, ``forecast_error``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> priced = register_commitments(load_example("spells"), load_example("unit_costs"))
    >>> path = followup_by_month(priced, year=2024)
    >>> bool(abs(path.loc[path["month"] == 12, "forecast_error"].item()) < 1e-3)
    True
    """
    frames = [_followup_frame(priced, [], year=year, month=m, volume_change=volume_change, price_change=price_change,
                              dominance_n=dominance_n).assign(month=m) for m in range(1, 13)]
    out = pd.concat(frames, ignore_index=True).assign(year=year)
    columns = ["year", "month", "n_persons", "budget", "spending_to_date", "spending", "deviation", "deviation_volume",
               "deviation_price", "actual_spending", "forecast_error", "dominance_share"]
    money = ["budget", "spending_to_date", "spending", "deviation", "deviation_volume", "deviation_price",
             "actual_spending", "forecast_error"]
    return _declare_register(out[columns], stats=[], money=money, labels=["year", "month"], margins=None)


def _total_key_numbers(table: pd.DataFrame, columns: Mapping[str, str], labels: Sequence[str]):
    row = table[table["level"] == "total"].iloc[0] if "level" in table.columns else table.iloc[0]
    key = {name: float(row[column]) / 1e6 for name, column in columns.items()}
    key.update({c: int(row[c]) for c in labels})
    key.update({"n_persons": int(row["n_persons"]), "dominance_share": float(row["dominance_share"])})
    return declare(key, counts=["n_persons"], magnitudes={k: "dominance_share" for k in columns},
                   magnitude_counts={k: "n_persons" for k in columns}, labels=list(labels))


def register_key_numbers(price_volume_table: pd.DataFrame):
    """Key numbers of the total's price/volume split for the report's text (mio. kr.; magnitudes).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> priced = register_commitments(load_example("spells"), load_example("unit_costs"))
    >>> split = register_price_volume(register_volume(priced, years=(2023, 2024)), load_example("municipality_years"),
    ...                               years=(2023, 2024))
    >>> sorted(register_key_numbers(split))
    ['change_m', 'dominance_share', 'end', 'n_persons', 'price_m', 'start', 'volume_m']
    """
    return _total_key_numbers(price_volume_table, {"change_m": "change", "volume_m": "volume", "price_m": "price"},
                              ["start", "end"])


def followup_key_numbers(followup_table: pd.DataFrame):
    """Key numbers of the total's budget follow-up for the report's text (mio. kr.; magnitudes).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> priced = register_commitments(load_example("spells"), load_example("unit_costs"))
    >>> key = followup_key_numbers(followup(priced, year=2024, month=6))
    >>> abs(key["deviation_m"] - key["volume_m"] - key["price_m"]) < 1e-9
    True
    """
    columns = {"spending_m": "spending", "budget_m": "budget", "deviation_m": "deviation", "volume_m": "deviation_volume",
               "price_m": "deviation_price", "actual_m": "actual_spending", "error_m": "forecast_error"}
    return _total_key_numbers(followup_table, columns, ["year", "month"])


# --- comparisons with the synthetic truth ------------------------------------------------------------------------
# (to be gathered in progression.analyses.truth)

def accounts_truth(series: pd.DataFrame, truth: Mapping, *, years: Sequence[int] | None = None) -> pd.DataFrame:
    """Spending per inhabitant and its growth beside the generator's: what the data were made to be.

    The synthetic generator sets each area's national spending per inhabitant to
    ``mean_dkk_2008 × (1 + g)^(year − 2008)`` — calibrated to Finansministeriet (2009)'s 7,776 and 9,105
    kr. in 2008 and a real growth ``g`` — so these rows are *calibration targets* the data recover by
    construction, not reproductions of the report.

    Returns
    -------
    DataFrame
        ``area``, ``quantity``, ``year``, ``estimate``, ``truth``, ``difference``, ``role``
        (``calibration_target`` or ``generator_parameter``).

    Examples
    --------
    >>> from progression.datasets import example_truth, load_example
    >>> series = accounts_series(load_example("municipal_accounts"), load_example("municipality_years"),
    ...                          areas={"adults": ["5.38"]}, populations={"adults": "pop_18_66"})
    >>> check = accounts_truth(series, example_truth())
    >>> bool(check["difference"].abs().max() < 1e-4)
    True
    """
    start, end = _period(series, years)
    growth = truth["params"]["spending_real_growth"]
    rows = []
    for area, part in series[series["function"] == "all"].groupby("area", sort=False):
        if area not in truth["spending"]:
            continue
        at = part.set_index("year")["per_capita"]
        generated = truth["spending"][area]
        for year in (start, end):
            true = generated["by_year"][str(year)]["national_mean_dkk"]
            rows.append({"area": area, "quantity": "per_capita", "year": year, "estimate": float(at[year]),
                         "truth": float(true), "difference": float(at[year] / true - 1), "role": "calibration_target"})
        rate = (at[end] / at[start]) ** (1 / (end - start)) - 1
        rows.append({"area": area, "quantity": "per_capita_growth_rate", "year": end, "estimate": float(rate),
                     "truth": float(growth), "difference": float(rate - growth), "role": "generator_parameter"})
        rows.append({"area": area, "quantity": "per_capita_2008", "year": 2008,
                     "estimate": float(at[2008]) if 2008 in at.index else np.nan,
                     "truth": float(generated["mean_dkk_2008"]),
                     "difference": float(at[2008] / generated["mean_dkk_2008"] - 1) if 2008 in at.index else np.nan,
                     "role": "calibration_target"})
    # generator parameters and national sums of public accounts: nothing describes a person
    return declare(pd.DataFrame(rows), safe=["estimate", "truth", "difference"], labels=["year"])


def register_truth(volume: pd.DataFrame, person_year_costs: pd.DataFrame, truth: Mapping) -> pd.DataFrame:
    """Spending on the register's commitments beside the generator's costs of the same services.

    The generator costs each person-year on the simulated occupancy of each service; the register is
    what was recorded: spells closed late, same-day changes, and §82 spells left out of the register (a
    share ``sel82_unrecorded_share``). The ratio shows what a follow-up on recorded commitments misses.

    Returns
    -------
    DataFrame
        ``paragraph``, ``n_persons`` (the smallest yearly count), ``spending`` (register, summed over the
        years), ``generator_spending``, ``ratio`` and ``expected_ratio`` (1 − the unrecorded share for §82,
        else 1).

    Examples
    --------
    >>> from progression.datasets import example_truth, load_example
    >>> priced = register_commitments(load_example("spells"), load_example("unit_costs"))
    >>> volume = register_volume(priced, years=(2010, 2024))
    >>> check = register_truth(volume, load_example("person_year_costs"), example_truth())
    >>> check.set_index("paragraph").loc[["SEL85", "SEL82a"], "expected_ratio"].tolist()
    [1.0, 0.7]
    """
    paragraphs = volume[volume["level"] == "paragraph"]
    years = sorted(paragraphs["year"].unique())
    costs = person_year_costs[person_year_costs["year"].isin(years)
                              & person_year_costs["service"].isin(paragraphs["group"].unique())]
    generated = costs.groupby("service")["cost_dkk"].sum()
    unrecorded = truth["params"].get("sel82_unrecorded_share", 0.0)
    out = (paragraphs.groupby("group")
           .agg(n_persons=("n_persons", "min"), spending=("spending", "sum"), dominance_share=("dominance_share", "max"))
           .reset_index().rename(columns={"group": "paragraph"}))
    out["generator_spending"] = out["paragraph"].map(generated).astype(float)
    out["ratio"] = out["spending"] / out["generator_spending"]
    out["expected_ratio"] = np.where(out["paragraph"].str.startswith("SEL82"), 1 - unrecorded, 1.0)
    out = out[["paragraph", "n_persons", "spending", "generator_spending", "ratio", "expected_ratio", "dominance_share"]]
    return declare(out, counts=["n_persons"], magnitudes={c: "dominance_share" for c in
                                                          ("spending", "generator_spending", "ratio")},
                   magnitude_counts={c: "n_persons" for c in ("spending", "generator_spending", "ratio")},
                   safe=["expected_ratio"])  # a generator parameter
