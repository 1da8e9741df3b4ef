"""Guttman's lambda 6: reliability from each item's squared multiple correlation.

For ``k`` items with covariance matrix ``C`` (correlation matrix ``R``), the error variance of item
``j`` is taken to be the variance it does not share with the other items, ``e_j^2 = 1 / (C^-1)_jj``
(its residual variance when regressed on the others), so (Guttman, 1945)::

    lambda_6 = 1 - sum_j e_j^2 / sum(C) = 1 - sum_j 1 / (C^-1)_jj / sum(C)

and the standardized form, on ``R``: ``1 - sum_j (1 - smc_j) / sum(R)`` with ``smc_j = 1 -
1 / (R^-1)_jj`` (psych's ``G6(smc)``).

Validated against psych 2.2.9 (R 4.2.2): the standardized form against ``psych::alpha``'s
``G6(smc)`` and the covariance form against ``psych::splitHalf(covar = TRUE)$lambda6``
(``tests/measures/golden/reliability_factor_models.R``).

References
----------
Guttman, L. (1945). A basis for analyzing test-retest reliability. *Psychometrika*, 10(4),
255-282.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from classdyad.errors import check_option
from classdyad.measures.reliability import _MISSING, MissingPolicy, _numeric_items, _warn

__all__ = ["GuttmanLambda6", "guttman_lambda6"]


@dataclass(frozen=True)
class GuttmanLambda6:
    """Guttman's lambda 6 of one scale.

    Attributes
    ----------
    lambda6
        From the covariance matrix (Guttman, 1945).
    standardized_lambda6
        From the correlation matrix (psych's ``G6(smc)``).
    smc
        Each item's squared multiple correlation with the other items.
    n_observations, n_items
        Rows and items used.
    """

    lambda6: float
    standardized_lambda6: float
    smc: pd.Series
    n_observations: int
    n_items: int

    def to_frame(self) -> pd.DataFrame:
        """One row: ``lambda6, standardized_lambda6, n_observations, n_items``."""
        return pd.DataFrame([{
            "lambda6": self.lambda6, "standardized_lambda6": self.standardized_lambda6,
            "n_observations": self.n_observations, "n_items": self.n_items}])

    def _repr_html_(self) -> str:
        return "<p><b>Guttman's lambda 6</b></p>" + self.to_frame().to_html(index=False)


def guttman_lambda6(items: pd.DataFrame, *, missing: MissingPolicy = "pairwise"
                    ) -> GuttmanLambda6:
    """Guttman's lambda 6, raw (covariances) and standardized (correlations).

    Parameters
    ----------
    items
        Wide data: one row per respondent, one numeric column per item, reverse-keyed items
        already recoded.
    missing
        ``"pairwise"`` covariances (psych's default) or ``"listwise"``.

    Returns
    -------
    GuttmanLambda6

    Notes
    -----
    ``lambda_6 = 1 - sum_j 1 / (C^-1)_jj / sum(C)``; see the module docstring. Validated against
    ``psych::alpha`` (``G6(smc)``) and ``psych::splitHalf(covar = TRUE)`` (psych 2.2.9) to 1e-10.
    Undefined (``nan`` with a warning) for fewer than two items or a singular covariance matrix.

    Examples
    --------
    >>> import pandas as pd
    >>> items = pd.DataFrame({"a": [1, 2, 3, 4, 5, 2], "b": [2, 2, 3, 5, 4, 1],
    ...                       "c": [1, 3, 3, 4, 5, 3]})
    >>> round(guttman_lambda6(items).standardized_lambda6, 4)
    0.962
    """
    check_option("missing", missing, _MISSING)
    data = _numeric_items(items, missing=missing)
    n_obs, k = data.shape
    names = list(data.columns)
    nan = GuttmanLambda6(np.nan, np.nan, pd.Series(np.full(k, np.nan), index=names), n_obs, k)
    if k < 2:
        _warn("lambda 6 needs at least two items")
        return nan
    cov = data.cov().to_numpy()
    if not np.isfinite(cov).all() or (np.diag(cov) <= 0).any():
        _warn("lambda 6 is undefined: an item has no variance, or two items were never answered "
              "together")
        return nan
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    eigenvalues = np.linalg.eigvalsh(corr)
    precision = np.linalg.inv(cov) if eigenvalues[0] > 1e-10 * eigenvalues[-1] else None
    if precision is None or (np.diag(precision) <= 0).any() or not np.isfinite(precision).all():
        _warn("lambda 6 is undefined: the item covariance matrix is singular (an item is a "
              "linear combination of others)")
        return nan
    residual = 1.0 / np.diag(precision)
    smc = 1.0 - residual / np.diag(cov)
    return GuttmanLambda6(
        lambda6=float(1.0 - residual.sum() / cov.sum()),
        standardized_lambda6=float(1.0 - (1.0 - smc).sum() / corr.sum()),
        smc=pd.Series(smc, index=names), n_observations=n_obs, n_items=k)
