"""Importers normalise what is harmless and refuse what is ambiguous, with file, row and fix.

Each case here was once a raw traceback, a silent acceptance of an ambiguous file, or a refusal
of a valid-looking one: blank lines, surrounding whitespace in ids and unused columns are
normalised (unused columns reported in ``frame.attrs["ignored_columns"]``); repeated header
rows, rows with more cells than the header, non-finite or overflowing ids and ``nan`` written as
a BORIS modifier are refused with a located message.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pandas as pd
import pytest

from classdyad.errors import ClassdyadError, DataError, ValidationError
from classdyad.io import read_boris, read_iat_trials, read_interaction_events, read_roster
from classdyad.model.tables import empty_table
from classdyad.simulate import SimulatedStudy
from classdyad.store import open_database, study_counts, write_study
from classdyad.store.exporting import coded_events
from classdyad.store.importing import import_interaction_events
from classdyad.store.importing_questionnaires import import_iat_trials

BORIS = Path(__file__).resolve().parents[2].parent / "shared" / "examples" / "boris"
EVENT_COLUMNS = ["client_id", "lesson_id", "video_seconds", "teacher", "target_kind",
                 "student", "valence", "subtype", "coder"]


@pytest.fixture(scope="module")
def event_lines(_database_templates: dict[str, Path],
                tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Thirty coded events of the small study, and a copy of it without events to import to."""
    folder = tmp_path_factory.mktemp("robust-events")
    source = open_database(shutil.copy(_database_templates["with"], folder / "source.sqlite"),
                           create=False)
    events = coded_events(source).head(30)
    source.dispose()
    target = folder / "target.sqlite"
    shutil.copy(_database_templates["without"], target)
    return target, events[EVENT_COLUMNS].to_csv(index=False).splitlines()


