"""One teacher's feedback from a stored study: which lessons, events, ratings and groups.

:func:`feedback_input` gathers, for the teacher with a given code, the lessons that teacher
taught (a duo teacher's own lessons only), who was present in each and for how long, the
teacher's own coded interactions with each present student (the primary coding of each lesson,
as :func:`classdyad.study.interaction_rates`), and the teacher's own closeness and conflict
ratings. Nothing of other teachers enters. Background groups enter only where the study enables
them (:data:`GROUP_SETTING` in the study's settings lists the dataset columns allowed, for
example ``["low_ses"]``); by default there are none. :func:`study_teacher_feedback` runs
:func:`classdyad.analysis.teacher_feedback.teacher_feedback` on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from classdyad.analysis.goal_progress import goal_progress
from classdyad.analysis.teacher_feedback import (
    FlagRule,
    TeacherFeedbackResult,
    teacher_feedback,
)
from classdyad.errors import DataError, NotFoundError
from classdyad.model import StudyTables
from classdyad.model.background import classify_background
from classdyad.study.dataset import VALENCES

__all__ = ["GROUP_COLUMNS", "GROUP_SETTING", "FeedbackInput", "feedback_input",
           "study_teacher_feedback"]

#: the study setting that lists the background columns allowed in teachers' feedback
GROUP_SETTING = "teacher_feedback_groups"
#: background columns a study may enable
GROUP_COLUMNS = ("low_ses", "non_western", "turkish_moroccan", "migration_background")


@dataclass(frozen=True)
class FeedbackInput:
    """The frames :func:`teacher_feedback` takes, for one teacher.

    Attributes
    ----------
    teacher
        The teacher's code.
    interactions
        One row per lesson and present student: ``classroom, wave, lesson, student, minutes,
        positive, negative, neutral``.
    ratings
        The teacher's ratings: ``wave, student, closeness, conflict``.
    groups
        ``student`` and the enabled background columns, or ``None`` (not enabled).
    """

    teacher: str
    interactions: pd.DataFrame = field(repr=False)
    ratings: pd.DataFrame = field(repr=False)
    groups: pd.DataFrame | None = field(repr=False)

    @property
    def students(self) -> tuple[str, ...]:
        """The codes of the teacher's students (those observed in the teacher's lessons)."""
        return tuple(sorted(self.interactions["student"].unique()))


def _teacher_id(tables: StudyTables, teacher: str) -> int:
    match = tables.teachers[tables.teachers["code"].astype(str) == str(teacher)]
    if match.empty:
        known = ", ".join(sorted(tables.teachers["code"].astype(str))[:8])
        raise NotFoundError(f"no teacher with code {teacher!r} in study {tables.name!r}; the "
                            f"teachers' codes are, for example: {known}")
    return int(match["id"].iloc[0])


def _enabled_groups(tables: StudyTables) -> tuple[str, ...]:
    chosen = tables.settings.get(GROUP_SETTING) or ()
    if isinstance(chosen, str):
        chosen = (chosen,)
    unknown = [c for c in chosen if c not in GROUP_COLUMNS]
    if unknown:
        raise DataError(f"study setting {GROUP_SETTING!r} names unknown background column(s) "
                        f"{unknown}; use some of {', '.join(GROUP_COLUMNS)}")
    return tuple(chosen)


def _ratings(tables: StudyTables, teacher_id: int, students: pd.Series,
             waves: pd.Series) -> pd.DataFrame:
    from classdyad.study.scores import score_study_questionnaires

    columns = ["wave", "student", "closeness", "conflict"]
    instruments = tables.instruments
    own = tables.responses[(tables.responses["teacher_id"] == teacher_id)
                           & tables.responses["instrument_id"].isin(
                               instruments.loc[instruments["informant"] == "teacher", "id"])]
    if own.empty:
        return pd.DataFrame(columns=columns)
    items = tables.response_items[tables.response_items["response_id"].isin(own["id"])]
    scores = score_study_questionnaires(replace(tables, responses=own, response_items=items))
    scores = scores[scores["informant"] == "teacher"]
    if not {"closeness", "conflict"} <= set(scores.columns):
        return pd.DataFrame(columns=columns)
    return pd.DataFrame({
        "wave": waves.reindex(scores["wave_id"]).to_numpy(),
        "student": students.reindex(scores["student_id"]).to_numpy(),
        "closeness": scores["closeness"].to_numpy(dtype=float),
        "conflict": scores["conflict"].to_numpy(dtype=float),
    })


def feedback_input(tables: StudyTables, teacher: str, *, coder_id: int | None = None
                   ) -> FeedbackInput:
    """Gather one teacher's lessons, interactions, ratings and (if enabled) groups.

    Parameters
    ----------
    tables
        The study (:func:`classdyad.store.read_study` or the simulator).
    teacher
        The teacher's code.
    coder_id
        Count only this coder's events; default: each lesson's primary coding.

    Raises
    ------
    NotFoundError
        If the study has no teacher with this code.
    DataError
        If the teacher has no observed lessons with students present.
    """
    tid = _teacher_id(tables, teacher)
    taught = tables.lesson_teachers.loc[tables.lesson_teachers["teacher_id"] == tid, "lesson_id"]
    lessons = tables.lessons[tables.lessons["id"].isin(taught)]
    present = tables.attendance[tables.attendance["lesson_id"].isin(lessons["id"])
                                & tables.attendance["present"].astype(bool)]
    if present.empty:
        raise DataError(f"teacher {teacher!r} has no observed lessons with students present; "
                        "feedback needs coded lessons of this teacher")
    events = tables.events[tables.events["lesson_id"].isin(lessons["id"])
                           & (tables.events["teacher_id"] == tid)
                           & (tables.events["target_kind"] == "student")]
    if coder_id is not None:
        events = events[events["coder_id"] == coder_id]
    elif events["coder_id"].notna().any():
        first = tables.events[tables.events["lesson_id"].isin(lessons["id"])].groupby(
            "lesson_id")["coder_id"].min()
        events = events[events["coder_id"].to_numpy()
                        == first.reindex(events["lesson_id"]).to_numpy()]
    counts = (events.groupby(["lesson_id", "student_id", "valence"]).size()
              .unstack("valence").reindex(columns=list(VALENCES)).fillna(0).astype("int64"))
    rows = present[["lesson_id", "student_id"]].astype("int64").merge(
        lessons[["id", "classroom_id", "wave_id", "observed_minutes"]],
        left_on="lesson_id", right_on="id")
    rows = rows.merge(counts.reset_index().astype({"student_id": "int64"}),
                      on=["lesson_id", "student_id"], how="left")
    students = tables.students.set_index("id")["code"].astype(str)
    waves = tables.waves.set_index("id")["number"]
    classrooms = tables.classrooms.set_index("id")["code"].astype(str)
    interactions = pd.DataFrame({
        "classroom": classrooms.reindex(rows["classroom_id"]).to_numpy(),
        "wave": waves.reindex(rows["wave_id"]).to_numpy(),
        "lesson": rows["lesson_id"].to_numpy(),
        "student": students.reindex(rows["student_id"]).to_numpy(),
        "minutes": rows["observed_minutes"].to_numpy(dtype=float),
        **{v: rows[v].fillna(0).to_numpy(dtype="int64") for v in VALENCES},
    }).sort_values(["classroom", "wave", "student", "lesson"], ignore_index=True)
    ratings = _ratings(tables, tid, students, waves)
    ratings = ratings[ratings["student"].isin(interactions["student"])]
    enabled = _enabled_groups(tables)
    groups = None
    if enabled:
        ids = rows["student_id"].unique()
        raw = tables.students.set_index("id").loc[ids]
        derived = classify_background(raw[["birth_country", "mother_birth_country",
                                           "father_birth_country", "mother_education",
                                           "father_education"]],
                                      ses_rule=tables.settings.get("ses_rule", "pupil_weight"),
                                      undetermined="missing", source="students")
        groups = derived[list(enabled)].assign(student=students.reindex(ids).to_numpy())
        groups = groups[["student", *enabled]].reset_index(drop=True)
    return FeedbackInput(teacher=str(teacher), interactions=interactions, ratings=ratings,
                         groups=groups)


def study_teacher_feedback(tables: StudyTables, teacher: str, *,
                           flag_rule: FlagRule = "posterior", flag_level: float = 0.95,
                           coder_id: int | None = None, goals: pd.DataFrame | None = None,
                           **options: Any) -> tuple[TeacherFeedbackResult, FeedbackInput]:
    """The feedback of one teacher of a study, and the input it was computed from.

    The smallest group cell shown is the study's ``min_cell_size`` setting (5 by default).
    ``goals`` (the teacher's coaching goals, as
    :func:`~classdyad.analysis.goal_progress.goal_progress` takes them) add the progress on each
    goal to the result (``progress``); a goal for a class without observed lessons of this
    teacher has no baseline yet.
    ``options`` go to :func:`~classdyad.analysis.teacher_feedback.teacher_feedback`.
    """
    data = feedback_input(tables, teacher, coder_id=coder_id)
    min_cell = int(tables.settings.get("min_cell_size", 5) or 5)
    result = teacher_feedback(data.interactions, ratings=data.ratings, groups=data.groups,
                              teacher=data.teacher, flag_rule=flag_rule,
                              flag_level=flag_level, min_cell=min_cell, **options)
    if goals is not None and len(goals):
        result = replace(result, progress=goal_progress(result, goals))
    return result, data
