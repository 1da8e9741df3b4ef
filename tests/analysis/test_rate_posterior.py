"""rate_posterior(): the grids are fine enough, and intervals behave as they must.

The posterior is computed by quadrature on grids; a 4-fold finer grid in every dimension moves
the interval ends by less than 2 % and the probabilities by less than 0.005 (the tolerance
stated in :mod:`classdyad.analysis.rate_posterior`). Coverage of the intervals over simulated
classes is checked in test_teacher_feedback.py and by ``python -m bench feedback_recovery``.
"""

from __future__ import annotations

import numpy as np
import pytest

import classdyad.analysis.rate_posterior as module
from classdyad.analysis.rate_posterior import rate_posterior


@pytest.mark.slow
@pytest.mark.parametrize(("rate", "sd"), [(0.65, 0.5), (9.8, 0.2), (0.65, 0.05), (1.5, 1.0)])
def test_a_finer_grid_gives_the_same_posterior(monkeypatch, rate: float, sd: float) -> None:
    rng = np.random.default_rng(4)
    hours = rng.choice([2.5, 1.5, 0.75], size=22)
    counts = rng.poisson(rate * np.exp(rng.normal(0.0, sd, 22)) * hours).astype(float)
    ours = rate_posterior(counts, hours)
    monkeypatch.setattr(module, "_ETA_POINTS", 1001)
    monkeypatch.setattr(module, "_B0_POINTS", 77)
    monkeypatch.setattr(module, "_SIGMA_POINTS", 88)
    fine = rate_posterior(counts, hours)
    for key in ("ci_low", "ci_high"):
        np.testing.assert_allclose(ours[key], fine[key], rtol=0.02)
    np.testing.assert_allclose(ours["prob_above"], fine["prob_above"], atol=0.005)


def test_intervals_widen_with_less_time_and_hold_the_observed_rate() -> None:
    out = rate_posterior(np.array([3.0, 3.0, 6.0, 0.0]), np.array([3.0, 0.5, 3.0, 3.0]))
    width = np.log(out["ci_high"]) - np.log(out["ci_low"])
    assert width[1] > width[0]
    assert (out["ci_low"] < out["ci_high"]).all()
    assert out["prob_above"][2] > out["prob_above"][0] > out["prob_above"][3]
    assert ((0 <= out["prob_above"]) & (out["prob_above"] <= 1)).all()
