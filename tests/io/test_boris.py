"""BORIS: the real example files import, the export has BORIS' current layout, round trips."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from classdyad.errors import DataError, ValidationError
from classdyad.io import (
    BorisMapping,
    boris_export_mapping,
    boris_interaction_events,
    read_boris,
    write_boris_tabular,
)
from classdyad.io.boris_export import BORIS_TABULAR_HEAD, BORIS_TABULAR_TAIL
from classdyad.store import open_database, read_study
from classdyad.store.exporting import coded_events
from classdyad.store.importing import import_interaction_events

BORIS_EXAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "examples" / "boris"


def example(name: str) -> Path:
    path = BORIS_EXAMPLES / name
    if not path.exists():
        pytest.skip(f"the BORIS example {name} is not in {BORIS_EXAMPLES.resolve()} (the shared "
                    "examples folder beside the repository)")
    return path


def test_v7_tabular_events_pair_start_and_stop() -> None:
    occurrences = read_boris(example("boris_tabular_events_example.tsv"))
    assert len(occurrences) == 4
    assert set(occurrences["observation"]) == {"observation #1"}
    assert occurrences["behavior_type"].eq("STATE").all()
    assert occurrences["subject"].tolist() == ["subject1"] * 3 + ["subject2"]
    np.testing.assert_array_equal(occurrences["start"], [3.3, 9.9, 18.35, 38.425])
    np.testing.assert_array_equal(occurrences["stop"], [7.75, 16.2, 24.475, 46.1])
    assert occurrences["media_file"].eq("video_test_25fps_360s.mp4").all()


def test_aggregated_events() -> None:
    occurrences = read_boris(example("boris_aggregated_events_example.tsv"))
    assert len(occurrences) == 18
    assert (occurrences["behavior_type"] == "POINT").sum() == 8
    no_subject = occurrences["subject"] == ""
    assert no_subject.sum() == 12  # "No focal subject"
    point = occurrences[occurrences["behavior_type"] == "POINT"]
    np.testing.assert_array_equal(point["start"], point["stop"])
    assert occurrences.loc[0, ["start", "stop"]].tolist() == [1.8, 8.125]


def test_project_file_with_modifiers() -> None:
    occurrences = read_boris(example("boris_project_example.boris"))
    assert occurrences["observation"].eq("test1 live").all()
    assert occurrences["modifiers"].tolist() == ["a|c", "a|", "|111", "|c"]
    np.testing.assert_array_equal(occurrences["start"], [4.151, 12.663, 20.135, 26.007])


def test_real_files_become_events_of_a_stored_study(study_without_events: Path,
                                                     tmp_path: Path) -> None:
    engine = open_database(study_without_events, create=False)
    tables = read_study(engine)
    lesson = tables.lessons.iloc[0]
    enrolled = tables.enrolments[(tables.enrolments["classroom_id"] == lesson["classroom_id"])
                                 & (tables.enrolments["wave_id"] == lesson["wave_id"])]
    codes = tables.students.set_index("id").loc[enrolled["student_id"], "code"].tolist()
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text(yaml.safe_dump({
        "observations": {"observation #1": int(lesson["id"]),
                         "observation #2": int(lesson["id"]),
                         "test1 live": {"lesson": int(lesson["id"]), "coder": "coder1"}},
        "subjects": {"subject1": codes[0], "subject2": codes[1]},
        "behaviors": {"s": {"valence": "negative", "subtype": "correction"},
                      "p": {"valence": "positive", "subtype": "praise"}},
        "modifiers": {"111": {"valence": "neutral"}},
    }), encoding="utf-8")
    mapping = BorisMapping.from_yaml(mapping_file)
    added = 0
    for name in ("boris_tabular_events_example.tsv", "boris_aggregated_events_example.tsv",
                 "boris_project_example.boris"):
        events = boris_interaction_events(read_boris(example(name)), mapping, source=name)
        summary = import_interaction_events(engine, events, source=name)
        added += summary.added["events"]
        again = import_interaction_events(engine, events, source=name)
        assert again.added["events"] == 0
    stored = read_study(engine).events
    engine.dispose()
    assert added == len(stored) == 4 + 18 + 4
    assert stored["target_kind"].value_counts().to_dict() == {"class": 12 + 4,
                                                              "student": 10}
    assert (stored["valence"] == "neutral").sum() == 1  # the modifier "111"
    assert sorted(stored["video_seconds"])[:2] == [1.8, 3.3]


def test_unmapped_behaviour_and_observation_are_listed() -> None:
    occurrences = read_boris(example("boris_aggregated_events_example.tsv"))
    with pytest.raises(ValidationError) as caught:
        boris_interaction_events(occurrences, BorisMapping(), source="x.tsv")
    assert "no lesson" in str(caught.value)
    mapping = BorisMapping(observations={"observation #2": {"lesson": 1}}, ignore=("s",))
    with pytest.raises(ValidationError) as caught:
        boris_interaction_events(occurrences, mapping, source="x.tsv")
    assert {p.value for p in caught.value.problems} == {"p"}
    assert all(p.column == "behavior" for p in caught.value.problems)


def test_export_has_the_current_boris_tabular_layout(stored_study: Path,
                                                     tmp_path: Path) -> None:
    engine = open_database(stored_study, create=False)
    events = coded_events(engine)
    engine.dispose()
    path = write_boris_tabular(events.head(500), tmp_path / "events.tsv")
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle, delimiter="\t"))
    expected = [*BORIS_TABULAR_HEAD, "Subject", "Behavior", "Behavioral category",
                "Modifier #1", "Modifier #2", "Modifier #3", *BORIS_TABULAR_TAIL]
    assert header == expected
    # the documented 9.x columns, in BORIS' order
    assert header[:9] == ["Observation id", "Observation date", "Description",
                          "Observation duration", "Observation type", "Source",
                          "Time offset (s)", "Media duration (s)", "FPS"]
    assert header[-6:] == ["Behavior type", "Time", "Media file name", "Image index",
                           "Image file path", "Comment"]
    back = read_boris(path)
    assert len(back) == 500 and back["behavior_type"].eq("POINT").all()


@pytest.mark.parametrize("suffix", ["tsv", "csv", "xlsx"])
def test_export_then_import_reproduces_the_events(stored_study: Path,
                                                  study_without_events: Path, tmp_path: Path,
                                                  suffix: str) -> None:
    engine = open_database(stored_study, create=False)
    original = coded_events(engine)
    engine.dispose()
    lessons = original["lesson_id"].drop_duplicates().head(12 if suffix != "xlsx" else 3)
    original = original[original["lesson_id"].isin(lessons)].reset_index(drop=True)
    path = write_boris_tabular(original, tmp_path / f"events.{suffix}")
    mapping = BorisMapping.from_dict(yaml.safe_load(yaml.safe_dump(
        boris_export_mapping(original).to_dict())))
    events = boris_interaction_events(read_boris(path), mapping, source=path.name)
    target = open_database(study_without_events, create=False)
    summary = import_interaction_events(target, events, source=path.name)
    assert summary.added["events"] == len(original)
    back = coded_events(target)
    target.dispose()
    columns = ["client_id", "lesson_id", "video_seconds", "teacher", "target_kind", "student",
               "valence", "subtype", "coder"]
    left = original[columns].sort_values("client_id", ignore_index=True)
    right = back[columns].sort_values("client_id", ignore_index=True)
    pd.testing.assert_frame_equal(left, right, check_dtype=False)


def test_a_boris_import_with_one_bad_row_writes_nothing(study_without_events: Path,
                                                        stored_study: Path,
                                                        tmp_path: Path) -> None:
    engine = open_database(stored_study, create=False)
    original = coded_events(engine).head(200).copy()
    engine.dispose()
    original.loc[150, "student"] = "P999999"
    original.loc[150, "target_kind"] = "student"
    path = write_boris_tabular(original, tmp_path / "events.tsv")
    events = boris_interaction_events(read_boris(path), boris_export_mapping(original))
    target = open_database(study_without_events, create=False)
    with pytest.raises(ValidationError, match="P999999"):
        import_interaction_events(target, events, source=path.name)
    with target.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM interaction_event"))
        assert count.scalar_one() == 0
    target.dispose()


def test_not_a_boris_file(tmp_path: Path) -> None:
    path = tmp_path / "x.tsv"
    path.write_text("a\tb\n1\t2\n", encoding="utf-8")
    with pytest.raises(DataError, match="no BORIS header"):
        read_boris(path)
    project = tmp_path / "x.boris"
    project.write_text("{\"observations\": 3}", encoding="utf-8")
    with pytest.raises(DataError, match="not a BORIS project"):
        read_boris(project)


def test_current_aggregated_layout_with_modifier_columns(tmp_path: Path) -> None:
    # the 9.x aggregated header (README of the examples; BORIS' export_observation.py)
    header = ["Observation id", "Observation date", "Description", "Observation type",
              "Source", "Time offset (s)", "Coding duration", "Media duration (s)",
              "FPS (frame/s)", "Subject", "Observation duration by subject by observation",
              "Behavior", "Behavioral category", "Modifier #1", "Modifier #2", "Behavior type",
              "Start (s)", "Stop (s)", "Duration (s)", "Media file name", "Image index start",
              "Image index stop", "Image file path start", "Image file path stop",
              "Comment start", "Comment stop"]
    rows = [["les 1", "2025-01-10 09:00:00", "", "Media file", "player #1:les1.mp4", "0.0",
             "300.0", "300.0", "25.0", "P1", "300.0", "praise", "", "warm", "None", "POINT",
             "12.500", "12.500", "NA", "les1.mp4", "NA", "NA", "NA", "NA", "", ""],
            ["les 1", "2025-01-10 09:00:00", "", "Media file", "player #1:les1.mp4", "0.0",
             "300.0", "300.0", "25.0", "No focal subject", "NA", "talk", "", "", "", "STATE",
             "20.000", "31.250", "11.250", "les1.mp4", "NA", "NA", "NA", "NA", "", ""]]
    path = tmp_path / "aggregated.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    occurrences = read_boris(path)
    assert occurrences["modifiers"].tolist() == ["warm|", ""]
    assert occurrences["subject"].tolist() == ["P1", ""]
    assert occurrences[["start", "stop"]].to_numpy().tolist() == [[12.5, 12.5], [20.0, 31.25]]
    assert occurrences["behavior_type"].tolist() == ["POINT", "STATE"]


def test_current_tabular_layout_with_state_events(tmp_path: Path) -> None:
    # the 9.x tabular header with an independent variable and two modifier sets
    header = [*BORIS_TABULAR_HEAD, "groep", "Subject", "Behavior", "Behavioral category",
              "Modifier #1", "Modifier #2", *BORIS_TABULAR_TAIL]
    common = ["les 2", "2025-01-10 09:00:00", "", "300.0", "Media file(s)",
              "player #1:les2.mp4", "0.0", "300.0", "25.0", "6"]
    tail = ["les2.mp4", "NA", "NA", ""]
    rows = [[*common, "P2", "talk", "", "", "", "START", "5.000", *tail],
            [*common, "P3", "praise", "positive", "warm", "kort", "POINT", "6.500", *tail],
            [*common, "P2", "talk", "", "", "", "STOP", "9.750", *tail]]
    path = tmp_path / "tabular.tsv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter="\t").writerows([header, *rows])
    occurrences = read_boris(path)
    assert occurrences["behavior"].tolist() == ["talk", "praise"]
    assert occurrences[["start", "stop"]].to_numpy().tolist() == [[5.0, 9.75], [6.5, 6.5]]
    assert occurrences["modifiers"].tolist() == ["", "warm|kort"]
    assert occurrences["observation"].eq("les 2").all()
