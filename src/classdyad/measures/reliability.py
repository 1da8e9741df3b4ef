"""Internal-consistency reliability of a questionnaire scale.

For ``k`` items with (pairwise) covariance matrix ``C`` and correlation matrix ``R``:

* Cronbach's alpha, ``alpha = k / (k - 1) * (1 - tr(C) / sum(C))`` (Cronbach, 1951), and the
  standardized alpha, the same on ``R``.
* Its confidence interval by Feldt (1965), as ``psych::alpha`` reports it ("Feldt")::

      lower = 1 - (1 - alpha) * F(1 - p/2; n - 1, (n - 1)(k - 1))
      upper = 1 - (1 - alpha) * F(p/2;     n - 1, (n - 1)(k - 1))

  and the asymptotic interval of Duhachek & Iacobucci (2004), ``alpha +- z * ase``, which psych
  reports as "Duhachek"; ``n`` is the number of rows given (psych's ``nsub``).
* Item-rest correlations (psych's ``r.drop``): the correlation of each item with the sum of the
  other items, ``(sum(C[:, i]) - C[i, i]) / sqrt(C[i, i] * sum(C[-i, -i]))``; and alpha if the item
  is deleted (raw and standardized).
* McDonald's omega total from a one-factor minimum-residual (minres, unweighted least squares on
  the off-diagonal correlations) factor model, as ``psych::omega(x, nfactors = 1)`` computes
  ``omega.tot``: ``omega_t = (sum(R) - sum(u2)) / sum(R)`` with uniquenesses ``u2 = 1 - lambda^2``
  (McDonald, 1999). Loadings are bounded so that no uniqueness falls below 0.005, as in psych.

Missing answers are handled pairwise (each covariance from the rows where both items are answered;
psych's default) or listwise. A statistic that is undefined for the data (fewer than two items, no
variance) is returned as ``nan`` with a :class:`~classdyad.errors.UndefinedStatisticWarning`.

Validated against psych 2.2.9 (R 4.2.2): ``alpha`` and ``omega`` on the agreeableness and
conscientiousness items of psych's ``bfi`` data (``tests/measures/golden/reliability_bfi.R``).

References
----------
Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests. *Psychometrika*,
16(3), 297-334.

Duhachek, A., & Iacobucci, D. (2004). Alpha's standard error (ASE): An accurate and precise
confidence interval estimate. *Journal of Applied Psychology*, 89(5), 792-808.

Feldt, L. S. (1965). The approximate sampling distribution of Kuder-Richardson reliability
coefficient twenty. *Psychometrika*, 30(3), 357-370.

McDonald, R. P. (1999). *Test theory: A unified treatment*. Erlbaum.

Revelle, W. (2022). *psych: Procedures for psychological, psychometric, and personality research*
(R package version 2.2.9).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from classdyad.errors import DataError, UndefinedStatisticWarning, check_option

__all__ = ["CronbachAlpha", "McDonaldOmega", "cronbach_alpha", "mcdonald_omega"]

MissingPolicy = Literal["pairwise", "listwise"]
_MISSING: tuple[MissingPolicy, ...] = ("pairwise", "listwise")
_MIN_UNIQUENESS = 0.005  # psych's lower bound on uniquenesses in fa(fm = "minres")


@dataclass(frozen=True)
class CronbachAlpha:
    """Cronbach's alpha of one scale, with confidence intervals and item statistics.

    Attributes
    ----------
    alpha, standardized_alpha
        Raw (covariance-based) and standardized (correlation-based) alpha.
    ci_lower, ci_upper
        Feldt (1965) confidence interval at ``confidence``.
    ase, duhachek_lower, duhachek_upper
        Duhachek & Iacobucci (2004) asymptotic standard error and interval.
    confidence
        The confidence level of both intervals.
    n_observations, n_items
        Rows and items used.
    item_statistics
        One row per item: ``item``, ``n`` (answers), ``mean``, ``sd``, ``r_drop`` (item-rest
        correlation), ``alpha_if_deleted``, ``standardized_alpha_if_deleted``.
    """

    alpha: float
    standardized_alpha: float
    ci_lower: float
    ci_upper: float
    ase: float
    duhachek_lower: float
    duhachek_upper: float
    confidence: float
    n_observations: int
    n_items: int
    item_statistics: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row: alpha, standardized alpha, both intervals, counts."""
        return pd.DataFrame(
            [
                {
                    "alpha": self.alpha,
                    "standardized_alpha": self.standardized_alpha,
                    "ci_lower": self.ci_lower,
                    "ci_upper": self.ci_upper,
                    "ase": self.ase,
                    "duhachek_lower": self.duhachek_lower,
                    "duhachek_upper": self.duhachek_upper,
                    "confidence": self.confidence,
                    "n_observations": self.n_observations,
                    "n_items": self.n_items,
                }
            ]
        )

    def _repr_html_(self) -> str:
        return (
            "<p><b>Cronbach's alpha</b> (Feldt interval)</p>"
            + self.to_frame().to_html(index=False)
            + self.item_statistics.to_html(index=False)
        )


