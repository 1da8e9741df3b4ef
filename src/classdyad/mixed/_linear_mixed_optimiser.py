"""Minimising the profiled (RE)ML deviance of a linear mixed model over theta.

:func:`optimise` is the optimiser of :func:`classdyad.mixed.lmm` (the method is summarised in
:mod:`classdyad.mixed._linear_mixed`):

- one parameter with an exact gradient (a single random intercept or slope): safeguarded Newton
  steps, the curvature by differences of the exact gradient;
- otherwise, with exact gradients (:mod:`classdyad.mixed._penalized_least_squares_gradient`):
  quasi-Newton steps from the moment start, the first Hessian by forward differences of the
  exact gradient and then BFGS updates, with parameters at their zero bound held there while the
  gradient points outwards; L-BFGS-B (with finite differences where a diagonal element of a
  multi-effect relative covariance factor is at zero) where those steps do not reach the
  tolerance;
- a restart away from a zero bound whenever that lowers the deviance;
- a finish by Newton steps to a projected gradient of 1e-7 or a step below 1e-8 of theta (the
  last such step taken without evaluating the deviance, which cannot resolve it; theta to about
  1e-9 relative), on a central-difference stencil where no exact gradient exists.

The deviance is computed to about 1e-12 relative, which limits the gradient that can be reached
(a few 1e-4 for deviances of 1e4): a fit also counts as converged when the last Newton step is
below 1e-3, as lme4's convergence check uses the Newton step.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.optimize
from scipy.linalg import lapack

from classdyad.mixed._nested_sufficient_statistics import NestedSufficientStatistics
from classdyad.mixed._penalized_least_squares import PenalizedLeastSquares
from classdyad.mixed._penalized_least_squares_gradient import multi_term_deviance_and_gradient
from classdyad.mixed._satterthwaite import derivative_stencil

__all__ = ["optimise"]

_SINGULAR_TOL = 1e-4  # lme4's isSingular(tol = 1e-4): the zero-bound restart looks below it
_MAX_ITERATIONS = 1000  # quasi-Newton iterations
_NEWTON_STEPS = 4  # polishing Newton steps after the quasi-Newton optimiser
_GRADIENT_TOL = 1e-7  # projected gradient of the deviance at which the Newton steps stop
_SMALLEST_STEP = 1e-8  # relative Newton step at which they stop (the last one not evaluated)
_LBFGS_GTOL, _LBFGS_FTOL = 1e-4, 1e-11  # where L-BFGS-B hands over to them


def _gradient(fun, x: np.ndarray, lower: np.ndarray, f0: float) -> np.ndarray:
    """Forward differences (k + 1 evaluations); the bias shifts the optimum by about 1e-7."""
    grad = np.empty_like(x)
    for i in range(x.size):
        h = 1e-7 * max(abs(x[i]), 1.0)
        step = x.copy()
        step[i] += h
        grad[i] = (fun(step) - f0) / h
    return grad


def optimise(
    pls: PenalizedLeastSquares | NestedSufficientStatistics,
    reml: bool,
    start: np.ndarray | None = None,
    hessian: np.ndarray | None = None,
) -> tuple[np.ndarray, float, bool, np.ndarray | None]:
    """Minimise the profiled deviance over theta, from ``start`` (default: the moment start).

    ``hessian``, when given, is a guess of the deviance's Hessian at ``start`` (e.g. the one
    a fit to another response of the same design ended with), used by the quasi-Newton steps
    in place of one by differences. Returns theta at the optimum, the deviance there, whether
    the optimiser converged and the quasi-Newton Hessian it ended with (``None`` where the
    steps used none).
    """
    lower = pls.lower

    def fun(theta: np.ndarray) -> float:
        return pls.profiled_deviance(theta, reml=reml)

    def exact(theta: np.ndarray) -> tuple[float, np.ndarray] | None:
        if pls.has_analytic_gradient:
            return pls.deviance_and_gradient(theta, reml=reml)
        return multi_term_deviance_and_gradient(pls, theta, reml=reml)

    def fun_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        result = exact(theta)
        if result is not None:
            return result
        f0 = fun(theta)  # a diagonal of Lambda at ~0: finite differences
        return f0, _gradient(fun, theta, lower, f0)

    # L-BFGS-B (the fallback) stops at a projected gradient of 1e-4 (with finite differences
    # where a diagonal element is at zero, smaller ones are noise); Newton steps finish the job
    tolerances = {"ftol": _LBFGS_FTOL, "gtol": _LBFGS_GTOL}
    start = pls.moment_start() if start is None else np.maximum(start, lower)
    theta, best, grad, last_hessian = start, np.inf, None, None
    for _attempt in range(4):
        x, value, x_grad = start, np.inf, None
        if pls.has_analytic_gradient and start.size == 1:
            x, value = _newton_1d(lambda t: pls.deviance_and_gradient(t, reml=reml), start)
        else:
            # quasi-Newton steps from a difference Hessian at the start (fewer evaluations than
            # L-BFGS-B from the moment start); L-BFGS-B where they do not reach the tolerance
            first, last_step = exact(start), np.inf
            if first is not None and np.all(np.isfinite(first[1])):
                x, value, x_grad, last_step, last_hessian = _gradient_newton(
                    exact, start, *first, lower, min(30, _MAX_ITERATIONS), hessian)
                hessian = None  # (a restart starts afresh)
            # (a last Newton step below 1e-6: rounding, not the method, stopped the steps)
            if x_grad is None or (_projected_gradient(x, x_grad, lower) > _GRADIENT_TOL
                                  and not last_step < 1e-6):
                result = scipy.optimize.minimize(
                    fun_and_grad, x if np.isfinite(value) else start, jac=True,
                    method="L-BFGS-B", bounds=[(None if np.isinf(b) else b, None) for b in lower],
                    options={"maxiter": _MAX_ITERATIONS, "maxcor": 20, **tolerances},
                )
                x, value, x_grad = np.asarray(result.x, dtype=float), float(result.fun), None
                last_hessian = None
        if value <= best:
            theta, best, grad = x, value, x_grad
        rising = getattr(pls, "rises_from_zero", None)
        restart = _away_from_bound(fun, theta, lower, best,
                                   None if rising is None else rising(theta, reml=reml))
        if restart is None:
            break
        start = restart
    final = (best, grad) if grad is not None else exact(theta)
    if final is None:  # finite differences: Newton steps on a central-difference stencil
        theta, best, converged = _newton_polish(pls, fun, theta, best, reml)
        return theta, best, converged, None
    value, grad = final
    newton_step = 0.0
    if _projected_gradient(theta, grad, lower) > _GRADIENT_TOL:
        # L-BFGS-B stops early when rounding in the deviance (about 1e-12 relative) hides the
        # last decreases from its line search: Newton steps with a Hessian from differences of
        # the exact gradient finish the job
        theta, value, grad, newton_step, last_hessian = _gradient_newton(
            exact, theta, value, grad, lower, None, last_hessian, take_last=True)
        if math.isnan(value):  # the last step was not evaluated: the deviance where it ends
            value = best = (pls.profiled_deviance(theta, reml=reml, keep=True)
                            if isinstance(pls, NestedSufficientStatistics) else fun(theta))
    # converged: a small gradient or, where rounding limits it, a small Newton step (lme4's
    # check is the Newton step too, with 2e-3)
    converged = bool(np.all(np.isfinite(grad)) and (
        _projected_gradient(theta, grad, lower) < 1e-3 or newton_step < 1e-3))
    return theta, min(value, best), converged, last_hessian


def _projected_gradient(theta: np.ndarray, grad: np.ndarray, lower: np.ndarray) -> float:
    """Largest element of the gradient projected on the bounds (0 at a minimum)."""
    return _projected_gradient_of(theta.tolist(), grad.tolist(), lower.tolist())


def _projected_gradient_of(theta: list[float], grad: list[float], lower: list[float]) -> float:
    """:func:`_projected_gradient` on Python floats (theta has a handful of elements: list
    arithmetic costs less than numpy's per-call overhead)."""
    largest = 0.0
    for t, g, b in zip(theta, grad, lower, strict=True):
        if b == 0.0 and t <= 0.0:
            g = min(g, 0.0)
        if not abs(g) <= largest:  # (a NaN wins, as numpy's max)
            largest = abs(g)
    return largest


def _gradient_newton(
    exact,
    theta: np.ndarray,
    value: float,
    grad: np.ndarray,
    lower: np.ndarray,
    max_steps: int | None = None,
    hessian: np.ndarray | None = None,
    take_last: bool = False,
) -> tuple[np.ndarray, float, np.ndarray, float, np.ndarray | None]:
    """Projected quasi-Newton steps from a Hessian by forward differences of the exact gradient.

    The Hessian (or the guess ``hessian``) is computed once, then updated by BFGS from each
    step's change in the gradient (recomputed when a step fails). A parameter at its zero
    bound whose gradient points outwards stays there; steps that raise the deviance by more
    than its rounding are halved. The steps stop at a projected gradient of 1e-7 or at a step
    below 1e-8 of theta, which ``take_last`` takes without evaluating the deviance there (the
    deviance cannot tell it from no step; what is left of the step after it is smaller still).
    Returns theta, the deviance (NaN after a step taken without evaluating) and the gradient
    at the last point evaluated, the size of the last full Newton step (``inf`` when none
    could be computed) and the Hessian (``None`` if there was none). The bookkeeping of the
    few elements of theta is done on Python floats.
    """
    newton_step = np.inf
    fresh = False
    k = theta.size
    bounds = lower.tolist()
    at_list, grad_list = theta.tolist(), grad.tolist()
    for _ in range(2 * _NEWTON_STEPS if max_steps is None else max_steps):
        if _projected_gradient_of(at_list, grad_list, bounds) <= _GRADIENT_TOL:
            break
        if hessian is None:
            hessian, fresh = _difference_hessian(exact, theta, grad), True
            if hessian is None:
                break
        free = [i for i in range(k)
                if not (bounds[i] == 0.0 and at_list[i] <= 0.0 and grad_list[i] >= 0.0)]
        # the step if the Hessian's free block is positive definite (its Cholesky factor exists)
        everything = len(free) == k
        factor, info = lapack.dpotrf(
            hessian if everything else hessian.take(free, axis=0).take(free, axis=1), lower=1)
        if info != 0:
            break
        solution, info = lapack.dpotrs(factor, grad if everything else grad[free], lower=1)
        solved = solution.tolist()
        if info != 0 or not all(math.isfinite(v) for v in solved):
            break
        step = [0.0] * k
        for i, v in zip(free, solved, strict=True):
            step[i] = -v
        newton_step = max(abs(v) for v in step)
        if newton_step < _SMALLEST_STEP * max(max(abs(v) for v in at_list), 1.0):
            # at the rounding floor of the deviance: an evaluation there could not tell the
            # step from no step; the last one is taken without evaluating where asked
            if take_last:  # (the deviance there is left to the caller: NaN)
                theta = np.array([max(t + d, b)
                                  for t, d, b in zip(at_list, step, bounds, strict=True)])
                value = math.nan
            break
        for _halving in range(10):
            trial_list = [max(t + d, b) for t, d, b in zip(at_list, step, bounds, strict=True)]
            trial = np.array(trial_list)
            result = exact(trial)
            if result is None:
                return theta, value, grad, newton_step, hessian
            if result[0] <= value + 1e-12 * max(abs(value), 1.0):
                break
            step = [v / 2.0 for v in step]
        else:
            if fresh:  # even a fresh Hessian's step fails: rounding has the last word
                break
            hessian = None  # start again from a fresh Hessian
            continue
        fresh = False
        new_grad = result[1].tolist()
        moved = [a - b for a, b in zip(trial_list, at_list, strict=True)]
        change = [a - b for a, b in zip(new_grad, grad_list, strict=True)]
        theta, (value, grad) = trial, result
        at_list, grad_list = trial_list, new_grad
        curvature = math.fsum(m * c for m, c in zip(moved, change, strict=True))
        if curvature > 1e-12 * math.fsum(m * m for m in moved):
            # BFGS update (keeps the Hessian positive definite)
            moved_array, change_array = np.array(moved), np.array(change)
            h_moved = hessian @ moved_array
            hessian = (hessian + np.multiply.outer(change_array, change_array / curvature)
                       - np.multiply.outer(h_moved, h_moved / float(moved_array @ h_moved)))
    return theta, value, grad, newton_step, hessian


def _difference_hessian(exact, theta: np.ndarray, grad: np.ndarray) -> np.ndarray | None:
    """Hessian of the deviance by forward differences of its exact gradient (k evaluations)."""
    k = theta.size
    hessian = np.empty((k, k))
    for i in range(k):
        h = 1e-6 * max(abs(theta[i]), 0.1)
        shifted = theta.copy()
        shifted[i] += h
        result = exact(shifted)
        if result is None or not np.all(np.isfinite(result[1])):
            return None
        hessian[:, i] = (result[1] - grad) / h
    return (hessian + hessian.T) / 2.0


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
) -> tuple[np.ndarray, float, bool]:
    """Newton steps with central-difference derivatives from the quasi-Newton optimum, for fits
    without exact gradients (a diagonal element of a multi-effect term at zero).

    Parameters at their zero bound stay there.
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
    return theta, best, converged


def _away_from_bound(
    fun, theta: np.ndarray, lower: np.ndarray, f0: float, rising: np.ndarray | None = None
) -> np.ndarray | None:
    """A point with a lower deviance found by moving a zero diagonal element up, or None.

    ``rising`` (where known) marks the elements at zero whose derivative in ``theta^2`` is
    positive there: the deviance rises as they leave zero, so only the far point is tried.
    """
    for i in np.flatnonzero((lower == 0.0) & (theta < _SINGULAR_TOL)):
        near = rising is None or not rising[i]
        for delta in (1e-2, 0.2) if near else (0.2,):
            trial = theta.copy()
            trial[i] = delta
            if fun(trial) < f0 - 1e-8:
                return trial
    return None
