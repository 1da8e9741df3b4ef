# Helpers shared by the lmm_*.R scripts: fit with lmerTest::lmer (lme4's lmer plus
# Satterthwaite df) and collect everything the golden tests compare, at full precision.
# R 4.2.2, lme4 1.1-31, lmerTest 3.1-3, jsonlite (Debian packages r-cran-lme4, r-cran-lmertest).
suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(jsonlite)
})

# lme4's default optimiser (nloptwrap, BOBYQA) with tolerances tightened, so that the reference is
# the optimum of the likelihood rather than the optimiser's default stopping point (which can be
# 1e-4 away from it, relative, in flat directions).
tight <- lmerControl(optCtrl = list(ftol_abs = 1e-13, xtol_abs = 1e-12, ftol_rel = 1e-15,
                                    xtol_rel = 1e-12, maxeval = 100000))

model_summary <- function(fit, ranef_levels = 0L) {
  coefs <- summary(fit)$coefficients  # lmerTest: Satterthwaite df and p-values
  vc <- as.data.frame(VarCorr(fit))
  out <- list(
    formula = paste(deparse(formula(fit), width.cutoff = 500L), collapse = " "),
    reml = isREML(fit),
    fixed = list(
      term = rownames(coefs),
      estimate = unname(coefs[, "Estimate"]),
      std_error = unname(coefs[, "Std. Error"]),
      df = unname(coefs[, "df"]),
      statistic = unname(coefs[, "t value"]),
      p_value = unname(coefs[, "Pr(>|t|)"])
    ),
    varcorr = list(
      group = vc$grp,
      var1 = ifelse(is.na(vc$var1), "", vc$var1),
      var2 = ifelse(is.na(vc$var2), "", vc$var2),
      vcov = vc$vcov,
      sdcor = vc$sdcor
    ),
    theta = unname(getME(fit, "theta")),
    sigma = sigma(fit),
    loglik = as.numeric(logLik(fit)),
    n_parameters = attr(logLik(fit), "df"),
    aic = AIC(fit),
    bic = BIC(fit),
    nobs = nobs(fit),
    ngrps = as.list(ngrps(fit)),
    singular = isSingular(fit),
    fitted_head = unname(head(fitted(fit), 10L))
  )
  if (ranef_levels > 0L) {
    re <- as.data.frame(ranef(fit, condVar = TRUE))
    out$ranef <- list(group = as.character(re$grpvar), term = as.character(re$term),
                      level = as.character(re$grp), estimate = re$condval, std_error = re$condsd)
  }
  out
}

anova_table <- function(a, b) {
  tab <- suppressMessages(anova(a, b))
  list(
    n_parameters = unname(tab$npar),
    aic = unname(tab$AIC),
    bic = unname(tab$BIC),
    loglik = unname(tab$logLik),
    deviance = unname(tab$deviance),
    statistic = unname(tab$Chisq),
    df = unname(tab$Df),
    p_value = unname(tab[["Pr(>Chisq)"]])
  )
}

write_golden <- function(x, path) {
  x$versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                     lmerTest = as.character(packageVersion("lmerTest")))
  write_json(x, path, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
}
