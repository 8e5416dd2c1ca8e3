"""Budget economics: discounting against Finansministeriet's numbers, refusion bands, SØM-style flows."""

import math

import numpy as np
import pandas as pd
import pytest

from progression import economics as eco
from progression.exceptions import ApproximationWarning, DataContractError, ParameterError

# --------------------------------------------------------------------------------------------
# Discounting
# --------------------------------------------------------------------------------------------


def test_discount_factors_match_the_published_profile():
    """DF(10) = 0.708919, DF(40) = 0.265136, DF(80) = 0.108916 (domain.md §6, FM 2021 profile)."""
    df = eco.discount_factors([0, 10, 40, 80])
    np.testing.assert_allclose(df.to_numpy(), [1.0, 0.708919, 0.265136, 0.108916], atol=5e-7)


def test_year_50_is_35_years_at_3_5_and_15_years_at_2_5_percent():
    expected = 1.035 ** -35 * 1.025 ** -15
    assert eco.present_value(pd.Series({50: 1.0})) == pytest.approx(expected, rel=1e-12)
    assert eco.discount_factors([50]).iloc[0] == pytest.approx(expected, rel=1e-12)


def test_present_value_by_payer_and_year_zero_undiscounted():
    flows = pd.DataFrame({"kommune": [-100.0, 0.0, 50.0], "stat": [0.0, 40.0, 40.0]}, index=[0, 1, 2])
    pv = eco.present_value(flows)
    assert pv["kommune"] == pytest.approx(-100 + 50 / 1.035 ** 2)
    assert pv["stat"] == pytest.approx(40 / 1.035 + 40 / 1.035 ** 2)


@pytest.mark.parametrize("rates, t, expected", [
    ("fm2013", 40, 1.04 ** -35 * 1.03 ** -5),
    ("fm2013", 75, 1.04 ** -35 * 1.03 ** -35 * 1.02 ** -5),
    ("flat5", 30, 1.05 ** -30),
    (0.03, 12, 1.03 ** -12),
    ([(10, 0.05), (math.inf, 0.01)], 15, 1.05 ** -10 * 1.01 ** -5),
    ([(10, 0.05), (20, 0.01)], 25, 1.05 ** -10 * 1.01 ** -15),   # the last rate continues
])
def test_named_and_custom_profiles(rates, t, expected):
    assert eco.discount_factors([t], rates=rates).iloc[0] == pytest.approx(expected, rel=1e-12)


def test_discounting_errors_name_the_problem():
    with pytest.raises(ParameterError, match="unknown discount profile 'fm1999'.*fm2013"):
        eco.discount_factors([1], rates="fm1999")
    with pytest.raises(ParameterError, match=r"years: expected finite year offsets ≥ 0; found \[-1.0\]"):
        eco.discount_factors([-1, 2])
    with pytest.raises(ParameterError, match="increasing"):
        eco.discount_factors([1], rates=[(20, 0.03), (10, 0.02)])
    with pytest.raises(ParameterError, match="missing values"):
        eco.present_value(pd.Series({0: 1.0, 1: np.nan}))
    with pytest.raises(TypeError, match="Series or DataFrame"):
        eco.present_value([1.0, 2.0])

# --------------------------------------------------------------------------------------------
# Refusion (SEL § 176)
# --------------------------------------------------------------------------------------------


def test_refusion_bands_2022():
    """25 % above 860,000, 50 % above 1,680,000, 75 % above 2,120,000 (2022 level)."""
    costs = [500_000, 1_000_000, 2_000_000, 3_000_000]
    expected = [0,
                0.25 * 140_000,
                0.25 * 820_000 + 0.50 * 320_000,
                0.25 * 820_000 + 0.50 * 440_000 + 0.75 * 880_000]
    np.testing.assert_allclose(eco.state_refusion(costs, year=2022), expected)


def test_refusion_only_under_67():
    refusion = eco.state_refusion([1_000_000, 1_000_000], year=2022, age=[66, 67])
    np.testing.assert_allclose(refusion, [35_000, 0])


def test_refusion_2024_uses_confirmed_first_threshold_and_warns_about_the_rest():
    with pytest.warns(ApproximationWarning, match="not confirmed"):
        refusion = eco.state_refusion([1_000_000], year=2024)
    assert refusion[0] == pytest.approx(0.25 * (1_000_000 - 910_000))


