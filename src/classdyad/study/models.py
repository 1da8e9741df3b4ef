"""The seed study's regressions, as the Mplus and R exports write them.

The seed study relates relationship quality (closeness and conflict, rated by the teacher and by
the student) to the rates of negative and positive teacher-student interactions per hour and the
student's background (low SES, non-western migration background) and gender, with students
nested in classes (:class:`classdyad.io.RegressionModel`).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from classdyad.io.regression_model import RegressionModel
from classdyad.study.gaps import (
    CONTRAST_BACKGROUNDS,
    CONTRASTS,
    RELATIONSHIP_OUTCOMES,
    relationship_gap_formula,
)

#: predictors of every study model, in order
STUDY_PREDICTORS: tuple[str, ...] = ("negative_rate", "positive_rate", "low_ses", "non_western",
                                     "boy")



def study_model(name: str, outcome: str, **fields: Any) -> RegressionModel:
    """One regression of the study: the study's predictors unless others are given."""
    return RegressionModel(name, outcome, **{"predictors": STUDY_PREDICTORS, **fields})


STUDY_MODELS: tuple[RegressionModel, ...] = (
    study_model("teacher_closeness", "teacher_closeness"),
    study_model("teacher_conflict", "teacher_conflict"),
    study_model("student_closeness", "student_closeness"),
    study_model("student_conflict", "student_conflict"),
)

def relationship_gap_models(data: pd.DataFrame) -> list[RegressionModel]:
    """The study plan's relationship-gap models (H1) as R models, each on its own rows."""

    models = []
    for contrast in CONTRASTS:
        for outcome in RELATIONSHIP_OUTCOMES:
            if outcome not in data.columns or data[outcome].notna().sum() < 10:
                continue
            formula, _ = relationship_gap_formula(data, outcome=outcome, contrast=contrast)
            rows = None
            if contrast in CONTRAST_BACKGROUNDS:
                quoted = ", ".join(f'"{b}"' for b in CONTRAST_BACKGROUNDS[contrast])
                rows = f"migration_background %in% c({quoted})"
            models.append(study_model(
                name=f"H1_{outcome}_{contrast}", outcome=outcome,
                formula=re.sub(r"C\((\w+)\)", r"factor(\1)", formula), rows=rows,
                columns=(*CONTRASTS[contrast], "boy", "school", "classroom", "student",
                         "migration_background")))
    return models


__all__ = ["STUDY_MODELS", "STUDY_PREDICTORS", "relationship_gap_models", "study_model"]
