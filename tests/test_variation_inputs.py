"""The variation notebook's building blocks: scale-free Shapley bootstrap, area tables, register counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from progression.exceptions import DataContractError
from progression.variation import (
    SEED004_REPORTED,
    register_recipients,
    shapley_r2_bootstrap,
    spending_panel,
    unit_cost_decomposition,
)

DOMAIN_NOTES = Path(__file__).resolve().parents[2] / "shared" / "docs" / "domain.md"


def _small_share_data(n: int = 98, seed: int = 3) -> pd.DataFrame:
    """Spending in kr. (~8,000) on criteria whose shares are as small as 0.5 % (sd ~0.1 %)."""
    rng = np.random.default_rng(seed)
    rare = 0.005 * np.exp(0.15 * rng.standard_normal(n))
    common = 0.2 * np.exp(0.1 * rng.standard_normal(n))
    spend = 8_000 * (1 + 40 * (rare - 0.005) + 2 * (common - 0.2) + 0.1 * rng.standard_normal(n))
    return pd.DataFrame({"spend": spend, "rare": rare, "common": common, "pop": rng.integers(2_000, 400_000, n)})


def test_shapley_bootstrap_keeps_replicates_when_columns_differ_in_scale():
    data = _small_share_data()
    frame = shapley_r2_bootstrap(data, "spend", ["rare", "common"], weights="pop", n_boot=200, seed=5)
    assert frame.attrs["n_dropped"] == 0
    rescaled = data.assign(rare=data["rare"] * 1_000, spend=data["spend"] / 1_000)
    same = shapley_r2_bootstrap(rescaled, "spend", ["rare", "common"], weights="pop", n_boot=200, seed=5)
    pd.testing.assert_frame_equal(frame, same, rtol=1e-8)  # R² and its parts do not depend on units
    assert (frame["conf_low"] <= frame["estimate"]).all() and (frame["estimate"] <= frame["conf_high"]).all()


# --------------------------------------------------------------------------------------------------
# spending_panel
# --------------------------------------------------------------------------------------------------
def _accounts(price_years=(2009, 2009)) -> tuple[pd.DataFrame, pd.DataFrame]:
    accounts = pd.DataFrame({
        "municipality": [101, 101, 101, 147, 147, 147],
        "year": [2008, 2008, 2008, 2008, 2008, 2008],
        "function": ["53850", "53852", "52800", "53850", "53852", "52800"],
        "net_operating_dkk": [300.0, 100.0, 999.0, 50.0, 30.0, 999.0],
        "price_year": [price_years[0], price_years[1], 2009, price_years[0], price_years[1], 2009],
    })
    years = pd.DataFrame({"municipality": [101, 147], "year": [2008, 2008], "pop_18_66": [10, 4],
                          "share_a": [0.1, 0.2], "share_b": [0.3, 0.4]})
    return accounts, years


def test_spending_panel_sums_the_area_functions_and_joins_the_criteria():
    accounts, years = _accounts()
    out = spending_panel(accounts, years, functions="5.38", population_col="pop_18_66", criteria=["share_b"])
    assert out["spend_per_capita"].tolist() == [40.0, 20.0]  # (300 + 100) / 10 and (50 + 30) / 4
    assert out["share_b"].tolist() == [0.3, 0.4] and "share_a" not in out.columns
    assert out["price_year"].tolist() == [2009, 2009]


def test_spending_panel_refuses_mixed_price_years():
    accounts, years = _accounts(price_years=(2009, 2022))
    with pytest.raises(DataContractError, match=r"price_year.*\[2009, 2022\]"):
        spending_panel(accounts, years, functions="5.38", population_col="pop_18_66")
    only_53850 = spending_panel(accounts, years, functions=["5.38.50"], population_col="pop_18_66")
    assert only_53850["spend_per_capita"].tolist() == [30.0, 12.5]


# --------------------------------------------------------------------------------------------------
# register_recipients
# --------------------------------------------------------------------------------------------------

def test_register_recipients_counts_persons_once_and_keeps_the_payer():
    costs = pd.DataFrame({
        "person_id": [1, 1, 2, 3, 4, 5, 1],
        "year": [2022, 2022, 2022, 2022, 2022, 2022, 2023],
        "service": ["SEL85", "SEL108", "SEL85", "SEL85", "SEL103", "SEL85", "SEL85"],
        "payer": ["kommune", "kommune", "stat", "kommune", "kommune", "kommune", "kommune"],
        "cost_dkk": [100.0, 900.0, 50.0, 0.0, 70.0, 200.0, 110.0],
    })
    residence = pd.DataFrame({"person_id": [1, 2, 3, 4, 5, 1], "year": [2022] * 5 + [2023],
                              "municipality": [101, 101, 101, 147, 147, 147]})
    out = register_recipients(costs, residence, services=["SEL85", "SEL108"])
    # person 2 is paid by the state, person 3 costs nothing, person 4 has another service
    assert out.drop(columns="dominance_share").to_dict("records") == [
        {"municipality": 101, "year": 2022, "n_recipients": 1, "cost_dkk": 1000.0},
        {"municipality": 147, "year": 2022, "n_recipients": 1, "cost_dkk": 200.0},
        {"municipality": 147, "year": 2023, "n_recipients": 1, "cost_dkk": 110.0},
    ]
    assert (out["dominance_share"] == 1.0).all()  # one recipient is the whole cell
    every_payer = register_recipients(costs, residence, services=["SEL85"], payer=None)
    assert every_payer.set_index(["municipality", "year"]).loc[(101, 2022), "n_recipients"] == 2


def test_register_counts_split_spending_into_coverage_times_unit_cost():
    rng = np.random.default_rng(8)
    n_persons = 600
    costs = pd.DataFrame({"person_id": np.arange(1, n_persons + 1), "year": 2022, "service": "SEL85",
                          "payer": "kommune", "cost_dkk": rng.gamma(2.0, 40_000.0, n_persons)})
    residence = pd.DataFrame({"person_id": costs["person_id"], "year": 2022,
                              "municipality": rng.choice([101, 147, 151, 153], n_persons)})
    counts = register_recipients(costs, residence, services=["SEL85"])
    counts["pop_18_66"] = [40_000, 9_000, 20_000, 15_000]
    split = unit_cost_decomposition(counts, spending="cost_dkk", recipients="n_recipients", population="pop_18_66")
    by_hand = residence.join(costs["cost_dkk"]).groupby("municipality")["cost_dkk"].agg(["size", "sum"])
    np.testing.assert_allclose(split["unit_cost"], (by_hand["sum"] / by_hand["size"]).to_numpy())
    np.testing.assert_allclose(split["spend_per_capita"], split["recipients_per_capita"] * split["unit_cost"])
    assert counts["n_recipients"].sum() == n_persons and counts.attrs["n_without_residence"] == 0


def test_register_dominance_share_is_that_of_the_per_person_costs():
    """The share of a municipality's cost that its two (or n) most expensive recipients make up, a person's
    cost summed over services first: the input of the (n, k) dominance rule."""
    costs = pd.DataFrame({
        "person_id": [1, 1, 2, 3, 4, 5, 6, 7],
        "year": 2022,
        "service": ["SEL85", "SEL108", "SEL85", "SEL85", "SEL85", "SEL85", "SEL85", "SEL85"],
        "payer": "kommune",
        "cost_dkk": [100_000.0, 800_000.0, 50_000.0, 40_000.0, 30_000.0, 60_000.0, 60_000.0, 60_000.0],
    })
    residence = pd.DataFrame({"person_id": [1, 2, 3, 4, 5, 6, 7], "year": 2022,
                              "municipality": [101, 101, 101, 101, 147, 147, 147]})
    out = register_recipients(costs, residence, services=["SEL85", "SEL108"]).set_index("municipality")
    assert out.loc[101, "dominance_share"] == pytest.approx((900_000 + 50_000) / 1_020_000)
    assert out.loc[147, "dominance_share"] == pytest.approx(2 / 3)
    three = register_recipients(costs, residence, services=["SEL85", "SEL108"], dominance_n=3)
    assert three.set_index("municipality").loc[147, "dominance_share"] == pytest.approx(1.0)


# --------------------------------------------------------------------------------------------------
# seed 004's numbers
# --------------------------------------------------------------------------------------------------

def test_seed004_numbers_are_those_of_the_domain_notes():
    if not DOMAIN_NOTES.is_file():
        pytest.skip("../shared/docs/domain.md is not present")
    lines = DOMAIN_NOTES.read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if "Seed 004 targets" in ln)
    text = " ".join(lines[start:start + 4])
    adults, children = SEED004_REPORTED["adults"], SEED004_REPORTED["children"]
    assert f"{adults['weighted_mean']:,.0f} kr. per 18–66" in text and f"{children['weighted_mean']:,.0f} kr." in text
    assert f"{adults['n_below_low']} municipalities under {adults['low']:,.0f}" in text
    assert f"{adults['n_above_high']} over {adults['high']:,.0f}" in text
    assert f"{children['n_below_low']} under {children['low']:,.0f} and {children['n_above_high']} over" in text
    assert f"≈ {adults['explained_share']:.0%}".replace("%", " %") in text
    assert "just under 50 %" in text and 0.45 <= children["explained_share"] < 0.50  # "knap halvdelen"


# --------------------------------------------------------------------------------------------------
# figures of the notebook
# --------------------------------------------------------------------------------------------------

def test_spending_bars_and_unit_cost_split_draw_their_frames():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from progression.plots.variation import plot_spending_by_municipality, plot_unit_cost_split

    data = pd.DataFrame({"spend": [6_500.0, 9_500.0, 8_000.0, 6_900.0, 12_000.0]})
    fig, (left, right) = plt.subplots(1, 2)
    ax = plot_spending_by_municipality(data, value="spend", mean=8_100.0, low=7_000.0, high=9_000.0, ax=left)
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == sorted(data["spend"])
    colours = [bar.get_facecolor() for bar in ax.patches]
    assert colours[0] == colours[1] != colours[2] != colours[4] and colours[3] == colours[4]  # 2 low, 2 high
    split = pd.DataFrame({"log_diff_coverage": [0.1, -0.2, np.nan], "log_diff_unit_cost": [0.0, 0.3, 0.1]})
    ax = plot_unit_cost_split(split, ax=right)
    points = [c for c in ax.collections if type(c).__name__ == "PathCollection"][0].get_offsets()
    np.testing.assert_allclose(points, [[0.1, 0.0], [-0.2, 0.3]])  # the suppressed row is left out
    plt.close(fig)
