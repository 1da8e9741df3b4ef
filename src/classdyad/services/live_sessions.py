"""Live observation in class: seating charts and the lesson clock of a live session.

- A *seating chart* places the students of a class on a grid of desks, one chart per class per
  wave. A wave without a chart of its own starts from a copy of the class's chart of the latest
  earlier wave (the students still in the class keep their desks); saving it stores it for the
  wave. A class without any chart gets its students in code order, row by row.
- A *live session* is an observer's lesson clock (running, paused, ended) and the sampling
  method of the observation. When the observer ends the lesson, the lesson's observed minutes
  are the clock's seconds / 60, and each enrolled student's minutes present are computed from
  the observer's presence marks (:func:`classdyad.coding.presence_seconds`: the time present
  and in view) and written to ``lesson_attendance``, which the analysis dataset reads.

Live events themselves are written by :mod:`classdyad.services.coding_events` (``source:
"live"``, the lesson clock in ``video_seconds``).
"""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from classdyad.coding import presence_seconds
from classdyad.errors import DataError, NotFoundError
from classdyad.model import (
    SAMPLING_METHODS,
    AuditEntry,
    Enrolment,
    Lesson,
    LessonAttendance,
    LiveSession,
    PresenceSegment,
    SeatingChart,
    Student,
    Wave,
)
from classdyad.services.coding_events import Writer

__all__ = ["DEFAULT_COLUMNS", "live_session", "save_live_session", "save_seating_chart",
           "seating_chart"]

DEFAULT_COLUMNS = 6
"""Desks per row of a class's first chart, before anyone arranges it."""


def _enrolled(db: Session, classroom_id: int, wave_id: int) -> dict[int, str]:
    """Student id -> code of the students of a class in a wave."""
    return dict(db.execute(sa.select(Student.id, Student.code)
                           .join(Enrolment, Enrolment.student_id == Student.id)
                           .where(Enrolment.classroom_id == classroom_id,
                                  Enrolment.wave_id == wave_id)
                           .order_by(Student.code)).all())


