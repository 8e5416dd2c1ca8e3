"""Target-trial emulation and the effects on its trials, on small hand-made tables with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from progression.config import StaircaseParams
from progression.economics import som_cohort
from progression.evaluation import trial_effects, trials
from progression.staircase import as_staircase
from progression.exceptions import DataContractError, ParameterError

STAIRS = StaircaseParams()
EXTRACT = pd.Timestamp("2020-12-31")


def spell(person, paragraph, start, end=None, municipality=101):
    return {"person_id": person, "paragraph": paragraph, "municipality": municipality,
            "start_date": pd.Timestamp(start), "end_date": pd.Timestamp(end) if end else pd.NaT}


def world():
    """Five persons in municipality 101 (adopts 'x' in 2015) and one in 147 (never adopts).

    1: on §85 throughout, starts 'x' on 2016-03-01, employed from 2017;
    2: on §85 throughout, never starts; moves to §108 on 2017-05-01 (an escalation);
    3: on §85 but aged 80 (not eligible);
    4: on §108 throughout (step not eligible);
    5: on §85 in municipality 147, which never adopts;
    6: on §85, starts 'x' in 2015 in 101 (adopts 2015).
    """
    persons = pd.DataFrame({
        "person_id": [1, 2, 3, 4, 5, 6], "birth_year": [1980, 1985, 1935, 1970, 1980, 1990],
        "sex": ["K", "M", "K", "M", "K", "M"], "target_group": ["sindslidelse"] * 6, "severity": [1, 2, 2, 3, 1, 2],
        "municipality": [101, 101, 101, 101, 147, 101], "childhood_services": [False] * 6,
        "death_date": pd.NaT, "emigration_date": pd.NaT,
    })
    spells = pd.DataFrame([
        spell(1, "SEL85", "2012-01-01"), spell(2, "SEL85", "2012-01-01", "2017-04-30"),
        spell(2, "SEL108", "2017-05-01"), spell(3, "SEL85", "2012-01-01"), spell(4, "SEL108", "2012-01-01"),
        spell(5, "SEL85", "2012-01-01", municipality=147), spell(6, "SEL85", "2012-01-01"),
    ]).assign(spell_id=lambda s: np.arange(1, len(s) + 1))
    years = pd.DataFrame([(p, y) for p in range(1, 7) for y in range(2012, 2021)], columns=["person_id", "year"])
    py = years.assign(
        municipality=np.where(years["person_id"] == 5, 147, 101),
        employment_weeks=np.where((years["person_id"] == 1) & (years["year"] >= 2017), 20.0, 0.0),
        education_weeks=0.0, disability_pension_weeks=np.where(years["person_id"] == 4, 52.0, 0.0),
        employment_measure_hours=0.0,
        psych_inpatient_days=np.where((years["person_id"] == 2) & (years["year"] == 2016), 10.0, 0.0),
        somatic_inpatient_days=0.0, outpatient_contacts=0.0, justice_contact=False)
    participations = pd.DataFrame({"person_id": [1, 6], "intervention": ["x", "x"], "municipality": [101, 101],
                                   "start_date": pd.to_datetime(["2016-03-01", "2015-06-01"]), "end_date": pd.NaT})
    return {"persons": persons, "spells": spells, "person_years": py, "participations": participations}


RULE = trials.Eligibility(steps=("SEL85",), min_age=18, max_age=60, target_groups=("sindslidelse", "begge"))


@pytest.fixture
def frame():
    w = world()
    pool = trials.eligible_pool(RULE, persons=w["persons"], person_years=w["person_years"], spells=w["spells"],
                            staircase=STAIRS, years=(2014, 2019))
    return trials.trial_frame("x", RULE, pool=pool, persons=w["persons"], person_years=w["person_years"],
                          spells=w["spells"], participations=w["participations"],
                          adoption=trials.adoption_years(w["participations"]), staircase=STAIRS, extract_date=EXTRACT)


def test_trial_frame_takes_starters_and_eligible_controls_of_adopting_municipalities(frame):
    rows = set(zip(frame["person_id"], frame["index_year"], frame["treated"]))
    # starters in their start year; person 1 is a control in 2015 (not yet started), not from 2016 on
    assert (1, 2016, 1) in rows and (6, 2015, 1) in rows and (1, 2015, 0) in rows
    assert not any(p == 1 and y >= 2016 and t == 0 for p, y, t in rows)
    # person 2 is a control from adoption (2015) while on §85 on 1 July: 2015, 2016 (on §108 from May 2017)
    assert {(y, t) for p, y, t in rows if p == 2} == {(2015, 0), (2016, 0)}
    # too old, ineligible step, non-adopting municipality: never in the frame
    assert not frame["person_id"].isin([3, 4, 5]).any()
    assert not any(p == 6 and t == 0 for p, y, t in rows)


def test_trial_frame_outcomes_and_covariates(frame):
    f = frame.set_index(["person_id", "index_year", "treated"])
    assert f.loc[(1, 2016, 1), "employed"] == 1.0 and f.loc[(1, 2015, 0), "employed"] == 0.0
    assert f.loc[(1, 2016, 1), "age"] == 36 and f.loc[(1, 2016, 1), "in_data_lag2"] == 1.0
    # person 2 moves up to §108 on 2017-05-01: within 24 months of 2015-07-01 and of 2016-07-01
    assert f.loc[(2, 2015, 0), "no_escalation_24m"] == 0.0 and f.loc[(2, 2016, 0), "no_escalation_24m"] == 0.0
    assert f.loc[(2, 2016, 0), "no_botilbud_next_year"] == 0.0 and f.loc[(2, 2015, 0), "no_botilbud_next_year"] == 1.0
    assert f.loc[(2, 2015, 0), "no_psych_admission"] == 0.0 and f.loc[(2, 2015, 0), "psych_inpatient_days"] == 10
    assert f.loc[(1, 2016, 1), "no_escalation_24m"] == 1.0
    # the 2019 trials' 24 months end after the extract date: unknown
    assert frame.loc[frame["index_year"] == 2019, "no_escalation_24m"].isna().all()


def test_no_escalation_counts_only_higher_steps_inside_the_window():
    spells = pd.DataFrame([spell(1, "SEL85", "2014-01-01"), spell(1, "SEL82a", "2014-06-01"),
                           spell(2, "SEL85", "2014-01-01"), spell(2, "SEL107", "2016-08-01")])
    rows = pd.DataFrame({"person_id": [1, 2, 2], "index_date": pd.to_datetime(["2014-07-01", "2014-07-01",
                                                                                 "2019-07-01"]),
                         "level": [2.0, 2.0, 2.0]})
    out = trials.no_escalation(rows, spells, as_staircase(STAIRS), months=24, extract_date=EXTRACT)
    assert out.tolist()[:2] == [1.0, 1.0]  # a lower step, and a higher one 25 months later
    assert np.isnan(out.iloc[2])


def test_held_by_year_and_item_quantities():
    spells = pd.DataFrame([spell(1, "SEL108", "2015-05-01", "2017-02-01"), spell(2, "SEL85", "2018-01-01")])
    held = trials.held_by_year(spells, ["SEL108"], first_year=2014, last_year=2020)
    assert held.values.tolist() == [[1, 2015], [1, 2016], [1, 2017]]
    unit_costs = pd.DataFrame({"item": ["psych_inpatient", "psych_inpatient", "SEL85", "ips"],
                               "payer": ["region", "kommune", "kommune", "kommune"],
                               "unit": ["day", "day", "year", "participant"],
                               "cost_dkk": [5500.0, 500.0, 100_000.0, 60_000.0], "price_year": 2024,
                               "source": "test"})
    costs = pd.DataFrame({"person_id": [1, 1, 1, 2], "year": [2016, 2016, 2016, 2016],
                          "service": ["psych_inpatient", "psych_inpatient", "ips", "SEL85"],
                          "payer": ["region", "kommune", "kommune", "kommune"],
                          "cost_dkk": [55_000.0, 5_000.0, 60_000.0, 50_000.0], "price_year": 2024})
    q = trials.item_quantities(costs, unit_costs).set_index("person_id")
    assert q.loc[1, "q_psych_inpatient"] == pytest.approx(10.0) and q.loc[2, "q_SEL85"] == pytest.approx(0.5)
    assert "q_ips" not in q.columns
    with pytest.raises(DataContractError, match="price year"):
        trials.item_quantities(costs.assign(price_year=2023), unit_costs)


def test_eligibility_rules_read_target_groups_and_name_what_is_missing():
    table = pd.DataFrame({"intervention": ["a", "b"], "target_group": ["sindslidelse", "alle"]})
    rules = trials.eligibility_rules(table, steps={"a": ["SEL85"], "b": ["none", "SEL82"]},
                                 ages={"a": (18, 60), "b": (18, 29)}, staircase=STAIRS)
    assert rules["a"].target_groups == ("sindslidelse", "begge")
    assert set(rules["b"].target_groups) == {"sindslidelse", "kognitivt_handicap", "begge"}
    with pytest.raises(ParameterError, match=r"\['b'\]"):
        trials.eligibility_rules(table, steps={"a": ["SEL85"]}, ages={"a": (18, 60)}, staircase=STAIRS)
    with pytest.raises(ParameterError, match="SEL999"):
        trials.eligibility_rules(table, steps={"a": ["SEL999"], "b": ["SEL85"]}, ages={"a": (1, 2), "b": (1, 2)},
                             staircase=STAIRS)


def _confounded_trials(n=6000, effect=3.0, seed=7):
    """Trials where a persistent unmeasured trait u raises both participation and the outcome's level."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    u = rng.normal(size=n)
    treated = (rng.random(n) < 1 / (1 + np.exp(-(-1.5 + 0.8 * x + 1.2 * u)))).astype(int)
    pre = 10 + 4 * u + 2 * x + rng.normal(size=n)
    post = 11 + 4 * u + 2 * x + effect * treated + rng.normal(size=n)
    return pd.DataFrame({"person_id": np.arange(n), "treated": treated, "x": x, "employment_weeks": post,
                         "employment_weeks_lag1": pre, "in_data_lag1": 1.0})


