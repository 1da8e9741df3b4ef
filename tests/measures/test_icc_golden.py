"""The six Shrout & Fleiss ICCs against psych::ICC and the values published by Shrout & Fleiss.

Reference values: tests/measures/golden/icc_shrout_fleiss.R -> icc_shrout_fleiss.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import DataError, DataWarning, UndefinedStatisticWarning
from classdyad.measures import icc_from_matrix, intraclass_correlation

DATA = Path(__file__).parents[1] / "data"
GOLDEN = json.loads((Path(__file__).parent / "golden" / "icc_shrout_fleiss.json").read_text())


def _long(ratings: np.ndarray) -> pd.DataFrame:
    n, k = ratings.shape
    return pd.DataFrame({"target": np.repeat(np.arange(n), k), "rater": np.tile(np.arange(k), n),
                         "rating": ratings.ravel()})


@pytest.mark.parametrize("name", ["shrout_fleiss", "anxiety"])
def test_icc_matches_psych(name):
    case = GOLDEN[name]
    ratings = np.array(case["ratings"], dtype=float)
    table = intraclass_correlation(_long(ratings), target="target", rater="rater",
                                   rating="rating").to_frame()
    assert list(table["form"]) == case["form"]
    # tolerance: 1e-10 absolute (ANOVA mean squares, F quantiles from scipy vs R's qf)
    for ours, theirs in (("icc", "icc"), ("f", "f"), ("p_value", "p"), ("ci_lower", "lower"),
                         ("ci_upper", "upper")):
        np.testing.assert_allclose(table[ours], case[theirs], atol=1e-10, rtol=0)
    np.testing.assert_array_equal(table["df1"], case["df1"])
    np.testing.assert_array_equal(table["df2"], case["df2"])
    # psych's default (lmer = TRUE) variance components give the same coefficients here
    # tolerance: 1e-5 (lme4's optimiser)
    np.testing.assert_allclose(table["icc"], case["icc_lmer_default"], atol=1e-5)


def test_icc_matches_the_published_shrout_fleiss_table():
    ratings = np.array(GOLDEN["shrout_fleiss"]["ratings"], dtype=float)
    result = icc_from_matrix(ratings)
    # tolerance: Shrout & Fleiss (1979, Table 4) print two decimals
    np.testing.assert_array_equal(result.table["icc"].round(2),
                                  GOLDEN["shrout_fleiss"]["published"])
    assert result.icc("ICC3k") == pytest.approx(0.909315542377069, abs=1e-12)
    assert result.n_targets == 6 and result.n_raters == 4
    assert "Shrout" in result._repr_html_()


def test_anxiety_file_is_the_golden_matrix():
    anxiety = pd.read_csv(DATA / "irr_anxiety.csv")[["rater1", "rater2", "rater3"]]
    np.testing.assert_array_equal(anxiety.to_numpy(), GOLDEN["anxiety"]["ratings"])


def test_constant_ratings_are_nan_with_a_warning():
    with pytest.warns(UndefinedStatisticWarning, match="do not vary"):
        result = icc_from_matrix(np.ones((5, 2)))
    assert result.table["icc"].isna().all()
    assert result.table["ci_lower"].isna().all()


def test_incomplete_targets_are_left_out_with_a_warning():
    long = _long(np.array([[1.0, 2.0], [3.0, 3.0], [5.0, 4.0]])).iloc[:-1]
    with pytest.warns(DataWarning, match="1 target"):
        result = intraclass_correlation(long, target="target", rater="rater", rating="rating")
    assert result.n_targets == 2


def test_bad_inputs():
    long = _long(np.array([[1.0, 2.0], [3.0, 3.0]]))
    with pytest.raises(DataError, match="more than once"):
        intraclass_correlation(pd.concat([long, long]), target="target", rater="rater",
                               rating="rating")
    with pytest.raises(DataError, match="at least 2 targets"):
        icc_from_matrix(np.ones((1, 3)))
    with pytest.raises(DataError, match="'score'"):
        intraclass_correlation(long, target="target", rater="rater", rating="score")
    with pytest.raises(DataError, match="ICC form"):
        icc_from_matrix(np.array([[1.0, 2.0], [3.0, 3.0], [4.0, 6.0]])).icc("ICC4")
