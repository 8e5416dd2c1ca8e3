"""Discrete-time transitions: known Markov chains through spells and panels, flows, comparisons."""

import numpy as np
import pandas as pd
import pytest

from progression.exceptions import DataContractError, NotFittedError, ParameterError
from progression.panel import build_panel
from progression.transitions import (
    CohortFlow,
    TransitionMatrix,
    add_person_columns,
    citizen_bootstrap,
    label_municipalities,
    transition_counts,
    transition_pairs,
)

STEPS = ["none", "SEL82", "SEL85", "SEL107", "ABL105", "SEL108"]
PARAGRAPH = {"SEL82": "SEL82b", "SEL85": "SEL85", "SEL107": "SEL107", "ABL105": "ABL105", "SEL108": "SEL108"}
#: A yearly chain over the six steps plus death (last column), rows sum to one.
P_TRUE = np.array([
    [0.80, 0.06, 0.10, 0.01, 0.01, 0.01, 0.01],
    [0.30, 0.40, 0.24, 0.03, 0.01, 0.01, 0.01],
    [0.14, 0.05, 0.70, 0.05, 0.03, 0.02, 0.01],
    [0.05, 0.02, 0.20, 0.48, 0.13, 0.10, 0.02],
    [0.02, 0.00, 0.05, 0.03, 0.83, 0.05, 0.02],
    [0.01, 0.00, 0.01, 0.01, 0.02, 0.92, 0.03],
])


def simulate_chain(n_persons, n_years, seed, p=P_TRUE, first_year=2014):
    """States per person and year (6 = dead), starting on a step; a panel-like frame, not yet spells."""
    rng = np.random.default_rng(seed)
    states = np.empty((n_persons, n_years), dtype=int)
    states[:, 0] = rng.choice([1, 2, 3, 4, 5], n_persons, p=[0.1, 0.5, 0.1, 0.2, 0.1])
    for t in range(1, n_years):
        alive = states[:, t - 1] < 6
        u = rng.random(n_persons)
        nxt = (u[:, None] > np.cumsum(p[np.minimum(states[:, t - 1], 5)], axis=1)).sum(axis=1)
        states[:, t] = np.where(alive, nxt, 6)
    return states, first_year


def chain_to_tables(states, first_year, seed):
    """Spells (one per run of a step, with random margins inside the first and last year) and deaths.

    A person who dies in the year after a run on a step keeps that step until the death date.
    """
    rng = np.random.default_rng(seed)
    rows, deaths = [], {}
    for person, path in enumerate(states, start=1):
        dead = np.flatnonzero(path == 6)
        if len(dead):
            deaths[person] = pd.Timestamp(first_year + dead[0], 1, 1) + pd.Timedelta(days=int(rng.integers(0, 360)))
        t = 0
        while t < len(path) and path[t] != 6:
            s = path[t]
            run_end = t
            while run_end + 1 < len(path) and path[run_end + 1] == s:
                run_end += 1
            if s > 0:
                start = pd.Timestamp(first_year + t, 1, 1) + pd.Timedelta(days=int(rng.integers(0, 90)))
                end = pd.Timestamp(first_year + run_end, 12, 31) - pd.Timedelta(days=int(rng.integers(0, 90)))
                if run_end + 1 < len(path) and path[run_end + 1] == 6:
                    end = deaths[person]
                elif run_end == len(path) - 1 and rng.random() < 0.5:
                    end = pd.NaT
                rows.append((person, PARAGRAPH[STEPS[s]], 101, start, end))
            t = run_end + 1
    spells = pd.DataFrame(rows, columns=["person_id", "paragraph", "municipality", "start_date", "end_date"])
    spells.insert(0, "spell_id", range(len(spells)))
    persons = pd.DataFrame({"person_id": range(1, len(states) + 1)})
    persons["death_date"] = pd.to_datetime(persons.person_id.map(deaths))
    persons["emigration_date"] = pd.NaT
    return spells, persons


def chain_panel(states, first_year, municipality=None):
    """The panel the chain implies directly (for fast statistical tests)."""
    n, t = states.shape
    person = np.repeat(np.arange(1, n + 1), t)
    year = np.tile(np.arange(first_year, first_year + t), n)
    s = states.ravel()
    dead_before = np.zeros_like(states, dtype=bool)
    dead_before[:, 1:] = states[:, :-1] == 6
    keep = ~dead_before.ravel()
    held = states.copy()  # in the year of death, the step held until death
    held[:, 1:] = np.where(states[:, 1:] == 6, states[:, :-1], states[:, 1:])
    frame = pd.DataFrame({
        "person_id": person[keep],
        "period": pd.to_datetime(year[keep].astype(str)),
        "step": pd.Categorical(np.array(STEPS)[np.minimum(held.ravel()[keep], 5)], categories=STEPS, ordered=True),
        "status": np.where(s[keep] == 6, "died", "observed"),
    })
    if municipality is not None:
        frame["municipality"] = np.repeat(municipality, t)[keep]
    frame.attrs["period"] = "year"
    return frame


