"""Excel exports: the table on a ``data`` sheet and its codebook on a ``codebook`` sheet.

Written with openpyxl; floats are stored as Excel numbers with 16 significant digits
(openpyxl's format; Excel itself shows 15), so they come back with a relative error of at most
1e-15; integers, booleans (Excel's TRUE/FALSE), text and missing values (empty cells) come back
exactly. :func:`read_excel` restores the types from the codebook sheet.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from classdyad.io.codebook import codebook, partial_path, prepare, replace_atomically
from classdyad.io.codebook import restore_types as _restore
from classdyad.io.tabular import read_excel_sheet


def write_excel(data: pd.DataFrame, path: str | Path, *,
                variable_labels: Mapping[str, str] | None = None) -> Path:
    """Write a table to an .xlsx workbook (sheets ``data`` and ``codebook``)."""
    data = prepare(data)
    path = Path(path)
    temporary = partial_path(path)
    plain = data.astype(object).where(data.notna(), None)
    with pd.ExcelWriter(temporary, engine="openpyxl") as writer:
        plain.to_excel(writer, sheet_name="data", index=False)
        codebook(data, variable_labels).to_excel(writer, sheet_name="codebook", index=False)
    return replace_atomically(temporary, path)


def read_excel(path: str | Path) -> pd.DataFrame:
    """Read an Excel export back with the types of its codebook sheet."""
    data = read_excel_sheet(path, sheet="data")
    types = read_excel_sheet(path, sheet="codebook")
    return _restore(data, dict(zip(types["column"], types["type"], strict=True)))


__all__ = ["read_excel", "write_excel"]
