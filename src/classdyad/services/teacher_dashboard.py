"""What a teacher's dashboard shows: the feedback, its goals' progress, and (where the study
allows teachers to watch their own lessons) the moments of a flagged student's negative
interactions on video.

The feedback is computed exactly as ``classdyad feedback`` computes it
(:func:`classdyad.store.teacher_reading.read_teacher_study`, then
:func:`classdyad.study.feedback.study_teacher_feedback` with the teacher's goals), so that
the dashboard and the page agree. Only the teacher's own lessons, students and events are read.
Names: a teacher sees their own students' first names (DESIGN.md: last names never leave the
roster outside the researcher role); a coach sees pseudonymous codes only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from classdyad.analysis.teacher_feedback_results import TeacherFeedbackResult
from classdyad.model import (
    Classroom,
    InteractionEvent,
    Lesson,
    LessonTeacher,
    Student,
    StudentRoster,
    VideoFile,
    Wave,
)
from classdyad.report.i18n import Language, translations
from classdyad.services.coaching import CoachingActor, goals_frame

__all__ = ["MOMENTS_PER_STUDENT", "VIDEO_SETTING", "coaching_view", "dashboard_feedback",
           "first_names", "negative_moments"]

#: the study setting that lets teachers watch videos of their own lessons (default: off)
VIDEO_SETTING = "teachers_see_own_videos"
#: the most moments linked per flagged student, class and wave
MOMENTS_PER_STUDENT = 8


def dashboard_feedback(engine: Engine, db: Session, actor: CoachingActor, study_id: int,
                       teacher_id: int, teacher: str) -> TeacherFeedbackResult:
    """The teacher's feedback with the progress on their goals (``actor`` may open the space).

    Raises
    ------
    DataError
        If the teacher has no observed lessons with students present yet.
    """
    from classdyad.store.teacher_reading import read_teacher_study
    from classdyad.study.feedback import study_teacher_feedback

    goals = goals_frame(db, actor, teacher_id)
    tables = read_teacher_study(engine, teacher, study_id)
    result, _ = study_teacher_feedback(tables, teacher, goals=goals)
    return result


def first_names(db: Session, study_id: int, codes: list[str]) -> dict[str, str]:
    """Code -> first name of the given students (the teacher's own)."""
    if not codes:
        return {}
    rows = db.execute(sa.select(Student.code, StudentRoster.first_name)
                      .join(StudentRoster, StudentRoster.student_id == Student.id)
                      .where(Student.study_id == study_id, Student.code.in_(codes))).all()
    return {str(code): str(name) for code, name in rows if name}


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:d}:{whole % 60:02d}"


def _video_at(videos: list[tuple[int, float | None]], seconds: float
              ) -> tuple[int, float] | None:
    """The video file and the time in it of a moment ``seconds`` into the lesson (the files
    play one after the other)."""
    start = 0.0
    for video_id, duration in videos:
        if duration is None or seconds < start + duration:
            return video_id, max(seconds - start, 0.0)
        start += duration
    return None


def negative_moments(db: Session, teacher_id: int, flagged: pd.DataFrame, *,
                     language: Language = "en") -> Mapping[tuple[str, int, str],
                                                           list[dict[str, str]]]:
    """Links to the video moments of each flagged student's negative interactions.

    Only the teacher's own lessons (the lessons the teacher taught) with a video are linked;
    each link opens the lesson's video at the moment (``/api/v1/videos/ID#t=SECONDS``). The
    events counted are those of each lesson's primary coding, as in the feedback.
    """
    if flagged.empty:
        return {}
    wanted = {(str(r.classroom), int(r.wave), str(r.student))
              for r in flagged.itertuples(index=False)}
    taught = sa.select(LessonTeacher.lesson_id).where(LessonTeacher.teacher_id == teacher_id)
    first_coder = (sa.select(InteractionEvent.lesson_id,
                             sa.func.min(InteractionEvent.coder_id).label("coder_id"))
                   .where(InteractionEvent.lesson_id.in_(taught),
                          InteractionEvent.voided_at.is_(None))
                   .group_by(InteractionEvent.lesson_id).subquery())
    rows = db.execute(
        sa.select(Classroom.code, Wave.number, Student.code, InteractionEvent.lesson_id,
                  InteractionEvent.video_seconds, InteractionEvent.coder_id,
                  first_coder.c.coder_id)
        .join(Lesson, Lesson.id == InteractionEvent.lesson_id)
        .join(Classroom, Classroom.id == Lesson.classroom_id)
        .join(Wave, Wave.id == Lesson.wave_id)
        .join(Student, Student.id == InteractionEvent.student_id)
        .join(first_coder, first_coder.c.lesson_id == InteractionEvent.lesson_id)
        .where(InteractionEvent.lesson_id.in_(taught),
               InteractionEvent.teacher_id == teacher_id,
               InteractionEvent.valence == "negative",
               InteractionEvent.target_kind == "student",
               InteractionEvent.voided_at.is_(None),
               sa.or_(InteractionEvent.superseded.is_(None),
                      InteractionEvent.superseded.is_(False)))
        .order_by(InteractionEvent.lesson_id, InteractionEvent.video_seconds)).all()
    rows = [r for r in rows if (str(r[0]), int(r[1]), str(r[2])) in wanted
            and (r[6] is None or r[5] == r[6])]
    lessons = sorted({int(r[3]) for r in rows})
    videos: dict[int, list[tuple[int, float | None]]] = {}
    for lesson_id, video_id, duration in db.execute(
            sa.select(VideoFile.lesson_id, VideoFile.id, VideoFile.duration_seconds)
            .where(VideoFile.lesson_id.in_(lessons))
            .order_by(VideoFile.lesson_id, VideoFile.position)):
        videos.setdefault(int(lesson_id), []).append((int(video_id), duration))
    gettext = translations(language).gettext
    moments: dict[tuple[str, int, str], list[dict[str, str]]] = {}
    for classroom, wave, student, lesson_id, seconds, _, _ in rows:
        key = (str(classroom), int(wave), str(student))
        place = _video_at(videos.get(int(lesson_id), []), float(seconds))
        if place is None or len(moments.get(key, [])) >= MOMENTS_PER_STUDENT:
            continue
        video_id, offset = place
        moments.setdefault(key, []).append({
            "href": f"/api/v1/videos/{video_id}#t={offset:.0f}",
            "label": gettext("lesson %(lesson)s at %(time)s") % {
                "lesson": lesson_id, "time": _clock(float(seconds))}})
    return moments


def coaching_view(goals: list[dict[str, Any]], notes: list[dict[str, Any]]
                  ) -> list[dict[str, Any]]:
    """The goals with their notes beside them (general notes under ``None``)."""
    by_goal: dict[int | None, list[dict[str, Any]]] = {}
    for note in notes:
        by_goal.setdefault(note["goal"], []).append(note)
    return [{**goal, "notes": by_goal.get(goal["id"], [])} for goal in goals]
