"""Education levels, the Dutch pupil-weight rule and the configurable low-SES rules."""

from __future__ import annotations

import math

import pytest

from classdyad.errors import ClassificationError, OptionError
from classdyad.model.education import EducationLevel, low_ses, normalize_education, pupil_weight

P, PB, PT, US, H = (
    EducationLevel.PRIMARY,
    EducationLevel.PREVOCATIONAL_BASIC,
    EducationLevel.PREVOCATIONAL_THEORETICAL,
    EducationLevel.UPPER_SECONDARY,
    EducationLevel.HIGHER,
)


@pytest.mark.parametrize(
    ("label", "level"),
    [
        ("basisonderwijs", P),
        ("Basisschool", P),
        ("(v)so-zmlk", P),
        ("speciaal onderwijs", P),
        ("geen opleiding", P),
        ("primary", P),
        ("lbo", PB),
        ("VBO", PB),
        ("praktijkonderwijs", PB),
        ("vmbo-bk", PB),
        ("vmbo bb", PB),
        ("vmbo-kb", PB),
        ("mavo", PT),
        ("vmbo-gt", PT),
        ("vmbo-tl", PT),
        ("havo", US),
        ("vwo", US),
        ("mbo", US),
        ("gymnasium", US),
        ("hbo", H),
        ("wo", H),
        ("WO", H),
        ("university", H),
        ("universiteit", H),
        ("upper_secondary", US),
        (EducationLevel.HIGHER, H),
    ],
)
def test_labels_map_to_levels(label, level):
    assert normalize_education(label) is level


@pytest.mark.parametrize("value", [None, float("nan"), "", "onbekend", "unknown"])
def test_missing_education_is_none(value):
    assert normalize_education(value) is None


@pytest.mark.parametrize("value", ["doctoraal?", "level 7", 3, True, "postdoc in space"])
def test_impossible_education_lists_the_allowed_values(value):
    with pytest.raises(ClassificationError) as caught:
        normalize_education(value)
    message = str(caught.value)
    assert "is not" in message
    for allowed in ("primary", "prevocational_basic", "upper_secondary", "higher"):
        assert allowed in message


def test_plain_vmbo_is_ambiguous_and_says_which_tracks_exist():
    with pytest.raises(ClassificationError, match=r"vmbo-bk.*vmbo-gt"):
        normalize_education("vmbo")


def test_levels_are_ordered_by_level_not_alphabet():
    assert P < PB < PT < US < H
    assert sorted([H, P, US, PB, PT]) == [P, PB, PT, US, H]
    assert max(PB, US) is US
    assert [level.rank for level in EducationLevel] == [0, 1, 2, 3, 4]
    with pytest.raises(TypeError, match="normalize_education"):
        _ = P < "higher"


# The gewichtenregeling table. Category 1 = primary, 2 = prevocational basic, 3 = higher than that.
PUPIL_WEIGHT_TABLE = [
    (P, P, 1.2),
    (P, PB, 1.2),
    (PB, P, 1.2),
    (PB, PB, 0.3),
    (P, PT, 0.0),
    (PT, P, 0.0),
    (PB, PT, 0.0),
    (P, US, 0.0),
    (P, H, 0.0),
    (PT, PT, 0.0),
    (US, H, 0.0),
    (H, H, 0.0),
    # one parent known (a one-parent family): that parent decides
    (P, None, 1.2),
    (None, P, 1.2),
    (PB, None, 0.3),
    (None, PB, 0.3),
    (PT, None, 0.0),
    (None, H, 0.0),
]


@pytest.mark.parametrize(("mother", "father", "weight"), PUPIL_WEIGHT_TABLE)
def test_pupil_weight_table(mother, father, weight):
    assert pupil_weight(mother, father) == weight


def test_pupil_weight_accepts_raw_labels():
    assert pupil_weight("basisonderwijs", "vmbo-bk") == 1.2
    assert pupil_weight("lbo", "praktijkonderwijs") == 0.3
    assert pupil_weight("lbo", "mavo") == 0.0


def test_pupil_weight_with_no_parent_known():
    with pytest.raises(ClassificationError, match="undetermined='missing'"):
        pupil_weight(None, None)
    assert math.isnan(pupil_weight(None, "", undetermined="missing"))


@pytest.mark.parametrize(("mother", "father", "weight"), PUPIL_WEIGHT_TABLE)
def test_low_ses_by_pupil_weight_is_weight_above_zero(mother, father, weight):
    assert low_ses(mother, father) is (weight > 0)


@pytest.mark.parametrize(
    ("mother", "father", "threshold", "expected"),
    [
        (PT, PB, PT, True),
        (PT, US, PT, False),
        (US, None, PT, False),
        (PT, None, PT, True),
        (US, US, "havo", True),
        (H, US, "upper_secondary", False),
        (PB, PB, "lbo", True),
        (PB, PT, "lbo", False),
    ],
)
def test_low_ses_highest_parent_at_most(mother, father, threshold, expected):
    got = low_ses(mother, father, rule="highest_parent_at_most", threshold=threshold)
    assert got is expected


def test_low_ses_options_are_checked():
    with pytest.raises(OptionError, match="'pupil_weight', 'highest_parent_at_most'"):
        low_ses(P, P, rule="pupil")
    with pytest.raises(OptionError):
        low_ses(P, P, undetermined="skip")
    assert low_ses(None, None, undetermined="missing") is None
