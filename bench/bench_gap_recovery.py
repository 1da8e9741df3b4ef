"""Coverage of the interaction-gap model (H2 of the study plan) over replica studies.

Each replication draws a replica study, builds the analysis dataset and fits the plan's Poisson
mixed model of negative interactions on the Turkish/Moroccan-versus-Dutch rows
(``negative ~ low_ses + turkish_moroccan + boy + C(grade) + C(wave) + offset(log hours) +
(1 | classroom) + (1 | student)``), whose true log rate ratios are explicit in
:class:`classdyad.simulate.ReplicaTruth`. It prints bias, Monte Carlo SE, and the coverage of the
95 % Wald intervals.

``python -m bench gap_recovery [--replications N] [--scale X]`` (defaults 200 and 0.5).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from classdyad.simulate import ReplicaDesign, ReplicaTruth, simulate_study
from classdyad.study import build_analysis_dataset
from classdyad.study.gaps import interaction_gap

TERMS = ("low_ses", "turkish_moroccan", "boy")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench gap_recovery")
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--scale", type=float, default=0.5)
    args = parser.parse_args(argv)
    truth = ReplicaTruth().rates["negative"].log_rate_ratio
    estimates = {term: [] for term in TERMS}
    covered = {term: [] for term in TERMS}
    started = time.perf_counter()
    for seed in range(args.replications):
        study = simulate_study(ReplicaDesign(scale=args.scale), rng=10_000 + seed)
        data = build_analysis_dataset(study.tables)
        fit = interaction_gap(data, valence="negative", contrast="turkish_moroccan_vs_dutch")
        table = fit.fixed_effects.set_index("term")
        for term in TERMS:
            row = table.loc[term]
            estimates[term].append(row["estimate"])
            covered[term].append(row["ci_low"] <= truth[term] <= row["ci_high"])
    seconds = time.perf_counter() - started
    print(f"{args.replications} replications at scale {args.scale:g} in {seconds:.0f} s")
    print(f"{'term':<18} {'truth':>8} {'mean est':>9} {'bias':>8} {'MC SE':>7} {'coverage':>9}")
    for term in TERMS:
        values = np.asarray(estimates[term])
        bias = values.mean() - truth[term]
        mc_se = values.std(ddof=1) / math.sqrt(len(values))
        print(f"{term:<18} {truth[term]:>8.4f} {values.mean():>9.4f} {bias:>8.4f} "
              f"{mc_se:>7.4f} {np.mean(covered[term]):>9.3f}")
