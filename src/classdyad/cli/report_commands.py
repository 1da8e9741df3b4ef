"""``classdyad report``: the study's report as one self-contained HTML file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from classdyad.cli.database import load_study
from classdyad.errors import NotFoundError, check_option

console = Console()


def report(
    database: Annotated[str, typer.Argument(help="SQLite file (or a database URL).")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write; figures/ (PNG, SVG) "
                                      "and tables/ (CSV, LaTeX) are written beside it.")] =
    Path("report.html"),
    results: Annotated[Path | None, typer.Option(
        "--results", help="results.json of 'classdyad analyze': the report shows exactly its "
                          "numbers. Without it the analysis plan is run first.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the report: en or nl.")] =
    "en",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the Monte Carlo intervals (when "
                                      "the plan is run).")] = 1,
    study: Annotated[str | None, typer.Option("--study", help="Study name.")] = None,
) -> None:
    """Write the study report: sample, data quality, interactions, every hypothesis, methods."""
    from classdyad.report import LANGUAGES, study_report
    from classdyad.study import build_analysis_dataset
    from classdyad.study.plan import study_plan

    check_option("--lang", lang, LANGUAGES)
    if results is not None and not results.exists():
        raise NotFoundError(f"no results file {results}; run 'classdyad analyze DB --out "
                            f"{results}' first, or leave out --results to run the plan now")
    started = time.perf_counter()
    tables = load_study(database, study)
    dataset = build_analysis_dataset(tables)
    if results is None:
        with console.status("running the analysis plan") as status:
            plan = study_plan(dataset, rng=seed,
                              progress=lambda text: status.update(f"running {text}"))
        source: object = plan
    else:
        source = results
    written = study_report(tables, source, language=lang, dataset=dataset).save(out)  # type: ignore[arg-type]
    console.print(f"report written in {time.perf_counter() - started:.1f} s:", highlight=False)
    print(written)
