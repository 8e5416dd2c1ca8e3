"""The steps of 20_transitions: disclosure-ready matrices, comparisons, cut Kaplan-Meier curves, the
multi-state model's observations and the projection's inputs, on small panels with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from progression.analyses import transitions as sa
from progression.disclosure import declaration_of, suppress
from progression.transitions.durations import km_disclosed
from progression.transitions.projection import entrants, implied_stepdown_factor, yearly_inflow
from progression.exceptions import DataContractError, ParameterError
from progression.transitions import TransitionMatrix
from test_transitions import P_TRUE, STEPS, chain_panel, simulate_chain


def panel_of(paths: dict[int, list[str]], first_year: int = 2020, municipality: int = 101) -> pd.DataFrame:
    """A yearly panel from step paths (a trailing 'died' marks the last year as a death)."""
    rows = []
    for person, path in paths.items():
        died = path[-1] == "died"
        steps = path[:-1] if died else path
        for k, step in enumerate(steps):
            status = "died" if died and k == len(steps) - 1 else "observed"
            rows.append((person, pd.Timestamp(first_year + k, 1, 1), step, municipality, status))
    frame = pd.DataFrame(rows, columns=["person_id", "period", "step", "municipality", "status"])
    frame["step"] = pd.Categorical(frame["step"], categories=STEPS, ordered=True)
    frame.attrs["period"] = "year"
    return frame


def test_summary_describes_empty_cells_by_their_row_and_hides_a_second_cell():
    """Row SEL85: 12 stay, 2 go to none, nobody anywhere else. The 'none' cell (2 persons) is hidden, and
    so is the next smallest cell of the row (the stayers), while the empty cells show a zero."""
    paths = {i: ["SEL85", "SEL85"] for i in range(1, 13)} | {13: ["SEL85", "none"], 14: ["SEL85", "none"]}
    panel = panel_of(paths)
    table = TransitionMatrix(n_boot=0).fit(panel).summary()
    row = table[table["from_step"] == "SEL85"].set_index("to_step")
    assert row["n_persons_from"].unique().tolist() == [14]
    assert row.loc["none", "n_described"] == 2 and row.loc["SEL85", "n_described"] == 12
    assert row.loc["SEL108", "n_described"] == 14  # empty: describes the row
    safe, report = suppress(table, table_name="m", min_cell_size=5)
    shown = safe[safe["from_step"] == "SEL85"].set_index("to_step")
    assert shown.loc[["none", "SEL85"], ["prob", "n", "n_persons", "n_described"]].isna().all().all()
    assert (shown.drop(index=["none", "SEL85"])["prob"] == 0).all()
    assert shown.loc["SEL108", "n_from"] == 14
    assert report.primary == 1 and report.secondary == 1


def test_case_vs_rest_hides_the_difference_wherever_either_group_is_hidden():
    states, first = simulate_chain(3000, 6, seed=5)
    panel = chain_panel(states, first, municipality=np.where(np.arange(3000) < 300, 265, 101))
    panel = panel.assign(municipality_set=np.where(panel["municipality"] == 265, "case", "rest"))
    table, fitted = sa.matrices_by(panel, ["municipality_set"], n_boot=200, seed=1)
    shown, _ = suppress(table, table_name="g", min_cell_size=5)
    diff = sa.case_vs_rest(fitted["municipality_set"], table, shown, by="municipality_set", a="case", b="rest")
    assert declaration_of(diff).stats["diff"] == ("n_described",)
    side = {g: shown[shown["group"] == g].set_index(["from_step", "to_step"])["prob"] for g in ("case", "rest")}
    keyed = diff.set_index(["from_step", "to_step"])
    either = (side["case"].isna() | side["rest"].isna()).reindex(keyed.index).to_numpy()
    assert either.any() and keyed["diff"].isna().to_numpy()[either].all()
    ok = ~keyed["diff"].isna()
    np.testing.assert_allclose(keyed.loc[ok, "diff"], keyed.loc[ok, "prob_a"] - keyed.loc[ok, "prob_b"])
    # both groups follow the same chain: the stayers' differences are small and their intervals cover zero
    stay = keyed[(keyed.index.get_level_values(0) == keyed.index.get_level_values(1)) & ok]
    assert (stay["conf_low"] <= 0).mean() >= 0.6 and (stay["conf_high"] >= 0).mean() >= 0.6
    assert set(diff["n_described"].dropna()) and (diff["n_described"] >= 0).all()


def test_km_disclosed_cuts_each_curve_at_its_first_small_count():
    km = pd.DataFrame({
        "step": ["a"] * 4 + ["b"] * 3,
        "time": [1, 2, 3, 4, 1, 2, 3],
        "n_at_risk": [100, 60, 30, 10, 50, 40, 30],
        "n_events": [40, 30, 3, 5, 10, 10, 0],
        "n_censored": [0, 0, 17, 5, 0, 10, 30],
        "survival": [0.6, 0.3, 0.27, 0.135, 0.8, 0.6, 0.6],
    })
    out = km_disclosed(km, by=["step"], min_cell_size=5)
    assert out.groupby("step")["time"].max().to_dict() == {"a": 2, "b": 3}
    summary = sa.km_summary(out.assign(years=out["time"]), by=["step"], years=(1, 3))
    assert summary.set_index("step")["median_years"].to_dict() == {"a": 2.0, "b": pytest.approx(np.nan, nan_ok=True)}
    assert np.isnan(summary.set_index("step").loc["a", "survival_3y"])  # beyond the cut curve
    assert summary.set_index("step").loc["b", "survival_3y"] == 0.6


def test_ctmc_data_takes_the_covariates_of_the_interval_that_follows():
    """Observed at the end of 2020, 2021, 2022; the municipality turns recovery-oriented in 2022, so the
    interval 2021-end -> 2022-end is the first with the covariate on."""
    snapshots = panel_of({1: ["SEL85", "SEL85", "SEL107"], 2: ["SEL85", "none", "SEL85", "died"], 3: ["SEL108"]})
    persons = pd.DataFrame({"person_id": [1, 2, 3], "birth_year": [1980, 1990, 1970], "severity": [3, 1, 2],
                            "target_group": ["sindslidelse", "kognitivt_handicap", "begge"], "sex": ["K", "M", "K"]})
    municipalities = pd.DataFrame({"municipality": [101], "recovery_start_year": pd.array([2022], dtype="Int64")})
    data = sa.ctmc_data(snapshots, persons, covariates=["age", "severity", "target_group", "recovery_oriented"],
                        start_year=2020, end_year=2022, municipalities=municipalities)
    assert data["person_id"].tolist() == [1, 1, 1, 2, 2]  # person 2's death year and single-row person 3 dropped
    assert data["time"].tolist() == [2021.0, 2022.0, 2023.0, 2021.0, 2022.0]
    assert data["state"].tolist() == ["SEL85", "SEL85", "SEL107", "SEL85", "none"]
    np.testing.assert_allclose(data["age10"], [(2021 - 1980.5 - 40) / 10, (2022 - 1980.5 - 40) / 10,
                                               (2023 - 1980.5 - 40) / 10, (2021 - 1990.5 - 40) / 10,
                                               (2022 - 1990.5 - 40) / 10])
    assert data["severity"].tolist() == [1.0, 1.0, 1.0, -1.0, -1.0]
    assert data["recovery_oriented"].tolist() == [0.0, 1.0, 1.0, 0.0, 1.0]
    assert list(data["target_group"].cat.categories) == ["kognitivt_handicap", "sindslidelse"]
    with pytest.raises(DataContractError, match="needs the table 'municipalities'"):
        sa.ctmc_data(snapshots, persons, covariates=["recovery_oriented"], start_year=2020, end_year=2022)
    with pytest.raises(ParameterError, match="unknown"):
        sa.ctmc_data(snapshots, persons, covariates=["income"], start_year=2020, end_year=2022)


def test_ctmc_qmatrix_connects_neighbours_and_frequent_jumps_only():
    states, first = simulate_chain(2000, 6, seed=3)
    panel = chain_panel(states, first)
    data = pd.DataFrame({"person_id": panel["person_id"], "time": panel["period"].dt.year + 1.0,
                         "state": panel["step"].astype(str)})[panel["status"] == "observed"]
    data = data[data.groupby("person_id")["person_id"].transform("size") > 1]
    q = sa.ctmc_qmatrix(data, min_moves=60, staircase=None)
    assert list(q.index) == STEPS
    position = {s: i for i, s in enumerate(STEPS)}
    moves = pd.crosstab(data.groupby("person_id")["state"].shift(), data["state"])
    for r in STEPS:
        for s in STEPS:
            if r == s:
                continue
            allowed = q.loc[r, s] > 0
            neighbours = abs(position[r] - position[s]) == 1
            frequent = moves.reindex(index=STEPS, columns=STEPS, fill_value=0).loc[r, s] >= 60
            assert allowed == (neighbours or frequent), (r, s)
    np.testing.assert_allclose(q.sum(axis=1), 0, atol=1e-12)


def test_implied_stepdown_factor_and_inflow():
    p = pd.DataFrame(P_TRUE[:, :6], index=STEPS, columns=STEPS)
    lower = np.tril(np.ones((6, 6), dtype=bool), k=-1)
    doubled = p.where(~lower, 2 * p)
    stock = pd.Series([100, 50, 400, 80, 120, 60], index=STEPS)
    assert implied_stepdown_factor(doubled, p, stock) == pytest.approx(2.0)
    new = pd.DataFrame({"year": [2022, 2022, 2023, 2023, 2024], "step": ["SEL85", "SEL82", "SEL85", "SEL108",
                                                                              "SEL85"],
                             "n": [10, 4, 20, 2, 30], "n_young": [3, 0, 5, 1, 6]})
    inflow = yearly_inflow(new, years=[2023, 2024])
    assert inflow.to_dict() == {"none": 0.0, "SEL82": 0.0, "SEL85": 25.0, "SEL107": 0.0, "ABL105": 0.0,
                                "SEL108": 1.0}
    with pytest.raises(ParameterError, match="no entrants"):
        yearly_inflow(new, years=[2019])


def test_entrants_count_new_citizens_and_the_young():
    panel = panel_of({1: ["SEL85", "SEL85"], 2: ["none", "SEL85", "SEL108"], 3: ["SEL82"]}, first_year=2020)
    panel = panel[~((panel["person_id"] == 2) & (panel["period"].dt.year == 2020))]  # person 2 enters in 2021
    panel = pd.concat([panel, panel_of({4: ["SEL107"]}, first_year=2022)], ignore_index=True)
    persons = pd.DataFrame({"person_id": [1, 2, 3, 4], "birth_year": [1980, 2003, 1990, 1950]})
    table = entrants(panel, persons).set_index(["year", "step"])
    assert table.loc[(2021, "SEL85"), "n"] == 1 and table.loc[(2021, "SEL85"), "n_young"] == 1  # aged 18
    assert table.loc[(2022, "SEL107"), "n"] == 1 and table.loc[(2022, "SEL107"), "n_young"] == 0
    assert table["n"].sum() == 2  # persons 1 and 3 are the first year's stock


def test_analysis_panel_keeps_the_window_and_labels_groups():
    panel = panel_of({1: ["SEL85"] * 6, 2: ["SEL82", "none", "SEL85", "SEL85"]}, first_year=2012, municipality=265)
    persons = pd.DataFrame({"person_id": [1, 2], "birth_year": [1997, 1960],
                            "target_group": ["begge", "sindslidelse"]})
    out = sa.analysis_panel(panel, persons, start_year=2014, end_year=2030, case_municipalities=[265],
                            age_bands=[18, 30, 50])
    assert out["year"].min() == 2014 and out["year"].max() == 2017
    assert set(out["municipality_set"]) == {"case"}
    bands = out.set_index(["person_id", "year"])["age_band"].astype(str)
    assert bands[(1, 2014)] == "under 18" and bands[(1, 2015)] == "18-29" and bands[(2, 2014)] == "50+"
    with pytest.raises(ParameterError, match="no panel rows"):
        sa.in_years(panel, 2030, 2031)


@pytest.fixture(scope="module")
def example_panel():
    from progression.datasets import load_example

    return sa.analysis_panel(load_example("panel_year"), load_example("persons"), start_year=2014, end_year=2024,
                             case_municipalities=[265, 169, 657, 751], age_bands=[18, 30, 50, 67])


@pytest.mark.filterwarnings("ignore:n_boot=")
def test_projection_starts_from_the_stock_and_counts_the_young_from_the_counts(example_panel):
    from progression.datasets import load_example

    persons = load_example("persons")
    out = sa.project_staircase(example_panel, persons, base_years=3, years=2, stepdown_scenario=1.2, n_boot=20, seed=1)
    first = out.occupancy[out.occupancy["year"] == 2024]
    assert np.allclose(first["n"], first["n_stock"]) and set(first["scenario"]) == {
        "baseline", "step-down x 1.2", "as the case municipalities"}
    new = entrants(example_panel, persons)
    recent = new[new["year"] > 2021]
    assert out.inputs["inflow_young_share"] == pytest.approx(recent["n_young"].sum() / recent["n"].sum())
    assert out.inputs["stock_on_steps"] == first.loc[first["scenario"] == "baseline", "n_stock"].sum() - \
        first.loc[(first["scenario"] == "baseline") & (first["state"] == "none"), "n_stock"].sum()
    assert declaration_of(out.inputs).safe == ("stepdown_scenario", "implied_case_stepdown_factor")
    assert declaration_of(out.occupancy).stats["conf_high"] == ("n_stock",)


@pytest.mark.filterwarnings("ignore:n_boot=")
def test_duration_steps_are_cut_and_declared(example_panel):
    on_step = sa.time_on_step_by(example_panel, [None, "municipality_set"], min_cell_size=5)
    counts = on_step[["n_at_risk", "n_events", "n_censored"]]
    assert not ((counts > 0) & (counts < 5)).any().any()
    assert set(on_step["grouping"]) == {"all", "municipality_set"}
    assert declaration_of(on_step).labels == ("time", "years")
    shares = sa.reentry_shares_by(example_panel, horizons=[1, 2], n_boot=20, seed=3)
    assert shares["municipality_set"].tolist()[:2] == ["all", "all"]
    assert declaration_of(shares).stats["share"] == ("n_persons",)
