"""Linear mixed models with lme4's formulas and lme4/lmerTest's answers: :func:`lmm`.

Method. The model is ``y = X beta + Z b + e`` with ``b ~ N(0, sigma^2 Lambda Lambda')`` and
``e ~ N(0, sigma^2 I)``, fitted as lme4 fits it (Bates et al. 2015): for each value of the
relative covariance parameters ``theta`` a penalized least-squares problem gives ``beta``, the
conditional modes and the profiled (REML or ML) deviance
(:mod:`classdyad.mixed._penalized_least_squares`, which explains the per-group sufficient
statistics that make an evaluation independent of the number of observations). The deviance is
minimised over ``theta`` with the diagonal elements of each relative covariance factor bounded
below by zero, as in lme4, starting from lme4's values except for random intercepts, which start
from a one-way analysis of variance of the least-squares residuals:

- one random-effects term: exact gradients (derived in
  :meth:`~classdyad.mixed._penalized_least_squares.PenalizedLeastSquares.deviance_and_gradient`),
  with safeguarded Newton steps for a single parameter and L-BFGS-B otherwise;
- several terms (nested or crossed): L-BFGS-B with exact gradients
  (:mod:`classdyad.mixed._penalized_least_squares_gradient`), forward differences where a
  diagonal element of a relative covariance factor is at zero;
- then a restart away from a zero bound whenever that lowers the deviance, and Newton steps with
  central-difference derivatives, whose evaluations Satterthwaite's approximation reuses.

Standard errors come from ``sigma^2 (R_X R_X')^-1``; degrees of freedom and p-values from
Satterthwaite's approximation as in lmerTest (:mod:`classdyad.mixed._satterthwaite`);
confidence intervals are ``estimate +- t(df) SE``. Fits run with one BLAS thread, limited once
for the whole process (:mod:`classdyad.mixed._blas_threads`).

Conventions follow lme4: ``loglik`` of a REML fit is minus half the REML criterion; the number of
parameters is ``p + length(theta) + 1``; ``singular`` is lme4's ``isSingular`` (a diagonal element
of ``theta`` below 1e-4); rank-deficient fixed effects are dropped with a warning; a grouping factor
with as many levels as observations is an error.

References
----------
Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models using
lme4. *Journal of Statistical Software*, 67(1), 1-48. doi:10.18637/jss.v067.i01

Kuznetsova, A., Brockhoff, P. B. & Christensen, R. H. B. (2017). lmerTest package: tests in linear
mixed effects models. *Journal of Statistical Software*, 82(13). doi:10.18637/jss.v082.i13
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.optimize
import scipy.special

from classdyad.errors import (
    ConvergenceWarning,
    DataError,
    EstimationError,
    OptionError,
    SingularFitWarning,
)
from classdyad.mixed._blas_threads import limit_blas_threads
from classdyad.mixed._formula import MixedDesign, build_design
from classdyad.mixed._mixed_results import MixedModelResult
from classdyad.mixed._model_input import check_design, estimation_failure
from classdyad.mixed._penalized_least_squares import PenalizedLeastSquares
from classdyad.mixed._penalized_least_squares_gradient import multi_term_deviance_and_gradient
from classdyad.mixed._satterthwaite import (
    DerivativeStencil,
    derivative_stencil,
    satterthwaite_state,
)

__all__ = ["LinearMixedModelResult", "lmm"]

_SINGULAR_TOL = 1e-4  # lme4's isSingular(tol = 1e-4)
_MAX_ITERATIONS = 1000  # quasi-Newton iterations
_NEWTON_STEPS = 4  # polishing Newton steps after the quasi-Newton optimiser


@dataclass(frozen=True, eq=False)
class LinearMixedModelResult(MixedModelResult):
    """Result of :func:`lmm`; see :class:`classdyad.mixed._mixed_results.MixedModelResult`.

    ``reml_criterion`` is lme4's REML criterion (``-2 loglik``) for REML fits, ``nan`` for ML.
    """

    reml_criterion: float = float("nan")


def _gradient(fun, x: np.ndarray, lower: np.ndarray, f0: float) -> np.ndarray:
    """Forward differences (k + 1 evaluations); the bias shifts the optimum by about 1e-7."""
    grad = np.empty_like(x)
    for i in range(x.size):
        h = 1e-7 * max(abs(x[i]), 1.0)
        step = x.copy()
        step[i] += h
        grad[i] = (fun(step) - f0) / h
    return grad


def _optimise(
    pls: PenalizedLeastSquares, reml: bool
) -> tuple[np.ndarray, DerivativeStencil, float, bool]:
    """Minimise the profiled deviance over theta.

    Returns theta at the optimum, the derivative stencil there (or within a relative 1e-6 of it),
    the deviance and whether the optimiser converged.
    """
    lower = pls.lower

    def fun(theta: np.ndarray) -> float:
        return pls.profiled_deviance(theta, reml=reml)

    def fun_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        if pls.has_analytic_gradient:
            return pls.deviance_and_gradient(theta, reml=reml)
        exact = multi_term_deviance_and_gradient(pls, theta, reml=reml)
        if exact is not None:
            return exact
        f0 = fun(theta)  # a diagonal of Lambda at ~0: finite differences
        return f0, _gradient(fun, theta, lower, f0)

    bounds = [(None if np.isinf(b) else b, None) for b in lower]
    # stop at a projected gradient below 1e-4, from where the Newton polish below finishes the
    # job; with a single term, also go on while the deviance falls by more than 1e-13 (relative)
    tolerances = {"ftol": 1e-13, "gtol": 1e-4}
    if not pls.has_analytic_gradient:
        tolerances = {"ftol": 1e-11, "gtol": 1e-4}
    start = pls.moment_start()
    # the optimiser's first evaluation is at the start and it never returns a point worse than
    # that, so the start's deviance need not be computed apart
    theta, best = start, np.inf
    for _attempt in range(4):
        if pls.has_analytic_gradient and start.size == 1:
            x, value = _newton_1d(lambda t: pls.deviance_and_gradient(t, reml=reml), start)
        else:
            result = scipy.optimize.minimize(
                fun_and_grad, start, jac=True, method="L-BFGS-B", bounds=bounds,
                options={"maxiter": _MAX_ITERATIONS, "maxcor": 20, **tolerances},
            )
            x, value = np.asarray(result.x, dtype=float), float(result.fun)
        if value <= best:
            theta, best = x, value
        restart = _away_from_bound(fun, theta, lower, best)
        if restart is None:
            break
        start = restart
    return _newton_polish(pls, fun, theta, best, reml)


def _newton_1d(fun_and_grad, start: np.ndarray) -> tuple[np.ndarray, float]:
    """Safeguarded Newton iterations for one theta >= 0 (a single random intercept or slope).

    The second derivative is a forward difference of the exact gradient; steps that do not
    lower the deviance are halved. Faster than a general quasi-Newton method in one dimension.
    """
    theta = float(start[0])
    value, grad = fun_and_grad(np.array([theta]))
    for _ in range(min(_MAX_ITERATIONS, 100)):
        if abs(grad[0]) < 1e-9 * max(abs(value), 1.0) or (theta == 0.0 and grad[0] >= 0.0):
            break
        delta = 1e-6 * max(theta, 0.1)
        _, grad_shifted = fun_and_grad(np.array([theta + delta]))
        curvature = (grad_shifted[0] - grad[0]) / delta
        if curvature > 0:
            step = -grad[0] / curvature
        else:  # not locally convex: move downhill (or away from a maximum at zero)
            step = -np.sign(grad[0]) * max(theta, 0.1) if grad[0] != 0 else 0.1
        if abs(step) < 1e-12 * max(theta, 1.0):
            break
        tolerance = 1e-13 * max(abs(value), 1.0)  # rounding in the deviance
        for _halving in range(40):
            trial = max(theta + step, 0.0)
            trial_value, trial_grad = fun_and_grad(np.array([trial]))
            if trial_value <= value + tolerance:
                break
            step /= 2.0
        else:
            break
        theta, value, grad = trial, trial_value, trial_grad
    return np.array([theta]), float(value)


def _newton_polish(
    pls: PenalizedLeastSquares, fun, theta: np.ndarray, best: float, reml: bool
) -> tuple[np.ndarray, DerivativeStencil, float, bool]:
    """Newton steps with central-difference derivatives from the quasi-Newton optimum.

    Parameters at their zero bound stay there. The stencil at the final point is returned, so
    that Satterthwaite's approximation reuses its evaluations.
    """
    lower = pls.lower
    stencil = derivative_stencil(pls, theta, reml=reml)
    for _ in range(_NEWTON_STEPS):
        _, grad, hess = stencil.profiled()
        free = ~((lower == 0.0) & (theta < 1e-6))
        if not free.any():
            break
        h_free = hess[np.ix_(free, free)]
        if np.any(np.linalg.eigvalsh(h_free) <= 0.0):
            break
        step = np.zeros_like(theta)
        step[free] = -np.linalg.solve(h_free, grad[free])
        relative = np.max(np.abs(step) / np.maximum(np.abs(theta), 1.0))
        if relative < 1e-10:
            break
        trial = np.maximum(theta + step, lower)
        value = fun(trial)
        if not value <= best:
            break
        theta, best = trial, value
        if relative < 1e-6:
            # a step this small changes nothing the stencil is used for (df, standard errors
            # are evaluated at the final theta); the optimum itself moves to the Newton point
            break
        stencil = derivative_stencil(pls, theta, reml=reml)
    _, grad, hess = stencil.profiled()
    free = ~((lower == 0.0) & (theta < 1e-6))
    converged = bool(np.all(np.isfinite(grad)))
    if converged and free.any():
        g = grad[free]
        h_free = hess[np.ix_(free, free)]
        try:
            newton = np.linalg.solve(h_free, g)
            converged = bool(np.max(np.abs(newton)) < 1e-3 or np.max(np.abs(g)) < 1e-3)
        except np.linalg.LinAlgError:
            converged = bool(np.max(np.abs(g)) < 1e-3)
    return theta, stencil, best, converged


def _away_from_bound(fun, theta: np.ndarray, lower: np.ndarray, f0: float) -> np.ndarray | None:
    """A point with a lower deviance found by moving a zero diagonal element up, or None."""
    for i in np.flatnonzero((lower == 0.0) & (theta < _SINGULAR_TOL)):
        for delta in (1e-2, 0.2):
            trial = theta.copy()
            trial[i] = delta
            if fun(trial) < f0 - 1e-8:
                return trial
    return None


def _variance_tables(
    pls: PenalizedLeastSquares, theta: np.ndarray, sigma: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    variances: dict[str, list[Any]] = {"group": [], "term": [], "variance": [], "std_dev": []}
    correlations: dict[str, list[Any]] = {
        "group": [], "term1": [], "term2": [], "correlation": [], "covariance": []
    }
    for k, term in enumerate(pls.design.random_terms):
        lam = pls.lambda_factor(theta, k)
        cov = sigma * sigma * lam @ lam.T
        sd = np.sqrt(np.diag(cov))
        for r, name in enumerate(term.effect_names):
            for column, value in zip(variances, (term.name, name, cov[r, r], sd[r]), strict=True):
                variances[column].append(value)
        for c in range(term.n_effects):
            for r in range(c + 1, term.n_effects):
                denominator = sd[r] * sd[c]
                row = (term.name, term.effect_names[c], term.effect_names[r],
                       cov[r, c] / denominator if denominator > 0 else np.nan, cov[r, c])
                for column, value in zip(correlations, row, strict=True):
                    correlations[column].append(value)
    for column, value in zip(variances, ("Residual", "", sigma * sigma, sigma), strict=True):
        variances[column].append(value)
    return pd.DataFrame(variances), pd.DataFrame(correlations)


def _fixed_table(
    design: MixedDesign, beta: np.ndarray, state, confidence_level: float
) -> pd.DataFrame:
    p = beta.size
    se = np.sqrt(np.diag(state.beta_covariance))
    df = np.array([state.df(np.eye(p)[i]) for i in range(p)])
    statistic = beta / se
    p_value = 2.0 * scipy.special.stdtr(df, -np.abs(statistic))
    quantile = scipy.special.stdtrit(df, 0.5 + confidence_level / 2.0)
    return pd.DataFrame(
        {
            "term": list(design.fixed_names),
            "estimate": beta,
            "std_error": se,
            "df": df,
            "statistic": statistic,
            "p_value": p_value,
            "ci_low": beta - quantile * se,
            "ci_high": beta + quantile * se,
        }
    )


def _fit(design: MixedDesign, *, reml: bool, confidence_level: float) -> LinearMixedModelResult:
    limit_blas_threads()
    return _fit_single_threaded(design, reml=reml, confidence_level=confidence_level)


def _fit_single_threaded(
    design: MixedDesign, *, reml: bool, confidence_level: float
) -> LinearMixedModelResult:
    n, p = design.fixed.shape
    if n <= p:
        raise EstimationError(
            f"{n} observations for {p} fixed effects; a linear mixed model needs more "
            "observations than fixed effects; simplify the fixed part of the formula"
        )
    if p == 0:
        raise EstimationError(
            "the model has no fixed effects; keep at least the intercept (drop '0 +' / '- 1')"
        )
    pls = PenalizedLeastSquares(design)
    theta, stencil, deviance, converged = _optimise(pls, reml)
    method = "REML" if reml else "ML"
    if not converged:
        warnings.warn(
            f"the {method} optimiser for {design.formula!r} stopped before reaching its "
            "tolerance; the estimates may be off: simplify the random-effects structure or "
            "rescale predictors",
            ConvergenceWarning,
            stacklevel=3,
        )
    singular = bool(np.any(theta[pls.lower == 0.0] < _SINGULAR_TOL))
    if singular:
        warnings.warn(
            f"boundary (singular) fit for {design.formula!r}: a random-effect variance is "
            "estimated at (or near) zero or a correlation at +-1; consider removing that "
            "random-effects term (lme4: isSingular)",
            SingularFitWarning,
            stacklevel=3,
        )
    ev = pls.solve(theta, modes=True)
    sigma = pls.sigma(ev, reml=reml)
    state = satterthwaite_state(stencil, sigma)
    variance_components, correlations = _variance_tables(pls, theta, sigma)
    n_parameters = p + theta.size + 1
    loglik = -deviance / 2.0
    n_groups: dict[str, int] = {}
    for term in design.random_terms:
        n_groups.setdefault(term.name, term.n_levels)
    return LinearMixedModelResult(
        formula=design.formula,
        family="gaussian",
        method=method,
        fixed_effects=_fixed_table(design, ev.beta, state, confidence_level),
        variance_components=variance_components,
        correlations=correlations,
        loglik=loglik,
        n_parameters=n_parameters,
        aic=deviance + 2.0 * n_parameters,
        bic=deviance + np.log(n) * n_parameters,
        deviance=deviance,
        n_obs=n,
        n_groups=n_groups,
        converged=converged,
        singular=singular,
        sigma=sigma,
        theta=theta,
        beta=ev.beta,
        fixed_covariance=state.beta_covariance,
        conditional_modes=tuple(pls.random_effects(ev)),
        conditional_variances=functools.cache(
            lambda: tuple(pls.conditional_variances(theta, sigma))
        ),
        design=design,
        ml_refit=(
            functools.partial(_fit, design, reml=False, confidence_level=confidence_level)
            if reml else None
        ),
        reml_criterion=deviance if reml else float("nan"),
    )


def lmm(
    formula: str,
    data: pd.DataFrame,
    *,
    reml: bool = True,
    reference: Mapping[str, Any] | None = None,
    confidence_level: float = 0.95,
) -> LinearMixedModelResult:
    """Fit a linear mixed model with lme4's formula syntax, by REML (default) or ML.

    Parameters
    ----------
    formula
        lme4-style formula, e.g. ``"mathgain ~ mathkind + ses + (1 | schoolid/classid)"``; see
        :mod:`classdyad.mixed._formula` for factors, interactions, transformations and the
        random-effects syntax (``(1 | g)``, ``(1 + x | g)``, ``(1 + x || g)``, ``(1 | a/b)``).
    data
        One row per observation; rows with a missing value in a variable the formula uses are
        dropped.
    reml
        Restricted maximum likelihood (lme4's default); ``False`` for maximum likelihood.
    reference
        ``{column: level}`` to make ``column`` categorical with ``level`` as reference level.
    confidence_level
        Level of the confidence intervals in ``fixed_effects``.

    Returns
    -------
    LinearMixedModelResult
        Fixed effects with Satterthwaite df and p-values (as ``lmerTest::lmer``), variance
        components, log-likelihood, AIC/BIC, conditional modes (``random_effects()``),
        ``predict``, ``summary()``, ``compare``.

    Notes
    -----
    Validated against ``lme4::lmer`` 1.1-31 and ``lmerTest`` 3.1-3 (R 4.2.2): estimates, standard
    errors, variance components and log-likelihood to 1e-4 relative, Satterthwaite df to 1e-2.

    Examples
    --------
    >>> fit = lmm("Reaction ~ Days + (Days | Subject)", sleepstudy)  # doctest: +SKIP
    >>> fit.fixed_effects  # doctest: +SKIP
    """
    if not isinstance(reml, bool):
        raise OptionError(f"reml={reml!r} is not allowed; use True (REML) or False (ML)")
    if not 0.0 < confidence_level < 1.0:
        raise DataError(f"confidence_level must be between 0 and 1, got {confidence_level!r}")
    limit_blas_threads()
    design = build_design(formula, data, reference=reference)
    check_design(design, model="lmm")
    with estimation_failure(formula):
        return _fit_single_threaded(design, reml=reml, confidence_level=confidence_level)
