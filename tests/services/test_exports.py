"""Exports through the service layer: names only on request, every export audited."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa

from classdyad.errors import OptionError
from classdyad.services.exports import analysis_data, export_dataset, export_events
from classdyad.store import open_database


@pytest.fixture(scope="module")
def engine(copy_small_study, tmp_path_factory):
    engine = open_database(copy_small_study(tmp_path_factory.mktemp("exports") / "study.sqlite"))
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO student_roster (student_id, first_name, last_name) "
            "SELECT id, 'Kind' || id, 'Achternaam' || id FROM student"))
    yield engine
    engine.dispose()


def _audit(engine) -> pd.DataFrame:
    with engine.connect() as connection:
        return pd.read_sql(sa.text("SELECT actor, action, entity, count, detail FROM audit_log "
                                   "WHERE action = 'export' ORDER BY id"), connection)


def test_names_are_left_out_unless_asked_for(engine) -> None:
    assert "first_name" not in analysis_data(engine).columns
    named = analysis_data(engine, include_names=True, level="student")
    position = list(named.columns).index("student")
    assert list(named.columns[position + 1:position + 3]) == ["first_name", "last_name"]
    assert named["first_name"].str.startswith("Kind").all()


def test_every_export_is_audited_with_who_what_and_names(engine, tmp_path) -> None:
    before = len(_audit(engine))
    record = export_dataset(engine, "csv", tmp_path / "data.csv", actor="someone")
    export_dataset(engine, "parquet", tmp_path / "data.parquet", actor="other",
                   include_names=True, level="student")
    events = export_events(engine, "events", tmp_path / "events.csv", actor="someone")
    audit = _audit(engine).iloc[before:]
    assert audit["actor"].tolist() == ["someone", "other", "someone"]
    assert audit["entity"].tolist() == ["csv", "parquet", "events"]
    assert audit["count"].tolist()[0] == record.rows and audit["count"].tolist()[2] == events.rows
    details = [json.loads(d) if isinstance(d, str) else d for d in audit["detail"]]
    assert [d["include_names"] for d in details] == [False, True, False]
    assert "first_name" in pd.read_parquet(tmp_path / "data.parquet").columns


def test_unknown_format_or_level_lists_the_allowed_ones(engine, tmp_path) -> None:
    with pytest.raises(OptionError, match="parquet"):
        export_dataset(engine, "sas", tmp_path / "x", actor="a")
    with pytest.raises(OptionError, match="student"):
        export_dataset(engine, "csv", tmp_path / "x.csv", actor="a", level="class")
