"""Opening a study database: a SQLite file by default, or a PostgreSQL URL for a server.

SQLite files are opened with foreign keys enforced and write-ahead logging (WAL), so that a crash
never corrupts the file and readers do not block the coder who is writing. Every database is
brought to the newest schema by the Alembic migrations in :mod:`classdyad.store.migrations`
before use; a database from a newer classdyad is refused rather than guessed at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from classdyad.errors import StoreError

MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(target: str | Path) -> str:
    """Return the SQLAlchemy URL for ``target``: a URL is kept, a file path becomes SQLite.

    Examples
    --------
    >>> database_url("study.sqlite")
    'sqlite:///study.sqlite'
    >>> database_url("postgresql+psycopg://user@localhost/classdyad")
    'postgresql+psycopg://user@localhost/classdyad'
    """
    text = str(target)
    if "://" in text:
        if text.startswith("postgresql://"):
            return "postgresql+psycopg://" + text[len("postgresql://"):]
        return text
    return f"sqlite:///{text}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(target: str | Path) -> Engine:
    """Create an engine for a SQLite file path or a database URL (no schema changes).

    Raises
    ------
    StoreError
        If the URL names a driver that is not installed, or the SQLite folder does not exist.
    """
    url = database_url(target)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        folder = Path(url[len("sqlite:///"):]).expanduser().resolve().parent
        if not folder.is_dir():
            raise StoreError(f"cannot create the database: folder {folder} does not exist; "
                             "create it first or give another path")
    try:
        engine = sa.create_engine(url)
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"the database driver for {url.split('://')[0]} is not installed ({exc.name}); "
            "install classdyad with the 'postgres' extra: pip install 'classdyad[postgres]'"
        ) from exc
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"{target!s} is not a database URL or file path: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _alembic_config(connection: sa.Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (Alembic ``upgrade head``)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.begin() as connection:
        config = _alembic_config(connection)
        script = ScriptDirectory.from_config(config)
        current = MigrationContext.configure(connection).get_current_revision()
        known = {rev.revision for rev in script.walk_revisions()}
        if current is not None and current not in known:
            raise StoreError(
                f"the database is at schema revision {current!r}, which this version of "
                "classdyad does not know; upgrade classdyad to open it")
        command.upgrade(config, "head")


def open_database(target: str | Path, *, create: bool = True) -> Engine:
    """Open (and, with ``create=True``, create) a study database at the newest schema.

    Parameters
    ----------
    target
        A SQLite file path or a SQLAlchemy URL (``postgresql://user@host/db``).
    create
        Create the SQLite file if it does not exist. With ``False`` a missing file is an error.

    Raises
    ------
    StoreError
        If the database cannot be opened, created or migrated.
    """
    url = database_url(target)
    if not create and url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        if not path.exists():
            raise StoreError(f"no database at {path}; create one with `classdyad init {path}`")
    engine = create_engine(target)
    try:
        migrate(engine)
    except sa.exc.OperationalError as exc:
        raise StoreError(f"cannot open the database {target!s}: {exc.orig}") from exc
    except sa.exc.DatabaseError as exc:
        raise StoreError(f"{target!s} is not a classdyad database: {exc.orig}") from exc
    return engine
