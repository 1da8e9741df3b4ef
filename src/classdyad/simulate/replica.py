"""The replica study: a synthetic study with the seed study's design and a known truth.

:func:`simulate_study` draws a whole study (people, lessons, coded interactions, questionnaires,
IATs) from the generative model of :mod:`classdyad.simulate.design` and returns it as
:class:`~classdyad.model.StudyTables` with its design and truth. :func:`write_replica` stores it in
a SQLite file and writes ``truth.json`` beside it. The same seed always gives the same study.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classdyad.model import StudyTables
from classdyad.simulate.design import ReplicaDesign, ReplicaTruth
from classdyad.simulate.measurement import draw_iat, draw_outcomes, draw_questionnaires
from classdyad.simulate.observation import CODEBOOK, N_CODERS, draw_observation, wave_dates
from classdyad.simulate.population import draw_population
from classdyad.simulate.second_coder import add_second_coder

RandomState = int | np.random.Generator | None


@dataclass(frozen=True)
class SimulatedStudy:
    """A simulated study: its tables, the design and truth it was drawn from, and the seed."""

    tables: StudyTables
    design: ReplicaDesign
    truth: ReplicaTruth = field(repr=False)
    seed: int | None
    latent: pd.DataFrame = field(repr=False)
    """True relationship quality per student x wave, before questionnaire noise."""

    def truth_record(self) -> dict[str, Any]:
        """Everything ``truth.json`` holds: seed, design, true parameters and realized sizes."""
        return {
            "generator": "classdyad.simulate.simulate_study",
            "seed": self.seed,
            "design": asdict(self.design),
            "truth": self.truth.to_dict(),
            "realized": self.tables.counts(),
        }

    def _repr_html_(self) -> str:
        counts = pd.Series(self.tables.counts(), name="rows").to_frame()
        return f"<p><b>{self.tables.name}</b> (seed {self.seed})</p>" + counts.to_html()


def _rng(rng: RandomState) -> tuple[np.random.Generator, int | None]:
    if isinstance(rng, np.random.Generator):
        return rng, None
    return np.random.default_rng(rng), rng


def simulate_study(design: ReplicaDesign | None = None, truth: ReplicaTruth | None = None, *,
                   rng: RandomState = None, name: str | None = None) -> SimulatedStudy:
    """Draw a replica study.

    Parameters
    ----------
    design
        Sizes and structure; default :class:`ReplicaDesign` (the seed study: 32 schools,
        73 classes, 1,566 students, 3 waves).
    truth
        True parameters; default :class:`ReplicaTruth`.
    rng
        Seed or generator; the same seed gives the same study.
    name
        The study's name (default ``"replica"`` with the seed).

    Returns
    -------
    SimulatedStudy
    """
    design = design or ReplicaDesign()
    truth = truth or ReplicaTruth()
    generator, seed = _rng(rng)
    waves = wave_dates(design)
    people = draw_population(design, truth, generator)
    observed = draw_observation(design, truth, people, waves, generator)
    codebook_categories = pd.DataFrame(
        [{"codebook_id": 1, "subtype": s, "valence": v, "hotkey": k, "label": label}
         for s, (v, k, label) in CODEBOOK.items()])
    common = {
        "waves": waves, "schools": people.schools, "classrooms": people.classrooms,
        "teachers": people.teachers, "classroom_teachers": people.classroom_teachers,
        "students": people.students, "enrolments": people.enrolments,
        "lessons": observed.lessons, "lesson_teachers": observed.lesson_teachers,
        "attendance": observed.attendance,
        "codebooks": pd.DataFrame({"id": [1], "name": ["valence"], "version": ["1.0"]}),
        "codebook_categories": codebook_categories,
        "coders": pd.DataFrame({"id": np.arange(1, N_CODERS + 2),
                                "code": [f"coder{i}" for i in range(1, N_CODERS + 2)]}),
        "events": observed.events,
    }
    study_name = name or (f"replica (seed {seed})" if seed is not None else "replica")
    partial = StudyTables(name=study_name, **common)
    iat_sessions, iat_trials, iat_true = draw_iat(design, truth, people.teachers, generator)
    latent = draw_outcomes(truth, people, observed, partial, iat_true, generator)
    instruments, responses, items = draw_questionnaires(design, truth, latent, generator)
    if design.second_coder_lesson_share > 0:
        common["events"] = add_second_coder(observed.events, observed.lessons, design, truth,
                                            coder_id=N_CODERS + 1, rng=generator)
    tables = StudyTables(
        name=study_name,
        description="Synthetic replica of the seed study's design (classdyad.simulate)",
        settings={"min_cell_size": 5, "ses_rule": "pupil_weight", "replica_seed": seed},
        instruments=instruments, responses=responses, response_items=items,
        iat_sessions=iat_sessions, iat_trials=iat_trials, **common)
    latent = latent.merge(iat_true.pivot(index="teacher_id", columns="kind", values="d_true")
                          .add_prefix("iat_true_").reset_index(), on="teacher_id", how="left")
    return SimulatedStudy(tables, design, truth, seed, latent)


@dataclass(frozen=True)
class ReplicaFiles:
    """Where :func:`write_replica` put the study."""

    database: Path
    truth: Path
    study: SimulatedStudy


def write_replica(directory: str | os.PathLike[str], *, design: ReplicaDesign | None = None,
                  truth: ReplicaTruth | None = None, rng: RandomState = None,
                  progress: Callable[[str, int], None] | None = None) -> ReplicaFiles:
    """Simulate a replica study and store it as ``DIR/study.sqlite`` with ``DIR/truth.json``.

    The database is written to a temporary file first and moved into place only when complete,
    so an interrupted run never leaves a half-written study (an older ``study.sqlite`` in the
    folder is replaced).
    """
    from classdyad.store import open_database, write_study

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    study = simulate_study(design, truth, rng=rng)
    target = folder / "study.sqlite"
    temporary = folder / ".study.sqlite.partial"
    for leftover in (temporary, Path(f"{temporary}-wal"), Path(f"{temporary}-shm")):
        leftover.unlink(missing_ok=True)
    engine = open_database(temporary)
    try:
        write_study(engine, study.tables, actor="classdyad demo", progress=progress)
    finally:
        engine.dispose()
    for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    os.replace(temporary, target)
    truth_path = folder / "truth.json"
    truth_path.write_text(json.dumps(study.truth_record(), indent=2, default=str),
                          encoding="utf-8")
    return ReplicaFiles(target, truth_path, study)
