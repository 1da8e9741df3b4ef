"""The seed study's published findings as data, and a check of an analysis against each of them.

The seed study (Social Psychology of Education, 2026; its news summary, in Dutch, is
``seed/study-article-nl.txt``) reports qualitative findings: a gap is there or it is not, an
effect runs through interactions or it does not. Each finding is a :class:`PublishedClaim` with
its wording in English and Dutch and one or more :class:`ClaimCheck` s: the estimate of the
analysis plan (:func:`classdyad.study.plan.study_plan`) that decides it, named by the plan's
table keys (hypothesis, outcome, effect, contrast, level), and the rule it must meet:

``significant_positive`` / ``significant_negative``
    the Benjamini-Hochberg adjusted p value over the whole plan (``p_fdr``) is below
    ``alpha`` (.05) and the estimate has that sign;
``not_significant``
    ``p_fdr`` is at least ``alpha`` (the published study found no difference; a
    non-significant estimate does not show that the effect is absent, only that the analysis
    agrees with the published finding).

A claim agrees when every one of its checks does. The wording paraphrases the news summary; the
mediation claims use the within-class indirect and direct effects (the plan's headline level).
:func:`compare_with_published` checks a plan's results against every claim;
:func:`classdyad.simulate.claim_reproduction.reproduce_published_findings` measures how often
a design reproduces each claim (its power for it).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from classdyad.errors import DataError, check_option

Rule = Literal["significant_positive", "significant_negative", "not_significant"]
RULES: tuple[Rule, ...] = ("significant_positive", "significant_negative", "not_significant")
#: what an estimate was found to be: a rule, or ``not_estimated`` (no such row, or no p value)
Found = Literal["significant_positive", "significant_negative", "not_significant",
                "not_estimated"]
ALPHA = 0.05
SES = "ses_ethnicity"
TURKISH_MOROCCAN = "turkish_moroccan_vs_dutch"


@dataclass(frozen=True)
class ClaimCheck:
    """One estimate of the analysis plan and the rule it must meet.

    ``hypothesis``, ``outcome``, ``effect``, ``contrast`` and ``level`` name one row of the
    plan's estimate table (``level`` is empty except for mediation rows).
    """

    hypothesis: str
    outcome: str
    effect: str
    contrast: str
    rule: Rule
    level: str = ""

    def __post_init__(self) -> None:
        check_option("rule", self.rule, RULES)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """The row's key in the plan's table."""
        return (self.hypothesis, self.outcome, self.effect, self.contrast, self.level)


@dataclass(frozen=True)
class PublishedClaim:
    """One published finding: wording in English and Dutch, and the checks that decide it."""

    id: str
    topic: str
    english: str
    dutch: str
    checks: tuple[ClaimCheck, ...]

    def text(self, language: str) -> str:
        """The claim's wording in ``language`` (``"en"`` or ``"nl"``)."""
        return self.dutch if language == "nl" else self.english


def _h1(outcome: str, effect: str, rule: Rule) -> ClaimCheck:
    contrast = TURKISH_MOROCCAN if effect == "turkish_moroccan" else SES
    return ClaimCheck("H1", outcome, effect, contrast, rule)


def _h2(valence: str, effect: str, rule: Rule) -> ClaimCheck:
    contrast = TURKISH_MOROCCAN if effect == "turkish_moroccan" else SES
    return ClaimCheck("H2", valence, effect, contrast, rule)


def _h3(outcome: str, exposure: str, effect: str, rule: Rule) -> ClaimCheck:
    return ClaimCheck("H3", outcome, effect, exposure, rule, level="within")


def _h4(outcome: str, effect: str, rule: Rule) -> ClaimCheck:
    return ClaimCheck("H4", outcome, effect, "", rule)


POS: Rule = "significant_positive"
NEG: Rule = "significant_negative"
NS: Rule = "not_significant"

