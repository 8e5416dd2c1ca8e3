# Fit an msm model to a CSV panel and write the results as JSON; used by the live comparison tests
# (tests/test_ctmc_reference.py) and by benchmarks/bench_ctmc.py. Needs only R and msm.
#
#   Rscript tests/results/ctmc/fit_msm.R data.csv qmatrix.csv out.json [key=value ...]
#
# data.csv: columns subject, time, state (integers 1..K) and the covariates.
# qmatrix.csv: the K x K initial intensity matrix, no header.
# key=value options: deathexact=5 (comma-separated states), covariates=x1,x2, and optim's control
#   fnscale=, reltol=, maxit= (msm's advice for large data is to set fnscale to about the -2
#   log-likelihood, so that BFGS's first step does not overflow).
# out.json: minus2loglik (optimum), minus2loglik_init (fixedpars = TRUE), estimates (log intensities
#   then covariate effects, as msm orders them), se, qmatrix (at the covariate means), covmeans,
#   seconds and cpu_seconds (elapsed and user + system time of the msm() fit alone), optim_counts,
#   msm and R versions.
suppressPackageStartupMessages(library(msm))
args <- commandArgs(trailingOnly = TRUE)
dat <- read.csv(args[1])
Q <- as.matrix(read.csv(args[2], header = FALSE))
dimnames(Q) <- NULL
options <- list()
for (kv in args[-(1:3)]) {
  parts <- strsplit(kv, "=", fixed = TRUE)[[1]]
  options[[parts[1]]] <- strsplit(parts[2], ",", fixed = TRUE)[[1]]
}
covs <- if (!is.null(options$covariates)) as.formula(paste("~", paste(options$covariates, collapse = " + "))) else NULL
death <- if (!is.null(options$deathexact)) as.integer(options$deathexact) else FALSE
control <- lapply(options[intersect(c("fnscale", "reltol", "maxit"), names(options))], as.numeric)

init <- msm(state ~ time, subject = subject, data = dat, qmatrix = Q, covariates = covs,
            deathexact = death, fixedpars = TRUE)
timing <- system.time(
  fit <- msm(state ~ time, subject = subject, data = dat, qmatrix = Q, covariates = covs,
             deathexact = death, control = control)
)

num <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
q <- qmatrix.msm(fit, ci = "none")
means <- if (is.null(covs)) numeric(0) else fit$qcmodel$covmeans
fields <- c(
  minus2loglik = sprintf("%.17g", fit$minus2loglik),
  minus2loglik_init = sprintf("%.17g", init$minus2loglik),
  estimates = num(fit$estimates),
  se = num(sqrt(diag(fit$covmat))),
  qmatrix = paste0("[", paste(apply(q, 1, num), collapse = ", "), "]"),
  covmeans = paste0("{", paste(sprintf("\"%s\": %.17g", names(means), means), collapse = ", "), "}"),
  seconds = sprintf("%.3f", timing[["elapsed"]]),
  cpu_seconds = sprintf("%.3f", timing[["user.self"]] + timing[["sys.self"]]),
  optim_counts = num(fit$opt$counts),
  msm_version = sprintf("\"%s\"", as.character(packageVersion("msm"))),
  r_version = sprintf("\"%s\"", R.version.string)
)
writeLines(paste0("{", paste(sprintf("\"%s\": %s", names(fields), fields), collapse = ",\n "), "}"), args[3])
