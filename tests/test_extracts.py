"""Register extracts as they come: a corpus of broken extracts and parameter files, and valid variants.

The corpus is in ``tests/fixtures/extracts/`` (written by its ``make_corpus.py``). Every broken case
must be rejected by ``progression validate`` with exit code 2, a first line that names the table, the
column (or the key), the check and example rows (or the file and the line), no traceback, and nothing
written. Every valid variant (whole numbers, a byte-order mark, Latin-1 or cp1252 declared, ``;`` with
decimal comma, Excel) must validate to tables identical to the plain UTF-8 CSV's.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from progression.chain.cli import main
from progression.config import load_params
from progression.exceptions import DataContractError
from progression.schemas import RegisterRules, conform, merge_overlapping_spells, validate_tables
from progression.sources.inputs import load_inputs

CORPUS = Path(__file__).resolve().parent / "fixtures" / "extracts"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
VARIANTS = sorted(p.name for p in (CORPUS / "valid").iterdir())
NOISE = re.compile(r"Traceback|Warning|Kernel is running|KeyboardInterrupt")


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        h.update(str(path.relative_to(root)).encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def corpus_digest() -> str:
    return tree_digest(CORPUS)


def test_the_corpus_has_at_least_40_broken_cases_and_the_valid_variants():
    assert len(CASES) >= 40
    assert len({c["name"] for c in CASES}) == len(CASES)
    assert {"whole_numbers", "utf8_bom", "latin1_declared", "semicolon_decimal_comma", "excel"} <= set(VARIANTS)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_broken_case_is_rejected_clearly(case, tmp_path, monkeypatch, capfd, corpus_digest):
    monkeypatch.chdir(tmp_path)  # a run folder would appear here
    assert main(["validate", str(CORPUS / "broken" / case["name"] / "params.yaml")]) == 2
    out, err = capfd.readouterr()
    first = err.splitlines()[0]
    assert first.startswith("error: ")
    for expected in case["first_line"]:
        assert expected in first, f"{expected!r} not in the first line: {first}"
    assert not NOISE.search(out + err), err
    assert out == ""
    assert list(tmp_path.iterdir()) == []
    assert tree_digest(CORPUS) == corpus_digest


def reference_tables() -> dict[str, pd.DataFrame]:
    return load_inputs(load_params(CORPUS / "base" / "params.yaml")).tables


@pytest.mark.parametrize("variant", VARIANTS)
def test_valid_variant_validates_to_the_plain_csv_tables(variant, capfd):
    expected = reference_tables()
    tables = load_inputs(load_params(CORPUS / "valid" / variant / "params.yaml")).tables
    assert tables.keys() == expected.keys()
    for name in expected:
        pd.testing.assert_frame_equal(tables[name], expected[name], obj=f"{variant}: {name}")
    assert not NOISE.search("".join(capfd.readouterr()))


def test_the_reference_keeps_codes_text_and_whole_numbers_decimal():
    tables = reference_tables()
    accounts, assessments, costs = tables["municipal_accounts"], tables["assessments"], tables["unit_costs"]
    assert accounts["function"].tolist()[:3] == ["53850", "53851", "02510"]  # the leading zero survives
    assert set(assessments["item"]) == {"1", "2", "3", "4", "5"}  # item codes 1-5 are text
    assert assessments["score"].dtype == np.float64 and costs["cost_dkk"].dtype == np.float64
    assert costs["item"].iloc[0] == "Længerevarende botilbud (§108)" and costs["source"].iloc[0] == "SØM-vidensbasen"
    assert str(tables["spells"]["start_date"].dtype).startswith("datetime64")
    assert tables["persons"]["childhood_services"].dtype == bool


def test_validate_lists_the_tables(capfd):
    assert main(["validate", str(CORPUS / "valid" / "excel" / "params.yaml")]) == 0
    out = capfd.readouterr().out
    assert "spells" in out and "municipal_accounts" in out and "all input tables pass" in out


# ----------------------------------------------------------------------------------------------
# The rules and casts one by one

def spells(**columns) -> pd.DataFrame:
    base = {"spell_id": [1, 2, 3], "person_id": [1, 1, 2], "paragraph": ["SEL85", "SEL85", "SEL108"],
            "municipality": [101, 101, 751],
            "start_date": pd.to_datetime(["2015-01-01", "2018-01-01", "2016-05-01"]),
            "end_date": pd.to_datetime(["2018-01-01", None, None])}
    return pd.DataFrame({**base, **columns})


def persons(**columns) -> pd.DataFrame:
    base = {"person_id": [1, 2], "birth_year": [1980, 1990], "sex": ["K", "M"],
            "target_group": ["sindslidelse", "begge"], "severity": [1, 2], "municipality": [101, 751],
            "childhood_services": [False, True], "death_date": pd.to_datetime([None, None]),
            "emigration_date": pd.to_datetime([None, None])}
    return pd.DataFrame({**base, **columns})


RULES = RegisterRules(last_date=pd.Timestamp("2024-12-31").date())


def test_late_closure_within_the_tolerance_is_kept():
    late = spells(end_date=pd.to_datetime(["2018-03-01", None, None]))  # 59 days after the next start
    out = validate_tables({"persons": persons(), "spells": late}, RULES)
    pd.testing.assert_frame_equal(out["spells"], late)


def test_an_open_spell_overlapped_by_a_later_one_is_rejected():
    open_first = spells(end_date=pd.to_datetime([None, None, None]))
    with pytest.raises(DataContractError) as err:
        validate_tables({"persons": persons(), "spells": open_first}, RULES)
    assert str(err.value).startswith("table 'spells', column 'start_date', check 'no overlap")
    assert "row 1: from 2018-01-01, overlapping row 0 (still open)" in str(err.value)


def test_merge_joins_overlapping_spells_from_first_start_to_last_end():
    overlapping = spells(end_date=pd.to_datetime(["2019-06-30", "2020-12-31", None]))
    merge = RegisterRules(last_date=RULES.last_date, overlapping_spells="merge")
    with pytest.warns(UserWarning, match="1 spell"):
        out = validate_tables({"persons": persons(), "spells": overlapping}, merge)
    merged = out["spells"]
    assert merged["spell_id"].tolist() == [1, 3]
    assert merged["end_date"].iloc[0] == pd.Timestamp("2020-12-31")
    assert merged["start_date"].iloc[0] == pd.Timestamp("2015-01-01")


def test_merge_keeps_an_open_end_and_the_original_order():
    rows = spells(spell_id=[7, 5, 3], person_id=[2, 1, 1], paragraph=["SEL85", "SEL85", "SEL85"],
                  start_date=pd.to_datetime(["2016-01-01", "2015-01-01", "2017-01-01"]),
                  end_date=pd.to_datetime(["2017-01-01", None, "2018-01-01"]))
    out, joined = merge_overlapping_spells(rows, 90)
    assert joined == 1
    assert out["spell_id"].tolist() == [7, 5] and pd.isna(out["end_date"].iloc[1])


def test_a_missing_start_date_does_not_break_the_overlap_rule():
    rows = spells(start_date=pd.to_datetime([None, None, "2016-05-01"]))
    with pytest.raises(DataContractError) as err:
        validate_tables({"persons": persons(), "spells": rows}, RULES)
    assert str(err.value).startswith("table 'spells', column 'start_date', check 'not_nullable'")
    assert "overlap" not in str(err.value)


def test_text_in_a_numeric_column_leaks_no_type_error():
    """The issue's case: the range check across columns used to report a TypeError first."""
    scores = pd.DataFrame({"person_id": [1, 1], "assessment_date": pd.to_datetime(["2021-01-01"] * 2),
                           "instrument": ["WHO5", "WHO5"], "item": ["1", "2"], "score": ["3", "x"]})
    for cast in (False, True):
        with pytest.raises(DataContractError) as err:
            validate_tables({"assessments": scores}, RULES, cast=cast)
        text = str(err.value)
        assert text.startswith("table 'assessments', column 'score', check ")
        assert "TypeError" not in text and "row 1: " in text.splitlines()[0]


