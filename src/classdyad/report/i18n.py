"""Languages of the report: gettext catalogs compiled with Babel.

Every sentence, label and heading of the report is an English message id, translated through the
gettext catalog ``locale/<language>/LC_MESSAGES/classdyad.po`` (GNU gettext format). The ``.po``
file is compiled in memory with Babel when a report is written, so the catalog shipped is the
catalog used; English needs no catalog. Messages are marked in Python with :func:`N_` (labels
kept in tables) or the ``gettext`` of :func:`translations`, and in the Jinja2 templates with
``{% trans %}`` / ``_()``, so that ``pybabel extract`` finds them all.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path
from typing import Literal

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from classdyad.errors import NotFoundError, check_option

Language = Literal["en", "nl"]
LANGUAGES: tuple[Language, ...] = ("en", "nl")
#: Babel/CLDR locale of each language (number formats)
LOCALES: dict[str, str] = {"en": "en_GB", "nl": "nl_NL"}
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "classdyad"


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it (translated where shown)."""
    return message


def catalog_path(language: str) -> Path:
    """The ``.po`` file of ``language``."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: Language = "en") -> gettext.NullTranslations:
    """The gettext translations of ``language`` (English: the message ids themselves).

    Raises
    ------
    OptionError
        If ``language`` is not one of :data:`LANGUAGES`.
    NotFoundError
        If the language's catalog is missing from the installed package.
    """
    check_option("language", language, LANGUAGES)
    if language == "en":
        return gettext.NullTranslations()
    path = catalog_path(language)
    if not path.exists():
        raise NotFoundError(f"the {language!r} message catalog {path} is missing; reinstall "
                            "classdyad (the catalogs are package data)")
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)
