"""Importing files into a stored study, for the command line and the web application alike.

Every import reads the whole file with :mod:`classdyad.io`, checks it against the stored study
and writes it in one transaction through :mod:`classdyad.store`, or writes nothing: a
:class:`~classdyad.errors.ValidationError` lists every located problem (file, row, column,
value, what to do). With ``dry_run=True`` the same checks run and nothing is written, which is
how the web application shows a preview before the commit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from sqlalchemy.engine import Engine

from classdyad.errors import ValidationError, check_option

IMPORT_KINDS = ("roster", "responses")
ImportKind = Literal["roster", "responses"]
#: file types an import accepts
IMPORT_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".sav")


def import_file(engine: Engine, kind: str, path: str | Path, *, actor: str,
                source: str | None = None, study: int | str | None = None,
                dry_run: bool = False) -> Any:
    """Read ``path`` and import it as a roster or questionnaire responses (all or nothing).

    Parameters
    ----------
    engine
        An engine on the study database.
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
        from classdyad.store import list_studies
        from classdyad.store.importing import import_roster

        table = read_roster(path)
        if study is None and list_studies(engine).empty:
            study = Path(source).stem
        return import_roster(engine, table, study=study, source=source, actor=actor,
                             dry_run=dry_run)
    from classdyad.io.questionnaires import read_responses
    from classdyad.store.importing_questionnaires import import_questionnaire_responses

    table = read_responses(path)
    return import_questionnaire_responses(engine, table, study=study, source=source,
                                          actor=actor, dry_run=dry_run)


def problem_records(error: ValidationError) -> list[dict[str, Any]]:
    """Each located problem as a plain record: ``source, row, column, value, message``."""
    return [{"source": p.source, "row": p.row, "column": p.column,
             "value": None if p.value is None else str(p.value), "message": p.message}
            for p in error.problems]


__all__ = ["IMPORT_KINDS", "IMPORT_SUFFIXES", "import_file", "problem_records"]
