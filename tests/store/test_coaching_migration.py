"""Migration 0007 (coaching): upgrading a database with data from 0006 keeps every row."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from classdyad.model import Base
from classdyad.simulate import SimulatedStudy
from classdyad.store import create_engine, migrate, open_database, schema_revision, write_study

POSTGRES_URL = os.environ.get("CLASSDYAD_TEST_POSTGRES_URL")
COUNTED = ("student", "lesson", "interaction_event", "user_account", "login_session",
           "questionnaire_response")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[
    pytest.mark.postgres, pytest.mark.skipif(POSTGRES_URL is None, reason="no PostgreSQL "
                                             "server: set CLASSDYAD_TEST_POSTGRES_URL (.ci/run "
                                             "starts one)")])])
def target(request, tmp_path: Path) -> str | Path:
    """A new database: a SQLite file, or the PostgreSQL test server with an empty schema."""
    if request.param == "sqlite":
        return tmp_path / "study.sqlite"
    assert POSTGRES_URL is not None
    clean = create_engine(POSTGRES_URL)
    with clean.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    clean.dispose()
    return POSTGRES_URL


def _downgrade(database_path: str | Path, revision: str) -> None:
    from alembic import command

    from classdyad.store.engine import _alembic_config, write_engine

    engine = create_engine(database_path)
    with write_engine(engine).begin() as connection:
        command.downgrade(_alembic_config(connection), revision)
    engine.dispose()


def _counts(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {name: connection.execute(sa.text(f"select count(*) from {name}")).scalar_one()
                for name in COUNTED}


def test_upgrade_from_0006_keeps_the_data_and_allows_coaches(
        target: str | Path, small_study: SimulatedStudy) -> None:
    from classdyad.services.accounts import create_user

    path = target
    engine = open_database(path)
    write_study(engine, small_study.tables)
    teacher = str(small_study.tables.teachers["code"].iloc[0])
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        create_user(session, "teacher", "teacher password", role="teacher", teacher=teacher)
        session.commit()
    with engine.begin() as connection:
        user_id = connection.execute(sa.text("select id from user_account")).scalar_one()
        now = dt.datetime.now(dt.UTC)
        connection.execute(Base.metadata.tables["login_session"].insert().values(
            token_hash="a" * 64, user_id=user_id, csrf_token="b" * 64, created_at=now,
            expires_at=now + dt.timedelta(hours=1)))
    engine.dispose()
    _downgrade(path, "0006")
    engine = create_engine(path)
    assert schema_revision(engine)[0] == "0006"
    with engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
    assert "coaching_goal" not in tables and "coach_invitation" not in tables
    before = _counts(engine)
    assert before["login_session"] == 1 and before["interaction_event"] > 0
    assert migrate(engine) == ("0006", "0007")
    assert _counts(engine) == before
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()
    engine = open_database(path, create=False)
    with Session(engine) as session:
        create_user(session, "coach", "coach password 1", role="coach")
        session.commit()
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.text("insert into user_account (username, password_hash, role, "
                                   "active) values ('x', 'y', 'nobody', true)"))
    engine.dispose()


def test_downgrade_to_0006_removes_coaches_and_the_coaching_tables(target: str | Path
                                                                    ) -> None:
    from sqlalchemy.orm import Session

    from classdyad.services.accounts import create_user

    path = target
    engine = open_database(path)
    with Session(engine) as session:
        create_user(session, "coach", "coach password 1", role="coach")
        create_user(session, "admin", "admin password 1", role="admin")
        session.commit()
    engine.dispose()
    _downgrade(path, "0006")
    engine = create_engine(path)
    with engine.connect() as connection:
        roles = connection.execute(sa.text("select role from user_account")).scalars().all()
        assert roles == ["admin"]
        assert "coaching_note" not in set(sa.inspect(connection).get_table_names())
    engine.dispose()
