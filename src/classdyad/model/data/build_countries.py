"""Build ``countries.csv``: ISO 3166 countries with Dutch names, aliases and CBS regions.

Run from the repository root (needs the ``pycountry`` package, listed in the ``dev`` extra)::

    python src/classdyad/model/data/build_countries.py

Sources
-------
- ISO 3166-1 codes and English names, ISO 3166-3 former countries, and Dutch names: the
  ``pycountry`` package (Debian ``iso-codes`` data and its Dutch translations).
- Continents: the UN M49 geoscheme (United Nations Statistics Division), with the placements
  that Statistics Netherlands (CBS) uses where they differ: Turkey in Asia (CBS's 2022 "herkomst"
  lists "Azië (exclusief Indonesië en Turkije)" under "Buiten-Europa"), Cyprus in Europe, the
  Caucasus and Central Asian republics in Asia, the Americas split into North America (Canada,
  the United States, Greenland, Bermuda, Saint Pierre and Miquelon) and Latin America.
- CBS pre-2022 western / non-western: western = Europe (excluding Turkey), North America,
  Oceania, Indonesia and Japan; everything else non-western.
- Dutch and English aliases (common short names, former names, CBS spellings): written here.

The library only reads the CSV; this script documents how it was made and lets a test check that
the committed file is what the script produces.
"""

from __future__ import annotations

import csv
import gettext
import io
import sys
from pathlib import Path

from classdyad.model.countries import text_key

HEADER_COMMENT = (
    "# ISO 3166 countries with Dutch names, aliases and CBS regions; built by "
    "build_countries.py (see README.md in this folder for sources and column meanings)"
)

COLUMNS = (
    "code",
    "alpha3",
    "numeric",
    "name_en",
    "name_nl",
    "aliases",
    "continent",
    "cbs_western",
    "status",
)

EUROPE = set(
    "AD AL AT AX BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI "
    "LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA XK".split()
)
NORTH_AMERICA = set("BM CA GL PM US".split())
LATIN_AMERICA = set(
    "AG AI AR AW BB BL BO BQ BR BS BV BZ CL CO CR CU CW DM DO EC FK GD GF GP GS GT GY HN HT JM KN "
    "KY LC MF MQ MS MX NI PA PE PR PY SR SV SX TC TT UY VC VE VG VI".split()
)
OCEANIA = set(
    "AS AU CK FJ FM GU HM KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV UM VU WF WS".split()
)
AFRICA = set(
    "AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW IO KE KM LR LS LY MA MG "
    "ML MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TF TG TN TZ UG YT ZA ZM ZW".split()
)
ASIA = set(
    "AE AF AM AZ BD BH BN BT CC CN CX GE HK ID IL IN IQ IR JO JP KG KH KP KR KW KZ LA LB LK MM "
    "MN MO MV MY NP OM PH PK PS QA SA SG SY TH TJ TL TM TR TW UZ VN YE".split()
)
ANTARCTICA = {"AQ"}

CONTINENTS = {
    "europe": EUROPE,
    "north_america": NORTH_AMERICA,
    "latin_america": LATIN_AMERICA,
    "oceania": OCEANIA,
    "africa": AFRICA,
    "asia": ASIA,
    "antarctica": ANTARCTICA,
}

#: Former countries kept as their own entries (they split into several current countries, so no
#: single current code can stand in for them). code: (alpha-3, numeric, English, Dutch, continent)
FORMER_COUNTRIES = {
    "AN": ("ANT", "530", "Netherlands Antilles", "Nederlandse Antillen", "latin_america"),
    "YU": ("YUG", "", "Yugoslavia", "Joegoslavië", "europe"),
    "SU": ("SUN", "810", "USSR", "Sovjet-Unie", "europe"),
    "CSHH": ("CSK", "200", "Czechoslovakia", "Tsjecho-Slowakije", "europe"),
    "CSXX": ("SCG", "", "Serbia and Montenegro", "Servië en Montenegro", "europe"),
}

#: Codes assigned outside ISO 3166-1 but in common use (Kosovo: the EU's user-assigned code).
USER_ASSIGNED = {
    "XK": ("XKX", "", "Kosovo", "Kosovo", "europe"),
}

