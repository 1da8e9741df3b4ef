"""random_slope_mediation() on Bauer, Preacher & Gil's (2006) data, against R 4.2.2.

References: ``golden/mediation_random_slopes.json``, written by
``golden/mediation_random_slopes.R``: the stacked model fitted by ``nlme::lme`` 3.1-162 (REML,
``varIdent(form = ~ 1 | dv)``) for the fixed effects, their covariance, the 5 x 5 random-effects
covariance, the residual standard deviations, the log-likelihood, the indirect effect
``ab + cov(a_j, b_j)`` and the R-squared of both path models (same definition computed in R from
nlme's estimates); glmmTMB 1.1.5 (REML, ``dispformula = ~ dv``) for the sampling variance of
``cov(a_j, b_j)`` (nlme reports no approximate covariance of the variance parameters for this
model), and from it the delta-method standard error of the indirect effect; and the same model
by maximum likelihood (nlme ``method = "ML"``: estimates, standard errors, covariances,
log-likelihood, same tolerances).

Tolerances (relative): ``RTOL = 1e-4`` on estimates, standard errors, residual standard
deviations, effects and R-squared; the covariance of the fixed effects and the elements of the
random-effects covariance to 1e-3 relative (and the latter to 1e-5 absolute: the likelihood is
flat in the small covariances, where our optimum is 3e-8 higher in log-likelihood than
nlme's); the log-likelihood to 1e-5 absolute; the variance of ``cov(a_j, b_j)`` and the delta
standard error to ``VAR_RTOL = 1e-3`` (both engines differentiate numerically there; measured:
7e-6).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.analysis import random_slope_mediation
from classdyad.analysis.stacked_mediation_model import tau_index

HERE = Path(__file__).parent
REF = json.loads((HERE / "golden" / "mediation_random_slopes.json").read_text())
DATA = HERE.parent / "data" / "bpg06_multilevel_mediation.csv"
RTOL = 1e-4
VAR_RTOL = 1e-3


@pytest.fixture(scope="module")
def result():
    data = pd.read_csv(DATA)
    return random_slope_mediation(data, exposure="x", mediator="m", outcome="y", cluster="id",
                                  rng=20060601)


def _rel(actual, expected) -> float:
    actual = np.asarray(actual, float)
    expected = np.asarray(expected, float)
    return float(np.max(np.abs(actual - expected) / np.abs(expected)))


def test_stacked_model_matches_nlme(result):
    fe = result.fixed_effects
    assert _rel(fe["estimate"], REF["estimate"]) < RTOL
    assert _rel(fe["std_error"], REF["std_error"]) < RTOL
    assert _rel(result.fit.cov_beta, REF["fixed_covariance"]) < 1e-3
    assert _rel(result.random_covariance.to_numpy(), REF["tau"]) < 1e-3
    assert np.allclose(result.random_covariance.to_numpy(), REF["tau"], rtol=RTOL, atol=1e-5)
    sds = np.sqrt(list(result.residual_variances.values()))
    assert _rel(sds, REF["residual_sd"]) < RTOL
    assert abs(result.loglik - REF["loglik"]) < 1e-5
    assert result.converged and result.n_obs == 800 and result.n_clusters == 100


def test_effects_match_r(result):
    effects = result.effects.set_index("effect")
    assert effects.loc["indirect", "estimate"] == pytest.approx(REF["indirect"], rel=RTOL)
    assert effects.loc["cov_a_b", "estimate"] == pytest.approx(REF["sigma_ab"], rel=RTOL)
    assert effects.loc["total", "estimate"] == pytest.approx(REF["total"], rel=RTOL)
    k = tau_index(1, 3)
    assert result.fit.cov_variance_parameters[k, k] == pytest.approx(REF["var_sigma_ab"],
                                                                     rel=VAR_RTOL)
    assert effects.loc["indirect", "delta_std_error"] == pytest.approx(
        REF["indirect_delta_std_error"], rel=VAR_RTOL)
    for name, position in (("a", 1), ("b", 3), ("direct", 4)):
        assert effects.loc[name, "delta_std_error"] == pytest.approx(
            REF["std_error"][position], rel=RTOL)


def test_r_squared_matches_r(result):
    r2 = result.r_squared.set_index("model")
    assert _rel(r2.loc["mediator", ["marginal", "conditional"]], REF["r2_mediator"]) < RTOL
    assert _rel(r2.loc["outcome", ["marginal", "conditional"]], REF["r2_outcome"]) < RTOL
    assert r2["definition"].str.contains("Nakagawa & Schielzeth").all()


def test_monte_carlo_beside_delta(result):
    effects = result.effects.set_index("effect")
    assert {"delta_std_error", "delta_p_value", "mc_ci_lower", "mc_ci_upper",
            "mc_p_value"} <= set(effects.columns)
    assert "std_error" not in effects.columns
    indirect = effects.loc["indirect"]
    # Monte Carlo interval close to the delta interval but not identical (skewed product)
    assert indirect["mc_ci_lower"] == pytest.approx(indirect["delta_ci_lower"], abs=0.02)
    assert indirect["mc_ci_upper"] == pytest.approx(indirect["delta_ci_upper"], abs=0.02)
    assert indirect["mc_ci_lower"] < indirect["estimate"] < indirect["mc_ci_upper"]
    text = result.summary()
    assert "indirect = ab + cov(a_j, b_j)" in text and "marginal" in text
    assert "Monte Carlo" in result._repr_html_()
    assert result.to_frame().shape[0] == 6


def test_reproducible_and_checked():
    data = pd.read_csv(DATA)
    kwargs = dict(exposure="x", mediator="m", outcome="y", cluster="id", n_draws=500)
    subset = data.loc[data["id"] <= 40]
    first = random_slope_mediation(subset, rng=3, **kwargs)
    second = random_slope_mediation(subset, rng=3, **kwargs)
    pd.testing.assert_frame_equal(first.effects, second.effects)
    with pytest.raises(ValueError, match="'REML', 'ML'"):
        random_slope_mediation(data, method="reml", **kwargs)
    few = data.loc[data["id"] <= 5]
    with pytest.raises(ValueError, match="levels"):
        random_slope_mediation(few, **kwargs)


def test_maximum_likelihood_matches_nlme():
    data = pd.read_csv(DATA)
    fit = random_slope_mediation(data, exposure="x", mediator="m", outcome="y", cluster="id",
                                 method="ML", n_draws=500, rng=1)
    ref = REF["ml"]
    assert _rel(fit.fixed_effects["estimate"], ref["estimate"]) < RTOL
    assert _rel(fit.fixed_effects["std_error"], ref["std_error"]) < RTOL
    assert np.allclose(fit.random_covariance.to_numpy(), ref["tau"], rtol=RTOL, atol=1e-5)
    assert abs(fit.loglik - ref["loglik"]) < 1e-5
    assert fit.method == "ML" and "ML" in fit.summary().splitlines()[0]
