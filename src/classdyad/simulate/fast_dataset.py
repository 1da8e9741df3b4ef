"""The replica's analysis dataset drawn directly, for power analysis: :func:`draw_analysis_dataset`.

:func:`classdyad.simulate.simulate_study` draws every coded event, and
:func:`classdyad.study.build_analysis_dataset` counts them back into one row per student x wave.
A power analysis needs only those rows, thousands of times, so this module draws them from the
same generative model (:mod:`classdyad.simulate.design`) without the events:

* the people (schools, classes, teachers, students, enrolments) are drawn by the simulator's own
  :func:`~classdyad.simulate.population.draw_population`;
* lessons per class and wave, their length, which of them the duo partner teaches, and each
  student's presence are drawn as in :mod:`classdyad.simulate.observation`; the dyad's hours are
  the primary teacher's lessons the student attended;
* a sum of independent Poisson counts is Poisson with the summed mean, so the counts of each
  valence per dyad and wave are one Poisson draw with mean ``hours_present * exp(eta)`` (the
  same ``eta`` as the event-level simulator: rate, group log rate ratios, class and student
  effects);
* relationship quality, questionnaire items and IATs are drawn by the simulator's own functions
  of :mod:`classdyad.simulate.measurement`; the items are scored as they are drawn
  (:func:`~classdyad.simulate.measurement.draw_scale_scores`, equal to the study's scoring of
  the same answers) and the IATs by the D2 steps of the study's scoring
  (:func:`~classdyad.simulate.measurement.score_drawn_iat`, equal to
  :func:`classdyad.study.score_study_iat`), so item noise, rounding, missing items and the IAT's
  measurement error are those of the full path.

Background groups are taken from the drawn origins rather than classified back from countries of
birth (the simulator draws countries that the CBS rules classify into exactly these groups).
``tests/simulate/test_fast_dataset.py`` checks that the two paths agree in distribution.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from classdyad.simulate.design import ReplicaDesign, ReplicaTruth
from classdyad.simulate.measurement import (
    draw_iat,
    draw_outcomes_from_rates,
    draw_scale_scores,
    score_drawn_iat,
)
from classdyad.simulate.observation import VALENCES, Observation
from classdyad.simulate.population import Population, draw_population
from classdyad.study.dataset import DATASET_COLUMNS, IAT_KINDS, SCALE_COLUMNS

__all__ = ["draw_analysis_dataset"]

_NON_WESTERN_OTHER = ("surinamese", "antillean_aruban", "other_non_western")


def _dyad_exposure(design: ReplicaDesign, people: Population,
                   rng: np.random.Generator) -> pd.DataFrame:
    """Lessons of the primary teacher per class x wave and each enrolment's hours present."""
    classes = people.classrooms["id"].to_numpy()
    duo = np.isin(classes, people.classroom_teachers.loc[
        ~people.classroom_teachers["primary"].astype(bool), "classroom_id"])
    k = design.lessons_per_wave
    n_cells = len(classes) * design.waves
    low, high = design.lesson_minutes
    minutes = np.round(rng.uniform(low, high, size=(n_cells, k)) * 2) / 2
    cell_duo = np.repeat(duo, design.waves)
    by_partner = cell_duo[:, None] & (rng.random((n_cells, k)) < design.duo_partner_lesson_share)
    taught = ~by_partner
    enrol = people.enrolments
    cell = ((np.searchsorted(classes, enrol["classroom_id"].to_numpy()) * design.waves)
            + enrol["wave_id"].to_numpy() - 1)
    present = rng.random((len(enrol), k)) >= design.absence_rate
    attended = present & taught[cell]
    return pd.DataFrame({
        "student_id": enrol["student_id"].to_numpy(),
        "wave_id": enrol["wave_id"].to_numpy(),
        "classroom_id": enrol["classroom_id"].to_numpy(),
        "grade": enrol["grade"].to_numpy(),
        "lessons": taught[cell].sum(axis=1),
        "lessons_present": attended.sum(axis=1),
        "minutes_present": (attended * minutes[cell]).sum(axis=1),
    })


def _counts(truth: ReplicaTruth, people: Population, rows: pd.DataFrame,
            rng: np.random.Generator) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray],
                                              dict[str, np.ndarray]]:
    """Counts per dyad and wave, with the class and student effects that produced them."""
    n_classes, n_students = len(people.classrooms), len(people.students)
    class_effects = {v: rng.normal(0.0, truth.rates[v].class_sd, size=n_classes + 1)
                     for v in VALENCES}
    student_effects = {v: rng.normal(0.0, truth.rates[v].student_sd, size=n_students + 1)
                       for v in VALENCES}
    sid = rows["student_id"].to_numpy()
    cid = rows["classroom_id"].to_numpy()
    origin = people.student_origin[sid - 1]
    x = {"low_ses": people.student_low_ses[sid - 1].astype(float),
         "turkish_moroccan": np.isin(origin, ("turkish", "moroccan")).astype(float),
         "other_non_western": np.isin(origin, _NON_WESTERN_OTHER).astype(float),
         "boy": people.student_boy[sid - 1].astype(float)}
    hours = rows["minutes_present"].to_numpy() / 60.0
    counts = {}
    for valence in VALENCES:
        model = truth.rates[valence]
        eta = (np.log(model.rate_per_hour) + class_effects[valence][cid]
               + student_effects[valence][sid])
        for term, beta in model.log_rate_ratio.items():
            eta = eta + beta * x[term]
        counts[valence] = rng.poisson(hours * np.exp(eta))
    return counts, class_effects, student_effects


