"""The report's content and files: sections, tables, figures, languages, options and errors."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from classdyad.errors import DataError, OptionError
from classdyad.report import OKABE_ITO, SECTIONS, study_report, translations


def test_every_section_and_hypothesis_is_present(written_reports) -> None:
    for language in ("en", "nl"):
        page = written_reports[language][0].read_text(encoding="utf-8")
        for section in SECTIONS:
            assert f'<section id="{section}"' in page
        for hypothesis in ("h1", "h2", "h3", "h4", "h5"):
            assert f'id="hypothesis-{hypothesis}"' in page
        assert f'<html lang="{language}">' in page


def test_figures_are_inline_svg_and_saved_as_png_and_svg(written_reports) -> None:
    path, report, _results = written_reports["en"]
    page = path.read_text(encoding="utf-8")
    names = {figure.name for figure in report.figures}
    assert {"interactions_per_student", "interactions_per_class", "interactions_by_wave",
            "h1_forest", "h2_forest", "h4_negativity"} <= names
    # one path-diagram figure per exposure and level of the H3 rows
    assert {"h3_paths_low_ses_within", "h3_paths_low_ses_between",
            "h3_paths_non_western_within", "h3_paths_non_western_between"} <= names
    assert page.count('<svg class="figure"') == len(report.figures)
    for figure in report.figures:
        png = (path.parent / "figures" / f"{figure.name}.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        svg = (path.parent / "figures" / f"{figure.name}.svg").read_text(encoding="utf-8")
        assert svg.startswith("<svg")


def test_svg_ids_are_unique_across_the_page(written_reports) -> None:
    page = written_reports["en"][0].read_text(encoding="utf-8")
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_figures_use_the_okabe_ito_palette(written_reports) -> None:
    report = written_reports["en"][1]
    allowed = {c.lower() for c in OKABE_ITO} | {"#000000", "#ffffff", "#333333", "#555555",
                                                 "#f2f2f2", "#999999"}
    for figure in report.figures:
        fills = {c.lower() for c in re.findall(r"(?:fill|stroke):\s*(#[0-9a-fA-F]{6})",
                                               figure.svg)}
        assert fills <= allowed, (figure.name, fills - allowed)


def test_tables_are_saved_as_csv_at_full_precision_and_latex(written_reports) -> None:
    path, report, results = written_reports["en"]
    folder = path.parent / "tables"
    for table in report.tables:
        assert (folder / f"{table.name}.csv").exists()
        latex = (folder / f"{table.name}.tex").read_text(encoding="utf-8")
        assert latex.startswith("\\begin{table}") and "\\bottomrule" in latex
    appendix = pd.read_csv(folder / "appendix_estimates.csv")
    assert appendix["estimate"].tolist() == [r["estimate"] for r in results["estimates"]]
    sample = pd.read_csv(folder / "table1_sample.csv")
    assert sample.iloc[-1]["n"] == results["n_students"]


def test_the_page_requests_nothing_from_the_network(written_reports) -> None:
    for language in ("en", "nl"):
        page = written_reports[language][0].read_text(encoding="utf-8")
        assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page)
        assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//", page)
        assert "@import" not in page and "<link" not in page and "<script" not in page


def test_the_dutch_report_is_translated_and_uses_decimal_commas(written_reports) -> None:
    page = written_reports["nl"][0].read_text(encoding="utf-8")
    assert "Samenvatting van de bevindingen" in page and "Kwaliteit van de gegevens" in page
    assert "Summary of the findings" not in page
    assert re.search(r">\N{MINUS SIGN}?\d+,\d\d</span>", page)


def test_a_report_shows_the_hypotheses_present_and_no_others(plan_report) -> None:
    path, results = plan_report
    page = path.read_text(encoding="utf-8")
    present = {r["hypothesis"] for r in results["estimates"]}
    assert "H1" in present
    for hypothesis in ("H1", "H2", "H3", "H4", "H5"):
        assert (f'id="hypothesis-{hypothesis.lower()}"' in page) == (hypothesis in present)


def test_unknown_language_lists_the_allowed_ones(small_study, plan_results) -> None:
    with pytest.raises(OptionError, match="'en', 'nl'"):
        study_report(small_study.tables, plan_results, language="fr")  # type: ignore[arg-type]


def test_results_of_the_wrong_type_say_what_to_pass(small_study) -> None:
    with pytest.raises(DataError, match=r"results\.json"):
        study_report(small_study.tables, 42)  # type: ignore[arg-type]


def _messages(root: Path) -> set[str]:
    """Every message id marked in the report's Python modules and templates (pybabel's way)."""
    from babel.messages.extract import extract_from_dir

    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "N_": None, "gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(root), method_map=method_map, options_map=options, keywords=keywords):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_dutch_translation() -> None:
    import classdyad.report

    root = Path(classdyad.report.__file__).parent
    messages = _messages(root)
    assert len(messages) > 150
    dutch = translations("nl")
    untranslated = sorted(m for m in messages if dutch.gettext(m) == m
                          and m not in _SAME_IN_DUTCH)
    assert not untranslated


#: messages whose Dutch is the English text
_SAME_IN_DUTCH = {"n", "SD", "p (FDR)", "effect", "model", "Software", "instrument", "informant",
                  "items", "test", "ratio", "rate ratio", "indirect", "IAT SES",
                  "direct effect (c')", "indirect effect"}
