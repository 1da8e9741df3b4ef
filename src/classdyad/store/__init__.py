"""Engine and sessions (a SQLite file by default, a PostgreSQL URL for servers), data-access functions, queries returning tidy DataFrames, Alembic migrations."""
