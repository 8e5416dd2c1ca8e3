"""35_steering on the CI chain run: the report's tables reproduced, the tools recover the synthetic truth, parts add up."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from progression.chain.run_context import collect_report_items

pytestmark = pytest.mark.notebooks

TABLES = ("seed004_growth", "seed004_sums", "seed004_populations", "seed004_means", "seed004_decomposition",
          "accounts_series", "accounts_growth", "accounts_decomposition", "accounts_truth", "register_volume",
          "register_price_volume", "register_truth", "followup", "followup_by_month")
FIGURES = ("seed004_growth", "seed004_decomposition", "accounts_per_capita", "register_price_volume", "followup")
SECTION = "35_steering"


def result(run: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(run / "results" / f"steering_{name}.csv")


def test_tables_figures_and_report_section_exist(ci_run):
    for name in TABLES:
        assert len(result(ci_run, name)) > 0, name
    for name in FIGURES:
        assert (ci_run / "figures" / f"steering_{name}.png").stat().st_size > 10_000, name
    items = [i for i in collect_report_items(ci_run) if i["section"] == SECTION]
    assert sum(i["kind"] == "figure" for i in items) == len(FIGURES)
    assert sum(i["kind"] == "text" for i in items) >= 4
    html = (ci_run / "report.html").read_text()
    assert "Steering tools: growth, price and volume, budget follow-up" in html
    assert "calibration target" in html
    log = json.loads((ci_run / "disclosure.json").read_text())
    assert not [k for k in log.get("_refused", {}) if k.startswith("steering")]


def test_the_reports_tables_are_reproduced_within_their_rounding(ci_run):
    growth = result(ci_run, "seed004_growth")
    assert len(growth) == 27 and growth["within_tolerance"].all() and growth["consistent"].all()
    assert result(ci_run, "seed004_sums")["within"].all()
    means = result(ci_run, "seed004_means").set_index(["area", "year"])
    assert means["within"].all()
    assert means.loc[("adults", 2008), "published"] == 7776 and means.loc[("children", 2008), "published"] == 9105
    key = json.loads((ci_run / "results" / "steering_seed004_summary.json").read_text())
    assert key["n_growth_within"] == key["n_growth"] == 27


def test_accounts_recover_the_generator_and_are_labelled_calibration(ci_run):
    truth = json.loads((ci_run / "data" / "truth.json").read_text())
    check = result(ci_run, "accounts_truth")
    rates = check[check["quantity"] == "per_capita_growth_rate"]
    assert rates["estimate"].to_numpy() == pytest.approx(truth["params"]["spending_real_growth"], abs=1e-8)
    assert set(check.loc[check["quantity"] == "per_capita_2008", "role"]) == {"calibration_target"}
    assert check["difference"].abs().max() < 1e-6
    parts = result(ci_run, "accounts_decomposition")
    assert (parts["demography"] + parts["per_capita"] - parts["change"]).abs().max() < 1e-9


def test_register_spending_matches_the_generators_costs(ci_run):
    truth = json.loads((ci_run / "data" / "truth.json").read_text())
    check = result(ci_run, "register_truth").dropna(subset=["ratio"]).set_index("paragraph")
    full = check[~check.index.str.startswith("SEL82")]
    assert (full["ratio"] - 1).abs().max() < 0.006
    sel82 = check[check.index.str.startswith("SEL82")]
    assert sel82["ratio"].to_numpy() == pytest.approx(1 - truth["params"]["sel82_unrecorded_share"], abs=0.05)


def test_price_volume_parts_add_up_and_paragraph_prices_are_constant(ci_run):
    split = result(ci_run, "register_price_volume").dropna(subset=["change"])
    assert (split["volume"] + split["price"] - split["change"]).abs().max() < 1
    assert (split["demography"] + split["coverage"] + split["unit_cost"] - split["change"]).abs().max() < 1
    assert split.loc[split["level"] == "paragraph", "price"].abs().max() < 1e-3


def test_followup_splits_the_deviation_and_converges_to_the_year(ci_run):
    table = result(ci_run, "followup").dropna(subset=["deviation"])
    assert (table["deviation_volume"] + table["deviation_price"] - table["deviation"]).abs().max() < 1
    path = result(ci_run, "followup_by_month")
    assert path["month"].tolist() == list(range(1, 13))
    assert abs(path.loc[path["month"] == 12, "forecast_error"].item()) < 1
    assert np.all(np.abs(path["forecast_error"] / path["actual_spending"]) < 0.02)
    assert path["spending_to_date"].is_monotonic_increasing
