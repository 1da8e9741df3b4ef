"""The GLMM engine's numerics on arrays: block solves, Laplace/AGQ identities, NB2 density."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import gammaln
from scipy.stats import nbinom

from classdyad.mixed._generalized_mixed_deviance import GlmmProblem, RandomInterceptSystem
from classdyad.mixed._generalized_mixed_fit import fit_glmm
from classdyad.mixed._glmm_families import get_family


def _crossed_problem(seed: int = 3) -> GlmmProblem:
    rng = np.random.default_rng(seed)
    n = 400
    codes = [rng.integers(0, 25, n), rng.integers(0, 6, n), rng.integers(0, 9, n)]
    x = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = rng.poisson(np.exp(0.3 + 0.2 * x[:, 1]))
    return GlmmProblem.build(get_family("poisson"), y, x, codes)


def _dense_m(problem: GlmmProblem, theta: np.ndarray, w: np.ndarray) -> np.ndarray:
    lam = problem.theta_expanded(theta)
    u_matrix = problem.z.toarray() * lam[None, :]
    return np.eye(problem.q) + u_matrix.T @ (w[:, None] * u_matrix)


def test_block_system_matches_dense_algebra_for_crossed_factors():
    problem = _crossed_problem()
    rng = np.random.default_rng(7)
    theta = np.array([0.7, 0.4, 1.3])
    w = rng.uniform(0.2, 3.0, problem.n)
    system = RandomInterceptSystem(problem, theta, w)
    dense = _dense_m(problem, theta, w)
    # exact linear algebra: agreement to rounding error
    assert system.logdet == pytest.approx(np.linalg.slogdet(dense)[1], rel=1e-12)
    rhs = rng.normal(size=(problem.q, 3))
    np.testing.assert_allclose(system.solve(rhs), np.linalg.solve(dense, rhs), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(system.solve(rhs[:, 0]), np.linalg.solve(dense, rhs[:, 0]),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(system.inverse_diagonal(), np.diag(np.linalg.inv(dense)),
                               rtol=1e-10)


def test_block_system_of_a_nested_pair_matches_dense_algebra():
    # students nested in classrooms: the Schur complement is diagonal and solved as such
    rng = np.random.default_rng(11)
    n = 500
    student = rng.permutation(np.arange(n) % 120)
    problem = GlmmProblem.build(get_family("poisson"), rng.poisson(2.0, n),
                                np.ones((n, 1)), [student, student // 8])
    assert problem.nested_pair
    theta = np.array([0.6, 0.9])
    w = rng.uniform(0.2, 3.0, problem.n)
    system = RandomInterceptSystem(problem, theta, w)
    assert system.s_diagonal is not None and system.chol is None
    dense = _dense_m(problem, theta, w)
    assert system.logdet == pytest.approx(np.linalg.slogdet(dense)[1], rel=1e-12)
    rhs = rng.normal(size=(problem.q, 3))
    np.testing.assert_allclose(system.solve(rhs), np.linalg.solve(dense, rhs), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(system.inverse_diagonal(), np.diag(np.linalg.inv(dense)),
                               rtol=1e-10)
    # S^-1 is the lower right block of M^-1
    q0 = problem.n_levels[0]
    np.testing.assert_allclose(system.rest_inverse(), np.linalg.inv(dense)[q0:, q0:],
                               rtol=1e-10, atol=1e-14)


def test_conditional_mode_solves_the_penalized_score_equations():
    problem = _crossed_problem()
    theta = np.array([0.5, 0.3, 0.8])
    beta = np.array([0.2, 0.1])
    mode = problem.mode(theta, beta, 1.0, np.zeros(problem.q))
    assert mode.converged
    eta = problem.offset + problem.x @ beta + problem.random_eta(theta, mode.u)
    score = problem.y - np.exp(eta)
    # gradient of the penalized deviance / 2 at the mode
    np.testing.assert_allclose(problem.random_cross(theta, score) - mode.u, 0.0, atol=1e-9)


def test_one_quadrature_node_is_the_laplace_approximation():
    rng = np.random.default_rng(11)
    codes = [np.repeat(np.arange(30), 8)]
    x = np.column_stack([np.ones(240), rng.normal(size=240)])
    y = rng.binomial(5, 0.3, 240)
    problem = GlmmProblem.build(get_family("binomial"), y, x, codes, trials=np.full(240, 5.0))
    theta, beta = np.array([0.9]), np.array([-0.8, 0.3])
    mode = problem.mode(theta, beta, 1.0, np.zeros(problem.q))
    laplace = problem.laplace_deviance(mode)
    assert problem.agq_deviance(mode, theta, 1.0, 1) == pytest.approx(laplace, rel=1e-12)
    # quadrature converges: 20 and 25 nodes agree to 1e-9 relative
    assert problem.agq_deviance(mode, theta, 1.0, 20) == pytest.approx(
        problem.agq_deviance(mode, theta, 1.0, 25), rel=1e-9)


@pytest.mark.parametrize("shape", [0.5, 3.0, 99.0, 101.0, 1e4, 1e7])
def test_negative_binomial_density_is_accurate_for_any_shape(shape):
    family = get_family("negative_binomial")
    y = np.array([0.0, 1.0, 4.0, 17.0, 60.0])
    eta = np.array([-1.0, 0.2, 1.5, 2.8, 4.0])
    mu = np.exp(eta)
    # exact for whole y: lgamma(y + k) - lgamma(k) = sum_{j < y} log(k + j)
    ratio = np.array([math.fsum(math.log(shape + j) for j in range(int(v))) for v in y])
    expected = ratio - shape * np.log1p(mu / shape) + y * (eta - np.log(shape + mu))
    got = family.loglik_terms(y, eta, np.ones(5), shape)
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-11)
    if shape < 1e4:  # scipy's own lgamma differences lose digits for huge shapes
        np.testing.assert_allclose(
            got - gammaln(y + 1), nbinom.logpmf(y, shape, shape / (shape + mu)), rtol=1e-10
        )
    loglik, score, _ = family.derivatives(y, eta, np.ones(5), shape)
    np.testing.assert_allclose(loglik, got, rtol=1e-12)
    h = 1e-6
    numeric = (family.loglik_terms(y, eta + h, np.ones(5), shape)
               - family.loglik_terms(y, eta - h, np.ones(5), shape)) / (2 * h)
    np.testing.assert_allclose(score, numeric, rtol=1e-6, atol=1e-7)


def test_fit_reports_non_convergence_when_iterations_run_out():
    problem = _crossed_problem()
    estimate = fit_glmm(problem, max_newton=1, polish=False)
    assert not estimate.converged
    assert sp.issparse(problem.z)
