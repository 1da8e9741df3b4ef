"""Write tests/data/mediation_single_level.csv: single-level data for the lavaan comparison.

300 rows: an exposure x, two mediators m1 and m2 (correlated residuals), a covariate z and an
outcome y, drawn with a fixed seed. Run from the repository root:
    .venv/bin/python tests/analysis/golden/mediation_single_level_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    rng = np.random.default_rng(20240611)
    n = 300
    x = rng.normal(size=n)
    z = rng.normal(size=n)
    residuals = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.3], [0.3, 1.0]], size=n)
    m1 = 0.5 * x + 0.2 * z + residuals[:, 0]
    m2 = -0.3 * x + residuals[:, 1]
    y = 0.4 * m1 - 0.25 * m2 + 0.15 * x + 0.1 * z + rng.normal(size=n)
    frame = pd.DataFrame({"x": x, "m1": m1, "m2": m2, "z": z, "y": y})
    path = Path(__file__).parents[2] / "data" / "mediation_single_level.csv"
    frame.to_csv(path, index=False, float_format="%.10f")


if __name__ == "__main__":
    main()
