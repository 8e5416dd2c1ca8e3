#!/usr/bin/env bash
# Install R with msm, sandwich and lme4 from Debian's archive: the peers that the multi-state model,
# the robust regressions and the mixed models are compared with. Where this is not a Debian system
# run as root, nothing is installed and the tests that need R skip.
set -uo pipefail
if command -v Rscript >/dev/null 2>&1 && Rscript -e 'library(msm); library(sandwich); library(lme4)' >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: R peers (msm, sandwich, lme4) cannot be installed here; tests against R will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null \
  && apt-get install -y -qq --no-install-recommends r-base-core r-cran-msm r-cran-sandwich r-cran-lme4 >/dev/null \
  || echo "note: installing the R peers failed; tests against R will skip" >&2
