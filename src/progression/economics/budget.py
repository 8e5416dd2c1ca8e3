"""SØM-style budget consequences: effects × unit costs → yearly public cash flows by payer and area.

SØM (*Den Socialøkonomiske Investeringsmodel*, Social- og Boligstyrelsen) is a *budget-economic*
calculation: an intervention's own cost plus the changes in public spending that follow from its
effects, year by year and by payer (kommune, region, stat), at prices after refusion
(:mod:`progression.economics.refusion`). :func:`budget_consequences` returns the flows with the net
present value, the break-even year and the wrong-pocket split (:class:`BudgetConsequences`);
:func:`consequence_effects` turns effect estimates on yearly quantities into its input, and
:func:`area_of` groups items into welfare areas as SØM's figures do.

Money is in DKK with an explicit price year. Positive cash flows are *gains* to a public budget
(savings), negative ones are costs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from progression.constants import PAYERS
from progression.economics.discounting import _year_index, discount_factors, present_value, reprice
from progression.exceptions import ParameterError

__all__ = ["BudgetConsequences", "budget_consequences", "consequence_effects", "AREAS", "area_of"]

_EFFECT_COLUMNS = ("item", "change", "duration_years")


@dataclass(frozen=True)
class BudgetConsequences:
    """Yearly cash flows of an intervention by payer, area and item (result of :func:`budget_consequences`).

    Attributes
    ----------
    flows : DataFrame
        Columns ``year`` (0 = now), ``payer``, ``area``, ``item``, ``amount_dkk`` (positive =
        gain/saving, negative = cost), in ``price_year`` prices.
    price_year : int or None
    rates : discount rates used by the summaries (see :func:`discount_factors`).

    Examples
    --------
    >>> import pandas as pd
    >>> from progression.datasets import load_example
    >>> effects = pd.DataFrame({"item": ["SEL108", "psych_inpatient"], "change": [-0.1, -2.0],
    ...                         "duration_years": [5, 3]})
    >>> result = budget_consequences(effects, load_example("unit_costs"), intervention_cost=150_000)
    >>> result.by_year().head(2)
    payer  kommune   region     total
    year
    0     -59000.0  11000.0  -48000.0
    1      91000.0  11000.0  102000.0
    >>> result.break_even_year(), result.wrong_pocket()["share_of_gains"].round(2).tolist()
    (1, [0.93, 0.07, 0.0])
    """

    flows: pd.DataFrame
    price_year: int | None = None
    rates: object = None

    def by_year(self, by: str = "payer") -> pd.DataFrame:
        """Undiscounted flows as a year × ``by`` table with a ``total`` column."""
        years = range(int(self.flows["year"].max()) + 1) if len(self.flows) else range(0)
        wide = (self.flows.pivot_table(index="year", columns=by, values="amount_dkk", aggfunc="sum")
                .reindex(years).fillna(0.0))
        wide.columns = wide.columns.astype(str)
        wide["total"] = wide.sum(axis=1)
        return wide

    def npv(self, by: str = "payer") -> pd.Series:
        """Net present value by ``by`` (``payer``, ``area`` or ``item``) and in total."""
        return present_value(self.by_year(by), rates=self.rates).rename("npv_dkk")

    def cumulative(self) -> pd.Series:
        """Discounted cumulative net flow (all payers) by year."""
        total = self.by_year()["total"]
        df = discount_factors(total.index, rates=self.rates).to_numpy()
        return pd.Series(np.cumsum(total.to_numpy() * df), index=total.index, name="cumulative_npv_dkk")

    def break_even_year(self) -> int | None:
        """First year from which the discounted cumulative net flow stays ≥ 0 (None if never)."""
        cum = self.cumulative().to_numpy()
        below = np.flatnonzero(cum < 0)
        if len(below) == 0:
            return 0
        first = below[-1] + 1
        return int(first) if first < len(cum) else None

    def wrong_pocket(self) -> pd.DataFrame:
        """Who pays and who gains: present values of costs and gains by payer.

        Returns
        -------
        DataFrame
            Indexed by payer: ``cost_dkk`` (PV of negative flows, as a positive number),
            ``gain_dkk`` (PV of positive flows), ``net_dkk``, ``share_of_costs``, ``share_of_gains``.
        """
        df = discount_factors(self.flows["year"], rates=self.rates).to_numpy()
        pv = self.flows.assign(pv=self.flows["amount_dkk"].to_numpy() * df)
        cost = (-pv["pv"].clip(upper=0)).groupby(pv["payer"]).sum()
        gain = pv["pv"].clip(lower=0).groupby(pv["payer"]).sum()
        out = pd.DataFrame({"cost_dkk": cost, "gain_dkk": gain}).reindex(list(PAYERS)).fillna(0.0)
        out["net_dkk"] = out["gain_dkk"] - out["cost_dkk"]
        out["share_of_costs"] = out["cost_dkk"] / out["cost_dkk"].sum() if out["cost_dkk"].sum() > 0 else np.nan
        out["share_of_gains"] = out["gain_dkk"] / out["gain_dkk"].sum() if out["gain_dkk"].sum() > 0 else np.nan
        out.index.name = "payer"
        return out


def _check_effects(effects: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in _EFFECT_COLUMNS if c not in effects.columns]
    if missing:
        raise ParameterError(
            f"effects: missing column(s) {missing}; expected item, change (per participant per year), "
            f"duration_years, optional start_year and area; columns present: {list(effects.columns)}"
        )
    eff = effects.reset_index(drop=True)
    if "start_year" not in eff:
        eff["start_year"] = 0
    if "area" not in eff:
        eff["area"] = eff["item"]
    for col in ("start_year", "duration_years"):
        values = eff[col].to_numpy(dtype=float)
        bad = (values < 0) | (values != np.round(values)) | ~np.isfinite(values)
        if bad.any():
            raise ParameterError(f"effects: column '{col}' must hold whole years ≥ 0; found "
                                 f"{values[bad][:5].tolist()} in {int(bad.sum())} row(s)")
    if eff["change"].isna().any():
        rows = eff.index[eff["change"].isna()][:5].tolist()
        raise ParameterError(f"effects: column 'change' has missing values in rows {rows}")
    return eff


def _unit_costs_in(unit_costs: pd.DataFrame, price_year: int | None, price_index: pd.Series | None) -> pd.DataFrame:
    from progression.schemas import validate_tables  # on first use: simulation workers skip pandera's import
    validate_tables({"unit_costs": unit_costs})
    years = sorted(unit_costs["price_year"].unique().tolist())
    if price_year is None:
        if len(years) > 1:
            raise ParameterError(
                f"unit_costs: price years differ ({years}); pass price_year and a price_index to move them to one year"
            )
        return unit_costs
    if years == [price_year]:
        return unit_costs
    if price_index is None:
        raise ParameterError(
            f"unit_costs: price years {years} differ from price_year={price_year}; pass price_index (a Series by year)"
        )
    return reprice(unit_costs, to_year=price_year, index=price_index)


def _intervention_cost_series(intervention_cost) -> pd.Series:
    if isinstance(intervention_cost, Mapping):
        intervention_cost = pd.Series(intervention_cost, dtype=float)
    if isinstance(intervention_cost, pd.Series):
        _year_index(intervention_cost.index, "intervention_cost")
        return intervention_cost.astype(float)
    value = float(intervention_cost)
    return pd.Series({0: value}, dtype=float)


def budget_consequences(effects: pd.DataFrame, unit_costs: pd.DataFrame, *, intervention_cost=0.0,
                        intervention_payer: str = "kommune", n_participants: float = 1.0,
                        horizon: int | None = None, price_year: int | None = None,
                        price_index: pd.Series | None = None, rates=None) -> BudgetConsequences:
    """Yearly public cash flows of an intervention by payer and area (SØM-style).

    Parameters
    ----------
    effects : DataFrame
        One row per consequence: ``item`` (a service or outcome priced in ``unit_costs``),
        ``change`` (change in the item's quantity or probability per participant per year,
        e.g. −2 psychiatric bed days, −0.1 years on kontanthjælp), ``duration_years``, optional
        ``start_year`` (default 0 = now) and ``area`` (default: the item).
    unit_costs : DataFrame
        The :class:`~progression.schemas.UnitCosts` table: ``item``, ``payer`` (kommune, region,
        stat), ``unit``, ``cost_dkk`` (per unit, after refusion), ``price_year``, ``source``.
        An item may have one row per payer (e.g. a benefit shared by stat and kommune).
    intervention_cost : float, Series or mapping, default=0
        The intervention's own cost per participant: a number (paid in year 0) or amounts by year.
    intervention_payer : {"kommune", "region", "stat"}, default="kommune"
    n_participants : float, default=1
        Scales every flow (1 = per participant).
    horizon : int, default=None
        Keep years 0 … horizon−1 (default: all years with a flow).
    price_year : int, default=None
        Price year of the result; unit costs in other years are moved with ``price_index``.
    price_index : Series, default=None
        Price index by year (see :func:`reprice`).
    rates : see :func:`discount_factors`
        Used by the summaries of the result.

    Returns
    -------
    BudgetConsequences

    Notes
    -----
    For each effect row, year t and unit-cost row of the item (payer p):
    flow_{t,p} = −change × cost_dkk_p × n_participants for start ≤ t < start + duration.
    Fewer uses of a costly service are a gain; more are a cost. The intervention cost is a
    negative flow of ``intervention_payer`` in area ``"intervention"``. This is a budget-economic
    (not welfare-economic) calculation, like SØM: only public budgets count.

    Raises
    ------
    ParameterError
        When ``effects`` lacks a column or holds years that are not whole and ≥ 0, an item has no unit
        cost, the payer is unknown, or unit costs in several price years come without ``price_index``.

    References
    ----------
    Social- og Boligstyrelsen, *Den Socialøkonomiske Investeringsmodel* (SØM).

    Examples
    --------
    Per participant, 0.1 fewer years in a §108 residence for five years and 2 fewer psychiatric bed
    days a year for three, at the example data's unit costs, for an intervention costing 150,000 kr.:

    >>> import pandas as pd
    >>> from progression.datasets import load_example
    >>> effects = pd.DataFrame({"item": ["SEL108", "psych_inpatient"], "change": [-0.1, -2.0],
    ...                         "duration_years": [5, 3]})
    >>> result = budget_consequences(effects, load_example("unit_costs"), intervention_cost=150_000)
    >>> result.flows.head(4)
       year    payer             area             item  amount_dkk
    0     0  kommune           SEL108           SEL108     90000.0
    1     0  kommune     intervention     intervention   -150000.0
    2     0  kommune  psych_inpatient  psych_inpatient      1000.0
    3     0   region  psych_inpatient  psych_inpatient     11000.0
    >>> result.npv().round(0)
    payer
    kommune    273477.0
    region      31897.0
    total      305373.0
    Name: npv_dkk, dtype: float64
    """
    if intervention_payer not in PAYERS:
        raise ParameterError(f"intervention_payer: expected one of {list(PAYERS)}; got {intervention_payer!r}")
    eff = _check_effects(effects)
    costs = _unit_costs_in(unit_costs, price_year, price_index)
    unknown = sorted(set(eff["item"]) - set(costs["item"]))
    if unknown:
        raise ParameterError(f"effects: {len(unknown)} item(s) have no unit cost: {unknown[:5]}; "
                             f"items priced: {sorted(costs['item'].unique())[:10]}")
    expanded = eff.loc[eff.index.repeat(eff["duration_years"].astype(int))].copy()
    expanded["year"] = (expanded["start_year"].astype(int)
                        + expanded.groupby(level=0).cumcount().to_numpy())
    merged = expanded.merge(costs[["item", "payer", "cost_dkk"]], on="item", how="left")
    merged["amount_dkk"] = -merged["change"].astype(float) * merged["cost_dkk"] * n_participants
    flows = merged[["year", "payer", "area", "item", "amount_dkk"]]
    own = _intervention_cost_series(intervention_cost)
    own_flows = pd.DataFrame({
        "year": own.index.astype(int), "payer": intervention_payer, "area": "intervention",
        "item": "intervention", "amount_dkk": -own.to_numpy() * n_participants,
    })
    flows = pd.concat([own_flows, flows], ignore_index=True)
    if horizon is not None:
        flows = flows[flows["year"] < horizon]
    flows = (flows.groupby(["year", "payer", "area", "item"], as_index=False, sort=True)["amount_dkk"].sum())
    resolved_year = price_year if price_year is not None else int(costs["price_year"].iloc[0])
    return BudgetConsequences(flows=flows, price_year=resolved_year, rates=rates)


def consequence_effects(effects: pd.DataFrame, *, duration_years: int, start_year: int = 1) -> pd.DataFrame:
    """Effects on next-year item quantities (outcomes ``q_<item>``) as an effects table of
    :func:`progression.economics.budget_consequences`: each lasting ``duration_years`` from ``start_year``.

    Parameters
    ----------
    effects : DataFrame
        Effect estimates with ``outcome`` and ``estimate`` (e.g. of a target-trial emulation); rows
        whose outcome does not start with ``q_`` are left out.
    duration_years : int
        Years each effect lasts.
    start_year : int, default=1
        First year of the effects (0 = the year of the intervention).

    Returns
    -------
    DataFrame
        ``item``, ``change``, ``duration_years``, ``start_year``, sorted by item.

    Examples
    --------
    >>> import pandas as pd
    >>> estimates = pd.DataFrame({"outcome": ["q_SEL108", "q_psych_inpatient", "employed"],
    ...                           "estimate": [-0.05, -1.5, 0.04]})
    >>> consequence_effects(estimates, duration_years=3)
                  item  change  duration_years  start_year
    0           SEL108   -0.05               3           1
    1  psych_inpatient   -1.50               3           1
    """
    q = effects[effects["outcome"].str.startswith("q_")]
    return pd.DataFrame({"item": q["outcome"].str.removeprefix("q_").to_numpy(), "change": q["estimate"].to_numpy(),
                         "duration_years": duration_years, "start_year": start_year}
                        ).sort_values("item", ignore_index=True)


#: Welfare area of each priced item (service paragraphs are social services), as in SØM's figures.
AREAS = {"disability_pension": "income transfers", "psych_inpatient": "health", "somatic_inpatient": "health",
         "outpatient": "health", "employment_measures": "employment", "education": "education",
         "justice": "justice"}


def area_of(items: Sequence[str], *, interventions: Sequence[str] = ()) -> dict[str, str]:
    """Item -> welfare area (:data:`AREAS`; SEL and ABL paragraphs are social services, the
    ``interventions`` preventive interventions, others keep their name).

    Parameters
    ----------
    items : sequence of str
    interventions : sequence of str, default=()
        Items that are preventive interventions.

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> area_of(["SEL108", "psych_inpatient", "ips", "parking"], interventions=["ips"])
    {'SEL108': 'social services', 'psych_inpatient': 'health', 'ips': 'preventive interventions', 'parking': 'parking'}
    """
    def area(item: str) -> str:
        if item in set(interventions):
            return "preventive interventions"
        return AREAS.get(item, "social services" if item.startswith(("SEL", "ABL")) else item)

    return {i: area(i) for i in items}
