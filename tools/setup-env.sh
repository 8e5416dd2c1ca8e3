#!/usr/bin/env bash
# Create .venv (if needed) and install the package with its development extras.
# Re-running is cheap: pip only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
# The kernel the notebooks run in is this environment's Python, under the name and display name the
# notebooks store ("python3", "Python 3"), so opening one in JupyterLab does not mark it modified.
.venv/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
