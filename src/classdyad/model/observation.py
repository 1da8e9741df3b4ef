"""Observed lessons and the interactions coded in them, with versioned codebooks and coders.

A :class:`Lesson` is one observed (filmed or live-coded) lesson of a class in a wave, with its
observed duration and which students were present and visible. An :class:`InteractionEvent` is one
coded teacher-student interaction: when in the video, which teacher, at whom (one student, a group,
or the whole class), its valence and subtype, by which coder under which codebook version, and a
client-generated id that makes every upload idempotent.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from classdyad.model.base import Base
from classdyad.model.enums import EventChange, LessonStatus, TargetKind, Valence, sql_in


class Lesson(Base):
    """One observed lesson of a class in a wave."""

    __tablename__ = "lesson"
    __table_args__ = (
        CheckConstraint("observed_minutes > 0", name="observed_minutes_positive"),
        CheckConstraint(f"coding_status IN {sql_in(LessonStatus)}", name="coding_status_known"),
        UniqueConstraint("classroom_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    classroom_id: Mapped[int] = mapped_column(
        ForeignKey("classroom.id", ondelete="CASCADE"), index=True
    )
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"), index=True)
    date: Mapped[dt.date | None] = mapped_column(Date)
    subject: Mapped[str | None] = mapped_column(String(100))
    observed_minutes: Mapped[float] = mapped_column(Float)
    video_files: Mapped[str | None] = mapped_column(String(2000))
    """Video file names, separated by ``;``, in playing order."""
    code: Mapped[str | None] = mapped_column(String(50))
    """The study's own name for the lesson (e.g. ``5A-w1-math``), by which files refer to it."""
    coding_status: Mapped[str] = mapped_column(
        String(20), server_default=LessonStatus.NOT_CODED.value)
    """How far coding has come (:class:`~classdyad.model.enums.LessonStatus`)."""

    teachers: Mapped[list[LessonTeacher]] = relationship(cascade="all, delete-orphan")


