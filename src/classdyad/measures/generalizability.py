"""A generalizability D-study: how many observed lessons per student give reliable rates.

A student's rate of, say, negative interactions (per hour) varies from lesson to lesson. Observing
more lessons averages that variation out. In generalizability theory this is a design with lessons
nested within students, ``r:p`` (Brennan, 2001, sec. 7.1; Shavelson & Webb, 1991, ch. 3 and 7),
because each student's lessons are their own class's lessons. Its G-study estimates two variance
components from the observed rates ``X[p, r]``:

* ``var_p``, the student (universe score) variance, and
* ``var_rp``, lessons within students confounded with the residual (``r:p, e``).

With ``a`` students, ``n_p`` lessons of student ``p`` and ``N = sum n_p`` observations, the
one-way random-effects ANOVA estimators are (unbalanced designs: Brennan, 2001, sec. 7.1.1,
``n~`` below; equal to the REML estimates in balanced designs when ``var_p`` > 0)::

    var_rp = MS_within
    var_p  = (MS_between - MS_within) / n~,   n~ = (N - sum n_p^2 / N) / (a - 1)

A negative ``var_p`` estimate is set to 0 (Brennan, 2001, sec. 3.4) with a
:class:`~classdyad.errors.SingularFitWarning`.

The D-study projects to ``n'`` lessons per student. In the ``r:p`` design relative and absolute
error variances coincide, ``var_rp / n'``, so the generalizability coefficient and the index of
dependability are both::

    G(n') = var_p / (var_p + var_rp / n')

which is the Spearman-Brown formula with single-lesson reliability ``G(1)``. The number of lessons
needed for a target reliability ``G*`` is the smallest integer
``n' >= G* / (1 - G*) * var_rp / var_p``.

Validated against ``lme4::lmer(rate ~ 1 + (1 | student))`` (REML) on a balanced simulated design
and against the ANOVA formulas evaluated in R on an unbalanced one
(``tests/measures/golden/agreement_generalizability.R``).

References
----------
Brennan, R. L. (2001). *Generalizability theory*. Springer.

Shavelson, R. J., & Webb, N. M. (1991). *Generalizability theory: A primer*. Sage.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from classdyad.errors import DataError, SingularFitWarning, UndefinedStatisticWarning

__all__ = ["DStudy", "d_study"]


@dataclass(frozen=True)
class DStudy:
    """Variance components of per-lesson rates and the projected reliability of their means.

    Attributes
    ----------
    variance_components
        ``component`` (``"student"``, ``"lesson:student, residual"``), ``variance`` and
        ``proportion`` of the total.
    projection
        ``n_lessons`` and ``g_coefficient`` (= index of dependability in this design) for the
        lesson counts asked for.
    target_reliability
        The reliability aimed at.
    lessons_needed
        Smallest number of lessons per student reaching the target; ``nan`` if unreachable
        (no student variance).
    n_students, n_observations
        Students and student-lesson rates used.
    n_tilde
        The effective number of lessons per student in the G-study (``n~``).
    """

    variance_components: pd.DataFrame
    projection: pd.DataFrame
    target_reliability: float
    lessons_needed: float
    n_students: int
    n_observations: int
    n_tilde: float

    def to_frame(self) -> pd.DataFrame:
        """The D-study projection: ``n_lessons, g_coefficient`` per row."""
        return self.projection.copy()

    def _repr_html_(self) -> str:
        need = ("not reachable" if math.isnan(self.lessons_needed)
                else f"{int(self.lessons_needed)} lesson(s) per student")
        return (f"<p><b>D-study</b>: {self.n_students} students, {self.n_observations} "
                f"student-lesson rates; target reliability {self.target_reliability:g}: "
                f"{need}</p>" + self.variance_components.to_html(index=False)
                + self.projection.to_html(index=False))


def d_study(data: pd.DataFrame, *, student: str, rate: str, target_reliability: float = 0.8,
            lessons: Sequence[int] = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20)) -> DStudy:
    """Generalizability D-study of per-student rates in a lessons-within-students design.

    Parameters
    ----------
    data
        One row per student and observed lesson: the student's rate in that lesson (e.g.
        negative interactions per hour).
    student, rate
        Column names.
    target_reliability
        The generalizability coefficient to reach (default 0.80).
    lessons
        Numbers of lessons per student to project the coefficient for.

    Returns
    -------
    DStudy
        Variance components, the projection table (``.to_frame()``) and ``lessons_needed``.

    Notes
    -----
    ``G(n') = var_p / (var_p + var_rp / n')`` with ANOVA estimates of the components (Brennan,
    2001, ch. 7; Shavelson & Webb, 1991); see the module docstring. Validated against
    ``lme4::lmer`` (REML) on balanced data.

    Examples
    --------
    >>> import pandas as pd
    >>> rates = pd.DataFrame({"student": [1, 1, 2, 2, 3, 3],
    ...                       "rate": [2.0, 4.0, 6.0, 8.0, 1.0, 1.0]})
    >>> d_study(rates, student="student", rate="rate").lessons_needed
    1.0
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in (student, rate) if c not in data.columns]
    if missing:
        raise DataError(f"data lacks the column(s) {', '.join(map(repr, missing))}; name the "
                        f"student and rate columns with student= and rate=")
    if not 0 < target_reliability < 1:
        raise DataError(f"target_reliability={target_reliability!r} must lie strictly between "
                        f"0 and 1, e.g. 0.8")
    projected = [int(n) for n in lessons]
    if not projected or min(projected) < 1:
        raise DataError("lessons= must list positive numbers of lessons, e.g. (1, 2, 4, 8)")
    values = pd.to_numeric(data[rate], errors="coerce")
    if (values.isna() & data[rate].notna()).any():
        raise DataError(f"column {rate!r} holds non-numeric values; rates must be numbers")
    if data[student].isna().any():
        raise DataError(f"column {student!r} has missing student ids; fill them in or drop "
                        f"those rows")
    frame = pd.DataFrame({"student": data[student].to_numpy(), "rate": values.to_numpy()})
    frame = frame.dropna(subset=["rate"])
    sizes = frame.groupby("student", sort=False)["rate"].size()
    a = len(sizes)
    total = len(frame)
    if a < 2 or total - a < 1:
        raise DataError(f"a D-study needs at least 2 students and at least one student with "
                        f"2 or more lessons; got {a} student(s) and {total} rate(s)")
    means = frame.groupby("student", sort=False)["rate"].transform("mean").to_numpy()
    grand = frame["rate"].mean()
    student_means = frame.groupby("student", sort=False)["rate"].mean()
    ms_between = float((sizes * (student_means - grand) ** 2).sum() / (a - 1))
    ms_within = float(((frame["rate"].to_numpy() - means) ** 2).sum() / (total - a))
    n_tilde = (total - float((sizes**2).sum()) / total) / (a - 1)
    var_rp = ms_within
    var_p = (ms_between - ms_within) / n_tilde
    if var_p < 0:
        warnings.warn(f"the student variance component was estimated below zero ({var_p:.4g}) "
                      f"and set to 0: rates do not differ between students beyond lesson-to-"
                      f"lesson variation", SingularFitWarning, stacklevel=2)
        var_p = 0.0
    total_var = var_p + var_rp
    components = pd.DataFrame({
        "component": ["student", "lesson:student, residual"],
        "variance": [var_p, var_rp],
        "proportion": [var_p / total_var if total_var > 0 else np.nan,
                       var_rp / total_var if total_var > 0 else np.nan],
    })
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.array([var_p / (var_p + var_rp / n) for n in projected], dtype=float)
    if var_p > 0:
        needed = float(max(1, math.ceil(target_reliability / (1 - target_reliability)
                                        * var_rp / var_p - 1e-9)))
    else:
        needed = np.nan
    if total_var == 0:
        warnings.warn("the rates do not vary at all, so the generalizability coefficient is "
                      "undefined; returned nan", UndefinedStatisticWarning, stacklevel=2)
    return DStudy(
        variance_components=components,
        projection=pd.DataFrame({"n_lessons": projected, "g_coefficient": g}),
        target_reliability=float(target_reliability), lessons_needed=needed,
        n_students=a, n_observations=total, n_tilde=float(n_tilde))
