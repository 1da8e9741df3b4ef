"""The analysis dataset, mixed models, count models, mediation, moderation and negativity bias.

DataFrames in, results out.
"""

from classdyad.analysis.dataset import (
    DATASET_COLUMNS,
    aggregate_by_student,
    build_analysis_dataset,
    describe_columns,
    interaction_rates,
    rate_ratio,
)
from classdyad.analysis.centering import center
from classdyad.analysis.generalized_mixed import GeneralizedMixedModelResult, glmm
from classdyad.analysis.linear_mixed import LinearMixedModelResult, lmm
from classdyad.analysis.mixed_results import MixedModelResult

__all__ = [
    "DATASET_COLUMNS",
    "GeneralizedMixedModelResult",
    "LinearMixedModelResult",
    "MixedModelResult",
    "aggregate_by_student",
    "build_analysis_dataset",
    "center",
    "describe_columns",
    "glmm",
    "interaction_rates",
    "lmm",
    "rate_ratio",
]
