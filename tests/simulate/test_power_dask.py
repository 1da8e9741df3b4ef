"""Power analysis on a real Dask cluster: a ``dask scheduler`` and two ``dask worker`` processes
on 127.0.0.1 give the same results as one process with the same seed.

The processes are started on free ports, waited for (at most 90 s) and torn down afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import classdyad
from classdyad.simulate import ReplicaDesign, power

DASK = Path(sys.executable).parent / "dask"
START_TIMEOUT = 90.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


@pytest.fixture
def cluster():
    if not DASK.exists():
        pytest.skip("the dask command is not installed beside this Python")
    source = str(Path(classdyad.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [source, *filter(None, [os.environ.get("PYTHONPATH")])]),
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    processes = [subprocess.Popen(
        [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--no-dashboard"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for name in ("w1", "w2"):
            processes.append(subprocess.Popen(
                [str(DASK), "worker", address, "--nthreads", "1", "--nworkers", "1",
                 "--name", name, "--host", "127.0.0.1", "--no-dashboard"], env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        deadline = time.monotonic() + START_TIMEOUT
        client = None
        while client is None:
            try:
                client = Client(address, timeout=5)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        try:
            client.wait_for_workers(2, timeout=max(1.0, deadline - time.monotonic()))
            assert len(client.scheduler_info()["workers"]) == 2
        finally:
            client.close()
        yield address
    finally:
        for process in reversed(processes):
            _stop(process)


def test_two_workers_give_the_results_of_one_process(cluster: str) -> None:
    options = {"hypotheses": ["H1"], "design": ReplicaDesign(schools=4, classes=8,
                                                                    students=160),
               "classes": [6, 8], "students_per_class": [15], "replicates": 2, "seed": 99,
               "n_draws": 1000}
    distributed = power(scheduler=cluster, **options)
    alone = power(scheduler="serial", **options)
    pd.testing.assert_frame_equal(distributed.table, alone.table)
    pd.testing.assert_frame_equal(distributed.replicates, alone.replicates)
    assert distributed.settings["scheduler"] == cluster


def test_a_local_cluster_gives_the_results_of_one_process_and_leaves_dask_as_it_was(
        monkeypatch) -> None:
    import dask
    import distributed  # noqa: F401  (loads distributed's defaults into dask's config)

    from classdyad.simulate import power_analysis

    options = {"hypotheses": ["H4"], "design": ReplicaDesign(schools=4, classes=8,
                                                              students=160),
               "replicates": 3, "seed": 5, "n_draws": 1000}
    profiling = dask.config.get("distributed.worker.profile.enabled")
    environment = dask.config.get("distributed.nanny.pre-spawn-environ")
    assert environment["MALLOC_TRIM_THRESHOLD_"] == 65536  # Dask's default
    setups: list[dict] = []
    start = power_analysis._Dask.__init__

    def started(executor, *args, **kwargs) -> None:
        start(executor, *args, **kwargs)
        setups.extend(executor.worker_setup.values())

    monkeypatch.setattr(power_analysis._Dask, "__init__", started)
    local = power(workers=2, **options)
    # the workers ran with glibc's dynamic thresholds and one BLAS thread; Dask's own
    # settings are back afterwards
    assert len(setups) == 2
    assert all(s["malloc_trim_threshold"] is None for s in setups)
    assert all(threads == 1 for s in setups for _lib, _api, threads in s["thread_pools"])
    assert dask.config.get("distributed.nanny.pre-spawn-environ") == environment
    alone = power(scheduler="serial", **options)
    pd.testing.assert_frame_equal(local.table, alone.table)
    pd.testing.assert_frame_equal(local.replicates, alone.replicates)
    assert dask.config.get("distributed.worker.profile.enabled") == profiling
    assert local.timing["replicates_run"] == 3
    assert 0.0 < local.timing["replicate_cpu_seconds"] <= local.timing["replicate_seconds"] * 1.5
