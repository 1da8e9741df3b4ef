# Reference values for tests/mixed/test_glmm_golden.py, written to glmm_reference.json.
#
# R 4.2.2 Patched (2022-11-10 r83330); lme4 1.1.31 (Matrix 1.5.3); glmmTMB 1.1.5 (TMB 1.9.2);
# jsonlite. Run from the repository root:
#
#     Rscript tests/mixed/golden/glmm_reference.R
#
# Data: tests/data/cbpp.csv (lme4's cbpp, written by write.csv(lme4::cbpp)),
# tests/data/classroom_interactions.csv and tests/data/coded_interactions_crossed.csv (simulated
# with fixed seeds by tests/mixed/golden/glmm_classroom_interactions_data.py).
suppressPackageStartupMessages({
  library(lme4)
  library(glmmTMB)
  library(jsonlite)
})

glmer_values <- function(fit) {
  re <- ranef(fit, condVar = TRUE)
  ranefs <- lapply(names(re), function(g) {
    cv <- attr(re[[g]], "postVar")
    list(level = rownames(re[[g]]), estimate = re[[g]][, 1], std_error = sqrt(cv[1, 1, ]))
  })
  names(ranefs) <- names(re)
  vc <- as.data.frame(VarCorr(fit))
  list(
    engine = "lme4::glmer",
    term = names(fixef(fit)),
    estimate = unname(fixef(fit)),
    std_error = unname(sqrt(diag(as.matrix(vcov(fit))))),
    group = vc$grp,
    variance = vc$vcov,
    std_dev = vc$sdcor,
    loglik = as.numeric(logLik(fit)),
    aic = AIC(fit),
    bic = BIC(fit),
    ranef = ranefs,
    fitted_first = unname(head(fitted(fit), 5)),
    # for nAGQ > 1, lme4's logLik leaves out the saturated model's log-likelihood
    saturated_loglik = sum(fit@resp$family$aic(fit@resp$y, fit@resp$n, fit@resp$y,
                                               fit@resp$weights, 0)) / -2
  )
}

tmb_values <- function(fit) {
  co <- summary(fit)$coefficients$cond
  vc <- VarCorr(fit)$cond
  list(
    engine = "glmmTMB::glmmTMB",
    term = rownames(co),
    estimate = unname(co[, 1]),
    std_error = unname(co[, 2]),
    group = names(vc),
    std_dev = unname(sapply(vc, function(v) attr(v, "stddev"))),
    shape = sigma(fit),
    loglik = as.numeric(logLik(fit)),
    aic = AIC(fit)
  )
}

out <- list(
  versions = list(
    R = R.version.string,
    lme4 = as.character(packageVersion("lme4")),
    glmmTMB = as.character(packageVersion("glmmTMB"))
  )
)

cbpp_data <- read.csv("tests/data/cbpp.csv")
cbpp_data$period <- factor(cbpp_data$period)
cbpp_data$herd <- factor(cbpp_data$herd)
out$cbpp <- glmer_values(glmer(cbind(incidence, size - incidence) ~ period + (1 | herd),
                               data = cbpp_data, family = binomial))
out$cbpp_tmb <- tmb_values(glmmTMB(cbind(incidence, size - incidence) ~ period + (1 | herd),
                                   data = cbpp_data, family = binomial))
out$cbpp_agq <- glmer_values(glmer(cbind(incidence, size - incidence) ~ period + (1 | herd),
                                   data = cbpp_data, family = binomial, nAGQ = 10))

d <- read.csv("tests/data/classroom_interactions.csv")
f_nested <- negative ~ low_ses + non_western + offset(log(minutes)) + (1 | school/classroom)
f_school <- negative ~ low_ses + non_western + offset(log(minutes)) + (1 | school)
out$poisson_nested <- glmer_values(glmer(f_nested, data = d, family = poisson))
out$poisson_nested_tmb <- tmb_values(glmmTMB(f_nested, data = d, family = poisson))
out$poisson_school <- glmer_values(glmer(f_school, data = d, family = poisson))
out$poisson_school_agq <- glmer_values(glmer(f_school, data = d, family = poisson, nAGQ = 10))
out$nbinom_school <- tmb_values(glmmTMB(
  negative_overdispersed ~ low_ses + non_western + offset(log(minutes)) + (1 | school),
  data = d, family = nbinom2))
out$nbinom_nested <- tmb_values(glmmTMB(
  negative_overdispersed ~ low_ses + non_western + offset(log(minutes)) + (1 | school/classroom),
  data = d, family = nbinom2))

crossed <- read.csv("tests/data/coded_interactions_crossed.csv")
f_crossed <- negative ~ low_ses + offset(log(minutes)) + (1 | classroom) + (1 | coder)
out$poisson_crossed <- glmer_values(glmer(f_crossed, data = crossed, family = poisson))
out$poisson_crossed_tmb <- tmb_values(glmmTMB(f_crossed, data = crossed, family = poisson))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/mixed/golden/glmm_reference.json")
