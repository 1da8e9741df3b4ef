"""Maximum-likelihood fit of a generalized linear model without random effects.

:func:`classdyad.mixed.glmm` fits a formula without random-effects terms by this module, as R's
``glm`` (Poisson, binomial), ``MASS::glm.nb`` (NB2) and ``glmmTMB`` without random effects (NB1,
zero-inflated models) do.

Poisson and binomial (canonical links)
    Newton-Raphson, which for a canonical link is Fisher scoring, i.e. R's iteratively reweighted
    least squares (McCullagh & Nelder 1989, section 2.5), run to a step below 1e-10. The
    covariance of the estimates is ``(X' W X)^-1`` with the weights at the optimum (R's
    ``vcov.glm``; the dispersion is 1).
NB2 without zero inflation
    The shape ``k`` and the coefficients maximise the likelihood together (the estimate
    ``MASS::glm.nb`` reaches by alternating ``theta.ml`` and IRLS). Standard errors follow
    ``glm.nb``: ``(X' W X)^-1`` with the Fisher weights ``mu / (1 + mu / k)`` at the estimated
    shape, treated as known (the coefficients and the shape are orthogonal in expected
    information; Venables & Ripley 2002, section 7.4).
NB1 and zero-inflated models
    All parameters (coefficients, ``-log phi`` or ``log k``, zero-inflation coefficients) by
    quasi-Newton (L-BFGS) and then Newton on central finite-difference derivatives of the
    log-likelihood; the covariance is the inverse of the observed information (the Hessian of
    ``-log L``), as glmmTMB's ``sdreport``. Zero-inflation coefficients whose largest logit is
    below -9 (no structural zeros; the likelihood is flat there) are held at the quasi-Newton
    value and get no standard errors.

References
----------
McCullagh, P. & Nelder, J. A. (1989). *Generalized Linear Models* (2nd ed.). Chapman & Hall.
Venables, W. N. & Ripley, B. D. (2002). *Modern Applied Statistics with S* (4th ed.). Springer.
Brooks, M. E. et al. (2017). glmmTMB balances speed and flexibility among packages for
zero-inflated generalized linear mixed modeling. *The R Journal*, 9(2), 378-400.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize

from classdyad.mixed._generalized_mixed_fit import (
    _MAX_LOG_SHAPE,
    GlmmEstimate,
    _derivatives,
    family_start,
    glm_start,
    natural_parameters,
)
from classdyad.mixed._glmm_families import GlmmFamily

__all__ = ["GlmData", "fit_glm"]


@dataclass(frozen=True, eq=False)
class GlmData:
    """Response, design, offset and trials of a GLM (the fields :func:`glm_start` reads)."""

    family: GlmmFamily
    y: np.ndarray
    x: np.ndarray
    offset: np.ndarray
    trials: np.ndarray

    @property
    def constant(self) -> float:
        """The family's constant of the log-likelihood."""
        return self.family.constant(self.y, self.trials)


def _irls(data: GlmData, beta: np.ndarray, parameters: np.ndarray,
          max_iter: int = 100) -> tuple[np.ndarray, bool]:
    """Newton-Raphson on ``beta`` with the family's parameters held fixed."""
    family, x = data.family, data.x
    eta = data.offset + x @ beta
    ll = family.derivatives(data.y, eta, data.trials, parameters)[0].sum()
    for _ in range(max_iter):
        _, score, w = family.derivatives(data.y, eta, data.trials, parameters)
        try:
            step = np.linalg.solve(x.T @ (w[:, None] * x), x.T @ score)
        except np.linalg.LinAlgError:
            return beta, False
        size = 1.0
        while size > 1e-8:
            trial = beta + size * step
            eta_trial = data.offset + x @ trial
            ll_trial = family.derivatives(data.y, eta_trial, data.trials, parameters)[0].sum()
            if np.isfinite(ll_trial) and ll_trial >= ll - 1e-12 * abs(ll):
                break
            size *= 0.5
        beta, eta, ll = trial, eta_trial, ll_trial
        if np.abs(size * step).max() < 1e-10:
            return beta, True
    return beta, False


