"""mediation() against lavaan 0.6-14 (R 4.2.2): ``tests/analysis/golden/mediation_lavaan.R``.

Single level (``tests/data/mediation_single_level.csv``, 300 rows, two parallel mediators and a
covariate; ``decomposition="none"``, ``cluster=None``, i.e. least squares):

- path estimates (a, b, c') and the defined effects (indirect per mediator, total indirect, total)
  equal lavaan's to 1e-6 absolute (they agree to about 1e-15: both are least squares);
- standard errors of the paths: ours are least-squares ones (``RSS / (n - p)``), lavaan's maximum
  likelihood ones (``RSS / n``); ``ours * sqrt((n - p) / n)`` equals lavaan's to 1e-6 relative,
  with p the number of coefficients of that regression (3 in the a models, 5 in the outcome model).
  The reference model frees the mediators' residual covariance (``m1 ~~ m2``), which the data
  have; lavaan's default fixes it at zero;
- the Monte Carlo standard deviations of the defined effects estimate the same sampling spread as
  lavaan's delta-method standard errors: equal within 5 % relative (Monte Carlo error with 20,000
  draws is about 0.5 %, the ML/LS convention about 1 %, the rest is the delta method's first-order
  approximation of a product).

Two levels (``tests/data/bpg06_multilevel_mediation.csv``, Bauer, Preacher & Gil 2006; 100
clusters of 8): lavaan's two-level model splits every variable into latent within and between
parts (Mplus-style). Within the clusters its paths are the pooled within-cluster regressions, and
so are the CWC(M) within paths of a random-intercept model with the cluster means included: the
within a, b, c' and indirect effects agree to 1e-4 relative (observed: about 1e-5, lavaan's
optimizer tolerance), their standard errors to 1 % (ML against REML). Between clusters lavaan
regresses on the *latent* cluster means, CWC(M) on the *observed* ones, which carry sampling
error (with 8 students per cluster and an ICC below 1 the reliability of an observed mean is below
1): the between paths differ by a few percent and their standard errors by about 10 % (Lüdtke et
al. 2008); the test checks agreement within 5 % for the between paths and 1 % for the between
indirect effect on these data, and does not claim more.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.analysis import mediation

GOLDEN = json.loads((Path(__file__).parent / "golden" / "mediation_lavaan.json").read_text())
DATA = Path(__file__).parents[1] / "data"

SINGLE_PATHS = {  # lavaan label: (effect, mediator, coefficients in that regression)
    "a1": ("a", "m1", 3),
    "a2": ("a", "m2", 3),
    "b1": ("b", "m1", 5),
    "b2": ("b", "m2", 5),
    "cp": ("direct", None, 5),
}
SINGLE_DEFINED = {
    "ind1": ("indirect", "m1"),
    "ind2": ("indirect", "m2"),
    "total_indirect": ("total_indirect", None),
    "total": ("total", None),
}


@pytest.fixture(scope="module")
def single_level():
    data = pd.read_csv(DATA / "mediation_single_level.csv")
    return mediation(data, exposure="x", mediators=["m1", "m2"], outcome="y", cluster=None,
                     covariates=["z"], decomposition="none", rng=20240611)


@pytest.fixture(scope="module")
def two_level():
    data = pd.read_csv(DATA / "bpg06_multilevel_mediation.csv")
    return mediation(data, exposure="x", mediators="m", outcome="y", cluster="id", rng=2006)


@pytest.mark.parametrize("label", list(SINGLE_PATHS))
def test_single_level_paths_equal_lavaan(single_level, label):
    effect, mediator, p = SINGLE_PATHS[label]
    reference = GOLDEN["single_level"]["free_covariance"][label]
    row = single_level.effect(effect, component="overall", mediator=mediator)
    n = GOLDEN["single_level"]["n"]
    assert row["estimate"] == pytest.approx(reference["estimate"], abs=1e-6)
    assert row["std_error"] * np.sqrt((n - p) / n) == pytest.approx(
        reference["std_error"], rel=1e-6)


@pytest.mark.parametrize("label", list(SINGLE_DEFINED))
def test_single_level_indirect_effects_equal_lavaan(single_level, label):
    effect, mediator = SINGLE_DEFINED[label]
    reference = GOLDEN["single_level"]["free_covariance"][label]
    row = single_level.effect(effect, component="overall", mediator=mediator)
    assert row["estimate"] == pytest.approx(reference["estimate"], abs=1e-6)
    assert row["std_error"] == pytest.approx(reference["std_error"], rel=0.05)
    assert row["method"] == "monte_carlo"


def test_lavaan_default_and_free_residual_covariance_give_the_same_estimates():
    free, zero = (GOLDEN["single_level"][k] for k in ("free_covariance", "zero_covariance"))
    for label in SINGLE_PATHS:
        assert free[label]["estimate"] == pytest.approx(zero[label]["estimate"], abs=1e-9)


@pytest.mark.parametrize(
    ("label", "effect"),
    [("a_w", "a"), ("b_w", "b"), ("cp_w", "direct"), ("indirect_within", "indirect")],
)
def test_two_level_within_effects_match_lavaan(two_level, label, effect):
    reference = GOLDEN["two_level"]["estimates"][label]
    row = two_level.effect(effect, component="within",
                           mediator=None if effect == "direct" else "m")
    assert row["estimate"] == pytest.approx(reference["estimate"], rel=1e-4)
    assert row["std_error"] == pytest.approx(reference["std_error"], rel=0.01)


@pytest.mark.parametrize(
    ("label", "effect", "tolerance"),
    [("a_b", "a", 0.05), ("b_b", "b", 0.05), ("cp_b", "direct", 0.05),
     ("indirect_between", "indirect", 0.01)],
)
def test_two_level_between_effects_are_close_to_lavaan_latent_means(
    two_level, label, effect, tolerance
):
    reference = GOLDEN["two_level"]["estimates"][label]
    row = two_level.effect(effect, component="between",
                           mediator=None if effect == "direct" else "m")
    assert row["estimate"] == pytest.approx(reference["estimate"], rel=tolerance)
