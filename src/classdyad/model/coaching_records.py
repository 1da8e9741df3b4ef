"""The coaching cycle: a teacher's goals for the next wave, reflections, and invited coaches.

- :class:`CoachingGoal`: a goal a teacher (or an invited coach) sets for one class and one wave,
  for example fewer negative interactions with chosen students (by pseudonymous code) or more
  positive interactions with the whole class; the next wave's feedback shows progress on it.
- :class:`CoachingNote`: a reflection or note written by the teacher or a coach, on a goal or on
  the cycle in general.
- :class:`CoachInvitation`: a teacher invites an existing account as coach; revoking it ends the
  coach's access.

Goals and notes are private to the teacher and the coaches the teacher invited: not researchers,
not admins (:mod:`classdyad.services.coaching` holds the rules). They are no part of the study's
data: neither :class:`~classdyad.model.StudyTables` nor any export holds them.
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
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from classdyad.model.base import Base

GOAL_KINDS = ("fewer_negative", "more_positive")
"""What a goal aims at: fewer negative, or more positive, interactions (with the chosen
students, or with the class as a whole when none are chosen)."""


class CoachingGoal(Base):
    """A teacher's goal for one class and one wave (the wave whose feedback shows progress)."""

    __tablename__ = "coaching_goal"
    __table_args__ = (
        CheckConstraint("kind IN ('fewer_negative', 'more_positive')", name="kind_known"),
        CheckConstraint("target IS NULL OR target > 0", name="target_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id", ondelete="CASCADE"),
                                            index=True)
    classroom_id: Mapped[int] = mapped_column(ForeignKey("classroom.id", ondelete="CASCADE"))
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"))
    """The wave the goal is for: its feedback shows the progress since the wave before."""
    kind: Mapped[str] = mapped_column(String(20))
    students: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """The chosen students' pseudonymous codes; empty: the class as a whole."""
    target: Mapped[float | None] = mapped_column(Float)
    """The rate ratio aimed at (0.8: a fifth fewer; 1.25: a quarter more), or none."""
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp())


class CoachingNote(Base):
    """A reflection or note in a teacher's coaching space, on a goal or in general."""

    __tablename__ = "coaching_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id", ondelete="CASCADE"),
                                            index=True)
    goal_id: Mapped[int | None] = mapped_column(
        ForeignKey("coaching_goal.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp())
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class CoachInvitation(Base):
    """A teacher's invitation of an account as coach; ``revoked_at`` set ends it."""

    __tablename__ = "coach_invitation"
    __table_args__ = (UniqueConstraint("teacher_id", "coach_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id", ondelete="CASCADE"),
                                            index=True)
    coach_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                          index=True)
    invited_by: Mapped[str] = mapped_column(String(100))
    invited_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
