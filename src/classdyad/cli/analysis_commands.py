"""``classdyad analyze``: the study's whole analysis plan on a stored study."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from classdyad.cli.database import load_study
from classdyad.cli.measure_commands import print_frame

console = Console()

#: models fitted by the plan, for the progress bar's length (the bar completes in any case)
EXPECTED_STEPS = 42


def _p(value: float) -> str:
    return "" if pd.isna(value) else "<.001" if value < 0.001 else f"{value:.3f}"


def key_table(estimates: pd.DataFrame) -> pd.DataFrame:
    """The headline rows, rounded for the terminal (results.json keeps full precision)."""
    def interval(row: pd.Series) -> str:
        return f"[{row['ci_low']:.3f}, {row['ci_high']:.3f}]"

    rows = estimates.reset_index(drop=True)
    return pd.DataFrame({
        "": rows["hypothesis"],
        "outcome": rows["outcome"],
        "effect": rows["effect"],
        "rows / exposure": rows["contrast"].replace(
            {"ses_ethnicity": "all", "turkish_moroccan_vs_dutch": "TM + Dutch"}),
        "estimate": rows["estimate"].map(lambda v: f"{v:.3f}"),
        "95% CI": rows.apply(interval, axis=1),
        "p (FDR)": rows["p_fdr"].map(_p),
        "rate ratio": rows["ratio"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}"),
    })


def analyze(
    database: Annotated[str, typer.Argument(help="SQLite file (or a database URL).")],
    out: Annotated[Path, typer.Option("--out", help="JSON file for every estimate at full "
                                      "precision, the model formulas and software versions."
                                      )] = Path("results.json"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the Monte Carlo intervals.")] =
    1,
    study: Annotated[str | None, typer.Option("--study", help="Study name.")] = None,
) -> None:
    """Run the study's analysis plan: group gaps, mediation, negativity bias, implicit attitudes."""
    from classdyad.study import build_analysis_dataset
    from classdyad.study.plan import study_plan

    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("reading the study", total=EXPECTED_STEPS + 2)
        tables = load_study(database, study)
        progress.update(task, advance=1, description="building the analysis dataset")
        dataset = build_analysis_dataset(tables)

        def step(text: str) -> None:
            progress.update(task, advance=1, description=text)

        result = study_plan(dataset, rng=seed, progress=step)
        progress.update(task, completed=EXPECTED_STEPS + 2, description="done")
    key = result.key_table()
    print_frame("Key estimates (p: Benjamini-Hochberg over the whole plan; rate ratio: count "
                "models)", key_table(key),
                right=("estimate", "95% CI", "p (FDR)", "rate ratio"))
    for sentence in result.findings:
        console.print(f"• {sentence}", highlight=False)
    if result.skipped:
        console.print("Not estimated (the study's data cannot support them):", highlight=False)
        for line in result.skipped:
            console.print(f"  - {line}", highlight=False)
    result.to_json(str(out))
    console.print(f"{len(result.estimates)} estimates from {len(result.models)} models written "
                  f"to {out} ({time.perf_counter() - started:.1f} s)")