def test_a_missing_column_leaks_no_key_error():
    with pytest.raises(DataContractError) as err:
        validate_tables({"spells": spells().drop(columns="end_date")}, RULES)
    assert str(err.value).startswith("table 'spells', column 'end_date', check 'column missing'")
    assert "KeyError" not in str(err.value)


def test_an_empty_table_is_named_as_empty():
    with pytest.raises(DataContractError) as err:
        validate_tables({"spells": spells().iloc[:0]}, RULES)
    assert str(err.value) == "table 'spells', column '(table)', check 'not empty': the table has no rows"


@pytest.mark.parametrize("column, values, expected", [
    ("score", [3, 4], [3.0, 4.0]),  # whole numbers into a decimal column
    ("score", ["3", "4.5"], [3.0, 4.5]),  # numbers as text into a decimal column
    ("item", [1, 2], ["1", "2"]),  # numeric codes into a text column
    ("item", [1.0, 2.0], ["1", "2"]),  # as a sheet gives them
    ("person_id", [1.0, 2.0], [1, 2]),  # whole decimals into an integer column
])
def test_lossless_casts(column, values, expected):
    frame = pd.DataFrame({"person_id": [1, 2], "assessment_date": ["2021-01-01", "2021-02-01"],
                          "instrument": ["WHO5", "WHO5"], "item": ["1", "2"], "score": [1.0, 2.0]})
    frame[column] = values
    out, failures = conform("assessments", frame)
    assert failures == []
    assert out[column].tolist() == expected
    assert str(out["assessment_date"].dtype).startswith("datetime64")


