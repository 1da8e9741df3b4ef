"""Two processes importing into one SQLite file at the same moment: both complete, nothing is
lost, no id collides (ids come from the database; write transactions take the lock first)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

import classdyad
from classdyad.store import open_database, read_study, study_counts

CHILD = """
import sys, time
from pathlib import Path
from classdyad.io.roster import read_roster
from classdyad.store import open_database
from classdyad.store.importing import import_roster

database, roster, go = sys.argv[1:4]
table = read_roster(roster)
engine = open_database(database, create=False)
while not Path(go).exists():
    time.sleep(0.005)
for part in range(4):  # several transactions each, to interleave with the other process
    rows = table[table["classroom"] == table["classroom"].unique()[part]]
    import_roster(engine, rows.reset_index(drop=True), study="shared", source=Path(roster).name)
engine.dispose()
print("done")
"""


def _roster(path: Path, school: str, n_students: int) -> None:
    rows = []
    for i in range(n_students):
        classroom = f"{school}-{i % 4}"
        for wave in (1, 2):
            rows.append({"school": school, "classroom": classroom, "grade": 6,
                         "teacher": f"{classroom}-T", "student": f"{school}-P{i:04d}",
                         "first_name": f"Kid{i}", "gender": "girl" if i % 2 else "boy",
                         "birth_country": "NL", "wave": wave})
    pd.DataFrame(rows).to_csv(path, index=False)


def test_two_processes_import_into_one_sqlite_file_at_once(tmp_path: Path) -> None:
    database = tmp_path / "shared.sqlite"
    open_database(database).dispose()
    rosters = [tmp_path / "north.csv", tmp_path / "south.csv"]
    _roster(rosters[0], "NORTH", 240)
    _roster(rosters[1], "SOUTH", 240)
    go = tmp_path / "go"
    env = dict(os.environ)
    source = str(Path(classdyad.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([source, env.get("PYTHONPATH", "")])
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(database), str(r), str(go)],
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for r in rosters]
    time.sleep(1.0)  # both children import classdyad and wait at the line
    go.touch()
    outcomes = [child.communicate(timeout=300) for child in children]
    for child, (out, err) in zip(children, outcomes, strict=True):
        assert child.returncode == 0, err
        assert out.strip() == "done"
    engine = open_database(database, create=False)
    counts = study_counts(engine)
    tables = read_study(engine)
    engine.dispose()
    assert counts["schools"] == 2 and counts["classes"] == 8 and counts["teachers"] == 8
    assert counts["students"] == 480 and counts["waves"] == 2
    assert len(tables.enrolments) == 960
    assert tables.students["id"].is_unique and tables.enrolments["id"].is_unique
    codes = tables.students.set_index("id")["code"]
    enrolled = tables.enrolments.assign(code=tables.enrolments["student_id"].map(codes))
    assert enrolled.groupby("code").size().eq(2).all()
