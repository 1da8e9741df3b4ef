"""``classdyad power``: Monte Carlo power of the study plan over a grid of designs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from classdyad.cli.measure_commands import print_frame
from classdyad.errors import DataError

console = Console()


def _numbers(text: str | None, kind: type, what: str) -> list | None:
    if text is None:
        return None
    try:
        values = [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise DataError(f"{what}: {text!r} is not a comma-separated list of numbers; write "
                        "e.g. 40,73") from None
    if not values:
        raise DataError(f"{what}: give at least one value, e.g. 40,73")
    return values


def power(
    out: Annotated[Path, typer.Option("--out", help="Folder for power.json, power.html, "
                                      "the replicates (JSON lines and Parquet) and the run's "
                                      "settings; rerun with the same folder to continue.")],
    hypotheses: Annotated[str, typer.Option("--hypotheses", help="Comma-separated, e.g. "
                                            "H1,H3.")] = "H1,H2,H3,H4,H5",
    classes: Annotated[str | None, typer.Option("--classes", help="Classes, e.g. 40,73 "
                                                "(default: the seed study's 73).")] = None,
    students_per_class: Annotated[str | None, typer.Option(
        "--students-per-class", help="Mean students per class, e.g. 21 (default 21.5).")] = None,
    class_size_sd: Annotated[float | None, typer.Option(
        "--class-size-sd", help="Spread (SD) of class sizes in students.")] = None,
    classes_per_school: Annotated[str | None, typer.Option(
        "--classes-per-school", help="Classes per school (default 2.3).")] = None,
    waves: Annotated[str | None, typer.Option("--waves", help="Waves, e.g. 2,3.")] = None,
    lessons_per_wave: Annotated[str | None, typer.Option(
        "--lessons-per-wave", help="Observed lessons per class and wave, e.g. 2,3,4.")] = None,
    lesson_minutes: Annotated[str | None, typer.Option(
        "--lesson-minutes", help="Range of lesson lengths in minutes, e.g. 40,65.")] = None,
    absence: Annotated[float | None, typer.Option(
        "--absence", help="Share of students absent from a lesson.")] = None,
    attrition: Annotated[float | None, typer.Option(
        "--attrition", help="Share of students leaving (and joining) per wave.")] = None,
    effects: Annotated[Path | None, typer.Option(
        "--effects", help="YAML file of effects mirroring ReplicaTruth, e.g. 'rates: "
        "{negative: {rate_ratio: {low_ses: 1.2}}}'.")] = None,
    pilot: Annotated[str | None, typer.Option(
        "--pilot", help="Estimate the effects from a pilot study database.")] = None,
    null: Annotated[bool, typer.Option("--null", help="Set the tested effects to zero (type I "
                                       "error).")] = False,
    alpha: Annotated[float, typer.Option("--alpha", help="Significance level.")] = 0.05,
    fdr: Annotated[bool, typer.Option("--fdr", help="Benjamini-Hochberg adjusted p values "
                                      "over the hypotheses run.")] = False,
    target: Annotated[float, typer.Option("--target", help="Power whose smallest design is "
                                          "reported.")] = 0.8,
    replicates: Annotated[int, typer.Option("--replicates", help="Replicates per design "
                                            "point.")] = 200,
    mc_se: Annotated[float | None, typer.Option(
        "--mc-se", help="Go on until every power's Monte Carlo SE is at most this.")] = None,
    max_replicates: Annotated[int, typer.Option(
        "--max-replicates", help="Cap per design point with --mc-se.")] = 5000,
    seed: Annotated[int, typer.Option("--seed", help="The run's seed.")] = 1,
    workers: Annotated[int, typer.Option("--workers", help="Local Dask worker processes (one "
                                         "BLAS thread each).")] = 1,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="An existing Dask scheduler, tcp://HOST:PORT; or 'serial' to run "
        "in this process.")] = None,
    n_draws: Annotated[int, typer.Option("--n-draws", help="Monte Carlo draws per indirect-"
                                         "effect interval (the plan's 20000).")] = 20_000,
    simulation: Annotated[str, typer.Option(
        "--simulation", help="fast (draw the analysis dataset) or full (every event).")] =
    "fast",
) -> None:
    """Power of the analysis plan's tests by simulation, for every design in a grid."""
    from classdyad.report.power_page import write_power_page
    from classdyad.simulate.power_analysis import power as run_power
    from classdyad.simulate.power_effects import (
        describe_truth,
        truth_from_pilot,
        truth_from_yaml,
    )
    from classdyad.simulate.power_results import key_estimates

    started = time.perf_counter()
    truth = None
    if pilot is not None:
        from classdyad.cli.database import load_study
        from classdyad.study import build_analysis_dataset

        console.print(f"estimating effects from the pilot study {pilot}")
        truth = truth_from_pilot(build_analysis_dataset(load_study(pilot)))
    if effects is not None:
        truth = truth_from_yaml(effects, truth)
    options = {}
    minutes = _numbers(lesson_minutes, float, "--lesson-minutes")
    if minutes is not None:
        if len(minutes) != 2:
            raise DataError("--lesson-minutes takes two numbers, the shortest and longest "
                            "lesson, e.g. 40,65")
        options["lesson_minutes"] = tuple(minutes)
    if absence is not None:
        options["absence_rate"] = absence
    if attrition is not None:
        options["leave_rate_per_wave"] = attrition
    if truth is None:
        from classdyad.simulate.design import ReplicaTruth

        truth = ReplicaTruth()
    console.print("Implied model" + (" (tested effects set to zero per hypothesis)"
                                     if null else "") + ":", style="bold")
    console.print(describe_truth(truth), highlight=False)

    with Progress(TextColumn("replicates"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("replicates", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = run_power(
            hypotheses=[h for h in hypotheses.split(",") if h.strip()],
            classes=_numbers(classes, int, "--classes"),
            students_per_class=_numbers(students_per_class, float, "--students-per-class"),
            classes_per_school=_numbers(classes_per_school, float, "--classes-per-school"),
            waves=_numbers(waves, int, "--waves"),
            lessons_per_wave=_numbers(lessons_per_wave, int, "--lessons-per-wave"),
            class_size_sd=class_size_sd, design_options=options, truth=truth, null=null,
            alpha=alpha, adjustment="fdr" if fdr else "none", target=target,
            replicates=replicates, mc_se=mc_se, max_replicates=max_replicates, seed=seed,
            n_draws=n_draws, simulation=simulation, workers=workers, scheduler=scheduler,
            out=out, progress=progress)
    result.to_json(str(out / "power.json"))
    (out / "summary.json").write_text(json.dumps({
        "settings": result.settings, "implied_model": result.implied_model,
        "designs": result.designs.to_dict("records"),
        "smallest_designs": result.smallest.astype(object).where(
            result.smallest.notna(), None).to_dict("records")}, indent=1, default=str),
        encoding="utf-8")
    result.replicates.to_parquet(out / "replicates.parquet", index=False)
    result.fits.to_parquet(out / "fits.parquet", index=False)
    write_power_page(result, out / "power.html")
    key = key_estimates(result.table)
    labels = [" ".join(str(part) for part in (outcome, effect, level) if part)
              for outcome, effect, level in zip(key["outcome"], key["effect"], key["level"],
                                                strict=True)]
    shown = pd.DataFrame({
        "": key["hypothesis"], "estimate": labels, "classes": key["classes"],
        "per class": key["students_per_class"].map(lambda v: f"{v:g}"),
        "power": key["power"].map(lambda v: "" if pd.isna(v) else f"{v:.3f}"),
        "MC SE": key["mc_se"].map(lambda v: "" if pd.isna(v) else f"{v:.3f}"),
        "failed": key["n_failed"]})
    print_frame("Power of the key estimates (failed fits counted beside the power)", shown,
                right=("power", "MC SE", "95% CI"))
    reached = result.smallest[result.smallest["reached"]]
    console.print(f"{len(reached)} of {len(result.smallest)} estimates reach power {target} "
                  "in the grid; the smallest designs are in summary.json and power.html")
    console.print(f"{len(result.table)} power estimates written to {out / 'power.json'} "
                  f"({time.perf_counter() - started:.1f} s)")
