"""The replica's analysis dataset drawn directly, for power analysis: :func:`draw_analysis_dataset`.

:func:`classdyad.simulate.simulate_study` draws every coded event, and
:func:`classdyad.study.build_analysis_dataset` counts them back into one row per student x wave.
A power analysis needs only those rows, thousands of times, so this module draws them from the
same generative model (:mod:`classdyad.simulate.design`) without the events:

* the people (schools, classes, teachers, students, enrolments) are drawn by the simulator's own
  :func:`~classdyad.simulate.population.draw_people` (the arrays behind
  :func:`~classdyad.simulate.population.draw_population`);
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
  (:func:`~classdyad.simulate.measurement.d2_scores`, the steps of
  :func:`~classdyad.simulate.measurement.score_drawn_iat`, equal to
  :func:`classdyad.study.score_study_iat`), so item noise, rounding, missing items and the IAT's
  measurement error are those of the full path.

Background groups are taken from the drawn origins rather than classified back from countries of
birth (the simulator draws countries that the CBS rules classify into exactly these groups).
``tests/simulate/test_fast_dataset.py`` checks that the two paths agree in distribution.

Everything is drawn on numpy arrays (the simulator's array functions, which make the same draws
as its tables) and the frame is built once at the end; text columns (codes, gender, background)
are taken from Arrow arrays made once per design. ``tests/simulate/test_fast_dataset_pinned.py``
pins the draws bit for bit.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pyarrow as pa

from classdyad.simulate.design import ReplicaDesign, ReplicaTruth
from classdyad.simulate.measurement import (
    IAT_BLOCK_TRIALS,
    DrawnIat,
    d2_scores,
    draw_iat_arrays,
    draw_outcome_values,
    draw_scale_scores,
)
from classdyad.simulate.observation import VALENCES
from classdyad.simulate.population import DrawnPeople, draw_people
from classdyad.study.dataset import DATASET_COLUMNS, IAT_KINDS, SCALE_COLUMNS

__all__ = ["draw_analysis_dataset"]

_NON_WESTERN_OTHER = ("surinamese", "antillean_aruban", "other_non_western")
#: the exposure columns of :func:`_dyad_exposure`, as the dataset names them
_EXPOSURE = ("lessons", "lessons_present", "minutes_present")


@functools.lru_cache(maxsize=16)
def _codes(prefix: str, digits: int, count: int) -> pa.Array:
    """The pseudonymous codes ``prefix + zero-padded id`` of ids 1..count, at ``id - 1``.

    The codes of :func:`~classdyad.simulate.population.population_tables`, made once per size
    (a power analysis draws thousands of studies of one design).
    """
    return _words([f"{prefix}{i:0{digits}d}" for i in range(1, count + 1)])


def _words(values: list[str]) -> pa.Array:
    """``values`` as an Arrow array of the type behind pandas' text columns."""
    return pa.array(values, type=pa.large_string())


@functools.cache
def _text_dtype() -> object:
    """The dtype pandas gives a column of text (``str``, Arrow-backed, from pandas 3)."""
    return pd.Series(["text"]).dtype


def _text(values: pa.Array, positions: np.ndarray) -> object:
    """The text column ``values[positions]``, of pandas' text dtype, taken in Arrow.

    Equal to a column made from the same Python strings, without a Python string per row;
    where pandas keeps text in objects rather than Arrow, an object array.
    """
    taken = values.take(positions)
    dtype = _text_dtype()
    if getattr(dtype, "storage", None) == "pyarrow":
        return pd.arrays.ArrowStringArray(taken, dtype=dtype)
    return np.asarray(taken.to_pylist(), dtype=object)


