"""Payment rules for small volumes in the fund simulation, against known truth, and the fund under each rule."""

import math

import numpy as np
import pandas as pd
import pytest

from progression import fund
from progression.design import Capped, Credibility, MinimumVolume, Pooled, RateCardRule
from progression.exceptions import ParameterError

MUNICIPALITIES = [101, 147, 151, 153, 155, 157, 159, 161, 163, 165]
REGIONS = ["Hovedstaden"] * 5 + ["Sjælland"] * 5
SIZES = [4, 4, 6, 8, 12, 5, 7, 10, 20, 30]


def effects(effect=0.10, se=0.02):
    return pd.DataFrame({
        "intervention": ["ips", "ips"], "outcome": ["employed", "no_admission"], "effect": [effect, effect / 2],
        "effect_std_error": [se, se], "baseline_rate": [0.20, 0.70], "gain_kommune_dkk": [20_000.0, 30_000.0],
        "gain_region_dkk": [5_000.0, 60_000.0], "gain_stat_dkk": [150_000.0, 5_000.0]})


def card(cap=np.nan):
    return pd.DataFrame({
        "intervention": ["ips", "ips"], "outcome": ["employed", "no_admission"], "price_dkk": [100_000.0, 40_000.0],
        "cap_dkk": [cap, cap], "counterfactual_rate": [0.20, 0.70], "window_months": [12, 12], "price_year": 2024,
        "gain_payer": ["stat", "region"]})


def contracts(region=True):
    frame = pd.DataFrame({"municipality": MUNICIPALITIES, "intervention": "ips", "participants": SIZES})
    return frame.assign(region=REGIONS) if region else frame


COMMON = dict(years=3, n_draws=400, seed=11, chunk_size=150)


def run(rule=None, eff=None, rate_card=None, **kw):
    return fund.simulate(effects() if eff is None else eff, card() if rate_card is None else rate_card, contracts(),
                         payment_rule=rule, **{**COMMON, **kw})


def contract_terms(**changes):
    """Three contracts of one payment year in two regions, one outcome at 1,000 kr. above 0.3."""
    terms = dict(participants=np.array([10, 20, 30]), municipality=np.array([0, 1, 2]), cohort=np.array([0, 0, 0]),
                 payment_year=np.array([1, 1, 1]), prices=np.array([1000.0]), counterfactual_rates=np.array([0.3]),
                 caps=np.full(3, np.inf), region=np.array([0, 0, 1]), intervention="ips", outcomes=("employed",))
    return fund.Contracts(**{**terms, **changes})


# --------------------------------------------------------------------------------------------
# The rules in the fund's terms
# --------------------------------------------------------------------------------------------


def test_the_rules_are_payment_rules_of_the_fund():
    for rule in (RateCardRule(), MinimumVolume(5), Pooled(), Credibility(0.01), Capped(1e6)):
        assert isinstance(rule, fund.PaymentRule)


def test_the_rate_card_rule_is_the_funds_default_to_the_last_bit():
    default = run()
    ours = run(RateCardRule())
    pd.testing.assert_frame_equal(default.draws, ours.draws, check_exact=True)
    np.testing.assert_array_equal(default.municipality_pv, ours.municipality_pv)
    with_caps = fund.RateCard(card(cap=100_000.0), contract_caps={"ips": 150_000.0})
    capped = run(rate_card=with_caps)
    assert capped.draws["payments_dkk"].mean() < default.draws["payments_dkk"].mean()   # the caps bind
    pd.testing.assert_frame_equal(capped.draws, run(RateCardRule(), rate_card=with_caps).draws, check_exact=True)


def test_credibility_without_shrinkage_is_the_rate_card():
    # k = r(1 − r)/τ² → 0: every contract keeps all of its excess
    pd.testing.assert_frame_equal(run(Credibility(math.inf)).draws, run().draws, check_exact=True)
    y = np.array([[[5, 9, 3]], [[2, 10, 15]]])
    terms = contract_terms()
    np.testing.assert_allclose(Credibility(1e9).pay(y, terms), RateCardRule().pay(y, terms), rtol=1e-6)


