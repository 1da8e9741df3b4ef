"""Reading only what one teacher's feedback needs: :func:`read_teacher_study`.

A teacher's feedback uses the lessons that teacher taught, who was present in them, the coded
events of those lessons, the teacher's own questionnaire responses, and the students of those
lessons. :func:`read_teacher_study` reads exactly that (plus the small tables that describe the
study: waves, schools, classes, codebooks, coders, instruments) into a
:class:`~classdyad.model.StudyTables`, so that other teachers' students, events and IATs never
leave the database, and the read costs a fraction of :func:`read_study`. Names are not read.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from classdyad.errors import NotFoundError
from classdyad.model import TABLE_COLUMNS, Base, StudyTables
from classdyad.store.reading import _BOOLEAN, _select_for_study, read_frame, resolve_study
from classdyad.store.writing import TABLE_OF

__all__ = ["read_teacher_study"]

#: frames read whole (they describe the study, not its students)
_WHOLE = ("waves", "schools", "classrooms", "codebooks", "codebook_categories", "coders",
          "instruments")


def _ids(connection: Connection, query: sa.Select) -> list[int]:
    return [int(v) for v in read_frame(connection, query).iloc[:, 0].tolist()]


def read_teacher_study(engine: Engine, teacher: str, study: int | str | None = None
                       ) -> StudyTables:
    """Read one teacher's part of a study (see the module docstring).

    Parameters
    ----------
    engine
        An engine from :func:`classdyad.store.open_database`.
    teacher
        The teacher's code.
    study
        The study's id or name; ``None`` when the database holds one study.

    Raises
    ------
    NotFoundError
        If there is no such study or no teacher with this code in it.
    """
    md = Base.metadata
    frames: dict[str, pd.DataFrame] = {}
    with engine.connect() as connection:
        info = resolve_study(connection, study)
        sid = int(info["id"])
        teacher_table = md.tables["teacher"]
        found = _ids(connection, sa.select(teacher_table.c.id).where(
            (teacher_table.c.study_id == sid) & (teacher_table.c.code == str(teacher))))
        if not found:
            codes = read_frame(connection, sa.select(teacher_table.c.code).where(
                teacher_table.c.study_id == sid).order_by(teacher_table.c.code).limit(8))
            raise NotFoundError(f"no teacher with code {teacher!r} in study {info['name']!r}; "
                                f"the teachers' codes are, for example: "
                                f"{', '.join(map(str, codes['code']))}")
        tid = found[0]
        lesson_teacher = md.tables["lesson_teacher"]
        lessons = _ids(connection, sa.select(lesson_teacher.c.lesson_id).where(
            lesson_teacher.c.teacher_id == tid))
        attendance = md.tables["lesson_attendance"]
        students = _ids(connection, sa.select(attendance.c.student_id).distinct().where(
            attendance.c.lesson_id.in_(lessons)))
        response = md.tables["questionnaire_response"]
        responses = _ids(connection, sa.select(response.c.id).where(
            response.c.teacher_id == tid))
        filters: dict[str, tuple[str, list[int]]] = {
            "teachers": ("id", [tid]),
            "classroom_teachers": ("teacher_id", [tid]),
            "students": ("id", students),
            "enrolments": ("student_id", students),
            "lessons": ("id", lessons),
            "lesson_teachers": ("lesson_id", lessons),
            "attendance": ("lesson_id", lessons),
            "events": ("lesson_id", lessons),
            "responses": ("id", responses),
            "response_items": ("response_id", responses),
            "iat_sessions": ("id", []),
            "iat_trials": ("id", []),
        }
        for name in TABLE_OF:
            query = _select_for_study(name, sid)
            if name not in _WHOLE:
                column, values = filters[name]
                table = md.tables[TABLE_OF[name]]
                query = query.where(table.c[column].in_(values) if values else sa.false())
            frame = read_frame(connection, query)
            for column in TABLE_COLUMNS[name]:
                if column not in frame.columns:
                    frame[column] = pd.Series(pd.NA, index=frame.index, dtype=object)
                elif (name, column) in _BOOLEAN:
                    frame[column] = frame[column].astype("boolean")
            if name == "events":
                frame["student_id"] = frame["student_id"].astype("Int64")
            frames[name] = frame[list(TABLE_COLUMNS[name])]
    return StudyTables(name=info["name"], settings=info["settings"] or {},
                       description=info["description"], **frames)
