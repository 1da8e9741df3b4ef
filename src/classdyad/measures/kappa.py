"""Cohen's kappa, weighted kappa, percentage agreement and the confusion matrix of two coders.

For a ``K x K`` table of proportions ``p[i, j]`` (coder A said category ``i``, coder B said ``j``)
with row margins ``r[i]``, column margins ``c[j]`` and agreement weights ``w[i, j]`` (``w[i, i] =
1``), over ``n`` coded units:

* observed agreement ``po = sum(w * p)``, chance agreement ``pe = sum(w * outer(r, c))``,
* kappa ``(po - pe) / (1 - pe)`` (Cohen, 1960; weighted: Cohen, 1968),
* its large-sample variance (Fleiss, Cohen & Everitt, 1969, eq. 13)::

      var = [ sum_ij p[i,j] * (w[i,j] * (1 - pe) - (wr[i] + wc[j]) * (1 - po))^2
              - (po * pe - 2 * pe + po)^2 ] / (n * (1 - pe)^4)

  with ``wr[i] = sum_j c[j] * w[i, j]`` and ``wc[j] = sum_i r[i] * w[i, j]``, and the interval
  ``kappa +- z * sqrt(var)`` bounded to [-1, 1].

Weights: ``"none"`` (identity: plain kappa), ``"linear"`` ``1 - |i - j| / (K - 1)`` and
``"quadratic"`` ``1 - (i - j)^2 / (K - 1)^2`` over the categories in their given order, or any
``K x K`` matrix of agreement weights (1 on the diagonal, between 0 and 1 elsewhere; Cohen, 1968)
given by the user, for example partial credit for confusing two particular categories.

The z test of ``H0: kappa = 0`` divides kappa by its standard error *under H0* (Fleiss, Cohen &
Everitt, 1969)::

      var0 = [ sum_ij r[i] * c[j] * (w[i,j] - (wr[i] + wc[j]))^2 - pe^2 ] / (n * (1 - pe)^2)

which is what ``irr::kappa2`` reports as ``z`` (two-sided normal p-value); the interval uses the
non-null variance above.

Kappa is undefined when there are no units or when chance agreement is 1 (both coders used one and
the same category for every unit); it is then returned as ``nan`` with an
:class:`~classdyad.errors.UndefinedStatisticWarning`, never as 1.

Validated against ``psych::cohen.kappa`` (psych 2.2.9, R 4.2.2): the estimates, and the variance
and interval of unweighted kappa, which psych computes with the formula above. For weighted kappa,
psych's variance code uses ``r[j] * sum_k w[j, k]`` where the formula has ``wc[j]``; the two agree
for identity weights only, so weighted standard errors here follow Fleiss, Cohen & Everitt and are
checked against that formula evaluated directly in R (``tests/measures/golden/agreement_kappa.R``).
The z test and weighted kappa with user-supplied weights are validated against ``irr::kappa2``
(irr 0.84.1; ``tests/measures/golden/agreement_irr.R``).

References
----------
Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational and Psychological
Measurement*, 20(1), 37-46.

Cohen, J. (1968). Weighted kappa: Nominal scale agreement with provision for scaled disagreement
or partial credit. *Psychological Bulletin*, 70(4), 213-220.

Fleiss, J. L., Cohen, J., & Everitt, B. S. (1969). Large sample standard errors of kappa and
weighted kappa. *Psychological Bulletin*, 72(5), 323-327.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from classdyad.errors import DataError, DataWarning, UndefinedStatisticWarning, check_option

__all__ = [
    "CohenKappa",
    "agreement_weights",
    "cohen_kappa",
    "confusion_matrix",
    "grouped_kappa",
    "kappa_from_table",
    "percent_agreement",
    "weight_matrix",
]

KappaWeights = Literal["none", "linear", "quadratic"]
_WEIGHTS: tuple[KappaWeights, ...] = ("none", "linear", "quadratic")
WeightsArgument = KappaWeights | np.ndarray | pd.DataFrame
"""A weighting scheme by name, or a ``K x K`` matrix of agreement weights."""


def agreement_weights(n_categories: int, weights: KappaWeights = "none") -> np.ndarray:
    """Return the ``K x K`` agreement weight matrix for ordered categories.

    ``"none"`` gives the identity, ``"linear"`` ``1 - |i - j| / (K - 1)``, ``"quadratic"``
    ``1 - (i - j)^2 / (K - 1)^2`` (Cohen, 1968; psych's ``w.exp`` 1 and 2).
    """
    check_option("weights", weights, _WEIGHTS)
    k = int(n_categories)
    if weights == "none" or k < 2:
        return np.eye(k)
    distance = np.abs(np.subtract.outer(np.arange(k), np.arange(k))) / (k - 1)
    return 1.0 - (distance if weights == "linear" else distance**2)


def weight_matrix(weights: WeightsArgument, categories: Sequence | int) -> np.ndarray:
    """The ``K x K`` agreement weight matrix for a weighting scheme or a user's matrix.

    Parameters
    ----------
    weights
        ``"none"``, ``"linear"``, ``"quadratic"`` (see :func:`agreement_weights`), or a matrix of
        agreement weights: 1 on the diagonal, between 0 and 1 elsewhere. A DataFrame whose index
        and columns name the categories is reordered to ``categories``; an array must already
        follow their order.
    categories
        The categories (in order), or their number.

    Returns
    -------
    numpy.ndarray
        The weights, rows coder A's category, columns coder B's.
    """
    k = categories if isinstance(categories, int) else len(categories)
    if isinstance(weights, str):
        return agreement_weights(k, weights)  # type: ignore[arg-type]
    if isinstance(weights, pd.DataFrame):
        if not isinstance(categories, int):
            wanted = list(categories)
            missing = [c for c in wanted if c not in weights.index or c not in weights.columns]
            if missing:
                raise DataError(f"the weight matrix lacks the categories "
                                f"{', '.join(map(repr, missing[:10]))} on its rows or columns; "
                                f"give one row and one column for every category")
            weights = weights.reindex(index=wanted, columns=wanted)
        matrix = weights.to_numpy(dtype=float)
    else:
        try:
            matrix = np.asarray(weights, dtype=float)
        except (TypeError, ValueError):
            raise DataError(f"weights={weights!r} is neither one of 'none', 'linear', "
                            f"'quadratic' nor a numeric matrix of agreement weights") from None
    if matrix.shape != (k, k):
        raise DataError(f"the weight matrix has shape {matrix.shape}, but there are {k} "
                        f"categories; give a {k} x {k} matrix, in the order of the categories")
    if not np.isfinite(matrix).all() or (matrix < 0).any() or (matrix > 1).any():
        raise DataError("agreement weights must lie between 0 and 1; to use disagreement "
                        "weights v (0 on the diagonal), pass 1 - v / v.max()")
    if not np.allclose(np.diag(matrix), 1.0, rtol=0.0, atol=1e-12):
        raise DataError("agreement weights must be 1 on the diagonal (full credit for the same "
                        "code); to use disagreement weights v, pass 1 - v / v.max()")
    return matrix


def _null_variance(counts: np.ndarray, w: np.ndarray) -> float:
    """Variance of kappa under H0 (Fleiss, Cohen & Everitt, 1969); nan where undefined."""
    n = float(counts.sum())
    if n == 0 or counts.shape[0] < 2:
        return np.nan
    p = counts / n
    r, c = p.sum(axis=1), p.sum(axis=0)
    pe = float((w * np.outer(r, c)).sum())
    if np.isclose(pe, 1.0, rtol=0.0, atol=1e-12):
        return np.nan
    spread = np.outer(r, c) * (w - np.add.outer(w @ c, r @ w)) ** 2
    return float(max((spread.sum() - pe**2) / (n * (1.0 - pe) ** 2), 0.0))


def _kappa_parts(counts: np.ndarray, w: np.ndarray) -> tuple[float, float, float, float, int]:
    """Kappa, its variance, po and pe from a count table; nan where undefined (no warning)."""
    n = float(counts.sum())
    if n == 0 or counts.shape[0] == 0:
        return np.nan, np.nan, np.nan, np.nan, 0
    p = counts / n
    r, c = p.sum(axis=1), p.sum(axis=0)
    po = float((w * p).sum())
    pe = float((w * np.outer(r, c)).sum())
    if counts.shape[0] < 2 or np.isclose(pe, 1.0, rtol=0.0, atol=1e-12):
        return np.nan, np.nan, po, pe, int(n)
    kappa = (po - pe) / (1.0 - pe)
    wr = w @ c
    wc = r @ w
    inner = w * (1.0 - pe) - np.add.outer(wr, wc) * (1.0 - po)
    var = ((p * inner**2).sum() - (po * pe - 2.0 * pe + po) ** 2) / (n * (1.0 - pe) ** 4)
    return float(kappa), float(max(var, 0.0)), po, pe, int(n)


@dataclass(frozen=True)
class CohenKappa:
    """Cohen's kappa of two coders, with its standard error and confidence interval.

    Attributes
    ----------
    kappa
        The (weighted) kappa; ``nan`` where undefined.
    se
        Large-sample standard error (Fleiss, Cohen & Everitt, 1969).
    ci_lower, ci_upper
        ``kappa +- z * se`` at ``confidence``, bounded to [-1, 1].
    confidence
        Confidence level of the interval.
    observed_agreement, expected_agreement
        ``po`` and ``pe`` (weighted when ``weights`` is not ``"none"``).
    percent_agreement
        Plain (unweighted) percentage of units on the diagonal.
    n
        Number of units (coded pairs).
    weights
        ``"none"``, ``"linear"``, ``"quadratic"`` or ``"custom"`` (a user's weight matrix).
    table
        The confusion matrix of counts (rows: coder A, columns: coder B).
    se_null
        Standard error under ``H0: kappa = 0`` (Fleiss, Cohen & Everitt, 1969).
    z, p_value
        ``kappa / se_null`` and its two-sided normal p-value (as ``irr::kappa2``).
    weight_matrix
        The agreement weights used (the identity for ``"none"``).
    """

    kappa: float
    se: float
    ci_lower: float
    ci_upper: float
    confidence: float
    observed_agreement: float
    expected_agreement: float
    percent_agreement: float
    n: int
    weights: str
    table: pd.DataFrame
    se_null: float = np.nan
    z: float = np.nan
    p_value: float = np.nan
    weight_matrix: np.ndarray | None = field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row: ``weights, kappa, se, ci_lower, ci_upper, observed_agreement,
        expected_agreement, percent_agreement, n, se_null, z, p_value``."""
        return pd.DataFrame([{
            "weights": self.weights, "kappa": self.kappa, "se": self.se,
            "ci_lower": self.ci_lower, "ci_upper": self.ci_upper,
            "observed_agreement": self.observed_agreement,
            "expected_agreement": self.expected_agreement,
            "percent_agreement": self.percent_agreement, "n": self.n,
            "se_null": self.se_null, "z": self.z, "p_value": self.p_value,
        }])

    def _repr_html_(self) -> str:
        title = "Cohen's kappa" if self.weights == "none" else f"{self.weights} weighted kappa"
        return (f"<p><b>{title}</b> ({self.confidence:.0%} CI)</p>"
                + self.to_frame().to_html(index=False)
                + "<p>Confusion matrix (rows: coder A, columns: coder B)</p>"
                + self.table.to_html())


def kappa_from_table(table: pd.DataFrame | np.ndarray, *, weights: WeightsArgument = "none",
                     confidence: float = 0.95) -> CohenKappa:
    """Cohen's kappa from a square confusion matrix of counts.

    Parameters
    ----------
    table
        ``K x K`` counts, rows coder A, columns coder B, categories in the same (for weighted
        kappa: ordered) sequence on both axes.
    weights
        ``"none"``, ``"linear"`` or ``"quadratic"`` (see :func:`agreement_weights`), or a
        ``K x K`` matrix of agreement weights (see :func:`weight_matrix`).
    confidence
        Level of the confidence interval.

    Returns
    -------
    CohenKappa

    Notes
    -----
    Formulas in the module docstring; validated against ``psych::cohen.kappa`` and, for the z
    test and user-supplied weights, ``irr::kappa2``.
    """
    if isinstance(weights, str):
        check_option("weights", weights, _WEIGHTS)
    if not 0 < confidence < 1:
        raise DataError(f"confidence={confidence!r} must lie between 0 and 1, e.g. 0.95")
    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(np.asarray(table))
    counts = frame.to_numpy(dtype=float)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise DataError(f"a confusion matrix must be square; got shape {counts.shape}. Give the "
                        "same categories, in the same order, on rows and columns")
    if (counts < 0).any() or not np.isfinite(counts).all():
        raise DataError("a confusion matrix holds counts; found negative or missing cells")
    labels = list(frame.index) if isinstance(table, pd.DataFrame) else counts.shape[0]
    if isinstance(weights, pd.DataFrame) and isinstance(table, pd.DataFrame) and list(
            frame.index) != list(frame.columns):
        raise DataError("a labelled weight matrix needs the same categories, in the same order, "
                        "on the rows and columns of the confusion matrix")
    w = weight_matrix(weights, labels)
    kappa, var, po, pe, n = _kappa_parts(counts, w)
    se_null = np.sqrt(_null_variance(counts, w)) if np.isfinite(kappa) else np.nan
    z_null = kappa / se_null if np.isfinite(se_null) and se_null > 0 else np.nan
    if np.isnan(kappa):
        why = ("there are no coded units" if n == 0 else
               "chance agreement is 1: both coders used a single, identical category")
        warnings.warn(f"kappa is undefined because {why}; returned nan", UndefinedStatisticWarning,
                      stacklevel=2)
    z = stats.norm.ppf(0.5 + confidence / 2)
    se = float(np.sqrt(var))
    total = counts.sum()
    percent = float(np.trace(counts) / total * 100) if total else np.nan
    return CohenKappa(
        kappa=kappa, se=se, ci_lower=float(max(kappa - z * se, -1.0)),
        ci_upper=float(min(kappa + z * se, 1.0)), confidence=confidence,
        observed_agreement=po, expected_agreement=pe, percent_agreement=percent, n=n,
        weights=weights if isinstance(weights, str) else "custom", table=frame,
        se_null=float(se_null), z=float(z_null),
        p_value=float(2 * stats.norm.sf(abs(z_null))) if np.isfinite(z_null) else np.nan,
        weight_matrix=w)


def _two_columns(data: pd.DataFrame, rater_a: str, rater_b: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in (rater_a, rater_b) if c not in data.columns]
    if missing:
        raise DataError(f"data lacks the column(s) {', '.join(map(repr, missing))}; name the "
                        f"columns holding each coder's codes with rater_a= and rater_b=")
    pair = data[[rater_a, rater_b]]
    incomplete = pair.isna().any(axis=1)
    if incomplete.any():
        warnings.warn(f"{int(incomplete.sum())} unit(s) with a missing code were left out; code "
                      f"them (e.g. as 'no event') to keep them", DataWarning, stacklevel=3)
        pair = pair[~incomplete]
    return pair


def confusion_matrix(data: pd.DataFrame, *, rater_a: str, rater_b: str,
                     categories: Sequence | None = None) -> pd.DataFrame:
    """Cross-table of two coders' codes: counts, rows coder A, columns coder B.

    Parameters
    ----------
    data
        One row per coded unit.
    rater_a, rater_b
        The columns with each coder's code.
    categories
        All categories, in order (both axes). By default the sorted union of the codes seen.
        A code not in ``categories`` is an error.

    Returns
    -------
    pandas.DataFrame
        ``K x K`` integer counts indexed by category.
    """
    pair = _two_columns(data, rater_a, rater_b)
    if categories is None:
        seen = pd.unique(pd.concat([pair[rater_a], pair[rater_b]], ignore_index=True))
        categories = sorted(seen, key=lambda v: (str(type(v)), v))
    index = pd.Index(list(categories))
    if index.has_duplicates:
        raise DataError("categories holds duplicates; list each category once")
    code_a = index.get_indexer(pair[rater_a])
    code_b = index.get_indexer(pair[rater_b])
    unknown = pd.unique(pd.concat([pair[rater_a][code_a < 0], pair[rater_b][code_b < 0]]))
    if len(unknown):
        raise DataError(f"code(s) {', '.join(map(repr, unknown[:10]))} are not among the "
                        f"categories given; add them to categories= or fix the codes")
    k = len(index)
    counts = np.bincount(code_a * k + code_b, minlength=k * k).reshape(k, k)
    return pd.DataFrame(counts, index=index.rename(rater_a), columns=index.rename(rater_b))


def cohen_kappa(data: pd.DataFrame, *, rater_a: str, rater_b: str,
                weights: WeightsArgument = "none", categories: Sequence | None = None,
                confidence: float = 0.95) -> CohenKappa:
    """Cohen's (weighted) kappa of two coders who coded the same units.

    Parameters
    ----------
    data
        One row per unit (e.g. a matched event), wide: one column per coder.
    rater_a, rater_b
        The columns holding each coder's code. Units with a missing code are left out with a
        :class:`~classdyad.errors.DataWarning`.
    weights
        ``"none"`` (Cohen's kappa), ``"linear"`` or ``"quadratic"`` (weighted kappa; the order
        of ``categories`` is the scale order), or a ``K x K`` matrix of agreement weights in
        the order of ``categories`` (a DataFrame labelled by category is reordered).
    categories
        All categories in order; default the sorted union of the codes seen.
    confidence
        Level of the confidence interval (default 0.95).

    Returns
    -------
    CohenKappa
        Kappa, standard error, interval, z test under ``H0: kappa = 0``, agreement proportions and
        the confusion matrix.

    Notes
    -----
    ``kappa = (po - pe) / (1 - pe)``; variance of Fleiss, Cohen & Everitt (1969); see the module
    docstring. Validated against ``psych::cohen.kappa`` (R psych 2.2.9). Undefined kappa (one
    category only, no units) is ``nan`` with an
    :class:`~classdyad.errors.UndefinedStatisticWarning`.

    Examples
    --------
    >>> import pandas as pd
    >>> codes = pd.DataFrame({"a": ["pos", "neg", "neu", "neu"], "b": ["pos", "neg", "neu", "pos"]})
    >>> round(cohen_kappa(codes, rater_a="a", rater_b="b").kappa, 4)
    0.6364
    """
    table = confusion_matrix(data, rater_a=rater_a, rater_b=rater_b, categories=categories)
    return kappa_from_table(table, weights=weights, confidence=confidence)


def percent_agreement(data: pd.DataFrame, *, rater_a: str, rater_b: str) -> float:
    """Percentage of units on which two coders gave the same code (0-100).

    ``nan`` with an :class:`~classdyad.errors.UndefinedStatisticWarning` when there are no units.
    """
    pair = _two_columns(data, rater_a, rater_b)
    if len(pair) == 0:
        warnings.warn("percentage agreement is undefined without coded units; returned nan",
                      UndefinedStatisticWarning, stacklevel=2)
        return np.nan
    return float((pair[rater_a].to_numpy() == pair[rater_b].to_numpy()).mean() * 100)


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``values`` at ``query`` in sorted ``keys``; 0 where a query key is absent."""
    if len(keys) == 0:
        return np.zeros(len(query))
    at = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[at] == query, values[at], 0.0)


def grouped_kappa(group: np.ndarray, code_a: np.ndarray, code_b: np.ndarray,
                  n_groups: int) -> dict[str, np.ndarray]:
    """Unweighted Cohen's kappa for many sets of units at once (one per group).

    A sparse form of :func:`kappa_from_table` for many small tables over a large category set
    (for example, per lesson, the target students): only the non-empty cells are visited.

    Parameters
    ----------
    group
        Group (0 .. ``n_groups - 1``) of each unit.
    code_a, code_b
        Integer category codes (>= 0) of the two coders for each unit.
    n_groups
        Number of groups.

    Returns
    -------
    dict
        Arrays of length ``n_groups``: ``kappa``, ``variance`` (Fleiss, Cohen & Everitt, 1969),
        ``observed`` (po), ``expected`` (pe), ``n``, and ``alpha`` (Krippendorff's nominal alpha of
        the same pairs, ``1 - (2n - 1)(2n - 2 sum_c t[c, c]) / ((2n)^2 - sum_c m_c^2)`` with
        ``m_c`` the number of times category ``c`` was used by either coder). Entries are
        ``nan`` where undefined (no warning).
    """
    group = np.asarray(group, dtype=np.int64)
    code_a = np.asarray(code_a, dtype=np.int64)
    code_b = np.asarray(code_b, dtype=np.int64)
    empty = np.full(n_groups, np.nan)
    if len(group) == 0:
        return {"kappa": empty, "variance": empty.copy(), "observed": empty.copy(),
                "expected": empty.copy(), "n": np.zeros(n_groups), "alpha": empty.copy()}
    k = int(max(code_a.max(), code_b.max())) + 1
    cells, count = np.unique((group * k + code_a) * k + code_b, return_counts=True)
    count = count.astype(float)
    g, i, j = cells // (k * k), (cells // k) % k, cells % k
    n = np.bincount(g, weights=count, minlength=n_groups)
    diagonal = np.bincount(g, weights=count * (i == j), minlength=n_groups)
    row_keys, row_inverse = np.unique(g * k + i, return_inverse=True)
    row_sum = np.bincount(row_inverse, weights=count)
    col_keys, col_inverse = np.unique(g * k + j, return_inverse=True)
    col_sum = np.bincount(col_inverse, weights=count)
    common, in_row, in_col = np.intersect1d(row_keys, col_keys, assume_unique=True,
                                            return_indices=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.bincount(common // k, weights=row_sum[in_row] * col_sum[in_col],
                               minlength=n_groups) / n**2
        observed = diagonal / n
        n_cell = n[g]
        p = count / n_cell
        col_i = _lookup(col_keys, col_sum, g * k + i) / n_cell
        row_j = _lookup(row_keys, row_sum, g * k + j) / n_cell
        inner = (i == j) * (1.0 - expected[g]) - (col_i + row_j) * (1.0 - observed[g])
        spread = np.bincount(g, weights=p * inner**2, minlength=n_groups)
        undefined = (n == 0) | np.isclose(expected, 1.0, rtol=0.0, atol=1e-12)
        kappa = np.where(undefined, np.nan, (observed - expected) / (1.0 - expected))
        variance = (spread - (observed * expected - 2.0 * expected + observed) ** 2) / (
            n * (1.0 - expected) ** 4)
        variance = np.where(undefined, np.nan, np.maximum(variance, 0.0))
        used_keys, used_inverse = np.unique(np.r_[g * k + i, g * k + j], return_inverse=True)
        used = np.bincount(used_inverse, weights=np.r_[count, count])
        squares = np.bincount(used_keys // k, weights=used**2, minlength=n_groups)
        values = 2.0 * n
        expected_disagreement = values**2 - squares
        alpha = np.where((values <= 1) | (expected_disagreement <= 0), np.nan,
                         1.0 - (values - 1.0) * (values - 2.0 * diagonal) / expected_disagreement)
    return {"kappa": kappa, "variance": variance, "observed": observed, "expected": expected,
            "n": n, "alpha": alpha}
