"""Data access for observed lessons: teachers, attendance, video files and coding status.

Functions take the session of a unit of work and never commit (see :mod:`classdyad.store.entities`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from classdyad.errors import DataError, check_option
from classdyad.model import Enrolment, Lesson, LessonAttendance, LessonStatus, LessonTeacher
from classdyad.store.entities import _add, get


def create_lesson(session: Session, *, classroom_id: int, wave_id: int,
                  observed_minutes: float, teacher_ids: Sequence[int],
                  date: dt.date | None = None, subject: str | None = None,
                  video_files: Sequence[str] = (), code: str | None = None,
                  absent: Iterable[int] = (), not_visible: Iterable[int] = ()) -> Lesson:
    """Add an observed lesson with its teachers, video files and attendance.

    Every student enrolled in the class in the wave gets an attendance row: present unless in
    ``absent``, visible on the video unless absent or in ``not_visible``.

    Raises
    ------
    DataError
        If no teacher is given, the observed time is not positive, or a video file name holds
        ``;`` (the separator of the stored list).
    """
    if not teacher_ids:
        raise DataError("a lesson needs at least one teacher; give the teacher(s) who taught it")
    if not observed_minutes > 0:
        raise DataError(f"observed_minutes must be positive, not {observed_minutes!r}; give "
                        "the minutes of the lesson that were observed")
    if any(";" in name for name in video_files):
        raise DataError("a video file name may not contain ';'; rename the file")
    lesson = _add(session, Lesson(classroom_id=classroom_id, wave_id=wave_id, date=date,
                                  subject=subject, observed_minutes=float(observed_minutes),
                                  video_files=";".join(video_files) or None, code=code),
                  f"lesson {code or ''}".strip())
    for teacher_id in dict.fromkeys(teacher_ids):
        session.add(LessonTeacher(lesson_id=lesson.id, teacher_id=teacher_id))
    set_attendance(session, lesson.id, absent=absent, not_visible=not_visible)
    return lesson


def set_attendance(session: Session, lesson_id: int, *, absent: Iterable[int] = (),
                   not_visible: Iterable[int] = ()) -> dict[int, tuple[bool, bool]]:
    """(Re)write a lesson's attendance from its class's enrolment; return student -> (present,
    visible)."""
    lesson = get(session, Lesson, lesson_id)
    enrolled = session.scalars(sa.select(Enrolment.student_id).where(
        Enrolment.classroom_id == lesson.classroom_id, Enrolment.wave_id == lesson.wave_id)).all()
    missing, hidden = set(absent), set(not_visible)
    unknown = (missing | hidden) - set(enrolled)
    if unknown:
        raise DataError(f"student id(s) {sorted(unknown)} are not enrolled in the lesson's class "
                        "in its wave; enrol them first or correct the attendance")
    session.execute(sa.delete(LessonAttendance).where(LessonAttendance.lesson_id == lesson_id))
    attendance = {student: (student not in missing,
                            student not in missing and student not in hidden)
                  for student in enrolled}
    session.add_all(LessonAttendance(lesson_id=lesson_id, student_id=s, present=p, visible=v)
                    for s, (p, v) in attendance.items())
    session.flush()
    return attendance


def set_lesson_status(session: Session, lesson_id: int, status: str) -> Lesson:
    """Set how far the coding of a lesson has come (one of :class:`LessonStatus`)."""
    check_option("status", status, [s.value for s in LessonStatus])
    lesson = get(session, Lesson, lesson_id)
    lesson.coding_status = status
    session.flush()
    return lesson


def lesson_teacher_ids(session: Session, lesson_id: int) -> list[int]:
    """The ids of the teachers of a lesson."""
    return list(session.scalars(sa.select(LessonTeacher.teacher_id)
                                .where(LessonTeacher.lesson_id == lesson_id)))


def lesson_attendance(session: Session, lesson_id: int) -> Mapping[int, tuple[bool, bool]]:
    """student id -> (present, visible) for a lesson."""
    rows = session.execute(sa.select(LessonAttendance.student_id, LessonAttendance.present,
                                     LessonAttendance.visible)
                           .where(LessonAttendance.lesson_id == lesson_id)).all()
    return {int(s): (bool(p), bool(v)) for s, p, v in rows}


__all__ = ["create_lesson", "lesson_attendance", "lesson_teacher_ids", "set_attendance",
           "set_lesson_status"]
