"""50_payment_models on the CI chain: the results exist as the issue names them, add up, match their references
and the synthetic truth, and nothing person-level leaves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from progression.chain.run_context import collect_report_items
from progression.config import load_params
from progression.disclosure import assert_disclosed
from progression.payment import MODELS

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("inputs", "support_levels", "group_tariffs", "homogeneity", "paths", "models", "progression_penalty",
          "scenarios", "municipalities", "reference_checks", "conservation", "projection_check", "truth_backtest")
FIGURES = ("paths", "net_cost", "horizon", "penalty", "scenarios", "municipalities")


@pytest.fixture(scope="module")
def payment_run(tmp_path_factory) -> Path:
    """The ci chain with the notebooks 50_payment_models needs (the session's ``ci_run`` runs them all; this
    module runs only these so that it does not depend on notebooks under conversion)."""
    from progression.chain.runner import run_chain

    out = tmp_path_factory.mktemp("payment_runs")
    params = out / "ci.yaml"
    params.write_text(f"extends: {ROOT / 'params' / 'ci.yaml'}\nrun:\n  output_dir: {out}\n"
                      "  notebooks: [00_data, 50_payment_models, 90_report]\n")
    return run_chain(params, progress=False).run_dir


def result(run: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(run / "results" / f"payment_{name}.csv", keep_default_na=True)


def test_tables_figures_and_report_section_exist(payment_run):
    for name in TABLES:
        assert len(result(payment_run, name)) > 0, name
    for name in FIGURES:
        assert (payment_run / "figures" / f"payment_{name}.png").stat().st_size > 10_000, name
    section = [i for i in collect_report_items(payment_run) if i["section"] == "50_payment_models"]
    assert len(section) >= 19 and sum(i["kind"] == "text" for i in section) == 3
    assert "Payment models for botilbud" in (payment_run / "report.html").read_text()


def test_payment_models_is_shaped_as_the_issue_names_it(payment_run):
    table = result(payment_run, "models")
    params = load_params(payment_run / "params.yaml").payment
    assert {"model", "payer", "year", "estimate", "conf_low", "conf_high"} <= set(table.columns)
    assert set(table["model"]) == set(MODELS)
    years = sorted(set(table["year"].astype(str)) - {"total"})
    assert len(years) == params.horizon_years and "total" in set(table["year"].astype(str))
    national = table[(table["area"] == "national") & (table["year"].astype(str) == "total")]
    assert (national["conf_low"] <= national["estimate"] + 1e-3).all()
    assert (national["estimate"] <= national["conf_high"] + 1e-3).all()
    net = national[national["item"] == "net_cost"].set_index("model")["estimate"]
    assert (net > 0).all()


def test_penalty_per_day_positive_objective_zero_and_neutral_bonus(payment_run):
    pen = result(payment_run, "progression_penalty")
    assert {"model", "estimate", "conf_low", "conf_high"} <= set(pen.columns)
    per_event = pen[(pen["event"] == "any") & (pen["quantity"] == "revenue_lost_per_event")].set_index("model")
    for model in ("activity_average", "activity_differentiated", "group_tariff"):
        assert per_event.loc[model, "conf_low"] > 0, model
    assert per_event.loc["objective", "estimate"] == 0 and per_event.loc["special_places_80_20", "estimate"] == 0
    assert abs(per_event.loc["result_based", "estimate"]) < 1.0
    bonus = pen[(pen["quantity"] == "neutral_bonus") & (pen["event"] == "any")].set_index("model")["estimate"]
    assert bonus["activity_differentiated"] > bonus["activity_average"] > 0


def test_identities_checks_and_projection(payment_run):
    cons = result(payment_run, "conservation")
    assert (cons["difference"].abs() < 1e-3).all() and (cons["net_identity"].abs() < 1e-3).all()
    checks = result(payment_run, "reference_checks")
    assert (checks["difference"].abs() <= 1e-6 * checks["reference"].abs().clip(lower=1)).all()
    proj = result(payment_run, "projection_check")
    assert (proj["difference"].abs() < 1e-6).all()


def test_known_truth_of_the_synthetic_data(payment_run):
    table = result(payment_run, "truth_backtest")
    cost = table[table["quantity"].str.startswith("gross cost")]
    assert (cost["relative_difference"].abs() < 0.03).all()
    citizens = table[table["quantity"].str.startswith("citizens")]
    assert (citizens["relative_difference"].abs() < 0.12).all()


def test_scenarios_are_labelled_assumptions_and_add_up(payment_run):
    scen = result(payment_run, "scenarios").set_index(["scenario", "quantity"])["estimate"]
    first = scen.index.get_level_values(0)[0]
    assert scen[(first, "saving_after_bonuses")] == pytest.approx(
        scen[(first, "saving_before_bonuses")] - scen[(first, "bonuses_for_extra_events")], rel=1e-6)
    items = [i for i in collect_report_items(payment_run) if i.get("name") == "payment_scenarios"]
    assert "ASSUMPTIONS" in items[0]["caption"]


def test_nothing_person_level_leaves(payment_run):
    min_n = load_params(payment_run / "params.yaml").disclosure.min_cell_size
    for name in TABLES:
        table = result(payment_run, name)
        counts = [c for c in table.columns if c.startswith("n_") or c in ("n", "smallest_group")]
        assert_disclosed(table, table=name, min_cell_size=min_n, count_cols=counts)
    munis = result(payment_run, "municipalities")
    small = munis["n_persons"].isna()
    assert munis.loc[small, ["estimate", "conf_low", "conf_high"]].isna().all().all()
    log = json.loads((payment_run / "log" / "50_payment_models" / "disclosure.json").read_text())
    assert "_refused" not in log and {f"payment_{t}" for t in TABLES} <= set(log)


def test_a_rerun_is_up_to_date(payment_run):
    from progression.chain.runner import run_chain

    again = run_chain(payment_run / "params.yaml", run_dir=payment_run, progress=False)
    assert again.executed == [] and "50_payment_models" in again.skipped
    assert np.isfinite(result(payment_run, "models")["estimate"]).any()
