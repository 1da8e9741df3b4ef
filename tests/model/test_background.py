"""CBS migration background (pre-2022), CBS 2022 origin, and classify_background on a frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classdyad.errors import ClassificationError, OptionError, ValidationError
from classdyad.model.background import (
    BACKGROUND_COLUMNS,
    MigrationBackground,
    Origin2022,
    OriginGroup2022,
    classify_background,
    low_ses,
    migration_background,
    migration_generation,
    migration_origin_country,
    origin_2022,
    origin_country_2022,
    origin_group_2022,
    pupil_weight,
)
from classdyad.model.countries import country_info

MB = MigrationBackground


def classify(own, mother, father):
    return (
        migration_background(own, mother, father),
        migration_generation(own, mother, father),
        migration_origin_country(own, mother, father),
    )


# --- CBS pre-2022 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("own", "mother", "father", "expected"),
    [
        # both parents born in NL: Dutch, wherever the student was born
        ("NL", "NL", "NL", (MB.DUTCH, "none", "NL")),
        ("Duitsland", "NL", "NL", (MB.DUTCH, "none", "NL")),
        ("Marokko", "Nederland", "Nederland", (MB.DUTCH, "none", "NL")),
        # Indonesia and Japan are western
        ("NL", "Indonesië", "NL", (MB.WESTERN, "second", "ID")),
        ("Japan", "Japan", "Japan", (MB.WESTERN, "first", "JP")),
        # Turkey is non-western (and Turkish)
        ("NL", "Turkije", "Turkije", (MB.TURKISH, "second", "TR")),
        # the mother's country decides when both parents were born abroad
        ("NL", "Marokko", "Turkije", (MB.MOROCCAN, "second", "MA")),
        ("NL", "Duitsland", "Marokko", (MB.WESTERN, "second", "DE")),
        ("NL", "Suriname", "Polen", (MB.SURINAMESE, "second", "SR")),
        # only the father born abroad: the father's country decides
        ("NL", "NL", "Marokko", (MB.MOROCCAN, "second", "MA")),
        ("NL", "NL", "VS", (MB.WESTERN, "second", "US")),
        # first generation: the own country decides, whatever the parents'
        ("Duitsland", "Marokko", "NL", (MB.WESTERN, "first", "DE")),
        ("Turkije", "NL", "Duitsland", (MB.TURKISH, "first", "TR")),
        # Suriname and the Caribbean parts of the Kingdom
        ("Suriname", "Suriname", "Suriname", (MB.SURINAMESE, "first", "SR")),
        ("NL", "Curaçao", "NL", (MB.ANTILLEAN_ARUBAN, "second", "CW")),
        ("NL", "NL", "Aruba", (MB.ANTILLEAN_ARUBAN, "second", "AW")),
        ("NL", "Nederlandse Antillen", "NL", (MB.ANTILLEAN_ARUBAN, "second", "AN")),
        ("Bonaire", "Bonaire", "NL", (MB.ANTILLEAN_ARUBAN, "first", "BQ")),
        ("NL", "Sint Maarten", "Sint Maarten", (MB.ANTILLEAN_ARUBAN, "second", "SX")),
        # other non-western
        ("NL", "Syrië", "Syrië", (MB.OTHER_NON_WESTERN, "second", "SY")),
        ("NL", "Brazilië", "NL", (MB.OTHER_NON_WESTERN, "second", "BR")),
        # former countries
        ("NL", "Joegoslavië", "NL", (MB.WESTERN, "second", "YU")),
        ("Sovjet-Unie", "Sovjet-Unie", "Sovjet-Unie", (MB.WESTERN, "first", "SU")),
        # an unknown parent is left out: the known one decides
        ("NL", None, "Marokko", (MB.MOROCCAN, "second", "MA")),
        ("NL", "Turkije", None, (MB.TURKISH, "second", "TR")),
        ("NL", "NL", None, (MB.DUTCH, "none", "NL")),
        ("NL", "onbekend", "NL", (MB.DUTCH, "none", "NL")),
        # own country unknown but both parents born in NL: Dutch all the same
        (None, "NL", "NL", (MB.DUTCH, "none", "NL")),
    ],
)
def test_pre2022_tricky_cases(own, mother, father, expected):
    assert classify(own, mother, father) == expected


def test_codes_and_names_in_both_languages_agree():
    spellings = [
        ("NL", "MA", "TR"),
        ("NLD", "MAR", "TUR"),
        ("528", 504, "792"),
        ("Nederland", "Marokko", "Turkije"),
        ("Netherlands", "Morocco", "Turkey"),
        ("nederland", "MAROKKO", "Türkiye"),
    ]
    results = {classify(*triple) for triple in spellings}
    results_2022 = {origin_group_2022(*triple) for triple in spellings}
    assert results == {(MB.MOROCCAN, "second", "MA")}
    assert results_2022 == {OriginGroup2022.MOROCCO}


@pytest.mark.parametrize(
    ("own", "mother", "father", "column"),
    [
        ("NL", None, None, "mother_birth_country"),
        (None, "Marokko", "NL", "birth_country"),
    ],
)
def test_undecidable_pre2022_cases(own, mother, father, column):
    with pytest.raises(ClassificationError, match=column):
        migration_background(own, mother, father)
    assert migration_background(own, mother, father, undetermined="missing") is None
    assert migration_generation(own, mother, father, undetermined="missing") is None


def test_unknown_country_in_a_rule_names_it():
    with pytest.raises(ClassificationError, match=r"'Marokko\?' is not a known country"):
        migration_background("NL", "Marokko?", "NL")


def test_group_properties():
    non_western = {g for g in MB if g.is_non_western}
    assert non_western == {
        MB.TURKISH,
        MB.MOROCCAN,
        MB.SURINAMESE,
        MB.ANTILLEAN_ARUBAN,
        MB.OTHER_NON_WESTERN,
    }
    assert {g for g in MB if g.is_turkish_moroccan} == {MB.TURKISH, MB.MOROCCAN}


# --- CBS 2022 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("own", "mother", "father", "country", "group"),
    [
        ("NL", "NL", "NL", "NL", OriginGroup2022.NETHERLANDS),
        # born abroad: own country, even with two Dutch-born parents (differs from pre-2022)
        ("Duitsland", "NL", "NL", "DE", OriginGroup2022.EUROPE),
        ("Marokko", "NL", "NL", "MA", OriginGroup2022.MOROCCO),
        # born in NL: mother's country if she was born abroad, otherwise the father's
        ("NL", "Turkije", "Marokko", "TR", OriginGroup2022.TURKEY),
        ("NL", "NL", "Suriname", "SR", OriginGroup2022.SURINAME),
        ("NL", None, "Suriname", "SR", OriginGroup2022.SURINAME),
        ("NL", "NL", None, "NL", OriginGroup2022.NETHERLANDS),
        ("NL", "Curaçao", "NL", "CW", OriginGroup2022.DUTCH_CARIBBEAN),
        ("NL", "Nederlandse Antillen", "NL", "AN", OriginGroup2022.DUTCH_CARIBBEAN),
        ("NL", "Indonesië", "NL", "ID", OriginGroup2022.INDONESIA),
        ("NL", "Japan", "NL", "JP", OriginGroup2022.ASIA),
        ("NL", "Syrië", "NL", "SY", OriginGroup2022.ASIA),
        ("NL", "Armenië", "NL", "AM", OriginGroup2022.ASIA),
        ("NL", "Ghana", "NL", "GH", OriginGroup2022.AFRICA),
        ("NL", "VS", "NL", "US", OriginGroup2022.AMERICA_OCEANIA),
        ("NL", "Brazilië", "NL", "BR", OriginGroup2022.AMERICA_OCEANIA),
        ("NL", "Australië", "NL", "AU", OriginGroup2022.AMERICA_OCEANIA),
        ("NL", "Polen", "NL", "PL", OriginGroup2022.EUROPE),
        ("NL", "Rusland", "NL", "RU", OriginGroup2022.EUROPE),
    ],
)
def test_origin_2022_cases(own, mother, father, country, group):
    assert origin_country_2022(own, mother, father) == country
    assert origin_group_2022(own, mother, father) is group
    assert origin_2022(own, mother, father) is group.origin


def test_turkey_is_outside_europe_in_2022():
    assert origin_2022("Turkije", "Turkije", "Turkije") is Origin2022.OUTSIDE_EUROPE
    assert origin_2022("Duitsland", "Turkije", "Turkije") is Origin2022.EUROPE


def test_origin_2022_needs_the_students_own_country():
    with pytest.raises(ClassificationError, match="birth_country"):
        origin_2022(None, "NL", "NL")
    assert origin_country_2022(None, "NL", "NL", undetermined="missing") is None
    assert origin_2022("NL", None, None, undetermined="missing") is None


def test_options_are_checked():
    with pytest.raises(OptionError, match="'raise', 'missing'"):
        migration_background("NL", "NL", "NL", undetermined="ignore")


# --- classify_background ------------------------------------------------------------------------


def student_frame(rows):
    return pd.DataFrame(rows, columns=list(BACKGROUND_COLUMNS))


def test_classify_background_columns_and_values():
    frame = student_frame(
        [
            ("NL", "NL", "NL", "havo", "wo"),
            ("Nederland", "Marokko", "MA", "basisonderwijs", "vmbo-bk"),
            ("Duitsland", "NL", "NL", "lbo", "lbo"),
            ("NL", "Turkije", None, "lbo", None),
        ]
    ).set_axis(["s1", "s2", "s3", "s4"])
    result = classify_background(frame)
    assert list(result.index) == ["s1", "s2", "s3", "s4"]
    assert list(result["migration_background"]) == ["dutch", "moroccan", "dutch", "turkish"]
    assert list(result["migration_generation"]) == ["none", "second", "none", "second"]
    assert list(result["non_western"]) == [False, True, False, True]
    assert list(result["turkish_moroccan"]) == [False, True, False, True]
    assert list(result["origin_2022"]) == [
        "netherlands",
        "outside_europe",
        "europe_excluding_netherlands",
        "outside_europe",
    ]
    assert list(result["origin_country_2022"]) == ["NL", "MA", "DE", "TR"]
    assert list(result["pupil_weight"]) == [0.0, 1.2, 0.3, 0.3]
    assert list(result["low_ses"]) == [False, True, True, True]
    assert result["non_western"].dtype == bool and result["low_ses"].dtype == bool
    assert result["migration_background"].dtype == "category"


def test_classify_background_lists_every_bad_cell():
    frame = student_frame(
        [
            ("NL", "NL", "NL", "havo", "wo"),
            ("NL", "Marokko?", "NL", "havo", "wo"),
            ("Atlantis", "NL", "NL", "vmbo", "doctoraal?"),
            ("NL", None, None, None, None),
        ]
    )
    with pytest.raises(ValidationError) as caught:
        classify_background(frame, source="roster.csv")
    cells = [(p.row, p.column) for p in caught.value.problems]
    assert cells == [
        (2, "mother_birth_country"),
        (3, "birth_country"),
        (3, "mother_education"),
        (3, "father_education"),
        (4, "mother_birth_country"),
        (4, "mother_education"),
    ]
    message = str(caught.value)
    assert (
        "roster.csv, row 2, column mother_birth_country: 'Marokko?' is not a known country; "
        "use an ISO 3166 code or a CBS country name (closest: Marokko)"
    ) in message


def test_classify_background_missing_mode_keeps_undecided_rows():
    frame = student_frame(
        [("NL", None, None, None, None), ("NL", "NL", "Turkije", "lbo", "basisonderwijs")]
    )
    result = classify_background(frame, undetermined="missing")
    assert result["migration_background"].isna().tolist() == [True, False]
    assert result["low_ses"].dtype == "boolean"
    assert result["low_ses"].isna().tolist() == [True, False]
    assert np.isnan(result["pupil_weight"].iloc[0]) and result["pupil_weight"].iloc[1] == 1.2
    assert result["origin_country_2022"].isna().tolist() == [True, False]


def test_classify_background_reports_missing_columns():
    with pytest.raises(ValidationError, match="column 'father_education' is missing"):
        classify_background(student_frame([]).drop(columns="father_education"))


def test_classify_background_ses_rule_option():
    frame = student_frame([("NL", "NL", "NL", "mavo", "mavo")])
    assert not classify_background(frame)["low_ses"].iloc[0]
    by_threshold = classify_background(frame, ses_rule="highest_parent_at_most")
    assert by_threshold["low_ses"].iloc[0]
    with pytest.raises(OptionError):
        classify_background(frame, ses_rule="weights")


def test_classify_background_handles_150000_students():
    rng = np.random.default_rng(20260101)
    countries = np.array(["NL", "Nederland", "Marokko", "TR", "Suriname", "DE", "Curaçao", "JP"])
    education = np.array(["basisonderwijs", "lbo", "vmbo-bk", "mavo", "havo", "mbo", "hbo", None])
    n = 150_000
    frame = pd.DataFrame(
        {
            "birth_country": rng.choice(countries, n),
            "mother_birth_country": rng.choice(countries, n),
            "father_birth_country": rng.choice(countries, n),
            "mother_education": rng.choice(education, n),
            "father_education": rng.choice(education[:-1], n),
        }
    )
    result = classify_background(frame)
    assert len(result) == n
    assert result.index.equals(frame.index)
    assert result["migration_background"].notna().all()


COUNTRY_VALUES = ["NL", "Nederland", "528", "Marokko", "MAR", "Turkije", "Turkey", "Suriname"]
COUNTRY_VALUES += ["Curaçao", "Aruba", "Duitsland", "Indonesië", "JP", "Syrië", "VS", None, ""]
EDUCATION_VALUES = ["basisonderwijs", "lbo", "vmbo-bk", "mavo", "havo", "mbo", "hbo", "wo", None]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            *(st.sampled_from(COUNTRY_VALUES) for _ in range(3)),
            *(st.sampled_from(EDUCATION_VALUES) for _ in range(2)),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_classify_background_equals_the_row_functions(rows):
    result = classify_background(student_frame(rows), undetermined="missing")
    for position, (own, mother, father, mother_edu, father_edu) in enumerate(rows):
        got = result.iloc[position]
        group = migration_background(own, mother, father, undetermined="missing")
        assert (None if pd.isna(got["migration_background"]) else got["migration_background"]) == (
            None if group is None else group.value
        )
        generation = migration_generation(own, mother, father, undetermined="missing")
        assert (None if pd.isna(got["migration_generation"]) else got["migration_generation"]) == (
            generation
        )
        if group is not None:
            assert got["non_western"] == group.is_non_western
            assert got["turkish_moroccan"] == group.is_turkish_moroccan
        origin = origin_country_2022(own, mother, father, undetermined="missing")
        assert (None if pd.isna(got["origin_country_2022"]) else got["origin_country_2022"]) == (
            origin
        )
        weight = pupil_weight(mother_edu, father_edu, undetermined="missing")
        assert got["pupil_weight"] == weight or (np.isnan(weight) and np.isnan(got["pupil_weight"]))
        low = low_ses(mother_edu, father_edu, undetermined="missing")
        assert (None if pd.isna(got["low_ses"]) else bool(got["low_ses"])) == low


WESTERN_CODES = sorted(
    code for code in ("DE", "BE", "PL", "US", "AU", "ID", "JP", "SU", "YU") if country_info(code)
)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["NL", "TR", "MA", "SR", "CW", "AW", "AN", "SY", *WESTERN_CODES]),
    st.sampled_from(["NL", "TR", "MA", "SR", "CW", "DE", "ID", "JP", "BR"]),
    st.sampled_from(["NL", "TR", "MA", "SR", "CW", "DE", "ID", "JP", "BR"]),
    st.data(),
)
def test_any_valid_spelling_gives_the_same_classification(own, mother, father, data):
    def spell(code: str) -> str:
        info = country_info(code)
        assert info is not None
        spelling = data.draw(st.sampled_from(info.spellings))
        return data.draw(st.sampled_from([spelling, spelling.upper(), f" {spelling.lower()} "]))

    expected = (classify(own, mother, father), origin_group_2022(own, mother, father))
    spelled = (spell(own), spell(mother), spell(father))
    assert (classify(*spelled), origin_group_2022(*spelled)) == expected
