"""progression.payment: closed forms by hand, conservation, the progression penalty's signs, the paths against an
independent projection, known truth on the synthetic data, identical draws for any n_jobs, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from progression.analyses import payment as an
from progression.constants import DAYS_PER_YEAR
from progression.datasets import example_params, example_truth, load_example
from progression.exceptions import ParameterError
from progression.payment import (
    ITEMS,
    MODELS,
    PaymentInputs,
    PaymentRules,
    PaymentSimulation,
    StateSpace,
    StateTariffs,
    average_tariffs,
    exposure_factors,
    group_tariffs,
    joint_matrix,
    path_occupancy,
    payments,
    progression_rates,
    project,
    resource_homogeneity,
    scale_progression,
    support_level,
    support_levels,
    tariff_table,
    without_progression,
)

D = DAYS_PER_YEAR


def item(out, model, name, year=None):
    values = out[model]["area"][ITEMS.index(name)]
    return values if year is None else float(values[year])


# --- one citizen's path, by hand ------------------------------------------------------------------

@pytest.fixture(scope="module")
def one_citizen():
    """§ 108 at support level 3, then level 2, then § 85 at level 1; one § 108 place, planned occupancy 1."""
    space = StateSpace.from_staircase(n_levels=3)
    rates = {s: (100.0, 200.0, 300.0) for s in space.service}
    rates["SEL108"] = (1000.0, 2000.0, 3000.0)
    table = tariff_table([{"step": s, "support_level": lvl, "takst_dkk": r[lvl - 1]}
                          for s, r in rates.items() for lvl in (1, 2, 3)])
    mix = pd.DataFrame({"step": ["SEL108"] * 3, "support_level": [1, 2, 3], "n_persons": [1.0, 2.0, 1.0]})
    average = average_tariffs(table, mix)  # (1000 + 2 * 2000 + 3000) / 4 = 2000
    tariffs = StateTariffs.from_tables(table, space, average=average)
    x, events = path_occupancy([("SEL108", 3), ("SEL108", 2), ("SEL85", 1)], space)
    rules = PaymentRules(planned_occupancy=1.0, fixed_cost_share=0.5, guarantee_years=3, municipal_share=0.8,
                         result_base_share=0.9, bonus_dkk=50_000.0, verified_share=0.5)
    out = payments(x, events, space=space, tariffs=tariffs, rules=rules, capacity=np.array([0.0, 0.0, 1.0]),
                   key=np.ones(1))
    return out, events


def test_path_events_count_the_moves_into_a_year(one_citizen):
    _, events = one_citizen
    assert events.tolist() == [[0.0, 1.0, 1.0]]


@pytest.mark.parametrize("model, gross", [
    ("activity_average", [2000 * D, 2000 * D, 100 * D]),
    ("activity_differentiated", [3000 * D, 2000 * D, 100 * D]),
    ("group_tariff", [3000 * D, 2000 * D, 100 * D]),  # no group table: the differentiated takst
    ("result_based", [0.9 * 2000 * D, 0.9 * 2000 * D + 0.5 * 50_000, 0.5 * 50_000 + 100 * D]),
    ("objective", [2000 * D, 2000 * D, 2000 * D + 100 * D]),  # the place's budget, used or not
    ("special_places_80_20", [0.8 * 2000 * D, 0.8 * 2000 * D, 0.8 * 2000 * D + 100 * D]),
    ("deficit_guarantee", [3000 * D, 2000 * D, 0.5 * 2000 * D + 100 * D]),  # fixed costs of the vacant place
])
def test_one_citizen_gross_payments_by_hand(one_citizen, model, gross):
    out, _ = one_citizen
    assert item(out, model, "kommune_gross") == pytest.approx(gross)


def test_one_citizen_providers_region_and_refusion_by_hand(one_citizen):
    out, _ = one_citizen
    # the botilbud provider: differentiated revenue, costs 0.5 * 2000 D fixed + 0.5 * takst D variable
    assert item(out, "activity_differentiated", "provider_revenue") == pytest.approx([3000 * D, 2000 * D, 0])
    assert item(out, "activity_differentiated", "provider_cost") == pytest.approx(
        [1000 * D + 1500 * D, 1000 * D + 1000 * D, 1000 * D])
    # the special places: the region pays 20 % of the place every year, the provider gets the whole place
    assert item(out, "special_places_80_20", "region") == pytest.approx([0.2 * 2000 * D] * 3)
    assert item(out, "special_places_80_20", "provider_revenue") == pytest.approx([2000 * D] * 3)
    # refusion: 25 % of a yearly cost above 910,000 kr.; 3000 D = 1,095,750 kr.
    assert item(out, "activity_differentiated", "stat_refusion", 0) == pytest.approx(0.25 * (3000 * D - 910_000))
    assert item(out, "activity_differentiated", "stat_refusion", 1) == 0.0
    assert item(out, "objective", "stat_refusion", 0) == 0.0  # not attributable to the citizen
    for model in MODELS:
        net = item(out, model, "kommune_net")
        assert net == pytest.approx(item(out, model, "kommune_gross") - item(out, model, "stat_refusion"))


# --- the paths -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def prep():
    return an.prepare(load_example("panel_year"), load_example("spells"), load_example("assessments"),
                      load_example("persons"), load_example("municipality_years"), example_params())


def test_joint_matrix_is_stochastic_and_keeps_the_step_margins(prep):
    J = joint_matrix(prep.transition, prep.support, prep.entry, prep.space)
    assert np.allclose(J.sum(axis=1), 1.0) and (J >= 0).all()
    check = an.projection_check(prep, example_params())
    assert check["difference"].abs().max() < 1e-8 * check["paths"].abs().max()


def test_support_levels_and_cuts():
    assert support_level([0.0, 0.99, 1.0, 3.9], [1.0, 2.0]).tolist() == [1, 1, 2, 3]
    scores = pd.DataFrame({"person_id": [1, 1, 1], "assessment_date": pd.to_datetime(["2020-02-01", "2020-09-01",
                                                                                     "2021-01-01"]),
                           "raw": [2.5, 0.5, 1.5], "valid": [True, True, False]})
    levels = support_levels(scores, cuts=[1.0, 2.0])
    assert levels[["year", "support_level"]].values.tolist() == [[2020, 1]]  # the last valid one of the year


def test_without_progression_removes_every_progression_event(prep):
    P0, Q0 = without_progression(prep.transition, prep.support, prep.space)
    assert progression_rates(P0, Q0, prep.space).max() == 0.0
    assert progression_rates(prep.transition, prep.support, prep.space).max() > 0.0
    P1, Q1 = scale_progression(prep.transition, prep.support, prep.space)
    assert np.array_equal(Q1, prep.support)
    assert np.allclose(P1, prep.transition.to_numpy())
    P2, Q2 = scale_progression(prep.transition, prep.support, prep.space, stepdown=1.5, less_support=1.5)
    rates = progression_rates(prep.transition, prep.support, prep.space)
    assert progression_rates(P2, Q2, prep.space)[0] == pytest.approx(1.5 * rates[0])
    with pytest.raises(ParameterError, match="less_support factor"):
        scale_progression(prep.transition, prep.support, prep.space, less_support=50.0)


def test_project_is_the_recursion():
    J = np.array([[0.9, 0.1], [0.0, 1.0]])
    X = project(np.array([[100.0, 0.0]]), J, np.array([[10.0, 0.0]]), years=2)
    assert X[0, :, 0].tolist() == pytest.approx([100, 100, 100])  # 0.9 * 100 + 10
    assert X[0, 2, 1] == pytest.approx(20.0)


def test_exposure_is_the_share_of_the_year_on_the_step():
    spells = pd.DataFrame({"person_id": [1, 2], "paragraph": ["SEL108", "SEL108"],
                           "start_date": pd.to_datetime(["2021-07-02", "2019-01-01"]),
                           "end_date": pd.to_datetime([None, "2021-12-31"])})
    panel = pd.DataFrame({"person_id": [1, 2], "period": pd.to_datetime(["2021-01-01"] * 2), "step": "SEL108",
                          "municipality": 101, "status": "observed"})
    factor = exposure_factors(spells, panel, years=[2021]).set_index("step")["exposure"]
    assert factor["SEL108"] == pytest.approx((183 + 365) / 730)


# --- tariffs and homogeneity ----------------------------------------------------------------------

def test_tariff_table_names_what_is_wrong():
    rows = [{"step": s, "support_level": 1, "takst_dkk": 10.0} for s in ("SEL82", "SEL85", "SEL107", "ABL105")]
    with pytest.raises(ParameterError, match=r"no takst for \(step, support_level\) \[\('SEL108', 1\)\]"):
        tariff_table(rows)
    with pytest.raises(ParameterError, match="not steps of the staircase"):
        tariff_table(rows + [{"step": "SEL999", "support_level": 1, "takst_dkk": 1.0}])
    with pytest.raises(ParameterError, match="no-service step"):
        tariff_table(rows + [{"step": "none", "support_level": 1, "takst_dkk": 1.0}])
    with pytest.raises(ParameterError, match="more than once"):
        tariff_table(rows + rows[:1] + [{"step": "SEL108", "support_level": 1, "takst_dkk": 1.0}])
    with pytest.raises(ParameterError, match="positive"):
        tariff_table(rows + [{"step": "SEL108", "support_level": 1, "takst_dkk": 0.0}])


def test_average_and_group_tariffs_cost_what_the_differentiated_ones_cost_today():
    space = StateSpace.from_staircase(n_levels=2)
    table = tariff_table([{"step": s, "support_level": lvl, "takst_dkk": 100.0 * lvl * (1 + i)}
                          for i, s in enumerate(space.service) for lvl in (1, 2)])
    residents = pd.DataFrame({"step": ["SEL107", "SEL107", "SEL108", "SEL108", "SEL108"],
                              "support_level": [1, 2, 1, 2, 2], "target_group": ["a", "b", "a", "a", "b"],
                              "n_persons": [3.0, 1.0, 2.0, 4.0, 5.0]})
    groups = group_tariffs(table, residents)
    mix = residents.groupby(["step", "support_level"], as_index=False)["n_persons"].sum()
    st = StateTariffs.from_tables(table, space, average=average_tariffs(table, mix), group=groups,
                                  group_mix=residents)
    stock = np.zeros(space.n_states)
    for row in mix.itertuples():
        stock[space.state(row.step, row.support_level)] = row.n_persons
    assert stock @ st.group == pytest.approx(stock @ st.differentiated)
    assert stock @ st.average == pytest.approx(stock @ st.differentiated)


def test_resource_homogeneity_equals_the_r2_of_a_dummy_regression():
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(3)
    data = pd.DataFrame({"g": rng.choice(list("abc"), 300), "h": rng.choice(list("xy"), 300)})
    data["cost_dkk"] = data["g"].map({"a": 1.0, "b": 2.0, "c": 4.0}) + rng.normal(size=300)
    table = resource_homogeneity(data, {"g": ["g"], "g x h": ["g", "h"]}).set_index("grouping")
    assert table.loc["g", "r2"] == pytest.approx(smf.ols("cost_dkk ~ C(g)", data).fit().rsquared, rel=1e-10)
    assert table.loc["g x h", "r2"] == pytest.approx(smf.ols("cost_dkk ~ C(g):C(h)", data).fit().rsquared, rel=1e-10)
    assert table.loc["g", "groups"] == 3 and table.loc["g", "n_persons"] == 300


# --- the simulation on the example data --------------------------------------------------------------

@pytest.fixture(scope="module")
def sim(prep):
    return an.simulation(prep, example_params(), seed=20240101, n_boot=40, areas=[101])


def test_conservation_every_model_and_replicate(sim):
    for nat in (sim.point_["national"], sim.replicates_["national"]):
        tot = nat.sum(axis=-1)  # (..., variants, models, items)
        paid = tot[..., ITEMS.index("kommune_gross")] + tot[..., ITEMS.index("region")]
        received = sum(tot[..., ITEMS.index(i)] for i in ("provider_revenue", "beyond_capacity", "other_services"))
        assert np.allclose(paid, received, rtol=1e-12, atol=1e-3)
        net = tot[..., ITEMS.index("kommune_gross")] - tot[..., ITEMS.index("stat_refusion")]
        assert np.allclose(net, tot[..., ITEMS.index("kommune_net")], rtol=1e-12, atol=1e-3)
    municipal = sim.point_["municipal"][0]  # (models, 3, M): the municipalities add up to the country
    base = sim.point_["national"][0, sim.variants_.index("baseline")].sum(axis=-1)
    assert np.allclose(municipal[:, 2].sum(axis=-1), base[:, ITEMS.index("kommune_net")])


def test_penalty_positive_per_day_zero_objective_and_neutral_result_based(sim):
    pen = sim.penalty()
    any_event = pen[(pen["event"] == "any") & (pen["quantity"] == "revenue_lost_per_event")].set_index("model")
    for model in ("activity_average", "activity_differentiated", "group_tariff", "deficit_guarantee"):
        assert any_event.loc[model, "estimate"] > 0 and any_event.loc[model, "conf_low"] > 0, model
    for model in ("objective", "special_places_80_20"):
        assert any_event.loc[model, "estimate"] == 0.0 and any_event.loc[model, "conf_high"] == 0.0
    assert abs(any_event.loc["result_based", "estimate"]) < 1e-6  # the bonus is the neutral bonus of its base
    bonus = pen[(pen["model"] == "activity_average") & (pen["event"] == "any") & (pen["quantity"] == "neutral_bonus")]
    assert bonus["estimate"].iloc[0] == pytest.approx(sim.bonus_ / 1.0)
    # a resident needing less support costs a provider nothing under one average takst per place
    less = pen[(pen["event"] == "less_support") & (pen["quantity"] == "revenue_lost_total")].set_index("model")
    assert less.loc["activity_average", "estimate"] == pytest.approx(0.0, abs=1e-3)
    assert less.loc["activity_differentiated", "estimate"] > 0


def test_scenarios_and_tables_are_tidy(sim):
    scen = sim.scenarios().set_index(["scenario", "quantity"])["estimate"]
    assert scen[("progression +10 %", "extra_events")] > 0
    assert scen[("progression +25 %", "saving_before_bonuses")] > scen[("progression +10 %", "saving_before_bonuses")]
    summary = sim.summary()
    assert {"model", "payer", "year", "estimate", "conf_low", "conf_high"} <= set(summary.columns)
    assert set(summary["area"]) == {"national", "101"}
    total = summary[(summary["year"] == "total") & (summary["area"] == "national")]
    assert (total["conf_low"] <= total["estimate"] + 1e-6).all()
    assert (total["estimate"] <= total["conf_high"] + 1e-6).all()


def test_same_numbers_for_any_n_jobs_and_backend(prep):
    from progression._parallel import use_backend

    params = example_params()
    one = an.simulation(prep, params, seed=7, n_boot=12, n_jobs=1, areas=[])
    p = params.payment.model_copy(update={"chunk_size": 5})
    params = params.model_copy(update={"payment": p})
    chunked = [an.simulation(prep, params, seed=7, n_boot=12, n_jobs=2, areas=[])]
    with use_backend("threading"):
        chunked.append(an.simulation(prep, params, seed=7, n_boot=12, n_jobs=2, areas=[]))
    serial = an.simulation(prep, params, seed=7, n_boot=12, n_jobs=1, areas=[])
    for other in chunked:
        for key in serial.replicates_:
            assert np.array_equal(serial.replicates_[key], other.replicates_[key]), key
    assert np.array_equal(one.point_["national"], serial.point_["national"])


def test_payment_inputs_and_simulation_refuse_bad_arguments(prep):
    inputs = PaymentInputs(space=prep.space, tariffs=prep.state_tariffs, support=prep.support, entry=prep.entry,
                           stock=prep.paths["stock"], inflow=prep.paths["inflow"], capacity=prep.capacity,
                           key=prep.key, municipalities=prep.municipalities, start_year=prep.year)
    with pytest.raises(ParameterError, match="key must sum to 1"):
        PaymentInputs(**{**inputs.__dict__, "key": prep.key * 2})
    with pytest.raises(ParameterError, match="areas"):
        PaymentSimulation(rules=PaymentRules(), n_boot=0).fit(inputs, prep.transition, areas=[999])
    with pytest.raises(ParameterError, match="status_quo"):
        PaymentSimulation(rules=PaymentRules(), n_boot=0, models=["objective"]).fit(inputs, prep.transition)
    with pytest.raises(ParameterError, match="planned_occupancy"):
        PaymentRules(planned_occupancy=0.0)


# --- known truth on the synthetic data --------------------------------------------------------------

def test_backtest_reproduces_the_synthetic_costs_and_citizens():
    table = an.truth_backtest(load_example("panel_year"), load_example("spells"), load_example("assessments"),
                              load_example("persons"), load_example("municipality_years"),
                              load_example("person_year_costs"), example_params(), example_truth())
    cost = table[table["quantity"].str.startswith("gross cost")]
    assert (cost["relative_difference"].abs() < 0.03).all(), cost
    citizens = table[table["quantity"].str.startswith("citizens")]
    assert (citizens["relative_difference"].abs() < 0.12).all(), citizens


def test_reference_checks_match():
    table = an.reference_checks(example_params())
    assert (table["difference"].abs() <= 1e-6 * table["reference"].abs().clip(lower=1)).all()
    assert {"by hand", "VIVE (2024), section 3.1.2", "VIVE (2024), section 2.1.2, note 14",
            "VIVE (2024), section 2.2.1"} == set(table["source"])
