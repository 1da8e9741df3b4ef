"""Write the simulated interaction counts used by the GLMM golden tests (fixed seeds).

``tests/data/classroom_interactions.csv``: lessons nested in classrooms nested in schools.
``tests/data/coded_interactions_crossed.csv``: lessons coded by coders, coders crossed with
classrooms.

Lessons nested in classrooms nested in schools; one row per student observed in one lesson.
Counts of negative teacher-student interactions follow a Poisson model with log observed minutes
as the offset, school and classroom random intercepts; ``negative_overdispersed`` adds gamma
(NB2) overdispersion. Run from the repository root::

    .venv/bin/python tests/mixed/golden/glmm_classroom_interactions_data.py

True values: intercept -3.2 (log rate per minute), low_ses 0.35, non_western 0.25,
school sd 0.3, classroom sd 0.4, NB2 shape 4. Crossed data: intercept -2.5, low_ses 0.3,
classroom sd 0.45, coder sd 0.25.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20260301
N_SCHOOLS = 40
CLASSROOMS_PER_SCHOOL = 4
LESSONS_PER_CLASSROOM = 4
STUDENTS_PER_LESSON = 11


def simulate(seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    school_effect = rng.normal(0.0, 0.3, N_SCHOOLS)
    rows = []
    for s in range(N_SCHOOLS):
        for c in range(CLASSROOMS_PER_SCHOOL):
            classroom_effect = rng.normal(0.0, 0.4)
            share_low = rng.uniform(0.1, 0.6)
            share_nw = rng.uniform(0.05, 0.5)
            for lesson in range(LESSONS_PER_CLASSROOM):
                minutes = rng.uniform(30.0, 60.0, STUDENTS_PER_LESSON).round(1)
                low_ses = rng.binomial(1, share_low, STUDENTS_PER_LESSON)
                non_western = rng.binomial(1, share_nw, STUDENTS_PER_LESSON)
                eta = (-3.2 + 0.35 * low_ses + 0.25 * non_western + school_effect[s]
                       + classroom_effect + np.log(minutes))
                mu = np.exp(eta)
                count = rng.poisson(mu)
                overdispersed = rng.poisson(mu * rng.gamma(4.0, 1.0 / 4.0, STUDENTS_PER_LESSON))
                for k in range(STUDENTS_PER_LESSON):
                    rows.append({
                        "school": f"S{s + 1:02d}",
                        "classroom": f"C{c + 1}",
                        "lesson": f"S{s + 1:02d}C{c + 1}L{lesson + 1}",
                        "low_ses": int(low_ses[k]),
                        "non_western": int(non_western[k]),
                        "minutes": float(minutes[k]),
                        "negative": int(count[k]),
                        "negative_overdispersed": int(overdispersed[k]),
                    })
    return pd.DataFrame(rows)


def simulate_crossed(seed: int = SEED + 1) -> pd.DataFrame:
    """60 classrooms x 12 coders (each lesson coded by one coder), 2,400 student-lesson rows."""
    rng = np.random.default_rng(seed)
    n_classrooms, n_coders, lessons, students = 60, 12, 5, 8
    classroom_effect = rng.normal(0.0, 0.45, n_classrooms)
    coder_effect = rng.normal(0.0, 0.25, n_coders)
    rows = []
    for c in range(n_classrooms):
        for _lesson in range(lessons):
            coder = int(rng.integers(0, n_coders))
            minutes = rng.uniform(30.0, 60.0, students).round(1)
            low_ses = rng.binomial(1, 0.35, students)
            eta = (-2.5 + 0.3 * low_ses + classroom_effect[c] + coder_effect[coder]
                   + np.log(minutes))
            count = rng.poisson(np.exp(eta))
            for k in range(students):
                rows.append({
                    "classroom": f"K{c + 1:02d}",
                    "coder": f"coder{coder + 1:02d}",
                    "low_ses": int(low_ses[k]),
                    "minutes": float(minutes[k]),
                    "negative": int(count[k]),
                })
    return pd.DataFrame(rows)


if __name__ == "__main__":
    folder = Path(__file__).resolve().parents[2] / "data"
    simulate().to_csv(folder / "classroom_interactions.csv", index=False)
    simulate_crossed().to_csv(folder / "coded_interactions_crossed.csv", index=False)
    print(f"wrote {folder / 'classroom_interactions.csv'} and coded_interactions_crossed.csv")
