"""``classdyad coaching``: goals and notes from the command line; ``classdyad feedback`` then
shows the progress on each goal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classdyad.cli.app import main
from classdyad.simulate import SimulatedStudy
from classdyad.study.feedback import feedback_input


@pytest.fixture(scope="module")
def database(copy_small_study, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_small_study(tmp_path_factory.mktemp("coaching") / "study.sqlite")


def test_goal_note_list_and_progress_in_the_feedback(
        database: Path, small_study: SimulatedStudy, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    teacher = str(small_study.tables.teachers["code"].iloc[1])
    data = feedback_input(small_study.tables, teacher)
    classroom = str(data.interactions["classroom"].iloc[0])
    students = sorted(data.interactions.loc[data.interactions["classroom"] == classroom,
                                            "student"].unique())[:2]
    goal = ["coaching", "goal", str(database), "--teacher", teacher, "--classroom", classroom,
            "--wave", "2", "--kind", "fewer_negative", "--target", "0.8"]
    for student in students:
        goal += ["--student", student]
    assert main(goal) == 0
    assert main(["coaching", "goal", str(database), "--teacher", teacher, "--classroom",
                 classroom, "--wave", "3", "--kind", "more_positive"]) == 0
    assert main(["coaching", "note", str(database), "--teacher", teacher, "--goal", "1",
                 "--text", "Start each lesson with a word for them."]) == 0
    assert main(["coaching", "list", str(database), "--teacher", teacher]) == 0
    shown = capsys.readouterr().out
    assert "Start each lesson" in shown and "fewer_negative" in shown

    out, values = tmp_path / "feedback.html", tmp_path / "feedback.json"
    for language in ("en", "nl"):
        assert main(["feedback", str(database), "--teacher", teacher, "--out", str(out),
                     "--json", str(values), "--lang", language, "--no-names"]) == 0
        html = out.read_text(encoding="utf-8")
        assert ("Progress on your goals" if language == "en" else
                "Voortgang op uw doelen") in html
    progress = json.loads(values.read_text(encoding="utf-8"))["progress"]
    first = [r for r in progress if r["goal"] == 1]
    assert [r["student"] for r in first if r["level"] == "student"] == students
    assert {r["baseline_wave"] for r in first} == {1} and {r["wave"] for r in first} == {2}
    for row in first:
        assert row["status"] in ("credible_progress", "no_credible_change", "credibly_worse")
        assert 0.0 <= row["prob_progress"] <= 1.0
        assert row["ratio_ci_low"] < row["rate_ratio"] < row["ratio_ci_high"]
    second = [r for r in progress if r["goal"] == 2]
    assert [r["level"] for r in second] == ["class"] and second[0]["baseline_wave"] == 2
    assert "Start each lesson" not in html  # notes stay in the coaching space


def test_a_goal_for_another_teachers_class_is_refused(
        database: Path, small_study: SimulatedStudy,
        capsys: pytest.CaptureFixture[str]) -> None:
    teachers = small_study.tables.teachers["code"].astype(str)
    other = feedback_input(small_study.tables, teachers.iloc[-1])
    classroom = str(other.interactions["classroom"].iloc[0])
    assert main(["coaching", "goal", str(database), "--teacher", teachers.iloc[1],
                 "--classroom", classroom, "--wave", "2"]) == 2
    assert "not one of this teacher's classes" in capsys.readouterr().err
