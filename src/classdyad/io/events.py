"""Interaction events as CSV: one row per coded teacher-student interaction.

The columns (English names, or a :class:`~classdyad.io.mapping.ColumnMapping`) are those of
:data:`EVENT_FIELDS`: a client id that makes every import idempotent, the lesson's id, the time
in the video (seconds), the teacher's code, the target (``student``, ``group`` or ``class``;
default ``student`` when a student is named and ``class`` otherwise), the student's code,
valence, subtype and the coder's code. The file is read with pandas' C parser straight into
typed columns, which keeps a million events to a few seconds; checks against the stored study
are made by :func:`classdyad.store.importing.import_interaction_events`.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from classdyad.errors import ClassdyadError, DataError, NotFoundError, Problem, ValidationError
from classdyad.io.mapping import ColumnMapping, resolve_columns
from classdyad.io.tabular import decode_text, refuse_repeated_header

#: event field -> the headers that name it
EVENT_FIELDS: Mapping[str, tuple[str, ...]] = {
    "client_id": ("client id", "event id", "id"),
    "lesson_id": ("lesson", "lesson id", "les", "les id"),
    "video_seconds": ("time", "seconds", "video time", "video seconds", "tijd"),
    "teacher": ("teacher code", "leerkracht"),
    "target_kind": ("target", "target kind", "doel"),
    "student": ("student code", "leerling", "leerlingnummer"),
    "valence": ("valentie",),
    "subtype": ("category", "code", "behavior", "behaviour", "categorie"),
    "coder": ("coder code", "codeur", "observer"),
}
REQUIRED_EVENT_FIELDS = ("client_id", "lesson_id", "video_seconds", "valence")


def read_interaction_events(path: str | Path, *,
                            mapping: ColumnMapping | None = None) -> pd.DataFrame:
    """Read interaction events from a CSV (or TSV) file.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`EVENT_FIELDS` in order: ``lesson_id`` as whole numbers (or
        lesson codes, as text), ``video_seconds`` as floats, the rest as text without
        surrounding spaces (missing cells as missing). Blank lines are skipped; columns that
        name no field are left out and listed in ``attrs["ignored_columns"]``.

    Raises
    ------
    ValidationError
        Listing each row that repeats the header, has more cells than the header, or holds a
        lesson id or video time that is not a number of the right kind.
    DataError
        If the file cannot be read or lacks a required column.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise NotFoundError(f"{path}: no such file; check the path") from exc
    text = decode_text(data, source=path.name)
    header = text.split("\n", 1)[0]
    sep = "\t" if header.count("\t") > header.count(",") else ","
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                                na_values=[""], engine="c", index_col=False)
    except pd.errors.ParserError as exc:
        raise _located_parser_error(exc, path.name) from exc
    except (ValueError, pd.errors.ParserWarning) as exc:
        raise DataError(f"{path.name}: not a readable CSV table ({exc}); check that every row "
                        "has as many cells as the header") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(set(frame.columns)) != len(frame.columns):
        raise DataError(f"{path.name}: a column name occurs twice in the header")
    frame = _stripped(frame)
    refuse_repeated_header(frame, path.name)
    events = resolve_columns(frame, fields=EVENT_FIELDS, required=REQUIRED_EVENT_FIELDS,
                             mapping=mapping, source=path.name)
    for column in EVENT_FIELDS:
        if column not in events.columns:
            events[column] = None
    if events["target_kind"].isna().all():
        events["target_kind"] = events["student"].notna().map({True: "student",
                                                               False: "class"})
    problems = _parse_numbers(events, path.name)
    if problems:
        raise ValidationError(problems, what=path.name)
    result = events[list(EVENT_FIELDS)]
    result.attrs["ignored_columns"] = events.attrs["ignored_columns"]
    return result


_EXTRA_CELLS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _located_parser_error(error: Exception, source: str) -> ClassdyadError:
    match = _EXTRA_CELLS.search(str(error))
    if match is None:
        return DataError(f"{source}: not a readable CSV table ({error}); check the quotes and "
                         "that every row has as many cells as the header")
    expected, line, seen = (int(g) for g in match.groups())
    return ValidationError([Problem(
        f"has {seen} cells but the header has {expected}; remove the extra cells or quote cells "
        "that hold the separator", source=source, row=line - 1)], what=source)


def _stripped(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells without surrounding spaces (``' S12'`` is ``S12``); rows with no value left out."""
    out = pd.DataFrame({column: frame[column].str.strip() for column in frame.columns})
    out = out.mask(out == "")
    keep = out.notna().any(axis=1)
    return out if keep.all() else out.loc[keep].reset_index(drop=True)


def _parse_numbers(events: pd.DataFrame, source: str) -> list[Problem]:
    """Lesson ids as whole numbers (lesson codes kept as text), video times as finite numbers.

    A lesson cell that reads as a number must be a whole lesson id; ``inf``, ``1e400``, ``2.5``
    or a number too large for an id is refused here rather than guessed at. Negative times are
    left to the store's checks, which list them with every other problem.
    """
    problems: list[Problem] = []
    with np.errstate(invalid="ignore", over="ignore"):
        lesson = pd.to_numeric(events["lesson_id"], errors="coerce").astype(float)
        whole = np.isfinite(lesson) & (lesson == np.round(lesson)) & (lesson.abs() < 2**53)
    numeric = events["lesson_id"].notna() & (lesson.notna() | events["lesson_id"].map(
        lambda v: isinstance(v, str) and v.strip().casefold() in ("nan", "inf", "-inf",
                                                                  "infinity", "-infinity")))
    bad = numeric & ~whole
    problems += [Problem("not a lesson id: a number here must be the lesson's whole-number id "
                         "(as `classdyad info` lists them); a lesson code must contain a letter",
                         source=source, row=int(i) + 1, column="lesson_id",
                         value=events["lesson_id"].iat[i])
                 for i in np.flatnonzero(bad.to_numpy())[:1000]]
    ids = lesson.where(whole).astype("Int64").astype(object)
    events["lesson_id"] = events["lesson_id"].astype(object).where(~whole, ids)
    seconds = pd.to_numeric(events["video_seconds"], errors="coerce").astype(float)
    bad = events["video_seconds"].notna() & ~np.isfinite(seconds)
    problems += [Problem("not a time in the video: give the seconds from the start (a finite "
                         "number)", source=source, row=int(i) + 1, column="video_seconds",
                         value=events["video_seconds"].iat[i])
                 for i in np.flatnonzero(bad.to_numpy())[:1000]]
    events["video_seconds"] = seconds.where(~bad)
    return problems


def write_interaction_events(events: pd.DataFrame, path: str | Path) -> Path:
    """Write events (the columns of :data:`EVENT_FIELDS`) as CSV that reads back unchanged."""
    missing = [c for c in EVENT_FIELDS if c not in events.columns]
    if missing:
        raise DataError(f"the events lack column(s) {missing}; give {', '.join(EVENT_FIELDS)}")
    path = Path(path)
    temporary = path.with_name(f".{path.name}.partial")
    events[list(EVENT_FIELDS)].to_csv(temporary, index=False, lineterminator="\n")
    temporary.replace(path)
    return path


__all__ = ["EVENT_FIELDS", "REQUIRED_EVENT_FIELDS", "read_interaction_events",
           "write_interaction_events"]
