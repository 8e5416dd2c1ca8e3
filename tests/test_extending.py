"""docs/extending.md runs as written: open a run, compute with the public API, write, see it in the report."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from pathlib import Path

import matplotlib
import pytest

from progression.chain.cli import main
from progression.chain.run_context import collect_disclosure
from progression.chain.spec import load_chain, notebooks_dir

matplotlib.use("Agg")
pytestmark = [pytest.mark.notebooks, pytest.mark.filterwarnings("ignore:n_boot=")]
ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "extending.md"


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", TUTORIAL.read_text(encoding="utf-8"), flags=re.S)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A folder with params/ci.yaml (the ci chain, data and report only) and a copy of the notebooks."""
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "ci.yaml").write_text(
        f"extends: {ROOT / 'params' / 'ci.yaml'}\nrun: {{output_dir: runs, notebooks: [00_data, 90_report]}}\n")
    notebooks = Path(shutil.copytree(notebooks_dir(), tmp_path / "notebooks"))
    monkeypatch.setattr("progression.chain.scaffold.notebooks_dir", lambda: notebooks)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def shell(block: str) -> None:
    for line in block.splitlines():
        command = line.split("#", 1)[0].strip()
        if not command or "jupyter" in command:
            continue
        args = shlex.split(command)
        assert args[0].endswith("progression"), command
        assert main(args[1:]) == 0, command


def test_the_tutorial_runs_and_its_section_reaches_the_report(project):
    first, *later = blocks("bash")
    shell(first.replace(" run params/ci.yaml", " run params/ci.yaml --quiet"))
    namespace: dict = {}
    for code in blocks("python"):
        exec(compile(code, str(TUTORIAL), "exec"), namespace)  # noqa: S102 - the tutorial's own code
    run_dir = Path(os.path.realpath(project / "runs" / "latest"))
    assert namespace["hidden"] > 0  # the women's matrix has cells on too few persons, and they are hidden
    shell(later[0].replace("--force", "--force --quiet"))
    report = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "One-year transitions between steps, women." in report
    assert "were there a year later" in report
    disclosure = collect_disclosure(run_dir)
    assert disclosure["women_transitions"]["cells"] > 0
    assert "women_by_municipality" in disclosure["_refused"] and "women_by_municipality" in disclosure
    shell(later[1])
    assert any(n.endswith("_women_transitions") for n in load_chain(project / "notebooks").names)
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "succeeded"
