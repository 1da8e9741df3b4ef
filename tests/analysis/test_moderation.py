"""cross_level_moderation() and moderated_mediation(): definitions, recovery and bad input.

Simple slopes are checked against a refit with the moderator centred at the probed value (the
exposure's coefficient there is the simple slope, with lmm's lme4-validated standard error): equal
to 1e-6 relative. The index of moderated mediation is checked to equal a3 * b from the fitted
models exactly, and on data with a known moderated a path its Monte Carlo interval must cover the
true index.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from classdyad.analysis import cross_level_moderation, moderated_mediation
from classdyad.errors import DataError
from classdyad.mixed import lmm


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    """60 classes of 12; a teacher score W moderates the low-SES gap in the mediator."""
    rng = np.random.default_rng(7)
    classes, size = 60, 12
    classroom = np.repeat(np.arange(classes), size)
    iat = rng.normal(0.3, 0.4, classes)[classroom]
    low_ses = rng.random(classroom.size) < 0.3
    negative = (1.0 + (0.5 + 0.8 * (iat - 0.3)) * low_ses + rng.normal(0, 0.3, classes)[classroom]
                + rng.normal(0, 0.5, classroom.size))
    closeness = (4.0 - 0.3 * negative - 0.1 * low_ses + rng.normal(0, 0.2, classes)[classroom]
                 + rng.normal(0, 0.3, classroom.size))
    return pd.DataFrame({"classroom": classroom, "teacher_iat_ses": iat, "low_ses": low_ses,
                         "negative_rate": negative, "closeness": closeness})


def test_cross_level_interaction_and_simple_slopes(data):
    result = cross_level_moderation(data, exposure="low_ses", moderator="teacher_iat_ses",
                                    outcome="negative_rate", cluster="classroom")
    effects = result.effects
    interaction = effects.iloc[0]
    assert interaction["effect"] == "interaction"
    assert interaction["ci_low"] <= 0.8 <= interaction["ci_high"]
    assert interaction["p_value"] < 0.01
    assert result.moderator_sd == pytest.approx(
        data.groupby("classroom")["teacher_iat_ses"].first().std())
    high = effects[effects["moderator_value"] == "mean + 1 SD"].iloc[0]
    probe = data.assign(
        w=data.teacher_iat_ses - result.moderator_mean - result.moderator_sd,
        x=data.low_ses.astype(float))
    fit = lmm("negative_rate ~ x + w + x:w + (1 | classroom)", probe).fixed_effects
    row = fit.set_index("term").loc["x"]
    assert high["estimate"] == pytest.approx(row["estimate"], rel=1e-6)
    assert high["std_error"] == pytest.approx(row["std_error"], rel=1e-6)
    assert "moderates" in result.conclusion
    assert "<table" in result._repr_html_() and "Cross-level" in result.summary()


def test_index_of_moderated_mediation(data):
    result = moderated_mediation(data, exposure="low_ses", moderator="teacher_iat_ses",
                                 mediators="negative_rate", outcome="closeness",
                                 cluster="classroom", rng=3, n_draws=5000)
    effects = result.effects.set_index("effect")
    a3 = result.a_models[0].coefficient("X_w:W")
    b = result.b_model.coefficient("M0_w")
    assert effects.loc["index", "estimate"] == pytest.approx(a3 * b, rel=1e-12)
    true_index = 0.8 * -0.3
    assert effects.loc["index", "ci_low"] <= true_index <= effects.loc["index", "ci_high"]
    assert effects.loc["index", "ci_high"] < 0
    conditional = result.effects[result.effects["effect"] == "conditional_indirect"]
    assert list(conditional["moderator_value"]) == ["mean - 1 SD", "mean", "mean + 1 SD"]
    # the conditional indirect effects are linear in the moderator with slope = the index
    step = np.diff(conditional["estimate"].to_numpy())
    assert step == pytest.approx([a3 * b * result.moderator_sd] * 2, rel=1e-9)
    assert "index of moderated mediation" in result.conclusion[0]
    undecomposed = moderated_mediation(data, exposure="low_ses", moderator="teacher_iat_ses",
                                       mediators=["negative_rate"], outcome="closeness",
                                       cluster="classroom", decomposition="none", rng=3,
                                       n_draws=1000)
    assert undecomposed.effects.set_index("effect").loc["index", "ci_high"] < 0


def test_bad_input(data):
    common = {"exposure": "low_ses", "moderator": "teacher_iat_ses", "outcome": "negative_rate",
              "cluster": "classroom"}
    with pytest.raises(DataError, match=r"'teacher_iat_ses' \(the moderator\) is not in"):
        cross_level_moderation(data.drop(columns="teacher_iat_ses"), **common)
    with pytest.raises(DataError, match=r"exposure 'low_ses'.*no members"):
        cross_level_moderation(data.assign(low_ses=True), **common)
    with pytest.raises(DataError, match=r"outcome 'negative_rate' has no variance"):
        cross_level_moderation(data.assign(negative_rate=1.0), **common)
    constant = data.assign(negative_rate=data.groupby("classroom")["negative_rate"]
                           .transform("mean"))
    with pytest.raises(DataError, match=r"mediator 'negative_rate' is constant within every"):
        moderated_mediation(constant, mediators="negative_rate", **{
            **common, "outcome": "closeness"})
