"""The fast path draws the analysis dataset from the same model as the event-level simulator.

Over many draws of a small design, the per-study means, variances and group rate ratios of the
two paths agree within Monte Carlo error (4 standard errors of the difference between the
two paths' averages; fixed seeds).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from classdyad.simulate import ReplicaDesign, ReplicaTruth, draw_analysis_dataset, simulate_study
from classdyad.study import build_analysis_dataset
from classdyad.study.dataset import DATASET_COLUMNS, rate_ratio

DESIGN = ReplicaDesign(schools=6, classes=12, students=300, second_coder_lesson_share=0.0)
DRAWS = 14


def _statistics(data: pd.DataFrame) -> dict[str, float]:
    out: dict[str, float] = {"rows": len(data), "hours_present": data["hours_present"].mean(),
                             "share_observed": (data["hours_present"] > 0).mean(),
                             "non_western": data["non_western"].astype(float).mean(),
                             "low_ses": data["low_ses"].astype(float).mean()}
    for column in ("positive", "negative", "neutral", "negative_rate", "positive_rate",
                   "teacher_closeness", "teacher_conflict", "student_closeness",
                   "student_conflict", "teacher_iat_ethnicity"):
        values = data[column].astype(float)
        out[f"mean {column}"] = values.mean()
        out[f"var {column}"] = values.var()
        out[f"missing {column}"] = values.isna().mean()
    for valence in ("negative", "positive"):
        for group in ("low_ses", "non_western"):
            out[f"log ratio {valence} {group}"] = math.log(
                rate_ratio(data, valence=valence, group=group))
    return out


def _compare(draws: int) -> None:
    fast = pd.DataFrame([_statistics(draw_analysis_dataset(DESIGN, rng=1000 + k))
                         for k in range(draws)])
    full = pd.DataFrame([_statistics(build_analysis_dataset(
        simulate_study(DESIGN, rng=2000 + k).tables)) for k in range(draws)])
    difference = fast.mean() - full.mean()
    se = np.sqrt(fast.var() / len(fast) + full.var() / len(full))
    z = (difference / se.where(se > 0)).fillna(0.0)
    assert (z.abs() < 4).all(), z[z.abs() >= 4].to_string()
    # and the check has teeth: the rate ratios are estimated to within a few percent
    assert se["log ratio negative low_ses"] < 0.3 / math.sqrt(draws)


def test_means_variances_and_rate_ratios_agree() -> None:
    _compare(DRAWS)


@pytest.mark.slow
def test_means_variances_and_rate_ratios_agree_over_many_draws() -> None:
    _compare(120)


def test_same_columns_as_the_analysis_dataset() -> None:
    data = draw_analysis_dataset(DESIGN, rng=3)
    assert list(data.columns) == list(DATASET_COLUMNS)
    assert data.groupby(["student_id", "wave"]).size().max() == 1
    assert data["hours_present"].ge(0).all()


def test_same_seed_same_dataset() -> None:
    pd.testing.assert_frame_equal(draw_analysis_dataset(DESIGN, rng=5, iat=False),
                                  draw_analysis_dataset(DESIGN, rng=5, iat=False))


def test_scale_scores_equal_the_study_scoring_of_the_same_answers() -> None:
    from classdyad.model import StudyTables
    from classdyad.simulate.measurement import draw_questionnaires, draw_scale_scores
    from classdyad.study.scores import score_study_questionnaires

    design = dataclasses.replace(DESIGN, item_missing_rate=0.15)  # some scores fall short
    rows = 400
    generator = np.random.default_rng(7)
    latent = pd.DataFrame({"student_id": np.arange(1, rows + 1), "wave_id": 1,
                           "classroom_id": 1, "teacher_id": 1,
                           "teacher_closeness": generator.normal(3.9, 0.6, rows),
                           "teacher_conflict": generator.normal(1.8, 0.6, rows),
                           "student_closeness": generator.normal(3.9, 0.6, rows),
                           "student_conflict": generator.normal(1.9, 0.6, rows),
                           "student_negative_expectations": generator.normal(1.8, 0.5, rows)})
    instruments, responses, items = draw_questionnaires(design, ReplicaTruth(), latent,
                                                        np.random.default_rng(11))
    study = score_study_questionnaires(StudyTables(
        name="check", instruments=instruments, responses=responses, response_items=items))
    fast = draw_scale_scores(design, ReplicaTruth(), latent, np.random.default_rng(11))
    checked = 0
    for (informant, subscale), values in fast.items():
        part = study[study["informant"] == informant].set_index("student_id")[subscale]
        expected = part.reindex(latent["student_id"]).to_numpy(dtype=float)
        np.testing.assert_array_equal(values, expected)
        checked += int(np.isfinite(values).sum())
    assert checked > 1000 and any(np.isnan(v).sum() > 20 for v in fast.values())


@pytest.mark.parametrize("latency_ms", [750.0, 540.0])  # 540: some sessions are excluded
def test_drawn_iat_scores_equal_the_study_scoring(latency_ms: float) -> None:
    from classdyad.model import StudyTables
    from classdyad.simulate.measurement import draw_iat, score_drawn_iat
    from classdyad.study.scores import score_study_iat

    truth = dataclasses.replace(ReplicaTruth(), iat_latency_ms=latency_ms)
    teachers = pd.DataFrame({"id": np.arange(1, 31)})
    sessions, trials, _true = draw_iat(DESIGN, truth, teachers, np.random.default_rng(3))
    study = score_study_iat(StudyTables(name="check", iat_sessions=sessions,
                                        iat_trials=trials))
    fast = score_drawn_iat(sessions, trials)
    np.testing.assert_array_equal(fast["session_id"], study["session_id"])
    np.testing.assert_array_equal(fast["d_score"], study["d_score"].to_numpy(dtype=float))
    excluded = int(np.isnan(fast["d_score"]).sum())
    assert (excluded > 0) == (latency_ms < 600) and excluded < len(fast)
