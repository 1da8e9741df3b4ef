"""The README walk-through: a study from files (no simulator), BORIS codings, analyze, report.

The test runs the very lines of the README's walk-through, in a temporary folder, and checks
what they stored and wrote; a second test imports the same example folder in one go.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pandas as pd
import pytest

from classdyad.cli.app import main
from classdyad.errors import ValidationError
from classdyad.store import open_database, read_study, study_counts

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "small-study"


def walk_through() -> list[list[str]]:
    """The command lines between the README's walk-through markers (without ``classdyad``)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- walk-through -->", 1)[1].split("<!-- end of walk-through -->", 1)[0]
    lines = [line.strip() for line in block.splitlines() if line.startswith("classdyad ")]
    return [shlex.split(line)[1:] for line in lines]


def _absolute(arguments: list[str]) -> list[str]:
    return [str(ROOT / a) if a.startswith("examples/") else a for a in arguments]


def test_the_readme_walk_through_builds_analyzes_and_reports_a_study(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    commands = walk_through()
    assert [c[:2] for c in commands[:2]] == [["init", "small.sqlite"],
                                             ["import", "roster"]]
    assert ["import", "boris"] in [c[:2] for c in commands]
    for arguments in commands:
        assert main(_absolute(arguments)) == 0, arguments
    engine = open_database(tmp_path / "small.sqlite", create=False)
    counts = study_counts(engine)
    tables = read_study(engine)
    engine.dispose()
    assert counts["schools"] == 4 and counts["classes"] == 8 and counts["students"] == 112
    assert counts["lessons"] == 16 and counts["waves"] == 2
    assert counts["interaction_events"] == 1410 + 4 + 18 + 4  # CSV and three BORIS files
    assert counts["second_coder_events"] == 4  # the BORIS project file, coded by BRAM
    assert len(tables.responses) == 224 and len(tables.coders) == 2
    assert tables.codebooks["version"].tolist() == ["1"]
    results = json.loads((tmp_path / "results.json").read_text())
    estimates = pd.DataFrame(results["estimates"])
    assert {"H1", "H2", "H3", "H4"} <= set(estimates["hypothesis"])
    assert "H5" not in set(estimates["hypothesis"])  # no IATs: said, not estimated
    assert any("H5" in line for lines in results["notes"].values() for line in lines)
    assert results["n_students"] == 112
    report = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "small-study" in report
    # the lesson codes of the files became the stored lessons' codes
    assert sorted(pd.read_csv(EXAMPLE / "lessons.csv")["lesson"]) == sorted(
        [*pd.read_csv(EXAMPLE / "events.csv")["lesson"].unique().tolist(), "6A-w1"])


def test_a_study_folder_imports_in_one_transaction(tmp_path: Path) -> None:
    database = tmp_path / "folder.sqlite"
    assert main(["init", str(database)]) == 0
    assert main(["import", "study", str(database), str(EXAMPLE), "--dry-run"]) == 0
    engine = open_database(database, create=False)
    assert read_study_count(engine) == 0
    engine.dispose()
    assert main(["import", "study", str(database), str(EXAMPLE)]) == 0
    assert main(["import", "study", str(database), str(EXAMPLE)]) == 0  # adds nothing
    engine = open_database(database, create=False)
    counts = study_counts(engine, "small-study")
    engine.dispose()
    assert counts["students"] == 112 and counts["interaction_events"] == 1436


def read_study_count(engine) -> int:
    from classdyad.store import list_studies

    return len(list_studies(engine))


def test_a_bad_file_in_a_study_folder_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    for name in ("roster.csv", "coders.csv", "codebook.yaml"):
        (folder / name).write_bytes((EXAMPLE / name).read_bytes())
    lessons = pd.read_csv(EXAMPLE / "lessons.csv")
    lessons.loc[3, "teacher"] = "T-NOBODY"
    lessons.loc[5, "observed_minutes"] = -5
    lessons.to_csv(folder / "lessons.csv", index=False)
    database = tmp_path / "bad.sqlite"
    open_database(database).dispose()
    from classdyad.cli.study_folder import import_study_folder

    engine = open_database(database, create=False)
    with pytest.raises(ValidationError, match=r"lessons.csv, row 6, column observed_minutes"):
        import_study_folder(engine, folder, study="bad")
    lessons.loc[5, "observed_minutes"] = 45
    lessons.to_csv(folder / "lessons.csv", index=False)
    with pytest.raises(ValidationError, match=r"lessons.csv, row 4, column teacher.*roster"):
        import_study_folder(engine, folder, study="bad")
    assert read_study_count(engine) == 0  # the roster and coders before it were rolled back
    engine.dispose()
