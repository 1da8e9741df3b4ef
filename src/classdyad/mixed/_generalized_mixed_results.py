"""The result of :func:`classdyad.mixed.glmm`: a mixed-model result on the link scale.

:class:`GeneralizedMixedModelResult` extends the shared
:class:`~classdyad.mixed._mixed_results.MixedModelResult` with the family's inverse link (so
``predict`` returns expected counts or probabilities, as lme4's ``predict(type = "response")``),
the NB2 shape parameter, the quadrature order and a summary laid out like lme4's ``summary`` of a
``glmer`` fit (z tests instead of t tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import expit

from classdyad.errors import DataError, check_option
from classdyad.mixed._mixed_results import MixedModelResult

__all__ = ["OFFSET_COLUMN", "GeneralizedMixedModelResult"]

OFFSET_COLUMN = "_glmm_offset"


@dataclass(frozen=True, eq=False)
class GeneralizedMixedModelResult(MixedModelResult):
    """Result of :func:`classdyad.mixed.glmm`.

    Besides the fields of :class:`~classdyad.mixed._mixed_results.MixedModelResult`
    (``fixed_effects`` with ``df = inf`` for the Wald z tests, ``variance_components`` on the
    link scale, ``loglik`` the Laplace or adaptive Gauss-Hermite approximation, ...):

    Attributes
    ----------
    shape
        The NB2 shape ``k`` (variance ``mu + mu^2 / k``; glmmTMB's ``sigma()`` for ``nbinom2``);
        ``nan`` for Poisson and binomial models.
    n_agq
        Number of adaptive Gauss-Hermite quadrature points (1: Laplace approximation).
    offset_array
        True when the offset was given as an array, so that ``predict(newdata)`` needs
        ``offset=`` too.
    """

    shape: float = float("nan")
    n_agq: int = 1
    offset_array: bool = False

    def inverse_link(self, eta: np.ndarray) -> np.ndarray:
        """Expected count (log link) or probability (logit link) for the linear predictor."""
        return expit(eta) if self.family == "binomial" else np.exp(eta)

    def predict(  # type: ignore[override]
        self,
        newdata: pd.DataFrame | None = None,
        *,
        type: Literal["link", "response"] = "response",
        include_random: bool = True,
        allow_new_levels: bool = False,
        offset: np.ndarray | None = None,
    ) -> np.ndarray:
        """Predictions as lme4's ``predict(fit, newdata, type = ...)``.

        Parameters
        ----------
        newdata
            Rows to predict; ``None`` predicts the rows the model was fitted on.
        type
            ``"response"`` (expected counts, or probabilities for a binomial model) or
            ``"link"`` (the linear predictor, offset included).
        include_random
            Add the conditional modes (lme4's ``re.form = NULL``); ``False`` gives the
            population-level prediction (``re.form = NA``).
        allow_new_levels
            Predict unseen levels with random effects of zero; otherwise they raise
            :class:`~classdyad.errors.DataError`.
        offset
            The offset of each row of ``newdata``, needed when the model was fitted with
            ``offset=`` given as an array (an offset named by column or written in the formula
            is taken from ``newdata``).
        """
        check_option("type", type, ("link", "response"))
        if newdata is not None and self.offset_array:
            if offset is None:
                raise DataError(
                    "the model was fitted with offset= given as an array; pass offset= with "
                    "one value per row of newdata (for example np.log(newdata['minutes']))"
                )
            if not isinstance(newdata, pd.DataFrame):
                raise DataError("newdata must be a pandas DataFrame with the formula's columns")
            values = np.asarray(offset, dtype=float)
            if values.shape != (len(newdata),):
                raise DataError(
                    f"offset has {values.size} values for {len(newdata)} rows of newdata; "
                    "give one offset per row"
                )
            newdata = newdata.assign(**{OFFSET_COLUMN: values})
        eta = self.linear_predictor(
            newdata, include_random=include_random, allow_new_levels=allow_new_levels
        )
        return eta if type == "link" else self.inverse_link(eta)

    def to_frame(self) -> pd.DataFrame:
        """All estimates in one tidy table; an NB2 shape is a row with effect ``"dispersion"``."""
        frame = super().to_frame()
        if self.family != "negative_binomial":
            return frame
        row = pd.DataFrame([{"effect": "dispersion", "group": None, "term": "shape",
                             "estimate": self.shape}])
        return pd.concat([frame, row], ignore_index=True)

    def _summary_title(self) -> list[str]:
        """The method and family lines of :meth:`summary` (as ``glmer``'s summary)."""
        method = ("Laplace approximation" if self.n_agq == 1
                  else f"adaptive Gauss-Hermite quadrature (nAGQ = {self.n_agq})")
        link = "logit" if self.family == "binomial" else "log"
        family = self.family + (f"({self.shape:.4g})" if self.family == "negative_binomial" else "")
        return [f"Generalized linear mixed model fit by maximum likelihood ({method})",
                f" Family: {family}  ( {link} )"]

    def _fixed_effects_lines(self) -> list[str]:
        """The fixed-effects table of :meth:`summary` (Wald z tests)."""
        fe = self.fixed_effects
        term_width = max([len(t) for t in fe["term"]] + [4])
        lines = [f" {'':<{term_width}} {'Estimate':>11} {'Std. Error':>11} {'z value':>8} "
                 f"{'Pr(>|z|)':>10}"]
        for rec in fe.itertuples(index=False):
            lines.append(f" {rec.term:<{term_width}} {rec.estimate:>11.5g} {rec.std_error:>11.5g} "
                         f"{rec.statistic:>8.3f} {rec.p_value:>10.3g}")
        return lines
