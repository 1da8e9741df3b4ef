"""Cronbach's alpha and McDonald's omega against psych 2.2.9, and the undefined cases.

Reference values: tests/measures/golden/reliability_bfi.R -> reliability_bfi.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from classdyad.errors import DataError, OptionError, UndefinedStatisticWarning
from classdyad.measures import cronbach_alpha, mcdonald_omega

DATA = Path(__file__).parents[1] / "data"
GOLDEN = json.loads((Path(__file__).parent / "golden" / "reliability_bfi.json").read_text())
REVERSED = {"agreeableness": ["A1"], "conscientiousness": ["C4", "C5"]}


def _items(scale: str, complete_only: bool) -> pd.DataFrame:
    data = pd.read_csv(DATA / "bfi_agreeableness_conscientiousness.csv")
    items = data[GOLDEN["pairwise"][scale]["items"]].astype(float)
    for item in REVERSED[scale]:
        items[item] = 7 - items[item]  # 6-point scale, as the R script keys them
    return items.dropna() if complete_only else items


CASES = [(m, s) for m in ("pairwise", "complete_cases") for s in REVERSED]


@pytest.mark.parametrize(("missing", "scale"), CASES)
def test_alpha_matches_psych(missing, scale):
    reference = GOLDEN[missing][scale]
    result = cronbach_alpha(_items(scale, missing == "complete_cases"))
    # tolerance: 1e-10 absolute (closed-form statistics)
    assert result.n_observations == reference["n_obs"]
    assert result.alpha == pytest.approx(reference["raw_alpha"], abs=1e-10)
    assert result.standardized_alpha == pytest.approx(reference["std_alpha"], abs=1e-10)
    assert result.ci_lower == pytest.approx(reference["feldt_lower"], abs=1e-10)
    assert result.ci_upper == pytest.approx(reference["feldt_upper"], abs=1e-10)
    assert result.ase == pytest.approx(reference["ase"], abs=1e-10)
    assert result.duhachek_lower == pytest.approx(reference["duhachek_lower"], abs=1e-10)
    assert result.duhachek_upper == pytest.approx(reference["duhachek_upper"], abs=1e-10)
    table = result.item_statistics
    np.testing.assert_allclose(table["r_drop"], reference["r_drop"], atol=1e-10)
    np.testing.assert_allclose(table["alpha_if_deleted"], reference["alpha_if_dropped"], atol=1e-10)
    np.testing.assert_allclose(
        table["standardized_alpha_if_deleted"], reference["std_alpha_if_dropped"], atol=1e-10
    )


@pytest.mark.parametrize(("missing", "scale"), CASES)
def test_omega_total_matches_psych(missing, scale):
    reference = GOLDEN[missing][scale]
    result = mcdonald_omega(_items(scale, missing == "complete_cases"))
    # tolerance: 1e-6 on omega, 1e-4 on loadings (psych's optimiser stops at its own tolerance)
    assert result.omega_total == pytest.approx(reference["omega_total"], abs=1e-6)
    np.testing.assert_allclose(result.loadings.to_numpy(), reference["loadings"], atol=1e-4)


def test_listwise_equals_complete_cases():
    items = _items("agreeableness", complete_only=False)
    listwise = cronbach_alpha(items, missing="listwise")
    assert listwise.alpha == pytest.approx(GOLDEN["complete_cases"]["agreeableness"]["raw_alpha"])
    assert listwise.n_observations == GOLDEN["complete_cases"]["agreeableness"]["n_obs"]


def test_result_tables():
    result = cronbach_alpha(_items("conscientiousness", complete_only=True))
    frame = result.to_frame()
    assert frame.shape[0] == 1 and frame["n_items"].iloc[0] == 5
    assert "Cronbach" in result._repr_html_()
    omega = mcdonald_omega(_items("conscientiousness", complete_only=True))
    assert list(omega.to_frame().columns) == ["item", "loading", "uniqueness"]


# --- undefined cases: nan with a warning, never a made-up value --------------------------------


def test_one_item_gives_nan_with_warning():
    items = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0]})
    with pytest.warns(UndefinedStatisticWarning, match="at least two items"):
        result = cronbach_alpha(items)
    assert np.isnan(result.alpha) and np.isnan(result.ci_lower)
    with pytest.warns(UndefinedStatisticWarning):
        assert np.isnan(mcdonald_omega(items).omega_total)


def test_zero_variance_gives_nan_with_warning():
    items = pd.DataFrame({"a": [3.0] * 5, "b": [3.0] * 5, "c": [3.0] * 5})
    with pytest.warns(UndefinedStatisticWarning):
        result = cronbach_alpha(items)
    assert np.isnan(result.alpha) and np.isnan(result.standardized_alpha)
    with pytest.warns(UndefinedStatisticWarning, match="no variance"):
        assert np.isnan(mcdonald_omega(items).omega_total)


def test_two_items_alpha_defined_but_alpha_if_deleted_not():
    items = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0], "b": [2.0, 2.0, 3.0, 5.0, 4.0]})
    with pytest.warns(UndefinedStatisticWarning, match="two-item"):
        result = cronbach_alpha(items)
    assert np.isfinite(result.alpha)
    assert result.item_statistics["alpha_if_deleted"].isna().all()


def test_bad_input():
    with pytest.raises(DataError, match="not numeric"):
        cronbach_alpha(pd.DataFrame({"a": ["x", "y"], "b": [1, 2]}))
    with pytest.raises(OptionError, match="missing"):
        cronbach_alpha(pd.DataFrame({"a": [1, 2], "b": [1, 2]}), missing="drop")
    with pytest.raises(DataError, match="confidence"):
        cronbach_alpha(pd.DataFrame({"a": [1, 2], "b": [1, 2]}), confidence=95)


# --- properties ---------------------------------------------------------------------------------

_ITEM_MATRICES = arrays(
    np.int64,
    st.tuples(st.integers(8, 30), st.integers(3, 6)),
    elements=st.integers(1, 5),
)


@settings(max_examples=40, deadline=None)
@given(values=_ITEM_MATRICES, seed=st.integers(0, 2**16))
def test_alpha_invariant_to_item_order_and_shifts(values, seed):
    items = pd.DataFrame(values.astype(float), columns=[f"i{j}" for j in range(values.shape[1])])
    if (items.std() == 0).any():
        return
    rng = np.random.default_rng(seed)
    permuted = items[list(rng.permutation(items.columns))] + rng.integers(-3, 4, items.shape[1])
    first, second = cronbach_alpha(items), cronbach_alpha(permuted)
    assert second.alpha == pytest.approx(first.alpha, abs=1e-10)
    assert second.standardized_alpha == pytest.approx(first.standardized_alpha, abs=1e-10)
    drop = first.item_statistics.set_index("item").loc[list(permuted.columns), "r_drop"]
    np.testing.assert_allclose(second.item_statistics["r_drop"], drop.to_numpy(), atol=1e-10)
    assert first.ci_lower <= first.alpha <= first.ci_upper


def test_parallel_items_have_alpha_one_and_omega_near_one():
    base = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 2.0, 4.0])
    items = pd.DataFrame({"a": base, "b": base + 1, "c": base * 2})
    assert cronbach_alpha(items).standardized_alpha == pytest.approx(1.0)
    # loadings are bounded at sqrt(0.995), as in psych: omega_t = 1 - 3 * 0.005 / 9
    assert mcdonald_omega(items).omega_total == pytest.approx(1 - 0.015 / 9, abs=1e-8)