def seating_chart(db: Session, classroom_id: int, wave_id: int) -> dict[str, Any]:
    """The class's chart for the wave: stored, copied forward from an earlier wave, or a first
    layout.

    Returns
    -------
    dict
        ``rows, columns, seats`` (``[{"student", "row", "column"}]``, students by code),
        ``unseated`` (enrolled students without a desk), ``stored`` (whether this wave's chart
        is saved) and ``copied_from_wave`` (the wave number it was copied from, if any).
    """
    enrolled = _enrolled(db, classroom_id, wave_id)
    chart = db.scalar(sa.select(SeatingChart).where(SeatingChart.classroom_id == classroom_id,
                                                    SeatingChart.wave_id == wave_id))
    stored = chart is not None
    copied_from = chart.copied_from_wave_id if chart is not None else None
    if chart is None:
        number = db.scalar(sa.select(Wave.number).where(Wave.id == wave_id))
        chart = db.scalar(sa.select(SeatingChart)
                          .join(Wave, SeatingChart.wave_id == Wave.id)
                          .where(SeatingChart.classroom_id == classroom_id,
                                 Wave.number < number)
                          .order_by(Wave.number.desc()).limit(1))
        copied_from = chart.wave_id if chart is not None else None
    if chart is None:
        columns = DEFAULT_COLUMNS
        rows = max(1, math.ceil(len(enrolled) / columns))
        seats = [{"student": code, "row": i // columns, "column": i % columns}
                 for i, code in enumerate(enrolled.values())]
    else:
        rows, columns = chart.rows, chart.columns
        seats = [{"student": enrolled[s["student_id"]], "row": s["row"], "column": s["column"]}
                 for s in chart.seats if s["student_id"] in enrolled]
    seated = {s["student"] for s in seats}
    wave_number = (db.scalar(sa.select(Wave.number).where(Wave.id == copied_from))
                   if copied_from is not None else None)
    return {"rows": rows, "columns": columns,
            "seats": sorted(seats, key=lambda s: (s["row"], s["column"])),
            "unseated": [code for code in enrolled.values() if code not in seated],
            "stored": stored, "copied_from_wave": wave_number}


def save_seating_chart(db: Session, actor: str, classroom_id: int, wave_id: int, *, rows: int,
                       columns: int, seats: list[dict[str, Any]]) -> dict[str, Any]:
    """Store the class's chart for the wave (replacing it); audited.

    Parameters
    ----------
    seats
        ``[{"student": code, "row", "column"}]`` (from 0); students not listed have no desk.

    Raises
    ------
    DataError
        A student not in the class in the wave, a student twice, two students at one desk, or a
        desk outside the grid.
    """
    if not (1 <= rows <= 20 and 1 <= columns <= 20):
        raise DataError(f"a chart of {rows} x {columns} desks is not possible; use 1 to 20 "
                        "rows and columns")
    by_code = {code: sid for sid, code in _enrolled(db, classroom_id, wave_id).items()}
    problems = []
    desks: dict[tuple[int, int], str] = {}
    placed: list[dict[str, int]] = []
    for seat in seats:
        code, row, column = seat["student"], int(seat["row"]), int(seat["column"])
        if code not in by_code:
            problems.append(f"student {code!r} is not in this class in this wave")
        elif any(p["student_id"] == by_code[code] for p in placed):
            problems.append(f"student {code!r} has two desks")
        if not (0 <= row < rows and 0 <= column < columns):
            problems.append(f"desk ({row}, {column}) of {code!r} is outside the "
                            f"{rows} x {columns} grid")
        elif (row, column) in desks:
            problems.append(f"desk ({row}, {column}) has two students: "
                            f"{desks[(row, column)]!r} and {code!r}")
        desks[(row, column)] = code
        if code in by_code:
            placed.append({"student_id": by_code[code], "row": row, "column": column})
    if problems:
        raise DataError("; ".join(problems) + "; move the students to free desks of the grid "
                        "and save again")
    chart = db.scalar(sa.select(SeatingChart).where(SeatingChart.classroom_id == classroom_id,
                                                    SeatingChart.wave_id == wave_id))
    if chart is None:
        before = seating_chart(db, classroom_id, wave_id)
        copied_from = None
        if before["copied_from_wave"] is not None:
            copied_from = db.scalar(sa.select(Wave.id).where(
                Wave.number == before["copied_from_wave"],
                Wave.study_id == sa.select(Wave.study_id).where(Wave.id == wave_id)
                .scalar_subquery()))
        chart = SeatingChart(classroom_id=classroom_id, wave_id=wave_id,
                             copied_from_wave_id=copied_from)
        db.add(chart)
    chart.rows, chart.columns, chart.seats = rows, columns, placed
    chart.updated_by = actor
    db.add(AuditEntry(actor=actor, action="save", entity="seating_chart", count=len(placed),
                      detail={"classroom_id": classroom_id, "wave_id": wave_id}))
    db.commit()
    return seating_chart(db, classroom_id, wave_id)


def _record(session: LiveSession) -> dict[str, Any]:
    return {"lesson_id": session.lesson_id, "observer": session.observer,
            "sampling_method": session.sampling_method,
            "interval_seconds": session.interval_seconds, "state": session.state,
            "clock_seconds": session.clock_seconds}


def live_session(db: Session, writer: Writer, lesson_id: int) -> dict[str, Any] | None:
    """The writer's live session of the lesson, if any."""
    session = db.scalar(sa.select(LiveSession).where(LiveSession.lesson_id == lesson_id,
                                                     LiveSession.observer == writer.actor))
    return None if session is None else _record(session)


def _finish(db: Session, writer: Writer, lesson: Lesson, clock_seconds: float) -> None:
    """Observed minutes of the lesson and minutes present of each student, from the session."""
    lesson.observed_minutes = clock_seconds / 60.0
    enrolled = _enrolled(db, lesson.classroom_id, lesson.wave_id)
    coder = (PresenceSegment.coder_id.is_(None) if writer.coder_id is None
             else PresenceSegment.coder_id == writer.coder_id)
    marks = [{"student": enrolled[s.student_id], "start_seconds": s.start_seconds,
              "end_seconds": s.end_seconds, "present": s.present, "visible": s.visible}
             for s in db.scalars(sa.select(PresenceSegment)
                                 .where(PresenceSegment.lesson_id == lesson.id, coder)
                                 .order_by(PresenceSegment.id))
             if s.student_id in enrolled]
    exposure = presence_seconds(marks, lesson_seconds=clock_seconds,
                                students=enrolled.values()).set_index("student")
    stored = {a.student_id: a for a in db.scalars(
        sa.select(LessonAttendance).where(LessonAttendance.lesson_id == lesson.id))}
    for student_id, code in enrolled.items():
        row = stored.get(student_id)
        if row is None:
            row = LessonAttendance(lesson_id=lesson.id, student_id=student_id)
            db.add(row)
        present = float(exposure.loc[code, "seconds_present"])
        in_view = float(exposure.loc[code, "seconds_in_view"])
        row.present = present > 0
        row.visible = in_view > 0
        row.minutes_present = in_view / 60.0


def save_live_session(db: Session, writer: Writer, lesson_id: int, *, sampling_method: str,
                      interval_seconds: float | None, state: str,
                      clock_seconds: float) -> dict[str, Any]:
    """Store the writer's lesson clock and sampling method; on ``"ended"``, write the lesson's
    observed minutes and its students' minutes present.

    Idempotent: the same state sent again changes nothing, and a clock behind the stored one (an
    old state arriving late) is ignored.

    Raises
    ------
    NotFoundError
        The lesson is not one the writer may code.
    DataError
        An unknown sampling method or state, or an interval that does not fit the method.
    """
    if sampling_method not in SAMPLING_METHODS:
        raise DataError(f"sampling method {sampling_method!r} is not known; use one of "
                        f"{', '.join(SAMPLING_METHODS)}")
    if state not in ("running", "paused", "ended"):
        raise DataError(f"state {state!r} is not known; use running, paused or ended")
    if sampling_method == "continuous" and interval_seconds is not None:
        raise DataError("continuous recording has no interval; send interval_seconds: null "
                        "(or sampling_method 'interval' or 'scan')")
    if sampling_method != "continuous" and not interval_seconds:
        raise DataError(f"{sampling_method} sampling needs interval_seconds (the seconds "
                        "between prompts)")
    if not math.isfinite(clock_seconds) or clock_seconds < 0:
        raise DataError(f"clock_seconds={clock_seconds!r} must be a time >= 0")
    if writer.lessons is not None and lesson_id not in writer.lessons:
        raise NotFoundError(f"no lesson {lesson_id} among the lessons you code")
    lesson = db.scalar(sa.select(Lesson).join(Wave, Lesson.wave_id == Wave.id)
                       .where(Lesson.id == lesson_id, Wave.study_id == writer.study_id))
    if lesson is None:
        raise NotFoundError(f"no lesson {lesson_id}; open a lesson from your Lessons page")
    session = db.scalar(sa.select(LiveSession).where(LiveSession.lesson_id == lesson_id,
                                                     LiveSession.observer == writer.actor))
    if session is not None and clock_seconds < session.clock_seconds:
        return _record(session)
    if session is None:
        session = LiveSession(lesson_id=lesson_id, observer=writer.actor,
                              coder_id=writer.coder_id)
        db.add(session)
    session.sampling_method = sampling_method
    session.interval_seconds = interval_seconds
    session.clock_seconds = clock_seconds
    ended_before = session.state == "ended"
    session.state = state
    if state == "ended":
        _finish(db, writer, lesson, clock_seconds)
        if not ended_before:
            db.add(AuditEntry(actor=writer.actor, action="end", entity="live_session", count=1,
                              detail={"lesson_id": lesson_id, "clock_seconds": clock_seconds,
                                      "sampling_method": sampling_method}))
    db.commit()
    return _record(session)
