"""CSV exports with a codebook beside them (``NAME.csv`` and ``NAME.codebook.csv``).

The data are written as UTF-8 CSV with a header, floats in Python's shortest round-trip form and
missing values as empty cells; the codebook (:mod:`classdyad.io.codebook`) holds each column's
type and label, so :func:`read_csv` reproduces the exported table exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from classdyad.io.codebook import codebook, partial_path, prepare, replace_atomically
from classdyad.io.codebook import restore_types as _restore
from classdyad.io.tabular import read_delimited


def codebook_path(path: str | Path) -> Path:
    """Where the codebook of a CSV export lies: ``NAME.codebook.csv``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.codebook.csv")


def write_csv(data: pd.DataFrame, path: str | Path, *,
              variable_labels: Mapping[str, str] | None = None) -> Path:
    """Write a table as CSV plus its codebook; return the data file's path."""
    data = prepare(data)
    path = Path(path)
    temporary = partial_path(path)
    data.to_csv(temporary, index=False, lineterminator="\n")
    book_temporary = partial_path(codebook_path(path))
    codebook(data, variable_labels).to_csv(book_temporary, index=False, lineterminator="\n")
    replace_atomically(book_temporary, codebook_path(path))
    return replace_atomically(temporary, path)


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV export back, with the types of its codebook when there is one."""
    path = Path(path)
    data = read_delimited(path, delimiter=",")
    book = codebook_path(path)
    if not book.exists():
        return data
    types = read_delimited(book, delimiter=",")
    return _restore(data, dict(zip(types["column"], types["type"], strict=True)))


__all__ = ["codebook_path", "read_csv", "write_csv"]
