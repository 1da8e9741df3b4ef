"""A whole study from one folder of files, imported in order, in one transaction.

The folder holds the files of ``classdyad import`` under fixed names (any of them may be absent
except the roster, unless the study is stored already)::

    roster.csv            schools, classes, teachers, students, enrolments (.csv/.tsv/.xlsx/.sav)
    coders.csv            coder codes (.csv/.xlsx)
    codebook.yaml         the coding scheme (a changed scheme becomes a new version)
    instruments/*.yaml    questionnaire definitions
    lessons.csv           observed lessons (.csv/.xlsx)
    events.csv            coded events in classdyad's CSV layout
    boris/                BORIS exports (.tsv/.csv/.xlsx/.boris) with boris/mapping.yaml
    responses.csv         questionnaire responses (.csv/.tsv/.xlsx/.sav; wide or long)
    iat.csv               IAT trials (.csv/.tsv/.xlsx/.sav)

Every file is read and checked first (a problem names the file, row and column); then the
imports run in the order above inside one unit of work, each checked against what the earlier
ones stored; if any fails, nothing is written. With ``dry_run`` everything is checked the same
way and the transaction is rolled back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from classdyad.errors import DataError, NotFoundError

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".sav")
BORIS_SUFFIXES = (".tsv", ".csv", ".xlsx", ".boris")


def _one(folder: Path, stem: str, suffixes: tuple[str, ...]) -> Path | None:
    found = [folder / f"{stem}{suffix}" for suffix in suffixes if (folder / f"{stem}{suffix}")
             .is_file()]
    if len(found) > 1:
        raise DataError(f"{folder}: several {stem} files ({', '.join(p.name for p in found)}); "
                        "keep one")
    return found[0] if found else None


def study_files(folder: Path) -> dict[str, Any]:
    """The files of a study folder by kind (see the module docstring); none is read yet."""
    if not folder.is_dir():
        raise NotFoundError(f"{folder} is not a folder; give the folder that holds roster.csv, "
                            "lessons.csv, ...")
    files: dict[str, Any] = {
        "roster": _one(folder, "roster", TABLE_SUFFIXES),
        "coders": _one(folder, "coders", TABLE_SUFFIXES),
        "codebook": _one(folder, "codebook", (".yaml", ".yml")),
        "instruments": sorted([*(folder / "instruments").glob("*.yaml"),
                               *(folder / "instruments").glob("*.yml")]),
        "lessons": _one(folder, "lessons", TABLE_SUFFIXES),
        "events": _one(folder, "events", (".csv",)),
        "boris": sorted(p for p in (folder / "boris").glob("*")
                        if p.suffix.lower() in BORIS_SUFFIXES),
        "responses": _one(folder, "responses", TABLE_SUFFIXES),
        "iat": _one(folder, "iat", TABLE_SUFFIXES),
    }
    if files["boris"] and not (folder / "boris" / "mapping.yaml").is_file():
        raise DataError(f"{folder / 'boris'}: BORIS files need a mapping.yaml beside them "
                        "(observations to lesson codes, subjects to students, behaviours to "
                        "valence)")
    if not any(files.values()):
        raise NotFoundError(f"{folder} holds none of the study files (roster.csv, coders.csv, "
                            "codebook.yaml, instruments/, lessons.csv, events.csv, boris/, "
                            "responses.csv, iat.csv)")
    return files


def import_study_folder(engine: Engine, folder: Path, *, study: str,
                        actor: str = "classdyad import", dry_run: bool = False) -> list[Any]:
    """Read, check and import a study folder in one transaction; return the import summaries."""
    from classdyad.io.boris import BorisMapping, boris_interaction_events, read_boris
    from classdyad.io.events import read_interaction_events
    from classdyad.io.questionnaires import read_iat_trials, read_responses
    from classdyad.io.roster import read_roster
    from classdyad.io.study_files import read_codebook, read_coders, read_lessons
    from classdyad.measures.instruments import parse_instrument
    from classdyad.store import codebook_versions, list_studies, unit_of_work
    from classdyad.store.importing import import_interaction_events, import_roster
    from classdyad.store.importing_questionnaires import (
        import_iat_trials,
        import_questionnaire_responses,
    )
    from classdyad.store.importing_setup import (
        import_codebook,
        import_coders,
        import_instrument,
        import_lessons,
    )

    files = study_files(folder)
    if files["roster"] is None and study not in set(list_studies(engine)["name"]):
        raise NotFoundError(f"{folder} has no roster and the database holds no study "
                            f"{study!r}; add roster.csv (the roster creates the study)")
    # read and check every file before anything is written
    roster = read_roster(files["roster"]) if files["roster"] else None
    coders = read_coders(files["coders"]) if files["coders"] else None
    codebook = read_codebook(files["codebook"]) if files["codebook"] else None
    instruments = []
    for path in files["instruments"]:
        text = path.read_text(encoding="utf-8")
        instruments.append((path.name, text, parse_instrument(text, source=path.name)))
    lessons = read_lessons(files["lessons"]) if files["lessons"] else None
    events = read_interaction_events(files["events"]) if files["events"] else None
    boris = []
    if files["boris"]:
        mapping = BorisMapping.from_yaml(folder / "boris" / "mapping.yaml")
        boris = [(p.name, boris_interaction_events(read_boris(p), mapping, source=p.name))
                 for p in files["boris"]]
    responses = read_responses(files["responses"]) if files["responses"] else None
    trials = read_iat_trials(files["iat"]) if files["iat"] else None

    summaries: list[Any] = []
    options = {"study": study, "actor": actor}
    with unit_of_work(engine) as session:
        if roster is not None:
            summaries.append(import_roster(session, roster, source=files["roster"].name,
                                           **options))
        if coders is not None:
            summaries.append(import_coders(session, coders, source=files["coders"].name,
                                           **options))
        codebook_id = None
        if codebook is not None:
            summaries.append(import_codebook(session, codebook, source=files["codebook"].name,
                                             **options))
            study_id = int(list_studies_in(session, study))
            codebook_id = codebook_versions(session, study_id, codebook["name"])[-1].id
        for name, text, definition in instruments:
            summaries.append(import_instrument(
                session, code=definition.id, version=definition.version,
                informant=definition.informant, definition=text, source=name, **options))
        if lessons is not None:
            summaries.append(import_lessons(session, lessons, source=files["lessons"].name,
                                            **options))
        for name, table in ([(files["events"].name, events)] if events is not None else []) + \
                boris:
            summaries.append(import_interaction_events(session, table, source=name,
                                                       codebook_id=codebook_id, **options))
        if responses is not None:
            summaries.append(import_questionnaire_responses(
                session, responses, source=files["responses"].name, **options))
        if trials is not None:
            summaries.append(import_iat_trials(session, trials, source=files["iat"].name,
                                               **options))
        if dry_run:
            session.rollback()
    if dry_run:
        summaries = [type(s)(s.source, added=s.added, already_stored=s.already_stored,
                             dry_run=True) for s in summaries]
    return summaries


def list_studies_in(session: Any, study: str) -> int:
    """The id of the study named ``study`` (inside the unit of work)."""
    from classdyad.store.reading import resolve_study

    return int(resolve_study(session.connection(), study)["id"])


__all__ = ["import_study_folder", "study_files"]
