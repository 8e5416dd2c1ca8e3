"""Spending = volume × price, and the change in spending split exactly between its factors.

Finansministeriet (2009, redskab 2) asks municipalities to budget each target group as an assumed
*number of users × average cost per user*, so that a deviation from the budget "kan henføres til enten
pris eller mængde". For a change from :math:`q_0 p_0` to :math:`q_1 p_1` the split is not unique: the
interaction :math:`\\Delta q\\,\\Delta p` must go somewhere. :func:`price_volume` gives by default the
symmetric, exact split — the Shapley value of the two factors,

.. math:: \\text{volume} = \\Delta q\\,\\frac{p_0+p_1}{2},\\qquad \\text{price} = \\Delta p\\,\\frac{q_0+q_1}{2},

whose parts add up to :math:`q_1p_1 - q_0p_0` and do not depend on which factor is named first — and
the two one-sided (Laspeyres/Paasche-type) orders for comparison. :func:`price_volume_demography`
splits the volume further into demography and coverage (population × recipients per inhabitant × unit
cost), and :func:`shapley_product` does the same for any product of factors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import combinations

import numpy as np
import pandas as pd

from progression._validation import check_choice, check_columns
from progression.exceptions import DataContractError, ParameterError

__all__ = ["shapley_product", "price_volume", "price_volume_demography", "PRICE_VOLUME_METHODS"]

#: Orders of the two-factor split: symmetric (Shapley), volume valued at start prices, price at start volume.
PRICE_VOLUME_METHODS = ("shapley", "volume_first", "price_first")


def _factors(values: Mapping | pd.DataFrame, name: str) -> tuple[list[str], np.ndarray]:
    if isinstance(values, pd.DataFrame):
        names = [str(c) for c in values.columns]
        matrix = values.to_numpy(dtype=float)
    elif isinstance(values, Mapping):
        names = [str(k) for k in values]
        arrays = [np.atleast_1d(np.asarray(v, dtype=float)) for v in values.values()]
        try:
            matrix = np.column_stack(np.broadcast_arrays(*arrays)) if arrays else np.empty((0, 0))
        except ValueError:
            raise DataContractError(f"{name}: the factors must have one length; got lengths "
                                    f"{[len(a) for a in arrays]}") from None
    else:
        raise TypeError(f"{name} must be a DataFrame or a mapping of factor name -> values; got {type(values).__name__}")
    return names, matrix


def shapley_product(start: Mapping | pd.DataFrame, end: Mapping | pd.DataFrame) -> pd.DataFrame:
    """Split the change of a product of factors exactly into one part per factor (Shapley value).

    Parameters
    ----------
    start, end : DataFrame or mapping of name -> array-like
        The factors at the start and at the end, same names in the same order, one row per unit
        (paragraph, municipality, area); scalars broadcast.

    Returns
    -------
    DataFrame
        ``start``, ``end`` (the products), ``change`` and one column per factor; the factor columns
        add up to ``change`` exactly (up to floating point).

    Raises
    ------
    ParameterError
        When the factor names differ or there are more than 10 factors.

    Notes
    -----
    With :math:`k` factors :math:`x_1,\\dots,x_k`, the part of factor :math:`j` is its marginal
    contribution averaged over the :math:`k!` orders in which the factors can change:

    .. math:: \\phi_j = \\Delta x_j \\sum_{S \\subseteq K\\setminus\\{j\\}} \\frac{|S|!\\,(k-|S|-1)!}{k!}
              \\prod_{i\\in S} x_{i1} \\prod_{i\\notin S\\cup\\{j\\}} x_{i0}.

    For two factors this is :math:`\\Delta x_1 (x_{20}+x_{21})/2`; for three,
    :math:`\\Delta x_1 [(x_{20}x_{30} + x_{21}x_{31})/3 + (x_{20}x_{31} + x_{21}x_{30})/6]`.

    References
    ----------
    Shorrocks, A. F. (2013), Decomposition procedures for distributional analysis: a unified framework
    based on the Shapley value, *Journal of Economic Inequality* 11, 99–126.

    Examples
    --------
    >>> parts = shapley_product({"population": 1.494e6, "per_capita": 8433.0},
    ...                         {"population": 1.538e6, "per_capita": 9105.0})
    >>> (parts[["change", "population", "per_capita"]] / 1e9).round(3)
       change  population  per_capita
    0   1.405       0.386       1.019
    """
    names0, x0 = _factors(start, "start")
    names1, x1 = _factors(end, "end")
    if names0 != names1:
        raise ParameterError(f"start and end must name the same factors in the same order; got {names0} and {names1}")
    if x0.shape != x1.shape:
        raise DataContractError(f"start and end must have the same number of rows; got {x0.shape[0]} and {x1.shape[0]}")
    k = len(names0)
    if not 1 <= k <= 10:
        raise ParameterError(f"shapley_product takes 1 to 10 factors; got {k}")
    parts = np.zeros_like(x0)
    for j in range(k):
        others = [i for i in range(k) if i != j]
        weight_sum = np.zeros(x0.shape[0])
        for size in range(len(others) + 1):
            weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            for subset in combinations(others, size):
                term = np.ones(x0.shape[0])
                for i in others:
                    term = term * (x1[:, i] if i in subset else x0[:, i])
                weight_sum += weight * term
        parts[:, j] = (x1[:, j] - x0[:, j]) * weight_sum
    out = pd.DataFrame({"start": x0.prod(axis=1), "end": x1.prod(axis=1)})
    out["change"] = out["end"] - out["start"]
    for j, name in enumerate(names0):
        out[name] = parts[:, j]
    if isinstance(start, pd.DataFrame):
        out.index = start.index
    return out


def _values(arg, data: pd.DataFrame | None, name: str) -> np.ndarray:
    if data is not None:
        return data[arg].to_numpy(dtype=float)
    return np.atleast_1d(np.asarray(arg, dtype=float))


def _check_data(data: pd.DataFrame | None, args: dict) -> None:
    if data is None:
        return
    for name, arg in args.items():
        if not isinstance(arg, str):
            raise ParameterError(f"with data=, {name} must be a column name; got {type(arg).__name__}")
    check_columns(data, args, name="data")


def _frame(columns: dict, data: pd.DataFrame | None) -> pd.DataFrame:
    if data is not None:
        out = data.copy()
        for key, value in columns.items():
            out[key] = value
        return out
    return pd.DataFrame(columns)


def price_volume(q0, p0, q1, p1, *, data: pd.DataFrame | None = None, method: str = "shapley") -> pd.DataFrame:
    """Split the change in spending q·p into a volume part and a price part, exactly.

    Parameters
    ----------
    q0, p0, q1, p1 : array-like, or column names with ``data``
        Volume (users, user-years, recipients) and price (unit cost, cost per user-year) at the start
        (budget, earlier year) and at the end (forecast, later year).
    data : DataFrame, optional
        A table (one row per paragraph, municipality, …) holding the four columns; the result is the
        table with the split added.
    method : {"shapley", "volume_first", "price_first"}, default "shapley"
        ``shapley``: symmetric, volume = Δq·(p0+p1)/2, price = Δp·(q0+q1)/2. ``volume_first``: volume at
        start prices Δq·p0, price at end volume Δp·q1. ``price_first``: price at start volume Δp·q0,
        volume at end prices Δq·p1. All three are exact.

    Returns
    -------
    DataFrame
        ``spending_start`` (q0·p0), ``spending_end`` (q1·p1), ``change``, ``volume``, ``price``;
        ``volume + price == change``. With ``data``, these columns are added to a copy of it.

    Raises
    ------
    ParameterError
        For an unknown ``method``.
    DataContractError
        When a column named with ``data`` is missing.

    Notes
    -----
    The Shapley split is the only one that is exact, treats the two factors alike and gives the whole
    change to volume when the price is unchanged (and to price when the volume is); the one-sided
    orders give the interaction :math:`\\Delta q\\,\\Delta p` wholly to one factor.

    References
    ----------
    Finansministeriet, Indenrigs- og Socialministeriet & KL (2009), *Det specialiserede socialområde –
    redskaber til styring og prioritering*, redskab 2 and 5.

    Examples
    --------
    >>> price_volume(100.0, 550_000.0, 110.0, 560_000.0).round(0)
       spending_start  spending_end     change     volume     price
    0      55000000.0    61600000.0  6600000.0  5550000.0  1050000.0
    """
    check_choice(method, PRICE_VOLUME_METHODS, name="method")
    _check_data(data, {"q0": q0, "p0": p0, "q1": q1, "p1": p1})
    a_q0, a_p0, a_q1, a_p1 = (_values(v, data, n) for v, n in ((q0, "q0"), (p0, "p0"), (q1, "q1"), (p1, "p1")))
    try:
        a_q0, a_p0, a_q1, a_p1 = np.broadcast_arrays(a_q0, a_p0, a_q1, a_p1)
    except ValueError:
        raise DataContractError("q0, p0, q1 and p1 must have one length (or be scalars); got lengths "
                                f"{[len(a) for a in (a_q0, a_p0, a_q1, a_p1)]}") from None
    dq, dp = a_q1 - a_q0, a_p1 - a_p0
    if method == "shapley":
        volume, price = dq * (a_p0 + a_p1) / 2, dp * (a_q0 + a_q1) / 2
    elif method == "volume_first":
        volume, price = dq * a_p0, dp * a_q1
    else:
        volume, price = dq * a_p1, dp * a_q0
    columns = {"spending_start": a_q0 * a_p0, "spending_end": a_q1 * a_p1,
               "change": a_q1 * a_p1 - a_q0 * a_p0, "volume": volume, "price": price}
    return _frame(columns, data)


def price_volume_demography(n0, c0, p0, n1, c1, p1, *, data: pd.DataFrame | None = None,
                            method: str = "shapley") -> pd.DataFrame:
    """Split the change in spending = population × recipients per inhabitant × unit cost into three parts.

    Parameters
    ----------
    n0, c0, p0, n1, c1, p1 : array-like, or column names with ``data``
        Population of the relevant age (n), recipients (or user-years) per inhabitant (c, the coverage)
        and unit cost (p), at the start and at the end.
    data : DataFrame, optional
        A table holding the six columns; the result is the table with the split added.
    method : {"shapley", "nested"}, default "shapley"
        ``shapley``: the symmetric three-factor split (:func:`shapley_product`). ``nested``: first
        price against volume (:func:`price_volume`, Shapley), then the volume into demography and
        coverage by the two-factor Shapley split of n·c; its ``unit_cost`` part equals the two-factor
        price part.

    Returns
    -------
    DataFrame
        ``spending_start``, ``spending_end``, ``change``, ``demography``, ``coverage``, ``unit_cost``;
        the three parts add up to ``change``.

    Raises
    ------
    ParameterError
        For an unknown ``method``.

    Notes
    -----
    Demography is the change the population alone would bring at unchanged coverage and unit cost;
    coverage is the change in the share of the population receiving the services (Finansministeriet
    2009 reads rising recipients per 1,000 as growth "ikke blot" from more inhabitants). The two
    methods differ only by how the three-way interactions are shared.

    Examples
    --------
    >>> parts = price_volume_demography(1.489e6, 9.45e-3, 618_000.0, 1.530e6, 9.78e-3, 588_000.0)
    >>> (parts[["change", "demography", "coverage", "unit_cost"]] / 1e6).round(0)
       change  demography  coverage  unit_cost
    0   103.0       238.0     300.0     -435.0
    """
    check_choice(method, ("shapley", "nested"), name="method")
    args = {"n0": n0, "c0": c0, "p0": p0, "n1": n1, "c1": c1, "p1": p1}
    _check_data(data, args)
    v = {k: _values(a, data, k) for k, a in args.items()}
    try:
        keys = list(v)
        v = dict(zip(keys, np.broadcast_arrays(*v.values())))
    except ValueError:
        raise DataContractError(f"the six factors must have one length (or be scalars); got lengths "
                                f"{[len(a) for a in v.values()]}") from None
    if method == "shapley":
        parts = shapley_product({"demography": v["n0"], "coverage": v["c0"], "unit_cost": v["p0"]},
                                {"demography": v["n1"], "coverage": v["c1"], "unit_cost": v["p1"]})
        demography, coverage, unit_cost = (parts[c].to_numpy() for c in ("demography", "coverage", "unit_cost"))
    else:
        q0, q1 = v["n0"] * v["c0"], v["n1"] * v["c1"]
        mean_price = (v["p0"] + v["p1"]) / 2
        unit_cost = (v["p1"] - v["p0"]) * (q0 + q1) / 2
        demography = (v["n1"] - v["n0"]) * (v["c0"] + v["c1"]) / 2 * mean_price
        coverage = (v["c1"] - v["c0"]) * (v["n0"] + v["n1"]) / 2 * mean_price
    start = v["n0"] * v["c0"] * v["p0"]
    end = v["n1"] * v["c1"] * v["p1"]
    columns = {"spending_start": start, "spending_end": end, "change": end - start,
               "demography": demography, "coverage": coverage, "unit_cost": unit_cost}
    return _frame(columns, data)
