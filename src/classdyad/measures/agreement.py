"""Agreement of two coders on the interactions of double-coded lessons.

:func:`coder_agreement` first matches the two coders' events one-to-one within a time window
(:func:`classdyad.coding.match_events`), then, for each lesson and for all lessons together,
computes on each aspect of the codes: ``valence``, ``target`` (``student:<id>``, ``group`` or
``class``) and ``subtype`` (only when at least one coder recorded subtypes):

=========================================  =================================================
statistic                                  units compared
=========================================  =================================================
``percent_agreement``, ``kappa``           matched pairs (Cohen's kappa with the SE and CI of
                                           Fleiss, Cohen & Everitt, 1969; :mod:`.kappa`)
``percent_agreement_with_no_event``,       matched pairs and unmatched events; the coder
``kappa_with_no_event``                    without an event codes it as ``"(no event)"``
``kappa_linear``, ``kappa_quadratic``      matched pairs, valence only, ordered
                                           negative < neutral < positive
``alpha_nominal`` (``alpha_ordinal`` for   Krippendorff's alpha (:mod:`.krippendorff`) with
valence)                                   unmatched events as missing values, which leaves
                                           the matched pairs
``time_unit_kappa``                        BORIS's time-unit kappa, 1-s slices by default
                                           (:mod:`.time_unit`)
=========================================  =================================================

and, for the number of interactions each student received (all events and by valence), the six
intraclass correlations of Shrout & Fleiss (1979) with the two coders as raters
(:mod:`.icc`): per lesson the targets are the students either coder recorded in the lesson; for
all lessons, the students' totals over the lessons.

"With no event" kappas tell how well the coders agree on *whether* and *what*; kappas on matched
pairs tell how well they agree on *what*, given both saw an interaction. Both belong in a report
(Bakeman, Quera & Gnisci, 2009).

Undefined statistics (for example kappa on a lesson where both coders used one valence only) are
``nan``; one :class:`~classdyad.errors.UndefinedStatisticWarning` lists how many there are.

References
----------
Bakeman, R., Quera, V., & Gnisci, A. (2009). Observer agreement for timed-event sequential data: A
comparison of time-based and event-based algorithms. *Behavior Research Methods*, 41(1), 137-147.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from classdyad.coding.matching import (
    EventMatching,
    match_validated_events,
    validate_coder_events,
)
from classdyad.errors import DataError, UndefinedStatisticWarning, check_option
from classdyad.measures.icc import _FORMS as _ICC_FORMS
from classdyad.measures.icc import _icc_arrays
from classdyad.measures.kappa import (
    CohenKappa,
    WeightsArgument,
    _kappa_parts,
    agreement_weights,
    grouped_kappa,
    kappa_from_table,
)
from classdyad.measures.krippendorff import alpha_from_coincidences
from classdyad.measures.time_unit import ASPECTS, Aspect, time_unit_tables

__all__ = ["NO_EVENT", "VALENCE_ORDER", "CoderAgreement", "coder_agreement"]

NO_EVENT = "(no event)"
"""The code given to an event the other coder did not record."""

VALENCE_ORDER = ("negative", "neutral", "positive")
"""The scale order of valence for weighted kappa and ordinal alpha."""

_COUNTS = ("all", "positive", "negative", "neutral")


def _labels(units: pd.DataFrame, aspect: Aspect, side: str) -> np.ndarray:
    values = units[f"{aspect}_{side}"].to_numpy(dtype=object, na_value=None).copy()
    values[pd.isna(values)] = "(none)"
    values[np.isnan(units[f"time_{side}"].to_numpy(dtype=float))] = NO_EVENT
    return values


def _block(lesson: np.ndarray, aspect: str, statistic: str, estimate: np.ndarray,
           n: np.ndarray, se: np.ndarray | None = None, lower: np.ndarray | None = None,
           upper: np.ndarray | None = None) -> pd.DataFrame:
    nan = np.full(len(lesson), np.nan)
    return pd.DataFrame({
        "lesson_id": pd.Series(lesson, dtype=object), "aspect": aspect, "statistic": statistic,
        "estimate": estimate, "se": nan if se is None else se,
        "ci_lower": nan if lower is None else lower, "ci_upper": nan if upper is None else upper,
        "n": np.asarray(n, dtype=np.int64),
    })


def _kappa_blocks(lesson: np.ndarray, aspect: str, name: str, parts: dict[str, np.ndarray],
                  z: float) -> list[pd.DataFrame]:
    se = np.sqrt(parts["variance"])
    kappa = parts["kappa"]
    suffix = "_with_no_event" if name == "with_no_event" else ""
    return [
        _block(lesson, aspect, f"percent_agreement{suffix}", parts["observed"] * 100,
               parts["n"]),
        _block(lesson, aspect, f"kappa{suffix}", kappa, parts["n"], se,
               np.maximum(kappa - z * se, -1.0), np.minimum(kappa + z * se, 1.0)),
    ]


def _aspect_blocks(lesson: np.ndarray, group: np.ndarray, aspect: Aspect, units: pd.DataFrame,
                   z: float) -> list[pd.DataFrame]:
    """Event-based statistics of one aspect for every lesson and all lessons (last group)."""
    n_groups = len(lesson)
    labels_a = _labels(units, aspect, "a")
    labels_b = _labels(units, aspect, "b")
    codes, categories = pd.factorize(np.r_[labels_a, labels_b])
    code_a, code_b = codes[:len(units)], codes[len(units):]
    everything = np.r_[group, np.full(len(units), n_groups - 1)]
    both_a, both_b = np.r_[code_a, code_a], np.r_[code_b, code_b]
    blocks = _kappa_blocks(lesson, aspect, "with_no_event",
                           grouped_kappa(everything, both_a, both_b, n_groups), z)
    matched = np.r_[units["status"].to_numpy() == "matched"] if len(units) else np.zeros(0, bool)
    matched = np.r_[matched, matched]
    parts = grouped_kappa(everything[matched], both_a[matched], both_b[matched], n_groups)
    blocks += _kappa_blocks(lesson, aspect, "matched", parts, z)
    blocks.append(_block(lesson, aspect, "alpha_nominal", parts["alpha"], parts["n"]))
    if aspect == "valence":
        rank = {v: r for r, v in enumerate(VALENCE_ORDER)}
        category_rank = np.array([rank.get(c, -1) for c in categories], dtype=np.int64)
        k = len(VALENCE_ORDER)
        cell = (everything[matched] * k + category_rank[both_a[matched]]) * k + category_rank[
            both_b[matched]]
        tables = np.bincount(cell, minlength=n_groups * k * k).reshape(n_groups, k, k)
        estimates = {"kappa_linear": [], "kappa_quadratic": [], "alpha_ordinal": []}
        errors: dict[str, list[float]] = {"kappa_linear": [], "kappa_quadratic": []}
        weights = {name: agreement_weights(k, name.split("_")[1])
                   for name in ("kappa_linear", "kappa_quadratic")}
        for table in tables.astype(float):
            for name, w in weights.items():
                kappa, var, _po, _pe, _n = _kappa_parts(table, w)
                estimates[name].append(kappa)
                errors[name].append(np.sqrt(var))
            estimates["alpha_ordinal"].append(
                alpha_from_coincidences(table + table.T, level="ordinal"))
        for name in ("kappa_linear", "kappa_quadratic"):
            kappa, se = np.array(estimates[name]), np.array(errors[name])
            blocks.append(_block(lesson, aspect, name, kappa, parts["n"], se,
                                 np.maximum(kappa - z * se, -1.0),
                                 np.minimum(kappa + z * se, 1.0)))
        blocks.append(_block(lesson, aspect, "alpha_ordinal",
                             np.array(estimates["alpha_ordinal"]), parts["n"]))
    return blocks


def _grouped_mean_squares(group: np.ndarray, x: np.ndarray, n_groups: int
                          ) -> tuple[np.ndarray, ...]:
    """Two-way ANOVA mean squares (targets x 2 raters) for many groups of targets at once."""
    n = np.bincount(group, minlength=n_groups).astype(float)
    k = x.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        column_mean = np.stack([np.bincount(group, weights=x[:, j], minlength=n_groups) / n
                                for j in range(k)], axis=1)
        grand = column_mean.mean(axis=1)
        row_mean = x.mean(axis=1)
        ss_between = k * np.bincount(group, weights=(row_mean - grand[group]) ** 2,
                                     minlength=n_groups)
        ss_raters = n * ((column_mean - grand[:, None]) ** 2).sum(axis=1)
        ss_total = np.bincount(group, weights=((x - grand[group][:, None]) ** 2).sum(axis=1),
                               minlength=n_groups)
        ss_error = np.maximum(ss_total - ss_between - ss_raters, 0.0)
        bms = ss_between / (n - 1)
        jms = ss_raters / (k - 1)
        ems = ss_error / ((n - 1) * (k - 1))
        wms = (ss_raters + ss_error) / (n * (k - 1))
    return bms, jms, ems, wms, n


def _icc_blocks(units: pd.DataFrame, lessons: pd.Index, lesson_code: np.ndarray,
                confidence: float) -> list[pd.DataFrame]:
    """ICCs of per-student counts (all events and by valence), per lesson and all lessons."""
    valence_code = {v: r for r, v in enumerate(VALENCE_ORDER)}
    picked = []
    for side in ("a", "b"):
        is_student = units[f"target_kind_{side}"].to_numpy(dtype=object) == "student"
        picked.append((is_student, units[f"student_id_{side}"].to_numpy(dtype=object)[is_student],
                       np.array([valence_code[v] for v in
                                 units[f"valence_{side}"].to_numpy(dtype=object)[is_student]],
                                dtype=np.int64)))
    student_code, _students = pd.factorize(np.r_[picked[0][1], picked[1][1]])
    n_students = int(student_code.max()) + 1 if len(student_code) else 1
    split = len(picked[0][1])
    blocks = []
    for level in ("lesson", "all"):
        keys = []
        for side, (is_student, _ids, _valence) in enumerate(picked):
            codes = student_code[:split] if side == 0 else student_code[split:]
            keys.append(lesson_code[is_student] * n_students + codes if level == "lesson"
                        else codes)
        targets, inverse = np.unique(np.r_[keys[0], keys[1]], return_inverse=True)
        inverse_a, inverse_b = inverse[:split], inverse[split:]
        if level == "lesson":
            group = targets // n_students
            labels = lessons.to_numpy(dtype=object)
        else:
            group = np.zeros(len(targets), dtype=np.int64)
            labels = np.array(["all"], dtype=object)
        for kind in _COUNTS:
            if kind == "all":
                take_a = np.ones(len(inverse_a), bool)
                take_b = np.ones(len(inverse_b), bool)
            else:
                take_a = picked[0][2] == valence_code[kind]
                take_b = picked[1][2] == valence_code[kind]
            x = np.stack([np.bincount(inverse_a[take_a], minlength=len(targets)),
                          np.bincount(inverse_b[take_b], minlength=len(targets))],
                         axis=1).astype(float)
            bms, jms, ems, wms, n = _grouped_mean_squares(group, x, len(labels))
            parts = _icc_arrays(bms, jms, ems, wms, n, np.full(len(labels), 2.0), confidence)
            for f, form in enumerate(_ICC_FORMS):
                estimate = np.where(n >= 2, parts["icc"][f], np.nan)
                blocks.append(_block(labels, f"student_count_{kind}", form, estimate, n,
                                     lower=parts["ci_lower"][f], upper=parts["ci_upper"][f]))
    return blocks


@dataclass(frozen=True)
class CoderAgreement:
    """Agreement of two coders, per lesson and over all lessons.

    Attributes
    ----------
    matching
        The one-to-one event matching the event-based statistics rest on.
    statistics
        Tidy table, one row per lesson (``"all"`` for all lessons together), aspect and
        statistic: ``lesson_id, aspect, statistic, estimate, se, ci_lower, ci_upper, n``.
        Aspects: ``valence``, ``target``, ``subtype`` and ``student_count_<all|positive|
        negative|neutral>`` (intraclass correlations).
    confidence
        Level of the confidence intervals.
    time_unit
        The time-unit length (seconds) of the BORIS-style kappas.
    """

    matching: EventMatching
    statistics: pd.DataFrame
    confidence: float
    time_unit: float

    def to_frame(self) -> pd.DataFrame:
        """The tidy statistics table, per lesson and for all lessons (``lesson_id == "all"``)."""
        return self.statistics.copy()

    def summary(self) -> pd.DataFrame:
        """The all-lessons statistics: one row per aspect and statistic."""
        overall = self.statistics[self.statistics["lesson_id"].astype(str) == "all"]
        return overall.drop(columns="lesson_id").reset_index(drop=True)

    def confusion_matrix(self, aspect: Aspect = "valence", *, lesson_id: object = None,
                         no_event: bool = True) -> pd.DataFrame:
        """Counts of coder A's codes (rows) by coder B's codes (columns).

        Parameters
        ----------
        aspect
            ``"valence"``, ``"target"`` or ``"subtype"``.
        lesson_id
            One lesson; default all lessons.
        no_event
            Include unmatched events, coded ``"(no event)"`` for the coder who missed them.
        """
        check_option("aspect", aspect, ASPECTS)
        units = self.matching.units
        if lesson_id is not None:
            units = units[units["lesson_id"] == lesson_id]
            if units.empty:
                raise DataError(f"lesson_id={lesson_id!r} is not among the compared lessons; "
                                f"use one of matching.lessons")
        if not no_event:
            units = units[units["status"] == "matched"]
        a = pd.Series(_labels(units, aspect, "a"), name=f"{aspect} ({self.matching.coder_a})")
        b = pd.Series(_labels(units, aspect, "b"), name=f"{aspect} ({self.matching.coder_b})")
        categories = sorted((set(a) | set(b)) - {NO_EVENT})
        if aspect == "valence":  # the whole scale, in order, so that weighted kappa can use it
            categories = list(VALENCE_ORDER)
        if no_event:
            categories.append(NO_EVENT)
        table = pd.crosstab(a, b).reindex(index=categories, columns=categories, fill_value=0)
        return table

    def kappa(self, aspect: Aspect = "valence", *, no_event: bool = False,
              weights: WeightsArgument = "none") -> CohenKappa:
        """Cohen's kappa over all lessons, with its confusion matrix (see :func:`cohen_kappa`).

        ``no_event=True`` counts unmatched events as ``"(no event)"``; ``weights`` other than
        ``"none"`` (a scheme by name, or a matrix of agreement weights in the order of
        :meth:`confusion_matrix`) make sense for valence on matched pairs only.
        """
        table = self.confusion_matrix(aspect, no_event=no_event)
        return kappa_from_table(table, weights=weights, confidence=self.confidence)

    def _repr_html_(self) -> str:
        m = self.matching
        counts = m.to_frame().iloc[-1]
        coder_a, coder_b = html.escape(m.coder_a), html.escape(m.coder_b)
        head = (f"<p><b>Coder agreement</b> {coder_a} vs {coder_b}: {len(m.lessons)} "
                f"lesson(s), {int(counts['n_matched'])} matched pairs, "
                f"{int(counts['n_only_a'])} events only {coder_a}, {int(counts['n_only_b'])} "
                f"only {coder_b} (window {m.window:g} s, time unit {self.time_unit:g} s, "
                f"{self.confidence:.0%} CI)</p>")
        return head + self.summary().to_html(index=False)


def coder_agreement(coder_a: pd.DataFrame, coder_b: pd.DataFrame, *, window: float = 2.0,
                    time_unit: float = 1.0, confidence: float = 0.95,
                    lessons: Sequence | None = None) -> CoderAgreement:
    """Agreement of two coders on double-coded lessons: kappas, alphas, ICCs, per lesson and all.

    Parameters
    ----------
    coder_a, coder_b
        Each coder's events with the columns ``lesson_id``, ``time`` (seconds), ``student_id``
        (empty for a group or class target), ``target_kind``, ``valence``, ``event_id`` and
        optionally ``subtype`` and ``coder`` (see
        :func:`classdyad.coding.validate_coder_events`).
    window
        Largest time difference (seconds) between two events recording the same interaction
        (default 2).
    time_unit
        Slice length (seconds) of the time-unit kappa (default 1, BORIS's default).
    confidence
        Level of the confidence intervals (default 0.95).
    lessons
        Lessons to compare; default those in both tables (see
        :func:`classdyad.coding.match_events`).

    Returns
    -------
    CoderAgreement
        ``.to_frame()``: the tidy statistics table; ``.summary()``: all lessons together;
        ``.confusion_matrix(aspect)``; ``.matching``: the matched events.

    Notes
    -----
    The statistics and their validation are described in the module docstring and in
    :mod:`classdyad.measures.kappa` (``psych::cohen.kappa``),
    :mod:`classdyad.measures.krippendorff`, :mod:`classdyad.measures.icc` (``psych::ICC``) and
    :mod:`classdyad.measures.time_unit` (BORIS).

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"lesson_id": 1, "time": [10.0, 20.0, 40.0, 60.0],
    ...                   "student_id": [3, 4, 3, 5], "target_kind": "student",
    ...                   "valence": ["positive", "negative", "neutral", "neutral"],
    ...                   "event_id": ["a1", "a2", "a3", "a4"]})
    >>> b = a.assign(time=[10.5, 21.0, 41.0, 90.0],
    ...              valence=["positive", "negative", "positive", "neutral"],
    ...              event_id=["b1", "b2", "b3", "b4"])
    >>> summary = coder_agreement(a, b).summary().set_index(["aspect", "statistic"])
    >>> round(float(summary.loc[("valence", "kappa"), "estimate"]), 3)
    0.5
    >>> round(float(summary.loc[("valence", "kappa_with_no_event"), "estimate"]), 3)
    0.211
    """
    if not 0 < confidence < 1:
        raise DataError(f"confidence={confidence!r} must lie between 0 and 1, e.g. 0.95")
    if isinstance(time_unit, bool) or not isinstance(time_unit, int | float) or not (
            np.isfinite(time_unit) and time_unit > 0):
        raise DataError(f"time_unit={time_unit!r} is not a positive number of seconds; use e.g. "
                        f"time_unit=1.0")
    if isinstance(window, bool) or not isinstance(window, int | float) or not (
            np.isfinite(window) and window > 0):
        raise DataError(f"window={window!r} is not a positive number of seconds; use e.g. "
                        f"window=2.0")
    a = validate_coder_events(coder_a, name="coder_a")
    b = validate_coder_events(coder_b, name="coder_b")
    matching = match_validated_events(a, b, window=float(window), lessons=lessons)
    units = matching.units
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    lessons_index = pd.Index(matching.lessons)
    lesson_code = lessons_index.get_indexer(units["lesson_id"])
    labels = np.array([*matching.lessons, "all"], dtype=object)
    # subtypes are optional: compare them only where at least one coder recorded any
    aspects = [aspect for aspect in ASPECTS if aspect != "subtype"
               or units["subtype_a"].notna().any() or units["subtype_b"].notna().any()]
    blocks: list[pd.DataFrame] = []
    for aspect in aspects:
        blocks += _aspect_blocks(labels, lesson_code, aspect, units, z)
    tables = time_unit_tables(a, b, list(matching.lessons), unit=float(time_unit),
                              aspects=aspects)
    for aspect in aspects:
        table = tables[aspect]
        blocks.append(_block(table["lesson_id"].to_numpy(dtype=object), aspect,
                             "time_unit_kappa", table["kappa"].to_numpy(),
                             table["n_slices"].to_numpy()))
    blocks += _icc_blocks(units, lessons_index, lesson_code, confidence)
    order = {name: i for i, name in enumerate([*ASPECTS, *(f"student_count_{k}" for k in
                                                           _COUNTS)])}
    statistics = pd.concat(blocks, ignore_index=True)
    statistics["_lesson"] = pd.Index(labels).get_indexer(statistics["lesson_id"])
    statistics["_aspect"] = statistics["aspect"].map(order)
    statistics = statistics.sort_values(["_lesson", "_aspect"], kind="stable").drop(
        columns=["_lesson", "_aspect"]).reset_index(drop=True)
    statistics["lesson_id"] = statistics["lesson_id"].astype(object)
    n_undefined = int(statistics["estimate"].isna().sum())
    if n_undefined:
        first = statistics[statistics["estimate"].isna()].iloc[0]
        warnings.warn(
            f"{n_undefined} of {len(statistics)} agreement statistics are undefined and were "
            f"returned as nan (e.g. {first['statistic']} on {first['aspect']} in lesson "
            f"{first['lesson_id']}: one category only, or too few units); see the rows with a "
            f"missing estimate", UndefinedStatisticWarning, stacklevel=2)
    return CoderAgreement(matching=matching, statistics=statistics, confidence=confidence,
                          time_unit=float(time_unit))
