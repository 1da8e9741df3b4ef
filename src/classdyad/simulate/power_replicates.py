"""One batch of power-analysis replicates: draw a study, fit the plan's models, keep the tests.

:func:`run_replicates` is what a Dask worker (or this process) runs. A replicate is fully
determined by the run's seed, the design point's index and the replicate's index: its random
numbers come from ``numpy.random.SeedSequence(seed, spawn_key=(design, replicate, k))``, so the
results are the same whatever the number of workers, the batching or the order of completion.
The models are the plan's steps (:func:`~classdyad.simulate.power_steps.power_steps`: the plan's
own, with the mediation tests computed leanly to the same numbers).
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from threadpoolctl import ThreadpoolController

from classdyad.errors import ClassdyadError, ConvergenceWarning, SingularFitWarning
from classdyad.simulate.design import ReplicaDesign, ReplicaTruth
from classdyad.simulate.fast_dataset import draw_analysis_dataset
from classdyad.simulate.power_steps import power_steps
from classdyad.study.plan import HYPOTHESES, estimates_table

__all__ = ["ReplicateTask", "prepare_worker", "run_replicates"]

Simulation = Literal["fast", "full"]
#: per-estimate fields kept from the plan's table
ESTIMATE_FIELDS = ("hypothesis", "model", "outcome", "effect", "contrast", "level", "estimate",
                   "std_error", "p_value", "p_fdr")


@dataclass(frozen=True)
class ReplicateTask:
    """What every replicate of one design point does (sent to the workers once per batch)."""

    design_index: int
    design: ReplicaDesign
    truths: tuple[tuple[str, ReplicaTruth], ...]
    """hypothesis -> the truth its data are drawn from (the same for all but under a null)."""
    seed: int
    n_draws: int
    simulation: Simulation


def _dataset(task: ReplicateTask, truth: ReplicaTruth, needs_iat: bool,
             rng: np.random.Generator):
    if task.simulation == "full":
        from classdyad.simulate.replica import simulate_study
        from classdyad.study.dataset import build_analysis_dataset

        return build_analysis_dataset(simulate_study(task.design, truth, rng=rng).tables)
    return draw_analysis_dataset(task.design, truth, rng=rng, iat=needs_iat)


def _flag(notes: tuple[str, ...], category: type[Warning]) -> bool:
    return any(isinstance(getattr(n, "category", None), type)
               and issubclass(n.category, category) for n in notes)


def _one_replicate(task: ReplicateTask, replicate: int) -> dict[str, Any]:
    started = time.perf_counter()
    started_cpu = time.thread_time()
    groups: dict[int, tuple[ReplicaTruth, list[str]]] = {}
    for hypothesis, truth in task.truths:
        key = next((k for k, (t, _h) in groups.items() if t is truth), None)
        if key is None:
            groups[HYPOTHESES.index(hypothesis)] = (truth, [hypothesis])
        else:
            groups[key][1].append(hypothesis)
    models: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for group, (truth, hypotheses) in groups.items():
        sequence = np.random.SeedSequence(task.seed,
                                          spawn_key=(task.design_index, replicate, group))
        data_seed, fit_seed = sequence.spawn(2)
        dataset = _dataset(task, truth, "H5" in hypotheses, np.random.default_rng(data_seed))
        fit_rng = np.random.default_rng(fit_seed)
        for step in power_steps(dataset, hypotheses=tuple(hypotheses), rng=fit_rng,
                                n_draws=task.n_draws):
            record: dict[str, Any] = {"model": step.model_id, "hypothesis": step.hypothesis,
                                      "status": "ok", "error": None, "singular": False,
                                      "nonconverged": False}
            begun = time.perf_counter()
            if step.fit is None:
                record.update(status="failed", error="; ".join(step.skipped))
            else:
                try:
                    _formula, notes, step_rows, _sentences = step.fit()
                except (ClassdyadError, ValueError, ArithmeticError,
                        np.linalg.LinAlgError) as error:
                    record.update(status="failed",
                                  error=f"{type(error).__name__}: {error}"[:500])
                else:
                    record.update(singular=_flag(notes, SingularFitWarning),
                                  nonconverged=_flag(notes, ConvergenceWarning))
                    for row in step_rows:
                        row["model"] = step.model_id
                    rows.extend(step_rows)
            record["seconds"] = time.perf_counter() - begun
            models.append(record)
    table = estimates_table(rows) if rows else None
    estimates = []
    if table is not None:
        tested = table[table["p_value"].notna()]
        for row in tested.itertuples(index=False):
            estimates.append({name: _plain(getattr(row, name)) for name in ESTIMATE_FIELDS})
    return {"design": task.design_index, "replicate": replicate, "models": models,
            "estimates": estimates, "seconds": time.perf_counter() - started,
            "cpu_seconds": time.thread_time() - started_cpu}


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


_CONTROLLER: list[ThreadpoolController] = []


def _blas_controller() -> ThreadpoolController:
    """The process's thread pools, found once (threadpoolctl's search of the loaded libraries
    costs about 5 ms: per batch, a percent of the time of a replicate)."""
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


def prepare_worker() -> dict[str, Any]:
    """Import what a replicate needs and find the BLAS thread pools, before the first batch
    (a Dask worker runs this when the cluster starts, so that the run's time is the
    replicates'). Returns the thread pools (library, API, threads) with one BLAS thread and
    glibc's trim threshold from the environment (``None``: its dynamic default)."""
    with _blas_controller().limit(limits=1):
        pools = [(info["internal_api"], info["user_api"], info["num_threads"])
                 for info in _blas_controller().info()]
    return {"thread_pools": pools,
            "malloc_trim_threshold": os.environ.get("MALLOC_TRIM_THRESHOLD_")}


def run_replicates(task: ReplicateTask, replicates: list[int]) -> list[dict[str, Any]]:
    """Run the given replicates of one design point, one BLAS thread at a time.

    Returns one record per replicate: ``design``, ``replicate``, ``seconds`` (wall clock),
    ``cpu_seconds`` (the CPU time of the thread that ran it), ``models`` (per
    model: ``model, hypothesis, status ("ok"/"failed"), error, singular, nonconverged,
    seconds``) and ``estimates`` (per tested estimate of the plan's table: ``hypothesis, model,
    outcome, effect, contrast, level, estimate, std_error, p_value, p_fdr``; ``p_fdr`` adjusts
    over the estimates of the hypotheses run).
    """
    out = []
    with _blas_controller().limit(limits=1):
        for replicate in replicates:
            try:
                out.append(_one_replicate(task, replicate))
            except (ClassdyadError, ValueError, ArithmeticError) as error:
                # the study itself could not be drawn: every model of the replicate failed
                out.append({"design": task.design_index, "replicate": replicate,
                            "models": [], "estimates": [], "seconds": 0.0, "cpu_seconds": 0.0,
                            "error": "".join(traceback.format_exception_only(error)).strip()})
    return out
