"""The six intraclass correlations of Shrout & Fleiss (1979), with F tests and confidence intervals.

``n`` targets (here: students) are each rated by the same ``k`` raters (here: coders; the rating is
e.g. the number of negative interactions a coder recorded for the student). From the two-way
analysis of variance without replication, with mean squares ``BMS`` (between targets, ``n - 1``
df), ``JMS`` (between raters, ``k - 1`` df), ``EMS`` (residual, ``(n - 1)(k - 1)`` df) and ``WMS``
(within targets, pooling raters and residual, ``n (k - 1)`` df):

=======  ====================================================  =================================
form     coefficient                                           model
=======  ====================================================  =================================
ICC1     (BMS - WMS) / (BMS + (k - 1) WMS)                     one-way random, single rater
ICC2     (BMS - EMS) / (BMS + (k - 1) EMS + k (JMS - EMS) / n) two-way random, absolute agreement
ICC3     (BMS - EMS) / (BMS + (k - 1) EMS)                     two-way mixed, consistency
ICC1k    (BMS - WMS) / BMS                                     mean of k raters
ICC2k    (BMS - EMS) / (BMS + (JMS - EMS) / n)                 mean of k raters
ICC3k    (BMS - EMS) / BMS                                     mean of k raters
=======  ====================================================  =================================

F tests: ``BMS / WMS`` on ``(n - 1, n (k - 1))`` df for ICC1 and ICC1k, ``BMS / EMS`` on
``(n - 1, (n - 1)(k - 1))`` for the others. Confidence intervals follow Shrout & Fleiss (1979,
Table 4) as ``psych::ICC`` computes them: exact F-based bounds for ICC1 and ICC3 (and their
``k`` forms), and for ICC2 the approximation with Satterthwaite degrees of freedom ``v``::

    v = (k - 1)(n - 1) (k ICC2 Fj + n (1 + (k - 1) ICC2) - k ICC2)^2 /
        ((n - 1) k^2 ICC2^2 Fj^2 + (n (1 + (k - 1) ICC2) - k ICC2)^2),   Fj = JMS / EMS
    lower = n (BMS - F* EMS) / (F* (k JMS + (k n - k - n) EMS) + n BMS),  F* = F(1 - a/2; n - 1, v)
    upper = n (F' BMS - EMS) / (k JMS + (k n - k - n) EMS + n F' BMS),    F' = F(1 - a/2; v, n - 1)

and the ICC2k bounds by the Spearman-Brown step-up of those of ICC2.

Targets with a missing rating are left out (with a :class:`~classdyad.errors.DataWarning`). A form
whose denominator is zero (all ratings equal) is ``nan`` with an
:class:`~classdyad.errors.UndefinedStatisticWarning`.

Validated against ``psych::ICC(x, lmer = FALSE)`` (psych 2.2.9, R 4.2.2) on the ``anxiety`` data of
the R package irr (20 subjects x 3 raters) and on Shrout & Fleiss's (1979) example of 6 targets x
4 judges, whose published coefficients (.17, .29, .71, .44, .62, .91) are checked too
(``tests/measures/golden/icc_shrout_fleiss.R``). psych's default ``lmer = TRUE`` gives the same
numbers whenever no variance component is estimated at zero.

References
----------
McGraw, K. O., & Wong, S. P. (1996). Forming inferences about some intraclass correlation
coefficients. *Psychological Methods*, 1(1), 30-46.

Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: Uses in assessing rater
reliability. *Psychological Bulletin*, 86(2), 420-428.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from classdyad.errors import DataError, DataWarning, UndefinedStatisticWarning

__all__ = ["IntraclassCorrelation", "icc_from_matrix", "intraclass_correlation"]

_FORMS = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
_DESCRIPTIONS = (
    "single rater, absolute agreement, one-way random",
    "single random rater, absolute agreement, two-way random",
    "single fixed rater, consistency, two-way mixed",
    "mean of k raters, absolute agreement, one-way random",
    "mean of k random raters, absolute agreement, two-way random",
    "mean of k fixed raters, consistency, two-way mixed",
)


@dataclass(frozen=True)
class IntraclassCorrelation:
    """The six Shrout & Fleiss intraclass correlations.

    Attributes
    ----------
    table
        One row per form (``ICC1``, ``ICC2``, ``ICC3``, ``ICC1k``, ``ICC2k``, ``ICC3k``) with
        ``form, description, icc, f, df1, df2, p_value, ci_lower, ci_upper``.
    n_targets, n_raters
        Targets (complete cases) and raters used.
    confidence
        Level of the intervals.
    mean_squares
        ``BMS``, ``JMS``, ``EMS``, ``WMS`` with their degrees of freedom.
    """

    table: pd.DataFrame
    n_targets: int
    n_raters: int
    confidence: float
    mean_squares: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The six forms, one row each (a copy of :attr:`table`)."""
        return self.table.copy()

    def icc(self, form: str) -> float:
        """The coefficient of one form, e.g. ``result.icc("ICC2")``."""
        if form not in _FORMS:
            raise DataError(f"form={form!r} is not an ICC form; use one of {', '.join(_FORMS)}")
        return float(self.table.set_index("form").loc[form, "icc"])

    def _repr_html_(self) -> str:
        return (f"<p><b>Intraclass correlations</b> (Shrout &amp; Fleiss, 1979): "
                f"{self.n_targets} targets, {self.n_raters} raters, "
                f"{self.confidence:.0%} CI</p>" + self.table.to_html(index=False))


