"""Scoped reads returning tidy DataFrames: one teacher's classes, one lesson's events.

These are the reads a teacher's view or a coder's screen needs: they touch only the rows of
the scope asked for (no whole-study read), and never return names or background variables.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from classdyad.model import (
    Classroom,
    ClassroomTeacher,
    Coder,
    Enrolment,
    InteractionEvent,
    Lesson,
    LessonTeacher,
    School,
    Student,
    Teacher,
)


def _frame(session: Session, query: sa.Select) -> pd.DataFrame:
    result = session.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def teacher_classes(session: Session, teacher_id: int) -> pd.DataFrame:
    """The classes a teacher teaches: ``classroom_id, school, classroom, lowest_grade,
    highest_grade, primary, wave, students, lessons`` (one row per class and wave)."""
    students = (sa.select(Enrolment.classroom_id, Enrolment.wave_id,
                          sa.func.count().label("students"))
                .group_by(Enrolment.classroom_id, Enrolment.wave_id).subquery())
    lessons = (sa.select(Lesson.classroom_id, Lesson.wave_id, sa.func.count().label("lessons"))
               .join(LessonTeacher, LessonTeacher.lesson_id == Lesson.id)
               .where(LessonTeacher.teacher_id == teacher_id)
               .group_by(Lesson.classroom_id, Lesson.wave_id).subquery())
    query = (sa.select(Classroom.id.label("classroom_id"), School.code.label("school"),
                       Classroom.code.label("classroom"), Classroom.lowest_grade,
                       Classroom.highest_grade, ClassroomTeacher.primary,
                       students.c.wave_id, students.c.students,
                       sa.func.coalesce(lessons.c.lessons, 0).label("lessons"))
             .join(ClassroomTeacher, ClassroomTeacher.classroom_id == Classroom.id)
             .join(School, School.id == Classroom.school_id)
             .outerjoin(students, students.c.classroom_id == Classroom.id)
             .outerjoin(lessons, (lessons.c.classroom_id == Classroom.id)
                        & (lessons.c.wave_id == students.c.wave_id))
             .where(ClassroomTeacher.teacher_id == teacher_id)
             .order_by(Classroom.id, students.c.wave_id))
    return _frame(session, query)


def lesson_events(session: Session, lesson_id: int, *,
                  include_voided: bool = False) -> pd.DataFrame:
    """A lesson's coded events in time order, with codes: ``id, client_id, video_seconds,
    teacher, target_kind, student, valence, subtype, codebook_id, coder, revision, voided``."""
    target = sa.orm.aliased(Student)
    query = (sa.select(InteractionEvent.id, InteractionEvent.client_id,
                       InteractionEvent.video_seconds, Teacher.code.label("teacher"),
                       InteractionEvent.target_kind, target.code.label("student"),
                       InteractionEvent.valence, InteractionEvent.subtype,
                       InteractionEvent.codebook_id, Coder.code.label("coder"),
                       InteractionEvent.revision,
                       InteractionEvent.voided_at.is_not(None).label("voided"))
             .join(Teacher, Teacher.id == InteractionEvent.teacher_id)
             .outerjoin(target, target.id == InteractionEvent.student_id)
             .outerjoin(Coder, Coder.id == InteractionEvent.coder_id)
             .where(InteractionEvent.lesson_id == lesson_id)
             .order_by(InteractionEvent.video_seconds, InteractionEvent.id))
    if not include_voided:
        query = query.where(InteractionEvent.voided_at.is_(None))
    return _frame(session, query)


def teacher_lessons(session: Session, teacher_id: int) -> pd.DataFrame:
    """A teacher's observed lessons: ``lesson_id, code, classroom_id, wave_id, date, subject,
    observed_minutes, coding_status``."""
    query = (sa.select(Lesson.id.label("lesson_id"), Lesson.code, Lesson.classroom_id,
                       Lesson.wave_id, Lesson.date, Lesson.subject, Lesson.observed_minutes,
                       Lesson.coding_status)
             .join(LessonTeacher, LessonTeacher.lesson_id == Lesson.id)
             .where(LessonTeacher.teacher_id == teacher_id).order_by(Lesson.id))
    return _frame(session, query)


__all__ = ["lesson_events", "teacher_classes", "teacher_lessons"]
