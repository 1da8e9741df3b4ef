"""The application of ``classdyad serve``, built from the settings in the environment."""

from __future__ import annotations

import gc
import json
from pathlib import Path

from classdyad.web.app import SETTINGS_VARIABLE, app_from_environment


def test_the_served_application_leaves_its_startup_objects_out_of_garbage_collection(
        tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(SETTINGS_VARIABLE, json.dumps({"database": str(tmp_path / "s.sqlite")}))
    before = gc.get_freeze_count()
    app = app_from_environment()
    try:
        assert app.state.settings.database == str(tmp_path / "s.sqlite")
        # the modules, classes and the application itself: far more than a few objects
        assert gc.get_freeze_count() - before > 10_000
    finally:
        gc.unfreeze()
        app.state.engine.dispose()
