"""teacher_feedback() against lme4::glmer 1.1-31 (R 4.2.2).

Reference values: ``golden/teacher_feedback_reference.json``, written by
``golden/teacher_feedback_reference.R`` from ``tests/data/teacher_feedback_counts.csv``.

Tolerances: conditional modes (log scale, around zero) to 1e-4 absolute; conditional standard
deviations, shrunken rates, the class intercept, the variances of the joint approximation, the
Gini coefficient and the top-fifth share to 1e-4 relative. The class intercept's standard error
is compared at 2e-2 relative: lme4 takes it from a finite-difference Hessian evaluated with a
PIRLS tolerance of 1e-7 (see tests/mixed/test_glmm_golden.py). Singular fits (student variance
zero in lme4) must give a zero student standard deviation here too; their variances are the
limit of the joint approximation.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.analysis.teacher_feedback import teacher_feedback

HERE = Path(__file__).parent
DATA = pd.read_csv(HERE.parent / "data" / "teacher_feedback_counts.csv")
REF = json.loads((HERE / "golden" / "teacher_feedback_reference.json").read_text())
RTOL = 1e-4
ATOL_MODES = 1e-4


@pytest.fixture(scope="module")
def result():
    return teacher_feedback(DATA, teacher="T1")


def _cell(result, ref) -> pd.DataFrame:
    students = result.students
    part = students[(students["classroom"] == ref["classroom"])
                    & (students["wave"] == ref["wave"])
                    & (students["valence"] == ref["valence"])]
    return part.set_index("student").loc[ref["student"]]


@pytest.mark.parametrize("index", range(len(REF["cells"])))
def test_shrunken_rates_equal_glmer_conditional_modes(result, index: int) -> None:
    ref = REF["cells"][index]
    part = _cell(result, ref)
    np.testing.assert_allclose(part["log_effect"], ref["log_effect"], atol=ATOL_MODES)
    np.testing.assert_allclose(part["shrunken_rate"], ref["shrunken_rate"], rtol=RTOL)
    classes = result.classes.set_index(["classroom", "wave", "valence"])
    row = classes.loc[(ref["classroom"], ref["wave"], ref["valence"])]
    assert row["intercept"] == pytest.approx(ref["intercept"], rel=RTOL)
    assert row["intercept_se"] == pytest.approx(ref["intercept_se"], rel=2e-2)
    if ref["singular"]:
        assert row["student_sd"] == pytest.approx(0.0, abs=1e-4)
    else:
        assert row["student_sd"] == pytest.approx(ref["student_sd"], rel=RTOL)


@pytest.mark.parametrize("index", range(len(REF["cells"])))
def test_conditional_and_joint_variances_equal_the_reference(result, index: int) -> None:
    ref = REF["cells"][index]
    part = _cell(result, ref)
    if not ref["singular"]:
        np.testing.assert_allclose(part["effect_sd"], ref["effect_sd"], rtol=RTOL)
        np.testing.assert_allclose(part["laplace_effect_sd"] ** 2,
                                   ref["effect_posterior_var"], rtol=RTOL)
    np.testing.assert_allclose(part["laplace_sd"] ** 2, ref["posterior_var"], rtol=RTOL)


@pytest.mark.parametrize("index", range(len(REF["spread"])))
def test_gini_and_top_fifth_share_equal_the_reference(result, index: int) -> None:
    ref = REF["spread"][index]
    spread = result.spread.set_index(["classroom", "wave"]).loc[(ref["classroom"], ref["wave"])]
    assert spread["gini"] == pytest.approx(ref["gini"], rel=RTOL)
    assert spread["top_fifth_negative_share"] == pytest.approx(
        ref["top_fifth_negative_share"], rel=RTOL)


def test_the_reference_was_made_with_the_stated_versions() -> None:
    assert REF["r_version"].startswith("R version 4.2.2")
    assert REF["lme4_version"] == "1.1.31"
