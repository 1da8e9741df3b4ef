"""Grouping factors and columns for :mod:`classdyad.mixed._formula`: each column taken out of
the data frame once, missing values found per column, and a grouping factor's integer codes
(sorted levels, as lme4's factors) with its level labels built when first read (a fit needs only
the codes; the labels name the conditional modes).

Columns are read as the arrays pandas stores (no ``Series`` is built for them), and the
common grouping columns are coded without pandas' general factorisation: integer columns and
text columns whose rows come sorted by the column (one run of rows per level, the runs in
increasing order, as data exported per school, class and student usually are) from the
positions where the value changes; other integer columns with a table over their range; other
pyarrow-backed text columns by arrow's dictionary encoding of the values of their runs of equal
rows, with the (few) distinct values sorted afterwards. The codes and levels are those of
``pandas.factorize(column, sort=True)``.
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
    "column_values",
    "group_codes",
    "label",
    "mark_missing",
]


def column_values(frame: pd.DataFrame, name: Any) -> Any:
    """The values of column ``name`` as pandas stores them: a numpy array or a pandas extension
    array (read only; never modify it).

    Uses the frame's own per-column accessor where the column name is unique (building a
    ``Series`` costs several times more than the values), ``frame[name].array`` otherwise.
    """
    getter = getattr(frame, "_get_column_array", None)
    if getter is not None:
        try:
            position = frame.columns.get_loc(name)
        except (KeyError, TypeError):
            position = None
        if isinstance(position, int):
            values = getter(position)
            if isinstance(values, np.ndarray | pd.api.extensions.ExtensionArray):
                return values
    series = frame[name]
    if not isinstance(series, pd.Series):  # a repeated column name
        return series.iloc[:, 0].array
    return series.array


def as_float(values: Any) -> np.ndarray:
    """A column's values as a float array (``Series.to_numpy(dtype=float)``)."""
    if isinstance(values, np.ndarray):
        return values.astype(float, copy=False)
    return values.to_numpy(dtype=float)


def as_numpy(values: Any) -> np.ndarray:
    """A column's values as a numpy array (``Series.to_numpy()``)."""
    return values if isinstance(values, np.ndarray) else values.to_numpy()


class CachedColumns:
    """A DataFrame's columns, each taken out once (pandas' column access is not free): what
    the direct builders use of a frame (``columns``, :meth:`values`, ``len(frame)``)."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.columns = frame.columns
        self._taken: dict[Any, Any] = {}

    def values(self, name: Any) -> Any:
        """The column's values (:func:`column_values`), taken out on first use."""
        taken = self._taken.get(name)
        if taken is None:
            taken = self._taken[name] = column_values(self.frame, name)
        return taken

    def __len__(self) -> int:
        return len(self.frame)


def values_of(data: pd.DataFrame | CachedColumns, name: Any) -> Any:
    """Column ``name`` of a data frame or of its :class:`CachedColumns`."""
    if isinstance(data, CachedColumns):
        return data.values(name)
    return column_values(data, name)


def label(value: Any) -> str:
    """A level's label: its text."""
    return str(value)


def mark_missing(column: Any, complete: np.ndarray) -> None:
    """Set ``complete`` to False where ``column`` (a column's values) is missing (numpy integer
    and boolean columns cannot be; float columns are checked for NaN without pandas' general
    machinery)."""
    kind = column.dtype.kind if isinstance(column, np.ndarray) else ""
    if kind in "iub" and kind:
        return
    if kind == "f":
        complete &= ~np.isnan(column)
    elif kind:
        complete &= ~pd.isna(column)
    elif not _arrow_without_missing(column):
        complete &= ~np.asarray(column.isna(), dtype=bool)


def _arrow_without_missing(column: Any) -> bool:
    """Whether ``column`` is a pyarrow-backed extension array with no missing value (arrow
    counts them when the array is built)."""
    if getattr(column.dtype, "storage", None) != "pyarrow" or not hasattr(column,
                                                                          "__arrow_array__"):
        return False
    return column.__arrow_array__().null_count == 0


