"""Accounts of the web application, their login sessions, coder assignments and video files.

A :class:`UserAccount` has one role (DESIGN.md, privacy: admin, researcher, coder, teacher); a
teacher account is bound to one teacher of a study and a coder account to one coder, which is how
the web application knows whose classes and lessons they may see. Passwords are stored only as
argon2id hashes; login sessions only as a hash of the session token.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
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
from classdyad.model.enums import Role, sql_in

ASSIGNMENT_ROLES = ("primary", "second")
"""A lesson's primary coder, and the second coder who codes it again for reliability (blind)."""


class UserAccount(Base):
    """A person who logs in to the web application, with one role."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(f"role IN {sql_in(Role)}", name="role_known"),
        CheckConstraint("role <> 'teacher' OR teacher_id IS NOT NULL", name="teacher_bound"),
        CheckConstraint("role <> 'coder' OR coder_id IS NOT NULL", name="coder_bound"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    teacher_id: Mapped[int | None] = mapped_column(
        ForeignKey("teacher.id", ondelete="CASCADE"), index=True)
    coder_id: Mapped[int | None] = mapped_column(
        ForeignKey("coder.id", ondelete="CASCADE"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp())


class LoginSession(Base):
    """A logged-in browser: the hash of its session token, its CSRF token and its expiry."""

    __tablename__ = "login_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class CoderAssignment(Base):
    """A lesson given to a coder to code, as its primary coder or as the (blind) second coder."""

    __tablename__ = "coder_assignment"
    __table_args__ = (
        UniqueConstraint("lesson_id", "coder_id"),
        UniqueConstraint("lesson_id", "role"),
        CheckConstraint("role IN ('primary', 'second')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"),
                                           index=True)
    coder_id: Mapped[int] = mapped_column(ForeignKey("coder.id", ondelete="CASCADE"),
                                          index=True)
    role: Mapped[str] = mapped_column(String(10))
    assigned_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp())


class VideoFile(Base):
    """A lesson's video file on the server, with what ffprobe read from it."""

    __tablename__ = "video_file"
    __table_args__ = (
        UniqueConstraint("lesson_id", "position"),
        CheckConstraint("duration_seconds IS NULL OR duration_seconds >= 0",
                        name="duration_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"),
                                           index=True)
    position: Mapped[int] = mapped_column(Integer)
    """Playing order within the lesson (1, 2, ...)."""
    path: Mapped[str] = mapped_column(String(1000))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    frame_rate: Mapped[float | None] = mapped_column(Float)
    codec: Mapped[str | None] = mapped_column(String(50))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    registered_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp())
