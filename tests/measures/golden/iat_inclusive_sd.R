# Reference IAT D scores with the inclusive SD computed before or after the error-latency
# replacement (classdyad.measures.score_iat(inclusive_sd=...)), computed with
#   R 4.2.2 Patched (2022-11-10 r83330), implicitMeasures 0.3.1 and IAT 0.3 (both built from the
#   CRAN sources, mirrors github.com/cran/implicitMeasures and github.com/cran/IAT, with
#   R CMD INSTALL), dplyr 1.0.10, lazyeval, jsonlite 1.8.4.
# Run from the repository root:
#   Rscript tests/measures/golden/iat_inclusive_sd.R
# Reads tests/data/iat_chocolate_implicitMeasures_trials.csv and
# tests/data/iat_gender_math_IATpkg_trials.csv; writes tests/measures/golden/iat_inclusive_sd.json.
#
# Three sources of reference values:
# 1. implicitMeasures::compute_iat (D1-D6) on the chocolate IAT, as the package scores it: the
#    inclusive SD of each pair is the SD of the latencies AFTER error replacement. MappingA is
#    the compatible pairing; the package does not exclude fast responders, so its d_practice and
#    d_test are compared for every participant.
# 2. IAT::cleanIAT on the gender-math IAT: v_error = 1 (errors as recorded: D1 with v_extreme = 1,
#    D2 with v_extreme = 2) and v_error = 2 (errors replaced by the block mean of correct
#    latencies + 600 ms: D4 with v_extreme = 1, D6 with v_extreme = 2), v_std = 1 (inclusive SD
#    of all trials, AFTER replacement). cleanIAT's IAT1 is (mean BLOCK5 - mean BLOCK2) / SD, so
#    it is multiplied by +1 when the congruent (compatible) pairing came first and by -1 when it
#    came second, to give classdyad's incompatible-minus-compatible D.
# 3. A by-hand implementation of Greenwald, Nosek & Banaji (2003, Table 4) with the inclusive SD
#    computed either BEFORE or AFTER the replacement (sd_when below), on both data sets, D3-D6.
suppressPackageStartupMessages({
  library(implicitMeasures)
  library(IAT)
  library(jsonlite)
})

# --- 3. by hand -------------------------------------------------------------------------------
replaced <- function(x, err, variant) {
  if (variant %in% c("D1", "D2")) return(x)
  correct <- x[!err]
  penalty <- if (variant %in% c("D3", "D5")) 2 * sd(correct) else 600
  x[err] <- mean(correct) + penalty
  x
}

by_hand <- function(p, variant, sd_when) {
  p <- p[p$latency <= 10000, ]
  if (variant %in% c("D2", "D5", "D6")) p <- p[p$latency >= 400, ]
  q <- c()
  for (pair in c("practice", "test")) {
    comp <- p[p$role == paste0(pair, "_compatible"), ]
    inc <- p[p$role == paste0(pair, "_incompatible"), ]
    comp_x <- replaced(comp$latency, comp$error, variant)
    inc_x <- replaced(inc$latency, inc$error, variant)
    inclusive <- if (sd_when == "before") sd(c(comp$latency, inc$latency)) else sd(c(comp_x, inc_x))
    q[pair] <- (mean(inc_x) - mean(comp_x)) / inclusive
  }
  q
}

by_hand_all <- function(trials, variant, sd_when) {
  out <- lapply(split(trials, trials$participant), by_hand, variant = variant, sd_when = sd_when)
  list(participant = as.numeric(names(out)),
       d_practice = unname(sapply(out, `[[`, "practice")),
       d_test = unname(sapply(out, `[[`, "test")))
}

# --- data -------------------------------------------------------------------------------------
choc <- read.csv("tests/data/iat_chocolate_implicitMeasures_trials.csv", stringsAsFactors = FALSE)
choc_roles <- c(practice_MappingA = "practice_compatible", practice_MappingB = "practice_incompatible",
                test_MappingA = "test_compatible", test_MappingB = "test_incompatible")
