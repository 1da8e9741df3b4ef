"""Maximum-likelihood estimation of a random-intercept GLMM (lme4's two-stage ``glmer`` fit).

Stage 0
    A GLM without random effects (iteratively reweighted least squares) gives starting values
    for ``beta``; ``theta`` starts at 1 as in lme4, the NB2 shape (NB1 dispersion) at a moment
    estimate, the zero-inflation intercept at the excess of zeros over that GLM's prediction.
Stage 1
    ``theta`` (and the family's parameters: log NB2 shape or log NB1 dispersion, zero-inflation
    coefficients) are optimised over the ``nAGQ = 0`` deviance, where ``beta``
    is part of the PIRLS iteration (lme4 uses bobyqa here). For the canonical families (Poisson,
    binomial) projected Newton steps on the exact gradient of that deviance
    (:mod:`._generalized_mixed_gradient`); otherwise bounded Nelder-Mead.
Stage 2
    The Laplace (or adaptive Gauss-Hermite) deviance is minimised over
    ``(theta, beta[, family parameters])`` together, as the second stage of lme4's ``glmer``
    does (lme4 uses Nelder-Mead there), here by Newton-Raphson steps (Nocedal & Wright 2006,
    chapter 8), starting from stage 1. For the canonical families with the Laplace
    approximation the gradient is exact and the Hessian comes from differences of it (forward
    while searching, central at the optimum), with chord steps that keep the last Hessian in
    between; otherwise gradient and Hessian are central finite differences of the deviance.
    Each deviance evaluation warm-starts PIRLS at the previous conditional modes, so it costs
    two or three cheap Newton steps.

The deviance is even in each ``theta_k`` (flip the sign of the factor's ``u``), so the iteration
runs unconstrained and reports ``|theta_k|``; an estimate below ``1e-4`` is a singular fit
(lme4's ``isSingular`` tolerance).

If Newton stops short, a Nelder-Mead search from that point and a second Newton run follow
before the fit is reported as not converged.

Standard errors
    As lme4's ``vcov.merMod`` with ``use.hessian = TRUE`` and glmmTMB's ``sdreport``: the
    covariance of ``beta`` is the ``beta`` block of ``2 H^-1``, ``H`` the Hessian of the deviance
    over all parameters at the optimum. The ``beta`` block of the inverse does not depend on how
    the variance parameters are parametrised, so the same number serves both references. The
    zero-inflation coefficients' standard errors come from the same inverse (glmmTMB's).
    Singular variance components are held fixed (their cross-derivatives vanish at zero).

References
----------
Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models using
lme4. *Journal of Statistical Software*, 67(1), 1-48.
Nocedal, J. & Wright, S. J. (2006). *Numerical Optimization* (2nd ed.). Springer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.optimize

from classdyad.mixed._generalized_mixed_deviance import GlmmProblem, Mode
from classdyad.mixed._generalized_mixed_gradient import has_exact_gradient, laplace_gradient
from classdyad.mixed._glmm_families import GlmmFamily

__all__ = [
    "GlmmEstimate", "family_start", "fit_glmm", "glm_start", "natural_parameters",
    "poisson_limit",
]

_MAX_LOG_SHAPE = 20.0
_SINGULAR_TOL = 1e-4


@dataclass(frozen=True)
class GlmmEstimate:
    """Estimates of a GLMM fit on arrays (the caller's factor order)."""

    beta: np.ndarray
    theta: np.ndarray
    shape: float
    cov_beta: np.ndarray
    zero_inflation: np.ndarray
    cov_zero_inflation: np.ndarray
    deviance: float
    modes: list[np.ndarray]
    mode_sds: list[np.ndarray]
    converged: bool
    singular: np.ndarray
    newton_decrement: float
    n_evaluations: int
    shape_at_bound: bool


def poisson_limit(family: GlmmFamily) -> np.ndarray:
    """Packed parameters of ``family`` (without zero inflation) at its Poisson limit."""
    if family.name == "negative_binomial":
        return np.array([1e8])
    if family.name == "negative_binomial_1":
        return np.array([1e-8])
    return np.zeros(0)


def natural_parameters(family: GlmmFamily, working: np.ndarray) -> np.ndarray:
    """Packed family parameters from the working scale of the optimiser.

    The first working parameter of NB2 is ``log k``, of NB1 ``-log phi`` (both grow towards the
    Poisson limit and are capped at ``_MAX_LOG_SHAPE``); zero-inflation coefficients are as is.
    """
    natural = np.array(working, dtype=float)
    if family.has_shape:
        w = min(float(working[0]), _MAX_LOG_SHAPE)
        natural[0] = np.exp(w) if family.name == "negative_binomial" else np.exp(-w)
    return natural


def glm_start(problem: GlmmProblem, max_iter: int = 50) -> np.ndarray:
    """Fixed effects of the GLM without random effects (IRLS), the starting values of ``beta``."""
    fam, x = problem.family.count_part(), problem.x
    limit = poisson_limit(fam)
    if fam.name == "binomial":
        p = (problem.y + 0.5) / (problem.trials + 1.0)
        eta = np.log(p / (1 - p))
    else:
        eta = np.log(problem.y + 0.1)
    beta = np.linalg.lstsq(x, eta - problem.offset, rcond=None)[0]
    for _ in range(max_iter):
        eta = problem.offset + x @ beta
        _, score, w = fam.derivatives(problem.y, eta, problem.trials, limit)
        w = np.maximum(w, 1e-10)
        step = np.linalg.lstsq(x * np.sqrt(w)[:, None], score / np.sqrt(w), rcond=None)[0]
        beta = beta + step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def _shape_start(problem: GlmmProblem, beta: np.ndarray) -> float:
    mu = np.exp(problem.offset + problem.x @ beta)
    excess = float(np.sum((problem.y - mu) ** 2 - mu))
    return float(np.sum(mu**2) / excess) if excess > 0 else 100.0


def family_start(problem: GlmmProblem, beta: np.ndarray) -> np.ndarray:
    """Working-scale starting values of the family's parameters (see :func:`natural_parameters`).

    NB2: a moment estimate of ``log k``; NB1: ``-log phi`` from the mean excess of the variance
    over the mean; zero inflation: the logit of the excess share of zeros over the Poisson GLM's
    prediction on the design's intercept column (other coefficients 0).
    """
    family = problem.family
    mu = np.exp(problem.offset + problem.x @ beta)
    values: list[float] = []
    if family.name == "negative_binomial":
        values.append(float(np.log(_shape_start(problem, beta))))
    elif family.name == "negative_binomial_1":
        excess = float(np.sum((problem.y - mu) ** 2 - mu) / np.sum(mu))
        values.append(float(-np.log(excess)) if excess > 1e-3 else 5.0)
    if family.zero_inflation is not None:
        expected = float(np.mean(np.exp(-mu)))
        observed = float(np.mean(problem.y == 0))
        share = np.clip((observed - expected) / max(1.0 - expected, 1e-8), 0.02, 0.9)
        gamma = np.zeros(family.n_zero_inflation)
        ones = np.flatnonzero(np.all(family.zero_inflation == 1.0, axis=0))
        if ones.size:
            gamma[ones[0]] = np.log(share / (1.0 - share))
        values.extend(gamma)
    return np.array(values)


class _Objective:
    """Deviance as a function of the packed parameters, warm-starting PIRLS."""

    def __init__(self, problem: GlmmProblem, n_agq: int, n_theta: int):
        self.problem = problem
        self.n_agq = n_agq
        self.n_theta = n_theta
        self.n_extra = problem.family.n_parameters
        self.u = np.zeros(problem.q)
        self.beta: np.ndarray | None = None
        self.evaluations = 0
        self.exact_gradient = has_exact_gradient(problem, n_agq)

    def unpack(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``theta``, ``beta`` and the packed natural family parameters."""
        k, r = self.n_theta, self.n_extra
        theta = params[:k]
        beta = params[k:len(params) - r]
        shape = natural_parameters(self.problem.family, params[len(params) - r:])
        return theta, beta, shape

    def stage_one(self, params: np.ndarray) -> float:
        """nAGQ = 0 deviance over (theta[, family parameters]), beta updated inside PIRLS."""
        theta = params[: self.n_theta]
        shape = natural_parameters(self.problem.family, params[self.n_theta:])
        self.evaluations += 1
        mode = self.problem.mode(theta, self.beta, shape, self.u, update_beta=True, tol=1e-8)
        value = self.problem.laplace_deviance(mode)
        if np.isfinite(value):
            self.u, self.beta = mode.u, mode.beta
        return value if np.isfinite(value) else np.inf

    def stage_one_with_gradient(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """nAGQ = 0 deviance over ``theta`` and its exact gradient (``beta`` profiled)."""
        self.evaluations += 1
        mode = self.problem.mode(params, self.beta, np.zeros(0), self.u, update_beta=True,
                                 tol=1e-8)
        value = self.problem.laplace_deviance(mode)
        if not np.isfinite(value):
            return np.inf, np.zeros(len(params))
        self.u, self.beta = mode.u, mode.beta
        return value, laplace_gradient(self.problem, mode, params, profile_beta=True)

    def mode_at(self, params: np.ndarray, u_start: np.ndarray) -> Mode:
        theta, beta, shape = self.unpack(params)
        return self.problem.mode(theta, beta, shape, u_start)

    def gradient(self, params: np.ndarray, u_start: np.ndarray) -> np.ndarray:
        """Exact gradient of the Laplace deviance (see :mod:`._generalized_mixed_gradient`)."""
        self.evaluations += 1
        mode = self.mode_at(params, u_start)
        return laplace_gradient(self.problem, mode, params[: self.n_theta])

    def __call__(self, params: np.ndarray, u_start: np.ndarray | None = None) -> float:
        self.evaluations += 1
        theta, _, shape = self.unpack(params)
        mode = self.mode_at(params, self.u if u_start is None else u_start)
        if self.n_agq > 1:
            value = self.problem.agq_deviance(mode, theta, shape, self.n_agq)
        else:
            value = self.problem.laplace_deviance(mode)
        return value if np.isfinite(value) else np.inf


def _derivatives(
    f: Callable[[np.ndarray], float], x: np.ndarray, steps: np.ndarray, f0: float
) -> tuple[np.ndarray, np.ndarray]:
    """Central finite-difference gradient and Hessian (2 d^2 + 1 evaluations)."""
    d = len(x)
    grad = np.zeros(d)
    hess = np.zeros((d, d))
    for i in range(d):
        e = np.zeros(d)
        e[i] = steps[i]
        fp, fm = f(x + e), f(x - e)
        grad[i] = (fp - fm) / (2 * steps[i])
        hess[i, i] = (fp - 2 * f0 + fm) / steps[i] ** 2
        for j in range(i):
            e2 = np.zeros(d)
            e2[j] = steps[j]
            value = f(x + e + e2) - f(x + e - e2) - f(x - e + e2) + f(x - e - e2)
            hess[i, j] = hess[j, i] = value / (4 * steps[i] * steps[j])
    return grad, hess


def _stage_one_newton(objective: _Objective, theta: np.ndarray, *, upper: float,
                      max_iter: int = 50, tol: float = 1e-2) -> np.ndarray:
    """Stage 1 for canonical families: projected Newton steps on the ``nAGQ = 0`` deviance.

    The exact gradient (``beta`` profiled) and a forward-difference Hessian of it give each
    step; steps are capped at 1 (in standard deviations of the intercepts), kept inside
    ``[0, upper]`` and halved until the deviance decreases. A plain quasi-Newton search is not
    used because ``theta = 0`` is a stationary point of the (even) deviance, where a bounded
    line search can stop. The iteration ends when the Newton decrement falls below ``tol``
    (deviance units), as loose as the start of stage 2 needs.
    """
    value, grad = objective.stage_one_with_gradient(theta)
    k = len(theta)
    for _ in range(max_iter):
        steps = 1e-4 * np.maximum(np.abs(theta), 1.0)
        columns = [objective.stage_one_with_gradient(theta + np.eye(k)[i] * steps[i])[1]
                   for i in range(k)]
        hess = (np.column_stack(columns) - grad[:, None]) / steps[None, :]
        hess = 0.5 * (hess + hess.T)
        try:
            direction = -scipy.linalg.cho_solve(scipy.linalg.cho_factor(hess, lower=True), grad)
        except np.linalg.LinAlgError:
            direction = -grad / np.maximum(np.abs(np.diag(hess)), 1.0)
        decrement = float(-grad @ direction)
        if decrement < 0.0:
            direction = -grad / np.maximum(np.abs(np.diag(hess)), 1.0)
            decrement = float(-grad @ direction)
        if decrement < tol:
            break
        direction /= max(1.0, float(np.abs(direction).max()))
        step = 1.0
        while step > 1e-4:
            trial = np.clip(theta + step * direction, 0.0, upper)
            trial_value, trial_grad = objective.stage_one_with_gradient(trial)
            if trial_value < value:
                break
            step *= 0.5
        else:
            break
        theta, value, grad = trial, trial_value, trial_grad
    return theta


class _GradientHessian:
    """Exact gradient at a point and the Hessian by differences of it.

    The forward-difference Hessian (``d + 1`` gradients) steers the Newton steps; where the
    iteration has converged, :meth:`central` adds the backward points for the central-difference
    Hessian (``2 d + 1`` gradients in all, error ``O(h^2)``) that the standard errors use.
    """

    def __init__(self, gradient: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                 steps: np.ndarray):
        self.gradient, self.x, self.steps = gradient, x, steps
        self.grad = gradient(x)
        self.forward = np.column_stack([
            gradient(x + np.eye(len(x))[i] * steps[i]) for i in range(len(x))
        ])
        hess = (self.forward - self.grad[:, None]) / steps[None, :]
        self.hess = 0.5 * (hess + hess.T)

    def central(self) -> np.ndarray:
        """The central-difference Hessian at the same point."""
        d = len(self.x)
        backward = np.column_stack([
            self.gradient(self.x - np.eye(d)[i] * self.steps[i]) for i in range(d)
        ])
        hess = (self.forward - backward) / (2.0 * self.steps[None, :])
        return 0.5 * (hess + hess.T)


class _Newton:
    """Newton-Raphson on finite-difference derivatives over the active parameters."""

    def __init__(self, objective: _Objective, steps: np.ndarray, active: np.ndarray,
                 shape_index: int | None):
        self.objective = objective
        self.steps = steps
        self.active = active
        self.shape_index = shape_index
        self.value = np.inf
        self.index = np.flatnonzero(active)
        self.hess = np.eye(len(self.index))
        self.decrement = np.inf

    def run(self, params: np.ndarray, max_iter: int) -> tuple[np.ndarray, bool]:
        objective = self.objective
        params = params.copy()
        self.value = objective(params)
        for _ in range(max_iter):
            index = self.index = np.flatnonzero(self.active)
            u_center = objective.u.copy()
            base = params.copy()

            def full(sub: np.ndarray, base: np.ndarray = base,
                     index: np.ndarray = index) -> np.ndarray:
                out = base.copy()
                out[index] = sub
                return out

            derivatives = None
            if objective.exact_gradient:
                derivatives = _GradientHessian(
                    lambda sub, u=u_center, index=index: objective.gradient(full(sub), u)[index],
                    params[index], self.steps[index])
                grad, self.hess = derivatives.grad, derivatives.hess
            else:
                grad, self.hess = _derivatives(lambda sub, u=u_center: objective(full(sub), u),
                                               params[index], self.steps[index], self.value)
            objective.u = u_center
            direction = np.zeros(len(params))
            chol = None
            try:
                chol = scipy.linalg.cho_factor(self.hess, lower=True)
                direction[index] = -scipy.linalg.cho_solve(chol, grad)
            except np.linalg.LinAlgError:
                direction[index] = -grad / np.maximum(np.abs(np.diag(self.hess)), 1.0)
            self.decrement = float(-grad @ direction[index])
            if 0.0 <= self.decrement < 1e-6:
                if derivatives is not None:
                    self.hess = derivatives.central()
                params = params + direction
                self.value = objective(params)
                return params, True
            step = 1.0
            while step > 1e-8:
                trial = params + step * direction
                trial_value = objective(trial)
                if trial_value <= self.value:
                    break
                objective.u = u_center
                step *= 0.5
            else:
                return params, False
            params, self.value = trial, trial_value
            at = self.shape_index
            if at is not None and self.active[at] and params[at] > _MAX_LOG_SHAPE:
                params[at] = _MAX_LOG_SHAPE
                self.active[at] = False
                self.value = objective(params)
            elif objective.exact_gradient and chol is not None:
                params = self._chord_steps(params, index, chol)
        return params, False

    def _chord_steps(self, params: np.ndarray, index: np.ndarray,
                     chol: tuple[np.ndarray, bool], max_steps: int = 8) -> np.ndarray:
        """Newton steps that keep the last Hessian (one gradient each) while they shrink fast.

        Near the optimum the Hessian changes little, so the chord method (Ortega & Rheinboldt
        1970, section 7.1) converges almost as fast as Newton's at a fraction of the cost; the
        next full Newton iteration then confirms convergence with a fresh Hessian, which also
        gives the standard errors.
        """
        objective = self.objective
        last = np.inf
        for _ in range(max_steps):
            grad = objective.gradient(params, objective.u)[index]
            step = -scipy.linalg.cho_solve(chol, grad)
            decrement = float(-grad @ step)
            if not 1e-9 <= decrement <= 0.25 * last:
                break
            trial = params.copy()
            trial[index] += step
            value = objective(trial)
            if not value <= self.value:
                break
            params, self.value, last = trial, value, decrement
        return params


def fit_glmm(
    problem: GlmmProblem,
    *,
    n_agq: int = 1,
    max_newton: int = 25,
    polish: bool = True,
) -> GlmmEstimate:
    """Fit the GLMM by the two-stage Laplace/AGQ maximum likelihood described above.

    ``max_newton`` bounds the Newton iterations; when they stop short, ``polish`` runs a
    Nelder-Mead search from there and Newton once more before giving up (``converged`` false).
    """
    k = len(problem.n_levels)
    family = problem.family
    has_shape = family.has_shape
    n_extra = family.n_parameters
    p = problem.x.shape[1]
    objective = _Objective(problem, n_agq, k)
    beta0 = glm_start(problem)
    objective.beta = beta0
    extra0 = family_start(problem, beta0)
    start1 = np.concatenate([np.ones(k), extra0])
    bounds = [(0.0, 20.0)] * k
    if has_shape:
        bounds.append((-8.0, _MAX_LOG_SHAPE))
    bounds += [(-15.0, 15.0)] * family.n_zero_inflation
    if objective.exact_gradient:
        stage1_x = _stage_one_newton(objective, start1, upper=bounds[0][1])
    else:
        stage1_x = scipy.optimize.minimize(
            objective.stage_one, start1, method="Nelder-Mead", bounds=bounds,
            options={"xatol": 1e-2, "fatol": 1e-2, "maxfev": 400 + 100 * n_extra},
        ).x
    objective.stage_one(stage1_x)
    theta1 = np.maximum(stage1_x[:k], 0.05)
    params = np.concatenate([theta1, objective.beta, stage1_x[k:]])

    x_scale = np.sqrt(np.mean(problem.x**2, axis=0))
    zi_scale = (np.sqrt(np.mean(family.zero_inflation**2, axis=0))
                if family.zero_inflation is not None else np.zeros(0))
    steps = np.concatenate([np.full(k, 1e-4), 1e-4 / np.maximum(x_scale, 1e-8),
                            np.full(int(has_shape), 1e-4), 1e-4 / np.maximum(zi_scale, 1e-8)])
    active = np.ones(len(params), dtype=bool)
    shape_index = k + p if has_shape else None
    if shape_index is not None and params[shape_index] >= _MAX_LOG_SHAPE - 1e-3:
        params[shape_index] = _MAX_LOG_SHAPE
        active[shape_index] = False
    newton = _Newton(objective, steps, active, shape_index)
    params, converged = newton.run(params, max_newton)
    if not converged and polish:
        # a derivative-free search from where Newton stopped, then Newton again
        polished = scipy.optimize.minimize(
            lambda p: objective(p), params, method="Nelder-Mead",
            options={"xatol": 1e-7, "fatol": 1e-9, "maxfev": 200 * len(params)},
        )
        params, converged = newton.run(polished.x, max_newton)
    value, index, hess, decrement = newton.value, newton.index, newton.hess, newton.decrement

    theta, beta, shape = objective.unpack(params)
    theta = np.abs(theta)
    singular = theta < _SINGULAR_TOL
    keep = [pos for pos, i in enumerate(index) if not (i < k and singular[i])]
    beta_rows = [pos for pos, i in enumerate(keep) if k <= index[i] < k + len(beta)]
    n_zi = family.n_zero_inflation
    zi_rows = [pos for pos, i in enumerate(keep) if index[i] >= len(params) - n_zi]
    cov_beta = np.full((len(beta), len(beta)), np.nan)
    cov_zi = np.full((n_zi, n_zi), np.nan)
    try:
        full_cov = 2.0 * np.linalg.inv(hess[np.ix_(keep, keep)])
        cov_beta = full_cov[np.ix_(beta_rows, beta_rows)]
        if len(zi_rows) == n_zi:
            cov_zi = full_cov[np.ix_(zi_rows, zi_rows)]
    except np.linalg.LinAlgError:
        pass
    params = np.concatenate([theta, params[k:]])
    mode = objective.mode_at(params, objective.u)
    u_sd = np.sqrt(mode.system.inverse_diagonal())
    starts = problem.starts
    modes = [None] * k
    mode_sds = [None] * k
    for i in range(k):
        block = slice(starts[i], starts[i + 1])
        modes[problem.order[i]] = theta[i] * mode.u[block]
        mode_sds[problem.order[i]] = theta[i] * u_sd[block]
    caller_theta = np.empty(k)
    caller_theta[problem.order] = theta
    return GlmmEstimate(
        beta=beta,
        theta=caller_theta,
        shape=float(shape[0]) if has_shape else float("nan"),
        cov_beta=cov_beta,
        zero_inflation=params[len(params) - n_zi:].copy(),
        cov_zero_inflation=cov_zi,
        deviance=value,
        modes=modes,
        mode_sds=mode_sds,
        converged=converged and mode.converged,
        singular=singular[np.argsort(problem.order)],
        newton_decrement=decrement,
        n_evaluations=objective.evaluations,
        shape_at_bound=bool(shape_index is not None and not newton.active[shape_index]),
    )
