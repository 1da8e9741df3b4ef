"""Reading tables from the files research teams already have: CSV/TSV, Excel and SPSS .sav.

:func:`read_table` returns every cell as text (``str`` or missing) so that nothing is guessed:
leading zeros in codes survive, ``"6/7"`` stays a combined grade, and the format-specific readers
(rosters, BORIS, questionnaires) decide how to parse each column. Delimited text files are decoded
as UTF-8 (with or without a byte-order mark) and, failing that, as Windows-1252, the encoding
Dutch and Flemish Excel installations write; the delimiter (comma, semicolon or tab) is detected
from the header line. SPSS files are read with pyreadstat (ReadStat), with value labels applied
when asked, so ``1 = "jongen"`` arrives as ``"jongen"``.

Every failure to read a file, whatever the library raised, becomes a
:class:`~classdyad.errors.DataError` that names the file and says what to do.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from classdyad.errors import (
    ClassdyadError,
    DataError,
    NotFoundError,
    Problem,
    ValidationError,
    check_option,
)

TableFormat = Literal["csv", "tsv", "xlsx", "sav"]
TABLE_FORMATS: tuple[str, ...] = ("csv", "tsv", "xlsx", "sav")

_SUFFIX_FORMAT = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".tab": "tsv", ".xlsx": "xlsx",
                  ".xlsm": "xlsx", ".sav": "sav", ".zsav": "sav"}


def detect_format(path: str | Path) -> str:
    """The table format of ``path`` from its suffix (``.csv``, ``.tsv``, ``.xlsx``, ``.sav``).

    Raises
    ------
    OptionError
        If the suffix is not one of the known ones.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIX_FORMAT:
        known = ", ".join(sorted(_SUFFIX_FORMAT))
        raise DataError(f"{Path(path).name}: cannot tell the file format from the suffix "
                        f"{suffix!r}; use a file ending in one of {known} or name the format")
    return _SUFFIX_FORMAT[suffix]


def decode_text(data: bytes, *, source: str) -> str:
    """Decode file bytes as UTF-8 (BOM allowed), falling back to Windows-1252."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise DataError(f"{source}: the file is not text in UTF-8 or Windows-1252 (it may be a "
                    "binary file); save it as CSV (UTF-8) and try again")


def _delimiter(text: str, preferred: str | None) -> str:
    if preferred is not None:
        return preferred
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in ("\t", ";", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _text_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as stripped text; empty cells become missing."""
    out = {}
    for column in frame.columns:
        values = frame[column].astype(object)
        texts = values.map(lambda v: None if v is None or (isinstance(v, float) and v != v)
                           else _cell_text(v))
        out[str(column).strip()] = texts.where(texts != "", None).astype(object)
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    return str(value).strip()


def _folded(value: object) -> str:
    return " ".join(str(value).split()).casefold()


def repeated_header_rows(frame: pd.DataFrame, source: str) -> list[Problem]:
    """A :class:`Problem` for each data row that repeats the header row.

    A row repeats the header when every non-empty cell holds its own column's name (compared
    without case and surrounding spaces) and at least half of the columns are filled: the mark
    of two exports pasted into one file, where the rows below the second header may belong to
    another table.
    """
    if frame.empty or frame.shape[1] == 0:
        return []
    matches = np.zeros(len(frame), dtype=int)
    filled = np.zeros(len(frame), dtype=int)
    for column in frame.columns:
        values = frame[column]
        present = values.notna().to_numpy() & (values.astype(str).str.strip() != "").to_numpy()
        folded = values.map(_folded, na_action="ignore")
        matches += (present & (folded == _folded(column)).to_numpy()).astype(int)
        filled += present.astype(int)
    repeated = (filled > 0) & (matches == filled) & (2 * filled >= frame.shape[1])
    return [Problem("repeats the header row (two exports pasted into one file?); remove it, and "
                    "check that the rows below it belong to this table", source=source,
                    row=int(i) + 1) for i in np.flatnonzero(repeated)[:1000]]


def refuse_repeated_header(frame: pd.DataFrame, source: str) -> None:
    """Raise :class:`ValidationError` when a data row repeats the header row."""
    problems = repeated_header_rows(frame, source)
    if problems:
        raise ValidationError(problems, what=source)


