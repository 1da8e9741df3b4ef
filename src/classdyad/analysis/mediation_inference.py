"""Delta-method (Sobel-type) inference and R-squared of the path models, for :func:`mediation`.

Delta method. The derived effects (indirect ``a_k b_k``, total indirect, total, proportion
mediated) are smooth functions ``f(theta)`` of the path coefficients ``theta`` (the exposure
terms of every mediator model, the mediator and exposure terms of the outcome model). Their
first-order standard error is ``sqrt(g' V g)`` with ``g`` the gradient of ``f`` (central
differences, exact up to rounding for products) and ``V`` the joint covariance of ``theta``: the
mediator models jointly with the cross-covariance of
:func:`classdyad.analysis.monte_carlo.parallel_covariance`, the outcome model independent of
them - the same sampling model the Monte Carlo draws use. For one mediator this is Sobel's
(1982) standard error ``sqrt(b^2 var(a) + a^2 var(b))``. Tests are Wald z tests and intervals
normal ones; they assume a normal sampling distribution, which the product of two coefficients
does not have in small samples (hence the Monte Carlo intervals of the main table).

R-squared. Mixed path models: Nakagawa & Schielzeth's (2013) marginal and conditional R-squared,
``sigma_f^2 / (sigma_f^2 + sigma_r^2 + sigma_e^2)`` and
``(sigma_f^2 + sigma_r^2) / (sigma_f^2 + sigma_r^2 + sigma_e^2)``, with ``sigma_f^2`` the
variance (divisor n - 1) of the fixed-part predictions, ``sigma_r^2`` the sum over the random
terms of the mean of ``z' T z`` over the rows (the random-intercept variances for
random-intercept models; Johnson 2014 for random slopes) and ``sigma_e^2`` the residual variance,
as ``performance::r2_nakagawa``. Least-squares path models: the ordinary ``1 - RSS / TSS``
(reported as both marginal and conditional).

References
----------
Sobel, M. E. (1982). Asymptotic confidence intervals for indirect effects in structural equation
models. *Sociological Methodology*, 13, 290-312.
Nakagawa, S. & Schielzeth, H. (2013). A general and simple method for obtaining R2 from
generalized linear mixed-effects models. *Methods in Ecology and Evolution*, 4(2), 133-142.
Johnson, P. C. D. (2014). Extension of Nakagawa & Schielzeth's R2GLMM to random slopes models.
*Methods in Ecology and Evolution*, 5(9), 944-946.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.stats

from classdyad.analysis.monte_carlo import parallel_covariance
from classdyad.analysis.path_models import PathFit

__all__ = ["DELTA_COLUMNS", "delta_method_table", "path_r_squared", "r_squared_table"]

DELTA_COLUMNS = ["component", "effect", "mediator", "estimate", "delta_std_error", "delta_z",
                 "delta_p_value", "delta_ci_lower", "delta_ci_upper"]

Derived = Callable[[Sequence[Mapping[str, float]], Mapping[str, float]], dict[tuple, object]]


def delta_method_table(
    a_fits: Sequence[PathFit],
    b_fit: PathFit,
    exposure_terms: Sequence[str],
    b_terms: Sequence[str],
    derived: Derived,
    mediator_names: Sequence[str],
    confidence: float,
) -> pd.DataFrame:
    """Delta-method standard errors, z tests and intervals of every derived effect.

    ``derived(a_coefficients, b_coefficients)`` returns ``{(component, effect, k): value}`` as
    the Monte Carlo code uses it.
    """
    exposure_terms, b_terms = list(exposure_terms), list(b_terms)
    q = len(exposure_terms)
    theta = np.concatenate(
        [f.estimates.loc[exposure_terms].to_numpy(float) for f in a_fits]
        + [b_fit.estimates.loc[b_terms].to_numpy(float)]
    )
    covariance = scipy.linalg.block_diag(
        parallel_covariance(a_fits, exposure_terms),
        b_fit.covariance.loc[b_terms, b_terms].to_numpy(float),
    )

    def evaluate(values: np.ndarray) -> dict[tuple, float]:
        a_values = [dict(zip(exposure_terms, values[i * q:(i + 1) * q], strict=True))
                    for i in range(len(a_fits))]
        b_values = dict(zip(b_terms, values[len(a_fits) * q:], strict=True))
        return {key: float(v) for key, v in derived(a_values, b_values).items()}

    point = evaluate(theta)
    gradients = {key: np.zeros(len(theta)) for key in point}
    for i in range(len(theta)):
        step = 1e-6 * max(1.0, abs(theta[i]))
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        f_up, f_down = evaluate(up), evaluate(down)
        for key in point:
            gradients[key][i] = (f_up[key] - f_down[key]) / (2.0 * step)
    crit = scipy.stats.norm.ppf(0.5 + confidence / 2.0)
    rows = []
    for key, estimate in point.items():
        component, effect, k = key
        g = gradients[key]
        variance = float(g @ covariance @ g)
        se = float(np.sqrt(variance)) if variance > 0 else float("nan")
        z = estimate / se
        rows.append({
            "component": component,
            "effect": effect,
            "mediator": None if k is None else mediator_names[k],
            "estimate": estimate,
            "delta_std_error": se,
            "delta_z": z,
            "delta_p_value": float(2.0 * scipy.stats.norm.sf(abs(z))),
            "delta_ci_lower": estimate - crit * se,
            "delta_ci_upper": estimate + crit * se,
        })
    return pd.DataFrame(rows, columns=DELTA_COLUMNS)


def _random_variance(fit: PathFit) -> float:
    model = fit.model
    vc = model.variance_components
    corr = model.correlations
    total = 0.0
    for term in model.design.random_terms:
        names = term.effect_names
        block = np.zeros((len(names), len(names)))
        for i, name in enumerate(names):
            row = vc.loc[(vc["group"] == term.name) & (vc["term"] == name)]
            block[i, i] = float(row["variance"].iloc[0])
        for rec in corr.itertuples(index=False):
            if rec.group == term.name and rec.term1 in names and rec.term2 in names:
                i, j = names.index(rec.term1), names.index(rec.term2)
                block[i, j] = block[j, i] = float(rec.covariance)
        z = term.matrix
        total += float(np.mean(np.einsum("ni,ij,nj->n", z, block, z)))
    return total


def path_r_squared(fit: PathFit, response: np.ndarray) -> dict[str, float | str]:
    """R-squared of one path model (definitions in the module docstring).

    ``response`` holds the model's response values on the rows it used (needed for the total
    sum of squares of a least-squares model).
    """
    if fit.model is None:
        residual = float(fit.residuals @ fit.residuals)
        total = float(np.sum((response - response.mean()) ** 2))
        value = 1.0 - residual / total
        return {"definition": "least squares: 1 - RSS / TSS", "marginal": value,
                "conditional": value, "fixed_variance": float(np.var(response - fit.residuals,
                                                                     ddof=1)),
                "random_variance": 0.0, "residual_variance": residual / len(fit.residuals)}
    model = fit.model
    fixed = float(np.var(model.design.fixed @ model.beta, ddof=1))
    random = _random_variance(fit)
    residual = float(model.sigma) ** 2
    whole = fixed + random + residual
    return {"definition": "Nakagawa & Schielzeth (2013) marginal / conditional",
            "marginal": fixed / whole, "conditional": (fixed + random) / whole,
            "fixed_variance": fixed, "random_variance": random, "residual_variance": residual}


def r_squared_table(
    a_fits: Sequence[PathFit], b_fit: PathFit, responses: Sequence[np.ndarray],
    names: Sequence[str],
) -> pd.DataFrame:
    """One row per path model: the mediator models, then the outcome model."""
    rows = []
    fits = [*a_fits, b_fit]
    for i, (fit, response, name) in enumerate(zip(fits, responses, names, strict=True)):
        rows.append({"model": "outcome" if i == len(fits) - 1 else "mediator",
                     "response": name, **path_r_squared(fit, np.asarray(response, float))})
    return pd.DataFrame(rows)
