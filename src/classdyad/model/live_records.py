"""What live observation in class leaves behind besides the events themselves.

- :class:`SeatingChart`: where the students of a class sit in a wave, on a grid of desks; the
  observer taps a desk to code an interaction with that student. One chart per class per wave,
  copied forward from the previous wave when a wave has none yet.
- :class:`LiveSession`: an observer's lesson clock (running, paused, ended; seconds observed) and
  the sampling method of the observation (continuous recording, or interval / scan sampling with
  a prompt every N seconds: data sampled differently are not comparable).

The students' presence during a live lesson is stored as
:class:`~classdyad.model.PresenceSegment` rows, as in video coding; when the observer ends the
lesson, the lesson's observed minutes and each student's minutes present are written to
:class:`~classdyad.model.Lesson` and :class:`~classdyad.model.LessonAttendance`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
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

SAMPLING_METHODS = ("continuous", "interval", "scan")
"""How a live observation samples behaviour: every interaction as it happens (continuous), or
in intervals / scans prompted every ``interval_seconds``."""

CLOCK_STATES = ("running", "paused", "ended")
"""The states of a live lesson clock."""


class SeatingChart(Base):
    """The desks of a class in a wave: a grid of ``rows`` x ``columns`` and who sits where."""

    __tablename__ = "seating_chart"
    __table_args__ = (
        UniqueConstraint("classroom_id", "wave_id"),
        CheckConstraint("rows BETWEEN 1 AND 20 AND columns BETWEEN 1 AND 20",
                        name="grid_size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    classroom_id: Mapped[int] = mapped_column(ForeignKey("classroom.id", ondelete="CASCADE"),
                                              index=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"))
    rows: Mapped[int] = mapped_column(Integer)
    columns: Mapped[int] = mapped_column(Integer)
    seats: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """``[{"student_id", "row", "column"}, ...]`` (rows and columns from 0)."""
    copied_from_wave_id: Mapped[int | None] = mapped_column(
        ForeignKey("wave.id", ondelete="SET NULL"))
    """The wave whose chart this one started as a copy of (empty: drawn for this wave)."""
    updated_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp())


class LiveSession(Base):
    """One observer's live observation of a lesson: the clock and the sampling method."""

    __tablename__ = "live_session"
    __table_args__ = (
        UniqueConstraint("lesson_id", "observer"),
        CheckConstraint("sampling_method IN ('continuous', 'interval', 'scan')",
                        name="sampling_method_known"),
        CheckConstraint("state IN ('running', 'paused', 'ended')", name="state_known"),
        CheckConstraint("clock_seconds >= 0", name="clock_nonnegative"),
        CheckConstraint("interval_seconds IS NULL OR interval_seconds > 0",
                        name="interval_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"),
                                           index=True)
    observer: Mapped[str] = mapped_column(String(100))
    """The account that observed (its username)."""
    coder_id: Mapped[int | None] = mapped_column(ForeignKey("coder.id", ondelete="SET NULL"))
    sampling_method: Mapped[str] = mapped_column(String(12))
    interval_seconds: Mapped[float | None] = mapped_column(Float)
    """Seconds between prompts (interval and scan sampling; empty for continuous)."""
    state: Mapped[str] = mapped_column(String(10))
    clock_seconds: Mapped[float] = mapped_column(Float)
    """Seconds on the lesson clock when the state was last sent (the observed time)."""
    updated_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp())
