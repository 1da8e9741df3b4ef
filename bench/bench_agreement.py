"""Speed of event matching and coder agreement on a study-sized, double-coded event set.

The seed study coded more than 183,000 interactions. This benchmark generates 183,000 events for
coder A in 657 lessons (73 classes x 3 waves x 3 lessons, 45 minutes each, 25 students per class)
and a second coding of the same lessons by coder B with missed events, extra events, time jitter
and valence and target confusions, all with numpy and a fixed seed. It then times
:func:`classdyad.coding.match_events`, :func:`classdyad.measures.time_unit_kappa` and the whole
:func:`classdyad.measures.coder_agreement` (which repeats the matching and adds every statistic).
The goal is under 5 s for the whole agreement.

Run: ``python -m bench agreement [--events N] [--seed S] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from classdyad.coding import match_events
from classdyad.errors import UndefinedStatisticWarning
from classdyad.measures import coder_agreement, time_unit_kappa

VALENCES = np.array(["positive", "negative", "neutral"], dtype=object)
SUBTYPES = {"positive": ["praise", "encouragement"], "negative": ["correction", "disapproval"],
            "neutral": ["instruction", "question"]}


def double_coded_events(n_events: int = 183_000, *, n_lessons: int = 657,
                        lesson_seconds: float = 2700.0, students_per_class: int = 25,
                        seed: int = 20260526) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two coders' events for the same lessons (coder B: 8 % missed, 5 % extra, jitter 0.6 s
    SD, 10 % valence and 5 % target confusions)."""
    rng = np.random.default_rng(seed)
    lesson = np.sort(rng.integers(0, n_lessons, n_events))
    t = rng.uniform(0, lesson_seconds, n_events)
    valence = VALENCES[rng.choice(3, n_events, p=[0.25, 0.10, 0.65])]
    kind = rng.choice(np.array(["student", "group", "class"], dtype=object), n_events,
                      p=[0.8, 0.08, 0.12])
    student = (lesson // 3) * students_per_class + rng.integers(0, students_per_class, n_events)
    subtype = np.array([SUBTYPES[v][i] for v, i in zip(valence, rng.integers(0, 2, n_events),
                                                       strict=True)], dtype=object)

    def frame(sel: np.ndarray, times: np.ndarray, val: np.ndarray, kinds: np.ndarray,
              students: np.ndarray, subtypes: np.ndarray, coder: str) -> pd.DataFrame:
        return pd.DataFrame({
            "lesson_id": lesson[sel] + 1, "time": times,
            "student_id": pd.array(np.where(kinds == "student", students, -1),
                                   dtype="Int64").astype("Int64"),
            "target_kind": kinds, "valence": val, "subtype": subtypes, "coder": coder,
            "event_id": [f"{coder}{i}" for i in range(len(times))],
        }).assign(student_id=lambda d: d["student_id"].mask(d["target_kind"] != "student"))

    all_rows = np.arange(n_events)
    coder_a = frame(all_rows, t, valence, kind, student, subtype, "anna")

    kept = all_rows[rng.random(n_events) > 0.08]
    times_b = np.clip(t[kept] + rng.normal(0, 0.6, len(kept)), 0, None)
    val_b = valence[kept].copy()
    confused = rng.random(len(kept)) < 0.10
    val_b[confused] = VALENCES[rng.integers(0, 3, confused.sum())]
    student_b = student[kept].copy()
    moved = rng.random(len(kept)) < 0.05
    student_b[moved] = (lesson[kept][moved] // 3) * students_per_class + rng.integers(
        0, students_per_class, moved.sum())
    sub_b = np.array([SUBTYPES[v][0] if c else s for v, c, s in
                      zip(val_b, confused, subtype[kept], strict=True)], dtype=object)
    coder_b = frame(kept, times_b, val_b, kind[kept], student_b, sub_b, "bram")
    n_extra = int(0.05 * n_events)
    extra_rows = rng.integers(0, n_events, n_extra)
    extra = frame(extra_rows, rng.uniform(0, lesson_seconds, n_extra),
                  VALENCES[rng.integers(0, 3, n_extra)], kind[extra_rows], student[extra_rows],
                  subtype[extra_rows], "bram")
    extra["event_id"] = [f"bram-extra{i}" for i in range(n_extra)]
    coder_b = pd.concat([coder_b, extra], ignore_index=True)
    return coder_a, coder_b


def _timed(function, repeat: int) -> tuple[float, object]:
    best = np.inf
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench agreement")
    parser.add_argument("--events", type=int, default=183_000)
    parser.add_argument("--seed", type=int, default=20260526)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    coder_a, coder_b = double_coded_events(args.events, seed=args.seed)
    print(f"coder A: {len(coder_a):,} events, coder B: {len(coder_b):,} events, "
          f"{coder_a['lesson_id'].nunique()} lessons")
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        seconds, matching = _timed(lambda: match_events(coder_a, coder_b), args.repeat)
        rows.append(("match_events (window 2 s)", seconds))
        seconds, _ = _timed(lambda: time_unit_kappa(coder_a, coder_b, aspect="valence"),
                            args.repeat)
        rows.append(("time_unit_kappa (valence, 1 s)", seconds))
        seconds, result = _timed(lambda: coder_agreement(coder_a, coder_b), args.repeat)
        rows.append(("coder_agreement (everything)", seconds))
    print(f"{'step':<34}{'best of ' + str(args.repeat):>12}")
    for name, seconds in rows:
        print(f"{name:<34}{seconds:>10.3f} s")
    counts = matching.to_frame().iloc[-1]
    print(f"matched pairs: {int(counts['n_matched']):,}; only A: {int(counts['n_only_a']):,}; "
          f"only B: {int(counts['n_only_b']):,}; statistics: {len(result.statistics):,} rows")
    summary = result.summary().set_index(["aspect", "statistic"])["estimate"]
    print(f"valence kappa (matched) {summary[('valence', 'kappa')]:.3f}, with no event "
          f"{summary[('valence', 'kappa_with_no_event')]:.3f}, time-unit "
          f"{summary[('valence', 'time_unit_kappa')]:.3f}")
    verdict = "meets" if rows[-1][1] < 5 else "MISSES"
    print(f"coder_agreement {verdict} the 5 s goal")
