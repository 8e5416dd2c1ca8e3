"""45_pilot_design on the CI chain run: results exist, the closed forms match their references, the
simulation matches the closed forms, the planner and the payment rules add up, nothing person-level leaves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from progression.chain.run_context import collect_report_items
from progression.config import load_params

pytestmark = pytest.mark.notebooks

TABLES = ("inputs", "reference_checks", "simulation_checks", "mde", "power_curves", "plan", "resource_shift",
          "payment_rules", "bonus")
FIGURES = ("simulation_check", "mde", "power_curves", "resource_shift", "payment_rules")


def result(run: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(run / "results" / f"design_{name}.csv")


def test_tables_figures_and_report_items_exist(ci_run):
    for name in TABLES:
        assert len(result(ci_run, name)) > 0, name
    for name in FIGURES:
        assert (ci_run / "figures" / f"design_{name}.png").stat().st_size > 10_000, name
    items = collect_report_items(ci_run)
    section = [i for i in items if i["section"] == "45_pilot_design"]
    assert len(section) >= 15 and sum(i["kind"] == "text" for i in section) == 2
    assert "Designing the fund" in (ci_run / "report.html").read_text()


def test_inputs_describe_98_municipalities_and_are_disclosed(ci_run):
    inputs = result(ci_run, "inputs")
    params = load_params(ci_run / "params.yaml")
    assert list(inputs["outcome"]) == params.design.outcomes
    assert (inputs["n_municipalities"] == 98).all()
    assert (inputs["n_persons"] >= params.disclosure.min_cell_size).all()
    assert (inputs["icc_planning"] >= params.design.min_icc).all()
    assert inputs["baseline_rate"].between(0, 1).all()


def test_closed_forms_match_their_references(ci_run):
    checks = result(ci_run, "reference_checks")
    assert (checks["difference"].abs() < 5e-5).all()
    assert set(checks["source"]) == {"SteppedPower vignette 5.1", "SteppedPower vignette 5.2",
                                     "SteppedPower vignette 4.2", "independent GLS computation"}


def test_simulation_agrees_with_the_closed_forms(ci_run):
    checks = result(ci_run, "simulation_checks")
    closed = checks.dropna(subset=["closed_form_power"])
    assert len(closed) >= 4
    gap = (closed["power"] - closed["closed_form_power"]).abs()
    assert (gap <= 4 * closed["power_mc_se"] + 0.02).all(), checks
    assert (checks["bias"].abs() < 3 * checks["empirical_se"] / np.sqrt(checks["n_sims"]) + 1e-3).all()
    staggered = checks[checks["scenario"].str.startswith("staggered")]
    assert set(staggered["estimator"]) == {"twfe", "callaway_santanna"}
    assert (staggered["n_municipalities"] == 98).all()


def test_planner_tables(ci_run):
    mde = result(ci_run, "mde")
    for _, part in mde.groupby(["outcome", "design"]):
        assert part.sort_values("n_municipalities")["mde"].is_monotonic_decreasing
    curves = result(ci_run, "power_curves")
    for _, part in curves.groupby(["outcome", "design"]):
        assert part.sort_values("relative_effect")["power"].is_monotonic_increasing
    plan = result(ci_run, "plan")
    assert set(plan["level"]) == {"project", "model", "model_vs_model"}
    assert (plan["municipalities_needed_per_arm"] >= 2).all()
    shift = result(ci_run, "resource_shift")
    assert shift.groupby("period")["net_dkk"].sum().abs().max() < 1.0
    assert (shift.groupby("period")["n_municipalities"].sum() == 98).all()


def test_payment_rules_show_their_trade_offs(ci_run):
    rules = result(ci_run, "payment_rules").set_index(["rule", "scenario"])
    assert len(rules) == 12
    assert rules.loc[("rate card", "no_effect"), "p_paying"] > 0.9
    assert rules.loc[("pooled + credibility", "no_effect"), "mean_payment_dkk"] < \
        rules.loc[("rate card", "no_effect"), "mean_payment_dkk"]
    assert rules.loc[("pooled + credibility", "effect"), "p_budget_neutral"] > \
        rules.loc[("rate card", "effect"), "p_budget_neutral"]
    bonus = result(ci_run, "bonus")
    assert (bonus["mean_bonus_dkk"] <= bonus["yearly_cap_dkk"]).all()
    null = bonus[(bonus["true_change"] == 0) & (bonus["min_fall_z"] == 0)].iloc[0]
    assert null["share_paid"] == pytest.approx(0.5, abs=0.05) and null["mean_true_saving_dkk"] == 0


def test_key_numbers_come_from_the_tables(ci_run):
    key = json.loads((ci_run / "results" / "design_key_numbers.json").read_text())
    plan = result(ci_run, "plan")
    first = plan[plan["outcome"] == plan["outcome"].iloc[0]].set_index("level")
    assert key["project_mde_relative"] == pytest.approx(first.loc["project", "mde_relative"], rel=1e-8)
