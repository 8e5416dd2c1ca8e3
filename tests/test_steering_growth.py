"""Growth tables, per-capita, composition and implied populations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from progression.exceptions import DataContractError, ParameterError
from progression.steering import growth_table, implied_population, per_capita, rounding_bounds, shares_of_total


def test_growth_table_average_and_compound_rates_on_known_series():
    years = [2004, 2005, 2006, 2007, 2008]
    levels = pd.DataFrame([[100 * 1.03**t for t in range(5)], [10 + 2 * t for t in range(5)]], index=["compound", "linear"],
                          columns=years)
    out = growth_table(levels, start=2004, end=2008)
    assert out.loc["compound", "annual_growth_rate"] == pytest.approx(0.03, abs=1e-12)
    assert out.loc["linear", "average_growth"] == pytest.approx(2.0)
    assert out.loc["linear", "years"] == 4
    assert out.loc["linear", "change"] == pytest.approx(8.0)


def test_growth_table_accepts_string_year_labels_and_a_given_span():
    levels = pd.DataFrame({"R2004": [1.0], "R2008": [2.0]})
    out = growth_table(levels, start="R2004", end="R2008", years=4)
    assert out["annual_growth_rate"].item() == pytest.approx(2 ** 0.25 - 1)
    with pytest.raises(ParameterError, match="is not a year"):
        growth_table(levels, start="R2004", end="R2008")


def test_growth_rate_is_missing_where_a_level_is_not_positive():
    out = growth_table(pd.DataFrame({2004: [-1.0, 0.0], 2008: [1.0, 1.0]}), start=2004, end=2008)
    assert out["annual_growth_rate"].isna().all()
    assert out["average_growth"].tolist() == [0.5, 0.25]


def test_growth_table_errors():
    levels = pd.DataFrame({2004: [1.0], 2008: [2.0]})
    with pytest.raises(ParameterError, match=r"start=2003 is not a column of levels; columns \(years\) present"):
        growth_table(levels, start=2003, end=2008)
    with pytest.raises(ParameterError, match="must be positive"):
        growth_table(levels, start=2008, end=2004)
    with pytest.raises(DataContractError, match="must be numeric"):
        growth_table(pd.DataFrame({2004: ["a"], 2008: [2.0]}), start=2004, end=2008)
    with pytest.raises(TypeError, match="levels must be a pandas DataFrame"):
        growth_table([[1, 2]], start=0, end=1)


def test_per_capita_wide_table_and_rates_per_thousand():
    spending = pd.DataFrame({2004: [1e9, 3e9], 2008: [2e9, 4e9]}, index=["a", "b"])
    population = pd.Series({2004: 1e6, 2008: 2e6})
    out = per_capita(spending, population)
    assert out.loc["a", 2004] == 1000 and out.loc["b", 2008] == 2000
    assert per_capita(np.array([14_960.0]), 1_529_652.0, per=1000)[0] == pytest.approx(9.78, abs=5e-4)
    with pytest.raises(DataContractError, match="no value for column"):
        per_capita(spending, pd.Series({2004: 1e6}))
    with pytest.raises(DataContractError, match="must be positive"):
        per_capita([1.0], [0.0])


def test_population_weighted_mean_is_sum_over_sum():
    """Σ S_i / Σ P_i equals the population-weighted mean of the municipalities' S_i / P_i."""
    rng = np.random.default_rng(1)
    pop = rng.integers(2_000, 500_000, 98).astype(float)
    spend = pop * rng.uniform(5_000, 11_000, 98)
    national = per_capita(spend.sum(), pop.sum())
    assert national == pytest.approx(np.average(spend / pop, weights=pop), rel=1e-12)


def test_shares_of_total_with_and_without_a_total_row():
    levels = pd.DataFrame({2008: [1.0, 3.0, 4.0]}, index=["a", "b", "total"])
    assert shares_of_total(levels, total="total").loc["b", 2008] == 0.75
    assert shares_of_total(levels.drop(index="total")).loc["a", 2008] == 0.25
    with pytest.raises(ParameterError, match="is not a row of levels"):
        shares_of_total(levels, total="i alt")


def test_implied_population_bounds_contain_the_truth_of_rounded_inputs():
    rng = np.random.default_rng(3)
    pop = rng.uniform(1e6, 4e6, 500)
    spend = pop * rng.uniform(500, 9_000, 500)
    rounded_spend, rounded_pc = np.round(spend / 1e8) * 1e8, np.round(spend / pop)
    out = implied_population(rounded_spend, rounded_pc, amount_half_unit=0.05e9, per_capita_half_unit=0.5)
    assert ((out["bound_low"] <= pop) & (pop <= out["bound_high"])).all()
    assert rounding_bounds(7.66, 0.005) == (7.655, 7.665)
    with pytest.raises(DataContractError, match="must exceed its rounding half unit"):
        implied_population([1.0], [0.004], per_capita_half_unit=0.005)
