"""lme4-style mixed-model formulas turned into design matrices.

A mixed-model formula has a fixed part, written as for any regression model, and random-effects
terms in parentheses with a bar::

    mathgain ~ mathkind + C(sex) + np.log(ses + 2) + (1 | schoolid/classid)
    Reaction ~ Days + (Days || Subject)
    diameter ~ 1 + (1 | plate) + (1 | sample)

The fixed part (and the left-hand side of each bar) is handed to `formulaic`, so factors get
treatment coding with the first level as reference (``C(x, contr.treatment("b"))`` chooses
another; the ``reference=`` argument of :func:`build_design` does the same for plain columns),
``a*b`` and ``a:b`` make interactions, and transformations such as ``np.log(x)``,
``scale(x)``, ``center(x)`` and ``factor(x)`` (an alias of ``C(x)``) are evaluated on the data.
``offset(expr)`` in the fixed part adds a known offset to the linear predictor, as in lme4.

Random-effects terms follow lme4 (Bates et al. 2015, section 2.1):

============================  ==========================================================
``(1 | g)``                   a random intercept per level of ``g``
``(1 + x | g)``, ``(x | g)``  correlated random intercept and slope of ``x``
``(0 + x | g)``               a random slope without intercept
``(1 + x || g)``              uncorrelated: expands to ``(1 | g) + (0 + x | g)``
``(1 | school/classroom)``    nested: expands to ``(1 | school) + (1 | school:classroom)``
``(1 | a:b)``                 one level per observed combination of ``a`` and ``b``
``(1 | a) + (1 | b)``         crossed factors
============================  ==========================================================

Public API (stable; the linear and generalized mixed-model engines build on it)
------------------------------------------------------------------------------
:func:`parse_formula` (formula text -> :class:`ParsedFormula`, no data needed; defined in
:mod:`classdyad.mixed._formula_parsing` and importable from here)
    ``response`` (left-hand side text), ``fixed`` (the fixed part as a formulaic right-hand side,
    ``"1"`` when empty), ``offsets`` (tuple of expressions inside ``offset()``) and ``random``
    (tuple of :class:`RandomTermSpec`: ``effects`` (the text left of the bar, e.g. ``"1 + x"``),
    ``group`` (e.g. ``"school:classroom"``), ``group_variables`` (``("school", "classroom")``),
    all already expanded for ``/`` and ``||``).
:func:`build_design` (formula and DataFrame -> :class:`MixedDesign`)
    ``response`` (n,) float array; ``fixed`` (n, p) float array with ``fixed_names`` (lme4-style:
    ``"(Intercept)"``, formulaic names for the rest); ``offset`` (n,) array (zeros when none);
    ``random_terms`` (tuple of :class:`RandomTerm`, one per expanded term, in formula order:
    ``name`` (the grouping factor, e.g. ``"school:classroom"``), ``effect_names`` (q names, e.g.
    ``("(Intercept)", "Days")``), ``matrix`` (n, q), ``codes`` (n,) int level index,
    ``levels`` (the level labels, sorted), ``n_levels``, ``n_effects``); ``rows`` (the index labels
    of the data rows used after dropping rows with missing values) and ``n_dropped``;
    ``dropped_columns`` (fixed-effect columns dropped as collinear); ``data`` (the rows used, for
    refitting). Methods: ``random_design_matrix()`` (sparse Z, n x sum(n_levels * n_effects),
    term by term, level-major with the effects of one level adjacent, as lme4's Z),
    ``fixed_matrix(newdata)``, ``offset_vector(newdata)`` and ``random_matrices(newdata)``
    (per term: (codes, matrix) with code -1 for a level not seen in the fitted data), which is what
    ``predict(newdata)`` needs.

Rank-deficient fixed effects are handled as lme4 does (``lFormula``, ``checkRank``): the columns
that are linear combinations of earlier ones are dropped with a :class:`DataWarning` naming them
(lme4: "fixed-effect model matrix is rank deficient so dropping N columns / coefficients").
A grouping factor with as many levels as observations cannot be told apart from the residual
and raises :class:`FormulaError` (lme4: "number of levels of each grouping factor must be <
number of observations").

References
----------
Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models using
lme4. *Journal of Statistical Software*, 67(1), 1-48. doi:10.18637/jss.v067.i01
"""

