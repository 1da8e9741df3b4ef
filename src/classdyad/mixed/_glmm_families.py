"""Response distributions of the generalized linear mixed models: Poisson, binomial, NB2.

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
=====================  ==================  ==================  ===============================

(constants ``-log y!`` and ``log C(m, y)`` omitted from the table). The negative-binomial
density is the NB2 parametrisation of glmmTMB's ``nbinom2`` family (Brooks et al. 2017): mean
``mu``, variance ``mu (1 + mu / k)``,
``log p = lgamma(y + k) - lgamma(k) - lgamma(y + 1) + k log(k / (k + mu)) + y log(mu / (k + mu))``.
For the canonical links (Poisson, binomial) the negative second derivative equals the Fisher
weight that lme4's PIRLS uses; for NB2 with the (non-canonical) log link it is the observed
information, which is what a Laplace approximation computed by automatic differentiation (glmmTMB,
Kristensen et al. 2016) uses.

References
----------
Abramowitz, M. & Stegun, I. A. (1964). *Handbook of Mathematical Functions*, formula 6.1.41.
Brooks, M. E. et al. (2017). glmmTMB balances speed and flexibility among packages for
zero-inflated generalized linear mixed modeling. *The R Journal*, 9(2), 378-400.
Kristensen, K. et al. (2016). TMB: automatic differentiation and Laplace approximation.
*Journal of Statistical Software*, 70(5).
McCullagh, P. & Nelder, J. A. (1989). *Generalized Linear Models* (2nd ed.). Chapman & Hall.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import expit, gammaln

__all__ = ["FAMILIES", "FamilyName", "GlmmFamily", "get_family"]

FamilyName = Literal["poisson", "negative_binomial", "binomial"]
FAMILIES: tuple[FamilyName, ...] = ("poisson", "negative_binomial", "binomial")


@dataclass(frozen=True)
class GlmmFamily:
    """A response distribution with its link, evaluated on arrays.

    ``trials`` is the number of binomial trials per observation (ignored by the count families);
    ``shape`` is the NB2 shape parameter ``k`` (ignored by Poisson and binomial).
    """

    name: FamilyName
    link: str

    @property
    def has_shape(self) -> bool:
        """True when the family has an estimated dispersion (shape) parameter."""
        return self.name == "negative_binomial"

    def constant(self, y: np.ndarray, trials: np.ndarray) -> float:
        """Sum of the terms of ``log p`` that do not depend on ``eta`` (nor on the NB2 shape)."""
        if self.name == "binomial":
            return float(np.sum(gammaln(trials + 1) - gammaln(y + 1) - gammaln(trials - y + 1)))
        return float(-np.sum(gammaln(y + 1)))

    def derivatives(
        self, y: np.ndarray, eta: np.ndarray, trials: np.ndarray, shape: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-observation ``log p`` (without :meth:`constant`), score and weight at ``eta``."""
        if self.name == "poisson":
            mu = np.exp(eta)
            return y * eta - mu, y - mu, mu
        if self.name == "binomial":
            log1pexp = np.logaddexp(0.0, eta)
            p = expit(eta)
            return y * eta - trials * log1pexp, y - trials * p, trials * p * (1.0 - p)
        k = shape
        mu = np.exp(eta)
        loglik = _nb2_loglik(y, eta, mu, k)
        ratio = k / (k + mu)
        return loglik, ratio * (y - mu), ratio * mu * (k + y) / (k + mu)

    def loglik_terms(
        self, y: np.ndarray, eta: np.ndarray, trials: np.ndarray, shape: float
    ) -> np.ndarray:
        """Per-observation ``log p`` without :meth:`constant` (cheaper than :meth:`derivatives`).

        ``eta`` may have more dimensions than ``y`` (extra trailing axes broadcast: one column per
        quadrature node).
        """
        if eta.ndim > y.ndim:
            y = y[:, None]
            trials = trials[:, None]
        if self.name == "poisson":
            return y * eta - np.exp(eta)
        if self.name == "binomial":
            return y * eta - trials * np.logaddexp(0.0, eta)
        return _nb2_loglik(y, eta, np.exp(eta), shape)


def _stirling_tail(x: np.ndarray | float) -> np.ndarray | float:
    """``lgamma(x) - [(x - 1/2) log x - x + log(2 pi)/2]`` for large ``x`` (Stirling series)."""
    inv = 1.0 / x
    inv2 = inv * inv
    return inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 / 1260.0))


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


def get_family(name: FamilyName) -> GlmmFamily:
    """The family called ``name`` with its link (log for counts, logit for binomial)."""
    return GlmmFamily(name, "logit" if name == "binomial" else "log")
