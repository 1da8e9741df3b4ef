"""One regression of a path model: a linear mixed model, or ordinary least squares without clusters.

Mediation and moderation fit several regressions (one per mediator for the a paths, one for the
outcome) and combine their coefficients. :func:`fit_path_model` fits one of them and returns the
coefficients, their covariance matrix and the tidy coefficient table in one shape, whether the
model has random intercepts (fitted by :func:`classdyad.mixed.lmm`, REML, Satterthwaite df) or
none (ordinary least squares: standard errors from ``s^2 (X'X)^-1`` with ``s^2 = RSS / (n - p)``,
t tests on ``n - p`` degrees of freedom, as R's ``lm``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import formulaic
import numpy as np
import pandas as pd
import scipy.stats

from classdyad.errors import EstimationError
from classdyad.mixed import MixedModelResult, lmm

__all__ = ["PathFit", "fit_path_model"]


@dataclass(frozen=True, eq=False)
class PathFit:
    """Coefficients of one fitted regression with their covariance and tidy table."""

    formula: str
    estimates: pd.Series
    covariance: pd.DataFrame = field(repr=False)
    table: pd.DataFrame = field(repr=False)
    n_obs: int
    model: MixedModelResult | None = field(default=None, repr=False)
    residuals: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    """Residuals of the rows used (conditional on the random effects for a mixed model)."""

    def coefficient(self, term: str) -> float:
        """The estimate of ``term``."""
        return float(self.estimates[term])


def model_frame(frame: pd.DataFrame, covariates: Sequence[str], cluster: str | None,
                repeated: str | None) -> tuple[pd.DataFrame, list[str]]:
    """Covariates as ``C0, C1, ...`` (booleans as 0/1), the cluster as ``G`` and repeated
    measures as ``R``; returns the frame and the grouping columns to give random intercepts."""
    work = pd.DataFrame(index=frame.index)
    for k, name in enumerate(covariates):
        values = frame[name]
        work[f"C{k}"] = values.astype(float) if pd.api.types.is_bool_dtype(values) else values
    random = []
    if cluster is not None:
        work["G"] = frame[cluster].astype(str)
        random.append("G")
    if repeated is not None:
        work["R"] = frame[repeated].astype(str)
        random.append("R")
    return work, random


def fit_path_model(
    response: str,
    predictors: Sequence[str],
    frame: pd.DataFrame,
    *,
    random: Sequence[str] = (),
    random_slope: str | None = None,
    confidence: float = 0.95,
) -> PathFit:
    """Regress ``response`` on ``predictors`` with a random intercept per column of ``random``.

    ``random_slope`` adds a random slope of that predictor (correlated with the intercept) for
    the first grouping column. Column names must be valid formula names (callers rename the
    user's columns first).
    """
    rhs = " + ".join(["1", *predictors])
    if random:
        parts = [f"(1 | {g})" for g in random]
        if random_slope is not None:
            parts[0] = f"(1 + {random_slope} | {random[0]})"
        formula = f"{response} ~ {rhs} + " + " + ".join(parts)
        fit = lmm(formula, frame, confidence_level=confidence)
        names = list(fit.fixed_effects["term"])
        estimates = pd.Series(fit.beta, index=names)
        covariance = pd.DataFrame(fit.fixed_covariance, index=names, columns=names)
        table = fit.fixed_effects.reset_index(drop=True)
        residuals = fit.design.response - fit.predict()
        return PathFit(formula, estimates, covariance, table, fit.n_obs, fit, residuals)
    formula = f"{response} ~ {rhs}"
    return _ordinary_least_squares(formula, frame, confidence)


def _ordinary_least_squares(formula: str, frame: pd.DataFrame, confidence: float) -> PathFit:
    y, x = formulaic.model_matrix(formula, frame)
    names = list(x.columns)
    y_values = np.asarray(y, dtype=float).ravel()
    x_values = np.asarray(x, dtype=float)
    n, p = x_values.shape
    if n <= p:
        raise EstimationError(
            f"{n} rows for {p} coefficients in {formula!r}; give more rows or fewer covariates"
        )
    q, r = np.linalg.qr(x_values)
    if np.min(np.abs(np.diag(r))) < 1e-10 * np.max(np.abs(np.diag(r))):
        raise EstimationError(
            f"the predictors of {formula!r} are collinear; drop a covariate that duplicates "
            "another"
        )
    beta = np.linalg.solve(r, q.T @ y_values)
    residual = y_values - x_values @ beta
    df = n - p
    sigma2 = float(residual @ residual) / df
    r_inverse = np.linalg.inv(r)
    covariance = sigma2 * (r_inverse @ r_inverse.T)
    se = np.sqrt(np.diag(covariance))
    statistic = beta / se
    quantile = scipy.stats.t.ppf(0.5 + confidence / 2.0, df)
    table = pd.DataFrame(
        {
            "term": names,
            "estimate": beta,
            "std_error": se,
            "df": float(df),
            "statistic": statistic,
            "p_value": 2.0 * scipy.stats.t.sf(np.abs(statistic), df),
            "ci_low": beta - quantile * se,
            "ci_high": beta + quantile * se,
        }
    )
    return PathFit(
        formula,
        pd.Series(beta, index=names),
        pd.DataFrame(covariance, index=names, columns=names),
        table,
        n,
        None,
        residual,
    )
