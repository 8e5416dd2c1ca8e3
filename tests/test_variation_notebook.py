"""30_spending_variation on the CI chain run: results exist, recover the synthetic truth, and add up."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from progression.config import load_params
from progression.variation import SEED004_REPORTED

pytestmark = pytest.mark.notebooks

TABLES = ("spending", "spending_summary", "fit", "coefficients", "influence", "influence_refits", "shapley",
          "between_within", "icc", "benchmark", "funnel", "benchmark_outside", "unit_cost", "seed004")
FIGURES = ("spending_by_municipality", "shapley", "benchmark", "unit_cost")
AREAS = ("adults", "children")


def result(run: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(run / "results" / f"variation_{name}.csv")


@pytest.fixture(scope="module")
def truth(ci_run: Path) -> dict:
    return json.loads((ci_run / "data" / "truth.json").read_text())


def test_tables_figures_and_report_items_exist(ci_run):
    for name in TABLES:
        assert len(result(ci_run, name)) > 0, name
    for name in FIGURES:
        assert (ci_run / "figures" / f"variation_{name}.png").stat().st_size > 10_000, name
    items = json.loads((ci_run / "report_items.json").read_text())
    assert sum(i["section"] == "30_spending_variation" for i in items) >= 12
    assert "Spending variation between municipalities" in (ci_run / "report.html").read_text()
    texts = [i["caption"] for i in items if i["section"] == "30_spending_variation" and i["kind"] == "text"]
    assert any("calibrated" in t and "no reproduction" in t for t in texts)  # synthetic R² are calibration targets


def test_explained_share_interval_covers_the_generating_r2(ci_run, truth):
    rows = result(ci_run, "seed004").set_index(["area", "quantity"])
    for area in AREAS:
        share = rows.loc[(area, "explained_share")]
        target = truth["spending"][area]["r2_target"]
        assert share["truth"] == pytest.approx(target)
        assert share["conf_low"] < target < share["conf_high"]
        assert share["conf_high"] - share["conf_low"] < 0.5  # an interval that says something
        # the headline model (OLS, levels, the generating criteria) on the whole population of municipalities
        assert share["estimate"] == pytest.approx(target, abs=1e-4)
    key = json.loads((ci_run / "results" / "variation_key_numbers.json").read_text())
    assert key["adults_r2_interval_covers_truth"] and key["children_r2_interval_covers_truth"]


def test_coefficients_recover_the_generating_ones(ci_run, truth):
    table = result(ci_run, "coefficients")
    level = table[(table["criteria_set"] == "seed004") & (table["weights"] == "none") & (table["scale"] == "level")]
    year = str(load_params(ci_run / "params.yaml").variation.year)
    for area in AREAS:
        true = truth["spending"][area]["by_year"][year]["coefficients_dkk_per_unit_share"]
        estimated = level[level["area"] == area].set_index("term")
        for term, value in true.items():
            assert estimated.loc[term, "conf_low"] < value < estimated.loc[term, "conf_high"]
            assert estimated.loc[term, "truth"] == pytest.approx(value)


def test_shapley_parts_add_up_to_the_models_r2(ci_run):
    shapley = result(ci_run, "shapley")
    fit = result(ci_run, "fit")
    headline = fit[fit["headline"]].set_index(["area", "criteria_set"])["r2"]
    model_of = {"seed004 criteria": "seed004", "all criteria": "all", "all criteria, groups": "all"}
    assert set(shapley["model"]) == set(model_of)
    for (area, model), part in shapley.groupby(["area", "model"]):
        r2 = part.loc[part["term"] == "R2", "estimate"].item()
        parts = part.loc[part["term"] != "R2"]
        assert parts["estimate"].sum() == pytest.approx(r2, abs=1e-9)
        assert parts["share"].sum() == pytest.approx(1.0, abs=1e-9)
        assert r2 == pytest.approx(headline.loc[(area, model_of[model])], abs=1e-9)
        assert (parts["conf_low"] <= parts["conf_high"]).all()
    groups = shapley[shapley["model"] == "all criteria, groups"]
    assert set(groups["term"]) == set(load_params(ci_run / "params.yaml").variation.criteria_groups) | {"R2"}


def test_benchmark_covers_every_municipality(ci_run):
    benchmark, funnel = result(ci_run, "benchmark"), result(ci_run, "funnel")
    for area in AREAS:
        bench = benchmark[benchmark["area"] == area]
        assert len(bench) == 98 and bench["municipality"].is_unique
        assert sorted(bench["rank"]) == list(range(1, 99))
        above = bench["actual"] > bench["pred_high"]
        below = bench["actual"] < bench["pred_low"]
        expected = np.select([above, below], ["above", "below"], "within")
        assert (bench["position"] == expected).all()
        np.testing.assert_allclose(bench["residual"], bench["actual"] - bench["expected"], atol=1e-4)  # CSV: 10 digits
        assert 0.85 <= (bench["position"] == "within").mean() <= 1.0  # 95 % intervals
        # the confidence interval of the expected level lies inside the prediction interval
        assert ((bench["pred_low"] <= bench["conf_low"]) & (bench["conf_high"] <= bench["pred_high"])).all()
        limits = funnel[(funnel["area"] == area) & (funnel["level"] == 0.95)]
        assert len(limits) == 98 and (limits["limit_high"] > 0).all()


def test_seed004_numbers_sit_beside_the_report(ci_run, truth):
    rows = result(ci_run, "seed004").set_index(["area", "quantity"])
    # on synthetic data the means and R² are calibration targets of the generator, never a reproduction
    assert set(rows["comparison"]) == {"calibration target", "partly calibrated"}
    assert (rows.xs("explained_share", level="quantity")["comparison"] == "calibration target").all()
    assert (rows.xs("n_below_low", level="quantity")["comparison"] == "partly calibrated").all()
    summary = result(ci_run, "spending_summary").set_index("area")
    year = str(load_params(ci_run / "params.yaml").variation.year)
    for area in AREAS:
        reported = SEED004_REPORTED[area]
        for quantity in ("weighted_mean", "n_below_low", "n_above_high"):
            assert rows.loc[(area, quantity), "seed004"] == reported[quantity]
            assert rows.loc[(area, quantity), "estimate"] == pytest.approx(summary.loc[area, quantity])
        assert rows.loc[(area, "explained_share"), "seed004_text"] == reported["explained_text"]
        mean = truth["spending"][area]["by_year"][year]["national_mean_dkk"]
        assert rows.loc[(area, "weighted_mean"), "estimate"] == pytest.approx(mean, rel=1e-4)
        assert summary.loc[area, "n_municipalities"] == 98


def test_register_split_is_disclosure_controlled(ci_run):
    split = result(ci_run, "unit_cost")
    minimum = load_params(ci_run / "params.yaml").disclosure.min_cell_size
    shown = split["n_recipients"].notna()
    assert (split.loc[shown, "n_recipients"] >= minimum).all()
    for column in ("unit_cost", "recipients_per_1000", "spend_per_capita", "log_diff_unit_cost"):
        assert split.loc[~shown, column].isna().all(), column
    # cost magnitudes fall under the dominance rule: hidden with their cost, the log differences built on them
    hidden_cost = split["unit_cost"].isna()
    assert split.loc[hidden_cost, ["spend_per_capita", "log_diff_unit_cost", "log_diff_spending"]].isna().all().all()
    assert "dominance_share" not in split.columns  # used for the rule, never written
    log = json.loads((ci_run / "disclosure.json").read_text())["variation_unit_cost"]
    assert log["count_columns"] == ["n_recipients"] and log["dominance"] >= 2 * (~shown).sum()
    np.testing.assert_allclose(split.loc[shown, "log_diff_spending"],
                               split.loc[shown, "log_diff_coverage"] + split.loc[shown, "log_diff_unit_cost"],
                               atol=1e-8)
    shares = json.loads((ci_run / "results" / "variation_unit_cost_shares.json").read_text())
    assert shares["share_coverage"] + shares["share_unit_cost"] == pytest.approx(1.0)
