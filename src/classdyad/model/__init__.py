"""Domain classes (SQLAlchemy 2.0 typed mappings), enums and classification rules; no I/O, no web."""
