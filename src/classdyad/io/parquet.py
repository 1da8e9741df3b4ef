"""Parquet exports (Apache Arrow): types kept by the format, labels in the schema metadata."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from classdyad.errors import DataError, NotFoundError
from classdyad.io.codebook import codebook, partial_path, prepare, replace_atomically

_LABELS_KEY = b"classdyad.variable_labels"


def write_parquet(data: pd.DataFrame, path: str | Path, *,
                  variable_labels: Mapping[str, str] | None = None) -> Path:
    """Write a table to Parquet, with the variable labels in the file's metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = prepare(data)
    path = Path(path)
    table = pa.Table.from_pandas(data, preserve_index=False)
    book = codebook(data, variable_labels)
    labels = dict(zip(book["column"], book["label"], strict=True))
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           _LABELS_KEY: json.dumps(labels).encode()})
    temporary = partial_path(path)
    pq.write_table(table, temporary)
    return replace_atomically(temporary, path)


def read_parquet(path: str | Path) -> pd.DataFrame:
    """Read a Parquet export back (labels in ``DataFrame.attrs["variable_labels"]``)."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"{path}: no such file; check the path")
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises its own error classes on damaged files
        raise DataError(f"{path.name}: not a readable Parquet file ({exc})") from exc
    data = table.to_pandas()
    raw = (table.schema.metadata or {}).get(_LABELS_KEY)
    data.attrs["variable_labels"] = json.loads(raw) if raw else {}
    return data


__all__ = ["read_parquet", "write_parquet"]
