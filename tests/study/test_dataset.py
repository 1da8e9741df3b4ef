"""The analysis dataset on a study small enough to count by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import DataError
from classdyad.model import StudyTables
from classdyad.study import (
    DATASET_COLUMNS,
    aggregate_by_student,
    build_analysis_dataset,
    describe_columns,
    interaction_rates,
)


def _events(rows: list[tuple[int, int, str, int | None, str, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["lesson_id", "teacher_id", "target_kind", "student_id",
                                        "valence", "coder_id"])
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    frame.insert(1, "client_id", [f"e{i}" for i in range(len(frame))])
    frame["video_seconds"] = np.arange(len(frame), dtype=float)
    frame["student_id"] = frame["student_id"].astype("Int64")
    frame["subtype"] = None
    frame["codebook_id"] = None
    return frame


def tiny_study() -> StudyTables:
    """One class, a primary teacher (1) and a duo partner (2), three students, two lessons.

    Lesson 1 (60 min, teacher 1): students 1 and 3 present, 2 absent. Teacher 1 gives student 1
    two positive and one negative interaction and student 3 three neutral ones, plus two
    class-directed events. Lesson 2 (30 min, teacher 2, the duo partner): five negative
    interactions with student 1, which are not part of the dyad with teacher 1. A second coder
    (coder 2) also coded lesson 1 and saw four positive interactions with student 1.
    """
    student = ("higher", "higher")
    events = _events(
        [(1, 1, "student", 1, "positive", 1)] * 2 + [(1, 1, "student", 1, "negative", 1)]
        + [(1, 1, "student", 3, "neutral", 1)] * 3 + [(1, 1, "class", None, "neutral", 1)] * 2
        + [(2, 2, "student", 1, "negative", 1)] * 5
        + [(1, 1, "student", 1, "positive", 2)] * 4)
    return StudyTables(
        name="tiny",
        waves=pd.DataFrame({"id": [1], "number": [1], "start_date": [None], "end_date": [None]}),
        schools=pd.DataFrame({"id": [1], "code": ["S1"], "country": ["NL"]}),
        classrooms=pd.DataFrame({"id": [1], "school_id": [1], "code": ["C1"],
                                 "lowest_grade": [6], "highest_grade": [7]}),
        teachers=pd.DataFrame({"id": [1, 2], "code": ["T1", "T2"], "gender": [None, None],
                               "years_experience": [None, None]}),
        classroom_teachers=pd.DataFrame({"classroom_id": [1, 1], "teacher_id": [1, 2],
                                         "primary": [True, False]}),
        students=pd.DataFrame({
            "id": [1, 2, 3], "code": ["P1", "P2", "P3"], "gender": ["girl", "boy", "boy"],
            "birth_year": [2014, 2014, 2013],
            "birth_country": ["NL", "NL", "MA"], "mother_birth_country": ["NL", "TR", "MA"],
            "father_birth_country": ["NL", "TR", "MA"],
            "mother_education": [student[0], "primary", "upper_secondary"],
            "father_education": [student[1], "prevocational_basic", "higher"]}),
        enrolments=pd.DataFrame({"id": [1, 2, 3], "student_id": [1, 2, 3],
                                 "classroom_id": [1, 1, 1], "wave_id": [1, 1, 1],
                                 "grade": [6, 6, 7]}),
        lessons=pd.DataFrame({"id": [1, 2], "classroom_id": [1, 1], "wave_id": [1, 1],
                              "date": [None, None], "subject": [None, None],
                              "observed_minutes": [60.0, 30.0]}),
        lesson_teachers=pd.DataFrame({"lesson_id": [1, 2], "teacher_id": [1, 2]}),
        attendance=pd.DataFrame({"lesson_id": [1, 1, 1, 2, 2, 2], "student_id": [1, 2, 3] * 2,
                                 "present": [True, False, True, True, True, True],
                                 "visible": [True, False, True, True, True, True]}),
        coders=pd.DataFrame({"id": [1, 2], "code": ["a", "b"]}),
        events=events,
    )


def test_counts_minutes_rates_and_shares_by_hand() -> None:
    full = build_analysis_dataset(tiny_study())
    assert list(full.columns) == list(DATASET_COLUMNS)
    data = full.set_index("student")
    one, two, three = data.loc["P1"], data.loc["P2"], data.loc["P3"]
    assert (one["positive"], one["negative"], one["neutral"]) == (2, 1, 0)
    assert (one["lessons"], one["lessons_present"], one["minutes_present"]) == (1, 1, 60.0)
    assert one["positive_rate"] == 2.0 and one["negative_rate"] == 1.0
    assert one["interaction_share"] == pytest.approx(3 / 6)
    assert three["neutral"] == 3 and three["interaction_share"] == pytest.approx(3 / 6)
    assert two["minutes_present"] == 0 and math.isnan(two["negative_rate"])
    assert math.isnan(two["interaction_share"])
    assert one["teacher"] == "T1" and bool(one["duo_class"]) and bool(one["combination_class"])
    assert one["class_size"] == 3


def test_background_groups_are_derived_by_rule() -> None:
    data = build_analysis_dataset(tiny_study()).set_index("student")
    assert data.loc["P1", "migration_background"] == "dutch"
    assert data.loc["P2", "migration_background"] == "turkish"
    assert bool(data.loc["P2", "low_ses"]) and data.loc["P2", "pupil_weight"] == 1.2
    assert data.loc["P3", "migration_background"] == "moroccan"
    assert data.loc["P3", "migration_generation"] == "first"
    assert not bool(data.loc["P3", "low_ses"])
    assert bool(data.loc["P2", "turkish_moroccan"]) and bool(data.loc["P3", "non_western"])


def test_a_second_coder_is_left_out_unless_asked_for() -> None:
    rates = interaction_rates(tiny_study(), coder_id=2).set_index("student_id")
    assert rates.loc[1, "positive"] == 4 and rates.loc[1, "negative"] == 0


def test_missing_questionnaires_and_iat_give_missing_scores() -> None:
    data = build_analysis_dataset(tiny_study())
    assert data[["teacher_closeness", "student_conflict", "teacher_iat_ethnicity"]].isna().all(
        axis=None)


def test_the_replica_dataset_has_scores_and_iat(small_study) -> None:
    data = build_analysis_dataset(small_study.tables)
    assert len(data) == len(small_study.tables.enrolments)
    assert data["teacher_closeness"].dropna().between(1, 5).all()
    assert data["teacher_closeness"].notna().mean() > 0.9
    assert data["student_negative_expectations"].notna().mean() > 0.9
    assert data["teacher_iat_ethnicity"].notna().mean() > 0.8
    latent = small_study.latent.set_index(["student_id", "wave_id"])["teacher_closeness"]
    observed = data.set_index(["student_id", "wave"])["teacher_closeness"]
    both = pd.concat([latent.rename("latent"), observed.rename("scored")], axis=1).dropna()
    assert both.corr().iloc[0, 1] > 0.8


def test_per_student_aggregate_sums_counts_and_time() -> None:
    data = build_analysis_dataset(tiny_study())
    per_student = aggregate_by_student(data).set_index("student")
    assert per_student.loc["P1", "positive"] == 2
    assert per_student.loc["P1", "positive_rate"] == 2.0
    assert per_student.loc["P1", "waves"] == 1


def test_every_column_is_described() -> None:
    described = describe_columns()
    assert described["description"].str.len().min() > 5
    assert list(described["column"]) == list(DATASET_COLUMNS)


def test_two_primary_teachers_in_one_class_is_an_error() -> None:
    study = tiny_study()
    teachers = study.classroom_teachers.assign(primary=True)
    broken = StudyTables(**{**{n: getattr(study, n) for n in study.table_names()},
                            "name": "broken", "classroom_teachers": teachers})
    with pytest.raises(DataError, match="more than one primary teacher"):
        build_analysis_dataset(broken)


def test_study_tables_name_missing_columns() -> None:
    with pytest.raises(DataError, match="lacks column"):
        StudyTables(name="x", schools=pd.DataFrame({"id": [1]}))
