"""Per-request dependencies: the database session, the logged-in user, access and the study.

This is the web application's one door to the database. Every request's work is one unit of
work: one ``sqlalchemy.orm.Session`` (:func:`get_db`) in one transaction, which the services the
route calls join (they take the session; none opens a connection of its own), committed by the
route and closed when the request ends. A state-changing request's transaction is a write
transaction (``BEGIN IMMEDIATE`` on SQLite, see :func:`classdyad.store.engine.write_engine`), so
what it reads before it writes cannot be overtaken by another writer, and simultaneous writers
queue instead of failing with "database is locked"; reads (GET, HEAD, OPTIONS) run in plain read
transactions and never wait for a writer. Looking up who is logged in and which study is served
is no part of the work: it runs on a connection of its own in one read transaction
(:func:`request_context`) that ends before the route starts, so a write transaction holds the
database only while the route works.

:func:`authorize`, applied by the application to every route, checks the role
against :data:`classdyad.web.access.ACCESS` and the CSRF token of every state-changing request.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from classdyad.model import LoginSession, Study, UserAccount
from classdyad.services.privacy import PrivacySettings, privacy_settings
from classdyad.store.engine import write_engine
from classdyad.web.access import ACCESS, PUBLIC
from classdyad.web.security import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, token_hash
from classdyad.web.settings import WebSettings


class LoginRequired(Exception):
    """The route needs a logged-in user and the request has no valid session."""


@dataclass(frozen=True)
class CurrentUser:
    """The logged-in user of a request."""

    id: int
    username: str
    role: str
    teacher_id: int | None
    coder_id: int | None
    csrf_token: str
    session_hash: str


@dataclass(frozen=True)
class StudyContext:
    """The study the application serves: id, name and privacy settings."""

    id: int
    name: str
    description: str | None
    settings: dict[str, Any]

    @property
    def privacy(self) -> PrivacySettings:
        """The study's privacy options (minimum cell size, what coders and teachers see)."""
        return privacy_settings(self.settings)


def get_engine(request: Request) -> Engine:
    """The engine opened when the application started."""
    return request.app.state.engine


def _write_engine(request: Request) -> Engine:
    """The engine's write-transaction view (:func:`write_engine`), made once per application."""
    state = request.app.state
    engine = get_engine(request)
    cached = getattr(state, "write_engine", None)
    if cached is None or cached[0] is not engine:
        cached = (engine, write_engine(engine))
        state.write_engine = cached
    return cached[1]


def get_settings(request: Request) -> WebSettings:
    """The application's settings."""
    return request.app.state.settings


async def get_read_db(request: Request) -> AsyncIterator[Session]:
    """A read session for the request's lookups (who is logged in, which study), closed at its
    end; each lookup ends its read transaction (:func:`end_read`).

    ``async`` (as :func:`get_db`): making a session does no I/O, and closing one that holds
    no connection does none either, so neither takes a trip through the thread pool; a session
    still in a transaction at the end is closed in the pool.
    """
    session = Session(get_engine(request), expire_on_commit=False)
    try:
        yield session
    finally:
        await _close(session)


ReadDb = Annotated[Session, Depends(get_read_db)]


async def _close(session: Session) -> None:
    if session.in_transaction():
        await run_in_threadpool(session.close)
    else:
        session.close()


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work: one session, closed at the end of the request.

    GET, HEAD and OPTIONS get a read session. A state-changing request gets a write session:
    its transaction starts (``BEGIN IMMEDIATE`` on SQLite) at the route's first statement.
    (No dependency on :func:`get_read_db`: a write needs no read session, and each dependency
    FastAPI resolves costs a request as much as a query.)
    """
    engine = get_engine(request) if request.method in SAFE_METHODS else _write_engine(request)
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        await _close(session)


Db = Annotated[Session, Depends(get_db)]


def end_read(read: Session) -> None:
    """End a read session's transaction, so its connection goes back to the pool before the
    request's write transaction takes one (a thread never holds two at once)."""
    read.rollback()


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


# statements built once (a statement made per request costs more than the query itself)
_LOGIN = (sa.select(LoginSession.csrf_token, LoginSession.expires_at, UserAccount.id,
                    UserAccount.username, UserAccount.role, UserAccount.teacher_id,
                    UserAccount.coder_id, UserAccount.active)
          .join(UserAccount, LoginSession.user_id == UserAccount.id)
          .where(LoginSession.token_hash == sa.bindparam("token_hash")))
_STUDIES = sa.select(Study.id, Study.name, Study.description, Study.settings).order_by(Study.id)
_STUDY_NAMED = _STUDIES.where(Study.name == sa.bindparam("name"))


