# Reference values for tests/analysis/test_mediation_random_slopes_golden.py, written to
# mediation_random_slopes.json.
#
# R 4.2.2 Patched (2022-11-10 r83330); nlme 3.1-162; glmmTMB 1.1.5 (TMB 1.9.2); numDeriv
# 2016.8-1.1; jsonlite. Run from the repository root:
#
#     Rscript tests/analysis/golden/mediation_random_slopes.R
#
# Data: tests/data/bpg06_multilevel_mediation.csv (Bauer, Preacher & Gil 2006; 100 groups of 8).
# The 1-1-1 random-slopes mediation model of BPG, fitted as they describe: the M and Y equations
# stacked (two rows per observation), selection dummies Sm and Sy, all five coefficients random
# with an unstructured covariance, one residual variance per outcome; REML.
suppressPackageStartupMessages({
  library(nlme)
  library(glmmTMB)
  library(numDeriv)
  library(jsonlite)
})

d <- read.csv("tests/data/bpg06_multilevel_mediation.csv")
n <- nrow(d)
s <- data.frame(id = rep(d$id, 2), dv = factor(rep(c("m", "y"), each = n)),
                z = c(d$m, d$y), x = rep(d$x, 2), m = c(rep(0, n), d$m))
s$Sm <- as.numeric(s$dv == "m")
s$Sy <- as.numeric(s$dv == "y")
s$Smx <- s$Sm * s$x
s$Sym <- s$Sy * s$m
s$Syx <- s$Sy * s$x
terms <- c("Sm", "Smx", "Sy", "Sym", "Syx")

fit <- lme(z ~ 0 + Sm + Smx + Sy + Sym + Syx, random = ~ 0 + Sm + Smx + Sy + Sym + Syx | id,
           weights = varIdent(form = ~ 1 | dv), data = s, method = "REML",
           control = lmeControl(maxIter = 500, msMaxIter = 500, niterEM = 100))
beta <- fixef(fit)
vb <- vcov(fit)
tau <- unclass(getVarCov(fit))
ratio <- coef(fit$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
residual_sd <- fit$sigma * ratio[c("m", "y")]

a <- beta[["Smx"]]
b <- beta[["Sym"]]
sigma_ab <- tau["Smx", "Sym"]

# The same model in glmmTMB (REML), whose sdreport gives the covariance of the variance
# parameters (nlme reports "Non-positive definite approximate variance-covariance" here):
# var(sigma_ab) by the delta method over glmmTMB's parameters (log sd, correlation parameters).
tmb <- glmmTMB(z ~ 0 + Sm + Smx + Sy + Sym + Syx + us(0 + Sm + Smx + Sy + Sym + Syx | id),
               dispformula = ~ 0 + dv, data = s, REML = TRUE)
full <- vcov(tmb, full = TRUE)
theta_index <- grep("^theta", colnames(full))
theta <- tmb$fit$par[names(tmb$fit$par) == "theta"]
# glmmTMB's "us" parameters: log standard deviations, then the upper triangle of a unit upper
# triangular factor U whose crossprod, scaled to unit diagonal, is the correlation matrix.
covariance_ab <- function(th) {
  sds <- exp(th[1:5])
  u <- diag(5)
  u[upper.tri(u)] <- th[6:15]
  cp <- crossprod(u)
  cors <- cp / sqrt(outer(diag(cp), diag(cp)))
  stopifnot(abs(cors[2, 4] - attr(VarCorr(tmb)$cond$id, "correlation")[2, 4]) < 1e-6 ||
              !identical(th, theta))
  sds[2] * sds[4] * cors[2, 4]
}
gradient <- jacobian(covariance_ab, theta)
var_sigma_ab <- as.numeric(gradient %*% full[theta_index, theta_index] %*% t(gradient))
sobel_var <- b^2 * vb["Smx", "Smx"] + a^2 * vb["Sym", "Sym"] + 2 * a * b * vb["Smx", "Sym"]

# R-squared of each path (Nakagawa & Schielzeth 2013, random slopes as Johnson 2014):
# variance of the fixed part over the rows (var(), divisor n - 1, as MuMIn::r.squaredGLMM),
# mean of z' T z over the rows, residual variance.
r2 <- function(fixed_var, random_var, residual_var) {
  total <- fixed_var + random_var + residual_var
  c(marginal = fixed_var / total, conditional = (fixed_var + random_var) / total)
}
mean_quadratic <- function(zmat, block) mean(rowSums((zmat %*% block) * zmat))
zm <- cbind(1, d$x)
zy <- cbind(1, d$m, d$x)
fixed_m <- var(as.numeric(zm %*% beta[c("Sm", "Smx")]))
fixed_y <- var(as.numeric(zy %*% beta[c("Sy", "Sym", "Syx")]))
r2_m <- r2(fixed_m, mean_quadratic(zm, tau[c("Sm", "Smx"), c("Sm", "Smx")]), residual_sd[["m"]]^2)
r2_y <- r2(fixed_y, mean_quadratic(zy, tau[c("Sy", "Sym", "Syx"), c("Sy", "Sym", "Syx")]),
           residual_sd[["y"]]^2)

# the same model by maximum likelihood
fit_ml <- update(fit, method = "ML")

out <- list(
  versions = list(
    R = R.version.string,
    nlme = as.character(packageVersion("nlme")),
    glmmTMB = as.character(packageVersion("glmmTMB")),
    numDeriv = as.character(packageVersion("numDeriv"))
  ),
  term = terms,
  estimate = unname(beta[terms]),
  std_error = unname(sqrt(diag(vb))[terms]),
  fixed_covariance = unname(vb[terms, terms]),
  tau = unname(tau[terms, terms]),
  residual_sd = unname(residual_sd),
  loglik = as.numeric(logLik(fit)),
  tmb_loglik = as.numeric(logLik(tmb)),
  indirect = a * b + sigma_ab,
  sigma_ab = sigma_ab,
  var_sigma_ab = var_sigma_ab,
  indirect_delta_std_error = sqrt(sobel_var + var_sigma_ab),
  total = a * b + sigma_ab + beta[["Syx"]],
  r2_mediator = unname(r2_m),
  r2_outcome = unname(r2_y),
  ml = list(
    estimate = unname(fixef(fit_ml)[terms]),
    std_error = unname(sqrt(diag(vcov(fit_ml)))[terms]),
    tau = unname(unclass(getVarCov(fit_ml))[terms, terms]),
    loglik = as.numeric(logLik(fit_ml))
  )
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/analysis/golden/mediation_random_slopes.json")
