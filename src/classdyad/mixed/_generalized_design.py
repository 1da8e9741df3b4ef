"""Designs of :func:`classdyad.mixed.glmm` beyond the mixed-model formula: GLMs and zero inflation.

A formula without random-effects terms is a generalized linear model. Its design is built by the
mixed-model formula machinery with one constant grouping column added for the build (a single
level, which the formula code accepts) and the resulting random term removed again, so that the
fixed-effects matrix, factor coding, offsets, missing-value handling and prediction on new data
are exactly those of the mixed models.

The zero-inflation formula (``"~ 1"``, ``"~ low_ses"``; glmmTMB's ``ziformula``) has no response
and no random terms; its design is built the same way on the rows the count model uses, and the
rows with a missing value in either formula are dropped from both (R's ``na.omit`` over all the
model's variables).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pandas as pd

from classdyad.errors import FormulaError
from classdyad.mixed._formula import MixedDesign, build_design, parse_formula

__all__ = ["build_glm_or_glmm_design", "build_zero_inflation_design", "has_random_terms"]

_ONE_GROUP = "_glm_single_group"


def has_random_terms(formula: str) -> bool:
    """Whether ``formula`` has a random-effects term such as ``(1 | classroom)``."""
    return bool(parse_formula(formula).random)


def _fixed_only(formula: str, data: pd.DataFrame,
                reference: Mapping[str, Any] | None) -> MixedDesign:
    data = data.assign(**{_ONE_GROUP: 0})
    design = build_design(f"{formula} + (1 | {_ONE_GROUP})", data, reference=reference)
    return dataclasses.replace(design, formula=formula, random_terms=(),
                               data=design.data.drop(columns=_ONE_GROUP))


def build_glm_or_glmm_design(formula: str, data: pd.DataFrame,
                             reference: Mapping[str, Any] | None) -> MixedDesign:
    """The design of ``formula``: a mixed design, or one without random terms for a GLM."""
    if has_random_terms(formula):
        return build_design(formula, data, reference=reference)
    return _fixed_only(formula, data, reference)


def build_zero_inflation_design(
    zero_inflation: str, response: str, data: pd.DataFrame,
    reference: Mapping[str, Any] | None,
) -> MixedDesign:
    """The design of the zero-inflation formula (``"~ 1"`` or ``"~ x + ..."``) on ``data``."""
    text = zero_inflation.strip()
    if not text.startswith("~") or text.count("~") != 1:
        raise FormulaError(
            f"zero_inflation={zero_inflation!r} must be a one-sided formula such as '~ 1' or "
            "'~ low_ses' (glmmTMB's ziformula)"
        )
    if "|" in text or "offset(" in text:
        raise FormulaError(
            f"zero_inflation={zero_inflation!r}: the zero-inflation model takes fixed effects "
            "only (no random terms, no offset); write e.g. '~ 1' or '~ low_ses'"
        )
    return _fixed_only(f"{response} {text}", data, reference)


def align_rows(data: pd.DataFrame, formula: str, zero_inflation: str, response: str,
               reference: Mapping[str, Any] | None) -> pd.DataFrame:
    """``data`` without the rows that miss a variable of the zero-inflation formula."""
    zi = build_zero_inflation_design(zero_inflation, response, data, reference)
    return data.loc[zi.rows]
