"""Request and response bodies of the event API (video coding and live coding share them)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventWrite(_In):
    """One revision of a coded event, teacher and student by their pseudonymous codes."""

    lesson_id: int
    video_seconds: float = Field(ge=0, description="seconds from the start of the lesson's "
                                 "video (live coding: of the lesson clock)")
    frame: int | None = Field(default=None, ge=0, description="index of the frame on screen")
    teacher: str = Field(min_length=1, max_length=50)
    target_kind: Literal["student", "group", "class"]
    student: str | None = Field(default=None, max_length=50)
    valence: Literal["positive", "negative", "neutral"]
    subtype: str | None = Field(default=None, max_length=50)
    codebook_id: int | None = None
    source: Literal["video", "live"] = "video"
    video_file: int | None = Field(default=None, description="the lesson's video file the "
                                   "event was coded on (its id); video_seconds stays on the "
                                   "lesson's clock, frame counts from that file's start")
    revision: int = Field(default=1, ge=1, description="1 creates the event; each edit sends "
                          "the next number")


class EventPublic(BaseModel):
    """The newest revision of an event (``coder`` for a researcher's view)."""

    client_id: str
    revision: int
    deleted: bool
    lesson_id: int
    video_seconds: float | None
    frame: int | None
    teacher: str | None
    target_kind: str | None
    student: str | None
    valence: str | None
    subtype: str | None
    codebook_id: int | None
    source: str | None
    video_file: int | None = None
    coder: str | None = None


class PresenceWrite(_In):
    """A student present / visible (or not) from ``start_seconds`` to ``end_seconds``."""

    lesson_id: int
    student: str = Field(min_length=1, max_length=50)
    start_seconds: float = Field(ge=0)
    end_seconds: float | None = Field(default=None, ge=0)
    present: bool
    visible: bool


class PresencePublic(BaseModel):
    client_id: str
    lesson_id: int
    student: str
    start_seconds: float
    end_seconds: float | None
    present: bool
    visible: bool


class LessonDone(BaseModel):
    lesson_id: int
    done_at: dt.datetime | None


class ReactionOffset(_In):
    reaction_offset_seconds: float = Field(ge=0, le=5, description="subtracted from the video "
                                           "time of each key press")


class AdjudicationWrite(_In):
    """How the adjudicator settles one disagreement of a lesson's two coders."""

    unit: str = Field(min_length=1, max_length=200, description="the unit's id from the "
                      "agreement view")
    decision: Literal["keep_a", "keep_b", "edit", "add", "drop"]
    event: EventWrite | None = Field(default=None, description="the event to write for 'edit' "
                                     "and 'add'")
