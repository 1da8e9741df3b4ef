"""The web application under load: start time and ``GET /api/v1/lessons`` with 20 clients.

For each engine (SQLite always; PostgreSQL with ``--postgres URL``, whose ``public`` schema is
emptied first) the replica study (its events left out: the route does not read them) is
stored, a researcher account is added, and ``classdyad serve`` is started as its own process,
as a user would start it. The benchmark reports:

- the start time: from launching ``classdyad serve`` to the first answer of ``GET /health``
  (median of three starts), in wall-clock seconds and in CPU seconds of the server process
  (which a busy machine does not inflate);
- ``GET /api/v1/lessons`` (every lesson of the study, with teachers, coders and videos) by
  ``--clients`` concurrent clients (20 by default), each logged in with its own session and
  sending ``--requests`` requests one after another: p50 and p99 latency and requests per
  second, over all clients.

Numbers depend on the machine and on what else runs on it: compare engines within one run.

Run: ``python -m bench web_api [--clients 20] [--requests 50] [--postgres URL] [--scale 1]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy.orm import Session

from bench.web_server import free_port, fresh_database, start_server
from classdyad.model.tables import empty_table
from classdyad.services.accounts import create_user
from classdyad.simulate import ReplicaDesign, simulate_study

PASSWORD = "benchmark password"


def _prepare(database: str, tables) -> None:
    engine = fresh_database(database, tables)
    with Session(engine) as session:
        create_user(session, "bench", PASSWORD, role="researcher")
        session.commit()
    engine.dispose()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux ``/proc``; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=30)


def _load(url: str, clients: int, requests: int) -> tuple[np.ndarray, float, int]:
    sessions = []
    for _ in range(clients):
        client = httpx.Client(base_url=url, timeout=60)
        client.post("/api/v1/auth/login", json={"username": "bench", "password": PASSWORD})
        sessions.append(client)
    lessons = len(sessions[0].get("/api/v1/lessons").json())
    latencies: list[list[float]] = [[] for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)

    def work(index: int) -> None:
        client = sessions[index]
        barrier.wait()
        for _ in range(requests):
            start = time.perf_counter()
            response = client.get("/api/v1/lessons")
            latencies[index].append(time.perf_counter() - start)
            if response.status_code != 200:
                raise RuntimeError(f"GET /api/v1/lessons answered {response.status_code}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for client in sessions:
        client.close()
    return np.concatenate([np.asarray(x) for x in latencies]), elapsed, lessons


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench web_api")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50, help="per client")
    parser.add_argument("--postgres", default=None,
                        help="a PostgreSQL URL (its public schema is emptied!)")
    parser.add_argument("--scale", type=float, default=1.0, help="replica study size")
    parser.add_argument("--seed", type=int, default=20260101)
    args = parser.parse_args(argv)
    study = simulate_study(ReplicaDesign(scale=args.scale), rng=args.seed)
    tables = dataclasses.replace(study.tables, events=empty_table("events"))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        engines = [("sqlite", str(Path(folder) / "study.sqlite"))]
        if args.postgres:
            engines.append(("postgresql", args.postgres))
        for name, database in engines:
            _prepare(database, tables)
            starts, cpu = [], []
            for _ in range(3):
                port = free_port()
                process, seconds = start_server(database, port)
                starts.append(seconds)
                cpu.append(_cpu_seconds(process.pid))
                _stop(process)
            port = free_port()
            process, _ = start_server(database, port)
            try:
                latencies, elapsed, lessons = _load(f"http://127.0.0.1:{port}", args.clients,
                                                    args.requests)
            finally:
                _stop(process)
            rows.append((name, statistics.median(starts), statistics.median(cpu), lessons,
                         len(latencies), 1000 * np.percentile(latencies, 50),
                         1000 * np.percentile(latencies, 99), len(latencies) / elapsed))
    print(f"GET /api/v1/lessons, {args.clients} concurrent clients x {args.requests} requests; "
          f"replica study (scale {args.scale:g})")
    print(f"{'engine':<11} {'start s':>8} {'start CPU s':>12} {'lessons':>8} {'requests':>9} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'req/s':>7}")
    for name, start, cpu_start, lessons, n, p50, p99, rate in rows:
        print(f"{name:<11} {start:>8.2f} {cpu_start:>12.2f} {lessons:>8,} {n:>9,} {p50:>8.1f} "
              f"{p99:>8.1f} {rate:>7.1f}")
    if len(rows) == 2:
        print(f"postgresql / sqlite: p50 x{rows[1][5] / rows[0][5]:.2f}, "
              f"p99 x{rows[1][6] / rows[0][6]:.2f}")
