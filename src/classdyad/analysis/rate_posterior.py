"""Posterior intervals of students' rates that carry the uncertainty of the class's parameters.

The conditional modes of a Poisson GLMM (:func:`classdyad.mixed.glmm`) treat the class's typical
rate ``exp(b0)`` and the between-student standard deviation ``sigma`` as known. With the 10-30
students of one class and a few hours each, ``sigma`` is poorly determined (often estimated at
zero), and intervals that ignore this cover the true rates far less often than they claim (about
80 % for nominal 95 % in the replica's design). :func:`rate_posterior` integrates over both.

Model: ``y_s ~ Poisson(t_s exp(eta_s))``, ``eta_s = b0 + b_s``, ``b_s ~ N(0, sigma^2)``, a flat
prior on ``b0`` and a half-normal prior on ``sigma`` (scale ``sigma_scale``, 1 on the log-rate
scale by default: weakly informative, Gelman 2006). The posterior is computed by quadrature:
on a grid of ``(b0, sigma)`` the marginal likelihood of each student is an integral over
``eta_s`` on a fine grid (the data's range of log rates widened by 3 on each side; ``sigma`` on a
grid dense near zero, ``b0`` on a grid of +-6 approximate posterior SDs for each ``sigma``); the
posterior of each ``eta_s`` is the mixture of its conditional
posteriors weighted by the grid posterior of ``(b0, sigma)``. This is exact up to the grids'
resolution (no Laplace approximation), so the intervals are equal-tailed posterior intervals and
``prob_above`` is ``P(eta_s > b0 | y)``, the posterior probability that the student's rate is
above the class's typical rate. The grids' resolution moves interval ends by less than 2 % and
probabilities by less than 0.005 against a 4-fold finer grid (``tests/analysis``).

References
----------
Gelman, A. (2006). Prior distributions for variance parameters in hierarchical models. *Bayesian
Analysis*, 1(3), 515-534.
Kass, R. E. & Steffey, D. (1989). Approximate Bayesian inference in conditionally independent
hierarchical models. *JASA*, 84(407), 717-726.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, logsumexp, ndtr

__all__ = ["rate_posterior"]

_ETA_POINTS = 251
_B0_POINTS = 19
_SIGMA_POINTS = 22


def rate_posterior(counts: np.ndarray, hours: np.ndarray, *, level: float = 0.95,
                   sigma_scale: float = 1.0) -> dict[str, np.ndarray]:
    """Posterior of each student's log rate, integrating over the class's ``b0`` and ``sigma``.

    Parameters
    ----------
    counts, hours
        Per student: the count and the hours present (> 0).
    level
        Level of the equal-tailed intervals.
    sigma_scale
        Scale of the half-normal prior on the between-student standard deviation (log scale).

    Returns
    -------
    dict
        ``ci_low, ci_high`` (the rate per hour), ``prob_above`` (``P(eta_s > b0)``),
        ``log_rate_mean, log_rate_sd`` (posterior mean and SD of ``eta_s``), per student.
    """
    y = np.asarray(counts, dtype=float)
    t = np.asarray(hours, dtype=float)
    n = y.size
    raw = np.log((y + 0.5) / t)
    eta = np.linspace(raw.min() - 3.0, raw.max() + 3.0, _ETA_POINTS)
    step = eta[1] - eta[0]
    # sigma = top * u^2 on a midpoint grid of u: dense near zero, where sigma often lies
    top = 3.5 * sigma_scale
    u = (np.arange(_SIGMA_POINTS) + 0.5) / _SIGMA_POINTS
    sigma_grid = top * u**2
    log_sigma_step = np.log(2.0 * top * u / _SIGMA_POINTS)
    # log Poisson likelihood of each student at each eta: (n, G)
    loglik = (y[:, None] * (np.log(t)[:, None] + eta[None, :]) - t[:, None] * np.exp(eta)[None, :]
              - gammaln(y + 1.0)[:, None])
    offsets = np.linspace(-6.0, 6.0, _B0_POINTS)

    def b0_grid(sigma: float) -> np.ndarray:
        """Grid of b0 for this sigma: +-6 approximate posterior SDs around its centre."""
        precision = 1.0 / (1.0 / (y + 0.5) + sigma**2)
        centre = np.sum(precision * raw) / precision.sum()
        return centre + offsets / np.sqrt(precision.sum())

    edges = np.concatenate([eta - step / 2.0, [eta[-1] + step / 2.0]])

    def conditional(sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For one sigma: the b0 grid, and p(y_s, eta in cell | b0, sigma) (B, n, G) as
        ``exp(shift) * scaled``, with ``total`` its sum over the cells (scaled likewise).

        The normal prior's mass in each cell of the eta grid is exact (normal CDF differences),
        so that a small sigma (a prior narrower than the grid) keeps its whole mass."""
        b0 = b0_grid(sigma)
        cumulative = ndtr((edges[None, :] - b0[:, None]) / sigma)
        with np.errstate(divide="ignore"):
            prior = np.log(np.diff(cumulative, axis=1))  # (B, G)
        joint = loglik[None, :, :] + prior[:, None, :]
        shift = joint.max(axis=2)
        scaled = np.exp(joint - shift[:, :, None])
        return b0, scaled, scaled.sum(axis=2), shift

    log_weight = np.empty((_B0_POINTS, _SIGMA_POINTS))
    parts = []
    for k, sigma in enumerate(sigma_grid):
        b0, scaled, total, shift = conditional(sigma)
        marginal = np.log(total) + shift  # log p(y_s | b0, sigma), (B, n)
        log_weight[:, k] = (marginal.sum(axis=1) - 0.5 * (sigma / sigma_scale) ** 2
                            + log_sigma_step[k] + np.log(b0[1] - b0[0]))
        parts.append((b0, scaled, total))
    weight = np.exp(log_weight - logsumexp(log_weight))  # (B, K)
    density = np.zeros((n, _ETA_POINTS))
    above = np.zeros(n)
    for k, (b0, scaled, total) in enumerate(parts):
        if weight[:, k].max() < 1e-9:
            continue
        posterior = scaled * (weight[:, k, None, None] / total[:, :, None])  # (B, n, G)
        density += posterior.sum(axis=0)
        # the share of each cell above b0 (linear within the cell)
        above_mask = np.clip((edges[None, 1:] - b0[:, None]) / step, 0.0, 1.0)
        above += np.einsum("bsg,bg->s", posterior, above_mask)
    density /= density.sum(axis=1, keepdims=True)
    cdf = np.cumsum(density, axis=1)
    alpha = (1.0 - level) / 2.0
    # the cumulative mass at each cell's upper edge, interpolated linearly within cells
    upper = edges[1:]
    low = np.array([np.interp(alpha, cdf[s], upper) for s in range(n)])
    high = np.array([np.interp(1.0 - alpha, cdf[s], upper) for s in range(n)])
    mean = density @ eta
    sd = np.sqrt(np.maximum(density @ eta**2 - mean**2, 0.0))
    return {"ci_low": np.exp(low), "ci_high": np.exp(high), "prob_above": above,
            "log_rate_mean": mean, "log_rate_sd": sd}