def fit_glm(data: GlmData) -> GlmmEstimate:
    """Fit the GLM by maximum likelihood (method and standard errors: module docstring)."""
    family = data.family
    x = data.x
    p = x.shape[1]
    n_extra = family.n_parameters
    n_zi = family.n_zero_inflation
    beta = glm_start(data)  # type: ignore[arg-type]
    converged = True
    decrement = 0.0
    evaluations = 0
    shape_at_bound = False
    if n_extra == 0:
        beta, converged = _irls(data, beta, np.zeros(0))
        working = np.zeros(0)
        eta = data.offset + x @ beta
        ll, _, w = family.derivatives(data.y, eta, data.trials, np.zeros(0))
        information = x.T @ (w[:, None] * x)
        cov_beta = _inverse(information)
        cov_zi = np.zeros((0, 0))
        loglik = float(ll.sum())
    else:
        def deviance(params: np.ndarray) -> float:
            nonlocal evaluations
            evaluations += 1
            b, extra = params[:p], natural_parameters(family, params[p:])
            eta = data.offset + x @ b
            value = -2.0 * float(family.loglik_terms(data.y, eta, data.trials, extra).sum())
            return value if np.isfinite(value) else np.inf

        def gradient(params: np.ndarray) -> np.ndarray:
            b, extra = params[:p], natural_parameters(family, params[p:])
            eta = data.offset + x @ b
            _, score, _ = family.derivatives(data.y, eta, data.trials, extra)
            grad = np.empty(len(params))
            grad[:p] = -2.0 * x.T @ score
            for j in range(p, len(params)):
                e = np.zeros(len(params))
                e[j] = 1e-6
                grad[j] = (deviance(params + e) - deviance(params - e)) / 2e-6
            return grad

        params = np.concatenate([beta, family_start(data, beta)])  # type: ignore[arg-type]
        bounds = [(None, None)] * p + ([(-8.0, _MAX_LOG_SHAPE)] if family.has_shape else []) \
            + [(-15.0, 15.0)] * n_zi
        quasi = scipy.optimize.minimize(deviance, params, jac=gradient, method="L-BFGS-B",
                                        bounds=bounds, options={"maxiter": 500, "ftol": 1e-14,
                                                                "gtol": 1e-9})
        params = quasi.x
        active = np.ones(len(params), dtype=bool)
        if family.has_shape and params[p] >= _MAX_LOG_SHAPE - 1e-2:
            params[p] = _MAX_LOG_SHAPE
            active[p] = False
            shape_at_bound = True
        if n_zi and float(np.max(family.zero_inflation @ params[len(params) - n_zi:])) < -9.0:
            # no structural zeros: the zero-inflation logit runs off to minus infinity, along a
            # flat likelihood; hold it there (the result reports the boundary)
            active[len(params) - n_zi:] = False
        index = np.flatnonzero(active)
        scale = np.concatenate([np.sqrt(np.mean(x**2, axis=0)), np.ones(int(family.has_shape)),
                                np.sqrt(np.mean(family.zero_inflation**2, axis=0))
                                if n_zi else np.zeros(0)])
        steps = 1e-4 / np.maximum(scale, 1e-8)
        value = deviance(params)
        converged = False
        for _ in range(30):
            def sub(values: np.ndarray, base: np.ndarray = params) -> float:
                full = base.copy()
                full[index] = values
                return deviance(full)

            grad, hess = _derivatives(sub, params[index], steps[index], value)
            try:
                direction = -np.linalg.solve(hess, grad)
            except np.linalg.LinAlgError:
                break
            decrement = float(-grad @ direction)
            size = 1.0
            while size > 1e-8:
                trial = params.copy()
                trial[index] += size * direction
                trial_value = deviance(trial)
                if trial_value <= value + 1e-12 * abs(value):
                    break
                size *= 0.5
            params, value = trial, trial_value
            if 0.0 <= decrement < 1e-9:
                converged = True
                break
        grad, hess = _derivatives(sub, params[index], steps[index], value)
        full_cov = 2.0 * _inverse(hess)
        beta = params[:p]
        working = params[p:]
        zi_rows = [pos for pos, i in enumerate(index) if i >= p + int(family.has_shape)]
        cov_beta = full_cov[:p, :p]
        cov_zi = (full_cov[np.ix_(zi_rows, zi_rows)] if len(zi_rows) == n_zi
                  else np.full((n_zi, n_zi), np.nan))
        loglik = -0.5 * value
        if family.name == "negative_binomial" and n_zi == 0:
            k = float(natural_parameters(family, working)[0])
            mu = np.exp(data.offset + x @ beta)
            cov_beta = _inverse(x.T @ ((mu / (1.0 + mu / k))[:, None] * x))
    natural = natural_parameters(family, working)
    return GlmmEstimate(
        beta=beta,
        theta=np.zeros(0),
        shape=float(natural[0]) if family.has_shape else float("nan"),
        cov_beta=cov_beta,
        zero_inflation=working[len(working) - n_zi:].copy(),
        cov_zero_inflation=cov_zi,
        deviance=-2.0 * (loglik + data.constant),
        modes=[],
        mode_sds=[],
        converged=converged,
        singular=np.zeros(0, dtype=bool),
        newton_decrement=decrement,
        n_evaluations=evaluations,
        shape_at_bound=shape_at_bound,
    )


def _inverse(matrix: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(matrix)
    except np.linalg.LinAlgError:
        return np.full(matrix.shape, np.nan)
