"""The result of a mixed model, shared by the linear (``lmm``) and generalized (``glmm``) engines.

:class:`MixedModelResult` is a frozen dataclass holding tidy tables and the pieces needed for
prediction, conditional modes and likelihood-ratio tests. An engine fills it in as follows
(this is how a generalized mixed model plugs in; the linear engine in
:mod:`classdyad.mixed._linear_mixed` is an example):

- ``fixed_effects``: DataFrame ``term, estimate, std_error, df, statistic, p_value, ci_low,
  ci_high`` (``df = inf`` for z tests);
- ``variance_components``: DataFrame ``group, term, variance, std_dev`` (one row per random effect,
  plus a ``Residual`` row where the family has a residual variance) and ``correlations``:
  DataFrame ``group, term1, term2, correlation, covariance``;
- ``loglik`` (lme4's ``logLik``: the REML log-likelihood for REML fits), ``n_parameters`` (lme4's
  ``df`` of ``logLik``), ``aic``, ``bic``, ``deviance`` (``-2 loglik``), ``n_obs``, ``n_groups``
  (``{grouping factor: number of levels}``), ``converged``, ``singular``, ``method`` (``"REML"``,
  ``"ML"``, ``"Laplace"``, ...), ``family`` (``"gaussian"``, ``"poisson"``, ...), ``sigma``;
- ``design`` (:class:`classdyad.mixed._formula.MixedDesign`), ``beta`` (the estimates as an
  array), ``conditional_modes`` and ``conditional_variances`` (per random-effects term of
  ``design.random_terms``: arrays ``(n_levels, q)`` and ``(n_levels, q, q)``; the variances may
  instead be given as a zero-argument callable returning that tuple, computed when
  :meth:`~MixedModelResult.random_effects` first needs it, e.g. ``functools.cache(f)``);
- ``ml_refit``: ``None`` for a fit by maximum likelihood (or an approximation of it), or a
  zero-argument callable returning the same model fitted by ML, which :meth:`compare` calls for
  REML fits, as lme4's ``anova`` does;
- ``fixed_effects``, ``variance_components``, ``correlations`` and ``conditional_modes`` may be
  given as :class:`Deferred` (a zero-argument function wrapped once): the value is computed on
  first access and kept, so that work a caller may never need (e.g. Satterthwaite degrees of
  freedom, or tables, in a bootstrap) is not done at fit time;
- a subclass overrides :meth:`inverse_link` (identity here) so that :meth:`predict` returns the
  response scale, and may add fields (with defaults).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.stats

from classdyad.errors import DataError, FormulaError
from classdyad.mixed._formula import MixedDesign

__all__ = ["Deferred", "MixedModelResult", "likelihood_ratio_table"]


class Deferred:
    """A field value computed on first access: ``Deferred(function)`` with ``function()`` the value.

    Used for the fields of :class:`MixedModelResult` that accept it (``fixed_effects``,
    ``conditional_modes``); the value is computed once, then stored in place of the wrapper.
    """

    __slots__ = ("compute",)

    def __init__(self, compute: Callable[[], Any]):
        self.compute = compute


class _DeferrableField:
    """Data descriptor of a dataclass field that may hold a :class:`Deferred` value.

    A frozen dataclass's ``__init__`` sets fields with ``object.__setattr__``, which goes through
    this descriptor; reading the field computes a deferred value once and keeps the result. It is
    attached to the class after the dataclass is made (the field keeps no default).
    """

    def __init__(self, name: str):
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            raise AttributeError(self.name)
        value = instance.__dict__[self.name]
        if isinstance(value, Deferred):
            value = value.compute()
            instance.__dict__[self.name] = value
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.name] = value


@dataclass(frozen=True, eq=False)
class MixedModelResult:
    """A fitted mixed model: tidy tables, fit statistics, prediction and model comparison.

    Attributes
    ----------
    fixed_effects
        ``term, estimate, std_error, df, statistic, p_value, ci_low, ci_high``.
    variance_components
        ``group, term, variance, std_dev``.
    correlations
        ``group, term1, term2, correlation, covariance`` of correlated random effects.
    loglik, aic, bic, deviance
        As lme4's ``logLik``, ``AIC``, ``BIC`` and ``-2 logLik`` (REML fits: of the REML criterion).
    n_obs, n_groups
        Observations used and levels per grouping factor.
    converged, singular
        Whether the optimiser met its tolerance; whether a variance is estimated at zero (or a
        correlation at +-1), lme4's ``isSingular(tol = 1e-4)``.
    """

    formula: str
    family: str
    method: str
    fixed_effects: pd.DataFrame
    variance_components: pd.DataFrame
    correlations: pd.DataFrame
    loglik: float
    n_parameters: int
    aic: float
    bic: float
    deviance: float
    n_obs: int
    n_groups: Mapping[str, int]
    converged: bool
    singular: bool
    sigma: float
    theta: np.ndarray = field(repr=False)
    beta: np.ndarray = field(repr=False)
    fixed_covariance: np.ndarray = field(repr=False)
    conditional_modes: tuple[np.ndarray, ...] = field(repr=False)
    conditional_variances: (
        tuple[np.ndarray, ...] | Callable[[], tuple[np.ndarray, ...]]
    ) = field(repr=False)
    design: MixedDesign = field(repr=False)
    ml_refit: Callable[[], MixedModelResult] | None = field(default=None, repr=False)

    # -------------------------------------------------------------- random effects
    def random_effects(self) -> pd.DataFrame:
        """Conditional modes of the random effects with their conditional standard errors.

        Returns
        -------
        DataFrame
            ``group, level, term, estimate, std_error``: one row per level and random effect, as
            lme4's ``ranef(fit, condVar = TRUE)`` (the standard error is the square root of the
            conditional variance given the estimated parameters).
        """
        frames = []
        all_variances = self.conditional_variances
        if callable(all_variances):
            all_variances = all_variances()
        for term, modes, variances in zip(
            self.design.random_terms, self.conditional_modes, all_variances, strict=True
        ):
            q = term.n_effects
            for r in range(q):
                frames.append(
                    pd.DataFrame(
                        {
                            "group": term.name,
                            "level": term.levels.to_numpy(),
                            "term": term.effect_names[r],
                            "estimate": modes[:, r],
                            "std_error": np.sqrt(np.maximum(variances[:, r, r], 0.0)),
                        }
                    )
                )
        return pd.concat(frames, ignore_index=True)

    # ------------------------------------------------------------------ prediction
    def inverse_link(self, eta: np.ndarray) -> np.ndarray:
        """Map the linear predictor to the response scale (identity for a linear model)."""
        return eta

    def linear_predictor(
        self,
        newdata: pd.DataFrame | None = None,
        *,
        include_random: bool = True,
        allow_new_levels: bool = False,
    ) -> np.ndarray:
        """Linear predictor ``X beta + Z b + offset`` for the fitted rows or for ``newdata``."""
        design = self.design
        if newdata is None:
            x, offset = design.fixed, design.offset
            parts = [(t.codes, t.matrix) for t in design.random_terms]
        else:
            if not isinstance(newdata, pd.DataFrame):
                raise DataError("newdata must be a pandas DataFrame with the formula's columns")
            try:
                x = design.fixed_matrix(newdata)
                offset = design.offset_vector(newdata)
                parts = design.random_matrices(newdata) if include_random else []
            except (KeyError, ValueError, TypeError) as error:
                raise FormulaError(
                    f"cannot evaluate the formula {self.formula!r} on newdata: {error}; "
                    "give newdata the columns (and factor levels) the model was fitted on"
                ) from None
        eta = x @ self.beta + offset
        if not include_random:
            return eta
        for term, (codes, matrix), modes in zip(
            design.random_terms, parts, self.conditional_modes, strict=True
        ):
            unseen = codes < 0
            if unseen.any() and not allow_new_levels:
                raise DataError(
                    f"newdata has {int(unseen.sum())} row(s) with a level of {term.name!r} not in "
                    "the fitted data; pass allow_new_levels=True to predict them with random "
                    "effects of zero (as lme4's allow.new.levels = TRUE)"
                )
            safe = np.where(unseen, 0, codes)
            contribution = np.einsum("ij,ij->i", matrix, modes[safe])
            eta = eta + np.where(unseen, 0.0, contribution)
        return eta

    def predict(
        self,
        newdata: pd.DataFrame | None = None,
        *,
        include_random: bool = True,
        allow_new_levels: bool = False,
    ) -> np.ndarray:
        """Predictions on the response scale, as lme4's ``predict(fit, newdata)``.

        Parameters
        ----------
        newdata
            Rows to predict; ``None`` predicts the rows the model was fitted on.
        include_random
            Add the conditional modes of the random effects (lme4's ``re.form = NULL``);
            ``False`` gives the population-level prediction (``re.form = NA``).
        allow_new_levels
            Predict levels not in the fitted data with random effects of zero; otherwise such
            levels raise :class:`DataError`.
        """
        return self.inverse_link(
            self.linear_predictor(
                newdata, include_random=include_random, allow_new_levels=allow_new_levels
            )
        )

    # ------------------------------------------------------------------- comparison
    def compare(self, other: MixedModelResult, *, refit: bool = True) -> pd.DataFrame:
        """Likelihood-ratio test of two nested models, as lme4's ``anova(fit_a, fit_b)``.

        When either model was fitted by REML and ``refit`` is true, both are refitted by maximum
        likelihood first (lme4's default ``refit = TRUE``), since REML likelihoods of models with
        different fixed effects are not comparable.

        Returns
        -------
        DataFrame
            One row per model, smaller first: ``model, formula, n_parameters, aic, bic, loglik,
            deviance, statistic, df, p_value`` (the test in the second row).
        """
        if not isinstance(other, MixedModelResult):
            raise DataError("compare() needs another mixed-model result, e.g. fit_a.compare(fit_b)")
        if self.n_obs != other.n_obs:
            raise DataError(
                f"the models were fitted on different numbers of rows ({self.n_obs} and "
                f"{other.n_obs}); fit both on the same rows (drop missing values first)"
            )
        fits = [self, other]
        if refit and any(f.ml_refit is not None for f in fits):
            fits = [f.ml_refit() if f.ml_refit is not None else f for f in fits]
        return likelihood_ratio_table(fits, names=["self", "other"])

    # --------------------------------------------------------------------- display
    def to_frame(self) -> pd.DataFrame:
        """All estimates in one tidy table (as broom.mixed's ``tidy``).

        ``effect`` is ``"fixed"`` for fixed effects and ``"ran_pars"`` for the standard
        deviations (``sd__term``) and correlations (``cor__term1.term2``) of the random effects
        and the residual standard deviation (``sd__Observation``).
        """
        fixed = self.fixed_effects.assign(effect="fixed", group=None)
        rows: list[dict[str, Any]] = []
        for rec in self.variance_components.itertuples(index=False):
            term = "Observation" if rec.group == "Residual" else rec.term
            rows.append({"effect": "ran_pars", "group": rec.group, "term": f"sd__{term}",
                         "estimate": rec.std_dev})
        for rec in self.correlations.itertuples(index=False):
            rows.append({"effect": "ran_pars", "group": rec.group,
                         "term": f"cor__{rec.term1}.{rec.term2}", "estimate": rec.correlation})
        columns = ["effect", "group", *self.fixed_effects.columns]
        return pd.concat([fixed, pd.DataFrame(rows)], ignore_index=True).reindex(columns=columns)

    def summary(self) -> str:
        """A printable summary laid out like lme4's ``summary(fit)``."""
        lines = [
            *self._summary_title(),
            f"Formula: {self.formula}",
            "",
            f"     AIC      BIC   logLik deviance  (n = {self.n_obs}, parameters = "
            f"{self.n_parameters})",
            f"{self.aic:8.1f} {self.bic:8.1f} {self.loglik:8.1f} {self.deviance:8.1f}",
            "",
            "Random effects:",
        ]
        vc = self.variance_components
        width = max([len(str(g)) for g in vc["group"]] + [6])
        term_width = max([len(str(t)) for t in vc["term"]] + [5])
        lines.append(
            f" {'Groups':<{width}} {'Name':<{term_width}} {'Variance':>10} {'Std.Dev.':>10}"
        )
        for rec in vc.itertuples(index=False):
            lines.append(
                f" {rec.group!s:<{width}} {rec.term!s:<{term_width}} "
                f"{rec.variance:>10.4g} {rec.std_dev:>10.4g}"
            )
        for rec in self.correlations.itertuples(index=False):
            lines.append(f"   corr({rec.group}: {rec.term1}, {rec.term2}) = {rec.correlation:.3f}")
        counts = "; ".join(f"{g}, {k}" for g, k in self.n_groups.items())
        lines += [f"Number of obs: {self.n_obs}, groups: {counts}", "", "Fixed effects:"]
        lines += self._fixed_effects_lines()
        notes = []
        if self.singular:
            notes.append("boundary (singular) fit: see the variance components")
        if not self.converged:
            notes.append("the optimiser did not converge; treat the estimates with care")
        if notes:
            lines += ["", *notes]
        return "\n".join(lines)

    def _summary_title(self) -> list[str]:
        """The first line(s) of :meth:`summary`."""
        if self.family == "gaussian":
            return [f"Linear mixed model fit by {self.method}"]
        return [f"Generalized linear mixed model fit by {self.method} ({self.family})"]

    def _fixed_effects_lines(self) -> list[str]:
        """The fixed-effects table of :meth:`summary` (t tests with Satterthwaite df)."""
        fe = self.fixed_effects
        term_width = max([len(t) for t in fe["term"]] + [4])
        lines = [
            f" {'':<{term_width}} {'Estimate':>11} {'Std. Error':>11} {'df':>9} "
            f"{'t value':>8} {'Pr(>|t|)':>10}"
        ]
        for rec in fe.itertuples(index=False):
            lines.append(
                f" {rec.term:<{term_width}} {rec.estimate:>11.5g} {rec.std_error:>11.5g} "
                f"{rec.df:>9.4g} {rec.statistic:>8.3f} {rec.p_value:>10.3g}"
            )
        return lines

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        title = html.escape(f"{self.method} fit of {self.formula}")
        stats = (
            f"n = {self.n_obs}; logLik = {self.loglik:.3f}; AIC = {self.aic:.2f}; "
            f"BIC = {self.bic:.2f}; converged = {self.converged}; singular = {self.singular}"
        )
        return (
            f"<div><strong>{title}</strong><p>{html.escape(stats)}</p>"
            f"<p>Fixed effects</p>{self.fixed_effects.to_html(index=False)}"
            f"<p>Variance components</p>{self.variance_components.to_html(index=False)}</div>"
        )


for _name in ("fixed_effects", "variance_components", "correlations", "conditional_modes"):
    setattr(MixedModelResult, _name, _DeferrableField(_name))


def likelihood_ratio_table(
    fits: list[MixedModelResult], *, names: list[str]
) -> pd.DataFrame:
    """lme4's ``anova`` table for two fits: sorted by number of parameters, chi-square test."""
    order = sorted(range(len(fits)), key=lambda i: fits[i].n_parameters)
    rows = []
    previous: MixedModelResult | None = None
    for i in order:
        fit = fits[i]
        row: dict[str, Any] = {
            "model": names[i],
            "formula": fit.formula,
            "n_parameters": fit.n_parameters,
            "aic": fit.aic,
            "bic": fit.bic,
            "loglik": fit.loglik,
            "deviance": -2.0 * fit.loglik,
            "statistic": np.nan,
            "df": np.nan,
            "p_value": np.nan,
        }
        if previous is not None:
            statistic = max(2.0 * (fit.loglik - previous.loglik), 0.0)
            df = fit.n_parameters - previous.n_parameters
            row["statistic"] = statistic
            row["df"] = float(df)
            row["p_value"] = float(scipy.stats.chi2.sf(statistic, df)) if df > 0 else np.nan
        rows.append(row)
        previous = fit
    return pd.DataFrame(rows)
