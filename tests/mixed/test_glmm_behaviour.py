"""glmm(): options, result object, prediction, comparison and degenerate input."""

from __future__ import annotations

import functools
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import classdyad.mixed._generalized_mixed as generalized_mixed
from classdyad.errors import (
    ConvergenceWarning,
    DataError,
    DataWarning,
    EstimationError,
    FormulaError,
    OptionError,
    SingularFitWarning,
)
from classdyad.mixed import glmm
from classdyad.mixed._generalized_mixed_fit import fit_glmm

DATA = Path(__file__).parent.parent / "data"
FORMULA = "negative ~ low_ses + non_western + offset(np.log(minutes)) + (1 | school)"


@pytest.fixture(scope="module")
def interactions() -> pd.DataFrame:
    data = pd.read_csv(DATA / "classroom_interactions.csv")
    return data[data["school"] <= "S12"].reset_index(drop=True)


@pytest.fixture(scope="module")
def fit(interactions):
    return glmm(FORMULA, interactions)


def _flat(seed: int = 1, n: int = 400, groups: int = 20) -> pd.DataFrame:
    """Counts with no between-group variation at all."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({"g": np.repeat(np.arange(groups), n // groups).astype(str), "x": x,
                         "y": rng.poisson(np.exp(0.2 + 0.3 * x))})


def test_result_tables(fit):
    fe = fit.fixed_effects
    assert list(fe.columns) == ["term", "estimate", "std_error", "df", "statistic", "p_value",
                                "ci_low", "ci_high"]
    assert np.isinf(fe["df"]).all()
    np.testing.assert_allclose(fe["statistic"], fe["estimate"] / fe["std_error"])
    np.testing.assert_allclose(fe["ci_high"] - fe["estimate"], 1.959964 * fe["std_error"],
                               rtol=1e-6)
    assert list(fit.variance_components.columns) == ["group", "term", "variance", "std_dev"]
    assert fit.n_obs == 12 * 176 and fit.n_groups == {"school": 12}
    assert fit.aic == pytest.approx(-2 * fit.loglik + 2 * 4)
    assert fit.bic == pytest.approx(-2 * fit.loglik + math.log(fit.n_obs) * 4)
    frame = fit.to_frame()
    assert list(frame["effect"]) == ["fixed"] * 3 + ["ran_pars"]
    assert "z value" in fit.summary() and "Laplace" in fit.summary()
    assert "<table" in fit._repr_html_()
    re = fit.random_effects()
    assert list(re.columns) == ["group", "level", "term", "estimate", "std_error"]
    assert len(re) == 12 and (re["std_error"] > 0).all()


def test_predict_link_response_and_new_levels(fit, interactions):
    link = fit.predict(type="link")
    np.testing.assert_allclose(fit.predict(), np.exp(link))
    new = interactions.head(3)
    np.testing.assert_allclose(fit.predict(new, type="link"), link[:3])
    population = fit.predict(new, include_random=False, type="link")
    expected = fit.design.fixed[:3] @ fit.beta + np.log(new["minutes"].to_numpy())
    np.testing.assert_allclose(population, expected)
    unseen = new.assign(school="S99")
    with pytest.raises(DataError, match="allow_new_levels"):
        fit.predict(unseen)
    np.testing.assert_allclose(fit.predict(unseen, allow_new_levels=True, type="link"),
                               expected)
    with pytest.raises(OptionError):
        fit.predict(new, type="mean")


def test_array_offset_needs_offset_for_new_data(interactions):
    fit = glmm("negative ~ low_ses + (1 | school)", interactions,
               offset=np.log(interactions["minutes"].to_numpy()))
    new = interactions.head(4)
    with pytest.raises(DataError, match="offset="):
        fit.predict(new)
    got = fit.predict(new, offset=np.log(new["minutes"].to_numpy()))
    np.testing.assert_allclose(got, fit.predict()[:4])


def test_compare_is_a_likelihood_ratio_test(fit, interactions):
    smaller = glmm("negative ~ low_ses + offset(np.log(minutes)) + (1 | school)", interactions)
    table = smaller.compare(fit)
    assert list(table["n_parameters"]) == [3, 4]
    statistic = 2 * (fit.loglik - smaller.loglik)
    assert table["statistic"].iloc[1] == pytest.approx(statistic)
    assert 0 <= table["p_value"].iloc[1] < 0.05


def test_options_are_checked(interactions):
    with pytest.raises(OptionError, match="'poisson'"):
        glmm(FORMULA, interactions, family="gaussian")
    for bad in (0, 26, 2.5, True):
        with pytest.raises(OptionError, match="n_agq"):
            glmm(FORMULA, interactions, n_agq=bad)
    with pytest.raises(OptionError, match="single grouping factor"):
        glmm("negative ~ low_ses + (1 | school/classroom)", interactions, n_agq=5)
    with pytest.raises(OptionError, match="weights"):
        glmm(FORMULA, interactions, weights="minutes")
    with pytest.raises(FormulaError, match="random intercepts only"):
        glmm("negative ~ low_ses + (1 + low_ses | school)", interactions)
    with pytest.raises(DataError, match="not in the data"):
        glmm("negative ~ low_ses + (1 | school)", interactions, offset="log_minutes")
    with pytest.raises(DataError, match="one per row"):
        glmm("negative ~ low_ses + (1 | school)", interactions, offset=[0.0, 1.0])
    with pytest.raises(DataError, match="weights column"):
        glmm("negative ~ low_ses + (1 | school)", interactions, family="binomial",
             weights="trials")


def test_counts_must_be_counts_and_not_all_zero(interactions):
    with pytest.raises(EstimationError, match=r"all .* counts .* are zero"):
        glmm(FORMULA, interactions.assign(negative=0))
    with pytest.raises(DataError, match="whole numbers"):
        glmm(FORMULA, interactions.assign(negative=interactions["negative"] + 0.5))
    with pytest.raises(DataError, match="whole numbers"):
        glmm(FORMULA, interactions.assign(negative=-interactions["negative"]),
             family="negative_binomial")


def test_binomial_checks(interactions):
    data = interactions.assign(any_negative=(interactions["negative"] > 0).astype(int))
    fit = glmm("any_negative ~ low_ses + (1 | school)", data, family="binomial")
    assert fit.converged and np.all((fit.predict() > 0) & (fit.predict() < 1))
    with pytest.raises(EstimationError, match="no successes"):
        glmm("any_negative ~ low_ses + (1 | school)", data.assign(any_negative=0),
             family="binomial")
    with pytest.raises(DataError, match="between 0 and the number of trials"):
        glmm("cbind(negative, low_ses - negative) ~ 1 + (1 | school)", data, family="binomial")


def test_singular_fit_is_flagged():
    with pytest.warns(SingularFitWarning, match="singular"):
        fit = glmm("y ~ x + (1 | g)", _flat())
    assert fit.singular
    assert fit.variance_components["std_dev"].iloc[0] < 1e-4
    assert np.isfinite(fit.fixed_effects["std_error"]).all()


def test_separation_warns():
    data = _flat().assign(z=(np.arange(400) < 30).astype(int))
    data.loc[data["z"] == 1, "y"] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        with pytest.warns(DataWarning, match="separation"):
            glmm("y ~ x + z + (1 | g)", data)


def test_negative_binomial_without_overdispersion_warns():
    # binomial counts are underdispersed: the NB2 shape runs off to infinity (Poisson)
    rng = np.random.default_rng(5)
    data = _flat().assign(y=rng.binomial(4, 0.3, 400))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        with pytest.warns(DataWarning, match="no overdispersion"):
            fit = glmm("y ~ x + (1 | g)", data, family="negative_binomial")
        poisson = glmm("y ~ x + (1 | g)", data)
    assert fit.shape > 1e6
    np.testing.assert_allclose(fit.beta, poisson.beta, rtol=1e-4)
    assert fit.loglik == pytest.approx(poisson.loglik, abs=1e-3)


def test_non_convergence_warns(monkeypatch, interactions):
    stopped_early = functools.partial(fit_glmm, max_newton=1, polish=False)
    monkeypatch.setattr(generalized_mixed, "fit_glmm", stopped_early)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        fit = glmm(FORMULA, interactions)
    assert not fit.converged
    assert "did not converge" in fit.summary()


def test_rows_with_missing_values_are_dropped_with_the_offset_aligned(interactions):
    data = interactions.copy()
    data["low_ses"] = data["low_ses"].astype(float)
    data.loc[[3, 10, 50], "low_ses"] = np.nan
    fit = glmm("negative ~ low_ses + (1 | school)", data,
               offset=np.log(data["minutes"].to_numpy()))
    complete = data.dropna(subset=["low_ses"])
    reference = glmm("negative ~ low_ses + offset(np.log(minutes)) + (1 | school)", complete)
    assert fit.n_obs == len(interactions) - 3
    np.testing.assert_allclose(fit.beta, reference.beta, rtol=1e-8)
