"""Guttman's lambda 6, omega hierarchical / total (Schmid-Leiman) and CFA omega, against psych
and lavaan.

Reference values: tests/measures/golden/reliability_factor_models.R ->
reliability_factor_models.json (psych 2.2.9, GPArotation 2022.10.2, lavaan 0.6-14, R 4.2.2).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import DataError, DataWarning, UndefinedStatisticWarning
from classdyad.measures import cfa_omega, guttman_lambda6, omega_hierarchical

DATA = Path(__file__).parents[1] / "data" / "bfi_agreeableness_conscientiousness.csv"
GOLDEN = json.loads(
    (Path(__file__).parent / "golden" / "reliability_factor_models.json").read_text())
REVERSE = {"agreeableness": ["A1"], "conscientiousness": ["C4", "C5"]}


@pytest.fixture(scope="module")
def items() -> pd.DataFrame:
    return pd.read_csv(DATA).astype(float)


def _scale(items, name, complete):
    x = items[GOLDEN["scales"]["pairwise"][name]["items"]].copy()
    for item in REVERSE[name]:
        x[item] = 7 - x[item]
    return x.dropna() if complete else x


@pytest.mark.parametrize("case", ["pairwise_2", "pairwise_3", "complete_3"])
def test_omega_hierarchical_matches_psych_omega(items, case):
    golden = GOLDEN["omega"][case]
    data = items.dropna() if case.startswith("complete") else items
    result = omega_hierarchical(data, n_factors=golden["nfactors"])
    # tolerance: 1e-4 absolute for omega_h and omega total; 5e-4 for the communalities and the
    # Schmid-Leiman loadings and factor correlations. psych stops its minres optimisation (optim,
    # default tolerance) and its oblimin rotation (projected gradient 1e-5) early; here both run to
    # much tighter tolerances and reach a lower minres criterion (next test), and the weak third
    # factor's loadings are the least well determined.
    assert result.omega_hierarchical == pytest.approx(golden["omega_h"], abs=1e-4)
    assert result.omega_limit == pytest.approx(golden["omega_limit"], abs=1e-4)
    assert result.omega_total == pytest.approx(golden["omega_total"], abs=1e-4)
    assert result.n_observations == golden["n_obs"]
    table = result.loadings
    np.testing.assert_array_equal(np.where(table["reversed"], -1, 1), golden["key"])
    np.testing.assert_allclose(table["general"], golden["general"], atol=5e-4)
    for f in range(golden["nfactors"]):
        np.testing.assert_allclose(table[f"group_{f + 1}"], golden["group"][f], atol=5e-4)
        np.testing.assert_allclose(result.factor_correlations.iloc[f], golden["phi"][f],
                                   atol=5e-4)
    np.testing.assert_allclose(table["h2"], golden["h2"], atol=5e-4)
    np.testing.assert_allclose(table["p2"], golden["p2"], atol=5e-4)
    np.testing.assert_allclose(result.general_loadings, golden["gloading"], atol=5e-4)


@pytest.mark.parametrize("case", ["pairwise_2", "pairwise_3", "complete_3"])
def test_minres_criterion_is_at_least_as_low_as_psych(items, case):
    golden = GOLDEN["omega"][case]
    data = items.dropna() if case.startswith("complete") else items
    corr = data.corr().to_numpy()
    off = ~np.eye(len(corr), dtype=bool)

    def criterion(h2):
        reduced = corr.copy()
        np.fill_diagonal(reduced, h2)
        values, vectors = np.linalg.eigh(reduced)
        top = np.argsort(values)[::-1][:golden["nfactors"]]
        loadings = vectors[:, top] * np.sqrt(np.maximum(values[top], 0.0))
        return (np.where(off, corr - loadings @ loadings.T, 0.0) ** 2).sum()

    ours = omega_hierarchical(data, n_factors=golden["nfactors"]).loadings["h2"].to_numpy()
    assert criterion(ours) <= criterion(np.asarray(golden["h2"])) + 1e-12


@pytest.mark.parametrize("complete", [False, True])
@pytest.mark.parametrize("name", ["agreeableness", "conscientiousness"])
def test_lambda6_matches_psych(items, name, complete):
    golden = GOLDEN["scales"]["complete_cases" if complete else "pairwise"][name]
    result = guttman_lambda6(_scale(items, name, complete))
    # tolerance: 1e-10 absolute (closed form)
    assert result.standardized_lambda6 == pytest.approx(golden["G6_smc"], abs=1e-10)
    assert result.lambda6 == pytest.approx(golden["lambda6_covariance"], abs=1e-10)
    assert result.n_observations == golden["n_obs"]


def test_lambda6_of_the_ten_items_is_psych_omega_g6(items):
    # complete cases: psych::omega's G6 uses pairwise correlations, psych::alpha's (and ours)
    # the pairwise covariances scaled by the item SDs; they coincide without missing answers
    flipped = items.dropna().copy()
    for item in ("A1", "C4", "C5"):
        flipped[item] = -flipped[item]
    result = guttman_lambda6(flipped)
    assert result.standardized_lambda6 == pytest.approx(GOLDEN["omega"]["complete_3"]["G6"],
                                                        abs=1e-10)


@pytest.mark.parametrize("name", ["agreeableness", "conscientiousness"])
def test_cfa_omega_matches_lavaan(items, name):
    golden = GOLDEN["scales"]["pairwise"][name]
    result = cfa_omega(_scale(items, name, complete=False))
    # tolerance: 1e-5 relative on the estimates (lavaan's nlminb stops about 1e-6 from the
    # optimum), 1e-6 on omega and the chi-square
    assert result.n_observations == golden["cfa_n_obs"]
    np.testing.assert_allclose(result.loadings, golden["cfa_loadings"], rtol=1e-5)
    np.testing.assert_allclose(result.residual_variances, golden["cfa_residual_variances"],
                               rtol=1e-5)
    assert result.omega == pytest.approx(golden["cfa_omega"], rel=1e-6)
    assert result.chi_square == pytest.approx(golden["cfa_chisq"], rel=1e-6)
    assert result.df == golden["cfa_df"]
    frame = result.to_frame()
    assert list(frame.columns) == ["item", "loading", "residual_variance"]
    assert "Omega" in result._repr_html_()


def test_cfa_omega_recovers_a_known_reliability():
    rng = np.random.default_rng(2026)
    n = 20_000
    factor = rng.normal(size=n)
    lam = np.array([0.9, 0.7, 0.5, 0.8])
    theta = np.array([0.5, 0.6, 0.8, 0.4])
    items = pd.DataFrame(factor[:, None] * lam + rng.normal(size=(n, 4)) * np.sqrt(theta),
                         columns=list("abcd"))
    truth = lam.sum() ** 2 / (lam.sum() ** 2 + theta.sum())
    result = cfa_omega(items)
    assert result.omega == pytest.approx(truth, abs=0.01)
    np.testing.assert_allclose(result.loadings, lam, atol=0.03)


def test_omega_hierarchical_recovers_a_bifactor_structure():
    rng = np.random.default_rng(7)
    n = 20_000
    general = rng.normal(size=n)
    groups = rng.normal(size=(n, 3))
    g_load, s_load = 0.6, 0.5
    columns = {}
    for f in range(3):
        for j in range(3):
            columns[f"i{f}{j}"] = (g_load * general + s_load * groups[:, f]
                                   + rng.normal(size=n) * np.sqrt(1 - g_load**2 - s_load**2))
    items = pd.DataFrame(columns)
    result = omega_hierarchical(items, n_factors=3)
    corr = items.corr().to_numpy()
    total = corr.sum()
    truth_h = (9 * g_load) ** 2 / (9 + 2 * 36 * g_load**2 + 2 * 9 * s_load**2)
    assert result.omega_hierarchical == pytest.approx(truth_h, abs=0.02)
    assert result.omega_total == pytest.approx(
        (total - (1 - g_load**2 - s_load**2) * 9) / total, abs=0.01)
    assert not result.loadings["reversed"].any()
    assert "Omega hierarchical" in result._repr_html_()


def test_bad_input_and_undefined_cases(items):
    with pytest.raises(DataError, match="n_factors"):
        omega_hierarchical(items, n_factors=1)
    with pytest.raises(DataError, match="too few"):
        omega_hierarchical(items.iloc[:, :5], n_factors=3)
    with pytest.warns(UndefinedStatisticWarning, match="two items"):
        assert np.isnan(guttman_lambda6(items[["A1"]]).lambda6)
    twice = items[["A2", "A3"]].assign(copy=items["A2"])
    with pytest.warns(UndefinedStatisticWarning, match="singular"):
        assert np.isnan(guttman_lambda6(twice.dropna()).lambda6)
    with pytest.warns(UndefinedStatisticWarning, match="three items"):
        assert np.isnan(cfa_omega(items[["A2", "A3"]]).omega)
    with pytest.warns(DataWarning, match="load negatively"):
        cfa_omega(items[["A1", "A2", "A3", "A4", "A5"]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(guttman_lambda6(items).lambda6)
