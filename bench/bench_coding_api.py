"""Coders writing events at once: nothing lost, nothing duplicated, and how fast.

``--coders`` coders (50 by default), each logged in with their own account and assigned one
lesson, write ``--events`` events each (2,000 by default) with ``PUT /api/v1/events/{client_id}``
against ``classdyad serve`` started as its own process, all coders at the same time. To act like
real networks, each event is, at random (fixed seed):

- sent again after its answer came (a retry: the server must answer 200 and store nothing new),
  with probability ``--retry`` (0.1);
- first sent on a connection that is dropped before the answer is read (the server may or may
  not have stored it), then sent again, with probability ``--drop`` (0.05).

Afterwards the database is read: **lost** events (sent, answered, and not stored), **duplicated**
ones (stored more than once) and events whose stored content differs from what was sent; and the
p50 / p99 latency of the writes (every answered PUT, retries included).

How latency is measured. Each coder is a thread with its own keep-alive connection
(``http.client``); a write's latency is the time from just before its request is written to the
socket until its answer has been read, on the coder's thread (``time.perf_counter``). The
coders are spread over ``--client-processes`` processes (5: 10 threads each for 50 coders), so
that a coder's thread does not wait long for its own process's GIL behind 49 others (one
process of 50 threads added that wait to the latency it measured). The server times each
request too, from the moment the application receives it until its answer is handed to the
connection (``srv p50`` / ``srv p99``, from :func:`bench.web_server.timed_app`), and its CPU
time per write is read from ``/proc`` (``cpu ms``: user + system seconds of the server process
over the run, divided by the writes answered). The client shares the machine with the server:
its own CPU time is the difference between the two latencies, together with the time a
request waits in the network stack and in the event loop's queue.

Pace. Each coder waits a random pause before each event, exponential with mean ``--pace``
seconds: 1 s by default, faster than people code (a coder codes an event every few seconds at
most, so 50 coders at 1 s, about 50 writes a second, are a heavier load than 50 real ones).
``--pace 0`` is the closed loop: each coder sends its next event as soon as the last is
answered, which shows the server's saturation throughput (``writes/s``); its latency is then
mostly the wait behind the other coders' writes. ``--quick`` is a short closed-loop run (10
coders x 200 events) for routine use. The full run (50 x 2,000 at 1 s) takes about 35 minutes
per engine; ``--events 300`` takes 5.

Engines: SQLite always; PostgreSQL with ``--postgres URL`` (its ``public`` schema is emptied) or,
when it is set, ``CLASSDYAD_TEST_POSTGRES_URL``. Numbers depend on the machine and what else
runs on it (the load average at the end is printed); compare engines within one run.

Run: ``python -m bench coding_api [--quick] [--coders 50] [--events 2000] [--pace 1]
[--client-processes 5] [--postgres URL] [--engines sqlite,postgresql]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import multiprocessing
import os
import socket
import tempfile
import threading
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench.web_server import cpu_seconds, free_port, fresh_database, read_timings, start_server
from classdyad.model import Coder, CoderAssignment, EventRevision, InteractionEvent
from classdyad.model.tables import empty_table
from classdyad.services.accounts import create_user
from classdyad.simulate import ReplicaDesign, simulate_study
from classdyad.store import open_database

PASSWORD = "benchmark password"


def _prepare(database: str, tables, coders: int) -> list[dict]:
    """Store the study, add the coders with accounts and a lesson each; their work plans."""
    engine = fresh_database(database, tables)
    lessons = tables.lessons.sort_values("id")
    teacher_of = tables.lesson_teachers.groupby("lesson_id")["teacher_id"].min()
    teacher_code = tables.teachers.set_index("id")["code"]
    student_code = tables.students.set_index("id")["code"]
    plans = []
    with Session(engine) as session:
        study_id = int(session.execute(sa.text("SELECT id FROM study")).scalar_one())
        for index in range(coders):
            lesson = lessons.iloc[index % len(lessons)]
            role = "primary" if index < len(lessons) else "second"
            if index >= 2 * len(lessons):
                raise SystemExit(f"{coders} coders need at least {coders // 2 + 1} lessons")
            coder = Coder(study_id=study_id, code=f"bench{index:03d}")
            session.add(coder)
            session.flush()
            session.add(CoderAssignment(lesson_id=int(lesson["id"]), coder_id=coder.id,
                                        role=role))
            create_user(session, f"bench{index:03d}", PASSWORD, role="coder", coder=coder.code)
            enrolled = tables.enrolments[
                (tables.enrolments["classroom_id"] == lesson["classroom_id"])
                & (tables.enrolments["wave_id"] == lesson["wave_id"])]["student_id"]
            plans.append({"username": coder.code, "coder_id": coder.id,
                          "lesson_id": int(lesson["id"]),
                          "teacher": str(teacher_code[teacher_of[lesson["id"]]]),
                          "students": [str(student_code[s]) for s in enrolled]})
        session.commit()
    engine.dispose()
    return plans


def _events(plan: dict, n: int, rng: np.random.Generator) -> list[tuple[str, dict]]:
    times = np.sort(rng.uniform(0, 45 * 60, n))
    kinds = rng.choice(["student", "group", "class"], size=n, p=[0.8, 0.1, 0.1])
    valences = rng.choice(["positive", "negative", "neutral"], size=n, p=[0.2, 0.1, 0.7])
    students = rng.integers(0, len(plan["students"]), n)
    out = []
    for i in range(n):
        student = plan["students"][students[i]] if kinds[i] == "student" else None
        out.append((str(uuid.uuid4()), {
            "lesson_id": plan["lesson_id"], "video_seconds": round(float(times[i]), 3),
            "frame": round(float(times[i]) * 25), "teacher": plan["teacher"],
            "target_kind": str(kinds[i]), "student": student, "valence": str(valences[i]),
            "subtype": None}))
    return out


class _Connection:
    """A coder's keep-alive HTTP connection (``http.client``: light on the client's CPU, so the
    latencies measured are the server's, not the load generator's)."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.headers = {"Content-Type": "application/json"}
        self.connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: dict
                ) -> tuple[int, bytes, http.client.HTTPResponse]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port,
                                                         timeout=self.timeout)
        try:
            self.connection.request(method, path, json.dumps(body).encode(), self.headers)
            response = self.connection.getresponse()
            return response.status, response.read(), response
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _drop(url: str, headers: dict[str, str], client_id: str, body: dict) -> None:
    """Send a PUT and close the connection before the answer is read."""
    parts = urlsplit(url)
    payload = json.dumps(body).encode()
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head = (f"PUT /api/v1/events/{client_id} HTTP/1.1\r\nHost: {parts.netloc}\r\n{lines}"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head + payload)