@dataclass(frozen=True)
class RequestContext:
    """What a request's lookups found: the session cookie's user and the studies to serve."""

    user: CurrentUser | None
    studies: tuple[Any, ...]


def request_context(request: Request) -> RequestContext:
    """Who is logged in and which study is served, in one read transaction (one trip through
    the thread pool per request, whichever of the two the route needs).

    The two lookups run as Core statements on a connection of their own, not on an ORM
    session: a session's transaction bookkeeping (begin, rollback, close) cost more than the
    two indexed reads themselves. The connection's read transaction ends (rolled back, the
    connection back in the pool) before the route starts, so a request's thread never holds
    two connections at once.

    Nothing is cached between requests: a session that ends (logout, a new password, an
    account made inactive, in this process or by ``classdyad user password`` in another)
    refuses the very next request.
    """
    token = request.cookies.get(SESSION_COOKIE)
    wanted = get_settings(request).study
    row = None
    hashed = ""
    with get_engine(request).connect() as connection:
        if token:
            hashed = token_hash(token)
            row = connection.execute(_LOGIN, {"token_hash": hashed}).first()
        studies = tuple(connection.execute(_STUDIES) if wanted is None
                        else connection.execute(_STUDY_NAMED, {"name": wanted}))
        connection.rollback()
    user = None
    if row is not None and row.active and _utc(row.expires_at) > dt.datetime.now(dt.UTC):
        user = CurrentUser(row.id, row.username, row.role, row.teacher_id, row.coder_id,
                           row.csrf_token, hashed)
    return RequestContext(user, studies)


Context = Annotated[RequestContext, Depends(request_context)]


async def current_user(context: Context) -> CurrentUser | None:
    """The user of the request's session cookie, or ``None`` (no cookie, expired, inactive)."""
    return context.user


async def authorize(request: Request, context: Context) -> CurrentUser | None:
    """Apply the access table to the request's route; check CSRF on state-changing requests.

    Raises 500 for a route without a rule (never served), :class:`LoginRequired` without a
    session, 403 for a role the route is not for or a missing or wrong ``X-CSRF-Token``.
    (``async``, as :func:`require_user` and :func:`require_study`: they do no I/O, so they run
    on the event loop instead of taking a trip through the thread pool; they read the request's
    :class:`RequestContext` directly rather than through :func:`current_user` and
    :func:`optional_study`, one dependency less each.)
    """
    user = context.user
    route = request.scope.get("route")
    name = getattr(route, "name", None)
    rule = ACCESS.get(name) if name else None
    if rule is None:
        raise HTTPException(500, f"route {name!r} has no access rule; add it to "
                            "classdyad.web.access.ACCESS")
    if rule is PUBLIC:
        return user
    if user is None:
        raise LoginRequired()
    if user.role not in rule:
        raise HTTPException(403, f"the {user.role} role may not use this; ask a "
                            "researcher or admin if you need it")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent, user.csrf_token):
            raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header; reload the page "
                                "(or log in again) and retry")
    return user


async def require_user(user: Annotated[CurrentUser | None, Depends(authorize)]
                       ) -> CurrentUser:
    """The logged-in user of a route that needs one (``authorize`` has checked it)."""
    if user is None:
        raise LoginRequired()
    return user


User = Annotated[CurrentUser, Depends(require_user)]


def _served_study(context: RequestContext) -> StudyContext | None:
    studies = context.studies
    if len(studies) != 1:
        if len(studies) > 1:
            names = ", ".join(repr(s.name) for s in studies)
            raise HTTPException(409, f"the database holds several studies ({names}); start "
                                "the server with --study NAME")
        return None
    study = studies[0]
    return StudyContext(study.id, study.name, study.description, dict(study.settings or {}))


async def optional_study(context: Context) -> StudyContext | None:
    """The served study, or ``None`` while the database holds none (before the first import)."""
    return _served_study(context)


async def require_study(context: Context) -> StudyContext:
    """The served study; 404 with what to do while there is none."""
    study = _served_study(context)
    if study is None:
        raise HTTPException(404, "the database holds no study yet; a researcher imports a "
                            "roster first (Import page or `classdyad import roster`)")
    return study


CurrentStudy = Annotated[StudyContext, Depends(require_study)]
MaybeStudy = Annotated[StudyContext | None, Depends(optional_study)]

__all__ = [
    "CurrentStudy",
    "CurrentUser",
    "Db",
    "LoginRequired",
    "MaybeStudy",
    "ReadDb",
    "RequestContext",
    "StudyContext",
    "User",
    "authorize",
    "current_user",
    "end_read",
    "get_db",
    "get_engine",
    "get_read_db",
    "get_settings",
    "optional_study",
    "request_context",
    "require_study",
    "require_user",
]
