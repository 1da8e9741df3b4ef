"""Every number of the report equals the one in results.json (after the report's rounding).

Each number in the HTML is a ``<span class="num">`` holding its source key (``estimates/<row>/
<column>``, ``n_students``, ``n_rows`` for results.json; ``study/...`` for descriptive numbers),
the full-precision value and the number of decimals shown. The tests read the HTML back with the
standard library's parser and check, for every number taken from results.json: the value equals
the JSON value exactly, and the text shown is that value rounded to the decimals shown (tolerance
half a unit in the last decimal; p values below .001 are shown as ``< .001``).
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest


class NumberSpans(HTMLParser):
    """Collects the marked numbers of an HTML page: attributes and text."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: list[dict[str, str]] = []
        self._open: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "span" and values.get("class") == "num":
            self._open = {**values, "text": ""}

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._open is not None:
            self.spans.append(self._open)
            self._open = None


def marked_numbers(path: Path) -> list[dict[str, str]]:
    parser = NumberSpans()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.spans


def parse_shown(text: str, language: str) -> float:
    """The number a reader sees (language marks undone)."""
    text = text.replace("\N{MINUS SIGN}", "-").strip()
    if language == "nl":
        text = text.replace(".", "").replace(",", ".")
    else:
        text = text.replace(",", "")
    return float(text)


def source_value(results: dict[str, Any], key: str) -> Any:
    if key.startswith("estimates/"):
        _, row, column = key.split("/")
        return results["estimates"][int(row)][column]
    return results[key]


def check_span(span: dict[str, str], results: dict[str, Any], language: str) -> None:
    key = span["data-key"]
    value = source_value(results, key)
    assert value is not None, f"{key}: shown, but null in results.json"
    assert float(span["data-value"]) == float(value), f"{key}: value differs from results.json"
    digits = int(span["data-digits"])
    if span["data-kind"] == "p" and span["text"].startswith("<"):
        assert value < 0.001, f"{key}: '< .001' shown for p = {value}"
        return
    shown = parse_shown(span["text"], language)
    # tolerance: half a unit in the last decimal shown (plus float noise)
    assert abs(shown - value) <= 0.5 * 10.0 ** -digits + 1e-9, (
        f"{key}: shows {span['text']!r}, results.json has {value!r}")


@pytest.mark.parametrize("language", ["en", "nl"])
def test_every_results_number_equals_results_json(written_reports, language: str) -> None:
    path, _report, results = written_reports[language]
    spans = [s for s in marked_numbers(path) if not s["data-key"].startswith("study/")]
    assert len(spans) > 500
    for span in spans:
        check_span(span, results, language)


@pytest.mark.parametrize("language", ["en", "nl"])
def test_every_estimate_of_results_json_is_shown(written_reports, language: str) -> None:
    path, _report, results = written_reports[language]
    keys = {s["data-key"] for s in marked_numbers(path)}
    for index, row in enumerate(results["estimates"]):
        for column in ("estimate", "std_error", "ci_low", "ci_high", "p_value", "p_fdr",
                       "standardized", "ratio", "ratio_ci_low", "ratio_ci_high", "n"):
            if row[column] is not None:
                assert f"estimates/{index}/{column}" in keys, (index, column)
    assert {"n_students", "n_rows"} <= keys


def test_the_plan_run_directly_shows_the_numbers_of_its_json(plan_report) -> None:
    """A report of the results object itself shows the numbers its results.json holds."""
    path, saved = plan_report
    spans = [s for s in marked_numbers(path) if not s["data-key"].startswith("study/")]
    assert spans
    for span in spans:
        check_span(span, saved, "en")


def test_descriptive_numbers_are_rounded_from_their_values(written_reports) -> None:
    path, report, _results = written_reports["en"]
    numbers = report.to_frame()
    study = numbers[numbers["key"].str.startswith("study/")]
    assert len(study) > 50
    for span in marked_numbers(path):
        if span["data-key"].startswith("study/"):
            value = float(span["data-value"])
            scale = 100.0 if span["data-kind"] == "percent" else 1.0
            shown = parse_shown(span["text"], "en")
            assert abs(shown - scale * value) <= 0.5 * 10.0 ** -int(span["data-digits"]) + 1e-9
