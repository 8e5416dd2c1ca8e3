"""Difference-in-differences, event studies and Callaway & Sant'Anna on synthetic panels with known effects."""

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from progression.evaluation import (
    EFFECT_COLUMNS,
    CallawaySantAnna,
    did_2x2,
    event_study,
    first_treated,
    naive_contrast,
    twfe,
)
from progression.exceptions import DataContractError, NotFittedError, ParameterError, StatisticalWarning

YEARS = np.arange(2014, 2024)
COHORT_SLOPES = {2017: 3.0, 2019: 2.0, 2021: 1.0}  # earlier cohorts gain more, and effects grow with exposure


def covers(row: pd.Series, value: float) -> bool:
    return bool(row["conf_low"] <= value <= row["conf_high"])


def person_year_panel(adoption: np.ndarray, effect, *, persons: int, seed: int) -> pd.DataFrame:
    """Persons nested in municipalities adopting in year ``adoption[m]`` (NaN: never), parallel trends.

    y = person level + municipality level (higher in adopting municipalities) + common trend
        + municipality-year shock + effect(adoption year, year) + noise.
    """
    rng = np.random.default_rng(seed)
    n_muni = len(adoption)
    muni = np.repeat(np.arange(n_muni), persons)
    person = np.arange(muni.size)
    level = rng.normal(20, 5, person.size) + 3 * ~np.isnan(adoption[muni])
    panel = pd.DataFrame(
        {
            "person_id": np.repeat(person, len(YEARS)),
            "municipality": np.repeat(101 + muni, len(YEARS)),
            "year": np.tile(YEARS, person.size),
        }
    )
    panel["first_treated"] = adoption[panel["municipality"] - 101]
    shocks = rng.normal(0, 1, (n_muni, len(YEARS)))
    truth = effect(panel["first_treated"].to_numpy(), panel["year"].to_numpy())
    panel["true_effect"] = truth
    panel["employment_weeks"] = (
        np.repeat(level, len(YEARS)) + 0.8 * (panel["year"] - YEARS[0])
        + shocks[panel["municipality"] - 101, panel["year"] - YEARS[0]] + truth + rng.normal(0, 3, len(panel))
    )
    return panel


def staggered_effect(g: np.ndarray, t: np.ndarray) -> np.ndarray:
    slope = np.array([COHORT_SLOPES.get(x, 0.0) for x in np.nan_to_num(g)])
    return np.where(~np.isnan(g) & (t >= g), slope * (1 + t - np.nan_to_num(g)), 0.0)


@pytest.fixture(scope="module")
def staggered() -> pd.DataFrame:
    """60 municipalities: 15 never adopt, 15 each adopt in 2017, 2019, 2021."""
    adoption = np.tile([np.nan, 2017.0, 2019.0, 2021.0], 15)
    return person_year_panel(adoption, staggered_effect, persons=20, seed=4)


def true_simple_att(panel: pd.DataFrame) -> float:
    """Cohort-size weighted average of the true ATT(g, t) over post-adoption cells (CS 'simple')."""
    units = panel.drop_duplicates("person_id")
    sizes = units["first_treated"].value_counts()
    cells = [(g, t) for g in COHORT_SLOPES for t in YEARS if t >= g]
    weights = np.array([sizes[g] for g, _ in cells], dtype=float)
    effects = np.array([staggered_effect(np.array([g]), np.array([t]))[0] for g, t in cells])
    return float(weights @ effects / weights.sum())


def true_event_att(panel: pd.DataFrame, e: int) -> float:
    units = panel.drop_duplicates("person_id")
    sizes = units["first_treated"].value_counts()
    cohorts = [g for g in COHORT_SLOPES if g + e <= YEARS[-1] and g + e >= YEARS[0]]
    weights = np.array([sizes[g] for g in cohorts], dtype=float)
    effects = np.array([staggered_effect(np.array([g]), np.array([g + e]))[0] for g in cohorts])
    return float(weights @ effects / weights.sum())


# -------------------------------------------------------------------------------------------- 2x2 DiD


@pytest.fixture(scope="module")
def two_by_two() -> pd.DataFrame:
    adoption = np.tile([np.nan, 2019.0], 40)
    panel = person_year_panel(adoption, lambda g, t: np.where(t >= g, 3.0, 0.0), persons=15, seed=8)
    panel = panel[panel["year"].isin([2018, 2019])].copy()
    panel["treated"] = panel["first_treated"].notna().astype(int)
    panel["post"] = (panel["year"] == 2019).astype(int)
    return panel


