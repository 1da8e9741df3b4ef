"""Grouping factors and columns for :mod:`classdyad.mixed._formula`: each column taken out of
the data frame once, missing values found per column, and a grouping factor's integer codes
(sorted levels, as lme4's factors) with its level labels built when first read (a fit needs only
the codes; the labels name the conditional modes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CachedColumns",
    "LazyLevels",
    "LevelsField",
    "group_codes",
    "label",
    "mark_missing",
]


class CachedColumns:
    """A DataFrame's columns, each taken out once (pandas' column access is not free): what
    the direct builders use of a frame (``columns``, ``frame[name]``, ``len(frame)``)."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.columns = frame.columns
        self._taken: dict[Any, pd.Series] = {}

    def __getitem__(self, name: Any) -> pd.Series:
        if name not in self._taken:
            self._taken[name] = self.frame[name]
        return self._taken[name]

    def __len__(self) -> int:
        return len(self.frame)


def label(value: Any) -> str:
    """A level's label: its text."""
    return str(value)


def mark_missing(column: pd.Series, complete: np.ndarray) -> None:
    """Set ``complete`` to False where ``column`` is missing (numpy integer and boolean columns
    cannot be; float columns are checked for NaN without pandas' general machinery)."""
    kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else ""
    if kind in "iub" and kind:
        return
    if kind == "f":
        complete &= ~np.isnan(column.to_numpy())
    else:
        complete &= column.notna().to_numpy()


def _sorted_factorize(column: pd.Series) -> tuple[np.ndarray, Any]:
    """``pandas.factorize(column, sort=True)``; text columns are factorised unsorted and their
    (fewer) levels sorted afterwards, which costs less than sorting while factorising."""
    if not pd.api.types.is_string_dtype(column.dtype) or column.dtype == object:
        return pd.factorize(column, sort=True)
    codes, uniques = pd.factorize(column, sort=False)
    order = np.asarray(uniques.argsort())
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[codes], uniques.take(order)


def group_codes(
    data: pd.DataFrame, variables: tuple[str, ...], factorized: dict[str, tuple] | None = None
) -> tuple[np.ndarray, LazyLevels]:
    """Integer codes and sorted level labels of a (possibly interacted) grouping factor (the
    labels built when first read: many fits never need them).

    ``factorized`` caches each variable's sorted factorisation across the terms of a formula
    (``school`` is factorised once for ``(1 | school/classroom)``). The levels of an interaction
    are its observed combinations in lexicographic order of the variables' sorted codes.
    """
    factorized = {} if factorized is None else factorized
    keys = []
    for name in variables:
        if name not in factorized:
            codes, uniques = _sorted_factorize(data[name])
            factorized[name] = (codes.astype(np.int64), uniques)
        keys.append(factorized[name])
    if len(variables) == 1:
        codes, uniques = keys[0]
        return codes, LazyLevels(len(uniques), lambda: _level_labels(uniques))
    combined = np.zeros(len(data), dtype=np.int64)
    space = 1
    for codes, uniques in keys:
        combined = combined * len(uniques) + codes
        space *= len(uniques)
    if space <= 8 * len(data):  # a table over all combinations is cheaper than sorting
        present = np.zeros(space, dtype=bool)
        present[combined] = True
        observed = np.flatnonzero(present)
        codes = (np.cumsum(present) - 1)[combined]
    else:
        observed, codes = np.unique(combined, return_inverse=True)
    all_uniques = [uniques for _, uniques in keys]
    return codes.astype(np.int64).ravel(), LazyLevels(
        observed.size, lambda: _interaction_labels(observed, all_uniques))


def _level_labels(uniques: Any) -> pd.Index:
    """Level labels of one grouping variable: text levels as they are, others by ``str``."""
    values = uniques.tolist()
    if not pd.api.types.is_string_dtype(uniques):
        values = [label(v) for v in values]
    return pd.Index(values, dtype=object)


def _interaction_labels(observed: np.ndarray, all_uniques: list[Any]) -> pd.Index:
    """Labels ``"a:b"`` of an interaction's observed combinations (keys of mixed radix)."""
    parts = []
    for uniques in reversed(all_uniques):  # each variable's code from the combined key
        values = uniques.tolist()
        parts.append([label(values[c]) for c in (observed % len(values)).tolist()])
        observed = observed // len(values)
    return pd.Index([":".join(row) for row in zip(*reversed(parts), strict=True)], dtype=object)


class LazyLevels:
    """A grouping factor's level labels, built when first read (their count is known before):
    the value of :attr:`RandomTerm.levels` until then."""

    __slots__ = ("build", "size")

    def __init__(self, size: int, build: Callable[[], pd.Index]):
        self.size, self.build = size, build


class LevelsField:
    """Data descriptor of :attr:`RandomTerm.levels`: builds ``LazyLevels`` on first read."""

    def __get__(self, instance: Any, owner: type | None = None) -> pd.Index:
        if instance is None:
            raise AttributeError("levels")
        value = instance.__dict__["levels"]
        if isinstance(value, LazyLevels):
            value = instance.__dict__["levels"] = value.build()
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__["levels"] = value
