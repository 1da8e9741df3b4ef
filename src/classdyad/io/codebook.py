"""Column types and labels that travel with an exported table, so it can be read back exactly.

Every export writes, beside the data, a *codebook*: one row per column with its type
(``boolean``, ``integer``, ``float`` or ``string``) and its label (the description of the
analysis dataset's column). Formats that hold types themselves (Parquet, SPSS, Stata) keep them
there; CSV gets a ``NAME.codebook.csv`` file and Excel a ``codebook`` sheet. Readers use the
codebook to restore each column's type, so an export followed by an import reproduces the
table: booleans as booleans, whole numbers as integers, floats bit for bit (they are written with
Python's shortest round-trip representation) and missing values as missing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from classdyad.errors import DataError

COLUMN_TYPES = ("boolean", "integer", "float", "string")


def column_type(series: pd.Series) -> str:
    """The codebook type of a column."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    values = series.dropna()
    if len(values) and values.map(lambda v: isinstance(v, bool | np.bool_)).all():
        return "boolean"
    return "string"


def codebook(data: pd.DataFrame, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``column, type, label`` for every column of ``data``."""
    labels = labels or {}
    return pd.DataFrame({"column": [str(c) for c in data.columns],
                         "type": [column_type(data[c]) for c in data.columns],
                         "label": [labels.get(str(c), "") for c in data.columns]})


def _as_boolean(series: pd.Series, column: str) -> pd.Series:
    text = series.astype(object)
    mapping = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False,
               "yes": True, "no": False}
    out = text.map(lambda v: v if isinstance(v, bool | np.bool_) or v is None
                   or (isinstance(v, float) and np.isnan(v))
                   else mapping.get(str(v).strip().lower(), "bad"))
    if (out == "bad").any():
        raise DataError(f"column {column!r} should hold true/false values but holds "
                        f"{text[out == 'bad'].iloc[0]!r}; correct the file or its codebook")
    result = out.astype("boolean")
    return result.astype(bool) if not result.isna().any() else result


def restore_types(data: pd.DataFrame, types: Mapping[str, str]) -> pd.DataFrame:
    """Give each column its codebook type (text or float cells in, typed columns out)."""
    out = {}
    for column in data.columns:
        kind = types.get(str(column), "string")
        series = data[column]
        if kind == "boolean":
            out[column] = _as_boolean(series, str(column))
        elif kind in ("integer", "float"):
            try:
                numbers = pd.to_numeric(series.astype(object).where(
                    series.notna() & (series.astype(str) != ""), None).map(
                    lambda v: v if v is None or isinstance(v, int | float) else float(v)))
            except (ValueError, TypeError) as exc:
                raise DataError(f"column {column!r} should hold numbers ({exc}); correct the "
                                "file or its codebook") from exc
            numbers = numbers.astype(float)
            if kind == "integer":
                whole = numbers.dropna()
                if not (whole % 1 == 0).all():
                    raise DataError(f"column {column!r} should hold whole numbers; correct the "
                                    "file or its codebook")
                numbers = numbers.astype("Int64")
                if not numbers.isna().any():
                    numbers = numbers.astype("int64")
            out[column] = numbers
        else:
            text = series.astype(object)
            missing = text.isna() | (text.astype(str) == "")
            out[column] = text.map(lambda v: v if isinstance(v, str) else str(v)).where(
                ~missing, None).astype(object)
    return pd.DataFrame(out, index=data.index)


def prepare(data: pd.DataFrame) -> pd.DataFrame:
    """Check an export's input: a DataFrame with unique, text column names."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"an export takes a pandas DataFrame, not {type(data).__name__}")
    names = [str(c) for c in data.columns]
    if len(set(names)) != len(names):
        raise DataError("the table has duplicate column names; give each column its own name")
    return data.reset_index(drop=True).set_axis(names, axis=1)


def replace_atomically(temporary: Path, path: Path) -> Path:
    """Move a finished temporary file into place (never a half-written export)."""
    os.replace(temporary, path)
    return path


def partial_path(path: Path) -> Path:
    """A temporary name beside ``path`` that keeps its suffix (for writers that need it)."""
    return path.with_name(f".{path.stem}.partial{path.suffix}")


__all__ = ["COLUMN_TYPES", "codebook", "column_type", "partial_path", "prepare",
           "replace_atomically", "restore_types"]
