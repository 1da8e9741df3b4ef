"""A study's set-up from files: lessons, coders, codebooks; located errors; idempotent imports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from classdyad.cli.app import main
from classdyad.errors import DataError, ValidationError
from classdyad.io.roster import read_roster
from classdyad.io.study_files import read_codebook, read_coders, read_lessons
from classdyad.store import open_database, read_study
from classdyad.store.importing import import_interaction_events, import_roster
from classdyad.store.importing_setup import import_coders, import_lessons

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "small-study"


@pytest.fixture()
def engine(tmp_path: Path):
    engine = open_database(tmp_path / "study.sqlite")
    import_roster(engine, read_roster(EXAMPLE / "roster.csv"), study="small", source="roster")
    yield engine
    engine.dispose()


def _lessons(tmp_path: Path, change=None) -> Path:
    frame = pd.read_csv(EXAMPLE / "lessons.csv", dtype=str)
    if change is not None:
        change(frame)
    path = tmp_path / "lessons.csv"
    frame.to_csv(path, index=False)
    return path


def test_lesson_rows_are_checked_with_file_row_and_column(tmp_path: Path) -> None:
    def spoil(frame: pd.DataFrame) -> None:
        frame.loc[1, "observed_minutes"] = "forty"
        frame.loc[2, "lesson"] = "17"
        frame.loc[3, "lesson"] = frame.loc[0, "lesson"]
        frame.loc[4, "date"] = "next tuesday"
        frame.loc[5, "wave"] = None

    with pytest.raises(ValidationError) as caught:
        read_lessons(_lessons(tmp_path, spoil))
    found = {(p.row, p.column) for p in caught.value.problems}
    assert found == {(2, "observed_minutes"), (3, "lesson"), (4, "lesson"), (5, "date"),
                     (6, "wave")}
    assert "lessons.csv, row 2, column observed_minutes" in str(caught.value)
    bare = pd.read_csv(EXAMPLE / "lessons.csv").drop(columns="teacher")
    bare.to_csv(tmp_path / "bare.csv", index=False)
    with pytest.raises(DataError, match="teacher"):
        read_lessons(tmp_path / "bare.csv")


def test_lessons_import_once_with_attendance_and_are_matched_by_code(engine,
                                                                     tmp_path: Path) -> None:
    lessons = read_lessons(EXAMPLE / "lessons.csv")
    first = import_lessons(engine, lessons, source="lessons.csv")
    assert first.added == {"lessons": 16, "lesson_teachers": 16, "attendance": 224}
    again = import_lessons(engine, lessons, source="lessons.csv")
    assert again.added["lessons"] == 0 and again.already_stored == {"lessons": 16}
    tables = read_study(engine)
    assert tables.attendance["present"].sum() == 224 - 16  # one absent student per lesson
    def move(frame: pd.DataFrame) -> None:
        frame.loc[0, "classroom"] = "7B"  # lesson 6A-w1 said to be of class 7B

    moved = read_lessons(_lessons(tmp_path, move))
    with pytest.raises(ValidationError, match="stored for another class"):
        import_lessons(engine, moved, source="lessons.csv")


def test_lesson_problems_say_what_to_import_first(engine, tmp_path: Path) -> None:
    def spoil(frame: pd.DataFrame) -> None:
        frame.loc[0, "teacher"] = "T-NOBODY"
        frame.loc[1, "classroom"] = "9Z"
        frame.loc[2, "absent"] = "P999"
        frame.loc[3, "wave"] = "3"

    with pytest.raises(ValidationError) as caught:
        import_lessons(engine, read_lessons(_lessons(tmp_path, spoil)), source="lessons.csv",
                       dry_run=True)
    found = {(p.row, p.column): p.message for p in caught.value.problems}
    assert set(found) == {(1, "teacher"), (2, "classroom"), (3, "absent"), (4, "wave")}
    assert "import the roster first" in found[(1, "teacher")]
    assert read_study(engine).lessons.empty


def test_events_name_lessons_by_code(engine) -> None:
    import_lessons(engine, read_lessons(EXAMPLE / "lessons.csv"), source="lessons.csv")
    events = pd.DataFrame({"client_id": ["a", "b"], "lesson_id": ["6C-w1", "6C-w9"],
                           "video_seconds": ["1", "2"], "teacher": ["T-6C", "T-6C"],
                           "target_kind": ["class", "class"], "student": [None, None],
                           "valence": ["neutral", "neutral"], "subtype": [None, None],
                           "coder": [None, None]})
    with pytest.raises(ValidationError, match=r"row 2, column lesson_id"):
        import_interaction_events(engine, events, source="events.csv")
    added = import_interaction_events(engine, events.iloc[:1], source="events.csv")
    assert added.added == {"events": 1}
    stored = read_study(engine)
    lesson = stored.lessons.loc[stored.lessons["id"] == stored.events["lesson_id"].iloc[0]]
    assert lesson["observed_minutes"].iloc[0] > 0


def test_coders_import_once(engine, tmp_path: Path) -> None:
    coders = read_coders(EXAMPLE / "coders.csv")
    assert import_coders(engine, coders, source="coders.csv").added == {"coders": 2}
    assert import_coders(engine, coders, source="coders.csv").added == {"coders": 0}
    pd.DataFrame({"coder": ["X", "X", None]}).to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(ValidationError, match=r"row 2, column coder.*twice"):
        read_coders(tmp_path / "c.csv")


def test_a_changed_codebook_file_becomes_a_new_version(tmp_path: Path) -> None:
    database = str(tmp_path / "cb.sqlite")
    assert main(["init", database]) == 0
    assert main(["import", "roster", database, str(EXAMPLE / "roster.csv"),
                 "--study", "s"]) == 0
    book = yaml.safe_load((EXAMPLE / "codebook.yaml").read_text())
    del book["version"]
    path = tmp_path / "codebook.yaml"
    path.write_text(yaml.safe_dump(book))
    for _ in range(2):
        assert main(["import", "codebook", database, str(path)]) == 0
    book["categories"].append({"subtype": "humour", "valence": "positive", "hotkey": "h"})
    path.write_text(yaml.safe_dump(book))
    assert main(["import", "codebook", database, str(path), "--dry-run"]) == 0
    assert main(["import", "codebook", database, str(path)]) == 0
    engine = open_database(database, create=False)
    tables = read_study(engine)
    engine.dispose()
    assert tables.codebooks["version"].tolist() == ["1", "2"]
    assert tables.codebook_categories.groupby("codebook_id").size().tolist() == [6, 7]


def test_codebook_problems_name_the_category_and_field(tmp_path: Path) -> None:
    path = tmp_path / "codebook.yaml"
    path.write_text(yaml.safe_dump({"name": "v", "categories": [
        {"subtype": "praise", "valence": "positive", "hotkey": "p"},
        {"subtype": "grumble", "valence": "grumpy", "hotkey": "p"}]}))
    with pytest.raises(ValidationError) as caught:
        read_codebook(path)
    assert {(p.row, p.column) for p in caught.value.problems} == {(2, "valence"),
                                                                  (2, "hotkey")}