def test_doubly_robust_did_recovers_an_effect_that_weighting_on_observables_misses():
    data = _confounded_trials()
    found = trial_effects.estimate_effects(data, outcomes=["employment_weeks"], did_outcomes=["employment_weeks"],
                                covariates=["x"], change_covariates=["x"], seed=1).set_index("method")
    dr = found.loc["DR-DiD (AIPW on change)"]
    assert dr["conf_low"] < 3.0 < dr["conf_high"]
    assert found.loc["DiD 2x2", "conf_low"] < 3.0 < found.loc["DiD 2x2", "conf_high"]  # no covariate-driven trends
    for biased in ("naive contrast (treated)", "AIPW (cross-fitted)"):
        assert found.loc[biased, "conf_low"] > 3.5  # u is unmeasured: levels stay confounded
    assert (found["n_treated"] == data["treated"].sum()).all()
    preferred = trial_effects.preferred_effects(found.reset_index(), did_outcomes=["employment_weeks"])
    assert preferred["method"].tolist() == ["DR-DiD (AIPW on change)"]


def test_adoption_panel_keeps_balanced_municipalities_and_shares_started(frame):
    w = world()
    pool = trials.eligible_pool(RULE, persons=w["persons"], person_years=w["person_years"], spells=w["spells"],
                            staircase=STAIRS, years=(2014, 2019))
    nxt = trials.next_year_outcomes(pool.rename(columns={"year": "index_year"}), person_years=w["person_years"],
                                spells=w["spells"], stairs=as_staircase(STAIRS),
                                botilbud_steps=("SEL107", "ABL105", "SEL108"), last_year=2020)
    panel = trials.adoption_panel(pool, outcomes=nxt, adoption=trials.adoption_years(w["participations"]),
                              intervention="x", participations=w["participations"], outcome="employed")
    assert set(panel["municipality"]) == {101, 147} and panel.groupby("municipality").size().eq(6).all()
    m101 = panel[panel["municipality"] == 101].set_index("year")
    assert m101.loc[2016, "share_started"] == pytest.approx(2 / 3)  # persons 1 and 6 of 1, 2, 6
    assert (m101["adoption_year"] == 2015).all()
    assert panel.loc[panel["municipality"] == 147, "adoption_year"].isna().all()
    persons = trials.adoption_persons(pool, adoption=trials.adoption_years(w["participations"]), intervention="x")
    assert persons.set_index("event_time")["n_persons"].get(-1.0) == 3


