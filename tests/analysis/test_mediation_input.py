"""mediation(): options, bad input and the result's API and conclusions.

Bad input must raise a :class:`classdyad.errors.DataError` (or ``OptionError``) whose message
names the variable and says what to do.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.analysis import MediationResult, mediation
from classdyad.analysis.mediation_results import mediation_verdict
from classdyad.errors import DataError, OptionError

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def bpg() -> pd.DataFrame:
    return pd.read_csv(DATA / "bpg06_multilevel_mediation.csv")


@pytest.fixture(scope="module")
def single() -> pd.DataFrame:
    return pd.read_csv(DATA / "mediation_single_level.csv")


def _run(data, **changes):
    arguments = {"exposure": "x", "mediators": "m", "outcome": "y", "cluster": "id",
                 "n_draws": 1000, "rng": 1}
    arguments.update(changes)
    return mediation(data, **arguments)


def test_missing_column_is_named(bpg):
    with pytest.raises(DataError, match=r"'mediator_x' \(the mediator\) is not in the data"):
        _run(bpg, mediators=["m", "mediator_x"])


def test_group_with_no_members(bpg):
    data = bpg.assign(low_ses=False)
    with pytest.raises(DataError, match=r"exposure 'low_ses'.*group low_ses = 1 has no members"):
        _run(data, exposure="low_ses")


def test_outcome_without_variance(bpg):
    with pytest.raises(DataError, match=r"outcome 'y' has no variance"):
        _run(bpg.assign(y=3.0))


def test_mediator_constant_within_clusters(bpg):
    data = bpg.assign(m=bpg.groupby("id")["m"].transform("mean"))
    for decomposition in ("within_between", "none"):
        with pytest.raises(DataError, match=r"mediator 'm' is constant within every 'id'.*"
                                            r"give a mediator measured per student"):
            _run(data, decomposition=decomposition)


def test_exposure_constant_within_clusters_needs_no_split(bpg):
    data = bpg.assign(x=bpg.groupby("id")["x"].transform("mean"))
    with pytest.raises(DataError, match=r"exposure 'x' is constant within every 'id'.*"
                                        r"decomposition='none'"):
        _run(data)
    # a cluster-level exposure (2-1-1) is fine without the within/between split
    assert _run(data, decomposition="none").n_obs == len(bpg)


def test_non_numeric_exposure(bpg):
    with pytest.raises(DataError, match=r"column 'x' must be numeric"):
        _run(bpg.assign(x="a"))


def test_options_are_checked(bpg):
    with pytest.raises(OptionError, match="decomposition='within'"):
        _run(bpg, decomposition="within")
    with pytest.raises(OptionError, match="interval='delta'"):
        _run(bpg, interval="delta")
    with pytest.raises(DataError, match="needs a cluster"):
        _run(bpg, cluster=None)
    with pytest.raises(DataError, match="two roles"):
        _run(bpg, covariates=["x"])
    with pytest.raises(DataError, match="n_draws"):
        _run(bpg, n_draws=10)
    with pytest.raises(DataError, match="at least one mediator"):
        _run(bpg, mediators=[])


def test_rows_with_missing_values_are_dropped_before_centring(bpg):
    data = bpg.copy()
    data.loc[:9, "m"] = np.nan
    result = _run(data)
    assert result.n_obs == len(bpg) - 10
    assert all(fit.n_obs == len(bpg) - 10 for fit in (*result.a_models, result.b_model))


def test_result_is_tidy_and_reproducible(bpg):
    first, second = _run(bpg, rng=7), _run(bpg, rng=np.random.default_rng(7))
    assert isinstance(first, MediationResult)
    pd.testing.assert_frame_equal(first.to_frame(), second.to_frame())
    table = first.to_frame()
    assert list(table.columns) == ["component", "effect", "mediator", "estimate", "std_error",
                                   "ci_low", "ci_high", "p_value", "method"]
    assert set(table["component"]) == {"within", "between"}
    within = table[table["component"] == "within"].set_index("effect")
    assert within.loc["total", "estimate"] == pytest.approx(
        within.loc["direct", "estimate"] + within.loc["total_indirect", "estimate"])
    assert within.loc["proportion_mediated", "estimate"] == pytest.approx(
        within.loc["total_indirect", "estimate"] / within.loc["total", "estimate"])
    assert "Multilevel mediation" in first.summary()
    assert "<table" in first._repr_html_()
    with pytest.raises(AttributeError):
        first.n_obs = 3  # frozen


def _random_intercept_data(seed: int = 11, clusters: int = 60, size: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cluster = np.repeat(np.arange(clusters), size)
    x = rng.normal(size=clusters)[cluster] * 0.5 + rng.normal(size=cluster.size)
    m = 0.5 * x + rng.normal(size=clusters)[cluster] * 0.5 + rng.normal(size=cluster.size)
    y = 0.4 * m + 0.2 * x + rng.normal(size=clusters)[cluster] * 0.5 + rng.normal(
        size=cluster.size)
    return pd.DataFrame({"id": cluster, "x": x, "m": m, "y": y})


def test_monte_carlo_and_cluster_bootstrap_agree():
    data = _random_intercept_data()
    monte_carlo = _run(data, n_draws=20_000)
    bootstrap = _run(data, interval="bootstrap", n_bootstrap=60, rng=3)
    assert bootstrap.n_bootstrap == 60
    mc = monte_carlo.effect("indirect", mediator="m")
    boot = bootstrap.effect("indirect", mediator="m")
    assert boot["method"] == "bootstrap"
    assert boot["estimate"] == mc["estimate"]
    # with random intercepts only (the model's assumption) the two spreads agree; 60
    # replications estimate an SE to about 10 %. (On BPG06, whose paths vary between clusters,
    # the cluster bootstrap is rightly about twice as wide as the random-intercept model's.)
    assert boot["std_error"] == pytest.approx(mc["std_error"], rel=0.3)


def test_single_level_bootstrap_resamples_rows(single):
    result = mediation(single, exposure="x", mediators=["m1", "m2"], outcome="y", cluster=None,
                       decomposition="none", interval="bootstrap", n_bootstrap=200, rng=5)
    reference = mediation(single, exposure="x", mediators=["m1", "m2"], outcome="y",
                          cluster=None, decomposition="none", rng=5)
    for mediator in ("m1", "m2"):
        boot = result.effect("indirect", component="overall", mediator=mediator)
        mc = reference.effect("indirect", component="overall", mediator=mediator)
        assert boot["std_error"] == pytest.approx(mc["std_error"], rel=0.25)


@pytest.mark.parametrize(
    ("indirect", "direct", "expected"),
    [
        ((0.4, 0.3, 0.5), (0.05, -0.1, 0.2), "full"),  # direct interval inside +-0.4
        ((0.4, 0.3, 0.5), (0.05, -0.1, 0.6), "partial"),  # direct not significant but wide
        ((0.4, 0.3, 0.5), (0.3, 0.1, 0.5), "partial"),  # both present
        ((0.4, 0.3, 0.5), (-0.3, -0.5, -0.1), "partial"),  # competitive
        ((0.1, -0.05, 0.25), (0.0, -0.01, 0.01), "no evidence of"),
    ],
)
def test_verdict_uses_indirect_interval_and_remaining_direct_effect(indirect, direct, expected):
    assert mediation_verdict(indirect, direct) == expected


def test_conclusion_states_indirect_effect_with_interval(bpg):
    result = _run(bpg)
    row = result.effect("total_indirect")
    sentence = result.conclusion["within"]
    assert f"{row['estimate']:.3g}" in sentence
    assert f"{row['ci_low']:.3g} to {row['ci_high']:.3g}" in sentence
    assert result.verdict["within"] == "partial"  # BPG06: a clear direct effect remains


@pytest.mark.filterwarnings("ignore::classdyad.errors.SingularFitWarning")  # pairs of rows
def test_formulas_use_the_data_column_names(bpg):
    result = _run(bpg.assign(student=np.arange(len(bpg)) // 2), repeated="student")
    formulas = result.formulas()
    assert formulas[0] == "m ~ 1 + x_within + x_between + (1 | id) + (1 | student)"
    assert formulas[1] == ("y ~ 1 + m_within + m_between + x_within + x_between + (1 | id) + "
                           "(1 | student)")
    assert formulas[1] in result.summary()


@pytest.mark.parametrize("role_column", [("outcome", "y"), ("mediator", "m"),
                                         ("exposure", "x")])
def test_an_infinite_value_is_named_with_its_role(bpg, role_column):
    role, column = role_column
    data = bpg.copy()
    data.loc[4, column] = np.inf
    with pytest.raises(DataError, match=rf"'{column}' \(the {role}\) is infinite in 1"):
        _run(data)


def test_a_constant_outcome_reads_as_a_number(bpg):
    with pytest.raises(DataError, match=r"it is 2.0 in all"):
        _run(bpg.assign(y=2.0))
