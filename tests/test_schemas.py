"""Data contracts: every broken input gives one clear error naming table, column, check and rows."""

import pandas as pd
import pytest

from progression.exceptions import DataContractError
from progression.schemas import SCHEMAS, municipality_codes, validate_tables


def persons(**over):
    df = pd.DataFrame({
        "person_id": [1, 2, 3], "birth_year": [1980, 1990, 2000], "sex": ["K", "M", "K"],
        "target_group": ["sindslidelse", "begge", "kognitivt_handicap"], "severity": [1, 2, 3],
        "municipality": [101, 751, 265], "childhood_services": [False, True, False],
        "death_date": pd.to_datetime([None, "2021-05-01", None]), "emigration_date": pd.to_datetime([None, None, None]),
    })
    return df.assign(**over)


def spells(**over):
    df = pd.DataFrame({
        "spell_id": [1, 2, 3], "person_id": [1, 2, 3], "paragraph": ["SEL85", "SEL108", "ABL105"],
        "municipality": [101, 751, 265], "start_date": pd.to_datetime(["2019-01-01", "2020-03-01", "2018-06-01"]),
        "end_date": pd.to_datetime(["2020-01-01", None, "2018-06-01"]),
    })
    return df.assign(**over)


def failure(tables) -> DataContractError:
    with pytest.raises(DataContractError) as err:
        validate_tables(tables)
    return err.value


def test_valid_tables_pass_unchanged():
    tables = {"persons": persons(), "spells": spells()}
    out = validate_tables(tables)
    pd.testing.assert_frame_equal(out["spells"], tables["spells"])


def test_98_municipalities_without_christianso():
    codes = municipality_codes()
    assert len(codes) == 98 and len(set(codes)) == 98 and 411 not in codes
    assert {101, 147, 751, 851, 825, 860} <= set(codes)


def test_municipality_list_matches_public_reference(reference_data):
    path = reference_data / "municipality_codes_regions" / "magnuslarsen_municipalities_data.csv"
    if not path.exists():
        pytest.skip("municipality reference file absent")
    ref = pd.read_csv(path)
    assert set(ref["lau_1"]) - {411} == set(municipality_codes())


def test_missing_column_named_with_columns_present():
    err = failure({"spells": spells().drop(columns="paragraph")})
    assert "column 'paragraph', check 'column missing'" in str(err)
    assert "columns present: spell_id, person_id, municipality" in str(err)


def test_wrong_type_named():
    err = failure({"persons": persons(birth_year=[1980.5, 1990.0, 2000.0])})
    assert "table 'persons', column 'birth_year', check 'dtype('int64')'" in str(err)


def test_unknown_kommunekode_and_paragraph_named_with_rows():
    err = failure({"spells": spells(municipality=[101, 411, 999], paragraph=["SEL85", "SEL666", "SEL108"])})
    text = str(err)
    assert "column 'municipality', check 'isin(98 allowed values)': 2 failing (row 1: 411, row 2: 999)" in text
    assert "column 'paragraph', check 'isin(16 allowed values)': 1 failing (row 1: SEL666)" in text


def test_end_before_start_named_with_row():
    err = failure({"spells": spells(end_date=pd.to_datetime(["2018-01-01", None, None]))})
    assert "column '(row)', check 'end_date on or after start_date': 1 failing (row 0)" in str(err)


def test_duplicate_key_named():
    err = failure({"spells": spells(spell_id=[1, 1, 2])})
    assert "column 'spell_id', check 'field_uniqueness': 2 failing" in str(err)


def test_spell_of_unknown_person_named():
    err = failure({"persons": persons(), "spells": spells(person_id=[1, 2, 99])})
    assert "table 'spells', column 'person_id', check 'exists in persons.person_id': 1 failing (row 2: 99)" in str(err)


def test_negative_cost_named():
    costs = pd.DataFrame({"item": ["SEL108"], "payer": ["kommune"], "unit": ["year"], "cost_dkk": [-5.0],
                          "price_year": [2024], "source": ["assumption"]})
    err = failure({"unit_costs": costs})
    assert "table 'unit_costs', column 'cost_dkk', check 'greater_than_or_equal_to(0)'" in str(err)


def test_all_failures_of_all_tables_in_one_report():
    err = failure({"persons": persons(sex=["K", "X", "M"]), "spells": spells(paragraph=["SEL85", "nope", "SEL108"])})
    assert set(err.failures["table"]) == {"persons", "spells"}
    lines = str(err).splitlines()
    assert lines[0] == "table 'persons', column 'sex', check 'isin(['K', 'M'])': 1 failing (row 1: X)"
    assert lines[1] == "2 data-contract checks failed in all:"
    assert lines[3] == "  - table 'spells', column 'paragraph', check 'isin(16 allowed values)': 1 failing (row 1: nope)"


def test_vum_not_relevant_code_is_valid_but_out_of_range_scores_are_not():
    base = dict(person_id=[1, 1, 1], assessment_date=pd.to_datetime(["2021-01-01"] * 3),
                instrument=["VUM", "VUM", "WHO5"], item=["egenomsorg", "mobilitet", "1"])
    validate_tables({"assessments": pd.DataFrame({**base, "score": [9.0, 2.0, 5.0]})})
    err = failure({"assessments": pd.DataFrame({**base, "score": [5.0, 2.0, 6.0]})})
    assert "score within the instrument's item range" in str(err) and "row 0, row 2" in str(err)


def test_unknown_table_named():
    with pytest.raises(DataContractError, match="unknown table"):
        validate_tables({"spels": spells()})


def test_every_contract_is_strict():
    assert all(model.Config.strict is True for model in SCHEMAS.values())
