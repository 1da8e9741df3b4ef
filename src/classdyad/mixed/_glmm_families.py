"""Response distributions of the generalized linear (mixed) models: Poisson, binomial, NB2, NB1,
and zero-inflated Poisson / NB2 / NB1.

For each family this module gives, per observation and as functions of the linear predictor
``eta``, the conditional log density ``log p(y | eta)`` (the full density, normalising constants
included, so that log-likelihoods equal R's ``logLik``), its first derivative (the score) and the
negative of its second derivative (the weight of penalized iteratively reweighted least squares).

=====================  ==================  ==================  ===============================
family                 log p(y | eta)      d/d eta             -d^2/d eta^2
=====================  ==================  ==================  ===============================
Poisson, log link      y eta - mu          y - mu              mu
binomial (m trials),   y eta - m log(1 +   y - m mu            m mu (1 - mu)
logit link             exp(eta))
NB2 (shape k), log     see below           k (y - mu)/(k+mu)   k mu (k + y) / (k + mu)^2
link
NB1 (dispersion phi),  see below           s D                 -s D - s^2 T
log link
=====================  ==================  ==================  ===============================

(constants ``-log y!`` and ``log C(m, y)`` omitted from the table). The NB2 density is glmmTMB's
``nbinom2`` (Brooks et al. 2017): mean ``mu``, variance ``mu (1 + mu / k)``,
``log p = lgamma(y + k) - lgamma(k) - lgamma(y + 1) + k log(k / (k + mu)) + y log(mu / (k + mu))``.
NB1 is glmmTMB's ``nbinom1``: variance ``mu (1 + phi)``, the NB2 density with the size
``s = mu / phi`` varying with the mean; with ``D = digamma(y + s) - digamma(s) - log(1 + phi)``
and ``T = trigamma(y + s) - trigamma(s)`` its derivatives are those of the table
(Hardin & Hilbe 2007, chapter 9).

Zero inflation (Lambert 1992). With probability ``pi = logistic(G gamma)`` (``G`` the design of
the zero-inflation formula, glmmTMB's ``ziformula``, logit link) the count is a structural zero,
otherwise it follows the count family ``f``:

    p(0) = pi + (1 - pi) f(0 | eta),    p(y) = (1 - pi) f(y | eta)  for y > 0.

For ``y > 0`` the derivatives in ``eta`` are those of ``f``; for ``y = 0``, with
``r = (1 - pi) f(0) / p(0)`` (the probability that the zero came from the count process), the
score is ``r f'`` and the weight ``r w - r (1 - r) f'^2`` (``f'`` and ``w`` the count family's
score and weight at zero).

For the canonical links (Poisson, binomial) the negative second derivative equals the Fisher
weight that lme4's PIRLS uses; for NB2, NB1 and the zero-inflated models it is the observed
information, which is what a Laplace approximation computed by automatic differentiation (glmmTMB,
Kristensen et al. 2016) uses.

Parameters beyond ``eta`` are passed as one packed vector ``parameters``: the NB2 shape ``k`` or
the NB1 dispersion ``phi`` first (for those families), then the zero-inflation coefficients
``gamma`` (for a family built with a zero-inflation design). A plain number is the shape alone.

References
----------
Abramowitz, M. & Stegun, I. A. (1964). *Handbook of Mathematical Functions*, formula 6.1.41.
Brooks, M. E. et al. (2017). glmmTMB balances speed and flexibility among packages for
zero-inflated generalized linear mixed modeling. *The R Journal*, 9(2), 378-400.
Hardin, J. W. & Hilbe, J. M. (2007). *Generalized Linear Models and Extensions* (2nd ed.).
Stata Press.
Kristensen, K. et al. (2016). TMB: automatic differentiation and Laplace approximation.
*Journal of Statistical Software*, 70(5).
Lambert, D. (1992). Zero-inflated Poisson regression, with an application to defects in
manufacturing. *Technometrics*, 34(1), 1-14.
McCullagh, P. & Nelder, J. A. (1989). *Generalized Linear Models* (2nd ed.). Chapman & Hall.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from scipy.special import digamma, expit, gammaln, polygamma

__all__ = ["COUNT_FAMILIES", "FAMILIES", "FamilyName", "GlmmFamily", "get_family"]

FamilyName = Literal["poisson", "negative_binomial", "negative_binomial_1", "binomial"]
FAMILIES: tuple[FamilyName, ...] = (
    "poisson", "negative_binomial", "negative_binomial_1", "binomial"
)
COUNT_FAMILIES: tuple[FamilyName, ...] = ("poisson", "negative_binomial", "negative_binomial_1")


@dataclass(frozen=True, eq=False)
class GlmmFamily:
    """A response distribution with its link, evaluated on arrays.

    ``trials`` is the number of binomial trials per observation (ignored by the count families);
    ``zero_inflation`` is the ``(n, r)`` design of the zero-inflation logit, or ``None``.
    """

    name: FamilyName
    link: str
    zero_inflation: np.ndarray | None = None

    @property
    def has_shape(self) -> bool:
        """True when the family has an estimated dispersion (NB2 shape or NB1 phi)."""
        return self.name in ("negative_binomial", "negative_binomial_1")

    @property
    def n_zero_inflation(self) -> int:
        """Number of zero-inflation coefficients (0 without zero inflation)."""
        return 0 if self.zero_inflation is None else self.zero_inflation.shape[1]

    @property
    def n_parameters(self) -> int:
        """Length of the packed ``parameters`` vector (dispersion, zero-inflation)."""
        return int(self.has_shape) + self.n_zero_inflation

    def count_part(self) -> GlmmFamily:
        """The same family without zero inflation."""
        return replace(self, zero_inflation=None)

    def constant(self, y: np.ndarray, trials: np.ndarray) -> float:
        """Sum of the terms of ``log p`` that depend neither on ``eta`` nor on ``parameters``."""
        if self.name == "binomial":
            return float(np.sum(gammaln(trials + 1) - gammaln(y + 1) - gammaln(trials - y + 1)))
        return float(-np.sum(gammaln(y + 1)))

    def _split(self, parameters: float | np.ndarray) -> tuple[float, np.ndarray | None]:
        packed = np.atleast_1d(np.asarray(parameters, dtype=float))
        shape = float(packed[0]) if self.has_shape else 1.0
        if self.zero_inflation is None:
            return shape, None
        gamma = packed[int(self.has_shape):]
        return shape, self.zero_inflation @ gamma

    def _count_derivatives(
        self, y: np.ndarray, eta: np.ndarray, trials: np.ndarray, shape: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.name == "poisson":
            mu = np.exp(eta)
            return y * eta - mu, y - mu, mu
        if self.name == "binomial":
            log1pexp = np.logaddexp(0.0, eta)
            p = expit(eta)
            return y * eta - trials * log1pexp, y - trials * p, trials * p * (1.0 - p)
        mu = np.exp(eta)
        if self.name == "negative_binomial_1":
            return _nb1_derivatives(y, eta, mu, shape)
        k = shape
        loglik = _nb2_loglik(y, eta, mu, k)
        ratio = k / (k + mu)
        return loglik, ratio * (y - mu), ratio * mu * (k + y) / (k + mu)

    def derivatives(
        self, y: np.ndarray, eta: np.ndarray, trials: np.ndarray, parameters: float | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-observation ``log p`` (without :meth:`constant`), score and weight at ``eta``."""
        shape, zi_eta = self._split(parameters)
        loglik, score, weight = self._count_derivatives(y, eta, trials, shape)
        if zi_eta is None:
            return loglik, score, weight
        log_pi = -np.logaddexp(0.0, -zi_eta)
        log_not_pi = -np.logaddexp(0.0, zi_eta)
        zero = y == 0
        count_zero = log_not_pi + loglik
        total = np.where(zero, np.logaddexp(log_pi, count_zero), count_zero)
        r = np.where(zero, np.exp(count_zero - total), 1.0)
        return total, r * score, r * weight - r * (1.0 - r) * score**2

    def loglik_terms(
        self, y: np.ndarray, eta: np.ndarray, trials: np.ndarray, parameters: float | np.ndarray
    ) -> np.ndarray:
        """Per-observation ``log p`` without :meth:`constant` (cheaper than :meth:`derivatives`).

        ``eta`` may have more dimensions than ``y`` (extra trailing axes broadcast: one column per
        quadrature node).
        """
        shape, zi_eta = self._split(parameters)
        if eta.ndim > y.ndim:
            y = y[:, None]
            trials = trials[:, None]
            zi_eta = None if zi_eta is None else zi_eta[:, None]
        if self.name == "poisson":
            loglik = y * eta - np.exp(eta)
        elif self.name == "binomial":
            loglik = y * eta - trials * np.logaddexp(0.0, eta)
        elif self.name == "negative_binomial":
            loglik = _nb2_loglik(y, eta, np.exp(eta), shape)
        else:
            loglik = _nb1_loglik(y, np.exp(eta), shape)
        if zi_eta is None:
            return loglik
        count = -np.logaddexp(0.0, zi_eta) + loglik
        return np.where(y == 0, np.logaddexp(-np.logaddexp(0.0, -zi_eta), count), count)

    def zero_probability(self, parameters: float | np.ndarray) -> np.ndarray | None:
        """Per-observation probability of a structural zero (``None`` without zero inflation)."""
        _, zi_eta = self._split(parameters)
        return None if zi_eta is None else expit(zi_eta)


