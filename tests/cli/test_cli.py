"""The command line: demo, init and info, and clear errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from classdyad.cli.app import main


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(folder), "--scale", "0.1", "--seed", "3"]) == 0
    return folder


def test_demo_writes_database_truth_and_dataset(demo_folder: Path) -> None:
    assert (demo_folder / "study.sqlite").stat().st_size > 0
    truth = json.loads((demo_folder / "truth.json").read_text())
    assert truth["seed"] == 3 and truth["design"]["scale"] == 0.1
    parquet = pd.read_parquet(demo_folder / "analysis_dataset.parquet")
    csv = pd.read_csv(demo_folder / "analysis_dataset.csv")
    assert len(parquet) == len(csv) > 0
    assert not list(demo_folder.glob(".study.sqlite.partial*"))


def test_info_prints_the_counts(demo_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["info", str(demo_folder / "study.sqlite")]) == 0
    out = capsys.readouterr().out
    assert "schools" in out and "interaction events" in out and "negative" in out


def test_init_creates_an_empty_database(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path / "new.sqlite")]) == 0
    assert (tmp_path / "new.sqlite").exists()


def test_info_on_a_missing_file_is_a_clear_error(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(tmp_path / "absent.sqlite")]) == 2
    assert "classdyad init" in capsys.readouterr().err


def test_info_on_an_empty_database_says_what_to_do(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    main(["init", str(tmp_path / "empty.sqlite")])
    assert main(["info", str(tmp_path / "empty.sqlite")]) == 2
    assert "no study yet" in capsys.readouterr().err
