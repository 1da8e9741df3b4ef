"""One-to-one matching of two coders' interaction events, lesson by lesson.

Two coders who code the same lesson from video rarely press their keys at exactly the same second.
Before their codes can be compared, each event of coder A has to be paired with the event of coder
B that records the same interaction, or be left unmatched (an interaction only one coder saw).

The rule used here, within each lesson:

1. Two events can be paired only if their times differ by at most ``window`` seconds (default 2 s).
2. Each event is paired at most once (one-to-one).
3. Among all such pairings, take one with the **largest number of pairs**, and among those the one
   with the **smallest total time distance** ``sum |t_a - t_b|``.

This is a rectangular assignment problem (Kuhn, 1955; Crouse, 2016, the algorithm behind
:func:`scipy.optimize.linear_sum_assignment`). Pairs further apart than the window get a cost larger
than any sum of admissible distances, so the solver first minimises the number of such pairs (they
are then dropped) and then the total distance. To keep 183,000 events fast, each lesson's timeline
is first cut into independent **clusters**: sorting both coders' events by time, a new cluster
starts wherever two consecutive events are more than ``window`` apart, because no admissible pair
can cross such a gap. In a cluster with events of one coder only, they stay unmatched; where one
coder has a single event, it is paired with the other coder's nearest event; small crowded clusters
are solved by trying every way of pairing the smaller side (all clusters of one shape at once), and
only the few larger ones go to the assignment solver.

Matching uses the times only, never the codes, so that agreement on the codes (valence, target,
subtype) is not inflated by the matching itself (Bakeman, Quera & Gnisci, 2009, discuss this for
event-based kappas).

References
----------
Bakeman, R., Quera, V., & Gnisci, A. (2009). Observer agreement for timed-event sequential data: A
comparison of time-based and event-based algorithms. *Behavior Research Methods*, 41(1), 137-147.

Crouse, D. F. (2016). On implementing 2D rectangular assignment algorithms. *IEEE Transactions on
Aerospace and Electronic Systems*, 52(4), 1679-1696.

Kuhn, H. W. (1955). The Hungarian method for the assignment problem. *Naval Research Logistics
Quarterly*, 2(1-2), 83-97.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from classdyad.errors import DataError, Problem, ValidationError
from classdyad.model.enums import TargetKind, Valence

__all__ = [
    "EVENT_COLUMNS",
    "EventMatching",
    "match_events",
    "match_validated_events",
    "target_label",
    "validate_coder_events",
]

EVENT_COLUMNS: tuple[str, ...] = (
    "lesson_id",
    "time",
    "student_id",
    "target_kind",
    "valence",
    "subtype",
    "coder",
    "event_id",
)
"""Columns of an event table: ``subtype`` and ``coder`` may be left out, the others are required."""

_REQUIRED = ("lesson_id", "time", "student_id", "target_kind", "valence", "event_id")
_VALENCES = tuple(v.value for v in Valence)
_TARGET_KINDS = tuple(k.value for k in TargetKind)
_SIDE_COLUMNS = (
    "time", "event_id", "target_kind", "student_id", "target", "valence", "subtype", "coder",
)


def target_label(target_kind: pd.Series, student_id: pd.Series) -> pd.Series:
    """Return one label per event for whom it was directed at.

    ``"student:<id>"`` for a student target, ``"group"`` or ``"class"`` otherwise; used as the
    category when agreement on the target is computed.
    """
    ids = student_id
    if pd.api.types.is_float_dtype(ids):
        present = ids.dropna().to_numpy()
        if np.all(np.mod(present, 1) == 0):  # integer ids read as float because of empty cells
            ids = ids.astype("Int64")
    codes, uniques = pd.factorize(ids)
    names = np.array([f"student:{u}" for u in uniques] + [None], dtype=object)
    kind = target_kind.to_numpy(dtype=object)
    label = np.where(kind == TargetKind.STUDENT.value, names[codes], kind)
    return pd.Series(label, index=target_kind.index, dtype=object)


def _problem_rows(mask: np.ndarray, events: pd.DataFrame, column: str, message: str,
                  source: str) -> list[Problem]:
    rows = np.flatnonzero(mask)
    values = events[column].to_numpy()
    return [Problem(message, source=source, row=int(r) + 1, column=column, value=values[r])
            for r in rows]


def validate_coder_events(events: pd.DataFrame, *, name: str = "events") -> pd.DataFrame:
    """Check one coder's event table and return a clean copy.

    Parameters
    ----------
    events
        One row per coded event with the columns of :data:`EVENT_COLUMNS`: ``lesson_id``,
        ``time`` (seconds from the start of the lesson's video, >= 0), ``student_id`` (empty for a
        group or class target), ``target_kind`` (``"student"``, ``"group"`` or ``"class"``),
        ``valence`` (``"positive"``, ``"negative"`` or ``"neutral"``), ``event_id`` and,
        optionally, ``subtype`` and ``coder``.
    name
        How the table is called in error messages (``"coder_a"``).

    Returns
    -------
    pandas.DataFrame
        The same events with a fresh 0-based index, ``time`` as float, the optional columns added
        (empty) when they were missing and a ``target`` column (see :func:`target_label`).

    Raises
    ------
    DataError
        The table is not a DataFrame, lacks required columns or holds no events.
    ValidationError
        Cells with impossible values (negative or missing times, unknown valence or target kind,
        a student target without a student, a group or class target with one); every bad cell
        is listed.
    """
    if not isinstance(events, pd.DataFrame):
        raise DataError(f"{name} must be a pandas DataFrame of events, got "
                        f"{type(events).__name__}; build one with the columns "
                        f"{', '.join(EVENT_COLUMNS)}")
    missing = [c for c in _REQUIRED if c not in events.columns]
    if missing:
        raise DataError(
            f"{name} lacks the column(s) {', '.join(repr(c) for c in missing)}; an event table "
            f"needs {', '.join(_REQUIRED)} (subtype and coder are optional). Rename your columns "
            f"or add the missing ones.")
    if len(events) == 0:
        raise DataError(
            f"{name} has no events; agreement needs events from both coders. Check that you "
            f"passed this coder's events for the double-coded lessons.")
    out = events.reset_index(drop=True).copy()
    for column in ("subtype", "coder"):
        if column not in out.columns:
            out[column] = pd.Series(pd.NA, index=out.index, dtype="string")

    problems: list[Problem] = []
    time = pd.to_numeric(out["time"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad_time = ~np.isfinite(time)
    problems += _problem_rows(bad_time, out, "time",
                              "time must be a number of seconds; fill in the event's video time",
                              name)
    problems += _problem_rows(~bad_time & (time < 0), out, "time",
                              "time is negative; times are seconds from the start of the lesson's "
                              "video, so they must be >= 0", name)
    problems += _problem_rows(out["lesson_id"].isna().to_numpy(), out, "lesson_id",
                              "lesson_id is missing; every event belongs to one lesson", name)
    problems += _problem_rows(out["event_id"].isna().to_numpy(), out, "event_id",
                              "event_id is missing; give every event an id", name)
    repeated = out["event_id"].duplicated(keep="first") & out["event_id"].notna()
    problems += _problem_rows(repeated.to_numpy(), out, "event_id",
                              "event_id repeats an earlier row; each event is listed once, so "
                              "remove the duplicate or give it its own id", name)
    valence = _as_objects(out["valence"])
    bad_valence = ~np.isin(valence, np.array(_VALENCES, dtype=object))
    problems += _problem_rows(bad_valence, out, "valence",
                              f"unknown valence; use one of {', '.join(_VALENCES)}", name)
    kind = _as_objects(out["target_kind"])
    bad_kind = ~np.isin(kind, np.array(_TARGET_KINDS, dtype=object))
    problems += _problem_rows(bad_kind, out, "target_kind",
                              f"unknown target kind; use one of {', '.join(_TARGET_KINDS)}", name)
    is_student = kind == TargetKind.STUDENT.value
    has_student = out["student_id"].notna().to_numpy()
    problems += _problem_rows(is_student & ~has_student, out, "student_id",
                              "a student target needs a student_id; fill it in or change "
                              "target_kind to 'group' or 'class'", name)
    problems += _problem_rows(~bad_kind & ~is_student & has_student, out, "student_id",
                              "a group or class target has a student_id; clear it or change "
                              "target_kind to 'student'", name)
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        raise ValidationError(problems, what=name)

    out["time"] = time
    out["valence"] = pd.Series(valence, dtype=object)
    out["target_kind"] = pd.Series(kind, dtype=object)
    out["subtype"] = pd.Series(_as_objects(out["subtype"]), dtype=object)
    out["coder"] = pd.Series(_as_objects(out["coder"]), dtype=object)
    out["event_id"] = pd.Series(out["event_id"].to_numpy(dtype=object), dtype=object)
    if pd.api.types.is_float_dtype(out["student_id"]):
        present = out["student_id"].dropna().to_numpy()
        if np.all(np.mod(present, 1) == 0):  # integer ids read as float because of empty cells
            out["student_id"] = out["student_id"].astype("Int64")
    out["target"] = target_label(out["target_kind"], out["student_id"])
    return out


def _as_objects(column: pd.Series) -> np.ndarray:
    """A column as a numpy object array of str, with None for missing values."""
    values = column.to_numpy(dtype=object, na_value=None)
    if column.dtype != object:
        return values
    return np.array([None if v is None or v is pd.NA or (isinstance(v, float) and v != v)
                     else str(v) for v in values], dtype=object)


def _coder_name(events: pd.DataFrame, default: str) -> str:
    coders = events["coder"].dropna().unique()
    return str(coders[0]) if len(coders) == 1 else default


def _assign_arrays(lesson: np.ndarray, time: np.ndarray, side: np.ndarray, index: np.ndarray,
                   window: float) -> tuple[np.ndarray, np.ndarray]:
    """Optimal one-to-one pairs of side-0 and side-1 events; returns two index arrays."""
    order = np.lexsort((side, time, lesson))
    lesson, time, side, index = lesson[order], time[order], side[order], index[order]
    n = len(time)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    new_cluster = np.ones(n, dtype=bool)
    new_cluster[1:] = (lesson[1:] != lesson[:-1]) | (np.diff(time) > window)
    cluster = np.cumsum(new_cluster) - 1
    starts = np.flatnonzero(new_cluster)
    sizes = np.diff(np.append(starts, n))
    n_b = np.add.reduceat(side, starts)
    n_a = sizes - n_b

    # A cluster where one coder has a single event (the hub): pair the hub with the other coder's
    # nearest event, which lies within the window because the hub's neighbours in time do.
    star = (n_a >= 1) & (n_b >= 1) & ((n_a == 1) | (n_b == 1))
    hub_side = np.where(n_a == 1, 0, 1)
    in_star = star[cluster]
    is_hub = in_star & (side == hub_side[cluster])
    hub = np.flatnonzero(is_hub)
    hub_time = np.zeros(len(starts))
    hub_time[cluster[hub]] = time[hub]
    spoke = np.flatnonzero(in_star & ~is_hub)
    distance = np.abs(time[spoke] - hub_time[cluster[spoke]])
    nearest = np.lexsort((time[spoke], distance, cluster[spoke]))
    spoke = spoke[nearest]
    if len(spoke):
        spoke = spoke[np.r_[True, cluster[spoke][1:] != cluster[spoke][:-1]]]
    hub_is_a = side[hub] == 0
    pairs_a = [index[np.where(hub_is_a, hub, spoke)]]
    pairs_b = [index[np.where(hub_is_a, spoke, hub)]]

    # Crowded clusters (two or more events of each coder). Small ones, grouped by shape, by
    # trying every way to give each event of the smaller side a partner (every maximal matching
    # is part of one of them); larger ones with the assignment solver.
    crowded = (n_a >= 2) & (n_b >= 2)
    grouping = np.lexsort((np.arange(n), side, cluster))
    run_start = np.r_[True, (np.diff(cluster[grouping]) != 0) | (np.diff(side[grouping]) != 0)]
    first_of_run = np.maximum.accumulate(np.where(run_start, np.arange(n), 0))
    rank = np.empty(n, dtype=np.int64)
    rank[grouping] = np.arange(n) - first_of_run
    shapes = np.unique(np.stack([n_a[crowded], n_b[crowded]], axis=1), axis=0)
    for size_a, size_b in shapes:
        chosen = np.flatnonzero(crowded & (n_a == size_a) & (n_b == size_b))
        small, large = sorted((int(size_a), int(size_b)))
        if math.perm(large, small) > 120:
            for c in chosen:
                found_a, found_b = _solve_block(starts[c], sizes[c], side, time, index, window)
                pairs_a.append(found_a)
                pairs_b.append(found_b)
            continue
        row = np.full(len(starts), -1)
        row[chosen] = np.arange(len(chosen))
        members = np.flatnonzero(row[cluster] >= 0)
        pos_a = np.zeros((len(chosen), size_a), dtype=np.int64)
        pos_b = np.zeros((len(chosen), size_b), dtype=np.int64)
        member_a = members[side[members] == 0]
        member_b = members[side[members] == 1]
        pos_a[row[cluster[member_a]], rank[member_a]] = member_a
        pos_b[row[cluster[member_b]], rank[member_b]] = member_b
        flip = size_a > size_b
        pos_small, pos_large = (pos_b, pos_a) if flip else (pos_a, pos_b)
        options = np.array(list(itertools.permutations(range(large), small)), dtype=np.int64)
        partner = pos_large[:, options]  # (clusters, options, small)
        distance = np.abs(time[pos_small][:, None, :] - time[partner])
        admissible = distance <= window
        penalty = (window + 1.0) * (small + 1.0)
        best = np.argmin(np.where(admissible, distance, penalty).sum(axis=2), axis=1)
        take = np.arange(len(chosen))
        keep = admissible[take, best]
        first = np.broadcast_to(pos_small[:, None, :], partner.shape)[take, best][keep]
        second = partner[take, best][keep]
        pairs_a.append(index[second if flip else first])
        pairs_b.append(index[first if flip else second])
    return np.concatenate(pairs_a), np.concatenate(pairs_b)


def _solve_block(start: int, size: int, side: np.ndarray, time: np.ndarray, index: np.ndarray,
                 window: float) -> tuple[np.ndarray, np.ndarray]:
    """Assignment-problem matching of one crowded cluster."""
    block = slice(start, start + size)
    block_side, block_time, block_index = side[block], time[block], index[block]
    ta, tb = block_time[block_side == 0], block_time[block_side == 1]
    distance = np.abs(ta[:, None] - tb[None, :])
    admissible = distance <= window
    penalty = (window + 1.0) * (min(len(ta), len(tb)) + 1.0)
    rows, cols = linear_sum_assignment(np.where(admissible, distance, penalty))
    keep = admissible[rows, cols]
    return block_index[block_side == 0][rows[keep]], block_index[block_side == 1][cols[keep]]


def _side_frame(events: pd.DataFrame, positions: np.ndarray, suffix: str) -> pd.DataFrame:
    """Columns of one coder's events at ``positions``; empty cells where the position is -1."""
    absent = positions < 0
    take = np.maximum(positions, 0)
    columns: dict[str, np.ndarray] = {}
    for column in _SIDE_COLUMNS:
        if column == "time":
            values = events["time"].to_numpy(dtype=float)
            taken = values[take] if len(values) else np.full(len(take), np.nan)
            columns["time_" + suffix] = np.where(absent, np.nan, taken)
            continue
        values = events[column].to_numpy(dtype=object, na_value=None)
        taken = values[take] if len(values) else np.full(len(take), None, dtype=object)
        taken[absent] = None
        columns[f"{column}_{suffix}"] = pd.Series(taken, dtype=object)
    return pd.DataFrame(columns)