def _dyad_exposure(design: ReplicaDesign, people: DrawnPeople,
                   rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Lessons of the primary teacher per class x wave and each enrolment's hours present.

    Returns the enrolment's ``cell`` (class x wave, ``(class id - 1) * waves + wave - 1``) and
    its ``lessons``, ``lessons_present`` and ``minutes_present``, in enrolment order.
    """
    k = design.lessons_per_wave
    n_cells = people.n_classes * design.waves
    low, high = design.lesson_minutes
    minutes = np.round(rng.uniform(low, high, size=(n_cells, k)) * 2) / 2
    cell_duo = np.repeat(people.duo, design.waves)
    by_partner = cell_duo[:, None] & (rng.random((n_cells, k)) < design.duo_partner_lesson_share)
    taught = ~by_partner
    cell = (people.enrolment_class - 1) * design.waves + people.enrolment_wave - 1
    present = rng.random((len(cell), k)) >= design.absence_rate
    attended = present & taught[cell]
    return {"cell": cell, "lessons": taught[cell].sum(axis=1),
            "lessons_present": attended.sum(axis=1),
            "minutes_present": (attended * minutes[cell]).sum(axis=1)}


def _counts(truth: ReplicaTruth, people: DrawnPeople, sid: np.ndarray, cid: np.ndarray,
            hours: np.ndarray, rng: np.random.Generator
            ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Counts per dyad and wave, with the class and student effects that produced them."""
    class_effects = {v: rng.normal(0.0, truth.rates[v].class_sd, size=people.n_classes + 1)
                     for v in VALENCES}
    student_effects = {v: rng.normal(0.0, truth.rates[v].student_sd,
                                     size=people.n_students + 1)
                       for v in VALENCES}
    group, groups = people.student_origin_group[sid - 1], people.origin_groups
    x = {"low_ses": people.student_low_ses[sid - 1].astype(float),
         "turkish_moroccan": np.isin(groups, ("turkish", "moroccan"))[group].astype(float),
         "other_non_western": np.isin(groups, _NON_WESTERN_OTHER)[group].astype(float),
         "boy": people.student_boy[sid - 1].astype(float)}
    counts = {}
    for valence in VALENCES:
        model = truth.rates[valence]
        eta = (np.log(model.rate_per_hour) + class_effects[valence][cid]
               + student_effects[valence][sid])
        for term, beta in model.log_rate_ratio.items():
            eta = eta + beta * x[term]
        counts[valence] = rng.poisson(hours * np.exp(eta))
    return counts, class_effects, student_effects


def _by_teacher(truth: ReplicaTruth, values: np.ndarray,
                n_teachers: int) -> dict[str, np.ndarray]:
    """Per IAT kind, one of ``values`` per teacher id (``NaN`` at 0, which is no teacher).

    ``values`` holds one value per teacher x kind, teachers in id order and kinds in the
    truth's order (the layout of :func:`~classdyad.simulate.measurement.draw_iat_arrays`).
    """
    kinds = list(truth.iat_mean)
    table = np.concatenate([np.full((1, len(kinds)), np.nan),
                            values.reshape(n_teachers, len(kinds))])
    return {kind: table[:, position] for position, kind in enumerate(kinds)}


def _people_columns(people: DrawnPeople, sid: np.ndarray, cid: np.ndarray,
                    teacher: np.ndarray) -> dict[str, object]:
    """The dataset's identity, class and background columns of the rows ``sid`` x ``cid``
    (rated by ``teacher``)."""
    group = people.student_origin_group[sid - 1]
    groups = people.origin_groups
    boy = people.student_boy[sid - 1]
    school = people.class_school[cid - 1]
    return {
        "student_id": sid,
        "student": _text(_codes("P", 6, people.n_students), sid - 1),
        "school": _text(_codes("S", 3, people.n_schools), school - 1),
        "classroom": _text(_codes("C", 3, people.n_classes), cid - 1),
        "teacher": _text(_codes("T", 4, people.n_teachers), teacher - 1),
        "combination_class": (people.lowest_grade != people.highest_grade)[cid - 1],
        "duo_class": people.duo[cid - 1],
        "gender": _text(_words(["girl", "boy"]), boy.astype(np.int64)),
        "boy": boy,
        "migration_background": _text(_words(groups.tolist()), group),
        "non_western": ~np.isin(groups, ("dutch", "western"))[group],
        "turkish_moroccan": np.isin(groups, ("turkish", "moroccan"))[group],
        "low_ses": people.student_low_ses[sid - 1],
    }


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
    people = draw_people(design, truth, generator)
    columns = _draw_columns(design, truth, people, generator, iat=iat)
    # rows by student and wave (as a stable sort of the frame would put them), taken once per
    # column here rather than by sorting the finished frame
    order = np.lexsort((people.enrolment_wave, people.enrolment_student))
    sid, cid = people.enrolment_student[order], people.enrolment_class[order]
    columns = {name: values[order] for name, values in columns.items()}
    columns.update(_people_columns(people, sid, cid, teacher=cid))
    columns["wave"] = people.enrolment_wave[order]
    columns["grade"] = people.enrolment_grade[order]
    for name in ("interaction_share", "pupil_weight"):
        columns[name] = np.nan
    for name in ("migration_generation", "origin_2022"):
        columns[name] = None
    return pd.DataFrame({name: columns[name] for name in DATASET_COLUMNS})


def _draw_columns(design: ReplicaDesign, truth: ReplicaTruth, people: DrawnPeople,
                  generator: np.random.Generator, *, iat: bool) -> dict[str, np.ndarray]:
    """The drawn columns of the dataset, one value per enrolment in enrolment order.

    Class size, exposure, counts and rates, scale scores and (with ``iat``) the rating
    teacher's IAT scores; the draws in the order of the event-level simulator.
    """
    exposure = _dyad_exposure(design, people, generator)
    sid, cid = people.enrolment_student, people.enrolment_class
    teacher = cid  # class j's primary teacher is teacher j
    hours = exposure["minutes_present"] / 60.0
    counts, class_effects, student_effects = _counts(truth, people, sid, cid, hours, generator)
    cell = exposure["cell"]
    columns = {"class_size": np.bincount(cell, minlength=people.n_classes * design.waves)[cell]}
    columns.update((name, exposure[name]) for name in _EXPOSURE)
    columns["hours_present"] = hours
    with np.errstate(divide="ignore", invalid="ignore"):
        for valence in VALENCES:
            columns[valence] = counts[valence]
            columns[f"{valence}_rate"] = np.where(hours > 0, counts[valence] / hours, np.nan)
    iat_drawn = draw_iat_arrays(design, truth, np.arange(1, people.n_teachers + 1), generator)
    iat_true = _by_teacher(truth, iat_drawn.d_true, people.n_teachers)
    rows = {"student_id": sid, "classroom_id": cid,
            "positive_rate": columns["positive_rate"], "negative_rate": columns["negative_rate"],
            "iat_ethnicity": iat_true["ethnicity"][teacher], "iat_ses": iat_true["ses"][teacher]}
    latent = draw_outcome_values(
        truth, rows, (people.student_origin, people.student_low_ses, people.student_boy),
        people.n_classes, (class_effects, student_effects), generator)
    scores = draw_scale_scores(design, truth, latent, generator)
    missing = np.full(len(sid), np.nan)
    for informant, names in SCALE_COLUMNS.items():
        for subscale, column in names.items():
            columns[column] = scores.get((informant, subscale), missing)
    iat_scores = _drawn_iat_scores(truth, iat_drawn, people.n_teachers) if iat else {}
    for kind in IAT_KINDS:
        by_teacher = iat_scores.get(kind)
        columns[f"teacher_iat_{kind}"] = missing if by_teacher is None else by_teacher[teacher]
    return columns


def _drawn_iat_scores(truth: ReplicaTruth, drawn: DrawnIat,
                      n_teachers: int) -> dict[str, np.ndarray]:
    """The teachers' scored IATs: per kind, one D score per teacher id (``NaN`` if none)."""
    layout = np.repeat(np.arange(1, 8), IAT_BLOCK_TRIALS)
    scores = np.full(len(drawn.taken), np.nan)
    scores[drawn.taken] = d2_scores(layout, drawn.latency_ms, drawn.compatible_first)
    return _by_teacher(truth, scores, n_teachers)
