"""R export: the script runs in R (when Rscript is installed) to classdyad's estimates."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.io import write_r
from classdyad.io.delimited import read_csv
from classdyad.mixed._linear_mixed import lmm
from classdyad.simulate import SimulatedStudy
from classdyad.study import DATASET_COLUMNS, STUDY_MODELS, build_analysis_dataset


@pytest.fixture(scope="module")
def dataset(small_study: SimulatedStudy) -> pd.DataFrame:
    return build_analysis_dataset(small_study.tables)


def test_script_holds_the_study_models(dataset: pd.DataFrame, tmp_path: Path) -> None:
    files = write_r(dataset, tmp_path, models=STUDY_MODELS, variable_labels=DATASET_COLUMNS)
    script = files.script.read_text(encoding="utf-8")
    assert "library(lme4)" in script
    for model in STUDY_MODELS:
        formula = model.lme4_formula(repeated_measures=True)
        assert f"{model.name} = {formula}" in script
    assert script.count("lmer(") == 1 and "REML = TRUE" in script
    back = read_csv(files.data)
    pd.testing.assert_series_equal(back["teacher_closeness"], dataset["teacher_closeness"])


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript is not installed")
def test_script_runs_in_r_to_classdyads_estimates(dataset: pd.DataFrame,
                                                  tmp_path: Path) -> None:
    files = write_r(dataset, tmp_path, models=STUDY_MODELS, variable_labels=DATASET_COLUMNS)
    completed = subprocess.run(["Rscript", str(files.script)], capture_output=True, text=True,
                               timeout=120, check=False, cwd=tmp_path.parent)
    assert completed.returncode == 0, completed.stderr
    r = pd.read_csv(files.estimates)
    numeric = dataset.copy()
    for column in ("low_ses", "non_western", "boy"):
        numeric[column] = numeric[column].astype(float)
    for model in STUDY_MODELS:
        fit = lmm(model.lme4_formula(repeated_measures=True), numeric)
        fixed = fit.fixed_effects.set_index("term")
        theirs = r[(r["model"] == model.name) & (r["effect"] == "fixed")].set_index("term")
        assert list(theirs.index) == list(fixed.index)
        # lme4's optimiser stops at a gradient tolerance of 2e-3 (and warns when it does not
        # reach it), so agreement is to 1e-3 relative, 1e-5 absolute near zero
        np.testing.assert_allclose(fixed["estimate"], theirs["estimate"], rtol=1e-3, atol=1e-5)
        np.testing.assert_allclose(fixed["std_error"], theirs["std_error"], rtol=1e-3)
