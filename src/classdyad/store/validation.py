"""Checks that a batch of rows may be written, collecting every problem before anything is written.

Each check is vectorised over a DataFrame and returns :class:`classdyad.errors.Problem` objects
(source, 1-based row, column, value, what to do). The writers in :mod:`classdyad.store.writing`
run all checks first and raise one :class:`classdyad.errors.ValidationError` listing the problems,
so an import is all or nothing. The database's own constraints (valence, non-negative time, the
student-target rule, unique client ids) are the second line of defence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from classdyad.errors import ClassificationError, Problem
from classdyad.model.background import normalize_education
from classdyad.model.countries import normalize_country
from classdyad.model.enums import Gender, TargetKind, Valence

MAX_PROBLEMS = 1000


def _rows(mask: np.ndarray | pd.Series) -> np.ndarray:
    return np.flatnonzero(np.asarray(mask, dtype=bool))


def problems_at(frame: pd.DataFrame, mask: Any, column: str, message: str,
                source: str) -> list[Problem]:
    """One :class:`Problem` per row where ``mask`` is true (at most :data:`MAX_PROBLEMS`)."""
    values = frame[column].to_numpy() if column in frame.columns else None
    return [
        Problem(message, source=source, row=int(i) + 1, column=column,
                value=None if values is None else values[i])
        for i in _rows(mask)[:MAX_PROBLEMS]
    ]


def check_allowed(frame: pd.DataFrame, column: str, allowed: Iterable[str], *, source: str,
                  nullable: bool = False) -> list[Problem]:
    """Every value of ``column`` is one of ``allowed`` (or missing, when ``nullable``)."""
    allowed = tuple(allowed)
    values = frame[column]
    bad = ~values.isin(allowed)
    if nullable:
        bad &= values.notna()
    listed = ", ".join(allowed)
    return problems_at(frame, bad, column, f"not an allowed value; use one of {listed}", source)


def check_number(frame: pd.DataFrame, column: str, *, source: str, minimum: float | None = None,
                 strictly_greater: bool = False, nullable: bool = False) -> list[Problem]:
    """``column`` holds finite numbers, at least (or above) ``minimum``."""
    numbers = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    missing = frame[column].isna().to_numpy()
    not_number = ~np.isfinite(numbers) & ~missing
    problems = problems_at(frame, not_number, column, "not a finite number", source)
    if not nullable:
        problems += problems_at(frame, missing, column, "missing; every row needs a value", source)
    if minimum is not None:
        with np.errstate(invalid="ignore"):
            low = numbers <= minimum if strictly_greater else numbers < minimum
        word = "greater than" if strictly_greater else "at least"
        problems += problems_at(frame, low & np.isfinite(numbers), column,
                              f"must be {word} {minimum:g}", source)
    return problems


def check_unique(frame: pd.DataFrame, columns: list[str], *, source: str) -> list[Problem]:
    """The combination of ``columns`` is unique within the frame."""
    duplicated = frame.duplicated(columns, keep="first")
    what = " + ".join(columns)
    return problems_at(frame, duplicated, columns[0],
                     f"duplicate {what}; each must occur once (remove or renumber the row)", source)


def check_reference(frame: pd.DataFrame, column: str, known: Iterable[Any], *, source: str,
                    target: str, nullable: bool = False) -> list[Problem]:
    """Every value of ``column`` refers to an existing row of ``target``."""
    values = frame[column]
    bad = ~values.isin(pd.Index(list(known)))
    if nullable:
        bad &= values.notna()
    return problems_at(frame, bad, column,
                     f"refers to no known {target}; add the {target} first or correct the id",
                     source)


def _normalize_unique(values: pd.Series, normalize: Callable[[Any], Any]
                      ) -> tuple[pd.Series, dict[Any, str]]:
    """Normalize each distinct value once; return the mapped series and the failures."""
    mapping: dict[Any, Any] = {}
    failures: dict[Any, str] = {}
    for value in pd.unique(values.dropna()):
        try:
            normalized = normalize(value)
            mapping[value] = None if normalized is None else str(normalized)
        except ClassificationError as exc:
            failures[value] = str(exc)
    normalized = values.map(mapping)
    return normalized.where(values.notna(), None), failures


def normalize_students(students: pd.DataFrame, *, source: str = "students"
                       ) -> tuple[pd.DataFrame, list[Problem]]:
    """Normalize countries to ISO alpha-2 codes and education to its levels; report the rest.

    Returns the normalized copy and the problems (unknown country, impossible education level,
    unknown gender, duplicate code).
    """
    out = students.copy()
    problems: list[Problem] = []
    problems += check_unique(out, ["code"], source=source)
    problems += check_allowed(out, "gender", [g.value for g in Gender], source=source,
                              nullable=True)
    for column, normalize in (
        ("birth_country", normalize_country),
        ("mother_birth_country", normalize_country),
        ("father_birth_country", normalize_country),
        ("mother_education", normalize_education),
        ("father_education", normalize_education),
    ):
        normalized, failures = _normalize_unique(out[column], normalize)
        if failures:
            bad = out[column].isin(list(failures))
            for i in _rows(bad)[:MAX_PROBLEMS]:
                value = out[column].iat[i]
                problems.append(Problem(failures[value], source=source, row=int(i) + 1,
                                        column=column, value=value))
        out[column] = normalized.astype(object)
    return out, problems


def _ids(values: pd.Series) -> pd.Series:
    """Ids as int64, with -1 (no such id) for missing, non-numeric or non-whole values."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    whole = np.isfinite(numbers) & (numbers == np.round(numbers)) & (numbers.abs() < 2**62)
    return numbers.where(whole, -1.0).astype("int64")


