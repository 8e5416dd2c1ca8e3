"""The INDIGO reader on a small fictional export in the real format, and on the real export when present."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from progression.exceptions import DataContractError, ParameterError
from progression.sources import indigo

FIXTURE = Path(__file__).parent / "fixtures" / "indigo"
REAL = Path(__file__).resolve().parents[2] / "shared" / "reference-data" / "indigo"


@pytest.fixture(scope="module")
def data():
    return indigo.read_indigo(FIXTURE)


def test_projects_are_tidy_with_countries_from_locations_and_jurisdiction(data):
    projects = data.projects.set_index("project_id")
    assert list(projects.index) == [f"TEST-POJ-000{i}" for i in range(1, 5)]
    assert projects.loc["TEST-POJ-0003", "countries"] == "GB,IE"        # two delivery locations
    assert projects.loc["TEST-POJ-0004", "countries"] == "BE,NL"        # jurisdiction and the Countries list
    assert projects.loc["TEST-POJ-0003", "max_outcome_payment"] == 1_500_000  # "1,500,000"
    assert projects.loc["TEST-POJ-0001", "start_year"] == 2021          # "2021-03"
    assert projects.loc["TEST-POJ-0003", "start_year"] == 2017          # "2017-01-15"
    assert projects.loc["TEST-POJ-0001", "policy_sector"] == "Homelessness"


def test_danish_filter_keeps_danish_projects_and_their_rows(data):
    dk = data.danish()
    assert set(dk.projects["project_id"]) == {"TEST-POJ-0001", "TEST-POJ-0002"}
    assert len(dk.outcome_metrics) == 4 and len(dk.prices) == 4
    assert set(dk.results["project_id"]) == {"TEST-POJ-0001"}
    assert set(data.filter_countries("IE").projects["project_id"]) == {"TEST-POJ-0003"}


def test_metric_policy_sector_falls_back_to_the_project(data):
    m = data.outcome_metrics.set_index(["project_id", "metric_id"])
    assert m.loc[("TEST-POJ-0001", "outcomemetric2"), "policy_sector"] == "Homelessness"
    assert m.loc[("TEST-POJ-0003", "outcomemetric1"), "targeted_number"] == 1200   # "1,200"


def test_results_parse_numbers_and_keep_text(data):
    res = data.results.set_index(["project_id", "metric_id", "result_type"])
    assert res.loc[("TEST-POJ-0003", "outcomemetric2", "Final"), "outcomes_achieved"] == 1600
    text_row = res.loc[("TEST-POJ-0003", "outcomemetric3", "Final")]
    assert np.isnan(text_row["outcomes_achieved"])
    assert text_row["result_text"].startswith("Around a third")
    project_level = data.results[data.results["level"] == "Project level"].iloc[0]
    assert project_level["engaged"] == 35                               # "35 young people"


def test_metric_table_joins_misspelt_ids_and_prefers_final_results(data):
    table = indigo.metric_table(data).set_index(["project_id", "metric_id"])
    row = table.loc[("TEST-POJ-0001", "outcomemetrics1")]               # priced as "outcomemetric1"
    assert row["price_per_unit"] == 25_000 and row["currency"] == "DKK"
    assert row["achievement_vs_target"] == pytest.approx(30 / 40)
    assert row["achievement_per_engaged"] == pytest.approx(30 / 35)
    final = table.loc[("TEST-POJ-0001", "outcomemetric2")]
    assert final["result_type"] == "Final" and final["outcomes_achieved"] == 18   # not the interim 10
    assert table.loc[("TEST-POJ-0004", "outcomemetric1"), "price_per_unit_usd"] == 1000  # USD filled


def test_outcome_categories_by_keyword(data):
    cats = data.outcome_metrics.set_index(["project_id", "metric_id"])["outcome_category"]
    assert cats[("TEST-POJ-0001", "outcomemetrics1")] == "housing"
    assert cats[("TEST-POJ-0002", "outcomemetric1")] == "employment"
    assert cats[("TEST-POJ-0002", "outcomemetric2")] == "wellbeing"
    assert cats[("TEST-POJ-0003", "outcomemetric2")] == "engagement"
    assert classify_one("Reduction in re-offending") == "justice"
    assert classify_one("Something else entirely") == "other"


def classify_one(text: str) -> str:
    return indigo.classify_outcome(pd.Series([text])).iloc[0]


def test_reference_prices_by_currency_match_hand_computation(data):
    prices = indigo.reference_prices(data, by="currency").set_index("currency")
    dkk = prices.loc["DKK"]
    assert dkk["n_metrics"] == 4 and dkk["n_projects"] == 2
    assert dkk["median_price"] == np.median([25_000, 40_000, 60_000, 30_000])
    assert dkk["q25_price"] == pytest.approx(np.quantile([25_000, 40_000, 60_000, 30_000], 0.25))
    gbp = prices.loc["GBP"]
    assert (gbp["min_price"], gbp["max_price"], gbp["median_price_usd"]) == (500, 2500, 1900)


def test_reference_prices_per_outcome_category_for_danish_projects(data):
    prices = indigo.reference_prices(data.danish(), by=["outcome_category"]).set_index("outcome_category")
    assert prices.loc["employment", "median_price"] == np.median([40_000, 60_000])
    assert prices.loc["housing", "n_metrics"] == 1


def test_achievement_rates_by_policy_sector(data):
    rates = indigo.achievement_rates(data).set_index("policy_sector")
    home = rates.loc["Homelessness"]
    # 30/40, 18/40 (Testby); 1050/1200, 1600/1500 (Exampletown); the text result has no rate
    expected = [30 / 40, 18 / 40, 1050 / 1200, 1600 / 1500]
    assert home["n_metrics"] == 4
    assert home["median_achievement"] == pytest.approx(np.median(expected))
    assert home["share_target_met"] == pytest.approx(0.25)


def test_errors_name_what_is_missing(tmp_path):
    with pytest.raises(ParameterError, match="not a folder"):
        indigo.read_indigo(tmp_path / "nowhere")
    with pytest.raises(DataContractError, match="projects_outcome_metrics.csv"):
        indigo.read_indigo(tmp_path)
    (tmp_path / "projects.csv").write_text("ID,Name\nX,Y\n")
    (tmp_path / "projects_outcome_metrics.csv").write_text("Project ID,Id\nX,outcomemetric1\n")
    with pytest.raises(DataContractError, match=r"lacks column\(s\) \['Impact Bond Name - \(Value\)'\]"):
        indigo.read_indigo(tmp_path)
    with pytest.raises(ParameterError, match="unknown column"):
        indigo.reference_prices(indigo.read_indigo(FIXTURE), by="sector")


@pytest.mark.skipif(not REAL.exists(), reason="real INDIGO export not present")
def test_real_export_counts_match_the_documented_numbers():
    """319 projects, 13 of them Danish with 43 outcome metrics and no prices (domain.md §6)."""
    data = indigo.read_indigo(REAL)
    assert len(data.projects) == 319
    assert len(data.outcome_metrics) == 1408
    dk = data.danish()
    assert len(dk.projects) == 13
    assert len(dk.outcome_metrics) == 43
    assert dk.prices.empty
    assert dk.projects["name"].str.contains("Slagelse").any()
    gbp = indigo.reference_prices(data, by="currency").set_index("currency").loc["GBP"]
    assert gbp["n_metrics"] >= 300 and 100 < gbp["median_price"] < 10_000


def test_the_configured_folder_is_found_next_to_the_checkout_or_the_parameter_file(tmp_path):
    params = tmp_path / "run" / "params.yaml"
    params.parent.mkdir()
    params.write_text("run: {}\n")
    (tmp_path / "shared" / "indigo").mkdir(parents=True)
    assert indigo.resolve_folder("../shared/indigo", params_file=params) == (tmp_path / "shared" / "indigo").resolve()
    assert indigo.resolve_folder(FIXTURE) == FIXTURE                      # absolute: as it is
    assert indigo.resolve_folder("../nowhere", params_file=params) is None
    tried = indigo.candidate_folders("../nowhere", params_file=params)
    assert tried[-1] == (tmp_path / "nowhere").resolve() and len(tried) == 2
    with pytest.raises(FileNotFoundError, match="nowhere.*tried"):
        indigo.resolve_folder("../nowhere", params_file=params, required=True)