@pytest.mark.parametrize("column, values, check, example", [
    ("person_id", [1.5, 2.0], "whole number", 1.5),
    ("score", ["3", "three"], "number", "three"),
    ("person_id", [2**53 + 1, 1], None, None),  # an integer column keeps big integers
])
def test_lossy_casts_name_the_value(column, values, check, example):
    frame = pd.DataFrame({"person_id": [1, 2], "assessment_date": pd.to_datetime(["2021-01-01"] * 2),
                          "instrument": ["WHO5", "WHO5"], "item": ["1", "2"], "score": [1.0, 2.0]})
    frame[column] = values
    _, failures = conform("assessments", frame)
    if check is None:
        assert failures == []
        return
    [(name, found, bad)] = failures
    assert name == column and found.startswith(check) and bad.tolist() == [example]


def test_a_big_integer_does_not_go_silently_into_a_decimal_column():
    costs = pd.DataFrame({"item": ["x"], "payer": ["kommune"], "unit": ["year"], "cost_dkk": [2**53 + 1],
                          "price_year": [2024], "source": ["s"]})
    _, [(column, check, bad)] = conform("unit_costs", costs)
    assert column == "cost_dkk" and "2^53" in check and bad.tolist() == [2**53 + 1]


def test_synthetic_data_pass_the_register_rules_unchanged():
    from progression.config import StaircaseParams, SyntheticParams
    from progression.sources.synthetic import generate

    data = generate(SyntheticParams(scale=0.05), StaircaseParams(), seed=20240101)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = validate_tables(data.tables, RegisterRules(last_date=pd.Timestamp("2024-12-31").date()))
    assert all(out[name] is data.tables[name] for name in data.tables)


# ----------------------------------------------------------------------------------------------
# Through the chain: the same messages and exit codes when 00_data raises them

def chain_params(tmp_path: Path, extends: Path) -> Path:
    params = tmp_path / "run.yaml"
    params.write_text(f"extends: {extends}\nrun:\n  name: corpus\n  output_dir: {tmp_path / 'runs'}\n"
                      "  notebooks: [00_data, 90_report]\n", encoding="utf-8")
    return params


