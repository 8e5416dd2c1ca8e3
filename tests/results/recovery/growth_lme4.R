# Reference numbers for progression.recovery.TrajectoryModel(engine="fast") from lme4.
# Run from the project root:  Rscript tests/results/recovery/growth_lme4.R [data.csv]
# Prints JSON with fixed effects, their standard errors, variance components and the criterion
# for four fits of tests/fixtures/recovery/growth.csv (300 simulated citizens, 12 municipalities):
#   citizen:        lmer(y ~ years + x + (1 + years | citizen))
#   municipality:   lmer(y ~ years + x + (1 + years | citizen) + (1 + years | municipality))
#   intercept_only: lmer(y ~ years + x + (1 + years | citizen) + (1 | municipality))
#   ml:             the municipality model with REML = FALSE
suppressMessages({library(lme4); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
path <- if (length(args)) args[1] else "tests/fixtures/recovery/growth.csv"
d <- read.csv(path)
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5), check.conv.singular = "ignore")
fits <- list(
  citizen = lmer(y ~ years + x + (1 + years | citizen), data = d, REML = TRUE, control = ctrl),
  municipality = lmer(y ~ years + x + (1 + years | citizen) + (1 + years | municipality), data = d,
                      REML = TRUE, control = ctrl),
  intercept_only = lmer(y ~ years + x + (1 + years | citizen) + (1 | municipality), data = d, REML = TRUE,
                        control = ctrl),
  ml = lmer(y ~ years + x + (1 + years | citizen) + (1 + years | municipality), data = d, REML = FALSE,
            control = ctrl)
)
summarise <- function(m) {
  vc <- VarCorr(m)
  out <- list(beta = unname(fixef(m)), se = unname(sqrt(diag(as.matrix(vcov(m))))),
              citizen = unname(as.vector(vc$citizen)), residual = sigma(m)^2,
              criterion = if (isREML(m)) REMLcrit(m) else deviance(m))
  if (!is.null(vc$municipality)) out$municipality <- unname(as.vector(vc$municipality))
  out
}
cat(toJSON(lapply(fits, summarise), digits = 12, auto_unbox = TRUE, pretty = TRUE), "\n")
cat("lme4", as.character(packageVersion("lme4")), "R", R.version.string, "\n")
