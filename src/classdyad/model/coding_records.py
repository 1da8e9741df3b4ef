"""What coding in the web application leaves behind besides the events themselves.

- :class:`EventRevision`: every version of every coded event, as it was sent (the first one, each
  edit, each delete). :class:`~classdyad.model.InteractionEvent` holds only the current version,
  which is what the analysis reads; nothing a coder ever sent is lost.
- :class:`LessonCoding`: a coder's progress on a lesson (marked done, and when).
- :class:`PresenceSegment`: from when to when a student was present and visible in a lesson (the
  exposure that interaction rates divide by), as marked by a coder or an observer.
- :class:`Adjudication`: how a disagreement between two coders of a lesson was settled.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from classdyad.model.base import Base

REVISION_ACTIONS = ("create", "edit", "delete")
"""What a revision of an event does: the first version, a changed version, or its removal."""

ADJUDICATION_DECISIONS = ("keep_a", "keep_b", "edit", "add", "drop")
"""How an adjudicator settles a disagreement: keep one coder's version, write an edited one, add
an event both coders missed, or decide there was no interaction."""


class EventRevision(Base):
    """One version of a coded event (revision 1 creates it; later ones edit or delete it)."""

    __tablename__ = "event_revision"
    __table_args__ = (
        UniqueConstraint("client_id", "revision"),
        CheckConstraint("action IN ('create', 'edit', 'delete')", name="action_known"),
        CheckConstraint("revision >= 1", name="revision_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"),
                                           index=True)
    coder_id: Mapped[int | None] = mapped_column(ForeignKey("coder.id", ondelete="SET NULL"),
                                                 index=True)
    actor: Mapped[str] = mapped_column(String(100))
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The event as sent (codes, not ids); empty for a delete."""
    at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp())


class LessonCoding(Base):
    """A coder's progress on a lesson: done when the coder has marked it so."""

    __tablename__ = "lesson_coding"

    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"),
                                           primary_key=True)
    coder_id: Mapped[int] = mapped_column(ForeignKey("coder.id", ondelete="CASCADE"),
                                          primary_key=True, index=True)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class PresenceSegment(Base):
    """From ``start_seconds`` to ``end_seconds`` (empty: the end of the lesson) a student was
    present (in the room) and visible (on the video) or not."""

    __tablename__ = "presence_segment"
    __table_args__ = (
        CheckConstraint("start_seconds >= 0", name="start_nonnegative"),
        CheckConstraint("end_seconds IS NULL OR end_seconds >= start_seconds",
                        name="end_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"),
                                           index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"),
                                            index=True)
    coder_id: Mapped[int | None] = mapped_column(ForeignKey("coder.id", ondelete="SET NULL"))
    start_seconds: Mapped[float] = mapped_column(Float)
    end_seconds: Mapped[float | None] = mapped_column(Float)
    present: Mapped[bool] = mapped_column(Boolean)
    visible: Mapped[bool] = mapped_column(Boolean)


class Adjudication(Base):
    """How one disagreement of two coders in a lesson was settled (both originals stay)."""

    __tablename__ = "adjudication"
    __table_args__ = (
        UniqueConstraint("lesson_id", "unit"),
        CheckConstraint("decision IN ('keep_a', 'keep_b', 'edit', 'add', 'drop')",
                        name="decision_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"),
                                           index=True)
    unit: Mapped[str] = mapped_column(String(200))
    """The disagreement: the two coders' event ids joined by ``|`` (one side may be empty)."""
    decision: Mapped[str] = mapped_column(String(10))
    event_client_id: Mapped[str | None] = mapped_column(String(64))
    """The adjudicated event written for the decision (none for ``drop``)."""
    adjudicator: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp())
