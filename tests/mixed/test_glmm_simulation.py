"""glmm() recovers known parameters of simulated Poisson GLMMs (fixed seeds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from classdyad.mixed import glmm

TRUE_BETA = np.array([-3.0, 0.4, -0.3])
TRUE_SD = 0.5


def _simulate(rng: np.random.Generator, n_groups: int = 50, per_group: int = 20) -> pd.DataFrame:
    n = n_groups * per_group
    group = np.repeat(np.arange(n_groups), per_group)
    low_ses = rng.binomial(1, 0.3, n)
    non_western = rng.binomial(1, 0.25, n)
    minutes = rng.uniform(20.0, 60.0, n)
    effect = rng.normal(0.0, TRUE_SD, n_groups)[group]
    eta = TRUE_BETA[0] + TRUE_BETA[1] * low_ses + TRUE_BETA[2] * non_western + effect
    return pd.DataFrame({
        "classroom": group.astype(str),
        "low_ses": low_ses,
        "non_western": non_western,
        "minutes": minutes,
        "negative": rng.poisson(minutes * np.exp(eta)),
    })


def test_poisson_glmm_recovers_known_parameters():
    rng = np.random.default_rng(20260401)
    replications = 40
    estimates, errors, sds, covered = [], [], [], []
    for _ in range(replications):
        fit = glmm("negative ~ low_ses + non_western + offset(np.log(minutes)) + (1 | classroom)",
                   _simulate(rng))
        fe = fit.fixed_effects
        estimates.append(fe["estimate"].to_numpy())
        errors.append(fe["std_error"].to_numpy())
        sds.append(fit.variance_components["std_dev"].iloc[0])
        covered.append((fe["ci_low"] <= TRUE_BETA) & (TRUE_BETA <= fe["ci_high"]))
    estimates, errors = np.array(estimates), np.array(errors)
    monte_carlo_se = estimates.std(axis=0, ddof=1) / np.sqrt(replications)
    # unbiased within 3.5 Monte Carlo standard errors
    assert np.all(np.abs(estimates.mean(axis=0) - TRUE_BETA) < 3.5 * monte_carlo_se)
    # the ML estimate of the sd is biased down slightly for 50 groups: within 0.05
    assert np.mean(sds) == pytest.approx(TRUE_SD, abs=0.05)
    # model-based standard errors match the spread of the estimates (within 30%)
    ratio = errors.mean(axis=0) / estimates.std(axis=0, ddof=1)
    assert np.all((ratio > 0.7) & (ratio < 1.3))
    # Wald 95% intervals cover the truth at about the nominal rate
    coverage = np.mean(covered, axis=0)
    assert np.all(coverage >= 0.85)


def test_nested_poisson_glmm_recovers_both_variances():
    rng = np.random.default_rng(7)
    schools, per_school, per_class = 50, 4, 20
    n_class = schools * per_school
    school = np.repeat(np.arange(schools), per_school * per_class)
    classroom = np.repeat(np.arange(n_class), per_class)
    eta = (0.5 + rng.normal(0, 0.4, schools)[school] + rng.normal(0, 0.3, n_class)[classroom])
    data = pd.DataFrame({"school": school, "classroom": classroom % per_school,
                         "y": rng.poisson(np.exp(eta))})
    fit = glmm("y ~ 1 + (1 | school/classroom)", data)
    sd = fit.variance_components.set_index("group")["std_dev"]
    # one large data set: estimates within 0.1 of the truth
    assert sd["school"] == pytest.approx(0.4, abs=0.1)
    assert sd["school:classroom"] == pytest.approx(0.3, abs=0.1)
    intercept = fit.fixed_effects.iloc[0]
    assert abs(intercept["estimate"] - 0.5) < 3 * intercept["std_error"]
