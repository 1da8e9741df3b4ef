# Reference values for tests/analysis/test_teacher_feedback_golden.py, written to
# teacher_feedback_reference.json.
#
# R 4.2.2 Patched (2022-11-10 r83330); lme4 1.1-31 (Matrix 1.5-3); jsonlite. Run from the
# repository root:
#
#     Rscript tests/analysis/golden/teacher_feedback_reference.R
#
# A singular fit (student variance zero) is stored with the limit of the joint approximation as
# the variance goes to zero (computed with sigma = 1e-6).
#
# Data: tests/data/teacher_feedback_counts.csv (simulated with a fixed seed by
# tests/analysis/golden/teacher_feedback_data.py): one row per student and wave.
#
# For each class, wave and valence: glmer(count ~ 1 + (1 | student) + offset(log(hours)),
# family = poisson) on one row per student (lme4 accepts as many students as rows for glmer).
# Stored: the fixed intercept and its standard error, the student standard deviation, the
# conditional modes and conditional standard deviations (ranef(condVar = TRUE)), the shrunken
# rates exp(b0 + b) (predict(type = "response") / hours), and, from the joint Gaussian
# approximation of (b0, b) at lme4's mode with lme4's variance estimate, the variance of
# b0 + b_s and of b_s (the precision matrix is built and inverted densely here, as a check of the
# closed form used in classdyad.analysis.teacher_feedback). Spread: Gini coefficient
# (definition of ineq::Gini(corr = FALSE)) and top-fifth share of the shrunken rates.
suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

d <- read.csv("tests/data/teacher_feedback_counts.csv", stringsAsFactors = FALSE)
d$hours <- d$minutes / 60
control <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-10,
                        optCtrl = list(rhobeg = 2e-3, rhoend = 1e-9, maxfun = 1e5))

gini <- function(x) {
  x <- sort(x); n <- length(x)
  2 * sum(seq_len(n) * x) / (n * sum(x)) - (n + 1) / n
}
top_share <- function(x, fraction = 0.2) {
  x <- sort(x, decreasing = TRUE)
  k <- max(1, ceiling(fraction * length(x) - 1e-9))
  sum(x[1:k]) / sum(x)
}

cells <- list()
spread <- list()
for (classroom in sort(unique(d$classroom))) {
  for (wave in sort(unique(d$wave))) {
    part <- d[d$classroom == classroom & d$wave == wave, ]
    totals <- 0
    for (valence in c("positive", "negative", "neutral")) {
      part$count <- part[[valence]]
      fit <- glmer(count ~ 1 + (1 | student) + offset(log(hours)), data = part,
                   family = poisson, control = control)
      re <- ranef(fit, condVar = TRUE)$student
      b <- re[part$student, 1]
      cond_sd <- sqrt(attr(ranef(fit, condVar = TRUE)$student, "postVar")[1, 1, ])
      names(cond_sd) <- rownames(re)
      b0 <- unname(fixef(fit)[1])
      sigma <- as.data.frame(VarCorr(fit))$sdcor[1]
      w <- part$hours * exp(b0 + b)
      n <- length(w)
      singular <- isSingular(fit)
      # at a zero student variance every b_s is 0: b0 + b_s = b0 with variance 1 / sum(w)
      if (singular) sigma <- 1e-6
      precision <- matrix(0, n + 1, n + 1)
      precision[1, 1] <- sum(w)
      precision[1, -1] <- w
      precision[-1, 1] <- w
      precision[-1, -1] <- diag(w + 1 / sigma^2, n)
      covariance <- solve(precision)
      lp_var <- sapply(seq_len(n), function(s) {
        e <- c(1, rep(0, n)); e[s + 1] <- 1
        drop(t(e) %*% covariance %*% e)
      })
      shrunken <- unname(predict(fit, type = "response")) / part$hours
      totals <- totals + shrunken
      cells[[length(cells) + 1]] <- list(
        classroom = classroom, wave = wave, valence = valence,
        intercept = b0,
        intercept_se = unname(sqrt(diag(as.matrix(vcov(fit))))[1]),
        student_sd = if (singular) 0 else sigma,
        singular = singular,
        loglik = as.numeric(logLik(fit)),
        student = part$student,
        log_effect = b,
        effect_sd = unname(cond_sd[part$student]),
        shrunken_rate = shrunken,
        posterior_var = lp_var,
        effect_posterior_var = diag(covariance)[-1]
      )
    }
    spread[[length(spread) + 1]] <- list(classroom = classroom, wave = wave,
                                         gini = gini(totals),
                                         top_fifth_negative_share = top_share(
                                           cells[[length(cells) - 1]]$shrunken_rate))
  }
}

out <- list(
  r_version = R.version.string,
  lme4_version = as.character(packageVersion("lme4")),
  cells = cells,
  spread = spread
)
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
      "tests/analysis/golden/teacher_feedback_reference.json")
