"""Exports of a stored study, with the two rules every door out applies (DESIGN.md, privacy).

- Names are left out unless asked for (``include_names=True``), and only the analysis dataset
  formats can carry them at all.
- Every export is written to the audit log: who, which format, where, how many rows, whether
  names were included.

The command line (``classdyad export``) and the web application both export through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from sqlalchemy.engine import Engine

from classdyad.errors import check_option

#: dataset columns written as labelled codes in SPSS and Stata
CATEGORICAL_COLUMNS = ("gender", "migration_background", "migration_generation", "origin_2022")
DATASET_FORMATS = ("spss", "stata", "excel", "csv", "parquet")
EVENT_FORMATS = ("events", "boris")
LEVELS = ("wave", "student")
Level = Literal["wave", "student"]

#: file name suffix of each format
SUFFIXES = {"spss": ".sav", "stata": ".dta", "excel": ".xlsx", "csv": ".csv",
            "parquet": ".parquet", "events": ".csv", "boris": ".tsv"}


@dataclass(frozen=True)
class ExportRecord:
    """What one export wrote: the file, its format, rows and columns, and whether names went."""

    format: str
    path: Path
    rows: int
    columns: int
    include_names: bool = False

    def to_frame(self) -> pd.DataFrame:
        """One row: ``format, path, rows, columns, include_names``."""
        return pd.DataFrame([{"format": self.format, "path": str(self.path), "rows": self.rows,
                              "columns": self.columns, "include_names": self.include_names}])

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


def record_export(engine: Engine, *, actor: str, format: str, path: str | Path, rows: int,
                  study: int | str | None = None, include_names: bool = False,
                  detail: dict[str, Any] | None = None) -> None:
    """Write the audit-log entry of one export (the only place exports are audited)."""
    from classdyad.store.exporting import record_export as store_record

    store_record(engine, actor=actor, format=format, path=path, rows=rows, study=study,
                 include_names=include_names, detail=detail)


def dataset_labels() -> dict[str, str]:
    """Variable labels of the analysis dataset (and of the name columns, when present)."""
    from classdyad.study import DATASET_COLUMNS

    return {**DATASET_COLUMNS, "waves": "waves the student took part in",
            "first_name": "first name (personal data)", "last_name": "last name (personal data)"}


def analysis_data(engine: Engine, *, study: int | str | None = None, level: str = "wave",
                  include_names: bool = False) -> pd.DataFrame:
    """The analysis dataset of a stored study, at the wave or student level.

    Names are added (after the ``student`` column) only with ``include_names=True``.
    """
    from classdyad.store import read_study
    from classdyad.store.exporting import student_names
    from classdyad.study import aggregate_by_student, build_analysis_dataset

    check_option("level", level, LEVELS)
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


def export_dataset(engine: Engine, format: str, out: str | Path, *, actor: str,
                   study: int | str | None = None, level: str = "wave",
                   include_names: bool = False) -> ExportRecord:
    """Write the analysis dataset as SPSS, Stata, Excel, CSV or Parquet, with labels; audited."""
    from classdyad.io import delimited, excel, parquet, spss, stata

    check_option("format", format, DATASET_FORMATS)
    out = Path(out)
    data = analysis_data(engine, study=study, level=level, include_names=include_names)
    labels = dataset_labels()
    if format == "spss":
        spss.write_spss(data, out, variable_labels=labels, value_label_columns=CATEGORICAL_COLUMNS)
    elif format == "stata":
        stata.write_stata(data, out, variable_labels=labels,
                          value_label_columns=CATEGORICAL_COLUMNS)
    elif format == "excel":
        excel.write_excel(data, out, variable_labels=labels)
    elif format == "csv":
        delimited.write_csv(data, out, variable_labels=labels)
    else:
        parquet.write_parquet(data, out, variable_labels=labels)
    record_export(engine, actor=actor, format=format, path=out, rows=len(data), study=study,
                  include_names=include_names, detail={"level": level})
    return ExportRecord(format, out, len(data), data.shape[1], include_names)


def export_mplus(engine: Engine, out: str | Path, *, actor: str,
                 study: int | str | None = None, level: str = "student",
                 analysis: str = "twolevel", missing: float = -999.0) -> Any:
    """Mplus data, variable table and one input per study model (no names); audited."""
    from classdyad.io.mplus import write_mplus
    from classdyad.study.models import STUDY_MODELS

    check_option("analysis", analysis, ("twolevel", "complex"))
    data = analysis_data(engine, study=study, level=level)
    files = write_mplus(data, Path(out), models=STUDY_MODELS, analysis=analysis,  # type: ignore[arg-type]
                        missing=missing, variable_labels=dataset_labels())
    record_export(engine, actor=actor, format="mplus", path=files.data, rows=len(data),
                  study=study, detail={"level": level})
    return files


def export_r(engine: Engine, out: str | Path, *, actor: str, study: int | str | None = None,
             level: str = "wave") -> Any:
    """Data (CSV with codebook) and an R script with the study's models (no names); audited."""
    from classdyad.io.r_script import write_r
    from classdyad.study.models import STUDY_MODELS, relationship_gap_models

    data = analysis_data(engine, study=study, level=level)
    models = (*(relationship_gap_models(data) if level == "wave" else ()), *STUDY_MODELS)
    files = write_r(data, Path(out), models=models, variable_labels=dataset_labels())
    record_export(engine, actor=actor, format="r", path=files.data, rows=len(data), study=study,
                  detail={"level": level})
    return files


def export_events(engine: Engine, format: str, out: str | Path, *, actor: str,
                  study: int | str | None = None) -> ExportRecord:
    """Coded events as CSV (``events``) or a BORIS tabular file plus mapping (``boris``); audited.

    Events name teachers, students and coders by code only.
    """
    from classdyad.store.exporting import coded_events

    check_option("format", format, EVENT_FORMATS)
    out = Path(out)
    frame = coded_events(engine, study)
    if format == "events":
        from classdyad.io.events import write_interaction_events

        write_interaction_events(frame, out)
    else:
        import yaml

        from classdyad.io.boris_export import boris_export_mapping, write_boris_tabular

        write_boris_tabular(frame, out)
        out.with_name(f"{out.stem}.mapping.yaml").write_text(
            yaml.safe_dump(boris_export_mapping(frame).to_dict(), sort_keys=False,
                           allow_unicode=True), encoding="utf-8")
    record_export(engine, actor=actor, format=format, path=out, rows=len(frame), study=study)
    return ExportRecord(format, out, len(frame), frame.shape[1])


__all__ = [
    "CATEGORICAL_COLUMNS",
    "DATASET_FORMATS",
    "EVENT_FORMATS",
    "LEVELS",
    "SUFFIXES",
    "ExportRecord",
    "analysis_data",
    "dataset_labels",
    "export_dataset",
    "export_events",
    "export_mplus",
    "export_r",
    "record_export",
]
