"""Time-unit kappa as BORIS computes it, worked by hand on small lessons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import DataError, OptionError, UndefinedStatisticWarning
from classdyad.measures import time_unit_kappa


def events(rows, *, prefix):
    """rows: (lesson, time, valence)."""
    return pd.DataFrame({
        "lesson_id": [r[0] for r in rows], "time": [float(r[1]) for r in rows],
        "student_id": None, "target_kind": "class", "valence": [r[2] for r in rows],
        "event_id": [f"{prefix}{i}" for i in range(len(rows))],
    })


A = events([(1, 0.0, "positive"), (1, 2.5, "negative"), (1, 5.0, "neutral")], prefix="a")
B = events([(1, 0.2, "positive"), (1, 2.5, "positive"), (1, 4.0, "neutral")], prefix="b")


def test_worked_example():
    # Slices at t = 0, 1, ..., 5 (first to last event of both coders, unit 1 s). A point event
    # counts in every slice within half a unit, so 2.5 s is in the slices at 2 and at 3.
    #   A: positive, -, negative, negative, -, neutral
    #   B: positive, -, positive, positive, neutral, -
    # po = 2/6; pe = (1*3 + 2*2 + 2*0 + 1*1) / 36 = 8/36; kappa = (12 - 8) / (36 - 8) = 1/7.
    result = time_unit_kappa(A, B)
    row = result.to_frame().iloc[0]
    assert row["n_slices"] == 6
    assert row["observed_agreement"] == pytest.approx(2 / 6)
    assert row["expected_agreement"] == pytest.approx(8 / 36)
    assert row["kappa"] == pytest.approx(1 / 7)
    assert result.kappa == pytest.approx(1 / 7)  # one lesson: pooled equals it
    assert "BORIS" in result._repr_html_()


def test_two_events_in_one_slice_are_a_state_of_their_own():
    a = events([(1, 0.0, "neutral"), (1, 2.0, "positive"), (1, 2.1, "positive")], prefix="a")
    b = events([(1, 0.0, "neutral"), (1, 2.0, "positive")], prefix="b")
    # slices 0, 1, 2: A = neutral, -, {positive, positive}; B = neutral, -, positive
    row = time_unit_kappa(a, b).to_frame().iloc[0]
    assert row["observed_agreement"] == pytest.approx(2 / 3)
    assert row["expected_agreement"] == pytest.approx(2 / 9)


def test_longer_unit_and_pooling_over_lessons():
    a = pd.concat([A, events([(2, 10.0, "negative"), (2, 14.0, "neutral")], prefix="c")])
    b = pd.concat([B, events([(2, 10.4, "negative"), (2, 13.0, "neutral")], prefix="d")])
    result = time_unit_kappa(a, b, unit=2.0)
    table = result.to_frame().set_index("lesson_id")
    # lesson 2, unit 2 s: slices at 10, 12, 14; A = negative, -, neutral;
    # B = negative, neutral (13 is 1 s from 12 and from 14: both), neutral.
    assert table.loc[2, "n_slices"] == 3
    assert table.loc[2, "observed_agreement"] == pytest.approx(2 / 3)
    assert table.loc["all", "n_slices"] == table.loc[1, "n_slices"] + 3


def test_aspect_target():
    a = A.assign(target_kind=["student", "class", "class"], student_id=[4, None, None])
    b = B.assign(target_kind=["student", "class", "group"], student_id=[4, None, None])
    row = time_unit_kappa(a, b, aspect="target").to_frame().iloc[0]
    # A: student:4, -, class, class, -, class;  B: student:4, -, class, class, group, -
    assert row["observed_agreement"] == pytest.approx(4 / 6)


def test_undefined_is_nan_not_one_as_in_boris():
    a = events([(1, 3.0, "neutral")], prefix="a")
    b = events([(1, 3.0, "neutral")], prefix="b")
    with pytest.warns(UndefinedStatisticWarning, match="BORIS would report 1"):
        result = time_unit_kappa(a, b)
    assert np.isnan(result.kappa)


def test_bad_inputs():
    with pytest.raises(DataError, match="unit"):
        time_unit_kappa(A, B, unit=0)
    with pytest.raises(OptionError, match="'valence', 'target', 'subtype'"):
        time_unit_kappa(A, B, aspect="teacher")
    with pytest.raises(DataError, match="no lesson was coded by both"):
        time_unit_kappa(A, B.assign(lesson_id=9))
    with pytest.raises(DataError, match="coder_a has no events"):
        time_unit_kappa(A.iloc[:0], B)
