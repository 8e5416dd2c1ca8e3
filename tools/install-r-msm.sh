#!/usr/bin/env bash
# Install R and the msm package from Debian's archive, the reference the multi-state model is
# compared with. Skipped (tests that need it then skip) where this is not a Debian system run as root.
set -uo pipefail
if command -v Rscript >/dev/null 2>&1 && Rscript -e 'library(msm)' >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: R msm not installed and cannot be installed here; reference tests against R will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends r-base-core r-cran-msm >/dev/null \
  || echo "note: installing r-cran-msm failed; reference tests against R will skip" >&2
