"""The columns the H3 mediation steps fit, built with numpy from one replicate's dataset.

:func:`classdyad.analysis.mediation` builds, for each exposure and outcome, a frame of the
complete rows with the exposure ``X``, the mediators ``M0, M1``, the outcome ``Y``, covariates
``C0, ...``, the class ``G`` and student ``R`` and the class means and within-class deviations
of ``X, M0, M1`` (``X_b, X_w``, ...). :class:`MediationColumns` builds the same columns from
arrays converted once per dataset (not once per step with pandas), with the class and student
codes as integers in the sorted order of their labels (the order in which
:func:`classdyad.mixed.lmm` numbers the levels of a text column, so the random-effects design is
the same). Class means are :func:`~classdyad.analysis.centering.cluster_means`, as
``mediation`` takes them.

Where the data are not plainly fit for ``mediation`` (a column that is not numeric, a mediator,
outcome or exposure without variation, fewer than ten rows or three classes, a variable that
does not vary within any class or whose class means are all equal) :class:`NotPlain` is raised
and the plan's own step runs instead, with its checks and messages.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from classdyad.analysis.centering import cluster_means
from classdyad.study import gaps
from classdyad.study.plan import MEDIATORS

__all__ = ["MediationColumns", "NotPlain", "StepColumns"]

#: the tolerance of ``require_within_variation`` (relative to the largest absolute value)
_WITHIN_TOLERANCE = 1e-12


class NotPlain(Exception):
    """The data or a fit need the plan's own step (its checks, messages and notes)."""


def _varies_within(values: np.ndarray, codes: np.ndarray, n_groups: int) -> bool:
    """``require_within_variation``'s condition: some class has a range above the tolerance."""
    high = np.full(n_groups, -np.inf)
    low = np.full(n_groups, np.inf)
    np.maximum.at(high, codes, values)
    np.minimum.at(low, codes, values)
    scale = max(1.0, float(np.abs(values).max()))
    return bool(((high - low) > _WITHIN_TOLERANCE * scale).any())


def _varying(values: np.ndarray) -> np.ndarray:
    """``values`` if all finite with at least two distinct values, else :class:`NotPlain`."""
    if values.size == 0 or not np.isfinite(values).all() or not (values != values[0]).any():
        raise NotPlain
    return values


class StepColumns:
    """The complete rows of one step and their columns (see the module docstring)."""

    def __init__(self, positions: np.ndarray, columns: dict[str, np.ndarray],
                 codes: np.ndarray, n_classes: int) -> None:
        self.positions = positions
        self.columns = columns
        self.codes = codes
        self.n_classes = n_classes
        self.key = positions.tobytes()

    def centred(self, name: str, values: np.ndarray) -> dict[str, np.ndarray]:
        """``name`` with its class means ``name_b`` and deviations from them ``name_w``, or
        :class:`NotPlain` where it does not vary within classes or between them."""
        if not _varies_within(values, self.codes, self.n_classes):
            raise NotPlain
        # the class means of ``mediation``, bit for bit: a difference in the last bit moves
        # the optimum, and Satterthwaite's p values, by 1e-9
        class_means = cluster_means(values, self.codes, self.n_classes)
        if not (class_means != class_means[0]).any():  # no between-class effect
            raise NotPlain
        means = class_means[self.codes]
        return {name: values, f"{name}_b": means, f"{name}_w": values - means}