@pytest.fixture(scope="module")
def chain_through_spells():
    states, first = simulate_chain(3000, 8, seed=11)
    spells, persons = chain_to_tables(states, first, seed=12)
    panel = build_panel(spells, persons, start=first, end=first + 7, period="year")
    return states, panel


def test_panel_from_spells_reproduces_the_chain(chain_through_spells):
    states, panel = chain_through_spells
    # persons enter at their first year on a step (all start on one) and die as status, never as a step
    direct = chain_panel(states, 2014)
    merged = panel.merge(direct, on=["person_id", "period"], suffixes=("", "_chain"))
    assert len(merged) == len(direct) == len(panel)
    assert (merged.step.astype(str) == merged.step_chain.astype(str)).all()
    assert (merged.status == merged.status_chain).all()


def test_recovers_known_p_within_bootstrap_intervals(chain_through_spells):
    _, panel = chain_through_spells
    tm = TransitionMatrix(n_boot=400, seed=3).fit(panel)
    prob = tm.matrix()
    truth = pd.DataFrame(P_TRUE, index=STEPS, columns=STEPS + ["died"])
    estimated = prob[STEPS + ["died"]].loc[STEPS[1:]]  # nobody starts on 'none', but many move there
    low = tm.matrix("conf_low")[STEPS + ["died"]].loc[STEPS[1:]]
    high = tm.matrix("conf_high")[STEPS + ["died"]].loc[STEPS[1:]]
    positive = truth.loc[STEPS[1:]] > 0
    covered = ((low <= truth.loc[STEPS[1:]]) & (truth.loc[STEPS[1:]] <= high))[positive]
    assert covered.to_numpy()[positive.to_numpy()].mean() >= 0.85
    # and every estimate within five bootstrap standard errors
    se = tm.matrix("std_error")[STEPS + ["died"]].loc[STEPS[1:]]
    z = ((estimated - truth.loc[STEPS[1:]]) / se)[positive]
    assert np.nanmax(np.abs(z.to_numpy())) < 5
    assert np.allclose(prob.sum(axis=1).loc[STEPS[1:]], 1)
    assert (prob[["emigrated", "moved"]] == 0).all().all()


def test_two_period_matrix_is_the_square_of_the_one_period_matrix():
    states, first = simulate_chain(20000, 6, seed=5)
    panel = chain_panel(states, first)
    tm2 = TransitionMatrix(lag=2, n_boot=300, seed=1).fit(panel)
    full = np.zeros((7, 7))
    full[:6] = P_TRUE
    full[6, 6] = 1
    p2 = (full @ full)[:6]
    est = tm2.probabilities()
    low, high = tm2.matrix("conf_low").to_numpy(), tm2.matrix("conf_high").to_numpy()
    cols = list(range(6)) + [6]
    truth = p2[1:, :]
    inside = (low[1:, cols] - 1e-12 <= truth) & (truth <= high[1:, cols] + 1e-12)
    assert inside[truth > 0.005].mean() >= 0.85
    assert np.allclose(est[1:, cols].sum(axis=1), 1)


def test_exits_drop_conditions_on_staying_observed():
    states, first = simulate_chain(5000, 4, seed=8)
    panel = chain_panel(states, first)
    kept = TransitionMatrix(exits="drop", n_boot=0).fit(panel)
    assert kept.cols_ == STEPS
    conditional = P_TRUE[:, :6] / P_TRUE[:, :6].sum(axis=1, keepdims=True)
    assert np.abs(kept.probabilities()[1:] - conditional[1:]).max() < 0.03


def test_bootstrap_is_seeded_and_resamples_citizens():
    person = np.repeat(np.arange(50), 4)
    cell = np.tile([0, 1, 1, 2], 50)
    a = citizen_bootstrap(person, cell, n_cells=3, n_boot=20, seed=4)
    b = citizen_bootstrap(person, cell, n_cells=3, n_boot=20, seed=4)
    np.testing.assert_array_equal(a, b)
    # each replicate draws 50 citizens with all four of their transitions
    np.testing.assert_array_equal(a.sum(axis=1), 200)
    np.testing.assert_array_equal(a[:, 1], 2 * a[:, 0])
    strata = np.r_[np.zeros(10, int), np.ones(40, int)]
    s = citizen_bootstrap(np.arange(50), (np.arange(50) >= 10).astype(int), n_cells=2, n_boot=30, seed=1,
                          strata=strata)
    np.testing.assert_array_equal(s, np.tile([10, 40], (30, 1)))


