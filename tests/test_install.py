"""The package as a user installs it: a wheel (not editable) that runs the chain from any folder."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out),
                    str(ROOT)], check=True, capture_output=True)
    return next(out.glob("progression-*.whl"))


def test_the_wheel_carries_the_notebooks_their_declarations_the_template_and_the_commit(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(n.rsplit("/", 1)[-1] for n in names if n.startswith("progression/notebooks/") and
                  n.endswith(".ipynb")) == notebooks
    assert "progression/notebooks/chain.yaml" in names
    assert "progression/chain/templates/report.html" in names
    assert any(n.startswith("progression/texts/en/") for n in names)
    build = json.loads(zipfile.ZipFile(wheel).read("progression/_build.json"))
    assert len(build["commit"]) == 40


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A new virtual environment with the wheel installed (its dependencies from this environment)."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
                    "-q", str(wheel)], check=True, capture_output=True)
    return venv


def test_the_installed_package_answers_version_and_help(installed):
    python = installed / "bin" / "python"
    out = subprocess.run([str(python), "-m", "progression", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("progression 0.")
    out = subprocess.run([str(installed / "bin" / "progression")], capture_output=True, text=True)
    assert out.returncode == 2 and "run" in out.stdout and "validate" in out.stdout
    where = subprocess.run([str(python), "-c", "import progression; print(progression.__file__)"],
                           capture_output=True, text=True).stdout
    assert str(installed) in where  # the wheel's copy, not the checkout's


@pytest.mark.slow
@pytest.mark.notebooks
def test_the_installed_package_runs_the_ci_chain_from_a_folder_of_parameter_files(installed, tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    for name in ("default.yaml", "ci.yaml"):
        shutil.copy(ROOT / "params" / name, folder / name)
    out = subprocess.run([str(installed / "bin" / "progression"), "run", "ci.yaml", "--quiet"], cwd=folder,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    run_dir = (folder / "runs" / "latest").resolve()
    assert (run_dir / "report.html").exists()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "succeeded"
    assert manifest["package"]["version"] and len(manifest["package"]["commit"]) == 40
    assert "Kernel is running over TCP" not in out.stdout + out.stderr
