"""The analysis dataset: one tidy row per student x wave (and one per student over the year).

Everything the study's models use is built here, from a :class:`~classdyad.model.StudyTables`
(read from a store or made by the simulator), so that every analysis starts from the same table.

The relationship unit is the *dyad*: each row pairs a student with the class's primary teacher
(the teacher who rated the student in that wave's questionnaire). Interaction counts and observed
time in a row are those of that dyad: the student-directed events of that teacher in the lessons
that teacher taught while the student was present.

Columns of :func:`build_analysis_dataset` (see :data:`DATASET_COLUMNS` for the full list with
descriptions): identifiers and structure (student, wave, class, school, teacher, grade, class
size, combination and duo classes), the student's gender and background groups derived by rule
from raw data (:func:`classdyad.model.background.classify_background`), observation (lessons,
minutes observed while present), counts and rates per hour of positive, negative and neutral
interactions, the student's share of the teacher's student-directed interactions, questionnaire
scale scores (teacher and student report) and the teacher's IAT D scores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from classdyad.errors import DataError
from classdyad.model import StudyTables
from classdyad.model.background import classify_background

VALENCES = ("positive", "negative", "neutral")

#: column -> description; the dataset has exactly these columns, in this order
DATASET_COLUMNS: dict[str, str] = {
    "student_id": "the student's database id",
    "student": "the student's pseudonymous code",
    "wave": "wave number (1, 2, 3, ...)",
    "school": "school code",
    "classroom": "class code (unique within the study)",
    "teacher": "code of the class's primary teacher, the student's partner in the dyad",
    "grade": "the student's grade (Dutch groep, 1-8)",
    "class_size": "students enrolled in the class in this wave",
    "combination_class": "the class combines grades (e.g. groep 6/7)",
    "duo_class": "the class has a second (duo) teacher",
    "gender": "girl / boy / other",
    "boy": "gender is boy",
    "migration_background": "CBS pre-2022 migration background (dutch, western, turkish, "
                            "moroccan, surinamese, antillean_aruban, other_non_western)",
    "migration_generation": "none / first / second",
    "non_western": "CBS pre-2022 non-western migration background",
    "turkish_moroccan": "Turkish or Moroccan migration background",
    "origin_2022": "CBS 2022 origin classification",
    "pupil_weight": "Dutch pupil weight (0, 0.3, 1.2) from the parents' education",
    "low_ses": "low SES by the study's SES rule (default: pupil weight 0.3 or 1.2)",
    "lessons": "observed lessons the dyad's teacher taught in the class in this wave",
    "lessons_present": "of those, lessons the student was present in",
    "minutes_present": "minutes of those lessons while the student was present (and in view, "
                       "where a live session marked absences)",
    "hours_present": "minutes_present / 60",
    "positive": "positive interactions of the teacher with the student",
    "negative": "negative interactions of the teacher with the student",
    "neutral": "neutral interactions of the teacher with the student",
    "positive_rate": "positive interactions per hour present (NaN without observed time)",
    "negative_rate": "negative interactions per hour present (NaN without observed time)",
    "neutral_rate": "neutral interactions per hour present (NaN without observed time)",
    "interaction_share": "the student's share of the teacher's student-directed interactions "
                         "in the lessons the student was present in",
    "teacher_closeness": "teacher-reported closeness (scale mean, 1-5)",
    "teacher_conflict": "teacher-reported conflict (scale mean, 1-5)",
    "student_closeness": "student-reported closeness (scale mean, 1-5)",
    "student_conflict": "student-reported conflict (scale mean, 1-5)",
    "student_negative_expectations": "student-reported negative expectations (scale mean, 1-5)",
    "teacher_iat_ethnicity": "the teacher's D score (Greenwald et al. 2003, D2) on the IAT of "
                             "kind 'ethnicity' (positive: pro-majority)",
    "teacher_iat_ses": "the teacher's D score on the IAT of kind 'ses' (positive: pro-high-SES)",
}

#: IAT kinds with a dataset column
IAT_KINDS = ("ethnicity", "ses")

#: questionnaire subscale -> dataset column, per informant
SCALE_COLUMNS = {
    "teacher": {"closeness": "teacher_closeness", "conflict": "teacher_conflict"},
    "student": {"closeness": "student_closeness", "conflict": "student_conflict",
                "negative_expectations": "student_negative_expectations"},
}


def primary_teachers(tables: StudyTables) -> pd.Series:
    """The primary teacher of each class (index: classroom id)."""
    ct = tables.classroom_teachers
    primary = ct[ct["primary"].astype(bool)]
    doubled = primary["classroom_id"].duplicated(keep=False)
    if doubled.any():
        ids = sorted(primary.loc[doubled, "classroom_id"].unique().tolist())
        raise DataError(f"classes {ids[:10]} have more than one primary teacher; mark exactly "
                        "one teacher per class as primary (the one who rates the students)")
    return primary.set_index("classroom_id")["teacher_id"]


def analysis_events(events: pd.DataFrame, *, coder_id: int | None = None) -> pd.DataFrame:
    """The coded events the analysis counts: adjudicated codes where they exist, else the
    primary coder's.

    Parameters
    ----------
    events
        ``StudyTables.events``; the optional columns ``source`` (``"adjudication"`` marks an
        adjudicated event), ``superseded`` (an original event whose disagreement an
        adjudicator settled) and ``coder_role`` (the coder's assignment to the lesson,
        ``"primary"`` or ``"second"``) are used when present.
    coder_id
        Use this coder's events only (adjudications are then left out).

    Returns
    -------
    pandas.DataFrame
        In each lesson, the events of its primary coder (the coder assigned to it as
        ``primary``; in a lesson without a primary coder's events, such as an imported one, the
        coder with the lowest id who coded it), less those an adjudication replaced, plus the
        adjudicated events. A second coder's reliability coding is left out.
    """
    if coder_id is not None:
        return events[events["coder_id"] == coder_id]
    index = events.index
    adjudicated = (events["source"].eq("adjudication").fillna(False).astype(bool)
                   if "source" in events.columns else pd.Series(False, index=index))
    superseded = (events["superseded"].fillna(False).astype(bool)
                  if "superseded" in events.columns else pd.Series(False, index=index))
    coded = events[~adjudicated]
    if coded["coder_id"].notna().any():
        primary_coder = coded.groupby("lesson_id")["coder_id"].transform("min")
        if "coder_role" in coded.columns:
            assigned = coded["coder_id"].where(coded["coder_role"].eq("primary")
                                               .fillna(False).astype(bool))
            assigned = assigned.groupby(coded["lesson_id"]).transform("max")
            primary_coder = assigned.where(assigned.notna(), primary_coder)
        coded = coded[(coded["coder_id"] == primary_coder) | primary_coder.isna()]
    coded = coded[~superseded.reindex(coded.index).to_numpy()]
    if not adjudicated.any():
        return coded
    return pd.concat([coded, events[adjudicated]])


def interaction_rates(tables: StudyTables, *, coder_id: int | None = None) -> pd.DataFrame:
    """Counts and rates of each valence per student x wave, with the class's primary teacher.

    Parameters
    ----------
    tables
        The study.
    coder_id
        Use this coder's events only. Default: in each lesson, the events of the coder with the
        lowest id who coded it (the primary coding; a second coder's reliability coding of the
        same lesson is left out).

    Returns
    -------
    pandas.DataFrame
        One row per enrolment: ``student_id, wave_id, classroom_id, teacher_id, lessons,
        lessons_present, minutes_present, positive, negative, neutral`` and the ``*_rate``
        columns (per hour present), plus ``interaction_share``.
    """
    primary = primary_teachers(tables)
    enrol = tables.enrolments[["student_id", "classroom_id", "wave_id"]].copy()
    enrol["teacher_id"] = primary.reindex(enrol["classroom_id"]).to_numpy()
    lessons = tables.lessons[["id", "classroom_id", "wave_id", "observed_minutes"]].merge(
        tables.lesson_teachers, left_on="id", right_on="lesson_id")
    lessons = lessons[lessons["teacher_id"].to_numpy() ==
                      primary.reindex(lessons["classroom_id"]).to_numpy()]
    lessons_taught = lessons.groupby(["classroom_id", "wave_id"]).size().rename("lessons")
    attendance = tables.attendance.merge(lessons[["lesson_id", "classroom_id", "wave_id",
                                                  "observed_minutes"]], on="lesson_id")
    present = attendance[attendance["present"].astype(bool)]
    # minutes present: measured per student where a live session marked absences, else the
    # whole observed lesson
    minutes = present["observed_minutes"].astype(float)
    if "minutes_present" in present.columns:
        minutes = present["minutes_present"].astype(float).fillna(minutes)
    exposure = present.assign(minutes=minutes).groupby(["student_id", "wave_id"]).agg(
        lessons_present=("lesson_id", "size"), minutes_present=("minutes", "sum"))
    events = analysis_events(tables.events, coder_id=coder_id)
    student_events = events[(events["target_kind"] == "student")
                            & events["lesson_id"].isin(lessons["lesson_id"])]
    wave_of = lessons.set_index("lesson_id")["wave_id"]
    se = pd.DataFrame({"student_id": student_events["student_id"].astype("int64").to_numpy(),
                       "wave_id": wave_of.reindex(student_events["lesson_id"]).to_numpy(),
                       "valence": student_events["valence"].to_numpy()})
    counts = (se.groupby(["student_id", "wave_id", "valence"]).size().unstack("valence")
              .reindex(columns=list(VALENCES)).fillna(0).astype("int64"))
    # the teacher's student-directed events in the lessons each student attended
    per_lesson = student_events.groupby("lesson_id").size()
    present = present.assign(lesson_events=per_lesson.reindex(present["lesson_id"])
                             .fillna(0).to_numpy())
    available = present.groupby(["student_id", "wave_id"])["lesson_events"].sum()

    out = enrol.merge(lessons_taught.reset_index(), on=["classroom_id", "wave_id"], how="left")
    out = out.merge(exposure.reset_index(), on=["student_id", "wave_id"], how="left")
    out = out.merge(counts.reset_index(), on=["student_id", "wave_id"], how="left")
    out["lessons"] = out["lessons"].fillna(0).astype("int64")
    out["lessons_present"] = out["lessons_present"].fillna(0).astype("int64")
    out["minutes_present"] = out["minutes_present"].fillna(0.0)
    hours = out["minutes_present"] / 60.0
    for valence in VALENCES:
        out[valence] = out[valence].fillna(0).astype("int64")
        out[f"{valence}_rate"] = (out[valence] / hours).where(hours > 0)
    total = out[list(VALENCES)].sum(axis=1)
    denominator = available.reindex(pd.MultiIndex.from_frame(out[["student_id", "wave_id"]]))
    out["interaction_share"] = (total / denominator.to_numpy()).where(
        denominator.to_numpy() > 0)
    return out


def build_analysis_dataset(tables: StudyTables, *, scale_scores: pd.DataFrame | None = None,
                           iat_scores: pd.DataFrame | None = None,
                           ses_rule: str = "pupil_weight",
                           coder_id: int | None = None) -> pd.DataFrame:
    """Build the analysis dataset: one row per student x wave (see :data:`DATASET_COLUMNS`).

    Parameters
    ----------
    tables
        The study, from :func:`classdyad.store.read_study` or the simulator.
    scale_scores
        Questionnaire scale scores, one row per response: ``student_id, wave_id, informant``
        and subscale columns (``closeness``, ``conflict``, ...). Default: scored here from the
        stored responses with :func:`score_study_questionnaires`.
    iat_scores
        ``teacher_id, kind, d_score``. Default: scored here from the stored trials with
        :func:`score_study_iat`.
    ses_rule
        The SES rule passed to :func:`classdyad.model.background.classify_background`.
    coder_id
        Count only this coder's events (for double-coded lessons).

    Returns
    -------
    pandas.DataFrame
        Sorted by student and wave, with the columns of :data:`DATASET_COLUMNS`.
    """
    from classdyad.study.scores import score_study_iat, score_study_questionnaires

    if tables.enrolments.empty:
        raise DataError("the study has no enrolments; add students to classes before building "
                        "the analysis dataset")
    rates = interaction_rates(tables, coder_id=coder_id)
    students = tables.students.set_index("id")
    groups = classify_background(students[["birth_country", "mother_birth_country",
                                           "father_birth_country", "mother_education",
                                           "father_education"]], ses_rule=ses_rule,
                                 undetermined="missing", source="students")
    classes = tables.classrooms.set_index("id")
    schools = tables.schools.set_index("id")["code"]
    teachers = tables.teachers.set_index("id")["code"]
    waves = tables.waves.set_index("id")["number"]
    enrol = tables.enrolments.set_index(["student_id", "wave_id"])
    size = tables.enrolments.groupby(["classroom_id", "wave_id"]).size()
    duo = tables.classroom_teachers.groupby("classroom_id").size() > 1

    key = pd.MultiIndex.from_frame(rates[["student_id", "wave_id"]])
    sid = rates["student_id"]
    cid = rates["classroom_id"]
    data = pd.DataFrame({
        "student_id": sid.to_numpy(),
        "student": students["code"].reindex(sid).to_numpy(),
        "wave": waves.reindex(rates["wave_id"]).to_numpy(),
        "school": schools.reindex(classes["school_id"].reindex(cid)).to_numpy(),
        "classroom": classes["code"].reindex(cid).to_numpy(),
        "teacher": teachers.reindex(rates["teacher_id"]).to_numpy(),
        "grade": enrol["grade"].reindex(key).to_numpy(),
        "class_size": size.reindex(pd.MultiIndex.from_frame(rates[["classroom_id", "wave_id"]]))
        .to_numpy(),
        "combination_class": (classes["lowest_grade"] != classes["highest_grade"])
        .reindex(cid).to_numpy(),
        "duo_class": duo.reindex(cid).fillna(False).to_numpy(dtype=bool),
        "gender": students["gender"].reindex(sid).to_numpy(),
    })
    data["boy"] = data["gender"] == "boy"
    for column in ("migration_background", "migration_generation", "non_western",
                   "turkish_moroccan", "origin_2022", "pupil_weight", "low_ses"):
        data[column] = groups[column].reindex(sid).to_numpy()
    for column in ("lessons", "lessons_present", "minutes_present"):
        data[column] = rates[column].to_numpy()
    data["hours_present"] = data["minutes_present"] / 60.0
    for column in [*VALENCES, *(f"{v}_rate" for v in VALENCES), "interaction_share"]:
        data[column] = rates[column].to_numpy()

    if scale_scores is None:
        scale_scores = score_study_questionnaires(tables)
    for informant, columns in SCALE_COLUMNS.items():
        part = scale_scores[scale_scores["informant"] == informant]
        part = part.set_index(["student_id", "wave_id"])
        for subscale, column in columns.items():
            values = part[subscale] if subscale in part.columns else pd.Series(dtype=float)
            data[column] = values.reindex(key).to_numpy(dtype=float)
    if iat_scores is None:
        iat_scores = score_study_iat(tables)
    for kind in IAT_KINDS:
        part = iat_scores[iat_scores["kind"] == kind]
        iat = part.groupby("teacher_id")["d_score"].mean()
        data[f"teacher_iat_{kind}"] = iat.reindex(rates["teacher_id"]).to_numpy(dtype=float)
    data = data[list(DATASET_COLUMNS)]
    return data.sort_values(["student_id", "wave"], ignore_index=True)


def aggregate_by_student(dataset: pd.DataFrame) -> pd.DataFrame:
    """One row per student over the year: summed counts and time, rates from the sums.

    Background, gender and the first wave's class, teacher and grade are kept; scale scores and
    the IAT score are averaged over the waves in which they were measured.
    """
    if dataset.empty:
        raise DataError("the analysis dataset is empty; nothing to aggregate")
    ordered = dataset.sort_values(["student_id", "wave"])
    grouped = ordered.groupby("student_id", sort=True)
    first_columns = ["student", "school", "classroom", "teacher", "grade", "gender", "boy",
                     "migration_background", "migration_generation", "non_western",
                     "turkish_moroccan", "origin_2022", "pupil_weight", "low_ses"]
    out = grouped[first_columns].first()
    out["waves"] = grouped["wave"].nunique()
    sums = grouped[["lessons", "lessons_present", "minutes_present", *VALENCES]].sum()
    out = out.join(sums)
    out["hours_present"] = out["minutes_present"] / 60.0
    hours = out["hours_present"]
    for valence in VALENCES:
        out[f"{valence}_rate"] = (out[valence] / hours).where(hours > 0)
    means = grouped[[*SCALE_COLUMNS["teacher"].values(), *SCALE_COLUMNS["student"].values(),
                     *(f"teacher_iat_{kind}" for kind in IAT_KINDS)]].mean()
    out = out.join(means)
    return out.reset_index()


def describe_columns() -> pd.DataFrame:
    """The dataset's columns and what they hold (for codebooks and exports)."""
    return pd.DataFrame({"column": list(DATASET_COLUMNS), "description":
                         list(DATASET_COLUMNS.values())})


def rate_ratio(dataset: pd.DataFrame, *, valence: str, group: str) -> float:
    """Crude rate ratio of ``valence`` interactions between ``group`` true and false.

    Sum of counts over sum of hours in each group; a simple check of the generator's truth (the
    mixed models of :mod:`classdyad.analysis` give adjusted estimates).
    """
    if group not in dataset.columns:
        raise DataError(f"no column {group!r} in the dataset; use one of the boolean background "
                        "columns such as low_ses, non_western or turkish_moroccan")
    mask = dataset[group].astype(bool)
    rate_in = dataset.loc[mask, valence].sum() / dataset.loc[mask, "hours_present"].sum()
    rate_out = dataset.loc[~mask, valence].sum() / dataset.loc[~mask, "hours_present"].sum()
    if not np.isfinite(rate_in / rate_out):
        raise DataError(f"no observed time in one of the {group} groups; a rate ratio needs "
                        "both")
    return float(rate_in / rate_out)


__all__ = ["DATASET_COLUMNS", "aggregate_by_student", "analysis_events", "build_analysis_dataset",
           "describe_columns", "interaction_rates", "primary_teachers", "rate_ratio"]
