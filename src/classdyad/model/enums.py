"""Enumerations of the domain: valence, interaction targets, informants, roles."""

from __future__ import annotations

from enum import StrEnum


class Valence(StrEnum):
    """The valence of a coded teacher-student interaction."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"


class TargetKind(StrEnum):
    """Whom a teacher's interaction is directed at: one student, a group, or the whole class."""

    STUDENT = "student"
    GROUP = "group"
    CLASS = "class"


class Informant(StrEnum):
    """Who answers a questionnaire: a teacher about a student, or a student about the teacher."""

    TEACHER = "teacher"
    STUDENT = "student"


class LessonStatus(StrEnum):
    """How far the coding of an observed lesson has come."""

    NOT_CODED = "not_coded"
    CODING = "coding"
    CODED = "coded"
    CHECKED = "checked"


class EventChange(StrEnum):
    """What a revision of a coded interaction event records: an update or a void."""

    UPDATE = "update"
    VOID = "void"


class Gender(StrEnum):
    """A student's or teacher's gender as recorded by the school."""

    GIRL = "girl"
    BOY = "boy"
    OTHER = "other"


class Role(StrEnum):
    """Access roles (DESIGN.md, privacy)."""

    ADMIN = "admin"
    RESEARCHER = "researcher"
    CODER = "coder"
    TEACHER = "teacher"
    COACH = "coach"
    """Sees only the feedback dashboards and coaching spaces of teachers who invited them."""


def sql_in(values: type[StrEnum]) -> str:
    """Return ``"('a', 'b')"`` for a CHECK constraint listing an enum's values."""
    return "(" + ", ".join(f"'{v.value}'" for v in values) + ")"
