"""Countries of birth: ISO 3166 codes, Dutch and English names, and the regions CBS rules need.

A student's and the parents' countries of birth are stored raw, as typed by a school or a parent
(``"Marokko"``, ``"MA"``, ``"MAR"``, ``504``, ``"Morocco"``), and turned into one canonical code by
:func:`normalize_country` before any rule is applied. The canonical code is the ISO 3166-1
alpha-2 code; a former country that split into several current ones keeps its ISO 3166-3 code
(``"AN"`` for the Netherlands Antilles, ``"YU"`` Yugoslavia, ``"SU"`` the USSR, ``"CSHH"``
Czechoslovakia, ``"CSXX"`` Serbia and Montenegro), and Kosovo has the user-assigned ``"XK"``.

Matching ignores case, diacritics and the punctuation that names carry (hyphens, dots, commas,
apostrophes, parentheses, slashes): ``"curacao"``, ``"CURAÇAO"`` and ``"Curaçao "`` are the same.
Anything else must be an exact spelling from the table; close misses are reported with
suggestions (``difflib``), never guessed.

Each country carries its continent and its CBS pre-2022 region. The table and its sources are
described in ``data/README.md``; in short:

- CBS pre-2022 ("migratieachtergrond"): *western* is Europe (excluding Turkey), North America,
  Oceania, Indonesia and Japan; every other country is *non-western* (CBS, begrip
  "Persoon met een westerse migratieachtergrond"; e.g.
  https://www.cbs.nl/nl-nl/nieuws/2016/34/aantal-kinderen-in-bijstandsgezinnen-groeit/overige-niet-westerse-landen).
- CBS 2022 ("herkomst"): the main split is Nederland / Europa (exclusief Nederland) /
  Buiten-Europa, and Turkey is outside Europe: the CBS hierarchy lists "Turkije" under
  "Buiten-Europa" next to "Azië (exclusief Indonesië en Turkije)"
  (https://www.cbs.nl/nl-nl/onze-diensten/methoden/begrippen/herkomstland). Continents otherwise
  follow the UN M49 geoscheme (the Caucasus and Central Asian republics in Asia; Russia, Ukraine,
  Belarus, Moldova and the Baltic states in Europe), with Cyprus in Europe.
"""

from __future__ import annotations

import csv
import difflib
import math
import numbers
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any

import pandas as pd

from classdyad.errors import ClassificationError

__all__ = [
    "CONTINENTS",
    "Country",
    "country_info",
    "country_table",
    "is_missing_value",
    "normalize_country",
]

#: Continents used by the table, in display order.
CONTINENTS = (
    "europe",
    "north_america",
    "latin_america",
    "oceania",
    "africa",
    "asia",
    "antarctica",
)

#: Texts that mean "not known" (compared after case and diacritics folding).
MISSING_TEXTS = frozenset({"", "onbekend", "unknown", "niet bekend", "not known", "?"})

#: Spellings that ISO used for more than one country; they are refused with both choices.
_AMBIGUOUS = {
    "cs": "ISO 3166-3 used 'CS' for both Czechoslovakia and Serbia and Montenegro; "
    "use 'CSK' or 'Tsjecho-Slowakije' for Czechoslovakia, 'SCG' or 'Servië en Montenegro' for "
    "Serbia and Montenegro",
}

_PUNCTUATION = re.compile(r"[\s\-.,'’()/&]+")


@dataclass(frozen=True)
class Country:
    """One country (or former country) of the table.

    Parameters
    ----------
    code
        Canonical code (ISO 3166-1 alpha-2, or the ISO 3166-3 code of a former country).
    alpha3, numeric
        ISO alpha-3 and numeric codes (``numeric`` is ``""`` where none is unambiguous).
    name_en, name_nl
        English and Dutch names.
    aliases
        Other accepted spellings.
    continent
        One of :data:`CONTINENTS` (Turkey is in Asia, as CBS places it).
    cbs_western
        Western in the CBS pre-2022 classification.
    status
        ``"iso3166-1"``, ``"iso3166-3"`` (a former country) or ``"user-assigned"``.
    """

    code: str
    alpha3: str
    numeric: str
    name_en: str
    name_nl: str
    aliases: tuple[str, ...]
    continent: str
    cbs_western: bool
    status: str

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every spelling that :func:`normalize_country` maps to this country."""
        found = [self.code, self.alpha3, self.numeric, self.name_en, self.name_nl, *self.aliases]
        return tuple(dict.fromkeys(s for s in found if s))


def text_key(text: str) -> str:
    """Fold case, diacritics and name punctuation: the key spellings are matched on."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    words = _PUNCTUATION.sub(" ", stripped).split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words)


