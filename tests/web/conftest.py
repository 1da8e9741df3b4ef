"""A running web application per test module, on SQLite and (when available) PostgreSQL.

Each module gets one uvicorn server in a thread over a small replica study with one account of
each role: ``admin``, ``researcher``, ``coder`` (bound to a coder with one assigned lesson) and
``teacher`` (bound to the teacher of the first class), plus ``teacher2`` of another class and
``coach`` (a coach account that no teacher has invited). On SQLite that database is made once
and each module serves its own copy of it.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from classdyad.model import CoderAssignment
from classdyad.services.accounts import create_user
from classdyad.simulate import SimulatedStudy
from classdyad.store import create_engine, open_database, write_study
from classdyad.web import WebSettings, create_app

from ..conftest import copy_sqlite_database

POSTGRES_URL = os.environ.get("CLASSDYAD_TEST_POSTGRES_URL")
#: Debian's chromium (Playwright's own browser download is not used)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ENGINES = [
    "sqlite",
    pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.skipif(
        POSTGRES_URL is None, reason="no PostgreSQL server: set CLASSDYAD_TEST_POSTGRES_URL "
        "(.ci/run starts one)")]),
]
PASSWORDS = {"admin": "admin password 1", "researcher": "researcher password",
             "coder": "coder password 1", "teacher": "teacher password",
             "teacher2": "teacher2 password", "coach": "coach password 1"}


@dataclass
class WebServer:
    """A running application and what the tests need to know about its study."""

    url: str
    engine: Engine
    app: Any
    study: SimulatedStudy
    media: Path
    teacher: str
    teacher_classroom: str
    other_teacher: str
    coder: str
    coder_lesson: int
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, role: str | None = None, *, csrf: bool = True) -> httpx.Client:
        """A client logged in as ``role`` (an account name), with the CSRF header set."""
        client = httpx.Client(base_url=self.url, timeout=30.0)
        self.clients.append(client)
        if role is not None:
            response = client.post("/api/v1/auth/login",
                                   json={"username": role, "password": PASSWORDS[role]})
            assert response.status_code == 200, response.text
            if csrf:
                client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return client


def _fresh_engine(kind: str, folder: Path) -> Engine:
    if kind == "sqlite":
        return open_database(folder / "study.sqlite")
    assert POSTGRES_URL is not None
    clean = create_engine(POSTGRES_URL)
    with clean.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    clean.dispose()
    return open_database(POSTGRES_URL)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass(frozen=True)
class _Accounts:
    """Whom the accounts are bound to: the same for every database of the small study."""

    teacher_id: int
    other_id: int
    teacher_classroom: str
    coder: str
    coder_id: int
    coder_lesson: int


def _accounts(study: SimulatedStudy) -> _Accounts:
    tables = study.tables
    classes = tables.classroom_teachers[tables.classroom_teachers["primary"].astype(bool)]
    classes = classes.sort_values("classroom_id")
    class_codes = tables.classrooms.set_index("id")["code"]
    other_class = int(classes.iloc[-1]["classroom_id"])
    return _Accounts(
        teacher_id=int(classes.iloc[0]["teacher_id"]), other_id=int(classes.iloc[-1]["teacher_id"]),
        teacher_classroom=str(class_codes[int(classes.iloc[0]["classroom_id"])]),
        coder=str(tables.coders["code"].iloc[0]), coder_id=int(tables.coders["id"].iloc[0]),
        coder_lesson=int(tables.lessons.loc[tables.lessons["classroom_id"] == other_class,
                                            "id"].min()))


def _populate(engine: Engine, study: SimulatedStudy) -> None:
    """Write the study, one account of each role and the coder's assigned lesson."""
    tables = study.tables
    write_study(engine, tables)
    codes = tables.teachers.set_index("id")["code"]
    bound = _accounts(study)
    with Session(engine) as session:
        create_user(session, "admin", PASSWORDS["admin"], role="admin")
        create_user(session, "researcher", PASSWORDS["researcher"], role="researcher")
        create_user(session, "coder", PASSWORDS["coder"], role="coder", coder=bound.coder)
        create_user(session, "teacher", PASSWORDS["teacher"], role="teacher",
                    teacher=str(codes[bound.teacher_id]))
        create_user(session, "teacher2", PASSWORDS["teacher2"], role="teacher",
                    teacher=str(codes[bound.other_id]))
        create_user(session, "coach", PASSWORDS["coach"], role="coach")
        session.add(CoderAssignment(lesson_id=bound.coder_lesson, coder_id=bound.coder_id,
                                    role="primary"))
        session.commit()


@pytest.fixture(scope="session")
def _sqlite_template(small_study: SimulatedStudy, tmp_path_factory) -> Path:
    """The populated SQLite database, made once and copied for each module's server."""
    path = tmp_path_factory.mktemp("web-template") / "study.sqlite"
    engine = open_database(path)
    try:
        _populate(engine, small_study)
    finally:
        engine.dispose()
    return path


@pytest.fixture(scope="module", params=ENGINES)
def server(request, small_study: SimulatedStudy, tmp_path_factory) -> Iterator[WebServer]:
    folder = tmp_path_factory.mktemp(f"web-{request.param}")
    if request.param == "sqlite":
        template = request.getfixturevalue("_sqlite_template")
        engine = open_database(copy_sqlite_database(template, folder / "study.sqlite"))
    else:
        engine = _fresh_engine(request.param, folder)
        _populate(engine, small_study)
    bound = _accounts(small_study)
    codes = small_study.tables.teachers.set_index("id")["code"]
    media = folder / "videos"
    media.mkdir()
    database = str(folder / "study.sqlite") if request.param == "sqlite" else str(POSTGRES_URL)
    app = create_app(WebSettings(database=database, media_folder=media,
                                 max_import_bytes=200_000, max_video_bytes=2_000_000),
                     engine=engine)
    sock = _free_socket()
    port = sock.getsockname()[1]
    # keep-alive connections kept for 2 minutes (uvicorn closes them after 5 s idle): a test
    # logs several clients in before it uses them, and on a busy machine a connection closed
    # by the server just as a client reuses it answers "connection reset" (a browser retries
    # such an idempotent request; the tests' clients do not)
    uvicorn_server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                                   timeout_keep_alive=120))
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]},
                              daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uvicorn_server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    try:
        yield WebServer(url=f"http://127.0.0.1:{port}", engine=engine, app=app,
                        study=small_study, media=media,
                        teacher=str(codes[bound.teacher_id]),
                        teacher_classroom=bound.teacher_classroom,
                        other_teacher=str(codes[bound.other_id]), coder=bound.coder,
                        coder_lesson=bound.coder_lesson)
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        engine.dispose()


@pytest.fixture(autouse=True)
def _close_clients(request) -> Iterator[None]:
    """Close every client a test opened (an open socket would be a ResourceWarning)."""
    yield
    if "server" in request.fixturenames:
        web = request.getfixturevalue("server")
        while web.clients:
            web.clients.pop().close()


@contextmanager
def chromium(*extra_args: str) -> Iterator[Any]:
    """Debian's headless chromium driven by Playwright, closed on exit."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=["--no-sandbox", *extra_args])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless chromium per test module."""
    with chromium() as launched:
        yield launched
