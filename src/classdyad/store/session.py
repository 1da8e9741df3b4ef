"""The unit of work: one session, one transaction, for everything a command or a request writes.

A caller (a CLI command, a web request) opens one :class:`~sqlalchemy.orm.Session` with
:func:`unit_of_work` (or, as a FastAPI dependency, :func:`get_session`), hands it to the entity
functions of :mod:`classdyad.store` (which add and flush, never commit), and the whole set of
changes -- an event, its audit entry and its lesson's coding status, say -- is committed
together at the end, or rolled back together if anything fails. On SQLite the transaction is a
write transaction from its first statement (``BEGIN IMMEDIATE``), so what the work reads is what
it writes into.

The bulk importers take the same session (or an engine, for a transaction of their own):
:func:`write_scope` gives them a Core connection inside the caller's transaction.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from classdyad.store.engine import write_engine

_FACTORIES: weakref.WeakKeyDictionary[Engine, sessionmaker[Session]] = (
    weakref.WeakKeyDictionary())


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """The session factory of an engine (one per engine): write sessions, objects kept usable
    after commit (``expire_on_commit=False``)."""
    factory = _FACTORIES.get(engine)
    if factory is None:
        factory = sessionmaker(bind=write_engine(engine), expire_on_commit=False)
        _FACTORIES[engine] = factory
    return factory


def get_session(engine: Engine) -> Iterator[Session]:
    """Yield a session whose work is committed when the caller is done, rolled back on error.

    A generator in the style of a FastAPI dependency (``Depends``); :func:`unit_of_work` is the
    same as a ``with`` block.
    """
    with session_factory(engine)() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """``with unit_of_work(engine) as session:`` -- commit at the end, roll back on error."""
    yield from get_session(engine)


@contextmanager
def write_scope(target: Engine | Session | sa.Connection) -> Iterator[sa.Connection]:
    """A Core connection in a write transaction: the session's own (committed by its owner),
    the connection itself, or, for an engine, a transaction of its own committed at the end."""
    if isinstance(target, Session):
        yield target.connection()
    elif isinstance(target, sa.Connection):
        yield target
    else:
        with write_engine(target).begin() as connection:
            yield connection


__all__ = ["get_session", "session_factory", "unit_of_work", "write_scope"]
