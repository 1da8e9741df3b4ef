"""1-1-1 mediation with random paths (Bauer, Preacher & Gil 2006): :func:`random_slope_mediation`.

Method. When the effect of the exposure X on the mediator M (``a_j``), of M on the outcome Y
(``b_j``) and the direct effect (``c'_j``) vary between clusters, the average indirect effect is
not the product of the average paths but

    E(a_j b_j) = a b + cov(a_j, b_j)

(Kenny, Korchmaros & Bolger 2003; Bauer, Preacher & Gil 2006). Both equations are fitted together
as one mixed model on the stacked data, with random intercepts and random ``a_j``, ``b_j`` and
``c'_j`` of unstructured covariance and one residual variance per outcome
(:mod:`classdyad.analysis.stacked_mediation_model`; REML by default, as BPG).

Effects, each with two kinds of inference in separately named columns:

- ``delta_*``: first-order delta-method (Sobel-type) standard errors, Wald z tests and normal
  intervals. For the indirect effect
  ``var = b^2 var(a) + a^2 var(b) + 2 a b cov(a, b) + var(cov(a_j, b_j))``, the fixed effects
  and the variance parameters being asymptotically independent (Sobel 1982; Bauer et al. 2006,
  eq. 13 without its second-order terms);
- ``mc_*``: Monte Carlo intervals and p-values (Preacher & Selig 2012): the fixed effects are
  drawn from ``N(beta, cov(beta))`` and ``cov(a_j, b_j)`` from its own normal sampling
  distribution, and each effect is computed per draw.

R-squared of each path model (the mediator and the outcome equation): Nakagawa & Schielzeth's
(2013) marginal and conditional R-squared, with the random-slope variance as Johnson (2014):
``sigma_f^2`` the variance (divisor n - 1, as ``MuMIn::r.squaredGLMM``) of the fixed-part
prediction over the observations, ``sigma_r^2`` the mean over the observations of
``z' T z`` (``z`` the equation's random-effects design row, ``T`` its covariance block) and
``sigma_e^2`` the equation's residual variance: marginal ``sigma_f^2 / (sigma_f^2 + sigma_r^2 +
sigma_e^2)``, conditional ``(sigma_f^2 + sigma_r^2) / (...)``.

Validation: Bauer, Preacher & Gil's example data against ``nlme::lme`` 3.1-162 with
``varIdent(form = ~ 1 | dv)`` and glmmTMB 1.1.5 (R 4.2.2); see
``tests/analysis/test_mediation_random_slopes_golden.py``.

References
----------
Bauer, D. J., Preacher, K. J. & Gil, K. M. (2006). Conceptualizing and testing random indirect
effects and moderated mediation in multilevel models: new procedures and recommendations.
*Psychological Methods*, 11(2), 142-163. doi:10.1037/1082-989X.11.2.142
Johnson, P. C. D. (2014). Extension of Nakagawa & Schielzeth's R2GLMM to random slopes models.
*Methods in Ecology and Evolution*, 5(9), 944-946.
Kenny, D. A., Korchmaros, J. D. & Bolger, N. (2003). Lower level mediation in multilevel models.
*Psychological Methods*, 8(2), 115-128.
Nakagawa, S. & Schielzeth, H. (2013). A general and simple method for obtaining R2 from
generalized linear mixed-effects models. *Methods in Ecology and Evolution*, 4(2), 133-142.
Preacher, K. J. & Selig, J. P. (2012). Advantages of Monte Carlo confidence intervals for
indirect effects. *Communication Methods and Measures*, 6(2), 77-98.
Sobel, M. E. (1982). Asymptotic confidence intervals for indirect effects in structural equation
models. *Sociological Methodology*, 13, 290-312.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd
import scipy.stats

from classdyad.analysis.model_input import (
    prepare_columns,
    require_variation,
    require_within_variation,
)
from classdyad.analysis.monte_carlo import interval_from_draws, monte_carlo_p_value
from classdyad.analysis.random_slope_mediation_results import RandomSlopeMediationResult
from classdyad.analysis.stacked_mediation_model import (
    STACKED_TERMS,
    StackedFit,
    fit_stacked_model,
    tau_index,
)
from classdyad.errors import (
    ConvergenceWarning,
    DataError,
    OptionError,
    SingularFitWarning,
    check_option,
)

__all__ = ["RandomSlopeMediationResult", "random_slope_mediation"]

_A, _B, _C = 1, 3, 4  # positions of a, b and c' in STACKED_TERMS


def _delta_row(effect: str, estimate: float, variance: float, level: float) -> dict:
    se = float(np.sqrt(variance)) if variance >= 0 else float("nan")
    z = estimate / se
    crit = scipy.stats.norm.ppf(0.5 + level / 2.0)
    return {"effect": effect, "estimate": estimate, "delta_std_error": se, "delta_z": z,
            "delta_p_value": float(2.0 * scipy.stats.norm.sf(abs(z))),
            "delta_ci_lower": estimate - crit * se, "delta_ci_upper": estimate + crit * se}


def _effects(fit: StackedFit, n_draws: int, level: float,
             rng: np.random.Generator) -> pd.DataFrame:
    beta, cov = fit.beta, fit.cov_beta
    a, b, c = beta[_A], beta[_B], beta[_C]
    k = tau_index(_A, _B)
    sigma_ab = float(fit.tau[_A, _B])
    var_sigma = float(fit.cov_variance_parameters[k, k])
    indirect_var = (b * b * cov[_A, _A] + a * a * cov[_B, _B] + 2 * a * b * cov[_A, _B]
                    + var_sigma)
    grad_total = np.zeros(5)
    grad_total[[_A, _B, _C]] = [b, a, 1.0]
    total_var = float(grad_total @ cov @ grad_total) + var_sigma
    indirect = a * b + sigma_ab
    rows = [
        _delta_row("a", a, cov[_A, _A], level),
        _delta_row("b", b, cov[_B, _B], level),
        _delta_row("direct", c, cov[_C, _C], level),
        _delta_row("cov_a_b", sigma_ab, var_sigma, level),
        _delta_row("indirect", indirect, indirect_var, level),
        _delta_row("total", indirect + c, total_var, level),
    ]
    root = np.linalg.cholesky(cov + 1e-300 * np.eye(5))
    draws = beta + rng.standard_normal((n_draws, 5)) @ root.T
    sigma_draws = sigma_ab + np.sqrt(max(var_sigma, 0.0)) * rng.standard_normal(n_draws)
    indirect_draws = draws[:, _A] * draws[:, _B] + sigma_draws
    by_effect = {"a": draws[:, _A], "b": draws[:, _B], "direct": draws[:, _C],
                 "cov_a_b": sigma_draws, "indirect": indirect_draws,
                 "total": indirect_draws + draws[:, _C]}
    for row in rows:
        low, high = interval_from_draws(by_effect[row["effect"]], level)
        row.update(mc_ci_lower=low, mc_ci_upper=high,
                   mc_p_value=monte_carlo_p_value(by_effect[row["effect"]]))
    return pd.DataFrame(rows)


def _r_squared(fit: StackedFit, x: np.ndarray, m: np.ndarray, mediator: str,
               outcome: str) -> pd.DataFrame:
    beta, tau = fit.beta, fit.tau
    rows = []
    designs = {
        mediator: (np.column_stack([np.ones_like(x), x]), [0, 1], 0),
        outcome: (np.column_stack([np.ones_like(x), m, x]), [2, 3, 4], 1),
    }
    for name, (z, index, which) in designs.items():
        fixed = float(np.var(z @ beta[index], ddof=1))
        block = tau[np.ix_(index, index)]
        random = float(np.mean(np.einsum("ni,ij,nj->n", z, block, z)))
        residual = float(fit.residual_variances[which])
        total = fixed + random + residual
        rows.append({
            "model": "mediator" if which == 0 else "outcome",
            "response": name,
            "definition": "Nakagawa & Schielzeth (2013), random slopes as Johnson (2014)",
            "marginal": fixed / total,
            "conditional": (fixed + random) / total,
            "fixed_variance": fixed,
            "random_variance": random,
            "residual_variance": residual,
        })
    return pd.DataFrame(rows)


def random_slope_mediation(
    data: pd.DataFrame,
    *,
    exposure: str,
    mediator: str,
    outcome: str,
    cluster: str,
    method: Literal["REML", "ML"] = "REML",
    n_draws: int = 20_000,
    confidence_level: float = 0.95,
    rng: int | np.random.Generator | None = None,
) -> RandomSlopeMediationResult:
    """1-1-1 mediation with random a, b and c' paths (Bauer, Preacher & Gil 2006).

    Parameters
    ----------
    data
        One row per observation (e.g. per student), with the cluster column.
    exposure, mediator, outcome
        Numeric columns X, M and Y, all measured at the observation level.
    cluster
        The grouping column (e.g. ``"classroom"``); the paths vary between its levels.
    method
        ``"REML"`` (default, as BPG and ``nlme::lme``) or ``"ML"``.
    n_draws
        Monte Carlo draws for the ``mc_*`` columns.
    confidence_level
        Level of both kinds of intervals.
    rng
        Seed or generator for the Monte Carlo draws.

    Returns
    -------
    RandomSlopeMediationResult
        ``effects`` (a, b, direct c', cov(a_j, b_j), indirect ``ab + cov(a_j, b_j)``, total,
        with ``delta_*`` and ``mc_*`` columns), ``fixed_effects``, ``random_covariance``,
        ``residual_variances``, ``r_squared`` of the mediator and outcome models.

    Notes
    -----
    Validated on Bauer, Preacher & Gil's example data against ``nlme::lme`` 3.1-162 (stacked
    model, ``varIdent(form = ~ 1 | dv)``, REML) and glmmTMB 1.1.5 (R 4.2.2): estimates,
    standard errors, random-effect covariances and log-likelihood to 1e-4 relative, the
    variance of ``cov(a_j, b_j)`` to 1e-3 relative.

    Examples
    --------
    >>> fit = random_slope_mediation(students, exposure="low_ses",
    ...     mediator="negative_rate", outcome="closeness", cluster="classroom",
    ...     rng=1)  # doctest: +SKIP
    >>> fit.effects  # doctest: +SKIP
    """
    check_option("method", method, ("REML", "ML"))
    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws < 100:
        raise OptionError(f"n_draws={n_draws!r} is not allowed; use a whole number >= 100")
    if not 0.0 < confidence_level < 1.0:
        raise OptionError(
            f"confidence_level={confidence_level!r} is not allowed; use a number between 0 and 1"
        )
    frame = prepare_columns(
        data,
        {"exposure": [exposure], "mediator": [mediator], "outcome": [outcome],
         "cluster": [cluster]},
        numeric=[exposure, mediator, outcome],
    )
    for column, role in ((exposure, "exposure"), (mediator, "mediator"), (outcome, "outcome")):
        require_variation(frame, column, role)
    for column, role in ((exposure, "exposure"), (mediator, "mediator")):
        require_within_variation(
            frame, column, role, cluster,
            hint=f"a random slope of {column} needs {column} to vary within each {cluster}",
        )
    codes, levels = pd.factorize(frame[cluster])
    if len(levels) < 10:
        raise DataError(
            f"{cluster!r} has {len(levels)} levels; a 5 x 5 covariance of random paths needs "
            "many more clusters (BPG used 100); use mediation() with random intercepts"
        )
    x = frame[exposure].to_numpy(float)
    m = frame[mediator].to_numpy(float)
    y = frame[outcome].to_numpy(float)
    fit = fit_stacked_model(x, m, y, np.asarray(codes), method=method)
    if not fit.converged:
        warnings.warn(
            "the random-slopes mediation model did not converge; treat the estimates with care "
            "(rescale the variables or use mediation() with random intercepts)",
            ConvergenceWarning, stacklevel=2,
        )
    if fit.singular:
        warnings.warn(
            "boundary (singular) fit: the covariance of the random intercepts and paths is "
            "singular (a path does not vary between clusters, or two vary in lockstep), so the "
            "sampling variance of cov(a_j, b_j) and the intervals of the indirect and total "
            "effects are not available; use mediation() with random intercepts, whose paths "
            "are fixed",
            SingularFitWarning, stacklevel=2,
        )
    generator = np.random.default_rng(rng)
    names = [f"{mediator}: intercept", f"{mediator}: {exposure} (a)",
             f"{outcome}: intercept", f"{outcome}: {mediator} (b)",
             f"{outcome}: {exposure} (c')"]
    se = np.sqrt(np.diag(fit.cov_beta))
    z = fit.beta / se
    crit = scipy.stats.norm.ppf(0.5 + confidence_level / 2.0)
    fixed = pd.DataFrame({
        "term": list(STACKED_TERMS), "label": names, "estimate": fit.beta, "std_error": se,
        "statistic": z, "p_value": 2.0 * scipy.stats.norm.sf(np.abs(z)),
        "ci_low": fit.beta - crit * se, "ci_high": fit.beta + crit * se,
    })
    covariance = pd.DataFrame(fit.tau, index=names, columns=names)
    return RandomSlopeMediationResult(
        exposure=exposure,
        mediator=mediator,
        outcome=outcome,
        cluster=cluster,
        method=method,
        confidence_level=confidence_level,
        n_obs=fit.n_obs,
        n_clusters=fit.n_groups,
        n_draws=int(n_draws),
        loglik=fit.loglik,
        converged=fit.converged,
        singular=fit.singular,
        effects=_effects(fit, int(n_draws), confidence_level, generator),
        fixed_effects=fixed,
        random_covariance=covariance,
        residual_variances={mediator: float(fit.residual_variances[0]),
                            outcome: float(fit.residual_variances[1])},
        r_squared=_r_squared(fit, x, m, mediator, outcome),
        fit=fit,
    )
