"""Questionnaire responses and IAT trials from CSV, Excel or SPSS tables.

Responses come in two layouts, both turned into one long table (one row per answered item):

- **wide**: one row per dyad and wave, the identifying columns ``instrument``, ``wave``,
  ``teacher``, ``student`` (and optionally ``version``) and one column per item
  (``strs_1``, ``strs_2``, ...); an empty cell is an item skipped or not on the instrument,
  and is not stored (a wide file often holds the items of several instruments);
- **long**: one row per item, with the columns ``item`` and ``value`` besides the identifying
  ones.

IAT trials have one row per trial: ``teacher``, ``kind`` (e.g. ``ethnicity``), optionally
``wave``, ``block`` (1-7), ``trial``, ``latency_ms``, ``error`` and optionally ``stimulus`` and
``compatible_first``. Headers may be English or Dutch, or named by a
:class:`~classdyad.io.mapping.ColumnMapping`; every bad cell is reported at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from classdyad.errors import DataError, Problem, ValidationError, check_option
from classdyad.io.mapping import ColumnMapping, fold_header, resolve_columns
from classdyad.io.roster import parse_integers
from classdyad.io.tabular import TableFormat, read_table

#: identifying fields of a response row -> their headers
RESPONSE_FIELDS: dict[str, tuple[str, ...]] = {
    "instrument": ("instrument", "questionnaire", "vragenlijst"),
    "version": ("version", "instrument version", "versie"),
    "wave": ("wave", "meting", "meetmoment"),
    "teacher": ("teacher", "teacher code", "leerkracht"),
    "student": ("student", "student code", "leerling", "leerlingnummer"),
    "item": ("item", "item code"),
    "value": ("value", "answer", "score", "antwoord", "waarde"),
}
RESPONSE_COLUMNS = ("instrument", "version", "wave", "teacher", "student", "item", "value")

IAT_FIELDS: dict[str, tuple[str, ...]] = {
    "teacher": ("teacher", "teacher code", "leerkracht"),
    "kind": ("kind", "iat", "test", "soort"),
    "wave": ("wave", "meting"),
    "block": ("block", "blok"),
    "trial": ("trial", "trial number", "poging"),
    "latency_ms": ("latency", "latency ms", "rt", "reaction time", "reactietijd"),
    "error": ("error", "correct error", "fout"),
    "stimulus": ("stimulus", "word", "woord"),
    "compatible_first": ("compatible first", "order", "volgorde"),
}
IAT_COLUMNS = tuple(IAT_FIELDS)

_TRUE = {"1", "true", "yes", "ja", "waar", "1.0"}
_FALSE = {"0", "false", "no", "nee", "onwaar", "0.0"}


def _numbers(frame: pd.DataFrame, column: str, *, source: str, what: str
             ) -> tuple[pd.Series, list[Problem]]:
    text = frame[column]
    numbers = pd.to_numeric(text.astype(object).where(text.notna(), None), errors="coerce")
    bad = text.notna() & ~np.isfinite(numbers.astype(float))
    problems = [Problem(f"not a number; give {what}", source=source, row=int(i) + 1,
                        column=column, value=text.iat[i]) for i in np.flatnonzero(bad)[:1000]]
    return numbers.astype(float).where(~bad), problems


def _required(frame: pd.DataFrame, columns: tuple[str, ...], source: str) -> list[Problem]:
    return [Problem("missing; every row needs a value", source=source, row=int(i) + 1,
                    column=column)
            for column in columns for i in np.flatnonzero(frame[column].isna())[:1000]]


def read_responses(path: str | Path, *, layout: Literal["wide", "long"] | None = None,
                   mapping: ColumnMapping | None = None, format: TableFormat | None = None,
                   sheet: str | int = 0) -> pd.DataFrame:
    """Read questionnaire responses (wide or long layout) into one row per item.

    Parameters
    ----------
    path
        CSV, TSV, Excel or SPSS file.
    layout
        ``"wide"`` or ``"long"``; default: long when the file has an item and a value column
        (``item``/``value``, ``antwoord``, ``waarde``, ...).
    mapping
        Column mapping and constants (e.g. ``defaults: {instrument: strs_short_form}``).
    format, sheet
        The file format (default from the suffix) and the Excel sheet.

    Returns
    -------
    pandas.DataFrame
        ``instrument, version, wave, teacher, student, item, value`` (value ``NaN`` for a
        skipped item).

    Raises
    ------
    ValidationError
        Listing every bad cell.
    """
    source = Path(path).name
    table = read_table(path, format=format, sheet=sheet)
    folded = {fold_header(c) for c in table.columns}
    if mapping is not None:
        folded |= {fold_header(f) for f in mapping.columns}

    def has(field: str) -> bool:
        return any(fold_header(h) in folded for h in (field, *RESPONSE_FIELDS[field]))

    if layout is None:
        if has("item") != has("value"):
            present, absent = ("item", "value") if has("item") else ("value", "item")
            raise DataError(f"{source}: the file has a {present} column but no {absent} column; "
                            "a long-layout file needs both (one row per item: item and value), "
                            "a wide-layout file neither (one column per item)")
        layout = "long" if has("item") else "wide"
    check_option("layout", layout, ("wide", "long"))
    identifying = ("instrument", "wave", "teacher", "student")
    if layout == "long":
        frame = resolve_columns(table, fields=RESPONSE_FIELDS, required=(*identifying, "item"),
                                mapping=mapping, source=source)
        if "value" not in frame.columns:
            frame["value"] = None
    else:
        id_fields = {k: v for k, v in RESPONSE_FIELDS.items() if k not in ("item", "value")}
        named = resolve_columns(table, fields=id_fields, required=identifying, mapping=mapping,
                                source=source)
        used = {fold_header(h) for field, synonyms in id_fields.items()
                for h in (field, *synonyms)} | {fold_header(h) for h in
                                                (mapping.columns.values() if mapping else ())}
        items = [c for c in table.columns if fold_header(c) not in used]
        if not items:
            raise ValidationError([Problem("no item columns besides instrument, wave, teacher "
                                           "and student; add one column per item",
                                           source=source)], what=source)
        long = table[items].assign(_row=np.arange(len(table))).melt(
            id_vars="_row", var_name="item", value_name="value")
        long = long.sort_values(["_row", "item"], kind="stable")
        frame = named.iloc[long["_row"].to_numpy()].reset_index(drop=True)
        frame["item"] = long["item"].to_numpy()
        frame["value"] = long["value"].to_numpy()
        frame = frame[frame["value"].notna()].reset_index(drop=True)
    if "version" not in frame.columns:
        frame["version"] = None
    problems = _required(frame, ("instrument", "teacher", "student", "item"), source)
    frame["wave"], found = parse_integers(frame, "wave", minimum=1, maximum=99, source=source,
                                          what="the wave number")
    problems += found + _required(frame, ("wave",), source)
    frame["value"], found = _numbers(frame, "value", source=source, what="the item's score")
    problems += found
    twice = frame.duplicated(["instrument", "version", "wave", "teacher", "student", "item"])
    problems += [Problem("this item occurs twice for the same dyad and wave; keep one answer",
                         source=source, row=int(i) + 1, column="item", value=frame["item"].iat[i])
                 for i in np.flatnonzero(twice)[:1000]]
    if problems:
        raise ValidationError(problems, what=source)
    responses = frame[list(RESPONSE_COLUMNS)].copy()
    # in the wide layout every column besides the identifying ones is an item
    responses.attrs["ignored_columns"] = list(frame.attrs.get("ignored_columns", [])
                                              if layout == "long" else [])
    return responses


def _booleans(frame: pd.DataFrame, column: str, *, source: str, nullable: bool
              ) -> tuple[pd.Series, list[Problem]]:
    text = frame[column].map(lambda v: None if pd.isna(v) else str(v).strip().lower())
    out = text.map(lambda v: True if v in _TRUE else False if v in _FALSE else None)
    bad = text.notna() & out.isna()
    if not nullable:
        bad |= text.isna()
    problems = [Problem("not a yes/no value; use 1/0 or true/false", source=source,
                        row=int(i) + 1, column=column, value=frame[column].iat[i])
                for i in np.flatnonzero(bad)[:1000]]
    return out.astype("boolean"), problems


def read_iat_trials(path: str | Path, *, mapping: ColumnMapping | None = None,
                    format: TableFormat | None = None, sheet: str | int = 0) -> pd.DataFrame:
    """Read IAT trials (one row per trial) and check every cell.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`IAT_COLUMNS`: ``block`` and ``trial`` integers, ``latency_ms``
        float, ``error`` boolean.
    """
    source = Path(path).name
    table = read_table(path, format=format, sheet=sheet)
    frame = resolve_columns(table, fields=IAT_FIELDS,
                            required=("teacher", "kind", "block", "trial", "latency_ms",
                                      "error"), mapping=mapping, source=source)
    for column in IAT_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    problems = _required(frame, ("teacher", "kind"), source)
    frame["block"], found = parse_integers(frame, "block", minimum=1, maximum=7, source=source,
                                           what="the block number")
    problems += found + _required(frame, ("block",), source)
    frame["trial"], found = parse_integers(frame, "trial", minimum=1, maximum=10**6,
                                           source=source, what="the trial number")
    problems += found + _required(frame, ("trial",), source)
    frame["wave"], found = parse_integers(frame, "wave", minimum=1, maximum=99, source=source,
                                          what="the wave number")
    problems += found
    frame["latency_ms"], found = _numbers(frame, "latency_ms", source=source,
                                          what="the latency in milliseconds")
    problems += found + _required(frame, ("latency_ms",), source)
    negative = frame["latency_ms"] < 0
    problems += [Problem("a latency cannot be negative", source=source, row=int(i) + 1,
                         column="latency_ms", value=frame["latency_ms"].iat[i])
                 for i in np.flatnonzero(negative)[:1000]]
    frame["error"], found = _booleans(frame, "error", source=source, nullable=False)
    problems += found
    frame["compatible_first"], found = _booleans(frame, "compatible_first", source=source,
                                                 nullable=True)
    problems += found
    twice = frame.duplicated(["teacher", "kind", "wave", "block", "trial"])
    problems += [Problem("this trial occurs twice in the session; keep one row per trial",
                         source=source, row=int(i) + 1, column="trial",
                         value=frame["trial"].iat[i]) for i in np.flatnonzero(twice)[:1000]]
    if problems:
        raise ValidationError(problems, what=source)
    trials = frame[list(IAT_COLUMNS)].copy()
    trials.attrs["ignored_columns"] = list(frame.attrs.get("ignored_columns", []))
    return trials


__all__ = ["IAT_COLUMNS", "IAT_FIELDS", "RESPONSE_COLUMNS", "RESPONSE_FIELDS",
           "read_iat_trials", "read_responses"]
