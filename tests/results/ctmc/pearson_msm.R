# Fit an msm model to a CSV panel and run pearson.msm; used by the live comparison in
# tests/test_ctmc_goodness.py. Needs only R and msm.
#
#   Rscript tests/results/ctmc/pearson_msm.R data.csv qmatrix.csv out.json [key=value ...]
#
# data.csv: columns subject, time, state (1..K) and covariates; qmatrix.csv: K x K initial intensities.
# key=value: covariates=x1,x2; timegroups=, intervalgroups=, covgroups= (pearson.msm's groupings).
# out.json: minus2loglik, statistic, p (Titman 2009), df_lower, df_upper, p_lower, p_upper, observed and
#   expected (cells by rows of time and interval groups, columns the interval transitions).
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
groups <- function(name, default) if (!is.null(options[[name]])) as.numeric(options[[name]]) else default
fit <- msm(state ~ time, subject = subject, data = dat, qmatrix = Q, covariates = covs,
           control = list(fnscale = 1000, reltol = 1e-12, maxit = 10000))
invisible(capture.output(p <- pearson.msm(fit, timegroups = groups("timegroups", 3),
                                          intervalgroups = groups("intervalgroups", 3),
                                          covgroups = groups("covgroups", 3))))
num <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
tab <- function(m) paste0("[", paste(apply(as.matrix(m), 1, num), collapse = ", "), "]")
keep <- function(frame) frame[, !(names(frame) %in% c("Time", "Interval", "Cov", "User")), drop = FALSE]
fields <- c(
  minus2loglik = sprintf("%.17g", fit$minus2loglik),
  statistic = sprintf("%.17g", p$test$stat),
  p = sprintf("%.17g", if (is.null(p$test$p)) NA else p$test$p),
  df_lower = sprintf("%d", as.integer(p$test$df.lower)),
  df_upper = sprintf("%d", as.integer(p$test$df.upper)),
  p_lower = sprintf("%.17g", p$test$p.lower),
  p_upper = sprintf("%.17g", p$test$p.upper),
  observed = tab(keep(p$Observed)),
  expected = tab(keep(p$Expected))
)
writeLines(paste0("{", paste(sprintf("\"%s\": %s", names(fields), fields), collapse = ",\n "), "}"), args[3])
