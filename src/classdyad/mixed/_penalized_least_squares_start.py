"""Starting values of theta for the optimiser: moment estimates from the sufficient statistics.

Used by :meth:`~classdyad.mixed._penalized_least_squares.PenalizedLeastSquares.moment_start`.
They only save optimiser iterations: the optimum is the same from any start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the solver imports this module: no import at run time
    from classdyad.mixed._penalized_least_squares import PenalizedLeastSquares

__all__ = ["moment_start", "slope_start"]


def moment_start(pls: PenalizedLeastSquares) -> np.ndarray:
    """Starting theta: lme4's (1 on diagonals, 0 elsewhere), with random intercepts set from
    a one-way analysis of variance of the least-squares residuals per grouping factor.

    For an intercept term with ``J`` levels of sizes ``n_j`` and residual means ``m_j``,
    ``tau^2 = (MS_between - s^2) / n0`` (``n0`` the ANOVA average group size) and
    ``theta = tau / s_w`` (``s_w^2`` the least-squares variance, less ``tau^2`` when there is
    a single grouping factor, or the within-level variance of :func:`slope_start` when the
    primary term has several effects), kept within [0.1, 10]. A primary term with several
    effects starts from :func:`slope_start`.
    """
    theta = pls.theta_start.copy()
    p, qr = pls.p, pls.q_rest
    xx, xy = pls.total[qr : qr + p, qr : qr + p], pls.total[qr : qr + p, qr + p]
    yy = pls.total[qr + p, qr + p]
    try:
        beta = np.linalg.solve(xx, xy)
    except np.linalg.LinAlgError:
        return theta
    s2 = max((yy - beta @ xy) / max(pls.n - p, 1), 1e-12)
    intercept_variances: dict[int, float] = {}
    within_levels = None  # residual variance within the primary term's levels (slopes)
    offset = 0
    for k, term in enumerate(pls.design.random_terms):
        width = term.n_levels * term.n_effects
        if term.effect_names == ("(Intercept)",):
            if k == pls.primary:
                sizes = pls.gram[:, 0, 0]
                sums = pls.cross_xy[:, 0, p] - pls.cross_xy[:, 0, :p] @ beta
            else:
                block = slice(offset, offset + width)
                sizes = np.diag(pls.total[block, block])
                sums = pls.total[block, qr + p] - pls.total[block, qr : qr + p] @ beta
            total = sizes.sum()
            levels = max(len(sizes) - 1, 1)
            n0 = (total - np.sum(sizes**2) / total) / levels
            ms_between = np.sum(sums**2 / np.maximum(sizes, 1e-12)) / levels
            intercept_variances[k] = max((ms_between - s2) / max(n0, 1e-12), 0.0)
        elif k == pls.primary and term.n_effects > 1:
            start = slope_start(pls, beta, s2)
            if start is not None:
                theta[pls.theta_slices[k]], within_levels = start
        if k != pls.primary:
            offset += width
    # with one grouping factor the residual variance is what its variance leaves of the
    # least-squares one (with several, the one-way estimates overlap: keep s^2)
    within = s2
    if within_levels is not None:
        within = within_levels
    elif len(intercept_variances) == 1:
        within = max(s2 - sum(intercept_variances.values()), 0.2 * s2)
    for k, tau2 in intercept_variances.items():
        theta[pls.theta_slices[k]] = np.clip(np.sqrt(tau2 / within), 0.1, 10.0)
    return theta


def slope_start(
    pls: PenalizedLeastSquares, beta: np.ndarray, s2: float, residual: np.ndarray | None = None
) -> tuple[np.ndarray, float] | None:
    """Starting theta of the primary term from per-level least-squares coefficients, and the
    residual variance within its levels.

    ``b_j = G_j^-1 Z_j' r`` (``r`` the least-squares residuals) has covariance about
    ``Sigma + s_w^2 G_j^-1``, so ``Sigma`` is estimated by the covariance of the ``b_j``
    minus the average ``s_w^2 G_j^-1``, over the levels where ``G_j`` is well conditioned;
    ``s_w^2`` is the residual variance of the per-level fits (``r_j' r_j - b_j' Z_j' r_j``
    summed, over the sum of ``n_j - q``), not the least-squares ``s^2``, which also holds
    the random effects' variance.
    """
    p, q = pls.p, pls.q1
    z_r = pls.cross_xy[..., p] - pls.cross_xy[..., :p] @ beta
    eigenvalues = np.linalg.eigvalsh(pls.gram)  # ascending; condition number < 1e8:
    usable = eigenvalues[:, 0] > 1e-8 * eigenvalues[:, -1]
    if usable.sum() <= 2 * q:
        return None
    gram_inv = np.linalg.inv(pls.gram[usable])
    coefficients = (gram_inv @ z_r[usable][..., None])[..., 0]
    design = pls.design
    codes = design.random_terms[pls.primary].codes
    if residual is None:  # (a solver on transformed columns passes its own)
        residual = design.response - design.offset - design.fixed @ beta
    rss = np.bincount(codes, residual * residual, minlength=pls.j1)[usable]
    rss -= np.einsum("jq,jq->j", coefficients, z_r[usable])
    dof = np.bincount(codes, minlength=pls.j1)[usable].sum() - q * usable.sum()
    within = float(rss.sum() / dof) if dof > 0 and rss.sum() > 0 else s2
    within = min(max(within, 1e-3 * s2), s2)
    sigma = np.cov(coefficients, rowvar=False) - within * gram_inv.mean(axis=0)
    values, vectors = np.linalg.eigh(sigma / within)
    values = np.clip(values, 1e-2, 1e2)
    try:
        lam = np.linalg.cholesky((vectors * values) @ vectors.T)
    except np.linalg.LinAlgError:
        return None
    rows, cols = pls.triangles[pls.primary]
    return lam[rows, cols], within
