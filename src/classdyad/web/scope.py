"""What each user may see of the study: their classes, students and lessons.

- researchers: the whole study, with students' background variables and derived groups;
- coders: the lessons assigned to them, and the classes and students of those lessons, by
  pseudonymous code (first names only where the study enables it);
- teachers: their own classes (as a class's teacher or a lesson's teacher), those classes'
  students and lessons.

Objects outside a user's part of the study are answered with 404, as if they did not exist.
Which columns a role sees is decided by :mod:`classdyad.services.privacy`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from fastapi import HTTPException
from sqlalchemy.orm import Session

from classdyad.model import (
    Classroom,
    ClassroomTeacher,
    Coder,
    CoderAssignment,
    Enrolment,
    Lesson,
    LessonTeacher,
    School,
    Student,
    StudentRoster,
    Teacher,
    VideoFile,
    Wave,
)
from classdyad.model.background import classify_background
from classdyad.services.privacy import filter_record
from classdyad.web.dependencies import CurrentUser, StudyContext

_CODER_LESSONS = (sa.select(CoderAssignment.lesson_id)
                  .where(CoderAssignment.coder_id == sa.bindparam("coder_id")))


def lesson_ids(db: Session, user: CurrentUser, study: StudyContext) -> set[int] | None:
    """Ids of the lessons the user may see (``None``: every lesson of the study)."""
    if user.role == "researcher":
        return None
    if user.role == "coder":
        return set(db.scalars(_CODER_LESSONS, {"coder_id": user.coder_id}))
    if user.role == "teacher":
        own = classroom_ids(db, user, study) or set()
        by_class = db.scalars(sa.select(Lesson.id).where(Lesson.classroom_id.in_(own)))
        taught = db.scalars(sa.select(LessonTeacher.lesson_id)
                            .where(LessonTeacher.teacher_id == user.teacher_id))
        return set(by_class) | set(taught)
    return set()


def classroom_ids(db: Session, user: CurrentUser, study: StudyContext) -> set[int] | None:
    """Ids of the classes the user may see (``None``: every class of the study)."""
    if user.role == "researcher":
        return None
    if user.role == "teacher":
        taught = db.scalars(sa.select(ClassroomTeacher.classroom_id)
                            .where(ClassroomTeacher.teacher_id == user.teacher_id))
        lessons = db.scalars(sa.select(Lesson.classroom_id)
                             .join(LessonTeacher, LessonTeacher.lesson_id == Lesson.id)
                             .where(LessonTeacher.teacher_id == user.teacher_id))
        return set(taught) | set(lessons)
    if user.role == "coder":
        ids = lesson_ids(db, user, study) or set()
        return set(db.scalars(sa.select(Lesson.classroom_id).where(Lesson.id.in_(ids))))
    return set()


def _restrict(query: sa.Select, column: Any, ids: set[int] | None) -> sa.Select:
    return query if ids is None else query.where(column.in_(ids))


def list_classrooms(db: Session, user: CurrentUser, study: StudyContext) -> list[dict[str, Any]]:
    """The user's classes: ``code, school, lowest_grade, highest_grade, teachers``."""
    query = (sa.select(Classroom.id, Classroom.code, School.code.label("school"),
                       Classroom.lowest_grade, Classroom.highest_grade)
             .join(School, Classroom.school_id == School.id)
             .where(School.study_id == study.id).order_by(School.code, Classroom.code))
    rows = db.execute(_restrict(query, Classroom.id, classroom_ids(db, user, study))).all()
    teachers: dict[int, list[str]] = {}
    for classroom_id, code in db.execute(
            sa.select(ClassroomTeacher.classroom_id, Teacher.code)
            .join(Teacher, ClassroomTeacher.teacher_id == Teacher.id)
            .where(Teacher.study_id == study.id).order_by(Teacher.code)):
        teachers.setdefault(classroom_id, []).append(code)
    return [{"code": r.code, "school": r.school, "lowest_grade": r.lowest_grade,
             "highest_grade": r.highest_grade, "teachers": teachers.get(r.id, [])} for r in rows]