DEFAULT_PACE = 1.0
"""Mean seconds a coder waits before each event (exponential pauses): faster than people code."""

ATTEMPTS = 100
"""How often a coder's page sends an event before the run counts it as refused (5xx or no
answer: the page keeps it queued and sends it again)."""


def _code(url: str, plan: dict, events: list, rng: np.random.Generator, retry: float,
          drop: float, pace: float, barrier: Any, latencies: list,
          failures: list) -> None:
    connection = _Connection(url, timeout=60)
    try:
        status, text, response = connection.request("POST", "/api/v1/auth/login",
                                                    {"username": plan["username"],
                                                     "password": PASSWORD})
        if status != 200:
            raise RuntimeError(f"coder {plan['username']} cannot log in: {status} {text!r}")
    except BaseException:
        barrier.abort()  # the run cannot be measured without every coder
        raise
    cookie = SimpleCookie(response.getheader("set-cookie"))
    connection.headers.update({"X-CSRF-Token": json.loads(text)["csrf_token"],
                               "Cookie": "; ".join(f"{k}={v.value}" for k, v in cookie.items())})
    barrier.wait()
    for client_id, body in events:
        if pace:
            time.sleep(rng.exponential(pace))
        if rng.random() < drop:
            _drop(url, connection.headers, client_id, body)
        sends = 2 if rng.random() < retry else 1
        for _ in range(sends):
            for _attempt in range(ATTEMPTS):
                start = time.perf_counter()
                try:
                    status, text, _ = connection.request(
                        "PUT", f"/api/v1/events/{client_id}", body)
                except (OSError, http.client.HTTPException):
                    time.sleep(0.05)
                    continue
                latencies.append(time.perf_counter() - start)
                if status in (200, 201):
                    break
                if status < 500:
                    failures.append((client_id, status, text))
                    break
                time.sleep(0.05)
            else:
                failures.append((client_id, "no answer", b""))
    connection.close()


