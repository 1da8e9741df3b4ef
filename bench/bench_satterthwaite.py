"""Satterthwaite degrees of freedom on the power analysis's H3 fits: the nested recursion's
exact-gradient scheme against lmerTest's Richardson scheme, per fit, interleaved.

Goal: the gradient scheme at least 2x as fast as the Richardson scheme per H3 replicate, with
the same degrees of freedom to 1e-6 relative.

``python -m bench satterthwaite [--replicates N]`` (default 20): runs ``power(hypotheses=["H3"],
replicates=N, seed=1, scheduler="serial")`` and, at each fit's Satterthwaite step, times both
schemes on the same fit, alternating which goes first (the machine is shared: only the ratio,
measured within one run, is meaningful). Prints milliseconds per fit, seconds per replicate, the
ratio and the largest relative difference between the two schemes' degrees of freedom.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import classdyad.mixed._linear_mixed as linear_mixed
from classdyad.mixed._satterthwaite import satterthwaite_state
from classdyad.simulate import power

GOAL_RATIO = 2.0
GOAL_DF_RTOL = 1e-6
SCHEMES = ("richardson", "gradient")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench satterthwaite")
    parser.add_argument("--replicates", type=int, default=20)
    args = parser.parse_args(argv)
    seconds: dict[str, list[float]] = {scheme: [] for scheme in SCHEMES}
    largest = [0.0]

    def both(pls, theta, sigma, *, reml):
        order = SCHEMES if len(seconds["gradient"]) % 2 else SCHEMES[::-1]
        states = {}
        for scheme in order:
            start = time.perf_counter()
            states[scheme] = satterthwaite_state(pls, theta, sigma, reml=reml, scheme=scheme)
            seconds[scheme].append(time.perf_counter() - start)
        for contrast in np.eye(states["gradient"].beta_covariance.shape[0]):
            new, old = states["gradient"].df(contrast), states["richardson"].df(contrast)
            if np.isfinite(old):
                largest[0] = max(largest[0], abs(new / old - 1.0))
        return states["gradient"]

    original = linear_mixed.satterthwaite_state
    linear_mixed.satterthwaite_state = both
    try:
        power(hypotheses=["H3"], replicates=args.replicates, seed=1, scheduler="serial")
    finally:
        linear_mixed.satterthwaite_state = original
    old, new = np.array(seconds["richardson"]), np.array(seconds["gradient"])
    ratio = old.sum() / new.sum()
    print(f"{old.size} fits in {args.replicates} H3 replicates (schemes interleaved per fit)")
    print("| scheme | ms per fit (median) | s per replicate |")
    print("|---|---|---|")
    for name, values in (("Richardson (lmerTest)", old), ("exact gradient", new)):
        print(f"| {name} | {1e3 * np.median(values):.3f} | "
              f"{values.sum() / args.replicates:.4f} |")
    print(f"ratio Richardson / gradient: {ratio:.2f}x (goal {GOAL_RATIO:.0f}x: "
          f"{'met' if ratio >= GOAL_RATIO else 'not met'}); median per fit "
          f"{np.median(old / new):.2f}x")
    print(f"largest relative difference in df: {largest[0]:.1e} (goal {GOAL_DF_RTOL:.0e}: "
          f"{'met' if largest[0] <= GOAL_DF_RTOL else 'not met'})")
