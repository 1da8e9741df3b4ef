# Reference values for classdyad.measures.kappa (Cohen's kappa and weighted kappa), computed with
#   R 4.2.2 Patched (2022-11-10 r83330), psych 2.2.9, jsonlite.
# Run from the repository root:
#   Rscript tests/measures/golden/agreement_kappa.R
# Reads tests/data/fleiss1971_diagnoses.csv and tests/data/irr_anxiety.csv; writes
# tests/measures/golden/agreement_kappa.json.
#
# psych::cohen.kappa gives kappa, weighted kappa and the variance of unweighted kappa (Fleiss,
# Cohen & Everitt, 1969). Its variance of *weighted* kappa uses rs[j] * sum_k w[j, k] where the
# published formula has sum_i rs[i] * w[i, j]; so the weighted variances below are also computed
# directly from the published formula (fce_variance), and both are stored.
suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})

fce_variance <- function(counts, w) {
  n <- sum(counts)
  p <- counts / n
  r <- rowSums(p)
  c <- colSums(p)
  po <- sum(w * p)
  pe <- sum(w * outer(r, c))
  wr <- as.vector(w %*% c)   # wr[i] = sum_j c[j] w[i, j]
  wc <- as.vector(r %*% w)   # wc[j] = sum_i r[i] w[i, j]
  inner <- w * (1 - pe) - outer(wr, wc, "+") * (1 - po)
  (sum(p * inner^2) - (po * pe - 2 * pe + po)^2) / (n * (1 - pe)^4)
}

one <- function(x1, x2, levels, label) {
  k <- length(levels)
  linear <- 1 - abs(outer(1:k, 1:k, "-")) / (k - 1)
  quadratic <- 1 - (outer(1:k, 1:k, "-"))^2 / (k - 1)^2
  x <- data.frame(x1, x2)
  plain <- cohen.kappa(x, levels = levels)
  lin <- cohen.kappa(x, w = linear, levels = levels)
  quad <- cohen.kappa(x, w = quadratic, levels = levels)
  counts <- unclass(table(factor(x1, levels = levels), factor(x2, levels = levels)))
  list(
    label = label,
    rater_a = as.character(x1),
    rater_b = as.character(x2),
    levels = as.character(levels),
    n = nrow(x),
    kappa = plain$kappa,
    var_kappa = plain$var.kappa,
    lower = plain$confid[1, 1],
    upper = plain$confid[1, 3],
    agreement = sum(diag(counts)) / sum(counts),
    weighted_linear = lin$weighted.kappa,
    weighted_quadratic = quad$weighted.kappa,
    psych_var_weighted_linear = lin$var.weighted,
    psych_var_weighted_quadratic = quad$var.weighted,
    fce_var_weighted_linear = fce_variance(counts, linear),
    fce_var_weighted_quadratic = fce_variance(counts, quadratic),
    fce_var_unweighted = fce_variance(counts, diag(k))
  )
}

diagnoses <- read.csv("tests/data/fleiss1971_diagnoses.csv", stringsAsFactors = FALSE)
anxiety <- read.csv("tests/data/irr_anxiety.csv")
diag_levels <- sort(unique(c(diagnoses$rater1, diagnoses$rater2)))

out <- list(
  r_version = R.version.string,
  psych_version = as.character(packageVersion("psych")),
  cases = list(
    diagnoses_rater1_rater2 = one(diagnoses$rater1, diagnoses$rater2, diag_levels,
                                  "Fleiss (1971) diagnoses, raters 1 and 2"),
    anxiety_rater1_rater2 = one(anxiety$rater1, anxiety$rater2, 1:6,
                                "irr anxiety, raters 1 and 2, levels 1-6"),
    anxiety_rater2_rater3 = one(anxiety$rater2, anxiety$rater3, 1:6,
                                "irr anxiety, raters 2 and 3, levels 1-6")
  )
)
write_json(out, "tests/measures/golden/agreement_kappa.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
