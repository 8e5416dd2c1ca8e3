"""Spending per inhabitant, the summary numbers of Finansministeriet (2009) and the recipients × unit-cost identity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from progression.exceptions import DataContractError, ParameterError
from progression.sources.noegletal import read_noegletal
from progression.variation import (
    SEED004_ADULTS,
    SEED004_CHILDREN,
    describe_spending,
    per_capita_spending,
    unit_cost_decomposition,
    unit_cost_variance_shares,
)

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference-data"


def seed004_table(mean: float, n_low: int, n_high: int, low: float, high: float, seed: int) -> pd.DataFrame:
    """98 municipalities with exactly n_low under ``low``, n_high over ``high`` and weighted mean ``mean``.

    The middle group is shifted so that the population-weighted mean hits the target; the construction
    checks it stays inside (low, high).
    """
    rng = np.random.default_rng(seed)
    n_mid = 98 - n_low - n_high
    pop = rng.integers(1_200, 420_000, size=98).astype(float)
    below = rng.uniform(low - 1_500, low - 1, n_low)
    above = rng.uniform(high + 1, high + 2_500, n_high)
    middle = np.full(n_mid, (low + high) / 2)
    values = np.r_[below, middle, above]
    mid = slice(n_low, n_low + n_mid)
    shift = (mean * pop.sum() - np.sum(pop * values)) / pop[mid].sum()
    values[mid] += shift
    assert low <= values[mid].min() and values[mid].max() <= high
    return pd.DataFrame({"municipality": np.arange(101, 199), "spend": values, "pop": pop})


@pytest.mark.parametrize(
    ("mean", "n_low", "n_high", "thresholds"),
    [(7_776, 20, 17, SEED004_ADULTS), (9_105, 21, 30, SEED004_CHILDREN)],
    ids=["adults-2008", "children-2008"],
)
def test_reproduces_seed004_summary_numbers(mean, n_low, n_high, thresholds):
    """Finansministeriet (2009), afsnit 2.1–2.2 (2008): adults 7,776 kr./18–66-year-old, 20 < 7,000, 17 > 9,000;
    children 9,105 kr., 21, 30."""
    table = seed004_table(mean, n_low, n_high, seed=4, **thresholds)
    summary = describe_spending(table, per_capita="spend", population="pop", **thresholds).iloc[0]
    assert summary["weighted_mean"] == pytest.approx(mean, abs=1e-6)
    assert (summary["n_below_low"], summary["n_above_high"]) == (n_low, n_high)
    assert summary["n_municipalities"] == 98
    assert summary["weighted_mean"] == pytest.approx(
        (table["spend"] * table["pop"]).sum() / table["pop"].sum()
    )


def test_describe_spending_threshold_errors():
    table = seed004_table(7_776, 20, 17, seed=1, **SEED004_ADULTS)
    with pytest.raises(ParameterError, match="low must be below high"):
        describe_spending(table, per_capita="spend", population="pop", low=9_000, high=7_000)


def test_reference_regk31_weighted_mean_matches_the_national_figure():
    """REGK31 2024, function 5.38.45, kr. per inhabitant: the population-weighted mean of the 98
    municipalities (2022 populations, noegletal.dk) should be close to DST's 'Hele landet' value (181)."""
    spend_path = REFERENCE / "regk31_percapita_marieleth_excerpt" / "regk31_2024_5.38.45_per_indbygger.csv"
    pop_path = REFERENCE / "noegletal_population_leafletexploration" / "kommune_indbyggere_2007_2022.csv"
    if not (spend_path.exists() and pop_path.exists()):
        pytest.skip("reference REGK31 excerpt or population file not present")
    spend = pd.read_csv(spend_path, header=None, names=["unit", "kind", "function", "area", "per_capita"])
    national = spend.loc[spend["area"] == "Hele landet", "per_capita"].iloc[0]
    population = read_noegletal(pop_path).query("year == 2022 and municipality.notna()")
    table = spend.merge(population, left_on="area", right_on="name", how="inner")
    assert len(table) == 98  # every municipality joins
    summary = describe_spending(table, per_capita="per_capita", population="value", low=100, high=300).iloc[0]
    assert summary["weighted_mean"] == pytest.approx(national, abs=1.0)
    assert summary["unweighted_mean"] != pytest.approx(summary["weighted_mean"], abs=1.0)


