"""glmm() for zero-inflated and NB1 counts and for GLMs, against R 4.2.2.

References: ``golden/glmm_counts_reference.json``, written by ``golden/glmm_counts_reference.R``
(glmmTMB 1.1.5 / TMB 1.9.2 for zero-inflated Poisson, NB2 and NB1 mixed models, the NB1 mixed
model and zero-inflated / NB1 GLMs; ``glm`` for Poisson and binomial GLMs; ``MASS::glm.nb``
7.3-58.2 for the NB2 GLM). Data: ``tests/data/zero_inflated_interactions.csv`` (written by
``golden/glmm_zero_inflated_data.py``), ``classroom_interactions.csv`` and ``cbpp.csv``.

Tolerances (relative): ``RTOL = 1e-4`` on fixed effects, zero-inflation coefficients, random
intercept standard deviations, the NB2 shape / NB1 dispersion and predictions; ``SE_RTOL =
3e-4`` on standard errors (ours come from a finite-difference Hessian of the Laplace deviance,
glmmTMB's from automatic differentiation; measured differences are below 7e-5);
log-likelihoods to ``LOGLIK_ATOL = 1e-5`` absolute, and the number of parameters exactly.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.mixed import glmm

HERE = Path(__file__).parent
DATA = HERE.parent / "data"
REF = json.loads((HERE / "golden" / "glmm_counts_reference.json").read_text())
RTOL = 1e-4
SE_RTOL = 3e-4
LOGLIK_ATOL = 1e-5

COUNT = "{y} ~ low_ses + offset(np.log(minutes)) + (1 | classroom)"
COUNT_GLM = "{y} ~ low_ses + offset(np.log(minutes))"
CASES = {
    "zip_intercept": (COUNT.format(y="negative_zip"), "zero", "poisson", "~ 1"),
    "zip_slope": (COUNT.format(y="negative_zip"), "zero", "poisson", "~ low_ses"),
    "zinb2_slope": (COUNT.format(y="negative_zinb"), "zero", "negative_binomial", "~ low_ses"),
    "zinb1_intercept": (COUNT.format(y="negative_zinb"), "zero", "negative_binomial_1", "~ 1"),
    "nb1_mixed": (COUNT.format(y="negative_nb1"), "zero", "negative_binomial_1", None),
    "zip_glm": (COUNT_GLM.format(y="negative_zip"), "zero", "poisson", "~ low_ses"),
    "nb1_glm": (COUNT_GLM.format(y="negative_nb1"), "zero", "negative_binomial_1", None),
    "poisson_glm": ("negative ~ low_ses + non_western + offset(np.log(minutes))", "classroom",
                    "poisson", None),
    "nb2_glm": ("negative_overdispersed ~ low_ses + non_western + offset(np.log(minutes))",
                "classroom", "negative_binomial", None),
    "binomial_glm": ("cbind(incidence, size - incidence) ~ period", "cbpp", "binomial", None),
}


@pytest.fixture(scope="module")
def datasets() -> dict[str, pd.DataFrame]:
    return {
        "zero": pd.read_csv(DATA / "zero_inflated_interactions.csv"),
        "classroom": pd.read_csv(DATA / "classroom_interactions.csv"),
        "cbpp": pd.read_csv(DATA / "cbpp.csv", dtype={"herd": str, "period": str}),
    }


def _rel(actual, expected) -> float:
    actual = np.atleast_1d(np.asarray(actual, float))
    expected = np.atleast_1d(np.asarray(expected, float))
    return float(np.max(np.abs(actual - expected) / np.abs(expected)))


@pytest.mark.parametrize("case", list(CASES))
def test_against_r(case, datasets):
    formula, data_name, family, zero_inflation = CASES[case]
    fit = glmm(formula, datasets[data_name], family=family, zero_inflation=zero_inflation)
    ref = REF[case]
    fe = fit.fixed_effects
    assert list(fe["term"]) == [t.replace("period", "period[T.") + "]" if t.startswith("period")
                                else t for t in ref["term"]]
    assert _rel(fe["estimate"], ref["estimate"]) < RTOL
    assert _rel(fe["std_error"], ref["std_error"]) < SE_RTOL
    assert abs(fit.loglik - ref["loglik"]) < LOGLIK_ATOL
    assert fit.n_parameters == ref["df"]
    assert fit.aic == pytest.approx(ref["aic"], rel=1e-8, abs=2 * LOGLIK_ATOL)
    assert fit.converged
    if "std_dev" in ref:
        assert fit.has_random_effects
        assert _rel(fit.variance_components["std_dev"], ref["std_dev"]) < RTOL
    else:
        assert not fit.has_random_effects and fit.variance_components.empty
    if "zi_estimate" in ref:
        zi = fit.zero_inflation
        assert list(zi["term"]) == ref["zi_term"] if isinstance(ref["zi_term"], list) \
            else list(zi["term"]) == [ref["zi_term"]]
        assert _rel(zi["estimate"], ref["zi_estimate"]) < RTOL
        assert _rel(zi["std_error"], ref["zi_std_error"]) < SE_RTOL
        assert _rel(fit.predict(type="zero_probability")[:5], ref["predict_zprob"]) < RTOL
    else:
        assert fit.zero_inflation is None
    if family == "negative_binomial":
        assert _rel(fit.shape, ref.get("theta") or ref["sigma"]) < RTOL
    if family == "negative_binomial_1":
        assert _rel(fit.dispersion, ref["sigma"]) < RTOL
    if "predict_response" in ref:
        assert _rel(fit.predict()[:5], ref["predict_response"]) < RTOL
        assert _rel(fit.predict(type="conditional")[:5], ref["predict_conditional"]) < RTOL
    else:
        assert _rel(fit.predict()[:5], ref["fitted_first"]) < RTOL


def test_glm_summary_and_tables(datasets):
    fit = glmm(CASES["nb2_glm"][0], datasets["classroom"], family="negative_binomial")
    text = fit.summary()
    assert text.startswith("Generalized linear model fit by maximum likelihood")
    assert "Random effects" not in text and "shape k = " in text
    frame = fit.to_frame()
    assert list(frame["effect"]) == ["fixed"] * 3 + ["dispersion"]
    assert "Variance components" not in fit._repr_html_()
    assert fit.bic == pytest.approx(REF["nb2_glm"]["bic"], rel=1e-8)


def test_zero_inflated_summary_and_tables(datasets):
    fit = glmm(CASES["zinb2_slope"][0], datasets["zero"], family="negative_binomial",
               zero_inflation="~ low_ses")
    text = fit.summary()
    assert "Zero-inflation model (~ low_ses, logit link):" in text
    assert text.index("Fixed effects:") < text.index("Zero-inflation model")
    frame = fit.to_frame()
    zi = frame.loc[frame["effect"] == "zero_inflation"]
    assert list(zi["term"]) == ["(Intercept)", "low_ses"]
    assert zi["std_error"].notna().all()
    assert "Zero-inflation model" in fit._repr_html_()
    newdata = datasets["zero"].head(4)
    assert np.allclose(fit.predict(newdata), fit.predict()[:4])
    assert np.allclose(fit.predict(newdata, type="zero_probability"),
                       fit.predict(type="zero_probability")[:4])


def test_options_checked(datasets):
    data = datasets["zero"]
    with pytest.raises(ValueError, match="zero_inflation is for count families"):
        glmm("negative_zip ~ low_ses + (1 | classroom)", data.assign(y=data.negative_zip > 0),
             family="binomial", zero_inflation="~ 1")
    with pytest.raises(ValueError, match="one-sided formula"):
        glmm(COUNT.format(y="negative_zip"), data, zero_inflation="negative_zip ~ 1 ~ 2")
    with pytest.raises(ValueError, match="fixed effects only"):
        glmm(COUNT.format(y="negative_zip"), data, zero_inflation="~ 1 + (1 | classroom)")
    with pytest.raises(ValueError, match="nothing to integrate"):
        glmm(COUNT_GLM.format(y="negative_zip"), data, n_agq=5)
    with pytest.raises(ValueError, match="'negative_binomial_1'"):
        glmm(COUNT.format(y="negative_zip"), data, family="nbinom1")


def test_zero_inflation_rows_with_missing_values_dropped(datasets):
    data = datasets["zero"].copy()
    data["low_ses_missing"] = data["low_ses"].astype(float)
    data.loc[:9, "low_ses_missing"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = glmm(COUNT_GLM.format(y="negative_zip"), data, zero_inflation="~ low_ses_missing")
    assert fit.n_obs == len(data) - 10


def test_zero_inflation_at_its_boundary_warns():
    # Poisson counts without structural zeros: the zero-inflation probability goes to zero
    from classdyad.errors import DataWarning

    rng = np.random.default_rng(11)
    x = rng.normal(size=400)
    data = pd.DataFrame({"x": x, "count": rng.poisson(np.exp(0.3 + 0.5 * x))})
    with pytest.warns(DataWarning, match="zero-inflation model '~ 1' is at its boundary"):
        fit = glmm("count ~ x", data, zero_inflation="~ 1")
    assert fit.predict(type="zero_probability").max() < 1e-3