def test_refusion_year_between_table_years_falls_back_with_a_warning():
    with pytest.warns(ApproximationWarning, match="2023 not in the table; using those of 2022"):
        bands = eco.refusion_thresholds(2023)
    assert bands["threshold_dkk"].tolist() == [860_000, 1_680_000, 2_120_000]
    with pytest.raises(ParameterError, match="no refusion thresholds for 2010"):
        eco.refusion_thresholds(2010)


def test_split_case_costs_adds_up_per_year():
    cases = pd.DataFrame({"cost_dkk": [2_000_000.0, 2_000_000.0, 500_000.0], "year": [2020, 2022, 2022],
                          "age": [30, 30, 40]})
    out = eco.split_case_costs(cases)
    np.testing.assert_allclose(out["stat_refusion_dkk"] + out["kommune_dkk"], cases["cost_dkk"])
    # 2020 level: 830,000 / 1,630,000 / 2,050,000
    assert out["stat_refusion_dkk"].iloc[0] == pytest.approx(0.25 * 800_000 + 0.50 * 370_000)
    assert out["stat_refusion_dkk"].iloc[1] == pytest.approx(0.25 * 820_000 + 0.50 * 320_000)
    assert out["stat_refusion_dkk"].iloc[2] == 0

# --------------------------------------------------------------------------------------------
# Price years
# --------------------------------------------------------------------------------------------


INDEX = pd.Series({2020: 100.0, 2022: 108.0, 2024: 115.0})


def test_price_factor_and_reprice():
    assert eco.price_factor(2020, 2024, index=INDEX) == pytest.approx(1.15)
    table = pd.DataFrame({"cost_dkk": [100.0, 108.0], "price_year": [2020, 2022]})
    out = eco.reprice(table, to_year=2024, index=INDEX)
    np.testing.assert_allclose(out["cost_dkk"], [115.0, 115.0])
    assert (out["price_year"] == 2024).all()
    with pytest.raises(ParameterError, match=r"no value for year\(s\) \[2019\]"):
        eco.price_factor(2019, 2024, index=INDEX)

# --------------------------------------------------------------------------------------------
# SØM-style budget consequences
# --------------------------------------------------------------------------------------------


def unit_costs(price_year=2024):
    return pd.DataFrame({
        "item": ["psych_bed_day", "kontanthjaelp_year", "kontanthjaelp_year", "SEL85_year"],
        "payer": ["region", "kommune", "stat", "kommune"],
        "unit": ["day", "year", "year", "year"],
        "cost_dkk": [4_174.0, 75_000.0, 75_000.0, 120_000.0],
        "price_year": [price_year] * 4,
        "source": ["seed 000 L1563 (2024 p/l)", "illustrative", "illustrative", "illustrative"],
    })


EFFECTS = pd.DataFrame({
    "item": ["psych_bed_day", "kontanthjaelp_year", "SEL85_year"],
    "change": [-2.0, -0.10, -0.05],
    "start_year": [1, 1, 2],
    "duration_years": [3, 4, 2],
    "area": ["health", "transfers", "social"],
})


def test_budget_flows_are_minus_change_times_unit_cost_by_payer():
    res = eco.budget_consequences(EFFECTS, unit_costs(), intervention_cost=40_000, n_participants=10)
    wide = res.by_year()
    assert wide.loc[0, "kommune"] == -400_000                                    # own cost, year 0
    assert wide.loc[1, "region"] == pytest.approx(2 * 4_174 * 10)
    assert wide.loc[1, "stat"] == pytest.approx(0.10 * 75_000 * 10)
    assert wide.loc[2, "kommune"] == pytest.approx(10 * (0.10 * 75_000 + 0.05 * 120_000))
    assert wide.loc[4, "region"] == 0 and wide.loc[4, "stat"] == pytest.approx(7_500 * 10)
    assert list(wide.index) == [0, 1, 2, 3, 4]
    by_area = res.by_year("area")
    assert by_area.loc[3, "social"] == pytest.approx(0.05 * 120_000 * 10)


def test_npv_break_even_and_wrong_pocket():
    res = eco.budget_consequences(EFFECTS, unit_costs(), intervention_cost=40_000)
    wide = res.by_year()
    df = eco.discount_factors(wide.index).to_numpy()
    npv = res.npv()
    assert npv["total"] == pytest.approx(float(wide["total"].to_numpy() @ df))
    assert npv["total"] == pytest.approx(npv[["kommune", "region", "stat"]].sum())
    cumulative = np.cumsum(wide["total"].to_numpy() * df)
    expected_year = int(np.flatnonzero(cumulative >= 0)[0])
    assert (cumulative[expected_year:] >= 0).all()
    assert res.break_even_year() == expected_year
    pocket = res.wrong_pocket()
    assert pocket.loc["kommune", "cost_dkk"] == pytest.approx(40_000)                # the kommune pays
    assert pocket.loc["region", "cost_dkk"] == 0 and pocket.loc["stat", "cost_dkk"] == 0
    assert pocket["share_of_gains"].sum() == pytest.approx(1.0)
    assert pocket.loc[["region", "stat"], "gain_dkk"].sum() > 0                      # …others gain too
    assert pocket["net_dkk"].sum() == pytest.approx(npv["total"])