def test_aipw_fits_a_multi_output_regressor_once_with_the_same_estimates():
    from sklearn.linear_model import LinearRegression

    from progression.evaluation import aipw

    data = _confounded_trials(n=800).assign(other=lambda d: d["employment_weeks"] ** 2 / 10)
    both = aipw(data, outcome=["employment_weeks", "other"], treatment="treated", covariates=["x"],
                outcome_model=LinearRegression(), seed=3)
    for name in ("employment_weeks", "other"):
        alone = aipw(data, outcome=name, treatment="treated", covariates=["x"], outcome_model=LinearRegression(),
                     seed=3)
        row = both[both["outcome"] == name]
        assert row["estimate"].item() == pytest.approx(alone["estimate"].item(), rel=1e-9)
        assert row["std_error"].item() == pytest.approx(alone["std_error"].item(), rel=1e-9)


def test_aipw_classifier_outcome_model_copes_with_a_fold_of_one_class():
    from sklearn.linear_model import LogisticRegression

    from progression.evaluation import aipw

    data = _confounded_trials(n=400).assign(rare=0.0)
    data.loc[data.index[:2], "rare"] = 1.0  # two events: some folds' control arms hold none
    found = aipw(data, outcome="rare", treatment="treated", covariates=["x"], outcome_model=LogisticRegression(),
                 seed=0)
    assert np.isfinite(found["estimate"].item()) and abs(found["estimate"].item()) < 0.05


