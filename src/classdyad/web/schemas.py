"""Request and response bodies of the JSON API: separate create, update and public schemas."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RoleName = Literal["admin", "researcher", "coder", "teacher", "coach"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# accounts ---------------------------------------------------------------------------------------
class LoginRequest(_In):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class LoginResponse(BaseModel):
    csrf_token: str
    username: str
    role: RoleName


class MePublic(BaseModel):
    username: str
    role: RoleName
    teacher: str | None = None
    coder: str | None = None


class PasswordChange(_In):
    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=1, max_length=1000)


class PasswordReset(_In):
    new_password: str = Field(min_length=1, max_length=1000)


class UserCreate(_In):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)
    role: RoleName
    teacher: str | None = None
    coder: str | None = None


class UserUpdate(_In):
    active: bool


class UserPublic(BaseModel):
    id: int
    username: str
    role: RoleName
    teacher: str | None = None
    coder: str | None = None
    active: bool


# study ------------------------------------------------------------------------------------------
class StudyOverview(BaseModel):
    study: str
    description: str | None = None
    counts: dict[str, Any]


class SettingsPublic(BaseModel):
    min_cell_size: int
    coders_see_first_names: bool
    teachers_see_background_groups: bool
    teachers_see_own_videos: bool


class SettingsUpdate(_In):
    min_cell_size: int | None = Field(default=None, ge=1, le=100)
    coders_see_first_names: bool | None = None
    teachers_see_background_groups: bool | None = None
    teachers_see_own_videos: bool | None = None


class ClassroomPublic(BaseModel):
    code: str
    school: str
    lowest_grade: int
    highest_grade: int
    teachers: list[str]


class GroupCell(BaseModel):
    """One group of a class: its number of students, or nothing where it is suppressed."""

    group: str | None
    students: int | None
    suppressed: bool


class TeacherPublic(BaseModel):
    code: str
    gender: str | None = None
    years_experience: int | None = None
    classrooms: list[str]


class StudentPublic(BaseModel):
    """A student as a role may see them: fields a role may not see are absent, not empty."""

    code: str
    classrooms: dict[str, str] = Field(description="class code per wave number")
    first_name: str | None = None
    last_name: str | None = None
    gender: str | None = None
    birth_year: int | None = None
    birth_country: str | None = None
    mother_birth_country: str | None = None
    father_birth_country: str | None = None
    mother_education: str | None = None
    father_education: str | None = None
    migration_background: str | None = None
    migration_generation: str | None = None
    non_western: bool | None = None
    turkish_moroccan: bool | None = None
    origin_2022: str | None = None
    pupil_weight: float | None = None
    low_ses: bool | None = None


# lessons and videos -----------------------------------------------------------------------------
class VideoPublic(BaseModel):
    id: int
    position: int
    duration_seconds: float | None = None
    frame_rate: float | None = None
    codec: str | None = None
    width: int | None = None
    height: int | None = None


class AssignmentBrief(BaseModel):
    coder: str
    role: Literal["primary", "second"]


class LessonPublic(BaseModel):
    id: int
    classroom: str
    wave: int
    date: dt.date | None = None
    subject: str | None = None
    observed_minutes: float
    teachers: list[str]
    assignments: list[AssignmentBrief]
    videos: list[VideoPublic]


class LessonCreate(_In):
    classroom: str = Field(min_length=1, max_length=50)
    wave: int = Field(ge=1)
    observed_minutes: float = Field(gt=0, le=24 * 60)
    teachers: list[str] = Field(min_length=1)
    date: dt.date | None = None
    subject: str | None = Field(default=None, max_length=100)


class LessonUpdate(_In):
    observed_minutes: float | None = Field(default=None, gt=0, le=24 * 60)
    teachers: list[str] | None = Field(default=None, min_length=1)
    date: dt.date | None = None
    subject: str | None = Field(default=None, max_length=100)


class VideoRegister(_In):
    path: str = Field(min_length=1, max_length=1000,
                      description="a file in the server's media folder (relative or absolute)")


# codebooks, coders, assignments -----------------------------------------------------------------
class CategoryIn(_In):
    subtype: str = Field(min_length=1, max_length=50)
    valence: Literal["positive", "negative", "neutral"]
    hotkey: str | None = Field(default=None, max_length=10)
    label: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class CodebookCreate(_In):
    """A codebook version: a new name starts at version 1, a known name gets the next version."""

    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    categories: list[CategoryIn] = Field(min_length=1)


class CategoryPublic(BaseModel):
    subtype: str
    valence: str
    hotkey: str | None = None
    label: str | None = None
    description: str | None = None


class CodebookPublic(BaseModel):
    id: int
    name: str
    version: str
    description: str | None = None
    categories: list[CategoryPublic]
    events: int = Field(description="events coded with this version")


class CoderCreate(_In):
    code: str = Field(min_length=1, max_length=50)


class CoderPublic(BaseModel):
    code: str
    assignments: int


class AssignmentCreate(_In):
    lesson_id: int
    coder: str = Field(min_length=1, max_length=50)
    role: Literal["primary", "second"]


class AssignmentPublic(BaseModel):
    id: int
    lesson_id: int
    coder: str
    role: Literal["primary", "second"]


# audit, imports ---------------------------------------------------------------------------------
class AuditPublic(BaseModel):
    id: int
    at: dt.datetime | None
    actor: str
    action: str
    entity: str
    count: int | None = None
    detail: dict[str, Any] | None = None


class ProblemPublic(BaseModel):
    source: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    message: str


class ImportResult(BaseModel):
    source: str
    dry_run: bool
    ok: bool
    added: dict[str, int] = Field(default_factory=dict)
    already_stored: dict[str, int] = Field(default_factory=dict)
    problems: list[ProblemPublic] = Field(default_factory=list)


class ErrorPublic(BaseModel):
    detail: str
    problems: list[ProblemPublic] | None = None
