"""What exports need from a stored study: coded events with codes, names on request, the audit.

Exports themselves are written by :mod:`classdyad.io`; this module reads the rows they need and
records every export in the audit log (DESIGN.md: every export is audited, and names leave the
database only when asked for explicitly).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from classdyad.model import Base
from classdyad.model.audit import AuditEntry
from classdyad.store.reading import read_frame, resolve_study
from classdyad.store.session import write_scope


def coded_events(engine: Engine, study: int | str | None = None) -> pd.DataFrame:
    """The study's coded events with codes instead of ids, in lesson and time order.

    Columns: ``client_id, lesson_id, video_seconds, teacher, target_kind, student, valence,
    subtype, coder, observation, observation_date, media_file`` (``observation`` is
    ``"lesson N"``, or ``"lesson N coder C"`` when a lesson was coded by several coders).
    """
    md = Base.metadata
    event, teacher, student = (md.tables["interaction_event"], md.tables["teacher"],
                               md.tables["student"])
    coder, lesson = md.tables["coder"], md.tables["lesson"]
    student_alias = student.alias("target")
    with engine.connect() as connection:
        sid = int(resolve_study(connection, study)["id"])
        query = (sa.select(event.c.client_id, event.c.lesson_id, event.c.video_seconds,
                           teacher.c.code.label("teacher"), event.c.target_kind,
                           student_alias.c.code.label("student"), event.c.valence,
                           event.c.subtype, coder.c.code.label("coder"),
                           lesson.c.date.label("observation_date"),
                           lesson.c.video_files.label("media_file"))
                 .select_from(event.join(teacher, event.c.teacher_id == teacher.c.id)
                              .join(lesson, event.c.lesson_id == lesson.c.id)
                              .outerjoin(student_alias,
                                         event.c.student_id == student_alias.c.id)
                              .outerjoin(coder, event.c.coder_id == coder.c.id))
                 .where(teacher.c.study_id == sid, event.c.voided_at.is_(None))
                 .order_by(event.c.lesson_id, event.c.video_seconds, event.c.id))
        frame = read_frame(connection, query)
    coders = frame.groupby("lesson_id")["coder"].transform("nunique")
    frame["observation"] = "lesson " + frame["lesson_id"].astype(str)
    several = coders > 1
    frame.loc[several, "observation"] = (frame.loc[several, "observation"] + " coder "
                                         + frame.loc[several, "coder"].astype(str))
    frame["observation_date"] = frame["observation_date"].astype(object).map(
        lambda v: None if v is None or v != v else str(v))
    frame["media_file"] = frame["media_file"].map(
        lambda v: v.split(";")[0] if isinstance(v, str) and v else None)
    return frame


def student_names(engine: Engine, study: int | str | None = None) -> pd.DataFrame:
    """Students' names by code (``student, first_name, last_name``): only for explicit requests."""
    md = Base.metadata
    student, roster = md.tables["student"], md.tables["student_roster"]
    with engine.connect() as connection:
        sid = int(resolve_study(connection, study)["id"])
        return read_frame(connection, sa.select(student.c.code.label("student"),
                                                roster.c.first_name, roster.c.last_name)
                          .select_from(roster.join(student, roster.c.student_id == student.c.id))
                          .where(student.c.study_id == sid))


def record_export(engine: Engine | Session | sa.Connection, *, actor: str, format: str,
                  path: str | Path, rows: int, study: int | str | None = None,
                  include_names: bool = False, detail: dict[str, Any] | None = None) -> None:
    """Write an audit-log entry for an export (who, which format, where, how many rows), in a
    transaction of its own (an engine) or in the caller's unit of work (a session)."""
    with write_scope(engine) as connection:
        info = resolve_study(connection, study)
        connection.execute(sa.insert(AuditEntry).values(
            actor=actor, action="export", entity=format, count=rows,
            detail={"study": info["name"], "path": str(path), "include_names": include_names,
                    **(detail or {})}))


__all__ = ["coded_events", "record_export", "student_names"]
