"""Budget economics in the style of SØM: discounting, refusion, cash flows by payer, potentials.

SØM (Den Socialøkonomiske Investeringsmodel, Social- og Boligstyrelsen) is a *budget-economic*
calculation: an intervention's own cost plus the changes in public spending that follow from its
effects, year by year and by payer (kommune, region, stat), at prices after refusion. This module
provides the pieces:

* :func:`discount_factors` and :func:`present_value` with Finansministeriet's step profiles;
* the central refusion scheme for expensive single cases (SEL § 176): :func:`state_refusion`,
  :func:`split_case_costs`, :func:`unit_costs_after_refusion` and the year-indexed
  :data:`REFUSION_THRESHOLDS`;
* :func:`price_factor` and :func:`reprice` to move amounts between price years;
* :func:`budget_consequences`: effects × unit costs → yearly cash flows by payer and area, with the
  net present value, the break-even year and the wrong-pocket split (:class:`BudgetConsequences`);
* :func:`success_potential`: the four-year cost difference between citizens who reach a success
  criterion and those who do not (seed 002's SØM potentials), and
  :func:`effect_adjusted_potential`, which replaces that descriptive contrast by an effect estimate.

Money is in DKK with an explicit price year. Positive cash flows are *gains* to a public budget
(savings), negative ones are costs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from progression.constants import PAYERS
from .exceptions import ApproximationWarning, ParameterError


__all__ = [
    "DISCOUNT_PROFILES", "discount_factors", "present_value",
    "REFUSION_THRESHOLDS", "refusion_thresholds", "state_refusion", "split_case_costs",
    "unit_costs_after_refusion",
    "price_factor", "reprice",
    "BudgetConsequences", "budget_consequences",
    "SuccessPotential", "success_potential", "effect_adjusted_potential",
]

# ---------------------------------------------------------------------------------------------
# Discounting
# ---------------------------------------------------------------------------------------------

#: Finansministeriet's discount-rate profiles: (last year of the band, rate) pairs. The rate of a
#: band applies to every year of discounting inside it, compounding year by year.
DISCOUNT_PROFILES: dict[str, tuple[tuple[float, float], ...]] = {
    # since 7 January 2021 (kept in the June 2023 guidance): 3.5 % / 2.5 % / 1.5 %
    "fm2021": ((35, 0.035), (70, 0.025), (math.inf, 0.015)),
    # 2013-2020: 4 % / 3 % / 2 %
    "fm2013": ((35, 0.04), (70, 0.03), (math.inf, 0.02)),
    # before 2013: 5 % flat
    "flat5": ((math.inf, 0.05),),
}


def _resolve_rates(rates) -> tuple[tuple[float, float], ...]:
    """Turn ``rates`` (None, a profile name, a flat rate or (until, rate) pairs) into bands."""
    if rates is None:
        return DISCOUNT_PROFILES["fm2021"]
    if isinstance(rates, str):
        if rates not in DISCOUNT_PROFILES:
            raise ParameterError(
                f"rates: unknown discount profile {rates!r}; expected one of {sorted(DISCOUNT_PROFILES)}, "
                "a flat rate such as 0.035, or (last_year, rate) pairs"
            )
        return DISCOUNT_PROFILES[rates]
    if isinstance(rates, (int, float, np.floating, np.integer)):
        bands = ((math.inf, float(rates)),)
    else:
        try:
            bands = tuple((float(until), float(rate)) for until, rate in rates)
        except (TypeError, ValueError) as err:
            raise ParameterError(
                f"rates: expected None, a profile name, a flat rate or (last_year, rate) pairs; got {rates!r}"
            ) from err
        if not bands:
            raise ParameterError("rates: got an empty sequence of (last_year, rate) pairs")
        ends = [u for u, _ in bands]
        if any(b <= a for a, b in zip(ends, ends[1:])) or ends[0] <= 0:
            raise ParameterError(f"rates: band ends must be positive and increasing; got {ends}")
        if not math.isinf(ends[-1]):
            bands = bands[:-1] + ((math.inf, bands[-1][1]),)
    bad = [r for _, r in bands if not (-1 < r < 1)]
    if bad:
        raise ParameterError(f"rates: rates must lie in (-1, 1) (0.035 means 3.5 %); got {bad}")
    return bands


def discount_factors(years, *, rates=None) -> pd.Series:
    """Discount factors for flows ``years`` years from now (year 0 is not discounted).

    Parameters
    ----------
    years : array-like of float
        Years from now, ≥ 0 (non-integer years are allowed).
    rates : None, str, float or sequence of (last_year, rate), default=None
        ``None`` = Finansministeriet's profile since 2021 (``"fm2021"``); a name from
        :data:`DISCOUNT_PROFILES` (``"fm2013"``, ``"flat5"``); a flat rate; or bands
        ``[(35, 0.035), (70, 0.025), (inf, 0.015)]`` (the last rate continues forever).

    Returns
    -------
    Series
        ``discount_factor`` indexed by ``years``.

    Notes
    -----
    The step profile compounds year by year, each year at the rate of its band:
    DF(t) = 1.035^−min(t,35) · 1.025^−max(0, min(t,70)−35) · 1.015^−max(0, t−70) for ``fm2021``.
    So DF(10) = 0.708919, DF(40) = 0.265136, DF(80) = 0.108916.

    References
    ----------
    Finansministeriet (2021, 2023), Vejledning i samfundsøkonomiske konsekvensvurderinger.
    """
    t = np.asarray(years, dtype=float)
    if t.ndim == 0:
        t = t.reshape(1)
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        bad = t[~np.isfinite(t) | (t < 0)][:5].tolist()
        raise ParameterError(f"years: expected finite year offsets ≥ 0; found {bad}")
    log_df = np.zeros_like(t)
    start = 0.0
    for until, rate in _resolve_rates(rates):
        years_in_band = np.clip(t - start, 0.0, until - start)
        log_df -= years_in_band * math.log1p(rate)
        start = until
    return pd.Series(np.exp(log_df), index=pd.Index(t, name="year"), name="discount_factor")


def _year_index(index: pd.Index, what: str) -> np.ndarray:
    try:
        years = np.asarray(index, dtype=float)
    except (TypeError, ValueError) as err:
        raise ParameterError(
            f"{what}: the index must hold year offsets from now (0, 1, 2, …); found {list(index[:5])}"
        ) from err
    bad = ~np.isfinite(years) | (years < 0)
    if bad.any():
        raise ParameterError(f"{what}: year offsets must be ≥ 0; found {years[bad][:5].tolist()}")
    return years


def present_value(cashflows: pd.Series | pd.DataFrame, *, rates=None):
    """Present value of flows indexed by years from now.

    Parameters
    ----------
    cashflows : Series or DataFrame
        Indexed by year offset (0 = now, not discounted). A DataFrame has one column per payer
        (or any other split).
    rates : see :func:`discount_factors`

    Returns
    -------
    float or Series
        A float for a Series; for a DataFrame a Series ``present_value`` by column.

    Examples
    --------
    >>> round(present_value(pd.Series({50: 1.0})), 6)  # 35 years at 3.5 %, 15 at 2.5 %
    0.207124
    """
    if not isinstance(cashflows, (pd.Series, pd.DataFrame)):
        raise TypeError(f"cashflows: expected a Series or DataFrame indexed by year; got {type(cashflows).__name__}")
    years = _year_index(cashflows.index, "cashflows")
    if cashflows.isna().to_numpy().any():
        raise ParameterError("cashflows: contains missing values; fill them (0 for no flow) first")
    df = discount_factors(years, rates=rates).to_numpy()
    if isinstance(cashflows, pd.Series):
        return float(np.dot(df, cashflows.to_numpy(dtype=float)))
    values = cashflows.to_numpy(dtype=float)
    return pd.Series(df @ values, index=cashflows.columns, name="present_value")


# ---------------------------------------------------------------------------------------------
# Refusion for expensive single cases (SEL § 176)
# ---------------------------------------------------------------------------------------------

def _refusion_table() -> pd.DataFrame:
    rows = [
        # year, threshold, share of the part above it, confirmed, source
        (2020, 830_000, 0.25, True, "L 197 (2019-20), SEL § 176 stk. 1, 2020-niveau"),
        (2020, 1_630_000, 0.50, True, "L 197 (2019-20), SEL § 176 stk. 1, 2020-niveau"),
        (2020, 2_050_000, 0.75, True, "L 197 (2019-20), SEL § 176 stk. 1, 2020-niveau"),
        (2022, 860_000, 0.25, True, "SEL § 176 stk. 1, 2022-niveau"),
        (2022, 1_680_000, 0.50, True, "SEL § 176 stk. 1, 2022-niveau"),
        (2022, 2_120_000, 0.75, True, "SEL § 176 stk. 1, 2022-niveau"),
        (2024, 910_000, 0.25, True, "VIVE 2024 (seed 000 L657), 2024-takster"),
        (2024, 1_780_000, 0.50, False, "2022 level × 910/860, rounded; not confirmed"),
        (2024, 2_240_000, 0.75, False, "2022 level × 910/860, rounded; not confirmed"),
    ]
    return pd.DataFrame(rows, columns=["year", "threshold_dkk", "refusion_share", "confirmed", "source"])


#: Thresholds of the central refusion scheme by year: the state reimburses ``refusion_share`` of
#: the part of a person's yearly cost above ``threshold_dkk`` (bands; persons under 67).
#: Values with ``confirmed = False`` are imputations: replace them when the official level is known.
REFUSION_THRESHOLDS: pd.DataFrame = _refusion_table()

REFUSION_AGE_LIMIT = 67


def refusion_thresholds(year: int, *, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The refusion bands that apply in ``year``.

    Uses the latest table year not after ``year`` and warns (:class:`ApproximationWarning`) when
    that is not ``year`` itself or when a band is not confirmed.

    Parameters
    ----------
    year : int
    table : DataFrame, default=None
        Columns ``year``, ``threshold_dkk``, ``refusion_share`` (and optionally ``confirmed``);
        default :data:`REFUSION_THRESHOLDS`.

    Returns
    -------
    DataFrame
        The bands of that year, sorted by threshold.
    """
    table = REFUSION_THRESHOLDS if table is None else table
    missing = {"year", "threshold_dkk", "refusion_share"} - set(table.columns)
    if missing:
        raise ParameterError(f"table: missing column(s) {sorted(missing)}; columns present: {list(table.columns)}")
    earlier = table.loc[table["year"] <= year, "year"]
    if earlier.empty:
        raise ParameterError(
            f"year: no refusion thresholds for {year} or earlier; "
            f"table years: {sorted(table['year'].unique().tolist())}"
        )
    used = int(earlier.max())
    bands = table[table["year"] == used].sort_values("threshold_dkk").reset_index(drop=True)
    if used != year:
        warnings.warn(f"refusion thresholds for {year} not in the table; using those of {used}",
                      ApproximationWarning, stacklevel=2)
    if "confirmed" in bands and not bands["confirmed"].all():
        unconfirmed = bands.loc[~bands["confirmed"].astype(bool), "threshold_dkk"].tolist()
        warnings.warn(f"refusion thresholds {unconfirmed} of {used} are not confirmed (imputed)",
                      ApproximationWarning, stacklevel=2)
    shares = bands["refusion_share"].to_numpy()
    if np.any(np.diff(shares) < 0) or np.any((shares < 0) | (shares > 1)):
        raise ParameterError(f"table: refusion shares of {used} must lie in [0, 1] and rise with the "
                             f"threshold; got {shares.tolist()}")
    return bands


