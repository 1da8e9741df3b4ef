"""The report section comparing the findings with the published study."""

from __future__ import annotations

import html
import re

from classdyad.report.i18n import translations
from classdyad.report.numbers import NumberFormatter
from classdyad.report.published_section import comparison_section
from classdyad.study.published_findings import PUBLISHED_CLAIMS, compare_with_published


def _section_text(page: str) -> str:
    start = page.index('<section id="published-findings">')
    end = page.index("</section>", start)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page[start:end])).split())


def test_the_section_lists_every_claim_and_whether_it_agrees(plan_report) -> None:
    path, results = plan_report
    text = _section_text(path.read_text(encoding="utf-8"))
    comparison = compare_with_published(results)
    for number, claim in enumerate(PUBLISHED_CLAIMS, start=1):
        verdict = "agrees" if comparison.claims.loc[number - 1, "agrees"] else "does not agree"
        assert f"{number}. {claim.english} ({verdict})" in text
    assert f"{comparison.n_agreeing} of {len(PUBLISHED_CLAIMS)} published findings agree" in text


def test_the_dutch_section_uses_the_dutch_wording(written_reports) -> None:
    path, _report, _results = written_reports["nl"]
    text = _section_text(path.read_text(encoding="utf-8"))
    assert "Bevindingen vergeleken met de gepubliceerde studie" in text
    for claim in PUBLISHED_CLAIMS:
        assert claim.dutch in text


def test_the_table_keeps_every_check_at_full_precision(plan_result) -> None:
    results = {"estimates": plan_result.estimates.to_dict("records")}
    section = comparison_section(results, _=translations("en").gettext,
                                 fmt=NumberFormatter("en"), language="en")
    data = section.table.to_frame()
    assert len(data) == sum(len(claim.checks) for claim in PUBLISHED_CLAIMS)
    assert {"claim", "english", "dutch", "estimate", "p_fdr", "found", "agrees"} <= set(data)
    assert section.n_claims == len(PUBLISHED_CLAIMS)
    assert len(section.table.group_rows) == len(PUBLISHED_CLAIMS)
