"""How often the replica reproduces each published claim of the seed study (the design's power).

Run with ``.venv/bin/python -m bench published_claims [--replications N] [--first-seed S]
[--scale X] [--n-draws D]``.

Each replication draws a replica study with the default truth (``classdyad.simulate.
ReplicaTruth``; ``--scale`` multiplies schools, classes and students of the seed design), runs the
whole analysis plan and checks every published claim
(``classdyad.study.published_findings``). It prints, per claim, how many replications reproduced
it, the rate and its binomial standard error, and the share of replications in which every
claim agreed. A claim of an effect is reproduced with the design's power for it; a claim of no
difference with one minus the chance of a false positive after the plan's FDR correction.
"""

from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd

from classdyad.errors import ClassdyadWarning
from classdyad.simulate import ReplicaDesign
from classdyad.simulate.claim_reproduction import reproduce_published_findings


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench published_claims")
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--n-draws", type=int, default=2000)
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        print(f"  replication {done}/{total} ({time.perf_counter() - started:.0f} s)",
              flush=True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClassdyadWarning)
        result = reproduce_published_findings(
            args.replications, design=ReplicaDesign(scale=args.scale),
            first_seed=args.first_seed, n_draws=args.n_draws, progress=progress)
    seconds = time.perf_counter() - started
    seeds = result.seeds
    print(f"{args.replications} replications of the replica at scale {args.scale:g} "
          f"(seeds {seeds[0]}-{seeds[-1]}), {seconds:.0f} s")
    table = result.rates[["claim", "replications", "reproduced", "rate", "rate_se"]]
    with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False))
    print(f"every claim at once: {result.all_claims:.3f}")
    print("rate: share of replications reproducing the claim (alpha .05 after the plan's FDR "
          "correction); rate_se: its binomial standard error")
