"""Fuzz tests: garbled bytes or rows never escape a reader as anything but a ClassdyadError,
and an import that fails never leaves a partial write."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classdyad.errors import ClassdyadError
from classdyad.io import (
    BorisMapping,
    read_boris,
    read_column_mapping,
    read_csv,
    read_excel,
    read_iat_trials,
    read_interaction_events,
    read_parquet,
    read_responses,
    read_roster,
    read_spss,
    read_stata,
    read_table,
)
from classdyad.store import open_database, study_counts
from classdyad.store.importing import import_interaction_events, import_roster

FUZZ = settings(max_examples=30, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])

READERS: dict[str, tuple[str, Callable[[Path], object]]] = {
    "table-csv": (".csv", read_table),
    "table-tsv": (".tsv", read_table),
    "table-xlsx": (".xlsx", read_table),
    "table-sav": (".sav", read_table),
    "roster": (".csv", read_roster),
    "boris-tsv": (".tsv", read_boris),
    "boris-csv": (".csv", read_boris),
    "boris-xlsx": (".xlsx", read_boris),
    "boris-project": (".boris", read_boris),
    "events": (".csv", read_interaction_events),
    "responses": (".csv", read_responses),
    "responses-xlsx": (".xlsx", read_responses),
    "iat-trials": (".csv", read_iat_trials),
    "export-csv": (".csv", read_csv),
    "export-xlsx": (".xlsx", read_excel),
    "export-sav": (".sav", read_spss),
    "export-dta": (".dta", read_stata),
    "export-parquet": (".parquet", read_parquet),
    "column-mapping": (".yaml", read_column_mapping),
    "boris-mapping": (".yaml", BorisMapping.from_yaml),
}

#: bytes that look a little like the real thing, and plain noise
LIKELY = [b"Observation id\tSubject\tBehavior\tTime\tStatus\n", b"Behavior,Start (s)\n",
          b"school,class,grade,student\n", b"client_id,lesson_id,video_seconds,valence\n",
          b"PK\x03\x04", b"$FL2@(#) SPSS", b"{\"observations\": {\"o\": {\"events\": [[1,",
          b"\xef\xbb\xbf", b"\r\n", b"\t", b";", b",", b"\"", b"\x00", b"START", b"STOP",
          b"nan", b"-1e400", b"columns:\n  student: [", b"\xff\xfe"]
garbage = st.lists(st.one_of(st.sampled_from(LIKELY), st.binary(max_size=40)),
                   max_size=12).map(b"".join)


@pytest.mark.parametrize("reader", list(READERS))
@FUZZ
@given(data=garbage)
def test_garbled_bytes_raise_only_classdyad_errors(reader: str, data: bytes) -> None:
    suffix, read = READERS[reader]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        try:
            read(path)
        except ClassdyadError:
            pass


def _mutate(text: str, edits: list[tuple[int, str]]) -> str:
    for position, insert in edits:
        at = position % (len(text) + 1)
        text = text[:at] + insert + text[at + len(insert) // 2:]
    return text


edits = st.lists(st.tuples(st.integers(min_value=0, max_value=10**6),
                           st.sampled_from([",", "\n", "\"", "", "zes", "-3", "Atlantis",
                                            ",,,,", "9", "P000001", "negatief", "1e9"])),
                 min_size=1, max_size=4)


@pytest.fixture(scope="module")
def roster_text(roster: pd.DataFrame) -> str:
    return roster.head(60).to_csv(index=False)


@pytest.fixture(scope="module")
def empty_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated database file, copied for every example."""
    path = tmp_path_factory.mktemp("fuzz-roster") / "empty.sqlite"
    open_database(path).dispose()
    return path


@FUZZ
@given(changes=edits)
def test_garbled_roster_rows_never_leave_a_partial_write(roster_text: str, empty_database: Path,
                                                         changes: list[tuple[int, str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roster.csv"
        path.write_text(_mutate(roster_text, changes), encoding="utf-8")
        shutil.copy(empty_database, Path(folder) / "db.sqlite")
        engine = open_database(Path(folder) / "db.sqlite", create=False)
        try:
            import_roster(engine, read_roster(path), study="s", create_study=True)
        except ClassdyadError:
            with engine.connect() as connection:
                from sqlalchemy import text

                for table in ("study", "school", "classroom", "student", "enrolment",
                              "student_roster", "teacher", "audit_log"):
                    count = connection.execute(text(f"SELECT count(*) FROM {table}"))
                    assert count.scalar_one() == 0, table
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def events_target(_database_templates: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
                  ) -> tuple[Path, str]:
    """Eighty coded events of the small study, and a copy of it without events to import to."""
    from classdyad.store.exporting import coded_events

    folder = tmp_path_factory.mktemp("fuzz-events")
    source = open_database(shutil.copy(_database_templates["with"], folder / "source.sqlite"),
                           create=False)
    events = coded_events(source).head(80)
    source.dispose()
    target = folder / "target.sqlite"
    shutil.copy(_database_templates["without"], target)
    columns = ["client_id", "lesson_id", "video_seconds", "teacher", "target_kind", "student",
               "valence", "subtype", "coder"]
    return target, events[columns].to_csv(index=False)


@FUZZ
@given(changes=edits)
def test_garbled_event_rows_never_leave_a_partial_write(events_target: tuple[Path, str],
                                                        changes: list[tuple[int, str]]) -> None:
    database, text = events_target
    engine = open_database(database, create=False)
    before = study_counts(engine)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.csv"
        path.write_text(_mutate(text, changes), encoding="utf-8")
        try:
            summary = import_interaction_events(engine, read_interaction_events(path))
        except ClassdyadError:
            assert study_counts(engine) == before
        else:
            after = study_counts(engine)
            assert after["interaction_events"] == (before["interaction_events"]
                                                   + summary.added["events"])
        finally:
            engine.dispose()

