"""``classdyad power``: the command's shape, its files, --null, --effects and --pilot."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from classdyad.cli.app import main

REQUIRED = ("hypothesis", "effect", "classes", "power", "mc_se", "n_replicates", "n_failed")
SMALL = ["--classes", "6,8", "--students-per-class", "15", "--classes-per-school", "2",
         "--replicates", "2", "--seed", "1", "--n-draws", "500", "--scheduler", "serial"]


def _records(folder: Path) -> list[dict]:
    records = json.loads((folder / "power.json").read_text(encoding="utf-8"))
    assert isinstance(records, list) and records
    for record in records:
        assert all(field in record for field in REQUIRED)
    return records


def test_power_writes_one_record_per_hypothesis_estimate_and_design(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["power", "--hypotheses", "H1,H3", *SMALL, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Implied model" in out and "Power of the key estimates" in out
    records = _records(tmp_path)
    assert {r["hypothesis"] for r in records} == {"H1", "H3"}
    assert {r["classes"] for r in records} == {6, 8}
    keys = [(r["hypothesis"], r["estimate"], r["classes"]) for r in records]
    assert len(keys) == len(set(keys))
    assert all(r["n_replicates"] == 2 for r in records)
    page = (tmp_path / "power.html").read_text(encoding="utf-8")
    assert page.count("role=\"img\"") == 2 and "Smallest design" in page  # H1 and H3
    replicates = pd.read_parquet(tmp_path / "replicates.parquet")
    assert set(replicates["replicate"]) == {0, 1}
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["settings"]["seed"] == 1 and summary["smallest_designs"]
    assert len((tmp_path / "replicates.jsonl").read_text().splitlines()) == 4


def test_power_under_the_null_with_effects_from_yaml(tmp_path: Path) -> None:
    effects = tmp_path / "effects.yaml"
    effects.write_text("rates:\n  negative:\n    rate_ratio: {low_ses: 2.0}\n",
                       encoding="utf-8")
    out = tmp_path / "run"
    assert main(["power", "--hypotheses", "H2", *SMALL[:-2], "--scheduler", "serial",
                 "--classes", "8", "--null", "--effects", str(effects), "--out",
                 str(out)]) == 0
    records = _records(out)
    assert {r["hypothesis"] for r in records} == {"H2"}
    settings = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert settings["null"] is True


def test_power_with_effects_from_a_pilot_database(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    pilot = tmp_path / "pilot"
    assert main(["demo", "--out", str(pilot), "--scale", "0.3", "--seed", "4"]) == 0
    out = tmp_path / "run"
    assert main(["power", "--hypotheses", "H4", *SMALL, "--pilot",
                 str(pilot / "study.sqlite"), "--out", str(out)]) == 0
    assert "estimating effects from the pilot" in capsys.readouterr().out
    _records(out)


def test_bad_lists_are_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["power", "--classes", "forty", "--out", str(tmp_path)]) == 2
    assert "comma-separated" in capsys.readouterr().err


@pytest.mark.slow
def test_power_on_a_local_cluster_of_two_workers(tmp_path: Path) -> None:
    shape = ["--hypotheses", "H1", "--classes", "6,8", "--students-per-class", "15",
             "--replicates", "2", "--seed", "1", "--n-draws", "500"]
    assert main(["power", *shape, "--workers", "2", "--out", str(tmp_path / "two")]) == 0
    assert main(["power", *shape, "--scheduler", "serial", "--out",
                 str(tmp_path / "one")]) == 0
    assert _records(tmp_path / "two") == _records(tmp_path / "one")
