# Reference values for tests/mixed/test_glmm_counts_golden.py, written to
# glmm_counts_reference.json: zero-inflated and NB1 mixed models (glmmTMB), GLMs (glm,
# MASS::glm.nb) and zero-inflated / NB1 GLMs (glmmTMB without random effects).
#
# R 4.2.2 Patched (2022-11-10 r83330); glmmTMB 1.1.5 (TMB 1.9.2); MASS 7.3-58.2; jsonlite.
# Run from the repository root:
#
#     Rscript tests/mixed/golden/glmm_counts_reference.R
#
# Data: tests/data/zero_inflated_interactions.csv (simulated with a fixed seed by
# tests/mixed/golden/glmm_zero_inflated_data.py), tests/data/classroom_interactions.csv and
# tests/data/cbpp.csv (see glmm_reference.R).
suppressPackageStartupMessages({
  library(glmmTMB)
  library(MASS)
  library(jsonlite)
})

tmb_values <- function(fit) {
  co <- summary(fit)$coefficients
  out <- list(
    engine = "glmmTMB::glmmTMB",
    term = rownames(co$cond),
    estimate = unname(co$cond[, 1]),
    std_error = unname(co$cond[, 2]),
    loglik = as.numeric(logLik(fit)),
    df = attr(logLik(fit), "df"),
    aic = AIC(fit),
    sigma = sigma(fit),
    predict_response = unname(head(predict(fit, type = "response"), 5)),
    predict_conditional = unname(head(predict(fit, type = "conditional"), 5)),
    predict_zprob = unname(head(predict(fit, type = "zprob"), 5))
  )
  vc <- VarCorr(fit)$cond
  if (length(vc)) {
    out$group <- names(vc)
    out$std_dev <- unname(sapply(vc, function(v) attr(v, "stddev")))
  }
  if (!is.null(co$zi)) {
    out$zi_term <- rownames(co$zi)
    out$zi_estimate <- unname(co$zi[, 1])
    out$zi_std_error <- unname(co$zi[, 2])
  }
  out
}

glm_values <- function(fit) {
  co <- summary(fit)$coefficients
  list(
    engine = class(fit)[1],
    term = rownames(co),
    estimate = unname(co[, 1]),
    std_error = unname(co[, 2]),
    loglik = as.numeric(logLik(fit)),
    df = attr(logLik(fit), "df"),
    aic = AIC(fit),
    bic = BIC(fit),
    theta = if (is.null(fit$theta)) NULL else fit$theta,
    fitted_first = unname(head(fitted(fit), 5))
  )
}

out <- list(
  versions = list(
    R = R.version.string,
    glmmTMB = as.character(packageVersion("glmmTMB")),
    TMB = as.character(packageVersion("TMB")),
    MASS = as.character(packageVersion("MASS"))
  )
)

z <- read.csv("tests/data/zero_inflated_interactions.csv")
out$zip_intercept <- tmb_values(glmmTMB(
  negative_zip ~ low_ses + offset(log(minutes)) + (1 | classroom),
  ziformula = ~1, family = poisson, data = z))
out$zip_slope <- tmb_values(glmmTMB(
  negative_zip ~ low_ses + offset(log(minutes)) + (1 | classroom),
  ziformula = ~low_ses, family = poisson, data = z))
out$zinb2_slope <- tmb_values(glmmTMB(
  negative_zinb ~ low_ses + offset(log(minutes)) + (1 | classroom),
  ziformula = ~low_ses, family = nbinom2, data = z))
out$zinb1_intercept <- tmb_values(glmmTMB(
  negative_zinb ~ low_ses + offset(log(minutes)) + (1 | classroom),
  ziformula = ~1, family = nbinom1, data = z))
out$nb1_mixed <- tmb_values(glmmTMB(
  negative_nb1 ~ low_ses + offset(log(minutes)) + (1 | classroom),
  family = nbinom1, data = z))
out$zip_glm <- tmb_values(glmmTMB(
  negative_zip ~ low_ses + offset(log(minutes)),
  ziformula = ~low_ses, family = poisson, data = z))
out$nb1_glm <- tmb_values(glmmTMB(
  negative_nb1 ~ low_ses + offset(log(minutes)), family = nbinom1, data = z))

d <- read.csv("tests/data/classroom_interactions.csv")
out$poisson_glm <- glm_values(glm(
  negative ~ low_ses + non_western + offset(log(minutes)), family = poisson, data = d))
out$nb2_glm <- glm_values(glm.nb(
  negative_overdispersed ~ low_ses + non_western + offset(log(minutes)), data = d))
cbpp_data <- read.csv("tests/data/cbpp.csv")
cbpp_data$period <- factor(cbpp_data$period)
out$binomial_glm <- glm_values(glm(
  cbind(incidence, size - incidence) ~ period, family = binomial, data = cbpp_data))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/mixed/golden/glmm_counts_reference.json")
