"""Satterthwaite degrees of freedom for fixed effects of a linear mixed model, as lmerTest.

For a contrast ``l`` of the fixed effects, ``var = l' C(phi) l`` with ``C`` the covariance matrix of
``beta`` as a function of the variance parameters ``phi = (theta, sigma)``. Satterthwaite's
approximation (Kuznetsova, Brockhoff & Christensen 2017, section 3.2; Giesbrecht & Burns 1985) is::

    df = 2 var^2 / (g' A g),   g_i = l' (dC / dphi_i) l,   A = 2 H^-1

where ``H`` is the Hessian of the (REML or ML) deviance in ``(theta, sigma)`` at the estimate, the
same parametrisation lmerTest uses (its ``devfun_vp``). When ``H`` has eigenvalues at or below
1e-8 the Moore-Penrose inverse over the positive ones is used, as lmerTest does.

The deviance is ``log|L|^2 + r^2 / sigma^2 + (n - p_R) log(2 pi sigma^2) + [log|R_X|^2]`` (the
bracket and ``p_R = p`` for REML, ``p_R = 0`` for ML).

On the general solver its Hessian and the Jacobian of ``C`` are computed by the scheme lmerTest
uses (the R package numDeriv's ``hessian`` and ``jacobian``): central differences with Richardson
extrapolation over four step sizes halved each time (Gilbert & Varadhan 2019), starting from
steps of ``0.1 |phi_i|`` (``1e-4`` for a parameter at zero); the Hessian's off-diagonal elements
come from points moved in two coordinates at once. Extrapolation removes the error terms up to
the eighth order in the step, so both are exact to about 1e-9 relative, and the degrees of
freedom agree with lmerTest's to about 1e-7 (the golden tests). lmerTest's Jacobian starts from
steps of ``1e-4 |phi_i|``; here it reuses the Hessian's points, which gives the same values to
about 1e-9 without further solves. Points that differ only in ``sigma`` share one penalized
least-squares solve, as do points that differ only in the sign of a parameter of a term with one
random effect per level (the deviance is even in it). With ``k`` elements of ``theta`` this takes
at most ``1 + 4k(k + 1)`` solves.

On the nested recursion
(:class:`~classdyad.mixed._nested_sufficient_statistics.NestedSufficientStatistics`), whose
gradient in theta is exact, the derivatives come from that gradient instead:

- ``d^2 D / dtheta^2``: central differences of the exact gradient of ``D`` at the fixed sigma
  (the recursion's reverse pass with the adjoint ``v v' / sigma^2`` of ``r^2``), steps
  ``h_i = 1e-4 |theta_i|`` (``1e-4`` for an element at about zero), symmetrised. The error is
  ``O(h^2)``, about 1e-8 relative; rounding does not limit it (steps ten times smaller agree
  with the Richardson scheme as closely, in the Hessian). Where a one-effect term's parameter is
  exactly zero the gradient is odd in it, so the point at ``-h`` mirrors the one at ``+h`` and
  is not evaluated, and the derivative is ``(dD / dtheta_i)(h) / h = 2 dD / dphi_i`` at
  ``phi_i = h^2``, which involves no difference: there ``h = 1e-8``, exact to rounding;
- ``d^2 D / dtheta dsigma = -2 (dr^2 / dtheta) / sigma^3``, with ``dr^2 / dtheta`` exact: the
  gradient of ``log|L|^2 (+ log|R_X|^2) + c r^2`` is affine in ``c``, so it is the difference
  of two reverse passes (``c = 1`` and ``c = 0``) after one forward pass at the estimate;
- ``d^2 D / dsigma^2 = 6 r^2 / sigma^4 - 2 (n - p_R) / sigma^2`` (exact);
- the Jacobian of ``(R_X R_X')^-1`` in theta: central differences at the same points (the
  recursion returns that matrix with each gradient).

Against the Richardson scheme on nested designs (random intercepts at two and three levels, a
singular fit, random slopes) the Hessian in theta agrees to 4e-8 relative to
``sqrt(H_ii H_jj)``, the Jacobian to 7e-8 of its largest element and the degrees of freedom to
8e-8 (``tests/mixed/test_satterthwaite_gradient.py``); the degrees of freedom of the replica's
golden models agree with lmerTest's to 3e-8. At a parameter at zero this Hessian is the more
accurate one: the Richardson scheme's second differences of the deviance at steps of ``1e-4``
lose about four digits to rounding there. Central differences with one Richardson step (``h``
and ``h / 2`` from ``1e-2 |theta_i|``, error ``O(h^4)``) gave the same degrees of freedom to
1e-8 at twice the points. With ``k`` elements of theta, ``k_0`` of them one-effect parameters at
exactly zero, this takes ``1 + 2k - k_0`` forward and ``2 + 2k - k_0`` reverse passes of the
recursion (a reverse pass costs about two forward passes) instead of up to ``1 + 4k(k + 1)``
solves: on the power analysis's H3 fits (two variance parameters) 28-32 % of the Richardson
scheme's time (``python -m bench satterthwaite``). Where a point's factor is not positive
definite the Richardson scheme is used instead, as it is always with ``scheme="richardson"``.
Either way this is done only when degrees of freedom are asked for.

References
----------
Kuznetsova, A., Brockhoff, P. B. & Christensen, R. H. B. (2017). lmerTest package: tests in linear
mixed effects models. *Journal of Statistical Software*, 82(13). doi:10.18637/jss.v082.i13

Giesbrecht, F. G. & Burns, J. C. (1985). Two-stage analysis based on a mixed model: large-sample
asymptotic theory and small-sample simulation results. *Biometrics*, 41, 477-486.

Gilbert, P. & Varadhan, R. (2019). numDeriv: accurate numerical derivatives. R package version
2016.8-1.1 (the method: Richardson, L. F. (1911), *Philosophical Transactions of the Royal
Society A*, 210, 307-357).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np

from classdyad.errors import ConvergenceWarning, OptionError
from classdyad.mixed._penalized_least_squares import Evaluation, PenalizedLeastSquares
from classdyad.mixed._penalized_least_squares_gradient import lower_triangular_inverse

if TYPE_CHECKING:  # the nested recursion serves here as the general solver does
    from classdyad.mixed._nested_sufficient_statistics import NestedSufficientStatistics

_LOG_2PI = float(np.log(2.0 * np.pi))

__all__ = ["DerivativeStencil", "SatterthwaiteState", "derivative_stencil", "satterthwaite_state"]

_EIGEN_TOL = 1e-8

Scheme = Literal["gradient", "richardson"]


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

    def term_df(self) -> np.ndarray:
        """Satterthwaite degrees of freedom of every fixed effect on its own (the unit
        contrasts), the numbers :meth:`df` gives for each, computed at once."""
        variance = np.diagonal(self.beta_covariance)
        grad = np.column_stack([np.diagonal(jac) for jac in self.jacobians])
        denominator = np.einsum("ij,jk,ik->i", grad, self.varpar_covariance, grad)
        valid = (denominator > 0.0) & np.isfinite(denominator)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 2.0 * variance * variance / denominator
        return np.where(valid, out, np.nan)


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


_RICHARDSON_STEPS = 4  # numDeriv's r: four step sizes, each half the one before
_HESSIAN_STEP = 0.1  # numDeriv's d for hessian()
_ZERO_STEP = 1e-4  # numDeriv's eps: the step of a parameter at (about) zero
_ZERO_TOL = float(np.sqrt(np.finfo(float).eps / 7e-7))  # numDeriv's zero.tol


def _richardson(estimates: np.ndarray) -> np.ndarray:
    """Richardson extrapolation over estimates at steps h, h/2, h/4, ... (axis 0), error O(h^2)."""
    a = np.array(estimates, dtype=float)
    for m in range(1, a.shape[0]):
        factor = 4.0**m
        a = (a[1:] * factor - a[:-1]) / (factor - 1.0)
    return a[0]


def _steps(x: np.ndarray, relative: float) -> np.ndarray:
    return np.abs(relative * x) + _ZERO_STEP * (np.abs(x) < _ZERO_TOL)


class _DevianceInVarianceParameters:
    """lmerTest's ``devfun_vp`` and ``get_covbeta`` on (theta, sigma); solves cached by theta."""

    def __init__(self, pls: PenalizedLeastSquares | NestedSufficientStatistics,
                 theta: np.ndarray, *, reml: bool):
        self.pls, self.reml = pls, reml
        self.k = len(pls.lower)
        self.even = np.zeros(self.k, dtype=bool)
        for term_index, size in enumerate(pls.q_sizes):
            if size == 1:  # enters through theta^2 only
                self.even[pls.theta_slices[term_index]] = True
        self.cache: dict[tuple[float, ...], tuple[Evaluation, np.ndarray | None]] = {}
        # the nested recursion gives the deviance's parts without beta and R_X, which only
        # the points on the axes through the estimate need (the Jacobian of cov(beta))
        self.parts: dict[tuple[float, ...], tuple[float, float, float]] = {}
        self.light = getattr(pls, "deviance_parts", None)
        self.centre = self._key(theta)[0]

    def _key(self, theta: np.ndarray) -> tuple[np.ndarray, tuple[float, ...]]:
        point = np.array(theta, dtype=float)
        point[self.even] = np.abs(point[self.even])
        return point, tuple(point.tolist())

    def _solved(self, theta: np.ndarray) -> list:
        point, key = self._key(theta)
        if key not in self.cache:
            self.cache[key] = [self.pls.solve(point), None]
        return self.cache[key]

    def _parts(self, theta: np.ndarray) -> tuple[float, float, float]:
        point, key = self._key(theta)
        if key in self.cache:
            ev = self.cache[key][0]
            return ev.log_det_l, ev.log_det_rx, ev.pwrss
        off_axis = np.count_nonzero(point != self.centre) > 1
        if self.light is None or not off_axis:
            ev = self._solved(theta)[0]
            return ev.log_det_l, ev.log_det_rx, ev.pwrss
        if key not in self.parts:
            self.parts[key] = self.light(point)
        return self.parts[key]

    def deviance(self, varpar: np.ndarray) -> float:
        log_det_l, log_det_rx, pwrss = self._parts(varpar[:-1])
        s2 = float(varpar[-1]) ** 2
        n, p = self.pls.n, self.pls.p
        dev = log_det_l + pwrss / s2 + n * (_LOG_2PI + np.log(s2))
        if self.reml:
            dev += log_det_rx - p * (_LOG_2PI + np.log(s2))
        return float(dev)

    def unit_covariance(self, theta: np.ndarray) -> np.ndarray:
        """``(R_X R_X')^-1`` at theta, so that cov(beta) = sigma^2 times it."""
        entry = self._solved(theta)
        if entry[1] is None:
            entry[1] = _covariance_unit(entry[0])
        return entry[1]


