"""Fleiss' kappa and Conger's exact kappa for more than two coders.

``N`` units are each coded by ``m`` coders into one of ``K`` categories; ``x[i, j]`` is the number
of coders who put unit ``i`` into category ``j`` and ``p[j] = sum_i x[i, j] / (N m)``:

* mean observed agreement ``P_bar = sum_i (sum_j x[i, j]^2 - m) / (N m (m - 1))``,
* chance agreement ``P_e = sum_j p[j]^2``, and Fleiss' kappa ``(P_bar - P_e) / (1 - P_e)``
  (Fleiss, 1971);
* its standard error under ``H0: kappa = 0`` (Fleiss, Nee & Landis, 1979)::

      se0 = sqrt(2 / (N m (m - 1))) * sqrt((sum_j p q)^2 - sum_j p q (q - p)) / sum_j p q

  with ``q = 1 - p``, and ``z = kappa / se0`` with a two-sided normal p-value;
* the kappa of each category, ``1 - sum_i x[i, j] (m - x[i, j]) / (N m (m - 1) p[j] q[j])``, with
  standard error ``sqrt(2 / (N m (m - 1)))`` under H0 (Fleiss, Nee & Landis, 1979);
* Conger's (1980) exact kappa, which keeps each coder's own marginal distribution: with
  ``p[c, j]`` the share of units coder ``c`` put in category ``j`` and ``s2[j]`` the (population,
  divisor ``m``) variance of ``p[., j]`` over coders, ``P_e = sum_j p[j]^2 - sum_j s2[j] / (m -
  1)`` and kappa ``(P_bar - P_e) / (1 - P_e)``. It needs to know which coder gave which code,
  so a table of counts gives ``nan``.

Undefined statistics (every code in one category; a category nobody used) are ``nan`` with an
:class:`~classdyad.errors.UndefinedStatisticWarning`, never 1.

Validated against ``irr::kappam.fleiss`` (irr 0.84.1, R 4.2.2) with ``detail = TRUE`` and
``exact = TRUE`` on Fleiss' (1971) diagnoses, irr's anxiety ratings and the worked example of
Wikipedia's "Fleiss' kappa" article (``tests/measures/golden/agreement_irr.R``).

References
----------
Conger, A. J. (1980). Integration and generalization of kappas for multiple raters.
*Psychological Bulletin*, 88(2), 322-328.

Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. *Psychological
Bulletin*, 76(5), 378-382.

Fleiss, J. L., Nee, J. C. M., & Landis, J. R. (1979). Large sample variance of kappa in the case
of different sets of raters. *Psychological Bulletin*, 86(5), 974-977.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from classdyad.errors import DataError, UndefinedStatisticWarning

__all__ = ["FleissKappa", "fleiss_kappa", "fleiss_kappa_from_counts"]


@dataclass(frozen=True)
class FleissKappa:
    """Fleiss' kappa of ``m`` coders, per category and overall, with Conger's exact kappa.

    Attributes
    ----------
    kappa
        Fleiss' kappa; ``nan`` where undefined.
    se, z, p_value
        Standard error under ``H0: kappa = 0`` (Fleiss, Nee & Landis, 1979), ``kappa / se`` and
        its two-sided normal p-value (``irr::kappam.fleiss``).
    observed_agreement, expected_agreement
        ``P_bar`` (mean agreement over units) and ``P_e`` (chance agreement).
    conger_kappa, conger_expected_agreement
        Conger's (1980) exact kappa and its chance agreement (``irr::kappam.fleiss(exact =
        TRUE)``); ``nan`` when computed from counts, which do not say who coded what.
    n_units, n_coders
        ``N`` and ``m``.
    categories
        One row per category: ``category``, ``proportion`` (``p[j]``), ``kappa``, ``se``, ``z``,
        ``p_value`` (``irr::kappam.fleiss(detail = TRUE)``, unrounded).
    counts
        The units x categories table of counts the statistics rest on.
    """

    kappa: float
    se: float
    z: float
    p_value: float
    observed_agreement: float
    expected_agreement: float
    conger_kappa: float
    conger_expected_agreement: float
    n_units: int
    n_coders: int
    categories: pd.DataFrame = field(repr=False)
    counts: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per category, then ``"(all)"`` with the overall kappa and its test."""
        overall = pd.DataFrame([{
            "category": "(all)", "proportion": 1.0, "kappa": self.kappa, "se": self.se,
            "z": self.z, "p_value": self.p_value}])
        table = pd.concat([self.categories.astype({"category": object}), overall],
                          ignore_index=True)
        return table

    def _repr_html_(self) -> str:
        head = (f"<p><b>Fleiss' kappa</b> {self.kappa:.3f} ({self.n_units} units, "
                f"{self.n_coders} coders; P-bar {self.observed_agreement:.3f}, P-e "
                f"{self.expected_agreement:.3f}; z {self.z:.2f}, p {self.p_value:.3g}). "
                f"Conger's exact kappa {self.conger_kappa:.3f}.</p>")
        return head + self.to_frame().to_html(index=False)


