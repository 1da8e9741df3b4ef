"""Speed of ``classdyad feedback`` for one teacher of the replica study (goal: under 5 s).

Runs the command as a user does (a fresh ``python -m classdyad.cli``-style process writing the
page and the JSON), interleaved with ``classdyad info`` on the same database as the reference
(the same interpreter start-up and database opening, almost no work), and prints wall-clock and
CPU seconds (user + system of the child process) per run, their medians, and the ratio of the
feedback command to the reference. CPU seconds are what the command costs on an idle machine;
wall-clock seconds on a shared machine include waiting for a core.

``python -m bench feedback [--database FILE] [--teacher CODE] [--repeats N]``; without
``--database`` the replica study is drawn first (``classdyad demo``, seed 20260101).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUN = "import sys; from classdyad.cli.app import main; sys.exit(main(sys.argv[1:]))"


def _run(arguments: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one command in a fresh interpreter."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", RUN, *arguments], check=True,
                   stdout=subprocess.DEVNULL, env={**os.environ})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench feedback")
    parser.add_argument("--database", type=Path, default=None)
    parser.add_argument("--teacher", default="T0010")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        database = args.database
        if database is None:
            print("drawing the replica study (classdyad demo) ...")
            _run(["demo", "--out", str(work / "demo")])
            database = work / "demo" / "study.sqlite"
        feedback = ["feedback", str(database), "--teacher", args.teacher, "--out",
                    str(work / "feedback.html"), "--json", str(work / "feedback.json")]
        reference = ["info", str(database)]
        times: dict[str, list[tuple[float, float]]] = {"feedback": [], "info": []}
        _run(reference)  # warm the file cache
        for _ in range(args.repeats):
            times["info"].append(_run(reference))
            times["feedback"].append(_run(feedback))
    print(f"classdyad feedback for teacher {args.teacher} of the replica study, "
          f"{args.repeats} runs interleaved with classdyad info")
    print(f"{'command':<10} {'wall median':>12} {'CPU median':>11} {'wall runs':>30}")
    for name, runs in times.items():
        walls = [w for w, _ in runs]
        cpus = [c for _, c in runs]
        shown = " ".join(f"{w:.1f}" for w in walls)
        print(f"{name:<10} {statistics.median(walls):>12.2f} {statistics.median(cpus):>11.2f} "
              f"{shown:>30}")
    feedback_cpu = statistics.median(c for _, c in times["feedback"])
    info_cpu = statistics.median(c for _, c in times["info"])
    feedback_wall = statistics.median(w for w, _ in times["feedback"])
    print(f"ratio feedback / info (CPU): {feedback_cpu / info_cpu:.2f}; "
          f"goal: under 5 s (CPU median {feedback_cpu:.2f} s, wall median "
          f"{feedback_wall:.2f} s)")
