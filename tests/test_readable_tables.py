"""Tables for reading: the one formatting layer of the report and the notebooks' displays."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from progression.texts.tables import NOT_AVAILABLE, column_kind, format_value, notebook_html, readable

SCIENTIFIC = re.compile(r"\d(?:[.,]\d+)?e[+-]?\d+", re.IGNORECASE)


@pytest.fixture
def table():
    return pd.DataFrame({
        "target_group": ["sindslidelse", "begge", "kognitivt_handicap"],
        "sex": ["K", "M", "K"],
        "n_persons": [13160.0, 935.0, np.nan],
        "share": [0.1234, 0.5, np.nan],
        "estimate": [2.5e-7, 1316.0, 0.25],
        "conf_low": [1e-7, 1200.5, 0.1],
        "p_value": [7.971e-134, 0.0312, np.nan],
        "year": [2022, 2022, 2022],
        "covered": [True, False, True],
    })


def test_counts_are_whole_numbers_with_thousands_separators(table):
    shown = readable(table, language="en").frame
    assert shown["persons"].tolist()[:2] == ["13,160", "935"]
    assert readable(table, language="da").frame["personer"].tolist()[:2] == ["13.160", "935"]


def test_shares_read_in_per_cent_p_values_below_a_thousandth_as_such(table):
    shown = readable(table, language="da").frame
    assert shown["andel"].tolist()[:2] == ["12,3 %", "50,0 %"]
    assert shown["p-værdi"].tolist()[:2] == ["< 0,001", "0,031"]
    assert readable(table, language="en").frame["share"].tolist()[0] == "12.3%"


def test_no_cell_is_in_scientific_notation_and_a_column_keeps_its_decimals(table):
    shown = readable(table, language="en")
    assert not any(SCIENTIFIC.search(cell) for cell in shown.frame.to_numpy().ravel())
    estimates = shown.frame["estimate"].tolist() + shown.frame["lower 95% limit"].tolist()
    decimals = {len(v.split(".")[1]) if "." in v else 0 for v in estimates}
    assert len(decimals) == 1  # one fixed number of decimals for an estimate and its interval


def test_codes_and_columns_read_as_words_with_the_raw_name_kept(table):
    shown = readable(table, language="en")
    assert shown.frame["target group"].tolist() == ["mental illness", "both", "cognitive disability"]
    assert shown.frame["sex"].tolist() == ["women", "men", "women"]
    assert shown.frame["interval covers the truth"].tolist() == ["yes", "no", "yes"]
    assert shown.frame["year"].tolist() == ["2022"] * 3  # a year is a label: no thousands separator
    assert 'title="n_persons"' in shown.to_html()


def test_suppressed_cells_read_one_way_and_other_missing_cells_another(table):
    shown = readable(table, language="en", suppressed={"n_persons": [2], "share": [2]})
    assert shown.frame["persons"].tolist()[2] == "·" and shown.frame["share"].tolist()[2] == "·"
    assert shown.frame["p-value"].tolist()[2] == NOT_AVAILABLE  # missing but not suppressed: not available
    assert shown.suppressed_cells == 2
    unknown = readable(table, language="en")  # without the log of suppressed cells every missing number is "·"
    assert unknown.frame["p-value"].tolist()[2] == "·"


def test_a_long_table_of_quantities_reads_each_quantity_its_own_way():
    table = pd.DataFrame({"quantity": ["weighted_mean", "explained_share", "n_below_low"],
                          "estimate": [8937.6, 0.4002, 15.0], "seed004": [7776.0, 0.4, 20.0]})
    shown = readable(table, name="variation_seed004", language="en").frame
    assert shown["estimate"].tolist() == ["8,938", "0.40", "15"]
    assert shown["quantity"].tolist()[0] == "population-weighted mean"


def test_kinds_from_names_and_the_registry():
    assert column_kind("n_persons") == "count" and column_kind("npv_stat_dkk") == "money"
    assert column_kind("growth_rate", pd.Series([0.02])) == "percent"
    assert column_kind("growth_rate_pct", pd.Series([2.5])) == "decimal"
    assert column_kind("share", pd.Series([3.0, 4.0])) != "percent"  # not a share in [0, 1]: no per cent
    assert column_kind("alpha") == "ratio" and column_kind("municipality") == "label"
    assert format_value(-1234.4, "money", language="da") == "\u22121.234"  # the typographic minus
    assert format_value(float("inf"), "decimal") == "∞"


def test_wide_tables_scroll_inside_their_own_box_and_long_ones_are_cut():
    wide = pd.DataFrame({f"column_{i}": range(80) for i in range(16)})
    shown = readable(wide, max_rows=60, language="en")
    assert shown.truncated == 20 and len(shown.frame) == 60
    assert shown.to_html().startswith('<div class="tbox">')


def test_notebook_displays_use_the_same_layer(table):
    html = notebook_html(table)
    assert "13,160" in html and "12.3%" in html and "e-134" not in html
    table.attrs["progression.disclosed"] = "t"
    table.attrs["progression.suppressed"] = {"n_persons": [2]}
    assert "–" in notebook_html(table)  # the p-value of row 3 is missing but was not suppressed
    assert "<table" in notebook_html(table["n_persons"])  # a Series too