def _test(kappa: np.ndarray | float, se: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(np.asarray(se) > 0, np.asarray(kappa) / se, np.nan)
    return z, np.where(np.isfinite(z), 2 * stats.norm.sf(np.abs(z)), np.nan)


def _fleiss(counts: pd.DataFrame, coder_shares: np.ndarray | None) -> FleissKappa:
    x = counts.to_numpy(dtype=float)
    n_units = x.shape[0]
    m = float(x[0].sum())
    n_codes = n_units * m
    p = x.sum(axis=0) / n_codes
    q = 1.0 - p
    observed = float(((x**2).sum(axis=1) - m).sum() / (n_codes * (m - 1)))
    expected = float((p**2).sum())
    undefined = np.isclose(expected, 1.0, rtol=0.0, atol=1e-12)
    kappa = np.nan if undefined else (observed - expected) / (1.0 - expected)
    pq = float((p * q).sum())
    se = np.nan if undefined else float(
        np.sqrt(2.0 / (n_codes * (m - 1))) * np.sqrt(pq**2 - (p * q * (q - p)).sum()) / pq)
    z, p_value = _test(kappa, se)
    with np.errstate(divide="ignore", invalid="ignore"):
        category_kappa = 1.0 - (x * (m - x)).sum(axis=0) / (n_codes * (m - 1) * p * q)
    category_kappa = np.where(p * q > 0, category_kappa, np.nan)
    category_se = np.where(p * q > 0, np.sqrt(2.0 / (n_codes * (m - 1))), np.nan)
    category_z, category_p = _test(category_kappa, category_se)
    conger_expected = conger = np.nan
    if coder_shares is not None:
        # population variance over coders of each category's share, divided by m - 1
        conger_expected = float(expected - coder_shares.var(axis=0).sum() / (m - 1))
        if not np.isclose(conger_expected, 1.0, rtol=0.0, atol=1e-12):
            conger = (observed - conger_expected) / (1.0 - conger_expected)
    unused = [str(c) for c, share in zip(counts.columns, p, strict=True) if share in (0.0, 1.0)]
    if undefined:
        warnings.warn("Fleiss' kappa is undefined because every code is in one category "
                      "(chance agreement is 1); returned nan", UndefinedStatisticWarning,
                      stacklevel=3)
    elif unused:
        warnings.warn(f"the kappa of category {', '.join(unused[:10])} is undefined (used by no "
                      f"coder, or for every code); returned nan", UndefinedStatisticWarning,
                      stacklevel=3)
    categories = pd.DataFrame({
        "category": list(counts.columns), "proportion": p, "kappa": category_kappa,
        "se": category_se, "z": category_z, "p_value": category_p})
    return FleissKappa(
        kappa=float(kappa), se=float(se), z=float(z), p_value=float(p_value),
        observed_agreement=observed, expected_agreement=expected, conger_kappa=float(conger),
        conger_expected_agreement=conger_expected, n_units=n_units, n_coders=int(m),
        categories=categories, counts=counts)


def fleiss_kappa_from_counts(counts: pd.DataFrame | np.ndarray) -> FleissKappa:
    """Fleiss' kappa from a units x categories table of counts.

    Parameters
    ----------
    counts
        ``x[i, j]``: how many coders put unit ``i`` in category ``j``; every unit must have the
        same number of codes ``m >= 2`` (the coders may differ between units). A DataFrame's
        columns name the categories.

    Returns
    -------
    FleissKappa
        Conger's exact kappa is ``nan``: counts do not say which coder gave which code (use
        :func:`fleiss_kappa` on the codes).

    Notes
    -----
    Formulas in the module docstring; validated against ``irr::kappam.fleiss`` (irr 0.84.1).

    Examples
    --------
    >>> import numpy as np
    >>> result = fleiss_kappa_from_counts(np.array([[3, 0], [0, 3], [2, 1], [1, 2]]))
    >>> round(result.kappa, 4)
    0.3333
    """
    frame = counts if isinstance(counts, pd.DataFrame) else pd.DataFrame(np.asarray(counts))
    try:
        x = frame.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise DataError("counts must be numbers: how many coders put each unit (row) in each "
                        "category (column)") from None
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise DataError(f"counts must be a units x categories table; got shape {x.shape}")
    if not np.isfinite(x).all() or (x < 0).any() or (x != np.round(x)).any():
        raise DataError("counts must be whole numbers >= 0 (no missing cells); fill a category "
                        "nobody chose for a unit with 0")
    per_unit = x.sum(axis=1)
    if (per_unit != per_unit[0]).any():
        rows = np.flatnonzero(per_unit != per_unit[0])[:10]
        raise DataError(f"every unit needs the same number of codes for Fleiss' kappa; unit "
                        f"row(s) {', '.join(map(str, rows))} have a different number than row 0 "
                        f"({per_unit[0]:g}); drop them, or use krippendorff_alpha, which allows "
                        f"missing codes")
    if per_unit[0] < 2:
        raise DataError("Fleiss' kappa needs at least two codes per unit")
    return _fleiss(frame, None)


def fleiss_kappa(data: pd.DataFrame, *, unit: str, coder: str, value: str,
                 categories: Sequence | None = None) -> FleissKappa:
    """Fleiss' kappa and Conger's exact kappa of several coders who coded the same units.

    Parameters
    ----------
    data
        Long format: one row per unit and coder.
    unit, coder, value
        The columns naming the unit, the coder and the code given.
    categories
        All categories (so that an unused one still counts); default the sorted codes seen.

    Returns
    -------
    FleissKappa
        Overall and per-category kappas with their z tests, ``P_bar``, ``P_e`` and Conger's
        exact kappa.

    Notes
    -----
    Every coder must code every unit once (a complete design: Conger's kappa needs it); rows
    with a missing code are an error rather than dropped silently. With incomplete designs use
    :func:`~classdyad.measures.krippendorff_alpha`. Formulas in the module docstring;
    validated against ``irr::kappam.fleiss`` (irr 0.84.1) with ``detail = TRUE`` and
    ``exact = TRUE``.

    Examples
    --------
    >>> import pandas as pd
    >>> codes = pd.DataFrame({"lesson": [1, 1, 1, 2, 2, 2, 3, 3, 3],
    ...                       "coder": ["ann", "bob", "cas"] * 3,
    ...                       "valence": ["pos", "pos", "pos", "neg", "neg", "pos",
    ...                                   "neg", "neg", "neg"]})
    >>> result = fleiss_kappa(codes, unit="lesson", coder="coder", value="valence")
    >>> round(result.kappa, 4), round(result.conger_kappa, 4)
    (0.55, 0.5714)
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in (unit, coder, value) if c not in data.columns]
    if missing:
        raise DataError(f"data lacks the column(s) {', '.join(map(repr, missing))}; name the "
                        f"unit, coder and code columns with unit=, coder= and value=")
    frame = data[[unit, coder, value]]
    empty = frame.isna().any(axis=1)
    if empty.any():
        rows = list(frame.index[empty][:10])
        raise DataError(f"row(s) {rows} have no unit, coder or code; Fleiss' kappa needs every "
                        f"coder's code for every unit: drop those units, or use "
                        f"krippendorff_alpha, which allows missing codes")
    if frame.duplicated([unit, coder]).any():
        twice = frame[frame.duplicated([unit, coder], keep=False)].iloc[0]
        raise DataError(f"coder {twice[coder]!r} coded unit {twice[unit]!r} more than once; "
                        f"keep one code per unit and coder")
    if categories is None:
        categories = sorted(pd.unique(frame[value]), key=lambda v: (str(type(v)), v))
    index = pd.Index(list(categories))
    if index.has_duplicates:
        raise DataError("categories holds duplicates; list each category once")
    code = index.get_indexer(frame[value])
    if (code < 0).any():
        unknown = pd.unique(frame[value][code < 0])[:10]
        raise DataError(f"code(s) {', '.join(map(repr, unknown))} are not among the categories "
                        f"given; add them to categories= or fix the codes")
    unit_code, units = pd.factorize(frame[unit], sort=True)
    coder_code, coders = pd.factorize(frame[coder], sort=True)
    if len(coders) < 2:
        raise DataError("Fleiss' kappa needs at least two coders")
    if len(frame) != len(units) * len(coders):
        coded = np.zeros((len(units), len(coders)), dtype=bool)
        coded[unit_code, coder_code] = True
        lacking = list(units[~coded.all(axis=1)][:10])
        raise DataError(f"unit(s) {lacking} lack a code from some coder; Fleiss' and Conger's "
                        f"kappa need every coder to code every unit: drop those units, or use "
                        f"krippendorff_alpha, which allows missing codes")
    k = len(index)
    counts = np.bincount(unit_code * k + code, minlength=len(units) * k).reshape(len(units), k)
    by_coder = np.bincount(coder_code * k + code, minlength=len(coders) * k).reshape(
        len(coders), k) / len(units)
    table = pd.DataFrame(counts, index=units.rename(unit), columns=index.rename(value))
    return _fleiss(table, by_coder)
