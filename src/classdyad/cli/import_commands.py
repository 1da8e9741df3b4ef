"""``classdyad import``: rosters, BORIS codings, events, responses and IAT trials, all or nothing.

Each command reads and checks the whole file, matches it against the stored study and writes
everything in one transaction, or nothing (the error lists the problems). ``--dry-run`` checks
only. Importing the same file twice adds nothing the second time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from classdyad.cli.database import opened
from classdyad.errors import DataError

console = Console()
import_app = typer.Typer(help="Import rosters, BORIS codings and interaction events (all or "
                         "nothing).", no_args_is_help=True)

DatabaseArgument = Annotated[str, typer.Argument(help="SQLite file (or a database URL).")]
StudyOption = Annotated[str | None, typer.Option(
    "--study", help="Study name (needed when the database holds several).")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Check everything, write nothing.")]
ColumnOption = Annotated[list[str] | None, typer.Option(
    "--column", help="FIELD=HEADER: the column holding a field (repeatable), e.g. "
    "student=Leerlingnummer.")]
ActorOption = Annotated[str, typer.Option("--actor", help="Who imports (audit log).")]


def _column_mapping(mapping: Path | None, columns: list[str] | None):
    from classdyad.io.mapping import ColumnMapping, read_column_mapping

    base = read_column_mapping(mapping) if mapping is not None else ColumnMapping()
    pairs = {}
    for item in columns or []:
        field, sep, header = item.partition("=")
        if not sep or not field.strip() or not header.strip():
            raise DataError(f"--column {item!r} is not FIELD=HEADER; write e.g. "
                            "--column student=Leerlingnummer")
        pairs[field.strip()] = header.strip()
    return base.merged(ColumnMapping(columns=pairs))


def _import(database: str, importer, table, **options) -> None:
    """Run one store importer on the parsed file and print what it added."""
    with opened(database) as engine:
        _summary(importer(engine, table, **options))


def _summary(summary) -> None:
    title = (f"{summary.source}: checked, nothing written (dry run)" if summary.dry_run
             else f"{summary.source}: imported")
    console.print(title, highlight=False, soft_wrap=True)
    table = Table()
    for column in ("table", "added", "already stored"):
        table.add_column(column, justify="left" if column == "table" else "right")
    frame = summary.to_frame()
    for row in frame.itertuples(index=False):
        table.add_row(str(row.table), f"{row.added:,}", f"{row.already_stored:,}")
    console.print(table)


@import_app.command("roster")
def roster(
    database: DatabaseArgument,
    file: Annotated[Path, typer.Argument(help="Roster: .csv, .tsv, .xlsx or .sav.")],
    study: StudyOption = None,
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", help="YAML column mapping (columns, values, defaults).")] = None,
    column: ColumnOption = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="Excel sheet name.")] = None,
    dry_run: DryRunOption = False,
    actor: ActorOption = "classdyad import",
) -> None:
    """Import schools, classes, teachers, students (with names) and enrolments."""
    from classdyad.services.imports import import_file, new_study_name

    columns = _column_mapping(mapping, column)
    with opened(database, create=True) as engine:
        created = new_study_name(engine, study, file.name)
        if created is not None:
            console.print(f"the database holds no study yet; the import creates study "
                          f"{created!r} (name another with --study)", highlight=False)
        _summary(import_file(engine, "roster", file, actor=actor, study=study,
                             dry_run=dry_run, mapping=columns,
                             sheet=sheet if sheet is not None else 0))


@import_app.command("boris")
def boris(
    database: DatabaseArgument,
    file: Annotated[Path, typer.Argument(help="BORIS export (.tsv, .csv, .xlsx) or .boris "
                                         "project.")],
    mapping: Annotated[Path, typer.Option(
        "--mapping", help="YAML mapping: observations to lessons, subjects to students, "
        "behaviours and modifiers to valence and subtype.")],
    study: StudyOption = None,
    dry_run: DryRunOption = False,
    actor: ActorOption = "classdyad import",
) -> None:
    """Import coded events from BORIS."""
    from classdyad.io.boris import BorisMapping, boris_interaction_events, read_boris
    from classdyad.store.importing import import_interaction_events

    occurrences = read_boris(file)
    events = boris_interaction_events(occurrences, BorisMapping.from_yaml(mapping),
                                      source=file.name)
    _import(database, import_interaction_events, events, study=study, source=file.name,
            actor=actor, dry_run=dry_run)


@import_app.command("events")
def events(
    database: DatabaseArgument,
    file: Annotated[Path, typer.Argument(help="Interaction events as CSV.")],
    study: StudyOption = None,
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", help="YAML column mapping.")] = None,
    column: ColumnOption = None,
    dry_run: DryRunOption = False,
    actor: ActorOption = "classdyad import",
) -> None:
    """Import coded interaction events from CSV (teachers, students and coders by code)."""
    from classdyad.io.events import read_interaction_events
    from classdyad.store.importing import import_interaction_events

    table = read_interaction_events(file, mapping=_column_mapping(mapping, column))
    _import(database, import_interaction_events, table, study=study, source=file.name,
            actor=actor, dry_run=dry_run)


@import_app.command("responses")
def responses(
    database: DatabaseArgument,
    file: Annotated[Path, typer.Argument(help="Responses: .csv, .tsv, .xlsx or .sav.")],
    layout: Annotated[str | None, typer.Option(
        "--layout", help="'wide' (one row per dyad and wave) or 'long' (one row per item); "
        "default: long when the file has item and value columns.")] = None,
    study: StudyOption = None,
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", help="YAML column mapping.")] = None,
    column: ColumnOption = None,
    dry_run: DryRunOption = False,
    actor: ActorOption = "classdyad import",
) -> None:
    """Import questionnaire responses (teachers' and students' ratings of their dyads)."""
    from classdyad.services.imports import import_file

    columns = _column_mapping(mapping, column)
    with opened(database) as engine:
        _summary(import_file(engine, "responses", file, actor=actor, study=study,
                             dry_run=dry_run, mapping=columns, layout=layout))


@import_app.command("iat")
def iat(
    database: DatabaseArgument,
    file: Annotated[Path, typer.Argument(help="IAT trials: .csv, .tsv, .xlsx or .sav.")],
    study: StudyOption = None,
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", help="YAML column mapping.")] = None,
    column: ColumnOption = None,
    dry_run: DryRunOption = False,
    actor: ActorOption = "classdyad import",
) -> None:
    """Import teachers' IAT trials (one row per trial)."""
    from classdyad.io.questionnaires import read_iat_trials
    from classdyad.store.importing_questionnaires import import_iat_trials

    table = read_iat_trials(file, mapping=_column_mapping(mapping, column))
    _import(database, import_iat_trials, table, study=study, source=file.name, actor=actor,
            dry_run=dry_run)


__all__ = ["import_app"]
