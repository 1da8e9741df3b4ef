"""One teacher's feedback from a study: only that teacher's students, no background groups unless
the study enables them (then suppressed), names only where given, nothing of other teachers."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pandas as pd
import pytest

from classdyad.errors import DataError, NotFoundError
from classdyad.report.feedback import feedback_page
from classdyad.simulate import SimulatedStudy
from classdyad.study.feedback import GROUP_SETTING, feedback_input, study_teacher_feedback

BACKGROUND_WORDS = ("low_ses", "non_western", "migration", "turkish", "moroccan", "surinam",
                    "antillean", "pupil_weight", "origin")


def _teacher_lessons(tables, code: str) -> pd.Series:
    tid = int(tables.teachers.loc[tables.teachers["code"] == code, "id"].iloc[0])
    return tables.lesson_teachers.loc[tables.lesson_teachers["teacher_id"] == tid, "lesson_id"]


def _codes_seen_by(tables, code: str) -> set[str]:
    lessons = _teacher_lessons(tables, code)
    present = tables.attendance[tables.attendance["lesson_id"].isin(lessons)
                                & tables.attendance["present"].astype(bool)]
    codes = tables.students.set_index("id")["code"]
    return set(codes.reindex(present["student_id"].unique()).astype(str))


@pytest.fixture(scope="module")
def teacher(small_study: SimulatedStudy) -> str:
    return str(small_study.tables.teachers["code"].iloc[0])


@pytest.fixture(scope="module")
def feedback(small_study: SimulatedStudy, teacher: str):
    return study_teacher_feedback(small_study.tables, teacher)


def test_the_input_holds_only_the_teachers_own_lessons_students_and_events(
        small_study: SimulatedStudy, teacher: str, feedback) -> None:
    tables = small_study.tables
    _, data = feedback
    assert set(data.interactions["lesson"]) <= set(_teacher_lessons(tables, teacher))
    assert set(data.students) == _codes_seen_by(tables, teacher)
    tid = int(tables.teachers.loc[tables.teachers["code"] == teacher, "id"].iloc[0])
    events = tables.events[tables.events["lesson_id"].isin(_teacher_lessons(tables, teacher))
                           & (tables.events["teacher_id"] == tid)
                           & (tables.events["target_kind"] == "student")]
    first = events.groupby("lesson_id")["coder_id"].transform("min")
    primary = events[events["coder_id"] == first]
    assert int(data.interactions[["positive", "negative", "neutral"]].to_numpy().sum()) == len(
        primary)
    assert set(data.ratings["student"]) <= set(data.students)


def test_page_and_json_never_show_another_teachers_students(small_study: SimulatedStudy,
                                                            teacher: str, feedback) -> None:
    result, data = feedback
    tables = small_study.tables
    others = set(tables.students["code"].astype(str)) - _codes_seen_by(tables, teacher)
    assert others
    html = feedback_page(result, language="en").html
    text = json.dumps(result.to_dict())
    shown = set(re.findall(r"P\d{6}", html)) | set(re.findall(r"P\d{6}", text))
    assert shown and shown <= set(data.students)
    assert not shown & others
    other_teachers = set(tables.teachers["code"].astype(str)) - {teacher}
    assert not any(code in html or code in text for code in other_teachers)


def test_no_background_groups_by_default(feedback) -> None:
    result, data = feedback
    assert data.groups is None and result.groups is None
    html = feedback_page(result, language="nl").html.lower()
    text = json.dumps(result.to_dict()).lower()
    for word in BACKGROUND_WORDS:
        assert word not in html and word not in text


def test_groups_enabled_by_the_study_are_suppressed_below_five(small_study: SimulatedStudy,
                                                               teacher: str) -> None:
    settings = {**small_study.tables.settings,
                GROUP_SETTING: ["low_ses", "migration_background"]}
    tables = replace(small_study.tables, settings=settings)
    result, data = study_teacher_feedback(tables, teacher)
    assert data.groups is not None and set(data.groups["student"]) <= set(data.students)
    groups = result.groups
    assert groups is not None and len(groups)
    assert (groups["n"].dropna() >= 5).all()
    for _, margin in groups.groupby(["classroom", "wave", "group"]):
        hidden = margin["suppressed"].notna()
        assert hidden.sum() != 1
        assert margin.loc[hidden, ["negative_rate", "positive_rate"]].isna().all().all()
    assert "low_ses" in feedback_page(result).html


def test_names_only_where_given_and_never_in_the_json(feedback) -> None:
    result, data = feedback
    code = data.students[0]
    page = feedback_page(result, names={code: "Anna Jansen"})
    assert "Anna Jansen" in page.html
    assert "Anna Jansen" not in json.dumps(page.data)
    assert "Anna Jansen" not in feedback_page(result).html


def test_unknown_teacher_and_unknown_group_setting_say_what_to_use(
        small_study: SimulatedStudy, teacher: str) -> None:
    with pytest.raises(NotFoundError, match="codes are"):
        feedback_input(small_study.tables, "NOBODY")
    tables = replace(small_study.tables, settings={GROUP_SETTING: ["income"]})
    with pytest.raises(DataError, match="low_ses"):
        feedback_input(tables, teacher)
