"""Data access for a study's structure, one small function per action (the crud style).

Every function takes a :class:`~sqlalchemy.orm.Session` from :func:`classdyad.store.unit_of_work`
(or :func:`classdyad.store.get_session`), adds or reads mapped objects and flushes, so the
database gives ids at once; it never commits: the caller's unit of work commits everything it
did together. Wrong input raises a :class:`~classdyad.errors.DataError` that says how to fix it;
a missing row a :class:`~classdyad.errors.NotFoundError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from classdyad.errors import DataError, IntegrityError, NotFoundError
from classdyad.model import (
    AuditEntry,
    Classroom,
    ClassroomTeacher,
    Coder,
    Enrolment,
    School,
    Student,
    Study,
    Teacher,
    Wave,
)
from classdyad.model.base import Base
from classdyad.store import validation as check

Row = TypeVar("Row", bound=Base)


def get(session: Session, kind: type[Row], row_id: int) -> Row:
    """The row of ``kind`` with id ``row_id``; :class:`NotFoundError` if there is none."""
    row = session.get(kind, row_id)
    if row is None:
        raise NotFoundError(f"no {kind.__tablename__} with id {row_id}; list the study's "
                            f"{kind.__tablename__}s to find the right id")
    return row


def find_by_code(session: Session, kind: type[Row], study_id: int, code: str) -> Row | None:
    """The row of a study-owned ``kind`` (teacher, student, coder, school) with ``code``."""
    table: Any = kind
    return session.scalars(sa.select(kind).where(table.study_id == study_id,
                                                 table.code == code)).first()


def audit(session: Session, *, actor: str, action: str, entity: str, count: int = 1,
          detail: dict[str, Any] | None = None) -> AuditEntry:
    """Add an audit-log entry to the unit of work (written with everything else, or not at all)."""
    entry = AuditEntry(actor=actor, action=action, entity=entity, count=count, detail=detail)
    session.add(entry)
    return entry


def _add(session: Session, row: Row, what: str) -> Row:
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except sa.exc.IntegrityError as exc:
        raise IntegrityError(f"the database refused the {what}: {exc.orig}; it may exist "
                             "already (codes are unique within a study)") from exc
    return row


def create_study(session: Session, *, name: str, description: str | None = None,
                 settings: dict[str, Any] | None = None) -> Study:
    """Add a study (its name unique in the database)."""
    return _add(session, Study(name=name, description=description, settings=settings or {}),
                f"study {name!r}")


def create_wave(session: Session, *, study_id: int, number: int, start_date: Any = None,
                end_date: Any = None) -> Wave:
    """Add a wave (measurement moment) to a study."""
    return _add(session, Wave(study_id=study_id, number=number, start_date=start_date,
                              end_date=end_date), f"wave {number}")


def create_school(session: Session, *, study_id: int, code: str,
                  country: str | None = None) -> School:
    """Add a school (``country``: ISO 3166 alpha-2, e.g. NL or BE)."""
    return _add(session, School(study_id=study_id, code=code, country=country),
                f"school {code!r}")


def create_teacher(session: Session, *, study_id: int, code: str, gender: str | None = None,
                   years_experience: int | None = None) -> Teacher:
    """Add a teacher, known by a pseudonymous code."""
    return _add(session, Teacher(study_id=study_id, code=code, gender=gender,
                                 years_experience=years_experience), f"teacher {code!r}")


def create_classroom(session: Session, *, school_id: int, code: str, lowest_grade: int,
                     highest_grade: int | None = None,
                     teachers: Iterable[int] = (), duo_teachers: Iterable[int] = ()
                     ) -> Classroom:
    """Add a class (grades in Dutch *groep* numbering) with its own and its duo teachers."""
    classroom = _add(session, Classroom(
        school_id=school_id, code=code, lowest_grade=lowest_grade,
        highest_grade=lowest_grade if highest_grade is None else highest_grade),
        f"classroom {code!r}")
    for teacher_id, primary in [*((t, True) for t in teachers),
                                *((t, False) for t in duo_teachers)]:
        session.add(ClassroomTeacher(classroom_id=classroom.id, teacher_id=teacher_id,
                                     primary=primary))
    session.flush()
    return classroom


def create_student(session: Session, *, study_id: int, code: str, **background: Any) -> Student:
    """Add a student with raw background (countries and education normalized on entry).

    ``background`` takes ``gender, birth_year, birth_country, mother_birth_country,
    father_birth_country, mother_education, father_education``.
    """
    import pandas as pd

    allowed = ("gender", "birth_year", "birth_country", "mother_birth_country",
               "father_birth_country", "mother_education", "father_education")
    unknown = sorted(set(background) - set(allowed))
    if unknown:
        raise DataError(f"unknown student field(s) {unknown}; use {', '.join(allowed)}")
    row = pd.DataFrame([{"id": 0, "code": code, **{c: background.get(c) for c in allowed}}])
    normalized, problems = check.normalize_students(row, source=f"student {code}")
    if problems:
        raise DataError("; ".join(str(p) for p in problems))
    values = {c: (None if pd.isna(normalized.at[0, c]) else normalized.at[0, c])
              for c in allowed}
    return _add(session, Student(study_id=study_id, code=code, **values), f"student {code!r}")


def enrol_student(session: Session, *, student_id: int, classroom_id: int, wave_id: int,
                  grade: int) -> Enrolment:
    """Enrol a student in a class for one wave (one class per student and wave)."""
    return _add(session, Enrolment(student_id=student_id, classroom_id=classroom_id,
                                   wave_id=wave_id, grade=grade), "enrolment")


def create_coder(session: Session, *, study_id: int, code: str) -> Coder:
    """Add a coder (research assistant), known by a code."""
    return _add(session, Coder(study_id=study_id, code=code), f"coder {code!r}")


def list_rows(session: Session, kind: type[Row], study_id: int) -> list[Row]:
    """Every row of a study-owned ``kind`` (teachers, students, coders, ...) in id order."""
    table: Any = kind
    return list(session.scalars(sa.select(kind).where(table.study_id == study_id)
                                .order_by(table.id)))


__all__ = ["audit", "create_classroom", "create_coder", "create_school", "create_student",
           "create_study", "create_teacher", "create_wave", "enrol_student", "find_by_code",
           "get", "list_rows"]
