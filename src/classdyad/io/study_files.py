"""A study's set-up from files: lessons and coders (CSV / Excel), codebooks (YAML).

Lessons: one row per observed lesson, with the study's own lesson code (by which BORIS mappings
and event files refer to it), the school and class, the wave, the teacher (and a duo teacher),
the observed minutes, and optionally the date, subject, video files and the students who were
absent or not visible (codes separated by ``;``). Coders: one row per coder code. A codebook is
a YAML file::

    name: valence
    version: "1"            # optional: by default a changed codebook gets the next version
    categories:
      - {subtype: praise, valence: positive, hotkey: p, label: Praise}
      - {subtype: correction, valence: negative, hotkey: c}

Each reader checks every row and raises one :class:`~classdyad.errors.ValidationError` naming
file, row, column and what to do; the checks against the stored study (known schools, classes,
teachers, enrolled students) are made by :mod:`classdyad.store.importing_setup`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classdyad.errors import DataError, Problem, ValidationError
from classdyad.io.mapping import ColumnMapping, load_yaml, resolve_columns
from classdyad.io.roster import parse_integers
from classdyad.io.tabular import read_table
from classdyad.model.enums import Valence

#: lesson fields and their known English and Dutch headers
LESSON_FIELDS: dict[str, tuple[str, ...]] = {
    "lesson": ("lesson", "lesson code", "lesson id", "observation", "les", "lescode"),
    "school": ("school", "school code", "brin"),
    "classroom": ("classroom", "class", "class code", "klas", "groepsnaam"),
    "wave": ("wave", "meting", "meetmoment"),
    "teacher": ("teacher", "teacher code", "leerkracht"),
    "duo_teacher": ("duo teacher", "second teacher", "duo leerkracht", "tweede leerkracht"),
    "date": ("date", "lesson date", "datum"),
    "subject": ("subject", "vak"),
    "observed_minutes": ("observed minutes", "minutes", "minutes observed", "duration",
                         "geobserveerde minuten", "minuten"),
    "video_files": ("video files", "video file", "video", "media file", "media files"),
    "absent": ("absent", "absent students", "afwezig"),
    "not_visible": ("not visible", "invisible", "niet zichtbaar"),
}
LESSON_COLUMNS = tuple(LESSON_FIELDS)
REQUIRED_LESSON_FIELDS = ("lesson", "school", "classroom", "wave", "teacher", "observed_minutes")

#: coder fields
CODER_FIELDS: dict[str, tuple[str, ...]] = {"coder": ("coder", "coder code", "codeur", "observer")}

_LISTS = ("absent", "not_visible", "video_files")


def _split(value: Any) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ()
    return tuple(part.strip() for part in str(value).split(";") if part.strip())


def _dates(frame: pd.DataFrame, source: str) -> tuple[list[dt.date | None], list[Problem]]:
    out: list[dt.date | None] = []
    problems = []
    for i, value in enumerate(frame["date"]):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out.append(None)
            continue
        if isinstance(value, dt.datetime | pd.Timestamp):
            out.append(value.date())
            continue
        try:
            out.append(dt.date.fromisoformat(str(value).strip()[:10]))
        except ValueError:
            out.append(None)
            problems.append(Problem("not a date; write it as YYYY-MM-DD", source=source,
                                    row=i + 1, column="date", value=value))
    return out, problems


def check_lessons(raw: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Check and type a lessons table whose columns are named by field (see the module doc).

    Returns the columns of :data:`LESSON_COLUMNS`: ``wave`` an integer, ``observed_minutes`` a
    float, ``date`` a date, ``absent``, ``not_visible`` and ``video_files`` tuples of strings.

    Raises
    ------
    ValidationError
        Listing every bad row.
    """
    frame = raw.copy()
    for column in LESSON_COLUMNS:
        if column not in frame.columns:
            frame[column] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    problems: list[Problem] = []
    for column in REQUIRED_LESSON_FIELDS:
        problems += [Problem("missing; every lesson needs a value", source=source, row=int(i) + 1,
                             column=column) for i in np.flatnonzero(frame[column].isna())]
    frame["wave"], found = parse_integers(frame, "wave", minimum=1, maximum=99, source=source,
                                          what="the wave number")
    problems += found
    text = frame["observed_minutes"]
    minutes = pd.to_numeric(text.astype(object).where(text.notna(), None), errors="coerce")
    bad = text.notna() & ~(minutes > 0)
    problems += [Problem("not a positive number; give the minutes of the lesson that were "
                         "observed", source=source, row=int(i) + 1, column="observed_minutes",
                         value=text.iat[i]) for i in np.flatnonzero(bad)]
    frame["observed_minutes"] = minutes.astype(float)
    codes = frame["lesson"].astype(object).map(lambda v: None if pd.isna(v) else str(v).strip())
    numeric = codes.map(lambda v: v is not None and v.lstrip("-").isdigit())
    problems += [Problem("a lesson code may not be a whole number (event files would read it "
                         "as a lesson id); add letters, e.g. L12", source=source, row=int(i) + 1,
                         column="lesson", value=codes.iat[i]) for i in np.flatnonzero(numeric)]
    long = codes.map(lambda v: v is not None and len(v) > 50)
    problems += [Problem("longer than 50 characters; use a shorter code", source=source,
                         row=int(i) + 1, column="lesson", value=codes.iat[i])
                 for i in np.flatnonzero(long)]
    twice = codes.duplicated() & codes.notna()
    problems += [Problem("this lesson code occurs twice; give each lesson its own code",
                         source=source, row=int(i) + 1, column="lesson", value=codes.iat[i])
                 for i in np.flatnonzero(twice)]
    frame["lesson"] = codes
    frame["date"], found = _dates(frame, source)
    problems += found
    for column in _LISTS:
        frame[column] = frame[column].map(_split)
    if problems:
        raise ValidationError(problems, what=source)
    return frame[list(LESSON_COLUMNS)].reset_index(drop=True)


