"""The result of :func:`classdyad.analysis.random_slope_mediation`."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from classdyad.analysis.stacked_mediation_model import StackedFit

__all__ = ["RandomSlopeMediationResult"]

_LABELS = {
    "a": "a (exposure -> mediator)",
    "b": "b (mediator -> outcome)",
    "direct": "c' (direct effect)",
    "cov_a_b": "cov(a_j, b_j)",
    "indirect": "indirect = ab + cov(a_j, b_j)",
    "total": "total = indirect + c'",
}


@dataclass(frozen=True, eq=False)
class RandomSlopeMediationResult:
    """Result of :func:`classdyad.analysis.random_slope_mediation`.

    Attributes
    ----------
    effects
        One row per effect (``a``, ``b``, ``direct``, ``cov_a_b``, ``indirect``, ``total``):
        ``estimate``; delta-method (Sobel-type) ``delta_std_error``, ``delta_z``,
        ``delta_p_value``, ``delta_ci_lower``, ``delta_ci_upper``; Monte Carlo
        ``mc_ci_lower``, ``mc_ci_upper``, ``mc_p_value``.
    fixed_effects
        The stacked model's fixed effects (``term`` as in nlme's stacked formula, ``label``
        readable) with Wald z tests.
    random_covariance
        The 5 x 5 covariance of the random intercepts and paths between clusters.
    residual_variances
        ``{mediator: sigma_M^2, outcome: sigma_Y^2}``.
    r_squared
        Marginal and conditional R-squared of the mediator and outcome models
        (``definition`` names the definition) with their variance parts.
    converged, singular
        Whether the optimiser met its tolerance; whether the random-effects covariance is on
        the boundary (see :mod:`classdyad.analysis.stacked_mediation_model`).
    """

    exposure: str
    mediator: str
    outcome: str
    cluster: str
    method: str
    confidence_level: float
    n_obs: int
    n_clusters: int
    n_draws: int
    loglik: float
    converged: bool
    singular: bool
    effects: pd.DataFrame = field(repr=False)
    fixed_effects: pd.DataFrame = field(repr=False)
    random_covariance: pd.DataFrame = field(repr=False)
    residual_variances: Mapping[str, float] = field(repr=False)
    r_squared: pd.DataFrame = field(repr=False)
    fit: StackedFit = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The effects table (one row per effect, delta-method and Monte Carlo columns)."""
        return self.effects.copy()

    def effect(self, name: str) -> float:
        """The estimate of one effect (``"a"``, ``"b"``, ``"direct"``, ``"indirect"``, ...)."""
        row = self.effects.loc[self.effects["effect"] == name]
        if row.empty:
            raise KeyError(f"no effect {name!r}; use one of {list(self.effects['effect'])}")
        return float(row["estimate"].iloc[0])

    def summary(self) -> str:
        """A printable summary: effects with both kinds of inference, R-squared, variances."""
        level = f"{100 * self.confidence_level:g}%"
        lines = [
            f"1-1-1 mediation with random paths (Bauer, Preacher & Gil 2006), {self.method}",
            f"{self.exposure} -> {self.mediator} -> {self.outcome}; {self.n_obs} observations "
            f"in {self.n_clusters} {self.cluster} clusters; logLik = {self.loglik:.3f}",
            "",
            f" {'effect':<32} {'estimate':>9} {'delta SE':>9} {'delta p':>9} "
            f"{'MC ' + level + ' CI':>22} {'MC p':>8}",
        ]
        for rec in self.effects.itertuples(index=False):
            lines.append(
                f" {_LABELS[rec.effect]:<32} {rec.estimate:>9.4f} {rec.delta_std_error:>9.4f} "
                f"{rec.delta_p_value:>9.3g} {f'[{rec.mc_ci_lower:.4f}, {rec.mc_ci_upper:.4f}]':>22}"
                f" {rec.mc_p_value:>8.3g}"
            )
        lines += ["", "R-squared (Nakagawa & Schielzeth marginal / conditional; random slopes "
                  "as Johnson 2014):"]
        for rec in self.r_squared.itertuples(index=False):
            lines.append(f" {rec.model} model ({rec.response}): marginal {rec.marginal:.3f}, "
                         f"conditional {rec.conditional:.3f}")
        variances = ", ".join(f"{k} {v:.4g}" for k, v in self.residual_variances.items())
        lines += ["", f"Residual variances: {variances}"]
        if not self.converged:
            lines.append("the optimiser did not converge; treat the estimates with care")
        if self.singular:
            lines.append("boundary (singular) fit: the covariance of the random paths is "
                         "singular; the indirect effect's intervals are not available")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        title = (f"1-1-1 mediation with random paths: {self.exposure} -> {self.mediator} -> "
                 f"{self.outcome} ({self.n_obs} observations, {self.n_clusters} clusters, "
                 f"{self.method})")
        return (
            f"<div><strong>{html.escape(title)}</strong>"
            f"<p>Effects (delta-method and Monte Carlo inference)</p>"
            f"{self.effects.to_html(index=False)}"
            f"<p>R-squared</p>{self.r_squared.to_html(index=False)}"
            f"<p>Covariance of the random intercepts and paths</p>"
            f"{self.random_covariance.to_html()}</div>"
        )
