"""The power analysis's kept-array Monte Carlo draws equal the plan's draws bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from classdyad.analysis.monte_carlo import (
    draw_coefficients,
    draw_parallel_coefficients,
    monte_carlo_p_value,
)
from classdyad.analysis.path_models import PathFit
from classdyad.simulate.power_draws import MediationDraws

TERMS = ["x_w", "x_b"]


def _fit(rng: np.random.Generator, terms: list[str], n_rows: int) -> PathFit:
    root = rng.normal(size=(len(terms), len(terms)))
    covariance = root @ root.T / 10.0
    return PathFit("y ~ x", pd.Series(rng.normal(size=len(terms)), index=terms),
                   pd.DataFrame(covariance, index=terms, columns=terms), pd.DataFrame(),
                   n_rows, None, rng.normal(size=n_rows))


def test_draws_and_summaries_equal_the_plans() -> None:
    setup = np.random.default_rng(3)
    a_fits = [_fit(setup, TERMS, 50) for _ in range(2)]
    b_terms = ["m0", "m1", "x_w", "x_b"]
    b_fit = _fit(setup, b_terms, 50)
    draws = MediationDraws(3000)
    for seed in (1, 2):  # the second round reuses the arrays of the first
        plan_rng, lean_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        plan_a = draw_parallel_coefficients(a_fits, TERMS, 3000, plan_rng)
        plan_b = draw_coefficients(b_fit, b_terms, 3000, plan_rng)
        lean_a = draws.parallel([f.estimates.to_numpy() for f in a_fits],
                                [f.covariance.to_numpy() for f in a_fits],
                                [f.residuals for f in a_fits], lean_rng)
        lean_b = draws.single(b_fit.estimates.to_numpy(), b_fit.covariance.to_numpy(),
                              lean_rng)
        for k in range(2):
            for t, term in enumerate(TERMS):
                assert np.array_equal(lean_a[:, 2 * k + t], plan_a[k][term])
        for t, term in enumerate(b_terms):
            assert np.array_equal(lean_b[:, t], plan_b[term])
        assert plan_rng.random() == lean_rng.random()
        indirect = plan_a[0]["x_w"] * plan_b["m0"]
        lean = draws.product(lean_a[:, 0], lean_b[:, 0], "indirect")
        assert np.array_equal(lean, indirect)
        total = draws.add(lean, lean_b[:, 2], "total")
        assert np.array_equal(total, indirect + plan_b["x_w"])
        assert draws.summary(total) == (np.std(indirect + plan_b["x_w"], ddof=1),
                                        monte_carlo_p_value(indirect + plan_b["x_w"]))


def test_summary_ignores_draws_that_are_not_finite() -> None:
    values = np.array([1.0, -2.0, np.nan, 3.0, 0.5, -0.1])
    spread, p_value = MediationDraws(6).summary(values)
    assert np.isnan(spread) == np.isnan(np.std(values, ddof=1))
    assert p_value == monte_carlo_p_value(values)
