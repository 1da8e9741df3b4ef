# Reference values for the study plan's teachers' mean IAT D score (H5, effect "mean_d"):
# a one-sample t test against 0 with its 95 % interval, computed with
#   R 4.2.2 Patched (2022-11-10 r83330), stats (t.test), jsonlite 1.8.4.
# Run from the repository root:
#   Rscript tests/study/golden/teacher_iat_mean.R
# Writes tests/study/golden/teacher_iat_mean.json. The D scores are fixed numbers typed here
# (one per teacher).
suppressPackageStartupMessages(library(jsonlite))
d <- c(0.41, -0.12, 0.77, 0.35, 0.08, 0.52, -0.31, 0.66, 0.19, 0.44, 0.93, -0.05, 0.28)
test <- t.test(d, mu = 0, conf.level = 0.95)
out <- list(
  r_version = R.version.string,
  d_scores = d,
  estimate = unname(test$estimate),
  std_error = unname(test$stderr),
  ci_low = test$conf.int[1],
  ci_high = test$conf.int[2],
  p_value = test$p.value,
  cohen_d = mean(d) / sd(d),
  n = length(d)
)
write_json(out, "tests/study/golden/teacher_iat_mean.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
