"""Names shown to readers for the variables, effects and hypotheses of the analysis plan.

Each label is an English gettext message id (marked with :func:`~classdyad.report.i18n.N_`) and
is translated where it is shown; names without a label are shown as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from classdyad.report.i18n import N_

Translate = Callable[[str], str]

HYPOTHESES: dict[str, str] = {
    "H1": N_("H1 Relationship quality by SES and ethnic background"),
    "H2": N_("H2 Daily interactions by SES and ethnic background"),
    "H3": N_("H3 Do interactions mediate the relationship gaps?"),
    "H4": N_("H4 Negativity bias: do negative interactions weigh more?"),
    "H5": N_("H5 Teachers' implicit attitudes as moderators"),
}

OUTCOMES: dict[str, str] = {
    "teacher_closeness": N_("closeness (teacher report)"),
    "teacher_conflict": N_("conflict (teacher report)"),
    "student_closeness": N_("closeness (student report)"),
    "student_conflict": N_("conflict (student report)"),
    "negative": N_("negative interactions"),
    "positive": N_("positive interactions"),
    "neutral": N_("neutral interactions"),
    "negative_rate": N_("negative interactions per hour"),
    "positive_rate": N_("positive interactions per hour"),
    "neutral_rate": N_("neutral interactions per hour"),
    "teacher_iat_ethnicity": N_("teachers' IAT D score (ethnicity)"),
    "teacher_iat_ses": N_("teachers' IAT D score (SES)"),
}

EFFECTS: dict[str, str] = {
    "low_ses": N_("low SES"),
    "non_western": N_("non-western background"),
    "turkish_moroccan": N_("Turkish or Moroccan background"),
    "direct": N_("direct effect (c')"),
    "total": N_("total effect (c)"),
    "indirect_total": N_("total indirect effect"),
    "proportion_mediated": N_("proportion mediated"),
    "b_negative": N_("negative interactions (b)"),
    "b_positive": N_("positive interactions (b)"),
    "negativity_difference": N_("|b negative| − |b positive|"),
    "index_moderated_mediation": N_("index of moderated mediation"),
    "a": N_("path a"),
    "b": N_("path b"),
    "indirect": N_("indirect effect"),
    "iat_ethnicity": N_("IAT ethnicity"),
    "iat_ses": N_("IAT SES"),
    "mean_d": N_("mean (t test against 0)"),
}

CONTRASTS: dict[str, str] = {
    "ses_ethnicity": N_("SES and non-western background together"),
    "turkish_moroccan_vs_dutch": N_("Turkish/Moroccan versus Dutch students"),
}

INFORMANTS: dict[str, str] = {
    "teacher": N_("teacher"),
    "student": N_("student"),
}

LEVELS: dict[str, str] = {
    "within": N_("within classes"),
    "between": N_("between classes"),
}

MIGRATION_BACKGROUNDS: dict[str, str] = {
    "dutch": N_("Dutch"),
    "western": N_("western"),
    "turkish": N_("Turkish"),
    "moroccan": N_("Moroccan"),
    "surinamese": N_("Surinamese"),
    "antillean_aruban": N_("Antillean/Aruban"),
    "other_non_western": N_("other non-western"),
}

#: the four background groups of the figures: (low SES, non-western) -> label
GROUPS: dict[tuple[bool, bool], str] = {
    (False, False): N_("not low SES, Dutch/western"),
    (True, False): N_("low SES, Dutch/western"),
    (False, True): N_("not low SES, non-western"),
    (True, True): N_("low SES, non-western"),
}


def label(name: object, table: dict[str, str], translate: Translate) -> str:
    """The translated label of ``name`` (its text when it has none)."""
    text = str(name)
    return translate(table[text]) if text in table else text


def effect_label(effect: object, translate: Translate) -> str:
    """Label of an estimate's effect, including composite names such as ``a:negative_rate``
    (path a through the negative-interaction mediator) or ``iat_ses:low_ses``."""
    text = str(effect)
    if text in EFFECTS:
        return translate(EFFECTS[text])
    head, _, tail = text.partition(":")
    if tail:
        first = label(head, EFFECTS, translate)
        second = label(tail, {**OUTCOMES, **EFFECTS}, translate)
        return f"{first} × {second}" if head.startswith("iat") else f"{first}: {second}"
    return text