chocolate <- data.frame(participant = choc$participant, role = unname(choc_roles[choc$block]),
                        latency = choc$latency, error = choc$correct == 0)

gm <- read.csv("tests/data/iat_gender_math_IATpkg_trials.csv")
congruent_first <- gm$isCongruentFirst == 1
role <- rep(NA_character_, nrow(gm))
pick <- function(block, first, second) {
  ifelse(congruent_first, first, second)[gm$BLOCK_NAME_S == block]
}
role[gm$BLOCK_NAME_S == "BLOCK2"] <- pick("BLOCK2", "practice_compatible", "practice_incompatible")
role[gm$BLOCK_NAME_S == "BLOCK3"] <- pick("BLOCK3", "test_compatible", "test_incompatible")
role[gm$BLOCK_NAME_S == "BLOCK5"] <- pick("BLOCK5", "practice_incompatible", "practice_compatible")
role[gm$BLOCK_NAME_S == "BLOCK6"] <- pick("BLOCK6", "test_incompatible", "test_compatible")
gender_math <- data.frame(participant = gm$SESSION_ID, role = role, latency = gm$TRIAL_LATENCY,
                          error = gm$TRIAL_ERROR == 1)
gender_math <- gender_math[!is.na(gender_math$role), ]

# --- 1. implicitMeasures ----------------------------------------------------------------------
clean <- data.frame(participant = choc$participant, latency = choc$latency,
                    correct = choc$correct, block_original = choc$block_original,
                    condition = choc$condition, block_pool = sub("_Mapping[AB]$", "", choc$block),
                    block = choc$block, stringsAsFactors = FALSE)
class(clean) <- c(class(clean), "iat_clean")
implicit_measures <- list()
for (v in 1:6) {
  d <- compute_iat(clean, Dscore = paste0("d", v))
  d <- d[order(d$participant), ]
  implicit_measures[[paste0("D", v)]] <- list(
    participant = as.numeric(d$participant),
    d_practice = d[[paste0("d_practice_d", v)]],
    d_test = d[[paste0("d_test_d", v)]],
    d = d[[paste0("dscore_d", v)]])
}

# --- 2. IAT package ---------------------------------------------------------------------------
iat_package <- list()
settings <- list(D1 = c(1, 1), D2 = c(1, 2), D4 = c(2, 1), D6 = c(2, 2))
order_sign <- tapply(ifelse(gm$isCongruentFirst == 1, 1, -1), gm$SESSION_ID, unique)
for (v in names(settings)) {
  r <- suppressWarnings(as.data.frame(cleanIAT(
    gm, block_name = "BLOCK_NAME_S", trial_blocks = c("BLOCK2", "BLOCK3", "BLOCK5", "BLOCK6"),
    session_id = "SESSION_ID", trial_latency = "TRIAL_LATENCY", trial_error = "TRIAL_ERROR",
    v_error = settings[[v]][1], v_extreme = settings[[v]][2], v_std = 1)))
  r <- r[order(r$SESSION_ID), ]
  sign <- unname(order_sign[as.character(r$SESSION_ID)])
  iat_package[[v]] <- list(participant = as.numeric(r$SESSION_ID), d_practice = sign * r$IAT1,
                           d_test = sign * r$IAT2)
}

by_hand_values <- list()
for (name in c("chocolate", "gender_math")) {
  trials <- if (name == "chocolate") chocolate else gender_math
  by_hand_values[[name]] <- list()
  for (v in paste0("D", 3:6)) {
    by_hand_values[[name]][[v]] <- list(before = by_hand_all(trials, v, "before"),
                                        after = by_hand_all(trials, v, "after"))
  }
}

out <- list(
  r_version = R.version.string,
  implicitMeasures_version = as.character(packageVersion("implicitMeasures")),
  IAT_version = as.character(packageVersion("IAT")),
  dplyr_version = as.character(packageVersion("dplyr")),
  implicit_measures = implicit_measures,
  iat_package = iat_package,
  by_hand = by_hand_values
)
write_json(out, "tests/measures/golden/iat_inclusive_sd.json", digits = NA, auto_unbox = TRUE,
           na = "null")
