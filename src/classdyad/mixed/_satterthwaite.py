"""Satterthwaite degrees of freedom for fixed effects of a linear mixed model, as lmerTest.

For a contrast ``l`` of the fixed effects, ``var = l' C(phi) l`` with ``C`` the covariance matrix of
``beta`` as a function of the variance parameters ``phi = (theta, sigma)``. Satterthwaite's
approximation (Kuznetsova, Brockhoff & Christensen 2017, section 3.2; Giesbrecht & Burns 1985) is::

    df = 2 var^2 / (g' A g),   g_i = l' (dC / dphi_i) l,   A = 2 H^-1

where ``H`` is the Hessian of the (REML or ML) deviance in ``(theta, sigma)`` at the estimate, the
same parametrisation lmerTest uses (its ``devfun_vp``). When ``H`` has eigenvalues at or below
1e-8 the Moore-Penrose inverse over the positive ones is used, as lmerTest does.

The deviance is ``log|L|^2 + r^2 / sigma^2 + (n - p_R) log(2 pi sigma^2) + [log|R_X|^2]`` (the
bracket and ``p_R = p`` for REML, ``p_R = 0`` for ML), so its derivatives in ``sigma`` are exact
and only the three functions of ``theta`` (``log|L|^2``, ``r^2``, ``log|R_X|^2``) and ``C`` are
differentiated numerically, by central differences: steps of 1e-4 (relative) for first and 1e-2
for second derivatives, where smaller steps would amplify rounding (lmerTest uses numDeriv's
Richardson extrapolation; the two agree to about 1e-4, far below the 1e-2 tolerance the tests
use).

References
----------
Kuznetsova, A., Brockhoff, P. B. & Christensen, R. H. B. (2017). lmerTest package: tests in linear
mixed effects models. *Journal of Statistical Software*, 82(13). doi:10.18637/jss.v082.i13

Giesbrecht, F. G. & Burns, J. C. (1985). Two-stage analysis based on a mixed model: large-sample
asymptotic theory and small-sample simulation results. *Biometrics*, 41, 477-486.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from classdyad.errors import ConvergenceWarning
from classdyad.mixed._penalized_least_squares import Evaluation, PenalizedLeastSquares
from classdyad.mixed._penalized_least_squares_gradient import lower_triangular_inverse

__all__ = ["DerivativeStencil", "SatterthwaiteState", "derivative_stencil", "satterthwaite_state"]

_EIGEN_TOL = 1e-8


@dataclass(frozen=True)
class SatterthwaiteState:
    """Covariance of the variance parameters and derivatives of cov(beta), for contrasts."""

    beta_covariance: np.ndarray
    varpar_covariance: np.ndarray
    jacobians: tuple[np.ndarray, ...]

    def df(self, contrast: np.ndarray) -> float:
        """Satterthwaite degrees of freedom of the contrast ``l' beta``."""
        contrast = np.asarray(contrast, dtype=float)
        variance = float(contrast @ self.beta_covariance @ contrast)
        grad = np.array([contrast @ jac @ contrast for jac in self.jacobians])
        denominator = float(grad @ self.varpar_covariance @ grad)
        if denominator <= 0.0 or not np.isfinite(denominator):
            return float("nan")
        return 2.0 * variance * variance / denominator


def _covariance_unit(ev: Evaluation) -> np.ndarray:
    inv = lower_triangular_inverse(ev.rx)
    return inv.T @ inv


@dataclass(frozen=True)
class DerivativeStencil:
    """Central-difference derivatives in theta of ``A = log|L|^2 (+ log|R_X|^2)`` and ``r^2``.

    One stencil (at most ``1 + 4k + 2k(k-1)`` penalized least-squares solves for ``k``
    parameters) gives both the Newton step that polishes the optimum and everything
    Satterthwaite's approximation needs.
    """

    theta: np.ndarray
    centre: Evaluation
    values: np.ndarray  # (A, r^2) at theta
    gradient: np.ndarray  # (k, 2)
    hessian: np.ndarray  # (k, k, 2)
    covariance_jacobian: tuple[np.ndarray, ...]  # d (R_X R_X')^-1 / d theta_i
    dof: int  # n (ML) or n - p (REML)

    def profiled(self) -> tuple[float, np.ndarray, np.ndarray]:
        """Profiled deviance (up to a constant), its gradient and Hessian in theta."""
        a, pw = self.values
        ga, gp = self.gradient[:, 0], self.gradient[:, 1]
        grad = ga + self.dof * gp / pw
        hess = self.hessian[..., 0] + self.dof * (
            self.hessian[..., 1] / pw - np.outer(gp, gp) / (pw * pw)
        )
        return float(a + self.dof * np.log(pw)), grad, hess


