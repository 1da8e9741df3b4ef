"""Writing the study report of the replica study.

Goal (issue "Study report"): the replica study's report written in under 10 s on a 2-core
machine. Timed as ``classdyad report DB --results results.json`` does it: read the study from
SQLite, build the analysis dataset, compute the descriptive sections (coder agreement,
reliabilities, IAT scores), draw every figure, render the HTML and save it with its figures (PNG,
SVG) and tables (CSV, LaTeX). The analysis plan (results.json) is run beforehand and not timed.

``python -m bench report [--demo DIR] [--lang en|nl] [--repeat N]``: with ``--demo`` the study and
results of ``make demo`` (``DIR/study.sqlite``, ``DIR/results.json``) are used; otherwise the
replica is simulated (seed 20260101), stored in a temporary SQLite file and analysed first.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from classdyad.report import study_report
from classdyad.simulate import simulate_study
from classdyad.store import open_database, read_study, write_study
from classdyad.study import build_analysis_dataset
from classdyad.study.plan import study_plan

GOAL_SECONDS = 10.0


def _prepare(folder: Path) -> tuple[Path, Path]:
    """A stored replica study and its results.json."""
    database = folder / "study.sqlite"
    engine = open_database(database, create=True)
    try:
        write_study(engine, simulate_study(rng=20260101).tables)
        tables = read_study(engine)
    finally:
        engine.dispose()
    results = folder / "results.json"
    study_plan(build_analysis_dataset(tables), rng=1).to_json(str(results))
    return database, results


def measure(database: Path, results: Path, out: Path, language: str) -> dict[str, float]:
    """Seconds of each step of one report."""
    times: dict[str, float] = {}
    start = time.perf_counter()
    engine = open_database(database, create=False)
    try:
        tables = read_study(engine)
    finally:
        engine.dispose()
    times["read"] = time.perf_counter() - start
    mark = time.perf_counter()
    dataset = build_analysis_dataset(tables)
    times["dataset"] = time.perf_counter() - mark
    mark = time.perf_counter()
    report = study_report(tables, results, language=language, dataset=dataset)  # type: ignore[arg-type]
    times["report"] = time.perf_counter() - mark
    mark = time.perf_counter()
    report.save(out)
    times["save"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - start
    return times


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench report")
    parser.add_argument("--demo", type=Path, help="folder written by 'make demo'")
    parser.add_argument("--lang", default="en", choices=["en", "nl"])
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if options.demo is not None:
            database, results = options.demo / "study.sqlite", options.demo / "results.json"
        else:
            print("simulating, storing and analysing the replica study (not timed) ...")
            database, results = _prepare(folder)
        runs = [measure(database, results, folder / "report" / "report.html", options.lang)
                for _ in range(options.repeat)]
    steps = ["read", "dataset", "report", "save", "total"]
    print(f"{'step':>8} " + " ".join(f"{'run ' + str(i + 1):>7}" for i in range(len(runs)))
          + f" {'median':>7}")
    for step in steps:
        values = [run[step] for run in runs]
        print(f"{step:>8} " + " ".join(f"{v:>7.2f}" for v in values)
              + f" {statistics.median(values):>7.2f}")
    total = statistics.median(run["total"] for run in runs)
    print(f"report of the replica study: {total:.2f} s (goal {GOAL_SECONDS:.0f} s, "
          f"{total / GOAL_SECONDS:.2f} of it)")
