"""Column mappings: which column of a user's file holds which field, in English or Dutch.

Files arrive with the headers their authors chose: ``Leerlingnummer``, ``Geboorteland moeder``,
``Student ID``. A :class:`ColumnMapping` says, per field, which header holds it (``columns``),
how to translate values (``values``, e.g. SPSS codes ``1 -> boy``) and which constant to use when a
field has no column (``defaults``, e.g. ``wave: 1``). Fields without an explicit column are found
by their known English and Dutch names (:data:`ROSTER_FIELDS`), compared after folding case,
spaces, hyphens, underscores and apostrophes. A mapping can be written as a small YAML file::

    columns:
      student: Leerlingnummer
      classroom: Klas
    values:
      gender: {"1": boy, "2": girl}
    defaults:
      wave: 1
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from classdyad.errors import DataError, NotFoundError

#: roster field -> the headers that name it (English and Dutch), compared after folding
ROSTER_FIELDS: dict[str, tuple[str, ...]] = {
    "school": ("school", "school code", "schoolcode", "school id", "brin", "brinnummer"),
    "school_country": ("school country", "country of school", "land school", "land"),
    "classroom": ("classroom", "class", "class code", "classroom code", "klas", "klascode",
                  "klasnaam", "groepsnaam"),
    "grade": ("grade", "groep", "leerjaar", "jaargroep"),
    "teacher": ("teacher", "teacher code", "class teacher", "leerkracht", "leerkrachtcode",
                "groepsleerkracht", "leerkracht code"),
    "duo_teacher": ("duo teacher", "second teacher", "duo leerkracht", "duoleerkracht",
                    "duopartner", "tweede leerkracht"),
    "student": ("student", "student code", "student id", "pupil", "pupil code", "leerling",
                "leerlingcode", "leerlingnummer", "leerling id", "leerlingnr"),
    "first_name": ("first name", "firstname", "given name", "voornaam", "roepnaam"),
    "last_name": ("last name", "lastname", "surname", "family name", "achternaam"),
    "gender": ("gender", "sex", "geslacht"),
    "birth_year": ("birth year", "year of birth", "geboortejaar"),
    "birth_country": ("birth country", "country of birth", "geboorteland",
                      "geboorteland leerling", "student birth country"),
    "mother_birth_country": ("mother birth country", "mothers birth country",
                             "country of birth mother", "mother country of birth",
                             "geboorteland moeder"),
    "father_birth_country": ("father birth country", "fathers birth country",
                             "country of birth father", "father country of birth",
                             "geboorteland vader"),
    "mother_education": ("mother education", "mothers education", "education mother",
                         "opleiding moeder", "opleidingsniveau moeder"),
    "father_education": ("father education", "fathers education", "education father",
                         "opleiding vader", "opleidingsniveau vader"),
    "wave": ("wave", "meting", "meetmoment", "wave number"),
}

#: value translations applied before validation (English and Dutch), per field
VALUE_SYNONYMS: dict[str, dict[str, str]] = {
    "gender": {"boy": "boy", "jongen": "boy", "j": "boy", "male": "boy", "b": "boy",
               "girl": "girl", "meisje": "girl", "female": "girl", "f": "girl", "g": "girl",
               "other": "other", "anders": "other", "x": "other"},
}


def fold_header(name: object) -> str:
    """Fold a header for comparison: lower case, no apostrophes, one space between words."""
    text = str(name).strip().lower().replace("'", "").replace("\u2019", "")
    return re.sub(r"[\s_\-./]+", " ", text).strip()


@dataclass(frozen=True)
class ColumnMapping:
    """Which column holds which field, value translations, and constants for absent fields."""

    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "mapping") -> ColumnMapping:
        """Build a mapping from a parsed YAML/JSON document (see the module docstring)."""
        if not isinstance(data, Mapping):
            raise DataError(f"{source}: a column mapping is a YAML mapping with the keys "
                            "columns, values and defaults")
        unknown = sorted(set(data) - {"columns", "values", "defaults"})
        if unknown:
            raise DataError(f"{source}: unknown key(s) {unknown}; a column mapping has only "
                            "columns, values and defaults")
        columns = data.get("columns") or {}
        values = data.get("values") or {}
        defaults = data.get("defaults") or {}
        for key, part in (("columns", columns), ("values", values), ("defaults", defaults)):
            if not isinstance(part, Mapping):
                raise DataError(f"{source}: {key} must map field names to values")
        for name, table in values.items():
            if not isinstance(table, Mapping):
                raise DataError(f"{source}: values.{name} must map file values to "
                                "classdyad values, e.g. {{'1': boy, '2': girl}}")
        return cls(columns={str(k): str(v) for k, v in columns.items()},
                   values={str(k): {str(a): str(b) for a, b in v.items()}
                           for k, v in values.items()},
                   defaults={str(k): v for k, v in defaults.items()})

    def merged(self, other: ColumnMapping) -> ColumnMapping:
        """This mapping with ``other``'s entries taking precedence."""
        return ColumnMapping(columns={**self.columns, **other.columns},
                             values={**self.values, **other.values},
                             defaults={**self.defaults, **other.defaults})


