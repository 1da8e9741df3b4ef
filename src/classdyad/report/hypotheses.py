"""The hypothesis sections: APA tables, forest plots, path diagrams and summary sentences.

Everything here is generic over the rows of the analysis plan's estimate table (the
``estimates`` of ``results.json``, see :func:`classdyad.study.plan.study_plan`): each
hypothesis present gets a table of its rows (b, SE, 95 % CI, p, Benjamini-Hochberg adjusted p,
standardized beta and rate ratios where estimated), grouped by contrast, level and, for the
mediation rows (H3), outcome. Figures are drawn from whatever rows exist: forest plots of the
group gaps (H1 on the scale of the outcome, H2 as rate ratios on a log axis), path diagrams of
the mediation (H3: paths a and b per mediator, the direct effect c' and the indirect effects),
and the negativity-bias contrast (H4: b of negative and of positive interactions side by side).
Tables follow APA style (Publication Manual, 7th ed., 2020, ch. 7).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from markupsafe import Markup

from classdyad.report import figures, labels
from classdyad.report.figures import PathPanel, ReportFigure
from classdyad.report.i18n import N_
from classdyad.report.numbers import NumberFormatter, is_missing
from classdyad.report.tables import ReportTable, cell

Translate = Callable[[str], str]
ORDER = ("H1", "H2", "H3", "H4", "H5")
#: the group terms of the gap models
GROUP_TERMS = ("low_ses", "non_western", "turkish_moroccan")
MEDIATORS = ("negative_rate", "positive_rate")

INTRODUCTIONS: dict[str, str] = {
    "H1": N_("Differences in relationship quality (scale 1–5) between groups of students, "
             "adjusted for gender, grade and wave, from linear mixed models with random "
             "intercepts for schools, classes and students."),
    "H2": N_("Differences in the number of positive and negative interactions per hour "
             "observed, from Poisson mixed models with the log of observed hours as offset; "
             "rate ratios above 1 mean more interactions than the reference group."),
    "H3": N_("Whether positive and negative interactions carry the background gaps in "
             "relationship quality: paths a (background → interactions), b (interactions → "
             "relationship), the direct effect c' and the indirect effects a × b with Monte "
             "Carlo intervals."),
    "H4": N_("Whether negative interactions weigh more on the relationship than positive ones, "
             "both on a standardized scale: the contrast |b negative| − |b positive|."),
    "H5": N_("Whether teachers' implicit attitudes (IAT D scores) moderate the paths from "
             "students' background to interactions, and the index of moderated mediation."),
}

GROUP_NOUNS: dict[str, str] = {
    "low_ses": N_("low-SES students"),
    "non_western": N_("students with a non-western background"),
    "turkish_moroccan": N_("Turkish and Moroccan students"),
}


@dataclass(frozen=True)
class HypothesisSection:
    """One hypothesis: its title, introduction, tables and figures."""

    hypothesis: str
    title: str
    introduction: str
    tables: tuple[ReportTable, ...]
    figures: tuple[ReportFigure, ...]


def estimates_frame(results: Mapping[str, Any]) -> pd.DataFrame:
    """The ``estimates`` of a results mapping as a DataFrame; ``row`` is the list position."""
    frame = pd.DataFrame(list(results.get("estimates", [])))
    frame.insert(0, "row", range(len(frame)))
    for column in ("hypothesis", "outcome", "effect", "contrast", "level", "model"):
        if column not in frame.columns:
            frame[column] = None
        frame[column] = frame[column].where(frame[column].notna(), "").astype(str)
    for column in ("estimate", "std_error", "ci_low", "ci_high", "p_value", "p_fdr",
                   "standardized", "ratio", "ratio_ci_low", "ratio_ci_high", "n"):
        if column not in frame.columns:
            frame[column] = None
    return frame


def _key(row: pd.Series, column: str) -> str:
    return f"estimates/{int(row['row'])}/{column}"


def significance(row: pd.Series, _: Translate) -> str:
    """Whether the estimate is significant after the false-discovery-rate correction."""
    p = row["p_fdr"] if not is_missing(row["p_fdr"]) else row["p_value"]
    if is_missing(p):
        return ""
    return _("significant after correction for multiple testing") if p < 0.05 else _(
        "not significant after correction for multiple testing")


def p_clause(row: pd.Series, fmt: NumberFormatter) -> Markup:
    """``p = .008`` or ``p < .001`` (marked)."""
    if is_missing(row["p_value"]):
        return Markup("")
    number = fmt.p(row["p_value"], _key(row, "p_value"))
    return Markup("<i>p</i> ") + (number if row["p_value"] < 0.001 else Markup("= ") + number)


def _group_title(row: pd.Series, hypothesis: str, _: Translate) -> str:
    parts = []
    if row["contrast"]:
        source = labels.CONTRASTS if row["contrast"] in labels.CONTRASTS else labels.EFFECTS
        parts.append(labels.label(row["contrast"], source, _))
    if hypothesis in ("H3", "H4", "H5") and row["outcome"]:
        parts.append(labels.label(row["outcome"], labels.OUTCOMES, _))
    if row["level"]:
        parts.append(labels.label(row["level"], labels.LEVELS, _))
    return " → ".join(parts[:2]) + (f" ({parts[2]})" if len(parts) > 2 else "")


def estimate_table(rows: pd.DataFrame, hypothesis: str, *, _: Translate,
                   fmt: NumberFormatter) -> ReportTable:
    """An APA table of one hypothesis' estimates, grouped by contrast (and outcome, level)."""
    with_beta = rows["standardized"].notna().any()
    with_ratio = rows["ratio"].notna().any()
    header = [_("outcome"), _("effect"), "b", "SE", _("95% CI"), "p", _("p (FDR)")]
    if with_beta:
        header.append("β")
    if with_ratio:
        header += [_("rate ratio"), _("95% CI")]
    header.append("n")
    group_keys = ["contrast", "level"] + (["outcome"] if hypothesis in ("H3", "H4", "H5")
                                          else [])
    shown: list[tuple[Markup, ...]] = []
    group_rows = set()
    for _keys, part in rows.groupby(group_keys, sort=False):
        first = part.iloc[0]
        title = _group_title(first, hypothesis, _)
        if title:
            group_rows.add(len(shown))
            shown.append((cell(title),) + (cell(""),) * (len(header) - 1))
        for _index, row in part.iterrows():
            cells = [cell(labels.label(row["outcome"], labels.OUTCOMES, _)),
                     cell(labels.effect_label(row["effect"], _)),
                     fmt.number(row["estimate"], _key(row, "estimate")),
                     fmt.number(row["std_error"], _key(row, "std_error")),
                     fmt.interval(row["ci_low"], row["ci_high"],
                                  (_key(row, "ci_low"), _key(row, "ci_high"))),
                     fmt.p(row["p_value"], _key(row, "p_value")),
                     fmt.p(row["p_fdr"], _key(row, "p_fdr"))]
            if with_beta:
                cells.append(fmt.number(row["standardized"], _key(row, "standardized")))
            if with_ratio:
                cells += [fmt.number(row["ratio"], _key(row, "ratio")),
                          fmt.interval(row["ratio_ci_low"], row["ratio_ci_high"],
                                       (_key(row, "ratio_ci_low"), _key(row, "ratio_ci_high")))]
            cells.append(fmt.integer(row["n"], _key(row, "n")))
            shown.append(tuple(cells))
    data = rows.drop(columns="row").reset_index(drop=True)
    note = _("b: unstandardized estimate; SE: standard error; CI: confidence interval; "
             "p (FDR): Benjamini-Hochberg adjusted over the whole analysis plan.")
    if with_beta:
        note += " " + _("β: b divided by the outcome's standard deviation.")
    if with_ratio:
        note += " " + _("Rate ratio: exp(b) of the count model.")
    return ReportTable(name=f"{hypothesis.lower()}_estimates",
                       caption=_(labels.HYPOTHESES.get(hypothesis, hypothesis)),
                       header=tuple(header), rows=tuple(shown), data=data, note=note,
                       group_rows=frozenset(group_rows))


