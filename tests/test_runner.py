"""The runner on a small chain of its own: up-to-date runs, history, side by side, declarations, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from progression.chain.cli import main
from progression.chain.runner import run_chain
from progression.exceptions import ChainError, DisclosureError, exit_code

pytestmark = pytest.mark.notebooks

OPEN = ("from progression.chain.run_context import RunContext\n"
        "from progression.disclosure import declare\n"
        "ctx = RunContext.open(params_path, run_dir, section={name!r})\n")
CELLS = {
    "00_a": "import pandas as pd\n"
            "seed = ctx.params.run.seed\n"
            "ctx.write_result('a_counts', declare(pd.DataFrame({'g': ['x', 'y'], 'n': [3, 40]}), counts='n'))\n",
    "10_b": "import time\n"
            "time.sleep(ctx.params.fund.horizon_years / 20)\n"
            "a = ctx.result('a_counts')\n"
            "ctx.write_json('b_numbers', {'total': float(a['n'].sum())}, safe=['total'])\n",
    "20_c": "import time\n"
            "time.sleep(0.5)\n"
            "a = ctx.result('a_counts')\n"
            "ctx.write_json('c_numbers', {'rows': len(a)}, labels=['rows'])\n",
    "90_r": "import json\n"
            "b = ctx.numbers('b_numbers'); c = ctx.numbers('c_numbers')\n"
            "(ctx.run_dir / 'report.html').write_text(json.dumps({'b': b['total'], 'c': c['rows']}))\n",
}
SPEC = {
    "00_a": {"needs": [], "params": ["run", "disclosure", "report"], "reads": [], "writes": ["results/a_*"]},
    "10_b": {"needs": ["00_a"], "params": ["fund", "disclosure", "report"], "reads": ["results/a_*"], "writes": ["results/b_*"]},
    "20_c": {"needs": ["00_a"], "params": ["disclosure", "report"], "reads": ["results/a_*"], "writes": ["results/c_*"]},
    "90_r": {"needs": ["00_a", "10_b", "20_c"], "params": [], "reads": ["results/*"], "writes": ["report.html"]},
}


def write_chain(folder: Path, cells=CELLS, spec=SPEC) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, code in cells.items():
        nb = nbformat.v4.new_notebook()
        params = nbformat.v4.new_code_cell("params_path = ''\nrun_dir = ''")
        params.metadata["tags"] = ["parameters"]
        nb.cells = [params, nbformat.v4.new_code_cell(OPEN.format(name=name) + code)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, folder / f"{name}.ipynb")
    import yaml

    (folder / "chain.yaml").write_text(yaml.safe_dump(spec))
    return folder


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """One run of the small chain; tests bring copies of its folder up to date."""
    root = tmp_path_factory.mktemp("chain")
    notebooks = write_chain(root / "notebooks")
    params = root / "p.yaml"
    params.write_text(f"run: {{name: t, output_dir: {root / 'runs'}}}\nfund: {{horizon_years: 10}}\n")
    return notebooks, params, run_chain(params, notebooks=notebooks, progress=False)


@pytest.fixture
def chain(first_run, tmp_path):
    """The small chain's notebooks, a copy of its parameters and a copy of its first run's folder."""
    notebooks, params, result = first_run
    copy = tmp_path / "p.yaml"
    copy.write_text(params.read_text())
    run_dir = tmp_path / "run"
    shutil.copytree(result.run_dir, run_dir, symlinks=True)
    return notebooks, copy, run_dir


def history(run_dir: Path) -> list[dict]:
    return json.loads((run_dir / "manifest.json").read_text())["history"]


def results(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())["outputs"]["results"]


def test_the_first_run_executes_every_notebook(first_run):
    _, _, result = first_run
    assert set(result.executed) == set(SPEC) and result.executed[0] == "00_a" and result.executed[-1] == "90_r"
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["package"]["version"] and len(manifest["package"]["code_sha256"]) == 64
    assert [h["reason"] for h in manifest["history"]] == ["never ran here"] * 4


def test_a_folder_brought_up_to_date_again_reruns_nothing(chain):
    notebooks, params, run_dir = chain
    before = results(run_dir)
    again = run_chain(params, notebooks=notebooks, run_dir=run_dir, progress=False)
    assert again.executed == [] and set(again.skipped) == set(SPEC)
    assert results(run_dir) == before
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert [n["name"] for n in manifest["notebooks"]] == list(SPEC)
    assert all(n["seconds"] is not None for n in manifest["notebooks"])  # the first run's timings are kept
    assert [n["reason"] for n in manifest["notebooks"]] == ["up to date"] * 4


def test_changing_a_parameter_reruns_only_the_notebooks_that_read_it(chain):
    notebooks, params, run_dir = chain
    params.write_text(params.read_text().replace("horizon_years: 10", "horizon_years: 12"))
    again = run_chain(params, notebooks=notebooks, run_dir=run_dir, progress=False)
    assert again.executed == ["10_b"] and set(again.skipped) == {"00_a", "20_c", "90_r"}
    reasons = {h["name"]: h["reason"] for h in history(run_dir) if h["invocation"] == 2}
    assert reasons["10_b"] == "parameters changed: fund"
    assert reasons["90_r"] == "up to date"  # b's numbers did not change: the report reads the same files


def test_changed_outputs_are_remade_and_the_seed_reruns_everything(chain):
    notebooks, params, run_dir = chain
    (run_dir / "results" / "a_counts.csv").write_text("g,n\nx,\ny,41\n")
    again = run_chain(params, notebooks=notebooks, run_dir=run_dir, progress=False)
    assert again.executed == ["00_a"]  # remade byte for byte: nothing downstream changed
    assert history(run_dir)[4]["reason"] == "its outputs are missing or were changed"
    params.write_text(params.read_text().replace("run: {", "run: {seed: 7, "))
    again = run_chain(params, notebooks=notebooks, run_dir=run_dir, progress=False)
    assert set(again.executed) == set(SPEC)


def test_partial_reruns_append_to_the_history(chain):
    notebooks, params, run_dir = chain
    run_chain(params, notebooks=notebooks, run_dir=run_dir, only="20", force=True, progress=False)
    assert [(h["name"], h["status"]) for h in history(run_dir)][-1] == ("20_c", "executed")
    assert len(history(run_dir)) == 5
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert len(manifest["invocations"]) == 2 and manifest["invocations"][1]["executed"] == ["20_c"]


def test_notebooks_run_side_by_side_with_the_serial_results(first_run, tmp_path):
    notebooks, params, serial = first_run
    copy = tmp_path / "p.yaml"
    copy.write_text(params.read_text().replace("run: {", "run: {max_parallel: 2, "))
    parallel = run_chain(copy, notebooks=notebooks, run_dir=tmp_path / "parallel", progress=False)
    assert results(serial.run_dir) == results(parallel.run_dir)
    records = {h["name"]: h for h in json.loads((parallel.run_dir / "manifest.json").read_text())["history"]}
    b, c = records["10_b"], records["20_c"]
    assert b["started"] <= c["finished"] and c["started"] <= b["finished"]  # they overlapped


def test_an_undeclared_read_fails_the_notebook(tmp_path):
    spec = {**SPEC, "20_c": {**SPEC["20_c"], "reads": []}}
    notebooks = write_chain(tmp_path / "notebooks", spec=spec)
    params = tmp_path / "p.yaml"
    params.write_text(f"run: {{name: t, output_dir: {tmp_path / 'runs'}}}\n")
    with pytest.raises(ChainError, match="it read results/a_counts.csv, which its reads in chain.yaml do not cover"):
        run_chain(params, notebooks=notebooks, progress=False)


def test_user_errors_in_a_notebook_exit_2_and_internal_failures_exit_1(tmp_path, capsys):
    cells = {**CELLS, "20_c": "import pandas as pd\nctx.write_result('c_table', pd.DataFrame({'n': [3]}))\n"}
    notebooks = write_chain(tmp_path / "nb2", cells=cells)
    params = tmp_path / "p.yaml"
    params.write_text(f"run: {{name: t, output_dir: {tmp_path / 'runs'}}}\n")
    with pytest.raises(DisclosureError) as err:
        run_chain(params, notebooks=notebooks, progress=False)
    assert exit_code(err.value) == 2
    first_line = str(err.value).splitlines()[0]
    assert first_line.startswith("table 'c_table' has no disclosure declaration")
    cells["20_c"] = "1 / 0\n"
    notebooks = write_chain(tmp_path / "nb3", cells=cells)
    with pytest.raises(ChainError) as err:
        run_chain(params, notebooks=notebooks, progress=False)
    assert exit_code(err.value) == 1
    assert str(err.value).startswith("notebook 20_c failed in cell 2 (execution count 3): ZeroDivisionError")
    manifest = json.loads(sorted((tmp_path / "runs").glob("*/manifest.json"))[-1].read_text())
    assert manifest["status"] == "failed" and manifest["exit_code"] == 1
    assert not (tmp_path / "runs" / "latest").exists()


def test_a_mistyped_notebook_gets_a_suggestion(capsys):
    assert main(["run", "params/ci.yaml", "--only", "transitons", "--quiet"]) == 2
    assert "did you mean '20_transitions'?" in capsys.readouterr().err


def test_the_command_line_lists_its_commands_and_notebooks(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    assert all(cmd in out for cmd in ("run", "validate", "params", "synth", "new"))
    assert "``" not in out
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "00_data" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("progression ")

