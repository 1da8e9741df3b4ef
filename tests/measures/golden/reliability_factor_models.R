# Reference values for classdyad.measures.guttman (lambda 6) and classdyad.measures.omega (omega
# hierarchical / total from a Schmid-Leiman solution; omega from a one-factor CFA), computed with
#   R 4.2.2 Patched (2022-11-10 r83330), psych 2.2.9, GPArotation 2022.10.2, lavaan 0.6-14,
#   jsonlite 1.8.4.
# Run from the repository root:
#   Rscript tests/measures/golden/reliability_factor_models.R
# Reads tests/data/bfi_agreeableness_conscientiousness.csv (psych's bfi items A1-A5, C1-C5);
# writes tests/measures/golden/reliability_factor_models.json.
#
# * psych::omega with its defaults (fm = "minres", rotate = "oblimin", flip = TRUE, pairwise
#   correlations), nfactors = 2 (option = "equal") and 3, on the ten raw items (psych reverses
#   A1, C4 and C5 itself because their general loadings are negative), and on the complete cases.
# * Guttman's lambda 6 of each scale (reverse-keyed items recoded 7 - x): standardized from
#   psych::alpha's G6(smc), raw from psych::splitHalf(covar = TRUE)$lambda6.
# * lavaan::cfa("f =~ ...", std.lv = TRUE) (ML, listwise) on each keyed scale;
#   omega = (sum lambda)^2 / ((sum lambda)^2 + sum theta) from its estimates.
suppressPackageStartupMessages({
  library(psych)
  library(GPArotation)
  library(lavaan)
  library(jsonlite)
})
items <- read.csv("tests/data/bfi_agreeableness_conscientiousness.csv")

omega_case <- function(x, nfactors) {
  o <- suppressMessages(suppressWarnings(omega(x, nfactors = nfactors, plot = FALSE)))
  sl <- o$schmid$sl
  list(nfactors = nfactors, n_obs = nrow(x), omega_h = o$omega_h, omega_total = o$omega.tot,
       omega_limit = o$omega.lim, G6 = o$G6, key = unname(o$key),
       general = unname(sl[, "g"]), group = unname(lapply(seq_len(nfactors), function(f)
         unname(sl[, paste0("F", f, "*")]))),
       h2 = unname(sl[, "h2"]), u2 = unname(sl[, "u2"]), p2 = unname(sl[, "p2"]),
       phi = unname(lapply(seq_len(nfactors), function(f) unname(o$schmid$phi[f, ]))),
       gloading = unname(as.vector(o$schmid$gloading)))
}

scales <- list(
  agreeableness = list(items = paste0("A", 1:5), reverse = "A1"),
  conscientiousness = list(items = paste0("C", 1:5), reverse = c("C4", "C5"))
)

scale_case <- function(spec, complete_only) {
  x <- items[, spec$items]
  for (item in spec$reverse) x[[item]] <- 7 - x[[item]]
  if (complete_only) x <- x[complete.cases(x), ]
  a <- psych::alpha(x, warnings = FALSE)
  sh <- splitHalf(x, covar = TRUE)
  model <- paste("f =~", paste(spec$items, collapse = " + "))
  fit <- cfa(model, data = x, std.lv = TRUE)
  pe <- parameterEstimates(fit)
  lambda <- pe$est[pe$op == "=~"]
  theta <- pe$est[pe$op == "~~" & pe$lhs == pe$rhs & pe$lhs != "f"]
  list(items = spec$items, n_obs = nrow(x), G6_smc = a$total[["G6(smc)"]],
       lambda6_covariance = sh$lambda6, cfa_n_obs = lavInspect(fit, "nobs"),
       cfa_loadings = lambda, cfa_residual_variances = theta,
       cfa_omega = sum(lambda)^2 / (sum(lambda)^2 + sum(theta)),
       cfa_chisq = fitMeasures(fit, "chisq")[[1]], cfa_df = fitMeasures(fit, "df")[[1]])
}

complete <- items[complete.cases(items), ]
out <- list(
  r_version = R.version.string,
  psych_version = as.character(packageVersion("psych")),
  GPArotation_version = as.character(packageVersion("GPArotation")),
  lavaan_version = as.character(packageVersion("lavaan")),
  omega = list(pairwise_2 = omega_case(items, 2), pairwise_3 = omega_case(items, 3),
               complete_3 = omega_case(complete, 3)),
  scales = list(pairwise = lapply(scales, scale_case, complete_only = FALSE),
                complete_cases = lapply(scales, scale_case, complete_only = TRUE))
)
write_json(out, "tests/measures/golden/reliability_factor_models.json", digits = NA,
           auto_unbox = TRUE, pretty = TRUE)
