"""A regression as the Mplus and R exports write it.

Each :class:`RegressionModel` is an outcome, its predictors and the clustering (students nested in
classes); the R export writes it as an ``lme4::lmer`` call with a random intercept per class (and
per student when a student has several rows, one per wave), the Mplus export as a
``TYPE = TWOLEVEL`` random-intercept model or a ``TYPE = COMPLEX`` regression with class-cluster
standard errors. Which regressions a study fits is the study's business
(:mod:`classdyad.study.models`); the writers take them as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegressionModel:
    """One regression to export: ``outcome ~ predictors`` with students nested in classes."""

    name: str
    outcome: str
    predictors: tuple[str, ...]
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


__all__ = ["RegressionModel"]
