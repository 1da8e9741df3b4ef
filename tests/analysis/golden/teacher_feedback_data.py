"""Write the interaction counts of the teacher-feedback golden tests (fixed seed).

``tests/data/teacher_feedback_counts.csv``: one teacher's two classes over two waves, one row per
student and wave with the minutes the student was present and the counts of positive, negative
and neutral interactions. Counts are Poisson with a class rate per hour, a normal student effect
(log scale) and the hours present as exposure; a few students are present only briefly. Run from
the repository root::

    .venv/bin/python tests/analysis/golden/teacher_feedback_data.py

True values: rates per hour 1.5 (positive), 0.65 (negative), 9.8 (neutral); student sd 0.3,
0.5 and 0.2 on the log scale.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261206
RATES = {"positive": (1.5, 0.3), "negative": (0.65, 0.5), "neutral": (9.8, 0.2)}


def simulate(seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for classroom, n_students in (("C1", 24), ("C2", 19)):
        effects = {v: rng.normal(0.0, sd, n_students) for v, (_, sd) in RATES.items()}
        for wave in (1, 2):
            minutes = rng.choice([150.0, 140.0, 95.0, 45.0], size=n_students,
                                 p=[0.6, 0.2, 0.15, 0.05])
            for s in range(n_students):
                row = {"classroom": classroom, "wave": wave, "student": f"{classroom}S{s + 1:02d}",
                       "minutes": float(minutes[s])}
                for valence, (rate, _) in RATES.items():
                    mu = minutes[s] / 60.0 * rate * np.exp(effects[valence][s])
                    row[valence] = int(rng.poisson(mu))
                rows.append(row)
    return pd.DataFrame(rows)


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[2] / "data" / "teacher_feedback_counts.csv"
    simulate().to_csv(target, index=False)
    print(target)
