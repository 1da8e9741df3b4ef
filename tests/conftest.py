"""Shared fixtures: small replica studies and SQLite files in temporary folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

from classdyad.simulate import ReplicaDesign, SimulatedStudy, simulate_study

# Property tests draw their examples from a fixed seed, so every run tests the same cases.
settings.register_profile("classdyad", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("classdyad")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def small_study() -> SimulatedStudy:
    """A 4-school replica (fixed seed): fast enough for every test that needs a whole study."""
    design = ReplicaDesign(schools=4, classes=8, students=170, second_coder_lesson_share=0.1)
    return simulate_study(design, rng=7)


@pytest.fixture(scope="session")
def replica_study() -> SimulatedStudy:
    """The full replica of the seed study (default design, fixed seed)."""
    return simulate_study(rng=20260101)


@pytest.fixture()
def database_path(tmp_path: Path) -> Path:
    return tmp_path / "study.sqlite"
