"""LinearMixedModelResult.refit: a new response on the same design equals a fresh lmm fit."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import DataError, DataWarning, FormulaError, SingularFitWarning
from classdyad.mixed import lmm
from classdyad.mixed._mixed_results import Deferred

DATA = Path(__file__).parents[1] / "data"
RTOL = 1e-8  # both fits end with Newton steps to a projected gradient of 1e-7

REPLICA = ("teacher_closeness ~ negative_rate + positive_rate + low_ses + non_western + "
           "factor(wave) + (1 | school/classroom) + (1 | student)")


def _frame(name: str) -> pd.DataFrame:
    frame = pd.read_csv(DATA / f"{name}.csv")
    if name == "sleepstudy":
        frame["Subject"] = frame["Subject"].astype(str)
    if name == "replica_student_wave":
        frame = frame.dropna(subset=["teacher_closeness", "negative_rate", "positive_rate",
                                     "low_ses", "non_western"]).reset_index(drop=True)
    return frame


# (data, formula, response column, tolerance): a single intercept (1-d Newton), a correlated
# slope (2 x 2 blocks), nested intercepts with a second elimination and a zero school variance
# (the replica), a slope term beside an intercept term (several terms, 2 x 2 factor); in the
# last the draw puts the school slope's variance at zero, where the optimiser works with
# finite-difference derivatives (the optimum is then found to about 1e-7)
CASES = [
    ("sleepstudy", "Reaction ~ Days + (1 | Subject)", "Reaction", RTOL),
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)", "Reaction", RTOL),
    ("replica_student_wave", REPLICA, "teacher_closeness", RTOL),
    ("classroom", "mathgain ~ mathkind + ses + (1 + ses | schoolid) + (1 | classid)", "mathgain",
     1e-7),
]


def _bootstrap_response(fit, rng: np.random.Generator) -> np.ndarray:
    """A parametric-bootstrap draw: fitted values plus noise of the residual size."""
    return fit.predict() + rng.normal(0.0, fit.sigma, fit.n_obs)


def _assert_same_fit(refitted, fresh, rtol: float = RTOL) -> None:
    # theta to 1e-8 away from zero; at a zero bound the deviance is flat to rounding (it moves
    # by ~1e-13 when a theta of 1e-6 goes to zero), so there the variances are compared
    interior = np.abs(fresh.theta) > 1e-4
    np.testing.assert_allclose(refitted.theta[interior], fresh.theta[interior], rtol=rtol)
    np.testing.assert_allclose(refitted.beta, fresh.beta, rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(refitted.sigma, fresh.sigma, rtol=rtol)
    np.testing.assert_allclose(refitted.loglik, fresh.loglik, rtol=1e-10)
    assert refitted.singular == fresh.singular and refitted.converged == fresh.converged
    pd.testing.assert_frame_equal(refitted.variance_components, fresh.variance_components,
                                  rtol=rtol, atol=1e-10 * fresh.sigma**2)
    for column in ("estimate", "std_error", "df", "statistic"):
        np.testing.assert_allclose(refitted.fixed_effects[column], fresh.fixed_effects[column],
                                   rtol=1e-6)
    np.testing.assert_allclose(refitted.random_effects()["estimate"],
                               fresh.random_effects()["estimate"], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
@pytest.mark.parametrize("case", CASES, ids=["intercept", "slope", "replica", "two-terms"])
def test_refit_equals_a_fresh_fit_on_the_new_response(case, reml):
    name, formula, column, rtol = case
    data = _frame(name)
    rng = np.random.default_rng(20261206)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        fit = lmm(formula, data, reml=reml)
        response = _bootstrap_response(fit, rng)
        refitted = fit.refit(response)
        fresh = lmm(formula, data.assign(**{column: response}), reml=reml)
    assert refitted.method == fit.method
    np.testing.assert_array_equal(refitted.design.response, response)
    _assert_same_fit(refitted, fresh, rtol)
    # the original result is untouched
    np.testing.assert_array_equal(fit.design.response, data[column].to_numpy(dtype=float))


def test_refit_of_a_refit_and_of_a_transformed_response_with_offset():
    data = _frame("sleepstudy").assign(exposure=lambda d: 1.0 + d["Days"] / 10.0)
    formula = "np.log(Reaction) ~ Days + offset(np.log(exposure)) + (1 | Subject)"
    fit = lmm(formula, data)
    rng = np.random.default_rng(7)
    log_response = np.log(data["Reaction"].to_numpy()) + rng.normal(0.0, 0.05, len(data))
    refitted = fit.refit(np.log(data["Reaction"].to_numpy())).refit(log_response)
    fresh = lmm(formula, data.assign(Reaction=np.exp(log_response)))
    _assert_same_fit(refitted, fresh)


def test_refit_supports_compare_by_ml():
    data = _frame("sleepstudy")
    small = lmm("Reaction ~ Days + (1 | Subject)", data)
    large = lmm("Reaction ~ Days + (Days | Subject)", data)
    response = _bootstrap_response(small, np.random.default_rng(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)  # no slope variance in the draw
        table = small.refit(response).compare(large.refit(response))
        fresh = lmm("Reaction ~ Days + (1 | Subject)", data.assign(Reaction=response)).compare(
            lmm("Reaction ~ Days + (Days | Subject)", data.assign(Reaction=response)))
    np.testing.assert_allclose(table["statistic"].iloc[1], fresh["statistic"].iloc[1], rtol=1e-6)


@pytest.mark.parametrize("response", [np.zeros(10), np.full(180, np.nan), np.zeros((180, 1))],
                         ids=["length", "missing", "shape"])
def test_refit_rejects_a_response_that_does_not_fit_the_rows(response):
    fit = lmm("Reaction ~ Days + (1 | Subject)", _frame("sleepstudy"))
    with pytest.raises(DataError, match="refit"):
        fit.refit(response)


def test_satterthwaite_and_modes_are_computed_when_first_read():
    fit = lmm("Reaction ~ Days + (Days | Subject)", _frame("sleepstudy"))
    assert isinstance(fit.__dict__["fixed_effects"], Deferred)
    assert isinstance(fit.__dict__["conditional_modes"], Deferred)
    table = fit.fixed_effects
    assert fit.fixed_effects is table  # computed once, then kept
    assert not isinstance(fit.__dict__["fixed_effects"], Deferred)
    assert fit.conditional_modes[0].shape == (18, 2)
    with pytest.raises(AttributeError):
        fit.fixed_effects = table  # frozen as before


# ------------------------------------------------------------------ refit_with


def _replica_columns() -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    frame = _frame("replica_student_wave")
    frame["late"] = (frame["wave"] > 1).astype(float)
    frame["negative_twice"] = 2.0 * frame["negative_rate"]
    return frame, {name: frame[name].to_numpy(dtype=float)
                   for name in ["negative_rate", "positive_rate", "low_ses", "late",
                                "negative_twice", "teacher_closeness"]}


REPLICA_RANDOM = " + (1 | classroom) + (1 | student)"


def test_refit_with_equals_lmm_on_the_same_rows_bit_for_bit() -> None:
    frame, columns = _replica_columns()
    first = lmm("negative_rate ~ 1 + low_ses + late" + REPLICA_RANDOM, frame)
    formula = "teacher_closeness ~ 1 + negative_rate + positive_rate + low_ses" + REPLICA_RANDOM
    fixed = {"(Intercept)": np.ones(len(frame)), "negative_rate": columns["negative_rate"],
             "positive_rate": columns["positive_rate"], "low_ses": columns["low_ses"]}
    derived = first.refit_with(formula, columns["teacher_closeness"], fixed)
    fresh = lmm(formula, frame)
    # the same matrices, so the same computation: equal, not merely close
    assert derived.formula == fresh.formula and derived.design.fixed_names == \
        fresh.design.fixed_names
    assert np.array_equal(derived.design.fixed, fresh.design.fixed)
    assert np.array_equal(derived.theta, fresh.theta) and np.array_equal(derived.beta,
                                                                          fresh.beta)
    assert derived.deviance == fresh.deviance and derived.sigma == fresh.sigma
    pd.testing.assert_frame_equal(derived.fixed_effects, fresh.fixed_effects)
    # new data: the fixed part is rebuilt from the named columns
    np.testing.assert_array_equal(derived.design.fixed_matrix(frame.iloc[:7]),
                                  fresh.design.fixed_matrix(frame.iloc[:7]))


def test_refit_with_drops_collinear_columns_as_lmm_does() -> None:
    frame, columns = _replica_columns()
    first = lmm("negative_rate ~ 1 + low_ses" + REPLICA_RANDOM, frame)
    formula = "teacher_closeness ~ 1 + negative_rate + negative_twice" + REPLICA_RANDOM
    fixed = {"(Intercept)": np.ones(len(frame)), "negative_rate": columns["negative_rate"],
             "negative_twice": columns["negative_twice"]}
    with pytest.warns(DataWarning, match="negative_twice"):
        derived = first.refit_with(formula, columns["teacher_closeness"], fixed)
    with pytest.warns(DataWarning, match="negative_twice"):
        fresh = lmm(formula, frame)
    assert derived.design.fixed_names == fresh.design.fixed_names == ("(Intercept)",
                                                                      "negative_rate")
    assert np.array_equal(derived.beta, fresh.beta)


@pytest.mark.parametrize(("formula", "names", "length", "message"), [
    ("teacher_closeness ~ 1 + low_ses + (1 | classroom)", ["(Intercept)", "low_ses"], None,
     "other random-effects"),
    ("teacher_closeness ~ 1 + low_ses" + REPLICA_RANDOM, ["low_ses", "(Intercept)"], None,
     "in the formula's order"),
    ("teacher_closeness ~ 1 + factor(wave)" + REPLICA_RANDOM, ["(Intercept)"], None,
     "not a column name"),
    ("teacher_closeness ~ 1 + low_ses" + REPLICA_RANDOM, ["(Intercept)", "low_ses"], 5,
     "one value of"),
])
def test_refit_with_refuses_what_it_cannot_build(formula, names, length, message) -> None:
    frame, columns = _replica_columns()
    first = lmm("negative_rate ~ 1 + low_ses" + REPLICA_RANDOM, frame)
    n = len(frame) if length is None else length
    fixed = {name: np.ones(n) if name == "(Intercept)" else columns[name][:n] for name in names}
    with pytest.raises(FormulaError if length is None else DataError, match=message):
        first.refit_with(formula, columns["teacher_closeness"], fixed)
