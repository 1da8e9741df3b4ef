"""Exact gradients of the profiled deviance in theta, for one or several random-effects terms.

One term: :func:`single_term_deviance_and_gradient` (its docstring has the formulas). Several
terms (nested, crossed): :func:`multi_term_deviance_and_gradient`, as follows.

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
of one per parameter (in nested designs the Schur complement's inverse comes from the second,
diagonal elimination of :mod:`~classdyad.mixed._nested_elimination`). The formula needs
``Lambda_k`` invertible. A single random effect per level (``q_k = 1``) estimated at zero has
derivative zero (the deviance depends on ``theta^2``); for a larger term with a zero diagonal
element the caller falls back to finite differences.

Reference: the derivative of a log-determinant, ``d log|Omega| = tr(Omega^-1 d Omega)``, applied to
lme4's formulation (Bates et al. 2015, eq. 34 and 41).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg
from scipy.linalg import lapack

if TYPE_CHECKING:  # the solver imports this module: no import at run time
    from classdyad.mixed._penalized_least_squares import Evaluation, PenalizedLeastSquares

__all__ = [
    "lower_triangular_inverse",
    "multi_term_deviance_and_gradient",
    "single_term_deviance_and_gradient",
]

_MIN_DIAGONAL = 1e-6


def lower_triangular_inverse(lower: np.ndarray) -> np.ndarray:
    """Inverse of a lower-triangular matrix by LAPACK's dtrtri (scipy's ``solve_triangular``
    with an identity right-hand side costs several times more for the small sizes here)."""
    inverse, info = lapack.dtrtri(lower, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError("a triangular factor is singular")
    return inverse


def multi_term_deviance_and_gradient(
    pls: PenalizedLeastSquares, theta: np.ndarray, *, reml: bool
) -> tuple[float, np.ndarray] | None:
    """Profiled deviance and exact gradient, or ``None`` when a diagonal of Lambda is ~0."""
    theta = np.asarray(theta, dtype=float)
    terms = pls.design.random_terms
    near_zero = (pls.lower == 0.0) & (np.abs(theta) < _MIN_DIAGONAL)
    at_zero = []
    if near_zero.any():
        for k, term in enumerate(terms):
            if near_zero[pls.theta_slices[k]].any():
                if term.n_effects > 1:
                    return None
                at_zero.append(k)
    d = pls.rest_scaling(theta)
    try:
        blocks = pls._primary_blocks(theta)
        if pls.nested is None:
            ev = pls._solve_blocks(theta, blocks, modes=True)
            size = pls.q_rest + pls.p if reml else pls.q_rest
            factor_inv = lower_triangular_inverse(ev.factor[:size, :size])
            s_inv = factor_inv.T @ factor_inv
        else:
            ev, s_inv = _nested_solve(pls, theta, blocks, d, reml)
    except np.linalg.LinAlgError:
        return np.inf, np.full(theta.size, np.nan)
    p, q1, j1, qr = pls.p, pls.q1, pls.j1, pls.q_rest
    lam1 = pls.lambda_factor(theta, pls.primary)
    scale = (lambda m: d[:, None] * m) if isinstance(d, np.ndarray) else (lambda m: d @ m)
    total = pls.total
    # ---- residual cross-products s_k = Z_k' (y - X beta - Z b)
    b1 = ev.u_primary @ lam1.T
    b_rest = scale(ev.u_rest[:, None])[:, 0]
    gram_b1 = pls.gram[:, :, 0] * b1 if q1 == 1 else (pls.gram @ b1[..., None])[..., 0]
    s1 = (pls.cross_xy[..., p] - (pls.cross_x @ ev.beta).reshape(j1, q1) - gram_b1
          - (pls.w_rest @ b_rest).reshape(j1, q1))
    s_rest = (total[:qr, qr + p] - total[:qr, qr : qr + p] @ ev.beta - total[:qr, :qr] @ b_rest
              - pls.w_rest_t @ b1.ravel())
    # ---- diagonal blocks of Omega^-1 from the Schur complement's inverse
    rest_inv = s_inv[:qr, :qr]
    scaled_rr = scale(scale(rest_inv).T).T  # D S^-1 D'
    h_flat = pls.pattern_t @ scaled_rr.ravel()  # (J1 q1 q1,): sum over pairs of W_j' (.) W_j
    if q1 == 1:
        # one effect per primary level: the per-level q1 x q1 products are row-wise dot products
        primary_inv_sum = _scalar_primary_inverse_sum(
            pls, h_flat, s_inv, scale, reml, blocks[1], lam1[0, 0]
        )
    else:
        primary_inv_sum = _primary_inverse_sum(pls, h_flat, s_inv, scale, reml, blocks[1], lam1)
    grad = np.zeros(theta.size)
    dof = pls.n - pls.p if reml else pls.n
    offset = 0
    for k, term in enumerate(terms):
        q = term.n_effects
        rows, cols = pls.triangles[k]
        width = term.n_levels * q
        if k == pls.primary:
            inv_sum, s_k, u_k = primary_inv_sum, s1, ev.u_primary
        else:
            s_k = s_rest[offset : offset + width].reshape(term.n_levels, q)
            u_k = ev.u_rest[offset : offset + width].reshape(term.n_levels, q)
            if q == 1:
                inv_sum = np.trace(rest_inv[offset : offset + width, offset : offset + width])
                inv_sum = np.array([[inv_sum]])
            else:
                idx = offset + np.arange(term.n_levels)[:, None] * q + np.arange(q)[None, :]
                inv_sum = rest_inv[idx[:, :, None], idx[:, None, :]].sum(axis=0)
            offset += width
        if k in at_zero:
            # a random intercept (or single slope) with theta ~ 0: the deviance depends on
            # theta^2, so its derivative is zero there
            grad[pls.theta_slices[k]] = 0.0
            continue
        lam = pls.lambda_factor(theta, k)
        if q == 1:
            m = (term.n_levels - inv_sum) / lam[0, 0]
        else:
            m = (term.n_levels * np.eye(q) - inv_sum) @ np.linalg.inv(lam)
        grad_pwrss = -2.0 * (s_k.T @ u_k)[rows, cols]
        grad[pls.theta_slices[k]] = 2.0 * m[cols, rows] + dof * grad_pwrss / ev.pwrss
    return pls.deviance_from(ev, reml=reml), grad


def _nested_solve(pls, theta, blocks, d, reml) -> tuple[Evaluation, np.ndarray]:
    """The modes and the Schur complement's inverse by the two-stage elimination of
    :mod:`~classdyad.mixed._nested_elimination` (no Cholesky factor of the full block)."""
    from classdyad.mixed._penalized_least_squares import Evaluation

    log_det_primary, inv_b, c, cw_xy = blocks
    qr = pls.q_rest
    xy_block = pls.total[qr:, qr:] - pls.cross_flat.T @ cw_xy
    log_det_rest, factor, solution, s_inv = pls.nested.modes_and_inverse(
        d, c, cw_xy, xy_block, reml=reml
    )
    log_det_rx, pwrss, rx = pls.nested.fixed_part(factor)
    beta, u_rest = solution[qr:], solution[:qr]
    u_primary = pls._primary_modes(theta, d, beta, u_rest, inv_b)
    ev = Evaluation(theta, log_det_primary + log_det_rest, log_det_rx, pwrss, beta, rx, u_primary,
                    u_rest, factor)
    return ev, s_inv


def _primary_inverse_sum(pls, h_flat, s_inv, scale, reml, inv_b, lam1) -> np.ndarray:
    """``sum_j (Omega^-1)_jj`` over the primary term's levels (q1 x q1), any q1.

    ``(Omega^-1)_jj = B_j^-1 + B_j^-1 Lambda' H_j Lambda B_j^-1`` with ``H_j = W_j' S^-1 W_j``
    (``W_j`` the level's cross-products with the other terms and, for REML, with X).
    """
    p, q1, j1, qr = pls.p, pls.q1, pls.j1, pls.q_rest
    w_x = pls.cross_xy[..., :p]
    h = h_flat.reshape(j1, q1, q1)
    if reml:
        y_mat = (pls.w_rest @ scale(s_inv[:qr, qr:])).reshape(j1, q1, p)
        cross = y_mat @ np.transpose(w_x, (0, 2, 1))
        h = h + cross + np.transpose(cross, (0, 2, 1))
        h = h + (w_x @ s_inv[qr:, qr:]) @ np.transpose(w_x, (0, 2, 1))
    left = inv_b @ lam1.T  # B^-1 Lambda'
    return (inv_b + left @ h @ np.transpose(left, (0, 2, 1))).sum(axis=0)


def _scalar_primary_inverse_sum(pls, h_flat, s_inv, scale, reml, b, lam) -> np.ndarray:
    """:func:`_primary_inverse_sum` for q1 = 1, on vectors over the levels (``b`` = B_j)."""
    qr = pls.q_rest
    h = h_flat
    if reml:
        w_x = pls.cross_x  # (J1, p)
        y_mat = pls.w_rest @ scale(s_inv[:qr, qr:])  # (J1, p)
        h = h + np.einsum("jp,jp->j", 2.0 * y_mat + w_x @ s_inv[qr:, qr:], w_x)
    inv_b = 1.0 / b
    return np.array([[np.sum(inv_b + (inv_b * lam) ** 2 * h)]])


def single_term_deviance_and_gradient(
    pls: PenalizedLeastSquares, theta: np.ndarray, *, reml: bool
) -> tuple[float, np.ndarray]:
    """Profiled deviance and its exact gradient in theta, for a single random-effects term.

    With ``B_j = Lambda' G_j Lambda + I`` (``G_j = Z_j' Z_j``), ``E_t`` the derivative of
    ``Lambda`` in ``theta_t`` (a one at (r, c)), spherical modes ``u_j`` and
    ``s_j = Z_j' (y - X beta - Z Lambda u)``::

        d log|L|^2 / d theta_t   = 2 sum_j (B_j^-1 Lambda' G_j)[c, r]
        d r^2 / d theta_t        = -2 sum_j s_j[r] u_j[c]            (envelope theorem)
        d log|R_X|^2 / d theta_t = -2 sum_j ((B_j^-1 Lambda' K_j)[c, r]
                                             - (G_j Lambda N_j)[r, c])

    with ``K_j = Z_j'X (R_X' R_X)^-1 X'Z_j`` and ``N_j = B_j^-1 Lambda' K_j Lambda B_j^-1``.
    Returns ``(inf, nan)`` where the factorisation fails.
    """
    theta = np.asarray(theta, dtype=float)
    try:
        blocks = pls._primary_blocks(theta)
        ev = pls._solve_blocks(theta, blocks, modes=True)
    except np.linalg.LinAlgError:
        return np.inf, np.full(theta.size, np.nan)
    p, q = pls.p, pls.q1
    dof = pls.n - pls.p if reml else pls.n
    if q == 1:
        return pls.deviance_from(ev, reml=reml), _scalar_gradient(pls, theta, ev, reml, dof)
    lam = pls.lambda_factor(theta, pls.primary)
    j1 = pls.j1
    inv_b, gram = blocks[1], pls.gram
    w_x = pls.cross_xy[..., :p]
    u = ev.u_primary
    # X_j = B_j^-1 Lambda' and G_j Lambda, as stacked 2-D products
    x_mat = (inv_b.reshape(-1, q) @ lam.T).reshape(j1, q, q)
    g_lam = (gram.reshape(-1, q) @ lam).reshape(j1, q, q)
    s = pls.cross_xy[..., p] - w_x @ ev.beta - (g_lam @ u[..., None])[..., 0]
    rows, cols = pls.triangles[pls.primary]
    a1 = _summed_products(x_mat, gram)
    grad = 2.0 * a1[cols, rows] - 2.0 * dof * (s.T @ u)[rows, cols] / ev.pwrss
    if reml:
        rx_inv = lower_triangular_inverse(ev.rx)
        # K_j = v_j v_j' with v_j = Z_j'X R_X^-T, so with T_j = X_j v_j:
        # sum_j B^-1 Lambda' K = sum_j T_j v_j' and sum_j G Lambda N = sum_j (G Lambda T_j) T_j'
        v = (w_x.reshape(-1, p) @ rx_inv.T).reshape(j1, q, p)
        t = x_mat @ v
        a3 = _summed_products(t, np.transpose(v, (0, 2, 1)))
        a4 = _summed_products(g_lam @ t, np.transpose(t, (0, 2, 1)))
        grad -= 2.0 * (a3[cols, rows] - a4[rows, cols])
    return pls.deviance_from(ev, reml=reml), grad


def _summed_products(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``sum_j a_j @ b_j`` over stacked matrices, as one 2-D product (stacked small products
    followed by a sum cost several times more)."""
    levels, rows, inner = a.shape
    return np.transpose(a, (1, 0, 2)).reshape(rows, levels * inner) @ b.reshape(levels * inner, -1)


def _scalar_gradient(
    pls: PenalizedLeastSquares, theta: np.ndarray, ev: Evaluation, reml: bool, dof: int
) -> np.ndarray:
    """:func:`single_term_deviance_and_gradient` for a random intercept (q = 1), on vectors."""
    lam = float(theta[0])
    g = pls.gram[:, 0, 0]
    b = lam * lam * g + 1.0
    u = ev.u_primary[:, 0]
    w_x = pls.cross_xy[:, 0, : pls.p]
    s = pls.cross_xy[:, 0, pls.p] - w_x @ ev.beta - g * lam * u
    grad = 2.0 * np.sum(lam * g / b) - 2.0 * dof * float(s @ u) / ev.pwrss
    if reml:
        rx_inv = scipy.linalg.solve_triangular(ev.rx, w_x.T, lower=True, check_finite=False)
        k = np.sum(rx_inv * rx_inv, axis=0)  # w_x,j (R_X' R_X)^-1 w_x,j'
        grad -= 2.0 * np.sum(lam * k / (b * b))
    return np.array([grad])
