# Reference values for classdyad.measures.icc, computed with
#   R 4.2.2 Patched (2022-11-10 r83330), psych 2.2.9, lme4 1.1.31, jsonlite.
# Run from the repository root:
#   Rscript tests/measures/golden/icc_shrout_fleiss.R
# Reads tests/data/irr_anxiety.csv; writes tests/measures/golden/icc_shrout_fleiss.json.
#
# Two data sets:
# * Shrout & Fleiss (1979), Table 2: 6 targets x 4 judges, typed in from the paper. The paper's
#   Table 4 reports ICC(1,1) = .17, ICC(2,1) = .29, ICC(3,1) = .71, ICC(1,4) = .44,
#   ICC(2,4) = .62, ICC(3,4) = .91 (stored as "published").
# * irr's anxiety data: 20 subjects x 3 raters.
# psych::ICC is run with lmer = FALSE (two-way ANOVA mean squares, as Shrout & Fleiss) and with
# its default lmer = TRUE; both are stored.
suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})

shrout_fleiss <- matrix(c(9, 2, 5, 8,
                          6, 1, 3, 2,
                          8, 4, 6, 8,
                          7, 1, 2, 6,
                          10, 5, 6, 9,
                          6, 2, 4, 7), ncol = 4, byrow = TRUE,
                        dimnames = list(NULL, paste0("judge", 1:4)))
anxiety <- read.csv("tests/data/irr_anxiety.csv")[, c("rater1", "rater2", "rater3")]

one <- function(x) {
  anova <- ICC(x, lmer = FALSE)$results
  default <- suppressMessages(ICC(x))$results
  list(
    ratings = unname(as.matrix(x)),
    form = anova$type,
    icc = anova$ICC,
    f = anova$F,
    df1 = anova$df1,
    df2 = anova$df2,
    p = anova$p,
    lower = anova[["lower bound"]],
    upper = anova[["upper bound"]],
    icc_lmer_default = default$ICC
  )
}

out <- list(
  r_version = R.version.string,
  psych_version = as.character(packageVersion("psych")),
  lme4_version = as.character(packageVersion("lme4")),
  shrout_fleiss = c(one(shrout_fleiss),
                    list(published = c(0.17, 0.29, 0.71, 0.44, 0.62, 0.91))),
  anxiety = one(anxiety)
)
write_json(out, "tests/measures/golden/icc_shrout_fleiss.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
