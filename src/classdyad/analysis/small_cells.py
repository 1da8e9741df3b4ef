"""Disclosure control of group summaries: small cells hidden, and not recoverable from totals.

A group summary shown outside the researcher role (for example a teacher's interactions with
low-SES students) is a table of cells: one cell per level of a grouping variable within a margin
(a class in a wave). :func:`suppress_small_cells` hides

1. *primary* cells: fewer than ``min_cell`` students (zero included: an empty cell tells that
   every student belongs to the other levels);
2. *complementary* cells: the margin's total (the class size) is known, so a single hidden cell
   would come back by subtraction, and two hidden cells holding together fewer than ``min_cell``
   students (say 0 and 0) would still give each other away; the smallest shown cells are hidden
   as well until a margin has no hidden cell, or at least two hidden cells holding together at
   least ``min_cell`` students. Where a margin's total is below ``min_cell`` every cell is
   hidden.

Shares of the margin above ``1 - extreme_share`` are not given as numbers but as a bound
(``share_bound = "> 95 %"`` for the default 0.05), so an almost complete group does not reveal
the few students outside it. This is the cell-suppression rule of statistical agencies
(Hundepool et al. 2012, ch. 4-5: threshold rule with secondary suppression).

References
----------
Hundepool, A. et al. (2012). *Statistical Disclosure Control*. Chichester: Wiley.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from classdyad.errors import DataError

__all__ = ["suppress_small_cells"]


def suppress_small_cells(
    table: pd.DataFrame,
    *,
    margin: Sequence[str],
    count: str = "n",
    values: Sequence[str] = (),
    min_cell: int = 5,
    extreme_share: float = 0.05,
) -> pd.DataFrame:
    """Hide small cells of a group summary, with complementary suppression.

    Parameters
    ----------
    table
        One row per cell: the ``margin`` columns, a ``count`` column (students in the cell) and
        any ``values`` (summaries of the cell, such as a mean rate).
    margin
        Columns that together name one margin (e.g. ``["classroom", "wave", "group"]``); the
        cells of a margin add up to its total.
    count
        The column holding the number of students in each cell.
    values
        Columns hidden together with the count.
    min_cell
        Smallest number of students a shown cell may hold (5 by default, DESIGN.md).
    extreme_share
        Shares above ``1 - extreme_share`` are shown as a bound only.

    Returns
    -------
    pandas.DataFrame
        The table with ``count`` and ``values`` set to missing in hidden cells, plus
        ``total`` (the margin's total, always shown), ``share`` (count / total; missing when
        hidden or extreme), ``share_bound`` (``"> 95 %"`` for an extreme share, whose count is
        then not shown either; else ``None``)
        and ``suppressed`` (``"primary"``, ``"complementary"`` or ``None``).
    """
    if min_cell < 1:
        raise DataError(f"min_cell={min_cell!r} must be at least 1; the default is 5")
    if not 0.0 < extreme_share < 0.5:
        raise DataError(f"extreme_share={extreme_share!r} must be between 0 and 0.5; use 0.05")
    missing = [c for c in [*margin, count, *values] if c not in table.columns]
    if missing:
        raise DataError(f"the group summary has no column(s) {missing}; give the margin, count "
                        "and value columns it holds")
    out = table.copy().reset_index(drop=True)
    n = pd.to_numeric(out[count], errors="coerce").fillna(0).to_numpy(dtype=float)
    status = np.full(len(out), None, dtype=object)
    totals = np.zeros(len(out))
    for _, index in out.groupby(list(margin), sort=False, dropna=False).groups.items():
        rows = np.asarray(index)
        total = n[rows].sum()
        totals[rows] = total
        if total < min_cell:
            status[rows] = "primary"
            continue
        small = rows[n[rows] < min_cell]
        status[small] = "primary"
        while True:
            hidden = status[rows] != None  # noqa: E711 (element-wise comparison)
            shown = rows[~hidden]
            if shown.size == 0 or not hidden.any():
                break
            if hidden.sum() >= 2 and n[rows[hidden]].sum() >= min_cell:
                break
            status[shown[np.argmin(n[shown])]] = "complementary"
    out["total"] = totals.astype("int64")
    hide = status != None  # noqa: E711
    share = np.where(totals > 0, n / np.where(totals > 0, totals, 1.0), np.nan)
    extreme = (share > 1.0 - extreme_share) & ~hide
    percent = f"> {100.0 * (1.0 - extreme_share):g} %"
    out["share"] = np.where(hide | extreme, np.nan, share)
    out[count] = pd.Series(np.where(hide | extreme, np.nan, n), index=out.index).astype("Int64")
    for column in values:
        out[column] = out[column].astype(float).where(~hide)
    out["suppressed"] = pd.Series(list(status), index=out.index, dtype=object)
    out["share_bound"] = pd.Series([percent if e else None for e in extreme], index=out.index,
                                   dtype=object)
    return out