def load_yaml(path: str | Path) -> Any:
    """Parse a small YAML file (mappings), with errors that name the file."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotFoundError(f"{path}: no such mapping file; check the path") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read as UTF-8 text ({exc})") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DataError(f"{path.name}: not valid YAML ({exc}); check indentation and "
                        "quoting") from exc


def read_column_mapping(path: str | Path) -> ColumnMapping:
    """Read a :class:`ColumnMapping` from a YAML file."""
    return ColumnMapping.from_dict(load_yaml(path) or {}, source=Path(path).name)


def resolve_columns(frame: pd.DataFrame, *, fields: Mapping[str, tuple[str, ...]],
                    required: tuple[str, ...], mapping: ColumnMapping | None = None,
                    source: str) -> pd.DataFrame:
    """Return a frame with one column per known field, named by the field.

    Explicit ``mapping.columns`` win; otherwise a header matching one of the field's names is
    used; otherwise ``mapping.defaults`` gives a constant; otherwise the field is absent (an error
    for ``required`` fields). Columns that match no field are left out and listed in
    ``attrs["ignored_columns"]`` so that a caller can say so.
    """
    mapping = mapping or ColumnMapping()
    folded = {fold_header(c): c for c in frame.columns}
    unknown = sorted(set(mapping.columns) - set(fields))
    if unknown:
        raise DataError(f"{source}: the mapping names unknown field(s) {unknown}; the fields "
                        f"are {', '.join(fields)}")
    chosen: dict[str, str] = {}
    for name, synonyms in fields.items():
        if name in mapping.columns:
            header = mapping.columns[name]
            if header not in frame.columns:
                match = folded.get(fold_header(header))
                if match is None:
                    raise DataError(f"{source}: the mapping says field {name!r} is in column "
                                    f"{header!r}, but the file has no such column; its columns "
                                    f"are {', '.join(map(str, frame.columns))}")
                header = match
            chosen[name] = header
            continue
        for synonym in (name, *synonyms):
            if fold_header(synonym) in folded:
                chosen[name] = folded[fold_header(synonym)]
                break
    out = pd.DataFrame(index=frame.index)
    for name in fields:
        if name in chosen:
            out[name] = frame[chosen[name]].astype(object)
        elif name in mapping.defaults:
            out[name] = pd.Series([mapping.defaults[name]] * len(frame), index=frame.index,
                                  dtype=object)
    used = set(chosen.values())
    out.attrs["ignored_columns"] = [str(c) for c in frame.columns if c not in used]
    missing = [name for name in required if name not in out.columns]
    if missing:
        hints = "; ".join(f"{name} (e.g. {', '.join(repr(s) for s in fields[name][:3])})"
                          for name in missing)
        raise DataError(f"{source}: no column for the required field(s) {hints}. The file's "
                        f"columns are {', '.join(map(str, frame.columns))}; rename them or "
                        "give a column mapping (--column FIELD=HEADER or a YAML file)")
    for name in {**VALUE_SYNONYMS, **mapping.values}:
        if name in out.columns:
            translate = ({fold_header(k): v for k, v in VALUE_SYNONYMS.get(name, {}).items()}
                         | {fold_header(k): v for k, v in mapping.values.get(name, {}).items()})
            out[name] = out[name].map(
                lambda v, t=translate: v if v is None else t.get(fold_header(v), v))
    return out


__all__ = ["ROSTER_FIELDS", "VALUE_SYNONYMS", "ColumnMapping", "fold_header", "load_yaml",
           "read_column_mapping", "resolve_columns"]
