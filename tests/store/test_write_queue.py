"""SQLite write transactions of one process queue on the engine's lock, and always give it back."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from classdyad.store.engine import create_engine, write_engine


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(tmp_path / "queue.sqlite")
    with write_engine(engine).begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    yield engine
    engine.dispose()


def _in_thread(work, timeout: float = 20.0) -> None:
    """Run ``work`` in a thread; fail (instead of hanging) if it does not finish."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "a write transaction waited for a lock nobody holds"
    assert not errors, errors


def test_one_connection_writes_again_after_commit_rollback_and_error(engine) -> None:
    def work() -> None:
        with write_engine(engine).connect() as connection:
            connection.begin()
            connection.exec_driver_sql("UPDATE counter SET n = n + 1")
            connection.commit()
            connection.begin()
            connection.exec_driver_sql("UPDATE counter SET n = n + 100")
            connection.rollback()
        with pytest.raises(sa.exc.OperationalError), Session(write_engine(engine)) as session:
            session.execute(sa.text("UPDATE counter SET n = n + 1"))
            session.execute(sa.text("UPDATE no_such_table SET n = 1"))
        with Session(write_engine(engine)) as session:  # not left holding the lock
            session.execute(sa.text("UPDATE counter SET n = n + 1"))
            session.commit()

    _in_thread(work)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT n FROM counter").scalar() == 2


def test_simultaneous_read_then_write_transactions_all_succeed(engine) -> None:
    """Each transaction reads the counter and writes it back plus one: without the queue (and
    BEGIN IMMEDIATE) they would overwrite each other's updates or fail as locked."""
    def add_one(_: int) -> None:
        with Session(write_engine(engine)) as session:
            n = session.execute(sa.text("SELECT n FROM counter")).scalar_one()
            session.execute(sa.text("UPDATE counter SET n = :n"), {"n": n + 1})
            session.commit()

    def work() -> None:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(add_one, range(400)))

    _in_thread(work, timeout=120.0)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT n FROM counter").scalar() == 400


def test_a_writer_waiting_for_itself_gets_an_error_not_a_hang(engine, monkeypatch) -> None:
    """A request that held a write transaction and opened a second one of its own (a service
    not joining the request's session) would wait for itself: it is told after the busy
    timeout instead."""
    from classdyad.errors import StoreError
    from classdyad.store import engine as engine_module

    monkeypatch.setattr(engine_module, "BUSY_TIMEOUT_SECONDS", 0.2)

    def work() -> None:
        with Session(write_engine(engine)) as outer:
            outer.execute(sa.text("UPDATE counter SET n = n + 1"))
            with pytest.raises(StoreError, match="busy"), \
                    Session(write_engine(engine)) as inner:
                inner.execute(sa.text("UPDATE counter SET n = n + 1"))
            outer.commit()

    _in_thread(work)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT n FROM counter").scalar() == 1
