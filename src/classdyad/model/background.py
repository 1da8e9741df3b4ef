"""Student background groups derived by rule from raw countries of birth and parents' education.

A student's background is stored raw: the countries of birth of the student, the mother and the
father, and each parent's highest education level. Groups are derived from those values by the
rules below and are never typed in by hand.

Migration background, CBS pre-2022 ("migratieachtergrond")
    A person has a migration background when at least one parent was born abroad; a person whose
    parents were both born in the Netherlands has a Dutch background, wherever the person was
    born. The *first generation* was born abroad, the *second generation* in the Netherlands. The
    country of origin is the person's own country of birth for the first generation; for the
    second generation it is the mother's country of birth, unless she was born in the
    Netherlands, in which case it is the father's (CBS, begrip "Migratieachtergrond",
    https://vocabs.cbs.nl/begrippen/nl/page/1883; "Persoon met een eerste/tweede generatie
    migratieachtergrond", https://www.cbs.nl/nl-nl/onze-diensten/methoden/begrippen). The country
    is then grouped: Turkey, Morocco, Suriname, the (former) Netherlands Antilles and Aruba
    (Aruba, Curaçao, Sint Maarten, Bonaire/Sint Eustatius/Saba), other non-western countries, and
    western countries: Europe (excluding Turkey), North America, Oceania, Indonesia and Japan.
    A parent whose country of birth is not known is left out (as CBS does for a parent missing from
    the register); when neither parent's country is known the background is undetermined.

Origin, CBS 2022 ("herkomst")
    The origin country ("herkomstland") of a person born abroad is their own country of birth,
    whatever the parents' (so a child born abroad to two Dutch-born parents now has a foreign
    origin). For a person born in the Netherlands it is the mother's country of birth if she was
    born abroad; when she was born in the Netherlands or her country is unknown, the father's
    (CBS, begrip "Herkomstland",
    https://www.cbs.nl/nl-nl/onze-diensten/methoden/begrippen/herkomstland). The main split is
    Nederland / Europa (exclusief Nederland) / Buiten-Europa, with Turkey outside Europe; the next
    level names Turkey, Morocco, Suriname, the Dutch Caribbean and Indonesia, then Africa, Asia,
    and America with Oceania.

Low SES
    From the parents' education levels by a configurable rule; see
    :mod:`classdyad.model.education` (default: the Dutch pupil-weight rule).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, Literal

import numpy as np
import pandas as pd

from classdyad.errors import ClassificationError, Problem, ValidationError, check_option
from classdyad.model.countries import country_info, normalize_country
from classdyad.model.education import (
    SES_RULES,
    UNDETERMINED,
    EducationLevel,
    Gap,
    SesRule,
    Undetermined,
    education_threshold,
    low_ses,
    low_ses_rule,
    normalize_education,
    pupil_weight,
    pupil_weight_rule,
    settle,
)

__all__ = [  # the education rules are re-exported: a student's background is one topic
    "BACKGROUND_COLUMNS",
    "EducationLevel",
    "MigrationBackground",
    "Origin2022",
    "OriginGroup2022",
    "classify_background",
    "low_ses",
    "migration_background",
    "migration_generation",
    "migration_origin_country",
    "normalize_education",
    "origin_2022",
    "origin_country_2022",
    "origin_group_2022",
    "pupil_weight",
]

Generation = Literal["none", "first", "second"]

#: Columns :func:`classify_background` reads.
BACKGROUND_COLUMNS = (
    "birth_country",
    "mother_birth_country",
    "father_birth_country",
    "mother_education",
    "father_education",
)

NETHERLANDS = "NL"
DUTCH_CARIBBEAN = frozenset({"AN", "AW", "CW", "SX", "BQ"})


class MigrationBackground(StrEnum):
    """CBS pre-2022 migration background groups."""

    DUTCH = "dutch"
    WESTERN = "western"
    TURKISH = "turkish"
    MOROCCAN = "moroccan"
    SURINAMESE = "surinamese"
    ANTILLEAN_ARUBAN = "antillean_aruban"
    OTHER_NON_WESTERN = "other_non_western"

    @property
    def is_non_western(self) -> bool:
        """Turkish, Moroccan, Surinamese, Antillean/Aruban or other non-western."""
        return self not in (MigrationBackground.DUTCH, MigrationBackground.WESTERN)

    @property
    def is_turkish_moroccan(self) -> bool:
        """Turkish or Moroccan background."""
        return self in (MigrationBackground.TURKISH, MigrationBackground.MOROCCAN)


class Origin2022(StrEnum):
    """CBS 2022 origin, main split."""

    NETHERLANDS = "netherlands"
    EUROPE = "europe_excluding_netherlands"
    OUTSIDE_EUROPE = "outside_europe"


class OriginGroup2022(StrEnum):
    """CBS 2022 origin, the level below the main split (common immigration countries named)."""

    NETHERLANDS = "netherlands"
    EUROPE = "europe_excluding_netherlands"
    TURKEY = "turkey"
    MOROCCO = "morocco"
    SURINAME = "suriname"
    DUTCH_CARIBBEAN = "dutch_caribbean"
    INDONESIA = "indonesia"
    AFRICA = "africa_excluding_morocco"
    ASIA = "asia_excluding_indonesia_turkey"
    AMERICA_OCEANIA = "america_oceania_excluding_suriname_dutch_caribbean"

    @property
    def origin(self) -> Origin2022:
        """The main-split group this group belongs to."""
        if self is OriginGroup2022.NETHERLANDS:
            return Origin2022.NETHERLANDS
        if self is OriginGroup2022.EUROPE:
            return Origin2022.EUROPE
        return Origin2022.OUTSIDE_EUROPE


# --------------------------------------------------------------------------------------------
# Rules on canonical values. Each returns its result, or a Gap saying which cell is missing.


_NO_PARENT_COUNTRY = Gap(
    "mother_birth_country",
    "neither parent's country of birth is known, so the background cannot be derived; fill in "
    "mother_birth_country or father_birth_country",
)


def _abroad(code: str | None) -> bool:
    return code is not None and code != NETHERLANDS


def _pre2022(
    own: str | None, mother: str | None, father: str | None
) -> tuple[str | None, Generation] | Gap:
    """(origin country or None, generation) by the CBS pre-2022 rule, or a Gap."""
    if mother is None and father is None:
        return _NO_PARENT_COUNTRY
    parent_abroad = mother if _abroad(mother) else father if _abroad(father) else None
    if parent_abroad is None:
        return None, "none"
    if own is None:
        return Gap(
            "birth_country",
            "the student's country of birth is missing and a parent was born abroad, so the "
            "generation and the country of origin are unknown; fill in birth_country",
        )
    if own != NETHERLANDS:
        return own, "first"
    return parent_abroad, "second"


def _group_pre2022(origin: str | None) -> MigrationBackground:
    if origin is None:
        return MigrationBackground.DUTCH
    special = {
        "TR": MigrationBackground.TURKISH,
        "MA": MigrationBackground.MOROCCAN,
        "SR": MigrationBackground.SURINAMESE,
    }
    if origin in special:
        return special[origin]
    if origin in DUTCH_CARIBBEAN:
        return MigrationBackground.ANTILLEAN_ARUBAN
    info = country_info(origin)
    assert info is not None
    if info.cbs_western:
        return MigrationBackground.WESTERN
    return MigrationBackground.OTHER_NON_WESTERN


def _origin_country_2022(own: str | None, mother: str | None, father: str | None) -> str | Gap:
    """Origin country by the CBS 2022 rule, or a Gap."""
    if own is None:
        return Gap(
            "birth_country",
            "the student's country of birth is missing; the 2022 origin starts from it; fill in "
            "birth_country",
        )
    if own != NETHERLANDS:
        return own
    if _abroad(mother):
        return mother
    if _abroad(father):
        return father
    if mother is None and father is None:
        return _NO_PARENT_COUNTRY
    return NETHERLANDS


def _group_2022(origin: str) -> OriginGroup2022:
    named = {
        NETHERLANDS: OriginGroup2022.NETHERLANDS,
        "TR": OriginGroup2022.TURKEY,
        "MA": OriginGroup2022.MOROCCO,
        "SR": OriginGroup2022.SURINAME,
        "ID": OriginGroup2022.INDONESIA,
    }
    if origin in named:
        return named[origin]
    if origin in DUTCH_CARIBBEAN:
        return OriginGroup2022.DUTCH_CARIBBEAN
    info = country_info(origin)
    assert info is not None
    by_continent = {
        "europe": OriginGroup2022.EUROPE,
        "africa": OriginGroup2022.AFRICA,
        "asia": OriginGroup2022.ASIA,
    }
    return by_continent.get(info.continent, OriginGroup2022.AMERICA_OCEANIA)


def _countries(*values: Any) -> tuple[str | None, ...]:
    return tuple(normalize_country(v) for v in values)


# --------------------------------------------------------------------------------------------
# Public one-student functions.


def migration_background(
    birth_country: Any,
    mother_birth_country: Any,
    father_birth_country: Any,
    *,
    undetermined: Undetermined = "raise",
) -> MigrationBackground | None:
    """Classify one student's migration background by the CBS pre-2022 rule.

    Parameters
    ----------
    birth_country, mother_birth_country, father_birth_country
        Countries of birth in any spelling :func:`~classdyad.model.countries.normalize_country`
        accepts; a parent's may be missing.
    undetermined
        ``"raise"`` (default) raises :class:`ClassificationError` when the rule cannot decide
        (no parent's country known; the student's own country missing while a parent was born
        abroad); ``"missing"`` returns ``None`` then.

    Examples
    --------
    >>> migration_background("NL", "Turkije", "NL")
    <MigrationBackground.TURKISH: 'turkish'>
    >>> migration_background("Duitsland", "NL", "NL")  # both parents born in NL
    <MigrationBackground.DUTCH: 'dutch'>
    """
    check_option("undetermined", undetermined, UNDETERMINED)
    result = _pre2022(*_countries(birth_country, mother_birth_country, father_birth_country))
    return settle(result, undetermined, lambda r: _group_pre2022(r[0]))


def migration_generation(
    birth_country: Any,
    mother_birth_country: Any,
    father_birth_country: Any,
    *,
    undetermined: Undetermined = "raise",
) -> Generation | None:
    """``"none"`` (Dutch background), ``"first"`` (born abroad) or ``"second"`` (born in NL).

    Same rule and arguments as :func:`migration_background`.
    """
    check_option("undetermined", undetermined, UNDETERMINED)
    result = _pre2022(*_countries(birth_country, mother_birth_country, father_birth_country))
    return settle(result, undetermined, lambda r: r[1])


def migration_origin_country(
    birth_country: Any,
    mother_birth_country: Any,
    father_birth_country: Any,
    *,
    undetermined: Undetermined = "raise",
) -> str | None:
    """The CBS pre-2022 country of origin (canonical code); ``"NL"`` for a Dutch background.

    Same rule and arguments as :func:`migration_background`.
    """
    check_option("undetermined", undetermined, UNDETERMINED)
    result = _pre2022(*_countries(birth_country, mother_birth_country, father_birth_country))
    return settle(result, undetermined, lambda r: r[0] or NETHERLANDS)


def origin_country_2022(
    birth_country: Any,
    mother_birth_country: Any,
    father_birth_country: Any,
    *,
    undetermined: Undetermined = "raise",
) -> str | None:
    """The CBS 2022 origin country ("herkomstland") as a canonical code (``"NL"`` for Dutch).

    Own country if born abroad; otherwise the mother's if born abroad, otherwise the father's.
    ``undetermined`` as in :func:`migration_background` (the student's own country is required).

    Examples
    --------
    >>> origin_country_2022("Duitsland", "NL", "NL")  # born abroad: own country decides
    'DE'
    >>> origin_country_2022("NL", "NL", "Marokko")
    'MA'
    """
    check_option("undetermined", undetermined, UNDETERMINED)
    countries = _countries(birth_country, mother_birth_country, father_birth_country)
    return settle(_origin_country_2022(*countries), undetermined)


def origin_2022(
    birth_country: Any,
    mother_birth_country: Any,
    father_birth_country: Any,
    *,
    undetermined: Undetermined = "raise",
) -> Origin2022 | None:
    """CBS 2022 origin: Nederland / Europa (exclusief Nederland) / Buiten-Europa."""
    group = origin_group_2022(
        birth_country, mother_birth_country, father_birth_country, undetermined=undetermined
    )
    return None if group is None else group.origin


def origin_group_2022(
    birth_country: Any,
    mother_birth_country: Any,
    father_birth_country: Any,
    *,
    undetermined: Undetermined = "raise",
) -> OriginGroup2022 | None:
    """CBS 2022 origin at the level that names Turkey, Morocco, Suriname, the Dutch Caribbean
    and Indonesia, with Africa, Asia and America/Oceania for the rest."""
    check_option("undetermined", undetermined, UNDETERMINED)
    countries = _countries(birth_country, mother_birth_country, father_birth_country)
    return settle(_origin_country_2022(*countries), undetermined, _group_2022)


# --------------------------------------------------------------------------------------------
# Many students at once.


def _normalize_column(
    values: pd.Series,
    column: str,
    normalize: Callable[[Any], Any],
    problems: list[Problem],
    source: str | None,
) -> np.ndarray:
    """Canonical values of one column (object array, None when missing); bad cells -> problems."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    canonical = np.empty(len(uniques) + 1, dtype=object)  # the last slot serves code -1 (NaN)
    canonical[-1] = None
    for i, raw in enumerate(uniques):
        try:
            canonical[i] = normalize(raw)
        except ClassificationError as error:
            canonical[i] = None
            # the message already quotes the value, so Problem.value stays empty
            for position in np.flatnonzero(codes == i):
                problems.append(Problem(str(error), source, int(position) + 1, column))
    return canonical[codes]


def _combinations(
    arrays: tuple[np.ndarray, ...], restore: Callable[[Any], Any]
) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
    """Row -> combination index, and the distinct combinations of canonical values."""
    key = np.zeros(len(arrays[0]), dtype=np.int64)
    levels = []
    for array in arrays:
        codes, uniques = pd.factorize(array, use_na_sentinel=True)
        key = key * (len(uniques) + 1) + (codes + 1)
        levels.append([None, *(restore(u) for u in uniques)])
    index, keys = pd.factorize(key)
    combos = []
    for value in keys.tolist():
        digits = []
        for level in reversed(levels):
            value, digit = divmod(value, len(level))
            digits.append(level[digit])
        combos.append(tuple(reversed(digits)))
    return index, combos


def _categorical(values: list[Any], index: np.ndarray, categories: list[str]) -> pd.Categorical:
    """Per-combination values (None when undecided) spread over the rows as a categorical."""
    position = {category: i for i, category in enumerate(categories)}
    codes = np.array([-1 if v is None else position[str(v)] for v in values], dtype=np.int64)
    return pd.Categorical.from_codes(codes[index], categories=categories)


def classify_background(
    frame: pd.DataFrame,
    *,
    ses_rule: SesRule = "pupil_weight",
    ses_threshold: EducationLevel | str = EducationLevel.PREVOCATIONAL_THEORETICAL,
    undetermined: Undetermined = "raise",
    source: str | None = None,
) -> pd.DataFrame:
    """Derive every background group for many students at once.

    Each distinct combination of (normalised) raw values is classified once by the same rules as
    the one-student functions and the results are mapped back to the rows, so the cost grows
    with the number of distinct combinations, not of students.

    Parameters
    ----------
    frame
        One row per student with columns ``birth_country, mother_birth_country,
        father_birth_country, mother_education, father_education`` (other columns are ignored).
    ses_rule, ses_threshold
        The low-SES rule and its threshold, as in :func:`low_ses`.
    undetermined
        ``"raise"`` (default): rows the rules cannot decide are reported as problems.
        ``"missing"``: their groups are left missing (NaN / ``pandas.NA``).
    source
        A file or table name to show in problem messages.

    Returns
    -------
    pandas.DataFrame
        Same index as ``frame``, with columns ``migration_background``,
        ``migration_generation`` (categoricals), ``migration_origin_country``,
        ``non_western``, ``turkish_moroccan`` (bool), ``origin_2022``, ``origin_group_2022``
        (categoricals), ``origin_country_2022``, ``pupil_weight`` (float) and ``low_ses``
        (bool). With ``undetermined="missing"`` the bool columns have the nullable
        ``"boolean"`` dtype so that undecided rows can be missing.

    Raises
    ------
    ValidationError
        Listing every unknown country, unknown education level and (with
        ``undetermined="raise"``) undecidable row, with its 1-based row and column.
    """
    check_option("ses_rule", ses_rule, SES_RULES)
    check_option("undetermined", undetermined, UNDETERMINED)
    threshold = education_threshold(ses_threshold)
    what = source or "background data"
    absent = [column for column in BACKGROUND_COLUMNS if column not in frame.columns]
    if absent:
        raise ValidationError(
            [
                Problem(
                    f"column {column!r} is missing; add it (leave cells empty where a value is "
                    "unknown)",
                    source,
                    column=column,
                )
                for column in absent
            ],
            what=what,
        )

    problems: list[Problem] = []
    own, mother, father = (
        _normalize_column(frame[c], c, normalize_country, problems, source)
        for c in BACKGROUND_COLUMNS[:3]
    )
    mother_edu, father_edu = (
        _normalize_column(frame[c], c, normalize_education, problems, source)
        for c in BACKGROUND_COLUMNS[3:]
    )

    country_index, country_combos = _combinations((own, mother, father), str)
    pre = [_pre2022(*combo) for combo in country_combos]
    post = [_origin_country_2022(*combo) for combo in country_combos]
    ses_index, ses_combos = _combinations((mother_edu, father_edu), normalize_education)
    weights = [pupil_weight_rule(*combo) for combo in ses_combos]
    lows = [low_ses_rule(*combo, ses_rule, threshold) for combo in ses_combos]

    if undetermined == "raise":
        # a row with an unreadable cell is reported for that cell only, not as undecidable too
        unreadable = np.zeros(len(frame), dtype=bool)
        unreadable[[p.row - 1 for p in problems if p.row is not None]] = True
        for index, results in ((country_index, (pre, post)), (ses_index, (weights, lows))):
            gaps: dict[int, list[Gap]] = {}
            for result_list in results:
                for i, result in enumerate(result_list):
                    if not isinstance(result, Gap):
                        continue
                    found = gaps.setdefault(i, [])
                    # one problem per cell: the first rule that needs it explains why
                    if result.column not in {g.column for g in found}:
                        found.append(result)
            if not gaps:
                continue
            for position in np.flatnonzero(np.isin(index, list(gaps)) & ~unreadable):
                for gap in gaps[int(index[position])]:
                    message = f"{gap.reason}, or pass undetermined='missing'"
                    problems.append(Problem(message, source, int(position) + 1, gap.column))
    if problems:
        problems.sort(key=lambda p: (p.row or 0, BACKGROUND_COLUMNS.index(p.column or "")))
        raise ValidationError(problems, what=what)

    def known(result: Any) -> bool:
        return not isinstance(result, Gap)

    groups = [_group_pre2022(r[0]) if known(r) else None for r in pre]
    groups_2022 = [_group_2022(r) if known(r) else None for r in post]
    nullable = undetermined == "missing"

    def flags(values: list[bool | None], index: np.ndarray) -> pd.api.extensions.ExtensionArray:
        per_combo = pd.array([*values, None], dtype="boolean")
        taken = per_combo.take(index) if len(index) else pd.array([], dtype="boolean")
        return taken if nullable else taken.to_numpy(dtype=bool)

    def texts(values: list[str | None], index: np.ndarray) -> np.ndarray:
        per_combo = np.array([*values, None], dtype=object)
        return per_combo[index]

    result = pd.DataFrame(index=frame.index)
    result["migration_background"] = _categorical(
        groups, country_index, [g.value for g in MigrationBackground]
    )
    result["migration_generation"] = _categorical(
        [r[1] if known(r) else None for r in pre], country_index, ["none", "first", "second"]
    )
    result["migration_origin_country"] = texts(
        [(r[0] or NETHERLANDS) if known(r) else None for r in pre], country_index
    )
    result["non_western"] = flags(
        [None if g is None else g.is_non_western for g in groups], country_index
    )
    result["turkish_moroccan"] = flags(
        [None if g is None else g.is_turkish_moroccan for g in groups], country_index
    )
    result["origin_2022"] = _categorical(
        [None if g is None else g.origin for g in groups_2022],
        country_index,
        [o.value for o in Origin2022],
    )
    result["origin_group_2022"] = _categorical(
        groups_2022, country_index, [g.value for g in OriginGroup2022]
    )
    result["origin_country_2022"] = texts([r if known(r) else None for r in post], country_index)
    weight_per_combo = np.array([w if known(w) else np.nan for w in weights] + [np.nan])
    result["pupil_weight"] = weight_per_combo[ses_index].astype(float)
    result["low_ses"] = flags([v if known(v) else None for v in lows], ses_index)
    return result
