"""Time-unit kappa as BORIS computes it, for comparison with event-based agreement.

BORIS (Friard & Gamba, 2016) offers *Analysis > Inter-rater reliability > Cohen's kappa*, asking
for a "time unit" in seconds (default 1). Its user guide names the analysis but does not spell out
the rule; the rule below is read from BORIS's source (``boris/irr.py``, function ``cohen_kappa``,
versions 7 and 8, which cites Bakeman & Quera, 2011, p. 77; the analysis plugins added later use
other rules). It does not match events. It cuts the observation into time slices of a fixed unit
and compares, slice by slice, what each observer had coded:

1. The slices are the times ``t = t0, t0 + u, t0 + 2u, ...`` while ``t <= t1``, where ``u`` is the
   time unit (1 s by default), ``t0`` the earliest and ``t1`` the latest event time of *both*
   observers.
2. At each ``t`` an observer's *state* is the list of behaviours going on: state events with
   ``start <= t <= stop`` and point events with ``|time - t| <= u / 2`` (so a point event exactly
   half a unit from two slice times counts in both). The empty list is a state too.
3. A contingency table of observer 1's state x observer 2's state over all slices (and subjects)
   gives ``kappa = (agreements - sum_i row_i col_i / N) / (N - sum_i row_i col_i / N)``.

Coded interactions are point events, and a lesson is one BORIS observation with one subject (the
teacher); the "behaviour" is the aspect compared: the valence, the target (``student:<id>``,
``group``, ``class``) or the subtype. Two events with the same code in one slice make a state
different from one such event, as in BORIS; the behaviours in a state are sorted, so their order
does not matter. Each lesson gets its own kappa, as BORIS gives each pair of observations one; the
``"all"`` row pools the slices of every lesson into one table.

Two departures from BORIS, both deliberate: when chance agreement is 1 (every slice in the same
state for both observers) BORIS returns ``kappa = 1``; here kappa is ``nan`` with an
:class:`~classdyad.errors.UndefinedStatisticWarning`. And BORIS rounds kappa to three decimals;
here it is kept at full precision. No standard error is given: neighbouring slices are not
independent, so the usual large-sample variance does not apply.

References
----------
Bakeman, R., & Quera, V. (2011). *Sequential analysis and observational methods for the behavioral
sciences*. Cambridge University Press.

Friard, O., & Gamba, M. (2016). BORIS: a free, versatile open-source event-logging software for
video/audio coding and live observations. *Methods in Ecology and Evolution*, 7(11), 1325-1330.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from classdyad.coding.matching import validate_coder_events
from classdyad.errors import DataError, UndefinedStatisticWarning, check_option

__all__ = ["TimeUnitKappa", "time_unit_kappa", "time_unit_tables"]

Aspect = Literal["valence", "target", "subtype"]
ASPECTS: tuple[Aspect, ...] = ("valence", "target", "subtype")
_EPS = 1e-9


@dataclass(frozen=True)
class TimeUnitKappa:
    """Time-unit (BORIS) kappa per lesson and for all lessons pooled.

    Attributes
    ----------
    table
        One row per lesson plus ``"all"``: ``lesson_id, n_slices, observed_agreement,
        expected_agreement, kappa``.
    unit
        The time unit in seconds.
    aspect
        The code compared (``"valence"``, ``"target"`` or ``"subtype"``).
    """

    table: pd.DataFrame
    unit: float
    aspect: Aspect

    @property
    def kappa(self) -> float:
        """Kappa over the slices of all lessons pooled."""
        return float(self.table["kappa"].iloc[-1])

    def to_frame(self) -> pd.DataFrame:
        """The per-lesson table with the pooled ``"all"`` row last."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        return (f"<p><b>Time-unit kappa</b> (as BORIS computes it) on {self.aspect}, unit "
                f"{self.unit:g} s</p>" + self.table.to_html(index=False))


