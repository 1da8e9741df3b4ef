"""The declarative base shared by every table, with a naming convention for constraints.

Constraint names are fixed by the convention so that Alembic migrations name them the same way
on SQLite and PostgreSQL, and so that a violated constraint can be reported by name.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every classdyad table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
