"""The same store on a real PostgreSQL server (CLASSDYAD_TEST_POSTGRES_URL, started by .ci/run)."""

from __future__ import annotations

import os

import pandas as pd
import pytest
import sqlalchemy as sa

from classdyad.errors import ValidationError
from classdyad.model import Base
from classdyad.store import (
    add_interaction_events,
    create_engine,
    open_database,
    read_study,
    study_counts,
    write_study,
)

URL = os.environ.get("CLASSDYAD_TEST_POSTGRES_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(URL is None, reason="no PostgreSQL server: set "
                       "CLASSDYAD_TEST_POSTGRES_URL (.ci/run starts one)"),
]


@pytest.fixture()
def engine():
    assert URL is not None
    clean = create_engine(URL)
    with clean.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    clean.dispose()
    engine = open_database(URL)
    yield engine
    engine.dispose()


def test_a_study_round_trips_through_postgresql(engine, small_study) -> None:
    write_study(engine, small_study.tables)
    back = read_study(engine)
    assert back.counts() == small_study.tables.counts()
    counts = study_counts(engine)
    assert counts["schools"] == 4 and counts["interaction_events"] == len(
        small_study.tables.events)
    assert sorted(back.events["client_id"]) == sorted(small_study.tables.events["client_id"])


def test_postgresql_enforces_the_same_rules(engine, small_study) -> None:
    write_study(engine, small_study.tables)
    tables = read_study(engine)
    event = tables.events[tables.events["target_kind"] == "student"].iloc[[0]].drop(
        columns="id").assign(client_id="pg-1", valence="sarcastic")
    table = Base.metadata.tables["interaction_event"]
    row = {k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v)
           for k, v in event.iloc[0].items() if k in table.c}
    with pytest.raises(sa.exc.IntegrityError, match="valence_known"), \
            engine.begin() as connection:
        connection.execute(table.insert().values(**row))
    with pytest.raises(ValidationError, match="not an allowed value"):
        add_interaction_events(engine, event, actor="coder")
    assert add_interaction_events(engine, event.assign(valence="positive"), actor="coder") == 1


def test_an_import_then_orm_inserts_do_not_collide(engine, tmp_path) -> None:
    from classdyad.io.roster import read_roster
    from classdyad.store import (
        add_event,
        create_lesson,
        create_student,
        create_teacher,
        enrol_student,
        unit_of_work,
    )
    from classdyad.store.importing import import_interaction_events, import_roster

    roster = tmp_path / "roster.csv"
    pd.DataFrame({"school": "S1", "classroom": ["6A", "6A", "6B"], "grade": 6,
                  "teacher": ["T1", "T1", "T2"], "student": ["P1", "P2", "P3"],
                  "wave": 1}).to_csv(roster, index=False)
    summary = import_roster(engine, read_roster(roster), study="pg", source="roster.csv")
    assert summary.added["students"] == 3
    tables = read_study(engine)
    with unit_of_work(engine) as session:  # ORM inserts after the import: ids from sequences
        study_id = int(pd.read_sql("select id from study", session.connection()).iloc[0, 0])
        teacher = create_teacher(session, study_id=study_id, code="T9")
        student = create_student(session, study_id=study_id, code="P9")
        classroom_id = int(tables.classrooms["id"].iloc[0])
        wave_id = int(tables.waves["id"].iloc[0])
        enrol_student(session, student_id=student.id, classroom_id=classroom_id,
                      wave_id=wave_id, grade=6)
        lesson = create_lesson(session, classroom_id=classroom_id, wave_id=wave_id,
                               observed_minutes=50, teacher_ids=[teacher.id], code="L1")
        add_event(session, lesson_id=lesson.id, teacher_id=teacher.id, valence="positive",
                  video_seconds=1.0, student_id=student.id, actor="coder", client_id="orm-1")
    events = pd.DataFrame({"client_id": ["imp-1", "imp-2"], "lesson_id": ["L1", "L1"],
                           "video_seconds": [2.0, 3.0], "teacher": ["T9", "T9"],
                           "target_kind": ["student", "class"], "student": ["P9", None],
                           "valence": ["negative", "neutral"], "subtype": [None, None],
                           "coder": [None, None]})
    assert import_interaction_events(engine, events, study="pg").added["events"] == 2
    with unit_of_work(engine) as session:
        add_event(session, lesson_id=lesson.id, teacher_id=teacher.id, valence="neutral",
                  video_seconds=4.0, target_kind="class", actor="coder", client_id="orm-2")
    back = read_study(engine)
    assert len(back.students) == 4 and back.students["id"].is_unique
    assert sorted(back.events["client_id"]) == ["imp-1", "imp-2", "orm-1", "orm-2"]
    assert back.events["id"].is_unique