def test_did_2x2_recovers_the_effect_where_the_naive_contrast_does_not(two_by_two):
    result = did_2x2(two_by_two, outcome="employment_weeks", treated="treated", post="post",
                     cluster="municipality", unit="person_id")
    row = result.iloc[0]
    assert list(result.columns) == EFFECT_COLUMNS
    assert covers(row, 3.0)
    assert (row["n_treated"], row["n_control"]) == (600, 600)
    after = two_by_two[two_by_two["post"] == 1]
    naive = naive_contrast(after, outcome="employment_weeks", group="treated", cluster="municipality").iloc[0]
    assert not covers(naive, 3.0)


def test_did_2x2_is_the_difference_of_four_means(two_by_two):
    means = two_by_two.groupby(["treated", "post"])["employment_weeks"].mean()
    expected = (means[1, 1] - means[1, 0]) - (means[0, 1] - means[0, 0])
    row = did_2x2(two_by_two, outcome="employment_weeks", treated="treated", post="post", cluster="person_id").iloc[0]
    assert row["estimate"] == pytest.approx(expected, abs=1e-10)


# ------------------------------------------------------------------------------- event study and TWFE


@pytest.fixture(scope="module")
def single_start() -> pd.DataFrame:
    """Half the municipalities start in 2019; effect 1 + 0.5·(years since start)."""
    adoption = np.tile([np.nan, 2019.0], 30)
    effect = lambda g, t: np.where(t >= g, 1 + 0.5 * (t - g), 0.0)  # noqa: E731
    return person_year_panel(adoption, effect, persons=20, seed=5)


def test_event_study_recovers_dynamic_effects_and_flat_pretrends(single_start):
    result = event_study(single_start, outcome="employment_weeks", unit="person_id", time="year",
                         first_treated="first_treated", window=(-5, 4), cluster="municipality")
    assert list(result["event_time"]) == list(range(-5, 5))
    estimated = result[result["event_time"] != -1]
    truth = np.where(estimated["event_time"] >= 0, 1 + 0.5 * estimated["event_time"], 0.0)
    z = (estimated["estimate"] - truth) / estimated["std_error"]
    assert z.abs().max() < 3.5  # about a Bonferroni bound for nine coefficients
    reference = result.set_index("event_time").loc[-1]
    assert reference["estimate"] == 0 and np.isnan(reference["std_error"])


def test_twfe_recovers_a_common_start_effect(single_start):
    truth = single_start.loc[single_start["year"] >= single_start["first_treated"], "true_effect"].mean()
    row = twfe(single_start, outcome="employment_weeks", unit="person_id", time="year",
               first_treated="first_treated", cluster="municipality").iloc[0]
    assert covers(row, truth)
    assert (row["n_treated"], row["n_control"]) == (600, 600)


def test_twfe_on_an_unbalanced_panel_equals_dummy_regression(single_start):
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(0)
    units = rng.choice(single_start["person_id"].unique(), 80, replace=False)
    small = single_start[single_start["person_id"].isin(units)].sample(frac=0.8, random_state=1)
    row = twfe(small, outcome="employment_weeks", unit="person_id", time="year", first_treated="first_treated").iloc[0]
    small = small.assign(D=((small["year"] >= small["first_treated"]) & small["first_treated"].notna()).astype(float))
    dummies = smf.ols("employment_weeks ~ D + C(person_id) + C(year)", data=small).fit()
    assert row["estimate"] == pytest.approx(dummies.params["D"], abs=1e-8)


# ---------------------------------------------------------------------------------- Callaway–Sant'Anna


@pytest.mark.parametrize("control_group", ["notyet", "never"])
def test_callaway_santanna_recovers_the_att_while_twfe_is_biased(staggered, control_group):
    truth = true_simple_att(staggered)
    cs = CallawaySantAnna(control_group=control_group).fit(
        staggered, outcome="employment_weeks", unit="person_id", time="year", group="first_treated",
        cluster="municipality",
    )
    row = cs.summary().iloc[0]
    assert list(cs.summary().columns) == EFFECT_COLUMNS
    assert covers(row, truth)
    naive = twfe(staggered, outcome="employment_weeks", unit="person_id", time="year",
                 first_treated="first_treated", cluster="municipality").iloc[0]
    assert not covers(naive, truth)
    assert naive["estimate"] < truth - 2  # negative weights on the long-exposed early cohort's gains


