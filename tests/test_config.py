"""Parameter files: extends, strictness, messages that name the file and the key."""

from pathlib import Path

import pytest

from progression.chain.cli import main
from progression.config import Params, load_params
from progression.exceptions import ParameterError

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_default_and_ci_load():
    default = load_params(ROOT / "params" / "default.yaml")
    ci = load_params(ROOT / "params" / "ci.yaml")
    assert default.data.synthetic.scale == 1.0
    assert ci.data.synthetic.scale < default.data.synthetic.scale
    assert ci.run.seed == default.run.seed  # inherited through extends
    assert ci.run.name == "ci"


def test_extends_overrides_only_given_keys(tmp_path):
    base = write(tmp_path, "run: {name: base, seed: 7}\ndisclosure: {min_cell_size: 10}\n", "base.yaml")
    child = write(tmp_path, f"extends: {base.name}\nrun: {{name: child}}\n")
    params = load_params(child)
    assert (params.run.name, params.run.seed, params.disclosure.min_cell_size) == ("child", 7, 10)


@pytest.mark.parametrize(
    "text, key, reason",
    [
        ("run: {seeed: 3}", "run.seeed", "unknown key"),
        ("bogus: {a: 1}", "bogus", "unknown key"),
        ("disclosure: {min_cell_size: 2}", "disclosure.min_cell_size", "greater than or equal to 3"),
        ("data: {synthetic: {scale: abc}}", "data.synthetic.scale", "valid number"),
        ("data: {source: files}", "data", "no 'files' section"),
        ("data: {synthetic: {start_year: 2020, end_year: 2010}}", "data.synthetic.end_year", "before start_year"),
    ],
)
def test_bad_parameters_name_file_and_key(tmp_path, text, key, reason):
    path = write(tmp_path, text)
    with pytest.raises(ParameterError, match=reason) as err:
        load_params(path)
    assert str(err.value).splitlines()[0].startswith(f"{path}: {key}: ")


def test_staircase_rejects_paragraph_on_two_steps(tmp_path):
    text = """
staircase:
  steps:
    - {name: none, level: 0}
    - {name: a, level: 1, paragraphs: [SEL85]}
    - {name: b, level: 2, paragraphs: [SEL85]}
"""
    with pytest.raises(ParameterError, match="paragraph SEL85 is on two steps"):
        load_params(write(tmp_path, text))


def test_extends_cycle_is_an_error(tmp_path):
    write(tmp_path, "extends: b.yaml\n", "a.yaml")
    write(tmp_path, "extends: a.yaml\n", "b.yaml")
    with pytest.raises(ParameterError, match="cycle"):
        load_params(tmp_path / "a.yaml")


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(ParameterError, match="not found"):
        load_params(tmp_path / "nope.yaml")


def test_show_prints_resolved_parameters(capsys):
    assert main(["params", "--show", str(ROOT / "params" / "ci.yaml")]) == 0
    out = capsys.readouterr().out
    assert "name: ci" in out and "scale: 0.05" in out and "extends" not in out
    assert Params.model_validate(__import__("yaml").safe_load(out)).run.name == "ci"


def test_cli_exits_non_zero_on_bad_parameters(tmp_path, capsys):
    path = write(tmp_path, "run: {seeed: 3}")
    assert main(["params", "--show", str(path)]) == 2
    assert "run.seeed: unknown key" in capsys.readouterr().err


def test_a_key_given_twice_is_refused_with_both_lines(tmp_path):
    path = write(tmp_path, "disclosure:\n  min_cell_size: 10\nrun: {name: a}\ndisclosure:\n  min_cell_size: 5\n")
    with pytest.raises(ParameterError) as err:
        load_params(path)
    assert str(err.value).startswith(f"{path}: key 'disclosure' appears twice, on lines 1 and 4")


