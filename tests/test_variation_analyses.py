"""The steps of 30_spending_variation (progression.analyses.variation) on the example data: every table carries
a declaration that disclosure control accepts, the register split falls under the dominance rule, and the
comparison with Finansministeriet (2009) says what the synthetic generator was calibrated to."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from progression.analyses import variation as va
from progression.datasets import example_params, example_truth, load_example
from progression.disclosure import declaration_of, mark_disclosed, suppress, suppress_numbers

MIN_CELL = 5


def disclosed(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """The table as ctx.write_result would return it (refused if a numeric column is undeclared)."""
    out, _ = suppress(table, table_name=name, min_cell_size=MIN_CELL)
    return mark_disclosed(out, name)


@pytest.fixture(scope="module")
def params():
    p = example_params().variation
    return p.model_copy(update={"cv_repeats": 1, "cv_folds": 5, "boosting_trees": 10, "bootstrap_reps": 20})


@pytest.fixture(scope="module")
def steps(params):
    panel = va.spending_panel(load_example("municipal_accounts"), load_example("municipality_years"),
                              load_example("municipalities"), params)
    cross = va.cross_section(panel, params.year)
    models = va.fit_models(cross, params, seed=1)
    return panel, cross, models


def test_public_tables_are_declared_safe_and_pass_unchanged(steps, params):
    panel, cross, models = steps
    tables = {
        "spending": cross, "summary": va.spending_summary(cross), "fit": va.fit_table(models, params),
        "coefficients": va.coefficient_table(models, params, example_truth()),
        "influence": va.influence_table(models, cross, params),
        "between": va.between_within_table(panel, params), "funnel": va.funnel_table(models, params),
        "benchmark": va.benchmark_table(models, cross, params),
    }
    for name, table in tables.items():
        declaration = declaration_of(table)
        assert declaration is not None and not declaration.counts, name  # public figures: no person counts
        assert "municipality" not in declaration.safe and "year" not in declaration.safe, name  # labels
        out = disclosed(table, name)
        pd.testing.assert_frame_equal(out.reset_index(drop=True), table.reset_index(drop=True), check_dtype=False,
                                      check_like=True)


def test_cross_section_refuses_a_missing_year(steps):
    panel, _, _ = steps
    with pytest.raises(Exception, match="variation.year 1999 is not in the accounts"):
        va.cross_section(panel, 1999)


def test_benchmark_and_funnel_tables_cover_both_areas(steps, params):
    _, cross, models = steps
    benchmark = va.benchmark_table(models, cross, params)
    assert benchmark.groupby("area").size().to_dict() == {"adults": 98, "children": 98}
    assert {"conf_low", "conf_high", "pred_low", "pred_high", "population"} <= set(benchmark.columns)
    assert ((benchmark["pred_low"] <= benchmark["conf_low"]) & (benchmark["conf_high"] <= benchmark["pred_high"])).all()
    funnel = va.funnel_table(models, params)
    assert funnel.groupby(["area", "level"]).size().tolist() == [98, 98, 98, 98]
    outside = va.outside_table(benchmark)
    assert set(outside["position"]) <= {"above", "below"}


def _register(dominant: float):
    """Two municipalities with six recipients each; one cost of ``dominant`` kr. among five of 10,000 in 101."""
    costs = pd.DataFrame({"person_id": np.arange(12), "year": 2022, "service": "SEL108", "payer": "kommune",
                          "cost_dkk": [dominant] + [10_000.0] * 5 + [300_000.0] * 6})
    residence = pd.DataFrame({"person_id": np.arange(12), "year": 2022, "municipality": [101] * 6 + [147] * 6})
    cross = pd.DataFrame({"area": "adults", "municipality": [101, 147], "name": ["København", "Frederiksberg"],
                          "population": [400_000.0, 70_000.0]})
    return costs, residence, cross


def test_register_split_hides_a_cost_one_recipient_dominates(params):
    """Six recipients clear the minimum cell size, but one of them makes up 97 % of the municipality's cost:
    the (n, k) rule hides its cost per recipient and register spending (and what is built on them), not the
    count or the coverage."""
    p = params.model_copy(update={"year": 2022, "register_services": ["SEL108"]})
    costs, residence, cross = _register(dominant=2_000_000.0)
    split = va.unit_cost_table(costs, residence, cross, p)
    assert split.set_index("municipality").loc[101, "dominance_share"] == pytest.approx(2_010_000 / 2_050_000)
    out = disclosed(split, "variation_unit_cost").set_index("municipality")
    assert "dominance_share" not in out.columns
    assert out.loc[101, "n_recipients"] == 6 and np.isfinite(out.loc[101, "log_diff_coverage"])
    assert out.loc[[101], ["unit_cost", "spend_per_capita", "log_diff_unit_cost", "log_diff_spending"]].isna().all().all()
    assert out.loc[147, "unit_cost"] == pytest.approx(300_000.0)  # six equal costs: no recipient dominates
    costs, residence, cross = _register(dominant=20_000.0)
    out = disclosed(va.unit_cost_table(costs, residence, cross, p), "variation_unit_cost").set_index("municipality")
    assert out["unit_cost"].notna().all()


def test_comparison_says_what_was_calibrated(steps, params):
    panel, cross, models = steps
    summary = disclosed(va.spending_summary(cross), "summary")
    fit = disclosed(va.fit_table(models, params), "fit")
    shapley = disclosed(va.shapley_table(models, params, seed=1), "shapley")
    synthetic = va.seed004_comparison(summary, fit, shapley, params, example_truth()).set_index(["area", "quantity"])
    assert (synthetic.xs("explained_share", level="quantity")["comparison"] == "calibration target").all()
    assert (synthetic.xs("weighted_mean", level="quantity")["comparison"] == "calibration target").all()
    assert (synthetic.xs("n_above_high", level="quantity")["comparison"] == "partly calibrated").all()
    assert synthetic.loc[("adults", "explained_share"), "truth"] == pytest.approx(0.40)
    real = va.seed004_comparison(summary, fit, shapley, params, None)
    assert (real["comparison"] == "independent check").all() and real["truth"].isna().all()

    numbers = va.key_numbers(disclosed(va.seed004_comparison(summary, fit, shapley, params, example_truth()),
                                       "variation_seed004"), params)
    written, report = suppress_numbers(numbers, name="variation_key_numbers", min_cell_size=MIN_CELL)
    assert report.cells == 0 and written["adults_r2_comparison"] == "calibration target"
    assert written["adults_r2_interval_covers_truth"] is True
    values = va.text_values(written)
    assert "adults_r2_interval_covers_truth" not in values and "year" not in values
    assert values["children_r2_truth"] == pytest.approx(0.48)


def test_unit_cost_shares_are_declared_key_numbers(params):
    p = params.model_copy(update={"year": 2022, "register_services": ["SEL108"]})
    costs, residence, cross = _register(dominant=20_000.0)
    split = va.unit_cost_table(costs, residence, cross, p)
    shown = disclosed(split, "variation_unit_cost")
    numbers, report = suppress_numbers(va.unit_cost_shares(split, shown, p), name="shares", min_cell_size=MIN_CELL)
    assert numbers["n_municipalities_shown"] == 2 and report.cells == 0
    assert numbers["share_coverage"] + numbers["share_unit_cost"] == pytest.approx(1.0)
