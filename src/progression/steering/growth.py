"""Growth tables, amounts per inhabitant, composition and what rounded published numbers imply.

Finansministeriet (2009) reports expenditure by area as levels per year (Tabel 2.1, 2.2, 2.6, in bn kr.
at 2009 prices) with an *average growth*, ``(R2008 − R2004) / 4`` bn kr. a year, and spending per
inhabitant of the relevant age (Tabel 2.4, 2.8) with an *annual growth rate*, the compound rate
``(R2008 / R2004)^(1/4) − 1``. These are the two columns :func:`growth_table` returns. The helpers
around it divide amounts by a population (:func:`per_capita`: spending per 18–66-year-old, recipients
per 1,000), give the shares of a total (:func:`shares_of_total`), and say what a pair of rounded
published numbers implies about the population behind them (:func:`implied_population`).
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from progression._validation import check_frame
from progression.exceptions import DataContractError, ParameterError

__all__ = ["growth_table", "per_capita", "shares_of_total", "implied_population", "rounding_bounds"]


def _year_column(levels: pd.DataFrame, year: Hashable, name: str) -> Hashable:
    """The column of ``levels`` whose label is ``year`` (an int, or a string holding it)."""
    for column in levels.columns:
        if column == year or str(column) == str(year):
            return column
    raise ParameterError(f"{name}={year!r} is not a column of levels; columns (years) present: {list(levels.columns)}")


def _as_year(label: Hashable, name: str) -> float:
    try:
        return float(str(label))
    except ValueError:
        raise ParameterError(f"{name}: the column label {label!r} is not a year; label the columns by year "
                             "(2004, 2005, …) or pass years=") from None


def growth_table(levels: pd.DataFrame, *, start: Hashable, end: Hashable, years: float | None = None) -> pd.DataFrame:
    """Average absolute growth and compound annual growth rate of each row between two years.

    Parameters
    ----------
    levels : DataFrame
        Wide: one row per item (area, account function, service), one column per year.
    start, end : year
        Column labels of the first and last year (``2004`` or ``"2004"``).
    years : float, optional
        Years between ``start`` and ``end``; default ``end − start`` read from the labels.

    Returns
    -------
    DataFrame
        Indexed like ``levels``: ``level_start``, ``level_end``, ``change`` (end − start), ``years``,
        ``average_growth`` (change per year, in the unit of the levels) and ``annual_growth_rate``
        (compound, as a fraction; missing where a level is not positive).

    Raises
    ------
    ParameterError
        When ``start`` or ``end`` is not a column, or the period is not positive.
    DataContractError
        When the two columns are not numeric.

    Notes
    -----
    With :math:`x_0, x_T` the levels and :math:`T` years between them,
    ``average_growth`` :math:`= (x_T - x_0)/T` and ``annual_growth_rate`` :math:`= (x_T/x_0)^{1/T} - 1`.
    Finansministeriet (2009) uses the first in its tables in bn kr. and the second in its tables per
    inhabitant; an OLS trend slope would give other numbers (0.93 rather than 1.0 bn kr. in Tabel 2.1).

    References
    ----------
    Finansministeriet, Indenrigs- og Socialministeriet & KL (2009), *Det specialiserede socialområde –
    redskaber til styring og prioritering*, Tabel 2.1–2.8.

    Examples
    --------
    >>> import pandas as pd
    >>> levels = pd.DataFrame({2004: [12.6, 8433.0], 2008: [14.0, 9105.0]}, index=["bn kr.", "kr. per 0-22"])
    >>> growth_table(levels, start=2004, end=2008)[["average_growth", "annual_growth_rate"]].round(4)
                  average_growth  annual_growth_rate
    bn kr.                  0.35              0.0267
    kr. per 0-22          168.00              0.0194
    """
    check_frame(levels, name="levels")
    first, last = _year_column(levels, start, "start"), _year_column(levels, end, "end")
    span = float(years) if years is not None else _as_year(last, "end") - _as_year(first, "start")
    if not span > 0:
        raise ParameterError(f"the period from start={start!r} to end={end!r} must be positive; got {span!r} years")
    out = pd.DataFrame(index=levels.index)
    for label, column in (("level_start", first), ("level_end", last)):
        if not pd.api.types.is_numeric_dtype(levels[column]):
            raise DataContractError(f"levels: column {column!r} must be numeric; found dtype {levels[column].dtype}")
        out[label] = levels[column].astype(float)
    out["change"] = out["level_end"] - out["level_start"]
    out["years"] = span
    out["average_growth"] = out["change"] / span
    positive = (out["level_start"] > 0) & (out["level_end"] > 0)
    with np.errstate(all="ignore"):
        rate = (out["level_end"] / out["level_start"]) ** (1 / span) - 1
    out["annual_growth_rate"] = rate.where(positive)
    return out


def per_capita(values, population, *, per: float = 1.0):
    """Amounts per inhabitant (or per 1,000 with ``per=1000``) of the relevant population.

    Parameters
    ----------
    values : DataFrame, Series, array or scalar
        Amounts (spending in kr.) or counts (recipients). A wide DataFrame (items × years) is divided
        column by column by a ``population`` Series indexed by year.
    population : Series, array or scalar
        Inhabitants of the relevant age (0–22 for the children's area, 18–66 for adults); positive.
    per : float, default 1.0
        Inhabitants per unit of the result: 1 for kr. per inhabitant, 1000 for recipients per 1,000.

    Returns
    -------
    Same shape as ``values``
        ``values / population * per``.

    Raises
    ------
    DataContractError
        When a population is not positive, or a year of ``values`` has no population.

    Notes
    -----
    Summed over municipalities, spending per inhabitant is :math:`\\sum_i S_i / \\sum_i P_i`, the
    population-weighted mean of the municipalities' :math:`S_i/P_i` — the national average
    Finansministeriet (2009) draws in its Figur 2.1 and 2.2 (9,105 and 7,776 kr. in 2008).

    Examples
    --------
    >>> import pandas as pd
    >>> per_capita(14_960, 1_529_652, per=1000).round(2)
    np.float64(9.78)
    >>> spending = pd.DataFrame({2004: [24.9e9], 2008: [27.5e9]}, index=["adults"])
    >>> per_capita(spending, pd.Series({2004: 3.4996e6, 2008: 3.5365e6})).round(0)
              2004    2008
    adults  7115.0  7776.0
    """
    if isinstance(values, pd.DataFrame) and isinstance(population, pd.Series):
        columns = {c: _match(population.index, c) for c in values.columns}
        missing = [c for c, key in columns.items() if key is None]
        if missing:
            raise DataContractError(f"population has no value for column(s) {missing} of values; "
                                    f"population is indexed by {list(population.index)}")
        denominator = pd.Series([population[columns[c]] for c in values.columns], index=values.columns, dtype=float)
        _check_positive(denominator.to_numpy())
        return values.div(denominator, axis="columns") * per
    denominator = population.to_numpy(dtype=float) if isinstance(population, (pd.Series, pd.DataFrame)) \
        else np.asarray(population, dtype=float)
    _check_positive(denominator)
    if isinstance(values, (pd.Series, pd.DataFrame)):
        return values / (population if isinstance(population, (pd.Series, pd.DataFrame)) else denominator) * per
    return np.asarray(values, dtype=float) / denominator * per


def _match(index: pd.Index, label: Hashable) -> Hashable | None:
    for key in index:
        if key == label or str(key) == str(label):
            return key
    return None


def _check_positive(population: np.ndarray) -> None:
    bad = ~(np.asarray(population, dtype=float) > 0)
    if np.any(bad):
        raise DataContractError(f"population must be positive; found {int(np.sum(bad))} value(s) that are not, "
                                f"e.g. {np.asarray(population).ravel()[np.asarray(bad).ravel()][:3].tolist()}")


def shares_of_total(levels: pd.DataFrame, *, total: Hashable | None = None) -> pd.DataFrame:
    """Each item's share of the total, year by year (composition).

    Parameters
    ----------
    levels : DataFrame
        Wide: one row per item, one column per year.
    total : row label, optional
        The row holding the published total (kept, share 1). Default: the column sums of the rows.

    Returns
    -------
    DataFrame
        Like ``levels``, as fractions of the total.

    Raises
    ------
    ParameterError
        When ``total`` is not a row of ``levels``.

    Notes
    -----
    With a published total, rounded items need not add to exactly 1 (Finansministeriet 2009: "Grundet
    afrundinger summerer visse kolonner ikke til totalen").

    Examples
    --------
    >>> import pandas as pd
    >>> levels = pd.DataFrame({2008: [0.9, 3.6, 9.4, 14.0]}, index=["dag/klub", "forebyggende", "anbringelser", "i alt"])
    >>> shares_of_total(levels, total="i alt").round(3)
                   2008
    dag/klub      0.064
    forebyggende  0.257
    anbringelser  0.671
    i alt         1.000
    """
    check_frame(levels, name="levels")
    if total is None:
        denominator = levels.sum(axis=0)
    else:
        if total not in levels.index:
            raise ParameterError(f"total={total!r} is not a row of levels; rows: {list(levels.index)}")
        denominator = levels.loc[total]
    return levels.div(denominator.where(denominator != 0), axis="columns")


def rounding_bounds(value, half_unit):
    """The interval a published number rounded to ``2 × half_unit`` may come from: ``value ∓ half_unit``.

    Parameters
    ----------
    value : float or array-like
        Published (rounded) numbers.
    half_unit : float
        Half the rounding unit (0.005 for two decimals).

    Returns
    -------
    (float, float) or (ndarray, ndarray)
        Lower and upper bounds.

    Examples
    --------
    >>> rounding_bounds(7.66, 0.005)
    (7.655, 7.665)
    """
    value = np.asarray(value, dtype=float)
    low, high = value - half_unit, value + half_unit
    if low.ndim == 0:
        return round(float(low), 12), round(float(high), 12)
    return low, high


def implied_population(amount, per_capita_value, *, per: float = 1.0, amount_half_unit: float = 0.0,
                       per_capita_half_unit: float = 0.0) -> pd.DataFrame:
    """The population a published amount and its value per inhabitant imply, with rounding bounds.

    Parameters
    ----------
    amount : array-like
        Spending (kr.) or recipients.
    per_capita_value : array-like
        The same per inhabitant (kr.) or per ``per`` inhabitants (recipients per 1,000).
    per : float, default 1.0
        Inhabitants per unit of ``per_capita_value``.
    amount_half_unit, per_capita_half_unit : float, default 0.0
        Half the rounding unit of each published number (0.05e9 kr. for bn kr. with one decimal,
        0.5 kr. for whole kroner, 0.005 for rates with two decimals).

    Returns
    -------
    DataFrame
        ``population`` = amount / per_capita_value × per, and ``bound_low``, ``bound_high``: the
        smallest and largest population any unrounded numbers behind the two could give.

    Examples
    --------
    >>> implied_population([14.0e9], [9105], amount_half_unit=0.05e9, per_capita_half_unit=0.5).round(-3)
       population  bound_low  bound_high
    0   1538000.0  1532000.0   1543000.0
    """
    a = np.atleast_1d(np.asarray(amount, dtype=float))
    r = np.atleast_1d(np.asarray(per_capita_value, dtype=float))
    if np.any(r - per_capita_half_unit <= 0):
        raise DataContractError("per_capita_value must exceed its rounding half unit (a positive rate); "
                                f"found {r[r - per_capita_half_unit <= 0][:3].tolist()}")
    return pd.DataFrame({
        "population": a / r * per,
        "bound_low": (a - amount_half_unit) / (r + per_capita_half_unit) * per,
        "bound_high": (a + amount_half_unit) / (r - per_capita_half_unit) * per,
    })
