"""Exposure from presence marks: how long each student was present, and in view, in a lesson.

An observer (live) or a coder (video) marks, from a moment on, that a student left the room,
came back, or went out of view. Each mark is a *presence segment*: ``start_seconds``, an optional
``end_seconds`` and the state (``present``, ``visible``) from ``start_seconds`` on. A segment
without an end holds until the next mark of the same student (or the end of the lesson); a
segment with an end holds until then, after which the student is as before any mark (present
and in view), unless another mark covers the time. Where marks overlap, the one that started
last wins. A student without marks was present and in view for the whole lesson.

Interaction rates divide by the time a student could be observed, so the analysis dataset's
``minutes_present`` for a live-coded lesson is the time present *and* in view.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from classdyad.errors import DataError

__all__ = ["PRESENCE_COLUMNS", "presence_seconds"]

PRESENCE_COLUMNS = ("student", "seconds_present", "seconds_in_view")
"""The columns of :func:`presence_seconds`."""


def _state_at(marks: list[tuple[float, float, bool, bool]], moment: float) -> tuple[bool, bool]:
    state = (True, True)
    for start, end, present, visible in marks:  # sorted by start: the last match wins
        if start <= moment < end:
            state = (present, visible)
    return state


def presence_seconds(segments: Iterable[Mapping[str, Any]], *, lesson_seconds: float,
                     students: Iterable[str] = ()) -> pd.DataFrame:
    """Seconds each student was present, and present and in view, during a lesson.

    Parameters
    ----------
    segments
        Presence marks, each with ``student``, ``start_seconds``, ``end_seconds`` (``None``:
        until the next mark of the student or the end of the lesson), ``present`` and
        ``visible``. Marks of one student are applied in order of ``start_seconds`` (ties in the
        order given).
    lesson_seconds
        The observed length of the lesson (the lesson clock when the observer ended it); marks
        past it are cut off.
    students
        Students to report even without marks (present and in view throughout).

    Returns
    -------
    pandas.DataFrame
        One row per student (sorted by code) with :data:`PRESENCE_COLUMNS`.

    Raises
    ------
    DataError
        If ``lesson_seconds`` is negative or not finite, or a mark ends before it starts.
    """
    if not math.isfinite(lesson_seconds) or lesson_seconds < 0:
        raise DataError(f"lesson_seconds={lesson_seconds!r} must be a finite time >= 0")
    by_student: dict[str, list[tuple[float, float | None, bool, bool]]] = {
        str(s): [] for s in students}
    for mark in segments:
        start = float(mark["start_seconds"])
        end = mark.get("end_seconds")
        if end is not None and float(end) < start:
            raise DataError(f"a presence mark of student {mark['student']!r} ends at {end} "
                            f"before it starts at {start}; send end_seconds >= start_seconds")
        by_student.setdefault(str(mark["student"]), []).append(
            (start, None if end is None else float(end), bool(mark["present"]),
             bool(mark["visible"])))
    rows = []
    for student in sorted(by_student):
        ordered = sorted(enumerate(by_student[student]), key=lambda item: (item[1][0], item[0]))
        marks = [mark for _, mark in ordered]
        closed: list[tuple[float, float, bool, bool]] = []
        for index, (start, end, present, visible) in enumerate(marks):
            if end is None:  # until the next mark of this student
                later = [m[0] for m in marks[index + 1:] if m[0] > start]
                end = later[0] if later else math.inf
            closed.append((start, end, present, visible))
        cuts = sorted({0.0, lesson_seconds,
                       *(min(max(t, 0.0), lesson_seconds) for m in closed for t in m[:2]
                         if math.isfinite(t))})
        present_time = in_view_time = 0.0
        for low, high in itertools.pairwise(cuts):
            present, visible = _state_at(closed, (low + high) / 2)
            if present:
                present_time += high - low
                if visible:
                    in_view_time += high - low
        rows.append((student, present_time, in_view_time))
    return pd.DataFrame(rows, columns=list(PRESENCE_COLUMNS)).astype(
        {"student": object, "seconds_present": float, "seconds_in_view": float})
