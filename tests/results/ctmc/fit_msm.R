# Fit an msm model to a CSV panel and write the results as JSON; used by the live comparison tests
# (tests/test_ctmc_reference.py) and by benchmarks/bench_ctmc.py.
#
#   Rscript tests/results/ctmc/fit_msm.R data.csv spec.json out.json
#
# data.csv: columns subject, time, state (integers 1..K) and the covariates.
# spec.json: {"qmatrix": [[...], ...], "deathexact": [4] or [], "covariates": ["x1", ...] or [],
#             optional "fnscale", "reltol", "maxit": optim's control (msm's advice for large data is to set
#             fnscale to about the -2 log-likelihood, so that BFGS's first step does not overflow)}
# out.json: minus2loglik (optimum), minus2loglik_init (fixedpars = TRUE), estimates (log intensities
#           then covariate effects, as msm orders them), se, qmatrix (at the covariate means),
#           covmeans, seconds and cpu_seconds (elapsed and user + system time of the msm() fit alone),
#           msm and R versions.
suppressPackageStartupMessages({library(msm); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
dat <- read.csv(args[1])
spec <- fromJSON(args[2])
Q <- as.matrix(spec$qmatrix)
covs <- if (length(spec$covariates)) as.formula(paste("~", paste(spec$covariates, collapse = " + "))) else NULL
death <- if (length(spec$deathexact)) spec$deathexact else FALSE
control <- spec[intersect(c("fnscale", "reltol", "maxit"), names(spec))]

init <- msm(state ~ time, subject = subject, data = dat, qmatrix = Q, covariates = covs,
            deathexact = death, fixedpars = TRUE)
timing <- system.time(
  fit <- msm(state ~ time, subject = subject, data = dat, qmatrix = Q, covariates = covs,
             deathexact = death, control = control)
)
out <- list(
  minus2loglik = fit$minus2loglik,
  minus2loglik_init = init$minus2loglik,
  estimates = unname(fit$estimates),
  se = unname(sqrt(diag(fit$covmat))),
  qmatrix = unclass(qmatrix.msm(fit, ci = "none")),
  covmeans = if (is.null(covs)) list() else as.list(fit$qcmodel$covmeans),
  seconds = timing[["elapsed"]],
  cpu_seconds = timing[["user.self"]] + timing[["sys.self"]],
  optim_counts = unname(fit$opt$counts),
  msm_version = as.character(packageVersion("msm")),
  r_version = R.version.string
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE), args[3])
