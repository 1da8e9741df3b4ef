"""A whole study as a bundle of tidy DataFrames: the form in which studies move between layers.

:class:`StudyTables` is what the simulator produces, what the store writes and reads back, and
what :func:`classdyad.study.build_analysis_dataset` consumes. Each frame mirrors one table of the
database (same column names; ids are the database ids when the tables were read from a store).
Students' names are never part of it (DESIGN.md, privacy).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd

from classdyad.errors import DataError
from classdyad.model import observation, questionnaire, study  # noqa: F401 (the mappings)
from classdyad.model.base import Base

#: frame name -> database table name, in an order that respects foreign keys
TABLE_NAMES: dict[str, str] = {
    "waves": "wave",
    "schools": "school",
    "classrooms": "classroom",
    "teachers": "teacher",
    "classroom_teachers": "classroom_teacher",
    "students": "student",
    "enrolments": "enrolment",
    "lessons": "lesson",
    "lesson_teachers": "lesson_teacher",
    "attendance": "lesson_attendance",
    "codebooks": "codebook",
    "codebook_categories": "codebook_category",
    "coders": "coder",
    "events": "interaction_event",
    "instruments": "instrument",
    "responses": "questionnaire_response",
    "response_items": "response_item",
    "iat_sessions": "iat_session",
    "iat_trials": "iat_trial",
}

#: Columns the database holds that a frame may leave out: filled by the database (time stamps,
#: revisions), set later (a lesson's coding status) or optional details. Every other column of
#: a table's mapping, except ``study_id`` (the bundle is one study), is a column of its frame.
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "lessons": ("video_files", "code", "coding_status"),
    "codebooks": ("description",),
    "codebook_categories": ("id", "description"),
    "events": ("coded_at", "group_size", "revision", "voided_at", "frame", "source",
               "superseded"),
    "attendance": ("minutes_present",),
    "coders": ("reaction_offset_seconds", "master"),
    "responses": ("answered_on",),
    "iat_sessions": ("administered_on",),
    "iat_trials": ("stimulus",),
}


def _frame_columns(name: str) -> tuple[str, ...]:
    table = Base.metadata.tables[TABLE_NAMES[name]]
    skip = {"study_id", *OPTIONAL_COLUMNS.get(name, ())}
    return tuple(column.name for column in table.columns if column.name not in skip)


def _frame_references(name: str) -> dict[str, str]:
    table = Base.metadata.tables[TABLE_NAMES[name]]
    frame_of = {table_name: frame for frame, table_name in TABLE_NAMES.items()}
    return {fk.parent.name: frame_of[fk.column.table.name] for fk in table.foreign_keys
            if fk.column.table.name in frame_of}


#: The columns every frame must have, in order, derived from the table mappings (one schema).
#: Optional columns (:data:`OPTIONAL_COLUMNS`) may be absent or all-missing.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {name: _frame_columns(name) for name in TABLE_NAMES}

#: frame name -> {column: referenced frame}, derived from the tables' foreign keys
REFERENCES: dict[str, dict[str, str]] = {
    name: refs for name in TABLE_NAMES if (refs := _frame_references(name))}

#: frames whose table carries a ``study_id`` column
STUDY_OWNED: tuple[str, ...] = tuple(
    name for name, table in TABLE_NAMES.items() if "study_id" in Base.metadata.tables[table].c)


def empty_table(name: str) -> pd.DataFrame:
    """Return an empty frame with the columns of table ``name``."""
    return pd.DataFrame({column: pd.Series(dtype=object) for column in TABLE_COLUMNS[name]})


def _table(name: str) -> Any:
    """A dataclass field whose default is an empty frame of table ``name``."""
    return field(default_factory=lambda: empty_table(name))


@dataclass(frozen=True)
class StudyTables:
    """A study as DataFrames, one per table (see :data:`TABLE_COLUMNS` for the columns).

    ``name`` and ``settings`` describe the study itself. ``events`` may hold several coders'
    codings of the same lesson; the analysis uses the primary coder's (``coders`` row first in
    order, unless told otherwise).
    """

    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    waves: pd.DataFrame = _table("waves")
    schools: pd.DataFrame = _table("schools")
    classrooms: pd.DataFrame = _table("classrooms")
    teachers: pd.DataFrame = _table("teachers")
    classroom_teachers: pd.DataFrame = _table("classroom_teachers")
    students: pd.DataFrame = _table("students")
    enrolments: pd.DataFrame = _table("enrolments")
    lessons: pd.DataFrame = _table("lessons")
    lesson_teachers: pd.DataFrame = _table("lesson_teachers")
    attendance: pd.DataFrame = _table("attendance")
    codebooks: pd.DataFrame = _table("codebooks")
    codebook_categories: pd.DataFrame = _table("codebook_categories")
    coders: pd.DataFrame = _table("coders")
    events: pd.DataFrame = _table("events")
    instruments: pd.DataFrame = _table("instruments")
    responses: pd.DataFrame = _table("responses")
    response_items: pd.DataFrame = _table("response_items")
    iat_sessions: pd.DataFrame = _table("iat_sessions")
    iat_trials: pd.DataFrame = _table("iat_trials")

    def __post_init__(self) -> None:
        for name, columns in TABLE_COLUMNS.items():
            frame = getattr(self, name)
            if not isinstance(frame, pd.DataFrame):
                raise DataError(
                    f"StudyTables.{name} must be a pandas DataFrame, not {type(frame).__name__}"
                )
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise DataError(
                    f"StudyTables.{name} lacks column(s) {', '.join(missing)}; "
                    f"give every column of {', '.join(columns)} (use NA for unknown values)"
                )

    @classmethod
    def table_names(cls) -> tuple[str, ...]:
        """The names of the frames, in an order that respects foreign keys."""
        return tuple(f.name for f in fields(cls) if f.name in TABLE_COLUMNS)

    def counts(self) -> dict[str, int]:
        """Number of rows per table."""
        return {name: len(getattr(self, name)) for name in self.table_names()}

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={n:,}" for name, n in self.counts().items() if n)
        return f"StudyTables(name={self.name!r}, {sizes})"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{name}</td><td style='text-align:right'>{n:,}</td></tr>"
                       for name, n in self.counts().items())
        return (f"<p><b>{self.name}</b></p><table><thead><tr><th>table</th><th>rows</th></tr>"
                f"</thead><tbody>{rows}</tbody></table>")
