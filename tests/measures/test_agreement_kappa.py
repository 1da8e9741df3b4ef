"""Cohen's kappa and weighted kappa against psych::cohen.kappa, and their properties.

Reference values: tests/measures/golden/agreement_kappa.R -> agreement_kappa.json (psych 2.2.9).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classdyad.errors import DataError, DataWarning, OptionError, UndefinedStatisticWarning
from classdyad.measures import (
    agreement_weights,
    cohen_kappa,
    confusion_matrix,
    grouped_kappa,
    kappa_from_table,
    percent_agreement,
)

GOLDEN = json.loads((Path(__file__).parent / "golden" / "agreement_kappa.json").read_text())
CASES = sorted(GOLDEN["cases"])


def _codes(case: dict) -> pd.DataFrame:
    return pd.DataFrame({"a": case["rater_a"], "b": case["rater_b"]})


@pytest.mark.parametrize("name", CASES)
def test_kappa_and_its_interval_match_psych(name):
    case = GOLDEN["cases"][name]
    result = cohen_kappa(_codes(case), rater_a="a", rater_b="b", categories=case["levels"])
    # tolerance: 1e-10 absolute (closed-form statistics, double precision)
    assert result.kappa == pytest.approx(case["kappa"], abs=1e-10)
    assert result.se**2 == pytest.approx(case["var_kappa"], abs=1e-10)
    assert result.ci_lower == pytest.approx(case["lower"], abs=1e-10)
    assert result.ci_upper == pytest.approx(case["upper"], abs=1e-10)
    assert result.observed_agreement == pytest.approx(case["agreement"], abs=1e-12)
    assert result.n == case["n"]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_weighted_kappa_matches_psych_and_its_variance_the_published_formula(name, weights):
    case = GOLDEN["cases"][name]
    result = cohen_kappa(_codes(case), rater_a="a", rater_b="b", categories=case["levels"],
                         weights=weights)
    # tolerance: 1e-10 absolute. The estimate is psych's; the variance is Fleiss, Cohen & Everitt
    # (1969) evaluated in R, because psych's own weighted variance departs from that formula.
    assert result.kappa == pytest.approx(case[f"weighted_{weights}"], abs=1e-10)
    assert result.se**2 == pytest.approx(case[f"fce_var_weighted_{weights}"], abs=1e-10)


def test_unweighted_variance_is_the_weighted_formula_with_identity_weights():
    case = GOLDEN["cases"]["anxiety_rater1_rater2"]
    assert case["fce_var_unweighted"] == pytest.approx(case["var_kappa"], rel=1e-12)


def test_kappa_from_table_equals_kappa_from_codes():
    case = GOLDEN["cases"]["diagnoses_rater1_rater2"]
    table = confusion_matrix(_codes(case), rater_a="a", rater_b="b")
    assert table.to_numpy().sum() == 30
    assert kappa_from_table(table).kappa == pytest.approx(case["kappa"], abs=1e-12)
    assert kappa_from_table(table.to_numpy()).kappa == pytest.approx(case["kappa"], abs=1e-12)


def test_worked_example():
    codes = pd.DataFrame({"a": ["pos", "neg", "neu", "neu"], "b": ["pos", "neg", "neu", "pos"]})
    result = cohen_kappa(codes, rater_a="a", rater_b="b")
    assert result.kappa == pytest.approx(7 / 11)  # po = 3/4, pe = 5/16
    assert result.percent_agreement == pytest.approx(75.0)
    assert percent_agreement(codes, rater_a="a", rater_b="b") == pytest.approx(75.0)
    assert "Confusion matrix" in result._repr_html_()
    assert list(result.to_frame().columns)[:3] == ["weights", "kappa", "se"]


def test_weights_matrices():
    np.testing.assert_allclose(agreement_weights(3, "linear"),
                               [[1, 0.5, 0], [0.5, 1, 0.5], [0, 0.5, 1]])
    np.testing.assert_allclose(agreement_weights(3, "quadratic"),
                               [[1, 0.75, 0], [0.75, 1, 0.75], [0, 0.75, 1]])
    with pytest.raises(OptionError, match="'none', 'linear', 'quadratic'"):
        agreement_weights(3, "squared")


# --- undefined and bad input -----------------------------------------------------------------


def test_one_category_only_is_nan_with_a_warning():
    codes = pd.DataFrame({"a": ["neutral"] * 5, "b": ["neutral"] * 5})
    with pytest.warns(UndefinedStatisticWarning, match="single, identical category"):
        result = cohen_kappa(codes, rater_a="a", rater_b="b")
    assert np.isnan(result.kappa) and np.isnan(result.ci_lower)
    assert result.percent_agreement == 100.0


def test_no_units_is_nan_with_a_warning():
    with pytest.warns(UndefinedStatisticWarning, match="no coded units"):
        result = kappa_from_table(np.zeros((2, 2)))
    assert np.isnan(result.kappa)
    with pytest.warns(UndefinedStatisticWarning):
        assert np.isnan(percent_agreement(pd.DataFrame({"a": [], "b": []}),
                                          rater_a="a", rater_b="b"))


def test_missing_codes_are_left_out_with_a_warning():
    codes = pd.DataFrame({"a": ["x", "y", None, "x"], "b": ["x", "y", "y", "y"]})
    with pytest.warns(DataWarning, match="1 unit"):
        result = cohen_kappa(codes, rater_a="a", rater_b="b")
    assert result.n == 3


def test_bad_inputs():
    codes = pd.DataFrame({"a": ["x", "y"], "b": ["x", "z"]})
    with pytest.raises(DataError, match="'c'"):
        cohen_kappa(codes, rater_a="a", rater_b="c")
    with pytest.raises(DataError, match="not among the categories"):
        cohen_kappa(codes, rater_a="a", rater_b="b", categories=["x", "y"])
    with pytest.raises(DataError, match="square"):
        kappa_from_table(np.ones((2, 3)))
    with pytest.raises(DataError, match="between 0 and 1"):
        cohen_kappa(codes, rater_a="a", rater_b="b", confidence=95)


# --- properties ------------------------------------------------------------------------------

pairs = st.lists(st.tuples(st.sampled_from("pqrs"), st.sampled_from("pqrs")), min_size=2,
                 max_size=40)


def _kappa(frame: pd.DataFrame, a: str, b: str, **kwargs) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        return cohen_kappa(frame, rater_a=a, rater_b=b, **kwargs)


@settings(max_examples=100, deadline=None)
@given(pairs)
def test_kappa_is_symmetric_in_the_coders(units):
    frame = pd.DataFrame(units, columns=["a", "b"])
    one, other = _kappa(frame, "a", "b"), _kappa(frame, "b", "a")
    if np.isnan(one.kappa):
        assert np.isnan(other.kappa)
        return
    assert one.kappa == pytest.approx(other.kappa, abs=1e-12)
    assert one.se**2 == pytest.approx(other.se**2, abs=1e-12)  # se is sqrt of a near-0 variance


@settings(max_examples=100, deadline=None)
@given(pairs, st.permutations(["w", "x", "y", "z"]))
def test_kappa_is_invariant_to_relabelling_categories(units, new_names):
    frame = pd.DataFrame(units, columns=["a", "b"])
    relabel = dict(zip("pqrs", new_names, strict=True))
    renamed = frame.replace(relabel)
    one, other = _kappa(frame, "a", "b"), _kappa(renamed, "a", "b")
    if np.isnan(one.kappa):
        assert np.isnan(other.kappa)
        return
    assert one.kappa == pytest.approx(other.kappa, abs=1e-12)
    assert one.se**2 == pytest.approx(other.se**2, abs=1e-12)  # se is sqrt of a near-0 variance


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 3)),
                min_size=1, max_size=60))
def test_grouped_kappa_equals_one_table_at_a_time(units):
    group, code_a, code_b = (np.array(column) for column in zip(*units, strict=True))
    parts = grouped_kappa(group, code_a, code_b, 3)
    for g in range(3):
        table = np.zeros((4, 4))
        np.add.at(table, (code_a[group == g], code_b[group == g]), 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedStatisticWarning)
            one = kappa_from_table(table)
        if np.isnan(one.kappa):
            assert np.isnan(parts["kappa"][g])
            continue
        assert parts["kappa"][g] == pytest.approx(one.kappa, abs=1e-10)
        assert parts["variance"][g] == pytest.approx(one.se**2, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["positive", "negative", "neutral", "(no event)"]), st.integers(1, 50))
def test_one_category_only_is_always_nan_with_a_warning(category, n):
    codes = pd.DataFrame({"a": [category] * n, "b": [category] * n})
    with pytest.warns(UndefinedStatisticWarning):
        result = cohen_kappa(codes, rater_a="a", rater_b="b")
    assert np.isnan(result.kappa)
    for weights in ("linear", "quadratic"):
        with pytest.warns(UndefinedStatisticWarning):
            assert np.isnan(cohen_kappa(codes, rater_a="a", rater_b="b", weights=weights).kappa)
