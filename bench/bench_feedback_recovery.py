"""Recovery of known per-student rates by teacher feedback, over replica studies.

Each replication draws a replica study (:func:`classdyad.simulate.simulate_study`) and, with the
same seed, the generator's true class and student effects, so that every student's true rate of
each valence in each class and wave is known:
``exp(log rate_v + u_class + w_student + x'beta)`` (:mod:`classdyad.simulate.design`). For every
class's primary teacher it runs :func:`classdyad.study.feedback.study_teacher_feedback` and
compares:

- coverage of the per-student 95 % intervals of the true rates (goal 90-97 %), per valence;
- the "credibly above the class" flag on negative rates: precision (flagged students whose true
  log rate is above the mean true log rate of the class's observed students in that wave, the
  model's typical rate) and recall (of those truly above; and of those truly at least 1.5 times
  the typical rate).

``python -m bench feedback_recovery [--replications N] [--scale X]`` (defaults 4 and 0.25).
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np
import pandas as pd

from classdyad.simulate import ReplicaDesign, ReplicaTruth, simulate_study
from classdyad.simulate.observation import draw_observation, wave_dates
from classdyad.simulate.population import draw_population
from classdyad.study.feedback import study_teacher_feedback

VALENCES = ("positive", "negative", "neutral")


def true_log_rates(design: ReplicaDesign, truth: ReplicaTruth, seed: int) -> dict[str, object]:
    """The generator's random effects, drawn again from the same seed as simulate_study."""
    generator = np.random.default_rng(seed)
    waves = wave_dates(design)
    people = draw_population(design, truth, generator)
    observed = draw_observation(design, truth, people, waves, generator)
    return {"people": people, "observed": observed}


def _truth_frame(study, drawn, truth: ReplicaTruth) -> pd.DataFrame:
    people, observed = drawn["people"], drawn["observed"]
    tables = study.tables
    students = tables.students.set_index("id")["code"].astype(str)
    classes = tables.classrooms.set_index("id")["code"].astype(str)
    waves = tables.waves.set_index("id")["number"]
    enrol = tables.enrolments[["student_id", "classroom_id", "wave_id"]]
    sid = enrol["student_id"].to_numpy()
    cid = enrol["classroom_id"].to_numpy()
    x = {"low_ses": people.student_low_ses[sid - 1].astype(float),
         "turkish_moroccan": np.isin(people.student_origin[sid - 1],
                                     ("turkish", "moroccan")).astype(float),
         "other_non_western": np.isin(people.student_origin[sid - 1],
                                      ("surinamese", "antillean_aruban",
                                       "other_non_western")).astype(float),
         "boy": people.student_boy[sid - 1].astype(float)}
    parts = []
    for valence in VALENCES:
        model = truth.rates[valence]
        eta = (np.log(model.rate_per_hour) + observed.class_effects[valence][cid]
               + observed.student_effects[valence][sid])
        for term, beta in model.log_rate_ratio.items():
            eta = eta + beta * x[term]
        parts.append(pd.DataFrame({"student": students.reindex(sid).to_numpy(),
                                   "classroom": classes.reindex(cid).to_numpy(),
                                   "wave": waves.reindex(enrol["wave_id"]).to_numpy(),
                                   "valence": valence, "true_log_rate": eta}))
    return pd.concat(parts, ignore_index=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench feedback_recovery")
    parser.add_argument("--replications", type=int, default=4)
    parser.add_argument("--scale", type=float, default=0.25)
    args = parser.parse_args(argv)
    truth = ReplicaTruth()
    design = ReplicaDesign(scale=args.scale)
    rows = []
    started = time.perf_counter()
    for replication in range(args.replications):
        seed = 30_000 + replication
        study = simulate_study(design, truth, rng=seed)
        known = _truth_frame(study, true_log_rates(design, truth, seed), truth)
        tables = study.tables
        primary = tables.classroom_teachers[tables.classroom_teachers["primary"].astype(bool)]
        codes = tables.teachers.set_index("id")["code"].reindex(primary["teacher_id"])
        for code in codes:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result, _ = study_teacher_feedback(tables, str(code))
            estimates = result.students.dropna(subset=["ci_low"])
            rows.append(estimates.merge(known, on=["student", "classroom", "wave", "valence"]))
    data = pd.concat(rows, ignore_index=True)
    seconds = time.perf_counter() - started
    true_rate = np.exp(data["true_log_rate"])
    data["covered"] = (data["ci_low"] <= true_rate) & (true_rate <= data["ci_high"])
    print(f"{args.replications} replica studies at scale {args.scale:g} "
          f"({data['classroom'].nunique()} class codes, {len(data):,} student x wave x valence "
          f"estimates) in {seconds:.0f} s")
    print(f"{'valence':<10} {'estimates':>10} {'coverage':>9} {'MC SE':>7} {'goal':>10}")
    for valence in VALENCES:
        part = data[data["valence"] == valence]
        p = part["covered"].mean()
        se = math.sqrt(p * (1 - p) / len(part))
        print(f"{valence:<10} {len(part):>10,} {p:>9.3f} {se:>7.3f} {'0.90-0.97':>10}")
    negative = data[data["valence"] == "negative"].copy()
    reference = negative.groupby(["classroom", "wave"])["true_log_rate"].transform("mean")
    above = negative["true_log_rate"] > reference
    well_above = negative["true_log_rate"] > reference + math.log(1.5)
    flagged = negative["flag"].astype(bool)
    precision = (flagged & above).sum() / max(flagged.sum(), 1)
    print()
    print(f"{'flag (negative, posterior > 0.95)':<36} {'value':>7}")
    print(f"{'students x waves flagged':<36} {int(flagged.sum()):>7}")
    print(f"{'precision (truly above the class)':<36} {precision:>7.3f}")
    print(f"{'recall (truly above the class)':<36} "
          f"{(flagged & above).sum() / max(above.sum(), 1):>7.3f}")
    print(f"{'recall (truly >= 1.5 x the class)':<36} "
          f"{(flagged & well_above).sum() / max(well_above.sum(), 1):>7.3f}")
