"""Engine and sessions (a SQLite file by default, a PostgreSQL URL for servers), data access,
queries returning tidy DataFrames, and Alembic migrations.

A command or a web request does its work in one unit of work (:func:`unit_of_work`, or
:func:`get_session` as a dependency) and hands the session to the entity functions (structure,
lessons, codebooks, instruments, events) and the importers; everything it wrote is committed
together at the end.
"""

from classdyad.store.codebooks import add_instrument, codebook_versions, create_codebook
from classdyad.store.engine import (
    check_schema,
    create_engine,
    database_url,
    migrate,
    open_database,
    schema_revision,
)
from classdyad.store.entities import (
    audit,
    create_classroom,
    create_coder,
    create_school,
    create_student,
    create_study,
    create_teacher,
    create_wave,
    enrol_student,
    find_by_code,
)
from classdyad.store.events import add_event, event_history, update_event, void_event
from classdyad.store.lessons import create_lesson, set_attendance, set_lesson_status
from classdyad.store.queries import lesson_events, teacher_classes, teacher_lessons
from classdyad.store.reading import list_studies, read_study, study_counts
from classdyad.store.session import get_session, unit_of_work
from classdyad.store.writing import add_interaction_events, write_study

__all__ = [
    "add_event",
    "add_instrument",
    "add_interaction_events",
    "audit",
    "check_schema",
    "codebook_versions",
    "create_classroom",
    "create_codebook",
    "create_coder",
    "create_engine",
    "create_lesson",
    "create_school",
    "create_student",
    "create_study",
    "create_teacher",
    "create_wave",
    "database_url",
    "enrol_student",
    "event_history",
    "find_by_code",
    "get_session",
    "lesson_events",
    "list_studies",
    "migrate",
    "open_database",
    "read_study",
    "schema_revision",
    "set_attendance",
    "set_lesson_status",
    "study_counts",
    "teacher_classes",
    "teacher_lessons",
    "unit_of_work",
    "update_event",
    "void_event",
    "write_study",
]
