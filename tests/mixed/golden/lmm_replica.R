# Reference values for tests/mixed/test_lmm_golden.py: the replica study's student x wave data
# (tests/data/replica_student_wave.csv: classdyad.simulate.simulate_study(rng = 20260101)).
# R 4.2.2, lme4 1.1-31, lmerTest 3.1-3. Run from the repository root:
#   Rscript tests/mixed/golden/lmm_replica.R
source("tests/mixed/golden/lmm_common.R")
replica <- read.csv("tests/data/replica_student_wave.csv")
full <- teacher_closeness ~ negative_rate + positive_rate + low_ses + non_western + factor(wave) +
  (1 | school/classroom) + (1 | student)
reduced <- teacher_closeness ~ low_ses + non_western + factor(wave) +
  (1 | school/classroom) + (1 | student)
# anova() needs both models on the same rows: keep rows complete for the full model
replica <- replica[complete.cases(replica[, all.vars(full)]), ]
fit <- lmer(full, replica, control = tight)
fit_ml <- lmer(full, replica, REML = FALSE, control = tight)
fit_reduced <- lmer(reduced, replica, control = tight)
write_golden(list(
  models = list(full = model_summary(fit), full_ml = model_summary(fit_ml),
                reduced = model_summary(fit_reduced)),
  anova_reduced_vs_full = anova_table(fit_reduced, fit)
), "tests/mixed/golden/lmm_replica.json")
