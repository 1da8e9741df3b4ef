"""Speed of importing interaction events from CSV, all or nothing, into a stored study.

A small replica study (8 schools, 16 classes; its own events left out) is written to a
temporary SQLite file; then N events (1,000,000 by default) are drawn for its lessons with numpy
and a fixed seed (student-, group- and class-directed, each student enrolled in the lesson's
class, each teacher teaching the lesson) and written as a classdyad events CSV. The benchmark
times :func:`classdyad.io.read_interaction_events` (parse and map the columns) and
:func:`classdyad.store.importing.import_interaction_events` (code lookup, every check, one
transaction), and then a second import of the same file, which must add nothing. The goal is
under 20 s for the first import of 1,000,000 events, reading included.

Run: ``python -m bench import [--events N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from classdyad.io.events import read_interaction_events
from classdyad.model.tables import empty_table
from classdyad.simulate import ReplicaDesign, simulate_study
from classdyad.store import open_database, write_study
from classdyad.store.importing import import_interaction_events


def events_csv(path: Path, tables, n_events: int, seed: int) -> None:
    """Write ``n_events`` valid events for the study's lessons to ``path``."""
    rng = np.random.default_rng(seed)
    lessons = tables.lessons.merge(tables.lesson_teachers, left_on="id", right_on="lesson_id")
    lessons = lessons.drop_duplicates("lesson_id").reset_index(drop=True)
    teachers = tables.teachers.set_index("id")["code"]
    students = tables.students.set_index("id")["code"]
    pick = rng.integers(0, len(lessons), n_events)
    chosen = lessons.iloc[pick].reset_index(drop=True)
    enrol = tables.enrolments[["student_id", "classroom_id", "wave_id"]].merge(
        tables.lessons[["id", "classroom_id", "wave_id"]].rename(columns={"id": "lesson_id"}),
        on=["classroom_id", "wave_id"])
    by_lesson = enrol.groupby("lesson_id")["student_id"].apply(np.asarray)
    kind = rng.choice(np.array(["student", "group", "class"], dtype=object), n_events,
                      p=[0.85, 0.05, 0.10])
    draw = rng.random(n_events)
    student = np.empty(n_events, dtype=object)
    for lesson_id, index in pd.Series(np.arange(n_events)).groupby(
            chosen["lesson_id"].to_numpy()).groups.items():
        pool = by_lesson[lesson_id]
        rows = np.asarray(index)
        student[rows] = students.reindex(pool[(draw[rows] * len(pool)).astype(int)]).to_numpy()
    student[kind != "student"] = None
    valence = rng.choice(np.array(["positive", "negative", "neutral"], dtype=object), n_events,
                         p=[0.25, 0.1, 0.65])
    pd.DataFrame({
        "client_id": [f"bench-{i:08d}" for i in range(n_events)],
        "lesson_id": chosen["lesson_id"].to_numpy(),
        "video_seconds": np.round(rng.uniform(0, chosen["observed_minutes"] * 60), 2),
        "teacher": teachers.reindex(chosen["teacher_id"]).to_numpy(),
        "target_kind": kind, "student": student, "valence": valence,
        "subtype": valence, "coder": "coder1",
    }).to_csv(path, index=False)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench import")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20260601)
    args = parser.parse_args(argv)
    study = simulate_study(ReplicaDesign(schools=8, classes=16, students=340), rng=args.seed)
    tables = dataclasses.replace(study.tables, events=empty_table("events"))
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "study.sqlite"
        engine = open_database(database)
        write_study(engine, tables)
        path = Path(folder) / "events.csv"
        events_csv(path, tables, args.events, args.seed)
        size = path.stat().st_size / 2**20
        started = time.perf_counter()
        events = read_interaction_events(path)
        read_s = time.perf_counter() - started
        summary = import_interaction_events(engine, events, source=path.name)
        total_s = time.perf_counter() - started
        started = time.perf_counter()
        again = import_interaction_events(engine, read_interaction_events(path),
                                          source=path.name)
        again_s = time.perf_counter() - started
        engine.dispose()
    rows = [("read CSV (parse, map columns)", read_s, f"{size:,.0f} MiB"),
            ("first import, reading included", total_s,
             f"{summary.added['events']:,} added (goal < 20 s)"),
            ("second import of the same file", again_s,
             f"{again.added['events']:,} added, {again.already_stored['events']:,} stored")]
    print(f"{'step':<34}{'seconds':>9}  note")
    for step, seconds, note in rows:
        print(f"{step:<34}{seconds:>9.2f}  {note}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
