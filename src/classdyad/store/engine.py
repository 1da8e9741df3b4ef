"""Opening a study database: a SQLite file by default, or a PostgreSQL URL for a server.

SQLite files are opened with foreign keys enforced and write-ahead logging (WAL), so that a crash
never corrupts the file and readers do not block the coder who is writing. A transaction that
writes starts with ``BEGIN IMMEDIATE`` (see :func:`write_engine`): it takes the database's write
lock before its first read, so the reads an import makes to plan its rows see the state it
writes into, and two writers wait for each other (up to the busy timeout) instead of one failing
halfway. Read-only transactions start with a plain ``BEGIN`` and never wait for a writer.

Within one process (a web server's threads) SQLite write transactions also queue on a lock of
the engine's before ``BEGIN IMMEDIATE``: a writer that waits is handed the database the moment
the previous one commits, instead of polling for it with SQLite's busy handler (which sleeps up
to 100 ms between tries, the long tail of a busy server's write latency). Writers in other
processes (a command-line import) still meet at SQLite's own lock, waiting up to the busy
timeout (30 s). With write-ahead logging, ``synchronous=NORMAL`` loses no committed transaction
when a process is killed (only a power cut can take the last few).

The schema is changed only by :func:`migrate` (``classdyad init`` and ``classdyad migrate``).
:func:`open_database` checks the schema revision and refuses a database that needs migrating,
with a message that says how to migrate it; an empty database is created at the newest schema
when ``create=True``. A database from a newer classdyad is refused rather than guessed at.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from classdyad.errors import StoreError

MIGRATIONS = Path(__file__).parent / "migrations"

#: execution option that makes a SQLite transaction start with ``BEGIN IMMEDIATE``
WRITE_OPTION = "classdyad_write"
#: how long a SQLite writer waits for the database (another process's writer, or this one's)
BUSY_TIMEOUT_SECONDS = 30.0
#: connections an engine keeps open (a web server's threads each hold one while they work)
POOL_SIZE = 40


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
    # the driver's own transaction handling is switched off: _sqlite_begin emits BEGIN itself
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={round(BUSY_TIMEOUT_SECONDS * 1000)}")
    cursor.close()


def _sqlite_transactions(engine: Engine) -> None:
    """``BEGIN`` / ``BEGIN IMMEDIATE`` for SQLite, write transactions queued on one lock.

    The lock is taken before ``BEGIN IMMEDIATE`` and given back once the transaction's
    ``COMMIT`` or ``ROLLBACK`` has run (or, at the latest, when its connection goes back to the
    pool), so the next writer never finds the database still locked.
    """
    writer = threading.Lock()
    holder: list[Any] = []  # the DBAPI connection whose transaction holds the lock
    dialect = engine.dialect
    do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

    def release(connection: Any) -> None:
        # the pool hands over its proxy of the DBAPI connection, or the DBAPI connection
        dbapi_connection = getattr(connection, "dbapi_connection", connection)
        if holder and holder[0] is dbapi_connection:
            holder.clear()
            writer.release()

    def commit(dbapi_connection: Any) -> None:
        try:
            do_commit(dbapi_connection)
        finally:
            release(dbapi_connection)

    def rollback(dbapi_connection: Any) -> None:
        try:
            do_rollback(dbapi_connection)
        finally:
            release(dbapi_connection)

    def begin(connection: sa.Connection) -> None:
        if not connection.get_execution_options().get(WRITE_OPTION, False):
            connection.exec_driver_sql("BEGIN")
            return
        dbapi_connection = connection.connection.dbapi_connection
        if not writer.acquire(timeout=BUSY_TIMEOUT_SECONDS):
            raise StoreError(f"the database is busy: another write transaction of this process "
                             f"has held it for {BUSY_TIMEOUT_SECONDS:g} s; try again (and if a "
                             "request waits for itself, let its services join its session)")
        holder.append(dbapi_connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            release(dbapi_connection)
            raise

    def checkin(dbapi_connection: Any, _record: Any) -> None:
        release(dbapi_connection)

    dialect.do_commit = commit  # type: ignore[method-assign]
    dialect.do_rollback = rollback  # type: ignore[method-assign]
    event.listen(engine, "begin", begin)
    event.listen(engine.pool, "checkin", checkin)


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
    options: dict[str, Any] = {}
    if url.startswith("postgresql") or (url.startswith("sqlite:///")
                                         and url != "sqlite:///:memory:"):
        options = {"pool_size": POOL_SIZE, "max_overflow": 10}
    try:
        engine = sa.create_engine(url, **options)
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"the database driver for {url.split('://')[0]} is not installed ({exc.name}); "
            "install classdyad with the 'postgres' extra: pip install 'classdyad[postgres]'"
        ) from exc
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"{target!s} is not a database URL or file path: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        _sqlite_transactions(engine)
    return engine


def write_engine(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions are write transactions.

    On SQLite they start with ``BEGIN IMMEDIATE``; on PostgreSQL nothing changes (rows are
    locked as they are written, ids come from sequences).
    """
    return engine.execution_options(**{WRITE_OPTION: True})