def test_same_seed_same_summary():
    states, first = simulate_chain(500, 5, seed=2)
    panel = chain_panel(states, first)
    one = TransitionMatrix(n_boot=200, seed=9).fit(panel).summary()
    two = TransitionMatrix(n_boot=200, seed=9).fit(panel).summary()
    pd.testing.assert_frame_equal(one, two)
    assert {"n", "n_from", "prob", "std_error", "conf_low", "conf_high", "n_persons"} <= set(one.columns)
    # n_persons counts distinct citizens behind a cell (what disclosure control needs)
    pairs = transition_pairs(panel)
    distinct = pairs.groupby(["from_step", "to"], observed=True)["person_id"].nunique()
    cells = one.set_index(["from_step", "to_step"])["n_persons"]
    assert all(cells.loc[key] == value for key, value in distinct.items())
    assert (one.n_persons <= one.n).all() and (one.n_persons < one.n).any()


def _flow_panel():
    """Six persons on SEL85 in 2020 with hand-picked fates in 2022."""
    rows = []
    fates = {1: ("SEL85", "none"), 2: ("SEL82", "SEL82"), 3: ("SEL85", "SEL85"), 4: ("SEL108", "SEL108"),
             5: ("SEL85", None), 6: ("ABL105", "SEL85")}
    for person, (y21, y22) in fates.items():
        rows.append((person, "2020-01-01", "SEL85", "observed"))
        rows.append((person, "2021-01-01", y21, "observed" if y22 else "died"))
        if y22:
            rows.append((person, "2022-01-01", y22, "observed"))
    rows.append((7, "2020-01-01", "SEL108", "observed"))  # not in the cohort
    rows.append((7, "2021-01-01", "SEL108", "observed"))
    rows.append((8, "2020-01-01", "SEL85", "observed"))   # still observed at the window end
    panel = pd.DataFrame(rows, columns=["person_id", "period", "step", "status"])
    panel["period"] = pd.to_datetime(panel.period)
    panel["step"] = pd.Categorical(panel.step, categories=STEPS, ordered=True)
    panel["municipality_set"] = np.where(panel.person_id <= 3, "case", "rest")
    panel.attrs["period"] = "year"
    return panel


def test_cohort_flow_categories_on_a_hand_built_panel():
    flow = CohortFlow(from_step="SEL85", start=2020, stop=2022, n_boot=0).fit(_flow_panel())
    got = flow.summary().set_index("category")["n"].to_dict()
    assert got == {"none": 1, "lower": 1, "same": 2, "higher": 1, "died": 1, "emigrated": 0, "moved": 0}
    assert flow.summary()["n_cohort"].unique().tolist() == [6]
    assert flow.summary().set_index("category").loc["same", "share"] == pytest.approx(2 / 6)


def test_cohort_flow_relabel_to_seed_002_categories_and_compare():
    relabel = {"none": "none_or_lower", "lower": "none_or_lower", "died": None, "emigrated": None, "moved": None}
    flow = CohortFlow(start=2020, stop=2022, relabel=relabel, n_boot=200, seed=2).fit(
        _flow_panel(), groups=["municipality_set"])
    shares = flow.summary().set_index(["municipality_set", "category"])["share"]
    assert list(flow.cols_) == ["none_or_lower", "same", "higher"]
    assert shares[("case", "none_or_lower")] == pytest.approx(2 / 3)
    assert shares[("rest", "same")] == pytest.approx(1 / 2)  # person 5 died: out of the denominator
    diff = flow.compare("municipality_set", "case", "rest").set_index("category")
    assert diff.loc["higher", "diff"] == pytest.approx(0 - 1 / 2)
    assert (diff["conf_low"] <= diff["diff"] + 1e-12).all() and (diff["diff"] <= diff["conf_high"] + 1e-12).all()


def test_group_comparison_difference_interval_covers_a_known_gap():
    """Two municipality sets with different step-down probabilities from SEL85."""
    rng = np.random.default_rng(21)
    p_case = P_TRUE.copy()
    p_case[2] = [0.20, 0.05, 0.64, 0.05, 0.03, 0.02, 0.01]
    s1, first = simulate_chain(6000, 5, seed=22, p=p_case)
    s2, _ = simulate_chain(6000, 5, seed=23)
    muni = np.r_[rng.choice([265, 169, 657, 751], 6000), rng.choice([101, 147, 461], 6000)]
    panel = chain_panel(np.vstack([s1, s2]), first, municipality=muni)
    panel["municipality_set"] = label_municipalities(panel.municipality, {"case": [265, 169, 657, 751]})
    tm = TransitionMatrix(n_boot=300, seed=5).fit(panel, groups=["municipality_set"])
    cmp = tm.compare("municipality_set", "case", "rest").set_index(["from_step", "to_step"])
    row = cmp.loc[("SEL85", "none")]
    assert row.conf_low < 0.06 < row.conf_high
    assert row.conf_low > 0  # the gap is detected
    assert {"prob_a", "prob_b"} <= set(cmp.columns)
    assert tm.matrix(municipality_set="case").loc["SEL85", "none"] == pytest.approx(row.prob_a)


