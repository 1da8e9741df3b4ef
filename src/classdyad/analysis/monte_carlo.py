"""Monte Carlo confidence intervals for functions of regression coefficients.

The Monte Carlo method (Preacher & Selig 2012; MacKinnon, Lockwood & Williams 2004) draws the
coefficients of each fitted model from their estimated sampling distribution, a multivariate
normal with the estimates as mean and the estimated covariance matrix of the fixed effects, jointly
within each model and independently across models; the function of interest (an indirect effect
``a * b``, an index of moderated mediation ``a3 * b``, ...) is computed for every draw, and the
``alpha / 2`` and ``1 - alpha / 2`` quantiles of those values bound the interval. The interval is
asymmetric where the sampling distribution of the product is skewed, which the normal-theory
(Sobel) interval ignores.

The Monte Carlo p-value reported next to such an interval is the smallest ``alpha`` at which the
percentile interval excludes zero, ``(2 min(#{draws <= 0}, #{draws >= 0}) + 1) / (n + 1)``
(the +1 keeps it above zero, as for any Monte Carlo p-value).

References
----------
Preacher, K. J. & Selig, J. P. (2012). Advantages of Monte Carlo confidence intervals for indirect
effects. *Communication Methods and Measures*, 6(2), 77-98. doi:10.1080/19312458.2012.679848

MacKinnon, D. P., Lockwood, C. M. & Williams, J. (2004). Confidence limits for the indirect
effect: distribution of the product and resampling methods. *Multivariate Behavioral Research*,
39(1), 99-128.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from classdyad.analysis.path_models import PathFit

__all__ = [
    "draw_coefficients",
    "draw_parallel_coefficients",
    "interval_from_draws",
    "monte_carlo_p_value",
    "parallel_covariance",
]


def _symmetric_root(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def _covariance_of(fit: PathFit, terms: list[str]) -> np.ndarray:
    """``fit.covariance.loc[terms, terms]`` as an array (by position: pandas' label lookup
    costs more than the draws of a small model)."""
    covariance = fit.covariance
    rows = covariance.index.get_indexer(terms)
    columns = covariance.columns.get_indexer(terms)
    if (rows < 0).any() or (columns < 0).any() or covariance.index.has_duplicates:
        return covariance.loc[terms, terms].to_numpy(dtype=float)  # pandas' own error
    return covariance.to_numpy(dtype=float)[np.ix_(rows, columns)]


def _estimates_of(fit: PathFit, terms: list[str]) -> np.ndarray:
    """``fit.estimates.loc[terms]`` as an array (by position, as :func:`_covariance_of`)."""
    positions = fit.estimates.index.get_indexer(terms)
    if (positions < 0).any() or fit.estimates.index.has_duplicates:
        return fit.estimates.loc[terms].to_numpy(dtype=float)
    return fit.estimates.to_numpy(dtype=float)[positions]


def parallel_covariance(fits: Sequence[PathFit], terms: Sequence[str]) -> np.ndarray:
    """Joint covariance of ``terms`` of several regressions on the same rows and predictors.

    Regressions of several responses (the mediators) on the same predictors have correlated
    estimates: for least squares ``cov(beta_k, beta_l) = s_kl (X'X)^-1``, i.e.
    ``r_kl V_k^(1/2) V_l^(1/2)`` with ``r_kl`` the correlation of the two models' residuals and
    ``V^(1/2)`` the symmetric square root of a model's covariance matrix (exact for least squares;
    for mixed models with the conditional residuals, an approximation). Rows and columns: the
    terms of the first model, then of the second, ...
    """
    terms = list(terms)
    k, q = len(fits), len(terms)
    roots = [_symmetric_root(_covariance_of(f, terms)) for f in fits]
    residuals = [f.residuals for f in fits]
    joint = np.zeros((k * q, k * q))
    for i in range(k):
        for j in range(k):
            if i == j:
                r = 1.0
            elif residuals[i].size == residuals[j].size and residuals[i].size > 2:
                r = float(np.corrcoef(residuals[i], residuals[j])[0, 1])
            else:
                r = 0.0
            joint[i * q:(i + 1) * q, j * q:(j + 1) * q] = r * roots[i] @ roots[j]
    return joint


def draw_parallel_coefficients(
    fits: Sequence[PathFit], terms: Sequence[str], n_draws: int, rng: np.random.Generator
) -> list[dict[str, np.ndarray]]:
    """Draw ``terms`` of several regressions on the same rows and predictors jointly.

    The joint normal has the cross-covariance of :func:`parallel_covariance`; a single
    regression reduces to :func:`draw_coefficients`.
    """
    terms = list(terms)
    k, q = len(fits), len(terms)
    joint = parallel_covariance(fits, terms)
    mean = np.concatenate([_estimates_of(f, terms) for f in fits])
    draws = mean + rng.standard_normal((n_draws, k * q)) @ _symmetric_root(joint).T
    return [{t: draws[:, i * q + n] for n, t in enumerate(terms)} for i in range(k)]


def draw_coefficients(
    fit: PathFit, terms: Sequence[str], n_draws: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Draw ``terms`` of one model jointly from ``N(estimate, covariance)``.

    Returns ``{term: array of n_draws}``.
    """
    terms = list(terms)
    mean = _estimates_of(fit, terms)
    covariance = _covariance_of(fit, terms)
    values, vectors = np.linalg.eigh((covariance + covariance.T) / 2.0)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    standard = rng.standard_normal((n_draws, len(terms)))
    draws = mean + standard @ root.T
    return {term: draws[:, i] for i, term in enumerate(terms)}


def interval_from_draws(draws: np.ndarray, confidence: float) -> tuple[float, float]:
    """Percentile interval of ``draws`` (missing values ignored)."""
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        return float("nan"), float("nan")
    alpha = 1.0 - confidence
    low, high = np.quantile(finite, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(low), float(high)


def monte_carlo_p_value(draws: np.ndarray) -> float:
    """Two-sided p-value: the smallest level at which the percentile interval excludes zero."""
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        return float("nan")
    below = int(np.count_nonzero(finite <= 0.0))
    above = int(np.count_nonzero(finite >= 0.0))
    return float(min(1.0, (2 * min(below, above) + 1) / (finite.size + 1)))
