# Fit an msm model with misclassification (ematrix) or piecewise-constant intensities (pci) to a CSV panel
# and write the results as JSON; used by the live comparison tests (tests/test_ctmc_hmm.py) and by
# benchmarks/bench_ctmc.py. Needs only R and msm.
#
#   Rscript tests/results/ctmc/fit_hmm_msm.R data.csv qmatrix.csv out.json [key=value ...]
#
# data.csv: columns subject, time, state (1..K), optionally obstrue (0/1) and covariates.
# qmatrix.csv: the K x K initial intensity matrix, no header.
# key=value options: ematrix=path.csv (K x K initial misclassification matrix), obstrue=1 (use the
#   column obstrue), deathexact=4, pci=5,10, covariates=x1,x2, initprobs=0.5,0.5,0 (with ematrix),
#   fixedpars=TRUE (evaluate at the initial values only), viterbi=1 (write the Viterbi path and the
#   state probabilities), and optim's control fnscale=, reltol=, maxit=.
# out.json: minus2loglik, estimates (msm's vector), se (of the free parameters), qmatrix (at the covariate
#   means), ematrix, seconds and cpu_seconds of the msm() call, msm and R versions; with viterbi=1 also
#   fitted (states) and pstate (rows of probabilities) in the order of the data.
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
E <- if (!is.null(options$ematrix)) { m <- as.matrix(read.csv(options$ematrix, header = FALSE)); dimnames(m) <- NULL; m } else NULL
covs <- if (!is.null(options$covariates)) as.formula(paste("~", paste(options$covariates, collapse = " + "))) else NULL
death <- if (!is.null(options$deathexact)) as.integer(options$deathexact) else FALSE
pci <- if (!is.null(options$pci)) as.numeric(options$pci) else NULL
initprobs <- if (!is.null(options$initprobs)) as.numeric(options$initprobs) else NULL
fixed <- !is.null(options$fixedpars)
control <- lapply(options[intersect(c("fnscale", "reltol", "maxit"), names(options))], as.numeric)
call <- list(formula = state ~ time, subject = quote(subject), data = dat, qmatrix = Q, covariates = covs,
             deathexact = death, ematrix = E, pci = pci, initprobs = initprobs, control = control)
if (!is.null(options$obstrue)) call$obstrue <- quote(obstrue)
if (fixed) call$fixedpars <- TRUE
timing <- system.time(fit <- do.call(msm, call))

num <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
mat <- function(m) paste0("[", paste(apply(m, 1, num), collapse = ", "), "]")
fields <- c(
  minus2loglik = sprintf("%.17g", fit$minus2loglik),
  estimates = num(fit$estimates),
  se = if (fixed) "[]" else num(sqrt(diag(fit$covmat))[diag(fit$covmat) > 0]),
  qmatrix = mat(qmatrix.msm(fit, ci = "none")),
  ematrix = if (is.null(E)) "null" else mat(ematrix.msm(fit, ci = "none")),
  seconds = sprintf("%.3f", timing[["elapsed"]]),
  cpu_seconds = sprintf("%.3f", timing[["user.self"]] + timing[["sys.self"]]),
  msm_version = sprintf("\"%s\"", as.character(packageVersion("msm"))),
  r_version = sprintf("\"%s\"", R.version.string)
)
if (!is.null(options$viterbi)) {
  v <- viterbi.msm(fit)
  fields <- c(fields, fitted = num(v$fitted), pstate = mat(as.matrix(v[, grep("^pstate", names(v))])))
}
writeLines(paste0("{", paste(sprintf("\"%s\": %s", names(fields), fields), collapse = ",\n "), "}"), args[3])
