"""A teacher's private feedback page: one self-contained HTML file, in English or Dutch.

:func:`feedback_page` turns a :class:`~classdyad.analysis.TeacherFeedbackResult` into a page
with the guidance first, then per class and wave the students' shrunken negative and positive
rates with intervals (students in the order of their name or code, never ranked), the flagged
students, the spread of interactions (Gini, Lorenz curve, most-corrected fifth, positive :
negative ratio), the teacher's own ratings beside what was observed, trends over the waves, and
how to read it all. Figures are inline SVG (:mod:`classdyad.report.feedback_figures`); the page
loads nothing from the network. Students' names are shown only when given (``names``: the
teacher's own students); the JSON of :meth:`TeacherFeedbackResult.to_dict` never holds names.
Numbers are rounded here, with the language's decimal mark.
"""

from __future__ import annotations

import datetime as _datetime
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from classdyad.analysis.teacher_feedback_results import GUIDANCE_MESSAGES, TeacherFeedbackResult
from classdyad.errors import check_option
from classdyad.report.feedback_figures import (
    IntervalRow,
    interval_chart,
    lorenz_chart,
    trend_chart,
)
from classdyad.report.i18n import LANGUAGES, Language, translations
from classdyad.report.numbers import NumberFormatter

__all__ = ["FEEDBACK_STYLESHEET", "FeedbackPage", "Moment", "feedback_fragment",
           "feedback_page"]

TEMPLATES = Path(__file__).parent / "templates"
#: the feedback's styles (scoped to ``.feedback``), for pages that embed the fragment
FEEDBACK_STYLESHEET = TEMPLATES / "feedback.css"

#: (classroom, wave, student code) -> links to moments: ``{"href": ..., "label": ...}``
Moment = dict[str, str]

_PROGRESS_STATUS = {
    "credible_progress": "credible progress",
    "no_credible_change": "no credible change",
    "credibly_worse": "credibly the other way",
    "not_observed_yet": "the goal's wave is not observed yet",
    "no_baseline": "no earlier wave to compare with",
    "not_observed": "not observed in both waves",
}


