"""One-to-one event matching: worked cases, bad input and properties checked with hypothesis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from classdyad.coding import EVENT_COLUMNS, match_events, validate_coder_events
from classdyad.errors import ClassdyadError, DataError, ValidationError


def events(times, *, lesson=1, prefix="e", valence="neutral", coder=None) -> pd.DataFrame:
    times = list(times)
    lessons = lesson if isinstance(lesson, list) else [lesson] * len(times)
    return pd.DataFrame({
        "lesson_id": lessons, "time": [float(t) for t in times],
        "student_id": [None] * len(times), "target_kind": ["class"] * len(times),
        "valence": [valence] * len(times), "subtype": [None] * len(times),
        "coder": [coder] * len(times), "event_id": [f"{prefix}{i}" for i in range(len(times))],
    })


def test_event_columns_are_documented():
    assert EVENT_COLUMNS == ("lesson_id", "time", "student_id", "target_kind", "valence",
                             "subtype", "coder", "event_id")


def test_pairs_within_window_and_leaves_the_rest():
    matching = match_events(events([10, 20, 50], prefix="a"), events([11, 23, 51.5], prefix="b"))
    pairs = matching.pairs
    assert list(zip(pairs["event_id_a"], pairs["event_id_b"], strict=True)) == [
        ("a0", "b0"), ("a2", "b2")]
    assert list(matching.unmatched_a["event_id_a"]) == ["a1"]
    assert list(matching.unmatched_b["event_id_b"]) == ["b1"]


def test_window_is_inclusive():
    matching = match_events(events([10.0]), events([12.0]), window=2.0)
    assert len(matching.pairs) == 1
    matching = match_events(events([10.0]), events([12.01]), window=2.0)
    assert len(matching.pairs) == 0


def test_optimal_not_greedy():
    # Nearest-first would pair a1 (10.1) with b0 (10.0) and leave a0 (9.0) and b1 (12.0), 3 s
    # apart, unpaired; the optimal matching pairs a0-b0 (1.0 s) and a1-b1 (1.9 s).
    matching = match_events(events([9.0, 10.1], prefix="a"), events([10.0, 12.0], prefix="b"),
                            window=2.0)
    pairs = dict(zip(matching.pairs["event_id_a"], matching.pairs["event_id_b"], strict=True))
    assert pairs == {"a0": "b0", "a1": "b1"}


def test_maximum_number_of_pairs_before_distance():
    # a0-b0 (0.2 s) is the closest pair, but taking it leaves a1 and b1 (3.5 s apart) unpaired;
    # a0-b1 (2.0 s) and a1-b0 (1.7 s) give two pairs, which comes first.
    matching = match_events(events([10.0, 8.5], prefix="a"), events([10.2, 12.0], prefix="b"),
                            window=2.0)
    pairs = dict(zip(matching.pairs["event_id_a"], matching.pairs["event_id_b"], strict=True))
    assert pairs == {"a0": "b1", "a1": "b0"}


def test_events_of_different_lessons_never_pair():
    matching = match_events(events([10, 10], lesson=[1, 2], prefix="a"),
                            events([10], lesson=[2], prefix="b"), lessons=[1, 2])
    assert list(matching.pairs["lesson_id"]) == [2]
    assert list(matching.unmatched_a["lesson_id"]) == [1]


def test_lessons_coded_by_one_coder_are_left_out_and_reported():
    matching = match_events(events([10, 10], lesson=[1, 2]), events([10], lesson=[2]))
    assert matching.lessons == (2,)
    assert matching.lessons_only_a == (1,)
    assert "left out" in matching._repr_html_()


def test_to_frame_counts_per_lesson_and_overall():
    matching = match_events(events([1, 5, 30, 1], lesson=[1, 1, 1, 2], prefix="a"),
                            events([1.5, 40, 2], lesson=[1, 1, 2], prefix="b"))
    table = matching.to_frame().set_index("lesson_id")
    assert table.loc[1, "n_matched"] == 1
    assert table.loc[1, "n_only_a"] == 2
    assert table.loc[1, "n_only_b"] == 1
    assert table.loc["all", "n_events_a"] == 4
    assert table.loc["all", "n_events_b"] == 3
    assert table.loc["all", "mean_abs_time_difference"] == pytest.approx(0.75)


def test_coder_names_come_from_the_coder_column():
    matching = match_events(events([1], coder="anna"), events([1], coder="bram"))
    assert (matching.coder_a, matching.coder_b) == ("anna", "bram")


def test_float_student_ids_with_gaps_are_labelled_as_integers():
    a = events([1, 2])
    a["student_id"] = [7.0, np.nan]
    a["target_kind"] = ["student", "class"]
    clean = validate_coder_events(a)
    assert list(clean["target"]) == ["student:7", "class"]


# --- bad input -------------------------------------------------------------------------------


def test_coder_without_events_is_a_clear_error():
    with pytest.raises(DataError, match="coder_b has no events"):
        match_events(events([1]), events([]))


def test_missing_columns_are_named():
    with pytest.raises(DataError, match="'time'") as raised:
        match_events(events([1]).drop(columns="time"), events([1]))
    assert "coder_a" in str(raised.value)
    assert isinstance(raised.value, ClassdyadError)


def test_negative_times_and_unknown_valence_are_listed_by_row():
    bad = events([1, -3, 5])
    bad.loc[2, "valence"] = "happy"
    with pytest.raises(ValidationError) as raised:
        match_events(events([1]), bad)
    message = str(raised.value)
    assert "row 2, column time" in message and "negative" in message
    assert "row 3, column valence" in message and "'happy'" in message
    assert "positive, negative, neutral" in message
    assert len(raised.value.problems) == 2


def test_student_target_needs_a_student():
    bad = events([1])
    bad["target_kind"] = "student"
    with pytest.raises(ValidationError, match="needs a student_id"):
        validate_coder_events(bad, name="coder_a")


def test_no_common_lesson_is_an_error():
    with pytest.raises(DataError, match="no lesson was coded by both coders"):
        match_events(events([1], lesson=1), events([1], lesson=2))


@pytest.mark.parametrize("window", [0, -1.0, float("nan"), "2"])
def test_window_must_be_positive_seconds(window):
    with pytest.raises(DataError, match="window"):
        match_events(events([1]), events([1]), window=window)


def test_not_a_dataframe():
    with pytest.raises(DataError, match="pandas DataFrame"):
        match_events([1, 2], events([1]))


# --- properties ------------------------------------------------------------------------------


def reference_matching(times_a, times_b, window):
    """Number of pairs and total distance of the best matching, by one big assignment problem."""
    if not times_a or not times_b:
        return 0, 0.0
    distance = np.abs(np.subtract.outer(np.array(times_a), np.array(times_b)))
    admissible = distance <= window
    rows, cols = linear_sum_assignment(np.where(admissible, distance, 1e9))
    keep = admissible[rows, cols]
    return int(keep.sum()), float(distance[rows, cols][keep].sum())


times = st.lists(st.floats(0, 60, allow_nan=False).map(lambda t: round(t, 1)), max_size=14)


@settings(max_examples=150, deadline=None)
@given(times_a=times, times_b=times, window=st.sampled_from([0.5, 1.0, 2.0, 5.0]))
def test_matching_is_one_to_one_within_window_and_optimal(times_a, times_b, window):
    if not times_a or not times_b:
        return
    matching = match_events(events(times_a, prefix="a"), events(times_b, prefix="b"),
                            window=window)
    pairs = matching.pairs
    assert pairs["event_id_a"].is_unique and pairs["event_id_b"].is_unique
    assert ((pairs["time_a"] - pairs["time_b"]).abs() <= window + 1e-12).all()
    n_units = len(pairs) + len(matching.unmatched_a) + len(matching.unmatched_b)
    assert len(pairs) + len(matching.unmatched_a) == len(times_a)
    assert len(pairs) + len(matching.unmatched_b) == len(times_b)
    assert n_units == len(matching.units)
    n_best, distance_best = reference_matching(times_a, times_b, window)
    assert len(pairs) == n_best
    assert (pairs["time_a"] - pairs["time_b"]).abs().sum() == pytest.approx(distance_best,
                                                                             abs=1e-9)


def test_large_crowded_clusters_use_the_assignment_solver():
    rng = np.random.default_rng(3)
    times_a = sorted(rng.uniform(0, 10, 9).round(2))
    times_b = sorted(rng.uniform(0, 10, 8).round(2))
    matching = match_events(events(times_a, prefix="a"), events(times_b, prefix="b"), window=3)
    n_best, distance_best = reference_matching(times_a, times_b, 3)
    pairs = matching.pairs
    assert len(pairs) == n_best
    assert (pairs["time_a"] - pairs["time_b"]).abs().sum() == pytest.approx(distance_best)


def test_repeated_event_ids_are_listed():
    twice = events([1, 2])
    twice["event_id"] = "same"
    with pytest.raises(ValidationError, match="row 2, column event_id"):
        validate_coder_events(twice, name="coder_b")


def test_listed_lesson_without_events_of_one_coder_leaves_all_unmatched():
    matching = match_events(events([1, 5], lesson=[1, 2], prefix="a"),
                            events([1], lesson=[1], prefix="b"), lessons=[2])
    assert matching.lessons == (2,)
    assert list(matching.units["status"]) == ["only_a"]
    assert matching.lessons_only_b == (1,)
