"""Coded events written from the browser (video coding and live coding): once, whatever happens.

Each event has a client-generated id (a UUID made in the browser before anything is sent) and
numbered revisions: revision 1 creates it, every later revision edits or deletes it. Writing a
revision is idempotent:

- the first time a revision arrives it is stored (``"created"``);
- the same revision with the same content again is answered as stored (``"unchanged"``);
- the same revision with other content is refused (:class:`~classdyad.errors.IntegrityError`);
- a revision that skips one is refused too (the client sends them in order).

Every revision is kept in ``event_revision``; ``interaction_event`` holds the current version of
each event that is not deleted, which is what the analysis reads, and what BORIS / CSV imports
write too. Edits and deletes are also written to the audit log (a first revision is its own
record, in ``event_revision``). Concurrent writers of the same revision meet at the unique key
``(client_id, revision)``: one stores it, the other's ``INSERT ... ON CONFLICT DO NOTHING``
stores nothing, and it reads the stored revision and compares.

A new event (revision 1) is written in three statements in the caller's transaction: one query
resolves the codes and checks the lesson (and, for a coder, the assignment), then the revision
and the event are inserted; the history is read only when the revision is already stored (a
retry, or another content under the id), and then the answer is the same as for any revision:
200, or 409. An edit or a delete reads the history first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from classdyad.errors import DataError, IntegrityError, NotFoundError
from classdyad.model import (
    AuditEntry,
    Coder,
    CoderAssignment,
    Enrolment,
    EventRevision,
    InteractionEvent,
    Lesson,
    LessonCoding,
    LessonTeacher,
    PresenceSegment,
    Student,
    Teacher,
    VideoFile,
    Wave,
)

__all__ = [
    "EVENT_FIELDS",
    "SOURCES",
    "WriteResult",
    "Writer",
    "delete_event",
    "lesson_events",
    "mark_lesson_done",
    "put_event",
    "put_presence",
]

SOURCES = ("video", "live", "import", "adjudication")
"""How an event was made."""

EVENT_FIELDS = ("lesson_id", "video_seconds", "frame", "teacher", "target_kind", "student",
                "valence", "subtype", "codebook_id", "source", "video_file")
"""The content of an event as the browser sends it (teacher and student by their codes).

