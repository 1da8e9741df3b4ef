"""One teacher's interactions with each student, with honest uncertainty: :func:`teacher_feedback`.

Method. For each class, wave and valence (positive, negative, neutral) the student's count of
interactions ``y_s`` over ``t_s`` hours present is modelled as a Poisson GLMM with the log hours
as offset and a normal random intercept per student,
``y_s ~ Poisson(t_s exp(b0 + b_s))``, ``b_s ~ N(0, sigma^2)`` (a Poisson-lognormal model:
overdispersion between students is the student variance). It is fitted by maximum likelihood
(Laplace approximation) with :func:`classdyad.mixed.glmm`, as ``lme4::glmer``. A student's
*shrunken* rate per hour is ``exp(b0 + b_s)`` at the conditional mode of ``b_s``: students seen
briefly lean towards the class's typical rate ``exp(b0)``, students seen long on their own
counts.

The Poisson likelihood depends on each student's rows only through the total count and the total
time, so the model is fitted on one total per student (split in two rows of half the time, one
holding the count and one none, which leaves the likelihood unchanged and gives
:func:`~classdyad.mixed.glmm` more rows than students, as lme4's ``lmer`` check asks).

Intervals and flag. The conditional modes treat the class's ``b0`` and ``sigma`` as known;
with one class, ``sigma`` is poorly determined (often estimated at zero) and intervals that
ignore this cover the true rates too rarely (about 80 % for nominal 95 % in the replica's design).
The intervals are therefore equal-tailed posterior intervals that integrate over ``b0`` (flat
prior) and ``sigma`` (half-normal prior, scale 1 on the log scale) by quadrature
(:func:`classdyad.analysis.rate_posterior.rate_posterior`), and a student's negative rate is
*credibly above the class's* when the posterior probability that ``b_s > 0`` (the rate above the
class's typical rate ``exp(b0)``) exceeds ``flag_level`` (``flag_rule="posterior"``, default
0.95), or when the Benjamini-Hochberg q value of ``1 - P(b_s > 0)`` over the class is at most
``1 - flag_level`` (``flag_rule="fdr"``). No ranking of all students is given.

Laplace variances. With ``sigma`` at its estimate, the joint Gaussian (Laplace) approximation of
``(b0, b)`` has precision ``[[sum w, w'], [w, diag(w + 1/sigma^2)]]`` (``w_s = t_s exp(b0 +
b_s)``); with ``d_s = w_s + 1/sigma^2`` and ``S = sum w - sum w^2 / d``, ``Var(b0 + b_s) = 1/d_s
+ (1 - w_s/d_s)^2 / S`` (``laplace_sd``) and ``Var(b_s) = 1/d_s + (w_s/d_s)^2 / S``
(``laplace_effect_sd``); ``1/d_s`` alone is lme4's ``ranef(condVar = TRUE)`` (``effect_sd``).
These are reported beside the intervals.

Validated against ``lme4::glmer`` 1.1-31 under R 4.2.2 (conditional modes, conditional
variances, the class rate and the interval's variance; ``tests/analysis/golden``).

References
----------
Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models using
lme4. *Journal of Statistical Software*, 67(1), 1-48.
Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. *Journal of the Royal
Statistical Society B*, 57(1), 289-300.
Gelman, A. (2006). Prior distributions for variance parameters in hierarchical models. *Bayesian
Analysis*, 1(3), 515-534.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import numpy as np
import pandas as pd
import scipy.stats

from classdyad.analysis.interaction_spread import gini, lorenz_curve, top_share
from classdyad.analysis.rate_posterior import rate_posterior
from classdyad.analysis.small_cells import suppress_small_cells
from classdyad.analysis.teacher_feedback_results import (
    FIT_NOTES,
    GUIDANCE_MESSAGES,
    TeacherFeedbackResult,
)
from classdyad.errors import ClassdyadWarning, DataError, EstimationError, OptionError, check_option
from classdyad.mixed import glmm

__all__ = ["FLAG_RULES", "VALENCES", "class_rate_model", "teacher_feedback"]

VALENCES = ("positive", "negative", "neutral")
FlagRule = Literal["posterior", "fdr"]
FLAG_RULES: tuple[FlagRule, ...] = ("posterior", "fdr")
_REQUIRED = ("classroom", "wave", "student", "minutes", *VALENCES)


def class_rate_model(counts: pd.DataFrame, *, confidence_level: float = 0.95
                     ) -> tuple[pd.DataFrame, dict[str, object]]:
    """Shrunken rates of one class, wave and valence (the model of the module docstring).

    Parameters
    ----------
    counts
        One row per student: ``student``, ``count`` (whole number) and ``hours`` (> 0).
    confidence_level
        Level of the intervals.

    Returns
    -------
    (pandas.DataFrame, dict)
        Per student ``student, shrunken_rate, ci_low, ci_high, log_effect, effect_sd,
        log_rate_sd, laplace_sd, laplace_effect_sd, prob_above``; and the class: ``rate, ci_low,
        ci_high, intercept, intercept_se, student_sd, note``.

    Raises
    ------
    EstimationError
        If every count is zero (no rate can be estimated).
    """
    y = counts["count"].to_numpy(dtype=float)
    t = counts["hours"].to_numpy(dtype=float)
    students = counts["student"].astype(str).to_numpy()
    if y.sum() <= 0:
        raise EstimationError("no interactions of this kind were observed; a rate cannot be "
                              "estimated (it is shown as none observed)")
    z = scipy.stats.norm.ppf(0.5 + confidence_level / 2.0)
    frame = pd.DataFrame({
        "student": np.repeat(students, 2),
        "count": np.column_stack([y, np.zeros_like(y)]).ravel(),
        "log_exposure": np.repeat(np.log(t / 2.0), 2),
    })
    note = ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = glmm("count ~ 1 + (1 | student)", frame, family="poisson", offset="log_exposure",
                   confidence_level=confidence_level)
    messages = [str(w.message) for w in caught if issubclass(w.category, ClassdyadWarning)]
    if fit.singular:
        note = FIT_NOTES["singular"]
    elif messages:
        note = "; ".join(messages)
    b0 = float(fit.beta[0])
    se0 = float(math.sqrt(fit.fixed_covariance[0, 0]))
    sigma = float(fit.theta[0])
    effects = fit.random_effects().set_index("level").reindex(students)
    b = effects["estimate"].to_numpy(dtype=float)
    cond_sd = effects["std_error"].to_numpy(dtype=float)
    w = t * np.exp(b0 + b)
    if sigma > 0:
        d = w + 1.0 / sigma**2
        schur = w.sum() - np.sum(w**2 / d)
        lp_var = 1.0 / d + (1.0 - w / d) ** 2 / schur
        effect_var = 1.0 / d + (w / d) ** 2 / schur
    else:
        lp_var = np.full_like(w, 1.0 / w.sum())
        effect_var = np.zeros_like(w)
    posterior = rate_posterior(y, t, level=confidence_level)
    per_student = pd.DataFrame({
        "student": students,
        "shrunken_rate": np.exp(b0 + b),
        "ci_low": posterior["ci_low"],
        "ci_high": posterior["ci_high"],
        "log_effect": b,
        "effect_sd": cond_sd,
        "log_rate_sd": posterior["log_rate_sd"],
        "laplace_sd": np.sqrt(lp_var),
        "laplace_effect_sd": np.sqrt(effect_var),
        "prob_above": posterior["prob_above"],
    })
    summary = {"rate": math.exp(b0), "ci_low": math.exp(b0 - z * se0),
               "ci_high": math.exp(b0 + z * se0), "intercept": b0, "intercept_se": se0,
               "student_sd": sigma, "note": note}
    return per_student, summary


def _benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    n = p.size
    if n == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def _check_input(interactions: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(interactions, pd.DataFrame):
        raise DataError("interactions must be a pandas DataFrame with one row per student and "
                        "lesson (or per student and wave)")
    missing = [c for c in _REQUIRED if c not in interactions.columns]
    if missing:
        raise DataError(f"interactions has no column(s) {missing}; it needs "
                        f"{', '.join(_REQUIRED)} (counts of each valence and minutes present)")
    data = interactions[list(_REQUIRED)].copy()
    for column in ("minutes", *VALENCES):
        values = pd.to_numeric(data[column], errors="coerce")
        if values.isna().any() or (values < 0).any():
            raise DataError(f"interactions column {column!r} must hold numbers >= 0 without "
                            "gaps; fill missing counts with 0 and leave out rows without time")
        data[column] = values.astype(float)
    for valence in VALENCES:
        if np.any(np.abs(data[valence] - np.round(data[valence])) > 1e-9):
            raise DataError(f"interactions column {valence!r} must hold whole counts")
    data["student"] = data["student"].astype(str)
    data["classroom"] = data["classroom"].astype(str)
    return data


def _fit_students(totals: pd.DataFrame, level: float, flag_rule: FlagRule, flag_level: float,
                  notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    student_parts, class_rows = [], []
    for (classroom, wave), cell in totals.groupby(["classroom", "wave"], sort=True):
        seen = cell[cell["hours"] > 0]
        for valence in VALENCES:
            base = cell[["classroom", "wave", "student", "minutes", "hours"]].assign(
                valence=valence, count=cell[valence].to_numpy(dtype=float))
            base["rate"] = (base["count"] / base["hours"]).where(base["hours"] > 0)
            counts = seen[["student", "hours"]].assign(count=seen[valence].to_numpy())
            row = {"classroom": classroom, "wave": wave, "valence": valence,
                   "students": len(seen), "count": float(counts["count"].sum()),
                   "hours": float(counts["hours"].sum())}
            row["observed_rate"] = row["count"] / row["hours"] if row["hours"] > 0 else math.nan
            estimates = None
            if len(seen) < 3:
                row["note"] = FIT_NOTES["few_students"]
            else:
                try:
                    estimates, summary = class_rate_model(counts, confidence_level=level)
                    row.update(summary)
                except EstimationError:
                    row["note"] = FIT_NOTES["no_events"]
            if row.get("note"):
                notes.append(f"class {classroom}, wave {wave}, {valence}: {row['note']}")
            class_rows.append(row)
            if estimates is not None:
                base = base.merge(estimates, on="student", how="left")
            student_parts.append(base)
    students = pd.concat(student_parts, ignore_index=True)
    for column in ("shrunken_rate", "ci_low", "ci_high", "log_effect", "effect_sd",
                   "log_rate_sd", "laplace_sd", "laplace_effect_sd", "prob_above"):
        if column not in students.columns:
            students[column] = np.nan
    students["q_value"] = np.nan
    students["flag"] = False
    negative = students["valence"].eq("negative") & students["prob_above"].notna()
    for _, index in students[negative].groupby(["classroom", "wave"]).groups.items():
        prob = students.loc[index, "prob_above"].to_numpy(dtype=float)
        q = _benjamini_hochberg(1.0 - prob)
        students.loc[index, "q_value"] = q
        chosen = prob > flag_level if flag_rule == "posterior" else q <= 1.0 - flag_level
        students.loc[index, "flag"] = chosen
    classes = pd.DataFrame(class_rows)
    for column in ("rate", "ci_low", "ci_high", "intercept", "intercept_se", "student_sd"):
        if column not in classes.columns:
            classes[column] = np.nan
    classes["note"] = classes.get("note", pd.Series(dtype=object)).fillna("")
    columns = ["classroom", "wave", "student", "valence", "count", "minutes", "hours", "rate",
               "shrunken_rate", "ci_low", "ci_high", "log_effect", "effect_sd", "log_rate_sd",
               "laplace_sd", "laplace_effect_sd", "prob_above", "q_value", "flag"]
    return students[columns], classes[["classroom", "wave", "valence", "students", "count",
                                       "hours", "observed_rate", "rate", "ci_low", "ci_high",
                                       "intercept", "intercept_se", "student_sd", "note"]]


def _wide(students: pd.DataFrame, column: str) -> pd.DataFrame:
    return students.pivot_table(index=["classroom", "wave", "student"], columns="valence",
                                values=column, aggfunc="first")


def _spread(students: pd.DataFrame, classes: pd.DataFrame, level: float
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    z = scipy.stats.norm.ppf(0.5 + level / 2.0)
    shrunken = _wide(students, "shrunken_rate")
    counts = _wide(students, "count")
    rows, curves = [], []
    for (classroom, wave), part in shrunken.groupby(level=["classroom", "wave"]):
        total = part.reindex(columns=list(VALENCES)).sum(axis=1, min_count=1).dropna()
        negative = part.get("negative", pd.Series(dtype=float)).dropna()
        count = counts.loc[(classroom, wave)]
        cls = classes[(classes["classroom"] == classroom) & (classes["wave"] == wave)]
        cls = cls.set_index("valence")
        ratio = ratio_low = ratio_high = math.nan
        if {"positive", "negative"} <= set(cls.index):
            difference = cls.loc["positive", "intercept"] - cls.loc["negative", "intercept"]
            se = math.hypot(cls.loc["positive", "intercept_se"], cls.loc["negative",
                                                                          "intercept_se"])
            ratio, ratio_low, ratio_high = (math.exp(difference), math.exp(difference - z * se),
                                            math.exp(difference + z * se))
        negatives = float(count.get("negative", pd.Series(dtype=float)).sum())
        positives = float(count.get("positive", pd.Series(dtype=float)).sum())
        rows.append({"classroom": classroom, "wave": wave, "students": len(total),
                     "gini": gini(total), "top_fifth_negative_share": top_share(negative),
                     "positive_negative_ratio": positives / negatives if negatives else math.nan,
                     "typical_positive_negative_ratio": ratio,
                     "typical_ratio_ci_low": ratio_low, "typical_ratio_ci_high": ratio_high})
        curve = lorenz_curve(total)
        curves.append(curve.assign(classroom=classroom, wave=wave))
    lorenz = (pd.concat(curves, ignore_index=True) if curves else
              pd.DataFrame(columns=["student_share", "interaction_share"]))
    return pd.DataFrame(rows), lorenz[["classroom", "wave", "student_share",
                                       "interaction_share"]] if curves else lorenz


def _change(first: pd.Series, last: pd.Series, z: float) -> tuple[float, float, float]:
    log_ratio = math.log(last["estimate"]) - math.log(first["estimate"])
    se = math.hypot(first["sd"], last["sd"])
    return math.exp(log_ratio), math.exp(log_ratio - z * se), math.exp(log_ratio + z * se)


def _trends(students: pd.DataFrame, classes: pd.DataFrame, level: float
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """First-to-last-wave ratios of the shrunken rates; the interval adds the posterior
    variances of the two log rates (the waves are fitted separately, so they are independent)."""
    z = scipy.stats.norm.ppf(0.5 + level / 2.0)
    columns = ["classroom", "valence", "first_wave", "last_wave", "rate_ratio", "ci_low",
               "ci_high"]
    est = students.dropna(subset=["shrunken_rate"]).rename(
        columns={"shrunken_rate": "estimate", "log_rate_sd": "sd"})
    student_rows = []
    for (classroom, student, valence), part in est.groupby(["classroom", "student", "valence"]):
        if part["wave"].nunique() < 2:
            continue
        part = part.sort_values("wave")
        ratio, low, high = _change(part.iloc[0], part.iloc[-1], z)
        student_rows.append({"classroom": classroom, "student": student, "valence": valence,
                             "first_wave": part["wave"].iloc[0], "last_wave": part["wave"].iloc[-1],
                             "rate_ratio": ratio, "ci_low": low, "ci_high": high})
    cls = classes.dropna(subset=["rate"]).rename(columns={"rate": "estimate",
                                                         "intercept_se": "sd"})
    class_rows = []
    for (classroom, valence), part in cls.groupby(["classroom", "valence"]):
        if part["wave"].nunique() < 2:
            continue
        part = part.sort_values("wave")
        ratio, low, high = _change(part.iloc[0], part.iloc[-1], z)
        class_rows.append({"classroom": classroom, "valence": valence,
                           "first_wave": part["wave"].iloc[0], "last_wave": part["wave"].iloc[-1],
                           "rate_ratio": ratio, "ci_low": low, "ci_high": high})
    student_trends = pd.DataFrame(student_rows, columns=["classroom", "student", *columns[1:]])
    return student_trends, pd.DataFrame(class_rows, columns=columns)


def _zscore(values: pd.Series) -> pd.Series:
    sd = values.std(ddof=1)
    if not sd > 0:
        return pd.Series(np.nan, index=values.index)
    return (values - values.mean()) / sd


def _perceived(students: pd.DataFrame, ratings: pd.DataFrame | None
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    columns = ["classroom", "wave", "student", "closeness", "conflict", "negative_rate",
               "positive_rate", "gap_conflict", "gap_closeness"]
    disagreement_columns = ["classroom", "wave", "student", "aspect", "gap"]
    if ratings is None:
        return pd.DataFrame(columns=columns), pd.DataFrame(columns=disagreement_columns)
    missing = [c for c in ("wave", "student", "closeness", "conflict") if c not in ratings]
    if missing:
        raise DataError(f"ratings has no column(s) {missing}; it needs wave, student, closeness "
                        "and conflict (the teacher's scale scores)")
    rates = _wide(students, "shrunken_rate").reset_index()
    rated = ratings[["wave", "student", "closeness", "conflict"]].assign(
        student=ratings["student"].astype(str))
    data = rates.merge(rated, on=["wave", "student"], how="inner").rename(
        columns={"negative": "negative_rate", "positive": "positive_rate"})
    data = data.dropna(subset=["closeness", "conflict", "negative_rate", "positive_rate"])
    parts = []
    for _, part in data.groupby(["classroom", "wave"]):
        part = part.copy()
        if len(part) >= 3:
            part["gap_conflict"] = (_zscore(np.log(part["negative_rate"]))
                                    - _zscore(part["conflict"]))
            part["gap_closeness"] = (_zscore(np.log(part["positive_rate"]))
                                     - _zscore(part["closeness"]))
        else:
            part["gap_conflict"] = part["gap_closeness"] = np.nan
        parts.append(part)
    perceived = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(
        columns=columns)
    rows = []
    for (classroom, wave), part in perceived.groupby(["classroom", "wave"]):
        for aspect in ("conflict", "closeness"):
            gaps = part[["student", f"gap_{aspect}"]].dropna()
            gaps = gaps[gaps[f"gap_{aspect}"].abs() >= 1.0]
            gaps = gaps.reindex(gaps[f"gap_{aspect}"].abs().sort_values(ascending=False).index)
            for row in gaps.head(3).itertuples(index=False):
                rows.append({"classroom": classroom, "wave": wave, "student": row[0],
                             "aspect": aspect, "gap": float(row[1])})
    return perceived, pd.DataFrame(rows, columns=disagreement_columns)


def _groups(students: pd.DataFrame, groups: pd.DataFrame | None, min_cell: int
            ) -> pd.DataFrame | None:
    if groups is None:
        return None
    if "student" not in groups.columns or groups.shape[1] < 2:
        raise DataError("groups needs a student column and at least one group column (for "
                        "example low_ses)")
    rates = _wide(students, "shrunken_rate").reset_index()
    background = groups.assign(student=groups["student"].astype(str)).drop_duplicates("student")
    rows = []
    for variable in [c for c in groups.columns if c != "student"]:
        merged = rates.merge(background[["student", variable]], on="student", how="left")
        merged[variable] = merged[variable].astype(object).where(merged[variable].notna(),
                                                                  "unknown")
        merged[variable] = merged[variable].astype(str)
        levels = sorted(merged[variable].unique())
        for (classroom, wave), part in merged.groupby(["classroom", "wave"]):
            for level in levels:
                cell = part[part[variable] == level]
                rows.append({"classroom": classroom, "wave": wave, "group": variable,
                             "level": level, "n": len(cell),
                             "negative_rate": cell.get("negative", pd.Series(dtype=float)).mean(),
                             "positive_rate": cell.get("positive", pd.Series(dtype=float)).mean()})
    table = pd.DataFrame(rows)
    return suppress_small_cells(table, margin=["classroom", "wave", "group"], count="n",
                                values=["negative_rate", "positive_rate"], min_cell=min_cell)


def _guidance(students: pd.DataFrame, spread: pd.DataFrame, class_trends: pd.DataFrame,
              disagreements: pd.DataFrame) -> pd.DataFrame:
    rows: list[dict[str, object]] = []

    def add(topic: str, **values: object) -> None:
        rows.append({"topic": topic, **values})

    negative = students[students["valence"] == "negative"]
    for (classroom, wave), part in negative.groupby(["classroom", "wave"]):
        if part["prob_above"].isna().all():
            continue
        flagged = part[part["flag"]].sort_values("shrunken_rate", ascending=False)
        if len(flagged):
            add("flagged", classroom=classroom, wave=wave, students=list(flagged["student"]))
        else:
            add("no_flags", classroom=classroom, wave=wave)
        brief = part[(part["hours"] > 0) & (part["hours"] < 1.0)]
        if len(brief):
            add("little_time", classroom=classroom, wave=wave, students=list(brief["student"]))
    for row in spread.itertuples(index=False):
        if row.positive_negative_ratio < 1.0:
            add("ratio_low", classroom=row.classroom, wave=row.wave,
                ratio=row.positive_negative_ratio)
        if row.top_fifth_negative_share >= 0.5:
            add("concentrated", classroom=row.classroom, wave=row.wave,
                share=row.top_fifth_negative_share)
    for row in class_trends[class_trends["valence"] == "negative"].itertuples(index=False):
        if row.ci_high < 1.0:
            add("negative_down", classroom=row.classroom, first=row.first_wave,
                last=row.last_wave, ratio=row.rate_ratio)
        elif row.ci_low > 1.0:
            add("negative_up", classroom=row.classroom, first=row.first_wave,
                last=row.last_wave, ratio=row.rate_ratio)
    conflict = disagreements[disagreements["aspect"] == "conflict"]
    for (classroom, wave), part in conflict.groupby(["classroom", "wave"]):
        for topic, chosen in (("underrated_conflict", part[part["gap"] > 0]),
                              ("overrated_conflict", part[part["gap"] < 0])):
            if len(chosen):
                add(topic, classroom=classroom, wave=wave, students=list(chosen["student"]))
    columns = ["topic", "classroom", "wave", "first", "last", "students", "ratio", "share"]
    guidance = pd.DataFrame(rows, columns=columns)
    guidance["message"] = guidance["topic"].map(GUIDANCE_MESSAGES)
    return guidance


def teacher_feedback(
    interactions: pd.DataFrame,
    *,
    ratings: pd.DataFrame | None = None,
    groups: pd.DataFrame | None = None,
    teacher: str | None = None,
    flag_rule: FlagRule = "posterior",
    flag_level: float = 0.95,
    confidence_level: float = 0.95,
    min_cell: int = 5,
) -> TeacherFeedbackResult:
    """Feedback for one teacher: shrunken rates per student, flags, spread, trends, guidance.

    Parameters
    ----------
    interactions
        The teacher's interactions with each student: one row per student and lesson (or per
        student and wave; rows of the same class, wave and student are added up) with columns
        ``classroom, wave, student`` (the pseudonymous code), ``minutes`` (present in the
        lesson) and the counts ``positive, negative, neutral``.
    ratings
        The teacher's own view: ``wave, student, closeness, conflict`` (scale scores). Optional.
    groups
        Background groups per student (``student`` and one column per grouping variable). Only
        for studies that enable groups in teachers' feedback; cells under ``min_cell`` students
        are suppressed (:func:`classdyad.analysis.small_cells.suppress_small_cells`). Default
        ``None``: no background groups.
    teacher
        The teacher's code (a label only).
    flag_rule
        ``"posterior"`` (approximate posterior probability above ``flag_level``) or ``"fdr"``
        (Benjamini-Hochberg q value at most ``1 - flag_level``).
    flag_level
        Threshold of the flag (0.95).
    confidence_level
        Level of every interval (0.95).
    min_cell
        Smallest group cell shown (5).

    Returns
    -------
    TeacherFeedbackResult

    Notes
    -----
    The model, intervals and flag rule are in the module docstring. Validated against
    ``lme4::glmer`` 1.1-31 (R 4.2.2): conditional modes and conditional variances to 1e-4.

    Examples
    --------
    >>> result = teacher_feedback(lessons, ratings=ratings, teacher="T0001")  # doctest: +SKIP
    >>> result.flagged  # doctest: +SKIP
    """
    check_option("flag_rule", flag_rule, FLAG_RULES)
    for name, value in (("flag_level", flag_level), ("confidence_level", confidence_level)):
        if not 0.5 < value < 1.0:
            raise OptionError(f"{name}={value!r} is not allowed; use a number between 0.5 and 1 "
                              "(0.95 by default)")
    if isinstance(min_cell, bool) or not isinstance(min_cell, int) or min_cell < 1:
        raise OptionError(f"min_cell={min_cell!r} is not allowed; use a whole number >= 1 (5)")
    data = _check_input(interactions)
    if data.empty:
        raise DataError("interactions is empty; the teacher has no observed lessons with "
                        "students present")
    totals = data.groupby(["classroom", "wave", "student"], as_index=False)[
        ["minutes", *VALENCES]].sum()
    totals["hours"] = totals["minutes"] / 60.0
    notes: list[str] = []
    students, classes = _fit_students(totals, confidence_level, flag_rule, flag_level, notes)
    flagged = students[students["flag"]].merge(
        classes.loc[classes["valence"] == "negative", ["classroom", "wave", "rate"]].rename(
            columns={"rate": "class_rate"}), on=["classroom", "wave"])
    flagged = flagged.assign(rate_ratio=flagged["shrunken_rate"] / flagged["class_rate"])
    spread, lorenz = _spread(students, classes, confidence_level)
    student_trends, class_trends = _trends(students, classes, confidence_level)
    perceived, disagreements = _perceived(students, ratings)
    if len(perceived):
        correlations = []
        for (classroom, wave), part in perceived.groupby(["classroom", "wave"]):
            row = {"classroom": classroom, "wave": wave}
            for rating, rate in (("conflict", "negative_rate"), ("closeness", "positive_rate")):
                row[f"{rating}_{rate}_spearman"] = (
                    float(scipy.stats.spearmanr(part[rating], part[rate]).statistic)
                    if len(part) >= 3 and part[rating].nunique() > 1
                    and part[rate].nunique() > 1 else math.nan)
            correlations.append(row)
        spread = spread.merge(pd.DataFrame(correlations), on=["classroom", "wave"], how="left")
    guidance = _guidance(students, spread, class_trends, disagreements)
    return TeacherFeedbackResult(
        teacher=teacher, students=students, classes=classes, flagged=flagged, spread=spread,
        lorenz=lorenz, student_trends=student_trends, class_trends=class_trends,
        perceived=perceived, disagreements=disagreements,
        groups=_groups(students, groups, min_cell), guidance=guidance, notes=tuple(notes),
        flag_rule=flag_rule, flag_level=flag_level, confidence_level=confidence_level,
        min_cell=min_cell)