def _mean_squares(x: np.ndarray) -> tuple[float, float, float, float]:
    n, k = x.shape
    grand = x.mean()
    ss_between = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_raters = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_total = ((x - grand) ** 2).sum()
    ss_error = max(ss_total - ss_between - ss_raters, 0.0)
    bms = ss_between / (n - 1)
    jms = ss_raters / (k - 1)
    ems = ss_error / ((n - 1) * (k - 1))
    wms = (ss_raters + ss_error) / (n * (k - 1))
    return bms, jms, ems, wms


def _icc_arrays(bms: np.ndarray, jms: np.ndarray, ems: np.ndarray, wms: np.ndarray,
                n: np.ndarray, k: np.ndarray, confidence: float) -> dict[str, np.ndarray]:
    """The six forms for arrays of mean squares (one entry per data set); shape (6, m)."""
    bms, jms, ems, wms = (np.asarray(v, dtype=float) for v in (bms, jms, ems, wms))
    n = np.asarray(n, dtype=float)
    k = np.asarray(k, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        icc = np.stack([
            (bms - wms) / (bms + (k - 1) * wms),
            (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n),
            (bms - ems) / (bms + (k - 1) * ems),
            (bms - wms) / bms,
            (bms - ems) / (bms + (jms - ems) / n),
            (bms - ems) / bms,
        ])
        icc[~np.isfinite(icc)] = np.nan
        df1n, df1d = n - 1, n * (k - 1)
        df2n, df2d = n - 1, (n - 1) * (k - 1)
        f1 = bms / wms
        f2 = bms / ems
        f1 = np.where(np.isfinite(f1), f1, np.nan)
        f2 = np.where(np.isfinite(f2), f2, np.nan)
        tail = 1 - (1 - confidence) / 2
        f1_low = f1 / stats.f.ppf(tail, df1n, df1d)
        f1_high = f1 * stats.f.ppf(tail, df1d, df1n)
        f3_low = f2 / stats.f.ppf(tail, df2n, df2d)
        f3_high = f2 * stats.f.ppf(tail, df2d, df2n)
        icc2 = icc[1]
        fj = jms / ems
        a = n * (1 + (k - 1) * icc2) - k * icc2
        v = (k - 1) * (n - 1) * (k * icc2 * fj + a) ** 2 / (
            (n - 1) * k**2 * icc2**2 * fj**2 + a**2)
        v = np.where(np.isfinite(v) & (v > 0), v, np.nan)
        f_star = stats.f.ppf(tail, n - 1, v)
        f_prime = stats.f.ppf(tail, v, n - 1)
        spread = k * jms + (k * n - k - n) * ems
        low2 = n * (bms - f_star * ems) / (f_star * spread + n * bms)
        high2 = n * (f_prime * bms - ems) / (spread + n * f_prime * bms)
        lower = np.stack([
            (f1_low - 1) / (f1_low + k - 1), low2, (f3_low - 1) / (f3_low + k - 1),
            1 - 1 / f1_low, low2 * k / (1 + low2 * (k - 1)), 1 - 1 / f3_low,
        ])
        upper = np.stack([
            (f1_high - 1) / (f1_high + k - 1), high2, (f3_high - 1) / (f3_high + k - 1),
            1 - 1 / f1_high, high2 * k / (1 + high2 * (k - 1)), 1 - 1 / f3_high,
        ])
    lower[np.isnan(icc)] = np.nan
    upper[np.isnan(icc)] = np.nan
    f = np.stack([f1, f2, f2, f1, f2, f2])
    p = np.where(np.isfinite(f), stats.f.sf(f, np.stack([df1n, df2n, df2n, df1n, df2n, df2n]),
                                            np.stack([df1d, df2d, df2d, df1d, df2d, df2d])),
                 np.nan)
    return {"icc": icc, "f": f, "df1": np.stack([df1n, df2n, df2n, df1n, df2n, df2n]),
            "df2": np.stack([df1d, df2d, df2d, df1d, df2d, df2d]), "p_value": p,
            "ci_lower": lower, "ci_upper": upper}


def icc_from_matrix(ratings: np.ndarray, *, confidence: float = 0.95) -> IntraclassCorrelation:
    """The six intraclass correlations from a complete targets x raters matrix.

    See :func:`intraclass_correlation` for the long-format interface and the module docstring
    for the formulas.
    """
    x = np.asarray(ratings, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise DataError(f"intraclass correlations need at least 2 targets and 2 raters with "
                        f"complete ratings; got {x.shape[0] if x.ndim == 2 else 0} target(s) x "
                        f"{x.shape[1] if x.ndim == 2 else 0} rater(s)")
    if not np.isfinite(x).all():
        raise DataError("the ratings matrix has missing values; leave out incomplete targets")
    if not 0 < confidence < 1:
        raise DataError(f"confidence={confidence!r} must lie between 0 and 1, e.g. 0.95")
    n, k = x.shape
    bms, jms, ems, wms = _mean_squares(x)
    parts = _icc_arrays(np.array([bms]), np.array([jms]), np.array([ems]), np.array([wms]),
                        np.array([n]), np.array([k]), confidence)
    icc = parts["icc"][:, 0]
    if np.isnan(icc).any():
        forms = ", ".join(f for f, value in zip(_FORMS, icc, strict=True) if np.isnan(value))
        warnings.warn(f"{forms} undefined: the ratings do not vary (zero mean squares); "
                      f"returned nan", UndefinedStatisticWarning, stacklevel=2)
    table = pd.DataFrame({"form": _FORMS, "description": _DESCRIPTIONS,
                          **{key: value[:, 0] for key, value in parts.items()}})
    table["df1"] = table["df1"].astype(int)
    table["df2"] = table["df2"].astype(int)
    mean_squares = pd.DataFrame({
        "source": ["between targets (BMS)", "between raters (JMS)", "residual (EMS)",
                   "within targets (WMS)"],
        "df": [n - 1, k - 1, (n - 1) * (k - 1), n * (k - 1)],
        "mean_square": [bms, jms, ems, wms],
    })
    return IntraclassCorrelation(table=table, n_targets=n, n_raters=k, confidence=confidence,
                                 mean_squares=mean_squares)


def intraclass_correlation(data: pd.DataFrame, *, target: str, rater: str, rating: str,
                           confidence: float = 0.95) -> IntraclassCorrelation:
    """Shrout & Fleiss's six intraclass correlations (ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k).

    Parameters
    ----------
    data
        Long format: one row per target and rater.
    target, rater, rating
        Column names: who was rated (e.g. ``student_id``), who rated (``coder``) and the rating
        (e.g. a count of interactions).
    confidence
        Level of the confidence intervals (default 0.95).

    Returns
    -------
    IntraclassCorrelation
        ``.to_frame()``: one row per form with the coefficient, F test and interval.

    Notes
    -----
    Formulas in the module docstring (Shrout & Fleiss, 1979). Validated against
    ``psych::ICC(lmer = FALSE)`` (psych 2.2.9) and the published Shrout & Fleiss example.
    Targets lacking a rating from any rater are left out with a
    :class:`~classdyad.errors.DataWarning`.

    Examples
    --------
    >>> import pandas as pd
    >>> ratings = pd.DataFrame({"student": [1, 1, 2, 2, 3, 3, 4, 4],
    ...                         "coder": ["a", "b"] * 4, "count": [3, 4, 0, 1, 5, 5, 2, 1]})
    >>> result = intraclass_correlation(ratings, target="student", rater="coder", rating="count")
    >>> round(result.icc("ICC2"), 3)
    0.911
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in (target, rater, rating) if c not in data.columns]
    if missing:
        raise DataError(f"data lacks the column(s) {', '.join(map(repr, missing))}; name the "
                        f"target, rater and rating columns with target=, rater= and rating=")
    values = pd.to_numeric(data[rating], errors="coerce")
    if (values.isna() & data[rating].notna()).any():
        raise DataError(f"column {rating!r} holds non-numeric ratings; ratings must be numbers")
    long = data[[target, rater]].assign(_rating=values)
    if long[[target, rater]].duplicated().any():
        raise DataError("a rater rated a target more than once; keep one row per target and "
                        "rater (average repeated ratings first)")
    wide = long.pivot(index=target, columns=rater, values="_rating")
    incomplete = wide.isna().any(axis=1)
    if incomplete.any():
        warnings.warn(f"{int(incomplete.sum())} target(s) lacking a rating from some rater were "
                      f"left out (complete cases only, as psych::ICC)", DataWarning,
                      stacklevel=2)
        wide = wide[~incomplete]
    return icc_from_matrix(wide.to_numpy(dtype=float), confidence=confidence)