def _write(folder: Path, name: str, lines: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _import_events(database: Path, path: Path):
    engine = open_database(database, create=False)
    try:
        return import_interaction_events(engine, read_interaction_events(path), source=path.name,
                                         dry_run=True)
    finally:
        engine.dispose()


def _with_cell(lines: list[str], column: str, value: str, row: int = 1) -> list[str]:
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = value
    return [*lines[:row], ",".join(cells), *lines[row + 1:]]


@pytest.mark.parametrize("value", ["inf", "-inf", "1e400", "99999999999999999999999", "2.5",
                                   "nan"])
def test_a_lesson_id_that_is_no_whole_number_is_located(event_lines, tmp_path: Path,
                                                        value: str) -> None:
    database, lines = event_lines
    path = _write(tmp_path, "events.csv", _with_cell(lines, "lesson_id", value, row=3))
    with pytest.raises(ValidationError) as caught:
        _import_events(database, path)
    problem = caught.value.problems[0]
    assert (problem.source, problem.row, problem.column) == ("events.csv", 3, "lesson_id")
    assert "whole-number id" in problem.message


def test_an_unknown_lesson_code_is_located_by_the_store(event_lines, tmp_path: Path) -> None:
    database, lines = event_lines
    path = _write(tmp_path, "events.csv", _with_cell(lines, "lesson_id", "gym-9", row=3))
    with pytest.raises(ValidationError) as caught:
        _import_events(database, path)
    assert (3, "lesson_id") in {(p.row, p.column) for p in caught.value.problems}


@pytest.mark.parametrize("value", ["inf", "1e400", "-3", "later"])
def test_a_video_time_that_is_no_finite_number_is_located(event_lines, tmp_path: Path,
                                                         value: str) -> None:
    database, lines = event_lines
    path = _write(tmp_path, "events.csv", _with_cell(lines, "video_seconds", value, row=2))
    with pytest.raises(ValidationError) as caught:
        _import_events(database, path)
    problem = caught.value.problems[0]
    assert (problem.row, problem.column) == (2, "video_seconds")


def test_whitespace_around_ids_is_removed(event_lines, tmp_path: Path) -> None:
    database, lines = event_lines
    header = lines[0].split(",")
    padded = _with_cell(lines, "student", " " + lines[1].split(",")[header.index("student")]
                        + " ")
    padded = _with_cell(padded, "lesson_id",
                        f" {lines[1].split(',')[header.index('lesson_id')]}")
    path = _write(tmp_path, "events.csv", padded)
    summary = _import_events(database, path)
    assert summary.added["events"] == len(lines) - 1


def test_blank_lines_and_an_unused_column_are_accepted_with_a_note(event_lines,
                                                                  tmp_path: Path) -> None:
    database, lines = event_lines
    body = [line + ",seen twice" for line in lines[1:]]
    path = _write(tmp_path, "events.csv", [lines[0] + ",notes", *body[:4], "", ",,,,,,,,,",
                                           *body[4:]])
    events = read_interaction_events(path)
    assert events.attrs["ignored_columns"] == ["notes"]
    assert _import_events(database, path).added["events"] == len(lines) - 1


def test_a_repeated_header_row_is_refused_at_its_row(event_lines, tmp_path: Path) -> None:
    database, lines = event_lines
    path = _write(tmp_path, "events.csv", [*lines[:5], lines[0], *lines[5:]])
    with pytest.raises(ValidationError, match="repeats the header row") as caught:
        read_interaction_events(path)
    assert caught.value.problems[0].row == 5
    engine = open_database(database, create=False)
    assert study_counts(engine)["interaction_events"] == 0
    engine.dispose()


def test_a_row_with_more_cells_than_the_header_is_refused(event_lines, tmp_path: Path) -> None:
    _, lines = event_lines
    path = _write(tmp_path, "events.csv", [*lines[:3], lines[3] + ",x,y", *lines[4:]])
    with pytest.raises(ClassdyadError, match=r"row 3.*11 cells but the header has 9"):
        read_interaction_events(path)


@pytest.fixture(scope="module")
def roster_lines(roster: pd.DataFrame) -> list[str]:
    return roster.head(30).to_csv(index=False).splitlines()


def test_a_roster_with_blank_lines_and_an_unused_column_reads(roster_lines: list[str],
                                                             tmp_path: Path) -> None:
    lines = [roster_lines[0] + ",remarks", *(line + "," for line in roster_lines[1:])]
    path = _write(tmp_path, "roster.csv", [*lines[:4], "", " , ,", *lines[4:]])
    read = read_roster(path)
    assert len(read) == 30
    assert read.attrs["ignored_columns"] == ["remarks"]


def test_a_roster_workbook_with_an_empty_row_reads(roster: pd.DataFrame, tmp_path: Path) -> None:
    head = roster.head(12)
    blank = pd.DataFrame([[None] * head.shape[1]], columns=head.columns)
    pd.concat([head.iloc[:5], blank, head.iloc[5:]]).to_excel(tmp_path / "roster.xlsx",
                                                             index=False)
    assert len(read_roster(tmp_path / "roster.xlsx")) == 12


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_roster_with_its_header_repeated_is_refused(roster: pd.DataFrame, tmp_path: Path,
                                                      suffix: str) -> None:
    head = roster.head(12).astype(object)
    again = pd.DataFrame([list(head.columns)], columns=head.columns)
    table = pd.concat([head.iloc[:7], again, head.iloc[7:]], ignore_index=True)
    path = tmp_path / f"roster.{suffix}"
    if suffix == "csv":
        table.to_csv(path, index=False)
    else:
        table.to_excel(path, index=False)
    with pytest.raises(ValidationError, match="repeats the header row") as caught:
        read_roster(path)
    assert caught.value.problems[0].row == 8


def test_iat_trials_with_blank_lines_and_empty_optional_cells_import(
        small_study: SimulatedStudy, tmp_path: Path) -> None:
    tables = small_study.tables
    trials = tables.iat_trials.merge(tables.iat_sessions, left_on="session_id", right_on="id")
    frame = pd.DataFrame({
        "teacher": tables.teachers.set_index("id")["code"].reindex(trials["teacher_id"]).to_numpy(),
        "kind": trials["kind"].to_numpy(),
        "wave": tables.waves.set_index("id")["number"].reindex(trials["wave_id"]).to_numpy(),
        "block": trials["block"].to_numpy(), "trial": trials["trial"].to_numpy(),
        "latency_ms": trials["latency_ms"].to_numpy(dtype=float),
        "error": trials["error"].astype(int).to_numpy(),
        "compatible_first": "",
        "room": "gym",
    }).head(400)
    lines = frame.to_csv(index=False).splitlines()
    path = _write(tmp_path, "iat.csv", [*lines[:50], "", *lines[50:]])
    read = read_iat_trials(path)
    assert read["compatible_first"].isna().all()
    assert read.attrs["ignored_columns"] == ["room"]
    database = tmp_path / "iat.sqlite"
    engine = open_database(database)
    empty = {name: empty_table(name) for name in ("iat_sessions", "iat_trials")}
    write_study(engine, dataclasses.replace(tables, **empty))
    summary = import_iat_trials(engine, read, source=path.name)
    engine.dispose()
    assert summary.added["iat_trials"] == 400


def _boris_lines(name: str) -> tuple[list[str], int]:
    lines = (BORIS / name).read_text(encoding="utf-8").splitlines()
    return lines, next(i for i, line in enumerate(lines) if "Behavior" in line)


BORIS_FILES = ["boris_tabular_events_example.tsv", "boris_aggregated_events_example.tsv"]


@pytest.mark.parametrize("name", BORIS_FILES)
@pytest.mark.parametrize("suffix", ["tsv", "xlsx"])
def test_a_boris_export_with_its_header_repeated_is_refused(tmp_path: Path, name: str,
                                                            suffix: str) -> None:
    lines, header = _boris_lines(name)
    repeated = [*lines[:header + 2], lines[header], *lines[header + 2:]]
    path = tmp_path / f"coding.{suffix}"
    if suffix == "tsv":
        _write(tmp_path, path.name, repeated)
    else:
        pd.DataFrame([line.split("\t") for line in repeated]).to_excel(path, header=False,
                                                                       index=False)
    with pytest.raises(ValidationError, match="repeats the header row") as caught:
        read_boris(path)
    assert caught.value.problems[0].row == 2


@pytest.mark.parametrize("name", BORIS_FILES)
def test_a_boris_header_row_with_a_column_twice_is_refused(tmp_path: Path, name: str) -> None:
    lines, header = _boris_lines(name)
    cells = lines[header].split("\t")
    doubled = [*lines[:header], "\t".join([*cells, cells[-1]]),
               *("\t".join([*line.split("\t"), ""]) for line in lines[header + 1:])]
    with pytest.raises(DataError, match=f"{cells[-1]!r} occurs twice in the header"):
        read_boris(_write(tmp_path, "coding.tsv", doubled))


@pytest.mark.parametrize("name", BORIS_FILES)
def test_a_boris_row_with_more_cells_than_the_header_is_refused(tmp_path: Path,
                                                                name: str) -> None:
    lines, header = _boris_lines(name)
    extra = [*lines[:header + 1], lines[header + 1] + "\tsurplus", *lines[header + 2:]]
    with pytest.raises(ValidationError, match="cells but the header has") as caught:
        read_boris(_write(tmp_path, "coding.tsv", extra))
    assert caught.value.problems[0].row == 1


@pytest.mark.parametrize("name", BORIS_FILES)
def test_blank_lines_in_a_boris_export_are_ignored(tmp_path: Path, name: str) -> None:
    lines, header = _boris_lines(name)
    spaced = [*lines[:header + 2], "", "\t\t", *lines[header + 2:]]
    expected = read_boris(BORIS / name)
    pd.testing.assert_frame_equal(read_boris(_write(tmp_path, "coding.tsv", spaced)), expected)


def test_nan_as_a_boris_modifier_is_refused(tmp_path: Path) -> None:
    lines, header = _boris_lines("boris_aggregated_events_example.tsv")
    names = lines[header].split("\t")
    column = next(i for i, n in enumerate(names) if n.startswith("Modifier"))
    cells = lines[header + 1].split("\t")
    cells[column] = "nan"
    changed = [*lines[:header + 1], "\t".join(cells), *lines[header + 2:]]
    with pytest.raises(ValidationError, match="'nan' is not a modifier") as caught:
        read_boris(_write(tmp_path, "coding.tsv", changed))
    assert caught.value.problems[0].row == 1


@pytest.mark.parametrize("value", [float("inf"), 1e300, 2.5])
def test_the_store_refuses_a_bad_lesson_id_handed_to_it_directly(event_lines, tmp_path: Path,
                                                                 value: float) -> None:
    database, lines = event_lines
    events = read_interaction_events(_write(tmp_path, "events.csv", lines)).astype(object)
    events.loc[2, "lesson_id"] = value
    engine = open_database(database, create=False)
    try:
        with pytest.raises(ValidationError) as caught:
            import_interaction_events(engine, events, source="frame")
    finally:
        engine.dispose()
    assert (3, "lesson_id") in {(p.row, p.column) for p in caught.value.problems}
