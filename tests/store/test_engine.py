"""Opening, creating and migrating study databases."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from classdyad.errors import StoreError
from classdyad.model import Base
from classdyad.store import database_url, open_database


def test_new_sqlite_database_has_wal_foreign_keys_and_every_table(database_path: Path) -> None:
    engine = open_database(database_path)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        tables = set(sa.inspect(connection).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    engine.dispose()


def test_migrations_create_exactly_the_mapped_schema(database_path: Path) -> None:
    engine = open_database(database_path)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_opening_twice_keeps_the_data(database_path: Path) -> None:
    engine = open_database(database_path)
    with engine.begin() as connection:
        connection.execute(Base.metadata.tables["study"].insert().values(name="s", settings={}))
    engine.dispose()
    engine = open_database(database_path, create=False)
    with engine.connect() as connection:
        assert connection.execute(sa.text("select count(*) from study")).scalar() == 1
    engine.dispose()


def test_missing_file_without_create_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="classdyad init"):
        open_database(tmp_path / "absent.sqlite", create=False)


def test_missing_folder_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        open_database(tmp_path / "no" / "such" / "study.sqlite")


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError, match=r"not a classdyad database|cannot open"):
        open_database(path)
    assert path.read_text().startswith("these are my notes")


def test_a_database_from_a_newer_version_is_refused(database_path: Path) -> None:
    engine = open_database(database_path)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(StoreError, match="upgrade classdyad"):
        open_database(database_path)


def test_urls_and_paths() -> None:
    assert database_url("a/b.sqlite") == "sqlite:///a/b.sqlite"
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"


def _downgrade_to_first_schema(database_path: Path) -> None:
    from alembic import command

    from classdyad.store.engine import _alembic_config, create_engine, write_engine

    engine = create_engine(database_path)
    with write_engine(engine).begin() as connection:
        command.downgrade(_alembic_config(connection), "0001")
    engine.dispose()


#: the newest migration's revision (migration files are numbered NNNN_name.py)
NEWEST = max(path.name[:4] for path in (Path(__file__).parents[2] / "src" / "classdyad" / "store"
                                        / "migrations" / "versions").glob("[0-9]*.py"))


def test_an_older_schema_is_refused_until_migrated(database_path: Path) -> None:
    from classdyad.store import create_engine, migrate, schema_revision

    engine = open_database(database_path)
    with engine.begin() as connection:
        connection.execute(Base.metadata.tables["study"].insert().values(name="s", settings={}))
    engine.dispose()
    _downgrade_to_first_schema(database_path)
    with pytest.raises(StoreError, match=r"revision 0001.*classdyad migrate"):
        open_database(database_path, create=False)
    engine = create_engine(database_path)
    assert schema_revision(engine) == ("0001", NEWEST)  # the refusal changed nothing
    assert migrate(engine) == ("0001", NEWEST)
    engine.dispose()
    engine = open_database(database_path, create=False)
    with engine.connect() as connection:
        assert connection.execute(sa.text("select count(*) from study")).scalar() == 1
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_write_transactions_begin_immediate(database_path: Path) -> None:
    from classdyad.store import unit_of_work

    engine = open_database(database_path)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda _c, _cur, statement, *_: statements.append(statement))
    with unit_of_work(engine) as session:
        session.execute(sa.text("select count(*) from study"))
    with engine.connect() as connection:
        connection.execute(sa.text("select count(*) from study"))
    engine.dispose()
    assert statements[0] == "BEGIN IMMEDIATE"
    assert statements.count("BEGIN") == 1
