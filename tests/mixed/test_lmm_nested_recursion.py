"""The nested recursion (per-group sufficient statistics) against the general solver.

``lmm`` fits fully nested designs with
:class:`~classdyad.mixed._nested_sufficient_statistics.NestedSufficientStatistics`; the general
penalized least-squares solver (validated against lme4 in ``test_lmm_golden.py``) fits every
design. Both must give the same fit: theta, beta, sigma, the deviance, the covariance of beta
and the variance components to 1e-8 relative (both optimisers end with Newton steps to a
projected gradient of 1e-7), Satterthwaite df to 1e-6 (numerical second derivatives: of the
recursion's exact gradient, of the general solver's deviance), on unbalanced simulated designs
(1 to 3 waves per student, 2 to 5 classrooms per school) with factor and text predictors, an
offset, a transformed response, random slopes at the finest level, ML and REML, a fixed part
without intercept and a singular fit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import ConvergenceWarning, SingularFitWarning
from classdyad.mixed import lmm
from classdyad.mixed._formula import build_design
from classdyad.mixed._linear_mixed import _fit_prepared
from classdyad.mixed._nested_finest_term import PatternCells
from classdyad.mixed._nested_sufficient_statistics import NestedSufficientStatistics
from classdyad.mixed._penalized_least_squares import PenalizedLeastSquares

RTOL = 1e-8
RTOL_DF = 1e-6
# four variance parameters (a random slope): the df's numerical second derivatives (of the
# recursion's gradient, of the general solver's deviance) differ by up to ~2e-6, as they did
# with the Richardson scheme on both
RTOL_DF_SLOPE = 1e-5


def _nested_frame(seed: int, school_sd: float = 0.4,
                  students: tuple[int, int] = (3, 12)) -> pd.DataFrame:
    """Students (1-3 waves each; ``students`` per classroom, upper bound excluded) in
    classrooms (2-5 per school) in 12 schools, unbalanced."""
    rng = np.random.default_rng(seed)
    rows = []
    student = 0
    for school in range(12):
        school_effect = rng.normal(0.0, school_sd)
        for classroom in range(int(rng.integers(2, 6))):
            class_effect = rng.normal(0.0, 0.5)
            for _ in range(int(rng.integers(*students))):
                student_effect = rng.normal(0.0, 0.7)
                slope = rng.normal(0.0, 0.2)
                for wave in sorted(rng.choice([1, 2, 3], size=int(rng.integers(1, 4)),
                                              replace=False)):
                    rows.append({"school": f"s{school:02d}", "classroom": f"c{classroom}",
                                 "student": f"p{student:04d}", "wave": wave,
                                 "u": school_effect + class_effect + student_effect
                                 + slope * wave})
                student += 1
    frame = pd.DataFrame(rows)
    n = len(frame)
    frame["x"] = rng.normal(size=n)
    frame["group"] = rng.choice(["a", "b", "c"], size=n)
    frame["exposure"] = rng.uniform(0.5, 2.0, size=n)
    frame["y"] = (1.0 + 0.4 * frame["x"] - 0.3 * (frame["group"] == "b") + 0.2 * frame["wave"]
                  + frame["u"] + rng.normal(0.0, 0.6, size=n))
    frame["count"] = np.exp(frame["y"] / 4.0)
    return frame


def _general_fit(formula: str, data: pd.DataFrame, reml: bool):
    design = build_design(formula, data)
    return _fit_prepared(PenalizedLeastSquares(design), reml=reml, confidence_level=0.95,
                         stacklevel=2)


def _assert_same(fast, general, rtol: float = RTOL, rtol_df: float = RTOL_DF) -> None:
    interior = np.abs(general.theta) > 1e-4  # at a zero bound the deviance is flat to rounding
    np.testing.assert_allclose(fast.theta[interior], general.theta[interior], rtol=rtol)
    np.testing.assert_array_less(np.abs(fast.theta[~interior]), 1e-4)
    np.testing.assert_allclose(fast.beta, general.beta, rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(fast.sigma, general.sigma, rtol=rtol)
    np.testing.assert_allclose(fast.deviance, general.deviance, rtol=1e-11)
    np.testing.assert_allclose(fast.fixed_covariance, general.fixed_covariance, rtol=rtol,
                               atol=1e-12)
    pd.testing.assert_frame_equal(fast.variance_components, general.variance_components,
                                  rtol=rtol, atol=1e-10 * general.sigma**2)
    for column in ("estimate", "std_error", "statistic"):
        np.testing.assert_allclose(fast.fixed_effects[column], general.fixed_effects[column],
                                   rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(fast.fixed_effects["df"], general.fixed_effects["df"],
                               rtol=rtol_df)
    np.testing.assert_allclose(fast.random_effects()["estimate"],
                               general.random_effects()["estimate"], rtol=1e-6,
                               atol=1e-9 if rtol == RTOL else 1e-7)
    assert fast.converged and general.converged
    assert fast.singular == general.singular


FORMULAS = {
    "three-levels": "y ~ x + C(group) + factor(wave) + (1 | school/classroom) + (1 | student)",
    "two-levels": "y ~ x + wave + (1 | school) + (1 | school:classroom)",
    "offset": "np.log(count) ~ x + C(group) + offset(np.log(exposure)) + (1 | school/classroom)",
    "slope": "y ~ x + wave + (1 | school:classroom) + (1 + wave | student)",
    "no-intercept": "y ~ 0 + x + C(group) + (1 | school/classroom) + (1 | student)",
}


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
@pytest.mark.parametrize("name", list(FORMULAS))
def test_nested_recursion_equals_the_general_solver(name, reml):
    data = _nested_frame(8)
    formula = FORMULAS[name]
    assert NestedSufficientStatistics.detect(build_design(formula, data)) is not None
    fast = lmm(formula, data, reml=reml)
    assert isinstance(fast.prepared.pls, NestedSufficientStatistics)
    _assert_same(fast, _general_fit(formula, data, reml),
                 rtol_df=RTOL_DF_SLOPE if name == "slope" else RTOL_DF)


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
def test_nested_recursion_pooled_slope_cells(reml):
    # many students per classroom: the students' groups are pooled by the waves they were
    # seen in (PatternCells); with few, or a continuous slope, they are not
    data = _nested_frame(8, students=(20, 31))
    formula = FORMULAS["slope"]
    fast = lmm(formula, data, reml=reml)
    assert isinstance(fast.prepared.pls.cells, PatternCells)
    _assert_same(fast, _general_fit(formula, data, reml), rtol_df=RTOL_DF_SLOPE)
    assert lmm(formula, _nested_frame(8)).prepared.pls.cells is None


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
def test_nested_recursion_continuous_slope(reml):
    data = _nested_frame(11)
    formula = "y ~ x + wave + (1 | school:classroom) + (1 + x | student)"
    fast = lmm(formula, data, reml=reml)
    assert fast.prepared.pls.cells is None  # every student its own pattern
    _assert_same(fast, _general_fit(formula, data, reml), rtol_df=RTOL_DF_SLOPE)


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
def test_nested_recursion_singular_fit(reml):
    # no school variance in the draw: the school variance is estimated at zero
    data = _nested_frame(3, school_sd=0.0)
    formula = FORMULAS["three-levels"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        fast = lmm(formula, data, reml=reml)
        general = _general_fit(formula, data, reml)
    assert fast.singular
    _assert_same(fast, general)


def test_nested_recursion_singular_slope():
    # the students' slope variance at zero: the general solver's optimiser has finite
    # differences there (the optimum to about 1e-7), the recursion its exact gradient
    data = _nested_frame(3)
    formula = FORMULAS["slope"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        fast = lmm(formula, data)
        general = _general_fit(formula, data, True)
    assert fast.singular
    _assert_same(fast, general, rtol=1e-6, rtol_df=RTOL_DF_SLOPE)


@pytest.mark.parametrize("name", ["three-levels", "slope"])
def test_nested_refit_equals_the_general_solver_on_the_new_response(name):
    data = _nested_frame(11)
    formula = FORMULAS[name]
    fit = lmm(formula, data)
    response = fit.predict() + np.random.default_rng(5).normal(0.0, fit.sigma, fit.n_obs)
    refitted = fit.refit(response)
    assert isinstance(refitted.prepared.pls, NestedSufficientStatistics)
    _assert_same(refitted, _general_fit(formula, data.assign(y=response), True),
                 rtol_df=RTOL_DF_SLOPE if name == "slope" else RTOL_DF)


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
@pytest.mark.parametrize("name", ["three-levels", "slope", "no-intercept"])
def test_deviance_and_gradient_equal_the_general_solver_and_differences(name, reml):
    design = build_design(FORMULAS[name], _nested_frame(8))
    fast = NestedSufficientStatistics.detect(design)
    general = PenalizedLeastSquares(design)
    rng = np.random.default_rng(1)
    theta = fast.moment_start() + rng.uniform(0.05, 0.3, fast.lower.size)
    value, gradient = fast.deviance_and_gradient(theta, reml=reml)
    np.testing.assert_allclose(value, general.profiled_deviance(theta, reml=reml), rtol=1e-11)
    for i in range(theta.size):  # Richardson-extrapolated central differences
        estimates = []
        for h in (1e-3, 5e-4):
            step = np.zeros(theta.size)
            step[i] = h
            estimates.append((fast.profiled_deviance(theta + step, reml=reml)
                              - fast.profiled_deviance(theta - step, reml=reml)) / (2.0 * h))
        difference = (4.0 * estimates[1] - estimates[0]) / 3.0
        np.testing.assert_allclose(gradient[i], difference, rtol=1e-6, atol=1e-6)
    ev_fast, ev_general = fast.solve(theta), general.solve(theta, modes=True)
    np.testing.assert_allclose(ev_fast.beta, ev_general.beta, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ev_fast.rx @ ev_fast.rx.T, ev_general.rx @ ev_general.rx.T,
                               rtol=1e-9)


@pytest.mark.parametrize("formula", [
    "y ~ x + (1 | student)",  # one term: the general solver works per level already
    "y ~ x + (1 + x | school) + (1 | student)",  # a coarser term with a slope
    "y ~ x + (1 | group) + (1 | school)",  # crossed
    "y ~ x + (1 | student) + (1 | wave)",  # crossed: students seen in several waves
])
def test_designs_outside_the_recursion_keep_the_general_solver(formula):
    data = _nested_frame(4)
    assert NestedSufficientStatistics.detect(build_design(formula, data)) is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)  # (no slope in the draw)
        assert isinstance(lmm(formula, data).prepared.pls, PenalizedLeastSquares)


def test_row_patterns_tell_rows_apart_even_when_their_combinations_collide():
    from classdyad.mixed._nested_finest_term import _row_patterns

    keys = np.array([[2.0, 0.0], [0.0, 1.0], [2.0, 0.0], [1.0, 1.0]])  # rows 0 and 1 collide
    count, pattern = _row_patterns(keys)
    assert count == 3
    np.testing.assert_array_equal(pattern, [2, 0, 2, 1])  # sorted rows: (0,1), (1,1), (2,0)
    count, pattern = _row_patterns(np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 1.0]]))
    assert count == 2 and pattern[0] == pattern[1] != pattern[2]


def test_rises_from_zero_reports_the_sign_of_the_variance_derivative_at_zero():
    data = _nested_frame(3, school_sd=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        fit = lmm(FORMULAS["three-levels"], data)
    stats = fit.prepared.pls
    zero = np.flatnonzero(fit.theta == 0.0)
    assert zero.size == 1
    stats.deviance_and_gradient(fit.theta, reml=True)
    rising = stats.rises_from_zero(fit.theta, reml=True)
    assert rising[zero[0]] and rising.sum() == 1
    moved = fit.theta.copy()
    moved[zero[0]] = 1e-3  # the deviance rises along that element: d D / d theta > 0 there
    assert stats.deviance_and_gradient(moved, reml=True)[1][zero[0]] > 0.0
    assert stats.rises_from_zero(fit.theta, reml=True) is None  # (last gradient elsewhere)
    assert stats.rises_from_zero(moved, reml=False) is None


@pytest.mark.parametrize("name", ["three-levels", "slope"])
def test_a_refit_leaves_the_original_fit_as_it_was(name):
    data = _nested_frame(8, students=(20, 31))  # (pooled cells for both formulas)
    formula = FORMULAS[name]
    fit = lmm(formula, data)
    fit.refit(fit.predict() + np.random.default_rng(2).normal(0.0, fit.sigma, fit.n_obs))
    fresh = lmm(formula, data)  # what was deferred is computed after the refit
    pd.testing.assert_frame_equal(fit.fixed_effects, fresh.fixed_effects)
    pd.testing.assert_frame_equal(fit.random_effects(), fresh.random_effects())
    np.testing.assert_array_equal(
        fit.prepared.pls.profiled_deviance(fit.theta, reml=True), fit.deviance)


@pytest.mark.parametrize("students", [(3, 12), (20, 31)], ids=["per-group", "pooled"])
def test_three_effects_at_the_finest_level(students):
    # the general q x q step (no closed form), per group and pooled by pattern; with many
    # students per classroom the quadratic term's variance is flat near its optimum, so there
    # the deviance and its gradient are compared, not the optimum
    data = _nested_frame(8, students=students).assign(w2=lambda d: (d["wave"] - 2.0) ** 2)
    formula = "y ~ x + wave + (1 | school:classroom) + (1 + wave + w2 | student)"
    design = build_design(formula, data)
    fast = NestedSufficientStatistics.detect(design)
    assert (fast.cells is None) == (students == (3, 12))
    theta = fast.moment_start() + 0.05
    value, gradient = fast.deviance_and_gradient(theta, reml=True)
    general = PenalizedLeastSquares(design)
    np.testing.assert_allclose(value, general.profiled_deviance(theta, reml=True), rtol=1e-11)
    step = 1e-5
    differences = [(fast.profiled_deviance(theta + step * e, reml=True)
                    - fast.profiled_deviance(theta - step * e, reml=True)) / (2.0 * step)
                   for e in np.eye(theta.size)]
    np.testing.assert_allclose(gradient, differences, rtol=1e-6, atol=1e-5)
    if students == (3, 12):  # a singular fit (df approximate, as lmerTest warns)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SingularFitWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit, reference = lmm(formula, data), _general_fit(formula, data, True)
            _assert_same(fit, reference, rtol=1e-6, rtol_df=RTOL_DF_SLOPE)
