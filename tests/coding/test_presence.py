"""Exposure from presence marks (classdyad.coding.presence_seconds)."""

from __future__ import annotations

import pytest

from classdyad.coding import presence_seconds
from classdyad.errors import DataError


def _mark(student, start, end, present, visible=None):
    return {"student": student, "start_seconds": start, "end_seconds": end,
            "present": present, "visible": present if visible is None else visible}


def test_a_student_without_marks_is_present_and_in_view_throughout() -> None:
    out = presence_seconds([], lesson_seconds=600, students=["S1"])
    assert out.to_dict("records") == [{"student": "S1", "seconds_present": 600.0,
                                       "seconds_in_view": 600.0}]


def test_open_marks_hold_until_the_next_mark() -> None:
    marks = [_mark("S1", 100, None, False), _mark("S1", 250, None, True),
             _mark("S2", 0, None, True, False), _mark("S2", 300, None, True, True)]
    out = presence_seconds(marks, lesson_seconds=600).set_index("student")
    assert out.loc["S1", "seconds_present"] == pytest.approx(450.0)
    assert out.loc["S1", "seconds_in_view"] == pytest.approx(450.0)
    assert out.loc["S2", "seconds_present"] == pytest.approx(600.0)
    assert out.loc["S2", "seconds_in_view"] == pytest.approx(300.0)


def test_closed_marks_return_to_present_and_marks_past_the_end_are_cut() -> None:
    marks = [_mark("S1", 60, 120, False), _mark("S1", 500, None, False)]
    out = presence_seconds(marks, lesson_seconds=540).set_index("student")
    assert out.loc["S1", "seconds_present"] == pytest.approx(540 - 60 - 40)
    later = presence_seconds([_mark("S1", 700, None, False)], lesson_seconds=540)
    assert later["seconds_present"].iloc[0] == pytest.approx(540.0)


def test_the_mark_that_started_last_wins_where_marks_overlap() -> None:
    marks = [_mark("S1", 0, 300, False), _mark("S1", 100, 200, True, False)]
    out = presence_seconds(marks, lesson_seconds=400).set_index("student")
    assert out.loc["S1", "seconds_present"] == pytest.approx(100 + 100)
    assert out.loc["S1", "seconds_in_view"] == pytest.approx(100)


def test_bad_input_is_refused_with_the_fix() -> None:
    with pytest.raises(DataError, match="end_seconds >= start_seconds"):
        presence_seconds([_mark("S1", 50, 10, False)], lesson_seconds=100)
    with pytest.raises(DataError, match="finite time"):
        presence_seconds([], lesson_seconds=-1)
