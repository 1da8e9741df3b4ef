"""Satterthwaite's derivatives on the nested recursion (from its exact gradient) against the
Richardson scheme lmerTest uses (numDeriv's, which the general solver keeps).

Tolerances: the Hessian of the deviance in (theta, sigma) 2e-7 relative to ``sqrt(H_ii H_jj)``
(measured: at most 4e-8, the new scheme's ``O(h^2)`` error at steps of ``1e-4 |theta_i|``); at a
one-effect parameter at zero 1e-3 (the Richardson scheme's second differences of the deviance
at steps of 1e-4 lose about four digits to rounding there: measured 8e-5; the new value,
``2 dD / dphi_i`` with no difference taken, is checked on its own below); the Jacobians of
``(R_X R_X')^-1`` 5e-7 of their largest element (measured: at most 7e-8); the degrees of
freedom of every coefficient 5e-7 relative (measured: at most 8e-8, on random slopes, where the
Richardson scheme's own error dominates). The degrees of freedom against lmerTest's are checked
in ``test_lmm_golden.py`` and against the general solver's in ``test_lmm_nested_recursion.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from classdyad.errors import OptionError, SingularFitWarning
from classdyad.mixed import lmm
from classdyad.mixed._nested_finest_term import PatternCells
from classdyad.mixed._nested_sufficient_statistics import NestedSufficientStatistics
from classdyad.mixed._satterthwaite import (
    _covariance_jacobian,
    _covariance_unit,
    _DevianceInVarianceParameters,
    _from_gradients,
    _hessian,
    satterthwaite_state,
)

from .test_lmm_nested_recursion import FORMULAS, _nested_frame

RTOL_HESSIAN = 2e-7
RTOL_HESSIAN_AT_ZERO = 1e-3
RTOL_JACOBIAN = 5e-7
RTOL_DF = 5e-7

# (name, data, formula, REML, a one-effect parameter estimated at zero)
CASES = [
    ("three-levels", dict(seed=8), FORMULAS["three-levels"], True, False),
    ("two-levels-ML", dict(seed=8), FORMULAS["two-levels"], False, False),
    ("no-intercept", dict(seed=8), FORMULAS["no-intercept"], True, False),
    ("singular", dict(seed=3, school_sd=0.0), FORMULAS["three-levels"], True, True),
    ("singular-ML", dict(seed=3, school_sd=0.0), FORMULAS["three-levels"], False, True),
    ("slope", dict(seed=8), FORMULAS["slope"], True, False),
    ("slope-pooled", dict(seed=8, students=(20, 31)), FORMULAS["slope"], False, False),
    ("continuous-slope", dict(seed=11),
     "y ~ x + wave + (1 | school:classroom) + (1 + x | student)", True, False),
]


def _fit(data: dict, formula: str, reml: bool):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        fit = lmm(formula, _nested_frame(**data), reml=reml)
    assert isinstance(fit.prepared.pls, NestedSufficientStatistics)
    return fit


def _richardson(pls, theta, sigma, reml):
    model = _DevianceInVarianceParameters(pls, theta, reml=reml)
    return (_hessian(model.deviance, np.append(theta, sigma)),
            _covariance_jacobian(model, theta), model.unit_covariance(theta))


@pytest.mark.parametrize(("name", "data", "formula", "reml", "at_zero"), CASES,
                         ids=[case[0] for case in CASES])
def test_gradient_derivatives_equal_richardsons(name, data, formula, reml, at_zero):
    fit = _fit(data, formula, reml)
    pls, theta, sigma = fit.prepared.pls, fit.theta, fit.sigma
    if name == "slope-pooled":
        assert isinstance(pls.cells, PatternCells)
    assert (theta == 0.0).any() == at_zero
    hessian, jacobians, unit = _from_gradients(pls, theta, sigma, reml=reml)
    reference, reference_jacobians, reference_unit = _richardson(pls, theta, sigma, reml)
    np.testing.assert_allclose(unit, reference_unit, rtol=1e-12, atol=0)
    scale = np.sqrt(np.outer(np.diag(reference), np.diag(reference)))
    error = np.abs(hessian - reference) / scale
    zero = np.append(theta == 0.0, False)
    assert error[~zero][:, ~zero].max() < RTOL_HESSIAN
    assert error.max() < RTOL_HESSIAN_AT_ZERO
    np.testing.assert_array_equal(hessian, hessian.T)
    for jacobian, expected in zip(jacobians, reference_jacobians, strict=True):
        np.testing.assert_allclose(jacobian, expected, rtol=0,
                                   atol=RTOL_JACOBIAN * np.abs(expected).max())
    state = satterthwaite_state(pls, theta, sigma, reml=reml)
    positive = np.linalg.eigvalsh(reference) > 1e-8
    assert positive.all()
    inverse = 2.0 * np.linalg.inv(reference)
    for contrast in np.eye(fit.beta.size):
        grad = np.array([contrast @ (sigma * sigma * j) @ contrast for j in reference_jacobians]
                        + [contrast @ (2.0 * sigma * reference_unit) @ contrast])
        variance = sigma * sigma * contrast @ reference_unit @ contrast
        expected = 2.0 * variance**2 / (grad @ inverse @ grad)
        np.testing.assert_allclose(state.df(contrast), expected, rtol=RTOL_DF)


def test_hessian_at_zero_is_twice_the_derivative_in_theta_squared():
    # at theta_i = 0 the deviance is D(theta_i^2): d2D / dtheta_i^2 = 2 dD / dphi_i, the limit
    # of (dD / dtheta_i) / theta_i, here at theta_i = 1e-6 from the exact gradient
    fit = _fit(dict(seed=3, school_sd=0.0), FORMULAS["three-levels"], True)
    pls, theta, sigma = fit.prepared.pls, fit.theta, fit.sigma
    (zero,) = np.flatnonzero(theta == 0.0)
    hessian = _from_gradients(pls, theta, sigma, reml=True)[0]
    point = theta.copy()
    point[zero] = 1e-6
    gradient = pls.parts_gradients(point, (1.0 / sigma**2,), reml=True)[0][0]
    np.testing.assert_allclose(hessian[zero, zero], gradient[zero] / 1e-6, rtol=1e-8)
    assert np.all(hessian[zero, :-1][np.arange(theta.size) != zero] == 0.0)


def test_sigma_derivatives_are_analytic():
    # D(theta, sigma) = parts + r^2 / sigma^2 + (n - p_R) log(2 pi sigma^2): its derivatives in
    # sigma against the deviance's own central differences (quadratic in 1 / sigma: exact to
    # rounding with Richardson's extrapolation)
    fit = _fit(dict(seed=8), FORMULAS["three-levels"], True)
    pls, theta, sigma = fit.prepared.pls, fit.theta, fit.sigma
    hessian = _from_gradients(pls, theta, sigma, reml=True)[0]
    model = _DevianceInVarianceParameters(pls, theta, reml=True)
    pwrss = pls.solve(theta).pwrss
    np.testing.assert_allclose(hessian[-1, -1],
                               6.0 * pwrss / sigma**4 - 2.0 * (pls.n - pls.p) / sigma**2,
                               rtol=1e-14)
    reference = _hessian(model.deviance, np.append(theta, sigma))
    np.testing.assert_allclose(hessian[-1], reference[-1], rtol=1e-8)


def test_a_failing_point_falls_back_to_the_richardson_scheme(monkeypatch):
    fit = _fit(dict(seed=8), FORMULAS["two-levels"], True)
    pls, theta, sigma = fit.prepared.pls, fit.theta, fit.sigma

    def not_positive_definite(*args, **kwargs):
        raise np.linalg.LinAlgError("not positive definite")

    monkeypatch.setattr(pls, "parts_gradients", not_positive_definite)
    assert _from_gradients(pls, theta, sigma, reml=True) is None
    state = satterthwaite_state(pls, theta, sigma, reml=True)
    hessian, jacobians, unit = _richardson(pls, theta, sigma, True)
    values, vectors = np.linalg.eigh(hessian)
    np.testing.assert_array_equal(state.varpar_covariance,
                                  2.0 * (vectors / values) @ vectors.T)
    np.testing.assert_array_equal(state.jacobians[0], sigma * sigma * jacobians[0])
    np.testing.assert_array_equal(state.beta_covariance, sigma * sigma * unit)


def test_parts_gradients_unit_covariance_equals_solves():
    # (R_X R_X')^-1 mapped back from the centred columns, with and without an intercept
    for formula in (FORMULAS["three-levels"], FORMULAS["no-intercept"], FORMULAS["offset"]):
        fit = _fit(dict(seed=8), formula, True)
        pls = fit.prepared.pls
        point = fit.theta * 1.1
        _, unit, pwrss = pls.parts_gradients(point, (1.0,), reml=True)
        ev = pls.solve(point)
        np.testing.assert_allclose(unit, _covariance_unit(ev), rtol=1e-10,
                                   atol=1e-14 * np.abs(unit).max())
        np.testing.assert_allclose(pwrss, ev.pwrss, rtol=1e-14)


def test_scheme_option_is_checked_and_richardson_is_lmertests():
    fit = _fit(dict(seed=8), FORMULAS["two-levels"], True)
    pls, theta, sigma = fit.prepared.pls, fit.theta, fit.sigma
    with pytest.raises(OptionError, match="'gradient', 'richardson'"):
        satterthwaite_state(pls, theta, sigma, reml=True, scheme="numDeriv")
    state = satterthwaite_state(pls, theta, sigma, reml=True, scheme="richardson")
    _, jacobians, unit = _richardson(pls, theta, sigma, True)
    np.testing.assert_array_equal(state.jacobians[1], sigma * sigma * jacobians[1])
    np.testing.assert_array_equal(state.beta_covariance, sigma * sigma * unit)
