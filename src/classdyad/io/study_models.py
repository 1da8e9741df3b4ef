"""The study's mixed models, as the Mplus and R exports write them.

The seed study relates relationship quality (closeness and conflict, rated by the teacher and by
the student) to the rates of negative and positive teacher-student interactions per hour and the
student's background (low SES, non-western migration background) and gender, with students
nested in classes. Each :class:`StudyModel` is one such regression: an outcome, its predictors
and the clustering; the R export writes it as an ``lme4::lmer`` call with a random intercept per
class (and per student when a student has several rows, one per wave), the Mplus export as a
``TYPE = TWOLEVEL`` random-intercept model or a ``TYPE = COMPLEX`` regression with class-cluster
standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass

#: predictors of every study model, in order
STUDY_PREDICTORS: tuple[str, ...] = ("negative_rate", "positive_rate", "low_ses", "non_western",
                                     "boy")


@dataclass(frozen=True)
class StudyModel:
    """One regression of the study: ``outcome ~ predictors`` with students nested in classes."""

    name: str
    outcome: str
    predictors: tuple[str, ...] = STUDY_PREDICTORS
    cluster: str = "classroom"
    repeated: str = "student"
    formula: str | None = None
    """A complete ``lme4`` formula in R syntax; when given it is used as it is."""
    rows: str | None = None
    """An R expression selecting the rows the model uses (``None``: every row)."""
    columns: tuple[str, ...] = ()
    """Further columns the formula or the row selection needs."""

    def lme4_formula(self, *, repeated_measures: bool) -> str:
        """The ``lme4`` formula (a student intercept too when students have several rows)."""
        if self.formula is not None:
            return self.formula
        random = f"(1 | {self.cluster})"
        if repeated_measures:
            random += f" + (1 | {self.repeated})"
        return f"{self.outcome} ~ {' + '.join(self.predictors)} + {random}"


STUDY_MODELS: tuple[StudyModel, ...] = (
    StudyModel("teacher_closeness", "teacher_closeness"),
    StudyModel("teacher_conflict", "teacher_conflict"),
    StudyModel("student_closeness", "student_closeness"),
    StudyModel("student_conflict", "student_conflict"),
)

__all__ = ["STUDY_MODELS", "STUDY_PREDICTORS", "StudyModel"]