def draw_analysis_dataset(design: ReplicaDesign | None = None,
                          truth: ReplicaTruth | None = None, *,
                          rng: int | np.random.Generator | None = None,
                          iat: bool = True) -> pd.DataFrame:
    """Draw a replica study's analysis dataset (one row per student x wave) directly.

    Parameters
    ----------
    design
        Sizes and structure; default :class:`~classdyad.simulate.ReplicaDesign`.
    truth
        True parameters; default :class:`~classdyad.simulate.ReplicaTruth`.
    rng
        Seed or generator.
    iat
        Draw and score the teachers' IATs (the slowest step; only the implicit-attitude
        hypotheses use them). Without them the ``teacher_iat_*`` columns are missing.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`classdyad.study.dataset.DATASET_COLUMNS`, as
        ``build_analysis_dataset(simulate_study(design, truth).tables)`` would give (in
        distribution, not draw for draw); ``interaction_share`` is left missing (it needs the
        events of every student in each lesson) and raw-background columns that no model uses
        (``migration_generation``, ``origin_2022``, ``pupil_weight``) are missing too.
    """
    design = design or ReplicaDesign()
    truth = truth or ReplicaTruth()
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    people = draw_population(design, truth, generator)
    primary = people.classroom_teachers[people.classroom_teachers["primary"].astype(bool)]
    primary_of = primary.set_index("classroom_id")["teacher_id"]
    rows = _dyad_exposure(design, people, generator)
    rows["teacher_id"] = primary_of.reindex(rows["classroom_id"]).to_numpy()
    counts, class_effects, student_effects = _counts(truth, people, rows, generator)
    hours = rows["minutes_present"].to_numpy() / 60.0
    rates = rows[["student_id", "wave_id", "classroom_id", "teacher_id"]].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        for valence in VALENCES:
            rates[valence] = counts[valence]
            rates[f"{valence}_rate"] = np.where(hours > 0, counts[valence] / hours, np.nan)
    observed = Observation(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                           class_effects, student_effects)
    iat_sessions, iat_trials, iat_true = draw_iat(design, truth, people.teachers, generator)
    latent = draw_outcomes_from_rates(truth, people, observed, rates, iat_true, generator)
    scores = draw_scale_scores(design, truth, latent, generator)
    iat_scores = (score_drawn_iat(iat_sessions, iat_trials) if iat else
                  pd.DataFrame({"teacher_id": [], "kind": [], "d_score": []}))

    sid = rows["student_id"].to_numpy()
    wave = rows["wave_id"].to_numpy()
    # rows by student and wave (as a stable sort of the frame would put them), taken once per
    # column here rather than by sorting the finished frame
    order = np.lexsort((wave, sid))
    sid = sid[order]
    origin = people.student_origin[sid - 1]
    classes = people.classrooms.set_index("id")
    cid = rows["classroom_id"].to_numpy()[order]
    size = rows.groupby(["classroom_id", "wave_id"])["student_id"].transform("size")
    duo = people.classroom_teachers.groupby("classroom_id").size() > 1
    teacher = rows["teacher_id"].to_numpy()[order]
    columns: dict[str, object] = {
        "student_id": sid,
        "student": people.students["code"].to_numpy()[sid - 1],
        "wave": wave[order],
        "school": people.schools.set_index("id")["code"].reindex(
            classes["school_id"].reindex(cid)).to_numpy(),
        "classroom": classes["code"].reindex(cid).to_numpy(),
        "teacher": people.teachers.set_index("id")["code"].reindex(teacher).to_numpy(),
        "grade": rows["grade"].to_numpy()[order],
        "class_size": size.to_numpy()[order],
        "combination_class": (classes["lowest_grade"] != classes["highest_grade"])
        .reindex(cid).to_numpy(),
        "duo_class": duo.reindex(cid).fillna(False).to_numpy(dtype=bool),
        "gender": np.where(people.student_boy[sid - 1], "boy", "girl"),
        "boy": people.student_boy[sid - 1],
        "migration_background": origin,
        "migration_generation": None,
        "non_western": ~np.isin(origin, ("dutch", "western")),
        "turkish_moroccan": np.isin(origin, ("turkish", "moroccan")),
        "origin_2022": None,
        "pupil_weight": np.nan,
        "low_ses": people.student_low_ses[sid - 1],
    }
    for column in ("lessons", "lessons_present", "minutes_present"):
        columns[column] = rows[column].to_numpy()[order]
    columns["hours_present"] = hours[order]
    for valence in VALENCES:
        columns[valence] = rates[valence].to_numpy()[order]
        columns[f"{valence}_rate"] = rates[f"{valence}_rate"].to_numpy()[order]
    columns["interaction_share"] = np.nan
    for informant, names in SCALE_COLUMNS.items():
        for subscale, column in names.items():
            score = scores.get((informant, subscale))
            columns[column] = (np.asarray(score)[order] if score is not None
                               else np.full(len(rows), np.nan))
    for kind in IAT_KINDS:
        iat = iat_scores[iat_scores["kind"] == kind].groupby("teacher_id")["d_score"].mean()
        columns[f"teacher_iat_{kind}"] = iat.reindex(teacher).to_numpy(dtype=float)
    return pd.DataFrame({name: columns[name] for name in DATASET_COLUMNS})
