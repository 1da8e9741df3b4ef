"""Rounding and formatting of every number the report shows.

This is the one place where classdyad rounds. Each number is written as
``<span class="num" data-key=KEY data-value=FULL data-digits=D>TEXT</span>``: ``FULL`` is the value
at full precision (``repr`` of the float), ``KEY`` says where it comes from (``estimates/3/ci_low``
is row 3, column ``ci_low`` of ``results.json``'s ``estimates``; keys starting with ``study/`` are
computed from the study's data), so anyone can check the text against the source. Numbers follow
APA style (7th ed., section 6.36): two decimals for estimates, three for p values without the
leading zero (``p < .001`` below it), thousands grouped; decimal and grouping marks follow the
report's language (CLDR via Babel: ``0.25`` in English, ``0,25`` in Dutch).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from babel.numbers import format_decimal, get_decimal_symbol
from markupsafe import Markup

from classdyad.report.i18n import LOCALES


def is_missing(value: Any) -> bool:
    """``None`` and NaN (shown as an empty cell)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


@dataclass
class NumberFormatter:
    """Formats numbers for one report and keeps a record of each one shown.

    Parameters
    ----------
    language
        ``"en"`` or ``"nl"``: decimal and grouping marks.
    """

    language: str = "en"
    shown: list[dict[str, Any]] = field(default_factory=list)

    @property
    def locale(self) -> str:
        return LOCALES[self.language]

    def text(self, value: float, digits: int = 2) -> str:
        """``value`` rounded to ``digits`` decimals, with the language's marks (no markup)."""
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        text = format_decimal(value, format=pattern, locale=self.locale)
        if text.startswith("-") and not any(c in "123456789" for c in text):
            text = text[1:]  # a negative value that rounds to zero is shown as 0.00
        return text.replace("-", "\N{MINUS SIGN}")

    def p_text(self, value: float) -> str:
        """A p value in APA style: three decimals without the leading zero, ``< .001`` below."""
        point = get_decimal_symbol(self.locale)
        if value < 0.001:
            return f"< {point}001"
        text = self.text(value, 3)
        return text[1:] if text.startswith("0") else text

    def _span(self, text: str, value: Any, key: str, digits: int, kind: str) -> Markup:
        self.shown.append({"key": key, "value": value, "text": text, "digits": digits,
                           "kind": kind})
        return Markup('<span class="num" data-key="{}" data-value="{}" data-digits="{}" '
                      'data-kind="{}">{}</span>').format(key, _full(value), digits, kind, text)

    def number(self, value: Any, key: str, digits: int = 2) -> Markup:
        """A marked number (empty for missing values)."""
        if is_missing(value):
            return Markup("")
        return self._span(self.text(float(value), digits), value, key, digits, "number")

    def integer(self, value: Any, key: str) -> Markup:
        """A marked count with grouped thousands."""
        if is_missing(value):
            return Markup("")
        return self._span(self.text(float(value), 0), value, key, 0, "integer")

    def p(self, value: Any, key: str) -> Markup:
        """A marked p value (APA)."""
        if is_missing(value):
            return Markup("")
        return self._span(self.p_text(float(value)), value, key, 3, "p")

    def percent(self, value: Any, key: str, digits: int = 1) -> Markup:
        """A marked proportion shown as a percentage (``value`` is a proportion, 0-1)."""
        if is_missing(value):
            return Markup("")
        text = self.text(100.0 * float(value), digits)
        return self._span(text, value, key, digits, "percent") + Markup("&#8239;%")

    def interval(self, low: Any, high: Any, keys: tuple[str, str], digits: int = 2) -> Markup:
        """A 95 % interval ``[low, high]`` (marked ends)."""
        if is_missing(low) or is_missing(high):
            return Markup("")
        separator = "; " if self.language == "nl" else ", "
        return (Markup("[") + self.number(low, keys[0], digits) + Markup(separator)
                + self.number(high, keys[1], digits) + Markup("]"))

    def table(self) -> pd.DataFrame:
        """Every number shown: ``key, value, text, digits, kind``."""
        return pd.DataFrame(self.shown, columns=["key", "value", "text", "digits", "kind"])


def _full(value: Any) -> str:
    """The value at full precision, as text for a data attribute."""
    if isinstance(value, bool):
        return str(int(value))
    number = value.item() if hasattr(value, "item") else value
    if isinstance(number, int | float):
        return repr(number)
    return html.escape(str(number))
