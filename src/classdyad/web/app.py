"""The FastAPI application: ``create_app(settings)``.

Every route is checked by :func:`classdyad.web.dependencies.authorize` against the access table
(:mod:`classdyad.web.access`); every response carries the security headers
(:mod:`classdyad.web.security`); every error is answered with a message that says what to fix
(JSON under ``/api``, a page elsewhere), never a stack trace.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine

from classdyad import __version__
from classdyad.errors import (
    ClassdyadError,
    IntegrityError,
    NotFoundError,
    StoreError,
    ValidationError,
)
from classdyad.web.dependencies import LoginRequired, authorize
from classdyad.web.routers import (
    agreement,
    auth,
    coding,
    coding_page,
    dashboard,
    events,
    files,
    live,
    pages,
    study,
    users,
)
from classdyad.web.security import LoginRateLimit, SecurityHeaders
from classdyad.web.settings import WebSettings

log = logging.getLogger("classdyad.web")
STATIC = Path(__file__).parent / "static"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/health"


def _error(request: Request, status: int, message: str, *, headers: dict[str, str] | None = None,
           **extra: Any) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message, **extra}, status_code=status, headers=headers)
    user = getattr(request.state, "user", None)
    if status == 401:
        return RedirectResponse("/login", status_code=303)
    page = pages.render(request, "error.html", user, "Something is not right", message=message)
    page.status_code = status
    return page


def _status_of(error: ClassdyadError) -> int:
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, IntegrityError):
        return 409
    if isinstance(error, StoreError):
        return 503
    return 422


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _error_: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "log in first (POST /api/v1/auth/login)"},
                                status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        return _error(request, error.status_code, str(error.detail),
                      headers=getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        problems = [{"column": ".".join(str(p) for p in item.get("loc", ())[1:]) or None,
                     "message": item.get("msg", "invalid"), "row": None, "source": None,
                     "value": None} for item in error.errors()]
        text = "; ".join(f"{p['column']}: {p['message']}" if p["column"] else p["message"]
                         for p in problems)
        return _error(request, 422, f"the request is not valid: {text}; correct it and send "
                      "it again", problems=problems)

    @app.exception_handler(ClassdyadError)
    async def classdyad_error(request: Request, error: ClassdyadError) -> Response:
        extra: dict[str, Any] = {}
        if isinstance(error, ValidationError):
            from classdyad.services.imports import problem_records

            extra["problems"] = problem_records(error)
        return _error(request, _status_of(error), str(error), **extra)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(request, 500, "the server met an unexpected error (details are in the "
                      "server's log); try again, and report it if it persists")


def create_app(settings: WebSettings, *, engine: Engine | None = None) -> FastAPI:
    """The web application over the study database named in ``settings``.

    Parameters
    ----------
    settings
        How to run (database, study, media folder, limits).
    engine
        An engine already open on the database (tests); default: opened (and migrated) from
        ``settings.database``.
    """
    from classdyad.store import open_database

    app = FastAPI(title="classdyad", version=__version__,
                  description="Teacher-student relationships: study administration, coding "
                  "and feedback.", openapi_url="/api/v1/openapi.json", docs_url=None,
                  redoc_url=None, dependencies=[Depends(authorize)])
    app.state.settings = settings
    app.state.engine = engine if engine is not None else open_database(settings.database)
    app.state.login_limit = LoginRateLimit(settings.login_failures_per_minute, 60.0)
    app.add_middleware(SecurityHeaders)
    _install_error_handlers(app)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness check (no login): ``{"status": "ok", "version": ...}``."""
        return {"status": "ok", "version": __version__}

    # the event API first: its routes share no path with another router's, and the router
    # tries routes in order, so the most frequent request (a coder's write) is matched first
    for module in (events, auth, users, study, coding, files, pages, coding_page,
                   agreement, dashboard):
        app.include_router(module.router)
    app.include_router(live.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app


SETTINGS_VARIABLE = "CLASSDYAD_WEB_SETTINGS"


def app_from_environment() -> FastAPI:
    """The application for ``classdyad serve``: settings from ``CLASSDYAD_WEB_SETTINGS`` (JSON).

    Once the application is built, what the process holds (modules, classes, the application:
    about 240,000 objects, none of them ever garbage) is moved out of the garbage collector's
    reach (:func:`gc.freeze`): a full collection would otherwise walk all of it, stopping every
    request for a few hundred milliseconds on a busy machine, the long tail of a server's
    latency. The server's own garbage is collected as before.

    Raises
    ------
    StoreError
        If the variable is not set (start the server with ``classdyad serve DB``).
    """
    import json
    import os

    text = os.environ.get(SETTINGS_VARIABLE)
    if not text:
        raise StoreError(f"{SETTINGS_VARIABLE} is not set; start the server with "
                         "`classdyad serve DATABASE`")
    options = json.loads(text)
    media = options.get("media_folder")
    app = create_app(WebSettings(database=options["database"], study=options.get("study"),
                                 media_folder=Path(media) if media else None,
                                 secure_cookies=bool(options.get("secure_cookies"))))
    gc.collect()
    gc.freeze()
    return app


__all__ = ["app_from_environment", "create_app"]
