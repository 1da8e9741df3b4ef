"""Within/between decomposition of a predictor: cluster means and group-mean centring.

A student-level predictor ``x`` (e.g. the rate of negative interactions) varies within classrooms
and between them. Splitting it as ``x = (x - mean_class(x)) + mean_class(x)`` gives two predictors
whose coefficients in a mixed model are the within-classroom and the between-classroom effects;
their difference is the contextual effect (Enders & Tofighi 2007; Raudenbush & Bryk 2002,
ch. 5). With :func:`center` that is one formula away::

    data = center(data, "negative_rate", by="classroom")
    lmm("closeness ~ negative_rate_within + negative_rate_between + (1 | classroom)", data)

References
----------
Enders, C. K. & Tofighi, D. (2007). Centering predictor variables in cross-sectional multilevel
models: a new look at an old issue. *Psychological Methods*, 12(2), 121-138.

Raudenbush, S. W. & Bryk, A. S. (2002). *Hierarchical linear models* (2nd ed.). Sage.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from classdyad.errors import DataError, DataWarning, check_option

__all__ = ["center", "cluster_means"]


def center(
    data: pd.DataFrame,
    column: str | Sequence[str],
    *,
    by: str | Sequence[str],
    between: Literal["mean", "centered"] = "mean",
    suffixes: tuple[str, str] = ("_within", "_between"),
) -> pd.DataFrame:
    """Add group-mean-centred (within) and cluster-mean (between) columns.

    For each ``column`` x and cluster c (the groups of ``by``)::

        x_between = mean of x over the rows of c with x observed
        x_within  = x - x_between

    Parameters
    ----------
    data
        One row per observation (e.g. student x wave).
    column
        The numeric column(s) to decompose.
    by
        The cluster column(s), e.g. ``"classroom"`` or ``["school", "classroom"]``.
    between
        ``"mean"`` keeps the cluster means as they are; ``"centered"`` subtracts the grand mean
        (the mean of x over all observed rows), so the intercept refers to an average cluster.
    suffixes
        Names of the new columns: ``column + suffixes[0]`` (within) and ``column + suffixes[1]``
        (between).

    Returns
    -------
    DataFrame
        A copy of ``data`` with the new columns appended. Rows with a missing cluster get missing
        values (with a :class:`DataWarning`); rows with a missing x get a missing within value
        and the cluster mean as between value.

    Notes
    -----
    Equivalent to R's ``ave(x, cluster, FUN = function(v) mean(v, na.rm = TRUE))`` for the
    between part (checked in ``tests/analysis/test_centering.py``).
    """
    check_option("between", between, ("mean", "centered"))
    if not isinstance(data, pd.DataFrame):
        raise DataError("data must be a pandas DataFrame with one row per observation")
    columns = [column] if isinstance(column, str) else list(column)
    keys = [by] if isinstance(by, str) else list(by)
    if not columns or not keys:
        raise DataError("give at least one column to centre and one cluster column in by=")
    absent = [c for c in columns + keys if c not in data.columns]
    if absent:
        raise DataError(
            f"column(s) {absent} not in the data; use one of {', '.join(map(str, data.columns))}"
        )
    if len(suffixes) != 2 or suffixes[0] == suffixes[1]:
        raise DataError("suffixes must be two different strings, e.g. ('_within', '_between')")
    out = data.copy()
    missing_cluster = out[keys].isna().any(axis=1)
    if missing_cluster.any():
        warnings.warn(
            f"{int(missing_cluster.sum())} row(s) have no value in {keys}; their within and "
            "between values are missing; fill in the cluster or drop those rows",
            DataWarning,
            stacklevel=2,
        )
    grouped_keys = [out[k] for k in keys]
    for name in columns:
        values = out[name]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise DataError(
                f"column {name!r} must be numeric to be centred (it is {values.dtype}); "
                "convert it first, e.g. with pd.to_numeric"
            )
        values = values.astype(float)
        cluster_mean = values.groupby(grouped_keys, dropna=True).transform("mean")
        cluster_mean = cluster_mean.where(~missing_cluster, np.nan)
        if between == "centered":
            cluster_mean = cluster_mean - values.mean()
            within = values - values.groupby(grouped_keys, dropna=True).transform("mean")
        else:
            within = values - cluster_mean
        out[f"{name}{suffixes[0]}"] = within.where(~missing_cluster, np.nan)
        out[f"{name}{suffixes[1]}"] = cluster_mean
    return out


def cluster_means(values: np.ndarray, codes: np.ndarray, n_clusters: int | None = None
                  ) -> np.ndarray:
    """Each cluster's mean of ``values`` (no missing values), by integer cluster ``codes``.

    The sums run over the rows in their order (``numpy.bincount``), so rows in the same order
    give the same means to the last bit whatever numbers the clusters carry: the mediation
    models and the power analysis's lean steps take their class means from here.

    Parameters
    ----------
    values
        One number per row.
    codes
        Each row's cluster, ``0 .. n_clusters - 1``.
    n_clusters
        Number of clusters (default: the largest code plus one).

    Returns
    -------
    numpy.ndarray
        One mean per cluster (``nan`` for a cluster without rows).
    """
    n = int(codes.max()) + 1 if n_clusters is None else n_clusters
    sizes = np.bincount(codes, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(codes, weights=values, minlength=n) / sizes
