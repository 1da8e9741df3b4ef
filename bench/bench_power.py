"""Power analysis on the replica design: seconds per replicate per hypothesis, the fast
simulation path against the full one, H3 replicates on two workers, and the 1 -> 2 worker
speed-up.

Goals (power analysis): 1,000 replicates of H3 (mediation, within-class indirect effects) on the
replica design in under 2 minutes on a 2-core machine; a speed-up of at least 1.8 from 1 to 2
workers. ``python -m bench power [--replicates N] [--per-hypothesis K]``: N replicates of H3 on a
local Dask cluster of 1 and of 2 workers (default 20; the 1,000-replicate time is N's run time
scaled up, and says so; starting the cluster is timed apart), K replicates per hypothesis in
this process (default 2). Timings on a shared machine are noisy: the two worker counts run
back to back on the same replicates.
"""

from __future__ import annotations

import argparse
import time

from classdyad.simulate import ReplicaDesign, draw_analysis_dataset, power, simulate_study
from classdyad.study.dataset import build_analysis_dataset
from classdyad.study.plan import HYPOTHESES

GOAL_H3_1000_S = 120.0
GOAL_SPEEDUP = 1.8


def _dataset_ratio(repeats: int = 3) -> tuple[float, float]:
    """Seconds per analysis dataset: full simulator + build_analysis_dataset, and fast path
    (interleaved)."""
    full = fast = 0.0
    for k in range(repeats):
        start = time.perf_counter()
        build_analysis_dataset(simulate_study(ReplicaDesign(), rng=k).tables)
        full += time.perf_counter() - start
        start = time.perf_counter()
        draw_analysis_dataset(ReplicaDesign(), rng=k)
        fast += time.perf_counter() - start
    return full / repeats, fast / repeats


def _per_hypothesis(replicates: int) -> dict[str, float]:
    out = {}
    for hypothesis in HYPOTHESES:
        result = power(hypotheses=[hypothesis], replicates=replicates, seed=1,
                       scheduler="serial")
        fits = result.fits
        per_replicate = fits.groupby("replicate")["seconds"].sum().mean()
        out[hypothesis] = float(per_replicate)
    return out


def _workers(workers: int, replicates: int) -> tuple[float, float]:
    """Seconds to start the local cluster, and to run the replicates on it."""
    result = power(hypotheses=["H3"], replicates=replicates, seed=3, workers=workers)
    return result.timing["start_seconds"], result.timing["run_seconds"]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench power")
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--per-hypothesis", type=int, default=2)
    args = parser.parse_args(argv)

    full, fast = _dataset_ratio()
    print(f"{'analysis dataset':<34} {'full s':>8} {'fast s':>8} {'full/fast':>10}")
    print(f"{'replica design (1,566 students)':<34} {full:>8.2f} {fast:>8.2f} "
          f"{full / fast:>10.1f}")

    print(f"\n{'hypothesis':<12} {'fit s / replicate':>18} (replica design, one process, "
          f"{args.per_hypothesis} replicates)")
    for hypothesis, seconds in _per_hypothesis(args.per_hypothesis).items():
        print(f"{hypothesis:<12} {seconds:>18.2f}")

    start_one, one = _workers(1, args.replicates)
    start_two, two = _workers(2, args.replicates)
    scaled = two / args.replicates * 1000
    print(f"\nH3, {args.replicates} replicates on a local Dask cluster")
    print(f"{'workers':<9} {'start s':>8} {'run s':>8} {'s/replicate':>12}")
    print(f"{1:<9} {start_one:>8.1f} {one:>8.1f} {one / args.replicates:>12.2f}")
    print(f"{2:<9} {start_two:>8.1f} {two:>8.1f} {two / args.replicates:>12.2f}")
    print(f"\n{'measure':<44} {'value':>8} {'goal':>8} {'value/goal':>10}")
    print(f"{'speed-up 1 -> 2 workers':<44} {one / two:>8.2f} {GOAL_SPEEDUP:>8.1f} "
          f"{one / two / GOAL_SPEEDUP:>10.2f}")
    print(f"{'H3 x 1,000 replicates, 2 workers (scaled) s':<44} {scaled:>8.0f} "
          f"{GOAL_H3_1000_S:>8.0f} {scaled / GOAL_H3_1000_S:>10.2f}")