def _stirling_tail(x: np.ndarray | float) -> np.ndarray | float:
    """``lgamma(x) - [(x - 1/2) log x - x + log(2 pi)/2]`` for large ``x`` (Stirling series)."""
    inv = 1.0 / x
    inv2 = inv * inv
    return inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 / 1260.0))


def _lgamma_ratio(y: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``lgamma(y + k) - lgamma(k)``, by the Stirling series where ``k`` is large (A&S 6.1.41)."""
    k = np.broadcast_to(k, np.broadcast(y, k).shape)
    large = k >= 100.0
    safe = np.where(large, k, 100.0)
    stirling = ((safe - 0.5) * np.log1p(y / safe) + y * np.log(safe + y) - y
                + _stirling_tail(safe + y) - _stirling_tail(safe))
    small = np.where(large, 1.0, k)
    return np.where(large, stirling, gammaln(y + small) - gammaln(small))


def _nb2_loglik(y: np.ndarray, eta: np.ndarray, mu: np.ndarray, k: float) -> np.ndarray:
    """NB2 ``log p`` without ``-lgamma(y + 1)``, accurate for any shape ``k``.

    For large ``k``, ``lgamma(y + k) - lgamma(k)`` is the difference of two huge numbers; it is
    computed as ``(k - 1/2) log1p(y/k) + y log(k + y) - y`` plus the difference of the Stirling
    series tails (Abramowitz & Stegun 6.1.41), which keeps full precision when the shape runs
    off towards a Poisson model.
    """
    log1p_mu = np.log1p(mu / k)
    if k < 100.0:
        ratio = gammaln(y + k) - gammaln(k)
        return ratio - k * log1p_mu + y * (eta - np.log(k + mu))
    # y log(k + y) + y (eta - log(k + mu)) = y (log1p(y/k) - log1p(mu/k) + eta)
    ratio = (k - 0.5) * np.log1p(y / k) - y + _stirling_tail(k + y) - _stirling_tail(k)
    return ratio - k * log1p_mu + y * (np.log1p(y / k) - log1p_mu + eta)


def _nb1_loglik(y: np.ndarray, mu: np.ndarray, phi: float) -> np.ndarray:
    """NB1 ``log p`` without ``-lgamma(y + 1)``: NB2 with size ``s = mu / phi``."""
    s = mu / phi
    return _lgamma_ratio(y, s) - s * np.log1p(phi) + y * (np.log(phi) - np.log1p(phi))


def _nb1_derivatives(
    y: np.ndarray, eta: np.ndarray, mu: np.ndarray, phi: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = mu / phi
    d = digamma(y + s) - digamma(s) - np.log1p(phi)
    t = polygamma(1, y + s) - polygamma(1, s)
    score = s * d
    return _nb1_loglik(y, mu, phi), score, -score - s * s * t


def get_family(
    name: FamilyName, zero_inflation: np.ndarray | None = None
) -> GlmmFamily:
    """The family called ``name`` with its link (log for counts, logit for binomial).

    ``zero_inflation`` is the design matrix of the zero-inflation logit (count families only).
    """
    design = None if zero_inflation is None else np.asarray(zero_inflation, dtype=float)
    return GlmmFamily(name, "logit" if name == "binomial" else "log", design)