@dataclass(frozen=True)
class FeedbackPage:
    """A written feedback page: ``html`` (self-contained) and the result's JSON values."""

    html: str = field(repr=False)
    language: str
    teacher: str | None
    data: dict[str, Any] = field(repr=False)

    def save(self, path: str | Path, *, json_path: str | Path | None = None) -> Path:
        """Write the HTML to ``path`` (and the full-precision JSON to ``json_path``)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.html, encoding="utf-8")
        if json_path is not None:
            Path(json_path).write_text(json.dumps(self.data, indent=1, allow_nan=False),
                                       encoding="utf-8")
        return target

    def _repr_html_(self) -> str:
        return self.html


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


class _Page:
    """Formatting helpers bound to one language and one set of names."""

    def __init__(self, result: TeacherFeedbackResult, language: str,
                 names: Mapping[str, str] | None,
                 moments: Mapping[tuple[str, int, str], list[Moment]] | None = None):
        self.result = result
        self.moments = dict(moments or {})
        self.language = language
        self.gettext = translations(language).gettext  # type: ignore[arg-type]
        self.numbers = NumberFormatter(language)
        self.names = dict(names or {})

    def _(self, message: str, **values: Any) -> str:
        text = self.gettext(message)
        return text % values if values else text

    def student(self, code: str) -> str:
        name = self.names.get(str(code))
        return f"{name} ({code})" if name else str(code)

    def students(self, codes: Any) -> str:
        if not isinstance(codes, list | tuple):
            return ""
        labels = [self.student(c) for c in codes]
        if len(labels) <= 1:
            return "".join(labels)
        return ", ".join(labels[:-1]) + " " + self._("and") + " " + labels[-1]

    def text(self, value: Any, digits: int = 2) -> str:
        return self.numbers.text(float(value), digits) if _finite(value) else "–"

    def rate(self, value: Any, low: Any = None, high: Any = None) -> Markup:
        if not _finite(value):
            return Markup("–")
        shown = Markup(self.text(value))
        if _finite(low) and _finite(high):
            separator = "; " if self.language == "nl" else ", "
            shown += Markup(" [{}{}{}]").format(self.text(low), separator, self.text(high))
        return shown

    def percent(self, value: Any) -> str:
        return f"{self.text(100.0 * float(value), 0)} %" if _finite(value) else "–"

    def valence(self, valence: str) -> str:
        return {"negative": self._("negative"), "positive": self._("positive"),
                "neutral": self._("neutral")}[valence]

    def guidance(self) -> list[str]:
        items = []
        for row in self.result.guidance.itertuples(index=False):
            values = {"students": self.students(row.students),
                      "classroom": row.classroom,
                      "wave": "" if pd.isna(row.wave) else int(row.wave),
                      "first": "" if pd.isna(row.first) else int(row.first),
                      "last": "" if pd.isna(row.last) else int(row.last),
                      "ratio": self.text(row.ratio, 1) if _finite(row.ratio) else "",
                      "share": self.percent(row.share)}
            items.append(self.gettext(GUIDANCE_MESSAGES[row.topic]) % values)
        return items

    def notes(self) -> list[str]:
        notes = []
        for row in self.result.classes.itertuples(index=False):
            if row.note:
                notes.append(self._("class %(classroom)s, wave %(wave)s, %(valence)s: %(note)s",
                                    classroom=row.classroom, wave=row.wave,
                                    valence=self.valence(row.valence),
                                    note=self.gettext(row.note)))
        return notes

    def section(self, classroom: str, wave: int) -> dict[str, Any]:
        result, _ = self.result, self._
        students = result.students[(result.students["classroom"] == classroom)
                                   & (result.students["wave"] == wave)]
        classes = result.classes[(result.classes["classroom"] == classroom)
                                 & (result.classes["wave"] == wave)].set_index("valence")
        order = sorted(students["student"].unique(), key=lambda c: (self.student(c).lower(), c))
        by = {(r["student"], r["valence"]): r for r in students.to_dict(orient="records")}
        charts = []
        for valence in ("negative", "positive"):
            cls = classes.loc[valence]
            rows = []
            for code in order:
                est = by[(code, valence)]
                rows.append(IntervalRow(self.student(code), float(est["shrunken_rate"]),
                                        float(est["ci_low"]), float(est["ci_high"]),
                                        bool(est["flag"])))
            label = self.valence(valence)
            charts.append(interval_chart(
                rows, title=_("%(valence)s interactions per hour, class %(classroom)s, wave "
                              "%(wave)s", valence=label, classroom=classroom, wave=wave),
                axis_label=_("%(valence)s interactions per hour (shrunken, with 95 %% interval)",
                             valence=label),
                class_rate=float(cls["rate"]), class_low=float(cls["ci_low"]),
                class_high=float(cls["ci_high"]), class_label=_("typical student"),
                number=self.numbers.text))
        table = []
        for code in order:
            cells = {"student": self.student(code)}
            cells["minutes"] = self.text(by[(code, "negative")]["minutes"], 0)
            for valence in ("negative", "positive", "neutral"):
                row = by[(code, valence)]
                cells[f"{valence}_count"] = self.text(row["count"], 0)
                cells[f"{valence}_rate"] = self.text(row["rate"])
                cells[f"{valence}_shrunken"] = self.rate(row["shrunken_rate"], row["ci_low"],
                                                         row["ci_high"])
            cells["flag"] = bool(by[(code, "negative")]["flag"])
            table.append(cells)
        spread = result.spread[(result.spread["classroom"] == classroom)
                               & (result.spread["wave"] == wave)]
        facts = None
        lorenz = None
        if len(spread):
            s = spread.iloc[0]
            facts = {"students": int(s["students"]), "gini": self.text(s["gini"]),
                     "top_fifth": self.percent(s["top_fifth_negative_share"]),
                     "ratio": self.text(s["positive_negative_ratio"], 1),
                     "typical_ratio": self.rate(s["typical_positive_negative_ratio"],
                                                s["typical_ratio_ci_low"],
                                                s["typical_ratio_ci_high"])}
            curve = result.lorenz[(result.lorenz["classroom"] == classroom)
                                  & (result.lorenz["wave"] == wave)]
            if len(curve):
                lorenz = lorenz_chart(curve["student_share"].tolist(),
                                      curve["interaction_share"].tolist(),
                                      title=_("Lorenz curve of interactions per hour"),
                                      x_label=_("share of the students"),
                                      y_label=_("share of the interactions"),
                                      number=self.numbers.text)
        class_rates = [{"valence": self.valence(v),
                        "rate": self.rate(classes.loc[v, "rate"], classes.loc[v, "ci_low"],
                                          classes.loc[v, "ci_high"]),
                        "observed": self.text(classes.loc[v, "observed_rate"])}
                       for v in ("negative", "positive", "neutral") if v in classes.index]
        flagged = [self.student(c) for c in order if bool(by[(c, "negative")]["flag"])]
        perceived = result.perceived[(result.perceived["classroom"] == classroom)
                                     & (result.perceived["wave"] == wave)]
        disagreements = []
        for row in result.disagreements[(result.disagreements["classroom"] == classroom)
                                        & (result.disagreements["wave"] == wave)
                                        ].itertuples(index=False):
            rated = perceived[perceived["student"] == row.student].iloc[0]
            if row.aspect == "conflict":
                direction = (_("more negative interactions than the conflict rating suggests")
                             if row.gap > 0 else
                             _("fewer negative interactions than the conflict rating suggests"))
            else:
                direction = (_("more positive interactions than the closeness rating suggests")
                             if row.gap > 0 else
                             _("fewer positive interactions than the closeness rating suggests"))
            disagreements.append({
                "student": self.student(row.student), "direction": direction,
                "closeness": self.text(rated["closeness"]),
                "conflict": self.text(rated["conflict"]),
                "negative": self.text(rated["negative_rate"]),
                "positive": self.text(rated["positive_rate"]), "gap": self.text(row.gap, 1)})
        groups = []
        if result.groups is not None:
            part = result.groups[(result.groups["classroom"] == classroom)
                                 & (result.groups["wave"] == wave)]
            for row in part.itertuples(index=False):
                hidden = row.suppressed is not None and not pd.isna(row.suppressed)
                groups.append({
                    "group": row.group, "level": row.level,
                    "n": _("fewer than %(n)s or hidden", n=result.min_cell) if hidden
                    else ("" if pd.isna(row.n) else str(int(row.n))),
                    "share": (row.share_bound if isinstance(row.share_bound, str)
                              else "" if hidden else self.percent(row.share)),
                    "negative": "" if hidden else self.text(row.negative_rate),
                    "positive": "" if hidden else self.text(row.positive_rate)})
        moments = [{"student": self.student(c), "links": self.moments[(classroom, wave, c)]}
                   for c in order if bool(by[(c, "negative")]["flag"])
                   and self.moments.get((classroom, wave, c))]
        return {"classroom": classroom, "wave": wave, "charts": charts, "table": table,
                "facts": facts, "lorenz": lorenz, "class_rates": class_rates,
                "flagged": flagged, "disagreements": disagreements, "groups": groups,
                "rated": len(perceived), "moments": moments}

    def progress(self) -> list[dict[str, Any]]:
        frame = self.result.progress
        if frame is None or frame.empty:
            return []
        goals = []
        for goal_id, part in frame.groupby("goal", sort=False):
            first = part.iloc[0]
            chosen = [s for s in part["student"] if isinstance(s, str)]
            whom = self.students(chosen) if chosen else self._("the class as a whole")
            title = (self._("Fewer negative interactions with %(whom)s (class %(classroom)s, "
                            "wave %(wave)s)", whom=whom, classroom=first["classroom"],
                            wave=int(first["wave"]))
                     if first["kind"] == "fewer_negative" else
                     self._("More positive interactions with %(whom)s (class %(classroom)s, "
                            "wave %(wave)s)", whom=whom, classroom=first["classroom"],
                            wave=int(first["wave"])))
            baseline = first["baseline_wave"]
            has_baseline = baseline is not None and not pd.isna(baseline)
            rows = []
            for row in part.itertuples(index=False):
                if row.status in ("not_observed_yet", "no_baseline"):
                    continue
                who = (self.student(row.student) if row.level == "student" else
                       self._("the chosen students together") if row.level == "chosen" else
                       self._("typical student"))
                rows.append({
                    "who": who,
                    "before": self.rate(row.baseline_rate, row.baseline_ci_low,
                                        row.baseline_ci_high),
                    "now": self.rate(row.current_rate, row.current_ci_low, row.current_ci_high),
                    "ratio": self.rate(row.rate_ratio, row.ratio_ci_low, row.ratio_ci_high),
                    "probability": self.percent(row.prob_progress),
                    "reached": self.percent(row.prob_target),
                    "status": self._(_PROGRESS_STATUS[row.status])})
            summary = ""
            if first["status"] in ("not_observed_yet", "no_baseline"):
                summary = self._(_PROGRESS_STATUS[first["status"]])
            target = first["target"]
            goals.append({
                "id": goal_id, "title": title, "summary": summary, "rows": rows,
                "target": self.text(target) if _finite(target) else "",
                "before_label": self._("wave %(wave)s per hour", wave=int(baseline))
                if has_baseline else "",
                "now_label": self._("wave %(wave)s per hour", wave=int(first["wave"]))})
        return goals

    def trends(self, classroom: str) -> dict[str, Any] | None:
        classes = self.result.classes[self.result.classes["classroom"] == classroom]
        if classes["wave"].nunique() < 2:
            return None
        series = []
        for valence in ("negative", "positive"):
            part = classes[classes["valence"] == valence].sort_values("wave")
            series.append((self.valence(valence),
                           [(int(r.wave), float(r.rate), float(r.ci_low), float(r.ci_high))
                            for r in part.itertuples(index=False)]))
        chart = trend_chart(series, title=self._("Typical rates over the waves, class "
                                                 "%(classroom)s", classroom=classroom),
                            x_label=self._("wave"), y_label=self._("interactions per hour"),
                            wave_label=lambda w: self._("wave %(wave)s", wave=w),
                            number=self.numbers.text)
        rows = []
        trends = self.result.class_trends
        for row in trends[trends["classroom"] == classroom].itertuples(index=False):
            rows.append({"valence": self.valence(row.valence), "first": int(row.first_wave),
                         "last": int(row.last_wave),
                         "ratio": self.rate(row.rate_ratio, row.ci_low, row.ci_high)})
        changes = []
        student_trends = self.result.student_trends
        credible = student_trends[(student_trends["classroom"] == classroom)
                                   & (student_trends["valence"] == "negative")
                                   & ((student_trends["ci_low"] > 1.0)
                                      | (student_trends["ci_high"] < 1.0))]
        for row in credible.itertuples(index=False):
            changes.append({"student": self.student(row.student),
                            "direction": self._("fewer") if row.rate_ratio < 1 else
                            self._("more"),
                            "ratio": self.rate(row.rate_ratio, row.ci_low, row.ci_high)})
        return {"chart": chart, "rows": rows, "changes": changes}


def _environment(language: str) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
        extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined)
    environment.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined, arg-type]
    return environment


def _context(result: TeacherFeedbackResult, language: str, names: Mapping[str, str] | None,
             moments: Mapping[tuple[str, int, str], list[Moment]] | None) -> dict[str, Any]:
    page = _Page(result, language, names, moments)
    sections = []
    classrooms = sorted(result.students["classroom"].unique())
    for classroom in classrooms:
        waves = sorted(result.students.loc[result.students["classroom"] == classroom,
                                           "wave"].unique())
        sections.append({"classroom": classroom, "trends": page.trends(classroom),
                         "waves": [page.section(classroom, int(w)) for w in waves]})
    return dict(
        language=language, teacher=result.teacher, guidance=page.guidance(),
        progress=page.progress(), sections=sections, notes=page.notes(),
        flag_level=page.percent(result.flag_level), fdr=result.flag_rule == "fdr",
        fdr_level=page.text(1.0 - result.flag_level),
        confidence=page.percent(result.confidence_level), min_cell=result.min_cell,
        groups_shown=result.groups is not None)


def feedback_page(result: TeacherFeedbackResult, *, language: Language = "en",
                  names: Mapping[str, str] | None = None, study: str | None = None,
                  written: _datetime.date | None = None) -> FeedbackPage:
    """Write one teacher's feedback page.

    Parameters
    ----------
    result
        The teacher's feedback (:func:`classdyad.analysis.teacher_feedback`).
    language
        ``"en"`` or ``"nl"``.
    names
        Student code -> name, for the teacher's own students only; codes are shown otherwise.
    study
        The study's name (shown in the heading).
    written
        The date shown (default: today).

    Returns
    -------
    FeedbackPage
    """
    check_option("language", language, LANGUAGES)
    html = _environment(language).get_template("feedback.html").render(
        study=study, written=(written or _datetime.date.today()).isoformat(),
        **_context(result, language, names, None))
    return FeedbackPage(html=html, language=language, teacher=result.teacher,
                        data=result.to_dict())


def feedback_fragment(result: TeacherFeedbackResult, *, language: Language = "en",
                      names: Mapping[str, str] | None = None,
                      moments: Mapping[tuple[str, int, str], list[Moment]] | None = None
                      ) -> Markup:
    """The feedback's content (the page without its heading and footer) as HTML to embed.

    The same template as :func:`feedback_page` (``feedback_body.html``); wrap it in an element
    of class ``feedback`` and load :data:`FEEDBACK_STYLESHEET`. ``moments`` adds, below each
    flagged student of a class and wave, links to the moments of the negative interactions
    (``(classroom, wave, student) -> [{"href", "label"}]``).
    """
    check_option("language", language, LANGUAGES)
    return Markup(_environment(language).get_template("feedback_body.html").render(
        **_context(result, language, names, moments)))
