"""Negativity bias: do negative interactions weigh more than positive ones? :func:`negativity_bias`.

Method. The rates of positive and negative interactions are put on a common scale by
standardizing each over the rows used (``z = (x - mean) / sd``, sd with n - 1), and the outcome is
regressed on both in one linear mixed model (random intercept per cluster and, optionally, per
repeated-measures unit; REML, :func:`classdyad.mixed.lmm`)::

    outcome = b0 + b_positive z_positive + b_negative z_negative + covariates + u_j (+ v_i) + e

A negativity bias means ``|b_negative| > |b_positive|``: one standard deviation more negative
interactions moves the outcome further than one standard deviation more positive ones. The test
is of ``d = |b_negative| - |b_positive| = 0``. With the signs pointing in opposite directions (as
for closeness: b_positive > 0 > b_negative) ``d = -(b_negative + b_positive)`` - minus the
contrast of the two slopes - is linear in the estimates; in general its standard error comes from
the delta method, ``var(d) = g' V g`` with ``g = (sign(b_negative), -sign(b_positive))`` and V the
covariance of the two estimates (exact when neither slope is near zero). The interval is
``d +- z(1 - alpha/2) se`` and the p-value two-sided from the normal distribution (the large-sample
Wald test; with 70 classes the t and normal quantiles differ in the third digit).

References
----------
Baumeister, R. F., Bratslavsky, E., Finkenauer, C. & Vohs, K. D. (2001). Bad is stronger than
good. *Review of General Psychology*, 5(4), 323-370.

Validated against: ``lme4::lmer`` for the model (through :func:`lmm`); the contrast follows from
the fixed-effect covariance matrix (``vcov``), checked against a reparametrized model in
``tests/analysis/test_negativity_bias.py``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.stats

from classdyad.analysis.model_input import prepare_columns, require_variation
from classdyad.analysis.path_models import PathFit, fit_path_model, model_frame
from classdyad.errors import DataError

__all__ = ["NegativityBiasResult", "negativity_bias"]


@dataclass(frozen=True, eq=False)
class NegativityBiasResult:
    """Result of :func:`negativity_bias`.

    Attributes
    ----------
    effects
        Tidy table: rows ``b_positive``, ``b_negative`` (standardized slopes, model-based t
        tests) and ``difference`` (``|b_negative| - |b_positive|``, Wald z test); columns
        ``effect, estimate, std_error, ci_low, ci_high, p_value``.
    scales
        ``variable, mean, sd`` used to standardize the two rates.
    conclusion
        A sentence with the difference and its interval.
    model
        The fitted regression (``model.model`` is the mixed model).
    """

    outcome: str
    positive: str
    negative: str
    cluster: str | None
    confidence: float
    n_obs: int
    effects: pd.DataFrame = field(repr=False)
    scales: pd.DataFrame = field(repr=False)
    conclusion: str = field(repr=False)
    model: PathFit = field(repr=False)

    @property
    def difference(self) -> float:
        """``|b_negative| - |b_positive|``."""
        return float(self.effects.set_index("effect").loc["difference", "estimate"])

    def to_frame(self) -> pd.DataFrame:
        """The tidy table of effects (a copy), with the outcome named in each row."""
        return self.effects.assign(outcome=self.outcome).copy()

    def summary(self) -> str:
        """A printable summary."""
        return "\n".join([
            f"Negativity bias in {self.outcome} (n = {self.n_obs})",
            f"Model: {self.model.formula}",
            self.effects.to_string(index=False),
            self.conclusion,
        ])

    def _repr_html_(self) -> str:
        return (f"<p><b>Negativity bias</b> in {html.escape(self.outcome)} "
                f"(n = {self.n_obs})</p>" + self.effects.to_html(index=False)
                + f"<p>{html.escape(self.conclusion)}</p>")


def negativity_bias(
    data: pd.DataFrame,
    *,
    outcome: str,
    positive: str,
    negative: str,
    cluster: str | None,
    covariates: Sequence[str] = (),
    repeated: str | None = None,
    confidence: float = 0.95,
) -> NegativityBiasResult:
    """Test whether negative interactions weigh more than positive ones, on a common scale.

    Parameters
    ----------
    data
        One row per observation (e.g. student x wave).
    outcome
        Numeric outcome, e.g. ``"teacher_closeness"``.
    positive, negative
        The rates of positive and negative interactions (e.g. ``"positive_rate"``,
        ``"negative_rate"``); standardized over the rows used.
    cluster
        Random-intercept cluster (e.g. ``"classroom"``); ``None`` for least squares.
    covariates
        Further predictors, entered as they are.
    repeated
        Repeated-measures identifier (e.g. ``"student"``): adds a random intercept.
    confidence
        Level of the intervals.

    Returns
    -------
    NegativityBiasResult
        ``effects`` with ``b_positive``, ``b_negative`` and ``difference``
        (``|b_negative| - |b_positive|`` with its delta-method interval and Wald p-value).

    Notes
    -----
    The formula and test are in the module docstring. The model is validated against
    ``lme4::lmer`` (through :func:`classdyad.mixed.lmm`).
    """
    if not 0.0 < confidence < 1.0:
        raise DataError(f"confidence must be between 0 and 1, e.g. 0.95; got {confidence!r}")
    covariate_names = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    named = [outcome, positive, negative, *covariate_names]
    if len(set(named)) != len(named):
        raise DataError(f"the columns {named} must all differ (outcome, positive, negative and "
                        "covariates)")
    roles: dict[str, list[str]] = {"outcome": [outcome], "positive rate": [positive],
                                   "negative rate": [negative],
                                   "covariate": list(covariate_names)}
    if cluster is not None:
        roles["cluster"] = [cluster]
    if repeated is not None:
        roles["repeated-measures identifier"] = [repeated]
    frame = prepare_columns(data, roles, numeric=[outcome, positive, negative])
    require_variation(frame, outcome, "outcome")
    require_variation(frame, positive, "positive rate")
    require_variation(frame, negative, "negative rate")
    means = {name: float(frame[name].mean()) for name in (positive, negative)}
    sds = {name: float(frame[name].std(ddof=1)) for name in (positive, negative)}
    work, random = model_frame(frame, covariate_names, cluster, repeated)
    work["Y"] = frame[outcome]
    work["z_positive"] = (frame[positive] - means[positive]) / sds[positive]
    work["z_negative"] = (frame[negative] - means[negative]) / sds[negative]
    fit = fit_path_model(
        "Y", ["z_positive", "z_negative", *(f"C{k}" for k in range(len(covariate_names)))],
        work, random=random, confidence=confidence,
    )
    table = fit.table.set_index("term")
    rows = []
    for effect, term in (("b_positive", "z_positive"), ("b_negative", "z_negative")):
        rec = table.loc[term]
        rows.append({"effect": effect, **{k: float(rec[k]) for k in
                     ("estimate", "std_error", "ci_low", "ci_high", "p_value")}})
    b_pos, b_neg = fit.coefficient("z_positive"), fit.coefficient("z_negative")
    gradient = np.array([-np.sign(b_pos), np.sign(b_neg)])
    covariance = fit.covariance.loc[["z_positive", "z_negative"],
                                    ["z_positive", "z_negative"]].to_numpy()
    difference = abs(b_neg) - abs(b_pos)
    se = float(np.sqrt(gradient @ covariance @ gradient))
    quantile = scipy.stats.norm.ppf(0.5 + confidence / 2.0)
    p_value = float(2.0 * scipy.stats.norm.sf(abs(difference) / se)) if se > 0 else float("nan")
    rows.append({"effect": "difference", "estimate": difference, "std_error": se,
                 "ci_low": difference - quantile * se, "ci_high": difference + quantile * se,
                 "p_value": p_value})
    effects = pd.DataFrame(rows)
    low, high = difference - quantile * se, difference + quantile * se
    level = f"{100 * confidence:g}%"
    if low > 0:
        finding = "negative interactions weigh more than positive ones (negativity bias)"
    elif high < 0:
        finding = "positive interactions weigh more than negative ones"
    else:
        finding = "no evidence that negative and positive interactions weigh differently"
    conclusion = (
        f"{outcome}: {finding}: per SD, b_negative = {b_neg:.3g} and b_positive = {b_pos:.3g}; "
        f"|b_negative| - |b_positive| = {difference:.3g} ({level} CI {low:.3g} to {high:.3g})."
    )
    scales = pd.DataFrame({"variable": [positive, negative],
                           "mean": [means[positive], means[negative]],
                           "sd": [sds[positive], sds[negative]]})
    return NegativityBiasResult(
        outcome=outcome, positive=positive, negative=negative, cluster=cluster,
        confidence=confidence, n_obs=len(work), effects=effects, scales=scales,
        conclusion=conclusion, model=fit,
    )
