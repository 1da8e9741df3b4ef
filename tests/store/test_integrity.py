"""Invalid states are rejected by the database or the data-access layer, and nothing is written."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classdyad.errors import ClassdyadError, IntegrityError, ValidationError
from classdyad.model import Base
from classdyad.store import add_interaction_events, open_database, read_study, write_study


@pytest.fixture()
def stored(copy_small_study, database_path: Path):
    """A fresh copy of the stored small study for each test."""
    engine = open_database(copy_small_study(database_path))
    yield engine
    engine.dispose()


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text(f"select count(*) from {table}")).scalar_one()


def _one_event(engine: sa.Engine) -> dict:
    tables = read_study(engine)
    event = tables.events[tables.events["target_kind"] == "student"].iloc[0]
    table = Base.metadata.tables["interaction_event"]
    return {c: (None if pd.isna(v) else v) for c, v in event.items()
            if c != "id" and c in table.c}


@pytest.mark.parametrize(("change", "constraint"), [
    ({"valence": "sarcastic"}, "valence_known"),
    ({"video_seconds": -1.0}, "video_seconds_nonnegative"),
    ({"target_kind": "parent", "student_id": None}, "target_kind_known"),
    ({"student_id": None}, "student_target_consistent"),
    ({"target_kind": "class"}, "student_target_consistent"),
])
def test_the_database_itself_rejects_impossible_events(stored, change, constraint) -> None:
    row = _one_event(stored) | {"client_id": "new-1"} | change
    table = Base.metadata.tables["interaction_event"]
    with pytest.raises(sa.exc.IntegrityError, match=constraint), stored.begin() as connection:
        connection.execute(table.insert().values(**row))


def test_the_database_rejects_a_duplicate_client_id(stored) -> None:
    row = _one_event(stored)
    table = Base.metadata.tables["interaction_event"]
    with pytest.raises(sa.exc.IntegrityError, match="UNIQUE"), stored.begin() as connection:
        connection.execute(table.insert().values(**row))


def _new_events(engine: sa.Engine, n: int = 3) -> pd.DataFrame:
    tables = read_study(engine)
    events = tables.events[tables.events["target_kind"] == "student"].head(n).copy()
    events["client_id"] = [f"web-{i}" for i in range(n)]
    return events.drop(columns="id")


def test_valid_events_are_added_and_audited(stored) -> None:
    before = _count(stored, "interaction_event")
    assert add_interaction_events(stored, _new_events(stored), actor="coder1") == 3
    assert _count(stored, "interaction_event") == before + 3
    with stored.connect() as connection:
        action = connection.execute(sa.text(
            "select action, actor, count from audit_log order by id desc")).first()
    assert tuple(action) == ("add_events", "coder1", 3)


def test_an_event_for_a_student_not_enrolled_in_the_class_is_rejected(stored) -> None:
    tables = read_study(stored)
    events = _new_events(stored)
    lesson_class = tables.lessons.set_index("id").loc[events["lesson_id"].iloc[0],
                                                      "classroom_id"]
    elsewhere = tables.enrolments[tables.enrolments["classroom_id"] != lesson_class]
    events.iloc[1, events.columns.get_loc("student_id")] = int(elsewhere["student_id"].iloc[0])
    before = _count(stored, "interaction_event")
    with pytest.raises(ValidationError, match=r"row 2, column student_id.*not enrolled"):
        add_interaction_events(stored, events, actor="coder1")
    assert _count(stored, "interaction_event") == before


def test_an_event_by_a_teacher_who_does_not_teach_the_lesson_is_rejected(stored) -> None:
    events = _new_events(stored)
    events["teacher_id"] = 10_000
    with pytest.raises(ValidationError, match="does not teach"):
        add_interaction_events(stored, events, actor="coder1")


def test_adding_the_same_events_twice_is_refused_the_second_time(stored) -> None:
    events = _new_events(stored)
    add_interaction_events(stored, events, actor="coder1")
    before = _count(stored, "interaction_event")
    with pytest.raises(ValidationError, match="already stored"):
        add_interaction_events(stored, events, actor="coder1")
    assert _count(stored, "interaction_event") == before


def test_a_study_with_an_unknown_country_is_not_written(small_study, database_path) -> None:
    students = small_study.tables.students.copy()
    students.loc[11, "mother_birth_country"] = "Marokko?"
    students.loc[3, "father_education"] = "rocket science"
    engine = open_database(database_path)
    with pytest.raises(ValidationError) as caught:
        write_study(engine, replace(small_study.tables, students=students))
    message = str(caught.value)
    assert "students, row 12, column mother_birth_country: 'Marokko?'" in message
    assert "Marokko" in message and "row 4, column father_education" in message
    assert _count(engine, "study") == 0 and _count(engine, "student") == 0
    engine.dispose()


def test_countries_and_education_are_stored_normalized(small_study, database_path) -> None:
    students = small_study.tables.students.copy()
    students["mother_birth_country"] = students["mother_birth_country"].replace(
        {"TR": "Turkije", "MA": "Morocco", "NL": "NLD"})
    students["father_education"] = students["father_education"].replace({"higher": "hbo"})
    engine = open_database(database_path)
    write_study(engine, replace(small_study.tables, students=students))
    back = read_study(engine).students
    pd.testing.assert_series_equal(back["mother_birth_country"].reset_index(drop=True),
                                   small_study.tables.students["mother_birth_country"]
                                   .reset_index(drop=True), check_dtype=False)
    assert set(back["father_education"]) <= {"primary", "prevocational_basic",
                                              "prevocational_theoretical", "upper_secondary",
                                              "higher"}
    engine.dispose()


def test_a_second_study_of_the_same_name_is_refused(stored, small_study) -> None:
    with pytest.raises(IntegrityError, match="already in this database"):
        write_study(stored, small_study.tables)


def test_a_round_trip_keeps_every_table(small_study, database_path) -> None:
    engine = open_database(database_path)
    write_study(engine, small_study.tables)
    back = read_study(engine)
    assert back.counts() == small_study.tables.counts()
    original = small_study.tables.events.reset_index(drop=True)
    pd.testing.assert_frame_equal(back.events[["client_id", "valence", "video_seconds"]],
                                  original[["client_id", "valence", "video_seconds"]])
    engine.dispose()


@pytest.fixture()
def new_events(stored) -> pd.DataFrame:
    """Three new events, read once: every example below leaves the events as they were."""
    return _new_events(stored)


_values = st.one_of(st.none(), st.integers(-5, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=8), st.booleans())


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(column=st.sampled_from(["valence", "video_seconds", "target_kind", "student_id",
                               "lesson_id", "teacher_id", "client_id"]),
       value=_values, row=st.integers(0, 2))
def test_garbled_events_raise_a_classdyad_error_and_write_nothing(stored, new_events, column,
                                                                   value, row) -> None:
    events = new_events.astype(object)
    events.iloc[row, events.columns.get_loc(column)] = value
    before = _count(stored, "interaction_event")
    try:
        add_interaction_events(stored, events, actor="fuzz")
    except ClassdyadError:
        assert _count(stored, "interaction_event") == before
    else:
        assert _count(stored, "interaction_event") == before + 3
        with stored.begin() as connection:
            connection.execute(
                sa.text("delete from interaction_event where client_id like 'web-%'"))