class MediationColumns:
    """One dataset's columns as arrays, and each step's complete rows and work columns."""

    def __init__(self, dataset: pd.DataFrame, covariates: list[str],
                 repeated: str | None) -> None:
        self.dataset = dataset
        self.covariates = covariates
        self.repeated = repeated
        self._numeric: dict[str, np.ndarray | None] = {}
        self._present: dict[str, np.ndarray] = {}
        self._ranks: dict[str, np.ndarray] = {}
        self._contrasts: dict[str, np.ndarray] = {}
        self._varying: dict[tuple[str, str], bool] = {}
        self._steps: dict[tuple[str, ...], StepColumns] = {}

    def numeric(self, name: str) -> np.ndarray | None:
        """The column as floats (missing as NaN), or ``None`` if it is not numeric or 1/0."""
        if name not in self._numeric:
            values = self.dataset[name]
            if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
                self._numeric[name] = values.to_numpy(dtype=float, na_value=np.nan)
            else:
                self._numeric[name] = None
        return self._numeric[name]

    def present(self, name: str) -> np.ndarray:
        """Where the column is observed."""
        if name not in self._present:
            numeric = self.numeric(name)
            self._present[name] = (~np.isnan(numeric) if numeric is not None
                                   else self.dataset[name].notna().to_numpy())
        return self._present[name]

    def ranks(self, name: str) -> np.ndarray:
        """Each row's level of a grouping column, numbered in the sorted order of the labels
        (as text, as the plan's ``astype(str)``)."""
        if name not in self._ranks:
            labels = self.dataset[name]
            text = labels if pd.api.types.is_string_dtype(labels.dtype) \
                and labels.dtype != object else labels.astype(str)
            self._ranks[name] = pd.factorize(text, sort=True)[0].astype(np.int64)
        return self._ranks[name]

    def contrast(self, contrast: str) -> np.ndarray:
        """The rows the contrast uses with both mediators observed
        (``gaps.contrast_rows(...).dropna(subset=MEDIATORS)``)."""
        if contrast not in self._contrasts:
            used = gaps.contrast_mask(self.dataset, contrast)
            keep = np.ones(len(self.dataset), dtype=bool) if used is None else used
            for name in MEDIATORS:
                keep = keep & self.present(name)
            self._contrasts[contrast] = keep
        return self._contrasts[contrast]

    def varies(self, contrast: str, name: str) -> bool:
        """Whether ``name`` takes two values or more on the contrast's rows (missing ignored:
        ``rows[name].dropna().nunique() > 1``), found once per dataset."""
        key = (contrast, name)
        if key not in self._varying:
            rows = self.contrast(contrast) & self.present(name)
            numeric = self.numeric(name)
            if numeric is not None:
                values = numeric[rows]
                self._varying[key] = bool(values.size and (values != values[0]).any())
            else:
                self._varying[key] = bool(self.dataset[name][rows].nunique() > 1)
        return self._varying[key]

    def step(self, contrast: str, exposure: str, outcome: str,
             others: list[str]) -> StepColumns:
        """The complete rows of a step with ``Y, M0, M1, G, R`` and the mediators' centred
        parts (shared by the steps that name the same columns), or :class:`NotPlain`."""
        covariates = [*self.covariates, *others]
        names = list(dict.fromkeys([exposure, *MEDIATORS, outcome, *covariates, "classroom",
                                    *([self.repeated] if self.repeated else [])]))
        key = (contrast, outcome, *sorted(names))
        if key in self._steps:
            return self._steps[key]
        complete = self.contrast(contrast).copy()
        for name in names:
            complete &= self.present(name)
        positions = np.flatnonzero(complete)
        if positions.size < 10:
            raise NotPlain
        ranks = self.ranks("classroom")[positions]
        seen = np.zeros(int(ranks.max()) + 1, dtype=bool)
        seen[ranks] = True
        n_classes = int(seen.sum())
        if n_classes < 3:
            raise NotPlain
        codes = (np.cumsum(seen) - 1)[ranks]
        columns: dict[str, np.ndarray] = {"Y": self._subset(outcome, positions), "G": ranks}
        if self.repeated:
            columns["R"] = self.ranks(self.repeated)[positions]
        step = StepColumns(positions, columns, codes, n_classes)
        for k, name in enumerate(MEDIATORS):
            columns.update(step.centred(f"M{k}", self._subset(name, positions)))
        self._steps[key] = step
        return step

    def _subset(self, name: str, positions: np.ndarray) -> np.ndarray:
        numeric = self.numeric(name)
        if numeric is None:
            raise NotPlain
        return _varying(numeric[positions])

    def work(self, step: StepColumns, exposure: str, others: list[str]) -> dict[str, Any]:
        """The step's columns with the exposure ``X`` (centred) and covariates ``C0, ...``,
        or :class:`NotPlain`."""
        work = dict(step.columns)
        for k, name in enumerate([*self.covariates, *others]):
            numeric = self.numeric(name)
            if numeric is None:
                raise NotPlain
            work[f"C{k}"] = numeric[step.positions]
        work.update(step.centred("X", self._subset(exposure, step.positions)))
        return work
