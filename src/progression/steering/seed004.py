"""Finansministeriet (2009), section 2: the published tables, and what reproducing them means.

Finansministeriet, Indenrigs- og Socialministeriet & KL (2009), *Det specialiserede socialområde –
redskaber til styring og prioritering*, section 2 reports national expenditure on the specialised
social area 2004–2009 (Tabel 2.1, 2.2, 2.6, bn kr. at 2009 prices), refusion income (Tabel 2.3, 2.7),
spending per inhabitant of the relevant age (Tabel 2.4, 2.8) and recipients in total and per 1,000
(Tabel 2.5, 2.9). :func:`load_seed004_tables` reads them from the package's own keyed copy
(``progression/data/seed004_tables.csv``; its README gives the source and each row's line in the
project's text of the report).

Every published number is rounded, so a number recomputed from other published numbers is reproduced
when it lies within what the rounding allows. Each check here gives the recomputed value, its
difference from the published one and the bounds the rounding of its inputs allows:

* :func:`reproduce_growth` — the growth columns (average growth in bn kr., compound rate in percent);
* :func:`check_sums` — items add up to their totals, and Tabel 2.1 repeats the totals of 2.2 and 2.6;
* :func:`implied_populations` — the 0–22- and 18–66-year-olds that spending ÷ spending per inhabitant,
  and recipients ÷ recipients per 1,000, imply;
* :func:`reproduce_weighted_means` — the national spending per inhabitant (9,105 and 7,776 kr. in
  2008, the lines of Figur 2.1 and 2.2) as Σ spending / Σ population;
* :func:`seed004_decomposition` — the growth split into demography and spending per inhabitant, and
  for placements of children and adults' botilbud into demography, coverage and unit cost.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from progression.exceptions import DataContractError, ParameterError
from progression.steering.decomposition import price_volume_demography, shapley_product
from progression.steering.growth import growth_table, implied_population

__all__ = [
    "SEED004_REFERENCE", "SEED004_HALF_UNITS", "SEED004_AREAS", "load_seed004_tables", "seed004_wide",
    "reproduce_growth", "check_sums", "implied_populations", "reproduce_weighted_means", "seed004_decomposition",
]

#: How the report is cited.
SEED004_REFERENCE = ("Finansministeriet, Indenrigs- og Socialministeriet & KL (2009), Det specialiserede "
                     "socialområde – redskaber til styring og prioritering")

#: Half the rounding unit of each measure as published (bn kr. with one decimal, whole kroner, …).
SEED004_HALF_UNITS = {
    "spending_bn": 0.05, "average_growth_bn": 0.05, "per_capita_dkk": 0.5, "growth_rate_pct": 0.05,
    "recipients": 0.0, "per_1000": 0.005, "refusion_mdkk": 0.5, "refusion_share_pct": 0.05,
}

#: The two areas: spending table, per-inhabitant table, recipients table, age group.
SEED004_AREAS = {
    "children": {"spending": "2.2", "per_capita": "2.4", "recipients": "2.5", "age": "0-22"},
    "adults": {"spending": "2.6", "per_capita": "2.8", "recipients": "2.9", "age": "18-66"},
}

_GROWTH = {"average_growth_bn": "spending_bn", "growth_rate_pct": "per_capita_dkk"}
_ADDITIVE = ("spending_bn", "average_growth_bn", "per_capita_dkk", "refusion_mdkk")


@cache
def _tables() -> pd.DataFrame:
    with resources.files("progression.data").joinpath("seed004_tables.csv").open("rb") as fh:
        return pd.read_csv(fh, dtype={"table": str, "period": str, "basis": str, "parent": str},
                           keep_default_na=False, na_values={"value": [""]})


def load_seed004_tables() -> pd.DataFrame:
    """The published tables of Finansministeriet (2009), section 2, in one long table.

    Returns
    -------
    DataFrame
        One row per published number: ``table`` ("2.1" … "2.9"), ``item`` (a code shared across
        tables), ``parent`` (the total it is part of; empty for totals and recipients), ``label`` (the
        report's words), ``measure`` (``spending_bn``, ``average_growth_bn``, ``per_capita_dkk``,
        ``growth_rate_pct``, ``recipients``, ``per_1000``, ``refusion_mdkk``, ``refusion_share_pct``),
        ``period`` ("2004" … "2009", or "2004-2008" for growth), ``basis`` (R = accounts, B = budget,
        empty for counts), ``value`` and ``line`` (the line of the number in the project's text of the
        report, for maintainers).

    Examples
    --------
    >>> tables = load_seed004_tables()
    >>> len(tables), sorted(tables["table"].unique())[:3]
    (282, ['2.1', '2.2', '2.3'])
    >>> tables.query("table == '2.8' and item == 'i_alt' and period == '2008'")["value"].item()
    7776.0
    """
    return _tables().copy()


def seed004_wide(tables: pd.DataFrame, table: str, measure: str, *, basis: str | None = "R") -> pd.DataFrame:
    """One published table as items × years (int column labels), in the report's row order.

    Parameters
    ----------
    tables : DataFrame
        :func:`load_seed004_tables`.
    table : str
        Table number, e.g. ``"2.1"``.
    measure : str
        The measure of the table, e.g. ``"spending_bn"``.
    basis : str or None, default="R"
        Keep rows of this basis only (R = accounts, B = budget; None: all).

    Returns
    -------
    DataFrame
        Items as rows (index ``item``), years as int columns.

    Raises
    ------
    DataContractError
        When the table has no such measure (the message lists those it has).

    Examples
    --------
    >>> seed004_wide(load_seed004_tables(), "2.1", "spending_bn")[[2004, 2008]]
                                 2004  2008
    item
    udsatte_boern_unge           12.6  14.0
    udsatte_voksne_handicappede  24.9  27.5
    i_alt                        37.4  41.5
    """
    rows = tables[(tables["table"] == table) & (tables["measure"] == measure)]
    if basis is not None:
        rows = rows[rows["basis"] == basis]
    rows = rows[rows["period"].str.fullmatch(r"\d{4}")]
    if rows.empty:
        raise DataContractError(f"no rows of table {table!r} with measure {measure!r}"
                                f"{' and basis ' + repr(basis) if basis else ''}; measures of the table: "
                                f"{sorted(tables.loc[tables['table'] == table, 'measure'].unique())}")
    order = list(dict.fromkeys(rows["item"]))
    wide = rows.pivot(index="item", columns="period", values="value").reindex(order)
    wide.columns = [int(c) for c in wide.columns]
    return wide


def reproduce_growth(tables: pd.DataFrame, *, start: int = 2004, end: int = 2008,
                     tolerance: float = 0.1) -> pd.DataFrame:
    """The growth columns of Tabel 2.1, 2.2, 2.4, 2.6 and 2.8 recomputed from the tables' own levels.

    Parameters
    ----------
    tables : DataFrame
        :func:`load_seed004_tables`.
    start, end : int, default 2004, 2008
        The period of the published growth ("Gnst. vækst 2004-2008").
    tolerance : float, default 0.1
        Largest allowed difference: 0.1 bn kr. for the average growth, 0.1 percentage point for the
        growth rate.

    Returns
    -------
    DataFrame
        ``table``, ``item``, ``label``, ``measure``, ``unit``, ``start``, ``end``, ``published``,
        ``recomputed``, ``difference``, ``tolerance``, ``within_tolerance``, ``bound_low`` and
        ``bound_high`` (what the recomputed value may be given the rounding of its two inputs) and
        ``consistent`` (the published value's own rounding interval meets those bounds).

    Notes
    -----
    Average growth :math:`(x_{2008}-x_{2004})/4` in the bn kr. tables, compound rate
    :math:`(x_{2008}/x_{2004})^{1/4}-1` in the tables per inhabitant (:func:`growth_table`).

    Examples
    --------
    >>> growth = reproduce_growth(load_seed004_tables())
    >>> len(growth), bool(growth["within_tolerance"].all()), bool(growth["consistent"].all())
    (27, True, True)
    >>> growth.set_index(["table", "item"]).loc[("2.8", "raadgivning"), ["published", "recomputed"]].round(2).tolist()
    [-0.9, -0.98]
    """
    rows = []
    for measure, level_measure in _GROWTH.items():
        published = tables[(tables["measure"] == measure) & (tables["period"] == f"{start}-{end}")]
        half = SEED004_HALF_UNITS[level_measure]
        for table in published["table"].unique():
            wide = seed004_wide(tables, table, level_measure)
            growth = growth_table(wide, start=start, end=end)
            s, e, n = growth["level_start"], growth["level_end"], growth["years"]
            if measure == "average_growth_bn":
                value = growth["average_growth"]
                low, high = (e - half - (s + half)) / n, (e + half - (s - half)) / n
                unit = "bn kr. per year"
            else:
                value = 100 * growth["annual_growth_rate"]
                low = 100 * (((e - half) / (s + half)) ** (1 / n) - 1)
                high = 100 * (((e + half) / (s - half)) ** (1 / n) - 1)
                unit = "percent per year"
            pub = published[published["table"] == table].set_index("item")
            for item in wide.index:
                p = float(pub.loc[item, "value"])
                p_half = SEED004_HALF_UNITS[measure]
                rows.append({
                    "table": table, "item": item, "label": pub.loc[item, "label"], "measure": measure, "unit": unit,
                    "start": start, "end": end, "published": p, "recomputed": float(value[item]),
                    "difference": round(float(value[item]) - p, 9), "tolerance": tolerance,
                    "within_tolerance": bool(abs(float(value[item]) - p) <= tolerance + 1e-9),
                    "bound_low": float(low[item]), "bound_high": float(high[item]),
                    "consistent": bool(p - p_half <= float(high[item]) + 1e-9 and p + p_half >= float(low[item]) - 1e-9),
                })
    return pd.DataFrame(rows).sort_values(["table"], kind="stable").reset_index(drop=True)


def check_sums(tables: pd.DataFrame) -> pd.DataFrame:
    """Items against their totals, and the totals Tabel 2.1 repeats from Tabel 2.2 and 2.6.

    Parameters
    ----------
    tables : DataFrame
        :func:`load_seed004_tables`.

    Returns
    -------
    DataFrame
        ``check`` ("items add up to the total" or "same total in two tables"), ``table``, ``item``
        (the total), ``measure``, ``period``, ``basis``, ``items_added``, ``published`` (the total),
        ``recomputed`` (the sum of its items, or the other table's total), ``difference``,
        ``allowed`` (what rounding allows: half a unit for each item and for the total) and
        ``within``.

    Examples
    --------
    >>> sums = check_sums(load_seed004_tables())
    >>> bool(sums["within"].all()), int(sums["difference"].abs().gt(0).sum()) > 0
    (True, True)
    """
    additive = tables[tables["measure"].isin(_ADDITIVE) & (tables["parent"] != "")]
    rows = []
    for (table, parent, measure, period, basis), items in additive.groupby(
            ["table", "parent", "measure", "period", "basis"], sort=False):
        total = tables[(tables["table"] == table) & (tables["item"] == parent) & (tables["measure"] == measure)
                       & (tables["period"] == period) & (tables["basis"] == basis)]
        if total.empty:
            continue
        half = SEED004_HALF_UNITS[measure]
        recomputed = float(items["value"].sum())
        published = float(total["value"].item())
        allowed = half * (len(items) + 1)
        rows.append({"check": "items add up to the total", "table": table, "item": parent, "measure": measure,
                     "period": period, "basis": basis, "items_added": len(items), "published": published,
                     "recomputed": recomputed, "difference": round(recomputed - published, 9), "allowed": allowed,
                     "within": bool(abs(recomputed - published) <= allowed + 1e-9)})
    repeated = {"udsatte_boern_unge": "2.2", "udsatte_voksne_handicappede": "2.6"}
    for item, other in repeated.items():
        for measure in ("spending_bn", "average_growth_bn"):
            a = tables[(tables["table"] == "2.1") & (tables["item"] == item) & (tables["measure"] == measure)]
            b = tables[(tables["table"] == other) & (tables["item"] == "i_alt") & (tables["measure"] == measure)]
            both = a.merge(b, on=["period", "basis"], suffixes=("", "_other"))
            for r in both.itertuples():
                rows.append({"check": "same total in two tables", "table": f"2.1 / {other}", "item": item,
                             "measure": measure, "period": r.period, "basis": r.basis, "items_added": 1,
                             "published": float(r.value), "recomputed": float(r.value_other),
                             "difference": float(r.value_other) - float(r.value), "allowed": 0.0,
                             "within": bool(abs(float(r.value_other) - float(r.value)) <= 1e-9)})
    return pd.DataFrame(rows)


def _combine(group: pd.DataFrame) -> dict:
    """The intersection of the items' bounds (midpoint as the population) or, when they do not meet,
    the median item and the span of the bounds, flagged inconsistent."""
    low, high = float(group["bound_low"].max()), float(group["bound_high"].min())
    if low <= high:
        return {"population": (low + high) / 2, "bound_low": low, "bound_high": high, "consistent": True}
    return {"population": float(group["population"].median()), "bound_low": float(group["bound_low"].min()),
            "bound_high": float(group["bound_high"].max()), "consistent": False}


def implied_populations(tables: pd.DataFrame) -> pd.DataFrame:
    """The population of the age group each pair of published numbers implies, with rounding bounds.

    Two sources per area: spending ÷ spending per inhabitant (Tabel 2.2/2.4 and 2.6/2.8; the report's
    denominator is the mean population of the year, *middelfolketal*) and recipients ÷ recipients per
    1,000 (Tabel 2.5 and 2.9; population on 1 January of the following year). Each item gives a
    population with bounds; the ``combined`` row of a source and year is the intersection of its
    items' bounds (its midpoint as the population) when they meet (``consistent``). When they do not —
    the rates of some items rest on other population counts than the rest — it is the median item with
    the span of all bounds, and ``consistent`` is False.

    Parameters
    ----------
    tables : DataFrame
        :func:`load_seed004_tables`.

    Returns
    -------
    DataFrame
        ``area``, ``age``, ``source`` ("spending" or "recipients"), ``year``, ``population_date``,
        ``item``, ``population``, ``bound_low``, ``bound_high``, ``consistent``.

    Examples
    --------
    >>> pops = implied_populations(load_seed004_tables())
    >>> row = pops.query("area == 'adults' and source == 'spending' and year == 2008 and item == 'i_alt'")
    >>> round(row["population"].item() / 1e6, 3)
    3.537
    >>> bool(pops.query("item == 'combined' and source == 'spending'")["consistent"].all())
    True
    >>> pops.query("item == 'combined' and not consistent")[["area", "source", "year"]].to_records(index=False).tolist()
    [('adults', 'recipients', 2007), ('children', 'recipients', 2004), ('children', 'recipients', 2005)]
    """
    rows = []
    for area, spec in SEED004_AREAS.items():
        spending = seed004_wide(tables, spec["spending"], "spending_bn")
        per_capita = seed004_wide(tables, spec["per_capita"], "per_capita_dkk")
        items = [i for i in per_capita.index if i in spending.index]
        for year in per_capita.columns:
            pops = implied_population(spending.loc[items, year].to_numpy() * 1e9, per_capita.loc[items, year],
                                      amount_half_unit=0.05e9, per_capita_half_unit=0.5)
            pops.insert(0, "item", items)
            rows.append(pops.assign(area=area, age=spec["age"], source="spending", year=int(year),
                                    population_date=f"mean population {year}", consistent=True))
        counts = seed004_wide(tables, spec["recipients"], "recipients", basis="")
        rates = seed004_wide(tables, spec["recipients"], "per_1000", basis="")
        for year in rates.columns:
            have = [i for i in rates.index if pd.notna(rates.loc[i, year]) and i in counts.index
                    and pd.notna(counts.loc[i, year])]
            pops = implied_population(counts.loc[have, year], rates.loc[have, year], per=1000,
                                      per_capita_half_unit=0.005)
            pops.insert(0, "item", have)
            rows.append(pops.assign(area=area, age=spec["age"], source="recipients", year=int(year),
                                    population_date=f"1 January {int(year) + 1}", consistent=True))
    out = pd.concat(rows, ignore_index=True)
    combined = [{"area": a, "age": g, "source": s, "year": y, "population_date": d, "item": "combined",
                 **_combine(part[part["item"] != "i_alt"])}
                for (a, g, s, y, d), part in out.groupby(["area", "age", "source", "year", "population_date"],
                                                         sort=False)]
    out = pd.concat([out, pd.DataFrame(combined)], ignore_index=True)
    columns = ["area", "age", "source", "year", "population_date", "item", "population", "bound_low", "bound_high",
               "consistent"]
    return out[columns].sort_values(["area", "source", "year"], kind="stable").reset_index(drop=True)


def reproduce_weighted_means(tables: pd.DataFrame, populations: pd.DataFrame | None = None) -> pd.DataFrame:
    """The national spending per inhabitant as Σ spending / Σ population, beside the published value.

    The report's national average per 0–22- and 18–66-year-old (Tabel 2.4 and 2.8; the lines of
    Figur 2.1 and 2.2 at 9,105 and 7,776 kr. in 2008) is the population-weighted mean of the
    municipalities' spending per inhabitant, i.e. total spending over total population. It is
    recomputed two ways: as the sum of the items' spending per inhabitant, and as the table's total
    spending (Tabel 2.2, 2.6) divided by the population its item rows imply (the ``combined``
    spending-source population of :func:`implied_populations`, which leaves the total row out).

    Parameters
    ----------
    tables : DataFrame
        :func:`load_seed004_tables`.
    populations : DataFrame, optional
        :func:`implied_populations` (computed when not given).

    Returns
    -------
    DataFrame
        ``area``, ``age``, ``year``, ``published``, ``sum_of_items``, ``spending_bn``, ``population``,
        ``recomputed``, ``difference``, ``relative_difference``, ``bound_low``, ``bound_high``,
        ``within`` (the published value lies within the bounds).

    Examples
    --------
    >>> means = reproduce_weighted_means(load_seed004_tables())
    >>> means.query("year == 2008")[["area", "published", "sum_of_items", "within"]]
           area  published  sum_of_items  within
    4  children     9105.0        9105.0    True
    9    adults     7776.0        7777.0    True
    """
    populations = implied_populations(tables) if populations is None else populations
    combined = populations[(populations["item"] == "combined") & (populations["source"] == "spending")]
    rows = []
    for area, spec in SEED004_AREAS.items():
        spending = seed004_wide(tables, spec["spending"], "spending_bn")
        per_capita = seed004_wide(tables, spec["per_capita"], "per_capita_dkk")
        for year in per_capita.columns:
            pop = combined[(combined["area"] == area) & (combined["year"] == year)].iloc[0]
            s = float(spending.loc["i_alt", year])
            value = s * 1e9 / pop["population"]
            low, high = (s - 0.05) * 1e9 / pop["bound_high"], (s + 0.05) * 1e9 / pop["bound_low"]
            published = float(per_capita.loc["i_alt", year])
            rows.append({"area": area, "age": spec["age"], "year": int(year), "published": published,
                         "sum_of_items": float(per_capita.drop(index="i_alt")[year].sum()), "spending_bn": s,
                         "population": float(pop["population"]), "recomputed": value, "difference": value - published,
                         "relative_difference": value / published - 1, "bound_low": low, "bound_high": high,
                         "within": bool(low <= published <= high)})
    return pd.DataFrame(rows)


def seed004_decomposition(tables: pd.DataFrame, *, start: int = 2004, end: int = 2008) -> pd.DataFrame:
    """The growth of the published spending split into its factors (Shapley, exact).

    Two splits, in bn kr. at 2009 prices:

    * each area's total, ``start``→``end``: population × spending per inhabitant (Tabel 2.2/2.4,
      2.6/2.8, the population implied by the total rows) into ``demography`` and ``per_capita``;
    * placements of children 2004→2007 (Tabel 2.2, 2.5) and adults' botilbud 2004→2006 (Tabel 2.6 and
      the two botilbud rows of 2.9; 2007 is undercounted) into ``demography``, ``coverage``
      (recipients per inhabitant) and ``unit_cost`` (spending per recipient at 31 December — a crude
      unit cost: a stock against a year's spending).

    Parameters
    ----------
    tables : DataFrame
        :func:`load_seed004_tables`.
    start, end : int, default=2004, 2008
        Years of the split of the areas' totals.

    Returns
    -------
    DataFrame
        ``area``, ``item``, ``factors``, ``start``, ``end``, ``spending_start``, ``spending_end``,
        ``change`` and the parts ``demography``, ``per_capita``, ``coverage``, ``unit_cost`` (missing
        where not a factor of the row); the parts add up to ``change``.

    Examples
    --------
    >>> parts = seed004_decomposition(load_seed004_tables())
    >>> parts.set_index(["area", "item"])[["change", "demography", "per_capita"]].round(2).iloc[:2]
                    change  demography  per_capita
    area     item
    children i_alt     1.4        0.38        1.02
    adults   i_alt     2.6        0.27        2.33
    """
    if not start < end:
        raise ParameterError(f"start must be before end; got start={start}, end={end}")
    rows = []
    for area, spec in SEED004_AREAS.items():
        spending = seed004_wide(tables, spec["spending"], "spending_bn").loc["i_alt"]
        per_capita = seed004_wide(tables, spec["per_capita"], "per_capita_dkk").loc["i_alt"]
        pop = spending * 1e9 / per_capita
        parts = shapley_product({"population": [pop[start]], "per_capita": [per_capita[start]]},
                                {"population": [pop[end]], "per_capita": [per_capita[end]]}) / 1e9
        rows.append({"area": area, "item": "i_alt", "factors": "population × spending per inhabitant",
                     "start": start, "end": end, "spending_start": parts["start"].item(),
                     "spending_end": parts["end"].item(), "change": parts["change"].item(),
                     "demography": parts["population"].item(), "per_capita": parts["per_capita"].item()})
    three = {
        ("children", "anbringelser", 2007): ("2.2", "2.5", ["anbringelser"], "anbringelser"),
        ("adults", "botilbud", 2006): ("2.6", "2.9", ["botilbud_nedsat_funktionsevne",
                                                      "botilbud_saerlige_sociale_problemer"], "botilbud"),
    }
    for (area, item, last), (spend_table, count_table, count_items, spend_item) in three.items():
        spending = seed004_wide(tables, spend_table, "spending_bn").loc[spend_item] * 1e9
        counts = seed004_wide(tables, count_table, "recipients", basis="").loc[count_items].sum()
        rates = seed004_wide(tables, count_table, "per_1000", basis="").loc[count_items].sum()
        first = 2004
        population = counts / rates * 1000
        parts = price_volume_demography(population[first], counts[first] / population[first],
                                        spending[first] / counts[first], population[last],
                                        counts[last] / population[last], spending[last] / counts[last])
        rows.append({"area": area, "item": item, "factors": "population × recipients per inhabitant × unit cost",
                     "start": first, "end": last, **{c: parts[c].item() / 1e9 for c in
                                                     ("spending_start", "spending_end", "change", "demography",
                                                      "coverage", "unit_cost")}})
    columns = ["area", "item", "factors", "start", "end", "spending_start", "spending_end", "change", "demography",
               "per_capita", "coverage", "unit_cost"]
    return pd.DataFrame(rows).reindex(columns=columns)