def test_a_nested_key_given_twice_is_named_by_its_path(tmp_path):
    path = write(tmp_path, "transitions:\n  start_year: 2015\n  start_year: 2016\n")
    with pytest.raises(ParameterError, match=r"key 'transitions.start_year' appears twice, on lines 2 and 3"):
        load_params(path)


def test_a_missing_extends_names_the_file_and_line_that_asked(tmp_path):
    path = write(tmp_path, "# my analysis\nextends: nosuch.yaml\n")
    with pytest.raises(ParameterError) as err:
        load_params(path)
    assert str(err.value) == f"{path}, line 2: extends: parameter file not found: {tmp_path / 'nosuch.yaml'}"


def test_yaml_errors_name_the_line(tmp_path):
    path = write(tmp_path, "run:\n  name: a\n   seed: 3\n")
    with pytest.raises(ParameterError, match=rf"^{path}, line 3: not valid YAML"):
        load_params(path)


@pytest.mark.parametrize("text, key", [
    ("transitions: {start_year: 2020, end_year: 2015}", "transitions.end_year"),
    ("transitions: {start_year: 2030}", "transitions.end_year"),  # against the default end year
    ("transitions: {flow_years: [2022, 2020]}", "transitions.flow_years"),
    ("variation: {panel_years: [2010, 2008]}", "variation.panel_years"),
    ("fund: {trial_years: [2020, 2015]}", "fund.trial_years"),
    ("fund: {eligible_ages: {ips: [60, 18]}}", "fund.eligible_ages"),
    ("fund: {event_window: [3, -4]}", "fund.event_window"),
    ("data: {rules: {first_date: 2020-01-01, extract_end: 2010-12-31}}", "data.rules.extract_end"),
])
def test_first_before_last_in_every_section_with_years(tmp_path, text, key):
    with pytest.raises(ParameterError) as err:
        load_params(write(tmp_path, text))
    assert str(err.value).splitlines()[0].startswith(f"{tmp_path / 'p.yaml'}: {key}: ")


def test_extract_directory_is_relative_to_the_file_that_gives_it(tmp_path):
    (tmp_path / "extract").mkdir()
    write(tmp_path / "extract", "data:\n  source: files\n  files: {directory: ., tables: {spells: s.csv}}\n",
          "base.yaml")
    child = write(tmp_path, "extends: extract/base.yaml\nrun: {name: child}\n")
    assert load_params(child).data.files.directory == tmp_path / "extract"


@pytest.mark.parametrize("text, key, reason", [
    ("data: {files: {directory: ., tables: {spells: s.csv}, encoding: latin-9x}}", "data.files.encoding",
     "unknown encoding 'latin-9x'"),
    ("data: {files: {directory: ., tables: {spells: {file: s.csv, encoding: nope}}}}",
     "data.files.tables.spells.encoding", "unknown encoding 'nope'"),
    ("data: {files: {directory: ., tables: {spells: s.csv}, csv_decimal: ',', csv_separator: ';', csv_thousands: ','}}",
     "data.files", r"csv_thousands \(','\) is also"),
    ("data: {rules: {overlapping_spells: keep}}", "data.rules.overlapping_spells", "'reject' or 'merge'"),
])
def test_reading_and_rule_parameters_are_checked(tmp_path, text, key, reason):
    with pytest.raises(ParameterError, match=reason) as err:
        load_params(write(tmp_path, text))
    assert str(err.value).splitlines()[0].startswith(f"{tmp_path / 'p.yaml'}: {key}: ")


def test_a_table_file_inherits_the_source_settings():
    from progression.config import FileParams

    files = FileParams(directory=".", tables={"spells": "s.csv", "persons": {"file": "p.csv", "encoding": "cp1252"}},
                       csv_separator=";", csv_decimal=",", encoding="latin-1")
    assert (files.table("spells").encoding, files.table("spells").csv_decimal) == ("latin-1", ",")
    assert (files.table("persons").encoding, files.table("persons").csv_separator) == ("cp1252", ";")
