"""The price/volume split: exact, symmetric, and equal to the Shapley value computed over all orders."""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pandas as pd
import pytest

from progression.exceptions import DataContractError, ParameterError
from progression.steering import price_volume, price_volume_demography, shapley_product


def shapley_by_orders(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Independent computation: average the marginal contribution of each factor over every order."""
    k = len(start)
    parts = np.zeros(k)
    orders = list(permutations(range(k)))
    for order in orders:
        current = start.astype(float).copy()
        for j in order:
            before = current.prod()
            current[j] = end[j]
            parts[j] += current.prod() - before
    return parts / len(orders)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_shapley_product_equals_the_average_over_orders(k):
    rng = np.random.default_rng(k)
    start, end = rng.uniform(0.5, 2, size=(20, k)), rng.uniform(0.5, 2, size=(20, k))
    names = [f"f{j}" for j in range(k)]
    ours = shapley_product(pd.DataFrame(start, columns=names), pd.DataFrame(end, columns=names))
    for i in range(20):
        np.testing.assert_allclose(ours.loc[i, names].to_numpy(dtype=float), shapley_by_orders(start[i], end[i]),
                                   rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours[names].sum(axis=1), ours["change"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours["change"], end.prod(axis=1) - start.prod(axis=1), rtol=1e-12)


def test_two_factor_split_is_the_textbook_formula_and_exact():
    q0, p0, q1, p1 = np.array([100.0, 50, 0]), np.array([550e3, 1e5, 2e4]), np.array([110.0, 40, 5]), np.array(
        [560e3, 1e5, 2.5e4])
    split = price_volume(q0, p0, q1, p1)
    np.testing.assert_allclose(split["volume"], (q1 - q0) * (p0 + p1) / 2)
    np.testing.assert_allclose(split["price"], (p1 - p0) * (q0 + q1) / 2)
    np.testing.assert_allclose(split["volume"] + split["price"], q1 * p1 - q0 * p0, rtol=1e-14)


def test_two_factor_split_is_symmetric_and_one_sided_orders_are_exact():
    rng = np.random.default_rng(7)
    q0, p0, q1, p1 = rng.uniform(1, 10, (4, 50))
    a = price_volume(q0, p0, q1, p1)
    b = price_volume(p0, q0, p1, q1)  # the factors named the other way round
    np.testing.assert_allclose(a["volume"], b["price"], rtol=1e-13)
    np.testing.assert_allclose(a["price"], b["volume"], rtol=1e-13)
    for method in ("volume_first", "price_first"):
        other = price_volume(q0, p0, q1, p1, method=method)
        np.testing.assert_allclose(other["volume"] + other["price"], other["change"], rtol=1e-12)
    # the one-sided orders differ from Shapley by half the interaction, in opposite directions
    vf, pf = price_volume(q0, p0, q1, p1, method="volume_first"), price_volume(q0, p0, q1, p1, method="price_first")
    np.testing.assert_allclose((vf["volume"] + pf["volume"]) / 2, a["volume"], rtol=1e-12)


def test_unchanged_price_gives_all_to_volume():
    split = price_volume(100.0, 5.0, 130.0, 5.0)
    assert split["price"].item() == 0
    assert split["volume"].item() == pytest.approx(150.0)


def test_price_volume_on_a_table_adds_columns():
    table = pd.DataFrame({"paragraph": ["SEL85", "SEL108"], "q0": [10.0, 2.0], "p0": [1e5, 9e5], "q1": [12.0, 2.0],
                          "p1": [1e5, 9.5e5]})
    out = price_volume("q0", "p0", "q1", "p1", data=table)
    assert list(out.columns[:5]) == list(table.columns)
    assert out.loc[1, "volume"] == 0 and out.loc[0, "price"] == 0


def test_three_factor_split_shapley_and_nested_are_exact_and_differ_by_interactions_only():
    n0, c0, p0, n1, c1, p1 = 1.489e6, 9.45e-3, 618e3, 1.530e6, 9.78e-3, 588e3
    shapley = price_volume_demography(n0, c0, p0, n1, c1, p1)
    nested = price_volume_demography(n0, c0, p0, n1, c1, p1, method="nested")
    for split in (shapley, nested):
        total = split[["demography", "coverage", "unit_cost"]].sum(axis=1).item()
        assert total == pytest.approx(n1 * c1 * p1 - n0 * c0 * p0, rel=1e-12)
    # nested keeps the two-factor price part
    two = price_volume(n0 * c0, p0, n1 * c1, p1)
    assert nested["unit_cost"].item() == pytest.approx(two["price"].item(), rel=1e-12)
    assert shapley["unit_cost"].item() == pytest.approx(nested["unit_cost"].item(), rel=0.02)
    # and the symmetric one is the Shapley value over orders
    np.testing.assert_allclose(shapley[["demography", "coverage", "unit_cost"]].to_numpy()[0],
                               shapley_by_orders(np.array([n0, c0, p0]), np.array([n1, c1, p1])), rtol=1e-12)


def test_errors_name_the_argument():
    with pytest.raises(ParameterError, match="method must be one of"):
        price_volume(1, 1, 2, 2, method="laspeyres")
    with pytest.raises(DataContractError, match=r"column\(s\) \['p9'\] \(given as \['p1'\]\) not found"):
        price_volume("q0", "p0", "q1", "p9", data=pd.DataFrame({"q0": [1.0], "p0": [1.0], "q1": [1.0]}))
    with pytest.raises(ParameterError, match="must be a column name"):
        price_volume(1.0, "p0", "q1", "p1", data=pd.DataFrame({"p0": [1.0]}))
    with pytest.raises(DataContractError, match="one length"):
        price_volume([1, 2], [1, 2, 3], [1, 2], [1, 2])
    with pytest.raises(ParameterError, match="same factors"):
        shapley_product({"a": 1, "b": 2}, {"b": 1, "a": 2})
    with pytest.raises(TypeError, match="DataFrame or a mapping"):
        shapley_product([1, 2], [1, 2])
