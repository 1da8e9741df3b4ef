"""Shared fixtures: small replica studies and SQLite files in temporary folders."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import settings

from classdyad.simulate import ReplicaDesign, SimulatedStudy, simulate_study
from classdyad.store import open_database, write_study

# Property tests draw their examples from a fixed seed, so every run tests the same cases.
settings.register_profile("classdyad", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("classdyad")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def small_study() -> SimulatedStudy:
    """A 4-school replica (fixed seed): fast enough for every test that needs a whole study."""
    design = ReplicaDesign(schools=4, classes=8, students=170, second_coder_lesson_share=0.1)
    return simulate_study(design, rng=7)


def copy_sqlite_database(source: Path, target: Path) -> Path:
    """Copy a SQLite study database page by page (SQLite's backup API, safe with WAL)."""
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)
    return target


@pytest.fixture(scope="session")
def small_study_database(small_study: SimulatedStudy,
                         tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small study written once to a SQLite file, to be copied, never opened in place."""
    path = tmp_path_factory.mktemp("small_study_database") / "study.sqlite"
    engine = open_database(path)
    try:
        write_study(engine, small_study.tables)
    finally:
        engine.dispose()
    return path


@pytest.fixture(scope="session")
def copy_small_study(small_study_database: Path) -> Callable[[Path], Path]:
    """``copy(path)`` puts a fresh copy of the stored small study at ``path`` (a SQLite file):
    the same database that ``write_study(open_database(path), small_study.tables)`` makes,
    without writing the study again for every test."""
    return lambda target: copy_sqlite_database(small_study_database, target)


@pytest.fixture(scope="session")
def replica_study() -> SimulatedStudy:
    """The full replica of the seed study (default design, fixed seed)."""
    return simulate_study(rng=20260101)


@pytest.fixture()
def database_path(tmp_path: Path) -> Path:
    return tmp_path / "study.sqlite"