def list_teachers(db: Session, study: StudyContext) -> list[dict[str, Any]]:
    """Every teacher of the study: ``code, gender, years_experience, classrooms``."""
    rows = db.execute(sa.select(Teacher).where(Teacher.study_id == study.id)
                      .order_by(Teacher.code)).scalars().all()
    classes: dict[int, list[str]] = {}
    for teacher_id, code in db.execute(
            sa.select(ClassroomTeacher.teacher_id, Classroom.code)
            .join(Classroom, ClassroomTeacher.classroom_id == Classroom.id)):
        classes.setdefault(teacher_id, []).append(code)
    return [{"code": t.code, "gender": t.gender, "years_experience": t.years_experience,
             "classrooms": sorted(classes.get(t.id, []))} for t in rows]


def list_students(db: Session, user: CurrentUser, study: StudyContext, *,
                  classroom: str | None = None) -> list[dict[str, Any]]:
    """The user's students, with the fields the user's role may see.

    Researchers get the raw background variables and the groups derived from them; coders get
    pseudonymous codes (and first names where the study enables it); teachers their own
    students' codes and first names. ``classroom`` limits the list to one class (by code).
    """
    records = student_records(db, study, classroom_ids(db, user, study), classroom=classroom,
                              groups=user.role == "researcher")
    return [filter_record(record, user.role, study.privacy) for record in records]


def student_records(db: Session, study: StudyContext, visible: set[int] | None, *,
                    classroom: str | None = None, groups: bool = False
                    ) -> list[dict[str, Any]]:
    """Every field of the students of the ``visible`` classes (``None``: all), unfiltered.

    With ``groups`` the background groups derived by rule are added. Callers hand these records
    to :mod:`classdyad.services.privacy` before anything leaves the server.
    """
    query = (sa.select(Student, StudentRoster.first_name, StudentRoster.last_name,
                       Classroom.code.label("classroom"), Wave.number.label("wave"))
             .join(Enrolment, Enrolment.student_id == Student.id)
             .join(Classroom, Enrolment.classroom_id == Classroom.id)
             .join(Wave, Enrolment.wave_id == Wave.id)
             .outerjoin(StudentRoster, StudentRoster.student_id == Student.id)
             .where(Student.study_id == study.id)
             .order_by(Student.code, Wave.number))
    query = _restrict(query, Classroom.id, visible)
    if classroom is not None:
        query = query.where(Classroom.code == classroom)
    by_student: dict[int, dict[str, Any]] = {}
    for student, first_name, last_name, classroom_code, wave in db.execute(query):
        record = by_student.get(student.id)
        if record is None:
            record = by_student[student.id] = {
                "code": student.code, "first_name": first_name, "last_name": last_name,
                "gender": student.gender, "birth_year": student.birth_year,
                "classrooms": {},
                "birth_country": student.birth_country,
                "mother_birth_country": student.mother_birth_country,
                "father_birth_country": student.father_birth_country,
                "mother_education": student.mother_education,
                "father_education": student.father_education,
            }
        record["classrooms"][str(wave)] = classroom_code
    records = list(by_student.values())
    if groups and records:
        derived = classify_background(pd.DataFrame(records), undetermined="missing")
        for record, (_, row) in zip(records, derived.iterrows(), strict=True):
            record.update({key: (None if pd.isna(value) else
                                 value.item() if hasattr(value, "item") else value)
                           for key, value in row.items()})
    return records


def _lesson_query(study: StudyContext) -> sa.Select:
    return (sa.select(Lesson.id, Lesson.date, Lesson.subject, Lesson.observed_minutes,
                      Classroom.code.label("classroom"), Wave.number.label("wave"))
            .join(Classroom, Lesson.classroom_id == Classroom.id)
            .join(Wave, Lesson.wave_id == Wave.id)
            .where(Wave.study_id == study.id))