def _row_label(row: pd.Series, _: Translate, *, with_contrast: bool) -> str:
    text = labels.label(row["outcome"], labels.OUTCOMES, _)
    if with_contrast and row["contrast"] == "turkish_moroccan_vs_dutch":
        text += " †"
    return text


def gap_forest(rows: pd.DataFrame, hypothesis: str, *, _: Translate,
               fmt: NumberFormatter) -> ReportFigure | None:
    """Forest plot of the group terms (H1: b; H2: rate ratios on a log axis)."""
    part = rows[rows["effect"].isin(GROUP_TERMS)]
    ratio = hypothesis == "H2"
    columns = ("ratio", "ratio_ci_low", "ratio_ci_high") if ratio else ("estimate", "ci_low",
                                                                        "ci_high")
    part = part.dropna(subset=list(columns))
    if part.empty:
        return None
    several = part["contrast"].nunique() > 1
    frame = pd.DataFrame({
        "label": [_row_label(r, _, with_contrast=several) for _i, r in part.iterrows()],
        "series": [labels.effect_label(e, _) for e in part["effect"]],
        "estimate": part[columns[0]].astype(float).to_numpy(),
        "ci_low": part[columns[1]].astype(float).to_numpy(),
        "ci_high": part[columns[2]].astype(float).to_numpy()})
    caption = _("Estimates with 95% confidence intervals.")
    if several:
        caption += " " + _("†: model comparing Turkish/Moroccan with Dutch students.")
    return figures.forest_figure(
        frame, log_scale=ratio, name=f"{hypothesis.lower()}_forest", number=fmt.text,
        x_label=_("rate ratio (log scale)") if ratio else _("difference in scale points (b)"),
        title=_(labels.HYPOTHESES[hypothesis]), caption=caption)


