"""The Monte Carlo draws of the H3 mediation steps, into arrays kept across steps.

A power analysis takes, per H3 step, the plan's 2 x 20,000 joint draws of the a paths and
20,000 x 6 draws of the outcome model
(:func:`classdyad.analysis.monte_carlo.draw_parallel_coefficients` and
:func:`~classdyad.analysis.monte_carlo.draw_coefficients`), a dozen times per replicate.
:class:`MediationDraws` computes the very same numbers - the same calls on the generator, the
same symmetric roots, the same matrix products and sums - into arrays allocated once and reused
by every step, which spares the allocation of about 2 MB per step (fresh pages cost as much as
the arithmetic). ``tests/simulate/test_power_draws.py`` checks that the draws and the summaries
equal those of :mod:`classdyad.analysis.monte_carlo` bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["MediationDraws", "symmetric_root"]


def symmetric_root(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a covariance matrix (negative eigenvalues set to zero), as
    :func:`classdyad.analysis.monte_carlo.parallel_covariance` takes it."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def _correlation(first: np.ndarray, second: np.ndarray) -> float:
    """The residual correlation :func:`~classdyad.analysis.monte_carlo.parallel_covariance`
    uses (``numpy.corrcoef``; zero where the residuals are not on the same rows)."""
    if first.size == second.size and first.size > 2:
        return float(np.corrcoef(first, second)[0, 1])
    return 0.0


class MediationDraws:
    """Draws of the coefficients of parallel a-path models and of an outcome model.

    Parameters
    ----------
    n_draws
        Draws per coefficient (the plan's ``n_draws``).
    """

    def __init__(self, n_draws: int) -> None:
        self.n_draws = n_draws
        self._buffers: dict[tuple[str, int], np.ndarray] = {}
        self._flags = np.empty(n_draws, dtype=bool)

    def _buffer(self, name: str, width: int) -> np.ndarray:
        key = (name, width)
        if key not in self._buffers:
            self._buffers[key] = np.empty((self.n_draws, width))
        return self._buffers[key]

    def _draw(self, mean: np.ndarray, root: np.ndarray, rng: np.random.Generator,
              name: str) -> np.ndarray:
        """``mean + rng.standard_normal((n_draws, m)) @ root.T`` into kept arrays."""
        width = mean.size
        standard = rng.standard_normal((self.n_draws, width), out=self._buffer("standard",
                                                                                width))
        draws = np.matmul(standard, root.T, out=self._buffer(name, width))
        return np.add(mean, draws, out=draws)

    def parallel(self, means: Sequence[np.ndarray], covariances: Sequence[np.ndarray],
                 residuals: Sequence[np.ndarray], rng: np.random.Generator) -> np.ndarray:
        """Joint draws of the same terms of several models on the same rows: columns are the
        first model's terms, then the second's, ... (as
        :func:`~classdyad.analysis.monte_carlo.draw_parallel_coefficients`).

        ``means[i]`` and ``covariances[i]`` are model ``i``'s estimates and covariance of the
        terms; ``residuals[i]`` its residuals (their correlation links the models).
        """
        k, q = len(means), means[0].size
        roots = [symmetric_root(c) for c in covariances]
        joint = np.zeros((k * q, k * q))
        for i in range(k):
            for j in range(k):
                r = 1.0 if i == j else _correlation(residuals[i], residuals[j])
                joint[i * q:(i + 1) * q, j * q:(j + 1) * q] = r * roots[i] @ roots[j]
        return self._draw(np.concatenate(means), symmetric_root(joint), rng, "parallel")

    def single(self, mean: np.ndarray, covariance: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
        """Joint draws of terms of one model (as
        :func:`~classdyad.analysis.monte_carlo.draw_coefficients`): one column per term."""
        values, vectors = np.linalg.eigh((covariance + covariance.T) / 2.0)
        root = vectors * np.sqrt(np.clip(values, 0.0, None))
        return self._draw(mean, root, rng, "single")

    def product(self, first: np.ndarray, second: np.ndarray, name: str) -> np.ndarray:
        """``first * second`` into a kept array (valid until the next call with ``name``)."""
        return np.multiply(first, second, out=self._buffer(name, 1)[:, 0])

    def add(self, first: np.ndarray, second: np.ndarray, name: str) -> np.ndarray:
        """``first + second`` into a kept array (valid until the next call with ``name``)."""
        return np.add(first, second, out=self._buffer(name, 1)[:, 0])

    def summary(self, draws: np.ndarray) -> tuple[float, float]:
        """``numpy.std(draws, ddof=1)`` and
        :func:`~classdyad.analysis.monte_carlo.monte_carlo_p_value` of ``draws``."""
        finite = np.isfinite(draws)
        if not finite.all():
            kept = draws[finite]
            spread = float(np.std(draws, ddof=1))
            if kept.size == 0:
                return spread, float("nan")
        else:
            kept = draws
            spread = float(np.std(draws, ddof=1))
        flags = self._flags[:kept.size]
        below = int(np.count_nonzero(np.less_equal(kept, 0.0, out=flags)))
        above = int(np.count_nonzero(np.greater_equal(kept, 0.0, out=flags)))
        return spread, float(min(1.0, (2 * min(below, above) + 1) / (kept.size + 1)))
