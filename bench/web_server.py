"""What the web benchmarks share: a fresh database, a free port, a `classdyad serve` process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine

from classdyad.store import create_engine, open_database, write_study

SRC = Path(__file__).resolve().parents[1] / "src"


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


def start_server(database: str, port: int) -> tuple[subprocess.Popen, float]:
    """Start ``classdyad serve`` and wait for ``/health``; the process and seconds to ready."""
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from classdyad.cli.app import main; "
         "sys.exit(main(sys.argv[1:]))", "serve", database, "--port", str(port)],
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