#: Extra spellings: Dutch and English short names, former names of the same territory, CBS usage.
ALIASES = {
    "AE": ["UAE", "VAE", "Emiraten", "United Arab Emirates"],
    "AN": [
        "Antillen",
        "Nederlandse Antillen",
        "Voormalige Nederlandse Antillen",
        "Netherlands Antilles",
        "Dutch Antilles",
    ],
    "BA": ["Bosnia", "Bosnië", "Bosnië-Herzegovina", "Bosnia-Herzegovina"],
    "BF": ["Upper Volta", "Boven-Volta", "Opper-Volta"],
    "BH": ["Bahrain", "Bahrein"],
    "BJ": ["Dahomey"],
    "BO": ["Bolivia"],
    "BQ": [
        "Caribisch Nederland",
        "Caribbean Netherlands",
        "Bonaire",
        "Sint Eustatius",
        "Saint Eustatius",
        "Statia",
        "Saba",
        "BES-eilanden",
        "BES islands",
        "Bonaire/Sint Eustatius/Saba",
    ],
    "BS": ["Bahamas", "The Bahamas"],
    "BY": ["Belarus", "Byelorussia", "Wit-Rusland", "Belarussia"],
    "CD": [
        "DR Congo",
        "DRC",
        "Congo-Kinshasa",
        "Congo (Kinshasa)",
        "Democratische Republiek Congo",
        "Democratic Republic of the Congo",
        "Zaire",
        "Zaïre",
        "Belgisch Congo",
        "Belgian Congo",
    ],
    "CG": ["Congo-Brazzaville", "Congo (Brazzaville)", "Republiek Congo", "Republic of the Congo"],
    "CI": ["Ivory Coast", "Ivoorkust"],
    "CN": ["Volksrepubliek China", "People's Republic of China"],
    "CSHH": [
        "Czechoslovakia",
        "Tsjecho-Slowakije",
        "Tsjechoslowakije",
        "Tsjecho-Slowaakse Republiek",
    ],
    "CSXX": ["Serbia and Montenegro", "Servië en Montenegro", "Servië-Montenegro"],
    "CV": ["Cape Verde", "Kaapverdië"],
    "CW": ["Curaçao", "Korsou"],
    "CZ": ["Czech Republic", "Tsjechische Republiek", "Tsjechië"],
    "DE": [
        "Germany",
        "Bondsrepubliek Duitsland",
        "West-Duitsland",
        "West Germany",
        "BRD",
        "Oost-Duitsland",
        "East Germany",
        "DDR",
        "Duitse Democratische Republiek",
        "German Democratic Republic",
    ],
    "FM": ["Micronesia"],
    "GB": [
        "UK",
        "Great Britain",
        "Britain",
        "Groot-Brittannië",
        "Engeland",
        "England",
        "Schotland",
        "Scotland",
        "Wales",
        "Noord-Ierland",
        "Northern Ireland",
        "Verenigd Koninkrijk",
    ],
    "GE": ["Georgië"],
    "GY": ["Brits-Guyana", "British Guiana"],
    "ID": ["Nederlands-Indië", "Dutch East Indies", "Indië"],
    "IR": ["Iran", "Perzië", "Persia"],
    "KG": ["Kirgizstan", "Kirgistan", "Kyrgyzstan"],
    "KP": ["Noord-Korea", "North Korea"],
    "KR": ["Zuid-Korea", "South Korea", "Republic of Korea"],
    "LA": ["Laos"],
    "LK": ["Ceylon"],
    "MD": ["Moldova", "Moldavië"],
    "MF": ["Saint Martin", "Saint-Martin"],
    "MK": ["Macedonia", "Macedonië", "Noord-Macedonië", "North Macedonia"],
    "MM": ["Burma", "Birma"],
    "NL": ["Holland", "The Netherlands", "Koninkrijk der Nederlanden"],
    "PS": ["Palestine", "Palestina", "Palestijnse Gebieden", "Palestinian Territories"],
    "RU": ["Russia", "Russische Federatie"],
    "SA": ["Saudi-Arabië"],
    "SR": ["Surinam"],
    "SU": [
        "Soviet Union",
        "Sovjet-Unie",
        "Sovjetunie",
        "Voormalige Sovjet-Unie",
        "Former Soviet Union",
        "USSR",
        "Union of Soviet Socialist Republics",
    ],
    "SX": ["Sint Maarten", "St. Maarten"],
    "SY": ["Syria"],
    "SZ": ["Swaziland"],
    "TH": ["Siam"],
    "TL": ["East Timor", "Oost-Timor"],
    "TR": ["Turkey", "Turkije", "Türkei"],
    "TW": ["Taiwan"],
    "TZ": ["Tanzania"],
    "US": [
        "USA",
        "VS",
        "VSA",
        "United States of America",
        "Verenigde Staten van Amerika",
        "Amerika",
        "America",
    ],
    "VA": ["Vatican", "Vatican City", "Vaticaanstad", "Holy See", "Heilige Stoel"],
    "VE": ["Venezuela"],
    "VG": ["British Virgin Islands", "Britse Maagdeneilanden"],
    "VI": ["US Virgin Islands", "Amerikaanse Maagdeneilanden"],
    "VN": ["Vietnam", "Noord-Vietnam", "North Vietnam"],
    "VU": ["New Hebrides", "Nieuwe Hebriden"],
    "YE": ["Jemen", "Noord-Jemen", "Zuid-Jemen", "North Yemen", "South Yemen"],
    "YU": [
        "Yugoslavia",
        "Joegoslavië",
        "Voormalig Joegoslavië",
        "Former Yugoslavia",
        "Federale Republiek Joegoslavië",
    ],
    "ZW": ["Rhodesia", "Rhodesië", "Southern Rhodesia", "Zuid-Rhodesië"],
}


