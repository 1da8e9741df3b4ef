"""Generalized linear mixed models: classdyad's ``glmm`` against lme4's ``glmer`` (and glmmTMB).

Run with ``.venv/bin/python -m bench generalized_mixed_models [--repeats N] [--no-r]``.

Models, on simulated interaction counts (7,040 student-lesson rows; 160 classrooms in 40
schools; log observed minutes as offset; fixed seed):

- ``poisson``: ``negative ~ low_ses + non_western + offset(log(minutes)) + (1 | classroom)``;
- ``poisson nested``: the same with ``(1 | school/classroom)``;
- ``poisson student x wave``: the study's interaction-gap model, counts with
  ``(1 | classroom) + (1 | student)`` (1,760 students with 4 rows each);
- ``negative binomial``: NB2 counts with ``(1 | classroom)``; the R reference is glmmTMB
  (``family = nbinom2``), since lme4 has no NB2 fit with the shape in the likelihood
  optimisation (``glmer.nb`` alternates).

Each engine is timed on repeated fits of the same data, R inside R (``system.time`` around each
fit, so R's start-up and data transfer are excluded), and the median time per fit is reported.
statsmodels has no maximum-likelihood GLMM (``PoissonBayesMixedGLM`` is a variational Bayes
approximation, a different estimator), so its column reads ``n/a``. The last column is the
largest absolute difference between classdyad's and R's fixed effects and random-effect
standard deviations.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from classdyad.mixed import glmm

SEED = 20260402

MODELS = {
    "poisson": {
        "formula": "negative ~ low_ses + non_western + offset(np.log(minutes)) + (1 | classroom)",
        "r_formula": "negative ~ low_ses + non_western + offset(log(minutes)) + (1 | classroom)",
        "family": "poisson",
        "r_call": "glmer(f, data = d, family = poisson)",
        "r_engine": "glmer",
    },
    "poisson nested": {
        "formula": (
            "negative ~ low_ses + non_western + offset(np.log(minutes)) + (1 | school/classroom)"
        ),
        "r_formula": (
            "negative ~ low_ses + non_western + offset(log(minutes)) + (1 | school/classroom)"
        ),
        "family": "poisson",
        "r_call": "glmer(f, data = d, family = poisson)",
        "r_engine": "glmer",
    },
    "poisson student x wave": {
        "formula": (
            "negative_student ~ low_ses + non_western + offset(np.log(minutes))"
            " + (1 | classroom) + (1 | student)"
        ),
        "r_formula": (
            "negative_student ~ low_ses + non_western + offset(log(minutes))"
            " + (1 | classroom) + (1 | student)"
        ),
        "family": "poisson",
        "r_call": "glmer(f, data = d, family = poisson)",
        "r_engine": "glmer",
    },
    "negative binomial": {
        "formula": (
            "overdispersed ~ low_ses + non_western + offset(np.log(minutes)) + (1 | classroom)"
        ),
        "r_formula": (
            "overdispersed ~ low_ses + non_western + offset(log(minutes)) + (1 | classroom)"
        ),
        "family": "negative_binomial",
        "r_call": "glmmTMB(f, data = d, family = nbinom2)",
        "r_engine": "glmmTMB",
    },
}

R_SCRIPT = r"""
suppressPackageStartupMessages({library(lme4); library(glmmTMB); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
d$classroom <- factor(d$classroom); d$school <- factor(d$school)
repeats <- as.integer(args[2])
models <- fromJSON(args[3], simplifyVector = FALSE)
out <- list()
for (name in names(models)) {
  m <- models[[name]]
  f <- as.formula(m$r_formula)
  reps <- if (m$r_engine == "glmmTMB") max(1L, repeats %/% 2L) else repeats
  times <- numeric(reps)
  for (i in seq_len(reps)) {
    times[i] <- system.time(fit <- eval(parse(text = m$r_call)))[["elapsed"]]
  }
  if (m$r_engine == "glmmTMB") {
    beta <- unname(fixef(fit)$cond)
    sds <- unname(sapply(VarCorr(fit)$cond, function(v) attr(v, "stddev")))
    groups <- names(VarCorr(fit)$cond)
  } else {
    beta <- unname(fixef(fit))
    vc <- as.data.frame(VarCorr(fit))
    sds <- vc$sdcor
    groups <- vc$grp
  }
  out[[name]] <- list(times = times, beta = beta, sd = sds, group = groups)
}
cat(toJSON(out, digits = NA, auto_unbox = FALSE))
"""


def simulate(seed: int = SEED) -> pd.DataFrame:
    """7,040 student-lesson rows: 40 schools x 4 classrooms x 44 rows, counts with an offset."""
    rng = np.random.default_rng(seed)
    schools, per_school, rows = 40, 4, 44
    n_class = schools * per_school
    school = np.repeat(np.arange(schools), per_school * rows)
    classroom = np.repeat(np.arange(n_class), rows)
    n = len(school)
    low_ses = rng.binomial(1, 0.3, n)
    non_western = rng.binomial(1, 0.25, n)
    minutes = rng.uniform(30.0, 60.0, n).round(1)
    eta = (-3.2 + 0.35 * low_ses + 0.25 * non_western + np.log(minutes)
           + rng.normal(0, 0.3, schools)[school] + rng.normal(0, 0.4, n_class)[classroom])
    mu = np.exp(eta)
    return pd.DataFrame({
        "school": [f"S{s:02d}" for s in school],
        "classroom": [f"S{s:02d}C{c % per_school + 1}" for s, c in zip(school, classroom,
                                                                         strict=True)],
        "low_ses": low_ses,
        "non_western": non_western,
        "minutes": minutes,
        "negative": rng.poisson(mu),
        "overdispersed": rng.poisson(mu * rng.gamma(3.0, 1.0 / 3.0, n)),
    }).assign(**_students(classroom, eta, seed))


def _students(classroom: np.ndarray, eta: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """11 students per classroom with 4 rows each (the study's interaction-gap model has one
    row per student and wave), and counts with a student effect (sd 0.4), from their own
    random stream so that the other columns stay as they were."""
    rng = np.random.default_rng(seed + 1)
    within = np.arange(len(classroom)) % 44 // 4
    student = classroom * 11 + within
    effect = rng.normal(0, 0.4, student.max() + 1)[student]
    return {"student": [f"P{s:04d}" for s in student],
            "negative_student": rng.poisson(np.exp(eta + effect))}


def _time_classdyad(data: pd.DataFrame, spec: dict, repeats: int):
    times = []
    fit = None
    for _ in range(repeats):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = glmm(spec["formula"], data, family=spec["family"])
        times.append(time.perf_counter() - start)
    return float(np.median(times)), fit


def _run_r(data: pd.DataFrame, repeats: int) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "data.csv"
        script = Path(tmp) / "bench.R"
        data.to_csv(csv, index=False)
        script.write_text(R_SCRIPT)
        spec = json.dumps({k: {key: v[key] for key in ("r_formula", "r_call", "r_engine")}
                           for k, v in MODELS.items()})
        done = subprocess.run(["Rscript", str(script), str(csv), str(repeats), spec],
                              capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        print(f"Rscript failed; R columns left out:\n{done.stderr[-2000:]}")
        return None
    return json.loads(done.stdout)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench generalized_mixed_models")
    parser.add_argument("--repeats", type=int, default=5, help="fits per engine and model")
    parser.add_argument("--no-r", action="store_true", help="skip the R engines")
    args = parser.parse_args(argv)
    data = simulate()
    r_results = None if args.no_r else _run_r(data, args.repeats)
    header = (f"{'model':<22} {'n':>6} {'classdyad s':>12} {'R engine':>9} {'R s':>8} "
              f"{'statsmodels':>12} {'R / classdyad':>14} {'max |diff|':>11}")
    print(header)
    print("-" * len(header))
    for name, spec in MODELS.items():
        seconds, fit = _time_classdyad(data, spec, args.repeats)
        r_time = ratio = diff = "n/a"
        if r_results is not None:
            ref = r_results[name]
            r_median = float(np.median(ref["times"]))
            r_time = f"{r_median:.3f}"
            ratio = f"{r_median / seconds:.1f}x"
            sd = fit.variance_components.set_index("group")["std_dev"]
            ours_sd = [sd[g if g in sd.index else ":".join(reversed(g.split(":")))]
                       for g in ref["group"]]
            ours = np.concatenate([fit.beta, ours_sd])
            theirs = np.concatenate([ref["beta"], ref["sd"]])
            diff = f"{np.max(np.abs(ours - theirs)):.2e}"
        print(f"{name:<22} {fit.n_obs:>6} {seconds:>12.3f} {spec['r_engine']:>9} {r_time:>8} "
              f"{'n/a':>12} {ratio:>14} {diff:>11}")
    print("\nR / classdyad = R's median time per fit over classdyad's (above 1: classdyad is "
          "faster)")
