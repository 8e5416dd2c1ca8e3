"""Money over time: discounting with Finansministeriet's step profiles, and moving amounts between price years.

References
----------
Finansministeriet (2021, 2023), *Vejledning i samfundsøkonomiske konsekvensvurderinger*.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from progression.exceptions import ParameterError

__all__ = ["DISCOUNT_PROFILES", "discount_factors", "present_value", "price_factor", "reprice"]

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

    Raises
    ------
    ParameterError
        When a year is negative or not finite, or ``rates`` is not understood.

    References
    ----------
    Finansministeriet (2021, 2023), Vejledning i samfundsøkonomiske konsekvensvurderinger.

    Examples
    --------
    >>> discount_factors([0, 10, 40, 80]).round(6)
    year
    0.0     1.000000
    10.0    0.708919
    40.0    0.265136
    80.0    0.108916
    Name: discount_factor, dtype: float64
    >>> discount_factors([10], rates="flat5").round(6).tolist()
    [0.613913]
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

    Raises
    ------
    ParameterError
        When the index has no value for a year, or a non-positive one for ``from_year``.

    Examples
    --------
    >>> import pandas as pd
    >>> price_factor(2024, 2025, index=pd.Series({2024: 100.0, 2025: 102.5}))
    1.025
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

    Raises
    ------
    ParameterError
        When a column is missing or the index lacks a year.

    Examples
    --------
    The example data's unit costs (2024 prices) in 2025 prices, with a p/l index rising 2.5 %:

    >>> import pandas as pd
    >>> from progression.datasets import load_example
    >>> costs = reprice(load_example("unit_costs"), to_year=2025, index=pd.Series({2024: 100.0, 2025: 102.5}))
    >>> costs[["item", "cost_dkk", "price_year"]].head(2)
         item  cost_dkk  price_year
    0  SEL108  922500.0        2025
    1  SEL107  666250.0        2025
    """
    missing = [c for c in (amount_col, price_year_col) if c not in frame.columns]
    if missing:
        raise ParameterError(f"frame: missing column(s) {missing}; columns present: {list(frame.columns)}")
    out = frame.copy()
    factors = {y: price_factor(int(y), to_year, index=index) for y in out[price_year_col].unique()}
    out[amount_col] = out[amount_col].to_numpy(dtype=float) * out[price_year_col].map(factors).to_numpy(dtype=float)
    out[price_year_col] = to_year
    return out
