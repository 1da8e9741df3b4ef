"""Versioned codebooks and questionnaire instruments of a study.

A codebook is never changed in place: :func:`create_codebook` with categories that differ from
the newest version makes a new version (a new row), and coded events keep pointing at the
version they were coded with. Giving the same categories again returns the stored version, so
importing a codebook file twice changes nothing. Instruments work the same way by code and
version: the same definition is kept, another definition under a stored version is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from classdyad.errors import DataError, IntegrityError
from classdyad.model import Codebook, CodebookCategory, Informant, Instrument, Valence
from classdyad.store.entities import _add

_CATEGORY_FIELDS = ("subtype", "valence", "hotkey", "label", "description")


def _categories(categories: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for i, category in enumerate(categories, start=1):
        unknown = sorted(set(category) - set(_CATEGORY_FIELDS))
        if unknown:
            raise DataError(f"category {i}: unknown field(s) {unknown}; use "
                            f"{', '.join(_CATEGORY_FIELDS)}")
        if not category.get("subtype"):
            raise DataError(f"category {i}: no subtype; give each category a subtype name")
        if category.get("valence") not in {v.value for v in Valence}:
            raise DataError(f"category {i} ({category.get('subtype')}): valence "
                            f"{category.get('valence')!r} is not positive, negative or neutral")
        rows.append({f: (None if category.get(f) is None else str(category[f]))
                     for f in _CATEGORY_FIELDS})
    for field in ("subtype", "hotkey"):
        values = [r[field] for r in rows if r[field] is not None]
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise DataError(f"{field} {repeated} repeated; each category needs its own {field}")
    return rows


def codebook_versions(session: Session, study_id: int, name: str) -> list[Codebook]:
    """The stored versions of a codebook, oldest first."""
    return list(session.scalars(sa.select(Codebook).where(
        Codebook.study_id == study_id, Codebook.name == name).order_by(Codebook.id)))


def codebook_categories(session: Session, codebook_id: int) -> pd.DataFrame:
    """``subtype, valence, hotkey, label, description`` of one codebook version."""
    rows = session.execute(sa.select(*(getattr(CodebookCategory, f) for f in _CATEGORY_FIELDS))
                           .where(CodebookCategory.codebook_id == codebook_id)
                           .order_by(CodebookCategory.id)).all()
    return pd.DataFrame(rows, columns=list(_CATEGORY_FIELDS))


def _next_version(versions: list[Codebook]) -> str:
    numbers = []
    for book in versions:
        try:
            numbers.append(float(book.version))
        except ValueError:
            continue
    return str(int(max(numbers, default=len(versions))) + 1)


def plan_codebook(session: Session, *, study_id: int, name: str,
                  categories: Sequence[Mapping[str, Any]], version: str | None = None
                  ) -> tuple[Codebook | None, str]:
    """The stored version these categories are, or ``None`` and the version they would get.

    Raises :class:`DataError` as :func:`create_codebook` does; writes nothing.
    """
    rows = _categories(categories)
    versions = codebook_versions(session, study_id, name)
    wanted = pd.DataFrame(rows, columns=list(_CATEGORY_FIELDS))
    for book in reversed(versions):
        if version is not None and book.version != version:
            continue
        stored = codebook_categories(session, book.id)
        if stored.astype(object).where(stored.notna(), None).equals(
                wanted.astype(object).where(wanted.notna(), None)):
            return book, book.version
        if version is not None:
            raise DataError(f"codebook {name!r} version {version} is stored with other "
                            "categories; a stored version is never changed: give a new version")
        break
    return None, version or _next_version(versions)


def find_instrument(session: Session, *, study_id: int, code: str, version: str,
                    informant: str, definition: str | None) -> Instrument | None:
    """The stored instrument with this code and version (``None`` if there is none).

    Raises :class:`IntegrityError` if it is stored with another definition; writes nothing.
    """
    if informant not in {i.value for i in Informant}:
        raise DataError(f"informant {informant!r} is not teacher or student")
    stored = session.scalars(sa.select(Instrument).where(
        Instrument.study_id == study_id, Instrument.code == code,
        Instrument.version == version)).first()
    if stored is not None and ((stored.definition or "") != (definition or "")
                               or stored.informant != informant):
        raise IntegrityError(f"instrument {code!r} version {version} is stored with another "
                             "definition; give the changed definition a new version")
    return stored


def create_codebook(session: Session, *, study_id: int, name: str,
                    categories: Sequence[Mapping[str, Any]], version: str | None = None,
                    description: str | None = None) -> tuple[Codebook, bool]:
    """Store a codebook version; return it and whether it is new.

    Parameters
    ----------
    categories
        One mapping per category: ``subtype``, ``valence`` (positive, negative, neutral),
        optional ``hotkey``, ``label``, ``description``.
    version
        The version's name; by default the newest stored version when the categories are the
        same, else the next whole number (``1`` for a new codebook).

    Raises
    ------
    DataError
        If a category is incomplete, or ``version`` is stored with other categories (a stored
        version is never rewritten: give a new version).
    """
    stored, new_version = plan_codebook(session, study_id=study_id, name=name,
                                        categories=categories, version=version)
    if stored is not None:
        return stored, False
    rows = _categories(categories)
    book = _add(session, Codebook(study_id=study_id, name=name,
                                  version=new_version,
                                  description=description), f"codebook {name!r}")
    session.add_all(CodebookCategory(codebook_id=book.id, **row) for row in rows)
    session.flush()
    return book, True


def add_instrument(session: Session, *, study_id: int, code: str, version: str,
                   informant: str, definition: str | None = None) -> tuple[Instrument, bool]:
    """Store a questionnaire instrument (its YAML text); return it and whether it is new.

    Raises
    ------
    IntegrityError
        If this code and version are stored with another definition.
    """
    stored = find_instrument(session, study_id=study_id, code=code, version=version,
                             informant=informant, definition=definition)
    if stored is not None:
        return stored, False
    return _add(session, Instrument(study_id=study_id, code=code, version=version,
                                    informant=informant, definition=definition),
                f"instrument {code!r}"), True


__all__ = ["add_instrument", "codebook_categories", "codebook_versions", "create_codebook",
           "find_instrument", "plan_codebook"]
