"""The stacked two-equation mixed model of 1-1-1 mediation with random slopes (fitting only).

Bauer, Preacher & Gil (2006) fit the mediator equation and the outcome equation of a 1-1-1
mediation model with random paths in one mixed model: every observation contributes two rows, one
for the mediator M and one for the outcome Y, with selection dummies ``Sm`` and ``Sy``:

    z = Sm (dM_j + a_j X) + Sy (dY_j + b_j M + c'_j X) + e,   var(e) = sigma_M^2 Sm + sigma_Y^2 Sy

where ``(dM_j, a_j, dY_j, b_j, c'_j)`` are normal with means ``beta`` (the fixed effects
``Sm, Sm:X, Sy, Sy:M, Sy:X``) and an unstructured 5 x 5 covariance ``T``. The same model in R is
``nlme::lme(z ~ 0 + Sm + Smx + Sy + Sym + Syx, random = ~ 0 + Sm + Smx + Sy + Sym + Syx | id,
weights = varIdent(form = ~ 1 | dv))``.

Why a module of its own. :func:`classdyad.mixed.lmm` (lme4's model) has one residual variance;
this model needs one per outcome (nlme's ``varIdent``), so it is fitted here. The random effects
and the fixed effects share the design ``X_j`` of each group (five columns), which keeps every
quantity a sum over groups of 5 x 5 blocks.

Likelihood. With ``R_j`` the diagonal residual covariance, ``T = L L'`` and the per-group sums
``G_j = X_j' R_j^-1 X_j``, ``h_j = X_j' R_j^-1 z_j``, ``s_j = z_j' R_j^-1 z_j``, the Woodbury
identity gives, with ``C_j = I + L' G_j L`` and ``P_j = L C_j^-1 L'``,

    log |V_j| = log |R_j| + log |C_j|,
    X_j' V_j^-1 X_j = G_j - G_j P_j G_j,  X_j' V_j^-1 z_j = h_j - G_j P_j h_j,
    z_j' V_j^-1 z_j = s_j - h_j' P_j h_j

(Harville 1977; Pinheiro & Bates 2000, chapter 2). ``beta`` is the generalized least-squares
estimate given ``(T, sigma_M, sigma_Y)``; the REML criterion is
``sum log|V_j| + log|X' V^-1 X| + r' V^-1 r + (N - p) log(2 pi)`` (ML: without the second term
and with ``N``). It is minimised over the Cholesky factor ``L`` and the log residual standard
deviations by L-BFGS on forward-difference gradients (convergence is then checked on
central-difference ones). ``cov(beta) = (X' V^-1 X)^-1`` (nlme's
``vcov``); the covariance of the variance parameters (on the covariance scale: the elements of
``T`` and the two residual variances) is twice the inverse Hessian of the criterion, by central
differences - asymptotically independent of ``beta``. A covariance ``T`` whose correlation matrix
has an eigenvalue below 1e-4 (a random path without variance, or paths perfectly correlated), or a
Hessian that is not invertible there, is a singular fit: the variance parameters are on the
boundary and their covariance (and the standard error of ``cov(a_j, b_j)``) is not available.

References
----------
Bauer, D. J., Preacher, K. J. & Gil, K. M. (2006). Conceptualizing and testing random indirect
effects and moderated mediation in multilevel models: new procedures and recommendations.
*Psychological Methods*, 11(2), 142-163. doi:10.1037/1082-989X.11.2.142
Harville, D. A. (1977). Maximum likelihood approaches to variance component estimation and to
related problems. *Journal of the American Statistical Association*, 72(358), 320-338.
Pinheiro, J. C. & Bates, D. M. (2000). *Mixed-Effects Models in S and S-PLUS*. Springer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.optimize

__all__ = ["STACKED_TERMS", "StackedFit", "fit_stacked_model"]

#: fixed and random effects of the stacked model: intercept and a path of the mediator equation,
#: intercept, b and c' paths of the outcome equation
STACKED_TERMS = ("Sm", "Sm:X", "Sy", "Sy:M", "Sy:X")
_P = len(STACKED_TERMS)
_TRIL = np.tril_indices(_P)
_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class StackedFit:
    """Estimates of the stacked model (arrays in :data:`STACKED_TERMS` order)."""

    beta: np.ndarray
    cov_beta: np.ndarray
    tau: np.ndarray
    residual_variances: np.ndarray
    cov_variance_parameters: np.ndarray
    loglik: float
    method: str
    converged: bool
    singular: bool
    n_obs: int
    n_groups: int


@dataclass(frozen=True)
class _Sums:
    g_m: np.ndarray
    g_y: np.ndarray
    h_m: np.ndarray
    h_y: np.ndarray
    s_m: np.ndarray
    s_y: np.ndarray
    n_m: np.ndarray
    n_y: np.ndarray


def _group_sums(x: np.ndarray, m: np.ndarray, y: np.ndarray, codes: np.ndarray,
                n_groups: int) -> _Sums:
    n = len(x)
    xm = np.zeros((n, _P))
    xm[:, 0], xm[:, 1] = 1.0, x
    xy = np.zeros((n, _P))
    xy[:, 2], xy[:, 3], xy[:, 4] = 1.0, m, x

    def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.zeros((n_groups, *a.shape[1:], *b.shape[1:]))
        np.add.at(out, codes, np.einsum("ni,nj->nij", a, b) if b.ndim == 2
                  else a * b[:, None])
        return out

    counts = np.bincount(codes, minlength=n_groups).astype(float)
    return _Sums(cross(xm, xm), cross(xy, xy), cross(xm, m), cross(xy, y),
                 np.bincount(codes, m * m, n_groups), np.bincount(codes, y * y, n_groups),
                 counts, counts)


def _criterion_parts(sums: _Sums, tau_factor: np.ndarray, variances: np.ndarray,
                     reml: bool) -> tuple[float, np.ndarray, np.ndarray]:
    """Criterion (-2 log-likelihood), beta and (X' V^-1 X) for the factor ``L`` of ``T``."""
    wm, wy = 1.0 / variances
    g = wm * sums.g_m + wy * sums.g_y
    h = wm * sums.h_m + wy * sums.h_y
    s = wm * sums.s_m + wy * sums.s_y
    logdet_r = float(np.sum(sums.n_m) * np.log(variances[0]) + np.sum(sums.n_y)
                     * np.log(variances[1]))
    lt_g = np.einsum("ji,gjk->gik", tau_factor, g)
    c = np.eye(_P)[None] + lt_g @ tau_factor
    chol = np.linalg.cholesky(c)
    logdet_c = 2.0 * float(np.log(np.diagonal(chol, axis1=1, axis2=2)).sum())
    # P = L C^-1 L'; P G and P h from one solve with C
    lt_h = np.einsum("ji,gj->gi", tau_factor, h)
    solved = np.linalg.solve(c, np.concatenate([lt_g, lt_h[..., None]], axis=2))
    pg = tau_factor[None] @ solved[..., :_P]
    ph = np.einsum("ij,gj->gi", tau_factor, solved[..., _P])
    xvx = (g - g @ pg).sum(axis=0)
    xvz = (h - np.einsum("gij,gj->gi", g, ph)).sum(axis=0)
    zvz = float((s - np.einsum("gi,gi->g", h, ph)).sum())
    xvx = 0.5 * (xvx + xvx.T)
    beta = np.linalg.solve(xvx, xvz)
    quadratic = zvz - float(beta @ xvz)
    n = float(np.sum(sums.n_m) + np.sum(sums.n_y))
    value = logdet_r + logdet_c + quadratic
    if reml:
        _, logdet_x = np.linalg.slogdet(xvx)
        value += logdet_x + (n - _P) * _LOG_2PI
    else:
        value += n * _LOG_2PI
    return value, beta, xvx


def _unpack(params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    factor = np.zeros((_P, _P))
    factor[_TRIL] = params[: len(_TRIL[0])]
    return factor, np.exp(2.0 * params[-2:])


def _central_gradient(f, x: np.ndarray, step: float = 1e-6) -> np.ndarray:
    grad = np.empty(len(x))
    for i in range(len(x)):
        e = np.zeros(len(x))
        e[i] = step
        grad[i] = (f(x + e) - f(x - e)) / (2.0 * step)
    return grad


def _covariance_scale_hessian(sums: _Sums, tau: np.ndarray, variances: np.ndarray,
                              reml: bool) -> np.ndarray:
    """Hessian of the criterion over (lower triangle of T, sigma_M^2, sigma_Y^2)."""
    start = np.concatenate([tau[_TRIL], variances])

    def criterion(values: np.ndarray) -> float:
        t = np.zeros((_P, _P))
        t[_TRIL] = values[:-2]
        t = t + np.tril(t, -1).T
        try:
            factor = np.linalg.cholesky(t)
        except np.linalg.LinAlgError:
            return np.nan
        return _criterion_parts(sums, factor, values[-2:], reml)[0]

    d = len(start)
    steps = 1e-4 * np.maximum(np.abs(start), 1e-2)
    f0 = criterion(start)
    hess = np.zeros((d, d))
    for i in range(d):
        ei = np.zeros(d)
        ei[i] = steps[i]
        hess[i, i] = (criterion(start + ei) - 2.0 * f0 + criterion(start - ei)) / steps[i] ** 2
        for j in range(i):
            ej = np.zeros(d)
            ej[j] = steps[j]
            value = (criterion(start + ei + ej) - criterion(start + ei - ej)
                     - criterion(start - ei + ej) + criterion(start - ei - ej))
            hess[i, j] = hess[j, i] = value / (4.0 * steps[i] * steps[j])
    return hess


def fit_stacked_model(
    x: np.ndarray, m: np.ndarray, y: np.ndarray, codes: np.ndarray, *,
    method: Literal["REML", "ML"] = "REML",
) -> StackedFit:
    """Fit the stacked random-slopes mediation model (see the module docstring).

    ``x``, ``m``, ``y``: one value per observation; ``codes``: 0-based group codes.
    """
    n_groups = int(codes.max()) + 1
    sums = _group_sums(x, m, y, codes, n_groups)
    reml = method == "REML"
    # starting values: per-equation least squares residual variances, T = 0.1 * I
    xm = np.column_stack([np.ones_like(x), x])
    xy = np.column_stack([np.ones_like(x), m, x])
    res_m = m - xm @ np.linalg.lstsq(xm, m, rcond=None)[0]
    res_y = y - xy @ np.linalg.lstsq(xy, y, rcond=None)[0]
    start_factor = np.sqrt(0.1 * np.array([res_m.var(), 1, res_y.var(), 1, 1]))
    start = np.concatenate([np.diag(start_factor)[_TRIL],
                            0.5 * np.log([0.8 * res_m.var(), 0.8 * res_y.var()])])

    def criterion(params: np.ndarray) -> float:
        factor, variances = _unpack(params)
        try:
            return _criterion_parts(sums, factor, variances, reml)[0]
        except np.linalg.LinAlgError:
            return np.inf

    result = scipy.optimize.minimize(
        criterion, start, method="L-BFGS-B",
        options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-7},
    )
    factor, variances = _unpack(result.x)
    value, beta, xvx = _criterion_parts(sums, factor, variances, reml)
    tau = factor @ factor.T
    hess = _covariance_scale_hessian(sums, tau, variances, reml)
    try:
        cov_variance = 2.0 * np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        cov_variance = np.full(hess.shape, np.nan)
    gradient_norm = float(np.abs(_central_gradient(criterion, result.x)).max())
    scale = np.sqrt(np.maximum(np.diag(tau), 1e-300))
    correlation = tau / np.outer(scale, scale)
    variances_ok = np.all(np.isfinite(np.diag(cov_variance))) and np.all(np.diag(cov_variance) > 0)
    singular = bool(np.linalg.eigvalsh(correlation).min() < 1e-4 or not variances_ok)
    return StackedFit(
        beta=beta,
        cov_beta=np.linalg.inv(xvx),
        tau=tau,
        residual_variances=variances,
        cov_variance_parameters=cov_variance,
        loglik=-0.5 * value,
        method=method,
        converged=bool(gradient_norm < 1e-3),
        singular=singular,
        n_obs=len(x),
        n_groups=n_groups,
    )


def tau_index(row: int, column: int) -> int:
    """Position of ``T[row, column]`` in the variance-parameter vector (lower triangle)."""
    row, column = max(row, column), min(row, column)
    rows, cols = _TRIL
    return int(np.flatnonzero((rows == row) & (cols == column))[0])
