"""Engine and sessions (a SQLite file by default, a PostgreSQL URL for servers), data access,
queries returning tidy DataFrames, and Alembic migrations."""

from classdyad.store.engine import create_engine, database_url, migrate, open_database
from classdyad.store.reading import list_studies, read_study, study_counts
from classdyad.store.writing import add_interaction_events, write_study

__all__ = [
    "add_interaction_events",
    "create_engine",
    "database_url",
    "list_studies",
    "migrate",
    "open_database",
    "read_study",
    "study_counts",
    "write_study",
]
