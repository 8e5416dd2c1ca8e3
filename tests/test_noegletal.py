"""Tests of the noegletal.dk export reader: own fixture in the export format, error paths, real samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from progression.exceptions import DataContractError
from progression.sources.noegletal import parse_danish_number, read_noegletal

FIXTURE = Path(__file__).parent / "fixtures" / "noegletal" / "nwRap-fixture.csv"
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference-data"


def reference(relative: str) -> Path:
    path = REFERENCE / relative
    if not path.exists():
        pytest.skip(f"reference file {relative} not present")
    return path


def test_fixture_tidy_shape_and_columns():
    frame = read_noegletal(FIXTURE)
    assert list(frame.columns) == ["municipality", "name", "year", "variable", "value", "missing", "flag"]
    # 2 variables x 4 rows (3 municipalities and the national row) x 5 years, nothing dropped
    assert len(frame) == 40
    assert frame["variable"].unique().tolist() == [
        "Udgifter til udsatte voksne og handicappede pr. 18-64-årig",
        "Ændring i nettodriftsudgifter (pct.)",
    ]
    assert frame["year"].unique().tolist() == [2019, 2020, 2021, 2022, 2023]


def test_fixture_numbers_missing_and_totals():
    frame = read_noegletal(FIXTURE).set_index(["variable", "name", "year"])
    spending = "Udgifter til udsatte voksne og handicappede pr. 18-64-årig"
    assert frame.loc[(spending, "København Kommune", 2019), "value"] == pytest.approx(10512.4)
    assert frame.loc[("Ændring i nettodriftsudgifter (pct.)", "Læsø Kommune", 2019), "value"] == pytest.approx(-2.0)
    missing = frame.loc[frame["missing"]]
    assert (missing["flag"] == "M").all() and missing["value"].isna().all()
    assert len(missing) == 2 * 4 + 2 + 2  # 2023 for every row, plus 2022 København and 2020 Læsø per variable
    national = frame.loc[(spending, "Hele landet", 2019)]
    assert pd.isna(national["municipality"])


def test_fixture_attrs_hold_title_legend_footer():
    frame = read_noegletal(FIXTURE.read_bytes())
    assert frame.attrs["title"] == ["De Kommunale Nøgletal"]
    assert frame.attrs["legend"] == {"M": "Det pågældende nøgletal mangler for året."}
    assert frame.attrs["footer"] == ["Indenrigs- og Sundhedsministeriet d. 1. januar 2025"]


def test_latin1_and_utf8_give_the_same_frame():
    text = FIXTURE.read_bytes().decode("latin-1")
    pd.testing.assert_frame_equal(read_noegletal(FIXTURE), read_noegletal(("\ufeff" + text).encode("utf-8")))


def test_round_trip_of_danish_numbers():
    rng = np.random.default_rng(3)
    values = np.round(rng.normal(0, 1e6, 500), 1)
    for value in values:
        integer, fraction = f"{abs(value):.1f}".split(".")
        grouped = f"{int(integer):,}".replace(",", ".")
        text = ("-" if value < 0 else "") + f"{grouped},{fraction}"
        assert parse_danish_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["76.2", "1.23,4", "12,", "abc", "1 234"])
def test_ambiguous_numbers_are_rejected(text):
    assert parse_danish_number(text) is None


def test_bad_cell_is_reported_with_line_and_year():
    text = FIXTURE.read_bytes().decode("latin-1").replace("9.912,3", "9.912.3x")
    with pytest.raises(DataContractError, match=r"1 cell\(s\).*line 8 'Ærø Kommune' 2020: '9.912.3x'"):
        read_noegletal(text)


def test_missing_header_is_reported():
    with pytest.raises(DataContractError, match="no header row with 'Kom.nr'"):
        read_noegletal("a;b;c\n1;2;3\n")


def test_single_variable_file_takes_the_header_prefix():
    text = "\ufeffKOMNAVN;Kom.nr;pop_2021;pop_2022\r\nLæsø;825;1.791;1.785\r\nI alt;;1.791;1.785\r\n"
    frame = read_noegletal(text)
    assert frame["variable"].unique().tolist() == ["pop"]
    assert frame["value"].tolist() == [1791, 1785, 1791, 1785]
    assert read_noegletal(text, variable="population")["variable"].unique().tolist() == ["population"]


# ---------------------------------------------------------------------------------------------
# real files (skipped when the reference folder is absent)
# ---------------------------------------------------------------------------------------------

def test_reference_export_sample():
    frame = read_noegletal(reference("noegletal_export_sample/nwRap-10Sep2024-101803.csv"))
    assert frame["variable"].unique().tolist() == ["Andel udpendlere", "Andel indpendlere"]
    assert sorted(frame["municipality"].unique()) == [155, 187, 482, 492, 563, 665, 741, 825]
    assert frame["year"].min() == 2007 and frame["year"].max() == 2024
    assert len(frame) == 2 * 8 * 18
    # the export marks 2023 and 2024 as missing for every municipality, and nothing else
    assert set(frame.loc[frame["missing"], "year"]) == {2023, 2024}
    assert frame.loc[frame["missing"]].shape[0] == 2 * 8 * 2
    assert frame.loc[~frame["missing"], "value"].between(0, 100).all()  # shares in percent
    assert "M" in frame.attrs["legend"]


def test_reference_population_file_total_row_equals_sum():
    frame = read_noegletal(reference("noegletal_population_leafletexploration/kommune_indbyggere_2007_2022.csv"))
    municipalities = frame.loc[frame["municipality"].notna()]
    assert municipalities["municipality"].nunique() == 98
    # the upstream header typo '2pop_014' still yields 2014
    assert sorted(frame["year"].unique()) == list(range(2007, 2023))
    sums = municipalities.groupby("year")["value"].sum()
    totals = frame.loc[frame["name"] == "I alt"].set_index("year")["value"]
    pd.testing.assert_series_equal(sums, totals, check_names=False)