from __future__ import annotations

import copy
import functools
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp
from formulaic import Formula, model_matrix
from formulaic.model_spec import ModelSpec
from formulaic.transforms.contrasts import C

from classdyad.errors import DataWarning, FormulaError
from classdyad.mixed._formula_grouping import (
    CachedColumns,
    LazyLevels,
    LevelsField,
    as_float,
    as_numpy,
    group_codes,
    label,
    mark_missing,
    values_of,
)
from classdyad.mixed._formula_parsing import ParsedFormula, RandomTermSpec, parse_formula

__all__ = [
    "MixedDesign",
    "ParsedFormula",
    "RandomTerm",
    "RandomTermSpec",
    "build_design",
    "parse_formula",
]

_INTERCEPT = "(Intercept)"
_CONTEXT: dict[str, Any] = {"np": np, "factor": C, "C": C}


@dataclass(frozen=True, eq=False)
class RandomTerm:
    """One random-effects term built on data: its grouping factor and its model matrix."""

    name: str
    group_variables: tuple[str, ...]
    effect_names: tuple[str, ...]
    matrix: np.ndarray
    codes: np.ndarray
    levels: pd.Index
    spec: ModelSpec | None = field(repr=False)
    direct_columns: tuple[Any, ...] | None = field(default=None, repr=False)
    direct_intercept: bool = field(default=False, repr=False)

    @property
    def n_levels(self) -> int:
        """Number of levels of the grouping factor (without building their labels)."""
        value = self.__dict__["levels"]
        return value.size if isinstance(value, LazyLevels) else len(value)

    @property
    def n_effects(self) -> int:
        """Number of random effects per level (1 for a random intercept)."""
        return self.matrix.shape[1]

    def effect_matrix(self, data: pd.DataFrame) -> np.ndarray:
        """The term's (n, q) effect matrix evaluated on (new) data."""
        if self.spec is not None:
            return np.asarray(self.spec.get_model_matrix(data, context=_CONTEXT), dtype=float)
        return _direct_matrix(data, self.direct_intercept, self.direct_columns or ())