def test_credibility_pays_z_times_the_excess_outcome_by_outcome():
    y = np.array([[[5, 9, 3], [9, 16, 22]]])                      # one draw, two outcomes, three contracts
    terms = contract_terms(prices=np.array([1000.0, 500.0]), counterfactual_rates=np.array([0.3, 0.7]),
                           outcomes=("employed", "no_admission"))
    tau2 = {"employed": 0.01, ("ips", "no_admission"): 0.04, ("other", "no_admission"): 1e-9}
    paid = Credibility(tau2).pay(y, terms)
    n = terms.participants
    z1, z2 = n / (n + 0.21 / 0.01), n / (n + 0.21 / 0.04)
    expected = 1000 * np.maximum(0, z1 * (y[0, 0] - 0.3 * n)) + 500 * np.maximum(0, z2 * (y[0, 1] - 0.7 * n))
    np.testing.assert_allclose(paid[0], expected)
    with pytest.raises(ParameterError, match="no τ² for 'ips', 'no_admission'"):
        Credibility({"employed": 0.01}).pay(y, terms)
    with pytest.raises(ParameterError, match="> 0"):
        Credibility(0.0).pay(y, terms)


def test_estimated_credibility_is_buhlmann_straub_within_each_payment_year():
    terms = contract_terms(payment_year=np.array([1, 1, 2]))
    y = np.array([[[3, 6, 9]], [[6, 10, 20]]])                   # draw 0: every contract at its counterfactual
    paid = Credibility("estimate").pay(y, terms)
    assert (paid[0] == 0).all()
    # draw 1, year 1: contracts of 10 and 20 with 6 and 10 against 3 and 6 expected
    n, r = np.array([10.0, 20.0]), 0.3
    tau2 = max(0.0, ((6 - 3) ** 2 / 10 + (10 - 6) ** 2 / 20 - 2 * r * (1 - r)) / 30)
    z = n * tau2 / (n * tau2 + r * (1 - r))
    np.testing.assert_allclose(paid[1, :2], 1000 * z * np.array([3.0, 4.0]))
    # year 2 has one contract: 20 of 30 against 9, its own scatter
    tau2 = max(0.0, ((20 - 9) ** 2 / 30 - r * (1 - r)) / 30)
    np.testing.assert_allclose(paid[1, 2], 1000 * 11 * 30 * tau2 / (30 * tau2 + r * (1 - r)))
    # as a callable: the same weights over all the contracts of a draw
    one_year = Credibility("estimate").pay(y, contract_terms())[1]
    np.testing.assert_allclose(Credibility("estimate")(y[:, 0], terms.participants, price=1000,
                                                       counterfactual_rate=0.3)[1], one_year)
    with pytest.raises(ParameterError, match="'estimate'"):
        Credibility("estimated").pay(y, terms)


def test_a_minimum_above_every_contract_pays_nothing():
    held = run(MinimumVolume(max(SIZES) + 1))
    assert (held.draws["payments_dkk"] == 0).all()
    assert held.prob_neutral()["state"] == pytest.approx((held.fund_draws()["gain_stat_dkk"] >= 0).mean())
    some = run(MinimumVolume(10)).municipality_years()
    assert (some.loc[some["participants"] < 10, "mean_payment_dkk"] == 0).all()
    assert (some.loc[some["participants"] >= 10, "mean_payment_dkk"] > 0).all()


def test_one_pool_is_paid_the_rate_card_on_its_pooled_outcomes_shared_by_participants():
    y = np.array([[[5, 9, 3]], [[1, 2, 3]]])
    paid = Pooled(by="year").pay(y, contract_terms())
    # draw 0: 17 outcomes against 0.3 · 60 = 18 expected: nothing; draw 1: nothing either
    assert (paid == 0).all()
    y = np.array([[[5, 9, 12]]])                                  # 26 against 18: 8 paid
    paid = Pooled(by="year").pay(y, contract_terms())
    assert paid.sum() == pytest.approx(8_000)
    np.testing.assert_allclose(paid[0] / paid[0].sum(), [10 / 60, 20 / 60, 30 / 60])
    by_region = Pooled(by="region").pay(y, contract_terms())      # pools {10, 20} and {30}
    np.testing.assert_allclose(by_region[0], [1000 * 5 / 3, 1000 * 10 / 3, 3000.0])
    # a pool's cap is the sum of its contracts' caps
    capped = Pooled(by="year").pay(y, contract_terms(caps=np.array([1000.0, 2000.0, 3000.0])))
    assert capped.sum() == pytest.approx(6_000)
    with pytest.raises(ParameterError, match="region"):
        Pooled(by="region").pay(y, contract_terms(region=None))
    with pytest.raises(ParameterError, match="by: expected"):
        Pooled(by="project").pay(y, contract_terms())


