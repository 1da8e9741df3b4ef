"""``classdyad import`` and ``classdyad export``: every format, names only on request, audited."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from classdyad.cli.app import main
from classdyad.simulate import ReplicaDesign, SimulatedStudy, simulate_study
from classdyad.store import open_database, write_study


@pytest.fixture(scope="module")
def study() -> SimulatedStudy:
    return simulate_study(ReplicaDesign(schools=2, classes=4, students=90), rng=11)


@pytest.fixture(scope="module")
def database(study: SimulatedStudy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "study.sqlite"
    engine = open_database(path)
    write_study(engine, study.tables)
    engine.dispose()
    return path


def _audit(database: Path) -> pd.DataFrame:
    engine = open_database(database, create=False)
    with engine.connect() as connection:
        frame = pd.read_sql(sa.text("SELECT action, entity, count, detail FROM audit_log"),
                            connection)
    engine.dispose()
    return frame


@pytest.mark.parametrize(("format", "name"), [("spss", "d.sav"), ("stata", "d.dta"),
                                              ("excel", "d.xlsx"), ("csv", "d.csv"),
                                              ("parquet", "d.parquet"), ("mplus", "mplus"),
                                              ("r", "r"), ("boris", "events.tsv"),
                                              ("events", "events.csv")])
def test_every_export_writes_and_is_audited(database: Path, tmp_path: Path, format: str,
                                            name: str) -> None:
    out = tmp_path / name
    assert main(["export", format, str(database), "--out", str(out)]) == 0
    assert out.exists()
    audit = _audit(database)
    exports = audit[(audit["action"] == "export") & (audit["entity"] == format)]
    assert len(exports) >= 1
    detail = json.loads(exports["detail"].iloc[-1])
    assert detail["include_names"] is False


def test_names_only_on_request(database: Path, tmp_path: Path) -> None:
    assert main(["export", "csv", str(database), "--out", str(tmp_path / "plain.csv")]) == 0
    plain = pd.read_csv(tmp_path / "plain.csv")
    assert not {"first_name", "last_name"} & set(plain.columns)
    engine = open_database(database, create=False)
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT OR IGNORE INTO student_roster "
                                   "(student_id, first_name, last_name) "
                                   "SELECT id, 'Anna', 'Jansen' FROM student"))
    engine.dispose()
    assert main(["export", "csv", str(database), "--out", str(tmp_path / "named.csv"),
                 "--include-names"]) == 0
    named = pd.read_csv(tmp_path / "named.csv")
    assert named["first_name"].eq("Anna").all()
    assert list(named.columns[:3]) == ["student_id", "student", "first_name"]
    detail = json.loads(_audit(database)["detail"].iloc[-1])
    assert detail["include_names"] is True


def test_student_level_and_mplus_options(database: Path, tmp_path: Path) -> None:
    assert main(["export", "parquet", str(database), "--out", str(tmp_path / "s.parquet"),
                 "--level", "student"]) == 0
    data = pd.read_parquet(tmp_path / "s.parquet")
    assert data["student"].is_unique
    assert main(["export", "mplus", str(database), "--out", str(tmp_path / "m"),
                 "--analysis", "complex"]) == 0
    assert "TYPE = COMPLEX;" in (tmp_path / "m" / "classdyad_teacher_closeness.inp").read_text()
    assert main(["export", "mplus", str(database), "--out", str(tmp_path / "m"),
                 "--analysis", "bayes"]) == 2


def test_roster_import_dry_run_import_and_again(study: SimulatedStudy, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from classdyad.io import write_csv

    students = study.tables.students.merge(study.tables.enrolments, left_on="id",
                                           right_on="student_id")
    classes = study.tables.classrooms.set_index("id")
    schools = study.tables.schools.set_index("id")["code"]
    roster = pd.DataFrame({
        "Leerlingnummer": students["code"], "Klas": classes["code"].reindex(
            students["classroom_id"]).to_numpy(),
        "School": schools.reindex(classes["school_id"].reindex(
            students["classroom_id"])).to_numpy(),
        "Groep": students["grade"], "Meting": students["wave_id"],
        "Geslacht": students["gender"].map({"boy": "jongen", "girl": "meisje"}),
        "Geboorteland": students["birth_country"], "Opmerking": "-"})
    path = write_csv(roster, tmp_path / "leerlingen.csv")
    target = tmp_path / "new.sqlite"
    capsys.readouterr()
    assert main(["import", "roster", str(target), str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and "'Opmerking' name no field and were not imported" in out
    assert main(["import", "roster", str(target), str(path)]) == 0
    assert main(["import", "roster", str(target), str(path)]) == 0
    out = capsys.readouterr().out
    assert "already stored" in out
    engine = open_database(target, create=False)
    with engine.connect() as connection:
        students_stored = connection.execute(sa.text("SELECT count(*) FROM student"))
        assert students_stored.scalar_one() == len(study.tables.students)
    engine.dispose()


def test_bad_import_exits_2_and_writes_nothing(database: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "events.csv"
    path.write_text("client_id,lesson_id,video_seconds,teacher,valence\n"
                    "x1,1,12.5,T0001,positive\nx2,1,13.0,T0001,furious\n", encoding="utf-8")
    before = _audit(database)
    capsys.readouterr()
    assert main(["import", "events", str(database), str(path)]) == 2
    err = capsys.readouterr().err
    assert "row 2" in err and "furious" in err and "nothing was written" in err
    assert len(_audit(database)) == len(before)


def test_boris_import_round_trip_through_the_command_line(database: Path,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "events.tsv"
    assert main(["export", "boris", str(database), "--out", str(out)]) == 0
    mapping = tmp_path / "events.mapping.yaml"
    assert mapping.exists()
    assert main(["import", "boris", str(database), str(out), "--mapping", str(mapping),
                 "--dry-run"]) == 0
    assert main(["import", "boris", str(database), str(out), "--mapping", str(mapping)]) == 0


def test_responses_and_iat_commands(study: SimulatedStudy, tmp_path: Path) -> None:
    import dataclasses

    from classdyad.model.tables import empty_table

    tables = study.tables
    target = tmp_path / "target.sqlite"
    engine = open_database(target)
    empty = {n: empty_table(n) for n in ("responses", "response_items", "iat_sessions",
                                         "iat_trials")}
    write_study(engine, dataclasses.replace(tables, **empty))
    engine.dispose()
    r = tables.responses.merge(tables.response_items, left_on="id", right_on="response_id")
    long = pd.DataFrame({
        "vragenlijst": tables.instruments.set_index("id")["code"].reindex(r["instrument_id"])
        .to_numpy(),
        "meting": tables.waves.set_index("id")["number"].reindex(r["wave_id"]).to_numpy(),
        "leerkracht": tables.teachers.set_index("id")["code"].reindex(r["teacher_id"])
        .to_numpy(),
        "leerling": tables.students.set_index("id")["code"].reindex(r["student_id"]).to_numpy(),
        "item": r["item"], "waarde": r["value"]})
    long.to_csv(tmp_path / "antwoorden.csv", index=False)
    t = tables.iat_trials.merge(tables.iat_sessions, left_on="session_id", right_on="id")
    trials = pd.DataFrame({
        "teacher": tables.teachers.set_index("id")["code"].reindex(t["teacher_id"]).to_numpy(),
        "kind": t["kind"], "block": t["block"], "trial": t["trial"],
        "latency": t["latency_ms"], "error": t["error"].astype(int)})
    trials.to_csv(tmp_path / "iat.csv", index=False)
    assert main(["import", "responses", str(target), str(tmp_path / "antwoorden.csv")]) == 0
    assert main(["import", "iat", str(target), str(tmp_path / "iat.csv")]) == 0
    assert main(["import", "iat", str(target), str(tmp_path / "iat.csv"), "--dry-run"]) == 0
    engine = open_database(target, create=False)
    with engine.connect() as connection:
        n_items = connection.execute(sa.text("SELECT count(*) FROM response_item"))
        assert n_items.scalar_one() == len(r)
        n_trials = connection.execute(sa.text("SELECT count(*) FROM iat_trial"))
        assert n_trials.scalar_one() == len(t)
    engine.dispose()
