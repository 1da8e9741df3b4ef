"""The analysis counts each lesson's primary coder as assigned (not the coder with the lowest id).

Two coders code the same lesson; the coder with the higher id is assigned as its primary coder,
the other as its second. The analysis dataset read back from the store counts the primary
coder's events; a lesson without a primary coder's events falls back to the lowest coder id.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from classdyad.model import CoderAssignment
from classdyad.model.tables import empty_table
from classdyad.services.coding_events import Writer, put_event
from classdyad.store import open_database, read_study, write_study
from classdyad.study import analysis_events


@pytest.fixture(scope="module")
def two_coded(small_study, tmp_path_factory):
    """A stored study without events, one lesson coded by two coders, one by the low id only."""
    tables = dataclasses.replace(small_study.tables, events=empty_table("events"))
    engine = open_database(tmp_path_factory.mktemp("primary") / "study.sqlite")
    write_study(engine, tables)
    stored = read_study(engine)
    low, high = (int(i) for i in sorted(stored.coders["id"])[:2])
    lessons = stored.lessons.sort_values("id")
    both, alone = int(lessons["id"].iloc[0]), int(lessons["id"].iloc[1])
    study_id = 1
    with Session(engine) as session:
        session.add(CoderAssignment(lesson_id=both, coder_id=high, role="primary"))
        session.add(CoderAssignment(lesson_id=both, coder_id=low, role="second"))
        session.commit()
        for lesson_id, coders in ((both, (low, high)), (alone, (low,))):
            teacher_id = int(stored.lesson_teachers.loc[
                stored.lesson_teachers["lesson_id"] == lesson_id, "teacher_id"].iloc[0])
            teacher = str(stored.teachers.set_index("id").loc[teacher_id, "code"])
            for coder_id in coders:
                writer = Writer(actor="test", coder_id=coder_id, study_id=study_id,
                                lessons=None)
                valence = "positive" if coder_id == high else "negative"
                for second in (10.0, 20.0, 30.0)[: 3 if coder_id == high else 2]:
                    put_event(session, writer, f"{lesson_id}-{coder_id}-{second}", {
                        "lesson_id": lesson_id, "video_seconds": second, "frame": None,
                        "teacher": teacher, "target_kind": "class", "student": None,
                        "valence": valence, "subtype": None, "codebook_id": None,
                        "source": "video"})
    yield engine, {"both": both, "alone": alone, "low": low, "high": high}
    engine.dispose()


def test_the_assigned_primary_coder_is_counted(two_coded) -> None:
    engine, ids = two_coded
    events = read_study(engine).events
    both = events[events["lesson_id"] == ids["both"]]
    assert set(both["coder_role"]) == {"primary", "second"}
    counted = analysis_events(events)
    in_both = counted[counted["lesson_id"] == ids["both"]]
    assert in_both["coder_id"].tolist() == [ids["high"]] * 3
    assert set(in_both["valence"]) == {"positive"}
    # without an assignment, the coder with the lowest id who coded the lesson
    in_alone = counted[counted["lesson_id"] == ids["alone"]]
    assert in_alone["coder_id"].tolist() == [ids["low"]] * 2


def test_without_roles_the_lowest_coder_id_is_primary(two_coded) -> None:
    engine, ids = two_coded
    events = read_study(engine).events.drop(columns="coder_role")
    counted = analysis_events(events)
    assert set(counted.loc[counted["lesson_id"] == ids["both"], "coder_id"]) == {ids["low"]}
    # a primary coder assigned but without events: the other coder's events are counted
    events = read_study(engine).events
    events = events[~((events["lesson_id"] == ids["both"])
                      & (events["coder_id"] == ids["high"]))]
    counted = analysis_events(events)
    assert set(counted.loc[counted["lesson_id"] == ids["both"], "coder_id"]) == {ids["low"]}
    assert isinstance(counted, pd.DataFrame)
