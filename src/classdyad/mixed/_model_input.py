"""Checks of a built mixed-model design, made once before any fitting starts.

:func:`check_design` looks at what :func:`~classdyad.mixed._formula.build_design` produced (the
response, the fixed-effects columns, the offset and the grouping factors) and refuses input that
no fit can use, with a message that names the column or rows and says what to do:

- a non-finite value (``inf``, ``-inf``) in the response, a fixed-effects column or the offset;
  an offset of ``log(0)`` or of a negative number is reported as zero or negative exposure, with
  the rows (a lesson with zero minutes observed cannot carry a rate);
- a constant response in a linear mixed model (nothing to explain, no residual variance);
- a grouping factor with fewer than two levels among the rows used (lme4's check
  ``grouping factors must have > 1 sampled level``);
- counts so large that the Poisson or negative-binomial likelihood overflows double precision.

It warns (:class:`~classdyad.errors.DataWarning`) where a fit is possible but fragile:

- a predictor whose mean is more than 10^4 of its standard deviations away from zero (a year,
  a timestamp, a score shifted by 1e9): its column and the intercept are nearly collinear, so
  the estimates lose digits; centring it (:func:`classdyad.analysis.center`) cures that;
- two random-intercept terms whose grouping factors put the rows into the same groups (for
  example schools with one class each under ``(1 | school/classroom)``): their variances are
  not separately identifiable, only their sum.

Numerical failures that still happen inside a fit become an
:class:`~classdyad.errors.EstimationError` through :func:`estimation_failure`, which names the
model and what to try.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import numpy as np

from classdyad.errors import ClassdyadError, DataError, DataWarning, EstimationError

__all__ = ["check_design", "estimation_failure"]

#: |mean| / standard deviation above which a predictor is called badly scaled
BADLY_SCALED = 1e4
#: largest count a Poisson / negative-binomial response may hold (exp overflows near e^709)
LARGEST_COUNT = 1e9

_SHOWN_ROWS = 5


def _rows(design, mask: np.ndarray) -> str:
    labels = [str(label) for label in np.asarray(design.rows)[mask][:_SHOWN_ROWS]]
    more = int(mask.sum()) - len(labels)
    return ", ".join(labels) + (f" and {more} more" if more > 0 else "")


def check_design(design, *, model: Literal["lmm", "glmm"],
                 family: str | None = None) -> None:
    """Refuse a design no fit can use and warn about a fragile one (see the module docstring).

    Raises
    ------
    DataError
        Non-finite values, a constant response (``lmm``), a one-level grouping factor, or
        counts too large for a count model; the message names the column or rows.
    """
    formula = design.formula
    response = design.response
    bad = ~np.isfinite(response)
    if bad.any():
        raise DataError(
            f"formula {formula!r}: the response {design.response_name!r} is infinite in "
            f"{int(bad.sum())} row(s) (rows {_rows(design, bad)}); replace those values or "
            "drop the rows"
        )
    fixed_bad = ~np.isfinite(design.fixed)
    if fixed_bad.any():
        columns = [name for name, b in zip(design.fixed_names, fixed_bad.any(axis=0),
                                           strict=True) if b]
        rows = fixed_bad.any(axis=1)
        raise DataError(
            f"formula {formula!r}: the predictor column(s) {columns} are infinite in "
            f"{int(rows.sum())} row(s) (rows {_rows(design, rows)}); replace those values or "
            "drop the rows"
        )
    offset_bad = ~np.isfinite(design.offset)
    if offset_bad.any():
        raise DataError(
            f"formula {formula!r}: the offset is not finite in {int(offset_bad.sum())} row(s) "
            f"(rows {_rows(design, offset_bad)}): zero or negative exposure under a log offset "
            "(for example a row with zero minutes observed); drop rows without exposure before "
            "fitting a rate"
        )
    for term in design.random_terms:
        if term.n_levels < 2:
            raise DataError(
                f"formula {formula!r}: the grouping factor {term.name!r} has "
                f"{term.n_levels} level among the {design.n_obs} rows used (lme4: grouping "
                "factors must have > 1 sampled level); remove the term or use data from more "
                "than one group"
            )
    if model == "lmm" and design.n_obs > 0 and np.ptp(response) == 0.0:
        raise DataError(
            f"formula {formula!r}: the response {design.response_name!r} is constant "
            f"({float(response[0])!r} in all {design.n_obs} rows used); there is nothing to model. "
            "Check that the right column is named and that the rows selected vary"
        )
    if model == "glmm" and family != "binomial" and design.n_obs > 0 and (
            response.max() > LARGEST_COUNT):
        raise DataError(
            f"formula {formula!r}: the counts of {design.response_name!r} reach "
            f"{response.max():.3g}; above {LARGEST_COUNT:.0e} the count likelihood overflows "
            "in double precision. Check the column (is it a count of events?) or model a "
            "rescaled outcome with lmm()"
        )
    _warn_badly_scaled(design)
    _warn_unidentifiable(design)


def _warn_badly_scaled(design) -> None:
    x = design.fixed
    if x.shape[0] < 2:
        return
    # column means and standard deviations by matrix products (numpy's reductions along the
    # rows of a tall array cost several times more)
    ones = np.ones(x.shape[0])
    mean = (ones @ x) / x.shape[0]  # (a constant column's mean exact: its spread is 0)
    centred = x - mean
    spread = np.sqrt((ones @ (centred * centred)) / x.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(mean) / spread
    scaled = [name for name, r, s in zip(design.fixed_names, ratio, spread, strict=True)
              if s > 0 and r > BADLY_SCALED]
    if scaled:
        warnings.warn(
            f"formula {design.formula!r}: predictor(s) {scaled} lie more than "
            f"{BADLY_SCALED:.0e} standard deviations from zero, so the estimates lose precision; "
            "centre them (classdyad.analysis.center, or subtract a round number such as the "
            "first year)", DataWarning, stacklevel=4)


def _warn_unidentifiable(design) -> None:
    intercepts = [t for t in design.random_terms if t.effect_names == ("(Intercept)",)]
    for i, first in enumerate(intercepts):
        for second in intercepts[i + 1:]:
            if first.n_levels != second.n_levels:
                continue
            pairs = np.unique(np.stack([first.codes, second.codes]), axis=1).shape[1]
            if pairs == first.n_levels:
                warnings.warn(
                    f"formula {design.formula!r}: the grouping factors {first.name!r} and "
                    f"{second.name!r} put the rows into the same {first.n_levels} groups, so "
                    "their variances are not separately identifiable (only their sum is); "
                    "drop one of the two terms", DataWarning, stacklevel=4)


@contextmanager
def estimation_failure(formula: str) -> Iterator[None]:
    """Turn a numerical failure inside a fit into an :class:`EstimationError` for ``formula``."""
    try:
        yield
    except ClassdyadError:
        raise
    except (np.linalg.LinAlgError, FloatingPointError, OverflowError, ValueError) as error:
        raise EstimationError(
            f"the model {formula!r} could not be estimated: {error}. Try centring and scaling "
            "the predictors, removing predictors that are (nearly) collinear, or a simpler "
            "random-effects structure"
        ) from error
