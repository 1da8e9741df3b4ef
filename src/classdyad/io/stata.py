"""Stata .dta exports and imports (format 118, Stata 14 and later) with variable and value labels.

Booleans are written as 0/1 bytes labelled ``no``/``yes``; the columns named in
``value_label_columns`` as labelled integer codes; other text as text (``strL`` when long).
Variable labels are cut to Stata's 80 characters. Whole numbers are stored as ``long`` (32-bit)
when they fit and as ``double`` otherwise; :func:`read_stata` brings every column back to the
type it had, so a round trip reproduces the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from classdyad.errors import DataError, NotFoundError
from classdyad.io.codebook import column_type, partial_path, prepare, replace_atomically

_TYPES_NOTE = "classdyad types:"


def write_stata(data: pd.DataFrame, path: str | Path, *,
                variable_labels: Mapping[str, str] | None = None,
                value_label_columns: Sequence[str] = ()) -> Path:
    """Write a table to a Stata .dta file (version 118) with variable and value labels."""
    data = prepare(data)
    bad = [c for c in data.columns if len(c) > 32 or not c[:1].isalpha()]
    if bad:
        raise DataError(f"columns {bad} are not valid Stata names (a letter first, at most 32 "
                        "characters); rename them before exporting")
    out: dict[str, pd.Series] = {}
    value_labels: dict[str, dict[int, str]] = {}
    types = {}
    for column in data.columns:
        series = data[column]
        kind = column_type(series)
        types[column] = "labelled" if column in value_label_columns else kind
        if kind == "boolean":
            out[column] = series.astype("boolean").astype("Float64").astype(float)
            value_labels[column] = {0: "no", 1: "yes"}
        elif column in value_label_columns:
            levels = sorted(str(v) for v in series.dropna().unique())
            codes = {level: i + 1 for i, level in enumerate(levels)}
            out[column] = series.map(lambda v, c=codes: c.get(str(v)) if pd.notna(v)
                                     else np.nan).astype(float)
            value_labels[column] = {i: level for level, i in codes.items()}
        elif kind == "integer":
            values = series.astype("Float64").astype(float)
            fits = values.dropna().abs().max() < 2**31 - 100 if values.notna().any() else True
            out[column] = values.astype("int32") if fits and not values.isna().any() else values
        elif kind == "float":
            out[column] = series.astype(float)
        else:
            out[column] = series.astype(object).where(series.notna(), "").map(str)
    frame = pd.DataFrame(out)
    labels = {c: str((variable_labels or {}).get(c) or "")[:80] for c in frame.columns}
    note = _TYPES_NOTE + ",".join(f"{c}={t}" for c, t in types.items())
    path = Path(path)
    temporary = partial_path(path)
    try:
        frame.to_stata(temporary, write_index=False, version=118, variable_labels=labels,
                       value_labels=value_labels, data_label=note[:80])
    except (ValueError, TypeError) as exc:
        temporary.unlink(missing_ok=True)
        raise DataError(f"{path.name}: Stata file could not be written ({exc})") from exc
    return replace_atomically(temporary, path)


def read_stata(path: str | Path) -> pd.DataFrame:
    """Read a .dta file: labelled codes to text (no/yes to booleans), numbers to their types.

    Variable labels are in ``DataFrame.attrs["variable_labels"]``.
    """
    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"{path}: no such file; check the path")
    try:
        with pd.io.stata.StataReader(path) as reader:
            frame = reader.read(convert_categoricals=False)
            value_labels = reader.value_labels()
            label_names = dict(zip(frame.columns, reader._lbllist, strict=True))
            variable_labels = reader.variable_labels()
    except Exception as exc:  # the Stata reader raises many kinds of errors on damaged files
        raise DataError(f"{path.name}: not a readable Stata .dta file ({exc})") from exc
    out: dict[str, pd.Series] = {}
    for column in frame.columns:
        series = frame[column]
        labels = value_labels.get(label_names.get(column) or "", None)
        if labels and {int(k): v for k, v in labels.items()} == {0: "no", 1: "yes"}:
            result = series.map({0: False, 1: True}).astype("boolean")
            out[column] = result.astype(bool) if not result.isna().any() else result
        elif labels:
            mapped = series.map({int(k): v for k, v in labels.items()}).astype(object)
            out[column] = mapped.where(series.notna(), None)
        elif pd.api.types.is_integer_dtype(series.dtype):
            out[column] = series.astype("int64")
        elif pd.api.types.is_float_dtype(series.dtype):
            out[column] = series.astype(float)
        else:
            text = series.astype(object)
            out[column] = text.where(text.notna() & (text != ""), None).astype(object)
    data = pd.DataFrame(out)
    data.attrs["variable_labels"] = variable_labels
    return data


__all__ = ["read_stata", "write_stata"]
