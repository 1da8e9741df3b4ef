"""The lean H3 steps' own pieces: closed-form conditional residuals and the work columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from classdyad.mixed import lmm
from classdyad.simulate import ReplicaDesign, draw_analysis_dataset
from classdyad.simulate.power_columns import MediationColumns, NotPlain
from classdyad.simulate.power_steps import _conditional_residuals

DESIGN = ReplicaDesign(schools=5, classes=10, students=200)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    dataset = draw_analysis_dataset(DESIGN, rng=2, iat=False).dropna(
        subset=["positive_rate", "negative_rate"])
    return dataset.assign(G=dataset["classroom"], R=dataset["student"],
                          x=dataset["low_ses"].astype(float), b=dataset["boy"].astype(float))


@pytest.mark.parametrize("random", ["(1 | G) + (1 | R)", "(1 | R) + (1 | G)", "(1 | G)",
                                    "(1 | school) + (1 | G)"])
def test_conditional_residuals_equal_predict(data: pd.DataFrame, random: str) -> None:
    fit = lmm(f"negative_rate ~ x + b + {random}", data)
    expected = fit.design.response - fit.predict()
    np.testing.assert_allclose(_conditional_residuals(fit), expected, rtol=0,
                               atol=1e-12 * np.abs(expected).max())


def test_conditional_residuals_of_students_in_two_classes(data: pd.DataFrame) -> None:
    moved = data.copy()
    first = moved.index[0]
    student = moved.loc[first, "R"]
    other = moved.loc[moved["G"] != moved.loc[first, "G"], "G"].iloc[0]
    moved.loc[(moved["R"] == student) & (moved.index != first), "G"] = other
    fit = lmm("negative_rate ~ x + (1 | G) + (1 | R)", moved)
    np.testing.assert_allclose(_conditional_residuals(fit),
                               fit.design.response - fit.predict(), rtol=1e-12, atol=1e-12)


def test_class_codes_follow_the_labels_sorted_as_text(data: pd.DataFrame) -> None:
    columns = MediationColumns(data, ["boy"], "student")
    ranks = columns.ranks("classroom")
    labels = data["classroom"].astype(str).to_numpy()
    assert (np.sort(np.unique(labels))[ranks] == labels).all()
    step = columns.step("ses_ethnicity", "low_ses", "teacher_closeness", ["non_western"])
    work = columns.work(step, "low_ses", ["non_western"])
    rows = data.iloc[step.positions]
    means = rows.groupby("classroom")["low_ses"].transform("mean").to_numpy(dtype=float)
    np.testing.assert_array_equal(work["X_b"], means)
    np.testing.assert_array_equal(work["X_w"], rows["low_ses"].to_numpy(dtype=float) - means)
    assert set(work) >= {"Y", "M0", "M1", "G", "R", "C0", "C1", "M0_w", "M1_b"}


def test_a_mediator_constant_within_classes_is_not_plain(data: pd.DataFrame) -> None:
    flat = data.assign(positive_rate=data.groupby("classroom")["positive_rate"]
                       .transform("mean"))
    with pytest.raises(NotPlain):
        MediationColumns(flat, [], "student").step("ses_ethnicity", "low_ses",
                                                   "teacher_closeness", [])
