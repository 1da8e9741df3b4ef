"""Rosters: schools, classes, teachers, students and their raw background, from one table.

A roster has one row per student (per wave, when students change class during the year), with
the student's school, class, grade, class teacher (and duo teacher), optionally the names (kept
only in the roster table of the store, DESIGN.md privacy) and the raw background the
classification rules need: gender, birth year, the student's and parents' countries of birth
and the parents' education. Headers may be English or Dutch
(:data:`~classdyad.io.mapping.ROSTER_FIELDS`) or named by a
:class:`~classdyad.io.mapping.ColumnMapping`.

:func:`read_roster` parses and checks every row and raises one
:class:`~classdyad.errors.ValidationError` listing every problem (row, column, value and what to
do); the stored-study checks (a student already stored with another background, a class change
within a wave) are made by :func:`classdyad.store.importing.import_roster`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from classdyad.errors import Problem, ValidationError
from classdyad.io.mapping import ROSTER_FIELDS, ColumnMapping, resolve_columns
from classdyad.io.tabular import TableFormat, read_table
from classdyad.model.enums import Gender

#: the columns of a parsed roster, in order
ROSTER_COLUMNS: tuple[str, ...] = tuple(ROSTER_FIELDS)
REQUIRED_ROSTER_FIELDS = ("school", "classroom", "grade", "student")
_CODE_FIELDS = ("school", "classroom", "teacher", "duo_teacher", "student")


def parse_integers(frame: pd.DataFrame, column: str, *, minimum: int, maximum: int,
                   source: str, what: str) -> tuple[pd.Series, list[Problem]]:
    """Parse a text column as whole numbers in ``[minimum, maximum]`` (missing stays missing)."""
    text = frame[column]
    numbers = pd.to_numeric(text.astype(object).where(text.notna(), None), errors="coerce")
    bad_number = text.notna() & (numbers.isna() | (numbers % 1 != 0))
    with np.errstate(invalid="ignore"):
        out_of_range = numbers.notna() & ~bad_number & ((numbers < minimum) | (numbers > maximum))
    problems = [Problem(f"not a whole number; give {what}", source=source, row=int(i) + 1,
                        column=column, value=text.iat[i])
                for i in np.flatnonzero(bad_number.to_numpy())]
    problems += [Problem(f"out of range; give {what} ({minimum}-{maximum})", source=source,
                         row=int(i) + 1, column=column, value=text.iat[i])
                 for i in np.flatnonzero(out_of_range.to_numpy())]
    return numbers.where(~bad_number & ~out_of_range).astype("Int64"), problems


def check_roster(raw: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Check and type a roster whose columns are already named by field.

    Returns the roster with the columns of :data:`ROSTER_COLUMNS` (absent optional fields
    all-missing), ``grade``, ``wave`` and ``birth_year`` as integers.

    Raises
    ------
    ValidationError
        Listing every bad row.
    """
    frame = raw.copy()
    for column in ROSTER_COLUMNS:
        if column not in frame.columns:
            frame[column] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    if frame["wave"].isna().all():
        frame["wave"] = "1"
    problems: list[Problem] = []
    for column in (*REQUIRED_ROSTER_FIELDS, "wave"):
        for i in np.flatnonzero(frame[column].isna().to_numpy()):
            problems.append(Problem("missing; every row needs a value", source=source,
                                    row=int(i) + 1, column=column))
    for column in _CODE_FIELDS:
        values = frame[column]
        long = values.notna() & (values.astype(str).str.len() > 50)
        for i in np.flatnonzero(long.to_numpy()):
            problems.append(Problem("longer than 50 characters; use a shorter code", source=source,
                                    row=int(i) + 1, column=column, value=values.iat[i]))
    frame["grade"], found = parse_integers(frame, "grade", minimum=1, maximum=8, source=source,
                                           what="the Dutch groep number")
    problems += found
    frame["wave"], found = parse_integers(frame, "wave", minimum=1, maximum=99, source=source,
                                          what="the wave number")
    problems += found
    frame["birth_year"], found = parse_integers(frame, "birth_year", minimum=1900, maximum=2100,
                                                source=source, what="a four-digit year")
    problems += found
    genders = {g.value for g in Gender}
    bad_gender = frame["gender"].notna() & ~frame["gender"].isin(genders)
    for i in np.flatnonzero(bad_gender.to_numpy()):
        problems.append(Problem("not a known gender; use boy/girl/other (jongen/meisje/anders) "
                                "or translate the codes in the column mapping's values",
                                source=source, row=int(i) + 1, column="gender",
                                value=frame["gender"].iat[i]))
    twice = frame.duplicated(["student", "wave"], keep="first") & frame["student"].notna()
    for i in np.flatnonzero(twice.to_numpy()):
        problems.append(Problem("this student occurs twice in the same wave; keep one row per "
                                "student and wave", source=source, row=int(i) + 1,
                                column="student", value=frame["student"].iat[i]))
    if problems:
        raise ValidationError(problems, what=source)
    return frame[list(ROSTER_COLUMNS)].reset_index(drop=True)


def read_roster(path: str | Path, *, mapping: ColumnMapping | None = None,
                format: TableFormat | None = None, sheet: str | int = 0) -> pd.DataFrame:
    """Read a roster from CSV, Excel or SPSS, with English or Dutch headers.

    Parameters
    ----------
    path
        The roster file (``.csv``, ``.tsv``, ``.xlsx`` or ``.sav``).
    mapping
        Which header holds which field, value translations and constants (e.g. ``wave: 2``).
    format
        The file format; default from the suffix.
    sheet
        The Excel sheet.

    Returns
    -------
    pandas.DataFrame
        One row per student and wave with the columns of :data:`ROSTER_COLUMNS`.

    Raises
    ------
    ValidationError
        Listing every bad row (nothing is imported).
    DataError
        If the file cannot be read or a required column is missing.
    """
    source = Path(path).name
    table = read_table(path, format=format, sheet=sheet)
    named = resolve_columns(table, fields=ROSTER_FIELDS, required=REQUIRED_ROSTER_FIELDS,
                            mapping=mapping, source=source)
    roster = check_roster(named, source=source)
    roster.attrs["ignored_columns"] = named.attrs["ignored_columns"]
    return roster


__all__ = ["REQUIRED_ROSTER_FIELDS", "ROSTER_COLUMNS", "check_roster", "parse_integers",
           "read_roster"]