def _states(slice_id: np.ndarray, code: np.ndarray, n_slices: int,
            multisets: dict[tuple[int, ...], int], n_codes: int) -> np.ndarray:
    """Per slice: 0 = nothing coded, 1 + code for one event, ids >= 1 + n_codes for several."""
    state = np.zeros(n_slices, dtype=np.int64)
    if len(slice_id) == 0:
        return state
    order = np.lexsort((code, slice_id))
    slice_id, code = slice_id[order], code[order]
    starts = np.flatnonzero(np.r_[True, slice_id[1:] != slice_id[:-1]])
    sizes = np.diff(np.r_[starts, len(slice_id)])
    single = sizes == 1
    state[slice_id[starts[single]]] = code[starts[single]] + 1
    for start, size in zip(starts[~single], sizes[~single], strict=True):
        key = tuple(code[start:start + size].tolist())
        if key not in multisets:
            multisets[key] = 1 + n_codes + len(multisets)
        state[slice_id[start]] = multisets[key]
    return state


def _slices(lesson_code: np.ndarray, time: np.ndarray, first: np.ndarray, offset: np.ndarray,
            n_slices: np.ndarray, unit: float) -> tuple[np.ndarray, np.ndarray]:
    """Global slice ids of the slices each point event falls in, and the event each belongs to."""
    t = time - first[lesson_code]
    low = np.ceil((t - unit / 2) / unit - _EPS).astype(np.int64)
    high = np.floor((t + unit / 2) / unit + _EPS).astype(np.int64)
    low = np.maximum(low, 0)
    high = np.minimum(high, n_slices[lesson_code] - 1)
    span = np.maximum(high - low + 1, 0)
    event = np.repeat(np.arange(len(t)), span)
    step = np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span)
    return offset[lesson_code[event]] + low[event] + step, event