def test_callaway_santanna_event_time_effects(staggered):
    cs = CallawaySantAnna().fit(staggered, outcome="employment_weeks", unit="person_id", time="year",
                                group="first_treated", cluster="municipality")
    event = cs.aggregate("event").set_index("event_time")
    truth = pd.Series({e: true_event_att(staggered, int(e)) if e >= 0 else 0.0 for e in event.index})
    z = (event["estimate"] - truth) / event["std_error"]
    assert z.abs().max() < 3.5
    assert event.loc[0, "n_treated"] == 900 and event.loc[6, "n_treated"] == 300  # only 2017 reaches e = 6


def test_group_time_effect_equals_the_2x2_did_on_its_cells(staggered):
    """ATT(2019, 2021) with not-yet-treated controls is the 2x2 DiD of 2019 adopters against units not
    treated by 2021, between 2018 and 2021."""
    cs = CallawaySantAnna().fit(staggered, outcome="employment_weeks", unit="person_id", time="year",
                                group="first_treated")
    cell = cs.att_gt_.set_index(["group", "time"]).loc[(2019, 2021)]
    g = staggered["first_treated"]
    sub = staggered[staggered["year"].isin([2018, 2021]) & ((g == 2019) | g.isna() | (g > 2021))]
    sub = sub.assign(treated=(sub["first_treated"] == 2019).astype(int), post=(sub["year"] == 2021).astype(int))
    did = did_2x2(sub, outcome="employment_weeks", treated="treated", post="post", cluster="person_id").iloc[0]
    assert cell["base_period"] == 2018
    assert cell["estimate"] == pytest.approx(did["estimate"], abs=1e-10)
    assert cell["std_error"] == pytest.approx(did["std_error"], rel=0.01)


def test_multiplier_bootstrap_agrees_with_analytic_and_is_seeded(staggered):
    kwargs = dict(outcome="employment_weeks", unit="person_id", time="year", group="first_treated",
                  cluster="municipality")
    analytic = CallawaySantAnna().fit(staggered, **kwargs)
    boot = CallawaySantAnna(se="bootstrap", n_boot=499, seed=1).fit(staggered, **kwargs)
    ratio = boot.att_gt_["std_error"] / analytic.att_gt_["std_error"]
    assert ratio.between(0.75, 1.3).all()
    assert boot.summary()["std_error"].iloc[0] == pytest.approx(analytic.summary()["std_error"].iloc[0], rel=0.2)
    again = CallawaySantAnna(se="bootstrap", n_boot=499, seed=1).fit(staggered, **kwargs)
    pd.testing.assert_frame_equal(boot.aggregate("event"), again.aggregate("event"))


def test_universal_base_period_has_a_zero_reference_and_flat_leads(staggered):
    cs = CallawaySantAnna(base_period="universal", control_group="never").fit(
        staggered, outcome="employment_weeks", unit="person_id", time="year", group="first_treated",
        cluster="municipality",
    )
    event = cs.aggregate("event").set_index("event_time")
    assert event.loc[-1, "estimate"] == 0 and np.isnan(event.loc[-1, "std_error"])
    leads = event[event.index < -1]
    assert (leads["estimate"].abs() / leads["std_error"]).max() < 3.5
    assert set(cs.att_gt_["base_period"]) == {2016.0, 2018.0, 2020.0}


def test_units_treated_from_the_first_period_are_dropped_with_a_warning(staggered):
    early = staggered.assign(first_treated=staggered["first_treated"].where(staggered["municipality"] != 102, 2014))
    with pytest.warns(StatisticalWarning, match="20 units first treated by the first period 2014"):
        cs = CallawaySantAnna().fit(early, outcome="employment_weeks", unit="person_id", time="year",
                                    group="first_treated")
    assert cs.n_units_ == staggered["person_id"].nunique() - 20


def test_cells_without_comparison_units_are_skipped_with_a_warning(staggered):
    treated_only = staggered[staggered["first_treated"].notna()]
    with pytest.warns(StatisticalWarning, match="have no comparison units"):
        cs = CallawaySantAnna(control_group="notyet").fit(
            treated_only, outcome="employment_weeks", unit="person_id", time="year", group="first_treated"
        )
    assert cs.att_gt_["time"].max() < 2021  # from 2021 on every unit is treated