``video_seconds`` is on the lesson's clock: a lesson filmed in parts has several video files,
played in order, and a time in part *k* is the time in its file plus the durations of the files
before it. ``video_file`` (the id of the file the coder watched, or none) and ``frame`` (the
frame on screen, counted from that file's start) say where in which file the event was coded;
they are kept with each revision (``event_revision.content``), the lesson-clock time in
``interaction_event`` for the analysis."""

Outcome = Literal["created", "unchanged"]


@dataclass(frozen=True)
class Writer:
    """Who writes: the account's name (for the audit log) and its coder, if any.

    ``lessons`` are the lesson ids the writer may write to (``None``: every lesson of the study);
    ``assigned``: the lessons assigned to the writer's coder, checked by the database in the
    query that resolves an event's codes (``lessons`` is then ``None`` and not read).
    """

    actor: str
    coder_id: int | None
    study_id: int
    lessons: frozenset[int] | None
    assigned: bool = False

    @property
    def restricted(self) -> bool:
        """Whether the writer writes to some lessons only (and to their own events only)."""
        return self.assigned or self.lessons is not None


@dataclass(frozen=True)
class WriteResult:
    """What a write did: ``outcome`` and the event's current record."""

    outcome: Outcome
    record: dict[str, Any]


def _canonical(content: dict[str, Any]) -> dict[str, Any]:
    out = {name: content.get(name) for name in EVENT_FIELDS}
    out["video_seconds"] = float(out["video_seconds"])
    if out["source"] is None:
        out["source"] = "video"
    return out


def _check_content(content: dict[str, Any]) -> None:
    seconds = content["video_seconds"]
    if not math.isfinite(seconds) or seconds < 0:
        raise DataError(f"video_seconds={seconds!r} must be a time >= 0 in seconds")
    if content["frame"] is not None and content["frame"] < 0:
        raise DataError(f"frame={content['frame']!r} must be a frame index >= 0")
    if content["target_kind"] == "student" and not content["student"]:
        raise DataError("target_kind 'student' needs the student's code in 'student'")
    if content["target_kind"] != "student" and content["student"]:
        raise DataError(f"target_kind {content['target_kind']!r} takes no student; send "
                        "'student': null (or target_kind 'student')")
    if content["source"] not in SOURCES:
        raise DataError(f"source {content['source']!r} is not known; use one of "
                        f"{', '.join(SOURCES)}")


_EVENT = InteractionEvent.__table__
_REVISION = EventRevision.__table__


def _resolve_statement() -> sa.Select[Any]:
    """The lesson (in the study), its teacher by code, the student by code in the lesson's class
    and wave, and the video file of the lesson, in one query. Built once: a statement object
    made per request costs more than the query itself."""
    teacher = (sa.select(Teacher.id)
               .join(LessonTeacher, LessonTeacher.teacher_id == Teacher.id)
               .where(LessonTeacher.lesson_id == Lesson.id,
                      Teacher.code == sa.bindparam("teacher"))
               .limit(1).scalar_subquery())
    student = (sa.select(Student.id)
               .join(Enrolment, Enrolment.student_id == Student.id)
               .where(Student.study_id == sa.bindparam("study_id"),
                      Student.code == sa.bindparam("student"),
                      Enrolment.classroom_id == Lesson.classroom_id,
                      Enrolment.wave_id == Lesson.wave_id)
               .limit(1).scalar_subquery())
    video = (sa.select(VideoFile.id)
             .where(VideoFile.id == sa.bindparam("video_file"),
                    VideoFile.lesson_id == Lesson.id)
             .scalar_subquery())
    assigned = (sa.select(CoderAssignment.id)
                .where(CoderAssignment.lesson_id == Lesson.id,
                       CoderAssignment.coder_id == sa.bindparam("coder_id"))
                .exists())
    return (sa.select(teacher.label("teacher_id"), student.label("student_id"),
                      video.label("video_file"), assigned.label("assigned"))
            .select_from(Lesson).join(Wave, Lesson.wave_id == Wave.id)
            .where(Lesson.id == sa.bindparam("lesson_id"),
                   Wave.study_id == sa.bindparam("study_id")))


_RESOLVE = _resolve_statement()
_HISTORY = (sa.select(_REVISION.c.client_id, _REVISION.c.revision, _REVISION.c.action,
                      _REVISION.c.lesson_id, _REVISION.c.coder_id, _REVISION.c.content)
            .where(_REVISION.c.client_id == sa.bindparam("client_id"))
            .order_by(_REVISION.c.revision))


_ASSIGNED = (sa.select(CoderAssignment.id)
             .where(CoderAssignment.lesson_id == sa.bindparam("lesson_id"),
                    CoderAssignment.coder_id == sa.bindparam("coder_id")).exists().select())


def _not_yours(lesson_id: int) -> NotFoundError:
    return NotFoundError(f"no lesson {lesson_id} among the lessons you code; open a lesson "
                         "from your Lessons page")


def _may_write(db: Session, writer: Writer, lesson_id: int) -> bool:
    """Whether the writer may write to the lesson (a query for an ``assigned`` writer)."""
    if writer.assigned:
        return bool(db.connection().execute(_ASSIGNED, {"lesson_id": lesson_id,
                                                        "coder_id": writer.coder_id}).scalar())
    return writer.lessons is None or lesson_id in writer.lessons


def _resolve(db: Session, writer: Writer, content: dict[str, Any]) -> dict[str, Any]:
    """Database ids for the content's codes, checked against the lesson (one query)."""
    lesson_id = content["lesson_id"]
    if writer.lessons is not None and lesson_id not in writer.lessons:
        raise _not_yours(lesson_id)
    found = db.connection().execute(
        _RESOLVE, {"lesson_id": lesson_id, "study_id": writer.study_id,
                   "teacher": content["teacher"], "student": content["student"],
                   "video_file": content["video_file"], "coder_id": writer.coder_id}).first()
    if writer.assigned and (found is None or not found.assigned):
        raise _not_yours(lesson_id)
    if found is None:
        raise NotFoundError(f"no lesson {lesson_id}; open a lesson from your Lessons page")
    if found.teacher_id is None:
        raise DataError(f"teacher {content['teacher']!r} does not teach lesson {lesson_id}; use "
                        "one of the lesson's teachers")
    if content["student"] and found.student_id is None:
        raise DataError(f"student {content['student']!r} is not in the lesson's class in "
                        "its wave; pick a student from the lesson's list")
    if content["video_file"] is not None and found.video_file is None:
        raise DataError(f"video file {content['video_file']!r} is not one of lesson "
                        f"{lesson_id}'s videos; reload the coding page")
    return {"lesson_id": lesson_id, "video_seconds": content["video_seconds"],
            "frame": content["frame"], "teacher_id": found.teacher_id,
            "target_kind": content["target_kind"],
            "student_id": found.student_id if content["student"] else None,
            "valence": content["valence"], "subtype": content["subtype"],
            "codebook_id": content["codebook_id"], "source": content["source"]}


def _revisions(db: Session, client_id: str) -> list[sa.Row[Any]]:
    return list(db.connection().execute(_HISTORY, {"client_id": client_id}))


def _record(revision: Any, *, coder: str | None = None) -> dict[str, Any]:
    content = revision.content or {}
    return {"client_id": revision.client_id, "revision": revision.revision,
            "deleted": revision.action == "delete", "coder": coder,
            **{name: content.get(name) for name in EVENT_FIELDS},
            "lesson_id": revision.lesson_id}


def _same(stored: Any, action: str, content: dict[str, Any] | None, writer: Writer) -> bool:
    # a field a revision was stored without (an older classdyad) compares as missing (None)
    before = ({name: stored.content.get(name) for name in EVENT_FIELDS}
              if stored.content else None)
    return (stored.action == action and stored.coder_id == writer.coder_id
            and before == content)


def _insert_revision_statements() -> dict[str, Any]:
    from sqlalchemy.dialects import postgresql, sqlite

    columns = ("client_id", "revision", "action", "lesson_id", "coder_id", "actor", "content")
    values = {name: sa.bindparam(name, type_=_REVISION.c[name].type) for name in columns}
    return {name: dialect.insert(_REVISION).values(**values).on_conflict_do_nothing()
            .returning(_REVISION.c.id) for name, dialect in (("postgresql", postgresql),
                                                             ("sqlite", sqlite))}


_INSERT_REVISION = _insert_revision_statements()
_INSERT_EVENT = sa.insert(_EVENT)


def _insert_revision(db: Session, row: dict[str, Any]) -> bool:
    """Store a revision unless it is there (stored by a simultaneous request); whether it was
    stored. No savepoint: ``INSERT ... ON CONFLICT DO NOTHING``."""
    connection = db.connection()
    dialect = connection.dialect.name
    if dialect not in _INSERT_REVISION:  # pragma: no cover - the two engines classdyad runs on
        raise DataError(f"the {dialect} database is not supported; use SQLite or PostgreSQL")
    return connection.execute(_INSERT_REVISION[dialect], row).first() is not None


def _apply(db: Session, client_id: str, action: str, values: dict[str, Any] | None,
           writer: Writer) -> None:
    """Bring ``interaction_event`` to the new revision."""
    if action == "create":  # revision 1: there is no current version yet
        assert values is not None
        db.connection().execute(_INSERT_EVENT, {"client_id": client_id,
                                                "coder_id": writer.coder_id, **values})
        return
    if action == "delete":
        db.execute(sa.delete(_EVENT).where(_EVENT.c.client_id == client_id))
        return
    assert values is not None
    updated = db.execute(sa.update(_EVENT).where(_EVENT.c.client_id == client_id)
                         .values(**values)).rowcount
    if not updated:
        db.execute(sa.insert(_EVENT).values(client_id=client_id, coder_id=writer.coder_id,
                                            **values))


def _write(db: Session, writer: Writer, client_id: str, revision: int, action: str,
           content: dict[str, Any] | None) -> WriteResult:
    if not client_id or len(client_id) > 64:
        raise DataError(f"client id {client_id!r} must have 1 to 64 characters (a UUID)")
    if revision < 1:
        raise DataError(f"revision={revision} must be 1 (a new event) or more (an edit)")
    if action == "create" and revision > 1:
        action = "edit"
    history = _revisions(db, client_id)
    if history and writer.restricted and history[0].coder_id != writer.coder_id:
        raise NotFoundError(f"no event {client_id} among your events")
    stored = next((r for r in history if r.revision == revision), None)
    if stored is not None:
        if _same(stored, action, content, writer):
            return WriteResult("unchanged", _record(stored))
        raise IntegrityError(f"event {client_id} revision {revision} is stored with other "
                             "content; send a change as the next revision "
                             f"({history[-1].revision + 1})")
    expected = history[-1].revision + 1 if history else 1
    if revision != expected:
        raise IntegrityError(f"event {client_id}: revision {revision} cannot follow revision "
                             f"{expected - 1}; send revision {expected} first")
    if action == "delete" and not history:
        raise NotFoundError(f"no event {client_id} to delete")
    lesson_id = content["lesson_id"] if content is not None else history[-1].lesson_id
    if history and lesson_id != history[0].lesson_id:
        raise DataError(f"event {client_id} belongs to lesson {history[0].lesson_id}; an edit "
                        "cannot move it to another lesson")
    values = _resolve(db, writer, content) if content is not None else None
    if content is None and not _may_write(db, writer, lesson_id):
        raise NotFoundError(f"no event {client_id} among your events")
    result = _store(db, writer, client_id, revision, action, lesson_id, content, values)
    if result is None:
        # another request stored this revision at the same moment: compare with it
        return _write(db, writer, client_id, revision, action, content)
    return result


def _create(db: Session, writer: Writer, client_id: str, content: dict[str, Any]
            ) -> WriteResult | None:
    """Store revision 1 without reading the history first: resolve, insert the revision (the
    unique key finds a stored one), insert the event. ``None`` where :func:`_write` must answer
    (the revision is stored already, or the content does not resolve: :func:`_write` checks
    the history first, so a retry is answered as before whatever changed since)."""
    if not client_id or len(client_id) > 64:
        return None
    try:
        values = _resolve(db, writer, content)
    except (DataError, NotFoundError):
        return None
    return _store(db, writer, client_id, 1, "create", content["lesson_id"], content, values)


def _store(db: Session, writer: Writer, client_id: str, revision: int, action: str,
           lesson_id: int, content: dict[str, Any] | None, values: dict[str, Any] | None
           ) -> WriteResult | None:
    """Insert the revision (checked by the caller) and bring the event to it; ``None`` if the
    revision is stored already (by a retry's first send or a simultaneous request)."""
    row = {"client_id": client_id, "revision": revision, "action": action,
           "lesson_id": lesson_id, "coder_id": writer.coder_id, "actor": writer.actor,
           "content": content}
    if not _insert_revision(db, row):
        return None
    _apply(db, client_id, action, values, writer)
    if action != "create":
        db.add(AuditEntry(actor=writer.actor, action=action, entity="interaction_event",
                          count=1, detail={"client_id": client_id, "revision": revision,
                                           "lesson_id": lesson_id}))
    return WriteResult("created", _record(SimpleNamespace(**row)))


def put_event(db: Session, writer: Writer, client_id: str, content: dict[str, Any], *,
              revision: int = 1, commit: bool = True) -> WriteResult:
    """Store revision ``revision`` of event ``client_id`` (1: create; more: edit).

    Parameters
    ----------
    db
        A session; it is committed (unless ``commit`` is false: the caller's unit of work
        goes on).
    writer
        Who writes, and which lessons they may write to.
    client_id
        The event's id, made by the client (a UUID).
    content
        The fields of :data:`EVENT_FIELDS` (teacher and student by code).
    revision
        The revision number; the client counts them.

    Returns
    -------
    WriteResult
        ``"created"`` the first time, ``"unchanged"`` for an identical retry.

    Raises
    ------
    IntegrityError
        The revision is stored with other content, or a revision is missing before it.
    NotFoundError
        The lesson (or the event, for an edit) is not the writer's.
    DataError
        A teacher who does not teach the lesson, a student not in its class, a bad time.
    """
    canonical = _canonical(content)
    _check_content(canonical)
    result = _create(db, writer, client_id, canonical) if revision == 1 else None
    if result is None:
        result = _write(db, writer, client_id, revision, "create", canonical)
    if commit:
        db.commit()
    return result


def delete_event(db: Session, writer: Writer, client_id: str, *, revision: int
                 ) -> WriteResult:
    """Delete event ``client_id`` as revision ``revision`` (its earlier versions stay);
    committed."""
    result = _write(db, writer, client_id, revision, "delete", None)
    db.commit()
    return result


def lesson_events(db: Session, lesson_id: int, *, coder_id: int | None = None,
                  include_deleted: bool = False) -> list[dict[str, Any]]:
    """The newest revision of each event of a lesson, in time order.

    ``coder_id`` limits them to one coder's events (a coder sees only their own); deleted
    events are left out unless ``include_deleted``.
    """
    newest = (sa.select(EventRevision.client_id,
                        sa.func.max(EventRevision.revision).label("revision"))
              .where(EventRevision.lesson_id == lesson_id)
              .group_by(EventRevision.client_id).subquery())
    query = (sa.select(EventRevision, Coder.code)
             .join(newest, sa.and_(newest.c.client_id == EventRevision.client_id,
                                   newest.c.revision == EventRevision.revision))
             .outerjoin(Coder, Coder.id == EventRevision.coder_id))
    if coder_id is not None:
        query = query.where(EventRevision.coder_id == coder_id)
    records = [_record(row, coder=code) for row, code in db.execute(query)]
    if not include_deleted:
        records = [r for r in records if not r["deleted"]]
    return sorted(records, key=lambda r: (r["video_seconds"] is None, r["video_seconds"] or 0,
                                          r["client_id"]))


def mark_lesson_done(db: Session, writer: Writer, lesson_id: int) -> dict[str, Any]:
    """Record that the writer's coder finished the lesson (idempotent)."""
    import datetime as dt

    if writer.coder_id is None:
        raise DataError("only a coder account can mark a lesson done; log in as the coder")
    if writer.lessons is not None and lesson_id not in writer.lessons:
        raise NotFoundError(f"no lesson {lesson_id} among the lessons you code")
    row = db.get(LessonCoding, (lesson_id, writer.coder_id))
    if row is None:
        row = LessonCoding(lesson_id=lesson_id, coder_id=writer.coder_id)
        db.add(row)
    if row.done_at is None:
        row.done_at = dt.datetime.now(dt.UTC)
        db.add(AuditEntry(actor=writer.actor, action="done", entity="lesson_coding", count=1,
                          detail={"lesson_id": lesson_id}))
    db.commit()
    done_at = row.done_at
    if done_at.tzinfo is None:  # SQLite keeps no time zone; the time was written in UTC
        done_at = done_at.replace(tzinfo=dt.UTC)
    return {"lesson_id": lesson_id, "done_at": done_at}


def put_presence(db: Session, writer: Writer, client_id: str, content: dict[str, Any]
                 ) -> WriteResult:
    """Store a presence segment once (``"created"``, then ``"unchanged"`` for a retry).

    ``content``: ``lesson_id, student`` (code), ``start_seconds``, ``end_seconds`` (or
    ``None``), ``present``, ``visible``.
    """
    lesson_id = content["lesson_id"]
    if writer.lessons is not None and lesson_id not in writer.lessons:
        raise NotFoundError(f"no lesson {lesson_id} among the lessons you code")
    end = content.get("end_seconds")
    if content["start_seconds"] < 0 or (end is not None and end < content["start_seconds"]):
        raise DataError("a presence segment needs 0 <= start_seconds <= end_seconds")
    lesson = db.get(Lesson, lesson_id)
    if lesson is None:
        raise NotFoundError(f"no lesson {lesson_id}")
    student_id = db.scalar(sa.select(Student.id)
                           .join(Enrolment, Enrolment.student_id == Student.id)
                           .where(Student.code == content["student"],
                                  Student.study_id == writer.study_id,
                                  Enrolment.classroom_id == lesson.classroom_id,
                                  Enrolment.wave_id == lesson.wave_id))
    if student_id is None:
        raise DataError(f"student {content['student']!r} is not in the lesson's class")
    values = {"lesson_id": lesson_id, "student_id": student_id,
              "start_seconds": float(content["start_seconds"]),
              "end_seconds": None if end is None else float(end),
              "present": bool(content["present"]), "visible": bool(content["visible"])}
    record = {**values, "client_id": client_id, "student": content["student"]}
    record.pop("student_id")
    stored = db.scalar(sa.select(PresenceSegment).where(PresenceSegment.client_id == client_id))
    if stored is None:
        try:
            with db.begin_nested():
                db.add(PresenceSegment(client_id=client_id, coder_id=writer.coder_id, **values))
                db.flush()
            db.commit()
            return WriteResult("created", record)
        except sa_exc.IntegrityError:
            db.rollback()
            stored = db.scalar(sa.select(PresenceSegment)
                               .where(PresenceSegment.client_id == client_id))
    assert stored is not None
    if all(getattr(stored, k) == v for k, v in values.items()) \
            and stored.coder_id == writer.coder_id:
        return WriteResult("unchanged", record)
    raise IntegrityError(f"presence segment {client_id} is stored with other content; a new "
                         "segment needs a new id")
