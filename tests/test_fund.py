"""The result-payment fund: the payment rule and the Monte Carlo simulator against known truth."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from progression import economics as eco
from progression import fund
from progression.evaluation.trials import adoption_years
from progression.exceptions import DataContractError, ParameterError

MUNICIPALITIES = [101, 147, 151, 153, 155, 157, 159, 161, 163, 165]


def effects(effect=0.10, se=0.0, baseline=0.30, gains=(20_000.0, 10_000.0, 60_000.0), name="ips", outcome="job"):
    return pd.DataFrame([{
        "intervention": name, "outcome": outcome, "effect": effect, "effect_std_error": se, "baseline_rate": baseline,
        "gain_kommune_dkk": gains[0], "gain_region_dkk": gains[1], "gain_stat_dkk": gains[2],
    }])


def card(price=50_000.0, cap=np.nan, rate=0.30, window=12, name="ips", outcome="job"):
    return pd.DataFrame([{
        "intervention": name, "outcome": outcome, "price_dkk": price, "cap_dkk": cap, "counterfactual_rate": rate,
        "window_months": window, "price_year": 2024, "gain_payer": "stat",
    }])


def participants(n, name="ips", municipalities=MUNICIPALITIES):
    return pd.DataFrame({"municipality": municipalities, "intervention": name, "participants": n})


def exact_payment(n, p1, rate, price, cap=math.inf):
    """E[min(cap, price · max(0, Y − rate·n))] for Y ~ Bin(n, p1), from the binomial pmf."""
    y = np.arange(n + 1)
    return float(stats.binom.pmf(y, n, p1) @ np.minimum(cap, price * np.maximum(0.0, y - rate * n)))

# --------------------------------------------------------------------------------------------
# The payment rule
# --------------------------------------------------------------------------------------------


def test_payment_rule_pays_only_above_the_counterfactual_and_respects_the_cap():
    # two contracts of 10 participants, two outcomes priced 100 and 40, counterfactual 30 % and 50 %
    outcomes = np.array([[5, 2], [6, 9]])           # outcomes along axis 0, contracts along axis 1
    pay = fund.outcome_payment(outcomes, [10, 10], prices=[100, 40], counterfactual_rates=[0.3, 0.5])
    np.testing.assert_allclose(pay, [100 * 2 + 40 * 1, 0 + 40 * 4])
    capped = fund.outcome_payment(outcomes, [10, 10], prices=[100, 40], counterfactual_rates=[0.3, 0.5], cap=200)
    np.testing.assert_allclose(capped, [200, 160])


def test_rate_card_validation():
    with pytest.raises(DataContractError, match="price_dkk"):
        fund.RateCard(card(price=-1.0))
    two = pd.concat([card(cap=100_000.0), card(cap=90_000.0, outcome="education")], ignore_index=True)
    with pytest.raises(ParameterError, match=r"cap_dkk \(per participant\) must be the same.*\['ips'\]"):
        fund.RateCard(two)
    with pytest.raises(ParameterError, match="unknown interventions"):
        fund.RateCard(card(), contract_caps={"housing_first": 1e6})
    rc = fund.RateCard(card(cap=80_000.0), contract_caps={"ips": 1e6}).scaled(1.5)
    assert rc.table.loc[0, "price_dkk"] == 75_000
    assert (rc.participant_cap("ips"), rc.contract_cap("ips")) == (80_000, 1e6)      # caps unchanged
    with pytest.raises(DataContractError, match="cap_dkk not below price_dkk"):
        rc.scaled(2.0)

# --------------------------------------------------------------------------------------------
# The simulator against analytic truth
# --------------------------------------------------------------------------------------------


def test_small_groups_without_effect_uncertainty_match_the_exact_expectation():
    """Known effect, 8 participants per contract: mean payment = the binomial expectation, capped."""
    rate_card = fund.RateCard(card(), contract_caps={"ips": 60_000.0})
    sim = fund.simulate(effects(), rate_card, participants(8), years=5, n_draws=2_000, seed=11)
    per_contract = sim.municipality_years()
    assert len(per_contract) == 50 and (per_contract["participants"] == 8).all()
    expected = exact_payment(8, 0.40, 0.30, 50_000, cap=60_000)
    sd = per_contract["sd_payment_dkk"].mean()
    se = sd / math.sqrt(50 * 2_000)
    assert per_contract["mean_payment_dkk"].mean() == pytest.approx(expected, abs=4 * se)
    # and in present value over the horizon: payments fall one year after each cohort (12-month window)
    df = eco.discount_factors(np.arange(1, 6)).to_numpy()
    pv_expected = expected * len(MUNICIPALITIES) * df.sum()
    assert sim.draws["payments_dkk"].mean() == pytest.approx(pv_expected, rel=0.01)


def test_large_groups_pay_price_times_effect_and_gain_effect_times_gain():
    sim = fund.simulate(effects(), card(), participants(2_000), years=3, n_draws=400, seed=5)
    df = eco.discount_factors([1, 2, 3]).to_numpy().sum()
    caused = 0.10 * 2_000 * len(MUNICIPALITIES)                         # per cohort year
    draws = sim.draws
    assert draws["payments_dkk"].mean() == pytest.approx(50_000 * caused * df, rel=0.005)
    assert draws["gain_stat_dkk"].mean() == pytest.approx(60_000 * caused * df, rel=0.01)
    assert draws["public_gain_dkk"].mean() == pytest.approx(90_000 * caused * df, rel=0.01)
    assert draws["state_balance_dkk"].mean() == pytest.approx(10_000 * caused * df, rel=0.05)


def test_deadweight_is_not_paid():
    """No effect and a correct counterfactual: only noise above the baseline is paid, never the
    30 % who reach the outcome anyway."""
    sim = fund.simulate(effects(effect=0.0), card(), participants(50), years=2, n_draws=2_000, seed=3)
    per_contract = sim.municipality_years()["mean_payment_dkk"].mean()
    expected = exact_payment(50, 0.30, 0.30, 50_000)
    assert per_contract == pytest.approx(expected, rel=0.05)
    assert per_contract < 0.15 * 50_000 * 0.30 * 50                       # deadweight would be 750,000
    assert sim.draws["gain_stat_dkk"].abs().max() == 0                  # nothing caused, nothing gained


def test_a_too_low_contracted_counterfactual_pays_for_deadweight():
    sim = fund.simulate(effects(effect=0.0), card(rate=0.10), participants(2_000), years=1, n_draws=200, seed=3)
    per_contract = sim.municipality_years()["mean_payment_dkk"].mean()
    assert per_contract == pytest.approx(50_000 * 0.20 * 2_000, rel=0.01)


def test_caps_per_participant_and_per_contract_are_respected():
    # two outcomes at 50,000 each, almost everyone reaches both: 90,000 payable per participant
    eff = pd.concat([effects(effect=0.9, baseline=0.0), effects(effect=0.9, baseline=0.0, outcome="education")])
    rc = pd.concat([card(cap=60_000.0, rate=0.0), card(cap=60_000.0, rate=0.0, outcome="education")])
    sim = fund.simulate(eff, rc, participants(20), years=4, n_draws=500, seed=9)
    df = sim.plan.discount[1:5]
    total_cap = 60_000 * 20 * len(MUNICIPALITIES) * df.sum()
    assert (sim.draws["payments_dkk"] <= total_cap + 1e-6).all()
    # a cap this tight always binds: every draw pays exactly the caps
    np.testing.assert_allclose(sim.draws["payments_dkk"], total_cap, rtol=1e-12)
    rc = fund.RateCard(card(), contract_caps={"ips": 60_000.0})
    sim = fund.simulate(effects(effect=0.3), rc, participants(20), years=4, n_draws=500, seed=9)
    assert (sim.municipality_years()["mean_payment_dkk"] <= 60_000 + 1e-9).all()
    assert sim.draws["payments_dkk"].max() <= 60_000 * len(MUNICIPALITIES) * df.sum() + 1e-6


def test_negative_effects_lose_outcomes_and_gains():
    sim = fund.simulate(effects(effect=-0.1), card(), participants(1_000), years=1, n_draws=200, seed=1)
    caused = -0.1 * 1_000 * len(MUNICIPALITIES) * eco.discount_factors([1]).iloc[0]
    assert sim.draws["gain_stat_dkk"].mean() == pytest.approx(60_000 * caused, rel=0.02)

# --------------------------------------------------------------------------------------------
# Neutrality and prices
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def uncertain():
    """Effect uncertainty dominates: se 0.04 on an effect of 0.10; 10 municipalities × 30 × 5 years."""
    return fund.simulate(effects(se=0.04), card(), participants(30), years=5, n_draws=3_000, seed=2024)


def test_neutral_price_in_expectation_is_gain_over_payment_ratio(uncertain):
    draws = uncertain.draws
    expected_scale = draws["gain_stat_dkk"].mean() / draws["payments_dkk"].mean()
    out = uncertain.neutral_price()
    assert out.loc[0, "scale"] == pytest.approx(expected_scale, rel=1e-3)
    assert out.loc[0, "neutral_price_dkk"] == pytest.approx(50_000 * expected_scale, rel=1e-3)
    assert out.loc[0, "target"] == "expectation"


def test_neutrality_probability_is_about_one_half_at_the_neutral_price(uncertain):
    price = uncertain.neutral_price().loc[0, "neutral_price_dkk"]
    again = fund.simulate(effects(se=0.04), card(price=price), participants(30), years=5, n_draws=3_000, seed=2024)
    assert abs(again.fund_draws()["state_balance_dkk"].mean()) < 1e-3 * again.draws["payments_dkk"].mean()
    assert again.prob_neutral()["state"] == pytest.approx(0.5, abs=0.05)


def test_neutral_price_at_a_chosen_probability(uncertain):
    out = uncertain.neutral_price(probability=0.8)
    price = out.loc[0, "neutral_price_dkk"]
    assert price < uncertain.neutral_price().loc[0, "neutral_price_dkk"]
    again = fund.simulate(effects(se=0.04), card(price=price), participants(30), years=5, n_draws=3_000, seed=2024)
    assert again.prob_neutral()["state"] == pytest.approx(0.8, abs=0.01)


def test_public_neutral_price_scales_with_the_public_gain(uncertain):
    """Gains are linear in caused outcomes: public 90,000 vs state 60,000 per outcome → 1.5 × the price."""
    state = uncertain.neutral_price().loc[0, "neutral_price_dkk"]
    public = uncertain.neutral_price(perspective="public")
    assert public.loc[0, "neutral_price_dkk"] == pytest.approx(1.5 * state, rel=1e-3)
    assert public.loc[0, "perspective"] == "public"


def test_neutral_price_with_caps_uses_the_same_draws():
    """With a binding contract cap the payment is not linear in the price: the root is found by
    re-drawing the same outcomes, and the card at that price is neutral on those draws."""
    capped = fund.RateCard(card(), contract_caps={"ips": 300_000.0})
    sim = fund.simulate(effects(se=0.04), capped, participants(30), years=3, n_draws=1_000, seed=8)
    scale = sim.neutral_price().loc[0, "scale"]
    uncapped = sim.draws["gain_stat_dkk"].mean() / sim.draws["payments_dkk"].mean()
    assert scale > uncapped                                  # the cap holds payments back
    again = fund.simulate(effects(se=0.04), fund.RateCard(card(price=50_000 * scale), contract_caps={"ips": 300_000.0}),
                          participants(30), years=3, n_draws=1_000, seed=8)
    assert abs(again.fund_draws()["state_balance_dkk"].mean()) < 1e-3 * again.draws["payments_dkk"].mean()


def test_caps_below_the_gain_make_any_price_neutral():
    sim = fund.simulate(effects(), card(price=1_000.0, cap=1_000.0), participants(30), years=2, n_draws=200, seed=1)
    assert sim.neutral_price()["neutral_price_dkk"].iloc[0] == math.inf

# --------------------------------------------------------------------------------------------
# Reproducibility, ranking and summaries
# --------------------------------------------------------------------------------------------


def two_interventions():
    eff = pd.concat([effects(se=0.03), effects(effect=0.02, se=0.03, name="sel82", outcome="no_escalation",
                                                 gains=(80_000.0, 5_000.0, 5_000.0))], ignore_index=True)
    eff["cost_per_participant_dkk"] = [40_000.0, 10_000.0]
    rc = pd.concat([card(), card(price=20_000.0, name="sel82", outcome="no_escalation")], ignore_index=True)
    munis = pd.concat([participants(12), participants(25, name="sel82")], ignore_index=True)
    return eff, rc, munis


def test_results_are_identical_for_any_n_jobs():
    eff, rc, munis = two_interventions()
    one = fund.simulate(eff, rc, munis, years=3, n_draws=1_100, seed=42, n_jobs=1, chunk_size=200)
    two = fund.simulate(eff, rc, munis, years=3, n_draws=1_100, seed=42, n_jobs=2, chunk_size=200)
    pd.testing.assert_frame_equal(one.draws, two.draws)
    np.testing.assert_array_equal(one.municipality_pv, two.municipality_pv)
    other = fund.simulate(eff, rc, munis, years=3, n_draws=1_100, seed=43, n_jobs=1, chunk_size=200)
    assert not one.draws["payments_dkk"].equals(other.draws["payments_dkk"])
    generator = fund.simulate(eff, rc, munis, years=3, n_draws=10, seed=np.random.default_rng(5))
    again = fund.simulate(eff, rc, munis, years=3, n_draws=10, seed=np.random.default_rng(5))
    pd.testing.assert_frame_equal(generator.draws, again.draws)


def test_ranking_summary_and_municipal_outputs():
    eff, rc, munis = two_interventions()
    sim = fund.simulate(eff, rc, munis, years=3, n_draws=500, seed=1)
    ranking = sim.ranking()
    assert ranking["intervention"].tolist() == ["ips", "sel82"]        # ips gains the state more per payment
    assert ranking.set_index("intervention").loc["sel82", "prob_loss"] > 0.5
    assert ranking.set_index("intervention").loc["ips", "price_to_gain"] == pytest.approx(50_000 / 60_000)
    by_public_net = sim.ranking(by="public_net_dkk")
    assert by_public_net["expected_public_net_dkk"].is_monotonic_decreasing
    summary = sim.summary()
    fund_draws = sim.fund_draws()
    assert summary.loc["state_balance_dkk", "mean"] == pytest.approx(fund_draws["state_balance_dkk"].mean())
    assert summary.loc["state_balance_dkk", "prob_nonnegative"] == sim.prob_neutral()["state"]
    costs = fund_draws["cost_dkk"]
    assert costs.nunique() == 1                                         # own costs are not random
    assert costs.iloc[0] == pytest.approx(
        (40_000 * 12 + 10_000 * 25) * len(MUNICIPALITIES) * eco.discount_factors([0, 1, 2]).sum())
    muni = sim.municipality_summary()
    assert sorted(muni["municipality"]) == MUNICIPALITIES
    assert muni["mean_payment_dkk"].sum() == pytest.approx(sim.draws["payments_dkk"].sum() / sim.n_draws)
    flows = sim.expected_flows()
    assert set(flows["year"]) == {0, 1, 2, 3} and flows.loc[flows["year"] == 0, "payments_dkk"].eq(0).all()


def test_gains_per_outcome_from_the_budget_model():
    unit_costs = pd.DataFrame({
        "item": ["SEL108_year", "SEL85_year", "kontanthjaelp_year"], "payer": ["kommune", "kommune", "stat"],
        "unit": ["year"] * 3, "cost_dkk": [600_000.0, 120_000.0, 80_000.0], "price_year": [2024] * 3,
        "source": ["illustrative"] * 3,
    })
    consequences = pd.DataFrame({
        "outcome": ["leaves_botilbud", "leaves_botilbud", "job"],
        "item": ["SEL108_year", "SEL85_year", "kontanthjaelp_year"],
        "change": [-0.8, 0.6, -0.5], "duration_years": [4, 4, 2],
    })
    gains = fund.gains_per_outcome(consequences, unit_costs).set_index("outcome")
    df4 = eco.discount_factors(range(4)).sum()
    assert gains.loc["leaves_botilbud", "gain_kommune_dkk"] == pytest.approx((0.8 * 600_000 - 0.6 * 120_000) * df4)
    assert gains.loc["job", "gain_stat_dkk"] == pytest.approx(0.5 * 80_000 * eco.discount_factors(range(2)).sum())
    assert gains.loc["job", "gain_region_dkk"] == 0


def test_errors_name_the_table_and_the_rows():
    eff, rc, munis = two_interventions()
    with pytest.raises(ParameterError, match=r"no effect rows for intervention\(s\) \['housing_first'\]"):
        fund.simulate(eff, rc, pd.concat([munis, participants(5, name="housing_first")]), years=2, n_draws=5, seed=1)
    with pytest.raises(ParameterError, match=r"missing column\(s\) \['effect_std_error'\]"):
        fund.simulate(eff.drop(columns="effect_std_error"), rc, munis, years=2, n_draws=5, seed=1)
    with pytest.raises(ParameterError, match="'participants' must be whole numbers"):
        fund.simulate(eff, rc, munis.assign(participants=-1), years=2, n_draws=5, seed=1)
    with pytest.raises(ParameterError, match="baseline_rate"):
        fund.simulate(eff.assign(baseline_rate=1.5), rc, munis, years=2, n_draws=5, seed=1)
    with pytest.raises(ParameterError, match="n_draws"):
        fund.simulate(eff, rc, munis, years=2, n_draws=0, seed=1)
    with pytest.raises(ParameterError, match="seed"):
        fund.simulate(eff, rc, munis, years=2, n_draws=5, seed=-3)
    sim = fund.simulate(eff, rc, munis, years=2, n_draws=5, seed=1)
    with pytest.raises(ParameterError, match="perspective"):
        sim.neutral_price(perspective="region")

# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def test_figures_draw_the_numbers_they_are_given():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from progression.plots import fund as fund_plots

    flows = pd.DataFrame({"year": [0, 1, 1, 2], "payer": ["kommune", "region", "stat", "stat"],
                          "amount_dkk": [-100.0, 30.0, 50.0, 50.0]})
    ax = fund_plots.cashflow_waterfall(flows, discounted=False)
    heights = [p.get_height() for p in ax.patches]
    assert heights == [-100.0, 30.0, 100.0, 30.0]                        # cost, gains, then the net
    assert ax.patches[2].get_y() == pytest.approx(-70.0)                 # stacked on the running total
    eff, rc, munis = two_interventions()
    sim = fund.simulate(eff, rc, munis, years=2, n_draws=200, seed=1)
    ax = fund_plots.fund_balance_distribution(sim.draws)
    assert ax.lines[0].get_xdata()[0] == 0                               # the neutrality line
    assert ax.lines[1].get_xdata()[0] == pytest.approx(sim.fund_draws()["state_balance_dkk"].mean() / 1e6)
    ax = fund_plots.rate_card_table(rc)
    assert ax.tables[0].get_celld()[(1, 2)].get_text().get_text() == "50,000"
    with pytest.raises(ValueError, match="no column 'balance'"):
        fund_plots.fund_balance_distribution(sim.draws, column="balance")
    plt.close("all")


def test_gains_must_share_the_rate_cards_price_year():
    with pytest.raises(ParameterError, match="price year 2024; found \\[2022\\]"):
        fund.simulate(effects().assign(price_year=2022), card(), participants(5), years=1, n_draws=5, seed=1)


# --------------------------------------------------------------------------------------------
# The simulation's inputs
# --------------------------------------------------------------------------------------------


def test_fund_inputs_from_effects_means_and_gains():
    card = pd.DataFrame({"intervention": ["a", "a"], "outcome": ["employed", "no_psych_admission"],
                         "price_dkk": [1.0, 1.0], "cap_dkk": [np.nan, np.nan], "counterfactual_rate": [0.1, 0.8],
                         "window_months": [12, 12], "price_year": 2024, "gain_payer": ["stat", "region"]})
    effects = pd.DataFrame({"intervention": ["a", "a"], "outcome": ["employed", "no_psych_admission"],
                            "estimate": [0.2, 0.05], "std_error": [0.05, 0.02]})
    means = pd.DataFrame({"intervention": ["a", "a"], "outcome": ["employed", "no_psych_admission"],
                          "mean_treated": [0.5, 0.96]})
    gains = pd.DataFrame({"outcome": ["employed", "no_psych_admission"], "gain_kommune_dkk": [1.0, 2.0],
                          "gain_region_dkk": [0.0, 5.0], "gain_stat_dkk": [9.0, 0.0]})
    interventions = pd.DataFrame({"intervention": ["a"], "cost_per_participant_dkk": [100.0]})
    out = fund.fund_interventions(effects, means, gains, interventions, card).set_index("outcome")
    assert out.loc["employed", "baseline_rate"] == pytest.approx(0.3)
    assert out.loc["no_psych_admission", "baseline_rate"] == pytest.approx(0.91)
    assert out.loc["employed", "gain_stat_dkk"] == 9.0 and (out["cost_per_participant_dkk"] == 100.0).all()
    with pytest.raises(DataContractError, match="no_psych_admission"):
        fund.fund_interventions(effects.iloc[:1], means, gains, interventions, card)


def test_fund_contracts_average_yearly_starters_since_adoption():
    starts = pd.to_datetime(["2018-01-01", "2018-05-01", "2019-01-01", "2020-01-01", "2020-02-01", "2020-03-01"])
    participations = pd.DataFrame({"person_id": range(1, 7), "intervention": "a",
                                   "municipality": [101, 101, 101, 101, 147, 147], "start_date": starts})
    contracts = fund.fund_contracts(participations, adoption_years(participations), last_year=2020)
    # 101: 4 starters over 2018-2020 -> 1.33 -> 1; 147: 2 starters in 2020 -> 2
    assert contracts.set_index("municipality")["participants"].to_dict() == {101: 1, 147: 2}


def test_simulate_accepts_a_baseline_rate_of_one_with_a_harmful_effect():
    card = pd.DataFrame({"intervention": ["a"], "outcome": ["ok"], "price_dkk": [10.0], "cap_dkk": [np.nan],
                         "counterfactual_rate": [0.9], "window_months": [12], "price_year": 2024,
                         "gain_payer": ["region"]})
    effects = pd.DataFrame({"intervention": ["a"], "outcome": ["ok"], "effect": [-0.27], "effect_std_error": [0.2],
                            "baseline_rate": [1.0], "gain_kommune_dkk": [0.0], "gain_region_dkk": [100.0],
                            "gain_stat_dkk": [0.0]})
    contracts = pd.DataFrame({"municipality": [101, 147], "intervention": "a", "participants": [7, 30]})
    sim = fund.simulate(effects, card, contracts, years=3, n_draws=400, seed=5)
    # every draw harms: outcomes lost, never gained, so the region's gain is never positive
    assert (sim.draws["gain_region_dkk"] <= 0).all() and (sim.draws["gain_region_dkk"] < 0).any()


def test_potential_bars_draws_a_stacked_bar_per_year():
    import matplotlib

    matplotlib.use("Agg")
    from progression.plots.fund import potential_bars

    table = pd.DataFrame({"rel_year": [0, 0, 1, 1], "area": ["social services", "health"] * 2,
                          "potential_dkk": [100.0, -20.0, 80.0, 10.0]})
    ax = potential_bars(table)
    assert len(ax.patches) == 4 and "170" in ax.get_title()
    with pytest.raises(ValueError, match="rel_year"):
        potential_bars(table.drop(columns="rel_year"))


# --------------------------------------------------------------------------------------------
# The payment rule is a pluggable piece
# --------------------------------------------------------------------------------------------


class HoldBackSmallContracts:
    """A rule of the kind the seam is for: contracts with fewer than ``minimum`` participants are not paid."""

    def __init__(self, minimum):
        self.minimum = minimum

    def pay(self, outcomes, contracts):
        paid = fund.RateCardPayment().pay(outcomes, contracts)
        return np.where(contracts.participants >= self.minimum, paid, 0.0)

    def proportional(self, contracts):
        return fund.RateCardPayment().proportional(contracts)


def test_a_payment_rule_plugs_into_the_simulation_and_sees_the_contracts():
    munis = participants([4, 4, 4, 4, 4, 20, 20, 20, 20, 20])
    common = dict(years=3, n_draws=300, seed=9)
    card_sim = fund.simulate(effects(se=0.02), card(), munis, **common)
    held = fund.simulate(effects(se=0.02), card(), munis, payment_rule=HoldBackSmallContracts(10), **common)
    paid = held.municipality_years().set_index("participants")["mean_payment_dkk"]
    assert (paid.loc[4] == 0).all() and (paid.loc[20] > 0).all()
    # the same draws: outcomes and gains are those of the rate card, only the payments differ
    pd.testing.assert_series_equal(held.draws["gain_stat_dkk"], card_sim.draws["gain_stat_dkk"])
    big = card_sim.municipality_years().set_index("participants")["mean_payment_dkk"].loc[20]
    np.testing.assert_allclose(paid.loc[20].to_numpy(), big.to_numpy())
    assert isinstance(HoldBackSmallContracts(1), fund.PaymentRule)
    with pytest.raises(ParameterError, match="payment_rule"):
        fund.simulate(effects(), card(), munis, payment_rule=lambda y, c: y, **common)


def test_neutral_prices_redraw_when_the_rule_is_not_proportional_to_the_prices():
    class Floor:
        """Pays at least 1,000 DKK a contract: not proportional to the prices."""

        def pay(self, outcomes, contracts):
            return np.maximum(1_000.0, fund.RateCardPayment().pay(outcomes, contracts))

        def proportional(self, contracts):
            return False

    sim = fund.simulate(effects(), card(), participants(10), years=2, n_draws=200, seed=2, payment_rule=Floor())
    scale = sim.neutral_price()["scale"].iloc[0]
    gain = sim._gain_pv("state")[:, 0].mean()
    assert sim._payments_at([0], scale).mean() == pytest.approx(gain, rel=1e-3)
