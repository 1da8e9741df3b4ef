"""The result of :func:`classdyad.mixed.glmm`: a mixed-model result on the link scale.

:class:`GeneralizedMixedModelResult` extends the shared
:class:`~classdyad.mixed._mixed_results.MixedModelResult` with the family's inverse link (so
``predict`` returns expected counts or probabilities, as lme4's ``predict(type = "response")``),
the NB2 shape or NB1 dispersion, the zero-inflation coefficients, the quadrature order and a
summary laid out like lme4's ``summary`` of a ``glmer`` fit (z tests instead of t tests; for a
model without random effects, like R's ``summary.glm``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import expit

from classdyad.errors import DataError, check_option
from classdyad.mixed._formula import MixedDesign
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
    dispersion
        The NB1 dispersion ``phi`` (variance ``mu (1 + phi)``; glmmTMB's ``sigma()`` for
        ``nbinom1``); ``nan`` for other families.
    zero_inflation
        The zero-inflation model's coefficients on the logit scale (``term, estimate,
        std_error, df, statistic, p_value, ci_low, ci_high``; glmmTMB's
        ``summary(fit)$coefficients$zi``), or ``None`` without zero inflation.
    zero_inflation_formula
        The one-sided zero-inflation formula (``"~ 1"``), or ``None``.
    """

    shape: float = float("nan")
    n_agq: int = 1
    offset_array: bool = False
    dispersion: float = float("nan")
    zero_inflation: pd.DataFrame | None = None
    zero_inflation_formula: str | None = None
    zero_inflation_design: MixedDesign | None = field(default=None, repr=False)

    @property
    def has_random_effects(self) -> bool:
        """False for a generalized linear model (a formula without random-effects terms)."""
        return bool(self.design.random_terms)

    def inverse_link(self, eta: np.ndarray) -> np.ndarray:
        """Expected count (log link) or probability (logit link) for the linear predictor."""
        return expit(eta) if self.family == "binomial" else np.exp(eta)

    def predict(  # type: ignore[override]
        self,
        newdata: pd.DataFrame | None = None,
        *,
        type: Literal["link", "response", "conditional", "zero_probability"] = "response",
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
            ``"response"`` (expected counts, or probabilities for a binomial model; with zero
            inflation ``(1 - pi) mu``, glmmTMB's ``type = "response"``), ``"conditional"``
            (the count model's mean ``mu`` alone, glmmTMB's ``"conditional"``),
            ``"zero_probability"`` (the probability ``pi`` of a structural zero, glmmTMB's
            ``"zprob"``; 0 without zero inflation) or ``"link"`` (the count model's linear
            predictor, offset included).
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
        check_option("type", type, ("link", "response", "conditional", "zero_probability"))
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
        if type == "link":
            return eta
        pi = self._zero_probability(newdata, len(eta))
        if type == "zero_probability":
            return pi
        mu = self.inverse_link(eta)
        return mu if type == "conditional" else (1.0 - pi) * mu

    def _zero_probability(self, newdata: pd.DataFrame | None, n: int) -> np.ndarray:
        if self.zero_inflation is None or self.zero_inflation_design is None:
            return np.zeros(n)
        design = self.zero_inflation_design
        g = design.fixed if newdata is None else design.fixed_matrix(newdata)
        return expit(g @ self.zero_inflation["estimate"].to_numpy())

    def to_frame(self) -> pd.DataFrame:
        """All estimates in one tidy table.

        Fixed effects have effect ``"fixed"``, random-effect standard deviations
        ``"ran_pars"``, zero-inflation coefficients ``"zero_inflation"`` (logit scale, with
        their tests), and an NB2 shape (term ``"shape"``) or NB1 dispersion (term ``"phi"``)
        effect ``"dispersion"``.
        """
        frame = super().to_frame()
        parts = [frame]
        if self.zero_inflation is not None:
            parts.append(self.zero_inflation.assign(effect="zero_inflation", group=None)
                         .reindex(columns=frame.columns))
        if self.family == "negative_binomial":
            parts.append(pd.DataFrame([{"effect": "dispersion", "group": None, "term": "shape",
                                        "estimate": self.shape}]))
        elif self.family == "negative_binomial_1":
            parts.append(pd.DataFrame([{"effect": "dispersion", "group": None, "term": "phi",
                                        "estimate": self.dispersion}]))
        if len(parts) == 1:
            return frame
        return pd.concat(parts, ignore_index=True)

    def _family_label(self) -> str:
        if self.family == "negative_binomial":
            label = f"negative binomial NB2 (shape k = {self.shape:.4g})"
        elif self.family == "negative_binomial_1":
            label = f"negative binomial NB1 (dispersion phi = {self.dispersion:.4g})"
        else:
            label = self.family
        if self.zero_inflation_formula is not None:
            label = f"zero-inflated {label}, zero inflation {self.zero_inflation_formula}"
        return label

    def _summary_title(self) -> list[str]:
        """The method and family lines of :meth:`summary` (as ``glmer``'s summary)."""
        link = "logit" if self.family == "binomial" else "log"
        family = f" Family: {self._family_label()}  ( {link} link )"
        if not self.has_random_effects:
            return ["Generalized linear model fit by maximum likelihood", family]
        method = ("Laplace approximation" if self.n_agq == 1
                  else f"adaptive Gauss-Hermite quadrature (nAGQ = {self.n_agq})")
        return [f"Generalized linear mixed model fit by maximum likelihood ({method})", family]

    def summary(self) -> str:
        """A printable summary laid out like lme4's ``summary`` (R's ``summary.glm`` for GLMs).

        A model without random effects leaves out the random-effects block; a zero-inflated
        model adds its zero-inflation coefficients (logit scale), as glmmTMB's summary does.
        """
        text = super().summary()
        if not self.has_random_effects:
            lines = text.split("\n")
            start = lines.index("Random effects:")
            end = next(i for i in range(start, len(lines))
                       if lines[i].startswith("Number of obs"))
            lines[start:end + 1] = [f"Number of obs: {self.n_obs}"]
            text = "\n".join(lines)
        if self.zero_inflation is None:
            return text
        block = ["", f"Zero-inflation model ({self.zero_inflation_formula}, logit link):",
                 *self._coefficient_lines(self.zero_inflation)]
        lines = text.split("\n")
        fixed = lines.index("Fixed effects:")
        end = fixed + 2 + len(self.fixed_effects)
        return "\n".join(lines[:end] + block + lines[end:])

    def _repr_html_(self) -> str:
        if self.has_random_effects:
            title = f"{self.method} fit of {self.formula}"
        else:
            title = f"generalized linear model (maximum likelihood) of {self.formula}"
        stats = (
            f"{self._family_label()}; n = {self.n_obs}; logLik = {self.loglik:.3f}; "
            f"AIC = {self.aic:.2f}; BIC = {self.bic:.2f}; converged = {self.converged}"
            + (f"; singular = {self.singular}" if self.has_random_effects else "")
        )
        parts = [f"<div><strong>{html.escape(title)}</strong><p>{html.escape(stats)}</p>",
                 f"<p>Fixed effects</p>{self.fixed_effects.to_html(index=False)}"]
        if self.zero_inflation is not None:
            parts.append(f"<p>Zero-inflation model ({html.escape(self.zero_inflation_formula)}"
                         f", logit link)</p>{self.zero_inflation.to_html(index=False)}")
        if self.has_random_effects:
            parts.append(f"<p>Variance components</p>"
                         f"{self.variance_components.to_html(index=False)}")
        return "".join(parts) + "</div>"

    def _fixed_effects_lines(self) -> list[str]:
        """The fixed-effects table of :meth:`summary` (Wald z tests)."""
        return self._coefficient_lines(self.fixed_effects)

    @staticmethod
    def _coefficient_lines(fe: pd.DataFrame) -> list[str]:
        """A coefficient table with Wald z tests."""
        term_width = max([len(t) for t in fe["term"]] + [4])
        lines = [f" {'':<{term_width}} {'Estimate':>11} {'Std. Error':>11} {'z value':>8} "
                 f"{'Pr(>|z|)':>10}"]
        for rec in fe.itertuples(index=False):
            lines.append(f" {rec.term:<{term_width}} {rec.estimate:>11.5g} {rec.std_error:>11.5g} "
                         f"{rec.statistic:>8.3f} {rec.p_value:>10.3g}")
        return lines
