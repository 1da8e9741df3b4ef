"""``classdyad init`` and ``classdyad migrate``: commands refuse a database that needs
migrating, and say how to migrate it."""

from __future__ import annotations

from pathlib import Path

import pytest

from classdyad.cli.app import main


def test_a_database_that_needs_migrating_is_refused_until_migrated(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from alembic import command

    from classdyad.store.engine import _alembic_config, create_engine, write_engine

    database = str(tmp_path / "old.sqlite")
    assert main(["init", database]) == 0
    assert "created" in capsys.readouterr().out
    engine = create_engine(database)
    with write_engine(engine).begin() as connection:
        command.downgrade(_alembic_config(connection), "0001")
    engine.dispose()
    assert main(["info", database]) == 2
    assert f"classdyad migrate {database}" in " ".join(capsys.readouterr().err.split())
    assert main(["migrate", database]) == 0
    newest = max(path.name[:4] for path in (Path(__file__).parents[2] / "src" / "classdyad"
                                           / "store" / "migrations" / "versions").glob("[0-9]*.py"))
    assert f"from schema 0001 to {newest}" in " ".join(capsys.readouterr().out.split())
    assert main(["migrate", database]) == 0
    assert "nothing to do" in " ".join(capsys.readouterr().out.split())
    assert main(["migrate", str(tmp_path / "absent.sqlite")]) == 2
    assert "classdyad init" in " ".join(capsys.readouterr().err.split())
