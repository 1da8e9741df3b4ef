"""Progress on a teacher's coaching goals: :func:`goal_progress`.

A goal is set for one class and one wave (the *current* wave): fewer negative interactions, or
more positive ones, with chosen students or with the class as a whole. Its progress compares the
current wave's estimates with those of the *baseline* wave, the latest earlier wave in which the
class was observed (normally the wave before), both from
:func:`classdyad.analysis.teacher_feedback`:

- a chosen student: the shrunken rates per hour (conditional modes) with their posterior
  intervals in both waves, and the rate ratio ``current / baseline``. The waves are fitted
  separately, so their posteriors are independent; on the log scale the ratio's standard
  deviation is ``sqrt(sd_baseline^2 + sd_current^2)`` (the posterior SDs of the two log rates,
  ``log_rate_sd``), the same normal approximation as the trends of the feedback;
- the chosen students together: the geometric mean of their rate ratios. Their log rates within
  a wave share the class's parameters and so are correlated; the standard deviation of the mean
  log ratio is bounded by the mean of the students' standard deviations whatever the
  correlations (Minkowski's inequality), and that bound is used: conservative, never
  overconfident;
- the class: the typical rate ``exp(b0)`` with its Wald interval (``intercept_se``), as the
  class trends.

The change is *credible* when the posterior probability that the rate moved the way the goal
wants (fell, for fewer negative interactions; rose, for more positive ones),
``Phi(-log ratio / sd)`` or ``Phi(log ratio / sd)``, exceeds ``level`` (0.95, the flag's level).
It is *credibly the wrong way* when the probability of the opposite exceeds ``level``. A goal with
a ``target`` (a rate ratio, for example 0.8 for a fifth fewer) also gets the probability that the
target was reached, ``P(ratio <= target)`` (or ``>=`` for more positive interactions).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.stats

from classdyad.analysis.teacher_feedback_results import TeacherFeedbackResult
from classdyad.errors import DataError

__all__ = ["GOAL_COLUMNS", "GOAL_VALENCE", "PROGRESS_COLUMNS", "PROGRESS_STATUSES",
           "goal_progress"]

#: goal kind -> the valence it is about, and the direction it wants (-1: fewer, +1: more)
GOAL_VALENCE: dict[str, tuple[str, int]] = {"fewer_negative": ("negative", -1),
                                            "more_positive": ("positive", 1)}
#: the columns of the goals frame
GOAL_COLUMNS = ("goal", "classroom", "wave", "kind", "students", "target")
#: what a progress row can say
PROGRESS_STATUSES = ("credible_progress", "no_credible_change", "credibly_worse",
                     "not_observed_yet", "no_baseline", "not_observed")
PROGRESS_COLUMNS = ["goal", "classroom", "kind", "valence", "target", "wave", "baseline_wave",
                    "level", "student", "baseline_rate", "baseline_ci_low", "baseline_ci_high",
                    "current_rate", "current_ci_low", "current_ci_high", "rate_ratio",
                    "ratio_ci_low", "ratio_ci_high", "prob_progress", "prob_target", "status"]


def _students_list(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, Sequence | np.ndarray):
        return [str(v) for v in value]
    raise DataError(f"a goal's students must be a list of student codes, not {value!r}")


def _assess(log_ratio: float, sd: float, direction: int, target: float | None, level: float,
            z: float) -> dict[str, float | str]:
    if not (math.isfinite(log_ratio) and math.isfinite(sd) and sd > 0):
        return {"rate_ratio": math.exp(log_ratio) if math.isfinite(log_ratio) else math.nan,
                "ratio_ci_low": math.nan, "ratio_ci_high": math.nan, "prob_progress": math.nan,
                "prob_target": math.nan, "status": "not_observed"}
    progress = float(scipy.stats.norm.cdf(direction * log_ratio / sd))
    reached = math.nan
    if target is not None and math.isfinite(target) and target > 0:
        reached = float(scipy.stats.norm.cdf(direction * (log_ratio - math.log(target)) / sd))
    status = ("credible_progress" if progress > level else
              "credibly_worse" if 1.0 - progress > level else "no_credible_change")
    return {"rate_ratio": math.exp(log_ratio), "ratio_ci_low": math.exp(log_ratio - z * sd),
            "ratio_ci_high": math.exp(log_ratio + z * sd), "prob_progress": progress,
            "prob_target": reached, "status": status}


def goal_progress(result: TeacherFeedbackResult, goals: pd.DataFrame, *,
                  level: float | None = None) -> pd.DataFrame:
    """Progress on each goal: baseline and current rates, their ratio, and whether it is credible.

    Parameters
    ----------
    result
        The teacher's feedback (every wave of the class: the baseline and the goal's wave).
    goals
        One row per goal: ``goal`` (an id), ``classroom`` (code), ``wave`` (the wave the goal is
        for), ``kind`` (``fewer_negative`` or ``more_positive``), ``students`` (a list of codes;
        empty: the class as a whole), ``target`` (a rate ratio, or missing).
    level
        Probability above which a change is credible; default: the result's flag level.

    Returns
    -------
    pandas.DataFrame
        One row per chosen student (``level = "student"``), one for the chosen students
        together (``"chosen"``), or one for the class (``"class"``), with the columns of
        :data:`PROGRESS_COLUMNS`; ``status`` is one of :data:`PROGRESS_STATUSES` (the method is
        in the module docstring).

    Raises
    ------
    DataError
        If ``goals`` lacks a column or names an unknown kind.
    """
    missing = [c for c in GOAL_COLUMNS if c not in goals.columns]
    if missing:
        raise DataError(f"goals has no column(s) {missing}; it needs {', '.join(GOAL_COLUMNS)}")
    level = result.flag_level if level is None else level
    z = float(scipy.stats.norm.ppf(0.5 + result.confidence_level / 2.0))
    students, classes = result.students, result.classes
    rows: list[dict[str, object]] = []
    for goal in goals.itertuples(index=False):
        if goal.kind not in GOAL_VALENCE:
            raise DataError(f"goal {goal.goal}: unknown kind {goal.kind!r}; use one of "
                            f"{', '.join(GOAL_VALENCE)}")
        valence, direction = GOAL_VALENCE[goal.kind]
        classroom, wave = str(goal.classroom), int(goal.wave)
        target = None if goal.target is None or pd.isna(goal.target) else float(goal.target)
        chosen = _students_list(goal.students)
        observed = sorted(int(w) for w in classes.loc[classes["classroom"] == classroom,
                                                      "wave"].unique())
        earlier = [w for w in observed if w < wave]
        base = {"goal": goal.goal, "classroom": classroom, "kind": goal.kind,
                "valence": valence, "target": target, "wave": wave,
                "baseline_wave": earlier[-1] if earlier else None}
        status = ("no_baseline" if not earlier else
                  "not_observed_yet" if wave not in observed else None)
        if not chosen:
            row = {**base, "level": "class", "student": None}
            if status is None:
                cls = classes[(classes["classroom"] == classroom)
                              & (classes["valence"] == valence)].set_index("wave")
                before, now = cls.loc[earlier[-1]], cls.loc[wave]
                row.update(baseline_rate=before["rate"], baseline_ci_low=before["ci_low"],
                           baseline_ci_high=before["ci_high"], current_rate=now["rate"],
                           current_ci_low=now["ci_low"], current_ci_high=now["ci_high"])
                row.update(_assess(float(now["intercept"] - before["intercept"]),
                                   math.hypot(before["intercept_se"], now["intercept_se"]),
                                   direction, target, level, z))
            else:
                row["status"] = status
            rows.append(row)
            continue
        log_ratios, sds = [], []
        for student in chosen:
            row = {**base, "level": "student", "student": student}
            if status is not None:
                rows.append({**row, "status": status})
                continue
            mine = students[(students["classroom"] == classroom)
                            & (students["student"] == student)
                            & (students["valence"] == valence)].set_index("wave")
            if not {earlier[-1], wave} <= set(mine.index):
                rows.append({**row, "status": "not_observed"})
                continue
            before, now = mine.loc[earlier[-1]], mine.loc[wave]
            row.update(baseline_rate=before["shrunken_rate"], baseline_ci_low=before["ci_low"],
                       baseline_ci_high=before["ci_high"], current_rate=now["shrunken_rate"],
                       current_ci_low=now["ci_low"], current_ci_high=now["ci_high"])
            log_ratio = float(np.log(now["shrunken_rate"]) - np.log(before["shrunken_rate"]))
            sd = math.hypot(before["log_rate_sd"], now["log_rate_sd"])
            row.update(_assess(log_ratio, sd, direction, target, level, z))
            if row["status"] != "not_observed":
                log_ratios.append(log_ratio)
                sds.append(sd)
            rows.append(row)
        together = {**base, "level": "chosen", "student": None}
        if status is not None:
            together["status"] = status
        elif log_ratios:
            together.update(_assess(float(np.mean(log_ratios)), float(np.mean(sds)), direction,
                                    target, level, z))
        else:
            together["status"] = "not_observed"
        rows.append(together)
    return pd.DataFrame(rows, columns=PROGRESS_COLUMNS)
