"""Drawing the replica's observed lessons, attendance and coded interaction events.

Student-directed events are Poisson counts per (lesson, present student, valence) with the
lesson's hours as exposure (see :mod:`classdyad.simulate.design`); group- and class-directed
events arrive at fixed rates per lesson hour. Times are uniform over the lesson. Everything is
vectorised with numpy, so the full replica's 183,000 events take a fraction of a second.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from classdyad.model.tables import TABLE_COLUMNS
from classdyad.simulate.design import ReplicaDesign, ReplicaTruth
from classdyad.simulate.population import SUBJECTS, Population

#: The replica's codebook: subtype -> (valence, hotkey, label)
CODEBOOK: dict[str, tuple[str, str, str]] = {
    "praise": ("positive", "1", "Praise or compliment"),
    "encouragement": ("positive", "2", "Encouragement"),
    "positive_feedback": ("positive", "3", "Positive feedback on work"),
    "correction": ("negative", "4", "Correction of behaviour"),
    "disapproval": ("negative", "5", "Disapproval or reprimand"),
    "irritation": ("negative", "6", "Irritation"),
    "instruction": ("neutral", "7", "Instruction"),
    "question": ("neutral", "8", "Question"),
    "procedural": ("neutral", "9", "Procedural remark"),
}
VALENCES = ("positive", "negative", "neutral")
N_CODERS = 4


@dataclass(frozen=True)
class Observation:
    """Lessons, attendance, events and the random effects that produced them."""

    lessons: pd.DataFrame
    lesson_teachers: pd.DataFrame
    attendance: pd.DataFrame
    events: pd.DataFrame
    class_effects: dict[str, np.ndarray]
    student_effects: dict[str, np.ndarray]


def wave_dates(design: ReplicaDesign) -> pd.DataFrame:
    """Waves spread over the school year (September to June)."""
    start = dt.date(design.school_year, 9, 15)
    end = dt.date(design.school_year + 1, 6, 15)
    span = (end - start).days
    rows = []
    for w in range(design.waves):
        first = start + dt.timedelta(days=round(span * w / max(design.waves, 1)))
        rows.append({"id": w + 1, "number": w + 1, "start_date": first,
                     "end_date": first + dt.timedelta(days=27)})
    return pd.DataFrame(rows)


def draw_observation(design: ReplicaDesign, truth: ReplicaTruth, people: Population,
                     waves: pd.DataFrame, rng: np.random.Generator) -> Observation:
    """Draw lessons per class and wave, who was present, and the coded interactions."""
    classes = people.classrooms["id"].to_numpy()
    n_classes = len(classes)
    primary = people.classroom_teachers[people.classroom_teachers["primary"]]
    partner = people.classroom_teachers[~people.classroom_teachers["primary"]]
    primary_of = primary.set_index("classroom_id")["teacher_id"]
    partner_of = partner.set_index("classroom_id")["teacher_id"]

    # lessons: classes x waves x lessons_per_wave
    k = design.lessons_per_wave
    lesson_class = np.repeat(classes, design.waves * k)
    lesson_wave = np.tile(np.repeat(np.arange(1, design.waves + 1), k), n_classes)
    n_lessons = len(lesson_class)
    low, high = design.lesson_minutes
    minutes = np.round(rng.uniform(low, high, size=n_lessons) * 2) / 2
    starts = waves.set_index("id").loc[lesson_wave, "start_date"].to_numpy()
    dates = [s + dt.timedelta(days=int(d)) for s, d in
             zip(starts, rng.integers(0, 26, size=n_lessons), strict=True)]
    teacher = primary_of.loc[lesson_class].to_numpy().copy()
    has_partner = np.isin(lesson_class, partner_of.index)
    by_partner = has_partner & (rng.random(n_lessons) < design.duo_partner_lesson_share)
    teacher[by_partner] = partner_of.reindex(lesson_class[by_partner]).to_numpy()
    lessons = pd.DataFrame({
        "id": np.arange(1, n_lessons + 1), "classroom_id": lesson_class, "wave_id": lesson_wave,
        "date": dates, "subject": rng.choice(SUBJECTS, size=n_lessons),
        "observed_minutes": minutes,
    })
    lesson_teachers = pd.DataFrame({"lesson_id": lessons["id"], "teacher_id": teacher})

    # attendance: every enrolled student of the class in the lesson's wave
    enrol = people.enrolments[["student_id", "classroom_id", "wave_id"]]
    attendance = lessons[["id", "classroom_id", "wave_id"]].rename(columns={"id": "lesson_id"})
    attendance = attendance.merge(enrol, on=["classroom_id", "wave_id"])
    present = rng.random(len(attendance)) >= design.absence_rate
    visible = present & (rng.random(len(attendance)) >= design.invisible_rate)
    attendance = attendance.assign(present=present, visible=visible)

    class_effects = {v: rng.normal(0.0, truth.rates[v].class_sd, size=n_classes + 1)
                     for v in VALENCES}
    n_students = len(people.students)
    student_effects = {v: rng.normal(0.0, truth.rates[v].student_sd, size=n_students + 1)
                       for v in VALENCES}
    events = _draw_events(truth, people, lessons, lesson_teachers, attendance, class_effects,
                          student_effects, rng)
    attendance = attendance[["lesson_id", "student_id", "present", "visible"]]
    return Observation(lessons, lesson_teachers, attendance, events, class_effects,
                       student_effects)


def _draw_events(truth: ReplicaTruth, people: Population, lessons: pd.DataFrame,
                 lesson_teachers: pd.DataFrame, attendance: pd.DataFrame,
                 class_effects: dict[str, np.ndarray], student_effects: dict[str, np.ndarray],
                 rng: np.random.Generator) -> pd.DataFrame:
    hours_of = lessons.set_index("id")["observed_minutes"] / 60.0
    here = attendance[attendance["present"]]
    sid = here["student_id"].to_numpy()
    cid = here["classroom_id"].to_numpy()
    hours = hours_of.loc[here["lesson_id"]].to_numpy()
    x = {
        "low_ses": people.student_low_ses[sid - 1].astype(float),
        "turkish_moroccan": np.isin(people.student_origin[sid - 1],
                                    ("turkish", "moroccan")).astype(float),
        "other_non_western": np.isin(people.student_origin[sid - 1],
                                     ("surinamese", "antillean_aruban",
                                      "other_non_western")).astype(float),
        "boy": people.student_boy[sid - 1].astype(float),
    }
    parts = []
    for valence in VALENCES:
        model = truth.rates[valence]
        eta = np.log(model.rate_per_hour) + class_effects[valence][cid] + \
            student_effects[valence][sid]
        for term, beta in model.log_rate_ratio.items():
            eta = eta + beta * x[term]
        counts = rng.poisson(hours * np.exp(eta))
        parts.append(pd.DataFrame({
            "lesson_id": np.repeat(here["lesson_id"].to_numpy(), counts),
            "student_id": np.repeat(sid, counts),
            "target_kind": "student", "valence": valence,
        }))
    # group- and class-directed events
    lesson_hours = hours_of.to_numpy()
    shares = truth.group_class_valence_shares
    for kind, rate in (("group", truth.group_events_per_hour),
                       ("class", truth.class_events_per_hour)):
        counts = rng.poisson(lesson_hours * rate)
        total = int(counts.sum())
        parts.append(pd.DataFrame({
            "lesson_id": np.repeat(lessons["id"].to_numpy(), counts),
            "student_id": np.full(total, -1),
            "target_kind": kind,
            "valence": rng.choice(list(shares), size=total, p=list(shares.values())),
        }))
    events = pd.concat(parts, ignore_index=True)
    n = len(events)
    seconds = hours_of.loc[events["lesson_id"]].to_numpy() * 3600.0 * rng.random(n)
    events["video_seconds"] = np.round(seconds, 2)
    events = events.sort_values(["lesson_id", "video_seconds"], kind="stable",
                                ignore_index=True)
    events["student_id"] = events["student_id"].astype("Int64").replace(-1, pd.NA)
    events["teacher_id"] = lesson_teachers.set_index("lesson_id").loc[
        events["lesson_id"], "teacher_id"].to_numpy()
    by_valence = {v: [s for s, (val, _, _) in CODEBOOK.items() if val == v] for v in VALENCES}
    subtype = np.empty(n, dtype=object)
    for valence, options in by_valence.items():
        mask = (events["valence"] == valence).to_numpy()
        subtype[mask] = rng.choice(options, size=int(mask.sum()))
    events["subtype"] = subtype
    events["codebook_id"] = 1
    lesson_coder = rng.integers(1, N_CODERS + 1, size=len(lessons) + 1)
    events["coder_id"] = lesson_coder[events["lesson_id"].to_numpy()]
    events.insert(0, "id", np.arange(1, n + 1))
    events.insert(1, "client_id", [f"replica-{i:07d}" for i in range(1, n + 1)])
    return events[list(TABLE_COLUMNS["events"])]