def test_pooling_in_the_simulation_keeps_payment_years_apart_and_needs_regions():
    national = run(Pooled(by="year"))
    regional = run(Pooled(by="region"))
    card_sim = run()
    # the same outcomes: pooling moves money between contracts, and pays less for noise than contract by contract
    pd.testing.assert_series_equal(national.draws["gain_stat_dkk"], card_sim.draws["gain_stat_dkk"])
    assert national.draws["payments_dkk"].mean() <= regional.draws["payments_dkk"].mean() + 1e-6
    assert regional.draws["payments_dkk"].mean() < card_sim.draws["payments_dkk"].mean()
    assert national.flows[:, 0, 0, 0].sum() == 0                   # nothing paid before the first payment year
    with pytest.raises(ParameterError, match="region"):
        fund.simulate(effects(), card(), contracts(region=False), payment_rule=Pooled(by="region"), **COMMON)
    moved = pd.concat([contracts().assign(year=0), contracts().assign(year=1, region="Nordjylland")])
    with pytest.raises(ParameterError, match="one region per municipality"):
        fund.simulate(effects(), card(), moved, **COMMON)


def test_a_cap_bounds_each_payment_year():
    cap = 150_000.0
    capped = run(Capped(cap))
    yearly = capped.flows[:, 0, :, 0]                                # (draws, cash years) of the one intervention
    assert yearly.max() <= cap * (1 + 1e-12)
    free = run().flows[:, 0, :, 0]
    np.testing.assert_allclose(yearly, np.minimum(free, cap))         # a total below the cap is left alone
    assert Capped({"other": cap}).pay(np.array([[[30, 30, 30]]]), contract_terms()).sum() == pytest.approx(
        RateCardRule().pay(np.array([[[30, 30, 30]]]), contract_terms()).sum())
    assert not Capped(cap).proportional(contract_terms()) and Capped(math.inf).proportional(contract_terms())


def test_proportional_rules_scale_and_the_rest_redraw_for_neutral_prices():
    terms = contract_terms()
    for rule in (RateCardRule(), MinimumVolume(5), Pooled(), Credibility(0.01), Pooled(Credibility(0.01)),
                 Credibility("estimate")):
        assert rule.proportional(terms)
        assert not rule.proportional(contract_terms(caps=np.array([1.0, np.inf, np.inf])))
    held = run(MinimumVolume(8))
    scale = held.neutral_price()["scale"].iloc[0]
    redrawn = run(Capped(1e12, base=MinimumVolume(8)))              # not proportional by its type: re-draws
    assert redrawn.neutral_price()["scale"].iloc[0] == pytest.approx(scale, rel=1e-3)


def test_a_non_default_rule_gives_the_same_numbers_for_any_n_jobs_and_backend():
    from progression._parallel import use_backend

    rule = Pooled(Credibility({"employed": 0.01, "no_admission": 0.02}), by="region")
    one = run(rule, n_jobs=1)
    two = run(rule, n_jobs=2)
    pd.testing.assert_frame_equal(one.draws, two.draws, check_exact=True)
    np.testing.assert_array_equal(one.municipality_pv, two.municipality_pv)
    with use_backend("threading"):
        threads = run(rule, n_jobs=2)
    pd.testing.assert_frame_equal(one.draws, threads.draws, check_exact=True)


# --------------------------------------------------------------------------------------------
# The fund under each rule
# --------------------------------------------------------------------------------------------

RULES = {"rate card": RateCardRule(), "credibility": Credibility(0.005), "minimum 10": MinimumVolume(10),
         "pooled by region": Pooled(by="region"), "capped": Capped(150_000.0),
         "empirical Bayes": Credibility("estimate")}


@pytest.fixture(scope="module")
def compared():
    return fund.compare_rules(effects(), card(), contracts(), RULES, paying_threshold=50_000.0, **COMMON)


