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
           for k, v in event.iloc[0].items()}
    with pytest.raises(sa.exc.IntegrityError, match="valence_known"), \
            engine.begin() as connection:
        connection.execute(table.insert().values(**row))
    with pytest.raises(ValidationError, match="not an allowed value"):
        add_interaction_events(engine, event, actor="coder")
    assert add_interaction_events(engine, event.assign(valence="positive"), actor="coder") == 1
