"""Monte Carlo power analysis of the study plan over a grid of designs: :func:`power`.

For every design point (classes, students per class, classes per school, waves, lessons per
wave) replicate studies are drawn from the replica's generative model
(:func:`~classdyad.simulate.fast_dataset.draw_analysis_dataset`, or the event-level simulator
with ``simulation="full"``) and the requested hypotheses are tested on each exactly as
:func:`classdyad.study.study_plan` tests them (the same :func:`classdyad.study.plan.plan_steps`:
same models, same tests, same alpha; optionally Benjamini-Hochberg adjusted over the estimates
of the hypotheses run). Power is the share of fitted replicates that reject; failed fits are
counted beside it (:mod:`classdyad.simulate.power_results`).

Replicates run on Dask (``dask.distributed``): a ``LocalCluster`` of ``workers`` processes with one
BLAS thread each by default, an existing scheduler with ``scheduler="tcp://HOST:PORT"``, or this
process alone with ``scheduler="serial"``. Replicates are batched so that a task runs at least
``batch_seconds``. Each replicate's random numbers derive from the run's seed by
``numpy.random.SeedSequence`` (:mod:`classdyad.simulate.power_replicates`), so results are the
same whatever the workers. With ``out`` every replicate is appended to ``out/replicates.jsonl`` as
it arrives, and a rerun with the same arguments continues where an interrupted run stopped.

This is the approach of simr (Green & MacLeod 2016) - simulate from a fitted or assumed model,
refit, count rejections - for the whole plan at once, with count outcomes, mediation and
moderation.

References
----------
Green, P. & MacLeod, C. J. (2016). SIMR: an R package for power analysis of generalized linear
mixed models by simulation. *Methods in Ecology and Evolution*, 7(4), 493-498.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from classdyad.errors import DataError, check_option
from classdyad.simulate.design import ReplicaDesign, ReplicaTruth
from classdyad.simulate.power_effects import describe_truth, null_truth
from classdyad.simulate.power_replicates import ReplicateTask, prepare_worker, run_replicates
from classdyad.simulate.power_results import (
    DESIGN_COLUMNS,
    PowerResult,
    replicate_frames,
    smallest_designs,
    summarize_replicates,
)
from classdyad.study.plan import HYPOTHESES

__all__ = ["design_grid", "power"]

Progress = Callable[[int, int], None]
RECORDS_FILE = "replicates.jsonl"
RUN_FILE = "run.json"
_BLAS_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
#: Dask settings of the local cluster: no statistical profiler sampling every worker's stack
#: each 10 ms, no work stealing (the tasks are alike and few in flight), and the event loops'
#: and monitors' checks at 1-2 s instead of 20-500 ms; idle, the client and workers then use
#: 0.1-0.8 % of a core instead of 3.5 % each, which the replicates get instead
_QUIET_DASK = {
    "distributed.worker.profile.enabled": False,
    "distributed.scheduler.work-stealing": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.system-monitor.disk": False,
    "distributed.admin.system-monitor.gil.enabled": False,
    "distributed.worker.memory.monitor-interval": "1s",
}


def design_grid(base: ReplicaDesign | None = None, *, classes: Sequence[int] | None = None,
                students_per_class: Sequence[float] | None = None,
                classes_per_school: Sequence[float] | None = None,
                waves: Sequence[int] | None = None,
                lessons_per_wave: Sequence[int] | None = None,
                class_size_sd: float | None = None,
                **fixed: Any) -> tuple[pd.DataFrame, list[ReplicaDesign]]:
    """Every combination of the given design values, as replica designs.

    Parameters
    ----------
    base
        The design the others vary (default: the seed study's :class:`ReplicaDesign`); an
        omitted dimension keeps its value (students per class and classes per school: its
        ratios).
    classes, students_per_class, classes_per_school, waves, lessons_per_wave
        Values to cross.
    class_size_sd
        Standard deviation of class sizes around ``students_per_class`` (sets the design's
        ``class_size_shape`` at each point to ``((students_per_class - 5) / sd)^2``; default:
        the base design's spread).
    **fixed
        Other :class:`ReplicaDesign` fields set at every point (e.g. ``lesson_minutes``,
        ``absence_rate``, ``leave_rate_per_wave``, ``class_size_shape``).

    Returns
    -------
    (pandas.DataFrame, list of ReplicaDesign)
        The points (columns ``design, schools, classes, students_per_class, students, waves,
        lessons_per_wave``) and their designs.
    """
    base = base or ReplicaDesign()
    try:
        base = dataclasses.replace(base, **fixed)
    except TypeError as error:
        names = ", ".join(f.name for f in dataclasses.fields(ReplicaDesign))
        raise DataError(f"{error}; design fields are {names}") from None
    dims = {
        "classes": list(classes or [base.scaled("classes")]),
        "students_per_class": list(students_per_class
                                   or [base.scaled("students") / base.scaled("classes")]),
        "classes_per_school": list(classes_per_school
                                   or [base.scaled("classes") / base.scaled("schools")]),
        "waves": list(waves or [base.waves]),
        "lessons_per_wave": list(lessons_per_wave or [base.lessons_per_wave]),
    }
    rows, designs = [], []
    for index, values in enumerate(itertools.product(*dims.values())):
        point = dict(zip(dims, values, strict=True))
        n_classes = int(point["classes"])
        if point["students_per_class"] < 5 or point["classes_per_school"] <= 0:
            raise DataError("students per class must be at least 5 and classes per school "
                            "positive")
        schools = max(1, min(n_classes, round(n_classes / point["classes_per_school"])))
        students = round(n_classes * point["students_per_class"])
        shape = base.class_size_shape
        if class_size_sd is not None:
            if class_size_sd <= 0:
                raise DataError("class_size_sd must be positive, e.g. 4 (students)")
            shape = max(((point["students_per_class"] - 5.0) / class_size_sd) ** 2, 0.05)
        design = dataclasses.replace(base, schools=schools, classes=n_classes,
                                     class_size_shape=shape,
                                     students=students, waves=int(point["waves"]),
                                     lessons_per_wave=int(point["lessons_per_wave"]),
                                     scale=1.0)
        designs.append(design)
        rows.append({"design": index, "schools": schools, "classes": n_classes,
                     "students_per_class": float(point["students_per_class"]),
                     "students": students, "waves": design.waves,
                     "lessons_per_wave": design.lessons_per_wave})
    return pd.DataFrame(rows, columns=DESIGN_COLUMNS), designs


def _fingerprint(content: dict[str, Any]) -> str:
    text = json.dumps(content, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_records(path: Path) -> list[dict[str, Any]]:
    records = []
    if not path.exists():
        return records
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short when a run was killed
            if isinstance(record, dict) and "design" in record and "replicate" in record:
                records.append(record)
    return records


class _Serial:
    """Runs batches in this process, one after another."""

    workers = 1

    def run(self, batches: Iterator[tuple[ReplicateTask, list[int]]],
            on_result: Callable[[list[dict[str, Any]]], None]) -> None:
        for task, replicates in batches:
            on_result(run_replicates(task, replicates))

    def close(self) -> None:
        return None


def _malloc_environment() -> dict[str, dict[str, Any]]:
    """The environment the nannies set before they start a worker, without Dask's
    ``MALLOC_TRIM_THRESHOLD_``.

    Dask sets ``MALLOC_TRIM_THRESHOLD_=65536`` so that long-lived workers hand freed memory
    back to the system. Setting it turns off glibc's dynamic mmap threshold: every array above
    128 KB (one column of the plan's 20,000 Monte Carlo draws is 160 KB) is then a fresh
    ``mmap`` whose pages fault in on first touch, and freed again at once. On the replica
    design that cost 2,000 page faults and about 7 ms of system time per H3 replicate, with
    the cache misses of fresh pages on top (a replicate's CPU time 10-15 % above that of the
    same replicate in a plain process); without it the faults drop to a few per replicate.
    A power analysis's workers live for one run, so the memory they keep is bounded.
    """
    import dask

    environment = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}))
    environment.pop("MALLOC_TRIM_THRESHOLD_", None)
    return {"distributed.nanny.pre-spawn-environ": environment}


class _Dask:
    """Runs batches on a Dask cluster, a few tasks in flight per worker."""

    def __init__(self, scheduler: str | None, workers: int) -> None:
        import dask
        from distributed import Client, LocalCluster

        self.cluster = None
        self.settings = None
        if scheduler is None:
            # set for the cluster's life (the nannies hand them to the worker processes)
            self.settings = dask.config.set({**_QUIET_DASK, **_malloc_environment()})
            try:
                # the scheduler's HTTP server on a free port (with None it still takes
                # 8787, and a second run, or a notebook's cluster, makes the next one warn)
                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                            processes=True, dashboard_address=":0",
                                            silence_logs=logging.ERROR, env=dict(_BLAS_ENV))
                self.client = Client(self.cluster)
            except BaseException:
                self.settings.__exit__(None, None, None)
                raise
        else:
            self.client = Client(scheduler, timeout=30)
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})) or workers)
        # imports and thread pools before the first batch: the start, not the run, pays them
        self.worker_setup = self.client.run(prepare_worker)

    def run(self, batches: Iterator[tuple[ReplicateTask, list[int]]],
            on_result: Callable[[list[dict[str, Any]]], None]) -> None:
        from distributed import as_completed

        window = 2 * self.workers
        futures = [self.client.submit(run_replicates, *batch, pure=False)
                   for batch in itertools.islice(batches, window)]
        queue = as_completed(futures)
        for future in queue:
            on_result(future.result())
            future.release()
            following = next(batches, None)
            if following is not None:
                queue.add(self.client.submit(run_replicates, *following, pure=False))

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        if self.settings is not None:
            self.settings.__exit__(None, None, None)


def _needed(records: list[dict[str, Any]], designs: pd.DataFrame, alpha: float,
            adjustment: str, mc_se: float, current: dict[int, int], cap: int) -> dict[int, int]:
    table = summarize_replicates(records, designs, alpha=alpha, adjustment=adjustment)
    out = dict(current)
    for design, part in table.groupby("design"):
        p = part["power"].fillna(0.5).to_numpy()
        fitted = part["n_fitted"].to_numpy()
        failed_share = 1.0 - fitted / np.maximum(part["n_replicates"].to_numpy(), 1)
        variance = np.maximum(p * (1 - p), 1.0 / max(int(fitted.min()), 1) ** 2)
        n = np.ceil(variance / mc_se**2 / np.maximum(1.0 - failed_share, 0.05))
        out[int(design)] = int(min(cap, max(current[int(design)], n.max())))
    return out


def _truths(truth: ReplicaTruth, hypotheses: tuple[str, ...], null: bool,
            design: ReplicaDesign) -> tuple[tuple[str, ReplicaTruth], ...]:
    """Each hypothesis's truth; under the null, H1 and H3 share theirs (one study for both)."""
    if not null:
        return tuple((h, truth) for h in hypotheses)
    out: dict[str, ReplicaTruth] = {}
    for h in hypotheses:
        out[h] = out["H1"] if h == "H3" and "H1" in out else null_truth(truth, h)
    return tuple(out.items())


def power(*, hypotheses: Sequence[str] = HYPOTHESES, classes: Sequence[int] | None = None,
          students_per_class: Sequence[float] | None = None,
          classes_per_school: Sequence[float] | None = None,
          waves: Sequence[int] | None = None, lessons_per_wave: Sequence[int] | None = None,
          class_size_sd: float | None = None, design: ReplicaDesign | None = None,
          design_options: dict[str, Any] | None = None,
          truth: ReplicaTruth | None = None, null: bool = False, alpha: float = 0.05,
          adjustment: Literal["none", "fdr"] = "none", target: float = 0.8,
          replicates: int = 200, mc_se: float | None = None, max_replicates: int = 5000,
          seed: int | None = None, n_draws: int = 20_000,
          simulation: Literal["fast", "full"] = "fast", workers: int = 1,
          scheduler: str | None = None, batch_seconds: float = 1.0,
          out: str | os.PathLike[str] | None = None,
          progress: Progress | None = None) -> PowerResult:
    """Power of the study plan's tests by Monte Carlo simulation over a grid of designs.

    Parameters
    ----------
    hypotheses
        Which of ``"H1"`` ... ``"H5"`` to test (each exactly as :func:`study_plan` does).
    classes, students_per_class, classes_per_school, waves, lessons_per_wave
        The design grid (:func:`design_grid`); omitted dimensions keep ``design``'s values.
    class_size_sd
        Spread of class sizes (students) around ``students_per_class``.
    design
        The design the grid varies (default: the seed study's).
    design_options
        Other design fields fixed at every point, e.g. ``{"absence_rate": 0.1,
        "lesson_minutes": (45, 60), "class_size_shape": 4}``.
    truth
        The effects (default: :class:`ReplicaTruth`; see :func:`truth_from_yaml` and
        :func:`truth_from_pilot`).
    null
        Set the effects each hypothesis tests to zero (:func:`null_truth`): the rejection rate
        is then the test's type I error.
    alpha
        Significance level of every test (the plan's 0.05).
    adjustment
        ``"none"``: reject when ``p < alpha``; ``"fdr"``: when the Benjamini-Hochberg adjusted
        p value over the estimates of the hypotheses run is below ``alpha``.
    target
        The power whose smallest design is reported.
    replicates
        Replicates per design point (with ``mc_se``: the first round).
    mc_se
        Go on until every estimate's Monte Carlo standard error is at most this (up to
        ``max_replicates`` per design point).
    max_replicates
        Cap on replicates per design point with ``mc_se``.
    seed
        The run's seed (default: fresh entropy, recorded in the result's settings).
    n_draws
        Monte Carlo draws of the plan's indirect-effect intervals (the plan's 20,000).
    simulation
        ``"fast"``: draw the analysis dataset directly; ``"full"``: simulate every event and
        build the dataset from them (slower, the same model).
    workers
        Processes of the local Dask cluster (one BLAS thread each).
    scheduler
        ``None``: a local Dask cluster; ``"tcp://HOST:PORT"``: an existing Dask scheduler;
        ``"serial"``: this process, without Dask.
    batch_seconds
        Replicates are batched so that a task runs at least about this long (1 s: on the
        replica design five replicates of H3 per task, so the scheduler's round trips cost
        little; the batches shrink towards the end so that the workers finish together).
    out
        A folder for ``replicates.jsonl`` (written as replicates arrive) and ``run.json``; a
        rerun with the same arguments and ``out`` continues where it stopped.
    progress
        Called with (replicates done, replicates planned) as results arrive.

    Returns
    -------
    PowerResult
    """
    check_option("adjustment", adjustment, ("none", "fdr"))
    check_option("simulation", simulation, ("fast", "full"))
    hypotheses = tuple(h.strip().upper() for h in hypotheses)
    unknown = [h for h in hypotheses if h not in HYPOTHESES]
    if unknown or not hypotheses:
        raise DataError(f"unknown hypothesis {unknown}; choose from {', '.join(HYPOTHESES)}")
    hypotheses = tuple(h for h in HYPOTHESES if h in hypotheses)
    if not 0 < alpha < 1 or not 0 < target < 1:
        raise DataError("alpha and target must lie between 0 and 1, e.g. 0.05 and 0.8")
    if replicates < 1 or (mc_se is not None and not 0 < mc_se < 0.5):
        raise DataError("give at least 1 replicate, and an mc_se between 0 and 0.5 "
                        "(e.g. 0.01)")
    if workers < 1:
        raise DataError("workers must be at least 1")
    if scheduler is not None and scheduler != "serial" and "://" not in scheduler:
        raise DataError(f"scheduler {scheduler!r}: give a Dask address such as "
                        "tcp://127.0.0.1:8786, or 'serial' to run in this process")
    truth = truth or ReplicaTruth()
    seed = int(np.random.SeedSequence().entropy % 2**63) if seed is None else int(seed)
    designs, replica_designs = design_grid(
        design, classes=classes, students_per_class=students_per_class,
        classes_per_school=classes_per_school, waves=waves, lessons_per_wave=lessons_per_wave,
        class_size_sd=class_size_sd, **(design_options or {}))
    tasks = [ReplicateTask(i, d, _truths(truth, hypotheses, null, d), seed, n_draws,
                           simulation) for i, d in enumerate(replica_designs)]
    identity = {"hypotheses": hypotheses, "designs": [dataclasses.asdict(d)
                                                     for d in replica_designs],
                "truths": [{h: t.to_dict() for h, t in task.truths} for task in tasks],
                "null": null, "seed": seed, "n_draws": n_draws, "simulation": simulation}
    settings = {"hypotheses": list(hypotheses), "seed": seed, "alpha": alpha,
                "adjustment": adjustment, "null": null, "target": target,
                "replicates": replicates, "mc_se": mc_se, "n_draws": n_draws,
                "simulation": simulation, "workers": workers, "scheduler": scheduler or "local",
                "fingerprint": _fingerprint(identity)}

    records: dict[tuple[int, int], dict[str, Any]] = {}
    writer = None
    if out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        run_file = folder / RUN_FILE
        if run_file.exists():
            previous = json.loads(run_file.read_text(encoding="utf-8"))
            if previous.get("fingerprint") != settings["fingerprint"]:
                raise DataError(f"{folder} holds a run with other arguments (design, effects, "
                                "hypotheses or seed); give another --out folder, or the same "
                                "arguments to continue that run")
        run_file.write_text(json.dumps({**settings, "identity": identity}, indent=1,
                                       default=str), encoding="utf-8")
        for record in _read_records(folder / RECORDS_FILE):
            records[(record["design"], record["replicate"])] = record
        path = folder / RECORDS_FILE
        cut_short = path.exists() and path.stat().st_size > 0 and \
            not path.read_bytes().endswith(b"\n")
        writer = open(path, "a", encoding="utf-8")
        if cut_short:  # end the half-written line of a killed run
            writer.write("\n")

    target_n = {i: replicates for i in range(len(tasks))}
    timing = {"seconds": 0.0, "cpu_seconds": 0.0, "replicates": 0}
    clock = time.perf_counter()
    executor: _Serial | _Dask = _Serial() if scheduler == "serial" else _Dask(scheduler,
                                                                               workers)
    clock_started = time.perf_counter()

    def wanted() -> list[dict[str, Any]]:
        return [r for (d, k), r in records.items() if k < target_n[d]]

    def on_result(batch: list[dict[str, Any]]) -> None:
        for record in batch:
            records[(record["design"], record["replicate"])] = record
            timing["seconds"] += record["seconds"]
            timing["cpu_seconds"] += record.get("cpu_seconds", 0.0)
            timing["replicates"] += 1
            if writer is not None:
                writer.write(json.dumps(record, default=str, allow_nan=False) + "\n")
                writer.flush()
        if progress is not None:
            progress(len(wanted()), sum(target_n.values()))

    def batches(todo: list[tuple[int, int]]) -> Iterator[tuple[ReplicateTask, list[int]]]:
        position = 0
        while position < len(todo):
            per = timing["seconds"] / timing["replicates"] if timing["replicates"] else 0.0
            size = max(1, math.ceil(batch_seconds / per)) if per > 0 else 1
            size = min(size, max(1, (len(todo) - position) // (2 * executor.workers)))
            design_index = todo[position][0]
            chunk = [k for d, k in todo[position:position + size] if d == design_index]
            position += len(chunk)
            yield tasks[design_index], chunk

    try:
        while True:
            todo = [(d, k) for d in range(len(tasks)) for k in range(target_n[d])
                    if (d, k) not in records]
            if progress is not None:
                progress(len(wanted()), sum(target_n.values()))
            if todo:
                executor.run(batches(todo), on_result)
            if mc_se is None:
                break
            grown = _needed(wanted(), designs, alpha, adjustment, mc_se, target_n,
                            max_replicates)
            if grown == target_n:
                break
            target_n = grown
    finally:
        clock_done = time.perf_counter()
        executor.close()
        if writer is not None:
            writer.close()

    kept = sorted(wanted(), key=lambda r: (r["design"], r["replicate"]))
    table = summarize_replicates(kept, designs, alpha=alpha, adjustment=adjustment)
    fits, estimates = replicate_frames(kept)
    return PowerResult(table=table, designs=designs, smallest=smallest_designs(table, target),
                       replicates=estimates, fits=fits, settings=settings,
                       implied_model=describe_truth(truth),
                       timing={"start_seconds": clock_started - clock,
                               "run_seconds": clock_done - clock_started,
                               "replicates_run": timing["replicates"],
                               "replicate_seconds": timing["seconds"],
                               "replicate_cpu_seconds": timing["cpu_seconds"]})
