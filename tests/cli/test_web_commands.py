"""``classdyad user`` and ``classdyad serve``: the first admin logs in to a served database."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from classdyad.cli.app import main

SRC = Path(__file__).resolve().parents[2] / "src"


def _add(database: Path, monkeypatch, *args: str, password: str = "first admin password") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    return main(["user", "add", str(database), *args, "--password-stdin"])


def test_user_add_and_list(tmp_path: Path, monkeypatch, capsys) -> None:
    database = tmp_path / "study.sqlite"
    assert main(["init", str(database)]) == 0
    assert _add(database, monkeypatch, "boss", "--role", "admin") == 0
    assert _add(database, monkeypatch, "boss", "--role", "admin") == 2  # taken
    assert _add(database, monkeypatch, "t1", "--role", "teacher") == 2  # no --teacher
    assert _add(database, monkeypatch, "short", "--role", "admin", password="short") == 2
    capsys.readouterr()
    assert main(["user", "list", str(database)]) == 0
    out = capsys.readouterr().out
    assert "boss" in out and "admin" in out and "argon2" not in out
    assert "short" not in out


def test_serve_starts_and_the_first_admin_logs_in(tmp_path: Path, monkeypatch) -> None:
    database = tmp_path / "study.sqlite"
    assert main(["init", str(database)]) == 0
    assert _add(database, monkeypatch, "boss", "--role", "admin") == 0
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from classdyad.cli.app import main; "
         "sys.exit(main(sys.argv[1:]))", "serve", str(database), "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read().decode() if process.stdout \
                else "serve exited"
            assert time.monotonic() < deadline, "serve did not answer within 60 s"
            time.sleep(0.1)
        with httpx.Client(base_url=url) as client:
            login = client.post("/api/v1/auth/login", json={"username": "boss",
                                                            "password": "first admin password"})
            assert login.status_code == 200
            assert client.get("/api/v1/me").json()["role"] == "admin"
            assert client.get("/users").status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()


def test_serve_refuses_a_missing_database(tmp_path: Path) -> None:
    assert main(["serve", str(tmp_path / "absent.sqlite")]) == 2


@pytest.mark.parametrize("role", ["researcher", "admin"])
def test_accounts_without_binding(tmp_path: Path, monkeypatch, role: str) -> None:
    database = tmp_path / "study.sqlite"
    assert main(["init", str(database)]) == 0
    assert _add(database, monkeypatch, "x", "--role", role, "--coder", "c1") == 2