def _triple(row: pd.Series | None) -> tuple[float, float, float] | None:
    if row is None or is_missing(row["estimate"]):
        return None
    low = float(row["ci_low"]) if not is_missing(row["ci_low"]) else float("nan")
    high = float(row["ci_high"]) if not is_missing(row["ci_high"]) else float("nan")
    return float(row["estimate"]), low, high


def path_diagrams(rows: pd.DataFrame, *, _: Translate,
                  fmt: NumberFormatter) -> list[ReportFigure]:
    """Path diagrams from the H3 rows, one figure per exposure and level."""
    made = []
    for (exposure, level), part in rows.groupby(["contrast", "level"], sort=False):
        panels = []
        for outcome, block in part.groupby("outcome", sort=False):
            by_effect = {row["effect"]: row for _i, row in block.iterrows()}
            a, b, indirect = {}, {}, {}
            for mediator in MEDIATORS:
                name = labels.label(mediator, labels.OUTCOMES, _)
                for prefix, target in (("a", a), ("b", b), ("indirect", indirect)):
                    triple = _triple(by_effect.get(f"{prefix}:{mediator}"))
                    if triple is not None:
                        target[name] = triple
            if not (a or b):
                continue
            panels.append(PathPanel(
                title=labels.label(outcome, labels.OUTCOMES, _),
                exposure=labels.label(exposure, labels.EFFECTS, _),
                outcome=labels.label(outcome, labels.OUTCOMES, _), a=a, b=b,
                indirect_by_mediator=indirect, direct=_triple(by_effect.get("direct")),
                total_indirect=_triple(by_effect.get("indirect_total"))))
        if not panels:
            continue
        where = labels.label(level, labels.LEVELS, _) if level else ""
        title = labels.label(exposure, labels.EFFECTS, _) + (f" ({where})" if where else "")
        made.append(figures.path_figure(
            panels, number=fmt.text, indirect_word=_("indirect"),
            name=f"h3_paths_{exposure}" + (f"_{level}" if level else ""),
            title=_("Mediation by interactions: {exposure}").format(exposure=title),
            caption=_("Path diagrams: a = background → interactions, b = interactions → "
                      "relationship, c' = direct effect; solid arrows: 95% interval excludes "
                      "zero, dashed: it does not.")))
    return made


def negativity_forest(rows: pd.DataFrame, *, _: Translate,
                      fmt: NumberFormatter) -> ReportFigure | None:
    """The negativity-bias contrast: b of negative and of positive interactions per outcome."""
    part = rows[rows["effect"].isin(["b_negative", "b_positive"])].dropna(
        subset=["estimate", "ci_low", "ci_high"])
    if part.empty:
        return None
    frame = pd.DataFrame({
        "label": [labels.label(o, labels.OUTCOMES, _) for o in part["outcome"]],
        "series": [labels.effect_label(e, _) for e in part["effect"]],
        "estimate": part["estimate"].astype(float).to_numpy(),
        "ci_low": part["ci_low"].astype(float).to_numpy(),
        "ci_high": part["ci_high"].astype(float).to_numpy()})
    return figures.forest_figure(
        frame, name="h4_negativity", number=fmt.text,
        x_label=_("standardized effect on the relationship"),
        title=labels.label("H4", labels.HYPOTHESES, _),
        caption=_("Effects of negative and positive interactions on a common standardized "
                  "scale, with 95% confidence intervals."))


def hypothesis_sections(results: Mapping[str, Any], *, _: Translate,
                        fmt: NumberFormatter) -> list[HypothesisSection]:
    """One section per hypothesis present in the estimates, in plan order."""
    frame = estimates_frame(results)
    if frame.empty:
        return []
    present = list(dict.fromkeys(frame["hypothesis"]))
    ordered = [h for h in ORDER if h in present] + [h for h in present if h not in ORDER]
    sections = []
    for hypothesis in ordered:
        rows = frame[frame["hypothesis"] == hypothesis]
        drawn: list[ReportFigure | None] = []
        if hypothesis in ("H1", "H2"):
            drawn.append(gap_forest(rows, hypothesis, _=_, fmt=fmt))
        elif hypothesis == "H3":
            drawn.extend(path_diagrams(rows, _=_, fmt=fmt))
        elif hypothesis == "H4":
            drawn.append(negativity_forest(rows, _=_, fmt=fmt))
        table = estimate_table(rows, hypothesis, _=_, fmt=fmt)
        sections.append(HypothesisSection(
            hypothesis=hypothesis, title=_(labels.HYPOTHESES.get(hypothesis, hypothesis)),
            introduction=_(INTRODUCTIONS[hypothesis]) if hypothesis in INTRODUCTIONS else "",
            tables=(table,), figures=tuple(f for f in drawn if f is not None)))
    return sections