def test_never_breaking_even_and_horizon():
    res = eco.budget_consequences(EFFECTS, unit_costs(), intervention_cost=10_000_000, horizon=3)
    assert res.break_even_year() is None
    assert res.flows["year"].max() == 2


def test_unit_cost_price_years_are_moved_with_an_index():
    mixed = unit_costs()
    mixed.loc[0, ["cost_dkk", "price_year"]] = [4_174.0 / 1.15, 2020]
    with pytest.raises(ParameterError, match="price years differ"):
        eco.budget_consequences(EFFECTS, mixed)
    with pytest.raises(ParameterError, match="pass price_index"):
        eco.budget_consequences(EFFECTS, mixed, price_year=2024)
    res = eco.budget_consequences(EFFECTS, mixed, price_year=2024, price_index=INDEX)
    assert res.by_year().loc[1, "region"] == pytest.approx(2 * 4_174)
    assert res.price_year == 2024


def test_budget_errors_name_items_and_columns():
    with pytest.raises(ParameterError, match=r"1 item\(s\) have no unit cost: \['SEL108_year'\]"):
        eco.budget_consequences(EFFECTS.assign(item=["psych_bed_day", "kontanthjaelp_year", "SEL108_year"]),
                                unit_costs())
    with pytest.raises(ParameterError, match=r"missing column\(s\) \['duration_years'\]"):
        eco.budget_consequences(EFFECTS.drop(columns="duration_years"), unit_costs())
    with pytest.raises(ParameterError, match="whole years"):
        eco.budget_consequences(EFFECTS.assign(duration_years=[1.5, 2, 2]), unit_costs())
    with pytest.raises(DataContractError, match="payer"):
        eco.budget_consequences(EFFECTS, unit_costs().assign(payer="borger"))

# --------------------------------------------------------------------------------------------
# SØM potentials (seed 002): success versus non-success, and what an effect leaves of it
# --------------------------------------------------------------------------------------------


def test_success_potential_by_hand():
    costs = pd.DataFrame({
        "person_id": [1, 1, 2, 3, 3, 4], "year": [2019, 2020, 2019, 2020, 2021, 2019],
        "service": ["SEL85", "SEL85", "SEL108", "SEL108", "SEL108", "SEL85"],
        "payer": ["kommune"] * 6, "cost_dkk": [100.0, 50.0, 400.0, 800.0, 800.0, 60.0], "price_year": 2024,
    })
    groups = pd.DataFrame({"person_id": [1, 2, 3, 4], "success": [True, True, False, False],
                           "reference_year": [2019, 2019, 2020, 2019]})
    pot = eco.success_potential(costs, groups, horizon=2)
    t = pot.table.set_index(["rel_year", "area"])
    assert t.loc[(0, "SEL85"), "mean_cost_success"] == 50        # (100 + 0) / 2 successes
    assert t.loc[(0, "SEL85"), "mean_cost_failure"] == 30        # (0 + 60) / 2 failures
    assert t.loc[(0, "SEL108"), "potential_dkk"] == 800 / 2 - 400 / 2
    assert t.loc[(1, "SEL108"), "potential_dkk"] == 800 / 2      # person 3's second year
    assert pot.total == pytest.approx((30 - 50) + (400 - 200) + (0 - 25) + 400)
    assert pot.by("area")["SEL108"] == pytest.approx(600)


# Illustrative assumptions for the seed-002 demonstration (2022 prices, DKK per person-year).
# They are NOT SØM's unit costs (those are in SØM's own database): rough orders of magnitude only.
#   førtidspension 230,000 (full-year benefit; paid by the state here for simplicity),
#   kontanthjælp and other transfers 150,000 (half kommune, half stat),
#   §85 support 120,000, botilbud 450,000 (a mix of §107/§108/§105, after residents' own payment),
#   employment measures 40,000 (kommune), psychiatric bed day 4,174 (region; 2024 rate, seed 000 L1563).
UNIT = {"førtidspension": ("stat", 230_000), "kontanthjælp": ("kommune+stat", 150_000),
        "SEL85": ("kommune", 120_000), "botilbud": ("kommune", 450_000),
        "beskæftigelsesindsats": ("kommune", 40_000), "psykiatri_sengedag": ("region", 4_174)}