def test_the_default_rule_reproduces_the_simulation_exactly(compared):
    sim = fund.simulate(effects(), card(), contracts(), **COMMON)
    row = compared.set_index(["rule", "scenario"]).loc[("rate card", "estimated_effects")]
    summary = sim.summary()
    assert row["mean_payment_dkk"] == summary.loc["payments_dkk", "mean"]
    assert row["sd_payment_dkk"] == pytest.approx(summary.loc["payments_dkk", "std"], rel=1e-12)
    assert row["prob_neutral_state"] == sim.prob_neutral()["state"]
    assert row["prob_neutral_public"] == sim.prob_neutral()["public"]
    assert row["mean_public_balance_dkk"] == pytest.approx(summary.loc["public_balance_dkk", "mean"], rel=1e-12)
    again = fund.compare_rules(effects(), card(), contracts(), {"default": fund.RateCardPayment()}, **COMMON)
    assert again.iloc[0]["mean_payment_dkk"] == row["mean_payment_dkk"]


def test_without_an_effect_nothing_is_gained_and_neutral_means_paying_nothing(compared):
    null = compared[compared["scenario"] == "no_effect"].set_index("rule")
    np.testing.assert_allclose(null["prob_neutral_state"], 1 - null["prob_paying"])
    assert (null["prob_neutral_public"] == null["prob_neutral_state"]).all()
    np.testing.assert_allclose(null["mean_public_balance_dkk"], -null["mean_payment_dkk"])
    assert (null["prob_paying_above"] <= null["prob_paying"]).all()
    assert (compared["paying_threshold_dkk"] == 50_000.0).all()


def test_the_rules_trade_paying_for_noise_against_paying_for_effects(compared):
    t = compared.set_index(["rule", "scenario"])
    null = t.xs("no_effect", level="scenario")
    effect = t.xs("estimated_effects", level="scenario")
    # shrinking keeps the sign of each contract's excess: it pays as often, but less
    assert null.loc["rate card", "prob_paying"] == null.loc["credibility", "prob_paying"]
    assert null.loc["rate card", "prob_paying_above"] >= null.loc["credibility", "prob_paying_above"]
    assert null.loc["rate card", "prob_paying_above"] >= null.loc["empirical Bayes", "prob_paying_above"]
    for rule in ("credibility", "minimum 10", "pooled by region", "capped", "empirical Bayes"):
        assert null.loc[rule, "mean_payment_dkk"] < null.loc["rate card", "mean_payment_dkk"]
        assert effect.loc[rule, "mean_payment_dkk"] < effect.loc["rate card", "mean_payment_dkk"]
        assert effect.loc[rule, "prob_neutral_state"] >= effect.loc["rate card", "prob_neutral_state"]
    assert effect.loc["capped", "sd_payment_dkk"] < effect.loc["rate card", "sd_payment_dkk"]


def test_chance_only_sets_the_counterfactual_right_and_leaves_deadweight_out(compared):
    t = compared.set_index(["scenario", "rule"]).drop(columns="paying_threshold_dkk")
    # the card's counterfactual rates are the baseline rates here: nothing to tell apart
    pd.testing.assert_frame_equal(t.loc["chance_only"], t.loc["no_effect"])
    deadweight = effects().assign(baseline_rate=[0.30, 0.75])   # participants reach more without the intervention
    rules = {"rate card": RateCardRule(), "pooled nationally": Pooled(by="year")}
    out = fund.compare_rules(deadweight, card(), contracts(), rules, scenarios=("no_effect", "chance_only"), **COMMON)
    out = out.set_index(["scenario", "rule"])
    for rule in rules:
        assert out.loc[("no_effect", rule), "mean_payment_dkk"] > 2 * out.loc[("chance_only", rule), "mean_payment_dkk"]
    # pooling removes much of the chance but none of the deadweight
    assert out.loc[("chance_only", "pooled nationally"), "mean_payment_dkk"] < 0.6 * out.loc[
        ("chance_only", "rate card"), "mean_payment_dkk"]
    assert out.loc[("no_effect", "pooled nationally"), "prob_paying"] == 1.0


def test_compare_rules_refuses_what_it_cannot_run():
    with pytest.raises(ParameterError, match="rules"):
        fund.compare_rules(effects(), card(), contracts(), {}, **COMMON)
    with pytest.raises(ParameterError, match="scenarios"):
        fund.compare_rules(effects(), card(), contracts(), RULES, scenarios=("effects",), **COMMON)
    with pytest.raises(ParameterError, match="paying_threshold"):
        fund.compare_rules(effects(), card(), contracts(), RULES, paying_threshold=-1.0, **COMMON)
    with pytest.raises(ParameterError, match="payment_rule"):
        fund.compare_rules(effects(), card(), contracts(), {"bad": lambda y, c: y}, **COMMON)
