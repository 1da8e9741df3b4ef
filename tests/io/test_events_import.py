"""Interaction events from CSV: exact round trip, idempotent, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from classdyad.errors import ValidationError
from classdyad.io import read_interaction_events, write_interaction_events
from classdyad.store import open_database
from classdyad.store.exporting import coded_events
from classdyad.store.importing import import_interaction_events

COLUMNS = ["client_id", "lesson_id", "video_seconds", "teacher", "target_kind", "student",
           "valence", "subtype", "coder"]


def _events(database: Path) -> pd.DataFrame:
    engine = open_database(database, create=False)
    frame = coded_events(engine)
    engine.dispose()
    return frame


def _count(database: Path, table: str, where: str = "") -> int:
    engine = open_database(database, create=False)
    with engine.connect() as connection:
        count = connection.execute(sa.text(f"SELECT count(*) FROM {table} {where}"))
        value = int(count.scalar_one())
    engine.dispose()
    return value


def test_export_then_import_reproduces_the_events(stored_study: Path,
                                                  study_without_events: Path,
                                                  tmp_path: Path) -> None:
    original = _events(stored_study)
    path = write_interaction_events(original, tmp_path / "events.csv")
    engine = open_database(study_without_events, create=False)
    first = import_interaction_events(engine, read_interaction_events(path), source=path.name)
    second = import_interaction_events(engine, read_interaction_events(path), source=path.name)
    engine.dispose()
    assert first.added["events"] == len(original)
    assert second.added["events"] == 0 and second.already_stored["events"] == len(original)
    back = _events(study_without_events)
    pd.testing.assert_frame_equal(back[COLUMNS].sort_values("client_id", ignore_index=True),
                                  original[COLUMNS].sort_values("client_id", ignore_index=True),
                                  check_dtype=False)
    assert _count(study_without_events, "audit_log", "WHERE action = 'import'") == 2


def test_one_bad_row_writes_nothing_and_every_problem_is_listed(
        stored_study: Path, study_without_events: Path, tmp_path: Path) -> None:
    events = _events(stored_study).head(1000)[COLUMNS].astype(object)
    events.loc[10, "valence"] = "angry"
    events.loc[20, "teacher"] = "T9999"
    events.loc[30, "video_seconds"] = -4.0
    events.loc[40, "lesson_id"] = 99999
    events.loc[50, "client_id"] = events.loc[51, "client_id"]
    path = tmp_path / "events.csv"
    events.to_csv(path, index=False)
    engine = open_database(study_without_events, create=False)
    with pytest.raises(ValidationError) as caught:
        import_interaction_events(engine, read_interaction_events(path), source=path.name)
    engine.dispose()
    found = {(p.row, p.column) for p in caught.value.problems}
    assert {(11, "valence"), (21, "teacher"), (31, "video_seconds"),
            (41, "lesson_id"), (52, "client_id")} <= found
    assert "events.csv" in str(caught.value)
    assert _count(study_without_events, "interaction_event") == 0


def test_teacher_defaults_to_the_lessons_only_teacher(stored_study: Path,
                                                      study_without_events: Path,
                                                      tmp_path: Path) -> None:
    events = _events(stored_study).head(50)[COLUMNS]
    path = tmp_path / "events.csv"
    events.drop(columns=["teacher"]).rename(columns={"video_seconds": "time"}).to_csv(
        path, index=False)
    engine = open_database(study_without_events, create=False)
    summary = import_interaction_events(engine, read_interaction_events(path), dry_run=True)
    assert summary.added["events"] == 50
    assert _count(study_without_events, "interaction_event") == 0
    import_interaction_events(engine, read_interaction_events(path))
    engine.dispose()
    back = _events(study_without_events).sort_values("client_id", ignore_index=True)
    assert back["teacher"].tolist() == events.sort_values("client_id")["teacher"].tolist()
