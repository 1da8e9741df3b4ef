# Reference IAT D scores for classdyad.measures.iat, computed with
#   R 4.2.2 Patched (2022-11-10 r83330), jsonlite 1.8.4 (base R otherwise).
# An independent implementation of Table 4 of Greenwald, Nosek & Banaji (2003), written step by
# step below (no IAT package is used). Run from the repository root:
#   Rscript tests/measures/golden/iat_d_scores.R
# Reads tests/data/iat_chocolate_implicitMeasures_trials.csv and
# tests/data/iat_gender_math_IATpkg_trials.csv; writes tests/measures/golden/iat_d_scores.json.
#
# Conventions (the same as classdyad's documentation states):
# * Blocks B3/B4 (practice) and B6/B7 (test) of each pairing; D = mean over the two pairs of
#   (mean incompatible - mean compatible) / inclusive SD; sample SDs (n - 1).
# * Step 1: trials > 10,000 ms removed. Step 2: participants with > 10 % of the remaining trials
#   under 300 ms are excluded (D = NA). D2, D5, D6: trials < 400 ms removed.
# * D1, D2: error latencies used as recorded (built-in correction).
# * D3-D6: the inclusive SD of each pair is computed on all remaining trials BEFORE error
#   replacement; error latencies are then replaced by the block mean of correct latencies plus
#   2 x the SD of the block's correct latencies (D3, D5) or plus 600 ms (D4, D6).
# * Split-half: trials of each participant x block role, in trial order, split into odd and even
#   positions (or first floor(n/2) vs the rest), D computed in each half (participants excluded on
#   all trials stay excluded), Pearson r across participants, Spearman-Brown 2r / (1 + r).
suppressPackageStartupMessages(library(jsonlite))

roles <- c("practice_compatible", "practice_incompatible", "test_compatible", "test_incompatible")

block_mean <- function(x, err, variant) {
  if (variant %in% c("D1", "D2")) return(mean(x))
  correct <- x[!err]
  penalty <- if (variant %in% c("D3", "D5")) 2 * sd(correct) else 600
  x[err] <- mean(correct) + penalty
  mean(x)
}

d_one <- function(p, variant, exclude = TRUE) {
  p <- p[p$latency <= 10000, ]
  fast_share <- mean(p$latency < 300)
  excluded <- exclude && fast_share > 0.10
  if (variant %in% c("D2", "D5", "D6")) p <- p[p$latency >= 400, ]
  q <- c()
  for (pair in c("practice", "test")) {
    comp <- p[p$role == paste0(pair, "_compatible"), ]
    inc <- p[p$role == paste0(pair, "_incompatible"), ]
    inclusive_sd <- sd(c(comp$latency, inc$latency))
    q[pair] <- (block_mean(inc$latency, inc$error, variant) -
                  block_mean(comp$latency, comp$error, variant)) / inclusive_sd
  }
  list(d = if (excluded) NA_real_ else mean(q), d_practice = q[["practice"]],
       d_test = q[["test"]], n_used = nrow(p), n_errors = sum(p$error),
       fast_share = fast_share, excluded = excluded)
}

score_all <- function(trials, variant) {
  out <- lapply(split(trials, trials$participant), d_one, variant = variant)
  data.frame(participant = as.numeric(names(out)),
             d = sapply(out, `[[`, "d"), d_practice = sapply(out, `[[`, "d_practice"),
             d_test = sapply(out, `[[`, "d_test"), n_used = sapply(out, `[[`, "n_used"),
             n_errors = sapply(out, `[[`, "n_errors"),
             fast_share = sapply(out, `[[`, "fast_share"),
             excluded = sapply(out, `[[`, "excluded"))
}

split_half <- function(trials, variant, split) {
  trials <- trials[order(trials$participant, trials$block_order, trials$trial), ]
  key <- paste(trials$participant, trials$role)
  position <- ave(seq_len(nrow(trials)), key, FUN = seq_along) - 1
  size <- ave(seq_len(nrow(trials)), key, FUN = length)
  first <- if (split == "odd_even") position %% 2 == 0 else position < size %/% 2
  full <- score_all(trials, variant)
  keep <- full$participant[!full$excluded]
  half <- function(h) {
    s <- lapply(split(h, h$participant), d_one, variant = variant, exclude = FALSE)
    setNames(sapply(s, `[[`, "d"), names(s))
  }
  h1 <- half(trials[first, ])
  h2 <- half(trials[!first, ])
  ids <- as.character(keep)
  ok <- is.finite(h1[ids]) & is.finite(h2[ids])
  r <- cor(h1[ids][ok], h2[ids][ok])
  list(variant = variant, split = split, correlation = r, reliability = 2 * r / (1 + r),
       n_participants = sum(ok))
}

# --- chocolate IAT (implicitMeasures raw_data): MappingA taken as the compatible pairing -------
choc <- read.csv("tests/data/iat_chocolate_implicitMeasures_trials.csv")
choc_roles <- c(practice_MappingA = "practice_compatible", practice_MappingB = "practice_incompatible",
                test_MappingA = "test_compatible", test_MappingB = "test_incompatible")
chocolate <- data.frame(
  participant = choc$participant, role = unname(choc_roles[choc$block]),
  latency = choc$latency, error = choc$correct == 0,
  block_order = match(choc$block, names(choc_roles)), trial = seq_len(nrow(choc))
)
# within each participant the file lists blocks in the order they were taken
chocolate$block_order <- ave(seq_len(nrow(chocolate)), paste(chocolate$participant, chocolate$role),
                             FUN = min)

# --- gender-math IAT (IAT package IATData): stereotype-congruent pairing = compatible -----------
gm <- read.csv("tests/data/iat_gender_math_IATpkg_trials.csv")
congruent_first <- gm$isCongruentFirst == 1
role <- rep(NA_character_, nrow(gm))
role[gm$BLOCK_NAME_S == "BLOCK2"] <- ifelse(congruent_first, "practice_compatible",
                                            "practice_incompatible")[gm$BLOCK_NAME_S == "BLOCK2"]
role[gm$BLOCK_NAME_S == "BLOCK3"] <- ifelse(congruent_first, "test_compatible",
                                            "test_incompatible")[gm$BLOCK_NAME_S == "BLOCK3"]
role[gm$BLOCK_NAME_S == "BLOCK5"] <- ifelse(congruent_first, "practice_incompatible",
                                            "practice_compatible")[gm$BLOCK_NAME_S == "BLOCK5"]
role[gm$BLOCK_NAME_S == "BLOCK6"] <- ifelse(congruent_first, "test_incompatible",
                                            "test_compatible")[gm$BLOCK_NAME_S == "BLOCK6"]
gender_math <- data.frame(
  participant = gm$SESSION_ID, role = role, latency = gm$TRIAL_LATENCY,
  error = gm$TRIAL_ERROR == 1, block_order = gm$BLOCK_NUMBER, trial = gm$TRIAL_NUMBER
)
gender_math <- gender_math[!is.na(gender_math$role), ]

variants <- paste0("D", 1:6)
one_data_set <- function(trials) {
  list(
    scores = setNames(lapply(variants, function(v) score_all(trials, v)), variants),
    split_half = list(split_half(trials, "D2", "odd_even"), split_half(trials, "D4", "odd_even"),
                      split_half(trials, "D2", "first_second"))
  )
}
out <- list(
  r_version = R.version.string,
  chocolate = one_data_set(chocolate),
  gender_math = one_data_set(gender_math)
)
write_json(out, "tests/measures/golden/iat_d_scores.json", digits = NA, auto_unbox = TRUE,
           dataframe = "columns", na = "null")
