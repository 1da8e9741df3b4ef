"""The result of :func:`classdyad.analysis.mediation` and the wording of its conclusions.

Conclusions follow Rucker, Preacher, Tormala & Petty (2011): whether an effect is mediated is
judged from the size and the confidence interval of the indirect effect, never from a
non-significant direct effect alone (a direct effect that misses significance in a small sample is
no evidence that it is zero). Per component (within classes, between classes, or overall):

- **no evidence of mediation** when the interval of the total indirect effect includes zero;
- **full mediation** when the indirect effect's interval excludes zero and the whole interval of
  the remaining direct effect lies closer to zero than the indirect effect itself, so that any
  direct effect compatible with the data is smaller than the part that is mediated;
- **partial mediation** otherwise: an indirect effect is present and a direct effect either is
  present too (its interval excludes zero; with the opposite sign the mediation is
  *competitive*) or cannot be ruled out at the size of the indirect effect.

Each sentence states the indirect effect with its interval and the remaining direct effect with
its interval.

Reference: Rucker, D. D., Preacher, K. J., Tormala, Z. L. & Petty, R. E. (2011). Mediation
analysis in social psychology: current practices and new recommendations. *Social and Personality
Psychology Compass*, 5(6), 359-371. doi:10.1111/j.1751-9004.2011.00355.x
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from classdyad.analysis.path_models import PathFit

__all__ = ["MediationResult", "mediation_verdict"]

Verdict = Literal["full", "partial", "no evidence of"]


def mediation_verdict(
    indirect: tuple[float, float, float], direct: tuple[float, float, float]
) -> Verdict:
    """Classify mediation from ``(estimate, ci_low, ci_high)`` of the indirect and direct effects.

    See the module docstring for the rule (Rucker et al. 2011).
    """
    estimate, low, high = indirect
    if not (low > 0.0 or high < 0.0):
        return "no evidence of"
    _, direct_low, direct_high = direct
    direct_includes_zero = direct_low <= 0.0 <= direct_high
    if direct_includes_zero and max(abs(direct_low), abs(direct_high)) < abs(estimate):
        return "full"
    return "partial"


def conclusion_sentence(
    *,
    component: str,
    exposure: str,
    outcome: str,
    mediators: tuple[str, ...],
    indirect: tuple[float, float, float],
    direct: tuple[float, float, float],
    confidence: float,
) -> str:
    """One plain-language sentence with the verdict and both effects with their intervals."""
    verdict = mediation_verdict(indirect, direct)
    level = f"{100 * confidence:g}%"
    via = " and ".join(mediators)
    where = {"within": "Within classes", "between": "Between classes"}.get(component, "Overall")
    ind, ind_low, ind_high = indirect
    dir_est, dir_low, dir_high = direct
    effects = (
        f"indirect effect of {exposure} on {outcome} via {via} = {ind:.3g} ({level} CI "
        f"{ind_low:.3g} to {ind_high:.3g}); remaining direct effect = {dir_est:.3g} ({level} CI "
        f"{dir_low:.3g} to {dir_high:.3g})"
    )
    if verdict == "no evidence of":
        return f"{where}: no evidence of mediation: the {effects}; the interval of the indirect " \
               "effect includes zero."
    if verdict == "full":
        return f"{where}: full mediation: the {effects}; every direct effect in its interval is " \
               "smaller than the indirect effect."
    direct_present = not dir_low <= 0.0 <= dir_high
    if direct_present and (dir_est > 0) != (ind > 0):
        reason = "the direct effect has the opposite sign (competitive mediation)."
    elif direct_present:
        reason = "a direct effect remains beside the indirect effect."
    else:
        reason = ("the direct effect's interval includes zero but also effects as large as the "
                  "indirect effect, so full mediation cannot be claimed.")
    return f"{where}: partial mediation: the {effects}; {reason}"


@dataclass(frozen=True, eq=False)
class MediationResult:
    """Result of :func:`classdyad.analysis.mediation`.

    Attributes
    ----------
    effects
        Tidy table, one row per effect: ``component`` (``"within"``, ``"between"`` or
        ``"overall"``), ``effect`` (``"a"``, ``"b"``, ``"indirect"``, ``"total_indirect"``,
        ``"direct"``, ``"total"``, ``"proportion_mediated"``), ``mediator`` (for ``a``, ``b``
        and ``indirect``), ``estimate``, ``std_error``, ``ci_low``, ``ci_high``, ``p_value`` and
        ``method`` (``"model"``: the regression's own standard error, t interval and test;
        ``"monte_carlo"`` or ``"bootstrap"``: from the draws; the proportion mediated has no
        standard error or p-value).
    conclusion
        ``{component: sentence}`` (see :mod:`classdyad.analysis.mediation_results`).
    verdict
        ``{component: "full" | "partial" | "no evidence of"}``.
    a_models, b_model
        The fitted regressions (formula, coefficients, covariance, the mixed model itself).
    """

    exposure: str
    mediators: tuple[str, ...]
    outcome: str
    cluster: str | None
    repeated: str | None
    covariates: tuple[str, ...]
    decomposition: str
    interval: str
    confidence: float
    n_obs: int
    n_clusters: int | None
    n_draws: int
    n_bootstrap: int
    n_bootstrap_failed: int
    effects: pd.DataFrame = field(repr=False)
    conclusion: Mapping[str, str] = field(repr=False)
    verdict: Mapping[str, str] = field(repr=False)
    a_models: tuple[PathFit, ...] = field(repr=False)
    b_model: PathFit = field(repr=False)
    legend: Mapping[str, str] = field(default_factory=dict, repr=False)
    """The models' column names (``X``, ``M0``, ..., ``Y``, ``C0``, ``G``, ``R``; suffixes
    ``_w`` within-cluster deviation, ``_b`` cluster mean) -> the data's column names."""
    delta_method: pd.DataFrame | None = field(default=None, repr=False)
    """Delta-method (Sobel) inference for the derived effects: ``component, effect, mediator,
    estimate, delta_std_error, delta_z, delta_p_value, delta_ci_lower, delta_ci_upper``
    (:mod:`classdyad.analysis.mediation_inference`)."""
    r_squared: pd.DataFrame | None = field(default=None, repr=False)
    """R-squared of each path model: ``model, response, definition, marginal, conditional,
    fixed_variance, random_variance, residual_variance``."""

    def formulas(self) -> list[str]:
        """The fitted models' formulas in the data's column names."""
        suffixes = {"_w": "_within", "_b": "_between", "": ""}

        def rename(match: re.Match) -> str:
            return self.legend.get(match[1], match[1]) + suffixes[match[2] or ""]

        pattern = re.compile(r"\b(X|Y|M\d+|C\d+|G|R)(_w|_b)?\b")
        return [pattern.sub(rename, fit.formula) for fit in (*self.a_models, self.b_model)]

    def to_frame(self) -> pd.DataFrame:
        """The tidy table of effects (a copy of :attr:`effects`)."""
        return self.effects.copy()

    def effect(self, effect: str, *, component: str = "within", mediator: str | None = None
               ) -> pd.Series:
        """One row of :attr:`effects`, e.g. ``result.effect("indirect", mediator="m")``."""
        table = self.effects
        mask = (table["effect"] == effect) & (table["component"] == component)
        if mediator is not None:
            mask &= table["mediator"] == mediator
        rows = table.loc[mask]
        if len(rows) != 1:
            raise KeyError(
                f"no single row for effect={effect!r}, component={component!r}, "
                f"mediator={mediator!r}; see result.effects for the rows there are"
            )
        return rows.iloc[0]

    def summary(self) -> str:
        """A printable summary: the models, the effects table and the conclusions."""
        lines = [
            f"Multilevel mediation ({self.decomposition}) of {self.exposure} -> "
            f"{', '.join(self.mediators)} -> {self.outcome}",
            f"n = {self.n_obs}" + (f", clusters ({self.cluster}) = {self.n_clusters}"
                                    if self.cluster else ""),
            f"intervals for indirect effects: {self.interval} "
            f"({self.n_draws if self.interval == 'monte_carlo' else self.n_bootstrap} draws)",
            "",
            "Models:",
            *[f"  {formula}" for formula in self.formulas()],
            "",
            self.effects.to_string(index=False),
            "",
            *self.conclusion.values(),
        ]
        if self.delta_method is not None:
            lines += ["",
                      "Delta-method (Sobel) standard errors and z tests of the derived effects:",
                      self.delta_method.to_string(index=False)]
        if self.r_squared is not None:
            lines += ["", "R-squared of the path models:",
                      self.r_squared.drop(columns="definition").to_string(index=False),
                      f"({'; '.join(dict.fromkeys(self.r_squared['definition']))})"]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        sentences = "".join(f"<li>{html.escape(s)}</li>" for s in self.conclusion.values())
        return (
            f"<p><b>Mediation</b> of {html.escape(self.exposure)} on "
            f"{html.escape(self.outcome)} via {html.escape(', '.join(self.mediators))} "
            f"(n = {self.n_obs})</p>"
            + self.effects.to_html(index=False, na_rep="")
            + f"<ul>{sentences}</ul>"
            + ("" if self.delta_method is None else
               "<p>Delta-method (Sobel) standard errors and z tests</p>"
               + self.delta_method.to_html(index=False, na_rep=""))
            + ("" if self.r_squared is None else
               "<p>R-squared of the path models</p>"
               + self.r_squared.to_html(index=False, na_rep=""))
        )
