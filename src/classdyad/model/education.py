"""Parents' education levels and the low-SES rules built on them.

Education is stored raw (a label typed by a school or a parent) and mapped to five ordered
levels by :func:`normalize_education`. Low SES is derived by a configurable rule.

Dutch pupil-weight rule (gewichtenregeling basisonderwijs, 2006 until 2019)
    Parents' education falls in three categories: (1) at most basisonderwijs or (voortgezet)
    speciaal onderwijs (zmlk); (2) at most lbo/vbo, praktijkonderwijs or vmbo basis- or
    kaderberoepsgerichte leerweg; (3) anything higher. Weight 1.2: one parent in category 1 and
    the other in category 1 or 2; weight 0.3: both parents in category 2, or the parent who is
    charged with the child's daily care in category 2; weight 0 otherwise (Ministerie van OCW,
    "Wat is de gewichtenregeling in het basisonderwijs?",
    http://ocw.rijksopenheid.nl/7089/wat-is-de-gewichtenregeling-in-het-basisonderwijs; Vensters,
    begrip "Leerlinggewicht",
    https://encyclopedie.vensters.nl/begrip/a5c3f360-fcd2-4450-9dbb-719932f99569/Leerlinggewicht).
    With one parent known (a one-parent family), that parent alone decides: category 1 gives 1.2
    (OCW's table: "maximaal basisonderwijs of (v)so-zmlk (1 of beide ouders)"), category 2 gives
    0.3. A student counts as low SES when the weight is 0.3 or 1.2.

Highest parent at most a threshold
    ``rule="highest_parent_at_most"`` calls a student low SES when no known parent's level is
    above ``threshold`` (default: prevocational theoretical, i.e. no parent with havo, vwo, mbo or
    more).

Levels
    ``primary``: at most basisonderwijs or (voortgezet) speciaal onderwijs;
    ``prevocational_basic``: lbo/vbo, praktijkonderwijs, vmbo basis/kader;
    ``prevocational_theoretical``: vmbo gemengd/theoretisch, mavo; ``upper_secondary``: havo, vwo,
    mbo; ``higher``: hbo, wo. Pupil-weight category 1 is ``primary``, category 2
    ``prevocational_basic``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, Literal

from classdyad.errors import ClassificationError, check_option
from classdyad.model.countries import is_missing_value, text_key

__all__ = [
    "EducationLevel",
    "SesRule",
    "Undetermined",
    "low_ses",
    "normalize_education",
    "pupil_weight",
]

SesRule = Literal["pupil_weight", "highest_parent_at_most"]
Undetermined = Literal["raise", "missing"]

SES_RULES: tuple[str, ...] = ("pupil_weight", "highest_parent_at_most")
UNDETERMINED: tuple[str, ...] = ("raise", "missing")


class Gap:
    """An undetermined rule outcome: the column that must be filled in, and why."""

    __slots__ = ("column", "reason")

    def __init__(self, column: str, reason: str):
        self.column = column
        self.reason = reason


def settle(result: Any, undetermined: str, convert: Callable[[Any], Any] = lambda r: r) -> Any:
    """Convert a rule outcome, or handle a :class:`Gap` as ``undetermined`` asks."""
    if isinstance(result, Gap):
        if undetermined == "raise":
            raise ClassificationError(
                f"{result.reason}, or pass undetermined='missing' to get None"
            )
        return None
    return convert(result)


class EducationLevel(StrEnum):
    """A parent's highest completed education, ordered lowest to highest.

    Members compare by level (``PRIMARY < HIGHER``), not alphabetically.
    """

    PRIMARY = "primary"
    PREVOCATIONAL_BASIC = "prevocational_basic"
    PREVOCATIONAL_THEORETICAL = "prevocational_theoretical"
    UPPER_SECONDARY = "upper_secondary"
    HIGHER = "higher"

    @property
    def rank(self) -> int:
        """0 for ``PRIMARY`` up to 4 for ``HIGHER``."""
        return list(EducationLevel).index(self)

    def _other_rank(self, other: object) -> int:
        if not isinstance(other, EducationLevel):
            raise TypeError(
                f"cannot compare EducationLevel with {type(other).__name__}; "
                "convert it first with normalize_education()"
            )
        return other.rank

    def __lt__(self, other: object) -> bool:
        return self.rank < self._other_rank(other)

    def __le__(self, other: object) -> bool:
        return self.rank <= self._other_rank(other)

    def __gt__(self, other: object) -> bool:
        return self.rank > self._other_rank(other)

    def __ge__(self, other: object) -> bool:
        return self.rank >= self._other_rank(other)


_EDUCATION_LABELS: dict[EducationLevel, tuple[str, ...]] = {
    EducationLevel.PRIMARY: (
        "basisonderwijs", "basisschool", "lagere school", "lager onderwijs", "geen opleiding",
        "geen onderwijs", "geen", "none", "no education", "no schooling", "primary school",
        "primary education", "elementary school", "speciaal onderwijs", "so", "vso",
        "voortgezet speciaal onderwijs", "(v)so", "(v)so-zmlk", "so-zmlk", "vso-zmlk", "zmlk",
        "special education",
    ),
    EducationLevel.PREVOCATIONAL_BASIC: (
        "prevocational basic", "lbo", "vbo", "lbo/vbo", "praktijkonderwijs", "pro", "vmbo-bb",
        "vmbo-kb", "vmbo-bk", "vmbo basis", "vmbo kader", "vmbo basis/kader",
        "vmbo basisberoepsgerichte leerweg", "vmbo kaderberoepsgerichte leerweg", "lts", "leao",
        "lhno", "lagere technische school", "huishoudschool", "ambachtsschool",
        "lower vocational", "lower vocational education",
    ),
    EducationLevel.PREVOCATIONAL_THEORETICAL: (
        "prevocational theoretical", "vmbo-gt", "vmbo-tl", "vmbo-gl", "vmbo-t", "vmbo-g",
        "vmbo theoretische leerweg", "vmbo gemengde leerweg", "mavo", "mulo", "ulo", "(m)ulo",
    ),
    EducationLevel.UPPER_SECONDARY: (
        "upper secondary", "havo", "vwo", "atheneum", "gymnasium", "hbs", "mms", "mbo", "mbo-2",
        "mbo-3", "mbo-4", "mts", "meao", "middelbaar beroepsonderwijs", "high school",
        "upper secondary education",
    ),
    EducationLevel.HIGHER: (
        "hbo", "wo", "hbo/wo", "universiteit", "university", "hogeschool",
        "hoger beroepsonderwijs", "wetenschappelijk onderwijs", "hoger onderwijs",
        "higher education", "tertiary", "bachelor", "master", "phd", "doctorate",
    ),
}  # fmt: skip

_EDUCATION_BY_KEY: dict[str, EducationLevel] = {}
for _level, _labels in _EDUCATION_LABELS.items():
    for _label in (_level.value, *_labels):
        _EDUCATION_BY_KEY[text_key(_label)] = _level

_ALLOWED_EDUCATION = (
    "use one of 'primary', 'prevocational_basic', 'prevocational_theoretical', "
    "'upper_secondary', 'higher' or a Dutch label such as 'basisonderwijs', 'vmbo-bk', 'mavo', "
    "'havo', 'mbo', 'hbo', 'wo'"
)


def normalize_education(value: Any) -> EducationLevel | None:
    """Return the :class:`EducationLevel` of a raw education label (``None`` when missing).

    Parameters
    ----------
    value
        An :class:`EducationLevel`, its value (``"upper_secondary"``) or a common Dutch or English
        label (``"basisonderwijs"``, ``"vmbo-bk"``, ``"lbo"``, ``"mavo"``, ``"havo"``, ``"mbo"``,
        ``"hbo"``, ``"wo"``, ``"university"``); case, diacritics and punctuation are ignored.

    Raises
    ------
    ClassificationError
        An unknown or ambiguous label (plain ``"vmbo"`` does not say which track); the message
        lists the allowed values.
    """
    if isinstance(value, EducationLevel):
        return value
    if is_missing_value(value):
        return None
    if not isinstance(value, str):
        raise ClassificationError(f"{value!r} is not an education level; {_ALLOWED_EDUCATION}")
    key = text_key(value)
    if key == "vmbo":
        raise ClassificationError(
            f"{value!r} is ambiguous: vmbo basis/kader (vmbo-bk) is 'prevocational_basic', "
            "vmbo gemengd/theoretisch (vmbo-gt) is 'prevocational_theoretical'; say which"
        )
    level = _EDUCATION_BY_KEY.get(key)
    if level is None:
        raise ClassificationError(f"{value!r} is not a known education level; {_ALLOWED_EDUCATION}")
    return level


_NO_PARENT_EDUCATION = Gap(
    "mother_education",
    "neither parent's education level is known, so SES cannot be derived; fill in "
    "mother_education or father_education",
)


def pupil_weight_rule(mother: EducationLevel | None, father: EducationLevel | None) -> float | Gap:
    """The pupil-weight rule on normalised levels (a :class:`Gap` when neither is known)."""
    known = sorted(level for level in (mother, father) if level is not None)
    if not known:
        return _NO_PARENT_EDUCATION
    lowest, highest = known[0], known[-1]
    if highest > EducationLevel.PREVOCATIONAL_BASIC:
        return 0.0
    return 1.2 if lowest == EducationLevel.PRIMARY else 0.3


def low_ses_rule(
    mother: EducationLevel | None,
    father: EducationLevel | None,
    rule: str,
    threshold: EducationLevel,
) -> bool | Gap:
    """A low-SES rule on normalised levels (a :class:`Gap` when neither is known)."""
    if rule == "pupil_weight":
        weight = pupil_weight_rule(mother, father)
        return weight if isinstance(weight, Gap) else weight > 0
    known = [level for level in (mother, father) if level is not None]
    if not known:
        return _NO_PARENT_EDUCATION
    return max(known) <= threshold


def pupil_weight(
    mother_education: Any,
    father_education: Any,
    *,
    undetermined: Undetermined = "raise",
) -> float:
    """The Dutch pupil weight (0, 0.3 or 1.2) from the parents' education levels.

    Parameters
    ----------
    mother_education, father_education
        Education levels in any form :func:`normalize_education` accepts; one may be missing
        (a one-parent family: that parent decides).
    undetermined
        ``"raise"`` (default) raises when neither level is known; ``"missing"`` returns NaN.

    Examples
    --------
    >>> pupil_weight("basisonderwijs", "vmbo-bk"), pupil_weight("lbo", "lbo")
    (1.2, 0.3)
    >>> pupil_weight("basisonderwijs", "havo")
    0.0
    """
    check_option("undetermined", undetermined, UNDETERMINED)
    mother, father = normalize_education(mother_education), normalize_education(father_education)
    result = pupil_weight_rule(mother, father)
    settled = settle(result, undetermined)
    return float("nan") if settled is None else settled


def low_ses(
    mother_education: Any,
    father_education: Any,
    *,
    rule: SesRule = "pupil_weight",
    threshold: EducationLevel | str = EducationLevel.PREVOCATIONAL_THEORETICAL,
    undetermined: Undetermined = "raise",
) -> bool | None:
    """Whether a student counts as low SES by a configurable rule on the parents' education.

    Parameters
    ----------
    mother_education, father_education
        Education levels (one may be missing).
    rule
        ``"pupil_weight"`` (default): low SES when the pupil weight is 0.3 or 1.2.
        ``"highest_parent_at_most"``: low SES when no known parent's level is above
        ``threshold``.
    threshold
        The highest level still counted as low SES by ``"highest_parent_at_most"``; default
        ``"prevocational_theoretical"`` (no parent beyond vmbo/mavo). Ignored by the
        pupil-weight rule.
    undetermined
        ``"raise"`` (default) or ``"missing"`` (return ``None``) when neither level is known.
    """
    check_option("rule", rule, SES_RULES)
    check_option("undetermined", undetermined, UNDETERMINED)
    limit = education_threshold(threshold)
    mother, father = normalize_education(mother_education), normalize_education(father_education)
    return settle(low_ses_rule(mother, father, rule, limit), undetermined)


def education_threshold(threshold: EducationLevel | str) -> EducationLevel:
    """Normalise a threshold level; a threshold cannot be missing."""
    level = normalize_education(threshold)
    if level is None:
        raise ClassificationError("threshold is missing; give an education level")
    return level
