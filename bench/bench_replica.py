"""Generating and storing the replica study and building its analysis dataset.

Goals (issue "Foundation"): the full replica under 15 s on a 2-core machine, the 10x study under
2 minutes. ``python -m bench replica [SCALE ...]`` (default scales 1 and 10).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from classdyad.simulate import ReplicaDesign, simulate_study
from classdyad.store import open_database, read_study, write_study
from classdyad.study.dataset import build_analysis_dataset

GOALS = {1.0: 15.0, 10.0: 120.0}


def measure(scale: float, seed: int = 1) -> dict[str, float]:
    """Seconds for each step at one scale."""
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        study = simulate_study(ReplicaDesign(scale=scale), rng=seed)
        times["simulate"] = time.perf_counter() - start
        mark = time.perf_counter()
        engine = open_database(Path(folder) / "study.sqlite")
        write_study(engine, study.tables)
        times["store"] = time.perf_counter() - mark
        mark = time.perf_counter()
        tables = read_study(engine)
        times["read"] = time.perf_counter() - mark
        mark = time.perf_counter()
        dataset = build_analysis_dataset(tables)
        times["dataset"] = time.perf_counter() - mark
        times["total"] = time.perf_counter() - start
        times["events"] = float(len(tables.events))
        times["rows"] = float(len(dataset))
        engine.dispose()
    return times


def main(argv: list[str]) -> None:
    scales = [float(a) for a in argv] or [1.0, 10.0]
    header = (f"{'scale':>6} {'events':>10} {'rows':>8} {'simulate':>9} {'store':>7} "
              f"{'read':>7} {'dataset':>8} {'total s':>8} {'goal s':>7} {'total/goal':>10}")
    print(header)
    for scale in scales:
        t = measure(scale)
        goal = GOALS.get(scale, float("nan"))
        print(f"{scale:>6g} {t['events']:>10,.0f} {t['rows']:>8,.0f} {t['simulate']:>9.2f} "
              f"{t['store']:>7.2f} {t['read']:>7.2f} {t['dataset']:>8.2f} {t['total']:>8.2f} "
              f"{goal:>7.0f} {t['total'] / goal:>10.2f}")