# Share of each year on the service (psychiatric: bed days per year), years 0-3 after success is measured.
EMPLOYMENT = {  # §85 recipients not on førtidspension; success = work or education
    "fail": {"førtidspension": [0.05, 0.10, 0.15, 0.20], "kontanthjælp": [0.80, 0.75, 0.70, 0.65],
             "SEL85": [0.85, 0.80, 0.75, 0.70], "botilbud": [0.03, 0.04, 0.05, 0.05],
             "beskæftigelsesindsats": [0.40, 0.40, 0.35, 0.35], "psykiatri_sengedag": [6, 6, 5, 5]},
    "success": {"førtidspension": [0.0, 0.01, 0.02, 0.03], "kontanthjælp": [0.55, 0.60, 0.60, 0.60],
                "SEL85": [0.78, 0.72, 0.68, 0.64], "botilbud": [0.02, 0.02, 0.03, 0.03],
                "beskæftigelsesindsats": [0.60, 0.50, 0.40, 0.35], "psykiatri_sengedag": [4.5] * 4},
}
BOTILBUD = {  # botilbud residents; success = no botilbud the year after
    "fail": {"botilbud": [1.0, 0.85, 0.75, 0.70], "SEL85": [0.0, 0.08, 0.12, 0.15],
             "beskæftigelsesindsats": [0.05] * 4, "psykiatri_sengedag": [8, 7, 7, 6]},
    "success": {"botilbud": [0.0, 0.15, 0.25, 0.30], "SEL85": [0.70, 0.60, 0.55, 0.50],
                "beskæftigelsesindsats": [0.10, 0.10, 0.08, 0.08], "psykiatri_sengedag": [6] * 4},
}


def true_potential(scenario):
    return sum(UNIT[s][1] * (np.array(scenario["fail"][s]) - np.array(scenario["success"].get(s, [0] * 4))).sum()
               for s in scenario["fail"])


def simulate_person_year_costs(scenario, n_per_group, rng):
    """PersonYearCosts rows: each person-year uses a service with the group's probability (full year),
    psychiatric bed days are Poisson; reference years are drawn at random in 2017-2020 as in SØM."""
    rows, groups = [], []
    for success, key in ((True, "success"), (False, "fail")):
        start = len(groups) + 1
        ids = np.arange(start, start + n_per_group)
        ref = rng.integers(2017, 2021, size=n_per_group)
        groups += [{"person_id": i, "success": success, "reference_year": r} for i, r in zip(ids, ref)]
        for service, probs in scenario[key].items():
            payer, unit = UNIT[service]
            for t, p in enumerate(probs):
                amount = (rng.poisson(p, n_per_group) if service == "psykiatri_sengedag"
                          else rng.random(n_per_group) < p) * float(unit)
                for split in payer.split("+"):
                    share = 1.0 / len(payer.split("+"))
                    keep = amount > 0
                    rows.append(pd.DataFrame({"person_id": ids[keep], "year": ref[keep] + t, "service": service,
                                              "payer": split, "cost_dkk": amount[keep] * share}))
    costs = pd.concat(rows, ignore_index=True).assign(price_year=2022)
    return costs, pd.DataFrame(groups)


@pytest.mark.parametrize("scenario, seed_value", [(EMPLOYMENT, 250_000), (BOTILBUD, 930_000)])
def test_success_potential_reproduces_the_seed_002_orders_of_magnitude(scenario, seed_value):
    """Seed 002: ≈ 250,000 kr. (work/education) and ≈ 930,000 kr. (leaving botilbud) over four years.

    With the illustrative assumptions above the method recovers the true group difference and
    lands within 15 % of the published figures.
    """
    costs, groups = simulate_person_year_costs(scenario, 4_000, np.random.default_rng(2002))
    pot = eco.success_potential(costs, groups, horizon=4,
                                areas={"førtidspension": "indkomstoverførsler", "kontanthjælp": "indkomstoverførsler"})
    truth = true_potential(scenario)
    assert pot.total == pytest.approx(truth, rel=0.05)
    assert pot.total == pytest.approx(seed_value, rel=0.15)
    assert pot.n_success == pot.n_failure == 4_000
    assert set(pot.by("rel_year").index) == {0, 1, 2, 3}


