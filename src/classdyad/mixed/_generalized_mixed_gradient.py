"""Exact gradient of the Laplace deviance of a random-intercept GLMM with a canonical link.

Why this module: the second stage of the ``glmer`` fit minimises the Laplace deviance over
``(theta, beta)`` by Newton steps. With finite differences of the deviance alone every Newton
step costs ``2 d^2 + 1`` deviance evaluations (``d`` parameters: 200 for the study's interaction
models); with the exact gradient below, a Hessian is ``2 d`` gradients, and the standard errors
come from the same, more accurate, Hessian. No general-purpose library differentiates through
the conditional modes of a sparse GLMM, so the derivative is written out here.

The deviance (notation of :mod:`classdyad.mixed._generalized_mixed_deviance`) is

    D(theta, beta) = -2 sum log p(y | eta) + |u|^2 + log det M,
    eta = offset + X beta + U u,  U = Z Lambda(theta),  M = I + U' W U,

at the conditional mode ``u = u(theta, beta)``, where the score vanishes:
``G = U' s(eta) - u = 0``. For the canonical links (Poisson with log link, binomial with logit
link) the weight ``W`` is minus the derivative of the score ``s``, so ``dG/du = -M`` and the
implicit function theorem gives the modes' derivatives

    du/dbeta   = -M^-1 U' W X,
    du/dtheta_k = M^-1 (E_k Z' s - U' W Z E_k u),

with ``E_k`` the indicator of factor ``k``'s levels on the diagonal. The first two terms of ``D``
are stationary in ``u`` at the mode, so only their explicit derivatives enter
(``-2 X' s`` and ``-2 s' Z E_k u``). The log-determinant changes through ``Lambda``
(``2 tr(M^-1 Lambda Z'WZ E_k) = 2 (q_k - tr(E_k M^-1)) / theta_k``) and through the weights,
``d log det M = sum_i h_i w'_i d eta_i`` with ``h_i = (U M^-1 U')_ii`` the leverage of
observation ``i`` and ``w' = dW/d eta``. Total derivatives of ``eta`` combine the explicit part
with ``U du``. This is the derivative of the Laplace approximation that automatic
differentiation gives in TMB (Kristensen et al. 2016, section 2), written for random
intercepts; Bates et al. (2015) give the deviance.

References
----------
Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models using
lme4. *Journal of Statistical Software*, 67(1), 1-48. doi:10.18637/jss.v067.i01
Kristensen, K., Nielsen, A., Berg, C. W., Skaug, H. & Bell, B. M. (2016). TMB: automatic
differentiation and Laplace approximation. *Journal of Statistical Software*, 70(5), 1-21.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from classdyad.mixed._generalized_mixed_deviance import GlmmProblem, Mode

__all__ = ["has_exact_gradient", "laplace_gradient"]

_SMALL_THETA = 1e-6


def has_exact_gradient(problem: GlmmProblem, n_agq: int) -> bool:
    """True when :func:`laplace_gradient` applies: Laplace, canonical link, no extra parameters."""
    family = problem.family
    return n_agq == 1 and family.name in ("poisson", "binomial") and family.n_parameters == 0


def _weight_slope(problem: GlmmProblem, eta: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``dW/d eta``: ``mu`` for the Poisson log link, ``W (1 - 2 p)`` for the binomial logit."""
    if problem.family.name == "poisson":
        return weights
    return weights * (1.0 - 2.0 * expit(eta))


