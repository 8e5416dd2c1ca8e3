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
