"""The seed study: its analysis dataset, scores, regressions and analysis plan (H1-H5).

The Dutch-Flemish study of teacher-student relationships and daily dyadic interactions is one
study design among many that the generic statistics (:mod:`classdyad.mixed`,
:mod:`classdyad.analysis`, :mod:`classdyad.measures`) can carry; everything that knows *this*
design lives here: how the study's tables become one row per student x wave, how its
questionnaires, IATs and double codings are scored, which models test its hypotheses, and the
regressions the R and Mplus exports write.
"""

from classdyad.study.dataset import (
    DATASET_COLUMNS,
    aggregate_by_student,
    analysis_events,
    build_analysis_dataset,
    describe_columns,
    interaction_rates,
    rate_ratio,
)
from classdyad.study.models import STUDY_MODELS, relationship_gap_models
from classdyad.study.plan import StudyPlanResult, study_plan
from classdyad.study.published_findings import (
    PUBLISHED_CLAIMS,
    PublishedComparison,
    compare_with_published,
)

__all__ = [
    "DATASET_COLUMNS",
    "PUBLISHED_CLAIMS",
    "STUDY_MODELS",
    "PublishedComparison",
    "StudyPlanResult",
    "aggregate_by_student",
    "analysis_events",
    "build_analysis_dataset",
    "compare_with_published",
    "describe_columns",
    "interaction_rates",
    "rate_ratio",
    "relationship_gap_models",
    "study_plan",
]
