#!/usr/bin/env bash
# The test suite: set up the environment (and R msm where possible) and run pytest.
# Extra arguments go to pytest, e.g.  bash tools/test.sh -m "not notebooks"
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-env.sh
bash tools/install-r-peers.sh
exec .venv/bin/python -m pytest "$@"
