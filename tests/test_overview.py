"""The data overview: service shares per step against hand counts, and every table carrying its declaration."""

import json

import pandas as pd
import pytest

from progression.analyses.overview import (
    cohort_flow_by_set,
    persons_by_paragraph,
    persons_by_target_group,
    save_inputs,
    service_shares,
    yearly_panel,
)
from progression.disclosure import declaration_of, suppress
from progression.transitions.published import PUBLISHED_FLOW_FROM_SEL85, PUBLISHED_SERVICE_SHARES, reference_role

SPELLS = pd.DataFrame({
    "person_id": [1, 1, 2, 3, 4, 5],
    "paragraph": ["SEL85", "SEL108", "SEL85", "SEL82b", "SEL103", "SEL85"],
    "municipality": [101] * 6,
    "start_date": pd.to_datetime(["2021-01-01", "2022-06-01", "2022-12-31", "2020-01-01", "2022-01-01", "2019-01-01"]),
    "end_date": pd.to_datetime(["2022-05-31", None, None, "2022-01-01", None, "2021-12-31"]),
})


def test_service_shares_count_persons_on_each_step_held_in_the_year():
    out = service_shares(SPELLS, year=2022).set_index("step")
    # persons 1, 2, 3 hold a staircase service in 2022; 4 holds only a side service, 5 ended in 2021
    assert (out["n_target_group"] == 3).all()
    assert out.loc["SEL85", "n_persons"] == 2 and out.loc["SEL108", "n_persons"] == 1
    assert out.loc["SEL82", "n_persons"] == 1 and out.loc["SEL107", "n_persons"] == 0
    assert out.loc["SEL85", "share"] == pytest.approx(2 / 3)
    assert out["share"].sum() == pytest.approx(4 / 3)  # several steps per person, as in the report
    assert (out["year"] == 2022).all() and out.loc["SEL85", "published_share"] == 0.59


def test_service_shares_default_to_the_last_year_at_most_the_published_one():
    assert service_shares(SPELLS)["year"].unique().tolist() == [2022]
    later = SPELLS.assign(start_date=SPELLS["start_date"] + pd.DateOffset(years=5))
    assert service_shares(later)["year"].unique().tolist() == [2022]


def test_service_shares_are_suppressed_on_their_counts():
    shown, report = suppress(service_shares(SPELLS, year=2022), table_name="s", min_cell_size=5)
    assert shown["n_persons"].isna().sum() == 3 and shown["share"].isna().all()  # the target group is 3 persons
    assert shown["published_share"].notna().all() and report.primary > 0


def test_published_reference_sums_to_105_percent_and_says_what_it_is():
    assert PUBLISHED_SERVICE_SHARES.sum() == pytest.approx(1.05)
    assert reference_role("synthetic") == "calibration target"
    assert reference_role("files") == "independent check"


def test_person_tables_carry_their_declaration():
    persons = pd.DataFrame({"person_id": range(8), "target_group": ["begge"] * 3 + ["sindslidelse"] * 5,
                            "sex": ["K", "M", "K", "K", "M", "M", "M", "K"]})
    by_group = persons_by_target_group(persons)
    assert declaration_of(by_group).counts == ("n_persons",) and declaration_of(by_group).margins == {"n_persons": ()}
    assert by_group["n_persons"].sum() == 8
    by_paragraph = persons_by_paragraph(SPELLS)
    assert by_paragraph.set_index("paragraph")["n_persons"].to_dict()["SEL85"] == 3


def test_inputs_and_the_yearly_panel_are_handed_over(tmp_path):
    persons = pd.DataFrame({"person_id": [1, 2, 3, 4, 5], "death_date": pd.NaT, "emigration_date": pd.NaT})
    moves = pd.DataFrame({"person_id": pd.Series([], dtype="int64"),
                          "move_date": pd.Series([], dtype="datetime64[ns]")})
    sizes = save_inputs({"spells": SPELLS, "persons": persons, "moves": moves}, {"seed": 1}, tmp_path)
    assert sizes.set_index("table")["rows"].to_dict() == {"spells": 6, "persons": 5, "moves": 0}
    assert json.loads((tmp_path / "truth.json").read_text()) == {"seed": 1}
    panel = yearly_panel(tmp_path, start=2019, end=2022)
    assert (tmp_path / "panel_year.parquet").exists() and panel.attrs["period"] == "year"
    assert set(panel["person_id"]) == {1, 2, 3, 5}  # person 4 holds a side service only


def test_cohort_flow_beside_the_published_shares():
    from progression.datasets import load_example

    flow = cohort_flow_by_set(load_example("panel_year"), from_step="SEL85", start=2020, stop=2022,
                              sets={"case": [265, 169, 657, 751]}, n_boot=0, seed=1)
    assert flow["group"].unique().tolist() == ["national", "case", "rest"]
    published = flow.dropna(subset=["published_share"]).set_index(["group", "category"])["published_share"]
    expected = PUBLISHED_FLOW_FROM_SEL85.replace({"group": {"case municipalities": "case"}}).set_index(
        ["group", "category"])["share"]
    assert published.sort_index().to_dict() == expected.sort_index().to_dict()
    assert flow.groupby("group")["share"].sum().round(9).eq(1).all()
    declaration = declaration_of(flow)
    assert declaration.margins == {"n": ("group",)} and declaration.safe == ("published_share",)