def _lesson_records(db: Session, user: CurrentUser, query: sa.Select) -> list[dict[str, Any]]:
    """The lessons of ``query`` with teachers, assignments and videos: four queries in all,
    each restricted by the lesson query itself (no list of ids travels to the database)."""
    rows = db.execute(query.order_by(Lesson.id)).all()
    ids = query.with_only_columns(Lesson.id).scalar_subquery()
    teachers: dict[int, list[str]] = {}
    for lesson_id, code in db.execute(sa.select(LessonTeacher.lesson_id, Teacher.code)
                                      .join(Teacher, LessonTeacher.teacher_id == Teacher.id)
                                      .where(LessonTeacher.lesson_id.in_(ids))
                                      .order_by(Teacher.code)):
        teachers.setdefault(lesson_id, []).append(code)
    assignments: dict[int, list[dict[str, str]]] = {}
    assigned = (sa.select(CoderAssignment.lesson_id, Coder.code, CoderAssignment.role)
                .join(Coder, CoderAssignment.coder_id == Coder.id)
                .where(CoderAssignment.lesson_id.in_(ids)))
    if user.role == "coder":
        assigned = assigned.where(CoderAssignment.coder_id == user.coder_id)
    for lesson_id, coder, role in db.execute(assigned):
        assignments.setdefault(lesson_id, []).append({"coder": coder, "role": role})
    videos: dict[int, list[dict[str, Any]]] = {}
    for video in db.execute(sa.select(VideoFile.lesson_id, VideoFile.id, VideoFile.position,
                                      VideoFile.duration_seconds, VideoFile.frame_rate,
                                      VideoFile.codec, VideoFile.width, VideoFile.height)
                            .where(VideoFile.lesson_id.in_(ids))
                            .order_by(VideoFile.position)).mappings():
        record = dict(video)
        videos.setdefault(record.pop("lesson_id"), []).append(record)
    return [{"id": row.id, "classroom": row.classroom, "wave": row.wave, "date": row.date,
             "subject": row.subject, "observed_minutes": row.observed_minutes,
             "teachers": teachers.get(row.id, []), "assignments": assignments.get(row.id, []),
             "videos": videos.get(row.id, [])} for row in rows]


def _visible_lessons(db: Session, user: CurrentUser, study: StudyContext) -> sa.Select:
    query = _lesson_query(study)
    if user.role == "researcher":
        return query
    if user.role == "coder":
        return query.where(Lesson.id.in_(sa.select(CoderAssignment.lesson_id)
                                         .where(CoderAssignment.coder_id == user.coder_id)))
    if user.role == "teacher":
        own = sa.select(ClassroomTeacher.classroom_id).where(
            ClassroomTeacher.teacher_id == user.teacher_id)
        taught = sa.select(LessonTeacher.lesson_id).where(
            LessonTeacher.teacher_id == user.teacher_id)
        return query.where(sa.or_(Lesson.classroom_id.in_(own), Lesson.id.in_(taught)))
    return query.where(sa.false())


def list_lessons(db: Session, user: CurrentUser, study: StudyContext) -> list[dict[str, Any]]:
    """The user's lessons with classes, teachers, coder assignments and videos."""
    return _lesson_records(db, user, _visible_lessons(db, user, study))


def get_lesson(db: Session, user: CurrentUser, study: StudyContext,
               lesson_id: int) -> dict[str, Any]:
    """One lesson the user may see; 404 for any other (no existence leak)."""
    records = _lesson_records(db, user, _visible_lessons(db, user, study)
                              .where(Lesson.id == lesson_id))
    if not records:
        raise HTTPException(404, f"no lesson {lesson_id}; the lessons you can open are on the "
                            "Lessons page")
    return records[0]


__all__ = ["classroom_ids", "get_lesson", "lesson_ids", "list_classrooms", "list_lessons",
           "list_students", "list_teachers", "student_records"]
