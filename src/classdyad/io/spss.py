"""SPSS .sav exports and imports with variable labels and value labels (pyreadstat / ReadStat).

SPSS users expect numbers with labels rather than text: booleans are written as 0/1 with the
value labels ``0 = "no"``, ``1 = "yes"``; the columns named in ``value_label_columns`` (e.g.
gender, migration background) as codes 1, 2, ... labelled with their values; other text stays
text. Whole-number columns get the display format ``F8.0`` (and so come back as integers), other
numbers ``F12.6`` (display only: SPSS stores full doubles). Variable labels are the analysis
dataset's column descriptions. :func:`read_spss` undoes all of it, so a round trip reproduces the
table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from classdyad.errors import DataError
from classdyad.io.codebook import column_type, partial_path, prepare, replace_atomically
from classdyad.io.tabular import read_spss_file

BOOLEAN_LABELS = {0: "no", 1: "yes"}


def spss_tables(data: pd.DataFrame, *, value_label_columns: Sequence[str] = ()
                ) -> tuple[pd.DataFrame, dict[str, dict[float, str]], dict[str, str]]:
    """The frame as SPSS will hold it, its value labels and display formats."""
    out: dict[str, pd.Series] = {}
    value_labels: dict[str, dict[float, str]] = {}
    formats: dict[str, str] = {}
    for column in data.columns:
        series = data[column]
        kind = column_type(series)
        if kind == "boolean":
            out[column] = series.astype("boolean").astype("Float64").astype(float)
            value_labels[column] = {float(k): v for k, v in BOOLEAN_LABELS.items()}
            formats[column] = "F1.0"
        elif column in value_label_columns:
            levels = sorted(str(v) for v in series.dropna().unique())
            codes = {level: i + 1 for i, level in enumerate(levels)}
            out[column] = series.map(lambda v, c=codes: c.get(str(v)) if pd.notna(v)
                                     else np.nan).astype(float)
            value_labels[column] = {float(i): level for level, i in codes.items()}
            formats[column] = "F8.0"
        elif kind == "integer":
            out[column] = series.astype("Float64").astype(float)
            formats[column] = "F8.0"
        elif kind == "float":
            out[column] = series.astype(float)
            formats[column] = "F12.6"
        else:
            out[column] = series.astype(object).where(series.notna(), "").map(str)
    return pd.DataFrame(out), value_labels, formats


def write_spss(data: pd.DataFrame, path: str | Path, *,
               variable_labels: Mapping[str, str] | None = None,
               value_label_columns: Sequence[str] = ()) -> Path:
    """Write a table to an SPSS .sav file with variable and value labels.

    Parameters
    ----------
    data
        The table (e.g. the analysis dataset).
    path
        The .sav file.
    variable_labels
        Column -> label (SPSS truncates nothing below 256 characters).
    value_label_columns
        Text columns to write as labelled numeric codes.
    """
    import pyreadstat

    data = prepare(data)
    bad = [c for c in data.columns if not c[:1].isalpha() or len(c.encode()) > 64]
    if bad:
        raise DataError(f"columns {bad} are not valid SPSS variable names (start with a letter, "
                        "at most 64 bytes); rename them before exporting")
    frame, value_labels, formats = spss_tables(data, value_label_columns=value_label_columns)
    labels = [(variable_labels or {}).get(c) or None for c in frame.columns]
    path = Path(path)
    temporary = partial_path(path)
    try:
        pyreadstat.write_sav(frame, str(temporary), column_labels=labels,
                             variable_value_labels=value_labels, variable_format=formats)
    except Exception as exc:  # ReadStat reports write failures with its own error classes
        temporary.unlink(missing_ok=True)
        raise DataError(f"{path.name}: SPSS file could not be written ({exc})") from exc
    return replace_atomically(temporary, path)


def read_spss(path: str | Path) -> pd.DataFrame:
    """Read a .sav file: value labels back to text (0/1 no/yes to booleans), formats to types.

    Variable labels are in ``DataFrame.attrs["variable_labels"]``.
    """
    frame, meta = read_spss_file(path, value_labels=False)
    labels_of = getattr(meta, "variable_value_labels", {}) or {}
    formats = getattr(meta, "original_variable_types", {}) or {}
    out: dict[str, pd.Series] = {}
    for column in frame.columns:
        series = frame[column]
        labels = labels_of.get(column)
        if labels and {float(k): v for k, v in labels.items()} == {0.0: "no", 1.0: "yes"}:
            result = series.map({0.0: False, 1.0: True}).astype("boolean")
            out[column] = result.astype(bool) if not result.isna().any() else result
        elif labels:
            out[column] = series.map({float(k): v for k, v in labels.items()}).astype(object)
            out[column] = out[column].where(series.notna(), None)
        elif series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            text = series.astype(object)
            out[column] = text.where(text.notna() & (text != ""), None).astype(object)
        elif str(formats.get(column, "")).endswith(".0") and column in formats:
            numbers = series.astype("Float64").astype("Int64")
            out[column] = numbers.astype("int64") if not numbers.isna().any() else numbers
        else:
            out[column] = series.astype(float)
    data = pd.DataFrame(out)
    data.attrs["variable_labels"] = dict(getattr(meta, "column_names_to_labels", {}) or {})
    return data


__all__ = ["BOOLEAN_LABELS", "read_spss", "spss_tables", "write_spss"]
