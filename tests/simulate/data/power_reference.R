# Reference values for tests/simulate/test_power_formulas.py:
#   exact (Clopper-Pearson) binomial intervals from binom.test, and two-sided noncentral-t power
#   from pt(). Run: Rscript tests/simulate/data/power_reference.R > tests/simulate/data/power_reference.json
intervals <- list(c(0, 20), c(1, 20), c(7, 20), c(20, 20), c(50, 1000), c(163, 200))
ci <- lapply(intervals, function(kn) {
  test <- binom.test(kn[1], kn[2], conf.level = 0.95)
  list(successes = kn[1], trials = kn[2], low = test$conf.int[1], high = test$conf.int[2])
})
power_cases <- list(c(2.5, 18, 0.05), c(1.0, 38, 0.05), c(3.2, 8, 0.01), c(0, 28, 0.05))
pw <- lapply(power_cases, function(case) {
  ncp <- case[1]; df <- case[2]; alpha <- case[3]
  crit <- qt(1 - alpha / 2, df)
  list(noncentrality = ncp, df = df, alpha = alpha,
       power = pt(crit, df, ncp, lower.tail = FALSE) + pt(-crit, df, ncp))
})
cat(jsonlite::toJSON(list(r_version = R.version.string, clopper_pearson = ci,
                          noncentral_t_power = pw), auto_unbox = TRUE, digits = NA,
                     pretty = TRUE))
