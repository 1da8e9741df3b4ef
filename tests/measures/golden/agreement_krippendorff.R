# Reference values for classdyad.measures.krippendorff, computed with
#   R 4.2.2 Patched (2022-11-10 r83330), jsonlite (no other package: the R package irr is not
#   installed here, so alpha is evaluated directly from Krippendorff's (2011) formulas below).
# Run from the repository root:
#   Rscript tests/measures/golden/agreement_krippendorff.R
# Reads tests/data/krippendorff_C_data.csv and tests/data/krippendorff_wikipedia_example.csv
# (coders in rows, units in columns, empty cell = missing); writes
# tests/measures/golden/agreement_krippendorff.json, with the published values next to the
# computed ones:
#   C data: Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability, pp. 3-8:
#     nominal 0.743, ordinal 0.815, interval 0.849, ratio 0.797.
#   Wikipedia "Krippendorff's alpha", computational example: nominal 0.691, interval 0.811.
suppressPackageStartupMessages(library(jsonlite))

kripp <- function(m, level) {
  values <- sort(unique(as.vector(m[!is.na(m)])))
  k <- length(values)
  o <- matrix(0, k, k)
  for (u in seq_len(ncol(m))) {
    v <- m[!is.na(m[, u]), u]
    mu <- length(v)
    if (mu < 2) next
    counts <- tabulate(match(v, values), nbins = k)
    o <- o + (outer(counts, counts) - diag(counts)) / (mu - 1)
  }
  nc <- rowSums(o)
  n <- sum(nc)
  d2 <- matrix(0, k, k)
  for (c in 1:k) for (kk in 1:k) {
    d2[c, kk] <- switch(level,
      nominal = as.numeric(c != kk),
      ordinal = {
        lo <- min(c, kk); hi <- max(c, kk)
        (sum(nc[lo:hi]) - (nc[c] + nc[kk]) / 2)^2
      },
      interval = (values[c] - values[kk])^2,
      ratio = ((values[c] - values[kk]) / (values[c] + values[kk]))^2)
  }
  1 - (n - 1) * sum(o * d2) / sum(outer(nc, nc) * d2)
}

read_matrix <- function(path) {
  x <- read.csv(path, na.strings = "")
  as.matrix(x[, -1])
}

levels <- c("nominal", "ordinal", "interval", "ratio")
c_data <- read_matrix("tests/data/krippendorff_C_data.csv")
wiki <- read_matrix("tests/data/krippendorff_wikipedia_example.csv")
out <- list(
  r_version = R.version.string,
  c_data = list(
    computed = setNames(lapply(levels, function(l) kripp(c_data, l)), levels),
    published = list(nominal = 0.743, ordinal = 0.815, interval = 0.849, ratio = 0.797)
  ),
  wikipedia = list(
    computed = setNames(lapply(levels, function(l) kripp(wiki, l)), levels),
    published = list(nominal = 0.691, interval = 0.811)
  )
)
write_json(out, "tests/measures/golden/agreement_krippendorff.json", digits = NA,
           auto_unbox = TRUE, pretty = TRUE)