def state_refusion(cost, *, year: int, age=None, table: pd.DataFrame | None = None) -> np.ndarray:
    """State refusion of yearly single-case costs (SEL § 176).

    Parameters
    ----------
    cost : array-like of float
        A person's yearly cost to the municipality (DKK, nominal level of ``year``).
    year : int
        The year whose thresholds apply.
    age : array-like of float, default=None
        Age in the year; the scheme covers persons under 67 (``None`` = all under 67).
    table : DataFrame, default=None
        See :func:`refusion_thresholds`.

    Returns
    -------
    ndarray
        Refusion in DKK, same shape as ``cost``.

    Notes
    -----
    Banded: refusion = Σ_k s_k · (min(cost, T_{k+1}) − T_k)⁺, which equals the marginal form
    Σ_k (s_k − s_{k−1}) · (cost − T_k)⁺. Persons aged 67 or over who were covered just before
    their 67th birthday stay covered (SEL § 176 stk. 3): pass their age as under 67 to include them.
    """
    bands = refusion_thresholds(year, table=table)
    c = np.asarray(cost, dtype=float)
    if np.any(c < 0) or not np.all(np.isfinite(c)):
        raise ParameterError(f"cost: expected finite costs ≥ 0; found {c[(c < 0) | ~np.isfinite(c)][:5].tolist()}")
    shares = bands["refusion_share"].to_numpy(dtype=float)
    marginal = np.diff(shares, prepend=0.0)
    thresholds = bands["threshold_dkk"].to_numpy(dtype=float)
    refusion = sum(m * np.clip(c - t, 0.0, None) for m, t in zip(marginal, thresholds))
    if age is not None:
        refusion = np.where(np.asarray(age, dtype=float) < REFUSION_AGE_LIMIT, refusion, 0.0)
    return np.asarray(refusion, dtype=float)


