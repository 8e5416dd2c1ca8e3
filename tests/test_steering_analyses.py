"""The steps of 35_steering: declared tables, suppression of the register tables, truth comparisons, parameters."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from progression.analyses import steering as st
from progression.config import Params
from progression.datasets import example_params, example_truth, load_example
from progression.disclosure import declaration_of, mark_disclosed, suppress
from progression.exceptions import DataContractError, ParameterError
from progression.plots.steering import plot_decomposition, plot_followup, plot_per_capita, plot_reproduction


@pytest.fixture(scope="module")
def priced() -> pd.DataFrame:
    return st.register_commitments(load_example("spells"), load_example("unit_costs"),
                                   staircase=example_params().staircase)


@pytest.fixture(scope="module")
def volume(priced) -> pd.DataFrame:
    return st.register_volume(priced, years=(2022, 2024))


@pytest.fixture(scope="module")
def series() -> pd.DataFrame:
    params = example_params().steering
    return st.accounts_series(load_example("municipal_accounts"), load_example("municipality_years"),
                              areas=params.areas, populations=params.area_populations)


def test_seed004_tables_are_declared_safe_and_pass_unchanged():
    for step in (st.seed004_growth, st.seed004_sums, st.seed004_populations, st.seed004_means, st.seed004_decomposition):
        table = step()
        out, report = suppress(table, table_name=step.__name__, min_cell_size=5)
        assert report.cells == 0
        pd.testing.assert_frame_equal(out, table)


def test_register_tables_suppress_small_groups_and_their_complements(volume):
    out, report = suppress(volume, table_name="steering_register_volume", min_cell_size=300)
    assert report.primary > 0 and report.secondary > 0
    hidden = out["n_persons"].isna()
    assert not ((out["n_persons"] >= 1) & (out["n_persons"] < 300)).any()
    for column in ("user_years", "spending", "unit_cost"):
        assert out.loc[hidden, column].isna().all(), column
    # a group of rows adding up to a shown row never has exactly one hidden cell
    for _, group in out.assign(hidden=hidden).groupby(["year", "part_of"]):
        if len(group) > 1:
            assert group["hidden"].sum() != 1
    assert "dominance_share" not in out.columns


def test_dominance_rule_hides_money_of_a_group_two_persons_dominate(priced):
    held = priced[(priced["paragraph"] == "SEL108") & (priced["start_date"] <= "2024-01-01")
                  & (priced["end_date"].isna() | (priced["end_date"] >= "2024-12-31"))]
    few = held.drop_duplicates("person_id").head(8).copy()
    few["daily_price"] = np.where(np.arange(len(few)) < 2, 1e6, 1.0)  # two very dear commitments
    table = st.register_volume(pd.concat([priced[priced["paragraph"] != "SEL108"], few]), years=(2024, 2024))
    out, report = suppress(table, table_name="v", min_cell_size=5)
    row = out[(out["level"] == "paragraph") & (out["group"] == "SEL108")].iloc[0]
    assert row["n_persons"] == 8 and row["user_years"] > 0
    assert np.isnan(row["spending"]) and np.isnan(row["unit_cost"])
    assert report.dominance >= 2


def test_every_register_step_is_fully_declared(priced, volume):
    tables = [
        st.register_price_volume(volume, load_example("municipality_years"), years=(2022, 2024)),
        st.followup(priced, year=2024, month=3),
        st.followup_by_month(priced, year=2024),
        st.register_truth(volume, load_example("person_year_costs"), example_truth()),
    ]
    for table in tables:
        suppress(table, table_name="t", min_cell_size=5)  # raises on an undeclared column
        assert "n_persons" in declaration_of(table).counts


def test_price_volume_levels_add_up(volume):
    split = st.register_price_volume(volume, load_example("municipality_years"), years=(2022, 2024))
    assert (split["volume"] + split["price"] - split["change"]).abs().max() < 1e-3
    assert (split["demography"] + split["coverage"] + split["unit_cost"] - split["change"]).abs().max() < 1e-3
    paragraphs = split[split["level"] == "paragraph"]
    assert paragraphs["price"].abs().max() < 1e-3  # one price per paragraph
    total = split[split["level"] == "total"].iloc[0]
    assert total["change"] == pytest.approx(paragraphs["change"].sum(), rel=1e-9)
    assert total["spending_end"] == pytest.approx(total["user_years_end"] * total["unit_cost_end"], rel=1e-12)


def test_followup_budget_is_last_year_and_december_is_the_year(priced):
    table = st.followup(priced, year=2024, month=12)
    volume = st.register_volume(priced, years=(2023, 2024)).set_index(["year", "level", "group"])
    total = table[table["level"] == "total"].iloc[0]
    assert total["budget"] == pytest.approx(volume.loc[(2023, "total", "total"), "spending"], rel=1e-12)
    assert total["actual_spending"] == pytest.approx(volume.loc[(2024, "total", "total"), "spending"], rel=1e-12)
    assert abs(total["forecast_error"]) < 1e-3
    changed = st.followup(priced, year=2024, month=12, price_change=0.02)
    row = changed[changed["level"] == "paragraph"].set_index("group").loc["SEL85"]
    assert row["deviation_price"] == pytest.approx(-0.02 * 100_000 * (row["budget_user_years"] + row["user_years"]) / 2)


def test_accounts_growth_recovers_the_generators_real_growth(series):
    growth = st.accounts_growth(series)
    totals = growth[growth["function"] == "all"].set_index("area")
    rate = example_truth()["params"]["spending_real_growth"]
    assert totals["per_capita_growth_rate"].to_numpy() == pytest.approx([rate, rate], abs=1e-8)
    shares = growth[growth["function"] != "all"].groupby("area")["share_end"].sum()
    assert shares.to_numpy() == pytest.approx(1.0)
    parts = st.accounts_decomposition(series)
    assert (parts["demography"] + parts["per_capita"] - parts["change"]).abs().max() < 1e-9
    truth = st.accounts_truth(series, example_truth())
    assert set(truth["role"]) == {"calibration_target", "generator_parameter"}
    assert truth["difference"].abs().max() < 1e-6


def test_accounts_errors_name_the_parameter():
    accounts, years = load_example("municipal_accounts"), load_example("municipality_years")
    with pytest.raises(DataContractError, match=r"steering.areas\['adults'\]: functions \['9.99'\] match no account rows"):
        st.accounts_series(accounts, years, areas={"adults": ["9.99"]}, populations={"adults": "pop_18_66"})
    with pytest.raises(DataContractError, match="steering.area_populations"):
        st.accounts_series(accounts, years, areas={"adults": ["5.38"]}, populations={"adults": "pop_18_99"})
    series = st.accounts_series(accounts, years, areas={"adults": ["5.38"]}, populations={"adults": "pop_18_66"})
    with pytest.raises(ParameterError, match=r"steering.growth_years: year\(s\) \[2004, 2008\] not in the accounts; years present: 2010–2024"):
        st.accounts_growth(series, years=(2004, 2008))


def test_steering_parameters_are_checked():
    with pytest.raises(ValueError, match="have no entry in area_populations"):
        Params.model_validate({"steering": {"areas": {"elderly": ["5.32"]}}})
    with pytest.raises(ValueError, match="growth_years: the first year must be before the last"):
        Params.model_validate({"steering": {"growth_years": [2008, 2004]}})
    with pytest.raises(ValueError, match="followup_month"):
        Params.model_validate({"steering": {"followup_month": 13}})


def test_key_numbers_are_declared(priced, volume):
    key = st.seed004_summary(st.seed004_growth(), st.seed004_sums(), st.seed004_populations(), st.seed004_means())
    assert key["n_growth_within"] == key["n_growth"] == 27
    followup = st.followup_key_numbers(st.followup(priced, year=2024, month=6))
    assert set(followup.declaration.magnitudes) == {"spending_m", "budget_m", "deviation_m", "volume_m", "price_m",
                                                    "actual_m", "error_m"}


def test_figures_record_their_tables_and_mark_suppressed_values(series, priced):
    growth = mark_disclosed(st.seed004_growth(), "steering_seed004_growth")
    fig = plot_reproduction(growth)
    assert fig._progression_sources == [("plot_reproduction", "steering_seed004_growth")]
    path = mark_disclosed(st.followup_by_month(priced, year=2024), "path")
    path.loc[path["month"] == 3, ["spending", "deviation_volume"]] = np.nan
    fig = plot_followup(path)
    assert any(t.get_text() == "·" for ax in fig.axes for t in ax.texts)
    parts = mark_disclosed(st.seed004_decomposition(), "parts")
    ax = plot_decomposition(parts, parts=["demography", "per_capita", "coverage", "unit_cost"])
    assert not ax.texts  # a part that is not a factor of the row is not a suppressed value
    parts.loc[0, ["change", "demography", "per_capita"]] = np.nan
    ax = plot_decomposition(parts, parts=["demography", "per_capita", "coverage", "unit_cost"])
    assert [t.get_text() for t in ax.texts] == ["·"]
    ax = plot_per_capita(mark_disclosed(series, "series"), language="da")
    assert ax.get_legend().get_texts()[0].get_text() == "voksne (pr. 18-66-årig)"


@pytest.mark.parametrize("language", ["en", "da"])
def test_every_text_and_caption_formats_in_both_languages(language, priced, volume, series):
    from progression.texts import text, texts

    growth, parts = st.accounts_growth(series), st.accounts_decomposition(series)
    split = st.register_price_volume(volume, load_example("municipality_years"), years=(2022, 2024))
    values = {
        "steering_seed004": st.seed004_summary(st.seed004_growth(), st.seed004_sums(), st.seed004_populations(),
                                               st.seed004_means()),
        "steering_accounts": st.accounts_key_numbers(growth, parts, area="adults", language=language),
        "steering_register": st.register_key_numbers(split),
        "steering_followup": st.followup_key_numbers(st.followup(priced, year=2024, month=6)),
    }
    for key, numbers in values.items():
        assert "{" not in text("texts", key, language=language, **numbers)
    period = {"start": 2010, "end": 2024, "price_year": 2009, "year": 2024, "month": 6, "volume_change": 0.0,
              "price_change": 0.02}
    for section in ("captions", "figures"):
        for key in [k for k in texts(language)[section] if k.startswith("steering_")]:
            assert "{" not in text(section, key, language=language, **period), key
    import yaml
    from importlib import resources

    def keys(lang):
        data = yaml.safe_load(resources.files("progression.texts").joinpath(lang, "steering.yaml").read_text("utf-8"))
        return {(section, k) for section, items in data.items() for k in items}

    assert keys(language) == keys("en")  # every word has its Danish (the field's official terms)
