"""Krippendorff's alpha against published values and the formulas evaluated in R.

Reference values: tests/measures/golden/agreement_krippendorff.R -> agreement_krippendorff.json.
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

from classdyad.errors import DataError, OptionError, UndefinedStatisticWarning
from classdyad.measures import cohen_kappa, krippendorff_alpha

DATA = Path(__file__).parents[1] / "data"
GOLDEN = json.loads((Path(__file__).parent / "golden" /
                     "agreement_krippendorff.json").read_text())
FILES = {"c_data": "krippendorff_C_data.csv", "wikipedia": "krippendorff_wikipedia_example.csv"}


def _long(name: str) -> pd.DataFrame:
    wide = pd.read_csv(DATA / FILES[name])
    coder = wide.columns[0]
    return wide.melt(id_vars=coder, var_name="unit", value_name="value").rename(
        columns={coder: "coder"})


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_matches_formula_in_r_and_published_values(name, level):
    result = krippendorff_alpha(_long(name), unit="unit", coder="coder", value="value",
                                level=level)
    # tolerance: 1e-12 absolute against the R evaluation of the same formulas
    assert result.alpha == pytest.approx(GOLDEN[name]["computed"][level], abs=1e-12)
    published = GOLDEN[name]["published"].get(level)
    if published is not None:
        # tolerance: the published values are rounded to three decimals
        assert round(result.alpha, 3) == pytest.approx(published, abs=1e-9)


def test_c_data_counts():
    result = krippendorff_alpha(_long("c_data"), unit="unit", coder="coder", value="value")
    assert result.n_units == 12
    assert result.n_pairable_units == 11  # unit 12 has one value only
    assert result.n_values == 40  # Krippendorff (2011): n = 40 pairable values
    assert result.n_coders == 4
    assert "Krippendorff" in result._repr_html_()


def test_two_coders_without_missing_values_is_close_to_kappa():
    rng = np.random.default_rng(1)
    a = rng.choice(["x", "y", "z"], 200)
    b = np.where(rng.random(200) < 0.7, a, rng.choice(["x", "y", "z"], 200))
    wide = pd.DataFrame({"unit": range(200), "a": a, "b": b})
    long = wide.melt(id_vars="unit", var_name="coder", value_name="value")
    alpha = krippendorff_alpha(long, unit="unit", coder="coder", value="value").alpha
    kappa = cohen_kappa(wide, rater_a="a", rater_b="b").kappa
    # alpha = 1 - (n-1)/n * (1 - pi) for Scott's pi; pi and kappa are close with similar margins
    assert alpha == pytest.approx(kappa, abs=0.02)


def test_undefined_alpha_is_nan_with_warning():
    long = pd.DataFrame({"unit": [1, 1, 2, 2], "coder": ["a", "b"] * 2, "value": ["x"] * 4})
    with pytest.warns(UndefinedStatisticWarning, match="all pairable values are equal"):
        assert np.isnan(krippendorff_alpha(long, unit="unit", coder="coder",
                                           value="value").alpha)
    lonely = pd.DataFrame({"unit": [1, 2], "coder": ["a", "b"], "value": ["x", "y"]})
    with pytest.warns(UndefinedStatisticWarning, match="no unit has values from two coders"):
        assert np.isnan(krippendorff_alpha(lonely, unit="unit", coder="coder",
                                           value="value").alpha)


def test_bad_inputs():
    long = pd.DataFrame({"unit": [1, 1], "coder": ["a", "b"], "value": ["x", "y"]})
    with pytest.raises(OptionError, match="'nominal', 'ordinal', 'interval', 'ratio'"):
        krippendorff_alpha(long, unit="unit", coder="coder", value="value", level="metric")
    with pytest.raises(DataError, match="numeric values"):
        krippendorff_alpha(long, unit="unit", coder="coder", value="value", level="interval")
    with pytest.raises(DataError, match="'rater'"):
        krippendorff_alpha(long, unit="unit", coder="rater", value="value")
    twice = pd.concat([long, long])
    with pytest.raises(DataError, match="more than one value"):
        krippendorff_alpha(twice, unit="unit", coder="coder", value="value")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)),
                min_size=2, max_size=30),
       st.permutations([10, 20, 30, 40]))
def test_nominal_alpha_is_invariant_to_relabelling_and_coder_order(units, new_values):
    rows = [(u, coder, value) for u, (x, y, z) in enumerate(units)
            for coder, value in zip("abc", (x, y, z), strict=True)]
    long = pd.DataFrame(rows, columns=["unit", "coder", "value"])
    relabelled = long.assign(value=long["value"].map(dict(enumerate(new_values))))
    shuffled = long.iloc[::-1].assign(coder=long["coder"].iloc[::-1].map(
        {"a": "c", "b": "a", "c": "b"}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        alphas = [krippendorff_alpha(frame, unit="unit", coder="coder", value="value").alpha
                  for frame in (long, relabelled, shuffled)]
    if np.isnan(alphas[0]):
        assert np.isnan(alphas).all()
    else:
        assert alphas == pytest.approx([alphas[0]] * 3, abs=1e-12)