def _client(url: str, share: list, retry: float, drop: float, pace: float, barrier: Any,
            results: Any) -> None:
    """One client process: its share of the coders, one thread each; puts its latencies and
    failures on ``results``."""
    latencies: list[float] = []
    failures: list = []
    threads = [threading.Thread(target=_code, args=(url, plan, events, coder_rng, retry, drop,
                                                    pace, barrier, latencies, failures))
               for plan, events, coder_rng in share]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        results.put((latencies, failures))


def _run(database: str, tables, args) -> dict:
    plans = _prepare(database, tables, args.coders)
    rng = np.random.default_rng(args.seed)
    work = [(_events(p, args.events, rng), np.random.default_rng(rng.integers(2**63)))
            for p in plans]
    port = free_port()
    timings = Path(tempfile.mkdtemp()) / "timings.txt"
    process, _ = start_server(database, port, timings=timings, access_log=False)
    url = f"http://127.0.0.1:{port}"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(plans) + 1, timeout=900)
    results = context.Queue()
    count = max(1, min(args.client_processes, len(plans)))
    shares = [[(plan, events, coder_rng) for plan, (events, coder_rng)
               in list(zip(plans, work, strict=True))[k::count]] for k in range(count)]
    clients = [context.Process(target=_client, args=(url, share, args.retry, args.drop,
                                                     args.pace, barrier, results))
               for share in shares]
    latencies: list[float] = []
    failures: list = []
    try:
        for client in clients:
            client.start()
        barrier.wait()  # every coder has logged in
        cpu = cpu_seconds(process.pid)
        started = time.perf_counter()
        for _ in clients:
            part, failed = results.get(timeout=24 * 3600)
            latencies += part
            failures += failed
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(process.pid) - cpu
        for client in clients:
            client.join()
    finally:
        for client in clients:
            if client.is_alive():
                client.kill()
        process.terminate()
        process.wait(timeout=60)
    server = np.asarray(read_timings(timings, "PUT"))
    sent = {client_id: body for events, _ in work for client_id, body in events}
    engine = open_database(database)
    with engine.connect() as connection:  # the database holds the benchmark's events only
        stored = connection.execute(sa.select(InteractionEvent.client_id,
                                              InteractionEvent.video_seconds,
                                              InteractionEvent.valence,
                                              InteractionEvent.frame)).all()
        creations = connection.execute(sa.select(sa.func.count())
                                       .select_from(EventRevision)).scalar_one()
    engine.dispose()
    seen: dict[str, int] = {}
    wrong = 0
    for client_id, seconds, valence, frame in stored:
        seen[client_id] = seen.get(client_id, 0) + 1
        body = sent.get(client_id)
        if body is None:  # stored, never sent
            wrong += 1
            continue
        if (seconds, valence, frame) != (body["video_seconds"], body["valence"], body["frame"]):
            wrong += 1
    lost = sum(1 for c in sent if c not in seen)
    duplicated = sum(n - 1 for n in seen.values()) + max(0, creations - len(seen))
    array = np.asarray(latencies)
    return {"events": len(sent), "writes": len(array), "lost": lost, "duplicated": duplicated,
            "wrong": wrong, "refused": len(failures), "p50": 1000 * np.percentile(array, 50),
            "p99": 1000 * np.percentile(array, 99),
            "server_p50": 1000 * np.percentile(server, 50) if len(server) else float("nan"),
            "server_p99": 1000 * np.percentile(server, 99) if len(server) else float("nan"),
            "cpu_ms": 1000 * cpu / len(array), "rate": len(array) / elapsed, "wall": elapsed}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench coding_api")
    parser.add_argument("--coders", type=int, default=50)
    parser.add_argument("--events", type=int, default=2000, help="per coder")
    parser.add_argument("--retry", type=float, default=0.1, help="share of events sent twice")
    parser.add_argument("--drop", type=float, default=0.05,
                        help="share of events first sent on a dropped connection")
    parser.add_argument("--postgres", default=os.environ.get("CLASSDYAD_TEST_POSTGRES_URL"),
                        help="a PostgreSQL URL (its public schema is emptied!)")
    parser.add_argument("--pace", type=float, default=None,
                        help=f"mean seconds a coder waits before each event (default "
                        f"{DEFAULT_PACE:g}; 0: none, as fast as the server answers)")
    parser.add_argument("--quick", action="store_true",
                        help="a short closed-loop run for routine use: 10 coders x 200 events, "
                        "--pace 0 unless given")
    parser.add_argument("--client-processes", type=int, default=5,
                        help="processes the coders are spread over (threads within each)")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--engines", default="sqlite,postgresql",
                        help="which engines to run, of sqlite,postgresql (postgresql needs "
                        "--postgres)")
    args = parser.parse_args(argv)
    if args.quick:
        args.coders, args.events = 10, 200
    if args.pace is None:
        args.pace = 0.0 if args.quick else DEFAULT_PACE
    design = ReplicaDesign(schools=4, classes=8, students=170)
    study = simulate_study(design, rng=args.seed)
    tables = dataclasses.replace(study.tables, events=empty_table("events"))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        chosen = {e.strip() for e in args.engines.split(",")}
        unknown = chosen - {"sqlite", "postgresql"}
        if unknown:
            raise SystemExit(f"unknown engine(s) {sorted(unknown)}; choose sqlite, postgresql")
        engines = [("sqlite", str(Path(folder) / "study.sqlite"))] if "sqlite" in chosen else []
        if args.postgres and "postgresql" in chosen:
            engines.append(("postgresql", args.postgres))
        for name, database in engines:
            rows.append((name, _run(database, tables, args)))
            print(f"{name} done: {rows[-1][1]}", flush=True)
    print(f"PUT /api/v1/events: {args.coders} concurrent coders x {args.events} events, "
          f"{args.retry:.0%} retried, {args.drop:.0%} first sent on a dropped connection"
          + (f", {args.pace:g} s mean pause before each event" if args.pace else
             ", no pause between events"))
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs")
    print(f"{'engine':<11} {'events':>8} {'writes':>8} {'lost':>5} {'dup':>5} {'wrong':>6} "
          f"{'refused':>8} {'p50 ms':>8} {'p99 ms':>8} {'srv p50':>8} {'srv p99':>8} "
          f"{'cpu ms':>7} {'writes/s':>9} {'wall s':>7}")
    for name, r in rows:
        print(f"{name:<11} {r['events']:>8,} {r['writes']:>8,} {r['lost']:>5} "
              f"{r['duplicated']:>5} {r['wrong']:>6} {r['refused']:>8} {r['p50']:>8.1f} "
              f"{r['p99']:>8.1f} {r['server_p50']:>8.1f} {r['server_p99']:>8.1f} "
              f"{r['cpu_ms']:>7.2f} {r['rate']:>9.1f} {r['wall']:>7.0f}")
    if len(rows) == 2:
        print(f"postgresql / sqlite: p50 x{rows[1][1]['p50'] / rows[0][1]['p50']:.2f}, "
              f"p99 x{rows[1][1]['p99'] / rows[0][1]['p99']:.2f}")
