"""The replica study's design (its size knobs) and its generative model's true parameters.

The defaults reproduce the seed study (DESIGN.md): 32 schools, 73 classes, 1,566 students of
groep 6-8, three waves in one school year and about 183,000 coded interactions, most of them
neutral. Every number the generator draws from is a field here, written to ``truth.json`` beside
the data, so that any estimate can be checked against the value that produced it.

The generative model, per student *i* in class *j* and observed lesson *l* taught by teacher *t*:

* interactions with student *i* of valence *v* (positive, negative, neutral) are Poisson with mean
  ``hours_present(i, l) * exp(b0_v + b_v' x_i + u_jv + w_iv)`` where ``x_i`` holds low SES,
  Turkish/Moroccan, other non-western and boy indicators, ``u_jv ~ N(0, class_sd_v^2)`` is a class
  (teacher) effect and ``w_iv ~ N(0, student_sd_v^2)`` a persistent student effect; the lesson's
  length is the exposure (``log hours`` is the offset of a count model);
* group- and whole-class-directed events arrive at fixed rates per lesson hour;
* relationship quality in wave *w* (teacher-reported closeness and conflict, student-reported
  closeness and conflict, on the 1-5 scale of the questionnaires) is linear in the student's
  observed positive and negative interaction rates (per hour, with the rating teacher, in that
  wave) plus direct effects of the student's background and gender, and class, student and
  occasion (residual) random effects; teachers' IAT D scores enter nothing.

The default truth tells the seed study's published story (``seed/study-article-nl.txt``; the
claims are listed in :mod:`classdyad.study.published_findings`):

* low-SES students get more negative and fewer positive interactions; their teachers report
  less closeness and more conflict, partly through those interactions; they themselves report
  more conflict but not less closeness;
* Turkish and Moroccan students get more negative interactions (rate ratio 1.4), and their
  teachers' lower closeness and higher conflict run wholly through them (no direct effect);
* the other non-western students (Surinamese, Antillean/Aruban, other) get *fewer* negative
  interactions (rate ratio 0.7), so that non-western students as a whole, given SES, differ in
  neither positive nor negative interactions; they nevertheless get less closeness from their
  teachers (a direct gap, not through interactions), and all non-western students report less
  closeness themselves; their teachers report no more conflict (the other non-western
  students' fewer negative interactions, and a small direct effect, balance the Turkish and
  Moroccan students' higher conflict);
* interactions shape teacher-reported relationships only: the student-reported outcomes do not
  depend on the interaction rates; negative interactions weigh more than positive ones;
* questionnaire items scatter around the scale score (item noise), are rounded stochastically to
  the response scale (so that the expected item equals its latent value away from the bounds) and
  some are missing completely at random.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from classdyad.errors import DataError

ORIGINS = ("dutch", "western", "turkish", "moroccan", "surinamese", "antillean_aruban",
           "other_non_western")


@dataclass(frozen=True)
class ReplicaDesign:
    """Size and structure of a replica study (defaults: the seed study).

    ``scale`` multiplies schools, classes and students (``scale=10`` is a 10x study); the other
    knobs describe lessons, attendance, mobility and missing data.
    """

    schools: int = 32
    classes: int = 73
    students: int = 1566
    waves: int = 3
    lessons_per_wave: int = 3
    lesson_minutes: tuple[float, float] = (40.0, 65.0)
    school_year: int = 2023
    grades: tuple[int, ...] = (6, 7, 8)
    combination_class_share: float = 0.2
    duo_class_share: float = 0.25
    duo_partner_lesson_share: float = 0.4
    absence_rate: float = 0.06
    invisible_rate: float = 0.03
    leave_rate_per_wave: float = 0.03
    item_missing_rate: float = 0.02
    questionnaire_missing_rate: float = 0.03
    iat_missing_rate: float = 0.05
    second_coder_lesson_share: float = 0.04
    scale: float = 1.0
    class_size_shape: float = 8.0
    """Gamma shape of the classes' shares of the students beyond the minimum of 5 (higher: more
    equal class sizes; the sizes' SD is about ``(mean size - 5) / sqrt(class_size_shape)``)."""

    def __post_init__(self) -> None:
        if self.class_size_shape <= 0:
            raise DataError("ReplicaDesign.class_size_shape must be positive, e.g. 8")
        for name in ("schools", "classes", "students", "waves", "lessons_per_wave"):
            if getattr(self, name) < 1:
                raise DataError(f"ReplicaDesign.{name} must be at least 1")
        if self.scaled("classes") < self.scaled("schools"):
            raise DataError("ReplicaDesign: every school needs a class; give at least as many "
                            "classes as schools")
        if self.scaled("students") < 5 * self.scaled("classes"):
            raise DataError("ReplicaDesign: give at least 5 students per class")
        if self.scale <= 0:
            raise DataError("ReplicaDesign.scale must be positive, e.g. 1 (the seed study) or 10")
        for name in ("combination_class_share", "duo_class_share", "duo_partner_lesson_share",
                     "absence_rate", "invisible_rate", "leave_rate_per_wave", "item_missing_rate",
                     "questionnaire_missing_rate", "iat_missing_rate",
                     "second_coder_lesson_share"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise DataError(f"ReplicaDesign.{name}={value} must be in [0, 1)")
        low, high = self.lesson_minutes
        if not 0 < low <= high:
            raise DataError("ReplicaDesign.lesson_minutes must be (low, high) with 0 < low <= high")

    def scaled(self, name: str) -> int:
        """``schools``, ``classes`` or ``students`` multiplied by :attr:`scale`."""
        return max(1, round(getattr(self, name) * self.scale))


@dataclass(frozen=True)
class RateModel:
    """Log-linear model of one valence's student-directed interaction rate (per hour)."""

    rate_per_hour: float
    """Rate for a Dutch, not low-SES girl in an average class (``exp(b0)``)."""
    log_rate_ratio: dict[str, float]
    """Coefficients (log rate ratios) of ``low_ses``, ``turkish_moroccan``,
    ``other_non_western`` (non-western, not Turkish/Moroccan) and ``boy``."""
    class_sd: float
    student_sd: float

    def rate_ratio(self, term: str) -> float:
        """The true rate ratio of ``term``."""
        return math.exp(self.log_rate_ratio.get(term, 0.0))


@dataclass(frozen=True)
class OutcomeModel:
    """Linear model of one relationship scale score (1-5) in one wave."""

    intercept: float
    per_positive_per_hour: float
    per_negative_per_hour: float
    coefficients: dict[str, float]
    """Direct effects of ``non_western`` (every non-western student), ``turkish_moroccan`` and
    ``other_non_western`` (added to ``non_western`` for those students), ``low_ses``, ``boy``,
    the teacher's IAT scores ``iat_ethnicity`` and ``iat_ses`` and their interactions
    ``iat_ethnicity:non_western`` and ``iat_ses:low_ses`` (all IAT terms zero: implicit
    attitudes predict nothing)."""
    class_sd: float
    student_sd: float
    residual_sd: float
    equal_standardized_weights: bool = False
    """Ignore ``per_negative_per_hour`` and set it, in each drawn study, to
    ``-per_positive_per_hour * SD(positive rate) / SD(negative rate)``, the SDs of that study's
    observed rates (over the student x wave rows where both are observed, with n - 1): positive
    and negative interactions then weigh equally on the standardized scale of the plan's H4
    test in every sample, which is H4's null (see
    :func:`classdyad.simulate.power_effects.null_truth`)."""


def _rates() -> dict[str, RateModel]:
    return {
        "negative": RateModel(0.65, {"low_ses": math.log(1.35), "turkish_moroccan": math.log(1.4),
                                    "other_non_western": math.log(0.7), "boy": math.log(1.6)},
                              class_sd=0.35, student_sd=0.45),
        "positive": RateModel(1.5, {"low_ses": math.log(0.85), "turkish_moroccan": 0.0,
                                    "other_non_western": 0.0, "boy": math.log(1.05)},
                              class_sd=0.3, student_sd=0.3),
        "neutral": RateModel(9.8, {"low_ses": 0.0, "turkish_moroccan": 0.0,
                                   "other_non_western": 0.0, "boy": math.log(1.1)},
                             class_sd=0.25, student_sd=0.2),
    }


#: terms of the interaction-rate models (see :attr:`RateModel.log_rate_ratio`)
RATE_TERMS = ("low_ses", "turkish_moroccan", "other_non_western", "boy")
#: direct-effect terms of the outcome models (see :attr:`OutcomeModel.coefficients`)
OUTCOME_TERMS = ("non_western", "turkish_moroccan", "other_non_western", "low_ses", "boy",
                 "iat_ethnicity", "iat_ses", "iat_ethnicity:non_western", "iat_ses:low_ses")


def _no_iat(**direct: float) -> dict[str, float]:
    base = dict.fromkeys(OUTCOME_TERMS, 0.0)
    base.update(direct)
    return base


def _outcomes() -> dict[str, OutcomeModel]:
    return {
        "teacher_closeness": OutcomeModel(3.9, 0.04, -0.3,
                                          _no_iat(other_non_western=-0.23, low_ses=-0.06,
                                                  boy=-0.1),
                                          class_sd=0.2, student_sd=0.22, residual_sd=0.22),
        "teacher_conflict": OutcomeModel(1.8, -0.04, 0.35,
                                         _no_iat(other_non_western=-0.03, low_ses=0.04,
                                                 boy=0.1),
                                         class_sd=0.15, student_sd=0.22, residual_sd=0.22),
        "student_closeness": OutcomeModel(3.9, 0.0, 0.0, _no_iat(non_western=-0.12, boy=-0.1),
                                          class_sd=0.15, student_sd=0.3, residual_sd=0.25),
        "student_conflict": OutcomeModel(1.9, 0.0, 0.0, _no_iat(low_ses=0.12, boy=0.1),
                                         class_sd=0.1, student_sd=0.3, residual_sd=0.25),
    }


def _origin_shares() -> dict[str, float]:
    # Roughly the composition of Dutch primary schools in the larger cities (CBS StatLine,
    # pupils by migration background), with Turkish and Moroccan students over-represented as in
    # studies that sample on diversity.
    return {"dutch": 0.60, "western": 0.07, "turkish": 0.08, "moroccan": 0.08,
            "surinamese": 0.06, "antillean_aruban": 0.03, "other_non_western": 0.08}


def _low_ses_share() -> dict[str, float]:
    return {"dutch": 0.10, "western": 0.12, "turkish": 0.45, "moroccan": 0.45,
            "surinamese": 0.25, "antillean_aruban": 0.30, "other_non_western": 0.35}


@dataclass(frozen=True)
class ReplicaTruth:
    """The true parameters of the replica generator (see the module docstring)."""

    origin_shares: dict[str, float] = field(default_factory=_origin_shares)
    school_segregation: float = 8.0
    """Dirichlet concentration of schools' mixes of Dutch, western and non-western students
    around ``origin_shares`` (lower: more segregated schools); non-western students' groups
    follow the non-western groups' shares in every school."""
    low_ses_share: dict[str, float] = field(default_factory=_low_ses_share)
    boy_share: float = 0.5
    rates: dict[str, RateModel] = field(default_factory=_rates)
    group_events_per_hour: float = 14.0
    class_events_per_hour: float = 34.0
    group_class_valence_shares: dict[str, float] = field(
        default_factory=lambda: {"positive": 0.08, "negative": 0.06, "neutral": 0.86})
    outcomes: dict[str, OutcomeModel] = field(default_factory=_outcomes)
    item_sd: float = 0.45
    iat_mean: dict[str, float] = field(
        default_factory=lambda: {"ethnicity": 0.35, "ses": 0.25})
    """Mean D score of teachers per IAT kind (positive: pro-majority / pro-high-SES)."""
    iat_sd: float = 0.4
    iat_latency_ms: float = 750.0
    iat_latency_sd_ms: float = 220.0
    iat_error_rate: float = 0.06
    second_coder_miss_rate: float = 0.08
    second_coder_extra_rate: float = 0.05
    second_coder_jitter_sd: float = 0.6
    second_coder_valence_confusion: float = 0.07

    def __post_init__(self) -> None:
        if set(self.origin_shares) != set(ORIGINS):
            raise DataError(f"ReplicaTruth.origin_shares needs exactly the origins {ORIGINS}")
        if not math.isclose(sum(self.origin_shares.values()), 1.0, abs_tol=1e-9):
            raise DataError("ReplicaTruth.origin_shares must sum to 1")
        for valence, rate in self.rates.items():
            unknown = set(rate.log_rate_ratio) - set(RATE_TERMS)
            if unknown:
                raise DataError(f"ReplicaTruth.rates[{valence!r}] has unknown term(s) "
                                f"{sorted(unknown)}; use {', '.join(RATE_TERMS)}")
        for name, model in self.outcomes.items():
            unknown = set(model.coefficients) - set(OUTCOME_TERMS)
            if unknown:
                raise DataError(f"ReplicaTruth.outcomes[{name!r}] has unknown term(s) "
                                f"{sorted(unknown)}; use {', '.join(OUTCOME_TERMS)}")

    def to_dict(self) -> dict[str, Any]:
        """All parameters as plain JSON-ready values, plus derived rate ratios."""
        out = asdict(self)
        out["rate_ratios"] = {
            valence: {term: model.rate_ratio(term) for term in model.log_rate_ratio}
            for valence, model in self.rates.items()
        }
        return out