def _drop_empty_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with no value at all (blank lines, empty spreadsheet rows) are left out."""
    keep = frame.notna().any(axis=1)
    return frame if keep.all() else frame.loc[keep].reset_index(drop=True)


def _check_header(frame: pd.DataFrame, source: str) -> None:
    names = [str(c) for c in frame.columns]
    blank = [i + 1 for i, n in enumerate(names) if not n or n.startswith("Unnamed:")]
    if blank:
        raise DataError(f"{source}: column(s) {blank} have no name in the header row; give "
                        "every column a name (or delete empty columns)")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataError(f"{source}: the column {name!r} occurs twice in the header; give "
                            "each column its own name")
        seen.add(name)


def read_delimited(path: str | Path, *, delimiter: str | None = None,
                   source: str | None = None) -> pd.DataFrame:
    """Read a CSV/TSV file as text cells (see the module docstring for encodings)."""
    path = Path(path)
    source = source or path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise NotFoundError(f"{path}: no such file; check the path") from exc
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror}); check the path") from exc
    text = decode_text(data, source=source)
    if not text.strip():
        raise DataError(f"{source}: the file is empty; export the table with a header row")
    sep = _delimiter(text, delimiter)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True))
    except csv.Error as exc:
        raise DataError(f"{source}: not a readable {'tab' if sep == chr(9) else repr(sep)}-"
                        f"separated table ({exc}); check the quotes") from exc
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise DataError(f"{source}: the file is empty; export the table with a header row")
    header = [cell.strip() for cell in rows[0]]
    while header and not header[-1]:
        header.pop()
    problems = []
    body = []
    for number, row in enumerate(rows[1:], start=1):
        cells = list(row)
        while len(cells) > len(header) and not cells[-1].strip():
            cells.pop()
        if len(cells) > len(header):
            problems.append(Problem(f"has {len(cells)} cells but the header has {len(header)}; "
                                    "remove the extra cells or quote cells that hold the "
                                    "separator", source=source, row=number))
        body.append(cells + [""] * (len(header) - len(cells)))
    if problems:
        raise ValidationError(problems, what=source)
    frame = pd.DataFrame(body, columns=header, dtype=object) if body else pd.DataFrame(
        {name: pd.Series(dtype=object) for name in header})
    _check_header(frame, source)
    return _text_cells(frame)


def read_excel_sheet(path: str | Path, *, sheet: str | int = 0,
                     source: str | None = None) -> pd.DataFrame:
    """Read one sheet of an .xlsx workbook (openpyxl) as text cells."""
    path = Path(path)
    source = source or path.name
    if not path.exists():
        raise NotFoundError(f"{path}: no such file; check the path")
    try:
        frame = pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl",
                              keep_default_na=False, na_values=[""])
    except ClassdyadError:
        raise
    except Exception as exc:  # openpyxl raises many kinds of errors on damaged files
        raise DataError(f"{source}: not a readable Excel workbook or no sheet {sheet!r} "
                        f"({type(exc).__name__}: {exc}); save it again as .xlsx") from exc
    _check_header(frame, source)
    return _drop_empty_rows(_text_cells(frame))


def read_spss_file(path: str | Path, *, value_labels: bool = True,
                   source: str | None = None) -> tuple[pd.DataFrame, object]:
    """Read an SPSS .sav file with pyreadstat; return the raw frame and ReadStat's metadata.

    With ``value_labels`` the labels replace the codes (``1 -> "jongen"``).
    """
    import pyreadstat

    path = Path(path)
    source = source or path.name
    if not path.exists():
        raise NotFoundError(f"{path}: no such file; check the path")
    try:
        frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=value_labels,
                                          formats_as_category=False)
    except ClassdyadError:
        raise
    except Exception as exc:  # ReadStat reports damaged files with its own error classes
        raise DataError(f"{source}: not a readable SPSS .sav file ({type(exc).__name__}: "
                        f"{exc}); save it again from SPSS") from exc
    return frame, meta


def read_table(path: str | Path, *, format: TableFormat | None = None,
               sheet: str | int = 0) -> pd.DataFrame:
    """Read a CSV, TSV, Excel or SPSS table as text cells, one row per data row.

    Parameters
    ----------
    path
        The file.
    format
        ``"csv"``, ``"tsv"``, ``"xlsx"`` or ``"sav"``; default: from the suffix.
    sheet
        The Excel sheet (name or 0-based position).

    Returns
    -------
    pandas.DataFrame
        Column names stripped of spaces; every cell a stripped ``str`` or ``None``; rows
        without any value (blank lines, empty spreadsheet rows) left out.

    Raises
    ------
    DataError
        If the file cannot be read as a table (the message says why and what to do).
    ValidationError
        If a data row repeats the header row, or has more cells than the header.
    NotFoundError
        If the file does not exist.
    """
    chosen = detect_format(path) if format is None else check_option(
        "format", format, TABLE_FORMATS)
    if chosen == "csv":
        table = read_delimited(path)
    elif chosen == "tsv":
        table = read_delimited(path, delimiter="\t")
    elif chosen == "xlsx":
        table = read_excel_sheet(path, sheet=sheet)
    else:
        frame, _ = read_spss_file(path, value_labels=True)
        _check_header(frame, Path(path).name)
        table = _drop_empty_rows(_text_cells(frame))
    refuse_repeated_header(table, Path(path).name)
    return table


__all__ = ["TABLE_FORMATS", "decode_text", "detect_format", "read_delimited",
           "read_excel_sheet", "read_spss_file", "read_table", "refuse_repeated_header",
           "repeated_header_rows"]