def long_spending() -> tuple[pd.DataFrame, pd.DataFrame]:
    spending = pd.DataFrame(
        {
            "municipality": [101, 101, 101, 825, 825, 825, 741],
            "year": [2023] * 7,
            "function": ["53850", "53852", "52820", "53850", "53852", "52820", "52820"],
            "net_operating_dkk": [5.0e8, 2.0e8, 9.0e8, np.nan, 1.0e6, 3.0e6, 4.0e6],
        }
    )
    population = pd.DataFrame({"municipality": [101, 825, 741], "year": [2023] * 3, "pop_18_66": [4.5e5, 1.1e3, 2.3e3]})
    return spending, population


def test_per_capita_spending_sums_selected_functions():
    spending, population = long_spending()
    out = per_capita_spending(spending, population, functions="5.38", population_col="pop_18_66").set_index("municipality")
    assert out.loc[101, "spending_dkk"] == 7.0e8 and out.loc[101, "n_functions"] == 2
    assert out.loc[101, "spend_per_capita"] == pytest.approx(7.0e8 / 4.5e5)
    assert np.isnan(out.loc[825, "spend_per_capita"])  # a suppressed amount is never read as zero
    assert np.isnan(out.loc[741, "spend_per_capita"]) and out.loc[741, "n_functions"] == 0
    children = per_capita_spending(spending, population, functions=["5.28.20"], population_col="pop_18_66")
    assert children.set_index("municipality").loc[825, "spending_dkk"] == 3.0e6


def test_per_capita_spending_unknown_function():
    spending, population = long_spending()
    with pytest.raises(DataContractError, match=r"no spending rows match functions \['599'\]"):
        per_capita_spending(spending, population, functions="5.99", population_col="pop_18_66")


def test_unit_cost_identity_is_exact():
    rng = np.random.default_rng(9)
    n = 98
    population = rng.integers(2_000, 500_000, n).astype(float)
    recipients = population * rng.uniform(0.004, 0.012, n)
    spending = recipients * rng.lognormal(np.log(600_000), 0.25, n)
    data = pd.DataFrame({"municipality": np.arange(101, 101 + n), "S": spending, "R": recipients, "P": population})
    out = unit_cost_decomposition(data, spending="S", recipients="R", population="P")
    np.testing.assert_allclose(out["log_diff_spending"], out["log_diff_coverage"] + out["log_diff_unit_cost"], atol=1e-12)
    national = out.attrs["national"]
    assert national["spend_per_capita"] == pytest.approx(national["recipients_per_capita"] * national["unit_cost"])
    shares = unit_cost_variance_shares(out, weights=population)
    assert shares["share_coverage"] + shares["share_unit_cost"] == pytest.approx(1.0)
    w = population / population.sum()
    log_s = out["log_diff_spending"].to_numpy()
    assert shares["var_log_spending"] == pytest.approx(np.sum(w * (log_s - np.sum(w * log_s)) ** 2))


def test_unit_cost_variance_shares_know_which_part_varies():
    """Unit cost fixed → all variance is coverage; coverage fixed → all is unit cost."""
    rng = np.random.default_rng(10)
    population = rng.integers(2_000, 500_000, 50).astype(float)
    rate = rng.uniform(0.004, 0.012, 50)
    only_coverage = pd.DataFrame({"municipality": range(50), "P": population, "R": population * rate})
    only_coverage["S"] = only_coverage["R"] * 500_000
    shares = unit_cost_variance_shares(unit_cost_decomposition(only_coverage, spending="S", recipients="R", population="P"))
    assert shares["share_coverage"] == pytest.approx(1.0)
    only_cost = only_coverage.assign(R=population * 0.008, S=population * 0.008 * rng.lognormal(13, 0.3, 50))
    shares = unit_cost_variance_shares(unit_cost_decomposition(only_cost, spending="S", recipients="R", population="P"))
    assert shares["share_unit_cost"] == pytest.approx(1.0)


def test_unit_cost_needs_positive_counts():
    data = pd.DataFrame({"municipality": [101, 825], "S": [1.0, 2.0], "R": [0.0, 1.0], "P": [10.0, 20.0]})
    with pytest.raises(DataContractError, match=r"column 'R'.*\(municipality: \[101\]\)"):
        unit_cost_decomposition(data, spending="S", recipients="R", population="P")
