"""Writing whole studies and batches of coded events, all or nothing.

:func:`write_study` stores a :class:`~classdyad.model.StudyTables` in one transaction: every
check of :mod:`classdyad.store.validation` runs first, and if any row is wrong a
:class:`~classdyad.errors.ValidationError` lists the problems and nothing is written. Rows are
inserted with SQLAlchemy Core ``executemany`` (no ORM objects), which keeps a 183,000-event study
to a second or two on SQLite. Ids in the tables are shifted past the ids already in the database,
so a study can be written into a database that holds others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from classdyad.errors import IntegrityError, Problem, ValidationError
from classdyad.model import Base, StudyTables
from classdyad.model.audit import AuditEntry
from classdyad.model.enums import Informant
from classdyad.store import validation as check

#: frame name -> database table name
TABLE_OF: dict[str, str] = {
    "waves": "wave",
    "schools": "school",
    "classrooms": "classroom",
    "teachers": "teacher",
    "classroom_teachers": "classroom_teacher",
    "students": "student",
    "enrolments": "enrolment",
    "lessons": "lesson",
    "lesson_teachers": "lesson_teacher",
    "attendance": "lesson_attendance",
    "codebooks": "codebook",
    "codebook_categories": "codebook_category",
    "coders": "coder",
    "events": "interaction_event",
    "instruments": "instrument",
    "responses": "questionnaire_response",
    "response_items": "response_item",
    "iat_sessions": "iat_session",
    "iat_trials": "iat_trial",
}

#: frame name -> {column: referenced frame}
REFERENCES: dict[str, dict[str, str]] = {
    "classrooms": {"school_id": "schools"},
    "classroom_teachers": {"classroom_id": "classrooms", "teacher_id": "teachers"},
    "enrolments": {"student_id": "students", "classroom_id": "classrooms", "wave_id": "waves"},
    "lessons": {"classroom_id": "classrooms", "wave_id": "waves"},
    "lesson_teachers": {"lesson_id": "lessons", "teacher_id": "teachers"},
    "attendance": {"lesson_id": "lessons", "student_id": "students"},
    "codebook_categories": {"codebook_id": "codebooks"},
    "events": {"lesson_id": "lessons", "teacher_id": "teachers", "student_id": "students",
               "codebook_id": "codebooks", "coder_id": "coders"},
    "responses": {"instrument_id": "instruments", "wave_id": "waves", "teacher_id": "teachers",
                  "student_id": "students"},
    "response_items": {"response_id": "responses"},
    "iat_sessions": {"teacher_id": "teachers", "wave_id": "waves"},
    "iat_trials": {"session_id": "iat_sessions"},
}

#: frames whose table carries a study_id column
STUDY_OWNED = ("waves", "schools", "teachers", "students", "codebooks", "coders", "instruments")

Progress = Callable[[str, int], None]


def _column_values(series: pd.Series) -> list[Any]:
    """A column as plain Python values (``None`` for missing), as DB-API drivers expect."""
    numpy_dtype = isinstance(series.dtype, np.dtype)
    if numpy_dtype and series.dtype.kind in "iub":
        return series.tolist()
    if numpy_dtype and series.dtype.kind == "f":
        values = series.to_numpy()
        missing = np.isnan(values)
        plain = values.tolist()
        if missing.any():
            for i in np.flatnonzero(missing):
                plain[i] = None
        return plain
    return series.astype(object).where(series.notna(), None).tolist()


def insert_rows(connection: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> int:
    """Insert a frame's rows with one ``executemany`` on the driver (fast for large batches).

    The statement is compiled for the connection's dialect, so the same code serves SQLite and
    PostgreSQL; rows go to the driver as tuples (positional parameter styles) or dicts.
    """
    if frame.empty:
        return 0
    columns = list(frame.columns)
    statement = table.insert().values({c: sa.bindparam(c) for c in columns})
    compiled = statement.compile(dialect=connection.dialect)
    values = [_column_values(frame[c]) for c in columns]
    if compiled.positional:
        order = [columns.index(name) for name in compiled.positiontup]
        rows: list[Any] = list(zip(*(values[i] for i in order), strict=True))
    else:
        rows = [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]
    connection.exec_driver_sql(str(compiled), rows)
    return len(rows)


def _validate(tables: StudyTables) -> tuple[StudyTables, list[Problem]]:
    """Run every check; return the tables with normalized background and the problems."""
    problems: list[Problem] = []
    students, student_problems = check.normalize_students(tables.students)
    problems += student_problems
    ids = {name: getattr(tables, name)["id"] for name in TABLE_OF
           if "id" in getattr(tables, name).columns}
    for name in ids:
        problems += check.check_unique(getattr(tables, name), ["id"], source=name)
    for name, refs in REFERENCES.items():
        frame = getattr(tables, name)
        for column, target in refs.items():
            nullable = (name, column) in {("events", "student_id"), ("events", "codebook_id"),
                                          ("events", "coder_id"), ("iat_sessions", "wave_id")}
            problems += check.check_reference(frame, column, ids[target], source=name,
                                              target=target.rstrip("s"), nullable=nullable)
    problems += check.check_number(tables.lessons, "observed_minutes", minimum=0.0,
                                   strictly_greater=True, source="lessons")
    problems += check.check_unique(tables.enrolments, ["student_id", "wave_id"],
                                   source="enrolments")
    problems += check.check_allowed(tables.instruments, "informant",
                                    [i.value for i in Informant], source="instruments")
    problems += check.check_allowed(tables.codebook_categories, "valence",
                                    ["positive", "negative", "neutral"],
                                    source="codebook_categories")
    problems += check.check_number(tables.iat_trials, "latency_ms", minimum=0.0,
                                   source="iat_trials")
    if not tables.events.empty:
        problems += check.check_events(tables.events, lessons=tables.lessons,
                                       enrolments=tables.enrolments,
                                       lesson_teachers=tables.lesson_teachers)
    fixed = StudyTables(**{**{name: getattr(tables, name) for name in tables.table_names()},
                           "name": tables.name, "settings": tables.settings,
                           "description": tables.description, "students": students})
    return fixed, problems


def _shift_ids(tables: StudyTables, offsets: dict[str, int]) -> dict[str, pd.DataFrame]:
    """Return the frames with every id and reference shifted by its table's offset."""
    shifted: dict[str, pd.DataFrame] = {}
    for name in tables.table_names():
        frame = getattr(tables, name).copy()
        if "id" in frame.columns and offsets.get(name):
            frame["id"] = frame["id"].astype("int64") + offsets[name]
        for column, target in REFERENCES.get(name, {}).items():
            if offsets.get(target):
                frame[column] = (pd.to_numeric(frame[column]) + offsets[target]).astype("Int64")
        shifted[name] = frame
    return shifted


