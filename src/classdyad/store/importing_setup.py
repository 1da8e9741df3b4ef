"""Importing a study's set-up: coders, observed lessons, codebooks and instruments.

Like :mod:`classdyad.store.importing`: each import is all or nothing, in one transaction (its
own, or the caller's unit of work), every problem is listed before anything is written, rows
already stored are skipped (a second import of the same file adds nothing), and a row that
contradicts the stored study is a problem, not an update. ``dry_run=True`` checks only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from classdyad.errors import Problem, ValidationError
from classdyad.store.codebooks import (
    add_instrument,
    codebook_versions,
    create_codebook,
    find_instrument,
    plan_codebook,
)
from classdyad.store.importing import (
    ImportSummary,
    ProvisionalIds,
    _audit,
    _code_ids,
    _frame,
    _table,
)
from classdyad.store.inserting import write_frames
from classdyad.store.reading import resolve_study
from classdyad.store.session import write_scope

Target = Engine | Session | Connection


def _study(connection: Connection, study: int | str | None) -> int:
    return int(resolve_study(connection, study)["id"])


def import_coders(target: Target, coders: pd.DataFrame, *, study: int | str | None = None,
                  source: str = "coders", actor: str = "classdyad import",
                  dry_run: bool = False) -> ImportSummary:
    """Import coders (a ``coder`` column of codes, from :func:`classdyad.io.read_coders`)."""
    with write_scope(target) as connection:
        sid = _study(connection, study)
        stored = _code_ids(connection, "coder", sid)
        codes = [str(c) for c in coders["coder"]]
        new = [c for c in dict.fromkeys(codes) if c not in stored]
        summary = ImportSummary(source, added={"coders": len(new)},
                                already_stored={"coders": len(codes) - len(new)},
                                dry_run=dry_run)
        if dry_run or not new:
            return summary
        write_frames(connection, {"coders": pd.DataFrame({"code": new})}, study_id=sid)
        _audit(connection, actor=actor, action="import", entity="coder", count=len(new),
               detail={"source": source})
    return summary


def _problem(rows: list[Problem], message: str, source: str, row: int, column: str,
             value: Any = None) -> None:
    rows.append(Problem(message, source=source, row=row, column=column, value=value))


class _LessonPlan:
    """The lessons, lesson teachers and attendance a lessons file adds, and its problems."""

    def __init__(self, connection: Connection, sid: int, lessons: pd.DataFrame, source: str):
        school, classroom, wave = _table("school"), _table("classroom"), _table("wave")
        lesson, enrolment = _table("lesson"), _table("enrolment")
        schools = _code_ids(connection, "school", sid)
        classrooms = {(int(s), str(c)): int(i) for i, s, c in connection.execute(
            sa.select(classroom.c.id, classroom.c.school_id, classroom.c.code)
            .join(school, classroom.c.school_id == school.c.id)
            .where(school.c.study_id == sid)).all()}
        waves = {int(n): int(i) for n, i in connection.execute(
            sa.select(wave.c.number, wave.c.id).where(wave.c.study_id == sid)).all()}
        teachers = _code_ids(connection, "teacher", sid)
        students = _code_ids(connection, "student", sid)
        stored = _frame(connection, sa.select(lesson.c.id, lesson.c.code, lesson.c.classroom_id,
                                              lesson.c.wave_id)
                        .join(wave, lesson.c.wave_id == wave.c.id)
                        .where(wave.c.study_id == sid, lesson.c.code.is_not(None)))
        stored_place = {str(c): (int(k), int(w)) for c, k, w in
                        stored[["code", "classroom_id", "wave_id"]].itertuples(index=False)}
        enrolled = _frame(connection, sa.select(enrolment.c.student_id, enrolment.c.classroom_id,
                                                enrolment.c.wave_id)
                          .where(enrolment.c.classroom_id.in_(list(classrooms.values()))))
        members = enrolled.groupby(["classroom_id", "wave_id"])["student_id"].agg(list)
        self.problems: list[Problem] = []
        self.kept = 0
        ids = ProvisionalIds()
        rows, teacher_rows, attendance_rows = [], [], []
        for i, entry in enumerate(lessons.itertuples(index=False), start=1):
            school_id = schools.get(str(entry.school))
            if school_id is None:
                _problem(self.problems, "not a school of this study; import the roster first "
                         "or correct the code", source, i, "school", entry.school)
                continue
            classroom_id = classrooms.get((school_id, str(entry.classroom)))
            if classroom_id is None:
                _problem(self.problems, "not a class of this school; import the roster first or "
                         "correct the class code", source, i, "classroom", entry.classroom)
                continue
            wave_id = waves.get(int(entry.wave))
            if wave_id is None:
                _problem(self.problems, "no such wave in this study; the roster's wave column "
                         "gives the waves", source, i, "wave", entry.wave)
                continue
            if entry.lesson in stored_place:
                if stored_place[entry.lesson] != (classroom_id, wave_id):
                    _problem(self.problems, "a lesson with this code is stored for another "
                             "class or wave; give this lesson another code", source, i, "lesson",
                             entry.lesson)
                self.kept += 1
                continue
            codes = [c for c in (entry.teacher, entry.duo_teacher) if not pd.isna(c)]
            teacher_ids = [teachers.get(str(c)) for c in codes]
            for code, teacher_id, column in zip(codes, teacher_ids, ("teacher", "duo_teacher"),
                                                strict=False):
                if teacher_id is None:
                    _problem(self.problems, "not a teacher of this study; import the roster "
                             "first or correct the code", source, i, column, code)
            enrolled_here = set(members.get((classroom_id, wave_id), []))
            if not enrolled_here:
                _problem(self.problems, "no student is enrolled in this class in this wave; "
                         "import the roster for the wave first", source, i, "classroom",
                         entry.classroom)
            student_sets = {}
            for column in ("absent", "not_visible"):
                ids_here = set()
                for code in getattr(entry, column):
                    student = students.get(code)
                    if student is None or student not in enrolled_here:
                        _problem(self.problems, "not a student enrolled in this class in this "
                                 "wave; correct the code", source, i, column, code)
                    else:
                        ids_here.add(student)
                student_sets[column] = ids_here
            if any(t is None for t in teacher_ids):
                continue
            lesson_id = ids.take(1)[0]
            rows.append({"id": lesson_id, "code": entry.lesson, "classroom_id": classroom_id,
                         "wave_id": wave_id, "date": entry.date, "subject": entry.subject,
                         "observed_minutes": float(entry.observed_minutes),
                         "video_files": ";".join(entry.video_files) or None})
            teacher_rows += [{"lesson_id": lesson_id, "teacher_id": t}
                             for t in dict.fromkeys(teacher_ids)]
            absent, hidden = student_sets["absent"], student_sets["not_visible"]
            attendance_rows += [{"lesson_id": lesson_id, "student_id": s,
                                 "present": s not in absent,
                                 "visible": s not in absent and s not in hidden}
                                for s in sorted(enrolled_here)]
        self.frames = {
            "lessons": pd.DataFrame(rows, columns=["id", "code", "classroom_id", "wave_id",
                                                   "date", "subject", "observed_minutes",
                                                   "video_files"]),
            "lesson_teachers": pd.DataFrame(teacher_rows, columns=["lesson_id", "teacher_id"]),
            "attendance": pd.DataFrame(attendance_rows,
                                       columns=["lesson_id", "student_id", "present", "visible"]),
        }


def import_lessons(target: Target, lessons: pd.DataFrame, *, study: int | str | None = None,
                   source: str = "lessons", actor: str = "classdyad import",
                   dry_run: bool = False) -> ImportSummary:
    """Import observed lessons (from :func:`classdyad.io.read_lessons`).

    Schools, classes, teachers and waves are matched by code and number (import the roster
    first); every student enrolled in the class in the wave gets an attendance row (present
    unless listed as absent). A lesson whose code is stored already is skipped.

    Raises
    ------
    ValidationError
        Listing every problem (file, row, column, what to do); nothing is written.
    """
    with write_scope(target) as connection:
        sid = _study(connection, study)
        plan = _LessonPlan(connection, sid, lessons, source)
        if plan.problems:
            raise ValidationError(plan.problems, what=source)
        added = {name: len(frame) for name, frame in plan.frames.items()}
        summary = ImportSummary(source, added=added, already_stored={"lessons": plan.kept},
                                dry_run=dry_run)
        if dry_run or not added["lessons"]:
            return summary
        write_frames(connection, plan.frames)
        _audit(connection, actor=actor, action="import", entity="lesson",
               count=added["lessons"], detail={"source": source, "added": added})
    return summary


def import_codebook(target: Target, codebook: Mapping[str, Any], *,
                    study: int | str | None = None, source: str = "codebook",
                    actor: str = "classdyad import", dry_run: bool = False) -> ImportSummary:
    """Import a codebook (from :func:`classdyad.io.read_codebook`): a new version when its
    categories differ from the newest stored version, nothing when they are the same.

    Raises
    ------
    DataError
        If the file names a version that is stored with other categories.
    """
    with write_scope(target) as connection, Session(bind=connection) as session:
        sid = _study(connection, study)
        before = len(codebook_versions(session, sid, codebook["name"]))
        stored, version = plan_codebook(session, study_id=sid, name=codebook["name"],
                                        categories=codebook["categories"],
                                        version=codebook.get("version"))
        new = stored is None
        summary = ImportSummary(source, added={"codebooks": int(new), "codebook_categories":
                                               len(codebook["categories"]) if new else 0},
                                already_stored={"codebooks": before}, dry_run=dry_run)
        if dry_run or not new:
            return summary
        create_codebook(session, study_id=sid, name=codebook["name"],
                        categories=codebook["categories"], version=version,
                        description=codebook.get("description"))
        _audit(connection, actor=actor, action="import", entity="codebook", count=1,
               detail={"source": source, "name": codebook["name"], "version": version})
    return summary


def import_instrument(target: Target, *, code: str, version: str, informant: str,
                      definition: str, study: int | str | None = None,
                      source: str = "instrument", actor: str = "classdyad import",
                      dry_run: bool = False) -> ImportSummary:
    """Import a questionnaire instrument (its YAML text; checked by
    :func:`classdyad.measures.load_instrument` before it gets here).

    Raises
    ------
    IntegrityError
        If the code and version are stored with another definition.
    """
    with write_scope(target) as connection, Session(bind=connection) as session:
        sid = _study(connection, study)
        new = find_instrument(session, study_id=sid, code=code, version=version,
                              informant=informant, definition=definition) is None
        summary = ImportSummary(source, added={"instruments": int(new)},
                                already_stored={"instruments": int(not new)}, dry_run=dry_run)
        if dry_run or not new:
            return summary
        add_instrument(session, study_id=sid, code=code, version=version, informant=informant,
                       definition=definition)
        _audit(connection, actor=actor, action="import", entity="instrument", count=1,
               detail={"source": source, "code": code, "version": version})
    return summary


__all__ = ["import_codebook", "import_coders", "import_instrument", "import_lessons"]

