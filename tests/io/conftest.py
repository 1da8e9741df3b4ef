"""Fixtures for the import and export tests: the files research teams bring, made from a study."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pandas as pd
import pytest

from classdyad.model import StudyTables
from classdyad.model.tables import empty_table
from classdyad.simulate import SimulatedStudy
from classdyad.store import open_database, write_study

_DUTCH_HEADERS = {"school": "School", "class": "Klas", "grade": "Groep", "teacher": "Leerkracht",
                 "duo teacher": "Duopartner", "student": "Leerlingnummer",
                 "first name": "Voornaam", "last name": "Achternaam", "gender": "Geslacht",
                 "birth year": "Geboortejaar", "birth country": "Geboorteland",
                 "mother birth country": "Geboorteland moeder",
                 "father birth country": "Geboorteland vader",
                 "mother education": "Opleiding moeder", "father education": "Opleiding vader",
                 "wave": "Meting"}


def roster_frame(tables: StudyTables) -> pd.DataFrame:
    """The study's roster with English headers: one row per student and wave."""
    enrol = tables.enrolments.merge(tables.students, left_on="student_id", right_on="id",
                                    suffixes=("", "_student"))
    classes = tables.classrooms.set_index("id")
    schools = tables.schools.set_index("id")
    waves = tables.waves.set_index("id")["number"]
    ct = tables.classroom_teachers
    primary = ct[ct["primary"].astype(bool)].set_index("classroom_id")["teacher_id"]
    duo = ct[~ct["primary"].astype(bool)].drop_duplicates("classroom_id")
    duo = duo.set_index("classroom_id")["teacher_id"]
    teachers = tables.teachers.set_index("id")["code"]
    cid = enrol["classroom_id"]
    frame = pd.DataFrame({
        "school": schools["code"].reindex(classes["school_id"].reindex(cid)).to_numpy(),
        "class": classes["code"].reindex(cid).to_numpy(),
        "grade": enrol["grade"].to_numpy(),
        "teacher": teachers.reindex(primary.reindex(cid)).to_numpy(),
        "duo teacher": teachers.reindex(duo.reindex(cid)).to_numpy(),
        "student": enrol["code"].to_numpy(),
        "first name": [f"Kind{i}" for i in enrol["student_id"]],
        "last name": [f"Achternaam{i}" for i in enrol["student_id"]],
        "gender": enrol["gender"].to_numpy(),
        "birth year": enrol["birth_year"].to_numpy(),
        "birth country": enrol["birth_country"].to_numpy(),
        "mother birth country": enrol["mother_birth_country"].to_numpy(),
        "father birth country": enrol["father_birth_country"].to_numpy(),
        "mother education": enrol["mother_education"].to_numpy(),
        "father education": enrol["father_education"].to_numpy(),
        "wave": waves.reindex(enrol["wave_id"]).to_numpy(),
    })
    return frame.sort_values(["wave", "school", "class", "student"], ignore_index=True)


@pytest.fixture(scope="session")
def dutch_headers() -> dict[str, str]:
    """English roster headers -> Dutch ones."""
    return dict(_DUTCH_HEADERS)


@pytest.fixture(scope="session")
def roster(small_study: SimulatedStudy) -> pd.DataFrame:
    """The small study's roster (English headers)."""
    return roster_frame(small_study.tables)


@pytest.fixture(scope="session")
def _database_templates(small_study: SimulatedStudy,
                        tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The small study written once with and once without its events; tests get copies."""
    folder = tmp_path_factory.mktemp("templates")
    paths = {"with": folder / "with_events.sqlite", "without": folder / "without_events.sqlite"}
    for key, tables in (("with", small_study.tables),
                        ("without", dataclasses.replace(small_study.tables,
                                                        events=empty_table("events")))):
        engine = open_database(paths[key])
        write_study(engine, tables)
        engine.dispose()
    return paths


@pytest.fixture()
def stored_study(_database_templates: dict[str, Path], tmp_path: Path) -> Path:
    """The small study, events included, in a SQLite file of this test's own."""
    path = tmp_path / "study.sqlite"
    shutil.copy(_database_templates["with"], path)
    return path


@pytest.fixture()
def study_without_events(_database_templates: dict[str, Path], tmp_path: Path) -> Path:
    """The small study without its coded events, in a SQLite file (a target for imports)."""
    path = tmp_path / "target.sqlite"
    shutil.copy(_database_templates["without"], path)
    return path
