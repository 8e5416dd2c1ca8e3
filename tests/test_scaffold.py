"""``progression new``: a new analysis scaffolded, run in the chain and shown in the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from progression.chain.cli import main
from progression.chain.runner import run_chain
from progression.chain.scaffold import new_notebook
from progression.chain.spec import load_chain, notebooks_dir
from progression.exceptions import ParameterError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def notebooks(tmp_path):
    return Path(shutil.copytree(notebooks_dir(), tmp_path / "notebooks"))


def test_the_scaffold_takes_a_free_number_and_is_declared(notebooks):
    path = new_notebook("municipal_trends", after="30_spending_variation", directory=notebooks)
    chain = load_chain(notebooks)
    name = path.stem
    assert 30 < int(name[:2]) < 40 and name in chain.names
    assert chain[name].needs == ("00_data",) and name in chain["90_report"].needs
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and all(not getattr(c, "outputs", None) for c in nb.cells)
    default = new_notebook("other", directory=notebooks)
    assert int(default.stem[:2]) < 90 and default.stem in load_chain(notebooks)["90_report"].needs


def test_bad_names_and_duplicates_are_refused(notebooks):
    with pytest.raises(ParameterError, match="lower-case"):
        new_notebook("Bad Name", directory=notebooks)
    new_notebook("trends", directory=notebooks)
    with pytest.raises(ParameterError, match="already in the chain"):
        new_notebook("trends", directory=notebooks)


@pytest.mark.notebooks
def test_a_scaffolded_notebook_runs_in_the_chain_and_appears_in_the_report(notebooks, tmp_path):
    path = new_notebook("municipal_trends", directory=notebooks)
    params = tmp_path / "p.yaml"
    params.write_text(f"extends: {ROOT / 'params' / 'ci.yaml'}\n"
                      f"run: {{name: new, output_dir: {tmp_path / 'runs'}, "
                      f"notebooks: [00_data, {path.stem}, 90_report]}}\n")
    result = run_chain(params, notebooks=notebooks, progress=False)
    assert result.executed == ["00_data", path.stem, "90_report"]
    assert (result.run_dir / "results" / "municipal_trends_citizens_per_step.csv").exists()
    assert (result.run_dir / "figures" / "municipal_trends_citizens_per_step.png").exists()
    report = (result.run_dir / "report.html").read_text()
    assert "Citizens per step and year (worked example of a new analysis)." in report
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["disclosure"]["municipal_trends_citizens_per_step"]["count_columns"] == ["n_persons"]


def test_the_command_line_scaffolds(monkeypatch, notebooks, capsys):
    monkeypatch.setattr("progression.chain.scaffold.notebooks_dir", lambda: notebooks)
    assert main(["new", "trends", "--after", "20"]) == 0
    assert "created" in capsys.readouterr().out
    assert any(n.endswith("_trends") for n in load_chain(notebooks).names)
