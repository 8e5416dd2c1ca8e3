"""The chain end to end: run folder, manifest, reproducibility, failure handling, disclosure."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from progression.chain.cli import main
from progression.config import load_params

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.notebooks


def run(params: Path, *extra: str) -> int:
    return main(["run", str(params), "--quiet", *extra])


def set_output_dir(params: Path, out: Path) -> None:
    text = params.read_text().replace("run:\n  name: extract\n", f"run:\n  name: extract\n  output_dir: {out}\n")
    params.write_text(text)


@pytest.fixture
def extract_params(extract_dir: Path, tmp_path: Path) -> Path:
    params = extract_dir / "params.yaml"
    set_output_dir(params, tmp_path / "runs")
    return params


def results_hashes(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())["outputs"]["results"]


def test_run_writes_folder_manifest_and_report(extract_params, tmp_path):
    assert run(extract_params) == 0
    latest = (tmp_path / "runs" / "latest").resolve()
    manifest = json.loads((latest / "manifest.json").read_text())
    assert manifest["status"] == "succeeded"
    assert [n["name"] for n in manifest["notebooks"]] == ["00_data", "90_report"]
    assert manifest["inputs"]["source_files"].keys() == {"persons", "spells"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in manifest["outputs"]["results"].values())
    assert manifest["versions"]["pandera"] != "not installed"
    assert manifest["disclosure"]["persons_by_target_group"]["rows"] == 6
    assert (latest / "report.html").read_text().count("<h2>") >= 2
    for name in ("00_data", "90_report"):
        assert (latest / "notebooks" / f"{name}.ipynb").exists()


def test_same_parameters_give_identical_results(extract_params, tmp_path):
    assert run(extract_params) == 0
    first = (tmp_path / "runs" / "latest").resolve()
    assert run(extract_params) == 0
    second = (tmp_path / "runs" / "latest").resolve()
    assert first != second
    assert results_hashes(first) == results_hashes(second) and results_hashes(first)


def test_broken_input_stops_the_chain_and_writes_no_results(extract_params, tmp_path, capfd):
    assert run(extract_params) == 0
    good = (tmp_path / "runs" / "latest").resolve()
    spells = extract_params.parent / "spells.csv"
    df = pd.read_csv(spells, sep=";")
    df.loc[2, "SLUTDATO"] = "2000-01-01"  # end before start
    df.loc[4, "PARAGRAF"] = "SEL999"  # unknown paragraph
    df.to_csv(spells, sep=";", index=False)
    capfd.readouterr()
    assert run(extract_params) == 2  # a user error, though raised inside notebook 00_data
    err = capfd.readouterr().err
    assert err.startswith("error: table 'spells', column 'paragraph', check 'isin(16 allowed values)': "
                          "1 failing (spells.csv line 6: SEL999)\n")
    assert "check 'end_date on or after start_date'" in err and "(raised in notebook 00_data, cell" in err
    assert not re.search("Traceback|Kernel is running|KeyboardInterrupt", err)
    assert (tmp_path / "runs" / "latest").resolve() == good
    failed = [d for d in (tmp_path / "runs").iterdir() if d.is_dir() and d.resolve() != good and d.name != "latest"]
    assert len(failed) == 1
    assert list((failed[0] / "results").glob("*")) == []
    assert json.loads((failed[0] / "manifest.json").read_text())["status"] == "failed"
    assert (failed[0] / "notebooks" / "00_data.ipynb").exists()  # kept for inspection


def write_notebook(folder: Path, name: str, code: str) -> None:
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                           "display_name": "Python 3"}})
    params = nbformat.v4.new_code_cell('params_path = ""\nrun_dir = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(code)]
    folder.mkdir(exist_ok=True)
    nbformat.write(nb, folder / f"{name}.ipynb")
    (folder / "chain.yaml").write_text(f"{name}: {{needs: [], params: [], reads: [], writes: []}}\n")


@pytest.mark.parametrize("code, exit_code, first_line", [
    ("from progression.exceptions import ParameterError\nraise ParameterError('transitions.period: no such period')",
     2, "error: transitions.period: no such period"),
    ("from progression.exceptions import DisclosureError\nraise DisclosureError(\"table 'x' has a person id\")",
     2, "error: table 'x' has a person id"),
    ("1 / 0", 1, "error: notebook 00_fails failed in cell 2 (execution count 3): ZeroDivisionError: division by zero"),
    ("import os\nos._exit(3)", 1, "error: notebook 00_fails failed in a cell: DeadKernelError: Kernel died"),
])
def test_exit_code_of_an_error_raised_in_a_notebook(tmp_path, monkeypatch, capfd, code, exit_code, first_line):
    """A user error raised in a notebook exits 2 with its message first; an internal failure exits 1."""
    import progression.chain.spec as spec

    notebooks = tmp_path / "notebooks"
    write_notebook(notebooks, "00_fails", code)
    monkeypatch.setattr(spec, "notebooks_dir", lambda: notebooks)
    params = tmp_path / "p.yaml"
    params.write_text(f"run: {{name: t, output_dir: {tmp_path / 'runs'}}}\n")
    capfd.readouterr()
    assert run(params) == exit_code
    out, err = capfd.readouterr()
    assert err.splitlines()[0] == first_line
    assert not re.search("Traceback|Kernel is running|KeyboardInterrupt", out + err)
    run_dir = next(d for d in (tmp_path / "runs").iterdir() if d.name != "latest")
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "failed"
    assert not (tmp_path / "runs" / "latest").exists()


def test_validate_reports_bad_input_without_a_run(extract_params, tmp_path, capsys):
    persons = extract_params.parent / "persons.csv"
    df = pd.read_csv(persons, sep=";")
    df.loc[0, "KOM"] = 411
    df.to_csv(persons, sep=";", index=False)
    assert main(["validate", str(extract_params)]) == 2
    assert "table 'persons', column 'municipality'" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_missing_mapped_column_is_named(extract_params, capsys):
    persons = extract_params.parent / "persons.csv"
    pd.read_csv(persons, sep=";").drop(columns="KOEN").to_csv(persons, sep=";", index=False)
    assert main(["validate", str(extract_params)]) == 2
    assert "mapped column(s) ['KOEN'] not in persons.csv" in capsys.readouterr().err


def test_only_reruns_one_notebook_in_an_earlier_run(extract_params, tmp_path):
    assert run(extract_params) == 0
    run_dir = (tmp_path / "runs" / "latest").resolve()
    (run_dir / "report.html").unlink()
    assert run(extract_params, "--only", "90_report", "--run-dir", str(run_dir)) == 0
    assert (run_dir / "report.html").exists()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert [n["name"] for n in manifest["notebooks"]] == ["00_data", "90_report"]  # the first run's record stays
    assert [(h["name"], h["reason"]) for h in manifest["history"]][-1] == ("90_report", "its outputs are missing "
                                                                             "or were changed")


def test_results_are_aggregates_above_the_minimum_cell_size(extract_params, tmp_path):
    assert run(extract_params) == 0
    latest = (tmp_path / "runs" / "latest").resolve()
    minimum = load_params(extract_params).disclosure.min_cell_size
    for path in (latest / "results").glob("*.csv"):
        df = pd.read_csv(path)
        assert not {"person_id", "cpr", "pnr"} & {c.lower() for c in df.columns}, path.name
        for col in [c for c in df.columns if re.fullmatch(r"n(_.*)?", c)]:
            values = df[col].dropna()
            assert ((values == 0) | (values >= minimum)).all(), f"{path.name}:{col}"


def test_notebooks_are_committed_without_outputs_and_have_a_parameters_cell():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path.name
        tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        assert "params_path" in tagged[0].source and "run_dir" in tagged[0].source


def test_notebooks_read_as_a_methods_section_with_the_work_in_the_library():
    """At most 120 non-blank, non-comment code lines per notebook (the parameters cell aside): the
    computation lives in ``progression.analyses`` and the topic packages, where it is tested."""
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        lines = [line for c in nb.cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])
                 for line in c.source.splitlines() if line.strip() and not line.strip().startswith("#")]
        assert len(lines) <= 120, f"{path.name}: {len(lines)} code lines; move the work into the library"


def test_full_ci_chain_runs_every_notebook_and_reruns_identically(ci_run):
    """params/ci.yaml through the whole chain twice: the same results and figures, byte for byte."""
    from progression.chain.runner import run_chain
    from progression.chain.spec import load_chain

    manifest = json.loads((ci_run / "manifest.json").read_text())
    assert manifest["status"] == "succeeded"
    assert [n["name"] for n in manifest["notebooks"]] == load_chain().names
    again = run_chain(ci_run.parent / "ci.yaml", progress=False).run_dir
    second = json.loads((again / "manifest.json").read_text())
    assert second["outputs"]["results"] == manifest["outputs"]["results"]
    assert second["outputs"]["figures"] == manifest["outputs"]["figures"]
    assert len(manifest["outputs"]["results"]) > 20


def test_executed_data_notebook_shows_the_tables_it_validated(ci_run):
    """An explicit check of a deterministic output: the table of row counts in 00_data."""
    nb = nbformat.read(ci_run / "notebooks" / "00_data.ipynb", as_version=4)
    shown = "".join(o.get("data", {}).get("text/plain", "") for c in nb.cells if c.cell_type == "code"
                    for o in c.outputs)
    for table in ("persons", "spells", "assessments", "municipality_years", "rate_card"):
        assert table in shown
    assert "person_id" not in shown  # no person-level table is printed


def test_ci_results_are_aggregates_above_the_minimum_cell_size(ci_run):
    """Every results table went through disclosure control; its person counts are 0 or >= the minimum."""
    minimum = load_params(ci_run / "params.yaml").disclosure.min_cell_size
    log = json.loads((ci_run / "disclosure.json").read_text())
    for path in (ci_run / "results").glob("*.csv"):
        assert path.stem in log, f"{path.name} was not written through disclosure control"
        df = pd.read_csv(path)
        assert not {"person_id", "cpr", "pnr"} & {c.lower() for c in df.columns}, path.name
        for col in log[path.stem]["count_columns"]:
            values = pd.to_numeric(df[col], errors="coerce").dropna()
            assert ((values == 0) | (values >= minimum)).all(), f"{path.name}:{col}"


def test_the_ci_run_brought_up_to_date_reruns_nothing_and_a_spending_parameter_reruns_its_notebook(ci_run, tmp_path):
    """Issue 14's up-to-date runs on the real chain: nothing changed, nothing runs; one parameter of the
    spending analysis changed, only 30_spending_variation and the report run."""
    import shutil

    from progression.chain.runner import run_chain
    from progression.chain.spec import load_chain

    before = json.loads((ci_run / "manifest.json").read_text())["outputs"]
    again = run_chain(ci_run.parent / "ci.yaml", run_dir=ci_run, progress=False)
    assert again.executed == [] and set(again.skipped) == set(load_chain().names)
    assert json.loads((ci_run / "manifest.json").read_text())["outputs"] == before
    copy = tmp_path / "run"
    shutil.copytree(ci_run, copy, symlinks=True)
    params = tmp_path / "ci.yaml"
    params.write_text((ci_run.parent / "ci.yaml").read_text() + "variation:\n  cv_repeats: 3\n")
    changed = run_chain(params, run_dir=copy, progress=False)
    assert changed.executed == ["30_spending_variation", "90_report"]
