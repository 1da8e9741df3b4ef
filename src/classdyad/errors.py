"""Exceptions and warnings raised by classdyad.

Every error classdyad raises on purpose is a :class:`ClassdyadError` and, at the same time, the
builtin exception a Python user would expect (``DataError`` is also a ``ValueError``), so code that
catches builtins keeps working. Every message says what is wrong **and how to fix it**.

The hierarchy::

    ClassdyadError(Exception)
    ├── DataError(ClassdyadError, ValueError)        bad values in data handed to classdyad
    │   ├── ValidationError(DataError)               several problems in one input (rows, cells)
    │   ├── ClassificationError(DataError)           a raw background value no rule classifies
    │   ├── IntegrityError(DataError)                a write that would break the study's rules
    │   └── FormulaError(DataError)                  a model formula that cannot be built
    ├── OptionError(ClassdyadError, ValueError)      an argument outside its allowed values
    ├── NotFoundError(ClassdyadError, LookupError)   an id, file or record that does not exist
    ├── StoreError(ClassdyadError, RuntimeError)     the database cannot be opened or migrated
    └── EstimationError(ClassdyadError, RuntimeError) a model that cannot be estimated at all

    ClassdyadWarning(UserWarning)
    ├── DataWarning                                  data that are usable but suspicious
    ├── ConvergenceWarning                           an optimiser stopped short of its tolerance
    ├── SingularFitWarning                           a variance estimated at (or near) zero
    └── UndefinedStatisticWarning                    a statistic undefined here (returned as nan)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ClassdyadError",
    "ClassdyadWarning",
    "ClassificationError",
    "ConvergenceWarning",
    "DataError",
    "DataWarning",
    "EstimationError",
    "FormulaError",
    "IntegrityError",
    "NotFoundError",
    "OptionError",
    "Problem",
    "SingularFitWarning",
    "StoreError",
    "UndefinedStatisticWarning",
    "ValidationError",
    "check_option",
]


class ClassdyadError(Exception):
    """Base class of every error classdyad raises on purpose."""


class DataError(ClassdyadError, ValueError):
    """Data handed to classdyad contain a value that cannot be used."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input: where it is, what is wrong and how to fix it.

    Parameters
    ----------
    message
        What is wrong and how to fix it.
    source
        The file or table the problem was found in (``None`` when not known).
    row
        The 1-based data row (``None`` when the problem is not about one row).
    column
        The column or field name.
    value
        The offending value, as found.
    """

    message: str
    source: str | None = None
    row: int | None = None
    column: str | None = None
    value: Any = None

    def __str__(self) -> str:
        where = []
        if self.source is not None:
            where.append(str(self.source))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        prefix = ", ".join(where)
        shown = "" if self.value is None else f"{self.value!r}: "
        return f"{prefix}: {shown}{self.message}" if prefix else f"{shown}{self.message}"


class ValidationError(DataError):
    """One input holds one or more problems; nothing of it was written.

    The message lists up to ``limit`` problems (file, row, column, value, what to do); all of them
    are kept in :attr:`problems`.
    """

    def __init__(self, problems: Sequence[Problem], *, what: str = "input", limit: int = 20):
        self.problems: tuple[Problem, ...] = tuple(problems)
        n = len(self.problems)
        lines = [f"{what}: {n} problem{'s' if n != 1 else ''} found; nothing was written."]
        lines += [f"  - {p}" for p in self.problems[:limit]]
        if n > limit:
            lines.append(f"  ... and {n - limit} more (see the exception's .problems)")
        super().__init__("\n".join(lines))


class ClassificationError(DataError):
    """A raw background value (a country, an education level) that no rule can classify."""


class IntegrityError(DataError):
    """A write that would break the study's rules (unknown valence, an unenrolled student, ...)."""


class FormulaError(DataError):
    """A model formula that cannot be parsed or built on the data given."""


class OptionError(ClassdyadError, ValueError):
    """An argument outside its allowed values."""


class NotFoundError(ClassdyadError, LookupError):
    """An id, record or file that does not exist."""


class StoreError(ClassdyadError, RuntimeError):
    """The study database cannot be opened, created or migrated."""


class EstimationError(ClassdyadError, RuntimeError):
    """A model that cannot be estimated on the data given."""


class ClassdyadWarning(UserWarning):
    """Base class of every warning classdyad issues."""


class DataWarning(ClassdyadWarning):
    """Data that are usable but suspicious (dropped rows, tiny groups, ...)."""


class ConvergenceWarning(ClassdyadWarning):
    """An optimiser stopped before reaching its tolerance; treat the estimates with care."""


class SingularFitWarning(ClassdyadWarning):
    """A variance component was estimated at or near zero (a singular fit, as lme4 calls it)."""


class UndefinedStatisticWarning(ClassdyadWarning):
    """A statistic is undefined for these data and was returned as ``nan``."""


def check_option(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``; otherwise raise :class:`OptionError`.

    Matching is exact: no prefixes, no case folding.

    Examples
    --------
    >>> check_option("family", "poisson", ("poisson", "binomial"))
    'poisson'
    """
    allowed = tuple(allowed)
    if value not in allowed:
        listed = ", ".join(repr(a) for a in allowed)
        raise OptionError(f"{name}={value!r} is not allowed; use one of {listed}")
    return value