def _hessian(fun, x: np.ndarray) -> np.ndarray:
    """numDeriv's ``hessian`` (its ``genD``): Richardson-extrapolated central differences."""
    n = x.size
    h0 = _steps(x, _HESSIAN_STEP)
    f0 = fun(x)
    diagonal = np.empty(n)
    for i in range(n):
        estimates = []
        for level in range(_RICHARDSON_STEPS):
            shift = np.zeros(n)
            shift[i] = h0[i] / 2.0**level
            estimates.append((fun(x + shift) - 2.0 * f0 + fun(x - shift)) / shift[i] ** 2)
        diagonal[i] = _richardson(np.array(estimates))
    hessian = np.diag(diagonal)
    for i in range(n):
        for j in range(i):
            estimates = []
            for level in range(_RICHARDSON_STEPS):
                h = h0 / 2.0**level
                shift = np.zeros(n)
                shift[i], shift[j] = h[i], h[j]
                value = (fun(x + shift) - 2.0 * f0 + fun(x - shift)
                         - diagonal[i] * h[i] ** 2 - diagonal[j] * h[j] ** 2)
                estimates.append(value / (2.0 * h[i] * h[j]))
            hessian[i, j] = hessian[j, i] = _richardson(np.array(estimates))
    return hessian


def _covariance_jacobian(model: _DevianceInVarianceParameters, theta: np.ndarray) -> list:
    """Richardson-extrapolated central differences of ``(R_X R_X')^-1`` in each element of
    theta, at the Hessian's steps (whose solves are cached), not at numDeriv ``jacobian``'s
    smaller ones: both are exact to far below the tolerance and this needs no further solves."""
    h0 = _steps(theta, _HESSIAN_STEP)
    out = []
    for i in range(theta.size):
        estimates = []
        for level in range(_RICHARDSON_STEPS):
            shift = np.zeros(theta.size)
            shift[i] = h0[i] / 2.0**level
            difference = (model.unit_covariance(theta + shift)
                          - model.unit_covariance(theta - shift))
            estimates.append(difference / (2.0 * shift[i]))
        out.append(_richardson(np.array(estimates)))
    return out


