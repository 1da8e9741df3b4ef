"""The descriptive sections: design and sample, data quality and interaction patterns.

Built from the study's tables (:class:`~classdyad.model.StudyTables`) and the analysis dataset
(:func:`classdyad.study.build_analysis_dataset`), with the measures' own functions: coder
agreement (:func:`classdyad.study.scores.study_agreement`: Cohen's kappa, Krippendorff's
alpha and intraclass correlations of the two codings of double-coded lessons), questionnaire
reliability (Cronbach's alpha with Feldt's interval and McDonald's omega total,
:func:`classdyad.measures.questionnaire_reliability`) and IAT scoring with its exclusion rules
(Greenwald, Nosek & Banaji 2003, :func:`classdyad.study.scores.score_study_iat`).
Intervals of means are normal-approximation 95 % intervals (mean ± 1.96 SE).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from classdyad.errors import DataError, UndefinedStatisticWarning
from classdyad.measures import load_instrument, questionnaire_reliability, score_questionnaire
from classdyad.model import StudyTables
from classdyad.report import figures, labels
from classdyad.report.figures import ReportFigure
from classdyad.report.i18n import N_
from classdyad.report.numbers import NumberFormatter
from classdyad.report.tables import ReportTable, cell
from classdyad.study import aggregate_by_student
from classdyad.study.scores import score_study_iat, study_agreement

Translate = Callable[[str], str]

#: the agreement statistics shown (aspect, statistic) -> label
AGREEMENT_ROWS: dict[tuple[str, str], str] = {
    ("valence", "percent_agreement"): N_("valence: percent agreement (matched events)"),
    ("valence", "kappa"): N_("valence: Cohen's kappa (matched events)"),
    ("valence", "kappa_with_no_event"): N_("valence: kappa, missed events included"),
    ("valence", "alpha_nominal"): N_("valence: Krippendorff's alpha"),
    ("target", "kappa"): N_("target: Cohen's kappa"),
    ("subtype", "kappa"): N_("subtype: Cohen's kappa"),
    ("student_count_positive", "ICC2"): N_("positive interactions per student: ICC(2,1)"),
    ("student_count_negative", "ICC2"): N_("negative interactions per student: ICC(2,1)"),
}

#: dataset columns whose missing values are reported
MISSING_COLUMNS = ("positive_rate", "negative_rate", "teacher_closeness", "teacher_conflict",
                   "student_closeness", "student_conflict", "teacher_iat_ethnicity",
                   "teacher_iat_ses")

VALENCE_PANELS = {"positive_rate": N_("positive interactions"),
                  "negative_rate": N_("negative interactions")}


def _primary_events(tables: StudyTables) -> pd.DataFrame:
    """Events of each lesson's primary (first) coder."""
    events = tables.events
    if events.empty or not events["coder_id"].notna().any():
        return events
    first = events.groupby("lesson_id")["coder_id"].transform("min")
    return events[(events["coder_id"] == first) | first.isna()]


def design_table(tables: StudyTables, dataset: pd.DataFrame, *, _: Translate,
                 fmt: NumberFormatter) -> ReportTable:
    """Counts of the design: schools, classes, teachers, students, waves, lessons, time, events."""
    events = _primary_events(tables)
    by_valence = events["valence"].value_counts()
    rows = [
        ("schools", N_("schools"), tables.schools["id"].nunique()),
        ("classes", N_("classes"), tables.classrooms["id"].nunique()),
        ("teachers", N_("teachers"), tables.teachers["id"].nunique()),
        ("students", N_("students"), dataset["student_id"].nunique()),
        ("waves", N_("waves"), tables.waves["id"].nunique()),
        ("student_waves", N_("student × wave observations"), len(dataset)),
        ("lessons", N_("observed lessons"), tables.lessons["id"].nunique()),
        ("hours", N_("hours of observed lessons"),
         float(pd.to_numeric(tables.lessons["observed_minutes"]).sum()) / 60.0),
        ("events", N_("coded interactions (primary coding)"), len(events)),
    ] + [(f"events_{v}", f"… {_(labels.OUTCOMES[v])}", int(by_valence.get(v, 0)))
         for v in ("positive", "negative", "neutral")]
    shown = []
    for key, text, value in rows:
        number = (fmt.number(value, f"study/design/{key}", 1) if key == "hours"
                  else fmt.integer(value, f"study/design/{key}"))
        shown.append((cell(_(text) if not text.startswith("…") else text), number))
    data = pd.DataFrame({"quantity": [r[0] for r in rows], "value": [r[2] for r in rows]})
    return ReportTable(name="design", caption=_("Design of the study"),
                       header=(_("quantity"), _("n")), rows=tuple(shown), data=data)


