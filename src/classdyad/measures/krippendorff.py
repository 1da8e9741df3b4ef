"""Krippendorff's alpha for any number of coders, missing values and four levels of measurement.

Data are units (here: coded events or lessons) x coders, some cells empty. Only units with at
least two values are *pairable*. With ``n[u, c]`` the number of values ``c`` in unit ``u`` and
``m[u]`` the number of values in the unit, the **coincidence matrix** is (Krippendorff, 2004,
sec. 11.3; 2011)::

    o[c, k] = sum_u (n[u, c] * n[u, k] - [c == k] * n[u, c]) / (m[u] - 1)

with margins ``n_c = sum_k o[c, k]`` and total ``n = sum_c n_c``. Then::

    alpha = 1 - (n - 1) * sum_{c,k} o[c, k] * d2(c, k) / sum_{c,k} n_c * n_k * d2(c, k)

with the squared difference ``d2`` of the level of measurement:

* nominal: ``d2 = 0`` if ``c == k`` else 1;
* ordinal (values ranked in order ``g``): ``d2 = (sum_{g=c}^{k} n_g - (n_c + n_k) / 2)^2``;
* interval: ``d2 = (c - k)^2``;
* ratio: ``d2 = ((c - k) / (c + k))^2``.

Alpha is undefined (``nan`` with :class:`~classdyad.errors.UndefinedStatisticWarning`) when no unit
is pairable or when all pairable values are equal (no expected disagreement).

Validated against the published values of Krippendorff's own example (4 observers x 12 units with
missing values; Krippendorff, 2011: nominal 0.743, ordinal 0.815, interval 0.849, ratio 0.797) and
of the worked example in Wikipedia's "Krippendorff's alpha" article (3 coders x 15 units: nominal
0.691, interval 0.811), and against the formulas above evaluated in R
(``tests/measures/golden/agreement_krippendorff.R``).

References
----------
Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard reliability measure for
coding data. *Communication Methods and Measures*, 1(1), 77-89.

Krippendorff, K. (2004). *Content analysis: An introduction to its methodology* (2nd ed.). Sage.

Krippendorff, K. (2011). *Computing Krippendorff's alpha-reliability*. Annenberg School for
Communication, University of Pennsylvania. https://repository.upenn.edu/asc_papers/43
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from classdyad.errors import DataError, UndefinedStatisticWarning, check_option

__all__ = ["KrippendorffAlpha", "alpha_from_coincidences", "krippendorff_alpha"]

Level = Literal["nominal", "ordinal", "interval", "ratio"]
_LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")


def _squared_differences(values: np.ndarray, margins: np.ndarray, level: Level) -> np.ndarray:
    k = len(values)
    if level == "nominal":
        return 1.0 - np.eye(k)
    if level == "ordinal":
        cumulative = np.concatenate([[0.0], np.cumsum(margins)])
        low = np.minimum.outer(np.arange(k), np.arange(k))
        high = np.maximum.outer(np.arange(k), np.arange(k))
        between = cumulative[high + 1] - cumulative[low]
        return (between - (margins[:, None] + margins[None, :]) / 2.0) ** 2
    v = values.astype(float)
    if level == "interval":
        return np.subtract.outer(v, v) ** 2
    total = np.add.outer(v, v)
    with np.errstate(invalid="ignore", divide="ignore"):
        d2 = (np.subtract.outer(v, v) / total) ** 2
    return np.where(total == 0, 0.0, d2)


def alpha_from_coincidences(coincidences: np.ndarray, *, level: Level = "nominal",
                            values: Sequence | None = None) -> float:
    """Krippendorff's alpha from a coincidence matrix; ``nan`` (no warning) where undefined.

    ``values`` are the numeric values of the categories (interval and ratio levels); the order of
    the rows is the rank order for the ordinal level.
    """
    check_option("level", level, _LEVELS)
    o = np.asarray(coincidences, dtype=float)
    margins = o.sum(axis=1)
    n = margins.sum()
    if o.shape[0] == 0 or n <= 1:
        return np.nan
    v = np.arange(o.shape[0], dtype=float) if values is None else np.asarray(values, dtype=float)
    d2 = _squared_differences(v, margins, level)
    expected = (np.outer(margins, margins) * d2).sum()
    if expected <= 0:
        return np.nan
    return float(1.0 - (n - 1.0) * (o * d2).sum() / expected)


@dataclass(frozen=True)
class KrippendorffAlpha:
    """Krippendorff's alpha for one level of measurement.

    Attributes
    ----------
    alpha
        The coefficient; ``nan`` where undefined.
    level
        ``"nominal"``, ``"ordinal"``, ``"interval"`` or ``"ratio"``.
    n_units, n_pairable_units, n_coders, n_values
        Units seen, units with at least two values, coders and pairable values (``n``).
    coincidences
        The coincidence matrix (categories x categories).
    """

    alpha: float
    level: Level
    n_units: int
    n_pairable_units: int
    n_coders: int
    n_values: float
    coincidences: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """One row: ``level, alpha, n_units, n_pairable_units, n_coders, n_values``."""
        return pd.DataFrame([{
            "level": self.level, "alpha": self.alpha, "n_units": self.n_units,
            "n_pairable_units": self.n_pairable_units, "n_coders": self.n_coders,
            "n_values": self.n_values,
        }])

    def _repr_html_(self) -> str:
        return (f"<p><b>Krippendorff's alpha</b> ({self.level})</p>"
                + self.to_frame().to_html(index=False))


def krippendorff_alpha(data: pd.DataFrame, *, unit: str, coder: str, value: str,
                       level: Level = "nominal",
                       categories: Sequence | None = None) -> KrippendorffAlpha:
    """Krippendorff's alpha of any number of coders, with missing values.

    Parameters
    ----------
    data
        Long format: one row per value a coder gave a unit. Rows with a missing value are
        ignored (a missing value is an unit the coder did not code).
    unit, coder, value
        Column names.
    level
        Level of measurement: ``"nominal"`` (default), ``"ordinal"``, ``"interval"`` or
        ``"ratio"``. Interval and ratio need numeric values.
    categories
        All categories in rank order (ordinal level) or the category set (nominal); by default
        the sorted values seen.

    Returns
    -------
    KrippendorffAlpha

    Notes
    -----
    Formulas in the module docstring (Krippendorff, 2011). Validated against published values
    (Krippendorff, 2011; Wikipedia's worked example); the R package ``irr`` was not used.

    Examples
    --------
    >>> import pandas as pd
    >>> long = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3], "coder": ["a", "b"] * 3,
    ...                      "value": ["x", "x", "y", "y", "x", "y"]})
    >>> round(krippendorff_alpha(long, unit="unit", coder="coder", value="value").alpha, 4)
    0.4444
    """
    check_option("level", level, _LEVELS)
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in (unit, coder, value) if c not in data.columns]
    if missing:
        raise DataError(f"data lacks the column(s) {', '.join(map(repr, missing))}; name the "
                        f"unit, coder and value columns with unit=, coder= and value=")
    long = data[[unit, coder, value]].dropna(subset=[value])
    if long[[unit, coder]].duplicated().any():
        raise DataError("a coder gave one unit more than one value; keep one row per unit and "
                        "coder (long format)")
    if categories is None:
        categories = sorted(pd.unique(long[value]))
    index = pd.Index(list(categories))
    code = index.get_indexer(long[value])
    if (code < 0).any():
        bad = pd.unique(long[value][code < 0])[:10]
        raise DataError(f"value(s) {', '.join(map(repr, bad))} are not among the categories "
                        f"given; add them to categories=")
    numeric = None
    if level in ("interval", "ratio"):
        numeric = pd.to_numeric(pd.Series(index), errors="coerce").to_numpy(dtype=float)
        if np.isnan(numeric).any():
            raise DataError(f"the {level} level needs numeric values; use level='nominal' or "
                            f"'ordinal' for labels")
        if level == "ratio" and (numeric < 0).any():
            raise DataError("the ratio level needs values >= 0; use level='interval'")
    units = pd.Index(pd.unique(long[unit]))
    unit_code = units.get_indexer(long[unit])
    k = len(index)
    counts = np.zeros((len(units), k))
    np.add.at(counts, (unit_code, code), 1.0)
    m = counts.sum(axis=1)
    pairable = m >= 2
    c = counts[pairable]
    weight = 1.0 / (m[pairable] - 1.0)
    o = (c * weight[:, None]).T @ c - np.diag((c * weight[:, None]).sum(axis=0))
    alpha = alpha_from_coincidences(o, level=level, values=numeric)
    if np.isnan(alpha):
        why = ("no unit has values from two coders" if not pairable.any() else
               "all pairable values are equal, so no disagreement can be expected")
        warnings.warn(f"Krippendorff's alpha is undefined because {why}; returned nan",
                      UndefinedStatisticWarning, stacklevel=2)
    return KrippendorffAlpha(
        alpha=alpha, level=level, n_units=len(units), n_pairable_units=int(pairable.sum()),
        n_coders=int(long[coder].nunique()), n_values=float(o.sum()),
        coincidences=pd.DataFrame(o, index=index, columns=index))