#: a variable's factorisation: sorted integer codes, number of levels and the level labels
#: (built on demand)
Factorization = tuple[np.ndarray, int, Callable[[], list[str]]]


def _run_starts(change: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes that count the changes before each row, and the rows where a run starts."""
    codes = np.zeros(change.size + 1, dtype=np.int64)
    np.cumsum(change, out=codes[1:])
    return codes, np.flatnonzero(np.concatenate(([True], change)))


def _integer_factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted codes and levels of a numpy integer column: from the changes when it comes
    sorted; when its rows come in runs of equal values (far fewer runs than rows), by coding
    the runs' values; otherwise by :func:`_unsorted_integer_factorize`."""
    if values.size < 2:
        return np.zeros(values.size, dtype=np.int64), values.copy()
    head, tail = values[:-1], values[1:]
    change = tail != head
    if (tail >= head).all():
        codes, starts = _run_starts(change)
        return codes, values[starts]
    if 2 * int(np.count_nonzero(change)) < values.size:
        run_codes, starts = _run_starts(change)
        codes, uniques = _unsorted_integer_factorize(values[starts])
        return codes[run_codes], uniques
    return _unsorted_integer_factorize(values)


def _unsorted_integer_factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted codes and levels of integers: from a table over their range when that is not
    much larger than the column, else by ``pandas.factorize``."""
    low, high = values.min(), values.max()
    if int(high) - int(low) <= 4 * values.size:
        offset = (values - low).astype(np.intp)
        present = np.zeros(int(high) - int(low) + 1, dtype=bool)
        present[offset] = True
        rank = np.cumsum(present, dtype=np.int64) - 1
        return rank[offset], (np.flatnonzero(present) + low).astype(values.dtype)
    if values.size <= 500:  # (a sort costs less than pandas' hashing of few values)
        uniques, codes = np.unique(values, return_inverse=True)
        return codes.astype(np.int64).ravel(), uniques
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.int64), np.asarray(uniques)


def _arrow_strings(values: Any) -> Any:
    """The pyarrow (large) string array behind a pyarrow-backed text column without missing
    values, or None for other columns."""
    if getattr(values.dtype, "storage", None) != "pyarrow" or not pd.api.types.is_string_dtype(
            values.dtype) or not hasattr(values, "__arrow_array__"):
        return None
    import pyarrow as pa

    array = values.__arrow_array__()
    if isinstance(array, pa.ChunkedArray):
        array = array.chunk(0) if array.num_chunks == 1 else array.combine_chunks()
    if array.null_count or len(array) < 2 or not (pa.types.is_string(array.type)
                                                  or pa.types.is_large_string(array.type)):
        return None
    return array


def _fixed_width_text_factorize(array: Any) -> Factorization | None:
    """Sorted codes of an arrow string array whose values all have the same length of at most
    16 bytes (codes such as ``"P000123"``), or None.

    The bytes of each value, read from the array's buffers, are packed into one or two
    unsigned integers whose order is the bytes' order (arrow's order of text), and those are
    coded as integers (two words as the interaction of their codes).
    """
    import pyarrow as pa

    n = len(array)
    offsets_type = np.int64 if pa.types.is_large_string(array.type) else np.int32
    buffers = array.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offsets_type)[array.offset: array.offset + n + 1]
    first = int(offsets[0])
    width = int(offsets[1]) - first
    if not 0 < width <= 16 or int(offsets[-1]) - first != n * width or not (
            np.diff(offsets) == width).all():
        return None
    words = 1 if width <= 8 else 2
    packed = np.zeros((n, 8 * words), dtype=np.uint8)
    packed[:, :width] = np.frombuffer(buffers[2], dtype=np.uint8)[
        first: first + n * width].reshape(n, width)
    keys = packed.view(">u8").astype(np.uint64)  # big-endian: the integers' order is the bytes'
    codes, uniques = _integer_factorize(keys[:, 0])
    if words == 2:
        codes_2, uniques_2 = _integer_factorize(keys[:, 1])
        codes, uniques = _integer_factorize(codes * uniques_2.size + codes_2)
    size = uniques.size

    def labels() -> list[str]:
        rows = np.empty(size, dtype=np.int64)  # each level's first row
        rows[codes[::-1]] = np.arange(n - 1, -1, -1)
        return array.take(pa.array(rows)).to_pylist()

    return codes.ravel(), size, labels


def _arrow_text_factorize(array: Any) -> Factorization:
    """Sorted codes of an arrow string array without missing values.

    The column is cut into runs of equal values; when the runs' values increase, they are the
    levels. Otherwise the runs' values (often far fewer than the rows: a student's rows stay
    together) are coded by arrow's dictionary encoding and its distinct values sorted (arrow's
    order, as pandas' sort of such a column).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(array)
    change = pc.not_equal(array.slice(1), array.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    codes, starts = _run_starts(change)
    levels = array.take(pa.array(starts))
    k = len(levels)
    if k < 2 or pc.all(pc.less(levels.slice(0, k - 1), levels.slice(1))).as_py():
        return codes, k, levels.to_pylist
    encoded = levels.dictionary_encode()  # the runs' values (a level may have several runs)
    order = pc.array_sort_indices(encoded.dictionary).to_numpy(zero_copy_only=False)
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    codes = rank[encoded.indices.to_numpy(zero_copy_only=False)][codes]
    return codes, order.size, encoded.dictionary.take(pa.array(order)).to_pylist


def _factorize(values: Any) -> Factorization:
    """``pandas.factorize(values, sort=True)`` with the labels :func:`label` gives, by the
    fast paths of the module docstring where they apply."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        codes, uniques = _integer_factorize(values)
        return codes, uniques.size, lambda: [label(v) for v in uniques.tolist()]
    array = None if isinstance(values, np.ndarray) else _arrow_strings(values)
    if array is not None:
        fast = _fixed_width_text_factorize(array)
        return fast if fast is not None else _arrow_text_factorize(array)
    if not pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
        codes, uniques = pd.factorize(values, sort=True)
    else:  # text: factorised unsorted, the (fewer) levels sorted afterwards
        codes, uniques = pd.factorize(values, sort=False)
        order = np.asarray(uniques.argsort())
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        codes, uniques = rank[codes], uniques.take(order)
    text = pd.api.types.is_string_dtype(uniques)
    return (codes.astype(np.int64), len(uniques),
            lambda: uniques.tolist() if text else [label(v) for v in uniques.tolist()])


def group_codes(
    data: pd.DataFrame | CachedColumns, variables: tuple[str, ...],
    factorized: dict[str, Factorization] | None = None,
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
            factorized[name] = _factorize(values_of(data, name))
        keys.append(factorized[name])
    if len(variables) == 1:
        codes, size, labels = keys[0]
        return codes, LazyLevels(size, lambda: pd.Index(labels(), dtype=object))
    combined = keys[0][0]
    for codes, size, _ in keys[1:]:
        combined = combined * size + codes
    codes, observed = _integer_factorize(combined)  # (the combinations' keys, sorted)
    all_labels = [labels for _, _, labels in keys]
    return codes.astype(np.int64, copy=False).ravel(), LazyLevels(
        observed.size, lambda: _interaction_labels(observed, all_labels))


def _interaction_labels(observed: np.ndarray,
                        all_labels: list[Callable[[], list[str]]]) -> pd.Index:
    """Labels ``"a:b"`` of an interaction's observed combinations (keys of mixed radix)."""
    parts = []
    for labels in reversed(all_labels):  # each variable's code from the combined key
        values = labels()
        parts.append([values[c] for c in (observed % len(values)).tolist()])
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
