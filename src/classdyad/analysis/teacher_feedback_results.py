"""The result of :func:`classdyad.analysis.teacher_feedback`, and its guidance messages.

:class:`TeacherFeedbackResult` holds every table of one teacher's feedback at full precision;
:data:`GUIDANCE_MESSAGES` are the plain-language sentences tied to the findings, as English
message templates (``%(name)s`` placeholders) that the report translates with its gettext
catalog (Dutch: ``classdyad/report/locale/nl``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["FIT_NOTES", "GUIDANCE_MESSAGES", "TeacherFeedbackResult"]

#: the reasons a class, wave and valence gets a note (the ``note`` column of ``classes``)
FIT_NOTES = {
    "singular": "no variation between students beyond chance: every student gets the class rate",
    "few_students": "fewer than three students observed: no model",
    "no_events": "no interactions of this kind observed",
}

#: topic -> English message template; placeholders: students (a list), classroom, wave, first,
#: last (waves), ratio (a number), share (a proportion)
GUIDANCE_MESSAGES: dict[str, str] = {
    "flagged": (
        "Fewer corrections for %(students)s: in class %(classroom)s, wave %(wave)s, your negative "
        "interactions with them were credibly more frequent than with a typical student of the "
        "class. Preventing negative interactions matters more than adding positive ones: "
        "anticipate the moments that lead to a correction (clear routines, a quiet word, a "
        "signal agreed in advance)."),
    "no_flags": (
        "In class %(classroom)s, wave %(wave)s, no student had credibly more negative "
        "interactions with you than a typical student of the class."),
    "ratio_low": (
        "In class %(classroom)s, wave %(wave)s, you had %(ratio)s positive interactions for "
        "every negative one. Be warm and demanding at once: friendly and supportive while "
        "keeping the structure, and say what goes well."),
    "concentrated": (
        "In class %(classroom)s, wave %(wave)s, %(share)s of your negative interactions went "
        "to the most-corrected fifth of the class. Check whether these students get enough "
        "chances for a positive contact as well."),
    "negative_down": (
        "Your negative interactions in class %(classroom)s became credibly less frequent from "
        "wave %(first)s to wave %(last)s (%(ratio)s times the earlier rate). Keep it up."),
    "negative_up": (
        "Your negative interactions in class %(classroom)s became credibly more frequent from "
        "wave %(first)s to wave %(last)s (%(ratio)s times the earlier rate). Look at what "
        "changed in the class or in the lessons."),
    "underrated_conflict": (
        "You rated little conflict with %(students)s (class %(classroom)s, wave %(wave)s), but "
        "more negative interactions were observed with them than with most classmates. Look at "
        "those moments with fresh eyes."),
    "overrated_conflict": (
        "You rated more conflict with %(students)s (class %(classroom)s, wave %(wave)s) than "
        "the observations show: few negative interactions were seen. The relationship may be "
        "better than it feels; tell them what goes well."),
    "little_time": (
        "%(students)s were observed for less than an hour in class %(classroom)s, wave "
        "%(wave)s; their estimates lean on the class as a whole."),
}


def _html_table(frame: pd.DataFrame, caption: str) -> str:
    return f"<h4>{caption}</h4>" + frame.to_html(index=False, na_rep="", float_format="%.4g")


@dataclass(frozen=True, eq=False)
class TeacherFeedbackResult:
    """One teacher's feedback: per-student rates with honest uncertainty, and what they mean.

    Every table is at full precision (the report rounds). Students are known by their codes.

    Attributes
    ----------
    students
        One row per class, wave, student and valence: ``count, minutes, rate`` (observed per
        hour present), ``shrunken_rate`` (the conditional mode of the Poisson GLMM,
        ``exp(b0 + b_s)`` per hour), ``ci_low, ci_high`` (its posterior interval, integrating
        over the class's parameters), ``log_effect`` and ``effect_sd`` (the conditional mode of
        the student's random effect and its conditional standard deviation, as lme4's
        ``ranef(condVar = TRUE)``), ``log_rate_sd`` (posterior SD of the log rate),
        ``laplace_sd`` and ``laplace_effect_sd`` (SDs of ``b0 + b_s`` and ``b_s`` under the joint
        Laplace approximation), ``prob_above`` (posterior probability that the student's rate is
        above the class's typical rate), ``q_value`` (Benjamini-Hochberg) and ``flag`` (negative
        valence only).
    classes
        One row per class, wave and valence: the class's typical rate ``exp(b0)`` with its Wald
        interval, the between-student standard deviation (log scale), totals, and fit notes.
    flagged
        The students whose negative rate is credibly above the class's (the rule is
        :attr:`flag_rule_text`); never a ranking of all students.
    spread
        One row per class and wave: Gini coefficient of interactions per hour, share of the
        negative interactions going to the most-corrected fifth, positive : negative ratio
        (observed, and of the typical rates with interval), and the rank correlations of the
        teacher's ratings with the observed rates.
    lorenz
        The Lorenz curve of interactions per hour per class and wave.
    student_trends, class_trends
        Change from each student's (class's) first to last observed wave, as a rate ratio with
        interval.
    perceived
        The teacher's closeness and conflict ratings beside the shrunken positive and negative
        rates, with standardized gaps (``gap_conflict``: observed negative minus rated conflict;
        ``gap_closeness``: observed positive minus rated closeness; in SD units within the class).
    disagreements
        The students where rating and observation disagree most (at most three per class, wave
        and aspect, gaps of at least one SD).
    groups
        Background-group summaries after small-cell suppression, or ``None`` (the default: a
        teacher's feedback holds no background groups unless the study enables them).
    guidance
        One row per piece of advice: ``topic`` (a key of :data:`GUIDANCE_MESSAGES`),
        ``classroom, wave, first, last, students, ratio, share``.
    notes
        Fit notes (singular fits, cells without interactions), in English.
    progress
        Progress on the teacher's coaching goals
        (:func:`classdyad.analysis.goal_progress.goal_progress`), or ``None`` (no goals given).
    """

    teacher: str | None
    students: pd.DataFrame = field(repr=False)
    classes: pd.DataFrame = field(repr=False)
    flagged: pd.DataFrame = field(repr=False)
    spread: pd.DataFrame = field(repr=False)
    lorenz: pd.DataFrame = field(repr=False)
    student_trends: pd.DataFrame = field(repr=False)
    class_trends: pd.DataFrame = field(repr=False)
    perceived: pd.DataFrame = field(repr=False)
    disagreements: pd.DataFrame = field(repr=False)
    groups: pd.DataFrame | None = field(repr=False)
    guidance: pd.DataFrame = field(repr=False)
    notes: tuple[str, ...]
    flag_rule: str
    flag_level: float
    confidence_level: float
    min_cell: int
    progress: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def flag_rule_text(self) -> str:
        """The flag's rule in one English sentence."""
        if self.flag_rule == "posterior":
            return (f"flagged when the posterior probability that the student's negative rate "
                    f"is above the class's typical rate exceeds {self.flag_level:g} (Poisson "
                    "model with the class's rate and spread integrated out)")
        return (f"flagged when the Benjamini-Hochberg q value of the one-sided test 'rate above "
                f"the class's typical rate' is at most {1.0 - self.flag_level:g}")

    def to_frame(self) -> pd.DataFrame:
        """The per-student estimates (a copy of :attr:`students`)."""
        return self.students.copy()

    def to_dict(self) -> dict[str, Any]:
        """Every number as JSON-ready values at full precision (missing values as ``None``)."""
        def records(frame: pd.DataFrame | None) -> list[dict[str, Any]] | None:
            if frame is None:
                return None
            return [{k: _plain(v) for k, v in row.items()}
                    for row in frame.to_dict(orient="records")]

        return {
            "teacher": self.teacher,
            "flag_rule": self.flag_rule,
            "flag_rule_text": self.flag_rule_text,
            "flag_level": self.flag_level,
            "confidence_level": self.confidence_level,
            "min_cell": self.min_cell,
            "students": records(self.students),
            "classes": records(self.classes),
            "flagged": records(self.flagged),
            "spread": records(self.spread),
            "lorenz": records(self.lorenz),
            "student_trends": records(self.student_trends),
            "class_trends": records(self.class_trends),
            "perceived": records(self.perceived),
            "disagreements": records(self.disagreements),
            "groups": records(self.groups),
            "guidance": records(self.guidance),
            "notes": list(self.notes),
            "progress": records(self.progress),
        }

    def _repr_html_(self) -> str:
        title = f"Teacher feedback: {self.teacher}" if self.teacher else "Teacher feedback"
        parts = [f"<h3>{title}</h3>", f"<p>{self.flag_rule_text}</p>",
                 _html_table(self.classes, "Classes"),
                 _html_table(self.flagged, "Flagged students"),
                 _html_table(self.spread, "Spread"),
                 _html_table(self.students, "Students")]
        return "\n".join(parts)


def _plain(value: Any) -> Any:
    """A JSON-ready scalar (numpy types unwrapped; NaN, NA and None as None)."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
