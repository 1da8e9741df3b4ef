"""Request and response bodies of live observation: seating charts and live sessions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Seat(BaseModel):
    """A student (by pseudonymous code) at a desk; rows and columns count from 0."""

    student: str = Field(min_length=1, max_length=50)
    row: int = Field(ge=0, le=19)
    column: int = Field(ge=0, le=19)


class SeatingChartWrite(_In):
    """A class's desks in a wave and who sits where (students without a desk are left out)."""

    rows: int = Field(ge=1, le=20)
    columns: int = Field(ge=1, le=20)
    seats: list[Seat]


class SeatingChartPublic(BaseModel):
    """A class's chart for a wave; ``stored`` is false for a copy or a first layout not yet
    saved for this wave."""

    classroom: str
    wave: int
    rows: int
    columns: int
    seats: list[Seat]
    unseated: list[str]
    stored: bool
    copied_from_wave: int | None


class LiveSessionWrite(_In):
    """The observer's lesson clock and how the observation samples."""

    sampling_method: Literal["continuous", "interval", "scan"]
    interval_seconds: float | None = Field(default=None, gt=0, le=3600,
                                           description="seconds between prompts (interval and "
                                           "scan sampling)")
    state: Literal["running", "paused", "ended"]
    clock_seconds: float = Field(ge=0, description="seconds on the lesson clock")


class LiveSessionPublic(BaseModel):
    lesson_id: int
    observer: str
    sampling_method: str
    interval_seconds: float | None
    state: str
    clock_seconds: float
