"""Questionnaire responses (wide and long) and IAT trials: exact round trip, idempotent."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import ValidationError
from classdyad.io import read_iat_trials, read_responses
from classdyad.model.tables import empty_table
from classdyad.simulate import SimulatedStudy
from classdyad.store import open_database, read_study, write_study
from classdyad.store.importing_questionnaires import (
    import_iat_trials,
    import_questionnaire_responses,
)

from ..conftest import copy_sqlite_database


def _long_responses(tables) -> pd.DataFrame:
    r = tables.responses.merge(tables.response_items, left_on="id", right_on="response_id")
    instruments = tables.instruments.set_index("id")
    return pd.DataFrame({
        "instrument": instruments["code"].reindex(r["instrument_id"]).to_numpy(),
        "wave": tables.waves.set_index("id")["number"].reindex(r["wave_id"]).to_numpy(),
        "teacher": tables.teachers.set_index("id")["code"].reindex(r["teacher_id"]).to_numpy(),
        "student": tables.students.set_index("id")["code"].reindex(r["student_id"]).to_numpy(),
        "item": r["item"].to_numpy(), "value": r["value"].to_numpy(dtype=float),
    }).sort_values(["instrument", "wave", "teacher", "student", "item"], ignore_index=True)


def _trials(tables) -> pd.DataFrame:
    t = tables.iat_trials.merge(tables.iat_sessions, left_on="session_id", right_on="id")
    waves = tables.waves.set_index("id")["number"]
    return pd.DataFrame({
        "teacher": tables.teachers.set_index("id")["code"].reindex(t["teacher_id"]).to_numpy(),
        "kind": t["kind"].to_numpy(),
        "wave": waves.reindex(t["wave_id"]).to_numpy(),
        "block": t["block"].to_numpy(), "trial": t["trial"].to_numpy(),
        "latency_ms": t["latency_ms"].to_numpy(dtype=float),
        "error": t["error"].astype(bool).to_numpy(),
    }).sort_values(["teacher", "kind", "block", "trial"], ignore_index=True)


@pytest.fixture(scope="module")
def _target_template(small_study: SimulatedStudy,
                     tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small study without events, answers and IAT trials, written once for the module."""
    path = tmp_path_factory.mktemp("questionnaire-target") / "template.sqlite"
    engine = open_database(path)
    empty = {name: empty_table(name) for name in ("events", "responses", "response_items",
                                                  "iat_sessions", "iat_trials")}
    write_study(engine, dataclasses.replace(small_study.tables, **empty))
    engine.dispose()
    return path


@pytest.fixture()
def target(_target_template: Path, tmp_path: Path) -> Path:
    """A copy of that study of this test's own (a target for imports)."""
    return copy_sqlite_database(_target_template, tmp_path / "target.sqlite")


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_responses_round_trip_and_second_import_adds_nothing(
        small_study: SimulatedStudy, target: Path, tmp_path: Path, layout: str) -> None:
    original = _long_responses(small_study.tables)
    path = tmp_path / f"responses_{layout}.csv"
    if layout == "long":
        original.to_csv(path, index=False)
    else:
        wide = original.pivot_table(index=["instrument", "wave", "teacher", "student"],
                                    columns="item", values="value", dropna=False)
        wide = wide.dropna(how="all").reset_index()
        wide.columns.name = None
        wide.to_csv(path, index=False)
    table = read_responses(path)
    engine = open_database(target, create=False)
    first = import_questionnaire_responses(engine, table, source=path.name)
    second = import_questionnaire_responses(engine, read_responses(path), source=path.name)
    back = _long_responses(read_study(engine))
    engine.dispose()
    assert first.added["responses"] == len(small_study.tables.responses)
    assert second.added == {"responses": 0, "response_items": 0}
    if layout == "wide":  # empty cells (skipped items) are not stored from a wide file
        original = original.dropna(subset=["value"])
    pd.testing.assert_frame_equal(back.reset_index(drop=True),
                                  original.reset_index(drop=True), check_dtype=False)


def test_iat_trials_round_trip(small_study: SimulatedStudy, target: Path,
                               tmp_path: Path) -> None:
    original = _trials(small_study.tables)
    path = tmp_path / "iat.csv"
    original.assign(error=original["error"].astype(int)).to_csv(path, index=False)
    engine = open_database(target, create=False)
    first = import_iat_trials(engine, read_iat_trials(path))
    second = import_iat_trials(engine, read_iat_trials(path))
    back = _trials(read_study(engine))
    engine.dispose()
    assert first.added["iat_sessions"] == len(small_study.tables.iat_sessions)
    assert second.added == {"iat_sessions": 0, "iat_trials": 0}
    pd.testing.assert_frame_equal(back, original, check_dtype=False)


def test_bad_cells_are_listed(small_study: SimulatedStudy, target: Path,
                              tmp_path: Path) -> None:
    rows = _long_responses(small_study.tables).head(40).astype(object)
    rows.loc[3, "value"] = "veel"
    rows.loc[5, "wave"] = "?"
    path = tmp_path / "responses.csv"
    rows.to_csv(path, index=False)
    with pytest.raises(ValidationError) as caught:
        read_responses(path)
    assert {(p.row, p.column) for p in caught.value.problems} == {(4, "value"), (6, "wave")}
    rows = _long_responses(small_study.tables).head(40)
    rows.loc[7, "student"] = "P999999"
    rows.to_csv(path, index=False)
    engine = open_database(target, create=False)
    with pytest.raises(ValidationError, match="P999999"):
        import_questionnaire_responses(engine, read_responses(path))
    assert read_study(engine).responses.empty
    engine.dispose()
    trials = _trials(small_study.tables).head(20)
    trials["latency_ms"] = trials["latency_ms"].astype(object)
    trials.loc[2, "latency_ms"] = -5
    trials.loc[4, "block"] = 9
    trials.to_csv(tmp_path / "iat.csv", index=False)
    with pytest.raises(ValidationError) as caught:
        read_iat_trials(tmp_path / "iat.csv")
    assert {(p.row, p.column) for p in caught.value.problems} == {(3, "latency_ms"),
                                                                  (5, "block")}
    assert np.isfinite(trials["trial"]).all()
