# Reference values for classdyad.measures.generalizability (D-study, lessons within students),
# computed with R 4.2.2 Patched (2022-11-10 r83330), lme4 1.1.31, jsonlite.
# Run from the repository root:
#   Rscript tests/measures/golden/agreement_generalizability.R
# Writes tests/data/agreement_generalizability_balanced.csv and
# tests/data/agreement_generalizability_unbalanced.csv (simulated rates of negative interactions
# per hour: 60 students x 4 lessons; the unbalanced set drops lessons so that students have 1 to 4)
# and tests/measures/golden/agreement_generalizability.json.
#
# Balanced: variance components from lme4::lmer(rate ~ 1 + (1 | student), REML), which equal the
# ANOVA estimates when the student component is positive. Unbalanced: the ANOVA estimates of
# Brennan (2001, sec. 7.1) from R's aov mean squares and n~ = (N - sum n_p^2 / N) / (a - 1).
# G(n') = var_p / (var_p + var_res / n'); lessons needed for 0.8 = ceiling(4 var_res / var_p).
suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})
set.seed(20260526)
students <- 60
lessons <- 4
student_effect <- rnorm(students, 0, 1.5)
balanced <- data.frame(
  student = rep(sprintf("s%02d", 1:students), each = lessons),
  lesson = rep(1:lessons, times = students)
)
balanced$rate <- round(4 + rep(student_effect, each = lessons) + rnorm(nrow(balanced), 0, 2.5), 4)
keep <- rep(TRUE, nrow(balanced))
drop_count <- rep(0:3, length.out = students)  # student i keeps 4 - drop_count[i] lessons
for (i in seq_len(students)) {
  if (drop_count[i] > 0) keep[(i - 1) * lessons + seq_len(drop_count[i])] <- FALSE
}
unbalanced <- balanced[keep, ]
write.csv(balanced, "tests/data/agreement_generalizability_balanced.csv", row.names = FALSE)
write.csv(unbalanced, "tests/data/agreement_generalizability_unbalanced.csv", row.names = FALSE)

projection <- c(1, 2, 4, 8, 16)
summarise <- function(var_p, var_res) {
  list(var_student = var_p, var_residual = var_res,
       n_lessons = projection, g = var_p / (var_p + var_res / projection),
       lessons_needed_0.8 = ceiling(0.8 / 0.2 * var_res / var_p))
}

fit <- lmer(rate ~ 1 + (1 | student), data = balanced, REML = TRUE)
vc <- as.data.frame(VarCorr(fit))
reml <- summarise(vc$vcov[vc$grp == "student"], vc$vcov[vc$grp == "Residual"])

ms <- summary(aov(rate ~ factor(student), data = unbalanced))[[1]][["Mean Sq"]]
sizes <- table(unbalanced$student)
n_total <- nrow(unbalanced)
n_tilde <- (n_total - sum(sizes^2) / n_total) / (length(sizes) - 1)
anova_unbalanced <- c(summarise((ms[1] - ms[2]) / n_tilde, ms[2]), list(n_tilde = n_tilde))
fit_u <- lmer(rate ~ 1 + (1 | student), data = unbalanced, REML = TRUE)
vc_u <- as.data.frame(VarCorr(fit_u))

out <- list(
  r_version = R.version.string,
  lme4_version = as.character(packageVersion("lme4")),
  balanced_reml = reml,
  unbalanced_anova = anova_unbalanced,
  unbalanced_reml_for_information = list(var_student = vc_u$vcov[1], var_residual = vc_u$vcov[2])
)
write_json(out, "tests/measures/golden/agreement_generalizability.json", digits = NA,
           auto_unbox = TRUE, pretty = TRUE)