def read_lessons(path: str | Path, *, mapping: ColumnMapping | None = None,
                 sheet: str | int = 0) -> pd.DataFrame:
    """Read observed lessons from CSV or Excel (see the module docstring for the columns).

    Raises
    ------
    ValidationError
        Listing every bad row (nothing is imported).
    DataError
        If the file cannot be read or a required column is missing.
    """
    source = Path(path).name
    table = read_table(path, sheet=sheet)
    named = resolve_columns(table, fields=LESSON_FIELDS, required=REQUIRED_LESSON_FIELDS,
                            mapping=mapping, source=source)
    return check_lessons(named, source=source)


def read_coders(path: str | Path, *, mapping: ColumnMapping | None = None,
                sheet: str | int = 0) -> pd.DataFrame:
    """Read coders (one ``coder`` code per row) from CSV or Excel.

    Raises
    ------
    ValidationError
        Listing missing, too long and repeated codes.
    """
    source = Path(path).name
    table = resolve_columns(read_table(path, sheet=sheet), fields=CODER_FIELDS,
                            required=("coder",), mapping=mapping, source=source)
    codes = table["coder"].astype(object).map(lambda v: None if pd.isna(v) else str(v).strip())
    problems = [Problem("missing; every row needs a coder code", source=source, row=int(i) + 1,
                        column="coder") for i in np.flatnonzero(codes.isna())]
    problems += [Problem("longer than 50 characters; use a shorter code", source=source,
                         row=int(i) + 1, column="coder", value=codes.iat[i])
                 for i in np.flatnonzero(codes.map(lambda v: v is not None and len(v) > 50))]
    problems += [Problem("this coder occurs twice; list each coder once", source=source,
                         row=int(i) + 1, column="coder", value=codes.iat[i])
                 for i in np.flatnonzero(codes.duplicated() & codes.notna())]
    if problems:
        raise ValidationError(problems, what=source)
    return pd.DataFrame({"coder": codes})


def parse_codebook(data: Any, *, source: str) -> dict[str, Any]:
    """Check a parsed codebook document; return ``name, version, description, categories``.

    Raises
    ------
    ValidationError
        Naming the category (as the row) and field of every problem.
    """
    if not isinstance(data, Mapping):
        raise DataError(f"{source}: a codebook is a YAML mapping with name, categories and "
                        "optionally version and description")
    unknown = sorted(set(map(str, data)) - {"name", "version", "description", "categories"})
    if unknown:
        raise DataError(f"{source}: unknown key(s) {unknown}; use name, version, description "
                        "and categories")
    if not data.get("name"):
        raise DataError(f"{source}: no name; give the codebook a name (e.g. name: valence)")
    categories = data.get("categories")
    if not isinstance(categories, list) or not categories:
        raise DataError(f"{source}: no categories; list them under categories, one mapping "
                        "each with subtype and valence")
    fields = ("subtype", "valence", "hotkey", "label", "description")
    valences = [v.value for v in Valence]
    problems: list[Problem] = []
    rows = []
    for i, category in enumerate(categories, start=1):
        if not isinstance(category, Mapping):
            problems.append(Problem("not a mapping; write {subtype: ..., valence: ...}",
                                    source=source, row=i, column="categories"))
            continue
        for key in sorted(set(map(str, category)) - set(fields)):
            problems.append(Problem(f"unknown field; use {', '.join(fields)}", source=source,
                                    row=i, column=key))
        if not category.get("subtype"):
            problems.append(Problem("missing; give each category a subtype", source=source,
                                    row=i, column="subtype"))
        if category.get("valence") not in valences:
            problems.append(Problem(f"not a valence; use one of {', '.join(valences)}",
                                    source=source, row=i, column="valence",
                                    value=category.get("valence")))
        rows.append({f: None if category.get(f) is None else str(category[f]) for f in fields})
    for field in ("subtype", "hotkey"):
        seen: set[str] = set()
        for i, row in enumerate(rows, start=1):
            if row[field] is not None and row[field] in seen:
                problems.append(Problem(f"repeated; each category needs its own {field}",
                                        source=source, row=i, column=field, value=row[field]))
            seen.add(row[field] or "")
    if problems:
        raise ValidationError(problems, what=source)
    return {"name": str(data["name"]),
            "version": None if data.get("version") is None else str(data["version"]),
            "description": data.get("description"), "categories": rows}


def read_codebook(path: str | Path) -> dict[str, Any]:
    """Read a codebook from YAML (see the module docstring); see :func:`parse_codebook`."""
    return parse_codebook(load_yaml(path), source=Path(path).name)


__all__ = [
    "CODER_FIELDS",
    "LESSON_COLUMNS",
    "LESSON_FIELDS",
    "REQUIRED_LESSON_FIELDS",
    "check_lessons",
    "parse_codebook",
    "read_codebook",
    "read_coders",
    "read_lessons",
]
