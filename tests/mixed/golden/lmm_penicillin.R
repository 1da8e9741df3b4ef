# Reference values for tests/mixed/test_lmm_golden.py: lme4's Penicillin data, a crossed
# design (tests/data/penicillin.csv, written from lme4::Penicillin).
# R 4.2.2, lme4 1.1-31, lmerTest 3.1-3. Run from the repository root:
#   Rscript tests/mixed/golden/lmm_penicillin.R
source("tests/mixed/golden/lmm_common.R")
penicillin <- read.csv("tests/data/penicillin.csv")
crossed <- lmer(diameter ~ 1 + (1 | plate) + (1 | sample), penicillin, control = tight)
crossed_ml <- lmer(diameter ~ 1 + (1 | plate) + (1 | sample), penicillin, REML = FALSE, control = tight)
write_golden(list(
  models = list(crossed = model_summary(crossed), crossed_ml = model_summary(crossed_ml))
), "tests/mixed/golden/lmm_penicillin.json")
