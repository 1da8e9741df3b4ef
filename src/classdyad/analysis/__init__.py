"""The analysis dataset, mixed models, count models, mediation, moderation and negativity bias.

DataFrames in, results out.
"""

from classdyad.analysis.centering import center
from classdyad.analysis.dataset import (
    DATASET_COLUMNS,
    aggregate_by_student,
    build_analysis_dataset,
    describe_columns,
    interaction_rates,
    rate_ratio,
)
from classdyad.analysis.generalized_mixed import GeneralizedMixedModelResult, glmm
from classdyad.analysis.linear_mixed import LinearMixedModelResult, lmm
from classdyad.analysis.mediation import MediationResult, mediation
from classdyad.analysis.mixed_results import MixedModelResult
from classdyad.analysis.moderation import (
    CrossLevelModerationResult,
    ModeratedMediationResult,
    cross_level_moderation,
    moderated_mediation,
)
from classdyad.analysis.negativity_bias import NegativityBiasResult, negativity_bias
from classdyad.analysis.study_plan import StudyPlanResult, study_plan

__all__ = [
    "DATASET_COLUMNS",
    "CrossLevelModerationResult",
    "GeneralizedMixedModelResult",
    "LinearMixedModelResult",
    "MediationResult",
    "MixedModelResult",
    "ModeratedMediationResult",
    "NegativityBiasResult",
    "StudyPlanResult",
    "aggregate_by_student",
    "build_analysis_dataset",
    "center",
    "cross_level_moderation",
    "describe_columns",
    "glmm",
    "interaction_rates",
    "lmm",
    "mediation",
    "moderated_mediation",
    "negativity_bias",
    "rate_ratio",
    "study_plan",
]
