# Reference values for tests/mixed/test_lmm_golden.py: lme4's sleepstudy data
# (tests/data/sleepstudy.csv, written from lme4::sleepstudy).
# R 4.2.2, lme4 1.1-31, lmerTest 3.1-3. Run from the repository root:
#   Rscript tests/mixed/golden/lmm_sleepstudy.R
source("tests/mixed/golden/lmm_common.R")
sleep <- read.csv("tests/data/sleepstudy.csv")
sleep$Subject <- factor(sleep$Subject)
correlated <- lmer(Reaction ~ Days + (Days | Subject), sleep, control = tight)
uncorrelated <- lmer(Reaction ~ Days + (Days || Subject), sleep, control = tight)
intercept <- lmer(Reaction ~ Days + (1 | Subject), sleep, control = tight)
correlated_ml <- lmer(Reaction ~ Days + (Days | Subject), sleep, REML = FALSE, control = tight)
null_ml <- lmer(Reaction ~ 1 + (Days | Subject), sleep, REML = FALSE, control = tight)
write_golden(list(
  models = list(
    correlated = model_summary(correlated, ranef_levels = 18L),
    uncorrelated = model_summary(uncorrelated),
    intercept = model_summary(intercept, ranef_levels = 18L),
    correlated_ml = model_summary(correlated_ml)
  ),
  # anova() refits REML fits by ML (lme4's default refit = TRUE)
  anova_intercept_vs_correlated = anova_table(intercept, correlated),
  anova_null_vs_days_ml = anova_table(null_ml, correlated_ml),
  predict_newdata = list(
    Days = c(0, 5, 10, 3),
    Subject = c("308", "309", "372", "999"),
    with_random = unname(predict(correlated, newdata = data.frame(
      Days = c(0, 5, 10, 3), Subject = c("308", "309", "372", "999")), allow.new.levels = TRUE)),
    fixed_only = unname(predict(correlated, newdata = data.frame(
      Days = c(0, 5, 10, 3), Subject = c("308", "309", "372", "999")), re.form = NA))
  )
), "tests/mixed/golden/lmm_sleepstudy.json")
