"""Implicit attitudes as moderators: cross-level moderation and moderated mediation.

:func:`cross_level_moderation` asks whether a cluster-level moderator W (the teacher's IAT D
score) changes a student-level path from X (a background group) to Y (an interaction rate or a
relationship outcome)::

    Y = g0 + g1 X + g2 Wc + g3 X Wc + covariates + u_j [+ s_j X] (+ v_i) + e

with W centred at its mean (``Wc = W - mean(W)``), random intercepts per cluster (and optionally a
random slope of X per cluster, which Heisig & Schaeffer 2019 recommend for cross-level
interactions) and per repeated-measures unit, fitted by REML with
:func:`classdyad.mixed.lmm`. ``g3`` is the cross-level interaction; the simple slopes of X at
``W = mean +- 1 SD`` are ``g1 + g3 w`` with standard errors ``sqrt(V11 + w^2 V33 + 2 w V13)``
from the fixed-effect covariance (Preacher, Curran & Bauer 2006) and normal intervals. When W is
constant within clusters (a teacher's score) its mean and SD are taken over clusters, one value
each, otherwise over rows.

:func:`moderated_mediation` is first-stage moderated mediation (Hayes 2015; his model 7) in the
1-1-1 design of :mod:`classdyad.analysis.mediation`: the a path of each mediator is moderated,

    M_k = a0 + a1 X + a2 Wc + a3 X Wc + covariates + ...
    Y   = b0 + sum_k b_k M_k + c' X + c2 Wc + covariates + ...

so that the indirect effect via M_k at moderator value w is ``(a1 + a3 w) b_k``, linear in w, and
the **index of moderated mediation** is its slope ``a3 b_k``: zero exactly when the indirect
effect does not depend on W. With ``decomposition="within_between"`` X and M_k are split into
cluster means and deviations as in :func:`classdyad.analysis.mediation` and the moderated path is
the within-cluster one (X - X.j) x W; the index refers to the within-cluster indirect effect.
Monte Carlo intervals (Preacher & Selig 2012) are given for the index and the conditional
indirect effects.

References
----------
Hayes, A. F. (2015). An index and test of linear moderated mediation. *Multivariate Behavioral
Research*, 50(1), 1-22. doi:10.1080/00273171.2014.962683

Preacher, K. J., Curran, P. J. & Bauer, D. J. (2006). Computational tools for probing
interactions in multiple linear regression, multilevel modeling, and latent curve analysis.
*Journal of Educational and Behavioral Statistics*, 31(4), 437-448.

Heisig, J. P. & Schaeffer, M. (2019). Why you should always include a random slope for the
lower-level variable involved in a cross-level interaction. *European Sociological Review*,
35(2), 258-279.

Validated against: the models are ``lme4::lmer`` fits (through :func:`classdyad.mixed.lmm`);
the simple slopes and index are checked against their definitions in
``tests/analysis/test_moderation.py``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import scipy.stats

from classdyad.analysis.model_input import (
    prepare_columns,
    require_variation,
    require_within_variation,
)
from classdyad.analysis.monte_carlo import (
    draw_coefficients,
    draw_parallel_coefficients,
    interval_from_draws,
    monte_carlo_p_value,
)
from classdyad.analysis.path_models import PathFit, fit_path_model, model_frame
from classdyad.errors import DataError, check_option

__all__ = [
    "CrossLevelModerationResult",
    "ModeratedMediationResult",
    "cross_level_moderation",
    "moderated_mediation",
]

_COLUMNS = ["effect", "mediator", "moderator_value", "estimate", "std_error", "ci_low",
            "ci_high", "p_value", "method"]


@dataclass(frozen=True, eq=False)
class CrossLevelModerationResult:
    """Result of :func:`cross_level_moderation`.

    ``effects`` rows: ``interaction`` (g3), ``exposure`` (g1, the slope at the moderator's
    mean), ``moderator`` (g2) and ``simple_slope`` at ``moderator_value`` = mean - 1 SD, mean,
    mean + 1 SD (in the moderator's own units).
    """

    exposure: str
    moderator: str
    outcome: str
    cluster: str
    confidence: float
    n_obs: int
    moderator_mean: float
    moderator_sd: float
    effects: pd.DataFrame = field(repr=False)
    conclusion: str = field(repr=False)
    model: PathFit = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The tidy table of effects (a copy)."""
        return self.effects.copy()

    def summary(self) -> str:
        """A printable summary."""
        return "\n".join([f"Cross-level moderation of {self.exposure} -> {self.outcome} by "
                          f"{self.moderator} (n = {self.n_obs})", f"Model: {self.model.formula}",
                          self.effects.to_string(index=False), self.conclusion])

    def _repr_html_(self) -> str:
        return (f"<p><b>Cross-level moderation</b> by {html.escape(self.moderator)}</p>"
                + self.effects.to_html(index=False, na_rep="")
                + f"<p>{html.escape(self.conclusion)}</p>")


@dataclass(frozen=True, eq=False)
class ModeratedMediationResult:
    """Result of :func:`moderated_mediation`.

    ``effects`` rows per mediator: ``a_interaction`` (a3, model-based), ``b`` (model-based),
    ``index`` (a3 b, Monte Carlo) and ``conditional_indirect`` at ``moderator_value`` = mean -
    1 SD, mean, mean + 1 SD (Monte Carlo).
    """

    exposure: str
    moderator: str
    mediators: tuple[str, ...]
    outcome: str
    cluster: str | None
    decomposition: str
    confidence: float
    n_obs: int
    n_draws: int
    moderator_mean: float
    moderator_sd: float
    effects: pd.DataFrame = field(repr=False)
    conclusion: tuple[str, ...] = field(repr=False)
    a_models: tuple[PathFit, ...] = field(repr=False)
    b_model: PathFit = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The tidy table of effects (a copy)."""
        return self.effects.copy()

    def summary(self) -> str:
        """A printable summary."""
        return "\n".join([f"Moderated mediation of {self.exposure} -> "
                          f"{', '.join(self.mediators)} -> {self.outcome} by {self.moderator} "
                          f"(n = {self.n_obs})", self.effects.to_string(index=False),
                          *self.conclusion])

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in self.conclusion)
        return (f"<p><b>Moderated mediation</b> by {html.escape(self.moderator)}</p>"
                + self.effects.to_html(index=False, na_rep="") + f"<ul>{items}</ul>")


def _moderator_scale(frame: pd.DataFrame, moderator: str, cluster: str | None
                     ) -> tuple[float, float]:
    """Mean and SD of the moderator: over clusters when it is constant within them."""
    values = frame[moderator]
    if cluster is not None and (frame.groupby(cluster)[moderator].nunique() == 1).all():
        values = frame.groupby(cluster)[moderator].first()
    return float(values.mean()), float(values.std(ddof=1))


def _roles(exposure, moderator, outcome, mediators, covariates, cluster, repeated):
    named = [exposure, moderator, outcome, *mediators, *covariates]
    if len(set(named)) != len(named):
        raise DataError(f"the columns {named} must all differ (exposure, moderator, outcome, "
                        "mediators and covariates)")
    roles: dict[str, list[str]] = {"exposure": [exposure], "moderator": [moderator],
                                   "outcome": [outcome], "mediator": list(mediators),
                                   "covariate": list(covariates)}
    if cluster is not None:
        roles["cluster"] = [cluster]
    if repeated is not None:
        roles["repeated-measures identifier"] = [repeated]
    return roles


def _slope_row(fit: PathFit, main: str, interaction: str, w: float, label: str,
               quantile: float) -> dict:
    v = fit.covariance
    estimate = fit.coefficient(main) + w * fit.coefficient(interaction)
    variance = (v.loc[main, main] + w * w * v.loc[interaction, interaction]
                + 2.0 * w * v.loc[main, interaction])
    se = float(np.sqrt(variance))
    return {"effect": "simple_slope", "mediator": None, "moderator_value": label,
            "estimate": estimate, "std_error": se, "ci_low": estimate - quantile * se,
            "ci_high": estimate + quantile * se,
            "p_value": float(2.0 * scipy.stats.norm.sf(abs(estimate) / se)), "method": "wald"}


def _model_row(fit: PathFit, term: str, effect: str, mediator: str | None = None) -> dict:
    rec = fit.table.set_index("term").loc[term]
    return {"effect": effect, "mediator": mediator, "moderator_value": None,
            **{k: float(rec[k]) for k in ("estimate", "std_error", "ci_low", "ci_high",
                                          "p_value")}, "method": "model"}


def cross_level_moderation(
    data: pd.DataFrame,
    *,
    exposure: str,
    moderator: str,
    outcome: str,
    cluster: str,
    covariates: Sequence[str] = (),
    repeated: str | None = None,
    random_slope: bool = False,
    confidence: float = 0.95,
) -> CrossLevelModerationResult:
    """Cross-level moderation of a student-level path by a cluster-level moderator.

    Parameters
    ----------
    data
        One row per observation.
    exposure
        Student-level predictor, e.g. ``"low_ses"`` (0/1 or boolean).
    moderator
        Cluster-level moderator, e.g. ``"teacher_iat_ses"`` (centred at its mean in the model).
    outcome
        e.g. ``"negative_rate"`` or ``"teacher_closeness"``.
    cluster
        The cluster column (``"classroom"``).
    covariates
        Further predictors.
    repeated
        Repeated-measures identifier (``"student"``): adds a random intercept.
    random_slope
        Add a random slope of the exposure per cluster (Heisig & Schaeffer 2019).
    confidence
        Level of the intervals.

    Returns
    -------
    CrossLevelModerationResult
        The interaction (estimate, CI, p: Satterthwaite t test as lmerTest), main effects and
        simple slopes at the moderator's mean and +- 1 SD (Wald).
    """
    if not 0.0 < confidence < 1.0:
        raise DataError(f"confidence must be between 0 and 1, e.g. 0.95; got {confidence!r}")
    covariates = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    roles = _roles(exposure, moderator, outcome, (), covariates, cluster, repeated)
    frame = prepare_columns(data, roles, numeric=[exposure, moderator, outcome])
    for name, role in ((exposure, "exposure"), (moderator, "moderator"), (outcome, "outcome")):
        require_variation(frame, name, role)
    mean, sd = _moderator_scale(frame, moderator, cluster)
    work, random = model_frame(frame, covariates, cluster, repeated)
    work["X"], work["W"], work["Y"] = frame[exposure], frame[moderator] - mean, frame[outcome]
    fit = fit_path_model("Y", ["X", "W", "X:W", *(f"C{k}" for k in range(len(covariates)))],
                         work, random=random, random_slope="X" if random_slope else None,
                         confidence=confidence)
    quantile = scipy.stats.norm.ppf(0.5 + confidence / 2.0)
    rows = [_model_row(fit, "X:W", "interaction"), _model_row(fit, "X", "exposure"),
            _model_row(fit, "W", "moderator")]
    for label, w in (("mean - 1 SD", -sd), ("mean", 0.0), ("mean + 1 SD", sd)):
        rows.append(_slope_row(fit, "X", "X:W", w, label, quantile))
    effects = pd.DataFrame(rows, columns=_COLUMNS)
    inter = effects.iloc[0]
    level = f"{100 * confidence:g}%"
    found = ("moderates" if inter["ci_low"] > 0 or inter["ci_high"] < 0
             else "shows no evidence of moderating")
    conclusion = (
        f"{moderator} {found} the effect of {exposure} on {outcome}: interaction = "
        f"{inter['estimate']:.3g} per unit of {moderator} ({level} CI {inter['ci_low']:.3g} to "
        f"{inter['ci_high']:.3g}, p = {inter['p_value']:.3g}); the effect of {exposure} is "
        f"{rows[3]['estimate']:.3g} at mean - 1 SD and {rows[5]['estimate']:.3g} at mean + 1 SD."
    )
    return CrossLevelModerationResult(
        exposure=exposure, moderator=moderator, outcome=outcome, cluster=cluster,
        confidence=confidence, n_obs=len(work), moderator_mean=mean, moderator_sd=sd,
        effects=effects, conclusion=conclusion, model=fit,
    )


def moderated_mediation(
    data: pd.DataFrame,
    *,
    exposure: str,
    moderator: str,
    mediators: str | Sequence[str],
    outcome: str,
    cluster: str | None,
    covariates: Sequence[str] = (),
    repeated: str | None = None,
    decomposition: Literal["within_between", "none"] = "within_between",
    random_slope: bool = False,
    n_draws: int = 20_000,
    confidence: float = 0.95,
    rng: int | np.random.Generator | None = None,
) -> ModeratedMediationResult:
    """First-stage moderated mediation and the index of moderated mediation (Hayes 2015).

    Parameters
    ----------
    data, exposure, mediators, outcome, cluster, covariates, repeated, decomposition
        As for :func:`classdyad.analysis.mediation`.
    moderator
        The moderator of the a paths, e.g. the teacher's IAT D score (centred at its mean).
    random_slope
        Add a random slope per cluster of the moderated exposure term in the a-path models
        (recommended for a cross-level interaction, Heisig & Schaeffer 2019).
    n_draws
        Monte Carlo draws.
    confidence
        Level of the intervals.
    rng
        Seed or generator for the draws.

    Returns
    -------
    ModeratedMediationResult
        Per mediator: the a-path interaction a3, the b path, the index ``a3 * b`` and the
        conditional indirect effects at the moderator's mean and +- 1 SD, with Monte Carlo
        intervals.
    """
    check_option("decomposition", decomposition, ("within_between", "none"))
    if not 0.0 < confidence < 1.0:
        raise DataError(f"confidence must be between 0 and 1, e.g. 0.95; got {confidence!r}")
    if not isinstance(n_draws, int | np.integer) or n_draws < 100:
        raise DataError(f"n_draws must be an integer of at least 100; got {n_draws!r}")
    if cluster is None and decomposition == "within_between":
        raise DataError("decomposition='within_between' needs a cluster column; for "
                        "single-level data use decomposition='none'")
    mediators = (mediators,) if isinstance(mediators, str) else tuple(mediators)
    if not mediators:
        raise DataError("give at least one mediator column, e.g. mediators=['negative_rate']")
    covariates = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    roles = _roles(exposure, moderator, outcome, mediators, covariates, cluster, repeated)
    frame = prepare_columns(data, roles,
                            numeric=[exposure, moderator, outcome, *mediators])
    for name, role in ((exposure, "exposure"), (moderator, "moderator"), (outcome, "outcome"),
                       *((m, "mediator") for m in mediators)):
        require_variation(frame, name, role)
    if cluster is not None:
        for name in mediators:
            require_within_variation(frame, name, "mediator", cluster, hint=(
                "the model is for the 1-1-1 design, in which the mediator varies between "
                "students; give a mediator measured per student"))
    mean, sd = _moderator_scale(frame, moderator, cluster)
    work, random = model_frame(frame, covariates, cluster, repeated)
    work["W"], work["Y"] = frame[moderator] - mean, frame[outcome]
    columns = {"X": frame[exposure], **{f"M{k}": frame[m] for k, m in enumerate(mediators)}}
    for name, values in columns.items():
        work[name] = values
    if decomposition == "within_between":
        for name, role in ((exposure, "exposure"), *((m, "mediator") for m in mediators)):
            require_within_variation(frame, name, role, cluster)
        for name, values in columns.items():
            means = values.groupby(work["G"]).transform("mean")
            work[f"{name}_w"], work[f"{name}_b"] = values - means, means
        x_terms, m_terms = ["X_w", "X_b"], [[f"M{k}_w", f"M{k}_b"] for k in range(len(mediators))]
    else:
        x_terms, m_terms = ["X"], [[f"M{k}"] for k in range(len(mediators))]
    moderated = x_terms[0]
    product = f"{moderated}:W"
    covariate_terms = [f"C{k}" for k in range(len(covariates))]
    a_fits = [fit_path_model(f"M{k}", [*x_terms, "W", product, *covariate_terms], work,
                             random=random, random_slope=moderated if random_slope else None,
                             confidence=confidence)
              for k in range(len(mediators))]
    b_fit = fit_path_model("Y", [*(t for ts in m_terms for t in ts), *x_terms, "W",
                                 *covariate_terms], work, random=random, confidence=confidence)
    generator = np.random.default_rng(rng)
    a_draws = draw_parallel_coefficients(a_fits, [moderated, product], int(n_draws), generator)
    b_terms = [ts[0] for ts in m_terms]
    b_draws = draw_coefficients(b_fit, b_terms, int(n_draws), generator)
    rows: list[dict] = []
    conclusion: list[str] = []
    level = f"{100 * confidence:g}%"
    for k, name in enumerate(mediators):
        rows.append(_model_row(a_fits[k], product, "a_interaction", name))
        rows.append(_model_row(b_fit, b_terms[k], "b", name))
        a1, a3 = a_fits[k].coefficient(moderated), a_fits[k].coefficient(product)
        b = b_fit.coefficient(b_terms[k])
        values = {"index": (a3 * b, a_draws[k][product] * b_draws[b_terms[k]], None)}
        for label, w in (("mean - 1 SD", -sd), ("mean", 0.0), ("mean + 1 SD", sd)):
            draws = (a_draws[k][moderated] + w * a_draws[k][product]) * b_draws[b_terms[k]]
            values[label] = ((a1 + w * a3) * b, draws, label)
        for key, (estimate, draws, label) in values.items():
            low, high = interval_from_draws(draws, confidence)
            rows.append({"effect": "index" if key == "index" else "conditional_indirect",
                         "mediator": name, "moderator_value": label, "estimate": float(estimate),
                         "std_error": float(np.std(draws, ddof=1)), "ci_low": low,
                         "ci_high": high, "p_value": monte_carlo_p_value(draws),
                         "method": "monte_carlo"})
        index = rows[-4]
        found = ("depends on" if index["ci_low"] > 0 or index["ci_high"] < 0
                 else "shows no evidence of depending on")
        conclusion.append(
            f"The indirect effect of {exposure} on {outcome} via {name} {found} {moderator}: "
            f"index of moderated mediation = {index['estimate']:.3g} ({level} CI "
            f"{index['ci_low']:.3g} to {index['ci_high']:.3g})."
        )
    return ModeratedMediationResult(
        exposure=exposure, moderator=moderator, mediators=mediators, outcome=outcome,
        cluster=cluster, decomposition=decomposition, confidence=confidence, n_obs=len(work),
        n_draws=int(n_draws), moderator_mean=mean, moderator_sd=sd,
        effects=pd.DataFrame(rows, columns=_COLUMNS), conclusion=tuple(conclusion),
        a_models=tuple(a_fits), b_model=b_fit,
    )
