"""negativity_bias(): the standardized slopes, the test of |b_negative| = |b_positive|, bad input.

The difference and its standard error are checked against a reparametrized mixed model: with
``b_p z_p + b_n z_n = b_p (z_p - z_n) + (b_p + b_n) z_n``, the coefficient of ``z_n`` in a model
of ``z_p - z_n`` and ``z_n`` is ``b_p + b_n`` with lmm's own (lme4-validated) standard error, so
for opposite signs ``|b_n| - |b_p| = -(b_p + b_n)`` must match to 1e-6 relative.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from classdyad.analysis import NegativityBiasResult, negativity_bias
from classdyad.errors import DataError
from classdyad.mixed import lmm


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    classes, size = 40, 15
    classroom = np.repeat(np.arange(classes), size)
    positive = rng.gamma(4.0, 0.4, classroom.size)
    negative = rng.gamma(2.0, 0.3, classroom.size)
    closeness = (3.8 + 0.05 * positive - 0.3 * negative + rng.normal(0, 0.2, classes)[classroom]
                 + rng.normal(0, 0.3, classroom.size))
    return pd.DataFrame({"classroom": classroom.astype(str), "positive_rate": positive,
                         "negative_rate": negative, "closeness": closeness,
                         "boy": rng.random(classroom.size) < 0.5})


@pytest.fixture(scope="module")
def result(data) -> NegativityBiasResult:
    return negativity_bias(data, outcome="closeness", positive="positive_rate",
                           negative="negative_rate", cluster="classroom", covariates=["boy"])


def test_difference_matches_reparametrized_model(data, result):
    z = data.assign(
        zp=(data.positive_rate - data.positive_rate.mean()) / data.positive_rate.std(),
        zn=(data.negative_rate - data.negative_rate.mean()) / data.negative_rate.std(),
    ).assign(contrast=lambda d: d.zp - d.zn, boy=lambda d: d.boy.astype(float))
    fit = lmm("closeness ~ contrast + zn + boy + (1 | classroom)", z)
    row = fit.fixed_effects.set_index("term").loc["zn"]
    effects = result.effects.set_index("effect")
    assert effects.loc["b_negative", "estimate"] < 0 < effects.loc["b_positive", "estimate"]
    assert effects.loc["difference", "estimate"] == pytest.approx(-row["estimate"], rel=1e-6)
    assert effects.loc["difference", "std_error"] == pytest.approx(row["std_error"], rel=1e-6)
    assert effects.loc["difference", "ci_low"] > 0
    assert result.difference > 0
    assert "negativity bias" in result.conclusion


def test_scales_are_the_rows_used(data, result):
    scales = result.scales.set_index("variable")
    assert scales.loc["negative_rate", "sd"] == pytest.approx(data.negative_rate.std())
    assert result.n_obs == len(data)
    assert {"effect", "estimate", "ci_low", "outcome"} <= set(result.to_frame().columns)
    assert "<table" in result._repr_html_() and "Negativity bias" in result.summary()


def test_same_sign_slopes_use_the_delta_method(data):
    flipped = data.assign(positive_rate=-data.positive_rate)
    result = negativity_bias(flipped, outcome="closeness", positive="positive_rate",
                             negative="negative_rate", cluster="classroom", covariates=["boy"])
    effects = result.effects.set_index("effect")
    b_pos, b_neg = effects.loc["b_positive", "estimate"], effects.loc["b_negative", "estimate"]
    assert b_pos < 0 and b_neg < 0
    assert effects.loc["difference", "estimate"] == pytest.approx(abs(b_neg) - abs(b_pos))


def test_bad_input(data):
    common = {"outcome": "closeness", "positive": "positive_rate", "negative": "negative_rate",
              "cluster": "classroom"}
    with pytest.raises(DataError, match=r"'negative_rate' \(the negative rate\) is not in"):
        negativity_bias(data.drop(columns="negative_rate"), **common)
    with pytest.raises(DataError, match=r"outcome 'closeness' has no variance"):
        negativity_bias(data.assign(closeness=4.0), **common)
    with pytest.raises(DataError, match=r"positive rate 'positive_rate' has no variance"):
        negativity_bias(data.assign(positive_rate=0.0), **common)
