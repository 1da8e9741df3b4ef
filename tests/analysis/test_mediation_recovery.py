"""Recovery of known effects on replica studies (``classdyad.simulate``).

The replica's teacher-reported closeness is linear in the observed interaction rates per hour
(``ReplicaTruth().outcomes["teacher_closeness"]``: +0.04 per positive, -0.30 per negative
interaction per hour) with a direct low-SES effect of -0.06 and direct effects of the ethnic
groups, so the b paths and the direct low-SES effect of the 1-1-1 mediation model of the low-SES
gap (adjusted, as in the study plan, for Turkish/Moroccan and non-western background) have these
true values within and between classes. The a paths are on the rate-per-hour scale while the
truth is log-linear with class and student random effects, so they (and the indirect effects)
have no simple closed form and are checked for sign only. Teachers' IAT scores enter nothing:
the cross-level interaction and the index of moderated mediation are zero.

``test_interval_coverage_over_seeds`` is the fast coverage check (6 small replicas, 8 intervals
each); ``bench/bench_mediation_recovery.py`` runs the same check over hundreds of replications.
"""

from __future__ import annotations

import pytest

from classdyad.analysis import (
    cross_level_moderation,
    mediation,
    moderated_mediation,
    negativity_bias,
)
from classdyad.simulate import ReplicaDesign, ReplicaTruth, simulate_study
from classdyad.study import build_analysis_dataset

TRUTH = ReplicaTruth().outcomes["teacher_closeness"]
SMALL = ReplicaDesign(schools=8, classes=16, students=340)
#: the ethnic groups' direct effects, so that the low-SES direct effect is identified
ADJUST = ["boy", "turkish_moroccan", "non_western"]


@pytest.fixture(scope="module")
def replica():
    return build_analysis_dataset(simulate_study(rng=1).tables)


@pytest.fixture(scope="module")
def replica_mediation(replica):
    return mediation(replica, exposure="low_ses", mediators=["positive_rate", "negative_rate"],
                     outcome="teacher_closeness", cluster="classroom", covariates=ADJUST,
                     repeated="student", n_draws=5000, rng=1)


@pytest.mark.parametrize(
    ("effect", "mediator", "truth"),
    [("b", "positive_rate", TRUTH.per_positive_per_hour),
     ("b", "negative_rate", TRUTH.per_negative_per_hour),
     ("direct", None, TRUTH.coefficients["low_ses"])],
)
def test_within_class_paths_recover_the_truth(replica_mediation, effect, mediator, truth):
    row = replica_mediation.effect(effect, component="within", mediator=mediator)
    assert row["ci_low"] <= truth <= row["ci_high"]
    assert row["estimate"] == pytest.approx(truth, abs=3 * row["std_error"])


def test_negative_interactions_mediate_the_low_ses_gap(replica_mediation):
    a = replica_mediation.effect("a", mediator="negative_rate")
    indirect = replica_mediation.effect("indirect", mediator="negative_rate")
    assert a["ci_low"] > 0  # more negative interactions with low-SES students
    assert indirect["ci_high"] < 0  # and so less closeness
    # a direct low-SES gap remains (the truth has one): partial, not full, mediation
    assert replica_mediation.verdict["within"] == "partial"


def test_negativity_bias_is_detected(replica):
    result = negativity_bias(replica, outcome="teacher_closeness", positive="positive_rate",
                             negative="negative_rate", cluster="classroom",
                             covariates=["boy", "non_western"], repeated="student")
    difference = result.effects.set_index("effect").loc["difference"]
    assert difference["ci_low"] > 0
    assert "negativity bias" in result.conclusion


def _intervals(seed: int) -> dict[str, tuple[float, float, float]]:
    data = build_analysis_dataset(simulate_study(SMALL, rng=seed).tables)
    result = mediation(data, exposure="low_ses", mediators=["positive_rate", "negative_rate"],
                       outcome="teacher_closeness", cluster="classroom", covariates=ADJUST,
                       repeated="student", n_draws=1000, rng=seed)
    out = {}
    for component in ("within", "between"):
        for effect, mediator, truth in (("b", "positive_rate", TRUTH.per_positive_per_hour),
                                        ("b", "negative_rate", TRUTH.per_negative_per_hour),
                                        ("direct", None, TRUTH.coefficients["low_ses"])):
            row = result.effect(effect, component=component, mediator=mediator)
            out[f"{effect} {mediator} {component}"] = (truth, row["ci_low"], row["ci_high"])
    moderation = cross_level_moderation(
        data, exposure="low_ses", moderator="teacher_iat_ses", outcome="negative_rate",
        cluster="classroom", covariates=["boy"], repeated="student", random_slope=True)
    row = moderation.effects.iloc[0]
    out["moderation"] = (0.0, row["ci_low"], row["ci_high"])
    moderated = moderated_mediation(
        data, exposure="low_ses", moderator="teacher_iat_ses", mediators="negative_rate",
        outcome="teacher_closeness", cluster="classroom", covariates=["boy"],
        repeated="student", random_slope=True, n_draws=1000, rng=seed)
    row = moderated.effects.set_index("effect").loc["index"]
    out["index"] = (0.0, row["ci_low"], row["ci_high"])
    return out


# 16 classes leave the correlation of a random slope with its intercept poorly determined:
# some fits reach the +-1 boundary, which lme4 also reports as singular; the fixed effects and
# their intervals stay usable.
@pytest.mark.filterwarnings("ignore::classdyad.errors.SingularFitWarning")
def test_interval_coverage_over_seeds():
    # 6 seeds x 8 intervals = 48 intervals of nominal 95 %: expect about 2.4 misses. With these
    # fixed seeds there are 3, all three between-class intervals of seed 2 (b of the positive
    # and of the negative rate and the direct effect, estimated from 16 class means); more than
    # 6 misses (P < 0.01 under correct coverage) would signal a broken interval.
    misses = []
    for seed in range(1, 7):
        for name, (truth, low, high) in _intervals(seed).items():
            if not low <= truth <= high:
                misses.append((seed, name))
    assert len(misses) <= 6, misses
