"""``classdyad export FORMAT DATABASE --out PATH``: the analysis dataset and coded events.

Formats: ``spss``, ``stata``, ``excel``, ``csv``, ``parquet`` (the analysis dataset with its
labels), ``mplus`` and ``r`` (data plus ready-to-run inputs for the study's models), ``boris``
(coded events in BORIS' current tabular layout, with the mapping that reads them back) and
``events`` (coded events as CSV). The rules (names left out unless ``--include-names`` is given;
every export recorded in the audit log) live in :mod:`classdyad.services.exports`, shared with
the web application.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from classdyad.cli.database import opened
from classdyad.services.exports import CATEGORICAL_COLUMNS, DATASET_FORMATS

console = Console()
export_app = typer.Typer(help="Export the analysis dataset or coded events (names left out "
                         "unless asked for).", no_args_is_help=True)

DatabaseArgument = Annotated[str, typer.Argument(help="SQLite file (or a database URL).")]
OutOption = Annotated[Path, typer.Option("--out", help="The file (or, for mplus and r, the "
                                         "folder) to write.")]
StudyOption = Annotated[str | None, typer.Option(
    "--study", help="Study name (needed when the database holds several).")]
NamesOption = Annotated[bool, typer.Option(
    "--include-names", help="Add students' first and last names (personal data: only when "
    "you need them and may have them).")]
LevelOption = Annotated[str, typer.Option(
    "--level", help="'wave': one row per student and wave; 'student': one row per student "
    "over the year.")]
ActorOption = Annotated[str, typer.Option("--actor", help="Who exports (audit log).")]


def _dataset_command(format: str):
    def command(database: DatabaseArgument, out: OutOption, study: StudyOption = None,
                include_names: NamesOption = False, level: LevelOption = "wave",
                actor: ActorOption = "classdyad export") -> None:
        from classdyad.services.exports import export_dataset

        with opened(database) as engine:
            record = export_dataset(engine, format, out, actor=actor, study=study, level=level,
                                    include_names=include_names)
        console.print(f"wrote {out} ({record.rows:,} rows, {record.columns} columns)")

    command.__doc__ = f"The analysis dataset as {format.upper() if format != 'excel' else 'Excel'}."
    return command


for _format in DATASET_FORMATS:
    export_app.command(_format)(_dataset_command(_format))


@export_app.command("mplus")
def mplus(database: DatabaseArgument, out: OutOption, study: StudyOption = None,
          level: LevelOption = "student",
          analysis: Annotated[str, typer.Option(
              "--analysis", help="'twolevel' (TYPE = TWOLEVEL) or 'complex' (TYPE = COMPLEX)."
          )] = "twolevel",
          missing: Annotated[float, typer.Option("--missing", help="Missing-value flag.")]
          = -999.0,
          actor: ActorOption = "classdyad export") -> None:
    """Data (.dat), variable table and one Mplus input (.inp) per study model."""
    from classdyad.services.exports import export_mplus

    with opened(database) as engine:
        files = export_mplus(engine, out, actor=actor, study=study, level=level,
                             analysis=analysis, missing=missing)
    console.print(f"wrote {files.data}, {files.variables} and "
                  f"{len(files.inputs)} inputs in {out}")


@export_app.command("r")
def r(database: DatabaseArgument, out: OutOption, study: StudyOption = None,
      level: LevelOption = "wave", actor: ActorOption = "classdyad export") -> None:
    """Data (CSV with codebook) and an R script with the study's lme4 models."""
    from classdyad.services.exports import export_r

    with opened(database) as engine:
        files = export_r(engine, out, actor=actor, study=study, level=level)
    console.print(f"wrote {files.data} and {files.script}; run: Rscript {files.script}")


@export_app.command("boris")
def boris(database: DatabaseArgument, out: OutOption, study: StudyOption = None,
          actor: ActorOption = "classdyad export") -> None:
    """Coded events as a BORIS tabular-events file (current layout) plus its mapping."""
    from classdyad.services.exports import export_events

    with opened(database) as engine:
        record = export_events(engine, "boris", out, actor=actor, study=study)
    console.print(f"wrote {out} ({record.rows:,} events) and "
                  f"{out.with_name(f'{out.stem}.mapping.yaml')}")


@export_app.command("events")
def events(database: DatabaseArgument, out: OutOption, study: StudyOption = None,
           actor: ActorOption = "classdyad export") -> None:
    """Coded events as CSV (teachers, students and coders by code)."""
    from classdyad.services.exports import export_events

    with opened(database) as engine:
        record = export_events(engine, "events", out, actor=actor, study=study)
    console.print(f"wrote {out} ({record.rows:,} events)")


__all__ = ["CATEGORICAL_COLUMNS", "export_app"]