def test_callaway_santanna_errors(staggered):
    kwargs = dict(outcome="employment_weeks", unit="person_id", time="year", group="first_treated")
    with pytest.raises(NotFittedError, match="call fit"):
        CallawaySantAnna().aggregate()
    with pytest.raises(ParameterError, match="control_group must be one of"):
        CallawaySantAnna(control_group="later").fit(staggered, **kwargs)
    with pytest.raises(DataContractError, match=r"\['adoption_year'\] not found"):
        CallawaySantAnna().fit(staggered, **{**kwargs, "group": "adoption_year"})
    with pytest.raises(DataContractError, match="must be balanced .* 1 units are not"):
        CallawaySantAnna().fit(staggered.drop(index=staggered.index[5]), **kwargs)
    with pytest.raises(DataContractError, match="one row per .* found 1 duplicates"):
        CallawaySantAnna().fit(pd.concat([staggered, staggered.iloc[[0]]]), **kwargs)
    moved = staggered.copy()
    moved.loc[moved.index[:3], "first_treated"] = 2023
    with pytest.raises(DataContractError, match="'first_treated' must be constant within each 'person_id'"):
        CallawaySantAnna().fit(moved, **kwargs)
    with pytest.raises(DataContractError, match="no unit is first treated"):
        CallawaySantAnna().fit(staggered.assign(first_treated=np.nan), **kwargs)


def test_panel_estimator_errors(staggered, two_by_two):
    with pytest.raises(DataContractError, match="marks no unit as treated"):
        twfe(staggered.assign(first_treated=0), outcome="employment_weeks", unit="person_id", time="year",
             first_treated="first_treated")
    with pytest.raises(DataContractError, match="'post' has no treated units"):
        did_2x2(two_by_two.assign(post=0), outcome="employment_weeks", treated="treated", post="post",
                cluster="municipality")
    with pytest.raises(ParameterError, match="window must be"):
        event_study(staggered, outcome="employment_weeks", unit="person_id", time="year",
                    first_treated="first_treated", window=(0, 4))
    treated_only = staggered[staggered["first_treated"].notna()]
    with pytest.raises(DataContractError, match="collinear with the fixed effects"):
        event_study(treated_only, outcome="employment_weeks", unit="person_id", time="year",
                    first_treated="first_treated", window=(-9, 6))


# --------------------------------------------------------------------------------------------- timing


def test_first_treated_per_person_and_per_municipality():
    participations = pd.DataFrame(
        {
            "person_id": [1, 1, 2, 3, 4],
            "intervention": ["IPS", "IPS", "IPS", "Housing First", "IPS"],
            "municipality": [101, 101, 101, 147, 147],
            "start_date": ["2019-03-01", "2017-11-15", "2020-01-10", "2016-05-01", "2021-06-30"],
        }
    )
    persons = first_treated(participations, intervention="IPS")
    assert persons.to_dict("list") == {"person_id": [1, 2, 4], "first_treated": [2017, 2020, 2021]}
    municipalities = first_treated(participations, by="municipality")
    assert municipalities.to_dict("list") == {"municipality": [101, 147], "first_treated": [2017, 2016]}
    with pytest.raises(DataContractError, match="no rows with 'intervention' == 'Flexstøtte'"):
        first_treated(participations, intervention="Flexstøtte")
    with pytest.raises(DataContractError, match="not dates, e.g. \\['soon'\\]"):
        first_treated(participations.assign(start_date=["soon", *participations["start_date"][1:]]))


# ------------------------------------------------------------------------------------------ R peer


R_SCRIPT = """
suppressMessages({library(sandwich)})
d <- read.csv("{path}")
m <- lm(employment_weeks ~ treated * post, data = d)
v <- vcovCL(m, cluster = ~municipality, type = "HC1")
cat(sprintf("%.12f %.12f\\n", coef(m)[["treated:post"]], sqrt(v["treated:post", "treated:post"])))
"""


@pytest.mark.reference_r
def test_did_2x2_matches_r_lm_with_sandwich_cluster_errors(two_by_two, tmp_path):
    """R: lm(employment_weeks ~ treated * post); sandwich::vcovCL(cluster = ~municipality, type = "HC1")."""
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript not installed")
    path = tmp_path / "did.csv"
    two_by_two.to_csv(path, index=False)
    run = subprocess.run(["Rscript", "-e", R_SCRIPT.replace("{path}", str(path))], capture_output=True, text=True)
    if run.returncode != 0:
        pytest.skip(f"R or sandwich unavailable: {run.stderr.strip()[:200]}")
    estimate, std_error = map(float, run.stdout.split())
    row = did_2x2(two_by_two, outcome="employment_weeks", treated="treated", post="post",
                  cluster="municipality").iloc[0]
    assert row["estimate"] == pytest.approx(estimate, rel=1e-9)
    assert row["std_error"] == pytest.approx(std_error, rel=1e-8)
