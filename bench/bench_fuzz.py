"""The long fuzz campaign: every importer and model entry point, counts of each outcome.

``python -m bench fuzz [CASES_PER_ENTRY] [--seed S]`` (default 1,250 cases for each of the eight
entry points: 10,000 cases). Goal: 0 tracebacks, 0 partial writes, 0 silent failures; the
table lists clean refusals and acceptances beside them. See :mod:`bench.fuzz_campaign`.
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench.fuzz_campaign import OUTCOMES, run_campaign


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench fuzz")
    parser.add_argument("cases", nargs="?", type=int, default=1250)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    console = Console()
    started = time.perf_counter()
    with Progress(console=console) as progress:
        task = progress.add_task("fuzzing", total=args.cases * 8)
        result = run_campaign(args.cases, seed=args.seed,
                              progress=lambda name, i: progress.update(
                                  task, advance=1, description=name))
    frame = result.to_frame()
    table = Table(title=f"fuzz campaign, seed {args.seed} "
                  f"({time.perf_counter() - started:.0f} s)")
    for column in frame.columns:
        table.add_column(column, justify="left" if column == "entry point" else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*(f"{v:,}" if isinstance(v, int | float) else str(v) for v in row))
    console.print(table)
    for entry, case, detail in result.failures:
        console.print(f"[red]{entry} case {case}[/red]: {detail}", highlight=False)
    bad = int(frame.iloc[-1][[o for o in OUTCOMES if o not in ("refused", "accepted")]].sum())
    console.print("goal met: 0 tracebacks, partial writes and silent failures" if bad == 0
                  else f"[red]{bad} defective outcomes[/red]")
