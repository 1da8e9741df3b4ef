# Reference values for tests/mixed/test_lmm_golden.py: West, Welch & Galecki's classroom data
# (tests/data/classroom.csv; see tests/data/README.md).
# R 4.2.2, lme4 1.1-31, lmerTest 3.1-3. Run from the repository root:
#   Rscript tests/mixed/golden/lmm_classroom.R
source("tests/mixed/golden/lmm_common.R")
classroom <- read.csv("tests/data/classroom.csv")
classroom$schoolid <- factor(classroom$schoolid)
classroom$classid <- factor(classroom$classid)
nested <- lmer(mathgain ~ mathkind + sex + minority + ses + (1 | schoolid/classid), classroom, control = tight)
nested_ml <- lmer(mathgain ~ mathkind + sex + minority + ses + (1 | schoolid/classid), classroom,
                  REML = FALSE, control = tight)
slope <- lmer(mathgain ~ mathkind + sex + minority + ses + (1 + ses | schoolid) + (1 | classid),
              classroom, control = tight)
reduced <- lmer(mathgain ~ mathkind + ses + (1 | schoolid/classid), classroom, control = tight)
write_golden(list(
  models = list(nested = model_summary(nested), nested_ml = model_summary(nested_ml),
                slope = model_summary(slope), reduced = model_summary(reduced)),
  anova_reduced_vs_nested = anova_table(reduced, nested)
), "tests/mixed/golden/lmm_classroom.json")
