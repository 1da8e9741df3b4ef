"""Rounding and number formats (APA style, English and Dutch marks) and LaTeX escaping."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from classdyad.report import NumberFormatter, ReportTable
from classdyad.report.tables import cell, latex_escape


@pytest.mark.parametrize(("language", "value", "digits", "text"), [
    ("en", 0.06562, 2, "0.07"),
    ("en", -0.06562, 2, "\N{MINUS SIGN}0.07"),
    ("en", -0.001, 2, "0.00"),  # no "-0.00"
    ("en", 4264, 0, "4,264"),
    ("nl", 4264, 0, "4.264"),
    ("nl", -1.5, 2, "\N{MINUS SIGN}1,50"),
    ("en", 572.39, 1, "572.4"),
])
def test_numbers_are_rounded_with_the_languages_marks(language: str, value: float, digits: int,
                                                      text: str) -> None:
    assert NumberFormatter(language).text(value, digits) == text


@pytest.mark.parametrize(("language", "value", "text"), [
    ("en", 0.008072, ".008"), ("en", 0.0009, "< .001"), ("en", 0.5944, ".594"),
    ("en", 1.0, "1.000"), ("nl", 0.008072, ",008"), ("nl", 1e-12, "< ,001"),
])
def test_p_values_follow_apa(language: str, value: float, text: str) -> None:
    assert NumberFormatter(language).p_text(value) == text


def test_marked_numbers_keep_their_source_and_full_value() -> None:
    fmt = NumberFormatter("en")
    html = str(fmt.number(-0.065620047163891, "estimates/0/estimate"))
    assert 'data-key="estimates/0/estimate"' in html
    assert 'data-value="-0.065620047163891"' in html
    assert ">\N{MINUS SIGN}0.07</span>" in html
    assert str(fmt.number(math.nan, "x")) == "" and str(fmt.p(None, "y")) == ""
    shown = fmt.table()
    assert shown["key"].tolist() == ["estimates/0/estimate"]


def test_latex_escapes_special_characters() -> None:
    assert latex_escape("50% & a_b < c") == r"50\% \& a\_b $<$ c"


def test_a_table_writes_booktabs_latex_of_its_rounded_cells() -> None:
    fmt = NumberFormatter("en")
    table = ReportTable(name="t", caption="Caption", header=("name", "b"),
                        rows=((cell("group"), cell("")), (cell("x_1"), fmt.number(1.23456, "k"))),
                        data=pd.DataFrame({"name": ["x_1"], "b": [1.23456]}),
                        group_rows=frozenset({0}))
    latex = table.to_latex()
    assert r"x\_1 & 1.23 \\" in latex
    assert r"\multicolumn{2}{l}{\textit{group}} \\" in latex
    assert table.numeric_columns() == (False, True)
    assert table.to_frame()["b"].iloc[0] == 1.23456


def test_the_public_names_exist_once() -> None:
    import classdyad.report

    listed = classdyad.report.__all__
    assert len(listed) == len(set(listed))
    assert all(hasattr(classdyad.report, name) for name in listed)
