"""Progress on coaching goals, on a small synthetic class observed in two waves."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from classdyad.analysis.goal_progress import goal_progress
from classdyad.analysis.teacher_feedback import teacher_feedback
from classdyad.errors import DataError


def _class(rng: np.random.Generator) -> pd.DataFrame:
    """Class 7A: 14 students, 4 hours each per wave; S01 and S02 have many negative
    interactions in wave 1 and few in wave 2; everyone else keeps their rate."""
    rows = []
    for wave in (1, 2):
        for k in range(14):
            student = f"S{k + 1:02d}"
            negative_rate = 0.8
            if student in ("S01", "S02"):
                negative_rate = 6.0 if wave == 1 else 0.8
            positive_rate = 2.0 if wave == 1 else 3.0
            rows.append({"classroom": "7A", "wave": wave, "student": student, "minutes": 240.0,
                         "negative": rng.poisson(negative_rate * 4),
                         "positive": rng.poisson(positive_rate * 4),
                         "neutral": rng.poisson(20 * 4)})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def result():
    return teacher_feedback(_class(np.random.default_rng(11)), teacher="T1")


GOALS = pd.DataFrame([
    {"goal": 1, "classroom": "7A", "wave": 2, "kind": "fewer_negative",
     "students": ["S01", "S02"], "target": 0.5},
    {"goal": 2, "classroom": "7A", "wave": 2, "kind": "fewer_negative", "students": ["S05"],
     "target": None},
    {"goal": 3, "classroom": "7A", "wave": 2, "kind": "more_positive", "students": [],
     "target": 1.2},
    {"goal": 4, "classroom": "7A", "wave": 3, "kind": "fewer_negative", "students": ["S01"],
     "target": None},
    {"goal": 5, "classroom": "7A", "wave": 1, "kind": "more_positive", "students": [],
     "target": None},
])


def test_each_goal_compares_the_goal_wave_with_the_wave_before(result) -> None:
    progress = goal_progress(result, GOALS)
    s01 = progress[(progress["goal"] == 1) & (progress["student"] == "S01")].iloc[0]
    students = result.students.set_index(["student", "valence", "wave"])
    before, now = students.loc[("S01", "negative", 1)], students.loc[("S01", "negative", 2)]
    assert s01["baseline_wave"] == 1 and s01["wave"] == 2
    assert s01["baseline_rate"] == before["shrunken_rate"]
    assert s01["current_ci_high"] == now["ci_high"]
    log_ratio = math.log(now["shrunken_rate"] / before["shrunken_rate"])
    sd = math.hypot(before["log_rate_sd"], now["log_rate_sd"])
    assert s01["rate_ratio"] == pytest.approx(math.exp(log_ratio), rel=1e-12)
    assert s01["prob_progress"] == pytest.approx(scipy.stats.norm.cdf(-log_ratio / sd),
                                                 rel=1e-12)
    assert s01["prob_target"] == pytest.approx(
        scipy.stats.norm.cdf(-(log_ratio - math.log(0.5)) / sd), rel=1e-12)
    assert s01["ratio_ci_low"] < s01["rate_ratio"] < s01["ratio_ci_high"]


def test_a_large_drop_is_credible_and_an_unchanged_rate_is_not(result) -> None:
    progress = goal_progress(result, GOALS)
    chosen = progress[progress["goal"] == 1].set_index("level")
    assert list(progress.loc[progress["goal"] == 1, "student"].iloc[:2]) == ["S01", "S02"]
    assert (progress.loc[(progress["goal"] == 1) & (progress["level"] == "student"), "status"]
            == "credible_progress").all()
    together = chosen.loc["chosen"]
    assert together["status"] == "credible_progress" and together["rate_ratio"] < 0.5
    s05 = progress[progress["goal"] == 2].iloc[0]
    assert s05["status"] == "no_credible_change"
    assert 0.05 < s05["prob_progress"] < 0.95


def test_the_chosen_students_together_use_a_conservative_standard_deviation(result) -> None:
    progress = goal_progress(result, GOALS)
    part = progress[progress["goal"] == 1].set_index("level")
    each = part.loc["student"]
    log_ratios = np.log(each["rate_ratio"].to_numpy(dtype=float))
    sds = (np.log(each["ratio_ci_high"].to_numpy(dtype=float)) - log_ratios) / 1.959963984540054
    together = part.loc["chosen"]
    assert together["rate_ratio"] == pytest.approx(math.exp(log_ratios.mean()), rel=1e-12)
    mean_sd = sds.mean()
    assert together["prob_progress"] == pytest.approx(
        scipy.stats.norm.cdf(-log_ratios.mean() / mean_sd), rel=1e-9)
    # never narrower than independence would make it
    assert mean_sd >= math.sqrt(np.sum(sds**2)) / len(sds) - 1e-12


def test_a_class_goal_uses_the_typical_rate(result) -> None:
    progress = goal_progress(result, GOALS)
    row = progress[progress["goal"] == 3].iloc[0]
    classes = result.classes[result.classes["valence"] == "positive"].set_index("wave")
    assert row["level"] == "class" and pd.isna(row["student"])
    assert row["baseline_rate"] == classes.loc[1, "rate"]
    assert row["current_rate"] == classes.loc[2, "rate"]
    z = (classes.loc[2, "intercept"] - classes.loc[1, "intercept"]) / math.hypot(
        classes.loc[1, "intercept_se"], classes.loc[2, "intercept_se"])
    assert row["prob_progress"] == pytest.approx(scipy.stats.norm.cdf(z), rel=1e-12)
    assert row["status"] == ("credible_progress" if row["prob_progress"] > 0.95 else
                             "no_credible_change")


def test_goals_without_a_current_wave_or_a_baseline_say_so(result) -> None:
    progress = goal_progress(result, GOALS)
    assert set(progress.loc[progress["goal"] == 4, "status"]) == {"not_observed_yet"}
    assert set(progress.loc[progress["goal"] == 5, "status"]) == {"no_baseline"}
    assert progress.loc[progress["goal"] == 4, "rate_ratio"].isna().all()
    unobserved = goal_progress(result, GOALS.iloc[[2]].assign(classroom="9Z"))
    assert list(unobserved["status"]) == ["no_baseline"]


def test_an_unknown_student_is_not_observed_and_an_unknown_kind_is_refused(result) -> None:
    goals = pd.DataFrame([{"goal": 9, "classroom": "7A", "wave": 2, "kind": "fewer_negative",
                           "students": ["NOBODY"], "target": None}])
    progress = goal_progress(result, goals)
    assert list(progress["status"]) == ["not_observed", "not_observed"]
    with pytest.raises(DataError, match="fewer_negative, more_positive"):
        goal_progress(result, goals.assign(kind="kinder"))
    with pytest.raises(DataError, match="students"):
        goal_progress(result, goals.drop(columns="students"))