#: every published claim of the seed study, in the order of the news summary
PUBLISHED_CLAIMS: tuple[PublishedClaim, ...] = (
    PublishedClaim(
        "ses-teacher-closeness", "ses",
        "Teachers report less closeness with low-SES students.",
        "Leraren rapporteren minder nabijheid met leerlingen met een lage sociaaleconomische "
        "status (SES).",
        (_h1("teacher_closeness", "low_ses", NEG),)),
    PublishedClaim(
        "ses-teacher-conflict", "ses",
        "Teachers report more conflict with low-SES students.",
        "Leraren rapporteren meer conflict met leerlingen met een lage SES.",
        (_h1("teacher_conflict", "low_ses", POS),)),
    PublishedClaim(
        "ses-student-conflict", "ses",
        "Low-SES students themselves report more conflict with their teacher.",
        "Leerlingen met een lage SES rapporteren zelf meer conflict met hun leraar.",
        (_h1("student_conflict", "low_ses", POS),)),
    PublishedClaim(
        "ses-student-closeness", "ses",
        "Low-SES students do not report less closeness than other students.",
        "Leerlingen met een lage SES rapporteren niet minder nabijheid dan andere leerlingen.",
        (_h1("student_closeness", "low_ses", NS),)),
    PublishedClaim(
        "non-western-closeness", "ethnicity",
        "Students with a non-western background report less closeness with their teacher, "
        "and their teachers report less closeness too.",
        "Leerlingen met een niet-westerse achtergrond rapporteren minder nabijheid met hun "
        "leraar, en hun leraren ook.",
        (_h1("student_closeness", "non_western", NEG),
         _h1("teacher_closeness", "non_western", NEG))),
    PublishedClaim(
        "non-western-teacher-conflict", "ethnicity",
        "Teachers report no more conflict with non-western students as a whole.",
        "Leraren rapporteren met niet-westerse leerlingen als geheel niet meer conflict.",
        (_h1("teacher_conflict", "non_western", NS),)),
    PublishedClaim(
        "ses-interactions", "ses",
        "Teachers have more negative and fewer positive interactions with low-SES students.",
        "Leraren hebben met leerlingen met een lage SES meer negatieve en minder positieve "
        "interacties.",
        (_h2("negative", "low_ses", POS), _h2("positive", "low_ses", NEG))),
    PublishedClaim(
        "ses-mediation-teacher", "ses",
        "Interactions partly explain the lower closeness and higher conflict that teachers "
        "report with low-SES students.",
        "Interacties verklaren deels de lagere nabijheid en het hogere conflict die leraren "
        "rapporteren met leerlingen met een lage SES.",
        (_h3("teacher_closeness", "low_ses", "indirect_total", NEG),
         _h3("teacher_conflict", "low_ses", "indirect_total", POS))),
    PublishedClaim(
        "ses-mediation-student", "ses",
        "Interactions do not explain how low-SES students themselves rate the relationship.",
        "Interacties verklaren niet hoe leerlingen met een lage SES de relatie zelf "
        "beoordelen.",
        (_h3("student_closeness", "low_ses", "indirect_total", NS),
         _h3("student_conflict", "low_ses", "indirect_total", NS))),
    PublishedClaim(
        "non-western-interactions", "ethnicity",
        "Non-western students as a whole do not differ in positive or negative interactions.",
        "Niet-westerse leerlingen als geheel verschillen niet in positieve of negatieve "
        "interacties.",
        (_h2("negative", "non_western", NS), _h2("positive", "non_western", NS))),
    PublishedClaim(
        "non-western-no-mediation", "ethnicity",
        "Interactions do not explain why non-western students experience less closeness.",
        "Interacties verklaren niet waarom niet-westerse leerlingen minder nabijheid ervaren.",
        (_h3("teacher_closeness", "non_western", "indirect_total", NS),
         _h3("student_closeness", "non_western", "indirect_total", NS))),
    PublishedClaim(
        "turkish-moroccan-teacher-relationship", "turkish_moroccan",
        "Teachers report less closeness and more conflict with Turkish and Moroccan students "
        "than with Dutch students.",
        "Leraren rapporteren met Turkse en Marokkaanse leerlingen minder nabijheid en meer "
        "conflict dan met Nederlandse leerlingen.",
        (_h1("teacher_closeness", "turkish_moroccan", NEG),
         _h1("teacher_conflict", "turkish_moroccan", POS))),
    PublishedClaim(
        "turkish-moroccan-negative-interactions", "turkish_moroccan",
        "Teachers have more negative interactions with Turkish and Moroccan students.",
        "Leraren hebben meer negatieve interacties met Turkse en Marokkaanse leerlingen.",
        (_h2("negative", "turkish_moroccan", POS),)),
    PublishedClaim(
        "turkish-moroccan-full-mediation", "turkish_moroccan",
        "Negative interactions fully explain the teacher-reported differences for Turkish and "
        "Moroccan students: an indirect effect through negative interactions and no direct "
        "effect left.",
        "Negatieve interacties verklaren de door leraren gerapporteerde verschillen voor "
        "Turkse en Marokkaanse leerlingen volledig: een indirect effect via negatieve "
        "interacties en geen direct effect meer.",
        (_h3("teacher_closeness", "turkish_moroccan", "indirect:negative_rate", NEG),
         _h3("teacher_closeness", "turkish_moroccan", "direct", NS),
         _h3("teacher_conflict", "turkish_moroccan", "indirect:negative_rate", POS),
         _h3("teacher_conflict", "turkish_moroccan", "direct", NS))),
    PublishedClaim(
        "negative-interactions-relationship", "interactions",
        "More negative interactions go with less closeness and more conflict (teacher "
        "report).",
        "Meer negatieve interacties gaan samen met minder nabijheid en meer conflict "
        "(rapportage door de leraar).",
        (_h4("teacher_closeness", "b_negative", NEG),
         _h4("teacher_conflict", "b_negative", POS))),
    PublishedClaim(
        "positive-interactions-conflict", "interactions",
        "Positive interactions go with less conflict as the teacher reports it.",
        "Positieve interacties gaan samen met minder conflict zoals de leraar dat rapporteert.",
        (_h4("teacher_conflict", "b_positive", NEG),)),
    PublishedClaim(
        "negativity-bias", "interactions",
        "Negative interactions weigh more than positive ones (negativity bias).",
        "Negatieve interacties wegen zwaarder dan positieve (negativiteitsbias).",
        (_h4("teacher_closeness", "negativity_difference", POS),
         _h4("teacher_conflict", "negativity_difference", POS))),
    PublishedClaim(
        "implicit-attitudes-majority", "implicit_attitudes",
        "On average, teachers' implicit attitudes favour the majority group (ethnic majority, "
        "higher SES).",
        "Gemiddeld hebben leraren een impliciete voorkeur voor de meerderheidsgroep "
        "(etnische meerderheid, hogere SES).",
        (ClaimCheck("H5", "teacher_iat_ethnicity", "mean_d", "", POS),
         ClaimCheck("H5", "teacher_iat_ses", "mean_d", "", POS))),
    PublishedClaim(
        "implicit-attitudes-behaviour", "implicit_attitudes",
        "Teachers' implicit attitudes are not related to their negative interactions.",
        "De impliciete attitudes van leraren hangen niet samen met hun negatieve interacties.",
        (ClaimCheck("H5", "negative_rate", "iat_ethnicity", "non_western", NS),
         ClaimCheck("H5", "negative_rate", "iat_ses", "low_ses", NS))),
    PublishedClaim(
        "implicit-attitudes-moderation", "implicit_attitudes",
        "Teachers' implicit attitudes neither strengthen nor weaken the link between students' "
        "background and their interactions with the teacher.",
        "De impliciete attitudes van leraren versterken of verzwakken het verband tussen de "
        "achtergrond van leerlingen en hun interacties met de leraar niet.",
        (ClaimCheck("H5", "negative_rate", "iat_ethnicity:non_western", "non_western", NS),
         ClaimCheck("H5", "negative_rate", "iat_ses:low_ses", "low_ses", NS))),
)