def _agreement(lesson_of_slice: np.ndarray, state_a: np.ndarray, state_b: np.ndarray,
               n_lessons: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed and chance agreement and slice counts per lesson (last entry: all pooled)."""
    size = np.bincount(lesson_of_slice, minlength=n_lessons).astype(float)
    agree = np.bincount(lesson_of_slice, weights=(state_a == state_b).astype(float),
                        minlength=n_lessons)
    n_states = int(max(state_a.max(initial=0), state_b.max(initial=0))) + 1
    key_a = lesson_of_slice * n_states + state_a
    key_b = lesson_of_slice * n_states + state_b
    keys_a, count_a = np.unique(key_a, return_counts=True)
    keys_b, count_b = np.unique(key_b, return_counts=True)
    common, in_a, in_b = np.intersect1d(keys_a, keys_b, assume_unique=True, return_indices=True)
    chance = np.bincount(common // n_states, weights=count_a[in_a] * count_b[in_b].astype(float),
                         minlength=n_lessons)
    margin_a = np.bincount(state_a, minlength=n_states).astype(float)
    margin_b = np.bincount(state_b, minlength=n_states).astype(float)
    total = float(len(state_a))
    with np.errstate(divide="ignore", invalid="ignore"):
        po = np.r_[agree / size, agree.sum() / total]
        pe = np.r_[chance / size**2, (margin_a * margin_b).sum() / total**2]
    return po, pe, np.r_[size, total]


def time_unit_tables(a: pd.DataFrame, b: pd.DataFrame, chosen: Sequence, *, unit: float,
                     aspects: Sequence[Aspect] = ASPECTS) -> dict[Aspect, pd.DataFrame]:
    """Per-lesson and pooled time-unit kappa tables for validated event tables (no warnings).

    ``a`` and ``b`` come from :func:`classdyad.coding.validate_coder_events`; ``chosen`` lists
    the lessons. Returns, per aspect, the table described in :class:`TimeUnitKappa`.
    """
    a = a[a["lesson_id"].isin(chosen)]
    b = b[b["lesson_id"].isin(chosen)]
    index = pd.Index(chosen)
    lesson_a = index.get_indexer(a["lesson_id"])
    lesson_b = index.get_indexer(b["lesson_id"])
    time_a = a["time"].to_numpy(dtype=float)
    time_b = b["time"].to_numpy(dtype=float)
    n_lessons = len(index)
    lesson_all = np.r_[lesson_a, lesson_b]
    time_all = np.r_[time_a, time_b]
    first = np.full(n_lessons, np.inf)
    last = np.full(n_lessons, -np.inf)
    np.minimum.at(first, lesson_all, time_all)
    np.maximum.at(last, lesson_all, time_all)
    coded = np.isfinite(first)
    first = np.where(coded, first, 0.0)
    n_slices = np.where(coded, np.floor((last - first) / unit + _EPS).astype(np.int64) + 1, 0)
    offset = np.r_[0, np.cumsum(n_slices)[:-1]]
    total = int(n_slices.sum())
    slices = [_slices(lesson_a, time_a, first, offset, n_slices, unit),
              _slices(lesson_b, time_b, first, offset, n_slices, unit)]
    lesson_of_slice = np.repeat(np.arange(n_lessons), n_slices)
    tables: dict[Aspect, pd.DataFrame] = {}
    for aspect in aspects:
        labels_a = a[aspect].to_numpy(dtype=object, na_value=None)
        labels_b = b[aspect].to_numpy(dtype=object, na_value=None)
        codes, categories = pd.factorize(np.r_[labels_a, labels_b], use_na_sentinel=False)
        code_a, code_b = codes[:len(labels_a)], codes[len(labels_a):]
        multisets: dict[tuple[int, ...], int] = {}
        state_a = _states(slices[0][0], code_a[slices[0][1]], total, multisets, len(categories))
        state_b = _states(slices[1][0], code_b[slices[1][1]], total, multisets, len(categories))
        po, pe, size = _agreement(lesson_of_slice, state_a, state_b, n_lessons)
        with np.errstate(divide="ignore", invalid="ignore"):
            undefined = (size == 0) | np.isclose(pe, 1.0, rtol=0, atol=1e-12)
            kappa = np.where(undefined, np.nan, (po - pe) / (1 - pe))
        tables[aspect] = pd.DataFrame({
            "lesson_id": pd.Series([*chosen, "all"], dtype=object),
            "n_slices": size.astype(np.int64), "observed_agreement": po,
            "expected_agreement": pe, "kappa": kappa,
        })
    return tables


def time_unit_kappa(coder_a: pd.DataFrame, coder_b: pd.DataFrame, *, unit: float = 1.0,
                    aspect: Aspect = "valence", lessons: Sequence | None = None) -> TimeUnitKappa:
    """Cohen's kappa over fixed time slices, as BORIS's time-unit inter-rater reliability.

    Parameters
    ----------
    coder_a, coder_b
        Each coder's events (see :func:`classdyad.coding.validate_coder_events`).
    unit
        The slice length in seconds (BORIS's "time unit"; default 1).
    aspect
        The code compared per slice: ``"valence"`` (default), ``"target"`` or ``"subtype"``.
    lessons
        Lessons to compare; default those in both tables.

    Returns
    -------
    TimeUnitKappa
        Per-lesson kappas and the pooled kappa (``.kappa``).

    Notes
    -----
    BORIS's rule is described in the module docstring. Unlike BORIS, an undefined kappa (chance
    agreement 1) is ``nan`` with an :class:`~classdyad.errors.UndefinedStatisticWarning`, not 1.
    """
    check_option("aspect", aspect, ASPECTS)
    if isinstance(unit, bool) or not isinstance(unit, int | float) or not (
            math.isfinite(unit) and unit > 0):
        raise DataError(f"unit={unit!r} is not a positive number of seconds; use e.g. unit=1.0")
    unit = float(unit)
    a = validate_coder_events(coder_a, name="coder_a")
    b = validate_coder_events(coder_b, name="coder_b")
    if lessons is None:
        in_b = set(b["lesson_id"])
        chosen = [lesson for lesson in pd.unique(a["lesson_id"]) if lesson in in_b]
    else:
        chosen = list(dict.fromkeys(lessons))
    if not chosen:
        raise DataError("no lesson was coded by both coders; pass the events of the "
                        "double-coded lessons, or list them in lessons=")
    table = time_unit_tables(a, b, chosen, unit=unit, aspects=(aspect,))[aspect]
    undefined = table["kappa"].isna().to_numpy()
    if undefined.any():
        where = [str(x) for x in table["lesson_id"][undefined]]
        warnings.warn(f"time-unit kappa on {aspect} is undefined (chance agreement 1: every "
                      f"slice in the same state for both coders) for lesson(s) "
                      f"{', '.join(where[:10])}; returned nan (BORIS would report 1)",
                      UndefinedStatisticWarning, stacklevel=2)
    return TimeUnitKappa(table=table, unit=unit, aspect=aspect)
