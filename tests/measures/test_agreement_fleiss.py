"""Fleiss' and Conger's kappa, the z test of Cohen's kappa and user weights, against irr.

Reference values: tests/measures/golden/agreement_irr.R -> agreement_irr.json (irr 0.84.1,
psych 2.2.9, R 4.2.2).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import DataError, UndefinedStatisticWarning
from classdyad.measures import (
    cohen_kappa,
    confusion_matrix,
    fleiss_kappa,
    fleiss_kappa_from_counts,
    kappa_from_table,
    weight_matrix,
)

GOLDEN = json.loads((Path(__file__).parent / "golden" / "agreement_irr.json").read_text())
# tolerance: 1e-10 absolute throughout (closed-form statistics in double precision), except
# irr's shipped per-category table, which irr rounds to 3 decimals (5e-4 + 1e-12).
TOL = 1e-10


def _long(case: dict) -> pd.DataFrame:
    ratings = case["ratings"]
    return pd.DataFrame([
        {"unit": unit, "coder": f"coder{c}", "code": code}
        for c, column in enumerate(ratings) for unit, code in enumerate(column)])


@pytest.mark.parametrize("name", ["diagnoses", "anxiety"])
def test_fleiss_and_conger_kappa_match_irr(name):
    case = GOLDEN["fleiss"][name]
    data = _long(case)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = fleiss_kappa(data, unit="unit", coder="coder", value="code",
                              categories=case["levels"])
    assert result.kappa == pytest.approx(case["kappa"], abs=TOL)
    assert result.se == pytest.approx(case["se"], abs=TOL)
    assert result.z == pytest.approx(case["z"], abs=1e-8)
    assert result.p_value == pytest.approx(case["p_value"], abs=TOL)
    assert result.observed_agreement == pytest.approx(case["P_bar"], abs=TOL)
    assert result.expected_agreement == pytest.approx(case["P_e"], abs=TOL)
    assert result.conger_kappa == pytest.approx(case["conger_kappa_shipped"], abs=TOL)
    assert result.conger_expected_agreement == pytest.approx(case["conger_P_e"], abs=TOL)
    assert (result.n_units, result.n_coders) == (case["subjects"], case["raters"])
    table = result.categories
    assert list(table["category"].astype(str)) == case["levels"]
    np.testing.assert_allclose(table["kappa"], case["category_kappa"], atol=TOL)
    np.testing.assert_allclose(table["z"], case["category_z"], atol=1e-8)
    np.testing.assert_allclose(table["p_value"], case["category_p_value"], atol=TOL)
    np.testing.assert_allclose(table["kappa"], case["category_kappa_rounded"], atol=5e-4 + 1e-12)


def test_fleiss_kappa_from_counts_matches_irr_and_the_published_example():
    case = GOLDEN["fleiss"]["wikipedia"]
    counts = pd.DataFrame(case["counts"], columns=[f"cat{j + 1}" for j in range(5)])
    result = fleiss_kappa_from_counts(counts)
    assert result.kappa == pytest.approx(case["kappa"], abs=TOL)
    assert result.kappa == pytest.approx(0.210, abs=5e-4)  # Wikipedia's worked example
    assert result.observed_agreement == pytest.approx(case["P_bar"], abs=TOL)
    assert result.expected_agreement == pytest.approx(case["P_e"], abs=TOL)
    assert result.se == pytest.approx(case["se"], abs=TOL)
    np.testing.assert_allclose(result.categories["kappa"], case["category_kappa"], atol=TOL)
    assert np.isnan(result.conger_kappa)
    assert result.n_coders == 14


def test_counts_and_codes_give_the_same_fleiss_kappa():
    case = GOLDEN["fleiss"]["diagnoses"]
    from_codes = fleiss_kappa(_long(case), unit="unit", coder="coder", value="code")
    from_counts = fleiss_kappa_from_counts(from_codes.counts)
    assert from_counts.kappa == pytest.approx(from_codes.kappa, abs=1e-14)
    frame = from_codes.to_frame()
    assert frame["category"].iloc[-1] == "(all)"
    assert frame["kappa"].iloc[-1] == from_codes.kappa
    assert "Conger" in from_codes._repr_html_()


def test_two_coders_conger_kappa_is_cohen_kappa():
    # Conger's exact kappa generalises Cohen's; with two coders they coincide
    case = GOLDEN["fleiss"]["diagnoses"]
    data = _long(case)
    two = data[data["coder"].isin(["coder0", "coder1"])]
    result = fleiss_kappa(two, unit="unit", coder="coder", value="code")
    wide = two.pivot(index="unit", columns="coder", values="code")
    cohen = cohen_kappa(wide, rater_a="coder0", rater_b="coder1")
    assert result.conger_kappa == pytest.approx(cohen.kappa, abs=1e-12)


def test_fleiss_kappa_worked_example():
    counts = np.array([[3, 0], [0, 3], [2, 1], [1, 2]])
    result = fleiss_kappa_from_counts(counts)
    # P_bar = (1 + 1 + 1/3 + 1/3) / 4 = 2/3, P_e = 1/2
    assert result.observed_agreement == pytest.approx(2 / 3)
    assert result.expected_agreement == pytest.approx(0.5)
    assert result.kappa == pytest.approx(1 / 3)


@pytest.mark.parametrize("index", range(len(GOLDEN["kappa2"])))
def test_kappa_z_test_and_weights_match_irr_kappa2(index):
    case = GOLDEN["kappa2"][index]
    codes = pd.DataFrame({"a": case["rater_a"], "b": case["rater_b"]})
    k = len(case["levels"])
    weight = case["weight"]
    if isinstance(weight, list):  # irr's numeric weights: a function of the distance |i - j|
        v = np.asarray(weight, dtype=float)
        by_distance = 1 - (v - v.min()) / (v.max() - v.min())
        weights = by_distance[np.abs(np.subtract.outer(np.arange(k), np.arange(k)))]
    else:
        weights = {"unweighted": "none", "equal": "linear", "squared": "quadratic"}[weight]
    result = cohen_kappa(codes, rater_a="a", rater_b="b", categories=case["levels"],
                         weights=weights)
    assert result.kappa == pytest.approx(case["kappa"], abs=TOL)
    assert result.z == pytest.approx(case["z"], abs=1e-8)
    assert result.p_value == pytest.approx(case["p_value"], abs=TOL)
    assert result.weights == ("custom" if isinstance(weight, list) else weights)


def test_user_weight_matrix_matches_psych_and_the_null_variance():
    case = GOLDEN["user_matrix"]
    levels = case["levels"]
    diagnoses = GOLDEN["fleiss"]["diagnoses"]["ratings"]
    codes = pd.DataFrame({"a": diagnoses[0], "b": diagnoses[1]})
    matrix = np.asarray(case["weights"], dtype=float)
    result = cohen_kappa(codes, rater_a="a", rater_b="b", categories=levels, weights=matrix)
    assert result.kappa == pytest.approx(case["psych_weighted_kappa"], abs=TOL)
    assert result.se_null == pytest.approx(case["se_null"], abs=TOL)
    assert result.z == pytest.approx(case["z"], abs=1e-8)
    # a labelled matrix is put in the categories' order
    labelled = pd.DataFrame(matrix, index=levels, columns=levels).iloc[::-1, ::-1]
    again = cohen_kappa(codes, rater_a="a", rater_b="b", categories=levels, weights=labelled)
    assert again.kappa == pytest.approx(result.kappa, abs=1e-14)
    np.testing.assert_array_equal(again.weight_matrix, matrix)
    assert "z" in result.to_frame().columns


def test_identity_matrix_is_plain_kappa():
    case = GOLDEN["kappa2"][0]
    table = confusion_matrix(pd.DataFrame({"a": case["rater_a"], "b": case["rater_b"]}),
                             rater_a="a", rater_b="b", categories=case["levels"])
    plain = kappa_from_table(table)
    custom = kappa_from_table(table, weights=np.eye(len(table)))
    assert custom.kappa == pytest.approx(plain.kappa, abs=1e-15)
    assert custom.se == pytest.approx(plain.se, abs=1e-15)


def test_bad_weight_matrices_are_reported():
    with pytest.raises(DataError, match="3 x 3"):
        weight_matrix(np.eye(2), 3)
    with pytest.raises(DataError, match="1 on the diagonal"):
        weight_matrix(np.zeros((2, 2)), 2)
    with pytest.raises(DataError, match="between 0 and 1"):
        weight_matrix(np.array([[1.0, 2.0], [2.0, 1.0]]), 2)
    with pytest.raises(DataError, match="lacks the categories"):
        weight_matrix(pd.DataFrame(np.eye(2), index=["x", "y"], columns=["x", "y"]),
                      ["x", "z"])


def test_undefined_fleiss_kappa_warns_and_is_nan():
    with pytest.warns(UndefinedStatisticWarning, match="every code is in one category"):
        result = fleiss_kappa_from_counts(np.array([[3], [3]]))
    assert np.isnan(result.kappa) and np.isnan(result.z)
    with pytest.warns(UndefinedStatisticWarning, match="category c"):
        result = fleiss_kappa_from_counts(pd.DataFrame({"a": [2, 0], "b": [0, 2], "c": [0, 0]}))
    assert np.isnan(result.categories["kappa"].iloc[2])
    assert result.kappa == pytest.approx(1.0)


def test_bad_fleiss_input_is_reported():
    with pytest.raises(DataError, match="same number of codes"):
        fleiss_kappa_from_counts(np.array([[2, 1], [1, 1]]))
    with pytest.raises(DataError, match="whole numbers"):
        fleiss_kappa_from_counts(np.array([[1.5, 1.5], [1, 2]]))
    data = pd.DataFrame({"u": [1, 1, 2], "c": ["a", "b", "a"], "v": ["x", "y", "x"]})
    with pytest.raises(DataError, match=r"unit\(s\) \[2\] lack a code"):
        fleiss_kappa(data, unit="u", coder="c", value="v")
    with pytest.raises(DataError, match="more than once"):
        fleiss_kappa(pd.concat([data, data.iloc[:1]]), unit="u", coder="c", value="v")
    with pytest.raises(DataError, match="'w'"):
        fleiss_kappa(data, unit="u", coder="c", value="w")
    with pytest.raises(DataError, match="not among the categories"):
        fleiss_kappa(data, unit="u", coder="c", value="v", categories=["x"])
    with pytest.raises(DataError, match="no unit, coder or code"):
        fleiss_kappa(data.assign(v=["x", None, "x"]), unit="u", coder="c", value="v")
