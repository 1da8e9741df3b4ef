"""Analytic power of a two-level design with a class-level binary predictor (a cross-check).

With ``J`` classes of ``n`` students, half of the classes treated, a class random intercept of
variance ``tau^2`` and a residual variance ``sigma^2``, the treatment effect ``delta`` is estimated
from the class means with variance ``4 (tau^2 + sigma^2 / n) / J``; its t test has ``J - 2``
degrees of freedom (the Satterthwaite degrees of freedom of the balanced mixed model), and the
power of the two-sided test at level ``alpha`` is

    P(|T| > t_{1 - alpha/2, J - 2}),   T ~ noncentral t(J - 2, lambda),
    lambda = delta / sqrt(4 (tau^2 + sigma^2 / n) / J)

(Raudenbush 1997; Spybrook et al. 2011, the Optimal Design manual, section 2). The simulated
power of the same design (:func:`simulated_power` with :func:`classdyad.mixed.lmm`) should agree
within Monte Carlo error; ``tests/simulate/test_power_calibration.py`` checks that it does.

References
----------
Raudenbush, S. W. (1997). Statistical analysis and optimal design for cluster randomized trials.
*Psychological Methods*, 2(2), 173-185.

Spybrook, J., Bloom, H., Congdon, R., Hill, C., Martinez, A. & Raudenbush, S. (2011). *Optimal
Design Plus empirical evidence: documentation for the "Optimal Design" software*, version 3.0.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.stats

from classdyad.errors import DataError
from classdyad.simulate.power_results import clopper_pearson

__all__ = ["noncentral_t_power", "simulated_power", "two_level_power"]


def noncentral_t_power(noncentrality: float, df: float, *, alpha: float = 0.05) -> float:
    """Power of a two-sided t test at level ``alpha``: ``P(|T| > t_crit)``, T noncentral t.

    Validated against R's ``pt(q, df, ncp)`` (``tests/simulate/data/power_reference.R``).
    """
    if df <= 0 or not 0 < alpha < 1:
        raise DataError("noncentral_t_power needs df > 0 and 0 < alpha < 1")
    critical = scipy.stats.t.ppf(1.0 - alpha / 2.0, df)
    upper = scipy.stats.nct.sf(critical, df, noncentrality)
    lower = scipy.stats.nct.cdf(-critical, df, noncentrality)
    return float(upper + lower)


def two_level_power(*, classes: int, students_per_class: int, effect: float, class_sd: float,
                    residual_sd: float, alpha: float = 0.05) -> float:
    """Analytic power of a class-level binary predictor (half the classes) in a two-level design.

    Parameters
    ----------
    classes
        Number of classes ``J`` (even; half are treated).
    students_per_class
        Students per class ``n``.
    effect
        The true difference ``delta`` between treated and other classes.
    class_sd, residual_sd
        ``tau`` and ``sigma``.
    alpha
        Two-sided level.

    Returns
    -------
    float
        See the module docstring for the formula.
    """
    if classes < 4 or students_per_class < 1:
        raise DataError("two_level_power needs at least 4 classes and 1 student per class")
    variance = 4.0 * (class_sd**2 + residual_sd**2 / students_per_class) / classes
    return noncentral_t_power(effect / math.sqrt(variance), classes - 2, alpha=alpha)


def simulated_power(draw: Callable[[np.random.Generator], pd.DataFrame],
                    p_value: Callable[[pd.DataFrame], float], *, replicates: int,
                    alpha: float = 0.05, seed: int = 0) -> dict[str, float]:
    """Monte Carlo power of any test: draw data, compute its p value, count rejections.

    Replicate ``r`` draws with ``numpy.random.SeedSequence(seed, spawn_key=(r,))``.

    Returns
    -------
    dict
        ``power, mc_se, ci_low, ci_high`` (exact 95 % interval), ``n_replicates``,
        ``n_failed`` (replicates whose p value was not finite).
    """
    rejected = fitted = 0
    for replicate in range(replicates):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replicate,)))
        p = p_value(draw(rng))
        if np.isfinite(p):
            fitted += 1
            rejected += int(p < alpha)
    power = rejected / fitted if fitted else math.nan
    low, high = clopper_pearson(rejected, fitted)
    return {"power": power,
            "mc_se": math.sqrt(power * (1 - power) / fitted) if fitted else math.nan,
            "ci_low": low, "ci_high": high, "n_replicates": replicates,
            "n_failed": replicates - fitted}
