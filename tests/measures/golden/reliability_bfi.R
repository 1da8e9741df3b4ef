# Reference values for classdyad.measures.reliability, computed with
#   R 4.2.2 Patched (2022-11-10 r83330), psych 2.2.9, jsonlite 1.8.4.
# Run from the repository root:
#   Rscript tests/measures/golden/reliability_bfi.R
# Writes tests/data/bfi_agreeableness_conscientiousness.csv (psych's `bfi` items A1-A5 and C1-C5,
# 2800 respondents, missing values as empty cells) and
# tests/measures/golden/reliability_bfi.json.
# Reverse-keyed items (A1, C4, C5; 6-point scale) are recoded as 7 - x before psych sees them, so
# that psych's own reversal rule (observed max + min - x) plays no part.
suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})
data(bfi, package = "psych")
items <- bfi[, c(paste0("A", 1:5), paste0("C", 1:5))]
write.csv(items, "tests/data/bfi_agreeableness_conscientiousness.csv", row.names = FALSE, na = "")

scales <- list(
  agreeableness = list(items = paste0("A", 1:5), reverse = "A1"),
  conscientiousness = list(items = paste0("C", 1:5), reverse = c("C4", "C5"))
)

one_scale <- function(spec, complete_only) {
  x <- items[, spec$items]
  for (item in spec$reverse) x[[item]] <- 7 - x[[item]]
  if (complete_only) x <- x[complete.cases(x), ]
  a <- psych::alpha(x, warnings = FALSE)  # use = "pairwise" covariances (psych's default)
  o <- suppressWarnings(psych::omega(x, nfactors = 1, fm = "minres", plot = FALSE))
  list(
    n_obs = nrow(x),
    raw_alpha = a$total$raw_alpha,
    std_alpha = a$total$std.alpha,
    ase = a$total$ase,
    feldt_lower = a$feldt$lower.ci[[1]],
    feldt_upper = a$feldt$upper.ci[[1]],
    duhachek_lower = a$total$raw_alpha - qnorm(0.975) * a$total$ase,
    duhachek_upper = a$total$raw_alpha + qnorm(0.975) * a$total$ase,
    items = spec$items,
    r_drop = unname(a$item.stats$r.drop),
    alpha_if_dropped = unname(a$alpha.drop$raw_alpha),
    std_alpha_if_dropped = unname(a$alpha.drop$std.alpha),
    omega_total = o$omega.tot,
    loadings = unname(as.vector(o$schmid$sl[, 1]))
  )
}

out <- list(
  r_version = R.version.string,
  psych_version = as.character(packageVersion("psych")),
  pairwise = lapply(scales, one_scale, complete_only = FALSE),
  complete_cases = lapply(scales, one_scale, complete_only = TRUE)
)
write_json(out, "tests/measures/golden/reliability_bfi.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