def derivative_stencil(
    pls: PenalizedLeastSquares, theta: np.ndarray, *, reml: bool
) -> DerivativeStencil:
    """Evaluate the central-difference stencil around ``theta``."""
    theta = np.asarray(theta, dtype=float)
    k = theta.size
    scale = np.maximum(np.abs(theta), 0.1)
    # first derivatives with small steps (bias ~ h^2), second derivatives with larger ones, where
    # rounding in the Cholesky factors would otherwise dominate
    small, large = 1e-4 * scale, 1e-2 * scale
    cache: dict[tuple[float, ...], Evaluation] = {}
    # a term with one random effect per level enters only through theta_k^2 (its sign flips
    # the sign of its modes): the deviance, R_X and r^2 are even in theta_k, so points that
    # differ only in the signs of such parameters share one solve (at a zero estimate this
    # saves half the stencil's points in that direction)
    even = np.zeros(k, dtype=bool)
    for term_index, size in enumerate(pls.q_sizes):
        if size == 1:
            even[pls.theta_slices[term_index]] = True

    def at(shift: np.ndarray) -> Evaluation:
        point = theta + shift
        point[even] = np.abs(point[even])
        key = tuple(point)
        if key not in cache:
            cache[key] = pls.solve(point)
        return cache[key]

    def values(ev: Evaluation) -> np.ndarray:
        rx_part = ev.log_det_rx if reml else 0.0
        return np.array([ev.log_det_l + rx_part, ev.pwrss])

    zero = np.zeros(k)
    centre = values(at(zero))
    grad = np.zeros((k, 2))
    hess = np.zeros((k, k, 2))
    jacobian = []
    for i in range(k):
        e_small, e_large = zero.copy(), zero.copy()
        e_small[i], e_large[i] = small[i], large[i]
        plus, minus = at(e_small), at(-e_small)
        grad[i] = (values(plus) - values(minus)) / (2 * small[i])
        jacobian.append((_covariance_unit(plus) - _covariance_unit(minus)) / (2 * small[i]))
        hess[i, i] = (values(at(e_large)) - 2 * centre + values(at(-e_large))) / large[i] ** 2
        for j in range(i):
            corners = []
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                shift = zero.copy()
                shift[i], shift[j] = si * large[i], sj * large[j]
                corners.append(values(at(shift)))
            hess[i, j] = hess[j, i] = (corners[0] - corners[1] - corners[2] + corners[3]) / (
                4 * large[i] * large[j]
            )
    return DerivativeStencil(
        theta=theta,
        centre=at(zero),
        values=centre,
        gradient=grad,
        hessian=hess,
        covariance_jacobian=tuple(jacobian),
        dof=pls.n - pls.p if reml else pls.n,
    )


def satterthwaite_state(stencil: DerivativeStencil, sigma: float) -> SatterthwaiteState:
    """Hessian of the deviance in (theta, sigma) and the Jacobian of cov(beta) at the estimate."""
    k = stencil.theta.size
    s2 = sigma * sigma
    pwrss = stencil.values[1]
    grad, hess = stencil.gradient, stencil.hessian
    full = np.zeros((k + 1, k + 1))
    full[:k, :k] = hess[..., 0] + hess[..., 1] / s2
    full[:k, k] = full[k, :k] = -2.0 * grad[:, 1] / (s2 * sigma)
    full[k, k] = 6.0 * pwrss / (s2 * s2) - 2.0 * stencil.dof / s2
    values_h, vectors = np.linalg.eigh(full)
    negative = values_h < -_EIGEN_TOL
    if negative.any():
        warnings.warn(
            "the Hessian of the deviance in the variance parameters has "
            f"{int(negative.sum())} negative eigenvalue(s), so the fit may not be at a maximum; "
            "Satterthwaite degrees of freedom are approximate (lmerTest warns the same way); "
            "simplify the random-effects structure",
            ConvergenceWarning,
            stacklevel=3,
        )
    positive = values_h > _EIGEN_TOL
    inverse = (vectors[:, positive] / values_h[positive]) @ vectors[:, positive].T
    unit_cov = _covariance_unit(stencil.centre)
    jacobians = [s2 * jac for jac in stencil.covariance_jacobian] + [2.0 * sigma * unit_cov]
    return SatterthwaiteState(
        beta_covariance=s2 * unit_cov,
        varpar_covariance=2.0 * inverse,
        jacobians=tuple(jacobians),
    )
