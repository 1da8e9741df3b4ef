"""The event API: coded events written once however often they are sent, read back per lesson.

``PUT /api/v1/events/{client_id}`` answers 201 the first time a revision arrives, 200 for an
identical retry and 409 for other content under the same id and revision
(:mod:`classdyad.services.coding_events`). Coders write only to the lessons assigned to them and
read only their own events (a second coder is blind to the first); researchers read everything,
with the coder; teachers never write events.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, Response
from sqlalchemy.orm import Session

from classdyad.model import Coder, PresenceSegment, Student
from classdyad.services import coding_events
from classdyad.web import scope
from classdyad.web.coding_schemas import (
    EventPublic,
    EventWrite,
    LessonDone,
    PresencePublic,
    PresenceWrite,
    ReactionOffset,
)
from classdyad.web.dependencies import CurrentStudy, CurrentUser, Db, StudyContext, User

router = APIRouter(prefix="/api/v1", tags=["events"])


def writer_of(db: Session, user: CurrentUser, study: StudyContext) -> coding_events.Writer:
    """The user as a writer of events: a coder writes to their assigned lessons only."""
    lessons = scope.lesson_ids(db, user, study)
    return coding_events.Writer(actor=user.username, coder_id=user.coder_id, study_id=study.id,
                                lessons=None if lessons is None else frozenset(lessons))


def event_writer(db: Session, user: CurrentUser, study: StudyContext) -> coding_events.Writer:
    """The user as a writer of events (:func:`writer_of`), a coder's assigned lessons checked by
    the database in the query that resolves the event (one query less per write)."""
    if user.role == "coder":
        return coding_events.Writer(actor=user.username, coder_id=user.coder_id,
                                    study_id=study.id, lessons=None, assigned=True)
    return writer_of(db, user, study)


def _answer(result: coding_events.WriteResult, response: Response) -> dict[str, Any]:
    response.status_code = 201 if result.outcome == "created" else 200
    return result.record


@router.put("/events/{client_id}", response_model=EventPublic,
            responses={200: {"description": "already stored (identical retry)"},
                       201: {"description": "stored"},
                       409: {"description": "another content under this id and revision"}})
def put_event(client_id: str, body: EventWrite, response: Response, user: User, db: Db,
              study: CurrentStudy) -> dict[str, Any]:
    """Store one revision of a coded event (revision 1 creates it, later ones edit it)."""
    content = body.model_dump(exclude={"revision"})
    result = coding_events.put_event(db, event_writer(db, user, study), client_id, content,
                                     revision=body.revision)
    return _answer(result, response)


@router.delete("/events/{client_id}", response_model=EventPublic)
def delete_event(client_id: str, user: User, db: Db, study: CurrentStudy,
                 revision: int = Query(ge=2, description="the revision number of the "
                                       "delete (the event's newest revision + 1)")
                 ) -> dict[str, Any]:
    """Delete an event as a new revision; its earlier versions are kept. Idempotent."""
    return coding_events.delete_event(db, event_writer(db, user, study), client_id,
                                      revision=revision).record


@router.get("/lessons/{lesson_id}/events", response_model=list[EventPublic])
def list_lesson_events(lesson_id: int, user: User, db: Db, study: CurrentStudy,
                       include_deleted: bool = False) -> list[dict[str, Any]]:
    """The caller's events of a lesson in time order (a researcher's: everyone's, with the
    coder)."""
    scope.get_lesson(db, user, study, lesson_id)
    if user.role == "researcher":
        return coding_events.lesson_events(db, lesson_id, include_deleted=include_deleted)
    if user.coder_id is None:
        raise HTTPException(404, f"no events of lesson {lesson_id} for you")
    return coding_events.lesson_events(db, lesson_id, coder_id=user.coder_id,
                                       include_deleted=include_deleted)


@router.post("/lessons/{lesson_id}/done", response_model=LessonDone)
def mark_lesson_done(lesson_id: int, user: User, db: Db, study: CurrentStudy
                     ) -> dict[str, Any]:
    """Mark the lesson done for the calling coder (idempotent); audited."""
    return coding_events.mark_lesson_done(db, writer_of(db, user, study), lesson_id)


@router.put("/presence/{client_id}", response_model=PresencePublic)
def put_presence(client_id: str, body: PresenceWrite, response: Response, user: User, db: Db,
                 study: CurrentStudy) -> dict[str, Any]:
    """Store a segment in which a student was present / visible or not (201, then 200)."""
    result = coding_events.put_presence(db, writer_of(db, user, study), client_id,
                                        body.model_dump())
    return _answer(result, response)


@router.get("/lessons/{lesson_id}/presence", response_model=list[PresencePublic])
def list_presence(lesson_id: int, user: User, db: Db, study: CurrentStudy
                  ) -> list[dict[str, Any]]:
    """The presence segments of a lesson (a coder's: their own), by start time."""
    scope.get_lesson(db, user, study, lesson_id)
    query = (sa.select(PresenceSegment, Student.code)
             .join(Student, Student.id == PresenceSegment.student_id)
             .where(PresenceSegment.lesson_id == lesson_id)
             .order_by(PresenceSegment.start_seconds, PresenceSegment.id))
    if user.role != "researcher":
        query = query.where(PresenceSegment.coder_id == user.coder_id)
    return [{"client_id": s.client_id, "lesson_id": s.lesson_id, "student": code,
             "start_seconds": s.start_seconds, "end_seconds": s.end_seconds,
             "present": s.present, "visible": s.visible} for s, code in db.execute(query)]


@router.put("/me/reaction-offset", response_model=ReactionOffset)
def set_reaction_offset(body: ReactionOffset, user: User, db: Db) -> dict[str, float]:
    """Set the calling coder's reaction-time offset (seconds subtracted from each key press)."""
    coder = db.get(Coder, user.coder_id) if user.coder_id is not None else None
    if coder is None:
        raise HTTPException(404, "your account is not bound to a coder")
    coder.reaction_offset_seconds = body.reaction_offset_seconds
    db.commit()
    return {"reaction_offset_seconds": body.reaction_offset_seconds}
