"""The replica generator reproduces the seed design, is deterministic, and its truth is recoverable.

Recovery uses simple estimators on the analysis dataset: Poisson regressions with log hours as
offset for the interaction rates, and ordinary least squares for the teacher-reported closeness,
both with standard errors clustered by class. Under the log link, class and student random effects
that are independent of the covariates shift only the intercept, so the slopes estimate the true
log rate ratios. The check is |estimate - truth| < 4 SE: cluster-robust SEs from 73 classes are
somewhat too small, and a 4 SE band keeps the false-alarm rate of a correct generator near 1e-4
(the seed is fixed, so the test is repeatable).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from classdyad.errors import DataError
from classdyad.simulate import (
    OutcomeModel,
    ReplicaDesign,
    ReplicaTruth,
    SimulatedStudy,
    simulate_study,
)
from classdyad.study import build_analysis_dataset, rate_ratio


@pytest.fixture(scope="module")
def dataset(replica_study: SimulatedStudy) -> pd.DataFrame:
    return build_analysis_dataset(replica_study.tables)


def test_the_default_design_is_the_seed_study(replica_study: SimulatedStudy) -> None:
    tables = replica_study.tables
    assert len(tables.schools) == 32
    assert len(tables.classrooms) == 73
    assert len(tables.students) == 1566
    assert len(tables.waves) == 3
    assert abs(len(tables.events) - 183_000) <= 0.05 * 183_000
    shares = tables.events["valence"].value_counts(normalize=True)
    assert shares["neutral"] > 0.7
    assert set(tables.classrooms["school_id"]) == set(tables.schools["id"])


def test_the_design_has_duos_combined_grades_absences_and_mobility(replica_study) -> None:
    tables = replica_study.tables
    assert (~tables.classroom_teachers["primary"]).sum() > 5
    combined = tables.classrooms["lowest_grade"] != tables.classrooms["highest_grade"]
    assert 0.05 < combined.mean() < 0.4
    assert 0.02 < (~tables.attendance["present"]).mean() < 0.1
    waves_per_student = tables.enrolments.groupby("student_id")["wave_id"].agg(["min", "max"])
    assert (waves_per_student["min"] > 1).sum() > 20  # joined during the year
    assert (waves_per_student["max"] < 3).sum() > 20  # left during the year
    assert tables.response_items["value"].isna().mean() > 0.01
    assert set(tables.events["coder_id"].unique()) >= {1, 2, 3, 4, 5}


def test_the_same_seed_gives_the_same_study() -> None:
    design = ReplicaDesign(schools=3, classes=5, students=100)
    first, second = simulate_study(design, rng=11), simulate_study(design, rng=11)
    for name in first.tables.table_names():
        pd.testing.assert_frame_equal(getattr(first.tables, name), getattr(second.tables, name))
    other = simulate_study(design, rng=12)
    assert not other.tables.events["video_seconds"].equals(first.tables.events["video_seconds"])


def test_background_is_raw_and_classifies_back_to_the_drawn_shares(dataset) -> None:
    shares = dataset.drop_duplicates("student_id")["migration_background"].value_counts(
        normalize=True)
    truth = ReplicaTruth().origin_shares
    for origin, share in truth.items():
        assert abs(shares.get(origin, 0.0) - share) < 0.05, origin


def _poisson(dataset: pd.DataFrame, valence: str) -> tuple[pd.Series, pd.Series]:
    data = dataset[dataset["hours_present"] > 0].copy()
    data["other_non_western"] = data["non_western"] & ~data["turkish_moroccan"]
    x = sm.add_constant(data[["low_ses", "turkish_moroccan", "other_non_western", "boy"]]
                        .astype(float))
    fit = sm.GLM(data[valence].astype(float), x, family=sm.families.Poisson(),
                 offset=np.log(data["hours_present"])).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(data["classroom"])[0]})
    return fit.params, fit.bse


@pytest.mark.parametrize("valence", ["negative", "positive"])
def test_rate_ratios_are_recovered_within_their_sampling_error(dataset, valence) -> None:
    params, se = _poisson(dataset, valence)
    truth = ReplicaTruth().rates[valence].log_rate_ratio
    for term, value in truth.items():
        assert abs(params[term] - value) < 4 * se[term], (term, params[term], value)


def test_turkish_and_moroccan_students_get_more_negative_interactions(dataset) -> None:
    crude = rate_ratio(dataset, valence="negative", group="turkish_moroccan")
    assert crude > 1.3
    assert math.isclose(ReplicaTruth().rates["negative"].rate_ratio("turkish_moroccan"), 1.4)


def test_non_western_students_as_a_whole_get_no_more_negative_interactions(dataset) -> None:
    # the other non-western groups get fewer negative interactions than Dutch students, which
    # balances the Turkish/Moroccan excess (the published finding for the group as a whole)
    truth = ReplicaTruth().rates["negative"]
    assert truth.rate_ratio("other_non_western") < 1.0 < truth.rate_ratio("turkish_moroccan")
    data = dataset[dataset["hours_present"] > 0]
    x = sm.add_constant(data[["low_ses", "non_western", "boy"]].astype(float))
    fit = sm.GLM(data["negative"].astype(float), x, family=sm.families.Poisson(),
                 offset=np.log(data["hours_present"])).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(data["classroom"])[0]})
    assert abs(fit.params["non_western"]) < 2.5 * fit.bse["non_western"]


def test_closeness_follows_interactions_with_a_negativity_bias(dataset) -> None:
    data = dataset.dropna(subset=["teacher_closeness", "positive_rate", "negative_rate"])
    data = data.assign(other_non_western=data["non_western"] & ~data["turkish_moroccan"])
    terms = ["positive_rate", "negative_rate", "turkish_moroccan", "other_non_western",
             "low_ses", "boy"]
    fit = sm.OLS(data["teacher_closeness"], sm.add_constant(data[terms].astype(float))).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(data["classroom"])[0]})
    model = ReplicaTruth().outcomes["teacher_closeness"]
    # a Turkish/Moroccan or other non-western student also has the non-western coefficient
    direct = model.coefficients
    truth = {"positive_rate": model.per_positive_per_hour,
             "negative_rate": model.per_negative_per_hour, **direct,
             "turkish_moroccan": direct["non_western"] + direct["turkish_moroccan"],
             "other_non_western": direct["non_western"] + direct["other_non_western"]}
    for term in terms:
        assert abs(fit.params[term] - truth[term]) < 4 * fit.bse[term], term
    sd = data[["positive_rate", "negative_rate"]].std()
    assert abs(fit.params["negative_rate"] * sd["negative_rate"]) > abs(
        fit.params["positive_rate"] * sd["positive_rate"])


def test_truth_record_holds_design_truth_and_realized_sizes(small_study) -> None:
    record = small_study.truth_record()
    assert record["seed"] == 7
    assert record["design"]["schools"] == 4
    assert record["truth"]["rate_ratios"]["negative"]["turkish_moroccan"] == pytest.approx(1.4)
    assert record["realized"]["events"] == len(small_study.tables.events)


def test_scale_multiplies_the_study() -> None:
    design = ReplicaDesign(schools=2, classes=4, students=60, scale=2.5)
    study = simulate_study(design, rng=1)
    assert (len(study.tables.schools), len(study.tables.classrooms),
            len(study.tables.students)) == (5, 10, 150)


@pytest.mark.parametrize("knobs", [{"schools": 0}, {"classes": 2, "schools": 3},
                                   {"students": 10, "classes": 4},
                                   {"absence_rate": 1.5}, {"lesson_minutes": (50.0, 20.0)},
                                   {"scale": -1.0}])
def test_impossible_designs_are_refused_with_a_reason(knobs) -> None:
    with pytest.raises(DataError, match="ReplicaDesign"):
        ReplicaDesign(**knobs)


def test_a_truth_with_an_unknown_term_is_refused_listing_the_known_ones() -> None:
    truth = ReplicaTruth()
    outcomes = dict(truth.outcomes)
    model = outcomes["teacher_closeness"]
    outcomes["teacher_closeness"] = OutcomeModel(
        model.intercept, model.per_positive_per_hour, model.per_negative_per_hour,
        {**model.coefficients, "moroccan": -0.1}, model.class_sd, model.student_sd,
        model.residual_sd)
    with pytest.raises(DataError, match=r"unknown term.*moroccan.*turkish_moroccan"):
        ReplicaTruth(outcomes=outcomes)
