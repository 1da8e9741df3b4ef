"""Reading studies back as tidy DataFrames.

:func:`read_study` returns a :class:`~classdyad.model.StudyTables` (database ids kept), the
input of :func:`classdyad.study.build_analysis_dataset`; :func:`study_counts` gives the counts
``classdyad info`` prints. Names in the roster are never read here (DESIGN.md, privacy).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from classdyad.errors import NotFoundError
from classdyad.model import TABLE_COLUMNS, Base, StudyTables
from classdyad.model.tables import TABLE_NAMES as TABLE_OF

#: how each frame is restricted to one study: (join path as table names, column holding study_id)
_STUDY_PATH: dict[str, tuple[str, ...]] = {
    "waves": ("wave",),
    "schools": ("school",),
    "classrooms": ("classroom", "school"),
    "teachers": ("teacher",),
    "classroom_teachers": ("classroom_teacher", "teacher"),
    "students": ("student",),
    "enrolments": ("enrolment", "student"),
    "lessons": ("lesson", "wave"),
    "lesson_teachers": ("lesson_teacher", "teacher"),
    "attendance": ("lesson_attendance", "student"),
    "codebooks": ("codebook",),
    "codebook_categories": ("codebook_category", "codebook"),
    "coders": ("coder",),
    "events": ("interaction_event", "teacher"),
    "instruments": ("instrument",),
    "responses": ("questionnaire_response", "instrument"),
    "response_items": ("response_item", "questionnaire_response", "instrument"),
    "iat_sessions": ("iat_session", "teacher"),
    "iat_trials": ("iat_trial", "iat_session", "teacher"),
}

#: (frame, column) of the boolean columns, from the mappings (drivers return 0/1 on SQLite)
_BOOLEAN = {(name, column.name) for name, table in TABLE_OF.items()
            for column in Base.metadata.tables[table].columns
            if isinstance(column.type, sa.Boolean)}


def list_studies(engine: Engine) -> pd.DataFrame:
    """The studies in a database: ``id, name, description``."""
    table = Base.metadata.tables["study"]
    with engine.connect() as connection:
        return pd.read_sql(sa.select(table.c.id, table.c.name, table.c.description)
                           .order_by(table.c.id), connection)


def resolve_study(connection: Connection, study: int | str | None) -> dict[str, Any]:
    """Find one study by id or name (``None``: the only study in the database)."""
    table = Base.metadata.tables["study"]
    rows = connection.execute(sa.select(table)).mappings().all()
    if study is None:
        if len(rows) == 1:
            return dict(rows[0])
        if not rows:
            raise NotFoundError("the database holds no study yet; create one with "
                                "`classdyad demo` or import data first")
        names = ", ".join(repr(r["name"]) for r in rows)
        raise NotFoundError(f"the database holds several studies ({names}); name one")
    for row in rows:
        if row["id"] == study or row["name"] == study:
            return dict(row)
    names = ", ".join(repr(r["name"]) for r in rows) or "none"
    raise NotFoundError(f"no study {study!r} in the database; the studies are: {names}")


def _select_for_study(name: str, study_id: int) -> sa.Select:
    md = Base.metadata
    path = [md.tables[t] for t in _STUDY_PATH[name]]
    frame_table = path[0]
    columns = [frame_table.c[c] for c in TABLE_COLUMNS[name] if c in frame_table.c]
    query = sa.select(*columns)
    joined: sa.FromClause = frame_table
    for child, parent in pairwise(path):
        fk = next(fk for fk in child.foreign_keys if fk.column.table is parent)
        joined = joined.join(parent, fk.parent == fk.column)
    query = query.select_from(joined).where(path[-1].c.study_id == study_id)
    if name == "events":  # a voided event is kept (with its history) but never read as data
        query = query.where(frame_table.c.voided_at.is_(None))
    order = [frame_table.c[c] for c in ("id",) if c in frame_table.c]
    return query.order_by(*order) if order else query


def read_frame(connection: Connection, query: sa.Select) -> pd.DataFrame:
    """Run a query and return its rows as a DataFrame, straight from the driver's cursor.

    Fetching through the DB-API cursor skips SQLAlchemy's per-row objects, which matters for
    tables of millions of events. Queries here bind only integers, rendered as literals.
    """
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        columns = [d[0] for d in cursor.description]
        return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
    finally:
        cursor.close()


def _with_coding_columns(connection: Connection, events: pd.DataFrame,
                         study_id: int) -> pd.DataFrame:
    """Add ``frame``, ``source``, ``superseded`` (settled by an adjudication) and ``coder_role``
    (the coder's assignment to the lesson: ``primary``, ``second`` or missing) to the events.

    :func:`classdyad.study.analysis_events` uses them to count adjudicated codes where they
    exist, else the primary coder's.
    """
    md = Base.metadata
    event, teacher = md.tables["interaction_event"], md.tables["teacher"]
    assignment = md.tables["coder_assignment"]
    extra = read_frame(connection, sa.select(event.c.id, event.c.frame, event.c.source,
                                             event.c.superseded,
                                             assignment.c.role.label("coder_role"))
                       .select_from(event.join(teacher, event.c.teacher_id == teacher.c.id)
                                    .outerjoin(assignment, sa.and_(
                                        assignment.c.lesson_id == event.c.lesson_id,
                                        assignment.c.coder_id == event.c.coder_id)))
                       .where(teacher.c.study_id == study_id).order_by(event.c.id))
    out = events.copy()
    extra = extra.set_index("id").reindex(out["id"])
    out["frame"] = extra["frame"].astype("Int64").to_numpy()
    out["source"] = extra["source"].astype(object).to_numpy()
    out["superseded"] = extra["superseded"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    out["coder_role"] = extra["coder_role"].astype(object).to_numpy()
    return out


def _with_attendance_minutes(connection: Connection, attendance: pd.DataFrame,
                             study_id: int) -> pd.DataFrame:
    """Add ``minutes_present`` (from a live session's presence marks; NaN where not measured)
    to the attendance; :func:`classdyad.study.interaction_rates` uses it where it is known."""
    md = Base.metadata
    table, lesson, wave = (md.tables["lesson_attendance"], md.tables["lesson"],
                           md.tables["wave"])
    extra = read_frame(connection, sa.select(table.c.lesson_id, table.c.student_id,
                                             table.c.minutes_present)
                       .select_from(table.join(lesson, table.c.lesson_id == lesson.c.id)
                                    .join(wave, lesson.c.wave_id == wave.c.id))
                       .where(wave.c.study_id == study_id))
    key = pd.MultiIndex.from_frame(attendance[["lesson_id", "student_id"]])
    minutes = extra.set_index(["lesson_id", "student_id"])["minutes_present"]
    return attendance.assign(minutes_present=minutes.reindex(key).astype(float).to_numpy())


def read_study(engine: Engine, study: int | str | None = None) -> StudyTables:
    """Read a whole study (without names) into a :class:`~classdyad.model.StudyTables`.

    Parameters
    ----------
    engine
        An engine from :func:`classdyad.store.open_database`.
    study
        The study's id or name; ``None`` when the database holds one study.

    Raises
    ------
    NotFoundError
        If there is no such study (or several and none was named).
    """
    frames: dict[str, pd.DataFrame] = {}
    with engine.connect() as connection:
        info = resolve_study(connection, study)
        for name in TABLE_OF:
            frame = read_frame(connection, _select_for_study(name, info["id"]))
            for column in TABLE_COLUMNS[name]:
                if column not in frame.columns:
                    frame[column] = pd.Series(pd.NA, index=frame.index, dtype=object)
                elif (name, column) in _BOOLEAN:
                    frame[column] = frame[column].astype("boolean")
            if name == "events":
                frame["student_id"] = frame["student_id"].astype("Int64")
            frames[name] = frame[list(TABLE_COLUMNS[name])]
            if name == "events":
                frames[name] = _with_coding_columns(connection, frames[name], info["id"])
            if name == "attendance":
                frames[name] = _with_attendance_minutes(connection, frames[name], info["id"])
    return StudyTables(name=info["name"], settings=info["settings"] or {},
                       description=info["description"], **frames)


def study_counts(engine: Engine, study: int | str | None = None) -> dict[str, Any]:
    """Counts of schools, classes, teachers, students, waves, lessons and events by valence.

    ``second_coder_events`` counts the events of double-coded lessons coded by a second coder
    (reliability coding); they are included in ``interaction_events``.
    """
    md = Base.metadata
    with engine.connect() as connection:
        info = resolve_study(connection, study)
        sid = info["id"]

        def count(name: str) -> int:
            query = _select_for_study(name, sid).subquery()
            return int(connection.execute(sa.select(sa.func.count()).select_from(query))
                       .scalar_one())

        events = md.tables["interaction_event"]
        teacher = md.tables["teacher"]
        by_valence = dict(connection.execute(
            sa.select(events.c.valence, sa.func.count())
            .select_from(events.join(teacher, events.c.teacher_id == teacher.c.id))
            .where(teacher.c.study_id == sid, events.c.voided_at.is_(None))
            .group_by(events.c.valence)).all())
        second = connection.execute(sa.text(
            "SELECT COUNT(*) FROM interaction_event e JOIN teacher t ON e.teacher_id = t.id "
            "JOIN (SELECT lesson_id, MIN(coder_id) AS first_coder FROM interaction_event "
            "WHERE voided_at IS NULL GROUP BY lesson_id) f ON f.lesson_id = e.lesson_id "
            "WHERE t.study_id = :sid AND e.coder_id > f.first_coder AND e.voided_at IS NULL"),
            {"sid": sid}).scalar_one()
        return {
            "study": info["name"],
            "schools": count("schools"),
            "classes": count("classrooms"),
            "teachers": count("teachers"),
            "students": count("students"),
            "waves": count("waves"),
            "lessons": count("lessons"),
            "interaction_events": sum(by_valence.values()),
            "events_by_valence": {v: int(by_valence.get(v, 0))
                                  for v in ("positive", "negative", "neutral")},
            "second_coder_events": int(second),
        }
