"""Calibration of the power analysis: type I error under the null, and an analytic power check.

* Under ``null=True`` the rejection rate of every hypothesis is within 3 Monte Carlo standard
  errors of alpha (a small run by default; 1,000 replicates with ``-m slow``); product tests
  that the null puts at their origin are not liberal.
* For a two-level design with a class-level binary predictor the simulated power of the mixed
  model's t test (:func:`classdyad.mixed.lmm`, Satterthwaite df) agrees with the noncentral-t
  formula within 3 Monte Carlo standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from classdyad.mixed import lmm
from classdyad.simulate import ReplicaDesign, ReplicaTruth, power
from classdyad.simulate.power_effects import null_at_origin
from classdyad.simulate.power_formulas import simulated_power, two_level_power
from classdyad.simulate.power_results import null_calibration
from classdyad.study.gaps import fit_quietly

ALPHA = 0.05


def _two_level(classes: int, n: int, effect: float, tau: float, sigma: float):
    def draw(rng: np.random.Generator) -> pd.DataFrame:
        treated = np.repeat(np.arange(classes) % 2, n).astype(float)
        classroom = np.repeat(np.arange(classes), n)
        y = (effect * treated + rng.normal(0, tau, classes)[classroom]
             + rng.normal(0, sigma, classes * n))
        return pd.DataFrame({"y": y, "treated": treated, "classroom": classroom.astype(str)})
    return draw


def _p_treated(data: pd.DataFrame) -> float:
    fit, _notes = fit_quietly(lmm, "y ~ treated + (1 | classroom)", data)  # singular fits kept
    table = fit.fixed_effects.set_index("term")
    return float(table.loc["treated", "p_value"])


def test_simulated_power_matches_the_noncentral_t_formula() -> None:
    classes, n, effect, tau, sigma = 20, 8, 0.45, 0.3, 1.0
    expected = two_level_power(classes=classes, students_per_class=n, effect=effect,
                               class_sd=tau, residual_sd=sigma)
    assert 0.4 < expected < 0.8  # a power where the check has teeth
    result = simulated_power(_two_level(classes, n, effect, tau, sigma), _p_treated,
                             replicates=400, seed=11)
    se = math.sqrt(expected * (1 - expected) / result["n_replicates"])
    assert result["n_failed"] == 0
    assert abs(result["power"] - expected) < 3 * se
    assert result["ci_low"] < expected < result["ci_high"]


def _null_check(hypotheses: list[str], replicates: int, design: ReplicaDesign,
                n_draws: int) -> pd.DataFrame:
    """Each hypothesis's rejection rate under its null, pooled over its estimates.

    :func:`null_calibration`: the pooled rate of the tests is within 3 Monte Carlo SEs of alpha;
    the product and absolute-difference tests that the null puts at their origin (conservative
    by construction) are not above alpha + 3 SE. Estimates the null leaves non-zero (H3's b
    paths, H4's slopes) are left out. Every single estimate must also be far from gross
    liberality (exact binomial tail > 1e-5).
    """
    result = power(hypotheses=hypotheses, design=design, replicates=replicates, seed=2024,
                   null=True, n_draws=n_draws, scheduler="serial")
    pooled, table = null_calibration(result, alpha=ALPHA)
    assert set(pooled["hypothesis"]) == set(hypotheses)
    assert (pooled["replicates"] == replicates).all()
    assert pooled["calibrated"].all(), pooled.to_string()
    rejected = (table["power"] * table["n_fitted"]).round().astype(int)
    tail = scipy.stats.binom.sf(rejected - 1, table["n_fitted"], ALPHA)
    assert (tail > 1e-5).all(), table.loc[tail <= 1e-5, ["estimate", "power"]].to_string()
    return result.table


def test_rejection_rate_under_the_null_is_alpha_small_run() -> None:
    # the linear-model hypotheses only (the count models of H2 take seconds each)
    design = ReplicaDesign(schools=5, classes=10, students=200)
    table = _null_check(["H1", "H4"], 16, design, n_draws=2000)
    assert set(table["hypothesis"]) == {"H1", "H4"}
    assert (table["n_replicates"] == 16).all()


@pytest.mark.slow
def test_rejection_rate_under_the_null_is_alpha_1000_replicates() -> None:
    design = ReplicaDesign(schools=16, classes=36, students=760)
    _null_check(["H1", "H2", "H3", "H4"], 1000, design, n_draws=5000)


@pytest.mark.slow
def test_implicit_attitude_tests_under_the_null_are_calibrated() -> None:
    # teachers' mean D is zero under the null, and the cross-level tests carry the group's
    # random slope per class (without it: 13-19 % rejections in 200 replicates of 16 classes)
    design = ReplicaDesign(schools=8, classes=16, students=340)
    _null_check(["H5"], 200, design, n_draws=5000)


def test_products_whose_factors_the_null_makes_zero_are_told_apart() -> None:
    truth = ReplicaTruth()
    # student-reported outcomes do not depend on the interactions in the replica's truth
    assert null_at_origin("H3", "indirect:negative_rate", "student_closeness", truth)
    assert null_at_origin("H3", "indirect_total", "student_conflict", truth)
    assert null_at_origin("H4", "negativity_difference", "student_closeness", truth)
    assert not null_at_origin("H3", "indirect:negative_rate", "teacher_closeness", truth)
    assert not null_at_origin("H4", "negativity_difference", "teacher_conflict", truth)
    assert not null_at_origin("H3", "a:negative_rate", "student_closeness", truth)
    assert not null_at_origin("H5", "index_moderated_mediation", "teacher_closeness", truth)
    assert not null_at_origin("H1", "low_ses", "student_closeness", truth)
