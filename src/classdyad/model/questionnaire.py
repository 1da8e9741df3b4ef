"""Questionnaire instruments and responses, and teachers' implicit association tests.

An :class:`Instrument` row records which instrument definition (YAML, see
:mod:`classdyad.measures`) a response was given on; a :class:`QuestionnaireResponse` is one
informant's answers about one teacher-student dyad in one wave, with one :class:`ResponseItem` per
item (``value`` ``None`` when the item was skipped). An :class:`IatSession` holds one teacher's raw
IAT trials, scored later to a D score.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from classdyad.model.base import Base
from classdyad.model.enums import Informant, sql_in


class Instrument(Base):
    """A questionnaire definition used in a study (its YAML text kept for reproducibility)."""

    __tablename__ = "instrument"
    __table_args__ = (
        UniqueConstraint("study_id", "code", "version"),
        CheckConstraint(f"informant IN {sql_in(Informant)}", name="informant_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(50))
    version: Mapped[str] = mapped_column(String(20))
    informant: Mapped[str] = mapped_column(String(10))
    definition: Mapped[str | None] = mapped_column(Text)


class QuestionnaireResponse(Base):
    """One informant's answers about one teacher-student dyad in one wave."""

    __tablename__ = "questionnaire_response"
    __table_args__ = (UniqueConstraint("instrument_id", "wave_id", "teacher_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id", ondelete="CASCADE"))
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(
        ForeignKey("student.id", ondelete="CASCADE"), index=True
    )
    answered_on: Mapped[dt.date | None] = mapped_column(Date)

    items: Mapped[list[ResponseItem]] = relationship(cascade="all, delete-orphan")


class ResponseItem(Base):
    """The answer to one item; ``value`` is ``None`` for a skipped item."""

    __tablename__ = "response_item"

    response_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire_response.id", ondelete="CASCADE"), primary_key=True
    )
    item: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)


class IatSession(Base):
    """One teacher's Implicit Association Test (e.g. kind ``ethnicity`` or ``ses``)."""

    __tablename__ = "iat_session"
    __table_args__ = (UniqueConstraint("teacher_id", "kind", "wave_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("teacher.id", ondelete="CASCADE"), index=True
    )
    wave_id: Mapped[int | None] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(50))
    administered_on: Mapped[dt.date | None] = mapped_column(Date)
    compatible_first: Mapped[bool | None] = mapped_column(Boolean)

    trials: Mapped[list[IatTrial]] = relationship(cascade="all, delete-orphan")


class IatTrial(Base):
    """One IAT trial: block (1-7), trial number, latency in ms and error flag."""

    __tablename__ = "iat_trial"
    __table_args__ = (
        CheckConstraint("latency_ms >= 0", name="latency_nonnegative"),
        CheckConstraint("block BETWEEN 1 AND 7", name="block_in_range"),
    )

    session_id: Mapped[int] = mapped_column(
        ForeignKey("iat_session.id", ondelete="CASCADE"), primary_key=True
    )
    block: Mapped[int] = mapped_column(Integer, primary_key=True)
    trial: Mapped[int] = mapped_column(Integer, primary_key=True)
    stimulus: Mapped[str | None] = mapped_column(String(100))
    latency_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[bool] = mapped_column(Boolean)
    corrected_latency_ms: Mapped[float | None] = mapped_column(Float)
