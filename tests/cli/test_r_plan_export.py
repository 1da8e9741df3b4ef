"""The R export runs in R to the same estimates as ``classdyad analyze``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.cli.app import main
from classdyad.simulate import ReplicaDesign, write_replica


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R (Rscript with lme4) is not "
                    "installed")
def test_the_exported_script_reproduces_the_plans_relationship_gaps(tmp_path: Path) -> None:
    files = write_replica(tmp_path / "study", design=ReplicaDesign(schools=6, classes=12,
                                                                   students=260), rng=4)
    database = str(files.database)
    assert main(["analyze", database, "--out", str(tmp_path / "results.json")]) == 0
    assert main(["export", "r", database, "--out", str(tmp_path / "r")]) == 0
    script = next((tmp_path / "r").glob("*.R"))
    completed = subprocess.run(["Rscript", str(script)], capture_output=True, text=True,
                               timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    r = pd.read_csv(next((tmp_path / "r").glob("*_estimates.csv")))
    plan = pd.DataFrame(json.loads((tmp_path / "results.json").read_text())["estimates"])
    gaps = plan[plan["hypothesis"] == "H1"]
    assert len(gaps) >= 8
    for row in gaps.itertuples():
        name = f"H1_{row.outcome}_{row.contrast}"
        theirs = r[(r["model"] == name) & (r["term"] == row.effect)]
        assert len(theirs) == 1, name
        # lme4 stops at its default gradient tolerance, so agreement is to 1e-3 relative
        np.testing.assert_allclose(row.estimate, theirs["estimate"].iloc[0], rtol=1e-3,
                                   atol=1e-5)
        np.testing.assert_allclose(row.std_error, theirs["std_error"].iloc[0], rtol=1e-3)
