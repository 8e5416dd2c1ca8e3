"""20_transitions on the CI chain run: results exist, probabilities add up, disclosure holds, and the
multi-state model converged and covers the generating truth where the two are comparable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from progression.config import load_params
from progression.schemas import PERSON_ID_COLUMNS

pytestmark = pytest.mark.notebooks

#: Table -> its columns counting persons (or episodes), which disclosure control must have kept at 0 or >= min.
PERSON_COUNTS = {
    "stock_by_year": ["n_persons"],
    "matrix": ["n_described", "n_persons", "n_persons_from"],
    "by_group": ["n_described", "n_persons", "n_persons_from"],
    "case_vs_rest": ["n_described"],
    "flow_case_vs_rest": ["n_cohort_a", "n_cohort_b", "n_described"],
    "time_on_step": ["n_at_risk", "n_events", "n_censored"],
    "time_on_step_summary": ["n_episodes"],
    "reentry_curve": ["n_at_risk", "n_events", "n_censored"],
    "reentry_shares": ["n_episodes", "n_persons"],
    "entrants": ["n", "n_young"],
    "projection": ["n_stock"],
}
MODEL_TABLES = ("ctmc_intensities", "ctmc_hazard_ratios", "ctmc_sojourn", "ctmc_pnext", "ctmc_pmatrix",
                "ctmc_totlos", "ctmc_truth")
FIGURES = ("matrix", "case_vs_rest", "alluvial", "ctmc_sojourn", "ctmc_hazard_ratios", "ctmc_truth", "km",
           "projection")


def result(run: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(run / "results" / f"transitions_{name}.csv")


def numbers(run: Path, name: str) -> dict:
    return json.loads((run / "results" / f"transitions_{name}.json").read_text())


@pytest.fixture(scope="module")
def min_n(ci_run: Path) -> int:
    return load_params(ci_run / "params.yaml").disclosure.min_cell_size


@pytest.fixture(scope="module")
def truth(ci_run: Path) -> dict:
    return json.loads((ci_run / "data" / "truth.json").read_text())


def test_tables_figures_and_report_items_exist(ci_run):
    for name in [*PERSON_COUNTS, *MODEL_TABLES]:
        assert len(result(ci_run, name)) > 0, name
    for name in FIGURES:
        assert (ci_run / "figures" / f"transitions_{name}.png").stat().st_size > 10_000, name
    items = json.loads((ci_run / "report_items.json").read_text())
    assert sum(i["section"] == "20_transitions" for i in items) >= 25
    assert "Step transitions on the indsatstrappe" in (ci_run / "report.html").read_text()
    logged = json.loads((ci_run / "disclosure.json").read_text())
    assert {f"transitions_{name}" for name in [*PERSON_COUNTS, *MODEL_TABLES]} <= set(logged)


@pytest.mark.parametrize("name, keys, min_complete", [("matrix", [], 2), ("by_group", ["grouping", "group"], 5)])
def test_rows_of_probabilities_sum_to_one_where_not_suppressed(ci_run, name, keys, min_complete):
    table = result(ci_run, name)
    complete = 0
    for _, row in table.groupby([*keys, "from_step"], sort=False):
        hidden = row["prob"].isna()
        if row["n_persons_from"].isna().all():  # the whole row rests on too few persons
            assert hidden.all()
            continue
        assert hidden.sum() != 1, "one hidden cell of a row could be recovered from the others"
        if not hidden.any():
            complete += 1
            assert row["prob"].sum() == pytest.approx(1.0, abs=1e-9)
            assert row["n"].sum() == row["n_from"].iloc[0]
        else:
            assert row["prob"].sum() <= 1.0 + 1e-9
    assert complete >= min_complete  # rows with nothing hidden, where the sums are checked
    shown = table.dropna(subset=["prob", "conf_low", "conf_high"])
    assert ((shown["conf_low"] <= shown["prob"] + 1e-12) & (shown["prob"] <= shown["conf_high"] + 1e-12)).all()


def test_counts_respect_the_minimum_cell_size(ci_run, min_n):
    for name, columns in PERSON_COUNTS.items():
        table = result(ci_run, name)
        assert not {c.lower() for c in table.columns} & PERSON_ID_COLUMNS, name
        for column in columns:
            values = table[column].dropna()
            assert ((values == 0) | (values >= min_n)).all(), (name, column, sorted(values[values < min_n])[:5])
    # a probability is shown only when the persons it describes are
    for name in ("matrix", "by_group"):
        table = result(ci_run, name)
        assert table.loc[table["n_described"].isna(), ["prob", "n", "n_persons", "conf_low"]].isna().all().all()
        suppressed = json.loads((ci_run / "disclosure.json").read_text())[f"transitions_{name}"]
        assert suppressed["primary"] > 0 and suppressed["secondary"] > 0  # the ci data have small cells to hide
    # each Kaplan-Meier curve stops before its first small count, so no later step can reveal one
    for name, key in (("time_on_step", ["grouping", "group", "step"]), ("reentry_curve", ["left_step"])):
        for _, curve in result(ci_run, name).groupby(key):
            assert curve[["n_at_risk", "n_events", "n_censored"]].notna().all().all()
            assert (np.diff(curve["survival"].to_numpy()) <= 1e-12).all()


def test_multistate_model_converged(ci_run):
    fit = numbers(ci_run, "ctmc_fit")
    assert fit["converged"] is True
    terms = fit["covariate_terms"].split(", ")
    assert terms == ["age10", "severity", "target_group[sindslidelse]", "target_group[begge]", "recovery_oriented"]
    assert fit["n_parameters"] == fit["n_allowed_transitions"] * (1 + len(terms))
    assert fit["n_subjects"] > 1000 and fit["n_intervals"] > fit["n_subjects"]
    sojourn = result(ci_run, "ctmc_sojourn")
    assert (sojourn["conf_low"] < sojourn["estimate"]).all() and (sojourn["estimate"] < sojourn["conf_high"]).all()


def test_multistate_model_covers_the_truth_where_comparable(ci_run, truth):
    """The step held at the end of each year, with age, severity, target group and recovery orientation."""
    table = result(ci_run, "ctmc_truth")
    process = truth["process"]
    base = table[table["term"] == "baseline"]
    for row in base.itertuples():
        assert row.truth == pytest.approx(process["baseline_q_per_year"][row.from_state].get(row.to_state, 0.0))
    severity = table[(table["term"] == "severity") & (table["from_state"] == "SEL85") & (table["to_state"] == "none")]
    assert severity["truth"].item() == pytest.approx(np.exp(process["coefficients_log_hr"]["down"]["severity"]))

    comparable = table[table["comparable"].astype(bool)]
    intensities = comparable[comparable["term"] == "baseline"]
    ratios = comparable[comparable["term"] != "baseline"]
    assert len(intensities) >= 5 and len(ratios) >= 20
    assert intensities["covered"].mean() >= 0.8
    assert ratios["covered"].mean() >= 0.85
    assert (intensities["conf_high"] / intensities["conf_low"] < 3).all()  # intervals that say something
    coverage = numbers(ci_run, "ctmc_coverage")
    assert coverage["intensity_n_covered"] == intensities["covered"].sum()

    # not comparable for a reason: entries from "no service" are diluted by those who left for good
    entries = base[(base["from_state"] == "none") & base["estimate"].notna()]
    assert len(entries) and (entries["estimate"] < entries["truth"] / 2).all()


def test_flow_comparison_agrees_with_the_data_overview(ci_run):
    ours = result(ci_run, "flow_case_vs_rest").set_index("category")
    overview = pd.read_csv(ci_run / "results" / "flow_from_sel85.csv").set_index(["group", "category"])["share"]
    for side, group in (("a", "case"), ("b", "rest")):
        both = pd.concat([ours[f"share_{side}"], overview.xs(group)], axis=1, join="inner").dropna()
        assert len(both) and np.allclose(both.iloc[:, 0], both.iloc[:, 1])
    shown = ours.dropna(subset=["diff"])
    assert np.allclose(shown["diff"], shown["share_a"] - shown["share_b"])
    assert ((shown["conf_low"] <= shown["diff"]) & (shown["diff"] <= shown["conf_high"])).all()


def test_projection_starts_from_the_stock_and_the_scenario_steps_down(ci_run):
    projection = result(ci_run, "projection")
    first = projection[projection["year"] == projection["year"].min()].dropna(subset=["n"])
    assert np.allclose(first["n"], first["n_stock"]) and np.allclose(first["conf_low"], first["conf_high"])
    shown = projection.dropna(subset=["n"])
    assert ((shown["conf_low"] <= shown["n"] + 1e-6) & (shown["n"] <= shown["conf_high"] + 1e-6)).all()
    last = projection[projection["year"] == projection["year"].max()]
    botilbud = last[last["state"].isin(["SEL107", "ABL105", "SEL108"])].groupby("scenario")["n"].sum()
    scaled = next(s for s in botilbud.index if s.startswith("step-down"))
    assert botilbud[scaled] < botilbud["baseline"]
    inputs = numbers(ci_run, "projection_inputs")
    assert inputs["inflow_per_year"] > 0 and 0 < inputs["inflow_young_share"] < 1
    assert inputs["implied_case_stepdown_factor"] > 0


def test_reentry_shares_grow_with_the_horizon(ci_run):
    shares = result(ci_run, "reentry_shares").dropna(subset=["share"])
    assert ((shares["conf_low"] <= shares["share"]) & (shares["share"] <= shares["conf_high"])).all()
    for _, group in shares.groupby("municipality_set"):
        assert group.sort_values("horizon_years")["share"].is_monotonic_increasing
