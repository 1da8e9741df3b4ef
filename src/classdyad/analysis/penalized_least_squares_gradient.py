"""Exact gradient of the profiled deviance for several random-effects terms (nested, crossed).

With ``Phi = [Z Lambda, X]`` and ``Omega = Phi' Phi + diag(I_q, 0)`` (the penalized least-squares
matrix without ``y``), the REML criterion is ``log|Omega| + (n - p) log r^2 + const`` and the ML
deviance ``log|Omega_zz| + n log r^2 + const``. Since ``Omega^-1 Phi' Phi = I - Omega^-1
diag(I_q, 0)``, the derivative of ``log|Omega|`` in an element ``theta_t`` of a term's factor
``Lambda_k`` (position (r, c)) needs only the diagonal blocks of ``Omega^-1``::

    d log|Omega| / d theta_t = 2 sum_levels [(I - (Omega^-1)_jj) Lambda_k^-1][c, r]

and by the envelope theorem ``d r^2 / d theta_t = -2 sum_levels s_j[r] u_j[c]`` with
``s = Z_k' (y - X beta - Z b)`` and ``u`` the spherical modes. The diagonal blocks of ``Omega^-1``
come from the same two-stage elimination as the deviance (the primary term by per-level blocks,
the others through the dense Schur complement), using the sparsity of the primary term's
cross-products with the others, so a gradient costs about one more deviance evaluation instead
of one per parameter. The formula needs ``Lambda_k`` invertible. A single random effect per level
(``q_k = 1``) estimated at zero has derivative zero (the deviance depends on ``theta^2``); for a
larger term with a zero diagonal element the caller falls back to finite differences.

Reference: the derivative of a log-determinant, ``d log|Omega| = tr(Omega^-1 d Omega)``, applied to
lme4's formulation (Bates et al. 2015, eq. 34 and 41).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from classdyad.analysis.penalized_least_squares import PenalizedLeastSquares

__all__ = ["multi_term_deviance_and_gradient"]

_MIN_DIAGONAL = 1e-6


def multi_term_deviance_and_gradient(
    pls: PenalizedLeastSquares, theta: np.ndarray, *, reml: bool
) -> tuple[float, np.ndarray] | None:
    """Profiled deviance and exact gradient, or ``None`` when a diagonal of Lambda is ~0."""
    theta = np.asarray(theta, dtype=float)
    at_zero = []
    for k, term in enumerate(pls.design.random_terms):
        diagonal = np.diag(pls.lambda_factor(theta, k))
        if np.any(np.abs(diagonal) < _MIN_DIAGONAL):
            if term.n_effects > 1:
                return None
            at_zero.append(k)
    try:
        blocks = pls._primary_blocks(theta)
        ev = pls._solve_blocks(theta, blocks, modes=True)
    except np.linalg.LinAlgError:
        return np.inf, np.full(theta.size, np.nan)
    p, q1, j1, qr = pls.p, pls.q1, pls.j1, pls.q_rest
    terms = pls.design.random_terms
    inv_b = blocks[1] if q1 > 1 else (1.0 / blocks[1])[:, None, None]
    lam1 = pls.lambda_factor(theta, pls.primary)
    d = pls.rest_scaling(theta)
    scale = (lambda m: d[:, None] * m) if isinstance(d, np.ndarray) else (lambda m: d @ m)
    total = pls.total
    # ---- residual cross-products s_k = Z_k' (y - X beta - Z b)
    b1 = ev.u_primary @ lam1.T
    b_rest = scale(ev.u_rest[:, None])[:, 0]
    w_x, w_y = pls.cross_xy[..., :p], pls.cross_xy[..., p]
    s1 = (w_y - w_x @ ev.beta - (pls.gram @ b1[..., None])[..., 0]
          - (pls.w_rest @ b_rest).reshape(j1, q1))
    s_rest = (total[:qr, qr + p] - total[:qr, qr : qr + p] @ ev.beta - total[:qr, :qr] @ b_rest
              - pls.w_rest_t @ b1.ravel())
    # ---- diagonal blocks of Omega^-1 from the Schur complement's Cholesky factor
    size = qr + p if reml else qr
    factor_inv = scipy.linalg.solve_triangular(
        ev.factor[:size, :size], np.eye(size), lower=True, check_finite=False
    )
    s_inv = factor_inv.T @ factor_inv
    rest_inv = s_inv[:qr, :qr]
    scaled_rr = scale(scale(rest_inv).T).T  # D S^-1 D'
    h = (pls.pattern_t @ scaled_rr.ravel()).reshape(j1, q1, q1)
    if reml:
        y_mat = (pls.w_rest @ scale(s_inv[:qr, qr:])).reshape(j1, q1, p)
        cross = y_mat @ np.transpose(w_x, (0, 2, 1))
        h = h + cross + np.transpose(cross, (0, 2, 1))
        h = h + (w_x @ s_inv[qr:, qr:]) @ np.transpose(w_x, (0, 2, 1))
    left = inv_b @ lam1.T  # B^-1 Lambda'
    primary_inv = inv_b + left @ h @ np.transpose(left, (0, 2, 1))
    grad = np.zeros(theta.size)
    dof = pls.n - pls.p if reml else pls.n
    offset = 0
    for k, term in enumerate(terms):
        q = term.n_effects
        lam = pls.lambda_factor(theta, k)
        rows, cols = pls.triangles[k]
        width = term.n_levels * q
        if k == pls.primary:
            inv_sum, s_k, u_k = primary_inv.sum(axis=0), s1, ev.u_primary
        else:
            idx = offset + np.arange(term.n_levels)[:, None] * q + np.arange(q)[None, :]
            inv_sum = rest_inv[idx[:, :, None], idx[:, None, :]].sum(axis=0)
            s_k = s_rest[offset : offset + width].reshape(term.n_levels, q)
            u_k = ev.u_rest[offset : offset + width].reshape(term.n_levels, q)
            offset += width
        if k in at_zero:
            # a random intercept (or single slope) with theta ~ 0: the deviance depends on
            # theta^2, so its derivative is zero there
            grad[pls.theta_slices[k]] = 0.0
            continue
        m = (term.n_levels * np.eye(q) - inv_sum) @ np.linalg.inv(lam)
        grad_pwrss = -2.0 * (s_k.T @ u_k)[rows, cols]
        grad[pls.theta_slices[k]] = 2.0 * m[cols, rows] + dof * grad_pwrss / ev.pwrss
    return pls.deviance_from(ev, reml=reml), grad