def _leverages(problem: GlmmProblem, mode: Mode, theta: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """``h_i = (U M^-1 U')_ii`` per observation and the diagonal of ``M^-1``."""
    system = mode.system
    codes = problem.codes
    if not system.q_rest:
        inverse_diagonal = 1.0 / system.d0
        return theta[0] ** 2 * inverse_diagonal[codes[0]], inverse_diagonal
    if system.s_diagonal is not None:
        # a nested pair: S is diagonal and each first-factor level has one entry in B
        inverse_diagonal = system.inverse_diagonal()
        s_inv = 1.0 / system.s_diagonal
        entry = np.empty(system.q0, np.int64)
        entry[problem.b_rows] = np.arange(len(problem.b_rows))
        top, rest = codes[0], codes[1]
        h = (theta[0] ** 2 * inverse_diagonal[top]
             - 2.0 * theta[0] * theta[1] * system.b_scaled[entry[top]] * s_inv[rest]
             + theta[1] ** 2 * s_inv[rest])
        return h, inverse_diagonal
    s_inv = system.rest_inverse()
    inverse_diagonal = system.inverse_diagonal(s_inv)
    top = inverse_diagonal[: system.q0]
    # rows of M^-1 between the eliminated factor and the others: -D^-1 B S^-1
    coupling = sp.csr_matrix((system.b_scaled, (problem.b_rows, problem.b_cols)),
                             shape=(system.q0, system.q_rest)) @ s_inv
    rest_codes = [codes[k] + problem.starts[k] - system.q0 for k in range(1, len(codes))]
    h = theta[0] ** 2 * top[codes[0]]
    for a, code_a in enumerate(rest_codes, start=1):
        h -= 2.0 * theta[0] * theta[a] * coupling[codes[0], code_a]
        for b, code_b in enumerate(rest_codes, start=1):
            h += theta[a] * theta[b] * s_inv[code_a, code_b]
    return h, inverse_diagonal


def laplace_gradient(problem: GlmmProblem, mode: Mode, theta: np.ndarray, *,
                     profile_beta: bool = False) -> np.ndarray:
    """Gradient of the Laplace deviance at a converged mode.

    Parameters
    ----------
    problem
        The GLMM on arrays; :func:`has_exact_gradient` must hold.
    mode
        Conditional modes at ``(theta, mode.beta)`` from :meth:`GlmmProblem.mode`.
    theta
        Standard deviations of the random intercepts (internal factor order).
    profile_beta
        False: the gradient over ``(theta, beta)``. True: ``mode`` is the joint mode of ``u``
        and ``beta`` (``update_beta=True``, lme4's ``nAGQ = 0`` deviance) and the gradient is
        over ``theta`` alone, ``beta`` moving with it: the modes' derivatives solve the joint
        system ``[[M, U'WX], [X'WU, X'WX]]`` (whose Schur complement PIRLS uses) with the
        extra right-hand side ``-X'W Z E_k u``.

    Returns
    -------
    numpy.ndarray
        ``dD/dtheta`` (one per factor), followed by ``dD/dbeta`` unless ``profile_beta``.
    """
    x = problem.x
    u = mode.u
    w = mode.weights
    eta = mode.fixed_eta + problem.random_eta(theta, u)
    _, score, _ = problem.family.derivatives(problem.y, eta, problem.trials, 0.0)
    h, inverse_diagonal = _leverages(problem, mode, theta)
    hw = h * _weight_slope(problem, eta, w)
    k_factors = len(problem.codes)
    # explicit derivatives of eta in theta_k: the factor's modes on its rows
    explicit = np.column_stack([
        u[problem.starts[k] + problem.codes[k]] for k in range(k_factors)
    ])
    zt_score = problem.zt @ score
    rhs_theta = np.zeros((problem.q, k_factors))
    for k in range(k_factors):
        block = slice(problem.starts[k], problem.starts[k + 1])
        rhs_theta[block, k] = zt_score[block]
    rhs_theta -= problem.random_cross(theta, w[:, None] * explicit)
    cross = problem.random_cross(theta, w[:, None] * x)
    solved = mode.system.solve(np.column_stack([rhs_theta, cross]))
    lam = problem.theta_expanded(theta)
    if profile_beta:
        m_rhs, m_cross = solved[:, :k_factors], solved[:, k_factors:]
        xw = x.T * w
        schur = xw @ x - cross.T @ m_cross
        d_beta = np.linalg.solve(schur, -xw @ explicit - cross.T @ m_rhs)
        du = m_rhs - m_cross @ d_beta
        deta = explicit + x @ d_beta + problem.z @ (lam[:, None] * du)
        gradient = -2.0 * (score @ explicit) + hw @ deta
    else:
        solved[:, k_factors:] *= -1.0
        deta = np.column_stack([explicit, x]) + problem.z @ (lam[:, None] * solved)
        gradient = -2.0 * (score @ np.column_stack([explicit, x])) + hw @ deta
    for k in range(k_factors):
        block = slice(problem.starts[k], problem.starts[k + 1])
        if abs(theta[k]) > _SMALL_THETA:
            trace = problem.n_levels[k] - inverse_diagonal[block].sum()
            gradient[k] += 2.0 * trace / theta[k]
        else:
            # the exact form cancels badly here; the term is O(theta_k), as is this stand-in
            # (M^-1 taken as I on the factor's block), and the deviance is flat at 0
            gradient[k] += 2.0 * theta[k] * np.bincount(problem.codes[k], w,
                                                         problem.n_levels[k]).sum()
    return gradient
