"""Zero-inflated and NB1 models recover the known truth of simulated counts.

``tests/data/zero_inflated_interactions.csv`` was simulated (fixed seed) by
``golden/glmm_zero_inflated_data.py`` with count intercept -2.5, low_ses 0.4, classroom sd 0.35,
zero-inflation logit -1.0 + 0.8 low_ses, NB2 shape 3 and NB1 dispersion 0.8. Each estimate must
lie within 3 standard errors of its true value (variance parameters, which have no standard
error here, within 35 % relative).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.mixed import glmm

DATA = Path(__file__).parents[1] / "data" / "zero_inflated_interactions.csv"
COUNT = {"(Intercept)": -2.5, "low_ses": 0.4}
ZERO = {"(Intercept)": -1.0, "low_ses": 0.8}


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(DATA)


def _within_three_se(table: pd.DataFrame, truth: dict[str, float]) -> None:
    for rec in table.itertuples(index=False):
        assert abs(rec.estimate - truth[rec.term]) < 3 * rec.std_error, rec.term


@pytest.mark.parametrize(("response", "family"), [("negative_zip", "poisson"),
                                                  ("negative_zinb", "negative_binomial")])
def test_zero_inflated_models_recover_truth(data, response, family):
    fit = glmm(f"{response} ~ low_ses + offset(np.log(minutes)) + (1 | classroom)", data,
               family=family, zero_inflation="~ low_ses")
    _within_three_se(fit.fixed_effects, COUNT)
    _within_three_se(fit.zero_inflation, ZERO)
    assert fit.variance_components["std_dev"].iloc[0] == pytest.approx(0.35, rel=0.35)
    if family == "negative_binomial":
        assert fit.shape == pytest.approx(3.0, rel=0.35)


def test_nb1_recovers_dispersion(data):
    fit = glmm("negative_nb1 ~ low_ses + offset(np.log(minutes)) + (1 | classroom)", data,
               family="negative_binomial_1")
    _within_three_se(fit.fixed_effects, COUNT)
    assert fit.dispersion == pytest.approx(0.8, rel=0.35)
    assert np.isnan(fit.shape)


def test_ignoring_zero_inflation_biases_the_rate(data):
    # the point of the model: a Poisson fit that ignores the structural zeros underestimates
    # the rate and gets the low_ses effect wrong (structural zeros are more common there)
    plain = glmm("negative_zip ~ low_ses + offset(np.log(minutes)) + (1 | classroom)", data)
    intercept = plain.fixed_effects.set_index("term").loc["(Intercept)"]
    assert intercept["estimate"] < -2.5 - 3 * intercept["std_error"]


def test_adaptive_quadrature_with_zero_inflation_refines_laplace(data):
    formula = "negative_zip ~ low_ses + offset(np.log(minutes)) + (1 | classroom)"
    laplace = glmm(formula, data, zero_inflation="~ low_ses")
    quadrature = glmm(formula, data, zero_inflation="~ low_ses", n_agq=15)
    assert quadrature.loglik == pytest.approx(laplace.loglik, abs=0.1)
    assert np.allclose(quadrature.zero_inflation["estimate"], laplace.zero_inflation["estimate"],
                       atol=0.01)
    assert "nAGQ = 15" in quadrature.summary()