@dataclass(frozen=True, eq=False)
class MixedDesign:
    """Response, fixed-effects matrix and random-effects terms of a mixed model on data.

    See the module docstring for the meaning of each field.
    """

    formula: str
    parsed: ParsedFormula
    response_name: str
    response: np.ndarray
    fixed: np.ndarray
    fixed_names: tuple[str, ...]
    offset: np.ndarray
    random_terms: tuple[RandomTerm, ...]
    rows: pd.Index
    n_dropped: int
    dropped_columns: tuple[str, ...]
    data: pd.DataFrame = field(repr=False)
    fixed_spec: ModelSpec | None = field(repr=False)
    kept_columns: np.ndarray = field(repr=False)
    reference: Mapping[str, Any] | None = field(default=None, repr=False)
    fixed_direct: tuple[bool, tuple[Any, ...]] | None = field(default=None, repr=False)

    @property
    def n_obs(self) -> int:
        """Number of observations used."""
        return len(self.response)

    def with_response(self, response: np.ndarray) -> MixedDesign:
        """The same design with another response vector (``dataclasses.replace`` without
        re-running the constructor: a refit's hot path)."""
        new = copy.copy(self)
        object.__setattr__(new, "response", response)
        return new

    def random_design_matrix(self) -> sp.csc_matrix:
        """Sparse random-effects design matrix Z (lme4's column order: term, level, effect)."""
        blocks = []
        n = self.n_obs
        for term in self.random_terms:
            q = term.n_effects
            rows = np.repeat(np.arange(n), q)
            cols = (term.codes[:, None] * q + np.arange(q)[None, :]).ravel()
            blocks.append(
                sp.csc_matrix(
                    (term.matrix.ravel(), (rows, cols)), shape=(n, term.n_levels * q)
                )
            )
        return sp.hstack(blocks, format="csc")

    def _prepare(self, newdata: pd.DataFrame) -> pd.DataFrame:
        return _apply_reference(newdata, self.reference)

    def fixed_matrix(self, newdata: pd.DataFrame) -> np.ndarray:
        """Fixed-effects matrix for new data (same columns as :attr:`fixed`)."""
        prepared = self._prepare(newdata)
        if self.fixed_spec is None and self.fixed_direct is not None:
            full = _direct_matrix(prepared, *self.fixed_direct)
        else:
            full = np.asarray(
                self.fixed_spec.get_model_matrix(prepared, context=_CONTEXT), dtype=float
            )
        return full[:, self.kept_columns]

    def offset_vector(self, newdata: pd.DataFrame) -> np.ndarray:
        """The formula's ``offset()`` terms evaluated on new data (zeros when there are none)."""
        return _offsets(self.parsed.offsets, self._prepare(newdata))

    def random_matrices(self, newdata: pd.DataFrame) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per random term: level codes (-1 for unseen levels) and effect matrix for new data."""
        prepared = self._prepare(newdata)
        out = []
        for term in self.random_terms:
            labels = _group_labels(prepared, term.group_variables)
            codes = term.levels.get_indexer(pd.Index(labels))
            out.append((codes.astype(np.int64), term.effect_matrix(prepared)))
        return out


def _apply_reference(data: pd.DataFrame, reference: Mapping[str, Any] | None) -> pd.DataFrame:
    if not reference:
        return data
    data = data.copy()
    for column, level in reference.items():
        if column not in data.columns:
            raise FormulaError(
                f"reference= names column {column!r}, which is not in the data; "
                f"use one of {', '.join(map(str, data.columns))}"
            )
        values = data[column]
        observed = (
            list(values.cat.categories)
            if isinstance(values.dtype, pd.CategoricalDtype)
            else sorted(values.dropna().unique().tolist())
        )
        if level not in observed:
            raise FormulaError(
                f"reference level {level!r} of column {column!r} does not occur in the data; "
                f"use one of {', '.join(map(repr, observed))}"
            )
        ordered = [level] + [v for v in observed if v != level]
        data[column] = pd.Categorical(values, categories=ordered)
    return data


def _group_labels(data: pd.DataFrame, variables: tuple[str, ...]) -> np.ndarray:
    """Level labels as text (``"s1:a"`` for ``school:classroom``), one per row."""
    columns = [data[v].tolist() for v in variables]
    if len(columns) == 1:
        return np.array([label(v) for v in columns[0]], dtype=object)
    return np.array([":".join(map(label, row)) for row in zip(*columns, strict=True)],
                    dtype=object)


RandomTerm.levels = LevelsField()  # type: ignore[assignment]


def _rename(names: list[str]) -> tuple[str, ...]:
    return tuple(_INTERCEPT if name == "Intercept" else str(name) for name in names)


def _offsets(expressions: tuple[str, ...], data: pd.DataFrame) -> np.ndarray:
    total = np.zeros(len(data))
    for expression in expressions:
        frame = model_matrix(f"0 + {expression}", data, context=_CONTEXT, na_action="ignore")
        total += np.asarray(frame, dtype=float)[:, 0]
    return total


@functools.lru_cache(maxsize=1024)
def _formula_object(text: str) -> Formula:
    return Formula(text)


@functools.lru_cache(maxsize=1024)
def _required_variables(text: str) -> frozenset[str]:
    return frozenset(str(v) for v in _formula_object(text).required_variables)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


def _is_plain_numeric(data: pd.DataFrame | CachedColumns, name: str) -> bool:
    if name not in data.columns:
        return False
    dtype = values_of(data, name).dtype
    if isinstance(dtype, np.dtype):
        return dtype.kind in "iuf"
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


_FACTOR = re.compile(r"(factor|C)\(\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\)")

#: one column of a directly built matrix: a numeric column's name, or (term text, column, levels)
#: of a treatment-coded factor
DirectItem = str | tuple[str, str, tuple[Any, ...]]


def _factor_levels(data: pd.DataFrame | CachedColumns, name: str) -> tuple[Any, ...] | None:
    if name not in data.columns:
        return None
    values = values_of(data, name)
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return None
    if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
        return None
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":  # (numpy integers cannot be missing)
        return tuple(_integer_levels(values).tolist())
    try:
        return tuple(sorted(pd.unique(values[~pd.isna(values)]).tolist()))
    except TypeError:  # mixed types: leave it to formulaic
        return None


def _direct_effects(
    text: str, data: pd.DataFrame
) -> tuple[bool, tuple[DirectItem, ...]] | None:
    """``(intercept, items)`` when ``text`` is a sum of simple terms, else None.

    Simple terms are ``1``, ``0``, numeric column names and, with an intercept, ``factor(col)``
    or ``C(col)`` of a numeric or text column (treatment coding, sorted levels, the first as
    reference). They are built without formulaic, with the same columns, names and order.
    """
    intercept, items = True, []
    for raw in text.split("+"):
        token = raw.strip()
        if token == "1":
            continue
        factor = _FACTOR.fullmatch(token)
        if token in ("0", "-1"):
            intercept = False
        elif _NAME.fullmatch(token) and _is_plain_numeric(data, token):
            items.append(token)
        elif factor is not None:
            levels = _factor_levels(data, factor.group(2))
            if levels is None:
                return None
            items.append((token, factor.group(2), levels))
        else:
            return None
    if not intercept and any(isinstance(item, tuple) for item in items):
        return None  # formulaic codes the first factor in full without an intercept
    return intercept, tuple(items)


def fixed_terms(text: str) -> tuple[bool, tuple[str, ...]]:
    """``(intercept, column names)`` of a fixed part made of ``1``, ``0`` and plain column
    names (what a model built from arrays can hold); :class:`FormulaError` otherwise."""
    intercept, items = True, []
    for raw in text.split("+"):
        token = raw.strip()
        if token == "1":
            continue
        if token in ("0", "-1"):
            intercept = False
        elif _NAME.fullmatch(token):
            items.append(token)
        else:
            raise FormulaError(
                f"fixed effects {text!r}: {token!r} is not a column name; a model built from "
                "arrays takes plain columns only, so fit it with lmm() on a data frame"
            )
    return intercept, tuple(items)


def _direct_names(intercept: bool, items: tuple[DirectItem, ...]) -> list[str]:
    names = ["Intercept"] if intercept else []
    for item in items:
        if isinstance(item, str):
            names.append(item)
        else:
            token, _, levels = item
            names += [f"{token}[T.{level}]" for level in levels[1:]]
    return names


def _integer_levels(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer column (``numpy.unique``; a table over the
    range where that is small, e.g. the waves 1-3 of thousands of rows)."""
    if values.size == 0:
        return values
    low, high = values.min(), values.max()
    if int(high) - int(low) > 4 * values.size:
        return np.unique(values)
    present = np.zeros(int(high) - int(low) + 1, dtype=bool)
    present[(values - low).astype(np.intp)] = True
    return (np.flatnonzero(present) + low).astype(values.dtype)