def split_case_costs(cases: pd.DataFrame, *, cost_col: str = "cost_dkk", year_col: str = "year",
                     age_col: str | None = "age", table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Split yearly single-case costs into the kommune's share and the state's refusion.

    Parameters
    ----------
    cases : DataFrame
        One row per person and year.
    cost_col, year_col : str
        Yearly cost (DKK) and the year whose thresholds apply.
    age_col : str or None, default="age"
        Age in the year (refusion only under 67); ``None`` treats everyone as under 67.
    table : DataFrame, default=None
        See :func:`refusion_thresholds`.

    Returns
    -------
    DataFrame
        ``cases`` plus ``stat_refusion_dkk`` and ``kommune_dkk`` (they sum to the cost).
    """
    needed = [cost_col, year_col] + ([age_col] if age_col else [])
    missing = [c for c in needed if c not in cases.columns]
    if missing:
        raise ParameterError(f"cases: missing column(s) {missing}; columns present: {list(cases.columns)}")
    out = cases.copy()
    refusion = np.zeros(len(out))
    for year, idx in out.groupby(year_col).indices.items():
        rows = out.iloc[idx]
        refusion[idx] = state_refusion(rows[cost_col], year=int(year),
                                       age=rows[age_col] if age_col else None, table=table)
    out["stat_refusion_dkk"] = refusion
    out["kommune_dkk"] = out[cost_col].to_numpy(dtype=float) - refusion
    return out


def unit_costs_after_refusion(unit_costs: pd.DataFrame, *, year: int, age: float | None = None,
                              table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Split gross yearly per-person costs of kommune services into kommune and stat rows.

    SØM works at prices after refusion: when an expensive case ends, the kommune saves its net
    share and the state saves its refusion ("sparede refusionsudgifter", a state gain).

    Parameters
    ----------
    unit_costs : DataFrame
        A :class:`~progression.schemas.UnitCosts` table. Rows paid by the kommune per ``year``
        are read as one person's whole yearly case cost and split; other rows pass unchanged.
    year : int
        Year whose thresholds apply (the amounts must be in that year's level).
    age : float, default=None
        Age of the person (no refusion from 67); ``None`` = under 67.
    table : DataFrame, default=None
        See :func:`refusion_thresholds`.

    Returns
    -------
    DataFrame
        The table with each split row replaced by a kommune row (cost − refusion) and, where
        the refusion is positive, a stat row (the refusion; source noted).

    Notes
    -----
    Exact only when the service is the person's only cost under the scheme: refusion is banded
    on the whole case, so the split of one service in a larger case differs.
    """
    split = unit_costs["payer"].eq("kommune") & unit_costs["unit"].eq("year")
    rows = unit_costs[split]
    refusion = state_refusion(rows["cost_dkk"], year=year, age=None if age is None else [age] * len(rows),
                              table=table)
    kommune = rows.assign(cost_dkk=rows["cost_dkk"].to_numpy(dtype=float) - refusion)
    stat = rows.assign(payer="stat", cost_dkk=refusion,
                       source=rows["source"].astype(str) + f"; refusion SEL § 176 ({year})")[refusion > 0]
    return pd.concat([unit_costs[~split], kommune, stat], ignore_index=True)


# ---------------------------------------------------------------------------------------------
# Price years
# ---------------------------------------------------------------------------------------------

def price_factor(from_year: int, to_year: int, *, index: pd.Series) -> float:
    """Factor that moves an amount from ``from_year`` prices to ``to_year`` prices.

    Parameters
    ----------
    from_year, to_year : int
    index : Series
        A price (or pay-and-price, p/l) index indexed by year, any base.

    Returns
    -------
    float
        ``index[to_year] / index[from_year]``.
    """
    missing = [y for y in (from_year, to_year) if y not in index.index]
    if missing:
        raise ParameterError(
            f"index: no value for year(s) {missing}; index covers {index.index.min()}–{index.index.max()}"
        )
    base = float(index.loc[from_year])
    if not base > 0:
        raise ParameterError(f"index: value for {from_year} must be > 0; got {base}")
    return float(index.loc[to_year]) / base


def reprice(frame: pd.DataFrame, *, to_year: int, index: pd.Series, amount_col: str = "cost_dkk",
            price_year_col: str = "price_year") -> pd.DataFrame:
    """Move every amount of ``frame`` to ``to_year`` prices.

    Parameters
    ----------
    frame : DataFrame
        With an amount column and a price-year column (e.g. a unit-cost table).
    to_year : int
    index : Series
        Price index by year (see :func:`price_factor`).
    amount_col, price_year_col : str

    Returns
    -------
    DataFrame
        A copy with amounts in ``to_year`` prices and ``price_year`` set to ``to_year``.
    """
    missing = [c for c in (amount_col, price_year_col) if c not in frame.columns]
    if missing:
        raise ParameterError(f"frame: missing column(s) {missing}; columns present: {list(frame.columns)}")
    out = frame.copy()
    factors = {y: price_factor(int(y), to_year, index=index) for y in out[price_year_col].unique()}
    out[amount_col] = out[amount_col].to_numpy(dtype=float) * out[price_year_col].map(factors).to_numpy(dtype=float)
    out[price_year_col] = to_year
    return out


# ---------------------------------------------------------------------------------------------
# SØM-style budget consequences
# ---------------------------------------------------------------------------------------------

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
    from .schemas import validate_tables  # on first use: simulation workers skip pandera's import
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


# ---------------------------------------------------------------------------------------------
# SØM potentials: success versus non-success, and what an effect estimate leaves of them
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SuccessPotential:
    """Mean yearly costs of successes and non-successes, and their difference (the "potential").

    Attributes
    ----------
    table : DataFrame
        One row per ``rel_year`` (0 = the reference year), ``area`` and ``payer``:
        ``mean_cost_success``, ``mean_cost_failure`` (DKK per person-year) and
        ``potential_dkk`` = failure − success (positive = successes cost less).
    n_success, n_failure : int
        Persons in each group (the denominators).
    """

    table: pd.DataFrame
    n_success: int
    n_failure: int

    @property
    def total(self) -> float:
        """Potential per success over the whole horizon (undiscounted), DKK."""
        return float(self.table["potential_dkk"].sum())

    def by(self, column: str) -> pd.Series:
        """Potential summed by ``rel_year``, ``area`` or ``payer``."""
        return self.table.groupby(column)["potential_dkk"].sum()

    def present_value(self, *, rates=None) -> pd.Series:
        """Discounted potential by payer (rel_year 0 undiscounted)."""
        wide = self.table.pivot_table(index="rel_year", columns="payer", values="potential_dkk",
                                      aggfunc="sum").fillna(0.0)
        return present_value(wide, rates=rates).rename("potential_pv_dkk")


def success_potential(costs: pd.DataFrame, groups: pd.DataFrame, *, horizon: int = 4,
                      person_col: str = "person_id", year_col: str = "year",
                      service_col: str = "service", payer_col: str = "payer",
                      cost_col: str = "cost_dkk", success_col: str = "success",
                      reference_year_col: str = "reference_year",
                      areas: Mapping[str, str] | None = None) -> SuccessPotential:
    """The SØM-style budget potential: mean yearly cost of non-successes minus successes.

    Seed 002 reports ≈ 250,000 kr. over four years when a §85 recipient not on førtidspension gets
    into work or education, and ≈ 930,000 kr. when a botilbud resident leaves botilbud. These
    compare citizens who reach a success criterion with those who do not; they are **not**
    effects of an intervention (use :func:`effect_adjusted_potential` for that).

    Parameters
    ----------
    costs : DataFrame
        Public costs per person, year, service and payer (the
        :class:`~progression.schemas.PersonYearCosts` table). Missing rows count as zero cost.
    groups : DataFrame
        One row per person of the cohort: ``success`` (bool) and ``reference_year`` (the first
        calendar year counted, e.g. the year success is measured).
    horizon : int, default=4
        Years counted from the reference year.
    person_col, year_col, service_col, payer_col, cost_col, success_col, reference_year_col : str
    areas : mapping of str to str, default=None
        Service → area (e.g. "SEL108" → "social", "førtidspension" → "indkomstoverførsler");
        unmapped services keep their name.

    Returns
    -------
    SuccessPotential

    Notes
    -----
    mean_cost_g(t, a, p) = Σ_{i∈g} cost_i(ref_i + t, a, p) / N_g, so persons without costs count
    as zero and each group's denominator is its cohort size.
    """
    for name, frame, cols in (("costs", costs, [person_col, year_col, service_col, payer_col, cost_col]),
                              ("groups", groups, [person_col, success_col, reference_year_col])):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ParameterError(f"{name}: missing column(s) {missing}; columns present: {list(frame.columns)}")
    if groups[person_col].duplicated().any():
        dup = groups.loc[groups[person_col].duplicated(), person_col].head(5).tolist()
        raise ParameterError(f"groups: each person must appear once; duplicated {person_col}: {dup}")
    success = groups[success_col].astype(bool)
    n_success, n_failure = int(success.sum()), int((~success).sum())
    if n_success == 0 or n_failure == 0:
        raise ParameterError(f"groups: need both successes and non-successes; got {n_success} and {n_failure}")
    g = groups[[person_col, reference_year_col]].assign(_success=success.to_numpy())
    merged = costs.merge(g, on=person_col, how="inner")
    merged["rel_year"] = merged[year_col] - merged[reference_year_col]
    merged = merged[(merged["rel_year"] >= 0) & (merged["rel_year"] < horizon)]
    merged["area"] = merged[service_col].map(lambda s: areas.get(s, s)) if areas else merged[service_col]
    sums = merged.groupby(["rel_year", "area", payer_col, "_success"])[cost_col].sum().unstack("_success")
    sums = sums.reindex(columns=[True, False]).fillna(0.0)
    table = pd.DataFrame({
        "mean_cost_success": sums[True] / n_success,
        "mean_cost_failure": sums[False] / n_failure,
    }).reset_index().rename(columns={payer_col: "payer"})
    table["potential_dkk"] = table["mean_cost_failure"] - table["mean_cost_success"]
    return SuccessPotential(table=table, n_success=n_success, n_failure=n_failure)


def effect_adjusted_potential(unit_gain: float | SuccessPotential, *, effect: float,
                              observed_success_rate: float, effect_se: float | None = None,
                              causal_share: float = 1.0, conf_level: float = 0.95) -> pd.DataFrame:
    """Replace the naive success contrast by an effect estimate: effect × unit gain.

    Reading a SØM potential naively credits an intervention with the full potential for every
    participant who succeeds. Only the *extra* successes it causes count (those who would have
    succeeded anyway are deadweight), and only the part of the success-vs-failure cost gap that
    success itself causes (the rest reflects who succeeds).

    Parameters
    ----------
    unit_gain : float or SuccessPotential
        Potential per success (DKK), e.g. :attr:`SuccessPotential.total`.
    effect : float
        Estimated change in the probability of success caused by the intervention (absolute,
        0.08 = 8 percentage points).
    observed_success_rate : float
        Share of participants who succeed (what the naive reading counts).
    effect_se : float, default=None
        Standard error of ``effect``; gives a normal confidence interval.
    causal_share : float, default=1.0
        Share of the cost contrast caused by success itself (1 = take the contrast at face value).
    conf_level : float, default=0.95

    Returns
    -------
    DataFrame
        One row: ``unit_gain_dkk``, ``naive_gain_dkk`` (= rate × unit gain, per participant),
        ``effect_gain_dkk`` (= effect × causal share × unit gain), ``conf_low``, ``conf_high``,
        ``surviving_share`` (= effect gain / naive gain).
    """
    gain = unit_gain.total if isinstance(unit_gain, SuccessPotential) else float(unit_gain)
    if not 0 < observed_success_rate <= 1:
        raise ParameterError(f"observed_success_rate: expected a share in (0, 1]; got {observed_success_rate}")
    if not 0 <= causal_share <= 1:
        raise ParameterError(f"causal_share: expected a share in [0, 1]; got {causal_share}")
    naive = observed_success_rate * gain
    scale = causal_share * gain
    estimate = effect * scale
    if effect_se is None:
        low = high = np.nan
    else:
        z = NormalDist().inv_cdf(0.5 + conf_level / 2)
        low, high = sorted(((effect - z * effect_se) * scale, (effect + z * effect_se) * scale))
    return pd.DataFrame([{
        "unit_gain_dkk": gain, "naive_gain_dkk": naive, "effect_gain_dkk": estimate,
        "conf_low": low, "conf_high": high,
        "surviving_share": estimate / naive if naive != 0 else np.nan,
    }])