@pytest.mark.notebooks
@pytest.mark.parametrize("name", ["spell_in_2091", "latin1_undeclared", "text_in_score", "duplicate_section"])
def test_a_broken_case_stops_the_chain_with_exit_2_and_no_results(name, tmp_path, capfd):
    case = next(c for c in CASES if c["name"] == name)
    params = chain_params(tmp_path, CORPUS / "broken" / name / "params.yaml")
    assert main(["run", str(params), "--quiet"]) == 2
    out, err = capfd.readouterr()
    first = err.splitlines()[0]
    assert all(expected in first for expected in case["first_line"]), first
    assert not NOISE.search(out + err), err
    runs = tmp_path / "runs"
    folders = [d for d in runs.iterdir() if d.name != "latest"] if runs.exists() else []
    assert not (runs / "latest").exists()
    for folder in folders:  # a data error leaves the partly executed notebook, never a result
        assert list((folder / "results").glob("*")) == []
        assert json.loads((folder / "manifest.json").read_text())["status"] == "failed"


@pytest.mark.notebooks
def test_a_valid_variant_runs_through_the_chain(tmp_path, capfd):
    params = chain_params(tmp_path, CORPUS / "valid" / "latin1_semicolon_whole" / "params.yaml")
    assert main(["run", str(params), "--quiet"]) == 0
    out, err = capfd.readouterr()
    assert not NOISE.search(out + err), err
    latest = (tmp_path / "runs" / "latest").resolve()
    assert json.loads((latest / "manifest.json").read_text())["status"] == "succeeded"
    assert not list((latest / "notebooks").glob("*.kernel.log"))
    data = pd.read_parquet(latest / "data" / "unit_costs.parquet")
    assert data["source"].iloc[0] == "SØM-vidensbasen"


def test_an_empty_date_column_gets_the_same_type_from_a_csv_file_and_a_sheet():
    frame = persons().drop(columns=["death_date", "emigration_date"])
    from_csv = frame.assign(death_date=pd.Series([np.nan, np.nan], dtype="str"),
                            emigration_date=pd.Series([np.nan, np.nan], dtype="str"))
    from_sheet = frame.assign(death_date=[np.nan, np.nan], emigration_date=[np.nan, np.nan])
    (a, fa), (b, fb) = conform("persons", from_csv), conform("persons", from_sheet)
    assert fa == fb == []
    pd.testing.assert_frame_equal(a, b)


def test_a_separator_at_the_end_of_every_line_adds_no_column(tmp_path):
    base = CORPUS / "base"
    for path in base.glob("*.csv"):
        lines = path.read_text(encoding="utf-8").splitlines()
        (tmp_path / path.name).write_text("".join(f"{line},\n" for line in lines), encoding="utf-8")
    params = tmp_path / "params.yaml"
    params.write_text(f"extends: {base / 'params.yaml'}\ndata:\n  files:\n    directory: {tmp_path}\n",
                      encoding="utf-8")
    tables, expected = load_inputs(load_params(params)).tables, reference_tables()
    for name in expected:
        pd.testing.assert_frame_equal(tables[name], expected[name])


def test_an_undeclared_utf16_file_is_named_with_the_encoding_to_declare(tmp_path):
    base = CORPUS / "base"
    (tmp_path / "spells.csv").write_bytes((base / "spells.csv").read_text(encoding="utf-8").encode("utf-16"))
    params = tmp_path / "params.yaml"
    params.write_text(f"extends: {base / 'params.yaml'}\ndata:\n  files:\n    tables:\n"
                      f"      spells: {tmp_path / 'spells.csv'}\n", encoding="utf-8")
    with pytest.raises(DataContractError, match=r"spells.csv, line 1: not UTF-8 .* probably utf-16"):
        load_inputs(load_params(params))
    declared = params.read_text().replace(f"spells: {tmp_path / 'spells.csv'}",
                                          f"spells: {{file: {tmp_path / 'spells.csv'}, encoding: utf-16}}")
    params.write_text(declared, encoding="utf-8")
    pd.testing.assert_frame_equal(load_inputs(load_params(params)).tables["spells"], reference_tables()["spells"])
