"""The fast penalized least-squares evaluation against dense textbook formulas.

For ``V = I + Z Lambda Lambda' Z'`` the profiled deviances are (Bates et al. 2015, eq. 34 and 41)
``log|V| + n (1 + log(2 pi r^2 / n))`` and ``log|V| + log|X' V^-1 X| + (n - p)(1 + log(2 pi r^2 /
(n - p)))`` with ``r^2 = (y - X b)' V^-1 (y - X b)`` at the GLS estimate ``b``; the conditional
modes are ``Lambda Lambda' Z' V^-1 (y - X b)`` and their conditional covariance
``sigma^2 Lambda (Lambda' Z' Z Lambda + I)^-1 Lambda'``. Tolerance 1e-8 relative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.mixed._formula import build_design
from classdyad.mixed._penalized_least_squares import PenalizedLeastSquares
from classdyad.mixed._penalized_least_squares_gradient import multi_term_deviance_and_gradient

DATA = Path(__file__).parents[1] / "data"


def _designs():
    classroom = pd.read_csv(DATA / "classroom.csv").iloc[:300]
    penicillin = pd.read_csv(DATA / "penicillin.csv")
    rng = np.random.default_rng(4)
    crossed = pd.DataFrame({
        "y": rng.normal(size=240), "x": rng.normal(size=240),
        "a": rng.integers(0, 12, 240), "b": rng.integers(0, 7, 240),
    })
    return {
        "nested": build_design("mathgain ~ mathkind + ses + (1 | schoolid/classid)", classroom),
        "slope_nested": build_design(
            "mathgain ~ ses + (1 + ses | schoolid) + (1 | classid)", classroom),
        "crossed": build_design("diameter ~ 1 + (1 | plate) + (1 | sample)", penicillin),
        "crossed_slopes": build_design("y ~ x + (1 + x | a) + (0 + x | b)", crossed),
        "single_slope": build_design("y ~ x + (1 + x | a)", crossed),
    }


DESIGNS = _designs()


def _lambda(pls: PenalizedLeastSquares, theta: np.ndarray) -> np.ndarray:
    blocks = []
    for k, term in enumerate(pls.design.random_terms):
        blocks.append(np.kron(np.eye(term.n_levels), pls.lambda_factor(theta, k)))
    size = sum(b.shape[0] for b in blocks)
    out = np.zeros((size, size))
    offset = 0
    for b in blocks:
        out[offset : offset + b.shape[0], offset : offset + b.shape[0]] = b
        offset += b.shape[0]
    return out


def _dense(design, theta, pls):
    z = design.random_design_matrix().toarray()
    lam = _lambda(pls, theta)
    x, y = design.fixed, design.response
    n, p = x.shape
    v = np.eye(n) + z @ lam @ lam.T @ z.T
    v_inv = np.linalg.inv(v)
    xtvx = x.T @ v_inv @ x
    beta = np.linalg.solve(xtvx, x.T @ v_inv @ y)
    resid = y - x @ beta
    r2 = resid @ v_inv @ resid
    log_det_v = np.linalg.slogdet(v)[1]
    ml = log_det_v + n * (1 + np.log(2 * np.pi * r2 / n))
    reml = log_det_v + np.linalg.slogdet(xtvx)[1] + (n - p) * (1 + np.log(2 * np.pi * r2 / (n - p)))
    modes = lam @ lam.T @ z.T @ v_inv @ resid
    a = lam.T @ z.T @ z @ lam + np.eye(lam.shape[0])
    cond = lam @ np.linalg.inv(a) @ lam.T
    return ml, reml, beta, modes, cond


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_profiled_deviance_modes_and_conditional_variances(name):
    design = DESIGNS[name]
    pls = PenalizedLeastSquares(design)
    rng = np.random.default_rng(0)
    theta = pls.theta_start * rng.uniform(0.3, 1.5, pls.theta_start.size) + np.where(
        pls.lower == 0.0, 0.0, rng.uniform(-0.3, 0.3, pls.theta_start.size))
    ml, reml, beta, modes, cond = _dense(design, theta, pls)
    assert pls.profiled_deviance(theta, reml=False) == pytest.approx(ml, rel=1e-8)
    assert pls.profiled_deviance(theta, reml=True) == pytest.approx(reml, rel=1e-8)
    ev = pls.solve(theta, modes=True)
    np.testing.assert_allclose(ev.beta, beta, rtol=1e-7)
    ours = np.concatenate([b.ravel() for b in pls.random_effects(ev)])
    np.testing.assert_allclose(ours, modes, rtol=1e-6, atol=1e-8 * np.abs(modes).max())
    variances = pls.conditional_variances(theta, 1.0)
    offset = 0
    for k, term in enumerate(design.random_terms):
        q = term.n_effects
        for j in range(term.n_levels):
            start = offset + j * q
            block = cond[start : start + q, start : start + q]
            np.testing.assert_allclose(variances[k][j], block, rtol=1e-7, atol=1e-12)
        offset += term.n_levels * q


@pytest.mark.parametrize("reml", [True, False])
def test_analytic_gradient_matches_central_differences(reml):
    pls = PenalizedLeastSquares(DESIGNS["single_slope"])
    theta = np.array([0.8, -0.2, 0.5])
    value, grad = pls.deviance_and_gradient(theta, reml=reml)
    assert value == pytest.approx(pls.profiled_deviance(theta, reml=reml), rel=1e-12)
    h = 1e-5
    numeric = [
        (pls.profiled_deviance(theta + h * e, reml=reml)
         - pls.profiled_deviance(theta - h * e, reml=reml)) / (2 * h)
        for e in np.eye(3)
    ]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5)


@pytest.mark.parametrize("name", ["nested", "slope_nested", "crossed", "crossed_slopes"])
@pytest.mark.parametrize("reml", [True, False])
def test_multi_term_gradient_matches_central_differences(name, reml):
    pls = PenalizedLeastSquares(DESIGNS[name])
    theta = pls.theta_start + np.linspace(0.1, 0.3, pls.theta_start.size)
    value, grad = multi_term_deviance_and_gradient(pls, theta, reml=reml)
    assert value == pytest.approx(pls.profiled_deviance(theta, reml=reml), rel=1e-12)
    h = 1e-6
    numeric = [
        (pls.profiled_deviance(theta + h * e, reml=reml)
         - pls.profiled_deviance(theta - h * e, reml=reml)) / (2 * h)
        for e in np.eye(theta.size)
    ]
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-5)
    # a random intercept at zero has derivative zero; a larger term with a zero diagonal element
    # is left to finite differences (None)
    theta[0] = 0.0
    result = multi_term_deviance_and_gradient(pls, theta, reml=reml)
    if DESIGNS[name].random_terms[0].n_effects > 1:
        assert result is None
    else:
        numeric = [
            (pls.profiled_deviance(theta + h * e, reml=reml)
             - pls.profiled_deviance(theta - h * e, reml=reml)) / (2 * h)
            for e in np.eye(theta.size)
        ]
        np.testing.assert_allclose(result[1], numeric, rtol=1e-4, atol=1e-5)
