"""The D-study of per-student rates against lme4 (balanced) and the ANOVA formulas (unbalanced).

Reference values: tests/measures/golden/agreement_generalizability.R ->
agreement_generalizability.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import DataError, SingularFitWarning
from classdyad.measures import d_study

DATA = Path(__file__).parents[1] / "data"
GOLDEN = json.loads((Path(__file__).parent / "golden" /
                     "agreement_generalizability.json").read_text())


@pytest.mark.parametrize(("design", "reference"), [("balanced", "balanced_reml"),
                                                   ("unbalanced", "unbalanced_anova")])
def test_d_study_matches_r(design, reference):
    rates = pd.read_csv(DATA / f"agreement_generalizability_{design}.csv")
    expected = GOLDEN[reference]
    result = d_study(rates, student="student", rate="rate", lessons=expected["n_lessons"])
    components = result.variance_components.set_index("component")["variance"]
    # tolerance: 1e-6 relative (lme4's REML optimum equals the ANOVA estimate up to its tolerance;
    # the unbalanced case compares closed forms)
    assert components["student"] == pytest.approx(expected["var_student"], rel=1e-6)
    assert components["lesson:student, residual"] == pytest.approx(expected["var_residual"],
                                                                   rel=1e-6)
    np.testing.assert_allclose(result.to_frame()["g_coefficient"], expected["g"], rtol=1e-6)
    assert result.lessons_needed == expected["lessons_needed_0.8"]
    if "n_tilde" in expected:
        assert result.n_tilde == pytest.approx(expected["n_tilde"], rel=1e-12)
    assert "D-study" in result._repr_html_()


def test_spearman_brown_step_up():
    rates = pd.read_csv(DATA / "agreement_generalizability_balanced.csv")
    result = d_study(rates, student="student", rate="rate", lessons=[1, 3])
    g1, g3 = result.to_frame()["g_coefficient"]
    assert g3 == pytest.approx(3 * g1 / (1 + 2 * g1), rel=1e-12)


def test_recovers_simulated_variance_components():
    rng = np.random.default_rng(11)
    students, lessons = 400, 6
    effect = rng.normal(0, 2.0, students)
    rates = pd.DataFrame({
        "student": np.repeat(np.arange(students), lessons),
        "rate": 5 + np.repeat(effect, lessons) + rng.normal(0, 3.0, students * lessons),
    })
    result = d_study(rates, student="student", rate="rate", target_reliability=0.9)
    components = result.variance_components.set_index("component")["variance"]
    # tolerance: sampling error with 400 students (SE of var_p about 0.3)
    assert components["student"] == pytest.approx(4.0, abs=0.8)
    assert components["lesson:student, residual"] == pytest.approx(9.0, abs=0.5)
    true_needed = int(np.ceil(0.9 / 0.1 * 9.0 / 4.0))
    assert abs(result.lessons_needed - true_needed) <= 6


def test_no_student_variance_is_set_to_zero_with_a_warning():
    rates = pd.DataFrame({"student": [1, 1, 2, 2], "rate": [1.0, 5.0, 2.0, 4.0]})
    with pytest.warns(SingularFitWarning, match="set to 0"):
        result = d_study(rates, student="student", rate="rate")
    assert np.isnan(result.lessons_needed)
    assert (result.to_frame()["g_coefficient"] == 0).all()


def test_bad_inputs():
    rates = pd.DataFrame({"student": [1, 1, 2], "rate": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match="strictly between 0 and 1"):
        d_study(rates, student="student", rate="rate", target_reliability=1.0)
    with pytest.raises(DataError, match="at least 2 students"):
        d_study(rates.iloc[:2], student="student", rate="rate")
    with pytest.raises(DataError, match="'pupil'"):
        d_study(rates, student="pupil", rate="rate")
    with pytest.raises(DataError, match="non-numeric"):
        d_study(rates.assign(rate=["a", "b", "c"]), student="student", rate="rate")