def test_botilbud_potential_is_almost_four_times_the_employment_potential():
    """Seed 002 L1308: "næsten fire gange så stort"."""
    assert 3.0 < true_potential(BOTILBUD) / true_potential(EMPLOYMENT) < 4.0


def test_employment_potential_is_mostly_transfers_and_has_a_negative_employment_component():
    costs, groups = simulate_person_year_costs(EMPLOYMENT, 4_000, np.random.default_rng(7))
    pot = eco.success_potential(costs, groups, areas={"førtidspension": "indkomstoverførsler",
                                                      "kontanthjælp": "indkomstoverførsler"})
    by_area = pot.by("area")
    assert by_area.idxmax() == "indkomstoverførsler"                   # seed 002 L1299
    assert by_area["beskæftigelsesindsats"] < 0                        # "positive investeringer", L1302
    assert pot.present_value().sum() < pot.total                       # discounting shrinks it


def test_effect_adjusted_potential_keeps_only_caused_successes():
    """An intervention raising P(success) from 25 % to 35 % keeps 0.10 / 0.35 of the naive gain."""
    out = eco.effect_adjusted_potential(250_000, effect=0.10, observed_success_rate=0.35, effect_std_error=0.03)
    row = out.iloc[0]
    assert row["naive_gain_dkk"] == pytest.approx(0.35 * 250_000)
    assert row["effect_gain_dkk"] == pytest.approx(0.10 * 250_000)
    assert row["surviving_share"] == pytest.approx(0.10 / 0.35)
    assert (row["conf_low"], row["conf_high"]) == pytest.approx(
        ((0.10 - 1.959964 * 0.03) * 250_000, (0.10 + 1.959964 * 0.03) * 250_000), rel=1e-6)
    half = eco.effect_adjusted_potential(250_000, effect=0.10, observed_success_rate=0.35, causal_share=0.5)
    assert half.iloc[0]["effect_gain_dkk"] == pytest.approx(12_500)
    with pytest.raises(ParameterError, match="observed_success_rate"):
        eco.effect_adjusted_potential(250_000, effect=0.1, observed_success_rate=0)


def test_payers_agree_with_the_data_contract():
    from progression.schemas import PAYERS
    pocket = eco.budget_consequences(EFFECTS, unit_costs(), intervention_cost=1_000.0).wrong_pocket()
    assert tuple(pocket.index) == PAYERS


def test_intervention_cost_spread_over_years_and_other_payers():
    res = eco.budget_consequences(EFFECTS, unit_costs(), intervention_cost={0: 30_000.0, 1: 10_000.0},
                                  intervention_payer="region")
    wide = res.by_year()
    assert wide.loc[0, "region"] == -30_000
    assert wide.loc[1, "region"] == pytest.approx(-10_000 + 2 * 4_174)
    with pytest.raises(ParameterError, match="intervention_payer"):
        eco.budget_consequences(EFFECTS, unit_costs(), intervention_payer="borger")


def test_unit_costs_after_refusion_make_spared_refusion_a_state_gain():
    gross = pd.DataFrame({
        "item": ["SEL108_year", "SEL85_year", "psych_bed_day"], "payer": ["kommune", "kommune", "region"],
        "unit": ["year", "year", "day"], "cost_dkk": [2_000_000.0, 120_000.0, 4_174.0],
        "price_year": [2022] * 3, "source": ["illustrative"] * 3,
    })
    net = eco.unit_costs_after_refusion(gross, year=2022).set_index(["item", "payer"])["cost_dkk"]
    refusion = 0.25 * 820_000 + 0.50 * 320_000
    assert net[("SEL108_year", "stat")] == pytest.approx(refusion)
    assert net[("SEL108_year", "kommune")] == pytest.approx(2_000_000 - refusion)
    assert net[("SEL85_year", "kommune")] == 120_000 and ("SEL85_year", "stat") not in net.index
    assert net[("psych_bed_day", "region")] == 4_174
    # leaving the §108 place then saves the state its refusion
    res = eco.budget_consequences(pd.DataFrame({"item": ["SEL108_year"], "change": [-1.0], "duration_years": [1]}),
                                  eco.unit_costs_after_refusion(gross, year=2022))
    assert res.npv()["stat"] == pytest.approx(refusion)
    over_67 = eco.unit_costs_after_refusion(gross, year=2022, age=70)
    assert not over_67["payer"].eq("stat").any()
