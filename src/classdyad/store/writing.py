"""Writing whole studies and batches of coded events, all or nothing.

:func:`write_study` stores a :class:`~classdyad.model.StudyTables` in one transaction: every
check of :mod:`classdyad.store.validation` runs first, and if any row is wrong a
:class:`~classdyad.errors.ValidationError` lists the problems and nothing is written. Rows are
inserted with SQLAlchemy Core (no ORM objects), which keeps a 183,000-event study to a second or
two on SQLite. The database gives every row its id (:func:`classdyad.store.inserting.write_frames`):
the tables' own ids only tie their rows together, so a study can be written into a database that
holds others, while others write to it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from classdyad.errors import IntegrityError, Problem, ValidationError
from classdyad.model import Base, StudyTables
from classdyad.model.audit import AuditEntry
from classdyad.model.enums import Informant
from classdyad.model.tables import REFERENCES, STUDY_OWNED, TABLE_NAMES
from classdyad.store import validation as check
from classdyad.store.inserting import Progress, insert_rows, write_frames
from classdyad.store.session import write_scope

#: frame name -> database table name (kept here for older imports)
TABLE_OF = TABLE_NAMES


def _validate(tables: StudyTables) -> tuple[StudyTables, list[Problem]]:
    """Run every check; return the tables with normalized background and the problems."""
    problems: list[Problem] = []
    students, student_problems = check.normalize_students(tables.students)
    problems += student_problems
    ids = {name: getattr(tables, name)["id"] for name in TABLE_NAMES
           if "id" in getattr(tables, name).columns}
    for name in ids:
        problems += check.check_unique(getattr(tables, name), ["id"], source=name)
    for name, refs in REFERENCES.items():
        frame = getattr(tables, name)
        for column, target in refs.items():
            nullable = Base.metadata.tables[TABLE_NAMES[name]].c[column].nullable
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


def write_study(target: Engine | Session | sa.Connection, tables: StudyTables, *,
                actor: str = "classdyad", progress: Progress | None = None) -> int:
    """Write a whole study in one transaction and return its database id.

    Parameters
    ----------
    target
        An engine from :func:`classdyad.store.open_database` (one transaction of its own), or a
        session of :func:`classdyad.store.unit_of_work` (the caller's transaction).
    tables
        The study. Its ids only need to be consistent among the tables; the database gives
        every row a new id.
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
    with write_scope(target) as connection:
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
        write_frames(connection, {name: getattr(tables, name) for name in tables.table_names()},
                     study_id=study_id, progress=progress)
        connection.execute(metadata.tables["audit_log"].insert().values(
            actor=actor, action="write_study", entity="study", count=1,
            detail={"study": tables.name, "rows": tables.counts()}))
    return int(study_id)


def add_interaction_events(target: Engine | Session | sa.Connection, events: pd.DataFrame, *,
                           actor: str, source: str = "events") -> int:
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
    with write_scope(target) as connection:
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


__all__ = ["REFERENCES", "STUDY_OWNED", "TABLE_OF", "add_interaction_events", "insert_rows",
           "write_study"]
