# Reference values for the R-squared of mediation()'s path models
# (tests/analysis/test_mediation_inference.py), written to mediation_r_squared.json.
#
# R 4.2.2 Patched (2022-11-10 r83330); lme4 1.1-31; performance 0.10.2 (Debian r-cran-performance);
# jsonlite. Run from the repository root:
#
#     Rscript tests/analysis/golden/mediation_r_squared.R
#
# (1) single level (tests/data/mediation_single_level.csv): the least-squares path models of
#     mediation(decomposition = "none", cluster = None): summary(lm)$r.squared.
# (2) two levels (tests/data/bpg06_multilevel_mediation.csv): the CWC(M) random-intercept path
#     models of mediation(cluster = "id") (within-cluster deviations and cluster means, REML),
#     Nakagawa & Schielzeth marginal and conditional R-squared by performance::r2_nakagawa, and
#     with a random slope of x_within, whose random-effect variance performance computes as
#     Johnson (2014).
suppressPackageStartupMessages({
  library(lme4)
  library(performance)
  library(jsonlite)
})

single <- read.csv("tests/data/mediation_single_level.csv")
single_r2 <- c(
  m1 = summary(lm(m1 ~ x + z, data = single))$r.squared,
  m2 = summary(lm(m2 ~ x + z, data = single))$r.squared,
  y = summary(lm(y ~ m1 + m2 + x + z, data = single))$r.squared
)

bpg <- read.csv("tests/data/bpg06_multilevel_mediation.csv")
for (v in c("x", "m")) {
  means <- ave(bpg[[v]], bpg$id)
  bpg[[paste0(v, "_between")]] <- means
  bpg[[paste0(v, "_within")]] <- bpg[[v]] - means
}
nakagawa <- function(fit) {
  r2 <- r2_nakagawa(fit)
  list(marginal = unname(r2$R2_marginal), conditional = unname(r2$R2_conditional))
}
mediator_fit <- lmer(m ~ 1 + x_within + x_between + (1 | id), data = bpg)
outcome_fit <- lmer(y ~ 1 + m_within + m_between + x_within + x_between + (1 | id), data = bpg)
slope_fit <- lmer(m ~ 1 + x_within + x_between + (1 + x_within | id), data = bpg)

out <- list(
  versions = list(
    R = R.version.string,
    lme4 = as.character(packageVersion("lme4")),
    performance = as.character(packageVersion("performance"))
  ),
  single_level = as.list(single_r2),
  two_level = list(mediator = nakagawa(mediator_fit), outcome = nakagawa(outcome_fit),
                   mediator_random_slope = nakagawa(slope_fit))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/analysis/golden/mediation_r_squared.json")