def _alembic_config(connection: sa.Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _revisions(connection: sa.Connection) -> tuple[str | None, str, set[str]]:
    """The database's revision, the newest revision, and every revision this classdyad knows."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(connection))
    current = MigrationContext.configure(connection).get_current_revision()
    known = {rev.revision for rev in script.walk_revisions()}
    head = script.get_current_head()
    assert head is not None
    return current, head, known


def _refuse_unknown(current: str | None, known: set[str]) -> None:
    if current is not None and current not in known:
        raise StoreError(
            f"the database is at schema revision {current!r}, which this version of "
            "classdyad does not know; upgrade classdyad to open it")


def schema_revision(engine: Engine) -> tuple[str | None, str]:
    """Return the database's schema revision (``None`` when empty) and the newest one."""
    with engine.connect() as connection:
        current, head, _ = _revisions(connection)
    return current, head


def migrate(engine: Engine) -> tuple[str | None, str]:
    """Bring the database to the newest schema (Alembic ``upgrade head``).

    Returns the revisions before and after. Run by ``classdyad init`` and ``classdyad
    migrate``; :func:`open_database` never migrates a database that holds a schema.

    Raises
    ------
    StoreError
        If the database is at a revision this classdyad does not know (a newer classdyad).
    """
    from alembic import command

    with write_engine(engine).begin() as connection:
        current, head, known = _revisions(connection)
        _refuse_unknown(current, known)
        if current != head:
            command.upgrade(_alembic_config(connection), "head")
    return current, head


def _has_tables(connection: sa.Connection) -> bool:
    return bool(sa.inspect(connection).get_table_names())


def check_schema(engine: Engine, *, target: str | Path = "", create: bool = False) -> None:
    """Check that the database is at the newest schema; never change a schema that exists.

    An empty database is created at the newest schema when ``create`` is true.

    Raises
    ------
    StoreError
        If the database needs migrating (the message says to run ``classdyad migrate``), is
        from a newer classdyad, or is empty and ``create`` is false.
    """
    with engine.connect() as connection:
        current, head, known = _revisions(connection)
        empty = current is None and not _has_tables(connection)
    _refuse_unknown(current, known)
    if current == head:
        return
    name = str(target) or "DATABASE"
    if empty:
        if create:
            migrate(engine)
            return
        raise StoreError(f"{name} holds no classdyad schema; create it with "
                         f"`classdyad init {name}`")
    if current is None:
        raise StoreError(f"{name} holds tables but no classdyad schema revision; it is not a "
                         "classdyad database (use another file)")
    raise StoreError(f"the database {name} is at schema revision {current}, this classdyad "
                     f"needs {head}; back the database up and run `classdyad migrate {name}`")


def open_database(target: str | Path, *, create: bool = True) -> Engine:
    """Open a study database, checking (never changing) its schema revision.

    Parameters
    ----------
    target
        A SQLite file path or a SQLAlchemy URL (``postgresql://user@host/db``).
    create
        Create the SQLite file if it does not exist, and give an empty database the newest
        schema. With ``False`` a missing file is an error.

    Raises
    ------
    StoreError
        If the database cannot be opened or created, needs migrating (run ``classdyad
        migrate``), or is from a newer classdyad.
    """
    url = database_url(target)
    if not create and url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        if not path.exists():
            raise StoreError(f"no database at {path}; create one with `classdyad init {path}`")
    engine = create_engine(target)
    try:
        check_schema(engine, target=target, create=create)
    except StoreError:
        engine.dispose()
        raise
    except sa.exc.OperationalError as exc:
        engine.dispose()
        raise StoreError(f"cannot open the database {target!s}: {exc.orig}") from exc
    except sa.exc.DatabaseError as exc:
        engine.dispose()
        raise StoreError(f"{target!s} is not a classdyad database: {exc.orig}") from exc
    return engine
