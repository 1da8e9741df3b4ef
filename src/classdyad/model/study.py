"""The study's structure: study, waves, schools, classrooms, teachers, students and enrolments.

Students and teachers are known by pseudonymous codes. Names live only in :class:`StudentRoster`
(DESIGN.md, privacy), which every export leaves out by default. A student's background is stored
raw (countries of birth, parents' education); groups such as low SES or a Turkish background are
derived by rule (:mod:`classdyad.model.background`) and never typed in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from classdyad.model.base import Base
from classdyad.model.enums import Gender, sql_in


class Study(Base):
    """A research project: its schools, waves, codebooks and instruments."""

    __tablename__ = "study"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(String(2000))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Study options, e.g. ``min_cell_size`` (5), ``ses_rule`` ("pupil_weight")."""

    waves: Mapped[list[Wave]] = relationship(back_populates="study", order_by="Wave.number")
    schools: Mapped[list[School]] = relationship(back_populates="study")


class Wave(Base):
    """A measurement moment (1, 2, 3, ...) with its date range."""

    __tablename__ = "wave"
    __table_args__ = (
        UniqueConstraint("study_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="dates_ordered"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)

    study: Mapped[Study] = relationship(back_populates="waves")


class School(Base):
    """A school taking part in a study."""

    __tablename__ = "school"
    __table_args__ = (UniqueConstraint("study_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(50))
    country: Mapped[str | None] = mapped_column(String(2))
    """ISO 3166 alpha-2 code of the school's country (NL, BE)."""

    study: Mapped[Study] = relationship(back_populates="schools")
    classrooms: Mapped[list[Classroom]] = relationship(back_populates="school")


class Classroom(Base):
    """A class; grades may be combined (Dutch *groep 6/7*): lowest to highest grade."""

    __tablename__ = "classroom"
    __table_args__ = (
        UniqueConstraint("school_id", "code"),
        CheckConstraint(
            "lowest_grade BETWEEN 1 AND 8 AND highest_grade BETWEEN 1 AND 8", name="grades_in_range"
        ),
        CheckConstraint("lowest_grade <= highest_grade", name="grades_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(50))
    lowest_grade: Mapped[int] = mapped_column(Integer)
    """Dutch *groep* numbering (1-8); groep 6-8 are grades 4-6."""
    highest_grade: Mapped[int] = mapped_column(Integer)

    school: Mapped[School] = relationship(back_populates="classrooms")
    teachers: Mapped[list[ClassroomTeacher]] = relationship(back_populates="classroom")


class Teacher(Base):
    """A teacher, known by a pseudonymous code."""

    __tablename__ = "teacher"
    __table_args__ = (
        UniqueConstraint("study_id", "code"),
        CheckConstraint(f"gender IS NULL OR gender IN {sql_in(Gender)}", name="gender_known"),
        CheckConstraint(
            "years_experience IS NULL OR years_experience >= 0", name="experience_nonnegative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(50))
    gender: Mapped[str | None] = mapped_column(String(10))
    years_experience: Mapped[int | None] = mapped_column(Integer)


class ClassroomTeacher(Base):
    """A teacher teaching a class; a class may have two (Dutch *duobaan*)."""

    __tablename__ = "classroom_teacher"

    classroom_id: Mapped[int] = mapped_column(
        ForeignKey("classroom.id", ondelete="CASCADE"), primary_key=True
    )
    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("teacher.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    primary: Mapped[bool] = mapped_column(Boolean, default=True)
    """The class's own teacher (*groepsleerkracht*), who rates the students in questionnaires;
    a duo partner who teaches some lessons is not primary."""

    classroom: Mapped[Classroom] = relationship(back_populates="teachers")


class Student(Base):
    """A student, known by a pseudonymous code, with raw background information.

    Countries are stored as ISO 3166 alpha-2 codes (normalized on entry), education levels as
    :class:`classdyad.model.background.EducationLevel` values; ``None`` means unknown.
    """

    __tablename__ = "student"
    __table_args__ = (
        UniqueConstraint("study_id", "code"),
        CheckConstraint(f"gender IS NULL OR gender IN {sql_in(Gender)}", name="gender_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(50))
    gender: Mapped[str | None] = mapped_column(String(10))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    birth_country: Mapped[str | None] = mapped_column(String(3))
    mother_birth_country: Mapped[str | None] = mapped_column(String(3))
    father_birth_country: Mapped[str | None] = mapped_column(String(3))
    mother_education: Mapped[str | None] = mapped_column(String(40))
    father_education: Mapped[str | None] = mapped_column(String(40))


class StudentRoster(Base):
    """The only place students' names are kept; left out of every export by default."""

    __tablename__ = "student_roster"

    student_id: Mapped[int] = mapped_column(
        ForeignKey("student.id", ondelete="CASCADE"), primary_key=True
    )
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))


class Enrolment(Base):
    """A student in a class during one wave (students join and leave during the year)."""

    __tablename__ = "enrolment"
    __table_args__ = (
        UniqueConstraint("student_id", "wave_id"),
        CheckConstraint("grade BETWEEN 1 AND 8", name="grade_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    classroom_id: Mapped[int] = mapped_column(
        ForeignKey("classroom.id", ondelete="CASCADE"), index=True
    )
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"), index=True)
    grade: Mapped[int] = mapped_column(Integer)
