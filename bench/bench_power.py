"""Power analysis on the replica design: seconds per replicate per hypothesis, the fast
simulation path against the full one, H3 replicates on two workers, the 1 -> 2 worker speed-up,
and the type I error of every hypothesis under the null.

Goals (power analysis): 1,000 replicates of H3 (mediation, within-class indirect effects) on the
replica design in under 2 minutes on a 2-core machine; a speed-up of at least 1.8 from 1 to 2
workers; under ``null=True`` every hypothesis's rejection rate within 3 Monte Carlo standard
errors of alpha (1,000 replicates).

``python -m bench power [--replicates N] [--per-hypothesis K]``: N replicates of H3 on a local
Dask cluster of 1 and of 2 workers (default 60; the 1,000-replicate time is N's run time scaled
up, and says so; starting the cluster and readying its workers is timed apart; beside the wall
clock, the CPU seconds per replicate of the threads that ran them: on a shared machine the two
differ by the time the workers waited for a core), K replicates per hypothesis in this
process (default 2). ``--h3-1000``: run the 1,000 H3 replicates on 2 workers for real (and the
speed-up on N replicates). ``--calibration N [--classes J] [--hypotheses H1,H3] [--out DIR]``:
N null replicates of H1-H5 (or those named) at J classes (default 16) on 2 workers (resumable
with ``--out``), the rejection rate of every hypothesis pooled over
its estimates and of every estimate. Timings on a shared machine are noisy: the two worker
counts run back to back on the same replicates.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from classdyad.simulate import ReplicaDesign, draw_analysis_dataset, power, simulate_study
from classdyad.simulate.power_results import null_calibration
from classdyad.study.dataset import build_analysis_dataset
from classdyad.study.plan import HYPOTHESES

GOAL_H3_1000_S = 120.0
GOAL_SPEEDUP = 1.8
ALPHA = 0.05


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


def _per_hypothesis(replicates: int) -> dict[str, tuple[float, float, float]]:
    """Per hypothesis: seconds per replicate in all (drawing the study included), CPU seconds
    per replicate, and seconds in fits."""
    out = {}
    for hypothesis in HYPOTHESES:
        result = power(hypotheses=[hypothesis], replicates=replicates, seed=1,
                       scheduler="serial")
        fits = result.fits.groupby("replicate")["seconds"].sum().mean()
        out[hypothesis] = (result.timing["run_seconds"] / replicates,
                           result.timing["replicate_cpu_seconds"] / replicates, float(fits))
    return out


def _workers(workers: int, replicates: int) -> tuple[float, float, float]:
    """Seconds to start the local cluster, to run the replicates on it, and CPU seconds per
    replicate in the workers."""
    result = power(hypotheses=["H3"], replicates=replicates, seed=3, workers=workers)
    timing = result.timing
    return (timing["start_seconds"], timing["run_seconds"],
            timing["replicate_cpu_seconds"] / max(1, timing["replicates_run"]))


def _load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


_shown = {"step": -1}


def _progress(done: int, planned: int) -> None:
    if done // 50 > _shown["step"] or done == planned:
        _shown["step"] = done // 50
        print(f"  {done}/{planned} replicates ({_load()})", file=sys.stderr, flush=True)


def _calibration(replicates: int, classes: int, out: str | None,
                 hypotheses: list[str]) -> None:
    schools = max(2, round(classes * 32 / 73))
    design = ReplicaDesign(schools=schools, classes=classes, students=round(classes * 21.45))
    print(f"\nnull calibration: {','.join(hypotheses)}, {replicates} replicates, {classes} "
          f"classes, {design.students} students, 2 workers; {_load()}")
    start = time.perf_counter()
    result = power(hypotheses=hypotheses, design=design, replicates=replicates,
                   seed=2024, null=True, workers=2, out=out, progress=_progress)
    pooled, per_estimate = null_calibration(result)
    print(f"run {time.perf_counter() - start:.0f} s; {_load()}")
    print(f"{'hypothesis':<11} {'group':<10} {'estimates':>9} {'rate':>7} {'MC SE':>7} "
          f"{'z':>6} {'lowest':>7} {'highest':>8} {'>3 SE':>6} {'failed':>7}  calibrated")
    for row in pooled.itertuples(index=False):
        print(f"{row.hypothesis:<11} {row.group:<10} {row.estimates:>9} {row.rate:>7.4f} "
              f"{row.mc_se:>7.4f} {row.z:>6.2f} {row.lowest:>7.3f} {row.highest:>8.3f} "
              f"{row.beyond_3se:>6} {row.failed:>7}  {'yes' if row.calibrated else 'NO'}")
    print("(tests: within 3 MC SE of alpha; at origin: products and absolute differences whose "
          "factors the null all makes zero, conservative by construction: not above alpha "
          "+ 3 SE)")
    if out is not None:
        per_estimate.to_csv(os.path.join(out, "calibration.csv"), index=False)
        pooled.to_csv(os.path.join(out, "calibration_pooled.csv"), index=False)
    worst = per_estimate.loc[per_estimate["z"].abs().sort_values(ascending=False).index[:8]]
    print("\nestimates furthest from alpha:")
    print(worst[["estimate", "origin", "power", "n_fitted", "z"]].to_string(index=False))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench power")
    parser.add_argument("--replicates", type=int, default=60)
    parser.add_argument("--per-hypothesis", type=int, default=2)
    parser.add_argument("--h3-1000", action="store_true",
                        help="run 1,000 H3 replicates on 2 workers (not scaled up)")
    parser.add_argument("--calibration", type=int, default=0, metavar="N",
                        help="only the null calibration of H1-H5 with N replicates")
    parser.add_argument("--classes", type=int, default=16)
    parser.add_argument("--hypotheses", default=",".join(HYPOTHESES),
                        help="with --calibration: which hypotheses (default H1-H5)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.calibration:
        _calibration(args.calibration, args.classes, args.out, args.hypotheses.split(","))
        return
    print(_load())
    full, fast = _dataset_ratio()
    print(f"{'analysis dataset':<34} {'full s':>8} {'fast s':>8} {'full/fast':>10}")
    print(f"{'replica design (1,566 students)':<34} {full:>8.2f} {fast:>8.2f} "
          f"{full / fast:>10.1f}")

    print(f"\n{'hypothesis':<12} {'s / replicate':>14} {'CPU s / rep.':>13} "
          f"{'of which fits':>14} (replica design, one process, {args.per_hypothesis} "
          "replicates)")
    for hypothesis, (seconds, cpu, fits) in _per_hypothesis(args.per_hypothesis).items():
        print(f"{hypothesis:<12} {seconds:>14.2f} {cpu:>13.2f} {fits:>14.2f}")

    start_one, one, cpu_one = _workers(1, args.replicates)
    start_two, two, cpu_two = _workers(2, args.replicates)
    print(f"\nH3, {args.replicates} replicates on a local Dask cluster ({_load()})")
    print(f"{'workers':<9} {'start s':>8} {'run s':>8} {'s/replicate':>12} "
          f"{'CPU s/replicate':>16}")
    print(f"{1:<9} {start_one:>8.1f} {one:>8.1f} {one / args.replicates:>12.3f} "
          f"{cpu_one:>16.3f}")
    print(f"{2:<9} {start_two:>8.1f} {two:>8.1f} {two / args.replicates:>12.3f} "
          f"{cpu_two:>16.3f}")
    if args.h3_1000:
        _start, thousand, _cpu = _workers(2, 1000)
        label = "H3 x 1,000 replicates, 2 workers (run) s"
    else:
        thousand = two / args.replicates * 1000
        label = "H3 x 1,000 replicates, 2 workers (scaled) s"
    print(f"\n{'measure':<44} {'value':>8} {'goal':>8} {'value/goal':>10}")
    print(f"{'speed-up 1 -> 2 workers':<44} {one / two:>8.2f} {GOAL_SPEEDUP:>8.1f} "
          f"{one / two / GOAL_SPEEDUP:>10.2f}")
    print(f"{label:<44} {thousand:>8.0f} {GOAL_H3_1000_S:>8.0f} "
          f"{thousand / GOAL_H3_1000_S:>10.2f}")
    print(_load())
