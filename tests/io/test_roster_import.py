"""Roster import from CSV, Excel and SPSS: English and Dutch headers, all or nothing, idempotent."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import sqlalchemy as sa

from classdyad.errors import DataError, ValidationError
from classdyad.io import ColumnMapping, read_column_mapping, read_roster
from classdyad.simulate import SimulatedStudy
from classdyad.store import open_database, read_study, study_counts
from classdyad.store.importing import import_roster

STUDENT_FIELDS = ["code", "gender", "birth_year", "birth_country", "mother_birth_country",
                  "father_birth_country", "mother_education", "father_education"]


def _enrolment_codes(tables) -> pd.DataFrame:
    students = tables.students.set_index("id")["code"]
    classes = tables.classrooms.set_index("id")["code"]
    waves = tables.waves.set_index("id")["number"]
    e = tables.enrolments
    return pd.DataFrame({
        "student": students.reindex(e["student_id"]).to_numpy(),
        "wave": waves.reindex(e["wave_id"]).to_numpy().astype(int),
        "classroom": classes.reindex(e["classroom_id"]).to_numpy(),
        "grade": e["grade"].to_numpy().astype(int),
    }).sort_values(["student", "wave"], ignore_index=True)


def _students(tables) -> pd.DataFrame:
    frame = tables.students[STUDENT_FIELDS].sort_values("code", ignore_index=True)
    frame["birth_year"] = frame["birth_year"].astype("Int64")
    return frame.astype({c: object for c in STUDENT_FIELDS if c != "birth_year"})


def _check_imported(database: Path, small_study: SimulatedStudy) -> None:
    engine = open_database(database, create=False)
    back = read_study(engine)
    with engine.connect() as connection:
        names = connection.execute(sa.text("SELECT count(*) FROM student_roster "
                                           "WHERE first_name LIKE 'Kind%'")).scalar_one()
    engine.dispose()
    original = small_study.tables
    pd.testing.assert_frame_equal(_students(back), _students(original))
    pd.testing.assert_frame_equal(_enrolment_codes(back), _enrolment_codes(original))
    assert len(back.classroom_teachers) == len(original.classroom_teachers)
    assert sorted(back.teachers["code"]) == sorted(original.teachers["code"])
    assert names == len(original.students)


def test_csv_roster_imports_exactly_and_twice_changes_nothing(
        roster: pd.DataFrame, small_study: SimulatedStudy, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    roster.to_csv(path, index=False)
    database = tmp_path / "db.sqlite"
    engine = open_database(database)
    first = import_roster(engine, read_roster(path), study="pilot", source=path.name)
    assert first.added["students"] == len(small_study.tables.students)
    assert first.added["enrolments"] == len(roster)
    before = study_counts(engine)
    second = import_roster(engine, read_roster(path), study="pilot", source=path.name)
    assert sum(second.added.values()) == 0
    assert second.already_stored["students"] == len(small_study.tables.students)
    assert study_counts(engine) == before
    engine.dispose()
    _check_imported(database, small_study)


def test_excel_roster_with_dutch_headers(roster: pd.DataFrame, small_study: SimulatedStudy,
                                         dutch_headers: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "leerlingen.xlsx"
    dutch = roster.rename(columns=dutch_headers)
    dutch["Geslacht"] = dutch["Geslacht"].map({"boy": "jongen", "girl": "meisje"})
    dutch.to_excel(path, index=False)
    database = tmp_path / "db.sqlite"
    engine = open_database(database)
    import_roster(engine, read_roster(path), study="pilot")
    engine.dispose()
    _check_imported(database, small_study)


def test_spss_roster_with_value_labels_and_a_yaml_mapping(
        roster: pd.DataFrame, small_study: SimulatedStudy, tmp_path: Path) -> None:
    path = tmp_path / "roster.sav"
    data = roster.rename(columns={"student": "llnr", "class": "klas_id"})
    data.columns = [c.replace(" ", "_") for c in data.columns]
    data["gender"] = data["gender"].map({"boy": 1.0, "girl": 2.0})
    data["duo_teacher"] = data["duo_teacher"].fillna("")
    pyreadstat.write_sav(data, str(path), variable_value_labels={
        "gender": {1.0: "jongen", 2.0: "meisje"}})
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text("columns:\n  student: llnr\n  classroom: klas_id\n",
                            encoding="utf-8")
    database = tmp_path / "db.sqlite"
    engine = open_database(database)
    import_roster(engine, read_roster(path, mapping=read_column_mapping(mapping_file)),
                  study="pilot")
    engine.dispose()
    _check_imported(database, small_study)


def test_value_translation_and_defaults_from_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("School;Klas;Groep;Leerling;Sekse\nA;6a;6;L1;1\nA;6a;7;L2;2\n",
                    encoding="cp1252")
    mapping = ColumnMapping(columns={"gender": "Sekse"}, values={"gender": {"1": "boy",
                                                                           "2": "girl"}},
                            defaults={"wave": 2})
    table = read_roster(path, mapping=mapping)
    assert table["gender"].tolist() == ["boy", "girl"]
    assert table["wave"].tolist() == [2, 2]
    engine = open_database(tmp_path / "db.sqlite")
    summary = import_roster(engine, table, study="s")
    assert summary.added["waves"] == 1
    stored = read_study(engine)
    assert stored.classrooms[["lowest_grade", "highest_grade"]].iloc[0].tolist() == [6, 7]
    engine.dispose()


def test_bad_rows_are_all_listed_and_nothing_is_written(roster: pd.DataFrame,
                                                         tmp_path: Path) -> None:
    bad = roster.astype(object)
    bad.loc[3, "grade"] = "zes"
    bad.loc[5, "birth country"] = "Atlantis"
    bad.loc[7, "gender"] = "?"
    bad.loc[9, "student"] = None
    path = tmp_path / "roster.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(ValidationError) as caught:
        read_roster(path)
    rows = {(p.row, p.column) for p in caught.value.problems}
    assert {(4, "grade"), (8, "gender"), (10, "student")} <= rows
    assert "roster.csv" in str(caught.value) and "nothing was written" in str(caught.value)
    # the country is checked against the stored study's rules, still before any write
    fixed = bad.drop(index=[3, 7, 9])
    fixed.to_csv(path, index=False)
    engine = open_database(tmp_path / "db.sqlite")
    with pytest.raises(ValidationError) as caught:
        import_roster(engine, read_roster(path), study="s", source=path.name)
    assert any(p.column == "birth_country" and p.value == "Atlantis"
               for p in caught.value.problems)
    with engine.connect() as connection:
        for table in ("study", "school", "student", "enrolment", "audit_log"):
            count = connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            assert count == 0, table
    engine.dispose()


def test_a_roster_that_contradicts_the_stored_study_is_refused(roster: pd.DataFrame,
                                                                tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    roster.to_csv(path, index=False)
    engine = open_database(tmp_path / "db.sqlite")
    import_roster(engine, read_roster(path), study="s")
    before = study_counts(engine)
    changed = roster.astype(object)
    changed.loc[0, "birth year"] = int(changed.loc[0, "birth year"]) - 3
    changed.loc[1, "class"] = "C999"
    changed.to_csv(path, index=False)
    with pytest.raises(ValidationError) as caught:
        import_roster(engine, read_roster(path), study="s", source=path.name)
    columns = {p.column for p in caught.value.problems}
    assert {"birth_year", "classroom"} <= columns
    assert study_counts(engine) == before
    engine.dispose()


def test_dry_run_checks_and_writes_nothing(roster: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    roster.to_csv(path, index=False)
    engine = open_database(tmp_path / "db.sqlite")
    summary = import_roster(engine, read_roster(path), study="s", dry_run=True)
    assert summary.dry_run and summary.added["students"] > 0
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM study")).scalar_one() == 0
    engine.dispose()


def test_missing_required_column_says_how_to_map_it(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("school,klas,pupil number\nA,1,X\n", encoding="utf-8")
    with pytest.raises(DataError, match="--column FIELD=HEADER"):
        read_roster(path)
    table = read_roster(path, mapping=ColumnMapping(columns={"student": "pupil number"},
                                                    defaults={"grade": 6}))
    assert table.loc[0, "student"] == "X" and table.loc[0, "grade"] == 6
