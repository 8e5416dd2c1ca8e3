"""Build hook: the wheel carries the chain's notebooks and the commit it was built from.

The notebooks live at the top of the checkout (``notebooks/``), where researchers open them in
JupyterLab; an installed package finds its copy in ``progression/notebooks``. ``progression/_build.json``
records the commit, so the manifest of a run made with an installed package names the code that ran.
"""

import json
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _git(*args):
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


class BuildWithNotebooks(build_py):
    def run(self):
        # setuptools reuses build/lib between builds, so a file removed from src/ would live on in the
        # next wheel (an old texts/*.yaml defines its labels twice); start each build from nothing.
        package = Path(self.build_lib) / "progression"
        shutil.rmtree(package, ignore_errors=True)
        super().run()
        target = package / "notebooks"
        target.mkdir(parents=True, exist_ok=True)
        for path in [*sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")), ROOT / "notebooks" / "chain.yaml"]:
            shutil.copy2(path, target / path.name)
        status = _git("status", "--porcelain", "--untracked-files=no")
        (package / "_build.json").write_text(json.dumps(
            {"commit": _git("rev-parse", "HEAD"), "dirty": bool(status) if status is not None else None}))


setup(cmdclass={"build_py": BuildWithNotebooks})
