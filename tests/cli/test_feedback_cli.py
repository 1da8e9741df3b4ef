"""``classdyad feedback``: the page and the JSON of one teacher, read from the store."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from classdyad.cli.app import main
from classdyad.simulate import SimulatedStudy
from classdyad.store import open_database, read_study
from classdyad.store.teacher_reading import read_teacher_study
from classdyad.study.feedback import study_teacher_feedback


@pytest.fixture(scope="module")
def database(copy_small_study, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = copy_small_study(tmp_path_factory.mktemp("feedback") / "study.sqlite")
    engine = open_database(path)
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO student_roster (student_id, first_name, "
                                   "last_name) SELECT id, 'Name', code FROM student"))
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def teacher(small_study: SimulatedStudy) -> str:
    return str(small_study.tables.teachers["code"].iloc[1])


def test_reading_one_teacher_gives_the_same_feedback_as_reading_the_study(
        database: Path, teacher: str) -> None:
    engine = open_database(database, create=False)
    part = read_teacher_study(engine, teacher)
    whole = read_study(engine)
    engine.dispose()
    assert set(part.teachers["code"]) == {teacher}
    assert len(part.students) < len(whole.students)
    assert part.iat_trials.empty
    ours, _ = study_teacher_feedback(part, teacher)
    reference, _ = study_teacher_feedback(whole, teacher)
    pd.testing.assert_frame_equal(ours.students, reference.students)


def test_feedback_writes_the_page_and_the_json(database: Path, teacher: str,
                                               tmp_path: Path) -> None:
    out, data = tmp_path / "feedback.html", tmp_path / "feedback.json"
    assert main(["feedback", str(database), "--teacher", teacher, "--out", str(out),
                 "--json", str(data), "--lang", "nl"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "Uw interacties met uw leerlingen" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    values = json.loads(data.read_text(encoding="utf-8"))
    assert values["teacher"] == teacher and values["groups"] is None
    record = values["students"][0]
    for key in ("student", "wave", "valence", "count", "minutes", "rate", "shrunken_rate",
                "ci_low", "ci_high", "flag"):
        assert key in record
    assert "Name" not in data.read_text(encoding="utf-8")
    codes = {r["student"] for r in values["students"]}
    assert all(f"Name {code}" in html for code in codes)
    engine = open_database(database, create=False)
    with engine.connect() as connection:
        formats = connection.execute(sa.text("SELECT entity FROM audit_log")).scalars().all()
    engine.dispose()
    assert "feedback" in formats


def test_names_can_be_left_out(database: Path, teacher: str, tmp_path: Path) -> None:
    out = tmp_path / "plain.html"
    assert main(["feedback", str(database), "--teacher", teacher, "--out", str(out),
                 "--no-names"]) == 0
    assert "Name " not in out.read_text(encoding="utf-8")


def test_an_unknown_teacher_is_a_clear_error(database: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["feedback", str(database), "--teacher", "NOBODY", "--out",
                 str(tmp_path / "x.html")]) == 2
    assert "codes are" in capsys.readouterr().err