def _direct_matrix(
    data: pd.DataFrame | CachedColumns, intercept: bool, items: tuple[DirectItem, ...]
) -> np.ndarray:
    """The matrix of :func:`_direct_effects`' columns, filled column by column."""
    out = np.empty((len(data), intercept + sum(
        1 if isinstance(item, str) else len(item[2]) - 1 for item in items)))
    if intercept:
        out[:, 0] = 1.0
    j = int(intercept)
    for item in items:
        if isinstance(item, str):
            out[:, j] = as_float(values_of(data, item))
            j += 1
        else:
            values = as_numpy(values_of(data, item[1]))
            for level in item[2][1:]:
                np.equal(values, level, out=out[:, j], casting="unsafe")
                j += 1
    return out


def _required(parsed: ParsedFormula, data: pd.DataFrame) -> list[str]:
    texts = [parsed.response, parsed.fixed, *parsed.offsets]
    texts += [term.effects for term in parsed.random]
    needed: set[str] = set()
    for text in texts:
        try:
            needed |= _required_variables(text)
        except Exception as error:  # formulaic raises several parser errors
            raise FormulaError(
                f"formula {parsed.formula!r}: cannot parse {text!r}: {error}"
            ) from None
    for term in parsed.random:
        needed |= set(term.group_variables)
    absent_groups = [v for term in parsed.random for v in term.group_variables
                     if v not in data.columns]
    if absent_groups:
        raise FormulaError(
            f"formula {parsed.formula!r}: grouping column(s) {sorted(set(absent_groups))} not in "
            f"the data; use one of {', '.join(map(str, data.columns))}"
        )
    # (other names, such as np and numpy functions, are resolved by formulaic)
    return sorted(v for v in needed if v in data.columns)


