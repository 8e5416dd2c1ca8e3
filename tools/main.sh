#!/usr/bin/env bash
# The main job: set up the environment and run the full chain on the bundled default data.
# Usage: bash tools/main.sh [PARAMS.yaml]   (default: params/default.yaml)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-env.sh
exec .venv/bin/progression run "${1:-params/default.yaml}"