class LessonTeacher(Base):
    """A teacher teaching an observed lesson (two in a duo or co-taught lesson)."""

    __tablename__ = "lesson_teacher"

    lesson_id: Mapped[int] = mapped_column(
        ForeignKey("lesson.id", ondelete="CASCADE"), primary_key=True
    )
    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("teacher.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class LessonAttendance(Base):
    """Whether an enrolled student was present in a lesson, and visible on the video."""

    __tablename__ = "lesson_attendance"

    lesson_id: Mapped[int] = mapped_column(
        ForeignKey("lesson.id", ondelete="CASCADE"), primary_key=True
    )
    student_id: Mapped[int] = mapped_column(
        ForeignKey("student.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    present: Mapped[bool] = mapped_column(Boolean)
    visible: Mapped[bool] = mapped_column(Boolean)
    minutes_present: Mapped[float | None] = mapped_column(Float)
    """Minutes the student was present and in view, from a live session's presence marks
    (empty: the whole observed lesson when ``present``)."""


class Codebook(Base):
    """A versioned coding scheme. A new version is a new row: coded events are never rewritten."""

    __tablename__ = "codebook"
    __table_args__ = (UniqueConstraint("study_id", "name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(String(2000))

    categories: Mapped[list[CodebookCategory]] = relationship(
        back_populates="codebook", cascade="all, delete-orphan"
    )


class CodebookCategory(Base):
    """A subtype of interaction in a codebook, with its valence and keyboard shortcut."""

    __tablename__ = "codebook_category"
    __table_args__ = (
        UniqueConstraint("codebook_id", "subtype"),
        UniqueConstraint("codebook_id", "hotkey"),
        CheckConstraint(f"valence IN {sql_in(Valence)}", name="valence_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    codebook_id: Mapped[int] = mapped_column(ForeignKey("codebook.id", ondelete="CASCADE"))
    subtype: Mapped[str] = mapped_column(String(50))
    valence: Mapped[str] = mapped_column(String(10))
    hotkey: Mapped[str | None] = mapped_column(String(10))
    label: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))

    codebook: Mapped[Codebook] = relationship(back_populates="categories")


class Coder(Base):
    """A person who codes interactions (a research assistant), known by a code."""

    __tablename__ = "coder"
    __table_args__ = (UniqueConstraint("study_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(50))
    reaction_offset_seconds: Mapped[float | None] = mapped_column(Float)
    """Subtracted from the video time of each key press in the coding page (reaction time)."""
    master: Mapped[bool | None] = mapped_column(Boolean)
    """A master coder, whose codings other coders are calibrated against."""


class InteractionEvent(Base):
    """One coded teacher-student interaction.

    The database itself rejects an unknown valence or target kind, a negative video time, a
    student target without a student (or a group/class target with one) and a duplicate
    ``client_id``; the data-access layer (:mod:`classdyad.store.events`) also rejects a student who
    is not enrolled in the lesson's class in the lesson's wave, and a teacher who does not teach
    the lesson.
    """

    __tablename__ = "interaction_event"
    __table_args__ = (
        CheckConstraint(f"valence IN {sql_in(Valence)}", name="valence_known"),
        CheckConstraint(f"target_kind IN {sql_in(TargetKind)}", name="target_kind_known"),
        CheckConstraint("video_seconds >= 0", name="video_seconds_nonnegative"),
        CheckConstraint(
            "(target_kind = 'student' AND student_id IS NOT NULL) OR "
            "(target_kind <> 'student' AND student_id IS NULL)",
            name="student_target_consistent",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"), index=True)
    video_seconds: Mapped[float] = mapped_column(Float)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id"), index=True)
    target_kind: Mapped[str] = mapped_column(String(10))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("student.id"), index=True)
    valence: Mapped[str] = mapped_column(String(10))
    subtype: Mapped[str | None] = mapped_column(String(50))
    codebook_id: Mapped[int | None] = mapped_column(ForeignKey("codebook.id"))
    coder_id: Mapped[int | None] = mapped_column(ForeignKey("coder.id"), index=True)
    coded_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )
    group_size: Mapped[int | None] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer, server_default="1")
    """1 when first coded; each update adds one (the earlier states are kept as
    :class:`InteractionEventRevision` rows)."""
    voided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """When the event was voided (withdrawn); a voided event is kept but never analysed."""

    frame: Mapped[int | None] = mapped_column(Integer)
    """Index of the video frame on screen when the event was coded (0-based)."""
    source: Mapped[str | None] = mapped_column(String(20))
    """How the event was made: ``video``, ``live``, ``import`` or ``adjudication``."""
    superseded: Mapped[bool | None] = mapped_column(Boolean)
    """An adjudicator settled the disagreement this event was part of; the analysis counts the
    adjudicated event instead (this one is kept as it was coded)."""

class InteractionEventRevision(Base):
    """An earlier state of a coded event, kept when the event is updated or voided.

    Each row holds the event's values as they were *before* the change ``action`` made by
    ``changed_by`` at ``changed_at``; together with the event's current row the revisions give
    its whole history.
    """

    __tablename__ = "interaction_event_revision"
    __table_args__ = (
        UniqueConstraint("event_id", "revision"),
        CheckConstraint(f"action IN {sql_in(EventChange)}", name="action_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("interaction_event.id", ondelete="CASCADE"), index=True
    )
    revision: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )
    video_seconds: Mapped[float] = mapped_column(Float)
    teacher_id: Mapped[int] = mapped_column(Integer)
    target_kind: Mapped[str] = mapped_column(String(10))
    student_id: Mapped[int | None] = mapped_column(Integer)
    valence: Mapped[str] = mapped_column(String(10))
    subtype: Mapped[str | None] = mapped_column(String(50))
    codebook_id: Mapped[int | None] = mapped_column(Integer)
    coder_id: Mapped[int | None] = mapped_column(Integer)
