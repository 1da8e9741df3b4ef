"""lmm(): degenerate input, options, result methods and recovery of known parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import (
    ConvergenceWarning,
    DataError,
    DataWarning,
    FormulaError,
    OptionError,
    SingularFitWarning,
)
from classdyad.mixed import LinearMixedModelResult, lmm
from classdyad.mixed import _linear_mixed_optimiser as optimiser_module
from classdyad.mixed._satterthwaite import satterthwaite_state

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "sleepstudy.csv")
    frame["Subject"] = frame["Subject"].astype(str)
    return frame


@pytest.fixture(scope="module")
def sleep_fit(sleep) -> LinearMixedModelResult:
    return lmm("Reaction ~ Days + (Days | Subject)", sleep)


def test_singular_fit_is_flagged_and_warned():
    rng = np.random.default_rng(1)  # no group effect: the REML estimate is exactly zero
    data = pd.DataFrame({"y": rng.normal(size=60), "x": rng.normal(size=60),
                         "g": np.repeat(np.arange(6), 10)})
    with pytest.warns(SingularFitWarning, match="singular"):
        fit = lmm("y ~ x + (1 | g)", data)
    assert fit.singular
    assert fit.theta[0] == 0.0
    assert fit.variance_components.loc[0, "variance"] == 0.0
    # lme4 1.1-31 on the same data: logLik -78.45319, isSingular TRUE
    assert fit.loglik == pytest.approx(-78.45319, abs=1e-5)
    assert "singular" in fit.summary()


def test_a_group_with_one_observation_is_fine(sleep):
    data = sleep[(sleep["Subject"] != "308") | (sleep["Days"] == 0)]
    fit = lmm("Reaction ~ Days + (1 | Subject)", data)
    assert fit.n_obs == 171 and fit.converged and not fit.singular


def test_every_group_with_one_observation_is_an_error(sleep):
    data = sleep.assign(row=np.arange(len(sleep)))
    with pytest.raises(FormulaError, match="number of levels"):
        lmm("Reaction ~ Days + (1 | row)", data)


def test_collinear_predictor_is_dropped_as_lme4_does(sleep, sleep_fit):
    data = sleep.assign(weeks=sleep["Days"] / 7)
    with pytest.warns(DataWarning, match="weeks"):
        fit = lmm("Reaction ~ Days + weeks + (Days | Subject)", data)
    assert list(fit.fixed_effects["term"]) == ["(Intercept)", "Days"]
    np.testing.assert_allclose(fit.beta, sleep_fit.beta, rtol=1e-8)


def test_non_convergence_is_warned_and_flagged(sleep, monkeypatch):
    monkeypatch.setattr(optimiser_module, "_MAX_ITERATIONS", 1)
    monkeypatch.setattr(optimiser_module, "_NEWTON_STEPS", 0)
    # from lme4's start (not the moment estimates, which are close to this optimum)
    monkeypatch.setattr(optimiser_module.PenalizedLeastSquares, "moment_start",
                        lambda self: self.theta_start.copy())
    with pytest.warns(ConvergenceWarning) as record:
        fit = lmm("Reaction ~ Days + (Days | Subject)", sleep)
    assert any("stopped before reaching its tolerance" in str(w.message) for w in record)
    assert not fit.converged


def test_options_and_inputs_are_checked(sleep):
    with pytest.raises(OptionError, match="reml"):
        lmm("Reaction ~ Days + (1 | Subject)", sleep, reml="yes")
    with pytest.raises(DataError, match="confidence_level"):
        lmm("Reaction ~ Days + (1 | Subject)", sleep, confidence_level=95)
    with pytest.raises(FormulaError, match="random-effects"):
        lmm("Reaction ~ Days", sleep)
    with pytest.raises(FormulaError, match="not in the data"):
        lmm("Reaction ~ Days + (1 | subject)", sleep)


def test_missing_values_are_dropped(sleep, sleep_fit):
    data = sleep.copy()
    data.loc[[0, 5], "Reaction"] = np.nan
    fit = lmm("Reaction ~ Days + (Days | Subject)", data)
    assert fit.n_obs == sleep_fit.n_obs - 2


def test_reference_level_changes_the_coding_not_the_fit():
    rng = np.random.default_rng(5)
    n = 400
    data = pd.DataFrame({"group": rng.integers(0, 20, n), "sex": rng.choice(["f", "m"], n)})
    data["y"] = (data["sex"] == "m") * 2.0 + rng.normal(size=20)[data["group"]] + rng.normal(
        size=n)
    default = lmm("y ~ sex + (1 | group)", data)
    other = lmm("y ~ sex + (1 | group)", data, reference={"sex": "m"})
    assert list(other.fixed_effects["term"]) == ["(Intercept)", "sex[T.f]"]
    assert other.beta[1] == pytest.approx(-default.beta[1], rel=1e-6)
    assert other.loglik == pytest.approx(default.loglik, abs=1e-7)


def test_confidence_intervals_use_satterthwaite_t(sleep_fit):
    from scipy import stats

    row = sleep_fit.fixed_effects.iloc[1]
    half = stats.t.ppf(0.975, row["df"]) * row["std_error"]
    assert row["ci_low"] == pytest.approx(row["estimate"] - half)
    assert row["ci_high"] == pytest.approx(row["estimate"] + half)


def test_result_tables_and_displays(sleep_fit):
    frame = sleep_fit.to_frame()
    assert list(frame.columns[:3]) == ["effect", "group", "term"]
    assert set(frame["effect"]) == {"fixed", "ran_pars"}
    assert "cor__(Intercept).Days" in set(frame["term"])
    assert "sd__Observation" in set(frame["term"])
    text = sleep_fit.summary()
    assert "Random effects:" in text and "Fixed effects:" in text and "Subject" in text
    assert "<table" in sleep_fit._repr_html_()
    effects = sleep_fit.random_effects()
    assert list(effects.columns) == ["group", "level", "term", "estimate", "std_error"]
    assert len(effects) == 36
    assert dict(sleep_fit.n_groups) == {"Subject": 18}
    with pytest.raises(AttributeError):
        sleep_fit.loglik = 0.0  # frozen


def test_predict_requires_known_levels(sleep_fit):
    new = pd.DataFrame({"Days": [1.0], "Subject": ["unknown"]})
    with pytest.raises(DataError, match="allow_new_levels"):
        sleep_fit.predict(new)
    fixed_only = sleep_fit.predict(new, include_random=False)
    assert fixed_only[0] == pytest.approx(sleep_fit.beta[0] + sleep_fit.beta[1])


def test_compare_needs_the_same_rows(sleep, sleep_fit):
    other = lmm("Reaction ~ Days + (1 | Subject)", sleep.iloc[:-5])
    with pytest.raises(DataError, match="same rows"):
        sleep_fit.compare(other)


def test_known_parameters_are_recovered_nested_design():
    rng = np.random.default_rng(2026)
    schools, classes_per_school, students = 40, 4, 12
    classroom = np.repeat(np.arange(schools * classes_per_school), students)
    school = classroom // classes_per_school
    n = classroom.size
    x = rng.normal(size=n)
    y = (1.0 + 0.5 * x + rng.normal(0, 0.8, schools)[school]
         + rng.normal(0, 0.6, schools * classes_per_school)[classroom] + rng.normal(0, 1, n))
    data = pd.DataFrame({"y": y, "x": x, "school": school, "classroom": classroom})
    fit = lmm("y ~ x + (1 | school/classroom)", data)
    vc = fit.variance_components.set_index("group")["std_dev"]
    assert fit.beta[1] == pytest.approx(0.5, abs=0.05)
    assert vc["school"] == pytest.approx(0.8, abs=0.25)
    assert vc["school:classroom"] == pytest.approx(0.6, abs=0.15)
    assert vc["Residual"] == pytest.approx(1.0, abs=0.05)


def test_fixed_effect_tests_are_the_tables_numbers():
    """The array view of the t tests equals the table, and the vectorised degrees of freedom
    equal the per-contrast ones."""
    rng = np.random.default_rng(5)
    classes = np.repeat(np.arange(12), 15)
    data = pd.DataFrame({"g": classes.astype(str), "x": rng.normal(size=classes.size),
                         "z": rng.normal(size=12)[classes]})
    data["y"] = 1.0 + 0.5 * data["x"] + 0.3 * data["z"] + rng.normal(size=12)[classes] \
        + rng.normal(size=classes.size)
    fit = lmm("y ~ x + z + (1 | g)", data)
    tests = fit.fixed_effect_tests()
    table = fit.fixed_effects
    assert tests.terms == tuple(table["term"])
    for column in ("estimate", "std_error", "df", "statistic", "p_value"):
        np.testing.assert_array_equal(getattr(tests, column), table[column].to_numpy())
    state = fit.prepared
    assert state is not None
    satt = satterthwaite_state(state.pls, fit.theta, fit.sigma, reml=True)
    single = [satt.df(np.eye(3)[i]) for i in range(3)]
    np.testing.assert_allclose(satt.term_df(), single, rtol=1e-13)
    assert fit.fixed_effect_tests() is tests  # computed once
