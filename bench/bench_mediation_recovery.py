"""Coverage of mediation, negativity-bias and moderation intervals on replica studies.

Run with ``.venv/bin/python -m bench mediation_recovery [--replications N] [--design small|full]
[--workers K] [--first-seed S]``.

Each replication simulates a replica study (``classdyad.simulate.simulate_study``; ``small``:
8 schools, 16 classes, 340 students; ``full``: the seed study's 32 schools, 73 classes, 1,566
students), builds the analysis dataset and runs:

- ``mediation`` of low SES on teacher-reported closeness via the positive and negative
  interaction rates (covariates: boy, Turkish/Moroccan and non-western background, as the study
  plan adjusts the low-SES gap; random intercepts for class and student; within/between split).
  The truth (``ReplicaTruth().outcomes["teacher_closeness"]``) is linear in the observed rates,
  so the b paths within and between classes equal its per-hour weights (0.04 positive, -0.30
  negative) and the direct effects its low-SES coefficient (-0.06); the a paths (rates per hour
  against a log-linear truth) and hence the indirect effects have no simple closed-form truth
  and are not scored;
- ``negativity_bias`` on teacher closeness (detection: the share of replications whose interval
  of ``|b_negative| - |b_positive|`` lies above zero);
- ``cross_level_moderation`` of the low-SES gap in the negative rate by the teacher's SES IAT
  score (truth: interaction 0, IAT enters nothing), with a random slope of low SES per class:
  on the rate-per-hour scale the log-linear truth makes the low-SES gap proportional to the
  class's rate level, so the gap varies between classes;
- ``moderated_mediation``: low SES -> negative rate -> teacher closeness moderated by the SES IAT
  score (truth: index 0).

It prints, per effect, the truth, the mean estimate, the bias with its Monte Carlo standard error
and the coverage of the 95 % intervals with its binomial standard error. The outcome analysed is
the questionnaire's scale score (items scattered around the latent score, rounded to the 1-5
response scale, bounded there, some missing), not the latent score the truth describes, so small
attenuations of the slopes (a few percent) are part of the replica, not of the estimator.
"""

from __future__ import annotations

import argparse
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from classdyad.analysis import (
    cross_level_moderation,
    mediation,
    moderated_mediation,
    negativity_bias,
)
from classdyad.errors import ClassdyadWarning
from classdyad.simulate import ReplicaDesign, ReplicaTruth, simulate_study
from classdyad.study import build_analysis_dataset

DESIGNS = {
    "small": ReplicaDesign(schools=8, classes=16, students=340),
    "full": ReplicaDesign(),
}


def truths() -> dict[str, float]:
    """The true value of every scored effect, from :class:`ReplicaTruth`."""
    closeness = ReplicaTruth().outcomes["teacher_closeness"]
    out: dict[str, float] = {}
    for component in ("within", "between"):
        out[f"mediation b positive ({component})"] = closeness.per_positive_per_hour
        out[f"mediation b negative ({component})"] = closeness.per_negative_per_hour
        out[f"mediation direct ({component})"] = closeness.coefficients["low_ses"]
    out["moderation IAT x low SES on negative rate"] = closeness.coefficients["iat_ses:low_ses"]
    out["moderated mediation index (within)"] = 0.0
    return out


def replicate(seed: int, design: str) -> list[dict]:
    """One replication: estimates and intervals of every scored effect."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClassdyadWarning)
        data = build_analysis_dataset(simulate_study(DESIGNS[design], rng=seed).tables)
        result = mediation(
            data, exposure="low_ses", mediators=["positive_rate", "negative_rate"],
            outcome="teacher_closeness", cluster="classroom",
            covariates=["boy", "turkish_moroccan", "non_western"],
            repeated="student", n_draws=2000, rng=seed,
        )
        bias = negativity_bias(data, outcome="teacher_closeness", positive="positive_rate",
                               negative="negative_rate", cluster="classroom",
                               covariates=["boy", "non_western"], repeated="student")
        moderation = cross_level_moderation(
            data, exposure="low_ses", moderator="teacher_iat_ses", outcome="negative_rate",
            cluster="classroom", covariates=["boy"], repeated="student",
            random_slope=True)
        moderated = moderated_mediation(
            data, exposure="low_ses", moderator="teacher_iat_ses", mediators="negative_rate",
            outcome="teacher_closeness", cluster="classroom", covariates=["boy"],
            repeated="student", random_slope=True, n_draws=2000, rng=seed)
    rows = []
    for component in ("within", "between"):
        for label, effect, mediator in (("b positive", "b", "positive_rate"),
                                        ("b negative", "b", "negative_rate"),
                                        ("direct", "direct", None)):
            row = result.effect(effect, component=component, mediator=mediator)
            rows.append({"effect": f"mediation {label} ({component})", **_interval(row)})
    rows.append({"effect": "moderation IAT x low SES on negative rate",
                 **_interval(moderation.effects.iloc[0])})
    index = moderated.effects.loc[moderated.effects["effect"] == "index"].iloc[0]
    rows.append({"effect": "moderated mediation index (within)", **_interval(index)})
    difference = bias.effects.set_index("effect").loc["difference"]
    rows.append({"effect": "negativity bias detected", "estimate": difference["estimate"],
                 "ci_low": difference["ci_low"], "ci_high": difference["ci_high"]})
    return [dict(r, seed=seed) for r in rows]


def _interval(row: pd.Series) -> dict[str, float]:
    return {k: float(row[k]) for k in ("estimate", "ci_low", "ci_high")}


def coverage_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Truth, mean estimate, bias (and its MC SE), coverage (and its binomial SE) per effect."""
    truth = truths()
    out = []
    for effect, group in rows.groupby("effect", sort=False):
        n = len(group)
        if effect == "negativity bias detected":
            detected = float((group["ci_low"] > 0).mean())
            out.append({"effect": effect, "n": n, "truth": float("nan"),
                        "mean": group["estimate"].mean(), "bias": float("nan"),
                        "bias_se": float("nan"), "coverage": detected,
                        "coverage_se": np.sqrt(detected * (1 - detected) / n)})
            continue
        t = truth[effect]
        covered = float(((group["ci_low"] <= t) & (t <= group["ci_high"])).mean())
        out.append({"effect": effect, "n": n, "truth": t, "mean": group["estimate"].mean(),
                    "bias": group["estimate"].mean() - t,
                    "bias_se": group["estimate"].std(ddof=1) / np.sqrt(n),
                    "coverage": covered, "coverage_se": np.sqrt(covered * (1 - covered) / n)})
    return pd.DataFrame(out)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench mediation_recovery")
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--design", choices=sorted(DESIGNS), default="small")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--first-seed", type=int, default=1)
    args = parser.parse_args(argv)
    seeds = range(args.first_seed, args.first_seed + args.replications)
    start = time.perf_counter()
    rows: list[dict] = []
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            for result in pool.map(replicate, seeds, [args.design] * len(seeds)):
                rows.extend(result)
    else:
        for seed in seeds:
            rows.extend(replicate(seed, args.design))
    elapsed = time.perf_counter() - start
    table = coverage_table(pd.DataFrame(rows))
    print(f"{args.replications} replications of the {args.design} replica design "
          f"(seeds {seeds.start}-{seeds.stop - 1}), {elapsed:.0f} s")
    with pd.option_context("display.width", 160, "display.float_format", "{:.4f}".format):
        print(table.to_string(index=False))
    print("coverage: share of 95 % intervals containing the truth (for 'negativity bias "
          "detected': share of intervals above zero)")
