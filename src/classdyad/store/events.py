"""Coded interaction events one at a time: add, update and void, each audited, none lost.

An update or a void never loses what was coded: the event's state before the change is kept as
an :class:`~classdyad.model.InteractionEventRevision` row (with who changed it and when), the
event's ``revision`` counts the changes, and a voided event stays in the database (left out of
every analysis and export). Each change writes its audit entry in the same unit of work, so the
change and its record are committed together or not at all. Every rule of
:func:`classdyad.store.validation.check_events` is checked before a change is made.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from classdyad.errors import DataError, ValidationError
from classdyad.model import (
    Enrolment,
    EventChange,
    InteractionEvent,
    InteractionEventRevision,
    Lesson,
    LessonTeacher,
)
from classdyad.store import validation as check
from classdyad.store.entities import _add, audit, get

#: the fields of an event that a coder sets (and an update may change)
EVENT_FIELDS = ("video_seconds", "teacher_id", "target_kind", "student_id", "valence",
                "subtype", "codebook_id", "coder_id")


def _check(session: Session, lesson_id: int, values: dict[str, Any], source: str) -> None:
    lesson = get(session, Lesson, lesson_id)
    frame = pd.DataFrame([{"client_id": values.get("client_id", "-"), "lesson_id": lesson_id,
                           **{f: values.get(f) for f in EVENT_FIELDS}}])
    frame["student_id"] = frame["student_id"].astype("Int64")
    lessons = pd.DataFrame({"id": [lesson.id], "classroom_id": [lesson.classroom_id],
                            "wave_id": [lesson.wave_id]})
    teachers = session.scalars(sa.select(LessonTeacher.teacher_id)
                               .where(LessonTeacher.lesson_id == lesson_id)).all()
    enrolled = session.scalars(sa.select(Enrolment.student_id).where(
        Enrolment.classroom_id == lesson.classroom_id, Enrolment.wave_id == lesson.wave_id)).all()
    problems = check.check_events(
        frame, lessons=lessons,
        enrolments=pd.DataFrame({"student_id": list(enrolled), "wave_id": lesson.wave_id,
                                 "classroom_id": lesson.classroom_id}, dtype="int64"),
        lesson_teachers=pd.DataFrame({"lesson_id": lesson_id, "teacher_id": list(teachers)},
                                     dtype="int64"),
        source=source)
    if problems:
        raise ValidationError(problems, what=source)


def add_event(session: Session, *, lesson_id: int, teacher_id: int, valence: str,
              video_seconds: float, target_kind: str = "student", student_id: int | None = None,
              subtype: str | None = None, codebook_id: int | None = None,
              coder_id: int | None = None, client_id: str | None = None,
              actor: str) -> InteractionEvent:
    """Add one coded event (audited); ``client_id`` makes a repeated upload harmless.

    An event whose ``client_id`` is stored already is returned as it is (not added twice).

    Raises
    ------
    ValidationError
        If the event breaks a rule (unknown valence, a teacher who does not teach the lesson,
        a student not enrolled in its class, ...).
    """
    client_id = client_id or uuid.uuid4().hex
    stored = session.scalars(sa.select(InteractionEvent)
                             .where(InteractionEvent.client_id == client_id)).first()
    if stored is not None:
        return stored
    values = {"client_id": client_id, "video_seconds": video_seconds, "teacher_id": teacher_id,
              "target_kind": target_kind, "student_id": student_id, "valence": valence,
              "subtype": subtype, "codebook_id": codebook_id, "coder_id": coder_id}
    _check(session, lesson_id, values, f"event {client_id}")
    event = _add(session, InteractionEvent(lesson_id=lesson_id, **values), "event")
    audit(session, actor=actor, action="add_event", entity="interaction_event",
          detail={"event": event.id, "client_id": client_id, "lesson": lesson_id})
    return event


def _keep_revision(session: Session, event: InteractionEvent, action: EventChange,
                   actor: str) -> None:
    if event.voided_at is not None:
        raise DataError(f"event {event.id} is voided; add a new event instead of changing it")
    session.add(InteractionEventRevision(
        event_id=event.id, revision=event.revision, action=action.value, changed_by=actor,
        **{f: getattr(event, f) for f in EVENT_FIELDS}))


def update_event(session: Session, event_id: int, *, actor: str,
                 **changes: Any) -> InteractionEvent:
    """Change fields of a coded event, keeping its earlier state as a revision (audited).

    ``changes`` takes the fields of :data:`EVENT_FIELDS`.

    Raises
    ------
    DataError
        If a field is not one of :data:`EVENT_FIELDS` or the event is voided.
    ValidationError
        If the changed event breaks a rule (nothing is changed).
    """
    unknown = sorted(set(changes) - set(EVENT_FIELDS))
    if unknown:
        raise DataError(f"cannot change {unknown}; an update changes {', '.join(EVENT_FIELDS)}")
    event = get(session, InteractionEvent, event_id)
    values = {f: getattr(event, f) for f in EVENT_FIELDS} | changes
    _check(session, event.lesson_id, {"client_id": event.client_id, **values},
           f"event {event.client_id}")
    _keep_revision(session, event, EventChange.UPDATE, actor)
    for field, value in changes.items():
        setattr(event, field, value)
    event.revision += 1
    session.flush()
    audit(session, actor=actor, action="update_event", entity="interaction_event",
          detail={"event": event.id, "revision": event.revision, "changed": sorted(changes)})
    return event


def void_event(session: Session, event_id: int, *, actor: str,
               reason: str | None = None) -> InteractionEvent:
    """Void (withdraw) a coded event: kept with its history, never analysed again (audited)."""
    event = get(session, InteractionEvent, event_id)
    _keep_revision(session, event, EventChange.VOID, actor)
    event.voided_at = dt.datetime.now(dt.UTC)
    event.revision += 1
    session.flush()
    audit(session, actor=actor, action="void_event", entity="interaction_event",
          detail={"event": event.id, "reason": reason})
    return event


def event_history(session: Session, event_id: int) -> pd.DataFrame:
    """Every state of an event, oldest first: ``revision, action, changed_by, changed_at`` and
    the event's fields (the last row is the event as it is now)."""
    event = get(session, InteractionEvent, event_id)
    rows = [{"revision": r.revision, "action": r.action, "changed_by": r.changed_by,
             "changed_at": r.changed_at, **{f: getattr(r, f) for f in EVENT_FIELDS}}
            for r in session.scalars(sa.select(InteractionEventRevision)
                                     .where(InteractionEventRevision.event_id == event_id)
                                     .order_by(InteractionEventRevision.revision))]
    rows.append({"revision": event.revision,
                 "action": "voided" if event.voided_at is not None else "current",
                 "changed_by": None, "changed_at": event.voided_at,
                 **{f: getattr(event, f) for f in EVENT_FIELDS}})
    return pd.DataFrame(rows)


__all__ = ["EVENT_FIELDS", "add_event", "event_history", "update_event", "void_event"]