def check_events(events: pd.DataFrame, *, lessons: pd.DataFrame, enrolments: pd.DataFrame,
                 lesson_teachers: pd.DataFrame, source: str = "events") -> list[Problem]:
    """Check coded interaction events against the lessons, enrolments and lesson teachers.

    Rules: a known valence and target kind; a finite, non-negative video time; a student id for
    (and only for) a student target; a lesson that exists; a teacher who teaches that lesson; a
    target student enrolled in the lesson's class in the lesson's wave; unique client ids.
    """
    problems: list[Problem] = []
    problems += check_allowed(events, "valence", [v.value for v in Valence], source=source)
    problems += check_allowed(events, "target_kind", [t.value for t in TargetKind],
                              source=source)
    problems += check_number(events, "video_seconds", minimum=0.0, source=source)
    problems += check_unique(events, ["client_id"], source=source)
    problems += problems_at(events, events["client_id"].isna(), "client_id",
                          "missing; every event needs a client-generated id", source)
    is_student = (events["target_kind"] == TargetKind.STUDENT.value).to_numpy()
    has_student = events["student_id"].notna().to_numpy()
    problems += problems_at(events, is_student & ~has_student, "student_id",
                          "a student-directed event needs the student's id", source)
    problems += problems_at(events, ~is_student & has_student, "student_id",
                          "only student-directed events name a student; set target_kind to "
                          "'student' or leave student_id empty", source)
    problems += check_reference(events, "lesson_id", lessons["id"], source=source,
                                target="lesson")
    taught = pd.MultiIndex.from_frame(lesson_teachers[["lesson_id", "teacher_id"]].astype("int64"))
    pairs = pd.MultiIndex.from_arrays([
        _ids(events["lesson_id"]), _ids(events["teacher_id"]),
    ])
    problems += problems_at(events, ~pairs.isin(taught), "teacher_id",
                          "this teacher does not teach the event's lesson; add the teacher to "
                          "the lesson or correct the teacher", source)
    # enrolment: (student, wave) must be in the lesson's classroom
    lesson_place = lessons.set_index("id")[["classroom_id", "wave_id"]]
    place = lesson_place.reindex(pd.to_numeric(events["lesson_id"], errors="coerce"))
    enrolled = pd.MultiIndex.from_frame(
        enrolments[["student_id", "wave_id", "classroom_id"]].astype("int64"))
    wanted = pd.MultiIndex.from_arrays([
        _ids(events["student_id"]),
        place["wave_id"].fillna(-1).astype("int64").to_numpy(),
        place["classroom_id"].fillna(-1).astype("int64").to_numpy(),
    ])
    not_enrolled = is_student & has_student & ~wanted.isin(enrolled)
    problems += problems_at(events, not_enrolled, "student_id",
                          "the student is not enrolled in the lesson's class in the lesson's "
                          "wave; add the enrolment or correct the student", source)
    return problems