@dataclass(frozen=True)
class EventMatching:
    """Two coders' events of the same lessons, matched one-to-one within a time window.

    Attributes
    ----------
    units
        One row per matched pair or unmatched event: ``lesson_id``, ``status`` (``"matched"``,
        ``"only_a"`` or ``"only_b"``) and, for each coder (suffix ``_a`` / ``_b``, empty where the
        coder has no event), ``time``, ``event_id``, ``target_kind``, ``student_id``, ``target``,
        ``valence``, ``subtype`` and ``coder``. Sorted by lesson and time.
    window
        The largest time difference (seconds) allowed within a pair.
    coder_a, coder_b
        The coders' names (from the ``coder`` column, else ``"a"`` / ``"b"``).
    lessons
        The lessons both coders coded, in the order of :attr:`units`.
    lessons_only_a, lessons_only_b
        Lessons only one coder coded; they are left out of the matching.
    """

    units: pd.DataFrame
    window: float
    coder_a: str
    coder_b: str
    lessons: tuple
    lessons_only_a: tuple
    lessons_only_b: tuple

    @property
    def pairs(self) -> pd.DataFrame:
        """The matched pairs (rows of :attr:`units` with status ``"matched"``)."""
        return self.units[self.units["status"] == "matched"].reset_index(drop=True)

    @property
    def unmatched_a(self) -> pd.DataFrame:
        """Coder A's events without a partner in coder B's events."""
        return self.units[self.units["status"] == "only_a"].reset_index(drop=True)

    @property
    def unmatched_b(self) -> pd.DataFrame:
        """Coder B's events without a partner in coder A's events."""
        return self.units[self.units["status"] == "only_b"].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Counts per lesson and for all lessons together (``lesson_id`` ``"all"``).

        Columns: ``lesson_id``, ``n_events_a``, ``n_events_b``, ``n_matched``, ``n_only_a``,
        ``n_only_b``, ``proportion_matched`` (matched pairs over all units) and
        ``mean_abs_time_difference`` (seconds, over matched pairs).
        """
        units = self.units
        status = units["status"]
        table = pd.DataFrame({
            "lesson_id": units["lesson_id"],
            "n_matched": (status == "matched").astype(int),
            "n_only_a": (status == "only_a").astype(int),
            "n_only_b": (status == "only_b").astype(int),
            "abs_diff": (units["time_a"] - units["time_b"]).abs(),
        })
        by_lesson = table.groupby("lesson_id", sort=False).agg(
            n_matched=("n_matched", "sum"), n_only_a=("n_only_a", "sum"),
            n_only_b=("n_only_b", "sum"), mean_abs_time_difference=("abs_diff", "mean"))
        total = pd.DataFrame({
            "n_matched": [by_lesson["n_matched"].sum()],
            "n_only_a": [by_lesson["n_only_a"].sum()],
            "n_only_b": [by_lesson["n_only_b"].sum()],
            "mean_abs_time_difference": [table["abs_diff"].mean()],
        }, index=pd.Index(["all"], name="lesson_id"))
        out = pd.concat([by_lesson.astype({"mean_abs_time_difference": float}), total])
        out["n_events_a"] = out["n_matched"] + out["n_only_a"]
        out["n_events_b"] = out["n_matched"] + out["n_only_b"]
        n_units = out["n_matched"] + out["n_only_a"] + out["n_only_b"]
        out["proportion_matched"] = out["n_matched"] / n_units
        columns = ["n_events_a", "n_events_b", "n_matched", "n_only_a", "n_only_b",
                   "proportion_matched", "mean_abs_time_difference"]
        return out[columns].reset_index()

    def _repr_html_(self) -> str:
        coder_a, coder_b = html.escape(self.coder_a), html.escape(self.coder_b)
        head = (f"<p><b>Event matching</b> of coders {coder_a} and {coder_b}: "
                f"{len(self.lessons)} lesson(s), window {self.window:g} s")
        if self.lessons_only_a or self.lessons_only_b:
            head += (f"; coded by one coder only (left out): {len(self.lessons_only_a)} "
                     f"lesson(s) of {coder_a}, {len(self.lessons_only_b)} of {coder_b}")
        return head + "</p>" + self.to_frame().to_html(index=False)


def match_events(coder_a: pd.DataFrame, coder_b: pd.DataFrame, *, window: float = 2.0,
                 lessons: Sequence | None = None) -> EventMatching:
    """Match two coders' events one-to-one within each lesson.

    Within each lesson, an event of coder A and one of coder B are paired when their times differ
    by at most ``window`` seconds; the pairing has the largest possible number of pairs and, among
    those, the least total time distance (see the module docstring).

    Parameters
    ----------
    coder_a, coder_b
        Each coder's events, one row each, with the columns ``lesson_id``, ``time`` (seconds),
        ``student_id`` (empty for a group or class target), ``target_kind``, ``valence``,
        ``event_id`` and optionally ``subtype`` and ``coder``
        (:func:`validate_coder_events`).
    window
        The largest time difference in seconds within a pair (inclusive); default 2.
    lessons
        The lessons to compare. By default every lesson that appears in both tables; lessons that
        appear in one table only are left out and listed in the result. Give the list when a
        double-coded lesson may lack events from one coder: its events then all count as
        unmatched.

    Returns
    -------
    EventMatching
        Matched pairs and each coder's unmatched events (``.units``), with per-lesson counts in
        ``.to_frame()``.

    Raises
    ------
    DataError, ValidationError
        Bad event tables (see :func:`validate_coder_events`), a window that is not a positive
        number, or no lesson coded by both coders.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"lesson_id": 1, "time": [10.0, 20.0], "student_id": [3, None],
    ...                   "target_kind": ["student", "class"], "valence": ["positive", "neutral"],
    ...                   "event_id": ["a1", "a2"]})
    >>> b = a.assign(time=[11.5, 30.0], event_id=["b1", "b2"])
    >>> match_events(a, b).to_frame()[["lesson_id", "n_matched", "n_only_a", "n_only_b"]]
      lesson_id  n_matched  n_only_a  n_only_b
    0         1          1         1         1
    1       all          1         1         1
    """
    if isinstance(window, bool) or not isinstance(window, int | float) or not (
            math.isfinite(window) and window > 0):
        raise DataError(f"window={window!r} is not a positive number of seconds; use e.g. "
                        f"window=2.0")
    window = float(window)
    a = validate_coder_events(coder_a, name="coder_a")
    b = validate_coder_events(coder_b, name="coder_b")
    return match_validated_events(a, b, window=window, lessons=lessons)


def _at(values: np.ndarray, positions: np.ndarray, fill: float) -> np.ndarray:
    """``values[positions]`` where a position is -1 (or ``values`` is empty) gives ``fill``."""
    if len(values) == 0:
        return np.full(len(positions), fill)
    return np.where(positions >= 0, values[np.maximum(positions, 0)], fill)


def match_validated_events(a: pd.DataFrame, b: pd.DataFrame, *, window: float,
                           lessons: Sequence | None = None) -> EventMatching:
    """:func:`match_events` for tables already checked by :func:`validate_coder_events`."""
    lessons_a = pd.unique(a["lesson_id"])
    lessons_b = pd.unique(b["lesson_id"])
    if lessons is None:
        in_b = set(lessons_b)
        in_a = set(lessons_a)
        chosen = [lesson for lesson in lessons_a if lesson in in_b]
        only_a = tuple(lesson for lesson in lessons_a if lesson not in in_b)
        only_b = tuple(lesson for lesson in lessons_b if lesson not in in_a)
    else:
        chosen = list(dict.fromkeys(lessons))
        chosen_set = set(chosen)
        only_a = tuple(lesson for lesson in lessons_a if lesson not in chosen_set)
        only_b = tuple(lesson for lesson in lessons_b if lesson not in chosen_set)
    if not chosen:
        raise DataError(
            "no lesson was coded by both coders (no lesson_id appears in both coder_a and "
            "coder_b); pass the events of the double-coded lessons, or list them in lessons=")
    a = a[a["lesson_id"].isin(chosen)].reset_index(drop=True)
    b = b[b["lesson_id"].isin(chosen)].reset_index(drop=True)

    lesson_codes = pd.Index(chosen)
    code_a = lesson_codes.get_indexer(a["lesson_id"])
    code_b = lesson_codes.get_indexer(b["lesson_id"])
    time_a = a["time"].to_numpy(dtype=float)
    time_b = b["time"].to_numpy(dtype=float)
    pair_a, pair_b = _assign_arrays(
        np.concatenate([code_a, code_b]), np.concatenate([time_a, time_b]),
        np.concatenate([np.zeros(len(a), np.int64), np.ones(len(b), np.int64)]),
        np.concatenate([np.arange(len(a)), np.arange(len(b))]), window)

    matched_a = np.zeros(len(a), dtype=bool)
    matched_a[pair_a] = True
    matched_b = np.zeros(len(b), dtype=bool)
    matched_b[pair_b] = True
    lone_a = np.flatnonzero(~matched_a)
    lone_b = np.flatnonzero(~matched_b)
    pos_a = np.concatenate([pair_a, lone_a, np.full(len(lone_b), -1)])
    pos_b = np.concatenate([pair_b, np.full(len(lone_a), -1), lone_b])
    status = np.repeat(np.array(["matched", "only_a", "only_b"], dtype=object),
                       [len(pair_a), len(lone_a), len(lone_b)])
    lesson_code = np.where(pos_a >= 0, _at(code_a, pos_a, -1), _at(code_b, pos_b, -1))
    sort_time = np.where(pos_a >= 0, _at(time_a, pos_a, 0.0), _at(time_b, pos_b, 0.0))
    order = np.lexsort((sort_time, lesson_code))

    units = pd.concat([
        pd.DataFrame({"lesson_id": lesson_codes[lesson_code[order]],
                      "status": status[order]}),
        _side_frame(a, pos_a[order], "a"),
        _side_frame(b, pos_b[order], "b"),
    ], axis=1)
    present = pd.unique(units["lesson_id"])
    return EventMatching(
        units=units, window=window,
        coder_a=_coder_name(a, "a"), coder_b=_coder_name(b, "b"),
        lessons=tuple(lesson for lesson in chosen if lesson in set(present)),
        lessons_only_a=only_a, lessons_only_b=only_b)