_GRADIENT_STEP = 1e-4  # relative step of the central differences of the exact gradient
# the step of a one-effect parameter at zero: its gradient there is 2 h dD/dphi (phi = h^2), with
# no cancellation, so the step can make the error (of order h^2) negligible
_MIRROR_STEP = 1e-8


def _from_gradients(pls: NestedSufficientStatistics, theta: np.ndarray, sigma: float, *,
                    reml: bool) -> tuple[np.ndarray, list[np.ndarray], np.ndarray] | None:
    """The Hessian of the deviance in (theta, sigma), the Jacobian of ``(R_X R_X')^-1`` in theta
    and ``(R_X R_X')^-1`` from the recursion's exact gradient (see the module docstring); None
    where a point's factor is not positive definite (the caller then differentiates the
    deviance itself)."""
    k = theta.size
    s2 = sigma * sigma
    weight = (1.0 / s2,)  # the deviance at a fixed sigma
    hessian = np.empty((k + 1, k + 1))
    jacobians = []
    steps = _steps(theta, _GRADIENT_STEP)
    try:
        # d^2 D / dtheta dsigma = -2 (dr^2 / dtheta) / sigma^3, and the gradient in theta of
        # log|L|^2 (+ log|R_X|^2) + c r^2 is affine in c: dr^2 / dtheta is the difference
        # between the gradients at c = 1 and c = 0
        (without, with_unit), unit, pwrss = pls.parts_gradients(theta, (0.0, 1.0), reml=reml)
        for i in range(k):
            mirrored = theta[i] == 0.0 and _one_effect(pls, i)
            h = _MIRROR_STEP if mirrored else steps[i]
            point = theta.copy()
            point[i] += h
            plus, unit_plus, _ = pls.parts_gradients(point, weight, reml=reml)
            if mirrored:  # the deviance is even in theta_i: the point at -h mirrors this one
                hessian[:k, i] = 0.0
                hessian[i, i] = plus[0, i] / h
                jacobians.append(np.zeros_like(unit_plus))
                continue
            point[i] = theta[i] - h
            minus, unit_minus, _ = pls.parts_gradients(point, weight, reml=reml)
            hessian[:k, i] = (plus[0] - minus[0]) / (2.0 * h)
            jacobians.append((unit_plus - unit_minus) / (2.0 * h))
    except np.linalg.LinAlgError:
        return None
    hessian[:k, :k] = 0.5 * (hessian[:k, :k] + hessian[:k, :k].T)
    hessian[:k, k] = hessian[k, :k] = -2.0 * (with_unit - without) / (s2 * sigma)
    dof = pls.n - pls.p if reml else pls.n
    hessian[k, k] = 6.0 * pwrss / (s2 * s2) - 2.0 * dof / s2
    return hessian, jacobians, unit


