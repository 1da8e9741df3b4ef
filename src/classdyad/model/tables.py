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

#: The columns every frame must have, in order. Optional columns may be absent or all-missing.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "waves": ("id", "number", "start_date", "end_date"),
    "schools": ("id", "code", "country"),
    "classrooms": ("id", "school_id", "code", "lowest_grade", "highest_grade"),
    "teachers": ("id", "code", "gender", "years_experience"),
    "classroom_teachers": ("classroom_id", "teacher_id", "primary"),
    "students": (
        "id",
        "code",
        "gender",
        "birth_year",
        "birth_country",
        "mother_birth_country",
        "father_birth_country",
        "mother_education",
        "father_education",
    ),
    "enrolments": ("id", "student_id", "classroom_id", "wave_id", "grade"),
    "lessons": ("id", "classroom_id", "wave_id", "date", "subject", "observed_minutes"),
    "lesson_teachers": ("lesson_id", "teacher_id"),
    "attendance": ("lesson_id", "student_id", "present", "visible"),
    "codebooks": ("id", "name", "version"),
    "codebook_categories": ("codebook_id", "subtype", "valence", "hotkey", "label"),
    "coders": ("id", "code"),
    "events": (
        "id",
        "client_id",
        "lesson_id",
        "video_seconds",
        "teacher_id",
        "target_kind",
        "student_id",
        "valence",
        "subtype",
        "codebook_id",
        "coder_id",
    ),
    "instruments": ("id", "code", "version", "informant", "definition"),
    "responses": ("id", "instrument_id", "wave_id", "teacher_id", "student_id"),
    "response_items": ("response_id", "item", "value"),
    "iat_sessions": ("id", "teacher_id", "wave_id", "kind", "compatible_first"),
    "iat_trials": ("session_id", "block", "trial", "latency_ms", "error", "corrected_latency_ms"),
}


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
