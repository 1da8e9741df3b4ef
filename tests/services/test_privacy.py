"""Privacy policy: columns by role, minimum cell size and suppression of small groups."""

from __future__ import annotations

import pandas as pd
import pytest

from classdyad.errors import DataError, OptionError
from classdyad.services.privacy import (
    BACKGROUND_FIELDS,
    PrivacySettings,
    filter_frame,
    group_summary,
    hidden_columns,
    privacy_settings,
    suppress_small_cells,
    visible_columns,
)
from classdyad.study import DATASET_COLUMNS


def test_settings_default_to_a_minimum_cell_size_of_five_and_nothing_enabled() -> None:
    assert privacy_settings(None) == PrivacySettings(5, False, False)
    assert privacy_settings({"min_cell_size": 10}).min_cell_size == 10
    for bad in (0, -1, 2.5, "5", True):
        with pytest.raises(DataError, match="min_cell_size"):
            privacy_settings({"min_cell_size": bad})


def test_coders_and_teachers_never_see_background_columns_of_the_dataset() -> None:
    columns = list(DATASET_COLUMNS)
    background = {"migration_background", "migration_generation", "non_western",
                  "turkish_moroccan", "origin_2022", "pupil_weight", "low_ses"}
    assert background <= BACKGROUND_FIELDS
    for role in ("coder", "teacher"):
        shown = visible_columns(columns, role, {"teachers_see_background_groups": True,
                                                "coders_see_first_names": True})
        assert not set(shown) & background
        assert "teacher_iat_ethnicity" not in shown
        assert "student" in shown and "negative_rate" in shown
    assert visible_columns(columns, "researcher") == columns


def test_names_need_asking_for_researchers_and_first_names_an_option_for_coders() -> None:
    assert {"first_name", "last_name"} <= hidden_columns("researcher")
    assert not hidden_columns("researcher", include_names=True)
    assert "first_name" in hidden_columns("coder")
    assert "first_name" not in hidden_columns("coder", {"coders_see_first_names": True})
    assert "last_name" in hidden_columns("coder", {"coders_see_first_names": True})
    with pytest.raises(OptionError, match="researcher"):
        hidden_columns("student")


def test_filter_frame_drops_hidden_columns_and_keeps_the_rest_in_order() -> None:
    frame = pd.DataFrame({"student": ["a"], "first_name": ["Anna"], "low_ses": [True],
                          "negative": [3]})
    assert list(filter_frame(frame, "teacher").columns) == ["student", "first_name", "negative"]
    assert list(filter_frame(frame, "coder").columns) == ["student", "negative"]


def test_cells_below_the_minimum_are_hidden_with_a_complementary_cell() -> None:
    counts = pd.DataFrame({"group": ["a", "b", "c", "d"], "students": [12, 3, 7, 20],
                           "rate": [1.0, 2.0, 3.0, 4.0]})
    out = suppress_small_cells(counts, minimum=5)
    assert out["suppressed"].tolist() == [False, True, True, False]
    assert out.loc[out["suppressed"], ["students", "rate"]].isna().all().all()
    total = counts["students"].sum()
    shown = out.loc[~out["suppressed"], "students"].sum()
    assert total - shown == 10  # two hidden cells: neither can be worked out alone
    none_small = suppress_small_cells(counts.assign(students=[5, 6, 7, 8]), minimum=5)
    assert not none_small["suppressed"].any()
    two_small = suppress_small_cells(counts.assign(students=[1, 2, 30, 40]), minimum=5)
    assert two_small["suppressed"].tolist() == [True, True, False, False]
    with pytest.raises(DataError, match="below 1"):
        suppress_small_cells(counts, minimum=0)


def test_group_summaries_by_background_are_for_researchers_unless_enabled() -> None:
    frame = pd.DataFrame({"student": [f"s{i}" for i in range(13)],
                          "low_ses": [True] * 3 + [False] * 10,
                          "negative_rate": [1.0] * 3 + [0.5] * 10})
    full = group_summary(frame, "low_ses", role="researcher", values=["negative_rate"])
    assert full["students"].tolist() == [10, 3] and not full["suppressed"].any()
    for role in ("coder", "teacher"):
        with pytest.raises(DataError, match="background"):
            group_summary(frame, "low_ses", role=role)
    shown = group_summary(frame, "low_ses", role="teacher", values=["negative_rate"],
                          settings={"teachers_see_background_groups": True})
    assert shown["suppressed"].all()  # 3 < 5, and its complement must go too
    assert shown["negative_rate"].isna().all()
    with pytest.raises(DataError):
        group_summary(frame, "low_ses", role="coder",
                      settings={"teachers_see_background_groups": True})