def _one_effect(pls: PenalizedLeastSquares | NestedSufficientStatistics, index: int) -> bool:
    """Whether element ``index`` of theta belongs to a term with one random effect per level
    (which enters only through its square: the deviance is even in it)."""
    return any(size == 1 and pls.theta_slices[term].start == index
               for term, size in enumerate(pls.q_sizes))


def satterthwaite_state(
    pls: PenalizedLeastSquares | NestedSufficientStatistics, theta: np.ndarray, sigma: float,
    *, reml: bool, scheme: Scheme = "gradient"
) -> SatterthwaiteState:
    """Hessian of the deviance in (theta, sigma) and the Jacobian of cov(beta) at the estimate
    (see the module docstring): ``scheme="gradient"`` from the exact gradient where the solver
    has one (the nested recursion), else by lmerTest's Richardson scheme, which
    ``scheme="richardson"`` uses always (for comparisons)."""
    if scheme not in get_args(Scheme):
        raise OptionError(f"scheme={scheme!r} is not allowed; use one of "
                          f"{', '.join(map(repr, get_args(Scheme)))}")
    theta = np.asarray(theta, dtype=float)
    exact = (_from_gradients(pls, theta, sigma, reml=reml)
             if scheme == "gradient" and hasattr(pls, "parts_gradients") else None)
    if exact is None:
        model = _DevianceInVarianceParameters(pls, theta, reml=reml)
        full = _hessian(model.deviance, np.append(theta, sigma))
        unit_cov = model.unit_covariance(theta)
        theta_jacobians = _covariance_jacobian(model, theta)
    else:
        full, theta_jacobians, unit_cov = exact
    values_h, vectors = np.linalg.eigh(full)
    negative = values_h < -_EIGEN_TOL
    if negative.any():
        warnings.warn(
            "the Hessian of the deviance in the variance parameters has "
            f"{int(negative.sum())} negative eigenvalue(s), so the fit may not be at a maximum; "
            "Satterthwaite degrees of freedom are approximate (lmerTest warns the same way); "
            "simplify the random-effects structure",
            ConvergenceWarning,
            stacklevel=4,
        )
    positive = values_h > _EIGEN_TOL
    inverse = (vectors[:, positive] / values_h[positive]) @ vectors[:, positive].T
    s2 = sigma * sigma
    # d (sigma^2 U(theta)) / d sigma = 2 sigma U exactly (central differences of a quadratic)
    jacobians = [s2 * jac for jac in theta_jacobians] + [2.0 * sigma * unit_cov]
    return SatterthwaiteState(
        beta_covariance=s2 * unit_cov,
        varpar_covariance=2.0 * inverse,
        jacobians=tuple(jacobians),
    )
