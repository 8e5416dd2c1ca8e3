"""Shared fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"
REFERENCE_DATA = SHARED / "reference-data"


@pytest.fixture
def extract_dir(tmp_path: Path) -> Path:
    """A writable copy of the small register-style extract (CSV with the register's column names)."""
    dest = tmp_path / "extract"
    shutil.copytree(FIXTURES / "extract", dest)
    params = dest / "params.yaml"
    params.write_text(params.read_text().replace("extends: ../../../params/ci.yaml",
                                                 f"extends: {ROOT / 'params' / 'ci.yaml'}"))
    return dest


@pytest.fixture
def reference_data() -> Path:
    """The shared folder of real public data; tests using it skip when it is absent."""
    if not REFERENCE_DATA.is_dir():
        pytest.skip("../shared/reference-data is not present")
    return REFERENCE_DATA


@pytest.fixture(scope="session")
def ci_run(tmp_path_factory) -> Path:
    """The run folder of one chain run on ``params/ci.yaml``, shared by the notebook tests."""
    from progression.chain.runner import run_chain

    out = tmp_path_factory.mktemp("ci_runs")
    params = out / "ci.yaml"
    params.write_text(f"extends: {ROOT / 'params' / 'ci.yaml'}\nrun:\n  output_dir: {out}\n")
    return run_chain(params, progress=False).run_dir