@dataclass(frozen=True)
class McDonaldOmega:
    """McDonald's omega total from a one-factor minres model.

    Attributes
    ----------
    omega_total
        ``(sum(R) - sum(u2)) / sum(R)``.
    loadings, uniquenesses
        Standardized one-factor loadings and uniquenesses ``1 - loading^2``, by item.
    n_observations, n_items
        Rows and items used.
    """

    omega_total: float
    loadings: pd.Series = field(repr=False)
    uniquenesses: pd.Series = field(repr=False)
    n_observations: int
    n_items: int

    def to_frame(self) -> pd.DataFrame:
        """One row per item: loading and uniqueness (omega total is an attribute)."""
        return pd.DataFrame(
            {
                "item": self.loadings.index,
                "loading": self.loadings.to_numpy(),
                "uniqueness": self.uniquenesses.to_numpy(),
            }
        )

    def _repr_html_(self) -> str:
        return (
            f"<p><b>McDonald's omega total</b> = {self.omega_total:.3f} "
            f"({self.n_items} items, {self.n_observations} rows)</p>"
            + self.to_frame().to_html(index=False)
        )


def cronbach_alpha(
    items: pd.DataFrame,
    *,
    confidence: float = 0.95,
    missing: MissingPolicy = "pairwise",
) -> CronbachAlpha:
    """Cronbach's alpha with Feldt and Duhachek confidence intervals and item statistics.

    Parameters
    ----------
    items
        Wide data: one row per respondent, one numeric column per item, already reverse-keyed
        (see :func:`classdyad.measures.score_questionnaire`, whose result holds keyed items).
    confidence
        Confidence level of the intervals, between 0 and 1.
    missing
        ``"pairwise"`` (psych's default) or ``"listwise"`` (drop rows with any missing item).

    Returns
    -------
    CronbachAlpha

    Notes
    -----
    ``alpha = k / (k - 1) * (1 - tr(C) / sum(C))``; Feldt interval
    ``1 - (1 - alpha) * F(q; n - 1, (n - 1)(k - 1))``. Validated against ``psych::alpha``
    (psych 2.2.9) to 1e-10.

    References
    ----------
    Cronbach (1951); Feldt (1965); Duhachek & Iacobucci (2004); see the module docstring.
    """
    check_option("missing", missing, _MISSING)
    _check_confidence(confidence)
    data = _numeric_items(items, missing=missing)
    n_obs, k = data.shape
    names = list(data.columns)
    cov = data.cov().to_numpy()
    nan_stats = pd.DataFrame(
        {
            "item": names,
            "n": data.notna().sum().to_numpy(),
            "mean": data.mean().to_numpy(),
            "sd": data.std().to_numpy(),
        }
    )
    if k < 2:
        _warn("Cronbach's alpha needs at least two items")
        stats_table = nan_stats.assign(
            r_drop=np.nan, alpha_if_deleted=np.nan, standardized_alpha_if_deleted=np.nan
        )
        return CronbachAlpha(*([np.nan] * 7), confidence, n_obs, k, stats_table)
    alpha, std_alpha, q_stat = _alpha_parts(cov)
    if not np.isfinite(alpha):
        _warn("Cronbach's alpha is undefined: the item total has no variance")
    if not np.isfinite(std_alpha) and np.isfinite(alpha):
        _warn("standardized alpha is undefined: an item has no variance")
    q_low, q_high = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    df1, df2 = n_obs - 1, (n_obs - 1) * (k - 1)
    if np.isfinite(alpha) and df1 > 0:
        ci_lower = 1 - (1 - alpha) * stats.f.ppf(q_high, df1, df2)
        ci_upper = 1 - (1 - alpha) * stats.f.ppf(q_low, df1, df2)
        ase = float(np.sqrt(q_stat / n_obs)) if q_stat >= 0 else np.nan
    else:
        ci_lower = ci_upper = ase = np.nan
    z = stats.norm.ppf(q_high)
    r_drop = np.full(k, np.nan)
    alpha_drop = np.full(k, np.nan)
    std_alpha_drop = np.full(k, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        for i in range(k):
            keep = [j for j in range(k) if j != i]
            rest = cov[np.ix_(keep, keep)]
            r_drop[i] = (cov[:, i].sum() - cov[i, i]) / np.sqrt(cov[i, i] * rest.sum())
            if k > 2:
                alpha_drop[i], std_alpha_drop[i], _ = _alpha_parts(rest)
    if k == 2:
        _warn("alpha if an item is deleted is undefined for a two-item scale (one item is left)")
    if not np.all(np.isfinite(r_drop)):
        _warn("an item-rest correlation is undefined: an item or the rest has no variance")
    stats_table = nan_stats.assign(
        r_drop=r_drop, alpha_if_deleted=alpha_drop, standardized_alpha_if_deleted=std_alpha_drop
    )
    return CronbachAlpha(
        alpha=float(alpha),
        standardized_alpha=float(std_alpha),
        ci_lower=float(ci_lower),
        ci_upper=float(ci_upper),
        ase=float(ase),
        duhachek_lower=float(alpha - z * ase),
        duhachek_upper=float(alpha + z * ase),
        confidence=confidence,
        n_observations=n_obs,
        n_items=k,
        item_statistics=stats_table,
    )


def mcdonald_omega(items: pd.DataFrame, *, missing: MissingPolicy = "pairwise") -> McDonaldOmega:
    """McDonald's omega total from a one-factor minimum-residual factor model.

    Parameters
    ----------
    items
        Wide data: one row per respondent, one numeric column per item (reverse-keyed or not:
        omega total depends on squared loadings only).
    missing
        ``"pairwise"`` correlations (psych's default) or ``"listwise"``.

    Returns
    -------
    McDonaldOmega

    Notes
    -----
    The loadings ``lambda`` minimise ``sum_{i != j} (r_ij - lambda_i lambda_j)^2`` with
    ``lambda_i^2 <= 0.995`` (psych's ``fa(fm = "minres")`` bound on uniquenesses);
    ``omega_t = (sum(R) - sum(1 - lambda^2)) / sum(R)``. Validated against
    ``psych::omega(x, nfactors = 1)$omega.tot`` (psych 2.2.9) to 1e-6.

    References
    ----------
    McDonald (1999); Revelle (2022); see the module docstring.
    """
    check_option("missing", missing, _MISSING)
    data = _numeric_items(items, missing=missing)
    n_obs, k = data.shape
    names = list(data.columns)
    nan_series = pd.Series(np.full(k, np.nan), index=names)
    if k < 3:
        _warn("omega total needs at least three items for a one-factor model")
        return McDonaldOmega(np.nan, nan_series, nan_series.copy(), n_obs, k)
    if (data.std() == 0).any() or data.std().isna().any():
        _warn("omega total is undefined: an item has no variance")
        return McDonaldOmega(np.nan, nan_series, nan_series.copy(), n_obs, k)
    corr = data.corr().to_numpy()
    if not np.all(np.isfinite(corr)):
        _warn("omega total is undefined: some item pairs were never answered together")
        return McDonaldOmega(np.nan, nan_series, nan_series.copy(), n_obs, k)
    loadings = _minres_one_factor(corr)
    uniquenesses = 1.0 - loadings**2
    total = corr.sum()
    omega = (total - uniquenesses.sum()) / total
    return McDonaldOmega(
        omega_total=float(omega),
        loadings=pd.Series(loadings, index=names),
        uniquenesses=pd.Series(uniquenesses, index=names),
        n_observations=n_obs,
        n_items=k,
    )


def _alpha_parts(cov: np.ndarray) -> tuple[float, float, float]:
    """Raw alpha, standardized alpha and Duhachek's Q for a covariance matrix."""
    k = cov.shape[0]
    total = cov.sum()
    trace = np.trace(cov)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = (1 - trace / total) * k / (k - 1) if total > 0 else np.nan
        sd = np.sqrt(np.diag(cov))
        corr = cov / np.outer(sd, sd)
        sum_r = corr.sum()
        std_alpha = (1 - k / sum_r) * k / (k - 1) if np.isfinite(sum_r) else np.nan
        cc = cov @ cov
        q_stat = (2 * k**2 / ((k - 1) ** 2 * total**3)) * (
            total * (np.trace(cc) + trace**2) - 2 * trace * cc.sum()
        )
    return float(alpha), float(std_alpha), float(q_stat)


def _minres_one_factor(corr: np.ndarray) -> np.ndarray:
    """One-factor loadings minimising the squared off-diagonal residuals."""
    k = corr.shape[0]
    off = ~np.eye(k, dtype=bool)
    bound = np.sqrt(1 - _MIN_UNIQUENESS)

    def objective(lam: np.ndarray) -> tuple[float, np.ndarray]:
        resid = np.where(off, corr - np.outer(lam, lam), 0.0)
        return float((resid**2).sum()), -4.0 * resid @ lam

    start_matrix = corr.copy()
    # start from communalities estimated by each item's largest absolute correlation
    np.fill_diagonal(start_matrix, np.max(np.abs(np.where(off, corr, 0.0)), axis=1))
    values, vectors = np.linalg.eigh(start_matrix)
    start = vectors[:, -1] * np.sqrt(max(values[-1], 1e-6))
    start = np.clip(start, -bound, bound)
    fit = optimize.minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-bound, bound)] * k,
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10_000},
    )
    lam = fit.x
    return lam if lam.sum() >= 0 else -lam


def _numeric_items(items: pd.DataFrame, *, missing: MissingPolicy) -> pd.DataFrame:
    if not isinstance(items, pd.DataFrame):
        raise DataError(
            f"items must be a pandas DataFrame (one column per item), not {type(items).__name__}"
        )
    bad = [c for c in items.columns if not pd.api.types.is_numeric_dtype(items[c])]
    if bad:
        raise DataError(
            f"item columns {bad} are not numeric; convert them to numbers (missing answers as NaN) "
            "or score the questionnaire first with score_questionnaire"
        )
    if items.shape[0] == 0:
        raise DataError("items has no rows; give one row per respondent")
    data = items.astype(float)
    if missing == "listwise":
        data = data.dropna()
        if data.shape[0] == 0:
            raise DataError(
                "no row answers every item, so listwise deletion leaves nothing; "
                "use missing='pairwise'"
            )
    return data


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise DataError(f"confidence={confidence!r} must lie strictly between 0 and 1, e.g. 0.95")


def _warn(message: str) -> None:
    warnings.warn(f"{message}; returned nan", UndefinedStatisticWarning, stacklevel=3)
