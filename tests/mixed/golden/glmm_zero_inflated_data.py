"""Write the simulated counts used by the zero-inflation, NB1 and GLM golden tests (fixed seed).

``tests/data/zero_inflated_interactions.csv``: 50 classrooms, 24 student-lesson rows each. Counts
of negative teacher-student interactions with log observed minutes as the offset and a classroom
random intercept; some students get a structural zero (no negative interaction can occur, e.g.
they were not addressed at all), with a probability that depends on ``low_ses``. Run from the
repository root::

    .venv/bin/python tests/mixed/golden/glmm_zero_inflated_data.py

True values: count model intercept -2.5 (log rate per minute), low_ses 0.4, classroom sd 0.35;
zero-inflation logit -1.0 + 0.8 low_ses (``negative_zip`` Poisson, ``negative_zinb`` NB2 with
shape 3); ``negative_nb1`` has no zero inflation and NB1 dispersion phi = 0.8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261206
N_CLASSROOMS = 50
ROWS_PER_CLASSROOM = 24


def simulate(seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = N_CLASSROOMS * ROWS_PER_CLASSROOM
    classroom = np.repeat(np.arange(N_CLASSROOMS), ROWS_PER_CLASSROOM)
    effect = rng.normal(0.0, 0.35, N_CLASSROOMS)[classroom]
    low_ses = rng.binomial(1, 0.35, n)
    minutes = rng.uniform(30.0, 60.0, n).round(1)
    mu = np.exp(-2.5 + 0.4 * low_ses + effect + np.log(minutes))
    structural = rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-(-1.0 + 0.8 * low_ses)))
    zip_counts = np.where(structural, 0, rng.poisson(mu))
    zinb_counts = np.where(structural, 0, rng.poisson(mu * rng.gamma(3.0, 1.0 / 3.0, n)))
    phi = 0.8
    nb1_counts = rng.poisson(rng.gamma(mu / phi, phi))
    return pd.DataFrame({
        "classroom": [f"K{c + 1:02d}" for c in classroom],
        "low_ses": low_ses,
        "minutes": minutes,
        "negative_zip": zip_counts,
        "negative_zinb": zinb_counts,
        "negative_nb1": nb1_counts,
    })


if __name__ == "__main__":
    path = Path(__file__).resolve().parents[2] / "data" / "zero_inflated_interactions.csv"
    simulate().to_csv(path, index=False)
    print(f"wrote {path}")
