"""The command line: demo, init and info, and clear errors with exit code 2."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
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
    with closing(sqlite3.connect(tmp_path / "new.sqlite")) as connection:
        tables = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"alembic_version", "study", "student", "interaction_event"} <= tables
        assert connection.execute("SELECT count(*) FROM study").fetchone() == (0,)


def test_info_on_a_missing_file_is_a_clear_error(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(tmp_path / "absent.sqlite")]) == 2
    assert "classdyad init" in capsys.readouterr().err


def test_info_on_an_empty_database_says_what_to_do(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    main(["init", str(tmp_path / "empty.sqlite")])
    assert main(["info", str(tmp_path / "empty.sqlite")]) == 2
    assert "no study yet" in capsys.readouterr().err


def test_demo_reports_agreement_on_double_coded_lessons(demo_folder: Path) -> None:
    statistics = pd.read_csv(demo_folder / "agreement.csv")
    overall = statistics[statistics["lesson_id"].astype(str) == "all"].set_index(
        ["aspect", "statistic"])
    kappa = overall.loc[("valence", "kappa"), "estimate"]
    assert 0.5 < kappa < 0.95  # the second coder confuses 7 % of valences


def test_score_questionnaires_writes_scores(demo_folder: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "scores.csv"
    assert main(["score", "questionnaires", str(demo_folder / "study.sqlite"),
                 "--out", str(out)]) == 0
    scores = pd.read_csv(out)
    assert {"instrument", "student_id", "closeness", "conflict"} <= set(scores.columns)
    assert "alpha" in capsys.readouterr().out


def test_score_iat_reads_a_file_with_a_column_mapping(tmp_path: Path) -> None:
    data = Path(__file__).resolve().parents[1] / "data"
    source = data / "iat_chocolate_implicitMeasures_trials.csv"
    out = tmp_path / "iat.csv"
    blocks = ("practice_MappingA=practice_compatible,test_MappingA=test_compatible,"
              "practice_MappingB=practice_incompatible,test_MappingB=test_incompatible")
    assert main(["score", "iat", str(source), "--block", "block", "--correct", "correct",
                 "--blocks", blocks, "--out", str(out)]) == 0
    scores = pd.read_csv(out)
    assert scores["participant"].nunique() == 162 and scores["d"].notna().mean() > 0.9


def test_score_iat_with_an_unknown_role_is_a_clear_error(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    source = tmp_path / "trials.csv"
    source.write_text("participant,block,trial,latency,error\n1,3,1,700,0\n")
    assert main(["score", "iat", str(source), "--blocks", "3=warmup"]) == 2
    assert "not a block role" in capsys.readouterr().err


def test_agreement_by_lesson_and_overall(demo_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "agreement.csv"
    assert main(["agreement", str(demo_folder / "study.sqlite"), "--out", str(out)]) == 0
    lessons = pd.read_csv(out)["lesson_id"].astype(str).unique()
    assert "all" in lessons and len(lessons) >= 2
    one = lessons[0]
    assert main(["agreement", str(demo_folder / "study.sqlite"), "--lesson", one,
                 "--out", str(out)]) == 0
    assert set(pd.read_csv(out)["lesson_id"].astype(str)) == {one, "all"}