def students(dataset: pd.DataFrame) -> pd.DataFrame:
    """One row per student with the background columns (from the first wave observed)."""
    return dataset.sort_values(["student_id", "wave"]).drop_duplicates("student_id")


def sample_table(dataset: pd.DataFrame, *, _: Translate, fmt: NumberFormatter) -> ReportTable:
    """Table 1: students by migration background and SES, with the share of girls."""
    people = students(dataset)
    total = len(people)
    order = [g for g in labels.MIGRATION_BACKGROUNDS if g in set(people["migration_background"])]
    order += sorted(set(people["migration_background"]) - set(order))
    rows, records = [], []
    for group in [*order, "all"]:
        part = people if group == "all" else people[people["migration_background"] == group]
        low = int(part["low_ses"].sum())
        girls = float((part["gender"] == "girl").mean()) if len(part) else np.nan
        key = f"study/sample/{group}"
        name = _("all students") if group == "all" else labels.label(
            group, labels.MIGRATION_BACKGROUNDS, _)
        rows.append((cell(name), fmt.integer(len(part) - low, f"{key}/not_low_ses"),
                     fmt.integer(low, f"{key}/low_ses"), fmt.integer(len(part), f"{key}/n"),
                     fmt.percent(len(part) / total, f"{key}/share"),
                     fmt.percent(girls, f"{key}/girls")))
        records.append({"migration_background": group, "not_low_ses": len(part) - low,
                        "low_ses": low, "n": len(part), "share": len(part) / total,
                        "girls": girls})
    return ReportTable(
        name="table1_sample", caption=_("Table 1. Students by migration background and SES"),
        header=(_("migration background"), _("not low SES"), _("low SES"), _("n"),
                _("% of students"), _("% girls")),
        rows=tuple(rows), data=pd.DataFrame(records),
        note=_("Migration background: CBS classification before 2022, derived from the "
               "countries of birth of the student and the parents. Low SES: Dutch pupil-weight "
               "rule, from the parents' education."))