CHECK_COLUMNS = ["claim", "check", "hypothesis", "outcome", "effect", "contrast", "level",
                 "rule", "row", "estimate", "ci_low", "ci_high", "p_value", "p_fdr", "found",
                 "agrees"]
CLAIM_COLUMNS = ["claim", "topic", "english", "dutch", "checks", "agreeing_checks", "agrees"]


@dataclass(frozen=True)
class PublishedComparison:
    """How an analysis compares with every published claim.

    Attributes
    ----------
    claims
        One row per claim: id, topic, wording in English and Dutch, number of checks, number
        agreeing, and whether the claim agrees (every check does).
    checks
        One row per check: the claim, the estimate's table key, the rule, the row of the
        plan's estimate table it used (``row``; missing when not estimated), the estimate, its
        95 % interval, p and FDR-adjusted p, what was found and whether it agrees.
    alpha
        The significance level applied to the FDR-adjusted p values.
    """

    claims: pd.DataFrame
    checks: pd.DataFrame
    alpha: float

    @property
    def all_agree(self) -> bool:
        """Whether every claim agrees."""
        return bool(self.claims["agrees"].all())

    @property
    def n_agreeing(self) -> int:
        """The number of claims that agree."""
        return int(self.claims["agrees"].sum())

    def to_frame(self) -> pd.DataFrame:
        """One row per check (a copy of :attr:`checks`)."""
        return self.checks.copy()

    def _repr_html_(self) -> str:
        return (f"<p><b>Compared with the published study</b>: {self.n_agreeing} of "
                f"{len(self.claims)} claims agree (alpha {self.alpha:g} after FDR)</p>"
                + self.checks.to_html(index=False))