def summary_sentences(results: Mapping[str, Any], *, _: Translate,
                      fmt: NumberFormatter) -> list[Markup]:
    """Plain-language sentences for the key estimates of each hypothesis present."""
    frame = estimates_frame(results)
    if frame.empty:
        return []
    sentences = []
    gaps = frame["hypothesis"].isin(["H1", "H2"])
    headline = ~gaps | frame["contrast"].isin(["ses_ethnicity", ""])
    # the between-class indirect effects rest on few classes; they stay in the H3 tables
    headline &= ~((frame["hypothesis"] == "H3") & (frame["level"] == "between"))
    for _index, row in frame[headline].iterrows():
        sentence = _sentence(row, _=_, fmt=fmt)
        if sentence is not None:
            sentences.append(sentence)
    return sentences


def _format(template: str, **values: Any) -> Markup:
    return Markup.escape(template).format(**values)


def _sentence(row: pd.Series, *, _: Translate, fmt: NumberFormatter) -> Markup | None:
    hypothesis, effect = row["hypothesis"], row["effect"]
    if is_missing(row["estimate"]):
        return None
    ci = fmt.interval(row["ci_low"], row["ci_high"], (_key(row, "ci_low"), _key(row, "ci_high")))
    common = {"p": p_clause(row, fmt), "significance": significance(row, _), "ci": ci,
              "outcome": labels.label(row["outcome"], labels.OUTCOMES, _)}
    if hypothesis == "H1" and effect in GROUP_NOUNS:
        return _format(_("For {group}, the estimated {outcome} was {direction} than for the "
                         "comparison group: b = {b}, 95% CI {ci}, {p} ({significance})."),
                       group=_(GROUP_NOUNS[effect]), b=fmt.number(row["estimate"],
                                                                   _key(row, "estimate")),
                       direction=_("higher") if row["estimate"] > 0 else _("lower"), **common)
    if hypothesis == "H2" and effect in GROUP_NOUNS and not is_missing(row["ratio"]):
        ratio_ci = fmt.interval(row["ratio_ci_low"], row["ratio_ci_high"],
                                (_key(row, "ratio_ci_low"), _key(row, "ratio_ci_high")))
        group = _(GROUP_NOUNS[effect])
        return _format(_("{group} received {ratio} times as many {outcome} per hour as the "
                         "comparison group (95% CI {ratio_ci}, {p}; {significance})."),
                       group=group[:1].upper() + group[1:], ratio_ci=ratio_ci,
                       ratio=fmt.number(row["ratio"], _key(row, "ratio")), **common)
    if hypothesis == "H3" and effect == "indirect_total":
        return _format(_("Through interactions, {exposure} had an indirect effect on {outcome}"
                         "{level} of b = {b}, 95% CI {ci}, {p} ({significance})."),
                       exposure=labels.label(row["contrast"], labels.EFFECTS, _),
                       level=(" (" + labels.label(row["level"], labels.LEVELS, _) + ")")
                       if row["level"] else "",
                       b=fmt.number(row["estimate"], _key(row, "estimate")), **common)
    if hypothesis == "H4" and effect == "negativity_difference":
        return _format(_("For {outcome}, negative interactions weighed {comparison} than "
                         "positive ones: |b negative| − |b positive| = {b}, 95% CI {ci}, {p} "
                         "({significance})."),
                       comparison=_("more") if row["estimate"] > 0 else _("less"),
                       b=fmt.number(row["estimate"], _key(row, "estimate")), **common)
    if hypothesis == "H5" and effect == "index_moderated_mediation":
        return _format(_("Index of moderated mediation ({exposure}, {outcome}): {b}, 95% CI "
                         "{ci}, {p} ({significance})."),
                       exposure=labels.label(row["contrast"], labels.EFFECTS, _),
                       b=fmt.number(row["estimate"], _key(row, "estimate")), **common)
    return None


def model_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The models of ``results`` with formula, family and the estimate rows they produced."""
    frame = estimates_frame(results)
    out = []
    for model_id, text in dict(results.get("models", {})).items():
        formula, family = str(text), ""
        if formula.endswith("]") and " [" in formula:
            formula, _sep, family = formula[:-1].rpartition(" [")
        rows = frame[frame["model"] == model_id]
        out.append({"id": model_id, "formula": formula, "family": family,
                    "hypothesis": rows["hypothesis"].iloc[0] if len(rows) else
                    model_id.split("/")[0], "rows": rows["row"].tolist()})
    return out