def agreement_table(tables: StudyTables, *, _: Translate,
                    fmt: NumberFormatter) -> ReportTable | None:
    """Agreement of the first and second coder on the double-coded lessons (None without)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedStatisticWarning)
            agreement = study_agreement(tables)
    except DataError:
        return None
    summary = agreement.summary().set_index(["aspect", "statistic"])
    rows, records = [], []
    for (aspect, statistic), text in AGREEMENT_ROWS.items():
        if (aspect, statistic) not in summary.index:
            continue
        row = summary.loc[(aspect, statistic)]
        key = f"study/agreement/{aspect}/{statistic}"
        digits = 1 if statistic.startswith("percent") else 2
        rows.append((cell(_(text)), fmt.number(row["estimate"], f"{key}/estimate", digits),
                     fmt.interval(row["ci_lower"], row["ci_upper"],
                                  (f"{key}/ci_lower", f"{key}/ci_upper"), digits),
                     fmt.integer(row["n"], f"{key}/n")))
        records.append({"aspect": aspect, "statistic": statistic, **row.to_dict()})
    lessons = len(agreement.matching.lessons)
    return ReportTable(
        name="coder_agreement", caption=_("Agreement of two coders"),
        header=(_("statistic"), _("estimate"), _("95% CI"), _("n")), rows=tuple(rows),
        data=pd.DataFrame(records),
        note=_("{lessons} lessons coded independently by two coders; events matched within "
               "{window} s.").format(lessons=lessons, window=fmt.text(agreement.matching.window,
                                                                     0)))


def reliability_table(tables: StudyTables, *, _: Translate,
                      fmt: NumberFormatter) -> ReportTable | None:
    """Cronbach's alpha (Feldt 95 % interval) and omega total of every subscale."""
    rows, records = [], []
    for instrument in tables.instruments.itertuples(index=False):
        responses = tables.responses[tables.responses["instrument_id"] == instrument.id]
        answers = tables.response_items[tables.response_items["response_id"].isin(
            responses["id"])]
        if answers.empty:
            continue
        answers = answers.assign(value=pd.to_numeric(answers["value"], errors="coerce"))
        scored = score_questionnaire(answers[["response_id", "item", "value"]],
                                     load_instrument(instrument.code), layout="long",
                                     id_columns=["response_id"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedStatisticWarning)
            table = questionnaire_reliability(scored)
        for row in table.itertuples(index=False):
            key = f"study/reliability/{instrument.code}/{row.subscale}"
            rows.append((cell(instrument.code), cell(row.subscale),
                         cell(labels.label(instrument.informant, labels.INFORMANTS, _)),
                         fmt.integer(row.n_items, f"{key}/n_items"),
                         fmt.integer(row.n_observations, f"{key}/n_observations"),
                         fmt.number(row.alpha, f"{key}/alpha"),
                         fmt.interval(row.alpha_ci_lower, row.alpha_ci_upper,
                                      (f"{key}/alpha_ci_lower", f"{key}/alpha_ci_upper")),
                         fmt.number(row.omega_total, f"{key}/omega_total")))
            records.append({"instrument": instrument.code, "informant": instrument.informant,
                            **row._asdict()})
    if not rows:
        return None
    return ReportTable(
        name="reliability", caption=_("Reliability of the questionnaire scales"),
        header=(_("instrument"), _("scale"), _("informant"), _("items"), _("responses"),
                "α", _("95% CI"), "ω"),
        rows=tuple(rows), data=pd.DataFrame(records),
        note=_("α: Cronbach's alpha with Feldt's interval; ω: McDonald's omega total."))


def iat_table(tables: StudyTables, *, _: Translate, fmt: NumberFormatter) -> ReportTable | None:
    """IAT sessions per kind: scored, excluded (with reasons) and the D scores' mean and SD."""
    if tables.iat_trials.empty:
        return None
    scores = score_study_iat(tables)
    rows, records = [], []
    for kind, part in scores.groupby("kind", sort=True):
        used = part.loc[~part["excluded"].astype(bool), "d_score"]
        reasons = part["exclusion_reason"].dropna().value_counts()
        reason_text = "; ".join(f"{reason} ({count})" for reason, count in reasons.items())
        key = f"study/iat/{kind}"
        rows.append((cell(labels.label(f"iat_{kind}", labels.EFFECTS, _)),
                     fmt.integer(len(part), f"{key}/sessions"),
                     fmt.integer(int(part["excluded"].sum()), f"{key}/excluded"),
                     cell(reason_text or "–"), fmt.number(used.mean(), f"{key}/mean"),
                     fmt.number(used.std(), f"{key}/sd")))
        records.append({"kind": kind, "sessions": len(part),
                        "excluded": int(part["excluded"].sum()), "reasons": reason_text,
                        "mean_d": used.mean(), "sd_d": used.std()})
    return ReportTable(
        name="iat", caption=_("Teachers' implicit association tests (D2 scores)"),
        header=(_("test"), _("sessions"), _("excluded"), _("reasons"), _("mean D"), _("SD")),
        rows=tuple(rows), data=pd.DataFrame(records),
        note=_("Positive D: a stronger association of the majority group (Dutch, high SES) "
               "with good."))


def missing_table(dataset: pd.DataFrame, *, _: Translate, fmt: NumberFormatter) -> ReportTable:
    """Missing values of the analysis variables (student × wave rows)."""
    rows, records = [], []
    for column in MISSING_COLUMNS:
        if column not in dataset.columns:
            continue
        missing = int(dataset[column].isna().sum())
        key = f"study/missing/{column}"
        name = labels.label(column, {**labels.OUTCOMES, "teacher_iat_ethnicity":
                                     labels.EFFECTS["iat_ethnicity"], "teacher_iat_ses":
                                     labels.EFFECTS["iat_ses"]}, _)
        rows.append((cell(name), fmt.integer(missing, f"{key}/n"),
                     fmt.percent(missing / len(dataset), f"{key}/share")))
        records.append({"variable": column, "missing": missing,
                        "share": missing / len(dataset)})
    return ReportTable(
        name="missing_data", caption=_("Missing values in the analysis dataset"),
        header=(_("variable"), _("missing"), _("% of student × wave rows")), rows=tuple(rows),
        data=pd.DataFrame(records),
        note=_("Rates are missing when a student attended no observed lesson; scale scores when "
               "too few items were answered."))


def _group_label(frame: pd.DataFrame, _: Translate) -> pd.Series:
    keys = zip(frame["low_ses"].astype(bool), frame["non_western"].astype(bool), strict=True)
    return pd.Series([_(labels.GROUPS[k]) for k in keys], index=frame.index)


def pattern_figures(dataset: pd.DataFrame, *, _: Translate, fmt: NumberFormatter
                    ) -> tuple[list[ReportFigure], ReportTable]:
    """Interaction rates per student, per class and over the waves, by background group."""
    groups = [_(g) for g in labels.GROUPS.values()]
    panels = {column: _(text) for column, text in VALENCE_PANELS.items()}
    per_student = aggregate_by_student(dataset)
    per_student = per_student.assign(group=_group_label(per_student, _))
    made = [figures.distribution_figure(
        per_student, groups=groups, panel_titles=panels, name="interactions_per_student",
        number=fmt.text,
        title=_("Interactions per hour per student, by group"),
        axis_label=_("interactions per hour"),
        caption=_("Each student's interactions per hour over the year (box: quartiles; "
                  "line: median), by SES and migration background."))]
    by_class = dataset.groupby("classroom")[["positive", "negative", "hours_present"]].sum()
    hours = by_class["hours_present"].where(by_class["hours_present"] > 0)
    classes = pd.DataFrame({"positive_rate": by_class["positive"] / hours,
                            "negative_rate": by_class["negative"] / hours}).dropna()
    made.append(figures.class_figure(
        classes, name="interactions_per_class", number=fmt.text, title=_("Interactions per class"),
        x_label=_("positive interactions per hour"), y_label=_("negative interactions per hour"),
        caption=_("Each point is a class: its students' positive and negative interactions "
                  "with the teacher per hour observed.")))
    frame = dataset.assign(group=_group_label(dataset, _))
    means = []
    for column in panels:
        summary = frame.groupby(["group", "wave"])[column].agg(["mean", "std", "count"])
        half = 1.96 * summary["std"] / np.sqrt(summary["count"])
        summary = summary.assign(ci_low=summary["mean"] - half, ci_high=summary["mean"] + half,
                                 valence=column).reset_index()
        means.append(summary)
    wave_means = pd.concat(means, ignore_index=True)
    made.append(figures.wave_figure(
        wave_means, groups=groups, panel_titles=panels, x_label=_("wave"),
        y_label=_("interactions per hour"), name="interactions_by_wave", number=fmt.text,
        title=_("Interactions over the school year"),
        caption=_("Mean interactions per hour in each wave with 95% intervals, by group.")))
    rows, records = [], []
    for index, group in enumerate(groups):
        for wave in sorted(wave_means["wave"].unique()):
            cells = [cell(group), fmt.integer(wave, f"study/patterns/g{index}/{wave}/wave")]
            record = {"group": group, "wave": wave}
            for column in panels:
                part = wave_means[(wave_means["group"] == group) & (wave_means["wave"] == wave)
                                  & (wave_means["valence"] == column)]
                if part.empty:
                    cells += [cell(""), cell("")]
                    continue
                row = part.iloc[0]
                key = f"study/patterns/g{index}/{wave}/{column}"
                cells += [fmt.number(row["mean"], f"{key}/mean"),
                          fmt.number(row["std"], f"{key}/sd")]
                record.update({f"{column}_mean": row["mean"], f"{column}_sd": row["std"],
                               f"{column}_n": row["count"]})
            rows.append(tuple(cells))
            records.append(record)
    positive, negative = panels.values()
    table = ReportTable(
        name="interactions_by_group", caption=_("Interactions per hour by group and wave"),
        header=(_("group"), _("wave"), f"{positive}: M", "SD", f"{negative}: M", "SD"),
        rows=tuple(rows), data=pd.DataFrame(records))
    return made, table
