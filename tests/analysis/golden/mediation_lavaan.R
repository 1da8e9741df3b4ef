# Reference values for tests/analysis/test_mediation_golden.py, from lavaan.
# R 4.2.2, lavaan 0.6-14, jsonlite. Run from the repository root:
#   Rscript tests/analysis/golden/mediation_lavaan.R
# (1) single level (tests/data/mediation_single_level.csv): two parallel mediators and a covariate,
#     sem() by ML with fixed.x = TRUE, once with the mediators' residual covariance free
#     (m1 ~~ m2) and once fixed at zero (lavaan's default for mediators that predict the outcome:
#     the model is then misspecified for these data, whose mediators' residuals correlate, and
#     its expected-information standard errors of the b paths differ); defined := indirect
#     effects with delta-method standard errors.
# (2) two levels (tests/data/bpg06_multilevel_mediation.csv, Bauer, Preacher & Gil 2006): the
#     Mplus-style latent within/between decomposition, sem(..., cluster = "id").
suppressPackageStartupMessages(library(lavaan))
library(jsonlite)

single <- read.csv("tests/data/mediation_single_level.csv")
single_model <- "
  m1 ~ a1*x + z
  m2 ~ a2*x + z
  y ~ b1*m1 + b2*m2 + cp*x + z
  ind1 := a1*b1
  ind2 := a2*b2
  total_indirect := a1*b1 + a2*b2
  total := cp + a1*b1 + a2*b2
"
tidy <- function(fit) {
  pe <- parameterEstimates(fit)
  pe <- pe[pe$label != "", c("label", "est", "se")]
  out <- lapply(seq_len(nrow(pe)), function(i) list(estimate = pe$est[i], std_error = pe$se[i]))
  names(out) <- pe$label
  out
}
free_cov <- sem(paste(single_model, "m1 ~~ m2\n"), data = single, fixed.x = TRUE)
zero_cov <- sem(single_model, data = single, fixed.x = TRUE)

bpg <- read.csv("tests/data/bpg06_multilevel_mediation.csv")
two_level_model <- "
  level: 1
    m ~ a_w*x
    y ~ b_w*m + cp_w*x
  level: 2
    m ~ a_b*x
    y ~ b_b*m + cp_b*x
  indirect_within := a_w*b_w
  indirect_between := a_b*b_b
"
two_level <- sem(two_level_model, data = bpg, cluster = "id")

write_json(
  list(
    versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
    single_level = list(n = nrow(single), free_covariance = tidy(free_cov),
                        zero_covariance = tidy(zero_cov)),
    two_level = list(n = nrow(bpg), clusters = length(unique(bpg$id)), estimates = tidy(two_level))
  ),
  "tests/analysis/golden/mediation_lavaan.json", auto_unbox = TRUE, digits = NA, pretty = TRUE
)
