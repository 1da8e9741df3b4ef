"""Commands for whole studies: ``demo``, ``init``, ``migrate`` and ``info``."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from classdyad.cli.database import opened
from classdyad.errors import UndefinedStatisticWarning

console = Console()


def _table(title: str, frame: pd.DataFrame) -> Table:
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        table.add_column(str(column), justify="right" if frame[column].dtype.kind in "iuf"
                         else "left")
    for row in frame.itertuples(index=False):
        table.add_row(*[f"{v:,.2f}" if isinstance(v, float) else
                        f"{v:,}" if isinstance(v, int) else str(v) for v in row])
    return table


def _counts_table(counts: dict[str, object]) -> Table:
    table = Table(title=f"Study {counts['study']!r}", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("n", justify="right")
    for key in ("schools", "classes", "teachers", "students", "waves", "lessons",
                "interaction_events"):
        table.add_row(key.replace("_", " "), f"{counts[key]:,}")
    for valence, n in counts["events_by_valence"].items():  # type: ignore[attr-defined]
        table.add_row(f"  {valence}", f"{n:,}")
    table.add_row("  of which second coder (reliability)", f"{counts['second_coder_events']:,}")
    return table


def group_rates(dataset: pd.DataFrame) -> pd.DataFrame:
    """Students, hours and interaction rates per hour by SES and origin group (for the summary)."""
    rows = []
    groupings = {
        "all students": pd.Series("all", index=dataset.index),
        "SES": dataset["low_ses"].map({True: "low SES", False: "not low SES"}),
        "origin": dataset["migration_background"],
    }
    for label, key in groupings.items():
        for group, part in dataset.groupby(key, sort=True):
            hours = part["hours_present"].sum()
            rows.append({
                "grouping": label, "group": str(group),
                "students": int(part["student_id"].nunique()),
                "hours observed": float(hours),
                "positive / h": float(part["positive"].sum() / hours),
                "negative / h": float(part["negative"].sum() / hours),
                "neutral / h": float(part["neutral"].sum() / hours),
            })
    return pd.DataFrame(rows)


def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for study.sqlite, truth.json and "
                                      "the analysis dataset.")] = Path("demo-output"),
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the "
                                      "same study.")] = 20260101,
    scale: Annotated[float, typer.Option("--scale", help="Study size relative to the seed "
                                         "study (10: ten times as many schools, classes and "
                                         "students).")] = 1.0,
) -> None:
    """Make the replica study, store it, build the analysis dataset and summarize it."""
    from classdyad.cli.measure_commands import agreement_summary, print_frame
    from classdyad.simulate import ReplicaDesign, write_replica
    from classdyad.store import open_database, read_study, study_counts
    from classdyad.study.dataset import build_analysis_dataset
    from classdyad.study.scores import study_agreement

    started = time.perf_counter()
    design = ReplicaDesign(scale=scale)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[n]}"),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task("simulating the replica study", total=22, n="")

        def step(name: str, rows: int) -> None:
            progress.update(task, advance=1, description=f"storing {name}", n=f"{rows:,} rows")

        files = write_replica(out, design=design, rng=seed, progress=step)
        progress.update(task, description="reading the study back", n="")
        engine = open_database(files.database, create=False)
        tables = read_study(engine)
        progress.update(task, advance=1, description="building the analysis dataset")
        dataset = build_analysis_dataset(tables)
        dataset.to_parquet(out / "analysis_dataset.parquet", index=False)
        dataset.to_csv(out / "analysis_dataset.csv", index=False)
        progress.update(task, completed=22, description="done", n="")
    counts = study_counts(engine)
    engine.dispose()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        agreement = study_agreement(tables)
    agreement.to_frame().to_csv(out / "agreement.csv", index=False)
    console.print(_counts_table(counts))
    console.print(_table("Interactions per hour observed, by group (student x wave rows)",
                         group_rates(dataset)))
    matched = agreement.matching.to_frame().iloc[-1]
    print_frame(f"Coder agreement on {len(agreement.matching.lessons)} double-coded lessons "
                f"({int(matched['n_matched']):,} matched events; every statistic per lesson in "
                "agreement.csv)", agreement_summary(agreement.summary()))
    console.print(f"database:  {files.database}\ntruth:     {files.truth}\n"
                  f"dataset:   {out / 'analysis_dataset.parquet'} (and .csv), "
                  f"{len(dataset):,} student x wave rows\n"
                  f"time:      {time.perf_counter() - started:.1f} s")


def init(
    database: Annotated[str, typer.Argument(help="SQLite file to create (or a database URL).")],
) -> None:
    """Create a study database at the newest schema (an existing one is migrated)."""
    from classdyad.store import create_engine, migrate

    engine = create_engine(database)
    try:
        before, after = migrate(engine)
    finally:
        engine.dispose()
    if before is None:
        console.print(f"created {database} (schema {after})", highlight=False)
    elif before == after:
        console.print(f"{database} is at the newest schema ({after}); nothing to do",
                      highlight=False)
    else:
        console.print(f"migrated {database} from schema {before} to {after}", highlight=False)


def migrate_command(
    database: Annotated[str, typer.Argument(help="SQLite file (or a database URL).")],
) -> None:
    """Bring a study database to the newest schema (back it up first)."""
    from classdyad.errors import StoreError
    from classdyad.store import create_engine, migrate
    from classdyad.store.engine import database_url

    url = database_url(database)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        raise StoreError(f"no database at {database}; create one with `classdyad init "
                         f"{database}`")
    engine = create_engine(database)
    try:
        before, after = migrate(engine)
    finally:
        engine.dispose()
    if before == after:
        console.print(f"{database} is at the newest schema ({after}); nothing to do",
                      highlight=False)
    else:
        console.print(f"migrated {database} from schema {before or 'none'} to {after}",
                      highlight=False)


def info(
    database: Annotated[str, typer.Argument(help="SQLite file (or a database URL).")],
    study: Annotated[str | None, typer.Option("--study", help="Study name, when the database "
                                              "holds several.")] = None,
) -> None:
    """Print the counts of schools, classes, teachers, students, waves, lessons and events."""
    from classdyad.store import study_counts

    with opened(database) as engine:
        console.print(_counts_table(study_counts(engine, study)))