def continent_of(code: str) -> str:
    found = [name for name, members in CONTINENTS.items() if code in members]
    if len(found) != 1:
        raise ValueError(f"{code}: placed in {found or 'no continent'}; place it in exactly one")
    return found[0]


def cbs_western(code: str, continent: str) -> bool:
    """CBS pre-2022: Europe (excl. Turkey), North America, Oceania, Indonesia, Japan."""
    return code in {"ID", "JP"} or (
        continent in {"europe", "north_america", "oceania"} and code != "TR"
    )


def build_rows() -> list[dict[str, str]]:
    import pycountry

    dutch = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["nl"])
    rows = []
    for country in pycountry.countries:
        code = country.alpha_2
        names_en = {country.name}
        for attribute in ("common_name", "official_name"):
            value = getattr(country, attribute, None)
            if value:
                names_en.add(value)
        name_en = getattr(country, "common_name", None) or country.name
        name_nl = dutch.gettext(country.name)
        aliases = sorted((names_en | set(ALIASES.get(code, []))) - {name_en, name_nl})
        continent = continent_of(code)
        rows.append(
            {
                "code": code,
                "alpha3": country.alpha_3,
                "numeric": country.numeric,
                "name_en": name_en,
                "name_nl": name_nl,
                "aliases": "|".join(aliases),
                "continent": continent,
                "cbs_western": str(int(cbs_western(code, continent))),
                "status": "iso3166-1",
            }
        )
    extra = [(FORMER_COUNTRIES, "iso3166-3"), (USER_ASSIGNED, "user-assigned")]
    for table, status in extra:
        for code, (alpha3, numeric, name_en, name_nl, continent) in table.items():
            aliases = sorted(set(ALIASES.get(code, [])) - {name_en, name_nl})
            rows.append(
                {
                    "code": code,
                    "alpha3": alpha3,
                    "numeric": numeric,
                    "name_en": name_en,
                    "name_nl": name_nl,
                    "aliases": "|".join(aliases),
                    "continent": continent,
                    "cbs_western": str(int(cbs_western(code, continent))),
                    "status": status,
                }
            )
    rows.sort(key=lambda row: row["code"])
    check_unique_spellings(rows)
    return rows


def check_unique_spellings(rows: list[dict[str, str]]) -> None:
    """Every spelling must point to one country; raise listing the clashes otherwise."""
    owner: dict[str, str] = {}
    clashes = []
    for row in rows:
        spellings = [row["code"], row["alpha3"], row["numeric"], row["name_en"], row["name_nl"]]
        spellings += row["aliases"].split("|") if row["aliases"] else []
        for spelling in spellings:
            if not spelling:
                continue
            key = text_key(spelling)
            if owner.setdefault(key, row["code"]) != row["code"]:
                clashes.append(f"{spelling!r}: {owner[key]} and {row['code']}")
    if clashes:
        raise ValueError("spellings shared by two countries: " + "; ".join(clashes))


def render(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    buffer.write(HEADER_COMMENT + "\n")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def main() -> int:
    target = Path(__file__).with_name("countries.csv")
    target.write_text(render(build_rows()), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