def test_som_cohorts_follow_the_delimitation_of_borgeren_ved_roret():
    w = world()
    unit_costs = pd.DataFrame({"item": ["SEL85", "SEL108"], "payer": "kommune", "unit": "year",
                               "cost_dkk": [100_000.0, 900_000.0], "price_year": 2024, "source": "test"})
    costs = pd.DataFrame({"person_id": [1, 2], "year": [2017, 2017], "service": ["SEL85", "SEL108"],
                          "payer": "kommune", "cost_dkk": [100_000.0, 600_000.0], "price_year": 2024})
    common = dict(persons=w["persons"], person_years=w["person_years"], spells=w["spells"], costs=costs,
                  unit_costs=unit_costs, staircase=STAIRS, years=(2017, 2019), seed=3)
    employment = som_cohort("employment", **common).set_index("person_id")
    # person 4 is on førtidspension and §108, person 3 too old; person 2 leaves §85 in 2017 (still held then)
    assert set(employment.index) == {1, 2, 5, 6}
    assert employment.loc[1, "success"] == 1.0 and employment.loc[5, "success"] == 0.0
    assert (employment["reference_year"] == employment["year"] + 1).all()
    botilbud = som_cohort("botilbud", **common).set_index("person_id")
    assert set(botilbud.index) == {2, 4} and (botilbud["success"] == 0.0).all()
    assert botilbud.loc[2, "cost_lag1"] == (600_000.0 if botilbud.loc[2, "year"] == 2017 else 0.0)
    again = som_cohort("botilbud", **common)
    pd.testing.assert_frame_equal(again.set_index("person_id"), botilbud)
