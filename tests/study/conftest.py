"""Fixtures of the study tests: the full replica's analysis dataset and its analysis plan."""

from __future__ import annotations

import pandas as pd
import pytest

from classdyad.study import build_analysis_dataset
from classdyad.study.plan import StudyPlanResult, study_plan


@pytest.fixture(scope="session")
def replica_dataset(replica_study) -> pd.DataFrame:
    return build_analysis_dataset(replica_study.tables)


@pytest.fixture(scope="session")
def plan(replica_dataset) -> StudyPlanResult:
    """The analysis plan on the full replica (default seed; Monte Carlo seed 1)."""
    return study_plan(replica_dataset, rng=1, n_draws=2000)
