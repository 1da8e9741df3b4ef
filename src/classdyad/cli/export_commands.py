"""``classdyad export FORMAT DATABASE --out PATH``: the analysis dataset and coded events.

Formats: ``spss``, ``stata``, ``excel``, ``csv``, ``parquet`` (the analysis dataset with its
labels), ``mplus`` and ``r`` (data plus ready-to-run inputs for the study's models), ``boris``
(coded events in BORIS' current tabular layout, with the mapping that reads them back) and
``events`` (coded events as CSV). Names are left out unless ``--include-names`` is given; every
export is recorded in the audit log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
import typer
from rich.console import Console

from classdyad.cli.database import opened
from classdyad.errors import check_option

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

#: dataset columns written as labelled codes in SPSS and Stata
CATEGORICAL_COLUMNS = ("gender", "migration_background", "migration_generation", "origin_2022")
Level = Literal["wave", "student"]


def analysis_data(database: str, *, study: str | None, level: str,
                  include_names: bool) -> pd.DataFrame:
    """The analysis dataset of a stored study, at the wave or student level."""
    from classdyad.store import read_study
    from classdyad.store.exporting import student_names
    from classdyad.study import aggregate_by_student, build_analysis_dataset

    check_option("level", level, ("wave", "student"))
    with opened(database) as engine:
        dataset = build_analysis_dataset(read_study(engine, study))
        if level == "student":
            dataset = aggregate_by_student(dataset)
        if include_names:
            names = student_names(engine, study)
            position = list(dataset.columns).index("student") + 1
            merged = dataset.merge(names, on="student", how="left")
            order = [*dataset.columns[:position], "first_name", "last_name",
                     *dataset.columns[position:]]
            dataset = merged[order]
    return dataset


def _labels() -> dict[str, str]:
    from classdyad.study import DATASET_COLUMNS

    return {**DATASET_COLUMNS, "waves": "waves the student took part in",
            "first_name": "first name (personal data)", "last_name": "last name (personal data)"}


def _audit(database: str, *, actor: str, format: str, path: Path, rows: int,
           study: str | None, include_names: bool) -> None:
    from classdyad.store.exporting import record_export

    with opened(database) as engine:
        record_export(engine, actor=actor, format=format, path=path, rows=rows, study=study,
                      include_names=include_names)


def _dataset_command(format: str):
    def command(database: DatabaseArgument, out: OutOption, study: StudyOption = None,
                include_names: NamesOption = False, level: LevelOption = "wave",
                actor: ActorOption = "classdyad export") -> None:
        from classdyad.io import delimited, excel, parquet, spss, stata

        data = analysis_data(database, study=study, level=level, include_names=include_names)
        labels = _labels()
        if format == "spss":
            spss.write_spss(data, out, variable_labels=labels,
                            value_label_columns=CATEGORICAL_COLUMNS)
        elif format == "stata":
            stata.write_stata(data, out, variable_labels=labels,
                              value_label_columns=CATEGORICAL_COLUMNS)
        elif format == "excel":
            excel.write_excel(data, out, variable_labels=labels)
        elif format == "csv":
            delimited.write_csv(data, out, variable_labels=labels)
        else:
            parquet.write_parquet(data, out, variable_labels=labels)
        _audit(database, actor=actor, format=format, path=out, rows=len(data), study=study,
               include_names=include_names)
        console.print(f"wrote {out} ({len(data):,} rows, {data.shape[1]} columns)")

    command.__doc__ = f"The analysis dataset as {format.upper() if format != 'excel' else 'Excel'}."
    return command


for _format in ("spss", "stata", "excel", "csv", "parquet"):
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
    from classdyad.io.mplus import write_mplus
    from classdyad.study.models import STUDY_MODELS

    check_option("analysis", analysis, ("twolevel", "complex"))
    data = analysis_data(database, study=study, level=level, include_names=False)
    files = write_mplus(data, out, models=STUDY_MODELS, analysis=analysis, missing=missing,  # type: ignore[arg-type]
                        variable_labels=_labels())
    _audit(database, actor=actor, format="mplus", path=files.data, rows=len(data), study=study,
           include_names=False)
    console.print(f"wrote {files.data}, {files.variables} and "
                  f"{len(files.inputs)} inputs in {out}")


@export_app.command("r")
def r(database: DatabaseArgument, out: OutOption, study: StudyOption = None,
      level: LevelOption = "wave", actor: ActorOption = "classdyad export") -> None:
    """Data (CSV with codebook) and an R script with the study's lme4 models."""
    from classdyad.io.r_script import write_r
    from classdyad.study.models import STUDY_MODELS, relationship_gap_models

    data = analysis_data(database, study=study, level=level, include_names=False)
    models = (*(relationship_gap_models(data) if level == "wave" else ()), *STUDY_MODELS)
    files = write_r(data, out, models=models, variable_labels=_labels())
    _audit(database, actor=actor, format="r", path=files.data, rows=len(data), study=study,
           include_names=False)
    console.print(f"wrote {files.data} and {files.script}; run: Rscript {files.script}")


@export_app.command("boris")
def boris(database: DatabaseArgument, out: OutOption, study: StudyOption = None,
          actor: ActorOption = "classdyad export") -> None:
    """Coded events as a BORIS tabular-events file (current layout) plus its mapping."""
    import yaml

    from classdyad.io.boris_export import boris_export_mapping, write_boris_tabular
    from classdyad.store.exporting import coded_events

    with opened(database) as engine:
        events = coded_events(engine, study)
    write_boris_tabular(events, out)
    mapping_path = out.with_name(f"{out.stem}.mapping.yaml")
    mapping_path.write_text(yaml.safe_dump(boris_export_mapping(events).to_dict(),
                                           sort_keys=False, allow_unicode=True),
                            encoding="utf-8")
    _audit(database, actor=actor, format="boris", path=out, rows=len(events), study=study,
           include_names=False)
    console.print(f"wrote {out} ({len(events):,} events) and {mapping_path}")


@export_app.command("events")
def events(database: DatabaseArgument, out: OutOption, study: StudyOption = None,
           actor: ActorOption = "classdyad export") -> None:
    """Coded events as CSV (teachers, students and coders by code)."""
    from classdyad.io.events import write_interaction_events
    from classdyad.store.exporting import coded_events

    with opened(database) as engine:
        frame = coded_events(engine, study)
    write_interaction_events(frame, out)
    _audit(database, actor=actor, format="events", path=out, rows=len(frame), study=study,
           include_names=False)
    console.print(f"wrote {out} ({len(frame):,} events)")


__all__ = ["CATEGORICAL_COLUMNS", "analysis_data", "export_app"]
