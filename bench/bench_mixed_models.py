"""Linear mixed models: classdyad's ``lmm`` against lme4 / lmerTest (``Rscript``), side by side.

Cases (REML, data drawn with a fixed seed unless noted):

- random intercept: 7,000 rows, 160 groups, ``y ~ x1 + x2 + (1 | group)``;
- nested intercepts: 7,000 rows, 160 classrooms in 40 schools, ``(1 | school/classroom)``;
- random slope: 7,000 rows, 160 groups, ``y ~ x1 + x2 + (1 + x1 | group)``;
- WWG classroom: West, Welch & Galecki's classroom data (``tests/data/classroom.csv``, 1,190
  pupils), ``mathgain ~ mathkind + sex + minority + ses + (1 | schoolid/classid)``;
- replica student x wave: ``tests/data/replica_student_wave.csv`` when present (otherwise a replica
  drawn with :func:`classdyad.simulate.simulate_study`), 1,566 students,
  ``teacher_closeness ~ negative_rate + positive_rate + low_ses + non_western + factor(wave) +
  (1 | school/classroom) + (1 | student)``;
- replica growth (a random slope): the same rows, ``teacher_closeness ~ negative_rate +
  positive_rate + low_ses + non_western + wave + (1 | classroom) + (1 + wave | student)``.

Times are medians of repeated complete calls: classdyad's ``lmm(formula, data)`` (formula, design,
fit, variance components), the same plus reading ``fixed_effects`` (Satterthwaite df), and
``fit.refit(y)`` for a new response ``y`` (fitted values plus normal noise, the same vector in both
languages); lme4's ``lmer``, ``summary(lmerTest::lmer(...))`` and ``refit(fit, newresp = y)``,
timed inside R over repeated calls. The machine is shared, so each case is measured in several
rounds, R and classdyad one after the other within a round; the ratios are medians over the
rounds, with their smallest and largest value. "max diff" is the largest absolute difference from
lme4's estimates over the fixed effects and the variance components. After the table, each
case's goal (lme4 / classdyad, and the replica's refit time) is checked on the medians, with the
number of rounds that met it. statsmodels' ``MixedLM`` is timed once for the simulated cases with
``--statsmodels``.

Run: ``python -m bench mixed_models [--quick] [--rounds N] [--statsmodels]``.
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
CLASSROOM_CSV = ROOT / "tests" / "data" / "classroom.csv"

_R_SCRIPT = r"""
suppressPackageStartupMessages({library(lme4); library(lmerTest); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[1])
for (g in strsplit(args[3], ",")[[1]]) data[[g]] <- factor(data[[g]])
form <- as.formula(args[2])
reps <- as.integer(args[4])
fit_time <- function(f, reps) {
  batches <- sapply(1:5, function(b) system.time(for (i in 1:reps) f())[["elapsed"]] / reps)
  median(batches)
}
fit <- lme4::lmer(form, data, REML = TRUE)
newresp <- data$refit_response
lme4_time <- fit_time(function() lme4::lmer(form, data, REML = TRUE), reps)
refit_time <- fit_time(function() lme4::refit(fit, newresp = newresp), reps)
lmertest_time <- fit_time(function() summary(lmerTest::lmer(form, data, REML = TRUE)), 1L)
vc <- as.data.frame(VarCorr(fit))
write_json(list(time = lme4_time, time_lmertest = lmertest_time, time_refit = refit_time,
                fixed = unname(fixef(fit)), variances = vc$vcov[is.na(vc$var2)]),
           args[5], digits = NA, auto_unbox = TRUE)
"""

_REPLICA_COLUMNS = ["teacher_closeness", "negative_rate", "positive_rate", "low_ses",
                    "non_western", "wave", "school", "classroom", "student"]


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
        data, source = pd.read_csv(REPLICA_CSV), REPLICA_CSV.name
    else:
        from classdyad.simulate import simulate_study
        from classdyad.study import build_analysis_dataset

        data = build_analysis_dataset(simulate_study(rng=20260101).tables)
        source = "simulate_study(rng=20260101)"
    data = data[_REPLICA_COLUMNS].dropna().reset_index(drop=True)
    for column in ("low_ses", "non_western"):
        data[column] = data[column].astype(float)
    return data, source


def _cases(quick: bool) -> list[dict]:
    rng = np.random.default_rng(20261124)
    fixed = "y ~ x1 + x2"
    cases = [
        {"model": "random intercept", "data": _simulated("intercept", rng),
         "formula": f"{fixed} + (1 | group)", "groups": ["group"], "goal": 10,
         "statsmodels": {"groups": "group"}},
        {"model": "nested intercepts", "data": _simulated("nested", rng),
         "formula": f"{fixed} + (1 | school/classroom)", "groups": ["school", "classroom"],
         "goal": 10,
         "statsmodels": {"groups": "school", "vc_formula": {"classroom": "0 + C(classroom)"}}},
        {"model": "random slope", "data": _simulated("slope", rng),
         "formula": f"{fixed} + (1 + x1 | group)", "groups": ["group"], "goal": 10,
         "statsmodels": {"groups": "group", "re_formula": "~x1"}},
    ]
    if quick:
        return cases
    classroom = pd.read_csv(CLASSROOM_CSV)
    replica, source = _replica()
    predictors = "negative_rate + positive_rate + low_ses + non_western"
    cases += [
        {"model": "WWG classroom (1 | schoolid/classid)", "data": classroom,
         "formula": "mathgain ~ mathkind + sex + minority + ses + (1 | schoolid/classid)",
         "groups": ["schoolid", "classid"], "goal": 10, "statsmodels": None},
        {"model": f"replica student x wave ({source})", "data": replica,
         "formula": f"teacher_closeness ~ {predictors} + factor(wave) + "
                    "(1 | school/classroom) + (1 | student)",
         "groups": ["school", "classroom", "student"], "goal": 20, "refit_goal_ms": 2.0,
         "statsmodels": None},  # three nested levels: MixedLM needs minutes per fit
        {"model": "replica growth (1 | classroom) + (1 + wave | student)", "data": replica,
         "formula": f"teacher_closeness ~ {predictors} + wave + (1 | classroom) + "
                    "(1 + wave | student)",
         "groups": ["classroom", "student"], "goal": 10, "statsmodels": None},
    ]
    return cases


def _median_time(call: Callable[[], object], repeats: int) -> tuple[float, object]:
    result = call()  # warm-up: imports, caches, BLAS thread-pool controller
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def _refit_response(case: dict) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmm(case["formula"], case["data"])
    rng = np.random.default_rng(20261206)
    return fit.predict() + rng.normal(0.0, fit.sigma, fit.n_obs)


def _lme4(case: dict, reps: int) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        data_path, out_path = Path(folder) / "data.csv", Path(folder) / "out.json"
        script = Path(folder) / "fit.R"
        script.write_text(_R_SCRIPT)
        case["data"].assign(refit_response=case["refit_response"]).to_csv(data_path, index=False)
        subprocess.run(
            ["Rscript", str(script), str(data_path), case["formula"], ",".join(case["groups"]),
             str(reps), str(out_path)],
            check=True, capture_output=True, text=True,
        )
        return json.loads(out_path.read_text())


def _classdyad(case: dict, repeats: int) -> dict:
    data, formula, response = case["data"], case["formula"], case["refit_response"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_seconds, fit = _median_time(lambda: lmm(formula, data), repeats)
        df_seconds, _ = _median_time(lambda: lmm(formula, data).fixed_effects, repeats)
        refit_seconds, _ = _median_time(lambda: fit.refit(response), 3 * repeats)
    return {"fit": fit_seconds, "fit_df": df_seconds, "refit": refit_seconds, "result": fit}


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


def _spread(values: list[float], digits: str = ".3g") -> str:
    finite = [v for v in values if np.isfinite(v)]
    if not finite:
        return "n/a"
    middle = format(float(np.median(finite)), digits)
    if len(finite) == 1:
        return middle
    return f"{middle} [{format(min(finite), digits)}-{format(max(finite), digits)}]"


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    rounds = 1 if quick else 3
    if "--rounds" in argv:
        rounds = int(argv[argv.index("--rounds") + 1])
    repeats = 5 if quick else 9
    cases = _cases(quick)
    for case in cases:
        case["refit_response"] = _refit_response(case)
    measured: dict[str, list[tuple[dict, dict | None]]] = {c["model"]: [] for c in cases}
    for round_index in range(rounds):
        for case in cases:  # R, then classdyad, case by case: both see the same machine load
            r = _lme4(case, reps=2 if quick else 4)
            ours = _classdyad(case, repeats)
            measured[case["model"]].append((ours, r))
            print(f"  round {round_index + 1}/{rounds}: {case['model']}: classdyad "
                  f"{1e3 * ours['fit']:.2f} ms" + (f", lme4 {1e3 * r['time']:.1f} ms" if r else ""),
                  flush=True)
    rows, verdicts = [], []
    for case in cases:
        runs = measured[case["model"]]
        fit = runs[-1][0]["result"]
        r = runs[-1][1]
        ours_fixed = fit.beta
        ours_var = fit.variance_components["variance"].to_numpy()
        ref_fixed, ref_var = (r["fixed"], r["variances"]) if r else (ours_fixed, ours_var)
        sm = _statsmodels(case, repeats=3) if "--statsmodels" in argv else None

        def ratio(r_key: str, ours_key: str, runs=runs) -> list[float]:
            return [rr[r_key] / o[ours_key] if rr else np.nan for o, rr in runs]

        def ms(values: list[float]) -> str:
            return _spread([1e3 * v for v in values])

        row = {
            "model": case["model"],
            "n": len(case["data"]),
            "classdyad ms": ms([o["fit"] for o, _ in runs]),
            "lme4 ms": ms([rr["time"] if rr else np.nan for _, rr in runs]),
            "lme4/classdyad": _spread(ratio("time", "fit"), ".3g"),
            "goal": f">= {case['goal']}",
            "+df ms": ms([o["fit_df"] for o, _ in runs]),
            "lmerTest+summary ms": ms([rr["time_lmertest"] if rr else np.nan for _, rr in runs]),
            "lmerTest/classdyad": _spread(ratio("time_lmertest", "fit_df"), ".3g"),
            "refit ms": ms([o["refit"] for o, _ in runs]),
            "lme4 refit ms": ms([rr["time_refit"] if rr else np.nan for _, rr in runs]),
            "refit ratio": _spread(ratio("time_refit", "refit"), ".3g"),
            "max diff": _largest_difference(ours_fixed, ours_var, ref_fixed, ref_var),
        }
        ratios = [v for v in ratio("time", "fit") if np.isfinite(v)]
        if ratios:
            met = sum(v >= case["goal"] for v in ratios)
            verdicts.append(f"{case['model']}: lme4 / classdyad {np.median(ratios):.3g} "
                            f"(goal >= {case['goal']}, met in {met} of {len(ratios)} rounds)")
        if "refit_goal_ms" in case:
            row["goal"] += f"; refit < {case['refit_goal_ms']:g} ms"
            refits = [1e3 * o["refit"] for o, _ in runs]
            verdicts.append(f"{case['model']}: refit {np.median(refits):.3g} ms (goal < "
                            f"{case['refit_goal_ms']:g} ms, met in "
                            f"{sum(v < case['refit_goal_ms'] for v in refits)} of {len(refits)} "
                            "rounds)")
        if sm:
            row["statsmodels ms"] = 1e3 * sm[0]
            row["statsmodels max diff"] = _largest_difference(sm[1], sm[2], ref_fixed, ref_var)
        rows.append(row)
    table = pd.DataFrame(rows)
    print(f"\nmedian [smallest-largest] over {rounds} round(s); R and classdyad alternate")
    with pd.option_context("display.width", 250, "display.max_columns", 30,
                           "display.max_colwidth", 60, "display.float_format", "{:.2g}".format):
        print(table.to_string(index=False))
    if verdicts:
        print("\ngoals (medians over the rounds):")
        for line in verdicts:
            print(f"  {line}")
    if shutil.which("Rscript") is None:
        print("Rscript not found: lme4 columns are empty; differences are from classdyad's.")
