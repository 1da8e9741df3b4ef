"""Degenerate input to lmm and glmm: a clear DataError or EstimationError, never a crash."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import (
    ClassdyadWarning,
    DataError,
    DataWarning,
    EstimationError,
    FormulaError,
)
from classdyad.mixed import glmm, lmm


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 200
    frame = pd.DataFrame({"g": np.repeat(np.arange(20), 10).astype(str),
                          "x": rng.normal(size=n), "minutes": rng.uniform(10, 50, n)})
    frame["y"] = frame["x"] + rng.normal(size=n) + np.repeat(rng.normal(size=20), 10)
    frame["count"] = rng.poisson(2, size=n)
    return frame


def _with(data: pd.DataFrame, column: str, row: int, value: float) -> pd.DataFrame:
    changed = data.copy()
    changed.loc[row, column] = value
    return changed


def test_a_constant_outcome_is_refused(data: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"'y' is constant \(3.0 in all 200 rows"):
        lmm("y ~ x + (1 | g)", data.assign(y=3.0))


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_an_infinite_outcome_names_the_row(data: pd.DataFrame, value: float) -> None:
    with pytest.raises(DataError, match=r"'y' is infinite in 1 row\(s\) \(rows 5\)"):
        lmm("y ~ x + (1 | g)", _with(data, "y", 5, value))


@pytest.mark.parametrize("fit", ["lmm", "glmm"])
def test_an_infinite_predictor_names_the_column(data: pd.DataFrame, fit: str) -> None:
    changed = _with(data, "x", 7, np.inf)
    with pytest.raises(FormulaError, match=r"\['x'\] have non-finite values"):
        if fit == "lmm":
            lmm("y ~ x + (1 | g)", changed)
        else:
            glmm("count ~ x + (1 | g)", changed, family="poisson")


def test_zero_minutes_under_a_log_offset_names_the_rows(data: pd.DataFrame) -> None:
    changed = _with(data, "minutes", 3, 0.0)
    with (pytest.raises(DataError, match=r"rows 3\): zero or negative exposure"),
          np.errstate(divide="ignore")):
        glmm("count ~ x + offset(np.log(minutes)) + (1 | g)", changed, family="poisson")


def test_an_offset_given_as_an_array_is_checked_too(data: pd.DataFrame) -> None:
    offset = np.log(data["minutes"].to_numpy())
    offset[9] = -np.inf
    with pytest.raises(DataError, match="zero or negative exposure"):
        glmm("count ~ x + (1 | g)", data, family="poisson", offset=offset)


def test_counts_that_overflow_the_likelihood_are_refused(data: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"above 1e\+09 the count likelihood overflows"):
        glmm("count ~ x + (1 | g)", data.assign(count=data["count"] * 10**12),
             family="poisson")


@pytest.mark.parametrize("fit", ["lmm", "glmm"])
def test_a_grouping_factor_with_one_level_is_refused_as_lme4_does(data: pd.DataFrame,
                                                                  fit: str) -> None:
    one = data.assign(g="only")
    with pytest.raises(DataError, match="grouping factors must have > 1 sampled level"):
        if fit == "lmm":
            lmm("y ~ x + (1 | g)", one)
        else:
            glmm("count ~ x + (1 | g)", one, family="poisson")


def test_as_many_levels_as_rows_is_refused(data: pd.DataFrame) -> None:
    with pytest.raises(FormulaError, match="must be < number of"):
        lmm("y ~ x + (1 | g)", data.assign(g=np.arange(len(data)).astype(str)))


def test_a_predictor_far_from_zero_warns_and_never_fails_silently(data: pd.DataFrame) -> None:
    shifted = data.assign(x=data["x"] + 1e9)
    with pytest.warns(ClassdyadWarning) as caught:
        try:
            lmm("y ~ x + (1 | g)", shifted)
        except EstimationError as error:  # a numerical failure says what to try
            assert "Try centring and scaling" in str(error)
    messages = [str(w.message) for w in caught]
    assert any("['x'] lie more than 1e+04 standard" in m for m in messages)


def test_a_moderately_shifted_predictor_warns_and_centring_cures_it(data: pd.DataFrame) -> None:
    shifted = data.assign(x=data["x"] * 0.01 + 2026.0)
    with pytest.warns(ClassdyadWarning) as caught:
        lmm("y ~ x + (1 | g)", shifted)
    assert any(isinstance(w.message, DataWarning) and "centre them" in str(w.message)
               for w in caught)
    centred = lmm("y ~ x + (1 | g)", shifted.assign(x=shifted["x"] - 2026.0))
    assert np.isfinite(centred.fixed_effects["estimate"]).all()


def test_two_factors_with_the_same_groups_warn_that_their_variances_are_not_identifiable(
        data: pd.DataFrame) -> None:
    with pytest.warns(ClassdyadWarning) as caught:
        lmm("y ~ x + (1 | g) + (1 | h)", data.assign(h="h" + data["g"]))
    assert any(isinstance(w.message, DataWarning) and "not separately identifiable"
               in str(w.message) for w in caught)


def test_uncorrelated_slopes_of_one_factor_do_not_warn(data: pd.DataFrame) -> None:
    fit = lmm("y ~ x + (x || g)", data)
    assert fit.n_obs == len(data)
