"""Country spellings, the country table and its agreement with its build script."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classdyad.errors import ClassificationError, DataError
from classdyad.model.countries import (
    CONTINENTS,
    country_info,
    country_table,
    normalize_country,
    text_key,
)

TABLE = country_table()


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("Marokko", "MA"),
        ("Morocco", "MA"),
        ("MA", "MA"),
        ("mar", "MA"),
        ("504", "MA"),
        (504, "MA"),
        (504.0, "MA"),
        (np.int64(504), "MA"),
        ("Turkije", "TR"),
        ("Turkey", "TR"),
        ("Türkiye", "TR"),
        ("Suriname", "SR"),
        ("Curaçao", "CW"),
        ("curacao", "CW"),
        ("  CURAÇAO ", "CW"),
        ("Nederlandse Antillen", "AN"),
        ("Netherlands Antilles", "AN"),
        ("ANT", "AN"),
        ("Aruba", "AW"),
        ("Bonaire/Sint Eustatius/Saba", "BQ"),
        ("Bonaire, Sint Eustatius en Saba", "BQ"),
        ("Caribisch Nederland", "BQ"),
        ("Sint Maarten", "SX"),
        ("Verenigde Staten", "US"),
        ("VS", "US"),
        ("USA", "US"),
        ("UK", "GB"),
        ("Groot-Brittannië", "GB"),
        ("Groot Brittannie", "GB"),
        ("Duitsland", "DE"),
        ("DDR", "DE"),
        ("België", "BE"),
        ("belgie", "BE"),
        ("Joegoslavië", "YU"),
        ("Sovjet-Unie", "SU"),
        ("Tsjecho-Slowakije", "CSHH"),
        ("Servië en Montenegro", "CSXX"),
        ("Nederland", "NL"),
        ("The Netherlands", "NL"),
        ("Holland", "NL"),
        (528, "NL"),
        ("Kosovo", "XK"),
        ("Zaïre", "CD"),
        ("Birma", "MM"),
        ("Nederlands-Indië", "ID"),
        ("Georgië", "GE"),
        ("Ivoorkust", "CI"),
        ("Côte d'Ivoire", "CI"),
        ("Congo", "CG"),
    ],
)
def test_spellings_give_the_canonical_code(value, code):
    assert normalize_country(value) == code


@pytest.mark.parametrize(
    "value", [None, float("nan"), np.nan, pd.NA, "", "   ", "onbekend", "Unknown"]
)
def test_missing_values_are_none(value):
    assert normalize_country(value) is None
    assert country_info(value) is None


def test_unknown_country_names_the_closest_spelling():
    with pytest.raises(ClassificationError) as caught:
        normalize_country("Marokko?")
    message = str(caught.value)
    assert message.startswith("'Marokko?' is not a known country")
    assert "use an ISO 3166 code or a CBS country name" in message
    assert "(closest: Marokko" in message
    assert isinstance(caught.value, DataError) and isinstance(caught.value, ValueError)


def test_unknown_country_without_close_spellings_still_says_how_to_fix():
    with pytest.raises(ClassificationError, match="use an ISO 3166 code"):
        normalize_country("Atlantis Prime 99")


@pytest.mark.parametrize("value", [True, 9999, 1.5, [1], ("NL",), "ZZ"])
def test_impossible_values_are_refused(value):
    with pytest.raises(ClassificationError):
        normalize_country(value)


def test_ambiguous_former_code_lists_both_choices():
    with pytest.raises(ClassificationError, match=r"Czechoslovakia.*Serbia and Montenegro"):
        normalize_country("CS")


def test_table_covers_every_iso_country_once():
    assert TABLE["code"].is_unique
    current = TABLE[TABLE["status"] == "iso3166-1"]
    assert len(current) == 249
    assert current["alpha3"].str.fullmatch(r"[A-Z]{3}").all()
    assert current["numeric"].str.fullmatch(r"\d{3}").all()
    assert set(TABLE["continent"]) <= set(CONTINENTS)


def test_every_spelling_in_the_table_maps_back_to_its_row():
    for code in TABLE["code"]:
        info = country_info(code)
        assert info is not None and info.code == code
        for spelling in info.spellings:
            assert normalize_country(spelling) == code, spelling


@pytest.mark.parametrize(
    ("code", "western", "continent"),
    [
        ("NL", True, "europe"),
        ("DE", True, "europe"),
        ("PL", True, "europe"),
        ("RU", True, "europe"),
        ("CY", True, "europe"),
        ("US", True, "north_america"),
        ("CA", True, "north_america"),
        ("AU", True, "oceania"),
        ("ID", True, "asia"),
        ("JP", True, "asia"),
        ("TR", False, "asia"),
        ("MA", False, "africa"),
        ("SR", False, "latin_america"),
        ("MX", False, "latin_america"),
        ("CW", False, "latin_america"),
        ("CN", False, "asia"),
        ("KZ", False, "asia"),
        ("AM", False, "asia"),
        ("SU", True, "europe"),
        ("YU", True, "europe"),
        ("AN", False, "latin_america"),
    ],
)
def test_regions_follow_the_cbs_definitions(code, western, continent):
    info = country_info(code)
    assert info is not None
    assert info.cbs_western is western
    assert info.continent == continent


def test_western_flag_is_the_cbs_rule_on_continents():
    # western = Europe (excl. Turkey), North America, Oceania, Indonesia, Japan
    expected = TABLE["continent"].isin(["europe", "north_america", "oceania"]) | TABLE["code"].isin(
        ["ID", "JP"]
    )
    assert (TABLE["cbs_western"] == expected).all()


def test_csv_is_what_the_build_script_produces():
    pytest.importorskip("pycountry")
    import importlib.util
    from pathlib import Path

    import classdyad.model

    script = Path(classdyad.model.__file__).parent / "data" / "build_countries.py"
    spec = importlib.util.spec_from_file_location("build_countries", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = files("classdyad.model").joinpath("data", "countries.csv").read_text("utf-8")
    assert module.render(module.build_rows()) == committed


def _variants(spelling: str):
    """Strategies for the same spelling with other case, spacing and diacritics."""
    folded = text_key(spelling)
    return st.sampled_from([spelling, spelling.upper(), spelling.lower(), f"  {spelling} ", folded])


SPELLINGS = [(code, s) for code in TABLE["code"] for s in country_info(code).spellings]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(SPELLINGS).flatmap(lambda pair: st.tuples(st.just(pair[0]), _variants(pair[1])))
)
def test_any_spelling_variant_gives_the_same_code(pair):
    code, variant = pair
    assert normalize_country(variant) == code


def test_text_key_folds_case_diacritics_and_punctuation():
    assert text_key(" Groot-Brittannië ") == "groot brittannie"
    assert text_key("Côte d'Ivoire") == "cote d ivoire"
    assert text_key("The Netherlands") == "netherlands"
    assert text_key("Marokko?") == "marokko?"
