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
import warnings
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from classdyad.errors import DataError, NotFoundError
from classdyad.io.mapping import ColumnMapping, resolve_columns
from classdyad.io.tabular import decode_text

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
        The columns of :data:`EVENT_FIELDS` (text, with missing cells as missing), in order.

    Raises
    ------
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
    except (ValueError, pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise DataError(f"{path.name}: not a readable CSV table ({exc}); check that every row "
                        "has as many cells as the header") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(set(frame.columns)) != len(frame.columns):
        raise DataError(f"{path.name}: a column name occurs twice in the header")
    events = resolve_columns(frame, fields=EVENT_FIELDS, required=REQUIRED_EVENT_FIELDS,
                             mapping=mapping, source=path.name)
    for column in EVENT_FIELDS:
        if column not in events.columns:
            events[column] = None
    if events["target_kind"].isna().all():
        events["target_kind"] = events["student"].notna().map({True: "student",
                                                               False: "class"})
    return events[list(EVENT_FIELDS)]


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
