"""Linear mixed models: classdyad's ``lmm`` against lme4 (``Rscript``) and statsmodels MixedLM.

Cases (REML, data drawn with a fixed seed unless noted):

- random intercept: 7,000 rows, 160 groups, ``y ~ x1 + x2 + (1 | group)``;
- nested intercepts: 7,000 rows, 160 classrooms in 40 schools, ``(1 | school/classroom)``;
- random slope: 7,000 rows, 160 groups, ``y ~ x1 + x2 + (1 + x1 | group)``;
- replica student x wave: ``tests/data/replica_student_wave.csv`` when present (otherwise a replica
  drawn with :func:`classdyad.simulate.simulate_study`), ``teacher_closeness ~ negative_rate +
  positive_rate + low_ses + non_western + factor(wave) + (1 | school/classroom) + (1 | student)``.

Each engine's time is the median wall time of one complete fit (classdyad: formula, fit,
Satterthwaite df and conditional modes; lme4: ``lmer``, timed inside R over repeated fits, plus
``lmerTest``'s ``summary`` with Satterthwaite df in a separate column; statsmodels:
``MixedLM.fit``). "max diff" is the largest absolute difference from lme4's estimates over the
fixed effects and the variance components (from classdyad's when R is not available).

Run: ``python -m bench mixed_models [--quick]``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from classdyad.mixed import lmm

ROOT = Path(__file__).resolve().parents[1]
REPLICA_CSV = ROOT / "tests" / "data" / "replica_student_wave.csv"

_R_SCRIPT = r"""
suppressPackageStartupMessages({library(lme4); library(lmerTest); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[1])
for (g in strsplit(args[3], ",")[[1]]) data[[g]] <- factor(data[[g]])
form <- as.formula(args[2])
reps <- as.integer(args[4])
fit_time <- function(f) {
  batches <- sapply(1:5, function(b) system.time(for (i in 1:reps) f())[["elapsed"]] / reps)
  median(batches)
}
lme4_time <- fit_time(function() lme4::lmer(form, data, REML = TRUE))
lmertest_time <- fit_time(function() summary(lmerTest::lmer(form, data, REML = TRUE)))
fit <- lme4::lmer(form, data, REML = TRUE)
vc <- as.data.frame(VarCorr(fit))
write_json(list(time = lme4_time, time_lmertest = lmertest_time, fixed = unname(fixef(fit)),
                variances = vc$vcov[is.na(vc$var2)]), args[5], digits = NA,
           auto_unbox = TRUE)
"""


def _simulated(kind: str, rng: np.random.Generator) -> pd.DataFrame:
    n = 7000
    x1, x2 = rng.normal(size=n), rng.binomial(1, 0.4, size=n).astype(float)
    if kind == "nested":
        classroom = rng.integers(0, 160, size=n)
        school = classroom // 4
        u = rng.normal(0, 0.6, 40)[school] + rng.normal(0, 0.5, 160)[classroom]
        y = 1.0 + 0.5 * x1 - 0.3 * x2 + u + rng.normal(size=n)
        return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "school": school, "classroom": classroom})
    group = rng.integers(0, 160, size=n)
    slope = rng.normal(0, 0.3, 160)[group] if kind == "slope" else 0.0
    y = 1.0 + (0.5 + slope) * x1 - 0.3 * x2 + rng.normal(0, 0.7, 160)[group] + rng.normal(size=n)
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "group": group})


def _replica() -> tuple[pd.DataFrame, str]:
    if REPLICA_CSV.exists():
        return pd.read_csv(REPLICA_CSV), REPLICA_CSV.name
    from classdyad.simulate import simulate_study
    from classdyad.study import build_analysis_dataset

    study = simulate_study(rng=20260101)
    return build_analysis_dataset(study.tables), "simulate_study(rng=20260101)"


def _cases(quick: bool) -> list[dict]:
    rng = np.random.default_rng(20261124)
    fixed = "y ~ x1 + x2"
    cases = [
        {"model": "random intercept", "data": _simulated("intercept", rng),
         "formula": f"{fixed} + (1 | group)", "groups": ["group"],
         "statsmodels": {"groups": "group"}},
        {"model": "nested intercepts", "data": _simulated("nested", rng),
         "formula": f"{fixed} + (1 | school/classroom)", "groups": ["school", "classroom"],
         "statsmodels": {"groups": "school", "vc_formula": {"classroom": "0 + C(classroom)"}}},
        {"model": "random slope", "data": _simulated("slope", rng),
         "formula": f"{fixed} + (1 + x1 | group)", "groups": ["group"],
         "statsmodels": {"groups": "group", "re_formula": "~x1"}},
    ]
    if not quick:
        data, source = _replica()
        columns = ["teacher_closeness", "negative_rate", "positive_rate", "low_ses",
                   "non_western", "wave", "school", "classroom", "student"]
        data = data[columns].dropna().reset_index(drop=True)
        for column in ("low_ses", "non_western"):
            data[column] = data[column].astype(float)
        cases.append({
            "model": f"replica student x wave ({source})", "data": data,
            "formula": "teacher_closeness ~ negative_rate + positive_rate + low_ses + "
                       "non_western + factor(wave) + (1 | school/classroom) + (1 | student)",
            "groups": ["school", "classroom", "student"],
            "statsmodels": None,  # three nested levels: MixedLM needs minutes per fit
        })
    return cases


def _median_time(fit: Callable[[], object], repeats: int) -> tuple[float, object]:
    result = fit()  # warm-up: imports, caches, BLAS thread-pool controller
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fit()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def _lme4(case: dict, reps: int) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        data_path, out_path = Path(folder) / "data.csv", Path(folder) / "out.json"
        script = Path(folder) / "fit.R"
        script.write_text(_R_SCRIPT)
        frame = case["data"].copy()
        # R has no factor() transform name clash: formulas use the same syntax
        frame.to_csv(data_path, index=False)
        formula = case["formula"]
        subprocess.run(
            ["Rscript", str(script), str(data_path), formula, ",".join(case["groups"]),
             str(reps), str(out_path)],
            check=True, capture_output=True, text=True,
        )
        return json.loads(out_path.read_text())


def _statsmodels(case: dict, repeats: int) -> tuple[float, np.ndarray, np.ndarray] | None:
    spec = case["statsmodels"]
    if spec is None:
        return None
    import statsmodels.formula.api as smf

    fixed = case["formula"].split(" + (")[0]

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = smf.mixedlm(fixed, case["data"], **spec)
            return model.fit(reml=True)

    seconds, result = _median_time(fit, repeats)
    variances = list(np.diag(np.atleast_2d(result.cov_re)) * 1.0) + list(result.vcomp)
    variances.append(result.scale)
    return seconds, np.asarray(result.fe_params), np.asarray(variances)


def _largest_difference(fixed_a, var_a, fixed_b, var_b) -> float:
    fixed_diff = np.max(np.abs(np.asarray(fixed_a) - np.asarray(fixed_b)))
    var_diff = np.max(np.abs(np.sort(var_a) - np.sort(var_b))) if len(var_a) == len(var_b) else 0
    return float(max(fixed_diff, var_diff))


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    repeats = 5 if quick else 20
    rows = []
    for case in _cases(quick):
        data, formula = case["data"], case["formula"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seconds, fit = _median_time(lambda: lmm(formula, data), repeats)  # noqa: B023
        ours_fixed = fit.fixed_effects["estimate"].to_numpy()
        ours_var = fit.variance_components["variance"].to_numpy()
        r = _lme4(case, reps=3 if quick else 10)
        sm = _statsmodels(case, repeats=1 if quick else 3)
        ref_fixed, ref_var = (r["fixed"], r["variances"]) if r else (ours_fixed, ours_var)
        row = {
            "model": case["model"],
            "n": len(data),
            "classdyad ms": 1e3 * seconds,
            "lme4 ms": 1e3 * r["time"] if r else np.nan,
            "lmerTest+summary ms": 1e3 * r["time_lmertest"] if r else np.nan,
            "statsmodels ms": 1e3 * sm[0] if sm else np.nan,
            "lme4/classdyad": r["time"] / seconds if r else np.nan,
            "lme4/statsmodels": r["time"] / sm[0] if (r and sm) else np.nan,
            "classdyad max diff": _largest_difference(ours_fixed, ours_var, ref_fixed, ref_var),
            "statsmodels max diff": (
                _largest_difference(sm[1], sm[2], ref_fixed, ref_var) if sm else np.nan
            ),
        }
        rows.append(row)
        print(f"  done: {case['model']} ({1e3 * seconds:.2f} ms)", flush=True)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.float_format", "{:.4g}".format):
        print(table.to_string(index=False))
    if shutil.which("Rscript") is None:
        print("Rscript not found: lme4 columns are empty; differences are from classdyad's.")
