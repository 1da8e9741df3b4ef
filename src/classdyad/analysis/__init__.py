"""Generic path models on DataFrames: mediation, moderation, negativity bias, teacher feedback.

DataFrames in, results out. The mixed-model engine is :mod:`classdyad.mixed`; the seed study's
dataset and analysis plan are :mod:`classdyad.study`. Their names are still reachable from here
for one release, with a ``DeprecationWarning`` (:data:`MOVED`).
"""

import importlib
import warnings
from typing import Any

from classdyad.analysis.centering import center
from classdyad.analysis.mediation import MediationResult, mediation
from classdyad.analysis.moderation import (
    CrossLevelModerationResult,
    ModeratedMediationResult,
    cross_level_moderation,
    moderated_mediation,
)
from classdyad.analysis.negativity_bias import NegativityBiasResult, negativity_bias
from classdyad.analysis.random_slope_mediation import (
    RandomSlopeMediationResult,
    random_slope_mediation,
)
from classdyad.analysis.teacher_feedback import teacher_feedback
from classdyad.analysis.teacher_feedback_results import TeacherFeedbackResult

#: names that moved out of ``classdyad.analysis`` -> their new module
MOVED = {
    "GeneralizedMixedModelResult": "classdyad.mixed",
    "LinearMixedModelResult": "classdyad.mixed",
    "MixedModelResult": "classdyad.mixed",
    "glmm": "classdyad.mixed",
    "lmm": "classdyad.mixed",
    "DATASET_COLUMNS": "classdyad.study",
    "StudyPlanResult": "classdyad.study",
    "aggregate_by_student": "classdyad.study",
    "build_analysis_dataset": "classdyad.study",
    "describe_columns": "classdyad.study",
    "interaction_rates": "classdyad.study",
    "rate_ratio": "classdyad.study",
    "study_plan": "classdyad.study",
}


def __getattr__(name: str) -> Any:
    # moved names, imported on first use (the new packages sit above this one in the layers)
    if name in MOVED:
        warnings.warn(f"classdyad.analysis.{name} has moved; import it from {MOVED[name]}",
                      DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(MOVED[name]), name)
    raise AttributeError(f"module 'classdyad.analysis' has no attribute {name!r}")


__all__ = [
    "CrossLevelModerationResult",
    "MediationResult",
    "ModeratedMediationResult",
    "NegativityBiasResult",
    "RandomSlopeMediationResult",
    "TeacherFeedbackResult",
    "center",
    "cross_level_moderation",
    "mediation",
    "moderated_mediation",
    "negativity_bias",
    "random_slope_mediation",
    "teacher_feedback",
]
