"""The report section "Findings compared with the published study".

Each published claim of the seed study (:data:`classdyad.study.published_findings.
PUBLISHED_CLAIMS`) is shown in the report's language with the estimates that decide it: what the
published study found (the rule), what this analysis found (estimate, 95 % interval,
FDR-adjusted p) and whether the two agree. The numbers are those of ``results.json`` (marked with
their source keys, like every other number of the report).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from classdyad.report import labels
from classdyad.report.i18n import N_
from classdyad.report.numbers import NumberFormatter, is_missing
from classdyad.report.tables import ReportTable, cell
from classdyad.study.published_findings import PUBLISHED_CLAIMS, compare_with_published

Translate = Callable[[str], str]

#: what a published claim states / what the analysis found, as shown to readers
FINDINGS: dict[str, str] = {
    "significant_positive": N_("significantly positive"),
    "significant_negative": N_("significantly negative"),
    "not_significant": N_("no significant difference"),
    "not_estimated": N_("not estimated"),
}


@dataclass(frozen=True)
class PublishedSection:
    """The comparison section: introduction, the table, and how many claims agree."""

    introduction: Markup
    table: ReportTable
    n_claims: int
    n_agreeing: int


def _estimate_label(check: Mapping[str, Any], _: Translate) -> str:
    outcome = labels.label(check["outcome"], labels.OUTCOMES, _)
    effect = labels.effect_label(check["effect"], _)
    if check["hypothesis"] == "H3":
        exposure = labels.label(check["contrast"], labels.EFFECTS, _)
        level = labels.label(check["level"], labels.LEVELS, _)
        return f"{check['hypothesis']} {outcome}: {exposure}, {effect} ({level})"
    return f"{check['hypothesis']} {outcome}: {effect}"


def comparison_section(results: Mapping[str, Any], *, _: Translate, fmt: NumberFormatter,
                       language: str) -> PublishedSection:
    """The section comparing the results with every published claim of the seed study."""
    comparison = compare_with_published(results)
    checks = comparison.checks
    header = (_("published finding and estimate"), _("published"), "b", _("95% CI"),
              _("p (FDR)"), _("this analysis"), _("agrees"))
    rows: list[tuple[Markup, ...]] = []
    group_rows = set()
    claims = {claim.id: claim for claim in PUBLISHED_CLAIMS}
    for number, claim_row in enumerate(comparison.claims.itertuples(index=False), start=1):
        claim = claims[claim_row.claim]
        verdict = _("agrees") if claim_row.agrees else _("does not agree")
        group_rows.add(len(rows))
        rows.append((cell(f"{number}. {claim.text(language)} ({verdict})"),)
                    + (cell(""),) * (len(header) - 1))
        for _index, check in checks[checks["claim"] == claim.id].iterrows():
            if is_missing(check["row"]):
                numbers = (Markup(""), Markup(""), Markup(""))
            else:
                key = f"estimates/{int(check['row'])}"
                numbers = (fmt.number(check["estimate"], f"{key}/estimate"),
                           fmt.interval(check["ci_low"], check["ci_high"],
                                        (f"{key}/ci_low", f"{key}/ci_high")),
                           fmt.p(check["p_fdr"], f"{key}/p_fdr"))
            rows.append((cell(_estimate_label(check, _)),
                         cell(_(FINDINGS[check["rule"]])), *numbers,
                         cell(_(FINDINGS[check["found"]])),
                         cell("✓ " + _("yes") if check["agrees"] else "✗ " + _("no"))))
    data = checks.merge(comparison.claims[["claim", "english", "dutch"]], on="claim")
    table = ReportTable(
        name="published_findings", caption=_("Findings compared with the published study"),
        header=header, rows=tuple(rows), data=data, group_rows=frozenset(group_rows),
        note=_("Significant: p (FDR) below .05 with the sign shown; no significant difference: "
               "p (FDR) of .05 or more. b of interaction counts is a log rate ratio; "
               "mediation effects are within classes."))
    introduction = Markup.escape(_(
        "The seed study's published findings (Social Psychology of Education, 2026) are "
        "qualitative: a difference is there or not, an effect runs through interactions or not. "
        "Each is checked against the estimates of this analysis; {agreeing} of {claims} "
        "published findings agree. A published finding of no difference agrees when this "
        "analysis finds no significant difference either, which does not show that the "
        "difference is absent.")).format(
            agreeing=fmt.integer(comparison.n_agreeing, "study/published/agreeing"),
            claims=fmt.integer(len(comparison.claims), "study/published/claims"))
    return PublishedSection(introduction=introduction, table=table,
                            n_claims=len(comparison.claims), n_agreeing=comparison.n_agreeing)
