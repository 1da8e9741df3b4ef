"""Which coding of a double-coded lesson is the first and which the second."""

from __future__ import annotations

import dataclasses

import pandas as pd
from tests.study.test_dataset import tiny_study

from classdyad.study.scores import coder_event_frames


def _with_roles(roles: dict[int, str | None]):
    tables = tiny_study()
    events = tables.events.assign(coder_role=tables.events["coder_id"].map(roles))
    return dataclasses.replace(tables, events=events)


def test_without_assignments_the_lower_coder_id_is_first() -> None:
    first, second = coder_event_frames(tiny_study())
    assert set(first["coder"]) == {"a"} and set(second["coder"]) == {"b"}
    assert set(first["lesson_id"]) == set(second["lesson_id"]) == {1}  # lesson 2 coded once
    assert len(first) == 8 and len(second) == 4


def test_the_coder_assigned_as_primary_is_first_whatever_the_ids() -> None:
    first, second = coder_event_frames(_with_roles({1: "second", 2: "primary"}))
    assert set(first["coder"]) == {"b"} and len(first) == 4
    assert set(second["coder"]) == {"a"} and len(second) == 8


def test_an_assigned_coder_comes_before_an_unassigned_one() -> None:
    first, second = coder_event_frames(_with_roles({1: None, 2: "second"}))
    assert set(first["coder"]) == {"b"} and set(second["coder"]) == {"a"}


def test_adjudicated_events_are_not_a_coding() -> None:
    tables = tiny_study()
    adjudicated = tables.events.iloc[:1].assign(id=99, client_id="adjudication-1",
                                                coder_id=None, lesson_id=2)
    events = pd.concat([tables.events, adjudicated], ignore_index=True)
    first, _ = coder_event_frames(dataclasses.replace(tables, events=events))
    assert set(first["lesson_id"]) == {1}