@cache
def _table() -> tuple[dict[str, Country], dict[str, str], dict[str, str]]:
    """Countries by code, codes by spelling key, and a display spelling per key."""
    text = files("classdyad.model").joinpath("data", "countries.csv").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    by_code: dict[str, Country] = {}
    by_key: dict[str, str] = {}
    shown: dict[str, str] = {}
    for row in csv.DictReader(lines):
        country = Country(
            code=row["code"],
            alpha3=row["alpha3"],
            numeric=row["numeric"],
            name_en=row["name_en"],
            name_nl=row["name_nl"],
            aliases=tuple(a for a in row["aliases"].split("|") if a),
            continent=row["continent"],
            cbs_western=row["cbs_western"] == "1",
            status=row["status"],
        )
        by_code[country.code] = country
        for spelling in country.spellings:
            key = text_key(spelling)
            by_key.setdefault(key, country.code)
            shown.setdefault(key, spelling)
    return by_code, by_key, shown


def is_missing_value(value: Any) -> bool:
    """True for ``None``, NaN, ``pandas.NA``, empty text and texts meaning "unknown"."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str):
        return text_key(value) in MISSING_TEXTS
    return False


def _numeric_text(value: Any) -> str | None:
    """``528``, ``528.0`` and ``"528"`` give ``"528"``; anything else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return f"{int(value):03d}"
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return f"{int(value):03d}"
    if isinstance(value, str) and value.strip().isdigit():
        return f"{int(value.strip()):03d}"
    return None


def _unknown_country(value: Any) -> ClassificationError:
    _, by_key, shown = _table()
    hint = ""
    if isinstance(value, str):
        key = text_key(value)
        if key in _AMBIGUOUS:
            return ClassificationError(f"{value!r} is ambiguous: {_AMBIGUOUS[key]}")
        # compare names with names and codes with codes: a short code is rarely what a
        # misspelt name meant
        pool = [k for k in by_key if (len(k) > 3) == (len(key) > 3)]
        close = difflib.get_close_matches(key, pool, n=3, cutoff=0.6)
        names = list(dict.fromkeys(shown[k] for k in close))
        hint = f" (closest: {', '.join(names)})" if names else ""
    return ClassificationError(
        f"{value!r} is not a known country; use an ISO 3166 code or a CBS country name{hint}"
    )


@lru_cache(maxsize=None, typed=True)
def _code_of(value: Any) -> str | None:
    if is_missing_value(value):
        return None
    _, by_key, _ = _table()
    digits = _numeric_text(value)
    if digits is not None:
        code = by_key.get(digits)
    elif isinstance(value, str):
        code = by_key.get(text_key(value))
    else:
        code = None
    if code is None:
        raise _unknown_country(value)
    return code


def normalize_country(value: Any) -> str | None:
    """Return the canonical code of a country of birth given in any accepted spelling.

    Parameters
    ----------
    value
        An ISO 3166 alpha-2, alpha-3 or numeric code (as text or a number), or an English or
        Dutch name or alias (``"Marokko"``, ``"Turkije"``, ``"VS"``, ``"Nederlandse Antillen"``).
        Case, diacritics, surrounding whitespace and name punctuation are ignored.

    Returns
    -------
    str or None
        The ISO 3166-1 alpha-2 code (``"MA"``), the ISO 3166-3 code of a former country
        (``"AN"``, ``"YU"``, ``"SU"``, ``"CSHH"``, ``"CSXX"``) or ``"XK"`` (Kosovo); ``None``
        for a missing value (``None``, NaN, ``""``, ``"onbekend"``, ``"unknown"``).

    Raises
    ------
    ClassificationError
        The value is no known spelling; the message names the closest spellings.

    Examples
    --------
    >>> normalize_country("Marokko"), normalize_country("MAR"), normalize_country(504)
    ('MA', 'MA', 'MA')
    >>> normalize_country("curacao")
    'CW'
    """
    try:
        return _code_of(value)
    except TypeError:  # unhashable input such as a list
        raise ClassificationError(
            f"{value!r} is not a country; give one ISO 3166 code or country name per cell"
        ) from None


def country_info(value: Any) -> Country | None:
    """Return the :class:`Country` for any accepted spelling (``None`` for a missing value)."""
    code = normalize_country(value)
    return None if code is None else _table()[0][code]


def country_table() -> pd.DataFrame:
    """Return the country table as a DataFrame, one row per canonical code.

    Columns: ``code, alpha3, numeric, name_en, name_nl, aliases`` (a tuple), ``continent,
    cbs_western, status``.
    """
    by_code = _table()[0]
    rows = [country.__dict__ for country in by_code.values()]
    return pd.DataFrame(rows).set_index("code", drop=False).rename_axis(None)
