"""Opening the study database for one command, and closing it whatever happens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine

from classdyad.model import StudyTables


@contextmanager
def opened(database: str, *, create: bool = False) -> Iterator[Engine]:
    """An engine on ``database`` (a SQLite path or URL) for the length of a ``with`` block."""
    from classdyad.store import open_database

    engine = open_database(database, create=create)
    try:
        yield engine
    finally:
        engine.dispose()


def load_study(database: str, study: str | None = None) -> StudyTables:
    """Read a whole stored study (without names)."""
    from classdyad.store import read_study

    with opened(database) as engine:
        return read_study(engine, study)
