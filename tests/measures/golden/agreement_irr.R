# Reference values for classdyad.measures.fleiss_kappa (Fleiss' and Conger's kappa) and for the z
# test and user-supplied weights of classdyad.measures.kappa, computed with
#   R 4.2.2 Patched (2022-11-10 r83330), irr 0.84.1 (built from the CRAN sources, mirror
#   github.com/cran/irr, with R CMD INSTALL), lpSolve 5.6.18, psych 2.2.9, jsonlite 1.8.4.
# Run from the repository root:
#   Rscript tests/measures/golden/agreement_irr.R
# Reads tests/data/fleiss1971_diagnoses.csv, tests/data/irr_anxiety.csv and
# tests/data/fleiss_kappa_wikipedia_counts.csv; writes tests/measures/golden/agreement_irr.json.
#
# irr::kappam.fleiss rounds its per-category table (detail = TRUE) to 3 decimals and keeps P-bar
# and P-e internal. So it is run twice: as shipped (rounded detail, stored as *_rounded), and as a
# copy of the same function whose `round` is the identity and which also returns its internal
# agreeP (P-bar) and chanceP (P-e). Nothing else in irr's code is changed.
suppressPackageStartupMessages({
  library(irr)
  library(psych)
  library(jsonlite)
})

fleiss_unrounded <- local({
  f <- irr::kappam.fleiss
  b <- body(f)
  n <- length(b)
  body(f) <- as.call(c(as.list(b)[1:(n - 1)],
                       quote(rval <- c(unclass(rval), list(P_bar = agreeP, P_e = chanceP))),
                       as.list(b)[n]))
  environment(f) <- list2env(list(round = function(x, digits = 0) x),
                             parent = asNamespace("irr"))
  f
})

fleiss_case <- function(ratings, label) {
  ratings <- as.matrix(ratings)
  shipped <- kappam.fleiss(ratings, detail = TRUE)
  full <- fleiss_unrounded(ratings, detail = TRUE)
  exact <- fleiss_unrounded(ratings, exact = TRUE)
  stopifnot(isTRUE(all.equal(full$value, shipped$value, tolerance = 1e-14)))
  detail <- unclass(full$detail)
  list(
    label = label,
    ratings = lapply(seq_len(ncol(ratings)), function(j) as.character(ratings[, j])),
    levels = rownames(detail),
    subjects = full$subjects,
    raters = full$raters,
    kappa = full$value,
    z = full$statistic,
    p_value = full$p.value,
    se = full$value / full$statistic,
    P_bar = full$P_bar,
    P_e = full$P_e,
    category_kappa = unname(detail[, "Kappa"]),
    category_z = unname(detail[, "z"]),
    category_p_value = unname(detail[, "p.value"]),
    category_kappa_rounded = unname(unclass(shipped$detail)[, "Kappa"]),
    conger_kappa = exact$value,
    conger_P_e = exact$P_e,
    conger_kappa_shipped = kappam.fleiss(ratings, exact = TRUE)$value
  )
}

diagnoses <- read.csv("tests/data/fleiss1971_diagnoses.csv", stringsAsFactors = FALSE)
anxiety <- read.csv("tests/data/irr_anxiety.csv")
wiki <- read.csv("tests/data/fleiss_kappa_wikipedia_counts.csv")
# a counts table -> a ratings matrix (which rater gave which code is arbitrary here: Fleiss'
# kappa depends on the counts only; its Conger kappa is stored but not compared)
counts <- as.matrix(wiki[, -1])
wiki_ratings <- t(apply(counts, 1, function(x) rep(seq_along(x), times = x)))

# --- Cohen's kappa: z test under H0 (irr::kappa2) and weights --------------------------------
# irr::kappa2 uses the levels the two raters used (sorted for numbers), and a numeric `weight`
# vector v gives agreement weights 1 - (v[d + 1] - min v) / (max v - min v) at distance d.
fce_null <- function(counts, w) {
  n <- sum(counts)
  p <- counts / n
  r <- rowSums(p)
  c <- colSums(p)
  pe <- sum(w * outer(r, c))
  wr <- as.vector(w %*% c)
  wc <- as.vector(r %*% w)
  var0 <- (sum(outer(r, c) * (w - outer(wr, wc, "+"))^2) - pe^2) / (n * (1 - pe)^2)
  po <- sum(w * p)
  kappa <- (po - pe) / (1 - pe)
  list(kappa = kappa, se_null = sqrt(var0), z = kappa / sqrt(var0))
}

kappa2_case <- function(x1, x2, weight, label) {
  levels <- sort(unique(c(x1, x2)))
  k <- length(levels)
  res <- kappa2(data.frame(x1, x2), weight = weight)
  list(label = label, rater_a = as.character(x1), rater_b = as.character(x2),
       levels = as.character(levels), weight = weight, kappa = res$value, z = res$statistic,
       p_value = res$p.value)
}

anx_cases <- list(
  kappa2_case(anxiety$rater1, anxiety$rater2, "unweighted", "anxiety 1-2, unweighted"),
  kappa2_case(anxiety$rater1, anxiety$rater2, "equal", "anxiety 1-2, linear"),
  kappa2_case(anxiety$rater1, anxiety$rater2, "squared", "anxiety 1-2, quadratic"),
  kappa2_case(anxiety$rater1, anxiety$rater2, c(0, 1, 3, 6, 10, 15),
              "anxiety 1-2, numeric weight vector"),
  kappa2_case(anxiety$rater2, anxiety$rater3, c(0, 2, 3, 7, 8),
              "anxiety 2-3, numeric weight vector (5 levels used)"),
  kappa2_case(diagnoses$rater1, diagnoses$rater2, "unweighted", "diagnoses 1-2, unweighted")
)

# a user's agreement matrix that is not a function of distance: partial credit 0.5 for confusing
# personality disorder (2) with neurosis (4), 0.25 for depression (1) with neurosis (4)
diag_levels <- sort(unique(c(diagnoses$rater1, diagnoses$rater2)))
w_user <- diag(5)
w_user[2, 4] <- w_user[4, 2] <- 0.5
w_user[1, 4] <- w_user[4, 1] <- 0.25
tab <- unclass(table(factor(diagnoses$rater1, diag_levels), factor(diagnoses$rater2, diag_levels)))
psych_user <- cohen.kappa(data.frame(diagnoses$rater1, diagnoses$rater2), w = w_user,
                          levels = diag_levels)
user <- c(list(label = "diagnoses 1-2, user matrix", levels = diag_levels, weights = w_user,
               psych_weighted_kappa = psych_user$weighted.kappa),
          fce_null(tab, w_user))

out <- list(
  r_version = R.version.string,
  irr_version = as.character(packageVersion("irr")),
  lpSolve_version = as.character(packageVersion("lpSolve")),
  psych_version = as.character(packageVersion("psych")),
  fleiss = list(
    diagnoses = fleiss_case(diagnoses[, -1], "Fleiss (1971) diagnoses, 30 patients x 6 raters"),
    anxiety = fleiss_case(anxiety[, -1], "irr anxiety, 20 subjects x 3 raters"),
    wikipedia = c(fleiss_case(wiki_ratings, "Wikipedia worked example, 10 subjects x 14 raters"),
                  list(counts = unname(lapply(seq_len(nrow(counts)), function(i) counts[i, ]))))
  ),
  kappa2 = anx_cases,
  user_matrix = user
)
write_json(out, "tests/measures/golden/agreement_irr.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