def estimates_table(results: Any) -> pd.DataFrame:
    """The plan's estimate table from a result, a results mapping, a table or a JSON path.

    Parameters
    ----------
    results
        A :class:`~classdyad.study.plan.StudyPlanResult`, the mapping of ``results.json``
        (with its ``estimates``), the estimate table itself, or the path of ``results.json``.

    Returns
    -------
    DataFrame
        The estimates, with a fresh positional index (the row numbers of ``results.json``).
    """
    from classdyad.study.plan import StudyPlanResult

    if isinstance(results, StudyPlanResult):
        table = results.estimates
    elif isinstance(results, pd.DataFrame):
        table = results
    elif isinstance(results, str | os.PathLike):
        with open(results, encoding="utf-8") as handle:
            table = pd.DataFrame(json.load(handle).get("estimates", []))
    elif isinstance(results, Mapping):
        table = pd.DataFrame(list(results.get("estimates", [])))
    else:
        raise DataError(f"results must be a StudyPlanResult, the mapping or path of "
                        f"results.json, or its estimate table, not {type(results).__name__}; "
                        "run the analysis plan first")
    needed = {"hypothesis", "outcome", "effect", "contrast", "level", "estimate", "p_fdr"}
    missing = sorted(needed - set(table.columns))
    if missing and len(table):
        raise DataError(f"the estimate table lacks column(s) {', '.join(missing)}; pass the "
                        "results of classdyad.study.study_plan (or its results.json)")
    return table.reset_index(drop=True)


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def classify(estimate: float, p_fdr: float, *, alpha: float = ALPHA) -> Found:
    """What an estimate shows at ``alpha`` after the FDR correction (see the module docstring)."""
    if math.isnan(p_fdr) or math.isnan(estimate):
        return "not_estimated"
    if p_fdr < alpha:
        return "significant_positive" if estimate > 0 else "significant_negative"
    return "not_significant"


def compare_with_published(results: Any, *,
                           claims: Sequence[PublishedClaim] = PUBLISHED_CLAIMS,
                           alpha: float = ALPHA) -> PublishedComparison:
    """Check an analysis plan's results against every published claim.

    Parameters
    ----------
    results
        The plan's results (see :func:`estimates_table`).
    claims
        The claims to check; default :data:`PUBLISHED_CLAIMS`.
    alpha
        Significance level for the FDR-adjusted p values.

    Returns
    -------
    PublishedComparison
        A check whose estimate is missing from the results (or has no p value) does not agree.
    """
    if not 0.0 < alpha < 1.0:
        raise DataError(f"alpha must be between 0 and 1, e.g. 0.05; got {alpha!r}")
    table = estimates_table(results)
    index: dict[tuple[str, ...], int] = {}
    for position, row in enumerate(table.itertuples(index=False)):
        key = tuple(_text(getattr(row, c)) for c in ("hypothesis", "outcome", "effect",
                                                     "contrast", "level"))
        index.setdefault(key, position)
    check_rows, claim_rows = [], []
    for claim in claims:
        agreeing = 0
        for number, check in enumerate(claim.checks, start=1):
            position = index.get(check.key)
            values = {c: math.nan for c in ("estimate", "ci_low", "ci_high", "p_value",
                                            "p_fdr")}
            if position is not None:
                source = table.iloc[position]
                values = {c: _number(source.get(c)) for c in values}
            found = classify(values["estimate"], values["p_fdr"], alpha=alpha)
            agrees = found == check.rule
            agreeing += agrees
            check_rows.append({
                "claim": claim.id, "check": number, "hypothesis": check.hypothesis,
                "outcome": check.outcome, "effect": check.effect, "contrast": check.contrast,
                "level": check.level, "rule": check.rule,
                "row": position if position is not None else pd.NA, **values,
                "found": found, "agrees": agrees})
        claim_rows.append({"claim": claim.id, "topic": claim.topic, "english": claim.english,
                           "dutch": claim.dutch, "checks": len(claim.checks),
                           "agreeing_checks": agreeing,
                           "agrees": agreeing == len(claim.checks)})
    checks = pd.DataFrame(check_rows, columns=CHECK_COLUMNS)
    checks["row"] = checks["row"].astype("Int64")
    return PublishedComparison(claims=pd.DataFrame(claim_rows, columns=CLAIM_COLUMNS),
                               checks=checks, alpha=alpha)


__all__ = ["ALPHA", "PUBLISHED_CLAIMS", "RULES", "ClaimCheck", "PublishedClaim",
           "PublishedComparison", "classify", "compare_with_published", "estimates_table"]