def _matrix(text: str, data: pd.DataFrame, formula: str) -> tuple[np.ndarray, list[str], ModelSpec]:
    try:
        with np.errstate(all="ignore"):  # non-finite results are reported below, by column
            frame = model_matrix(_formula_object(text), data, context=_CONTEXT, na_action="ignore")
    except Exception as error:  # formulaic raises several evaluation errors
        raise FormulaError(
            f"formula {formula!r}: cannot evaluate {text!r} on the data: {error}"
        ) from None
    values = np.asarray(frame, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    _require_finite(values, list(frame.columns), formula)
    return values, list(frame.columns), frame.model_spec


def _require_finite(values: np.ndarray, names: list[Any], formula: str) -> None:
    if np.isfinite(values).all():  # (one flat pass; the columns only when one is bad)
        return
    bad = ~np.isfinite(values).all(axis=0)
    if bad.any():
        columns = [str(c) for c, b in zip(names, bad, strict=True) if b]
        raise FormulaError(
            f"formula {formula!r}: column(s) {columns} have non-finite values (infinite, or for "
            "example the log of zero or of a negative number); transform or filter the data first"
        )


def _independent_columns(x: np.ndarray, tol: float = 1e-7) -> np.ndarray:
    """Indices of a maximal set of linearly independent columns, keeping earlier ones first."""
    if x.shape[1] == 0:
        return np.arange(0)
    # clearly full rank (smallest eigenvalue of the scaled cross-product far above the QR
    # tolerance squared): no QR needed
    gram = x.T @ x
    norms = np.sqrt(np.diag(gram))
    if np.all(norms > 0):
        scaled = gram / np.outer(norms, norms)
        if np.linalg.eigvalsh(scaled)[0] > 1e-8:
            return np.arange(x.shape[1])
    (r,) = scipy.linalg.qr(x, mode="r")
    diag = np.abs(np.diag(r))
    if diag.size == x.shape[1] and np.all(diag > tol * max(diag.max(), 1e-300)):
        return np.arange(x.shape[1])
    keep: list[int] = []
    for j in range(x.shape[1]):
        trial = x[:, [*keep, j]]
        if np.linalg.matrix_rank(trial, tol=tol * np.linalg.norm(trial, 2)) == len(keep) + 1:
            keep.append(j)
    return np.array(keep, dtype=np.int64)


def drop_collinear(x_full: np.ndarray, names: tuple[str, ...] | list[str], *,
                   stacklevel: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """The fixed-effects columns kept (a maximal independent set, earlier ones first) and the
    names of those dropped, with lme4's warning when there are any."""
    keep = _independent_columns(x_full)
    kept = set(keep.tolist())
    dropped = tuple(names[j] for j in range(len(names)) if j not in kept)
    if dropped:
        warnings.warn(
            f"the fixed-effects matrix is rank deficient, so {len(dropped)} column(s) were "
            f"dropped: {', '.join(dropped)} (as lme4 does); remove them from the formula or "
            "check the predictors for collinearity",
            DataWarning,
            stacklevel=stacklevel,
        )
    return keep, dropped


def build_design(
    formula: str,
    data: pd.DataFrame,
    *,
    reference: Mapping[str, Any] | None = None,
) -> MixedDesign:
    """Build response, fixed-effects matrix and random-effects terms of a mixed model.

    Rows with a missing value in any variable the formula uses are dropped (lme4's default
    ``na.action = na.omit``); the rows kept are in :attr:`MixedDesign.rows`.

    Parameters
    ----------
    formula
        lme4-style formula, e.g. ``"y ~ x + C(wave) + (1 | school/classroom)"``.
    data
        One row per observation.
    reference
        Optional ``{column: level}``: treat ``column`` as categorical with ``level`` as the
        reference (treatment-coded) level.

    Returns
    -------
    MixedDesign
    """
    if not isinstance(data, pd.DataFrame):
        raise FormulaError("data must be a pandas DataFrame with one row per observation")
    parsed = parse_formula(formula)
    if not parsed.random:
        raise FormulaError(
            f"formula {formula!r} has no random-effects term; add one such as '(1 | classroom)'"
        )
    needed = _required(parsed, data)
    complete = np.ones(len(data), dtype=bool)
    source = CachedColumns(data)
    for name in needed:
        mark_missing(source.values(name), complete)
    used = _apply_reference(data if complete.all() else data.loc[complete], reference)
    columns = source if used is data else CachedColumns(used)  # (for the direct builders)
    if len(used) == 0:
        raise FormulaError(
            f"formula {formula!r}: no row has all of {needed} observed; check for missing values"
        )
    if _NAME.fullmatch(parsed.response) and _is_plain_numeric(columns, parsed.response):
        y_matrix = as_float(columns.values(parsed.response))[:, None]
        y_names = [parsed.response]
    else:
        y_matrix, y_names, _ = _matrix(f"0 + {parsed.response}", used, formula)
    if y_matrix.shape[1] != 1:
        raise FormulaError(
            f"formula {formula!r}: the response {parsed.response!r} must be one numeric column, "
            f"got columns {y_names}; code it as numbers"
        )
    fixed_direct = _direct_effects(parsed.fixed, columns)
    if fixed_direct is None:
        x_full, x_names, x_spec = _matrix(parsed.fixed, used, formula)
    else:  # only 1/0 and numeric columns: the same matrix formulaic would build
        x_full = _direct_matrix(columns, *fixed_direct)
        x_names = _direct_names(*fixed_direct)
        x_spec = None
        _require_finite(x_full, x_names, formula)
    keep, dropped = drop_collinear(x_full, _rename(x_names), stacklevel=3)
    terms = []
    n = len(used)
    factorized: dict[str, tuple] = {}
    for spec in parsed.random:
        direct = _direct_effects(spec.effects, columns)
        if direct is None:
            matrix, names, term_spec = _matrix(spec.effects, used, formula)
        else:
            matrix = _direct_matrix(columns, *direct)
            names = _direct_names(*direct)
            term_spec = None
        if matrix.shape[1] == 0:
            raise FormulaError(
                f"formula {formula!r}: random term ({spec.effects} | {spec.group}) has no "
                "effects; write (1 | group) for a random intercept"
            )
        codes, levels = group_codes(columns, spec.group_variables, factorized)
        if levels.size >= n:
            raise FormulaError(
                f"formula {formula!r}: grouping factor {spec.group!r} has {levels.size} levels "
                f"for {n} observations; each level needs more than one observation on average "
                "(lme4: number of levels of each grouping factor must be < number of "
                "observations); remove this term or use a coarser grouping"
            )
        terms.append(
            RandomTerm(spec.group, spec.group_variables, _rename(names), matrix, codes, levels,
                       term_spec, direct[1] if direct else None, bool(direct and direct[0]))
        )
    return MixedDesign(
        formula=formula,
        parsed=parsed,
        response_name=parsed.response,
        response=y_matrix[:, 0].copy(),
        fixed=np.ascontiguousarray(x_full[:, keep]),
        fixed_names=tuple(_rename([x_names[j] for j in keep])),
        offset=_offsets(parsed.offsets, used),
        random_terms=tuple(terms),
        rows=data.index if used is data else data.index[complete],
        n_dropped=int((~complete).sum()),
        dropped_columns=dropped,
        data=used,
        fixed_spec=x_spec,
        kept_columns=keep,
        reference=dict(reference) if reference else None,
        fixed_direct=fixed_direct,
    )