def _advance_sequences(connection: sa.Connection, tables: list[str]) -> None:
    """Move PostgreSQL id sequences past ids that were inserted explicitly."""
    for name in tables:
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)")


def write_study(engine: Engine, tables: StudyTables, *, actor: str = "classdyad",
                progress: Progress | None = None) -> int:
    """Write a whole study in one transaction and return its database id.

    Parameters
    ----------
    engine
        An engine from :func:`classdyad.store.open_database`.
    tables
        The study. Its ids only need to be consistent among the tables; they are shifted past the
        ids already in the database.
    actor
        Who writes (recorded in the audit log).
    progress
        Called as ``progress(table_name, n_rows)`` after each table is written.

    Raises
    ------
    ValidationError
        If any row breaks a rule; the message lists the problems and nothing is written.
    IntegrityError
        If the database refuses a row (e.g. a study of that name exists already).
    """
    tables, problems = _validate(tables)
    if problems:
        raise ValidationError(problems, what=f"study {tables.name!r}")
    metadata = Base.metadata
    with engine.begin() as connection:
        exists = connection.execute(
            sa.select(metadata.tables["study"].c.id).where(
                metadata.tables["study"].c.name == tables.name)).first()
        if exists is not None:
            raise IntegrityError(f"a study named {tables.name!r} is already in this database; "
                                 "choose another name or use another database file")
        study_id = connection.execute(
            metadata.tables["study"].insert().values(
                name=tables.name, description=tables.description, settings=tables.settings)
        ).inserted_primary_key[0]
        offsets = {}
        for name, table_name in TABLE_OF.items():
            table = metadata.tables[table_name]
            if "id" in getattr(tables, name).columns:
                offsets[name] = connection.execute(
                    sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()
        frames = _shift_ids(tables, offsets)
        for name in tables.table_names():
            frame = frames[name]
            table = metadata.tables[TABLE_OF[name]]
            if name in STUDY_OWNED:
                frame = frame.assign(study_id=study_id)
            columns = [c for c in frame.columns if c in table.c]
            try:
                n_rows = insert_rows(connection, table, frame[columns])
            except sa.exc.IntegrityError as exc:
                raise IntegrityError(
                    f"the database refused a row of {name}: {exc.orig}; nothing was written. "
                    "Check the rows for duplicates and references to missing rows") from exc
            if progress is not None:
                progress(name, n_rows)
        if connection.dialect.name == "postgresql":
            _advance_sequences(connection, [TABLE_OF[n] for n in offsets])
        connection.execute(metadata.tables["audit_log"].insert().values(
            actor=actor, action="write_study", entity="study", count=1,
            detail={"study": tables.name, "rows": tables.counts()}))
    return int(study_id)


def add_interaction_events(engine: Engine, events: pd.DataFrame, *, actor: str,
                           source: str = "events") -> int:
    """Add coded interaction events to a stored study, all or nothing; return the number added.

    ``events`` has the columns of :data:`classdyad.model.TABLE_COLUMNS` ``["events"]`` (``id``
    may be absent) with database ids for lesson, teacher, student, codebook and coder. The
    checks of :func:`classdyad.store.validation.check_events` run against the stored lessons,
    enrolments and lesson teachers, and client ids must not be in the database yet.

    Raises
    ------
    ValidationError
        Listing every bad row; nothing is written.
    """
    md = Base.metadata
    # ids that cannot be a lesson (not whole, out of range) are left to check_events to report
    lesson_ids = [int(v) for v in pd.unique(pd.to_numeric(events["lesson_id"], errors="coerce"))
                  if np.isfinite(v) and float(v).is_integer() and abs(v) < 2**62]
    with engine.begin() as connection:
        lessons = pd.read_sql(sa.select(md.tables["lesson"]).where(
            md.tables["lesson"].c.id.in_(lesson_ids)), connection)
        enrolments = pd.read_sql(sa.select(md.tables["enrolment"]).where(
            md.tables["enrolment"].c.classroom_id.in_(lessons["classroom_id"].tolist())),
            connection)
        lesson_teachers = pd.read_sql(sa.select(md.tables["lesson_teacher"]).where(
            md.tables["lesson_teacher"].c.lesson_id.in_(lesson_ids)), connection)
        problems = check.check_events(events, lessons=lessons, enrolments=enrolments,
                                      lesson_teachers=lesson_teachers, source=source)
        client_ids = [str(c) for c in events["client_id"].dropna().unique()]
        table = md.tables["interaction_event"]
        taken: set[str] = set()
        for start in range(0, len(client_ids), 5000):
            chunk = client_ids[start:start + 5000]
            taken.update(connection.execute(
                sa.select(table.c.client_id).where(table.c.client_id.in_(chunk))).scalars())
        if taken:
            mask = events["client_id"].astype(str).isin(taken)
            problems += check.problems_at(events, mask, "client_id",
                                        "this client id is already stored; the event was "
                                        "added before (leave it out)", source)
        if problems:
            raise ValidationError(problems, what=source)
        columns = [c for c in events.columns if c in table.c and c != "id"]
        try:
            added = insert_rows(connection, table, events[columns])
        except sa.exc.IntegrityError as exc:
            raise IntegrityError(f"the database refused an event: {exc.orig}; nothing was "
                                 "written. Check the rows named in the message") from exc
        connection.execute(sa.insert(AuditEntry).values(
            actor=actor, action="add_events", entity="interaction_event", count=added,
            detail={"source": source, "lessons": lesson_ids[:100]}))
    return added
