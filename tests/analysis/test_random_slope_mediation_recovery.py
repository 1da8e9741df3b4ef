"""random_slope_mediation() recovers known random paths from simulated data (fixed seeds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from classdyad.analysis import random_slope_mediation
from classdyad.errors import SingularFitWarning

A, B, C_PRIME = 0.5, 0.4, 0.2


def _simulate(seed: int, *, n_clusters: int, sds: tuple[float, ...],
              correlation_ab: float) -> tuple[pd.DataFrame, float]:
    """Clusters of 10; random (dM, a, dY, b, c') with sds ``sds``, corr(a_j, b_j) given."""
    rng = np.random.default_rng(seed)
    tau = np.diag(np.square(sds))
    tau[1, 3] = tau[3, 1] = correlation_ab * sds[1] * sds[3]
    effects = rng.multivariate_normal(np.zeros(5), tau, n_clusters)
    cluster = np.repeat(np.arange(n_clusters), 10)
    u = effects[cluster]
    x = rng.normal(size=cluster.size)
    m = 0.1 + u[:, 0] + (A + u[:, 1]) * x + rng.normal(0.0, 0.8, cluster.size)
    y = -0.1 + u[:, 2] + (B + u[:, 3]) * m + (C_PRIME + u[:, 4]) * x \
        + rng.normal(0.0, 0.6, cluster.size)
    frame = pd.DataFrame({"classroom": cluster, "x": x, "m": m, "y": y})
    return frame, A * B + tau[1, 3]


def test_recovers_paths_and_indirect_effect():
    data, indirect = _simulate(1, n_clusters=150, sds=(0.5, 0.4, 0.5, 0.4, 0.2),
                               correlation_ab=0.5)
    result = random_slope_mediation(data, exposure="x", mediator="m", outcome="y",
                                    cluster="classroom", n_draws=5000, rng=1)
    effects = result.effects.set_index("effect")
    truth = {"a": A, "b": B, "direct": C_PRIME, "cov_a_b": 0.5 * 0.4 * 0.4,
             "indirect": indirect}
    for name, value in truth.items():
        row = effects.loc[name]
        assert abs(row["estimate"] - value) < 3 * row["delta_std_error"], name
        assert row["mc_ci_lower"] < value < row["mc_ci_upper"], name
    assert not result.singular and result.converged


def test_fixed_paths_give_a_singular_fit_warning():
    data, _ = _simulate(5, n_clusters=60, sds=(0.5, 0.0, 0.5, 0.0, 0.0), correlation_ab=0.0)
    with pytest.warns(SingularFitWarning, match="singular"):
        result = random_slope_mediation(data, exposure="x", mediator="m", outcome="y",
                                        cluster="classroom", n_draws=500, rng=1)
    assert result.singular
    assert "boundary (singular) fit" in result.summary()
