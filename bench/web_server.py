"""What the web benchmarks share: a fresh database, a free port, a `classdyad serve` process.

:func:`start_server` can also time every request inside the server (``timings``): the server
then runs :func:`timed_app`, the application of ``classdyad serve`` wrapped in an ASGI
middleware that notes how long each request took from the moment the application received it
until its answer was handed to the connection, and writes those durations to a file when the
server stops. Set beside what the client measures, it tells the server's time from the time a
request spends in the network stack, in the event loop's queue and in the client itself.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from classdyad.store import create_engine, open_database, write_study

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = SRC.parent
#: where :func:`timed_app` writes the durations (set by :func:`start_server`)
TIMINGS_VARIABLE = "CLASSDYAD_BENCH_TIMINGS"


def fresh_database(database: str, tables) -> Engine:
    """An engine on ``database`` holding only ``tables`` (a PostgreSQL schema is emptied first)."""
    if "://" in database:
        clean = create_engine(database)
        with clean.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        clean.dispose()
    engine = open_database(database)
    write_study(engine, tables)
    return engine


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed_app() -> Any:
    """``classdyad serve``'s application, timing each request (seconds, by method, written as
    ``METHOD SECONDS`` lines to the file named by ``CLASSDYAD_BENCH_TIMINGS`` as the server
    shuts down)."""
    from classdyad.web.app import app_from_environment

    inner = app_from_environment()
    durations: list[tuple[str, float]] = []
    clock = time.perf_counter

    def write() -> None:
        with open(os.environ[TIMINGS_VARIABLE], "w") as file:
            file.writelines(f"{method} {seconds:.6f}\n" for method, seconds in durations)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # the file is written as the server shuts down

            async def receive_noting_shutdown() -> Any:
                message = await receive()
                if message["type"] == "lifespan.shutdown":
                    write()
                return message

            await inner(scope, receive_noting_shutdown, send)
            return
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        start = clock()
        try:
            await inner(scope, receive, send)
        finally:
            durations.append((scope["method"], clock() - start))

    return app


def _serve_timed(argv: list[str]) -> None:
    from classdyad.cli import web_commands
    from classdyad.cli.app import main

    web_commands.APP_FACTORY = "bench.web_server:timed_app"
    sys.exit(main(argv))


def read_timings(path: Path, method: str) -> list[float]:
    """The durations :func:`timed_app` wrote for requests of ``method`` (seconds)."""
    if not path.exists():
        return []
    return [float(seconds) for name, seconds in
            (line.split() for line in path.read_text().splitlines()) if name == method]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux ``/proc``; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def start_server(database: str, port: int, *, timings: Path | None = None,
                 access_log: bool = True) -> tuple[subprocess.Popen, float]:
    """Start ``classdyad serve`` and wait for ``/health``; the process and seconds to ready.

    ``timings``: a file to which the server writes the duration of every request when it stops
    (:func:`timed_app`); ``access_log=False`` starts it with ``--no-access-log``.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(SRC), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    command = ("from classdyad.cli.app import main; import sys; sys.exit(main(sys.argv[1:]))"
               if timings is None else
               "import sys; from bench.web_server import _serve_timed; _serve_timed(sys.argv[1:])")
    if timings is not None:
        env[TIMINGS_VARIABLE] = str(timings)
    options = [] if access_log else ["--no-access-log"]
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", command, "serve", database, "--port", str(port), *options],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process, time.perf_counter() - started
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"classdyad serve {database} exited with {process.returncode}")
        time.sleep(0.01)
