"""Importing files into a stored study, for the command line and the web application alike.

Every import reads the whole file with :mod:`classdyad.io`, checks it against the stored study
and writes it in one transaction through :mod:`classdyad.store`, or writes nothing: a
:class:`~classdyad.errors.ValidationError` lists every located problem (file, row, column,
value, what to do). With ``dry_run=True`` the same checks run and nothing is written, which is
how the web application shows a preview before the commit.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from classdyad.errors import ValidationError, check_option

IMPORT_KINDS = ("roster", "responses")
ImportKind = Literal["roster", "responses"]
#: file types an import accepts
IMPORT_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".sav")


def new_study_name(target: Engine | Session, study: int | str | None,
                   source: str | Path) -> str | None:
    """The study a roster import creates: ``None`` when the database holds one (or ``study`` is
    named), else the file's stem.

    ``target`` is an engine, or the session of the caller's unit of work (read in its
    transaction).
    """
    from classdyad.model import Study

    if study is not None:
        return None
    if isinstance(target, Session):
        found = target.scalar(sa.select(Study.id).limit(1))
    else:
        with target.connect() as connection:
            found = connection.scalar(sa.select(Study.id).limit(1))
    return Path(source).stem if found is None else None


def import_file(target: Engine | Session, kind: str, path: str | Path, *, actor: str,
                source: str | None = None, study: int | str | None = None,
                dry_run: bool = False, mapping: Any = None, sheet: str | int = 0,
                layout: str | None = None) -> Any:
    """Read ``path`` and import it as a roster or questionnaire responses (all or nothing).

    Parameters
    ----------
    target
        An engine on the study database (the import is a transaction of its own), or the session
        of the caller's unit of work (a web request's): the import joins its transaction and the
        caller commits.
    kind
        ``"roster"`` (schools, classes, teachers, students with names, enrolments) or
        ``"responses"`` (questionnaire responses).
    path
        The file: ``.csv``, ``.tsv``, ``.xlsx`` or ``.sav``.
    actor
        Who imports (audit log).
    source
        The name problems and the audit log give the file (default: its name).
    study
        The study's name or id; a roster into an empty database creates a study of that name
        (default: the file's stem).
    dry_run
        Check everything, write nothing.
    mapping, sheet, layout
        As :func:`classdyad.io.read_roster` and :func:`classdyad.io.read_responses` take them.

    Returns
    -------
    classdyad.store.importing.ImportSummary
        Rows added (or, with ``dry_run``, that would be added) per table.

    Raises
    ------
    ValidationError
        Listing every located problem; nothing is written.
    """
    check_option("kind", kind, IMPORT_KINDS)
    path = Path(path)
    source = source or path.name
    if kind == "roster":
        from classdyad.io.roster import read_roster
        from classdyad.store.importing import import_roster

        table = read_roster(path, mapping=mapping, sheet=sheet)
        study = new_study_name(target, study, source) or study
        summary = import_roster(target, table, study=study, source=source, actor=actor,
                                dry_run=dry_run)
        return with_ignored_columns(summary, table)
    from classdyad.io.questionnaires import read_responses
    from classdyad.store.importing_questionnaires import import_questionnaire_responses

    if layout is not None:
        check_option("layout", layout, ("wide", "long"))
    table = read_responses(path, layout=layout, mapping=mapping, sheet=sheet)  # type: ignore[arg-type]
    summary = import_questionnaire_responses(target, table, study=study, source=source,
                                             actor=actor, dry_run=dry_run)
    return with_ignored_columns(summary, table)


def with_ignored_columns(summary: Any, table: Any) -> Any:
    """``summary`` with the columns the reader left out of ``table`` (``attrs``) named."""
    ignored = getattr(table, "attrs", {}).get("ignored_columns")
    return dataclasses.replace(summary, ignored_columns=tuple(ignored)) if ignored else summary


def problem_records(error: ValidationError) -> list[dict[str, Any]]:
    """Each located problem as a plain record: ``source, row, column, value, message``."""
    return [{"source": p.source, "row": p.row, "column": p.column,
             "value": None if p.value is None else str(p.value), "message": p.message}
            for p in error.problems]


__all__ = ["IMPORT_KINDS", "IMPORT_SUFFIXES", "import_file", "new_study_name", "problem_records",
           "with_ignored_columns"]
