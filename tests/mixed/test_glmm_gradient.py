"""The exact gradient of the Laplace deviance, and fits that use it.

The gradient is checked against central finite differences of the deviance itself (step 1e-5;
agreement to 1e-6 absolute on deviances of order 1e3, i.e. the differences' own truncation and
rounding error). Fits with the exact gradient must land on the optimum that the derivative-free
path (finite differences of the deviance) finds: estimates to 1e-5, standard errors to 1e-4
relative (the Hessians differ in their finite-difference error only).
"""

from __future__ import annotations

import numpy as np
import pytest

import classdyad.mixed._generalized_mixed_fit as fit_module
from classdyad.mixed._generalized_mixed_deviance import GlmmProblem
from classdyad.mixed._generalized_mixed_fit import fit_glmm
from classdyad.mixed._generalized_mixed_gradient import has_exact_gradient, laplace_gradient
from classdyad.mixed._glmm_families import get_family


def _problem(family: str, n_factors: int, seed: int = 1) -> GlmmProblem:
    rng = np.random.default_rng(seed)
    n = 600
    school = rng.integers(0, 10, n)
    classroom = school * 4 + rng.integers(0, 4, n)
    student = classroom * 5 + rng.integers(0, 5, n)
    all_codes = [np.unique(v, return_inverse=True)[1] for v in (student, classroom, school)]
    codes = all_codes[1:2] if n_factors == 1 else all_codes[:n_factors]
    x = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n)])
    eta = -0.5 + 0.3 * x[:, 1] + sum(rng.normal(0, 0.5, c.max() + 1)[c] for c in codes)
    if family == "poisson":
        y = rng.poisson(np.exp(eta + 0.1))
        offset = np.full(n, 0.1)
    else:
        y = rng.binomial(1, 1.0 / (1.0 + np.exp(-eta)))
        offset = None
    return GlmmProblem.build(get_family(family), y, x, codes, offset=offset)


CASES = [("poisson", 1), ("poisson", 2), ("poisson", 3), ("binomial", 2)]


@pytest.mark.parametrize(("family", "n_factors"), CASES)
def test_laplace_gradient_matches_differences_of_the_deviance(family, n_factors):
    problem = _problem(family, n_factors)
    k = n_factors
    params = np.concatenate([np.linspace(0.4, 0.8, k), [-0.4, 0.25, 0.1]])

    def deviance(p, u_start):
        mode = problem.mode(p[:k], p[k:], np.zeros(0), u_start)
        return problem.laplace_deviance(mode), mode

    _, mode = deviance(params, np.zeros(problem.q))
    exact = laplace_gradient(problem, mode, params[:k])
    numeric = np.array([
        (deviance(params + e, mode.u)[0] - deviance(params - e, mode.u)[0]) / 2e-5
        for e in np.eye(len(params)) * 1e-5
    ])
    assert np.abs(exact).max() > 1.0  # away from the optimum: a gradient worth checking
    np.testing.assert_allclose(exact, numeric, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("family", "n_factors"), CASES)
def test_profiled_gradient_matches_differences_of_the_nagq0_deviance(family, n_factors):
    problem = _problem(family, n_factors)
    theta = np.linspace(0.4, 0.8, n_factors)
    beta = np.array([-0.4, 0.25, 0.1])

    def deviance(t, u_start, b_start):
        mode = problem.mode(t, b_start, np.zeros(0), u_start, update_beta=True)
        return problem.laplace_deviance(mode), mode

    _, mode = deviance(theta, np.zeros(problem.q), beta)
    exact = laplace_gradient(problem, mode, theta, profile_beta=True)
    numeric = np.array([
        (deviance(theta + e, mode.u, mode.beta)[0] - deviance(theta - e, mode.u, mode.beta)[0])
        / 2e-5
        for e in np.eye(n_factors) * 1e-5
    ])
    np.testing.assert_allclose(exact, numeric, rtol=0, atol=1e-6)


def test_exact_gradient_applies_to_canonical_laplace_fits_only():
    assert has_exact_gradient(_problem("poisson", 2), 1)
    assert not has_exact_gradient(_problem("poisson", 1), 5)
    nb2 = _problem("poisson", 2)
    nb2.family = get_family("negative_binomial")
    assert not has_exact_gradient(nb2, 1)


@pytest.mark.parametrize(("family", "n_factors"), CASES)
def test_fit_with_exact_gradient_finds_the_derivative_free_optimum(family, n_factors,
                                                                   monkeypatch):
    problem = _problem(family, n_factors, seed=5)
    exact = fit_glmm(problem)
    monkeypatch.setattr(fit_module, "has_exact_gradient", lambda problem, n_agq: False)
    reference = fit_glmm(problem)
    assert exact.converged and reference.converged
    np.testing.assert_allclose(exact.beta, reference.beta, rtol=0, atol=1e-5)
    np.testing.assert_allclose(exact.theta, reference.theta, rtol=0, atol=1e-5)
    assert exact.deviance == pytest.approx(reference.deviance, abs=1e-7)
    np.testing.assert_allclose(np.sqrt(np.diag(exact.cov_beta)),
                               np.sqrt(np.diag(reference.cov_beta)), rtol=1e-4)
    # the exact path needs far fewer evaluations of the deviance
    assert exact.n_evaluations < reference.n_evaluations / 3


def _random_problem(seed: int) -> GlmmProblem:
    """Small random designs: one or two nested factors, variances from zero to large."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(80, 500))
    n_classes, per_class = int(rng.integers(3, 30)), int(rng.integers(2, 8))
    classroom = rng.integers(0, n_classes, n)
    student = classroom * per_class + rng.integers(0, per_class, n)
    sd_class, sd_student = [0.0, 0.05, 0.5][seed % 3], [0.3, 0.0, 1.0][(seed // 3) % 3]
    codes = [np.unique(student, return_inverse=True)[1],
             np.unique(classroom, return_inverse=True)[1]]
    if seed % 4 == 0:
        codes = codes[1:]
    x = np.column_stack([np.ones(n), rng.normal(size=n)])
    eta = (-0.3 + 0.4 * x[:, 1] + rng.normal(0, sd_class, n_classes)[classroom]
           + rng.normal(0, sd_student, n_classes * per_class)[student])
    family = "binomial" if seed % 3 == 0 else "poisson"
    y = (rng.binomial(1, 1 / (1 + np.exp(-eta))) if family == "binomial"
         else rng.poisson(np.exp(eta)))
    return GlmmProblem.build(get_family(family), y, x, codes)


@pytest.mark.parametrize("seed", range(12))
def test_exact_and_derivative_free_fits_agree_on_random_designs(seed, monkeypatch):
    # singular fits (a variance estimated at zero) included
    problem = _random_problem(seed)
    exact = fit_glmm(problem)
    monkeypatch.setattr(fit_module, "has_exact_gradient", lambda problem, n_agq: False)
    reference = fit_glmm(problem)
    assert exact.converged and reference.converged
    assert exact.deviance <= reference.deviance + 1e-6
    np.testing.assert_allclose(exact.beta, reference.beta, rtol=0, atol=1e-5)
    np.testing.assert_allclose(exact.theta, reference.theta, rtol=0, atol=1e-5)