def test_streamed_parquet_counts_equal_in_memory_counts(tmp_path, chain_through_spells):
    states, _ = chain_through_spells
    spells, persons = chain_to_tables(states[:400], 2014, seed=3)
    path = build_panel(spells, persons, start=2014, end=2021, period="year", output=tmp_path / "p.parquet",
                       n_chunks=3)
    panel = build_panel(spells, persons, start=2014, end=2021, period="year")
    for groups in ([], ["municipality"]):
        streamed = transition_counts(path, groups=groups, batch_size=700)
        direct = transition_counts(panel, groups=groups)
        pd.testing.assert_frame_equal(streamed, direct)
    lag2 = transition_counts(path, lag=2, batch_size=500)
    pd.testing.assert_frame_equal(lag2, transition_counts(panel, lag=2))


def test_pairs_keep_groups_of_the_origin_period():
    panel = _flow_panel()
    panel["year"] = panel.period.dt.year
    pairs = transition_pairs(panel, groups=["year"])
    # persons 1-4 and 6: two pairs each; 5 dies in 2021 (one pair, to 'died'); 7 one pair; 8 none
    assert len(pairs) == 12
    assert pairs.loc[pairs.person_id == 5, "to"].astype(str).tolist() == ["died"]
    assert pairs.loc[pairs.person_id == 1, "year"].tolist() == [2020, 2021]
    assert pairs.loc[pairs.person_id == 1, "to"].astype(str).tolist() == ["SEL85", "none"]
    lag2 = transition_pairs(panel, lag=2)
    assert lag2.loc[lag2.person_id == 5, "to"].astype(str).tolist() == ["died"]
    assert 7 not in set(lag2.person_id) and 8 not in set(lag2.person_id)


def test_add_person_columns_and_age_bands():
    panel = _flow_panel()
    persons = pd.DataFrame({"person_id": range(1, 9), "birth_year": [2000, 1990, 1970, 1950, 2001, 1960, 1980, 1985],
                            "target_group": ["sindslidelse"] * 8})
    out = add_person_columns(panel, persons, columns=["target_group"], age_bands=[18, 30, 50, 67])
    assert out.loc[(out.person_id == 1) & (out.period == "2020-01-01"), "age_band"].item() == "18-29"
    assert out.loc[out.person_id == 4, "age_band"].iloc[0] == "67+"
    assert out.attrs["period"] == "year"
    assert "birth_year" not in out.columns


def test_errors_name_the_problem():
    panel = _flow_panel()
    with pytest.raises(ParameterError, match="'SEL86'"):
        CohortFlow(from_step="SEL86", n_boot=0).fit(panel)
    bad = panel.copy()
    bad["step"] = bad["step"].astype(str).replace({"SEL108": "SEL109"})
    with pytest.raises(ParameterError, match="'SEL109'"):
        TransitionMatrix(n_boot=0).fit(bad)
    gap = panel[~((panel.person_id == 1) & (panel.period == "2021-01-01"))]
    with pytest.raises(DataContractError, match="consecutive.*person_id \\[1\\]"):
        TransitionMatrix(n_boot=0).fit(gap)
    early = panel.copy()
    early.loc[(early.person_id == 3) & (early.period == "2020-01-01"), "status"] = "moved"
    with pytest.raises(DataContractError, match="last period.*\\[3\\]"):
        TransitionMatrix(n_boot=0).fit(early)
    with pytest.raises(DataContractError, match="'target_group'"):
        TransitionMatrix(n_boot=0).fit(panel, groups=["target_group"])
    with pytest.raises(NotFittedError):
        TransitionMatrix().summary()
    with pytest.raises(ParameterError, match="exits"):
        TransitionMatrix(exits="keep", n_boot=0).fit(panel)
    tm = TransitionMatrix(n_boot=0).fit(panel, groups=["municipality_set"])
    with pytest.raises(ParameterError, match="no group"):
        tm.matrix(municipality_set="elsewhere")
    with pytest.raises(ParameterError, match="n_boot=0"):
        tm.replicates(municipality_set="case")
