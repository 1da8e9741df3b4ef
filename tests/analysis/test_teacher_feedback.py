"""teacher_feedback(): options, input checks, the flag rule, spread, trends, the teacher's view,
guidance, and recovery of known rates (the golden comparison with lme4 is in
test_teacher_feedback_golden.py)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.analysis import TeacherFeedbackResult, teacher_feedback
from classdyad.analysis.interaction_spread import gini, lorenz_curve, top_share
from classdyad.analysis.teacher_feedback import class_rate_model
from classdyad.analysis.teacher_feedback_results import GUIDANCE_MESSAGES
from classdyad.errors import DataError, EstimationError, OptionError

DATA = pd.read_csv(Path(__file__).parent.parent / "data" / "teacher_feedback_counts.csv")


@pytest.fixture(scope="module")
def result() -> TeacherFeedbackResult:
    ratings = DATA[["wave", "student"]].copy()
    rng = np.random.default_rng(3)
    ratings["closeness"] = rng.uniform(2.0, 5.0, len(ratings))
    ratings["conflict"] = rng.uniform(1.0, 4.0, len(ratings))
    return teacher_feedback(DATA, ratings=ratings, teacher="T1")


def test_unknown_options_list_the_allowed_ones() -> None:
    with pytest.raises(OptionError, match="'posterior', 'fdr'"):
        teacher_feedback(DATA, flag_rule="bonferroni")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"between 0\.5 and 1"):
        teacher_feedback(DATA, flag_level=1.5)
    with pytest.raises(OptionError, match="whole number"):
        teacher_feedback(DATA, min_cell=0)


def test_missing_columns_and_bad_counts_say_how_to_fix_them() -> None:
    with pytest.raises(DataError, match="minutes"):
        teacher_feedback(DATA.drop(columns="minutes"))
    bad = DATA.assign(negative=DATA["negative"] + 0.5)
    with pytest.raises(DataError, match="whole counts"):
        teacher_feedback(bad)
    with pytest.raises(DataError, match="without gaps"):
        teacher_feedback(DATA.assign(positive=np.nan))


def test_rows_per_lesson_give_the_same_estimates_as_rows_per_wave(result) -> None:
    # split every student's wave into two lessons: the Poisson likelihood depends on the sums
    first = DATA.assign(minutes=DATA["minutes"] * 0.4, positive=DATA["positive"] // 2,
                        negative=DATA["negative"] // 2, neutral=DATA["neutral"] // 2)
    second = DATA.assign(minutes=DATA["minutes"] * 0.6,
                         positive=DATA["positive"] - DATA["positive"] // 2,
                         negative=DATA["negative"] - DATA["negative"] // 2,
                         neutral=DATA["neutral"] - DATA["neutral"] // 2)
    split = teacher_feedback(pd.concat([first, second], ignore_index=True), teacher="T1")
    pd.testing.assert_frame_equal(split.students, result.students)


def test_flags_are_negative_only_above_the_class_and_never_a_ranking(result) -> None:
    students = result.students
    assert not students.loc[students["valence"] != "negative", "flag"].any()
    flagged = students[students["flag"]]
    assert (flagged["prob_above"] > 0.95).all()
    assert (flagged["log_effect"] > 0).all()
    assert set(result.flagged["student"]) == set(flagged["student"])
    assert len(result.flagged) < len(students[students["valence"] == "negative"])
    assert (result.flagged["rate_ratio"] > 1).all()


def test_the_fdr_rule_flags_no_more_than_the_posterior_rule(result) -> None:
    fdr = teacher_feedback(DATA, flag_rule="fdr")
    negative = fdr.students[fdr.students["valence"] == "negative"]
    assert ((negative["q_value"] <= 0.05) == negative["flag"]).all()
    assert fdr.students["flag"].sum() <= result.students["flag"].sum()
    assert "Benjamini-Hochberg" in fdr.flag_rule_text


def test_intervals_hold_the_shrunken_rate_and_shrink_towards_the_class(result) -> None:
    s = result.students.dropna(subset=["shrunken_rate"])
    assert ((s["ci_low"] < s["shrunken_rate"]) & (s["shrunken_rate"] < s["ci_high"])).all()
    classes = result.classes.set_index(["classroom", "wave", "valence"])["rate"]
    typical = classes.reindex(pd.MultiIndex.from_frame(s[["classroom", "wave", "valence"]]))
    # the conditional mode lies between the class's typical rate and the student's own rate
    raw = np.log(s["count"].where(s["count"] > 0) / s["hours"]).to_numpy()
    shrunk = np.log(s["shrunken_rate"].to_numpy()) - np.log(typical.to_numpy())
    raw = raw - np.log(typical.to_numpy())
    seen = ~np.isnan(raw)
    assert (np.abs(shrunk[seen]) <= np.abs(raw[seen]) + 1e-6).all()
    assert (np.sign(shrunk[seen]) * np.sign(raw[seen]) >= 0).all()


def test_spread_trends_and_the_teachers_view_are_filled_in(result) -> None:
    assert set(result.spread.columns) >= {"gini", "top_fifth_negative_share",
                                          "positive_negative_ratio",
                                          "typical_positive_negative_ratio"}
    assert result.spread["gini"].between(0, 1).all()
    assert len(result.lorenz) == sum(len(DATA[(DATA["classroom"] == c) & (DATA["wave"] == w)])
                                     + 1 for c, w in result.spread[["classroom", "wave"]]
                                     .itertuples(index=False))
    assert set(result.class_trends["valence"]) == {"positive", "negative", "neutral"}
    assert (result.class_trends["first_wave"] == 1).all()
    assert len(result.student_trends) == 3 * DATA["student"].nunique()
    assert (result.disagreements["gap"].abs() >= 1).all()
    assert result.disagreements.groupby(["classroom", "wave", "aspect"]).size().max() <= 3
    assert result.groups is None


def test_guidance_topics_have_messages_and_the_result_serialises(result) -> None:
    assert set(result.guidance["topic"]) <= set(GUIDANCE_MESSAGES)
    assert len(result.guidance)
    data = result.to_dict()
    record = data["students"][0]
    for key in ("classroom", "wave", "student", "valence", "count", "minutes", "rate",
                "shrunken_rate", "ci_low", "ci_high", "flag"):
        assert key in record
    assert data["groups"] is None
    assert result.to_frame().equals(result.students)
    assert "Flagged students" in result._repr_html_()


def test_a_class_without_any_interaction_of_a_kind_gets_a_note() -> None:
    quiet = DATA.assign(negative=np.where(DATA["classroom"] == "C2", 0, DATA["negative"]))
    out = teacher_feedback(quiet)
    c2 = out.classes[(out.classes["classroom"] == "C2") & (out.classes["valence"] == "negative")]
    assert c2["rate"].isna().all()
    assert (c2["note"] == "no interactions of this kind observed").all()
    with pytest.raises(EstimationError):
        class_rate_model(pd.DataFrame({"student": ["a", "b", "c"], "count": [0, 0, 0],
                                       "hours": [1.0, 2.0, 1.0]}))


def test_gini_lorenz_and_top_share_on_known_values() -> None:
    assert gini([1, 1, 1, 1]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)  # (n - 1) / n for one holding everything
    assert math.isnan(gini([0, 0]))
    curve = lorenz_curve([1, 3])
    assert curve["interaction_share"].tolist() == pytest.approx([0.0, 0.25, 1.0])
    assert top_share([1, 1, 1, 1, 6], fraction=0.2) == pytest.approx(0.6)
    assert top_share(list(range(1, 24)), fraction=0.2) == pytest.approx(
        sum(range(19, 24)) / sum(range(1, 24)))
    with pytest.raises(DataError):
        gini([1, -1])


def test_intervals_cover_known_rates() -> None:
    """Per-student 95% intervals of simulated classes cover the true rates about 95% of the
    time (400 students: a coverage between 0.90 and 0.99 is expected with high probability)."""
    rng = np.random.default_rng(11)
    covered, total = 0, 0
    for _ in range(20):
        n = 20
        true = 0.65 * np.exp(rng.normal(0.0, 0.5, n))
        hours = rng.choice([2.5, 1.5, 0.75], size=n)
        counts = pd.DataFrame({"student": [f"s{i}" for i in range(n)],
                               "count": rng.poisson(true * hours), "hours": hours})
        estimates, _ = class_rate_model(counts)
        covered += int(((estimates["ci_low"] <= true) & (true <= estimates["ci_high"])).sum())
        total += n
    assert 0.90 <= covered / total <= 0.99
