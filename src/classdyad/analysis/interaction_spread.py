"""How a teacher's interactions are spread over the students of a class.

:func:`gini` and :func:`lorenz_curve` describe inequality of interactions per hour over students
(Gini 1912; Lorenz 1905), :func:`top_share` the share of a total that goes to the top fraction of
the students (the "most-corrected fifth"). All take one value per student (rates per hour) and
return plain numbers or a small DataFrame; they are validated against a direct computation in R
(``tests/analysis/golden/teacher_feedback_reference.R``: ``ineq::Gini`` definition without the
small-sample correction, the same as ``ineq::Gini(x, corr = FALSE)``).

References
----------
Gini, C. (1912). *Variabilità e mutabilità*. Bologna: Tipografia di Paolo Cuppini.
Lorenz, M. O. (1905). Methods of measuring the concentration of wealth. *Publications of the
American Statistical Association*, 9(70), 209-219.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from classdyad.errors import DataError

__all__ = ["gini", "lorenz_curve", "top_share"]


def _values(values: np.ndarray | pd.Series | list[float], name: str) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if np.any(x < 0):
        raise DataError(f"{name} needs values >= 0 (rates per hour); got a negative value; "
                        "check the counts and minutes")
    return x


def gini(values: np.ndarray | pd.Series | list[float]) -> float:
    """Gini coefficient of non-negative values (0: all equal; towards 1: all to one student).

    ``G = 2 * sum_i i * x_(i) / (n * sum x) - (n + 1) / n`` with ``x_(i)`` sorted ascending
    (the area between the line of equality and the Lorenz curve, doubled), as
    ``ineq::Gini(x, corr = FALSE)``. Missing values are left out; ``nan`` when fewer than two
    values remain or all are zero.
    """
    x = np.sort(_values(values, "gini"))
    n = x.size
    total = x.sum()
    if n < 2 or total <= 0:
        return math.nan
    ranks = np.arange(1, n + 1)
    return float(2.0 * np.sum(ranks * x) / (n * total) - (n + 1) / n)


def lorenz_curve(values: np.ndarray | pd.Series | list[float]) -> pd.DataFrame:
    """Points of the Lorenz curve: ``student_share`` (0-1) against ``interaction_share`` (0-1).

    The students are sorted from the fewest to the most interactions per hour; the first point is
    ``(0, 0)`` and the last ``(1, 1)``. Empty when all values are zero or missing.
    """
    x = np.sort(_values(values, "lorenz_curve"))
    total = x.sum()
    if x.size == 0 or total <= 0:
        return pd.DataFrame({"student_share": [], "interaction_share": []})
    return pd.DataFrame({
        "student_share": np.arange(x.size + 1) / x.size,
        "interaction_share": np.concatenate([[0.0], np.cumsum(x) / total]),
    })


def top_share(values: np.ndarray | pd.Series | list[float], *, fraction: float = 0.2) -> float:
    """Share of the total held by the ``fraction`` of students with the highest values.

    The top group has ``ceil(fraction * n)`` students (at least one), so in a class of 23 the
    most-corrected fifth is 5 students. ``nan`` when the total is zero.
    """
    if not 0.0 < fraction <= 1.0:
        raise DataError(f"fraction={fraction!r} must be in (0, 1]; use 0.2 for the top fifth")
    x = np.sort(_values(values, "top_share"))[::-1]
    total = x.sum()
    if x.size == 0 or total <= 0:
        return math.nan
    k = max(1, math.ceil(fraction * x.size - 1e-9))
    return float(x[:k].sum() / total)
