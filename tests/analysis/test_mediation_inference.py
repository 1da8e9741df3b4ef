"""Delta-method inference and R-squared of mediation()'s path models, against R 4.2.2.

Delta method: lavaan 0.6-14's delta-method standard errors of the defined effects
(``golden/mediation_lavaan.json``, written by ``golden/mediation_lavaan.R``). Single level:
lavaan's covariances are maximum-likelihood ones (``RSS / n``), ours least-squares ones
(``RSS / (n - p)``, p = 3 in the mediator models and 5 in the outcome model). For one indirect
effect ``a_k b_k`` the exact relation is
``se_ours^2 = b^2 se_a,lav^2 n / (n - 3) + a^2 se_b,lav^2 n / (n - 5)``, checked to 1e-6
relative; for the sums (total indirect, total) the conventions mix and ours times
``sqrt((n - 4) / n)`` is checked against lavaan's to 0.3 %. Two levels: the within-cluster
indirect effect's delta standard error against lavaan's two-level model to 1 % (REML against ML,
as for the paths in ``test_mediation_golden.py``).

R-squared: ``golden/mediation_r_squared.json``, written by ``golden/mediation_r_squared.R``:
``summary(lm)$r.squared`` for least-squares path models and ``performance::r2_nakagawa`` 0.10.2
(lme4 1.1-31) for the random-intercept path models and a random-slope model, to 1e-6 relative
(1e-4 for the random-slope model, whose variance components come from an iterative fit).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.analysis import mediation
from classdyad.analysis.mediation_inference import path_r_squared
from classdyad.analysis.path_models import fit_path_model

HERE = Path(__file__).parent
LAVAAN = json.loads((HERE / "golden" / "mediation_lavaan.json").read_text())
R2 = json.loads((HERE / "golden" / "mediation_r_squared.json").read_text())
DATA = HERE.parent / "data"


@pytest.fixture(scope="module")
def single_level():
    data = pd.read_csv(DATA / "mediation_single_level.csv")
    return mediation(data, exposure="x", mediators=["m1", "m2"], outcome="y", cluster=None,
                     covariates=["z"], decomposition="none", rng=7)


@pytest.fixture(scope="module")
def two_level():
    data = pd.read_csv(DATA / "bpg06_multilevel_mediation.csv")
    return mediation(data, exposure="x", mediators="m", outcome="y", cluster="id", rng=7)


def _delta_row(result, component, effect, mediator=None) -> pd.Series:
    table = result.delta_method
    mask = (table["component"] == component) & (table["effect"] == effect)
    mask &= table["mediator"] == mediator if mediator else table["mediator"].isna()
    return table.loc[mask].iloc[0]


@pytest.mark.parametrize(("label", "mediator", "a", "b"),
                         [("ind1", "m1", "a1", "b1"), ("ind2", "m2", "a2", "b2")])
def test_single_indirect_delta_equals_lavaan(single_level, label, mediator, a, b):
    ref = LAVAAN["single_level"]["free_covariance"]
    n = LAVAAN["single_level"]["n"]
    expected = np.sqrt(ref[b]["estimate"] ** 2 * ref[a]["std_error"] ** 2 * n / (n - 3)
                       + ref[a]["estimate"] ** 2 * ref[b]["std_error"] ** 2 * n / (n - 5))
    row = _delta_row(single_level, "overall", "indirect", mediator)
    assert row["estimate"] == pytest.approx(ref[label]["estimate"], abs=1e-9)
    assert row["delta_std_error"] == pytest.approx(expected, rel=1e-6)
    assert row["delta_std_error"] * np.sqrt((n - 4) / n) == pytest.approx(
        ref[label]["std_error"], rel=3e-3)


@pytest.mark.parametrize("effect", ["total_indirect", "total"])
def test_single_sums_delta_close_to_lavaan(single_level, effect):
    ref = LAVAAN["single_level"]["free_covariance"][effect]
    n = LAVAAN["single_level"]["n"]
    row = _delta_row(single_level, "overall", effect)
    assert row["estimate"] == pytest.approx(ref["estimate"], abs=1e-9)
    assert row["delta_std_error"] * np.sqrt((n - 4) / n) == pytest.approx(ref["std_error"],
                                                                         rel=3e-3)


def test_two_level_within_delta_close_to_lavaan(two_level):
    ref = LAVAAN["two_level"]["estimates"]["indirect_within"]
    row = _delta_row(two_level, "within", "indirect", "m")
    assert row["delta_std_error"] == pytest.approx(ref["std_error"], rel=0.01)
    z = row["estimate"] / row["delta_std_error"]
    assert row["delta_z"] == pytest.approx(z)
    assert row["delta_ci_lower"] < row["estimate"] < row["delta_ci_upper"]


def test_delta_columns_are_separate_from_monte_carlo(two_level):
    assert list(two_level.delta_method.columns) == [
        "component", "effect", "mediator", "estimate", "delta_std_error", "delta_z",
        "delta_p_value", "delta_ci_lower", "delta_ci_upper"]
    assert "delta_std_error" not in two_level.effects.columns
    assert "Delta-method (Sobel)" in two_level.summary()
    assert "R-squared of the path models" in two_level._repr_html_()


def test_r_squared_single_level(single_level):
    table = single_level.r_squared.set_index("response")
    for name, value in R2["single_level"].items():
        assert table.loc[name, "marginal"] == pytest.approx(value, rel=1e-6)
        assert table.loc[name, "conditional"] == pytest.approx(value, rel=1e-6)
    assert table["definition"].str.contains("RSS").all()


def test_r_squared_two_level(two_level):
    table = two_level.r_squared.set_index("model")
    for model in ("mediator", "outcome"):
        ref = R2["two_level"][model]
        assert table.loc[model, "marginal"] == pytest.approx(ref["marginal"], rel=1e-6)
        assert table.loc[model, "conditional"] == pytest.approx(ref["conditional"], rel=1e-6)
    assert table["definition"].str.contains("Nakagawa").all()


def test_r_squared_random_slope():
    data = pd.read_csv(DATA / "bpg06_multilevel_mediation.csv")
    means = data.groupby("id")["x"].transform("mean")
    frame = data.assign(x_between=means, x_within=data["x"] - means, id=data["id"].astype(str))
    fit = fit_path_model("m", ["x_within", "x_between"], frame, random=["id"],
                         random_slope="x_within")
    values = path_r_squared(fit, frame["m"].to_numpy())
    ref = R2["two_level"]["mediator_random_slope"]
    assert values["marginal"] == pytest.approx(ref["marginal"], rel=1e-4)
    assert values["conditional"] == pytest.approx(ref["conditional"], rel=1e-4)
